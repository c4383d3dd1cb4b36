"""``python -m data_checks``: validate the cohort before anything is computed from it.

Exit status: 0 the checks passed (warnings allowed), 1 an error-severity rule
failed, 2 the cohort, the data dictionary or the study settings could not be
read.
"""

from __future__ import annotations

import argparse
import sys
import warnings
from pathlib import Path

import data_checks  # noqa: F401 (switches GX analytics off before GX is imported)
from analysis.cohort import (CohortLoadError, DictionaryError, UnknownColumnWarning, load_cohort, load_dictionary,
                             with_patient_id)
from analysis.config import StudySettingsError, check_against_dictionary, load_study
from data_checks.console import failure_summary, summary_line, warning_block
from data_checks.stamp import inputs_digest, record_pass
from data_checks.suite import study_rules
from data_checks.validation import clear_docs, validate_cohort

EXIT_PASSED, EXIT_FAILED, EXIT_UNREADABLE = 0, 1, 2


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m data_checks", description=__doc__.splitlines()[0])
    parser.add_argument("--data", help="cohort file (default: DATA, else study.yml's data)")
    parser.add_argument("--study", default="study.yml", help="study settings (default: %(default)s)")
    parser.add_argument("--docs-dir", default="_output/validation", help="GX Data Docs folder (default: %(default)s)")
    parser.add_argument("--no-docs", action="store_true", help="do not write Data Docs (faster; for tests)")
    args = parser.parse_args(argv)

    digest = inputs_digest(args.study, args.data)
    try:
        settings = load_study(args.study)
        root = Path(args.study).parent
        dictionary = load_dictionary(root / settings.dictionary)
        # A configuration that names unknown columns or expectations is refused before any data is read.
        check_against_dictionary(settings, dictionary)
        study_rules(dictionary, settings)
        data = Path(args.data) if args.data else root / settings.data
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", UnknownColumnWarning)
            redcap = root / settings.redcap_dictionary if settings.redcap_dictionary is not None else None
            cohort = load_cohort(data, dictionary, sheet=settings.sheet, redcap_dictionary=redcap)
    except (CohortLoadError, DictionaryError, StudySettingsError) as error:
        print(f"error: {error}", file=sys.stderr)
        if not args.no_docs and Path(args.docs_dir).is_dir():
            # Pages of an earlier file would pass for this one's.
            clear_docs(Path(args.docs_dir))
        return EXIT_UNREADABLE
    for warning in caught:
        print(f"warning: {warning.message}", file=sys.stderr)

    report = validate_cohort(cohort, with_patient_id(dictionary), settings, docs_dir=None if args.no_docs else args.docs_dir,
                             source=data.name).naming_id(cohort.attrs.get("id_column"))
    if report.passed:
        print(summary_line(report, data), flush=True)
        for finding in report.warnings:
            print(warning_block(finding), file=sys.stderr)
        if not args.no_docs:
            record_pass(Path(args.docs_dir), digest)
        return EXIT_PASSED
    print(failure_summary(report, data), file=sys.stderr)
    return EXIT_FAILED


if __name__ == "__main__":
    sys.exit(main())
