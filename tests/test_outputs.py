"""The rendered report as its readers meet it: a browser at desktop and phone width, Word, a PDF viewer.

The report is rendered once with the built-in renderer; the checks are
functions of the output folder, so tests/test_quarto_conformance.py runs
them on Quarto's outputs too.
"""

from __future__ import annotations

import csv
import io
import math
import os
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from tests.browser import Chromium, find_chromium

ROOT = Path(__file__).resolve().parents[1]
WIDTHS = (1280, 390)
# Where the browser tests leave their screenshots, for a person to look at.
SCREENSHOTS = os.environ.get("REPORT_SCREENSHOTS")


@pytest.fixture(scope="module")
def output(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("output")
    result = subprocess.run([sys.executable, "-m", "renderer", "report.qmd", "--renderer", "builtin",
                             "--output-dir", str(out)], cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout + result.stderr
    return out


@pytest.fixture(scope="module")
def browser():
    executable = find_chromium()
    if executable is None:
        pytest.skip("no Chromium on PATH (Debian: apt-get install chromium; .ci/run installs it as root)")
    chromium = Chromium(executable)
    yield chromium
    chromium.close()


# What a reader needs from the page at any width, as JavaScript the browser answers.
PAGE_CHECKS = {
    # Every table that is wider than its box scrolls inside it, not the page.
    "tables_overflowing_page": """[...document.querySelectorAll('table')].filter(t =>
        t.getBoundingClientRect().right > document.documentElement.clientWidth + 1).length""",
    "body_font": "getComputedStyle(document.body).fontFamily.split(',')[0].replace(/\"/g, '')",
    "font_loaded": "document.fonts.check('16px \"Linux Libertine O\"') && [...document.fonts].some(f => f.status === 'loaded')",
    "paragraph_align": "getComputedStyle(document.querySelector('#abstract-body p, p')).textAlign",
    # A cell's text on more than one line: its line boxes start at more than one height.
    "ci_cells_wrapped": """[...document.querySelectorAll('td:not(:first-child)')].filter(td => /CI/.test(td.textContent)
        && (range => (range.selectNodeContents(td), new Set([...range.getClientRects()].map(r => Math.round(r.top))).size))(
            document.createRange()) > 1).length""",
    "smallest_figure_width": "Math.min(...[...document.querySelectorAll('figure img')].map(i => i.getBoundingClientRect().width))",
}


def check_report_in_browser(browser: Chromium, out: Path) -> None:
    """The report at 1280 and 390 px: no sideways scroll, nothing fetched, no error, readable."""
    for width in WIDTHS:
        shot = Path(SCREENSHOTS) / f"{out.parent.name}-report-{width}.png" if SCREENSHOTS else None
        visit = browser.load(out / "report.html", width, screenshot=shot, checks=PAGE_CHECKS)
        assert visit.fetched == [], width
        assert visit.console_errors == [], width
        assert not visit.scrolls_sideways, (width, visit.scroll_width)
        checks = visit.checks
        assert checks["tables_overflowing_page"] == 0, width
        assert checks["body_font"] == "Linux Libertine O" and checks["font_loaded"], checks
        assert checks["ci_cells_wrapped"] == 0, width
        # Justified on a desktop; ragged right on a phone, where justified lines leave gaps.
        assert checks["paragraph_align"] == ("justify" if width > 600 else "left")
        # The risk tables stay legible: a figure never shrinks below ~36 rem.
        assert checks["smallest_figure_width"] >= 500, width


def check_data_docs_in_browser(browser: Chromium, out: Path) -> None:
    """The Data Docs index and the result page it links to: offline, no error, index fits a phone."""
    index = out / "validation" / "index.html"
    (result,) = (out / "validation" / "validations").rglob("*.html")
    for width in WIDTHS:
        visit = browser.load(index, width, checks={"links": "document.querySelectorAll('a[href]').length"})
        assert visit.console_errors == [] and visit.fetched == [], width
        assert not visit.scrolls_sideways, width
        assert visit.checks["links"] >= 2
        page = browser.load(result, width)
        assert page.console_errors == [], width
        assert [url for url in page.fetched if not url.startswith("file:")] == [], width


def test_report_in_a_browser(browser, output):
    check_report_in_browser(browser, output)


def test_data_docs_in_a_browser(browser, output):
    check_data_docs_in_browser(browser, output)


def check_docx(out: Path) -> None:
    """Word sees the document's properties, an A4 page with the PDF's margins and its own styles."""
    from docx import Document
    from docx.oxml.ns import qn
    from docx.shared import Cm

    document = Document(str(out / "report.docx"))
    properties = document.core_properties
    assert properties.title.startswith("Treatment of Pediatric Patients")
    assert "Dmitrii Evstratov" in properties.author and "Larisa Shelikhova" in properties.author
    assert properties.subject == "SIOP ASIA 2025, Saudi Arabia"
    assert "inotuzumab ozogamicin" in properties.keywords
    for section in document.sections:
        assert (round(section.page_width.cm, 1), round(section.page_height.cm, 1)) == (21.0, 29.7)
        assert abs(section.left_margin - Cm(2.2)) < Cm(0.05) and abs(section.top_margin - Cm(2.4)) < Cm(0.05)
    # Every paragraph's style, those in tables too (Quarto lays figures and captions out in tables).
    style_ids = {node.get(qn("w:val")) for node in document.element.body.iter(qn("w:pStyle"))}
    assert {"Title", "Heading2"} <= style_ids
    # Captions restyle with Word's built-in Caption style.
    captions = [document.styles.element.get_by_id(i) for i in style_ids & {"ImageCaption", "TableCaption"}]
    assert captions and all(style.basedOn_val == "Caption" for style in captions)


FACE = "Linux Libertine O"
# A range as formatting prints it (range_dash "-", "–" or " to "), its upper end a number or words.
RANGE = re.compile(r"\d[\d.]*%?(?:-|–| to )(?:\d[\d.]*%?|not reached|not estimable)")


def check_docx_embeds_the_face(out: Path) -> None:
    """The DOCX embeds the four styles of the report's face as Word embeds fonts: TrueType, obfuscated."""
    from fontTools.ttLib import TTFont

    from templates.make_reference_docx import SLOTS, embedded_fonts

    faces = embedded_fonts(out / "report.docx").get(FACE, {})
    assert sorted(faces) == sorted(SLOTS)
    for slot, data in faces.items():
        font = TTFont(io.BytesIO(data))
        assert font["name"].getDebugName(1) == FACE and "glyf" in font, slot
        assert font["name"].getDebugName(2).replace(" ", "") == slot
        assert font["OS/2"].fsType & 0x2 == 0, slot  # not restricted: Word may embed it
    with zipfile.ZipFile(out / "report.docx") as docx:
        assert b"<w:embedTrueTypeFonts" in docx.read("word/settings.xml")


def docx_as_pdf(out: Path, scratch: Path) -> Path:
    """The DOCX as LibreOffice lays it out (a fresh profile: no font a previous run installed)."""
    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    if soffice is None:
        pytest.skip("no LibreOffice (soffice) on PATH: the DOCX's layout in a word processor is not checked "
                    "(Debian: apt-get install libreoffice-writer)")
    result = subprocess.run([soffice, f"-env:UserInstallation={(scratch / 'profile').as_uri()}", "--headless",
                             "--convert-to", "pdf", "--outdir", str(scratch), str(out / "report.docx")],
                            capture_output=True, text=True, timeout=300)
    pdf = scratch / "report.pdf"
    assert result.returncode == 0 and pdf.exists(), result.stdout + result.stderr
    return pdf


def check_docx_in_libreoffice(out: Path, scratch: Path, face: bool = True) -> None:
    """LibreOffice sets the DOCX in the embedded face, and no interval of Table 2 breaks across lines.

    Where the face is installed the first check proves less; the CI machine has it only in templates/fonts.
    """
    from pypdf import PdfReader

    reader = PdfReader(docx_as_pdf(out, scratch))
    embedded = set()
    for page in reader.pages:
        for font in page["/Resources"]["/Font"].values():
            font = font.get_object()
            descriptors = [font] + [f.get_object() for f in font.get("/DescendantFonts", [])]
            if any("/FontFile2" in d.get("/FontDescriptor", {}) or "/FontFile3" in d.get("/FontDescriptor", {})
                   for d in descriptors):
                embedded.add(str(font["/BaseFont"]).split("+")[-1])
    if face:
        assert {"LinLibertineO", "LinLibertineOB", "LinLibertineOI"} <= embedded, embedded
    lines = [" ".join(line.replace("\u2011", "-").replace("\u2060", "").split())
             for page in reader.pages for line in page.extract_text(extraction_mode="layout").splitlines()]
    with open(out / "tables" / "table2_outcomes.csv", encoding="utf-8", newline="") as table:
        ranges = [r for row in csv.reader(table) for cell in row[1:] for r in RANGE.findall(cell)]
    assert ranges
    assert [r for r in ranges if not any(r in line for line in lines)] == []


# The abstract page, the tables, then the four figures two to a page (the last with the
# Simon-Makuch plot and the footer): five pages under both renderers.
PDF_PAGES = 5


def check_pdf(out: Path) -> None:
    """The PDF names its authors, fits on five pages and no text in it is smaller than 7 pt.

    Four pages: the abstract, the tables, and the three Kaplan-Meier figures two to a page.
    """
    from pypdf import PdfReader

    reader = PdfReader(out / "report.pdf")
    assert "Dmitrii Evstratov" in reader.metadata.get("/Author", "")
    assert "inotuzumab ozogamicin" in reader.metadata.get("/Keywords", "")
    assert len(reader.pages) == PDF_PAGES
    sizes = []

    def visit(text, cm, tm, font, size):
        if text.strip():
            # The size on the page: the font size scaled by the text and current matrices
            # (the length of their y axis, so rotated text, a figure's axis label, counts too).
            sizes.append(size * math.hypot(tm[2], tm[3]) * math.hypot(cm[2], cm[3]))

    for page in reader.pages:
        page.extract_text(visitor_text=visit)
    assert sizes and min(sizes) >= 7, sorted(sizes)[:5]


def test_docx_properties_page_and_styles(output):
    check_docx(output)


def test_docx_embeds_the_face(output):
    check_docx_embeds_the_face(output)


def test_docx_in_libreoffice_face_and_whole_intervals(output, tmp_path):
    check_docx_in_libreoffice(output, tmp_path)


def test_pdf_metadata_pages_and_smallest_text(output):
    check_pdf(output)
