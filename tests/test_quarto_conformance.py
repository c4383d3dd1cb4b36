"""The report under a real Quarto CLI, beside the built-in renderer.

Runs where a ``quarto`` executable is found (``$QUARTO``, else PATH; ``.ci/run``
puts a locally built Quarto on PATH when the machine has one) and is skipped,
with that reason, elsewhere. A stand-in cannot stand for these: the stand-in
of the unit tests accepted an argument list every real Quarto rejects.

Each renderer builds the report in its own temporary copy of the repository,
through ``make report``; then the Render path (``quarto render report.qmd``,
with and without ``--to``) runs in the Quarto copy.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest

from renderer.quarto import quarto_version
from tests.test_end_to_end import ABSTRACT_FIGURES, copy_repo, make, snapshot
from tests.test_outputs import (  # noqa: F401
    browser,
    check_data_docs_in_browser,
    check_docx,
    check_docx_embeds_the_face,
    check_docx_in_libreoffice,
    check_pdf,
    check_report_in_browser,
)

QUARTO = os.environ.get("QUARTO") or shutil.which("quarto")
VERSION = quarto_version(QUARTO) if QUARTO else None

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(
        VERSION is None,
        reason="no quarto executable ($QUARTO or PATH): the Quarto conformance tests need a real Quarto "
               "(shared/tools/quarto/README.md builds 1.7.34 offline)",
    ),
]


def _quarto_env(repo: Path) -> dict[str, str]:
    """The environment a user with Quarto on PATH has; QUARTO_PYTHON as the README says."""
    env = {k: v for k, v in os.environ.items() if k not in ("DATA", "RENDERER", "MAKEFLAGS", "MAKELEVEL")}
    env["PATH"] = f"{Path(QUARTO).parent}{os.pathsep}{env['PATH']}"
    env["QUARTO_PYTHON"] = str(repo / ".venv" / "bin" / "python")
    return env


def _quarto(repo: Path, *args: str, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run([QUARTO, *args], cwd=repo, capture_output=True, text=True,
                          env={**_quarto_env(repo), **env}, timeout=600)


@pytest.fixture(scope="module")
def builds(tmp_path_factory) -> dict[str, Path]:
    """``make report`` with each renderer, each in its own copy: renderer -> the copy."""
    repos = {}
    for renderer in ("builtin", "quarto"):
        repo = copy_repo(tmp_path_factory.mktemp(renderer))
        gitignore = (repo / ".gitignore").read_bytes()
        result = subprocess.run(["make", "report", f"RENDERER={renderer}"], cwd=repo, capture_output=True,
                                text=True, env=_quarto_env(repo), timeout=900)
        assert result.returncode == 0, result.stdout + result.stderr
        assert f"renderer: {renderer}" in result.stdout
        # Quarto appends "/.quarto/" unless that exact line is there: the tracked file stays as it is.
        assert (repo / ".gitignore").read_bytes() == gitignore
        repos[renderer] = repo
    return repos


def _texts(out: Path, pdf_body_only: bool = True) -> dict[str, str]:
    from docx import Document
    from pypdf import PdfReader

    # Each page's running header (first line) and page number (last line) left out: the two
    # renderers break pages in different places.
    keep = slice(1, -1) if pdf_body_only else slice(None)
    pdf = " ".join(" ".join(page.extract_text().splitlines()[keep]) for page in PdfReader(out / "report.pdf").pages)
    docx = "\n".join(p.text for p in Document(out / "report.docx").paragraphs)
    html = re.sub(r"<[^>]+>", " ", (out / "report.html").read_text(encoding="utf-8"))
    return {fmt: " ".join(text.replace("\u00a0", " ").split())
            for fmt, text in (("html", html), ("pdf", pdf), ("docx", docx))}


def _abstract_numbers(text: str) -> list[str]:
    """Every number from the abstract's first heading to the end of its statistical methods."""
    body = text[text.index("Introduction:"):text.index("Patient characteristics")]
    return re.findall(r"\d+(?:[.,]\d+)*", body)


def test_both_renderers_write_the_same_set_of_outputs(builds):
    # The Data Docs' page names carry the time of the run; the report's files must match one for one.
    files = {r: sorted(f for f in snapshot(repo / "_output") if not f.startswith("validation/"))
             for r, repo in builds.items()}
    assert files["quarto"] == files["builtin"]
    assert {"report.html", "report.pdf", "report.docx", "abstract.txt"} <= set(files["quarto"])
    assert (builds["quarto"] / "_output" / "validation" / "index.html").is_file()


@pytest.mark.parametrize("fmt", ["html", "pdf", "docx"])
def test_every_number_of_the_abstract_is_the_same_under_both(builds, fmt):
    texts = {r: _texts(repo / "_output")[fmt] for r, repo in builds.items()}
    assert [f for f in ABSTRACT_FIGURES if f not in texts["quarto"]] == []
    numbers = {r: _abstract_numbers(text) for r, text in texts.items()}
    assert len(numbers["quarto"]) > 60
    assert numbers["quarto"] == numbers["builtin"]


def test_title_block_fields_in_each_format(builds):
    authors = ["Dmitrii Evstratov", "Ekaterina Sitnova", "Ludmila Vavilova", "Yulia Diakonova",
               "Larisa Shelikhova"]
    title = "Treatment of Pediatric Patients with Relapsed and Refractory"
    everything = [title, *authors, "Oncodaily Medical Journal", "SIOP ASIA 2025, Saudi Arabia",
                  "10.69690/ODMJ-018-0425-1248", "Dmitry Rogachev National Medical Research Center"]
    for renderer, repo in builds.items():
        texts = _texts(repo / "_output", pdf_body_only=False)
        for fmt in ("html", "pdf", "docx"):
            missing = [field for field in everything if field not in texts[fmt]]
            assert missing == [], (renderer, fmt)


def test_cross_references_are_links_in_the_pdf(builds):
    from pypdf import PdfReader

    for renderer, repo in builds.items():
        pages = PdfReader(repo / "_output" / "report.pdf").pages
        links = [a.get_object() for page in pages for a in (page.get("/Annots") or [])
                 if a.get_object()["/Subtype"] == "/Link"]
        # A destination in the file: /Dest (Typst 0.15) or a GoTo action (Typst 0.13), not a URI.
        internal = [link for link in links if "/Dest" in link or link.get("/A", {}).get("/S") == "/GoTo"]
        # Figures 1-3 and Tables 1-2 are referred to once each in the text.
        assert len(internal) >= 5, renderer


def test_figures_in_the_form_each_format_should_get(builds):
    from bs4 import BeautifulSoup
    from pypdf import PdfReader

    for renderer, repo in builds.items():
        out = repo / "_output"
        soup = BeautifulSoup((out / "report.html").read_text(encoding="utf-8"), "html.parser")
        sources = [img["src"] for img in soup.find_all("img")]
        assert len(sources) == 4 and all(s.startswith("data:image/png;base64,") for s in sources), renderer
        with zipfile.ZipFile(out / "report.docx") as docx:
            media = sorted(Path(n).suffix for n in docx.namelist() if n.startswith("word/media/"))
        assert media == [".png"] * 4, renderer
        # Vector figures in the PDF: no raster image on any page.
        assert sum(len(page.images) for page in PdfReader(out / "report.pdf").pages) == 0, renderer


def test_provenance_names_the_typst_that_made_the_pdf(builds):
    from pypdf import PdfReader

    for renderer, repo in builds.items():
        creator = PdfReader(repo / "_output" / "report.pdf").metadata["/Creator"]  # "Typst 0.15.1"
        assert re.fullmatch(r"Typst \d+\.\d+\.\d+", creator)
        assert creator in _texts(repo / "_output")["html"], renderer


def test_the_html_fetches_nothing(builds):
    from bs4 import BeautifulSoup

    soup = BeautifulSoup((builds["quarto"] / "_output" / "report.html").read_text(encoding="utf-8"),
                         "html.parser")
    fetched = [tag.get(attr) for tag in soup.find_all(True) for attr in ("src", "href", "data", "poster")
               if tag.get(attr) and tag.name != "a"]
    assert [url for url in fetched if not url.startswith(("data:", "#"))] == []


@pytest.mark.parametrize("renderer", ["builtin", "quarto"])
def test_docx_and_pdf_properties_pages_and_styles(builds, renderer):
    check_docx(builds[renderer] / "_output")
    check_pdf(builds[renderer] / "_output")


@pytest.mark.parametrize("renderer", ["builtin", "quarto"])
def test_docx_embeds_the_face_and_keeps_intervals_whole_in_libreoffice(builds, renderer, tmp_path):
    check_docx_embeds_the_face(builds[renderer] / "_output")
    check_docx_in_libreoffice(builds[renderer] / "_output", tmp_path)


@pytest.mark.parametrize("renderer", ["builtin", "quarto"])
def test_report_and_data_docs_in_a_browser(builds, browser, renderer):  # noqa: F811 (the fixture)
    check_report_in_browser(browser, builds[renderer] / "_output")
    check_data_docs_in_browser(browser, builds[renderer] / "_output")


def test_quarto_render_runs_as_a_user_runs_it(builds):
    repo = builds["quarto"]
    # `quarto render report.qmd`: every format of _quarto.yml; the data checks passed on these
    # inputs already, so the pre-render step says so rather than running them again.
    done = _quarto(repo, "render", "report.qmd")
    assert done.returncode == 0, done.stderr
    assert "passed before on these exact inputs" in done.stdout + done.stderr
    # Editors' Render buttons render one format at a time.
    for to in ("html", "typst", "docx"):
        done = _quarto(repo, "render", "report.qmd", "--to", to)
        assert done.returncode == 0, (to, done.stderr)
    texts = _texts(repo / "_output")
    for fmt in ("html", "pdf", "docx"):
        assert [f for f in ABSTRACT_FIGURES if f not in texts[fmt]] == [], fmt


def test_a_corrupted_cohort_stops_a_bare_quarto_render(builds):
    repo = builds["quarto"]
    before = snapshot(repo / "_output")
    header, row, *rest = (repo / "data" / "example_cohort.csv").read_text(encoding="utf-8").splitlines()
    cells = row.split(",")
    cells[header.split(",").index("age_years")] = "18.0"  # the cohort is of patients under 18
    corrupt = repo / "corrupt.csv"
    corrupt.write_text("\n".join([header, ",".join(cells), *rest]) + "\n", encoding="utf-8")

    done = _quarto(repo, "render", "report.qmd", DATA=str(corrupt))

    assert done.returncode != 0
    message = done.stdout + done.stderr
    assert "age_years" in message and cells[0] in message
    assert "Executing" not in message  # Quarto stopped before its kernel ran a cell
    assert snapshot(repo / "_output") == before


def test_make_report_shows_quartos_own_error_with_its_file_and_line(builds, tmp_path):
    repo = copy_repo(tmp_path / "broken")
    study = repo / "study.yml"
    study.write_text(study.read_text(encoding="utf-8").replace(
        "journal:\n  title: Oncodaily Medical Journal", "journal: Oncodaily Medical Journal"), encoding="utf-8")
    done = subprocess.run(["make", "report", "RENDERER=quarto"], cwd=repo, capture_output=True, text=True,
                          env=_quarto_env(repo), timeout=600)
    assert done.returncode != 0
    assert "study.yml" in done.stderr and "journal" in done.stderr and "line" in done.stderr
    assert "    at " not in done.stderr  # Quarto's JavaScript stack trace is left out


def test_quarto_preview_runs_the_checks_first_and_serves_the_report(tmp_path):
    """RStudio's Render button runs `quarto preview`: the data checks gate it too."""
    import socket
    import time
    import urllib.request

    repo = copy_repo(tmp_path / "preview")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    log = tmp_path / "preview.log"
    with log.open("w") as sink:
        preview = subprocess.Popen(
            [QUARTO, "preview", "report.qmd", "--to", "html", "--no-browse", "--no-watch-inputs",
             "--port", str(port)],
            cwd=repo, stdout=sink, stderr=subprocess.STDOUT, env=_quarto_env(repo), start_new_session=True)
        try:
            deadline = time.monotonic() + 300
            while "Browse at" not in log.read_text() and preview.poll() is None and time.monotonic() < deadline:
                time.sleep(0.5)
            page = urllib.request.urlopen(f"http://127.0.0.1:{port}/report.html", timeout=30).read().decode()
        finally:
            os.killpg(preview.pid, 15)
            preview.wait(timeout=60)
    output = log.read_text()
    assert output.index("data checks passed") < output.index("Executing")
    assert "39.4% (95% CI: 19.1-59.8%)" in " ".join(page.split())
