"""The data checks: the suite, the catalogue of corrupted cohorts, the CLI, the Data Docs."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import warnings
from pathlib import Path

import pandas as pd
import pytest
from bs4 import BeautifulSoup

import data_checks  # noqa: F401 (GX analytics off)
from analysis.cohort import UnknownColumnWarning, load_cohort, load_dictionary
from analysis.config import load_study
from data_checks.__main__ import main
from data_checks.suite import SECTIONS, required_when_condition, study_rules
from data_checks.validation import validate_cohort
from tests.corruptions import CATALOGUE, ROOT, SOURCE, read_example

STUDY = ROOT / "study.yml"


@pytest.fixture(scope="module")
def dictionary():
    return load_dictionary(ROOT / "data" / "dictionary.yml")


@pytest.fixture(scope="module")
def settings():
    return load_study(STUDY)


def run_cli(data: Path, docs: Path | None, capsys) -> tuple[int, str, str]:
    """``python -m data_checks`` in this process (GX is imported once); docs None: no Data Docs."""
    code = main(["--data", str(data), "--study", str(STUDY)] + (["--docs-dir", str(docs)] if docs else ["--no-docs"]))
    out, err = capsys.readouterr()
    return code, out, err


def block_of(text: str, rule: str) -> str:
    """The console block of ``rule`` (blocks are separated by blank lines)."""
    blocks = [b for b in text.split("\n\n") if f"rule:     {rule} (" in b]
    assert blocks, f"no block for rule {rule} in:\n{text}"
    return blocks[0]


# -- the suite ------------------------------------------------------------------


def test_suite_has_at_least_30_described_rules_with_unique_names(dictionary, settings):
    rules = study_rules(dictionary, settings)
    names = [r.meta["rule"] for r in rules]
    assert len(rules) >= 30
    assert len(set(names)) == len(names)
    assert all(r.description and len(r.description.splitlines()) == 1 for r in rules)
    assert {r.meta["section"] for r in rules} == set(SECTIONS)


def test_every_dictionary_rule_becomes_an_expectation(dictionary, settings):
    names = {r.meta["rule"] for r in study_rules(dictionary, settings)}
    for spec in dictionary.columns:
        assert (f"required:{spec.name}" in names) == spec.required
        assert (f"allowed:{spec.name}" in names) == (spec.type == "category")
        assert (f"range:{spec.name}" in names) == (spec.min is not None)
        assert (f"required_when:{spec.name}" in names) == (spec.required_when is not None)


def test_warnings_are_the_follow_up_and_undeclared_column_rules(dictionary, settings):
    warnings = {r.meta["rule"] for r in study_rules(dictionary, settings) if r.severity.value == "warning"}
    assert warnings == {"follow_up:landmark", "columns:declared", "response:blasts_agree_with_flow", "rows:one_patient_once"}


def test_unreadable_required_when_is_refused(dictionary):
    with pytest.raises(ValueError, match="cannot read required_when 'sos sometimes'"):
        required_when_condition(dictionary, "sos sometimes")
    with pytest.raises(ValueError, match="cannot read required_when"):
        required_when_condition(dictionary, "vital_status is asleep")


# -- the catalogue ----------------------------------------------------------------


def test_catalogue_has_at_least_30_named_mutations():
    names = [c.name for c in CATALOGUE]
    assert len(names) >= 30 and len(set(names)) == len(names)


def test_the_clean_example_passes(tmp_path, capsys):
    code, out, err = run_cli(SOURCE, tmp_path / "docs", capsys)
    assert code == 0, err
    (line,) = out.strip().splitlines()
    assert line.startswith("data checks passed: ") and " expectations run on " in line and "warning" in line


@pytest.mark.parametrize("corruption", CATALOGUE, ids=[c.name for c in CATALOGUE])
def test_corrupted_cohort(corruption, tmp_path, capsys, dictionary, settings):
    mutated = corruption.mutate(read_example())
    data = mutated.write(tmp_path)
    before = data.read_bytes()
    code, out, err = run_cli(data, None, capsys)
    assert code == corruption.exit_code, out + err
    assert data.read_bytes() == before, "the input file was modified"
    assert "Traceback" not in out + err
    for value in mutated.withheld:
        assert value not in out + err
    if corruption.exit_code == 2:
        assert corruption.message in err
        assert str(data) in err
        if mutated.patient_id:
            assert f"patient {mutated.patient_id}" in err
        for fragment in mutated.names:
            assert fragment in err
    elif corruption.exit_code == 1:
        block = block_of(err, corruption.rule)
        assert block.startswith("ERROR")
        patients = next(line for line in block.splitlines() if line.startswith("  patients: "))
        assert mutated.patient_id in patients.removeprefix("  patients: ").split(" ... ")[0].split(", ")
        for fragment in mutated.names:
            assert fragment in block
    else:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UnknownColumnWarning)
            cohort = load_cohort(data, dictionary)
        if corruption.rule is None:
            # Read as the person sees it in Excel: the same cohort as the CSV.
            pd.testing.assert_frame_equal(cohort, load_cohort(SOURCE, dictionary))
            return
        assert corruption.rule in out
        finding = validate_cohort(cohort, dictionary, settings).failed(corruption.rule)
        assert finding.severity == "warning"
        if mutated.patient_id:
            assert mutated.patient_id in finding.patient_ids
        for fragment in mutated.names:
            assert fragment in finding.patient_ids or fragment in (finding.note or "")


def test_a_rule_failing_for_many_patients_lists_ten_then_counts(tmp_path, capsys):
    example = read_example()
    many = pd.concat([example] * 4, ignore_index=True)
    many["patient_id"] = [f"BIG-{i:04d}" for i in range(len(many))]
    many["age_years"] = "18"
    many.to_csv(tmp_path / "many.csv", index=False)
    code, _, err = run_cli(tmp_path / "many.csv", None, capsys)
    assert code == 1
    patients = next(line for line in block_of(err, "range:age_years").splitlines() if "patients:" in line)
    assert patients.count("BIG-") == 10
    assert patients.endswith(f"... and {len(many) - 10} more ({len(many)} in all)")


def test_a_repeated_id_is_named_with_the_lines_it_stands_on(tmp_path, capsys):
    example = read_example()
    # Data rows 3 and 8 (0-based) are lines 5 and 10 of the file: the header is line 1.
    example.loc[8, "patient_id"] = example.loc[3, "patient_id"]
    example.to_csv(tmp_path / "repeated.csv", index=False)
    code, _, err = run_cli(tmp_path / "repeated.csv", None, capsys)
    assert code == 1
    assert f"details:  {example.loc[3, 'patient_id']} on line 5 and line 10" in block_of(err, "unique:patient_id")


# -- Data Docs and the command line ------------------------------------------------------


def test_data_docs_show_the_failing_rule_and_patient(tmp_path, capsys):
    mutated = CATALOGUE[[c.name for c in CATALOGUE].index("age 18")].mutate(read_example())
    docs = tmp_path / "docs"
    code, _, _ = run_cli(mutated.write(tmp_path), docs, capsys)
    assert code == 1
    assert (docs / "index.html").is_file()
    (page,) = (docs / "validations").rglob("*.html")
    html = page.read_text(encoding="utf-8")
    assert "Age at InO, years is 0 to under 18 years" in html
    assert mutated.patient_id in html
    # Readable offline: the status is words, not an icon from a font on a CDN; the run names the file.
    soup = BeautifulSoup(html, "html.parser")
    assert "failed" in [b.get_text().split()[-1] for b in soup.find_all("b")]
    assert "cohort.csv" in str(page.relative_to(docs))


def test_data_docs_fetch_nothing(tmp_path, capsys):
    docs = tmp_path / "docs"
    run_cli(SOURCE, docs, capsys)
    for page in docs.rglob("*.html"):
        soup = BeautifulSoup(page.read_text(encoding="utf-8"), "html.parser")
        fetched = [tag.get(attr) for tag in soup.find_all(["script", "link", "img", "iframe"])
                   for attr in ("src", "href") if tag.get(attr)]
        assert [url for url in fetched if "://" in url] == [], page
    for sheet in [*docs.rglob("*.css"), *docs.rglob("*.html")]:
        assert not re.search(r"url\(\s*['\"]?https?:", sheet.read_text(encoding="utf-8")), sheet


def test_data_docs_hold_only_the_latest_run(tmp_path, capsys):
    docs = tmp_path / "docs"
    run_cli(SOURCE, docs, capsys)
    run_cli(SOURCE, docs, capsys)
    assert len(list((docs / "validations").rglob("*.html"))) == 1
    # A file that cannot be loaded leaves no pages that would pass for its own.
    assert main(["--data", str(tmp_path / "absent.csv"), "--study", str(STUDY), "--docs-dir", str(docs)]) == 2
    assert not (docs / "index.html").exists()


def test_unreadable_study_settings_exit_2(tmp_path, capsys):
    study = tmp_path / "study.yml"
    study.write_text("study:\n  data: x.csv\n")
    code = main(["--study", str(study), "--docs-dir", str(tmp_path / "docs")])
    assert code == 2
    assert "study.dictionary is missing" in capsys.readouterr().err


def test_data_environment_variable_chooses_the_cohort(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("DATA", str(tmp_path / "elsewhere.csv"))
    code = main(["--study", str(STUDY), "--docs-dir", str(tmp_path / "docs")])
    assert code == 2
    assert f"{tmp_path / 'elsewhere.csv'}: file not found" in capsys.readouterr().err


@pytest.mark.parametrize("name, code", [("clean", 0), ("age 18", 1)])
def test_command_line_exit_code_and_no_gx_project_in_working_folder(name, code, tmp_path):
    data = tmp_path / "cohort.csv"
    if name == "clean":
        data.write_bytes(SOURCE.read_bytes())
    else:
        data = CATALOGUE[[c.name for c in CATALOGUE].index(name)].mutate(read_example()).write(tmp_path)
    work = tmp_path / "work"
    work.mkdir()
    result = subprocess.run(
        [sys.executable, "-m", "data_checks", "--data", str(data), "--study", str(STUDY), "--docs-dir", "validation"],
        cwd=work, capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(ROOT)}, timeout=120,
    )
    assert result.returncode == code, result.stderr
    assert sorted(p.name for p in work.iterdir()) == ["validation"]


def test_data_docs_index_is_static_and_shows_warnings_as_warnings(tmp_path, capsys):
    docs = tmp_path / "docs"
    code, out, _ = run_cli(SOURCE, docs, capsys)
    assert code == 0 and "1 warning" in out
    (page,) = (docs / "validations").rglob("*.html")
    # The console names the result page itself, not an index to click through.
    assert f"(Data Docs: {page})" in out
    index = BeautifulSoup((docs / "index.html").read_text(encoding="utf-8"), "html.parser")
    assert index.find_all("script") == []
    assert [a["href"] for a in index.find_all("a") if "validations/" in a["href"]] == [page.relative_to(docs).as_posix()]
    assert "passed with 1 warning" in " ".join(index.get_text().split())
    result = BeautifulSoup(page.read_text(encoding="utf-8"), "html.parser")
    assert result.find_all("script") == []
    statuses = [b.get_text().split()[-1] for b in result.find_all("b")]
    assert statuses.count("warning") == 1 and "failed" not in statuses
    assert "Status: ✓ passed with warnings" in " ".join(result.get_text().split())


def test_data_docs_of_a_failed_run_say_failed_and_keep_warnings_apart(tmp_path, capsys):
    mutated = CATALOGUE[[c.name for c in CATALOGUE].index("age 18")].mutate(read_example())
    docs = tmp_path / "docs"
    code, _, _ = run_cli(mutated.write(tmp_path), docs, capsys)
    assert code == 1
    index = " ".join((docs / "index.html").read_text(encoding="utf-8").split())
    assert "failed</b>: 1 error" in index
    (page,) = (docs / "validations").rglob("*.html")
    statuses = [b.get_text().split()[-1] for b in BeautifulSoup(page.read_text(encoding="utf-8"), "html.parser").find_all("b")]
    # The overview and the one broken rule; the follow-up warning stays a warning.
    assert statuses.count("failed") == 2 and statuses.count("warning") >= 1
