"""Running the suite: one GX validation of the whole cohort, Data Docs, findings.

The run uses an ephemeral GX context (nothing is written to the repository);
the only files written are the Data Docs, in the folder given.
"""

from __future__ import annotations

import datetime as dt
import html
import math
import re
import shutil
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import great_expectations as gx
import pandas as pd
from great_expectations.checkpoint import UpdateDataDocsAction
from great_expectations.core.run_identifier import RunIdentifier
from great_expectations.data_context.types.base import (
    DataContextConfig,
    InMemoryStoreBackendDefaults,
    ProgressBarsConfig,
)

from analysis.cohort import DataDictionary, row_name
from analysis.config import StudySettings
from data_checks.custom_expectations import MAX_LISTED
from data_checks.suite import PATIENT_ID, build_suite

DOCS_SITE = "validation"
# Up to this many patients, every offending patient is listed by id (COMPLETE
# result format, shown in Data Docs); above it GX keeps the first few row
# numbers (SUMMARY) and the ids are looked up here: GX fetches index columns
# row by row, which costs minutes for a million rows.
COMPLETE_UP_TO = 10_000
# What a previous run left in the Data Docs folder; removed so the index shows this run only.
_DOCS_ENTRIES = ("index.html", "validations", "expectations", "static", "inputs.sha256")


@dataclass(frozen=True)
class Finding:
    """One failed expectation, in the terms of the study.

    ``patient_ids`` and ``values`` hold the first few offending patients and
    their values (as text); ``n_patients`` counts them all (0 for a rule about
    the table, such as a missing column).
    """

    rule: str
    section: str
    description: str
    severity: str  # "error" stops the report, "warning" does not
    columns: tuple[str, ...]
    patient_ids: tuple[str, ...]
    n_patients: int
    values: tuple[str, ...]
    note: str | None = None


@dataclass(frozen=True)
class CheckReport:
    """The outcome of validating a cohort against the study's rules."""

    n_expectations: int
    n_patients: int
    findings: tuple[Finding, ...]
    docs_index: Path | None
    docs_page: Path | None = None  # this run's result page in the Data Docs

    @property
    def errors(self) -> tuple[Finding, ...]:
        return tuple(f for f in self.findings if f.severity == "error")

    @property
    def warnings(self) -> tuple[Finding, ...]:
        return tuple(f for f in self.findings if f.severity == "warning")

    @property
    def passed(self) -> bool:
        """True when no error-severity rule failed (warnings allowed)."""
        return not self.errors

    def failed(self, rule: str) -> Finding | None:
        """The finding of ``rule`` (its ``meta["rule"]`` name), None if it passed."""
        return next((f for f in self.findings if f.rule == rule), None)

    def naming_id(self, id_column: str | None) -> CheckReport:
        """The findings with the patient id column called as the file calls it (a REDCap ``record_id``).

        Examples
        --------
        >>> f = Finding("unique", "Structure", "Ids are unique", "error", ("patient_id",), ("R-1",), 2, (),
        ...             "'patient_id': R-1 twice")
        >>> [(g.columns, g.note) for g in CheckReport(1, 2, (f,), None).naming_id("record_id").findings]
        [(('record_id',), "'record_id': R-1 twice")]
        """
        if id_column in (None, PATIENT_ID):
            return self
        findings = tuple(replace(
            f, columns=tuple(id_column if c == PATIENT_ID else c for c in f.columns),
            note=f.note.replace(f"'{PATIENT_ID}'", f"'{id_column}'") if f.note else f.note) for f in self.findings)
        return replace(self, findings=findings)


def _context(docs_dir: Path | None) -> gx.data_context.EphemeralDataContext:
    sites = {}
    if docs_dir is not None:
        sites[DOCS_SITE] = {
            "class_name": "SiteBuilder",
            "store_backend": {"class_name": "TupleFilesystemStoreBackend", "base_directory": str(docs_dir.resolve())},
            "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
        }
    config = DataContextConfig(
        store_backend_defaults=InMemoryStoreBackendDefaults(init_temp_docs_sites=False),
        data_docs_sites=sites,
        analytics_enabled=False,
        progress_bars=ProgressBarsConfig(globally=False),
    )
    return gx.get_context(mode="ephemeral", project_config=config)


def _text(value: Any) -> str:
    if value is None or value is pd.NA or value is pd.NaT or (isinstance(value, float) and math.isnan(value)):
        return "(empty)"
    if isinstance(value, (pd.Timestamp, dt.datetime)):
        return value.date().isoformat() if value == value.normalize() else str(value)
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def _repeated_rows(cohort: pd.DataFrame, column: str) -> str | None:
    """Where each repeated value stands in the file: "P-004 on line 5 and line 9"."""
    values = cohort[column]
    repeated = values[values.notna() & values.duplicated(keep=False)]
    places = []
    for value, group in list(repeated.groupby(repeated.astype(str), sort=False))[:MAX_LISTED]:
        names = [row_name(cohort, index) for index in group.index]
        if None in names:
            return None
        places.append(f"{_text(group.iloc[0])} on {' and '.join(names)}")
    return "; ".join(places) or None


def _columns(kwargs: dict) -> tuple[str, ...]:
    names = [kwargs.get(k) for k in ("column", "column_A", "column_B")] + list(kwargs.get("column_list") or [])
    return tuple(n for n in names if n)


def _severity(config) -> str:
    severity = getattr(config, "severity", "critical")
    return str(getattr(severity, "value", severity)).lower()


def _finding(result, cohort: pd.DataFrame) -> Finding:
    config = result.expectation_config
    meta = config.meta or {}
    details = result.result or {}
    columns = _columns(config.kwargs)
    patient_ids: tuple[str, ...] = ()
    values: tuple[str, ...] = ()
    n_patients = int(details.get("unexpected_count") or 0)
    note = None
    if result.exception_info and result.exception_info.get("raised_exception"):
        note = f"could not be evaluated: {result.exception_info.get('exception_message')}"
    elif "unexpected_index_list" in details or "partial_unexpected_index_list" in details:
        rows = (details.get("unexpected_index_list") or details["partial_unexpected_index_list"])[:MAX_LISTED]
        if rows and not isinstance(rows[0], dict):
            rows = [cohort.loc[index, [c for c in (PATIENT_ID, *columns) if c in cohort.columns]].to_dict() for index in rows]
        patient_ids = tuple(_text(row.get(PATIENT_ID)) for row in rows)
        shown = [c for c in columns if c != PATIENT_ID] or [PATIENT_ID]
        if len(shown) == 1:
            values = tuple(_text(row.get(shown[0])) for row in rows)
        else:
            values = tuple(", ".join(f"{c}={_text(row.get(c))}" for c in shown) for row in rows)
        if config.type == "expect_column_values_to_be_unique" and columns and columns[0] in cohort.columns:
            note = _repeated_rows(cohort, columns[0])
    elif "findings" in (details.get("details") or {}):
        found = details["details"]["findings"]
        columns = tuple(f["column"] for f in found)
        patient_ids = tuple(p for f in found for p in f["patient_ids"])[:MAX_LISTED]
        values = tuple(f"{f['column']}: {v}" for f in found for v in f["values"])[:MAX_LISTED]
        n_patients = sum(f["n_patients"] for f in found)
        note = "; ".join(f"'{f['column']}': {f['reason']}" for f in found)
    elif "mismatched" in (details.get("details") or {}):
        mismatched = details["details"]["mismatched"]
        missing, extra = mismatched.get("missing") or [], mismatched.get("unexpected") or []
        columns = tuple(missing) + tuple(extra)
        note = "; ".join(
            part
            for part in (f"missing: {', '.join(missing)}" if missing else "", f"not in the dictionary: {', '.join(extra)}" if extra else "")
            if part
        )
    else:
        note = f"observed: {_text(details.get('observed_value'))}"
    return Finding(
        rule=meta.get("rule", config.type),
        section=meta.get("section", ""),
        description=config.description or config.type,
        severity="warning" if _severity(config) == "warning" else "error",
        columns=columns,
        patient_ids=patient_ids,
        n_patients=n_patients,
        values=values,
        note=note,
    )


# GX's pages load their styling and scripts from CDNs (and a logo from S3):
# dropped, so the pages, which name patients, open offline and fetch nothing.
_REMOTE = re.compile(
    r"<script[^>]*\ssrc=\"https?://[^\"]*\"[^>]*>\s*</script>|<link[^>]*\shref=\"https?://[^\"]*\"[^>]*>"
    r"|<img[^>]*\ssrc=\"https?://[^\"]*\"[^>]*>",
    re.DOTALL,
)
# GX's inline scripts all call jQuery, which came from a CDN: without it they
# only raise errors ("$ is not defined"), so they go, and with them the
# filter buttons that called them.
_INLINE_SCRIPT = re.compile(r"<script>.*?</script>", re.DOTALL)
# GX links its icon one folder short from result pages (a failed request): the browser's default serves.
_FAVICON = re.compile(r'<link rel="shortcut icon"[^>]*>')
_SCRIPTED_BUTTONS = re.compile(r'<div class="card mb-3">\s*<div class="card-header p-2">\s*<strong>Actions</strong>.*?'
                               r'</div>\s*</div>\s*</div>\s*</div>\s*</div>', re.DOTALL)
_PASSED = '<b style="color:#1a7f37">&#10003; passed</b>'
_FAILED = '<b style="color:#b42318">&#10007; failed</b>'
_WARNING = '<b style="color:#9a6700">&#9888; warning</b>'
# Without the icon font the pass/fail column would be blank: words instead.
_ICONS = {
    re.compile(r'<i class="fas fa-check-circle text-success"[^>]*>\s*</i>'): _PASSED,
    re.compile(r'<i class="fas fa-times text-danger"[^>]*>\s*</i>'): _FAILED,
}
# A row of the results table: its status cell, then the rule's description.
_RESULT_ROW = re.compile(re.escape(_FAILED) + r"(\s*</span>\s*</div></td><td[^>]*><div[^>]*>\s*<span >\s*)([^<]*?)(\s*</span>)")
# Bootstrap came from a CDN too: a few rules keep the pages readable at a phone's width.
_STYLE = ("<style>body { font-family: system-ui, sans-serif; margin: 1rem; overflow-wrap: anywhere; }"
          " table { display: block; overflow-x: auto; max-width: 100%; }</style></head>")
_OVERVIEW_STATUS = re.compile(r'(<span class="h6" >Status:</span> )' + re.escape(_FAILED) + r" Failed")


# Stylesheets fetch images too (a dark-mode logo from S3).
_REMOTE_URL = re.compile(r"url\(\s*['\"]?https?://[^)]*\)")


def _offline(docs_dir: Path, warned: set[str], passed: bool) -> None:
    """Make GX's pages work offline and tell warnings from failures.

    GX marks every unmet rule "failed" and a run with a warning "Failed"; here
    a warning-severity rule (by its description, in ``warned``) reads
    "warning", and a run with no error reads "passed", as the console says.
    """
    for page in [*docs_dir.rglob("*.html"), *docs_dir.rglob("*.css")]:
        text = _REMOTE_URL.sub("none", page.read_text(encoding="utf-8"))
        if page.suffix == ".html":
            for pattern in (_REMOTE, _INLINE_SCRIPT, _FAVICON, _SCRIPTED_BUTTONS):
                text = pattern.sub("", text)
            text = text.replace("</head>", _STYLE, 1)
            for icon, words in _ICONS.items():
                text = icon.sub(words, text)
            text = _RESULT_ROW.sub(
                lambda row: (_WARNING if html.unescape(row[2].strip()) in warned else _FAILED) + row[1] + row[2] + row[3],
                text,
            )
            if passed:
                text = _OVERVIEW_STATUS.sub(lambda status: status[1] + _PASSED + (" with warnings" if warned else ""), text)
        page.write_text(text, encoding="utf-8")


def _index_page(docs_dir: Path, report: CheckReport, source: str | None) -> None:
    """Replace GX's index, a table that jQuery built, by a static page linking to this run's pages."""
    result = report.docs_page.relative_to(docs_dir).as_posix()
    if report.errors:
        status = f"{_FAILED}: {_plural(len(report.errors), 'error')}, {_plural(len(report.warnings), 'warning')}"
    else:
        status = _PASSED + (f" with {_plural(len(report.warnings), 'warning')}" if report.warnings else "")
    suites = sorted(p.relative_to(docs_dir).as_posix() for p in (docs_dir / "expectations").glob("*.html"))
    (docs_dir / "index.html").write_text(
        _INDEX.format(
            run=html.escape(source or result.split("/")[-3]),
            result=html.escape(result, quote=True),
            status=status,
            counts=f"{report.n_expectations} expectations run on {_plural(report.n_patients, 'patient')}",
            suites="".join(f'<li><a href="{html.escape(s, quote=True)}">{html.escape(Path(s).stem)}</a></li>' for s in suites),
        ),
        encoding="utf-8",
    )


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


_INDEX = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Data checks</title>
<style>
body {{ font-family: system-ui, sans-serif; margin: 2rem auto; max-width: 46rem; padding: 0 1rem; line-height: 1.5; }}
a {{ color: #1f4e79; overflow-wrap: anywhere; }}
.run {{ border: 1px solid #ccc; border-radius: 4px; padding: 0.6rem 1rem; }}
</style>
</head>
<body>
<h1>Data checks</h1>
<p>Great Expectations Data Docs of the last run. They name patients: keep them local.</p>
<div class="run">
<p><strong>{run}</strong>: {status}; {counts}.</p>
<p><a href="{result}">Validation result, rule by rule</a></p>
</div>
<h2>Expectation suites</h2>
<ul>{suites}</ul>
</body>
</html>
"""


def clear_docs(docs_dir: Path) -> None:
    """Remove the Data Docs of an earlier run (the folder's other files stay)."""
    for name in _DOCS_ENTRIES:
        entry = docs_dir / name
        if entry.is_dir():
            shutil.rmtree(entry)
        elif entry.exists():
            entry.unlink()


def validate_cohort(
    cohort: pd.DataFrame, dictionary: DataDictionary, settings: StudySettings, docs_dir: str | Path | None = None,
    source: str | None = None,
) -> CheckReport:
    """Validate the cohort against every rule of the study in one GX validation.

    Parameters
    ----------
    cohort : pandas.DataFrame
        As :func:`analysis.cohort.load_cohort` returns it.
    dictionary, settings
        The data dictionary and the study settings the rules come from.
    docs_dir : str or Path, optional
        Where to write the GX Data Docs (static HTML; ``index.html``). The
        previous run's pages there are replaced. None: no Data Docs.
    source : str, optional
        What was checked (the cohort file's name), as the run's name in the Data Docs.

    Returns
    -------
    CheckReport

    Examples
    --------
    >>> from analysis.cohort import load_cohort, load_dictionary
    >>> from analysis.config import load_study
    >>> dictionary, settings = load_dictionary(), load_study()
    >>> cohort = load_cohort("tests/fixtures/valid_cohort.csv", dictionary)
    >>> report = validate_cohort(cohort, dictionary, settings)
    >>> report.passed, report.n_expectations >= 30
    (True, True)
    >>> spec = dictionary.of_type("float")[0]  # a column with a range: one patient just above it
    >>> above = cohort[spec.name].where(cohort.index != 2, spec.max + 1)
    >>> finding = validate_cohort(cohort.assign(**{spec.name: above}), dictionary, settings).failed(f"range:{spec.name}")
    >>> finding.patient_ids == (cohort.loc[2, "patient_id"],), finding.values == (f"{spec.max + 1:g}",)
    (True, True)
    """
    docs_dir = Path(docs_dir) if docs_dir is not None else None
    context = _context(docs_dir)
    batch_definition = (
        context.data_sources.add_pandas("cohort").add_dataframe_asset("cohort").add_batch_definition_whole_dataframe("all")
    )
    suite = context.suites.add(build_suite(dictionary, settings))
    validation = context.validation_definitions.add(
        gx.ValidationDefinition(name="cohort_rules", data=batch_definition, suite=suite)
    )
    result_format = {
        "result_format": "COMPLETE" if len(cohort) <= COMPLETE_UP_TO else "SUMMARY",
        "return_unexpected_index_query": False,
        "partial_unexpected_count": MAX_LISTED,
    }
    if PATIENT_ID in cohort.columns and len(cohort) <= COMPLETE_UP_TO:
        result_format["unexpected_index_column_names"] = [PATIENT_ID]
    actions = []
    if docs_dir is not None:
        docs_dir.mkdir(parents=True, exist_ok=True)
        clear_docs(docs_dir)
        actions.append(UpdateDataDocsAction(name="data_docs", site_names=[DOCS_SITE]))
    checkpoint = context.checkpoints.add(
        gx.Checkpoint(name="cohort_checks", validation_definitions=[validation], actions=actions, result_format=result_format)
    )
    # GX compares nullable integers value by value in Python; as floats (same
    # values, NaN for missing) it compares whole columns at once. The deep copy
    # consolidates the frame's blocks once, instead of in every filtered copy GX makes.
    integers = {name: "float64" for name, dtype in cohort.dtypes.items() if isinstance(dtype, pd.Int64Dtype)}
    batch = cohort.astype(integers).copy(deep=True)
    outcome = checkpoint.run(batch_parameters={"dataframe": batch}, run_id=RunIdentifier(run_name=source))
    (run,) = outcome.run_results.values()
    findings = tuple(_finding(r, batch) for r in run.results if not r.success)
    report = CheckReport(
        n_expectations=len(run.results),
        n_patients=len(cohort),
        findings=findings,
        docs_index=docs_dir / "index.html" if docs_dir is not None else None,
        docs_page=next((docs_dir / "validations").rglob("*.html")) if docs_dir is not None else None,
    )
    if docs_dir is not None:
        _offline(docs_dir, {f.description for f in report.warnings}, report.passed)
        _index_page(docs_dir, report, source)
    return report
