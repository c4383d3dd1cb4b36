"""The data checks that gate the report: the study's rules as a Great Expectations suite.

``python -m data_checks`` loads the cohort (``analysis.cohort``), validates it
against :func:`data_checks.suite.study_rules` in one GX validation, writes GX
Data Docs, prints a summary and exits 0 (passed, warnings allowed), 1 (an
error-severity rule failed) or 2 (the cohort could not be loaded).
"""

import os

# GX sends usage statistics unless told not to; set before GX is imported.
os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")
