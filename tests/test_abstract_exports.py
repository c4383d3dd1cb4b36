"""The abstract as a submission portal takes it: counts against the limit, and a variant in words and ASCII."""

from __future__ import annotations

import pytest

from analysis import exports, formatting
from analysis.exports import export_abstract_text, non_ascii, portal_text

QMD = """\
::: {#abstract-body}

**Methods:** `{python} n` patients \\<18 years, 0.8 mg/m² on day 1.

**Results:** OS `{python} formatting.estimate_ci(0.394, 0.191, 0.598)`, `{python} formatting.p_value(0.0004)`; blasts ≥5% in 3, ≤1% in 2 — Kaplan–Meier.

:::
"""


@pytest.fixture
def written(tmp_path, monkeypatch):
    monkeypatch.setenv("REPORT_OUTPUT_DIR", str(tmp_path / "out"))
    qmd = tmp_path / "report.qmd"
    qmd.write_text(QMD, encoding="utf-8")

    def write(word_limit, range_dash="-"):
        previous = formatting.set_style(formatting.NumberStyle(range_dash=range_dash))
        try:
            abstract = export_abstract_text(qmd, {"n": 27, "formatting": formatting}, word_limit=word_limit,
                                            note="Synthetic example data")
        finally:
            formatting.set_style(previous)
        out = tmp_path / "out"
        return abstract, {name: (out / name).read_text(encoding="utf-8")
                          for name in ("abstract.txt", "abstract.portal.txt", "abstract.counts.txt")}
    return write


def test_portal_variant_has_words_for_signs_and_only_ascii(written):
    abstract, files = written(word_limit=300, range_dash="\u2013")
    original, portal = files["abstract.txt"], files["abstract.portal.txt"]
    # The report's own characters stay in abstract.txt, the style's en dash in its range included.
    assert "<18 years" in original and "mg/m²" in original and "19.1\u201359.8%" in original
    assert non_ascii(portal) == []
    assert portal.startswith("[Synthetic example data]\n\n")
    assert "27 patients less than 18 years, 0.8 mg/m^2 on day 1." in portal
    assert "(95% CI: 19.1-59.8%), p less than 0.001;" in portal
    assert "blasts greater than or equal to 5% in 3, less than or equal to 1% in 2 - Kaplan-Meier." in portal


def test_a_range_in_words_stays_in_words(written):
    _, files = written(word_limit=None, range_dash=" to ")
    assert "19.1 to 59.8%" in files["abstract.txt"] and "19.1 to 59.8%" in files["abstract.portal.txt"]


def test_counts_of_both_files_against_the_word_limit(written):
    abstract, files = written(word_limit=30)
    text, portal = abstract.text, portal_text(abstract.text)
    original_line, portal_line = files["abstract.counts.txt"].splitlines()
    # The counts are of the abstract alone, not of the bracketed note heading the files.
    assert original_line == (f"abstract.txt         {len(text.split())} words (limit 30: {30 - len(text.split())} "
                             f"to spare), {len(text)} characters with spaces, {len(''.join(text.split()))} without")
    # Signs as words cost words: the portal's count is the one that can break the limit.
    assert len(portal.split()) > 30 >= len(text.split())
    assert portal_line.startswith(f"abstract.portal.txt  {len(portal.split())} words "
                                  f"(limit 30: OVER by {len(portal.split()) - 30}), {len(portal)} characters")


def test_what_has_no_ascii_form_is_named_in_the_counts():
    assert portal_text("HR 0.5 ± 0.1, 5 × 10⁹/L, Müller") == "HR 0.5 +/- 0.1, 5 x 10^9/L, Muller"
    portal = exports.AbstractText("survival ≈ 40% 😀", 3, 16, None)
    counts = exports.counts_text(portal, portal)
    assert counts.splitlines()[-1] == "abstract.portal.txt keeps non-ASCII characters a portal may mangle: ≈ 😀"
