"""Write templates/reference.docx: pandoc's reference document on A4 in the report's face.

Run with the project's environment (``.venv/bin/python templates/make_reference_docx.py``)
after changing a setting below; the output is committed. ``_quarto.yml`` names it
as ``format: docx: reference-doc``, so Quarto and the built-in renderer both
take page size, margins and styles from it. A journal's or an institute's own
reference document replaces it there.

The page is the PDF's (A4, the margins of templates/typst-template.typ); the
styles are pandoc's, which are Word's built-in ones where Word has one (Title,
Heading 1-3, Caption, with pandoc's Image Caption and Table Caption based on
Caption), so a co-author's template and Word's navigation pane apply; the
title-block styles the report adds (Header Line, Author, Affiliation, DOI) are
defined here so a reference document can restyle them.
"""

from __future__ import annotations

import subprocess
import tempfile
from pathlib import Path

import pypandoc
from docx import Document
from docx.enum.style import WD_STYLE_TYPE
from docx.shared import Cm, Pt, RGBColor

OUT = Path(__file__).resolve().parent / "reference.docx"
FONT = "Linux Libertine O"
BODY_PT = 10.5
# Typst's page: A4, 2.2 cm at the sides and bottom, 2.4 cm at the top.
PAGE = {"page_width": Cm(21.0), "page_height": Cm(29.7), "left_margin": Cm(2.2), "right_margin": Cm(2.2),
        "top_margin": Cm(2.4), "bottom_margin": Cm(2.2)}
# Styles the title block uses beyond pandoc's: name -> (size in pt, bold, italic, grey).
TITLE_BLOCK = {"Header Line": (8, False, False, True), "Affiliation": (9, False, False, True),
               "DOI": (9, False, False, True)}


def main() -> None:
    with tempfile.TemporaryDirectory() as scratch:
        default = Path(scratch) / "reference.docx"
        default.write_bytes(subprocess.run([pypandoc.get_pandoc_path(), "--print-default-data-file", "reference.docx"],
                                           capture_output=True, check=True).stdout)
        document = Document(str(default))
    for section in document.sections:
        for key, value in PAGE.items():
            setattr(section, key, value)
    styles = document.styles
    for style in styles:
        if style.type in (WD_STYLE_TYPE.PARAGRAPH, WD_STYLE_TYPE.CHARACTER) and style.font is not None:
            if style.name not in ("Source Code", "Verbatim Char"):
                style.font.name = FONT
    styles["Normal"].font.size = Pt(BODY_PT)
    for name, size in (("Title", 16), ("Heading 1", 13), ("Heading 2", 11.5), ("Heading 3", 10.5)):
        styles[name].font.size = Pt(size)
        styles[name].font.color.rgb = RGBColor(0x1A, 0x1A, 0x1A)
    styles["Author"].font.bold = True
    for name, (size, bold, italic, grey) in TITLE_BLOCK.items():
        style = styles[name] if name in [s.name for s in styles] else styles.add_style(name, WD_STYLE_TYPE.PARAGRAPH)
        style.base_style = styles["Normal"]
        style.font.size, style.font.bold, style.font.italic = Pt(size), bold, italic
        if grey:
            style.font.color.rgb = RGBColor(0x5A, 0x5A, 0x5A)
    document.core_properties.title = document.core_properties.author = ""
    document.save(str(OUT))


if __name__ == "__main__":
    main()
