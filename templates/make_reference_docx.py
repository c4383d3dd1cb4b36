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

The face travels with the document: the four styles of templates/fonts are
embedded as Word embeds fonts (ECMA-376 Part 1, 17.8.1: obfuscated
``word/fonts/*.odttf`` parts named by ``w:embedRegular`` and its siblings in
the font table, ``w:embedTrueTypeFonts`` in the settings), so a co-author
without Linux Libertine sees it in Word and LibreOffice. Word embeds TrueType
outlines only: the CFF outlines of the ``.otf`` files are converted to
quadratic curves (fontTools' cu2qu) here. Pandoc (3.6 under Quarto 1.7, 3.9
in the environment) copies the font table, its font parts and that setting
from the reference document into every DOCX it writes, so both renderers'
DOCX carry the face with nothing more to do.
"""

from __future__ import annotations

import hashlib
import io
import subprocess
import tempfile
import uuid
import zipfile
from pathlib import Path

import pypandoc
from docx import Document
from docx.enum.style import WD_STYLE_TYPE
from docx.shared import Cm, Pt, RGBColor
from fontTools.pens.cu2quPen import Cu2QuPen
from fontTools.pens.ttGlyphPen import TTGlyphPen
from fontTools.ttLib import TTFont, newTable
from lxml import etree

HERE = Path(__file__).resolve().parent
OUT = HERE / "reference.docx"
FONT = "Linux Libertine O"
# The embedded faces: Word's slot -> the file in templates/fonts.
FACES = {"Regular": "LinLibertine_R.otf", "Bold": "LinLibertine_RB.otf", "Italic": "LinLibertine_RI.otf",
         "BoldItalic": "LinLibertine_RBI.otf"}
BODY_PT = 10.5
# Typst's page: A4, 2.2 cm at the sides and bottom, 2.4 cm at the top.
PAGE = {"page_width": Cm(21.0), "page_height": Cm(29.7), "left_margin": Cm(2.2), "right_margin": Cm(2.2),
        "top_margin": Cm(2.4), "bottom_margin": Cm(2.2)}
# Styles the title block uses beyond pandoc's: name -> (size in pt, bold, italic, grey).
TITLE_BLOCK = {"Header Line": (8, False, False, True), "Affiliation": (9, False, False, True),
               "DOI": (9, False, False, True)}

# Word's embedded fonts (ECMA-376 Part 1, 17.8.1): a face is a word/fonts/*.odttf part, the
# TrueType file with its first 32 bytes XORed with the key its w:fontKey GUID spells.
W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
R = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PACKAGE_RELS = "http://schemas.openxmlformats.org/package/2006/relationships"
CONTENT_TYPES = "http://schemas.openxmlformats.org/package/2006/content-types"
FONT_RELATIONSHIP = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/font"
OBFUSCATED_FONT = "application/vnd.openxmlformats-officedocument.obfuscatedFont"
#: Word's slots for a family's styles, in the font table's order.
SLOTS = ("Regular", "Bold", "Italic", "BoldItalic")
FONT_TABLE = "word/fontTable.xml"
FONT_TABLE_RELS = "word/_rels/fontTable.xml.rels"
# Settings that come before w:embedTrueTypeFonts in CT_Settings.
_SETTINGS_BEFORE = {"writeProtection", "view", "zoom", "removePersonalInformation", "removeDateAndTime",
                    "doNotDisplayPageBoundaries", "displayBackgroundShape", "printPostScriptOverText",
                    "printFractionalCharacterWidth", "printFormsData"}


def obfuscate(data: bytes, font_key: str) -> bytes:
    """XOR the first 32 bytes with the key the GUID spells backwards; its own inverse.

    Examples
    --------
    >>> key = "{12345678-9ABC-DEF0-1234-56789ABCDEF0}"
    >>> hidden = obfuscate(bytes(40), key)
    >>> hidden[:2].hex(), hidden[32:] == bytes(8), obfuscate(hidden, key) == bytes(40)
    ('f0de', True, True)
    """
    key = bytes.fromhex(font_key.strip("{}").replace("-", ""))[::-1]
    head = bytes(b ^ key[i % 16] for i, b in enumerate(data[:32]))
    return head + data[32:]


def embedded_fonts(docx: Path) -> dict[str, dict[str, bytes]]:
    """The fonts a DOCX embeds, readable again: family name -> slot -> TrueType data."""
    with zipfile.ZipFile(docx) as archive:
        names = set(archive.namelist())
        if FONT_TABLE not in names or FONT_TABLE_RELS not in names:
            return {}
        table = etree.fromstring(archive.read(FONT_TABLE))
        targets = {rel.get("Id"): rel.get("Target")
                   for rel in etree.fromstring(archive.read(FONT_TABLE_RELS))}
        fonts: dict[str, dict[str, bytes]] = {}
        for font in table.iterfind(f"{{{W}}}font"):
            for slot in SLOTS:
                embed = font.find(f"{{{W}}}embed{slot}")
                if embed is None or targets.get(embed.get(f"{{{R}}}id")) is None:
                    continue
                part = "word/" + targets[embed.get(f"{{{R}}}id")].lstrip("/").removeprefix("word/")
                fonts.setdefault(font.get(f"{{{W}}}name"), {})[slot] = obfuscate(
                    archive.read(part), embed.get(f"{{{W}}}fontKey"))
    return fonts


def embed_fonts(docx: Path, fonts: dict[str, dict[str, bytes]], family: str) -> None:
    """Embed ``fonts`` (name -> slot -> TrueType data) in ``docx``, whose font table names none of them.

    ``family`` is each one's ``w:family`` (``roman``, ``swiss``...), what Word
    falls back on should a face be missing.
    """
    with zipfile.ZipFile(docx) as archive:
        entries = {info.filename: (info, archive.read(info)) for info in archive.infolist()}
    table = etree.fromstring(entries[FONT_TABLE][1])
    rels = etree.Element(f"{{{PACKAGE_RELS}}}Relationships", nsmap={None: PACKAGE_RELS})
    parts: dict[str, bytes] = {}
    for name, faces in fonts.items():
        font = etree.SubElement(table, f"{{{W}}}font", {f"{{{W}}}name": name})
        for tag, value in (("charset", "00"), ("family", family), ("pitch", "variable")):
            etree.SubElement(font, f"{{{W}}}{tag}", {f"{{{W}}}val": value})
        for slot in (s for s in SLOTS if s in faces):
            # The key is the data's hash: the same font makes the same part, build after build.
            key = "{" + str(uuid.UUID(bytes=hashlib.sha256(faces[slot]).digest()[:16])).upper() + "}"
            number = len(parts) + 1
            etree.SubElement(rels, f"{{{PACKAGE_RELS}}}Relationship", {
                "Id": f"rIdFont{number}", "Type": FONT_RELATIONSHIP, "Target": f"fonts/font{number}.odttf"})
            etree.SubElement(font, f"{{{W}}}embed{slot}", {f"{{{R}}}id": f"rIdFont{number}", f"{{{W}}}fontKey": key})
            parts[f"word/fonts/font{number}.odttf"] = obfuscate(faces[slot], key)
    settings = etree.fromstring(entries["word/settings.xml"][1])
    position = next((i for i, child in enumerate(settings)
                     if etree.QName(child).localname not in _SETTINGS_BEFORE), len(settings))
    settings.insert(position, etree.Element(f"{{{W}}}embedTrueTypeFonts"))
    types = etree.fromstring(entries["[Content_Types].xml"][1])
    types.insert(0, etree.Element(f"{{{CONTENT_TYPES}}}Default",
                                  {"Extension": "odttf", "ContentType": OBFUSCATED_FONT}))
    xml = {FONT_TABLE: table, "word/settings.xml": settings, "[Content_Types].xml": types}
    with zipfile.ZipFile(docx, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, (info, data) in entries.items():
            if name in xml:
                data = etree.tostring(xml[name], xml_declaration=True, encoding="UTF-8", standalone=True)
            archive.writestr(info, data, compress_type=zipfile.ZIP_DEFLATED)
        archive.writestr(FONT_TABLE_RELS, etree.tostring(rels, xml_declaration=True, encoding="UTF-8",
                                                         standalone=True))
        for name, data in parts.items():
            archive.writestr(name, data)


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
    # A theme font (pandoc's headings and defaults name Word's theme) wins over the face named
    # beside it: drop it, and give runs without a style the face too.
    defaults = styles.element.find(f"{{{W}}}docDefaults/{{{W}}}rPrDefault/{{{W}}}rPr/{{{W}}}rFonts")
    defaults.set(f"{{{W}}}ascii", FONT)
    defaults.set(f"{{{W}}}hAnsi", FONT)
    for fonts in styles.element.iter(f"{{{W}}}rFonts"):
        if fonts.get(f"{{{W}}}ascii") == FONT:
            for theme in ("asciiTheme", "hAnsiTheme"):
                fonts.attrib.pop(f"{{{W}}}{theme}", None)
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
    faces = {slot: truetype(HERE / "fonts" / name) for slot, name in FACES.items()}
    embed_fonts(OUT, {FONT: faces}, family="roman")


def truetype(otf: Path) -> bytes:
    """The font of ``otf`` with its CFF outlines as TrueType (quadratic) ones, as Word embeds them."""
    font = TTFont(str(otf), recalcTimestamp=False)
    order = font.getGlyphOrder()
    glyphs = font.getGlyphSet()
    quadratic = {}
    for name in order:
        pen = TTGlyphPen(glyphs)
        glyphs[name].draw(Cu2QuPen(pen, max_err=1.0, reverse_direction=True))
        quadratic[name] = pen.glyph()
    font["loca"] = newTable("loca")
    font["glyf"] = glyf = newTable("glyf")
    glyf.glyphOrder, glyf.glyphs = order, quadratic
    del font["CFF "]
    glyf.compile(font)
    # Left side bearings now come from the glyphs' bounding boxes.
    for name in order:
        glyph = glyf[name]
        width, _ = font["hmtx"][name]
        font["hmtx"][name] = (width, glyph.xMin if hasattr(glyph, "xMin") else 0)
    font["maxp"] = maxp = newTable("maxp")
    maxp.tableVersion = 0x00010000
    maxp.maxZones, maxp.maxTwilightPoints, maxp.maxStorage = 1, 0, 0
    maxp.maxFunctionDefs = maxp.maxInstructionDefs = maxp.maxStackElements = maxp.maxSizeOfInstructions = 0
    maxp.maxComponentElements = max((len(g.components) for g in quadratic.values() if g.isComposite()), default=0)
    font["post"].formatType = 2.0
    font["post"].extraNames, font["post"].mapping = [], {}
    font["post"].glyphOrder = order
    font["head"].glyphDataFormat = 0
    font.sfntVersion = "\x00\x01\x00\x00"
    data = io.BytesIO()
    font.save(data)
    return data.getvalue()


if __name__ == "__main__":
    main()
