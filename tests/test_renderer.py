"""The built-in Quarto renderer: one fixture per feature, checked in HTML, DOCX and PDF.

Each fixture under tests/fixtures/qmd/ is rendered once per module (kernel start
is about a second); the expected values come from the fixture text itself and
from Quarto's documented behaviour (numbering "Figure 1", inline expressions
printed as their repr, strings without quotes).
"""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import docx
import pytest
from bs4 import BeautifulSoup
from pypdf import PdfReader

from renderer import RenderError, render
from renderer.errors import GateFailed
from renderer.ast import pandoc

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "tests" / "fixtures" / "qmd"
NBSP = "\u00a0"


def _render(doc: Path, out: Path, **kwargs):
    return render(doc, out, renderer="builtin", log=lambda line: None, **kwargs)


def _pdf_text(path: Path) -> str:
    text = "\n".join(page.extract_text() for page in PdfReader(str(path)).pages)
    return " ".join(text.replace(NBSP, " ").split())


def _html(path: Path) -> BeautifulSoup:
    return BeautifulSoup(path.read_text(encoding="utf-8"), "html.parser")


def _docx_text(path: Path) -> str:
    document = docx.Document(str(path))
    parts = [p.text for p in document.paragraphs]
    parts += [cell.text for table in document.tables for row in table.rows for cell in row.cells]
    return " ".join(" ".join(parts).replace(NBSP, " ").split())


def _listing(directory: Path) -> dict[str, bytes]:
    return {str(p.relative_to(directory)): p.read_bytes() for p in directory.rglob("*") if p.is_file()}


@pytest.fixture(scope="module")
def titleblock(tmp_path_factory):
    out = tmp_path_factory.mktemp("titleblock")
    (out / "validation").mkdir()
    (out / "validation" / "report.json").write_text("{}")
    result = _render(FIXTURES / "titleblock" / "abstract.qmd", out)
    return out, result


@pytest.fixture(scope="module")
def cells(tmp_path_factory):
    out = tmp_path_factory.mktemp("cells")
    result = _render(FIXTURES / "cells" / "cells.qmd", out)
    return out, result


@pytest.fixture(scope="module")
def figures(tmp_path_factory):
    out = tmp_path_factory.mktemp("figures")
    _render(FIXTURES / "figures" / "figures.qmd", out)
    return out


@pytest.fixture(scope="module")
def tables(tmp_path_factory):
    out = tmp_path_factory.mktemp("tables")
    _render(FIXTURES / "tables" / "tables.qmd", out)
    return out


# --- title block and metadata -------------------------------------------------------------


def test_outputs_are_one_build_and_its_record(titleblock):
    import json

    out, result = titleblock
    assert result.renderer == "builtin"
    assert sorted(p.name for p in result.outputs) == ["abstract.docx", "abstract.html", "abstract.pdf"]
    # The output folder is one build: what an earlier one left there is gone, and the
    # record lists every file with its checksum.
    assert not (out / "validation").exists()
    record = json.loads((out / "build.json").read_text())
    assert sorted(record["files"]) == ["abstract.docx", "abstract.html", "abstract.pdf"]
    # No kernel for a document without code.
    assert dict(result.timings)["execute"] < 0.5


def test_html_title_block(titleblock):
    out, _ = titleblock
    soup = _html(out / "abstract.html")
    # Front matter wins over study.yml (metadata-files).
    assert soup.find("h1", class_="title").get_text() == "Inotuzumab Ozogamicin in Paediatric B-ALL"
    assert soup.find("h1", class_="title").find("em").get_text() == "Paediatric"
    assert soup.title.get_text().startswith("Inotuzumab Ozogamicin")
    assert soup.html["lang"] == "en-GB"
    assert soup.find(class_="header-line").get_text(strip=True) == (
        "Oncodaily Medical Journal · SIOP ASIA 2025, Saudi Arabia"
    )
    assert soup.find(class_="subtitle").get_text(strip=True) == "A single-centre experience"
    authors = soup.find(class_="authors")
    # Marks number affiliations by first mention: nmrc=1, uni=2.
    assert [s.get_text() for s in authors.find_all("sup")] == ["1", "2,1"]
    assert authors.get_text(strip=True) == (
        "Dmitrii Evstratov1, Ekaterina Sitnova2,1, Larisa Shelikhova"
    )
    affiliations = [a.get_text(" ", strip=True) for a in soup.find_all(class_="affiliation")]
    assert affiliations == ["1 National Medical Research Center", "2 Second University"]
    assert soup.find(class_="date").get_text(strip=True) == "2025-02-28"
    doi = soup.find(class_="doi").find("a")
    assert doi["href"] == "https://doi.org/10.69690/ODMJ-018-0425-1248"
    assert "This sentence is the abstract." in soup.find(class_="abstract").get_text()


def test_html_is_self_contained(titleblock, figures):
    for path in (titleblock[0] / "abstract.html", figures / "figures.html"):
        soup = _html(path)
        # Resources a browser would fetch: src attributes and <link href>.
        fetched = [tag.get("src") for tag in soup.find_all(src=True)]
        fetched += [tag.get("href") for tag in soup.find_all("link")]
        assert not [u for u in fetched if u and not u.startswith("data:")]
        assert not soup.find_all("script")
        assert soup.find("style") is not None  # the CSS is inline
    assert len(_html(figures / "figures.html").find_all("img", src=True)) == 2


def test_pdf_title_block(titleblock):
    out, _ = titleblock
    text = _pdf_text(out / "abstract.pdf")
    assert "Oncodaily Medical Journal" in text and "SIOP ASIA 2025, Saudi Arabia" in text
    assert "Inotuzumab Ozogamicin in Paediatric B-ALL" in text
    assert "A single-centre experience" in text
    assert "Dmitrii Evstratov1, Ekaterina Sitnova2,1, Larisa Shelikhova" in text
    assert "1National Medical Research Center" in text
    assert "DOI: 10.69690/ODMJ-018-0425-1248" in text
    assert "This sentence is the abstract." in text
    reader = PdfReader(str(out / "abstract.pdf"))
    assert reader.metadata.title == "Inotuzumab Ozogamicin in Paediatric B-ALL"
    assert len(reader.pages) == 1
    # A4 in points.
    box = reader.pages[0].mediabox
    assert (round(float(box.width)), round(float(box.height))) == (595, 842)
    annotations = [a.get_object() for a in reader.pages[0].get("/Annots", [])]
    uris = [a["/A"]["/URI"] for a in annotations if "/A" in a and "/URI" in a["/A"]]
    assert "https://doi.org/10.69690/ODMJ-018-0425-1248" in uris


def test_docx_title_block(titleblock):
    out, _ = titleblock
    document = docx.Document(str(out / "abstract.docx"))
    styled = [(p.style.name, p.text) for p in document.paragraphs]
    assert styled[:8] == [
        ("Header Line", "Oncodaily Medical Journal · SIOP ASIA 2025, Saudi Arabia"),
        ("Title", "Inotuzumab Ozogamicin in Paediatric B-ALL"),
        ("Subtitle", "A single-centre experience"),
        ("Author", "Dmitrii Evstratov1, Ekaterina Sitnova2,1, Larisa Shelikhova"),
        ("Affiliation", "1 National Medical Research Center"),
        ("Affiliation", "2 Second University"),
        ("Date", "2025-02-28"),
        ("DOI", "DOI: 10.69690/ODMJ-018-0425-1248"),
    ]
    author = next(p for p in document.paragraphs if p.style.name == "Author")
    assert [r.text for r in author.runs if r.font.superscript] == ["1", "2,1"]
    assert "This sentence is the abstract." in _docx_text(out / "abstract.docx")
    assert document.core_properties.language == "en-GB"


# --- cells and inline expressions ---------------------------------------------------------


def test_inline_expressions_print_like_quarto(cells):
    out, _ = cells
    # int -> 27; str -> no quotes; numpy scalar -> its repr; Markdown() -> markdown.
    expected = ("Inline: count 27, median not reached, ratio np.float64(5.0), file forty-two, "
                "markdown bold from Markdown().")
    soup = _html(out / "cells.html")
    paragraph = next(p for p in soup.find_all("p") if p.get_text().startswith("Inline:"))
    assert " ".join(paragraph.get_text().split()) == expected
    assert paragraph.find("strong").get_text() == "bold from Markdown()"
    assert expected in _pdf_text(out / "cells.pdf")
    assert expected in _docx_text(out / "cells.docx")


def test_cell_options(cells):
    out, _ = cells
    for text in (_html(out / "cells.html").get_text(), _pdf_text(out / "cells.pdf"),
                 _docx_text(out / "cells.docx")):
        text = " ".join(text.split())
        assert 'print("ECHO-OUTPUT", echoed_value)' in text  # echo: true shows the code
        assert "ECHO-OUTPUT 42" in text
        assert "HIDDEN-CODE-OUTPUT" in text
        assert 'print("HIDDEN-CODE-OUTPUT")' not in text  # echo: false from _quarto.yml
        assert 'print("NEVER-RUN")' in text  # eval: false, echo: true: shown, not run
        assert "NEVER-RUN NEVER" not in text
        assert "NOT-INCLUDED-OUTPUT" not in text  # include: false ran silently
        assert "After the error: set by an included: false cell; defined? False." in text
        assert "SUPPRESSED-OUTPUT" not in text  # output: false
        assert "QUIET-WARNING" not in text  # warning: false from _quarto.yml
        assert "LOUD-WARNING" in text  # warning: true
        assert "ValueError: SHOWN-ERROR" in text  # error: true shows, continues
    soup = _html(out / "cells.html")
    assert soup.find("strong", string="ASIS-BOLD") is not None  # output: asis is markdown
    assert soup.find("em", string="asis-italic") is not None


def test_cells_can_write_artefacts_to_the_output_dir(cells):
    out, result = cells
    assert (out / "tables" / "artefact.csv").read_text() == "a,b\n1,2\n"
    assert out / "tables" / "artefact.csv" in result.outputs


# --- figures --------------------------------------------------------------------------------


def test_figures_in_html(figures):
    soup = _html(figures / "figures.html")
    shown = soup.find_all("figure")
    assert [f["id"] for f in shown] == ["fig-survival", "fig-relapse"]
    captions = [f.figcaption.get_text().replace(NBSP, " ") for f in shown]
    assert captions == ["Figure 1: Kaplan-Meier estimate of overall survival",
                        "Figure 2: Cumulative incidence of relapse"]
    image = shown[0].find("img")
    assert image["src"].startswith("data:image/png;base64,")
    assert image["alt"] == "A decreasing step curve from 1.0 to 0.5"
    # Quarto's "retina" PNG: twice the 96 dpi, so the 5-inch figure (tight box) is over 4 x 192 px wide.
    import base64
    import io

    from PIL import Image
    with Image.open(io.BytesIO(base64.b64decode(image["src"].split(",", 1)[1]))) as png:
        assert png.width > 4 * 192
    refs = [(a["href"], a.get_text().replace(NBSP, " ")) for a in soup.find_all("a", class_="quarto-xref")]
    assert refs == [("#fig-survival", "Figure 1"), ("#fig-relapse", "Figure 2"),
                    ("#fig-survival", "Figure 1"), ("#fig-relapse", "2")]


def test_figures_in_docx(figures):
    document = docx.Document(str(figures / "figures.docx"))
    assert len(document.inline_shapes) == 2
    text = _docx_text(figures / "figures.docx")
    assert "Figure 1: Kaplan-Meier estimate of overall survival" in text
    assert "As Figure 1 shows, and Figure 2 confirms, survival falls; see also Figure 1 and figure 2." in text


def test_figures_in_pdf_are_vector(figures):
    text = _pdf_text(figures / "figures.pdf")
    assert "Figure 1: Kaplan-Meier estimate of overall survival" in text
    assert "Figure 2: Cumulative incidence of relapse" in text
    assert "As Figure 1 shows, and Figure 2 confirms" in text
    assert "Months since InO" not in text  # axis text is drawn as paths, not PDF text
    for page in PdfReader(str(figures / "figures.pdf")).pages:
        assert len(page.images) == 0  # SVG became vector drawing, no raster image


# --- tables ---------------------------------------------------------------------------------


def test_tables_in_html(tables):
    soup = _html(tables / "tables.html")
    found = soup.find_all("table")
    assert [t.get("id") for t in found] == ["tbl-response", "tbl-cohort", "tbl-prose"]
    assert [t.caption.get_text().replace(NBSP, " ") for t in found] == [
        "Table 1: Response to treatment", "Table 2: Cohort characteristics",
        "Table 3: Events after treatment",
    ]
    rows = [[c.get_text(strip=True) for c in r.find_all(["td", "th"])] for r in found[0].find_all("tr")]
    assert rows == [["Response", "N"], ["Complete remission", "21"], ["No response", "6"]]
    assert "15 (55.6%)" in found[1].get_text()
    refs = [a.get_text().replace(NBSP, " ") for a in soup.find_all("a", class_="quarto-xref")]
    assert refs == ["Table 1", "Table 2", "Table 3"]
    assert not soup.find_all("pre")  # tables, not code text


def test_tables_in_docx(tables):
    document = docx.Document(str(tables / "tables.docx"))
    assert len(document.tables) == 3
    assert [c.text for c in document.tables[0].rows[1].cells] == ["Complete remission", "21"]
    assert [c.text for c in document.tables[2].rows[2].cells] == ["Death", "9"]
    text = _docx_text(tables / "tables.docx")
    assert "Table 2: Cohort characteristics" in text
    assert "Table 1 lists responses, Table 2 the cohort, and Table 3 a table written in markdown." in text


def test_tables_in_pdf(tables):
    text = _pdf_text(tables / "tables.pdf")
    for expected in ("Table 1: Response to treatment", "Complete remission 21", "No response 6",
                     "Table 2: Cohort characteristics", "Male sex 15 (55.6%)",
                     "Table 3: Events after treatment", "Relapse 7",
                     "Table 1 lists responses, Table 2 the cohort, and Table 3"):
        assert expected in text


# --- DOCX reference document ---------------------------------------------------------------


def test_docx_honours_reference_doc(tmp_path):
    folder = tmp_path / "doc"
    shutil.copytree(FIXTURES / "reference_doc", folder)
    default = tmp_path / "default.docx"
    default.write_bytes(subprocess.run(
        [sys.executable, "-c", "import pypandoc,subprocess,sys;"
         "sys.stdout.buffer.write(subprocess.run([pypandoc.get_pandoc_path(),"
         "'--print-default-data-file','reference.docx'],capture_output=True).stdout)"],
        capture_output=True, check=True).stdout)
    reference = docx.Document(str(default))
    reference.styles["Normal"].font.name = "Liberation Serif"
    reference.save(str(folder / "custom-reference.docx"))
    _render(folder / "styled.qmd", tmp_path / "out", formats=("docx",))
    document = docx.Document(str(tmp_path / "out" / "styled.docx"))
    assert document.styles["Normal"].font.name == "Liberation Serif"
    assert not (tmp_path / "out" / "styled.html").exists()


def test_html_honours_include_after_body(tmp_path):
    # As Quarto's html format: the file's text goes verbatim at the end of <body>.
    (tmp_path / "_quarto.yml").write_text(
        "project:\n  type: default\nformat:\n  html:\n    include-after-body: after.html\n", encoding="utf-8")
    (tmp_path / "after.html").write_text('<script id="after">document.title += " (after)";</script>\n',
                                         encoding="utf-8")
    (tmp_path / "doc.qmd").write_text("---\ntitle: Included\n---\n\nBody text.\n", encoding="utf-8")
    _render(tmp_path / "doc.qmd", tmp_path / "out", formats=("html",))
    page = _html(tmp_path / "out" / "doc.html")
    script = page.find("script", id="after")
    assert script is not None and script.find_previous(string=lambda t: "Body text." in t)
    (tmp_path / "after.html").unlink()
    with pytest.raises(RenderError, match=r"format\.html\.include-after-body: file 'after\.html' not found"):
        _render(tmp_path / "doc.qmd", tmp_path / "out2", formats=("html",))


# --- errors: message, and nothing written ---------------------------------------------------


@pytest.fixture
def guarded_output(tmp_path):
    out = tmp_path / "out"
    (out / "validation").mkdir(parents=True)
    (out / "validation" / "keep.txt").write_text("from the data checks")
    (out / "report.html").write_text("previous report")
    before = _listing(out)
    yield out
    assert _listing(out) == before, "a failed render changed the output directory"


def test_failing_cell_names_label_line_and_user_traceback(guarded_output):
    doc = FIXTURES / "errors" / "failing_cell.qmd"
    with pytest.raises(RenderError) as caught:
        _render(doc, guarded_output)
    # Line 16 of the .qmd is `median = median_follow_up(empty)`.
    assert str(caught.value) == (
        f"{doc}:16: cell 'follow-up' raised ZeroDivisionError: division by zero"
    )
    assert "median_follow_up(empty)" in caught.value.detail
    assert "return sum(times) / len(times)" in caught.value.detail


@pytest.mark.parametrize(("name", "message"), [
    ("unknown_option.qmd", ":7: unknown cell option 'fig-widht'"),
    ("shortcode.qmd", ":5: shortcode '{{< meta version >}}' is not supported"),
    ("r_engine.qmd", ":5: engine '{r}' is not supported"),
    ("unresolved_ref.qmd", ": cross-reference '@fig-missing' has no target"),
    ("yaml_inline.qmd", ": metadata 'abstract' contains an inline expression"),
    ("kernel_death.qmd", ":5: cell 'crash': the python kernel died"),
])
def test_unsupported_syntax_is_an_error(guarded_output, name, message):
    doc = FIXTURES / "errors" / name
    with pytest.raises(RenderError) as caught:
        _render(doc, guarded_output)
    assert str(caught.value).startswith(f"{doc}{message}")


def test_missing_files_are_errors(guarded_output):
    with pytest.raises(RenderError, match="no such file"):
        _render(FIXTURES / "errors" / "absent.qmd", guarded_output)
    with pytest.raises(RenderError, match=r"format\.docx\.reference-doc: file 'custom-reference\.docx' not found"):
        _render(FIXTURES / "reference_doc" / "styled.qmd", guarded_output)


# --- pre-render: the project's commands (the data checks) that must pass before any cell runs --

GATED = """```{python}
#| label: reads-what-the-gate-wrote
import pathlib
print(pathlib.Path("gate.txt").read_text().strip())
```
"""


def _project(tmp_path: Path, *commands: str) -> Path:
    """A Quarto project whose _quarto.yml declares ``commands`` as its pre-render step."""
    listed = "".join(f"\n    - {json.dumps(c)}" for c in commands)
    (tmp_path / "_quarto.yml").write_text(f"project:\n  type: default\n  pre-render:{listed}\n", encoding="utf-8")
    (tmp_path / "gated.qmd").write_text(GATED, encoding="utf-8")
    return tmp_path / "gated.qmd"


def test_pre_render_runs_before_the_first_cell_as_quarto_runs_it(tmp_path):
    # A .py script runs with this interpreter, in the project folder, with Quarto's variables.
    (tmp_path / "check.py").write_text(
        "import os, pathlib, sys\n"
        "pathlib.Path('gate.txt').write_text(sys.argv[1] + ' ' + os.environ['QUARTO_PROJECT_INPUT_FILES'])\n",
        encoding="utf-8",
    )
    doc = _project(tmp_path, "check.py checked")
    _render(doc, tmp_path / "out", formats=("html",))
    assert "checked gated.qmd" in _html(tmp_path / "out" / "gated.html").get_text()


def test_failed_pre_render_renders_nothing_and_passes_its_status_on(tmp_path, guarded_output):
    doc = _project(tmp_path, "true", "sh -c 'echo rule broken >&2; exit 4'")
    with pytest.raises(GateFailed) as caught:
        _render(doc, guarded_output)
    assert caught.value.returncode == 4
    done = subprocess.run(
        [sys.executable, "-m", "renderer", str(doc), "--output-dir", str(guarded_output), "--renderer", "builtin"],
        capture_output=True, text=True, cwd=ROOT, check=False,
    )
    assert done.returncode == 4
    assert done.stderr.splitlines()[0] == "rule broken"
    assert "nothing rendered" in done.stderr and "execute" not in done.stdout


def test_pre_render_scripts_quarto_cannot_run_are_errors(tmp_path, guarded_output):
    with pytest.raises(RenderError, match=r"pre-render 'check\.ts': \.ts scripts are not supported"):
        _render(_project(tmp_path, "check.ts"), guarded_output)


def test_cli_reports_stages_and_fails_cleanly(tmp_path):
    done = subprocess.run(
        [sys.executable, "-m", "renderer", str(FIXTURES / "titleblock" / "abstract.qmd"),
         "--output-dir", str(tmp_path / "out"), "--to", "html,docx"],
        capture_output=True, text=True, cwd=ROOT, env={**os.environ, "RENDERER": "builtin"}, check=False,
    )
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == "renderer: builtin"
    # A line when each long stage starts, one with its time when it ends; the two writers run side by side.
    assert lines[1].startswith("  execute    started: ")
    assert [line.split()[0] for line in lines[2:8]] == ["execute", "assemble", "html", "docx", "html", "docx"]
    assert [line.split()[1] for line in lines[4:6]] == ["started", "started"]
    assert all(line.endswith(" s") for line in (lines[2], lines[3], lines[6], lines[7]))
    assert lines[-1] == f"  wrote {tmp_path / 'out' / 'abstract.html'}"
    failed = subprocess.run(
        [sys.executable, "-m", "renderer", str(FIXTURES / "errors" / "r_engine.qmd"),
         "--output-dir", str(tmp_path / "failed"), "--renderer", "builtin"],
        capture_output=True, text=True, cwd=ROOT, check=False,
    )
    assert failed.returncode == 1
    assert failed.stderr.startswith("error: ") and "engine '{r}'" in failed.stderr
    assert not (tmp_path / "failed").exists()


# --- the quarto path, with a stand-in executable -------------------------------------------

FAKE_QUARTO = """#!{python}
# A stand-in for `quarto` that keeps Quarto's argument contract: inside a project
# (a _quarto.yml beside the document) --to takes one format name or `all`; a
# comma-joined list is one unknown format (Quarto 1.4 to 1.8).
import json, os, sys
from pathlib import Path
args = sys.argv[1:]
if args == ["--version"]:
    print("{version}")
    sys.exit(0)
if args[1:] == ["--version"]:  # quarto pandoc --version, quarto typst --version
    print(args[0] + " 0.1")
    sys.exit(0)
calls = Path({log!r})
logged = json.loads(calls.read_text()) if calls.exists() else []
logged.append({{"argv": args, "cwd": os.getcwd(), "QUARTO_PYTHON": os.environ.get("QUARTO_PYTHON"),
               "REPORT_OUTPUT_DIR": os.environ.get("REPORT_OUTPUT_DIR")}})
calls.write_text(json.dumps(logged))
doc = Path(args[1])
to = args[args.index("--to") + 1]
known = {{"html": "html", "typst": "pdf", "docx": "docx"}}
if (doc.parent / "_quarto.yml").exists() and to != "all" and to not in known:
    print("ERROR: Unknown format " + to, file=sys.stderr)
    print("Stack trace:\\n    at render (file:///quarto.js:1:1)", file=sys.stderr)
    sys.exit(1)
out = doc.parent / args[args.index("--output-dir") + 1]
for name in (known.values() if to == "all" else [known[to]]):
    (out / (doc.stem + "." + name)).write_text("fake " + name)
"""


def _fake_quarto(tmp_path: Path, version: str) -> tuple[dict[str, str], Path]:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    log = tmp_path / "quarto-args.json"
    script = bin_dir / "quarto"
    script.write_text(FAKE_QUARTO.format(python=sys.executable, version=version, log=str(log)))
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    return {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}"}, log


def test_quarto_is_used_when_installed(tmp_path, monkeypatch):
    env, log = _fake_quarto(tmp_path, "1.6.40")
    monkeypatch.setenv("PATH", env["PATH"])
    doc = FIXTURES / "titleblock" / "abstract.qmd"
    lines: list[str] = []
    result = render(doc, tmp_path / "out", renderer="auto", log=lines.append)
    assert result.renderer == "quarto"
    assert lines[0].startswith("renderer: quarto 1.6.40")
    (call,) = json.loads(log.read_text())
    staging = call["REPORT_OUTPUT_DIR"]
    argv = call["argv"]
    # All three formats in one run: --to all (inside a project a comma-joined list is an unknown format).
    assert argv[:5] == ["render", str(doc), "--to", "all", "--output-dir"]
    # A folder inside the project, relative (Quarto before 1.5 refuses others), gone afterwards.
    assert argv[5].startswith(".quarto-render-") and not (doc.parent / argv[5]).exists()
    assert call["QUARTO_PYTHON"] == sys.executable
    assert call["cwd"] == str(doc.parent)
    assert (tmp_path / "out" / "abstract.pdf").read_text() == "fake pdf"
    assert not Path(staging).exists()


def test_quarto_renders_a_subset_one_format_per_run(tmp_path, monkeypatch):
    env, log = _fake_quarto(tmp_path, "1.7.34")
    monkeypatch.setenv("PATH", env["PATH"])
    render(FIXTURES / "titleblock" / "abstract.qmd", tmp_path / "out", formats=("pdf", "docx"),
           log=lambda line: None)
    assert [call["argv"][3] for call in json.loads(log.read_text())] == ["typst", "docx"]
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["abstract.docx", "abstract.pdf", "build.json"]


def test_quarto_failure_shows_quartos_message_without_its_stack_trace(tmp_path, monkeypatch):
    from renderer.quarto import render_with_quarto

    _fake_quarto(tmp_path, "1.7.34")
    # The stand-in keeps Quarto's contract, so the comma-joined list the old code sent fails here too.
    monkeypatch.setattr("renderer.quarto.QUARTO_FORMATS", {"html": "html,typst", "pdf": "typst", "docx": "docx"})
    with pytest.raises(RenderError) as caught:
        render_with_quarto(str(tmp_path / "bin" / "quarto"), FIXTURES / "titleblock" / "abstract.qmd",
                           ["html"], tmp_path, tmp_path / "out", engines="test")
    assert caught.value.detail == "ERROR: Unknown format html,typst"


def test_old_quarto_or_builtin_request_uses_builtin(tmp_path, monkeypatch):
    env, log = _fake_quarto(tmp_path, "1.3.450")
    monkeypatch.setenv("PATH", env["PATH"])
    result = render(FIXTURES / "titleblock" / "abstract.qmd", tmp_path / "out", formats=("html",),
                    renderer="auto", log=lambda line: None)
    assert result.renderer == "builtin"
    assert not log.exists()
    with pytest.raises(RenderError, match="no quarto 1.4 or newer"):
        render(FIXTURES / "titleblock" / "abstract.qmd", tmp_path / "out2", renderer="quarto",
               log=lambda line: None)


def test_renderer_env_variable_selects_builtin(tmp_path):
    env, log = _fake_quarto(tmp_path, "1.6.40")
    done = subprocess.run(
        [sys.executable, "-m", "renderer", str(FIXTURES / "titleblock" / "abstract.qmd"),
         "--output-dir", str(tmp_path / "out"), "--to", "html"],
        capture_output=True, text=True, cwd=ROOT, env={**env, "RENDERER": "builtin"}, check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("renderer: builtin\n")
    assert not log.exists()


def test_pandoc_helper_reports_failures():
    with pytest.raises(RenderError, match="pandoc failed"):
        pandoc(["-f", "no-such-format"], "x")


def test_top_level_format_options_apply_to_every_format_and_other_quarto_keys_are_errors(tmp_path):
    from renderer.config import load_config
    from renderer.qmd import parse_qmd

    doc = tmp_path / "top.qmd"
    doc.write_text("---\ntitle: T\nnumber-sections: true\nformat:\n  docx:\n    number-sections: false\n---\n\nText.\n")
    config = load_config(doc, parse_qmd(doc).front_matter)
    assert config.formats["html"]["number-sections"] is True
    assert config.formats["docx"]["number-sections"] is False  # the format's own setting wins
    assert "number-sections" not in config.metadata
    doc.write_text("---\ntitle: T\ndate: 2025-02-28\ndate-format: long\n---\n\nText.\n")
    with pytest.raises(RenderError, match="metadata key 'date-format' is not supported"):
        load_config(doc, parse_qmd(doc).front_matter)


def test_format_options_reach_each_format(tmp_path):
    out = tmp_path / "out"
    _render(FIXTURES / "format_options" / "options.qmd", out)
    html = _html(out / "options.html")
    toc = html.find(id="TOC") or html.find("nav")
    assert toc is not None and "Background" in toc.get_text() and "Methods" in toc.get_text()
    # A document that starts at "##" numbers its sections 1, 2 (not 0.1, 0.2), as Quarto does.
    numbered = [h.get_text(" ", strip=True) for h in html.find_all(["h1", "h2"]) if h.get("data-number")]
    assert numbered == ["1 Background", "2 Methods"]
    box = PdfReader(str(out / "options.pdf")).pages[0].mediabox
    assert (round(float(box.width)), round(float(box.height))) == (612, 792)  # US letter, in points
    typ = (out / "options.typ").read_text(encoding="utf-8")
    assert "12pt" in typ and "cols: 2" in typ and "3cm" in typ
    document = docx.Document(str(out / "options.docx"))
    assert "TOC" in document.element.body.xml  # a table-of-contents field
    headings = [p.text.split() for p in document.paragraphs if p.style.name.startswith("Heading")]
    assert headings == [["1", "Background"], ["2", "Methods"]]
