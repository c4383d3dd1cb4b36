"""report.qmd's prose holds no hand-typed numbers: every digit sits inside an inline expression."""

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
REPORTS = [ROOT / "report.qmd", ROOT / "examples" / "colon" / "report.qmd"]

# The places where digits in the prose are allowed, each with its reason.
EXEMPT = {
    "CD22": "the name of the antigen InO targets, not a figure",
    "5-FU": "fluorouracil's abbreviation, not a figure",
}


def prose(qmd: str) -> str:
    """The text a reader sees, minus what the kernel computes: front matter, code cells, inline expressions."""
    text = re.sub(r"\A---\n.*?\n---\n", "", qmd, flags=re.DOTALL)
    text = re.sub(r"^```\{python\}.*?^```", "", text, flags=re.DOTALL | re.MULTILINE)
    text = re.sub(r"`\{python\}[^`]*`", "", text)
    text = re.sub(r"^#\| .*$", "", text, flags=re.MULTILINE)
    for token in EXEMPT:
        text = text.replace(token, "")
    return text


def typed_numbers(qmd: str) -> list[str]:
    return [m.group(0) for m in re.finditer(r"\S*\d\S*", prose(qmd))]


@pytest.mark.parametrize("report", REPORTS, ids=lambda p: str(p.relative_to(ROOT)))
def test_report_prose_has_no_typed_numbers(report):
    assert typed_numbers(report.read_text(encoding="utf-8")) == []


@pytest.mark.parametrize(
    "sentence, found",
    [
        ("Among all patients 21 (77.8%) had blasts.", ["21", "(77.8%)"]),
        ("OS was 39.4% (95% CI: 19.1-59.8%).", ["39.4%", "(95%", "19.1-59.8%)."]),
        ("Twenty-seven patients, `{python} fmt.number(n)` doses.", []),
        ("A CD22-directed antibody.", []),
    ],
)
def test_scanner_finds_typed_numbers(sentence, found):
    qmd = "---\ntitle: x 2025\n---\n\n```{python}\nn = 27\n```\n\n" + sentence + "\n"
    assert typed_numbers(qmd) == found
