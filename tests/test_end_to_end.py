"""`make report` end to end, in a temporary copy of the repository.

The headline figures asserted here are the published abstract's
(shared/seeds: 27 patients, 2-year OS 39.4% (95% CI 19.1-59.8%), p=0.046).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
from pathlib import Path

import pytest

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[1]


def tracked_files() -> list[str]:
    listing = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT, capture_output=True, text=True, check=True,
    ).stdout
    return [f for f in listing.splitlines() if (ROOT / f).is_file()]


def copy_repo(repo: Path) -> Path:
    """The checkout's files (tracked and new) copied into ``repo``, with the environment `make test` built."""
    for name in tracked_files():
        (repo / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, repo / name)
    # A link: copying the environment would take minutes.
    (repo / ".venv").symlink_to(ROOT / ".venv")
    return repo


def make(repo: Path, *args: str, **env: str) -> subprocess.CompletedProcess:
    environment = {k: v for k, v in os.environ.items() if k not in ("DATA", "RENDERER", "MAKEFLAGS", "MAKELEVEL")}
    environment.update(env)
    return subprocess.run(["make", *args], cwd=repo, capture_output=True, text=True, env=environment, timeout=600)


def snapshot(output: Path) -> dict[str, str]:
    """SHA-256 of every file in _output/, the Data Docs published with the report included."""
    return {
        str(p.relative_to(output)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(output.rglob("*"))
        if p.is_file()
    }


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> tuple[Path, subprocess.CompletedProcess]:
    repo = copy_repo(tmp_path_factory.mktemp("repo"))
    result = make(repo, "report", RENDERER="builtin")
    return repo, result


def test_make_report_writes_three_formats(built):
    repo, result = built
    assert result.returncode == 0, result.stdout + result.stderr
    for name in ("report.html", "report.pdf", "report.docx", "abstract.txt"):
        assert (repo / "_output" / name).stat().st_size > 0, name
    for stage in ("data checks", "execute", "html", "pdf", "docx"):
        assert stage in result.stdout + result.stderr


# Every figure of the seed abstract, as the report words it (the abstract's
# "13 (50%)" prints with the report's one decimal, its "52%" as 52.2%).
ABSTRACT_FIGURES = [
    "Twenty-seven patients", "Twenty-six patients", "21 (77.8%)", "26 (96.3%)", "One patient (3.7%)",
    "2 patients (7.4%)", "15 patients (55.6%)", "7 patients (25.9%)", "n=13, 48.1%", "n=8, 29.6%",
    "n=3, 11.1%", "Among 26 patients", "13 (50.0%)", "Nineteen (70.4%)", "(n=10)", "(n=7)", "(n=2)",
    "Eighteen patients", "5 (27.8%)", "39.4% (95% CI: 19.1-59.8%)", "28.6% (95% CI: 4.9-52.2%)",
    "50.1% (95% CI: 17.4-82.9%)", "30.8% (95% CI: 5.7-55.9%)", "48.7% (95% CI: 19.1-78.3%)", "p=0.046",
]


@pytest.fixture(scope="module")
def texts(built) -> dict[str, str]:
    from docx import Document
    from pypdf import PdfReader

    out = built[0] / "_output"
    pdf = " ".join(page.extract_text() for page in PdfReader(out / "report.pdf").pages)
    document = Document(out / "report.docx")
    docx = "\n".join(p.text for p in document.paragraphs)
    # Whitespace folded, so the no-break space of "Table\u00a01" (as Quarto writes it) reads as a space.
    return {
        "html": " ".join((out / "report.html").read_text(encoding="utf-8").split()),
        "pdf": " ".join(pdf.split()),
        "docx": " ".join(docx.split()),
        "txt": (out / "abstract.txt").read_text(encoding="utf-8"),
    }


@pytest.mark.parametrize("fmt", ["html", "pdf", "docx", "txt"])
def test_outputs_state_every_abstract_figure(texts, fmt):
    missing = [figure for figure in ABSTRACT_FIGURES if figure not in texts[fmt]]
    assert missing == []


@pytest.mark.parametrize("fmt", ["html", "pdf", "docx"])
def test_outputs_carry_provenance_and_synthetic_note(texts, fmt):
    text = texts[fmt]
    assert "example_cohort.csv" in text and "SHA-256" in text
    assert "synthetic" in text.lower()
    assert "Table 1" in text and "Table 2" in text
    assert all(f"Figure {n}" in text for n in (1, 2, 3, 4))


def test_html_is_self_contained_and_docx_has_real_tables(built):
    from bs4 import BeautifulSoup
    from docx import Document

    out = built[0] / "_output"
    soup = BeautifulSoup((out / "report.html").read_text(encoding="utf-8"), "html.parser")
    fetched = [tag.get(attr) for tag in soup.find_all(True) for attr in ("src", "href", "data", "poster")
               if tag.get(attr) and tag.name != "a"]
    assert [url for url in fetched if not url.startswith(("data:", "#"))] == []
    assert len(soup.find_all("img")) == 4 and len(soup.find_all("table")) == 2
    assert len(Document(out / "report.docx").tables) == 2
    assert sorted(p.name for p in (out / "figures").iterdir()) == sorted(
        f"{stem}.{ext}" for stem in ("figure1_overall_survival", "figure2_os_by_mrd_response",
                                     "figure3_os_by_prior_blinatumomab", "figure4_os_by_mrd_response_simon_makuch")
        for ext in ("png", "svg"))


def test_second_make_report_does_nothing(built):
    repo, first = built
    assert first.returncode == 0
    again = make(repo, "report", RENDERER="builtin")
    assert again.returncode == 0
    assert again.stdout.startswith("up to date:")
    assert "execute" not in again.stdout + again.stderr


def test_corrupted_cohort_stops_and_keeps_previous_outputs(built):
    repo, first = built
    assert first.returncode == 0
    before = snapshot(repo / "_output")
    cohort = (repo / "data" / "example_cohort.csv").read_text(encoding="utf-8").splitlines()
    header = cohort[0].split(",")
    first_row = cohort[1].split(",")
    first_row[header.index("age_years")] = "18.0"  # out of range: the cohort is of patients under 18
    corrupt = repo / "corrupt.csv"
    corrupt.write_text("\n".join([cohort[0], ",".join(first_row), *cohort[2:]]) + "\n", encoding="utf-8")

    result = make(repo, "report", DATA=str(corrupt), RENDERER="builtin")

    assert result.returncode != 0
    message = result.stdout + result.stderr
    assert "age_years" in message and first_row[0] in message
    assert snapshot(repo / "_output") == before


def test_cohort_replaced_by_an_older_file_is_checked(built):
    repo, first = built
    assert first.returncode == 0
    before = snapshot(repo / "_output")
    cohort = repo / "data" / "example_cohort.csv"
    original = cohort.read_bytes()
    header, row, *rest = original.decode().splitlines()
    cells = row.split(",")
    cells[header.split(",").index("age_years")] = "25.0"
    try:
        cohort.write_text("\n".join([header, ",".join(cells), *rest]) + "\n", encoding="utf-8")
        # As `mv ~/Downloads/cohort.csv data/` or `cp -p` leave it: older than every build stamp.
        os.utime(cohort, (0, 0))
        result = make(repo, "report", RENDERER="builtin")
    finally:
        cohort.write_bytes(original)
    assert result.returncode != 0
    assert "age_years" in result.stdout + result.stderr
    assert snapshot(repo / "_output") == before


def test_failing_cell_stops_and_keeps_previous_outputs(built):
    repo, first = built
    assert first.returncode == 0
    before = snapshot(repo / "_output")
    report = repo / "report.qmd"
    original = report.read_text(encoding="utf-8")
    report.write_text(original.replace("t2 = outcomes(study)", "t2 = outcomes(study)\n1 / 0"), encoding="utf-8")
    try:
        result = make(repo, "report", RENDERER="builtin")
    finally:
        report.write_text(original, encoding="utf-8")

    assert result.returncode != 0
    assert "ZeroDivisionError" in result.stdout + result.stderr
    assert "setup" in result.stdout + result.stderr  # the failing cell's label
    assert snapshot(repo / "_output") == before


def test_missing_data_docs_are_rebuilt(built):
    import shutil as _shutil

    repo, first = built
    assert first.returncode == 0
    _shutil.rmtree(repo / "_output" / "validation")
    again = make(repo, "report", RENDERER="builtin")
    assert again.returncode == 0, again.stderr
    assert "data checks passed" in again.stdout  # the checks ran again: their pages were gone
    assert (repo / "_output" / "validation" / "index.html").is_file()


def test_study_yml_is_read_as_yaml_and_paths_may_hold_spaces(built, tmp_path):
    repo, first = built
    assert first.returncode == 0
    study = repo / "study.yml"
    original = study.read_text(encoding="utf-8")
    folder = repo / "my data" / "когорта"
    folder.mkdir(parents=True)
    (folder / "cohort 2025.csv").write_bytes((repo / "data" / "example_cohort.csv").read_bytes())
    # A quoted value followed by a comment, where the Makefile once read the first `  data:` line with sed.
    edited = original.replace("  data: data/example_cohort.csv",
                              '  data: "my data/когорта/cohort 2025.csv"   # the 2025 export')
    assert edited != original
    try:
        study.write_text(edited, encoding="utf-8")
        done = make(repo, "report", RENDERER="builtin")
    finally:
        study.write_text(original, encoding="utf-8")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "cohort 2025.csv" in done.stdout
    with_data = make(repo, "report", RENDERER="builtin", DATA=str(folder / "cohort 2025.csv"))
    assert with_data.returncode == 0, with_data.stdout + with_data.stderr
