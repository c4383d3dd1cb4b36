"""The record of printed numbers, the local audit and what changed between builds (issue 15).

End to end in a temporary copy of the repository: a build, then one
patient's last contact moved, then a prose edit, then the CI transform
changed, each build compared with the one before; snapshots and the DOCX
highlighting. The unit tests below need no build.
"""

from __future__ import annotations

import csv
import html
import json
import re
import shutil
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import pandas as pd
import pytest

from analysis.changes import compare, highlight_docx
from analysis.record import has_number

ROOT = Path(__file__).resolve().parents[1]
# Numbers typed in the prose that are not computed figures, each with its reason.
NOT_FIGURES = {
    "CD22": "the antigen's name (exempt in tests/test_report_prose.py too)",
    "5-FU": "fluorouracil's abbreviation (exempt in tests/test_report_prose.py too)",
    "the three arms": "the colon trial's design, in words",
}
LINE = re.compile(r"record\s+(\d+) printed figures? changed since the last build")


# -- end to end -------------------------------------------------------------------------


def _copy_repository(tmp_path_factory) -> Path:
    from tests.test_end_to_end import tracked_files

    repo = tmp_path_factory.mktemp("repo")
    for name in tracked_files():
        (repo / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, repo / name)
    (repo / ".venv").symlink_to(ROOT / ".venv")
    return repo


def _build(repo: Path, *args: str, **env: str) -> dict:
    """``make report`` and what it left: its console, the record, the audit, the changes pages."""
    from tests.test_end_to_end import make

    result = make(repo, "report", *args, RENDERER="builtin", **env)
    assert result.returncode == 0, result.stdout + result.stderr
    out = repo / "_output"

    def read(name):
        path = out / name
        return path.read_text(encoding="utf-8") if path.is_file() else None

    return {"console": result.stdout + result.stderr, "numbers": json.loads(read("numbers.json")),
            "audit": json.loads(read("audit/audit.json")), "changes_md": read("changes.md"),
            "changes_html": read("changes.html"), "audit_changes": read("audit/changes.html"),
            "abstract": read("abstract.txt"), "html": read("report.html")}


def _changed(build: dict) -> int:
    match = LINE.search(build["console"])
    assert match, build["console"]
    return int(match.group(1))


def _changed_keys(before: dict, after: dict) -> set[str]:
    return {new["key"] for _, new in compare(before["numbers"], after["numbers"]).changed}


@pytest.fixture(scope="module")
def repo(tmp_path_factory) -> Path:
    return _copy_repository(tmp_path_factory)


@pytest.fixture(scope="module")
def first(repo) -> dict:
    return _build(repo)


@pytest.fixture(scope="module")
def moved_follow_up(repo, first) -> tuple[dict, str, str, str]:
    """A living patient last seen a month after their last recorded date instead of years later."""
    path = repo / "data" / "example_cohort.csv"
    cohort = pd.read_csv(path, dtype=str, keep_default_na=False)
    alive = cohort[cohort["vital_status"] == "alive"].sort_values("last_contact_date").iloc[0]
    patient, old = alive["patient_id"], alive["last_contact_date"]
    dates = [alive[c] for c in ("ino_start_date", "hsct_date", "sos_date", "relapse_date") if alive[c]]
    new = (pd.Timestamp(max(dates)) + pd.Timedelta(days=30)).strftime("%Y-%m-%d")
    text = path.read_text(encoding="utf-8")
    row = next(line for line in text.splitlines() if line.startswith(patient + ","))
    path.write_text(text.replace(row, row[: row.rindex(",") + 1] + new), encoding="utf-8")
    return _build(repo), patient, old, new


@pytest.fixture(scope="module")
def prose_edit(repo, moved_follow_up) -> dict:
    qmd = repo / "report.qmd"
    qmd.write_text(qmd.read_text(encoding="utf-8").replace(
        "InO is effective in heavily pretreated", "InO is active in heavily pretreated"), encoding="utf-8")
    return _build(repo)


@pytest.fixture(scope="module")
def log_transform(repo, prose_edit) -> dict:
    study = repo / "study.yml"
    study.write_text(study.read_text(encoding="utf-8").replace("ci_transform: linear", "ci_transform: log"),
                     encoding="utf-8")
    return _build(repo)


def _entries(build: dict) -> list[dict]:
    return build["numbers"]["numbers"]


def _paragraphs(abstract: str) -> dict[str, str]:
    return {p.split(":", 1)[0]: p for p in abstract.split("\n\n") if ":" in p.split(" ", 1)[0]}



def _abstract_without_entries(build: dict) -> dict[str, str]:
    """Each abstract paragraph with the text of every entry printed in it taken out."""
    left = {}
    for label, paragraph in _paragraphs(build["abstract"]).items():
        texts = sorted((e["text"] for e in _entries(build) for w in e["printed_in"] if w.get("block") == label
                        and w["where"] == "abstract"), key=len, reverse=True)
        for text in texts:
            paragraph = paragraph.replace(text, " ")
        for token in NOT_FIGURES:
            paragraph = paragraph.replace(token, " ")
        left[label] = paragraph
    return left


@pytest.mark.e2e
def test_every_number_of_the_abstract_has_an_entry(first):
    left = _abstract_without_entries(first)
    assert {"Methodology", "Results"} <= set(left)
    assert {label: rest for label, rest in left.items() if has_number(rest)} == {}


@pytest.mark.e2e
def test_the_colon_study_has_its_record_and_audit(tmp_path):
    import os
    import subprocess
    import sys

    out = tmp_path / "out"
    environment = {**os.environ, "PYTHONPATH": str(ROOT)}
    environment.pop("DATA", None)
    result = subprocess.run([sys.executable, "-m", "renderer", str(ROOT / "examples" / "colon" / "report.qmd"),
                             "--renderer", "builtin", "--output-dir", str(out)],
                            cwd=ROOT, capture_output=True, text=True, env=environment, timeout=600)
    assert result.returncode == 0, result.stdout + result.stderr
    build = {"abstract": (out / "abstract.txt").read_text(encoding="utf-8"),
             "numbers": json.loads((out / "numbers.json").read_text(encoding="utf-8"))}
    left = _abstract_without_entries(build)
    assert {"Methods", "Results"} <= set(left)
    assert {label: rest for label, rest in left.items() if has_number(rest)} == {}
    audit = json.loads((out / "audit" / "audit.json").read_text(encoding="utf-8"))
    arm = audit["comparison:os_by_arm:obs.n/number"]
    assert len(arm["patients"]["numerator"]) == int(arm["text"])
    deaths = audit["endpoint:overall_survival.events/number"]
    assert len(deaths["patients"]["numerator"]) == int(deaths["text"])
    assert len(deaths["patients"]["denominator"]) == 929
    five_years = audit["comparison:recurrence_by_arm:lev_5fu@5 years/estimate_ci"]["patients"]["life_table"]
    printed = re.match(r"([\d.]+)%", audit["comparison:recurrence_by_arm:lev_5fu@5 years/estimate_ci"]["text"])
    assert f"{five_years[-1]['incidence'] * 100:.1f}" == printed.group(1)
    assert five_years[-1]["time_days"] <= 5 * 365.25


@pytest.mark.e2e
def test_each_entry_is_printed_where_it_says(first, repo):
    from bs4 import BeautifulSoup

    from analysis.exports import plain_text

    paragraphs = _paragraphs(first["abstract"])
    # Pandoc's typographic apostrophes read as the typed ones.
    page = " ".join(BeautifulSoup(first["html"], "html.parser").get_text().replace("\u2019", "'").split())
    tables = {}
    for path in (repo / "_output" / "tables").glob("*.csv"):
        with path.open(encoding="utf-8") as f:
            tables[f"tables/{path.name}"] = list(csv.DictReader(f))
    checked = {"abstract": 0, "text": 0, "table": 0, "figure": 0}
    for entry in _entries(first):
        for where in entry["printed_in"]:
            kind = where["where"]
            if kind == "abstract":
                assert entry["text"] in paragraphs[where["block"]], entry
            elif kind == "text":
                # A text entry is Markdown (the methods sentence): compared as the reader sees it.
                assert plain_text(entry["text"]) in page, entry
            elif kind == "table":
                label, header = where["block"].split(" | ")
                rows = [r for r in tables[where["file"]] if r["Characteristic"].strip("\u00a0 ") == label]
                assert any(r[header] == entry["text"] for r in rows), entry
            else:
                assert (repo / "_output" / where["file"]).is_file(), entry
            checked[kind] += 1
    assert all(checked.values()), checked


@pytest.mark.e2e
def test_the_record_names_no_patient_and_keys_are_names(first, repo):
    ids = pd.read_csv(repo / "data" / "example_cohort.csv", dtype=str)["patient_id"]
    text = json.dumps(first["numbers"])
    assert [i for i in ids if i in text] == []
    keys = [e["key"] for e in _entries(first)]
    assert len(keys) == len(set(keys))
    assert "endpoint:overall_survival@2 years/estimate_ci" in keys
    assert "comparison:mrd_negative_remission:no@2 years/estimate_ci" in keys
    entry = next(e for e in _entries(first) if e["key"] == "endpoint:overall_survival@2 years/estimate_ci")
    assert entry["analysis"]["ci_transform"] == "linear" and entry["analysis"]["landmark"] == "2 years"
    assert entry["printed_in"][0]["section"] == "Abstract, Results"


@pytest.mark.e2e
def test_the_audit_lists_have_the_printed_counts(first):
    audit = first["audit"]
    counted = [e for e in _entries(first) if e["printed_in"][0]["where"] == "abstract"
               and e.get("numerator") is not None and e.get("denominator") is not None]
    assert len(counted) >= 15
    for entry in counted:
        patients = audit[entry["key"]]["patients"]
        # The printed count: its first figure ("13 (50.0%)", "n=8, 29.6%"), or the count in words.
        assert len(patients["numerator"]) == entry["numerator"], entry["key"]
        assert len(patients["denominator"]) == entry["denominator"], entry["key"]
        digits = re.search(r"\d+", entry["text"].split("(")[0])
        if digits:
            assert int(digits.group()) == len(patients["numerator"]), entry["key"]
    everyone = audit["cohort.n/sentence_start"]
    assert everyone["text"] == "Twenty-seven" and len(everyone["patients"]["numerator"]) == 27


@pytest.mark.e2e
def test_the_life_table_reproduces_the_landmark_estimate(first):
    entry = first["audit"]["endpoint:overall_survival@2 years/estimate_ci"]
    table = entry["patients"]["life_table"]
    product = Decimal(1)
    for row in table:
        assert row["time_days"] <= 730.5
        product *= 1 - Decimal(len(row["events"])) / Decimal(row["at_risk"])
    printed = re.match(r"([\d.]+)%", entry["text"]).group(1)
    assert str((product * 100).quantize(Decimal("0.1"), ROUND_HALF_UP)) == printed
    everyone = {i for row in table for i in row["events"] + row["censored"]}
    assert len(everyone) == table[0]["at_risk"] - table[-1]["at_risk"] + len(table[-1]["events"] + table[-1]["censored"])


@pytest.mark.e2e
def test_first_build_has_nothing_to_compare(first):
    assert "no previous build to compare with" in first["console"]
    assert first["changes_md"] is None


@pytest.mark.e2e
def test_a_later_last_contact_moves_only_follow_up_figures_and_the_audit_names_the_patient(first, moved_follow_up):
    build, patient, old, new = moved_follow_up
    keys = _changed_keys(first, build)
    assert _changed(build) == len(keys) > 0
    assert "endpoint:overall_survival@2 years/estimate_ci" in keys
    # Counts, proportions and settings do not depend on follow-up.
    assert all(k.startswith(("endpoint:", "comparison:")) for k in keys), keys
    # The co-author pages say which column changed for how many, never who.
    assert "Column last_contact_date changed for 1 patient" in build["changes_md"]
    for page in (build["changes_md"], build["changes_html"]):
        assert patient not in page
    assert "39.4% (95% CI: 19.1-59.8%)" in build["changes_md"]
    assert "Abstract, Results" in build["changes_md"]
    # The local audit names the patient, the column, old and new.
    assert f"{patient}: last_contact_date: {old} → {new}" in html.unescape(build["audit_changes"])


@pytest.mark.e2e
def test_a_prose_edit_moves_no_figure(prose_edit):
    assert _changed(prose_edit) == 0
    assert "No change in the data or the settings" in prose_edit["changes_md"]


@pytest.mark.e2e
def test_a_new_ci_transform_moves_the_intervals_and_says_so(prose_edit, log_transform):
    keys = _changed_keys(prose_edit, log_transform)
    assert _changed(log_transform) == len(keys) > 0
    assert "endpoint:overall_survival@2 years/estimate_ci" in keys
    before = {e["key"]: e for e in _entries(prose_edit)}
    for entry in _entries(log_transform):
        if entry["key"] not in keys:
            continue
        if "ci" not in entry:
            # Only the methods sentence, which names the transform, changes without an interval.
            assert entry["key"] == "text:methods_sentence/methods_sentence"
            continue
        old = before[entry["key"]]
        assert old["value"] == entry["value"] and old["ci"] != entry["ci"], entry["key"]
    assert "Setting changed: CI transform: linear → log" in log_transform["changes_md"]


def _highlighted(paragraph) -> list[str]:
    """The paragraph's highlighted texts as they read: runs in a row join, a no-break space is a space.

    A range in a table is three runs in Word, its no-break hyphen the middle one
    (templates/docx-tables.lua).
    """
    texts, current = [], ""
    for run in [*paragraph.runs, None]:
        if run is not None and run.font.highlight_color:
            current += run.text
        elif current:
            texts.append(current.replace("\u00a0", " ").replace("\u2060", ""))
            current = ""
    return texts


@pytest.mark.e2e
def test_snapshot_then_changes_since_it_with_a_highlighted_docx(repo, log_transform):
    from docx import Document

    from tests.test_end_to_end import make

    made = make(repo, "snapshot", "NAME=submitted")
    assert made.returncode == 0, made.stderr
    snapshot = repo / "snapshots" / "submitted.json"
    ids = pd.read_csv(repo / "data" / "example_cohort.csv", dtype=str)["patient_id"]
    assert [i for i in ids if i in snapshot.read_text(encoding="utf-8")] == []
    study = repo / "study.yml"
    study.write_text(study.read_text(encoding="utf-8").replace("ci_transform: log", "ci_transform: linear"),
                     encoding="utf-8")
    _build(repo)
    since = make(repo, "changes", "SINCE=submitted")
    assert since.returncode == 0, since.stderr
    count = int(re.match(r"(\d+) printed figures changed since snapshot submitted", since.stdout).group(1))
    assert count > 0
    page = (repo / ".build" / "changes" / "since-submitted.md").read_text(encoding="utf-8")
    assert "Setting changed: CI transform: log → linear" in page
    document = Document(repo / ".build" / "changes" / "report-since-submitted.docx")
    marked = {text for p in document.paragraphs for text in _highlighted(p)}
    changes = compare(json.loads(snapshot.read_text(encoding="utf-8")),
                      json.loads((repo / "_output" / "numbers.json").read_text(encoding="utf-8")))
    in_abstract = {new["text"] for _, new in changes.changed if new["printed_in"][0]["where"] == "abstract"}
    assert marked == in_abstract and len(marked) >= 3
    cells = {text for table in document.tables for row in table.rows for cell in row.cells
             for p in cell.paragraphs for text in _highlighted(p)}
    assert cells and cells <= {new["text"] for _, new in changes.changed}
    unknown = make(repo, "changes", "SINCE=nonesuch")
    assert unknown.returncode != 0 and "no snapshot 'nonesuch'" in unknown.stderr


# -- units -----------------------------------------------------------------------------


def _record(*entries, settings=None, inputs=None) -> dict:
    return {"settings": settings or {}, "inputs": inputs or {},
            "numbers": [{"key": k, "text": t, "definition": k, "printed_in": [{"section": s, "where": "abstract"}]}
                        for k, t, s in entries]}


def test_compare_by_key_not_by_position():
    old = _record(("a", "1 (5.0%)", "Results"), ("b", "p=0.046", "Results"), ("gone", "7", "Methods"))
    new = _record(("b", "p=0.046", "Results"), ("a", "2 (10.0%)", "Results"), ("new", "3", "Methods"))
    changes = compare(old, new)
    assert [(o["text"], n["text"]) for o, n in changes.changed] == [("1 (5.0%)", "2 (10.0%)")]
    assert [e["key"] for e in changes.added] == ["new"] and [e["key"] for e in changes.removed] == ["gone"]
    assert changes.line == "1 printed figure changed since the last build (1 added, 1 removed)"


def test_compare_settings_and_cohorts():
    old = _record(settings={"ci_transform": "linear", "landmarks": {"os": ["2 years"]}},
                  inputs={"data_sha256": "a", "patients": 2})
    new = _record(settings={"ci_transform": "log", "landmarks": {"os": ["3 years"]}},
                  inputs={"data_sha256": "b", "patients": 2})
    before = pd.DataFrame({"patient_id": ["P-001", "P-002"], "last": ["2024-01-01", "2024-02-01"]})
    after = pd.DataFrame({"patient_id": ["P-001", "P-003"], "last": ["2024-03-01", "2024-02-01"]})
    changes = compare(old, new, old_cohort=before, new_cohort=after)
    assert changes.settings == [("ci_transform", "linear", "log"), ("landmarks.os", ["2 years"], ["3 years"])]
    assert (changes.inputs.added, changes.inputs.removed) == (["P-003"], ["P-002"])
    assert changes.inputs.cells == [("P-001", "last", "2024-01-01", "2024-03-01")]


def test_highlight_docx_marks_the_figure_where_it_is_printed(tmp_path):
    from docx import Document

    document = Document()
    paragraph = document.add_paragraph("Results: ")
    paragraph.add_run("OS was 39.4% (95% ")
    paragraph.add_run("CI: 19.1-59.8%) and 139.4% (95% CI: 19.1-59.8%) elsewhere.")
    document.add_paragraph("Methods: OS was 39.4% (95% CI: 19.1-59.8%).")
    document.save(tmp_path / "in.docx")
    entry = {"text": "39.4% (95% CI: 19.1-59.8%)", "printed_in": [{"where": "abstract", "block": "Results"}]}
    assert highlight_docx(tmp_path / "in.docx", tmp_path / "out.docx", [entry]) == 1
    out = Document(tmp_path / "out.docx")
    marked = ["".join(r.text for r in p.runs if r.font.highlight_color) for p in out.paragraphs]
    assert marked == ["39.4% (95% CI: 19.1-59.8%)", ""]
    assert [p.text for p in out.paragraphs] == [p.text for p in Document(tmp_path / "in.docx").paragraphs]
