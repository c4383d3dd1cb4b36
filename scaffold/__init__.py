"""``make new-study``: a study folder drafted from a cohort file, ready to render and to review.

Not part of the engine: it knows the names clinical cohorts usually give their
columns (death dates, last contact, time and status), which the engine must not.
"""
