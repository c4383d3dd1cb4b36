"""The PDF walker the output checks read text sizes and hatching with (tests/pdf_marks.py)."""

from __future__ import annotations

import io

import pytest
from pypdf import PdfReader, PdfWriter
from pypdf.generic import ArrayObject, DecodedStreamObject, DictionaryObject, FloatObject, NameObject

from tests.pdf_marks import page_marks


def _pdf_with_a_form(page_content: bytes, form_content: bytes, form_matrix: list[float]) -> PdfReader:
    """One page drawing a form XObject (as Typst 0.13 places an SVG figure) in Helvetica."""
    writer = PdfWriter()
    page = writer.add_blank_page(width=200, height=200)
    font = writer._add_object(DictionaryObject({
        NameObject("/Type"): NameObject("/Font"), NameObject("/Subtype"): NameObject("/Type1"),
        NameObject("/BaseFont"): NameObject("/Helvetica"),
    }))
    fonts = DictionaryObject({NameObject("/F0"): font})
    form = DecodedStreamObject()
    form.set_data(form_content)
    form.update({
        NameObject("/Type"): NameObject("/XObject"), NameObject("/Subtype"): NameObject("/Form"),
        NameObject("/BBox"): ArrayObject([FloatObject(v) for v in (0, 0, 1000, 1000)]),
        NameObject("/Matrix"): ArrayObject([FloatObject(v) for v in form_matrix]),
        NameObject("/Resources"): DictionaryObject({NameObject("/Font"): fonts}),
    })
    page[NameObject("/Resources")] = DictionaryObject({
        NameObject("/Font"): fonts,
        NameObject("/XObject"): DictionaryObject({NameObject("/X0"): writer._add_object(form)}),
    })
    content = DecodedStreamObject()
    content.set_data(page_content)
    page[NameObject("/Contents")] = writer._add_object(content)
    buffer = io.BytesIO()
    writer.write(buffer)
    return PdfReader(buffer)


def test_text_in_a_form_is_measured_through_its_placement_and_matrix():
    # 8 pt text, a form matrix of 0.5 and a placement at 1.5: 6 pt on the page. pypdf's own
    # visitor starts the form afresh and would say 8.
    reader = _pdf_with_a_form(
        b"BT /F0 10 Tf 10 180 Td (page) Tj ET q 1.5 0 0 1.5 20 20 cm /X0 Do Q",
        b"BT /F0 8 Tf 0 0 Td (form) Tj ET 0 0 m 10 10 l S",
        [0.5, 0, 0, 0.5, 0, 0],
    )
    marks = page_marks(reader.pages[0])
    assert marks.text_sizes == pytest.approx([10, 6])
    (stroke,) = marks.strokes
    assert stroke.start == pytest.approx((20, 20)) and stroke.end == pytest.approx((27.5, 27.5))
    assert stroke.angle == pytest.approx(45)


def test_text_matrix_and_restored_state_count():
    reader = _pdf_with_a_form(
        b"q 0.5 0 0 0.5 0 0 cm BT /F0 10 Tf 2 0 0 2 0 0 Tm (ten) Tj ET Q BT /F0 10 Tf ( ) Tj () Tj ET",
        b"", [1, 0, 0, 1, 0, 0],
    )
    # Scaled by the text matrix (2) and the CTM (0.5); after Q the CTM is the page's again.
    # An empty string shows nothing.
    assert page_marks(reader.pages[0]).text_sizes == pytest.approx([10, 10])
