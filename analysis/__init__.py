"""Statistics for the cohort abstract: every number the report prints is computed here."""
