"""The console summary of a validation: one line on success, one block per failed rule otherwise."""

from __future__ import annotations

from pathlib import Path

from analysis.identifiers import looks_identifying
from data_checks.validation import CheckReport, Finding

WITHHELD = "(withheld: looks like a personal identifier)"


def _shown(text: str) -> str:
    """A patient id or value as printed: withheld when it looks like a name or a contact, whatever rule it broke."""
    return WITHHELD if looks_identifying(text) else text


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def finding_block(finding: Finding) -> str:
    """One failed rule in plain words: rule, columns, patients (first 10, then a count), values.

    Examples
    --------
    >>> finding = Finding("range:age", "Ranges and allowed values", "Age is 0 to under 18 years",
    ...                   "error", ("age",), ("AB-003",), 1, ("18",))
    >>> print(finding_block(finding))
    ERROR, rule not met: Age is 0 to under 18 years
      rule:     range:age (Ranges and allowed values)
      column:   age
      patients: AB-003
      values:   18
    >>> print(finding_block(Finding("allowed:sex", "Ranges and allowed values", "Sex is one of: female, male",
    ...                             "error", ("sex",), ("INO-003",), 1, ("Иванов И.И.",))).splitlines()[-1])
      values:   (withheld: looks like a personal identifier)
    """
    # The description states the rule, so the heading says it was not met (a warning reads the same way).
    return "\n".join([f"{finding.severity.upper()}, rule not met: {finding.description}", *_details(finding)])


def warning_block(finding: Finding) -> str:
    """A warning of a passing check in plain words: who does not meet which rule, and that the report is still built.

    Examples
    --------
    >>> finding = Finding("follow_up:landmark", "Follow-up", "A patient alive at last contact was followed "
    ...                   "for at least the landmark (730.5 days)", "warning", ("follow_up_days",),
    ...                   ("AB-007", "AB-011"), 2, ("412", "600"))
    >>> print(warning_block(finding))
    warning: 2 patients do not meet the rule "A patient alive at last contact was followed for at least the landmark (730.5 days)"; the report is built anyway, with them
      rule:     follow_up:landmark (Follow-up)
      column:   follow_up_days
      patients: AB-007, AB-011
      values:   412; 600
    """
    if finding.n_patients:
        who = f"{_plural(finding.n_patients, 'patient')} {'does' if finding.n_patients == 1 else 'do'} not meet"
        built = "the report is built anyway, with them"
    else:
        who, built = "the cohort does not meet", "the report is built anyway"
    return "\n".join([f'warning: {who} the rule "{finding.description}"; {built}', *_details(finding)])


def _details(finding: Finding) -> list[str]:
    lines = [f"  rule:     {finding.rule} ({finding.section})"]
    if finding.columns:
        label = "column: " if len(finding.columns) == 1 else "columns:"
        lines.append(f"  {label}  {', '.join(finding.columns)}")
    if finding.patient_ids:
        more = finding.n_patients - len(finding.patient_ids)
        lines.append(f"  patients: {', '.join(map(_shown, finding.patient_ids))}" + (f" ... and {more} more ({finding.n_patients} in all)" if more > 0 else ""))
    if finding.values:
        lines.append(f"  values:   {'; '.join(map(_shown, finding.values))}")
    if finding.note:
        lines.append(f"  details:  {finding.note}")
    return lines


def summary_line(report: CheckReport, data: str | Path) -> str:
    """The one line printed when the checks pass.

    Examples
    --------
    >>> print(summary_line(CheckReport(66, 27, (), None), "data/example_cohort.csv"))
    data checks passed: 66 expectations run on 27 patients of data/example_cohort.csv, 0 warnings
    """
    # The rules by name here; each warning follows in plain words (warning_block).
    warned = f" ({', '.join(f.rule for f in report.warnings)}: see below)" if report.warnings else ""
    docs = f" (Data Docs: {report.docs_page})" if report.docs_page else ""
    return (
        f"data checks passed: {report.n_expectations} expectations run on {_plural(report.n_patients, 'patient')} "
        f"of {data}, {_plural(len(report.warnings), 'warning')}{warned}{docs}"
    )


def failure_summary(report: CheckReport, data: str | Path) -> str:
    """The blocks printed when an error-severity rule failed: errors first, then warnings."""
    head = (
        f"data checks FAILED for {data}: {_plural(len(report.errors), 'error')}, "
        f"{_plural(len(report.warnings), 'warning')} ({report.n_expectations} expectations run on "
        f"{_plural(report.n_patients, 'patient')}); nothing is rendered until the errors are fixed"
    )
    blocks = [finding_block(f) for f in report.errors + report.warnings]
    tail = [f"Data Docs: {report.docs_page}"] if report.docs_page else []
    return "\n\n".join([head, *blocks, *tail])
