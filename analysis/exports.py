"""Artefacts written beside the report: figures and tables for slides, and the plain-text abstract.

The abstract comes as ``abstract.txt`` (the report's own characters), ``abstract.portal.txt``
(ASCII words for what submission portals strip or mangle) and ``abstract.counts.txt`` (the
words and characters of both against the study's word limit).

They go to ``$REPORT_OUTPUT_DIR`` (the renderer's staging folder, moved into
``_output/`` only when the whole render succeeds), or ``_output/`` when the
variable is unset.
"""

from __future__ import annotations

import os
import re
import sys
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from analysis.figures import SavedFigure, save_figure

_INLINE = re.compile(r"`\{python\}\s+(.+?)`")
_ABSTRACT = re.compile(r"^::: \{#abstract-body\}\s*$(.*?)^:::\s*$", re.MULTILINE | re.DOTALL)


def output_dir() -> Path:
    return Path(os.environ.get("REPORT_OUTPUT_DIR", "_output"))


def export_figure(figure, stem: str) -> SavedFigure:
    """Write ``figures/<stem>.png`` (300 dpi) and ``.svg``; as a cell's last expression, show them."""
    return save_figure(figure, stem, output_dir())


def export_table(table, stem: str) -> Path:
    """Write ``tables/<stem>.csv`` from a :class:`analysis.tables.SummaryTable`."""
    path = output_dir() / "tables" / f"{stem}.csv"
    path.parent.mkdir(parents=True, exist_ok=True)
    table.to_frame().to_csv(path, index=False, lineterminator="\n")
    return path


@dataclass(frozen=True)
class AbstractText:
    text: str
    words: int
    characters: int
    word_limit: int | None

    @property
    def over_limit(self) -> bool:
        return self.word_limit is not None and self.words > self.word_limit


def word_count(text: str) -> int:
    """Words as submission portals count them: runs of non-space characters.

    >>> word_count("39.4% (95% CI: 19.1-59.8%), p=0.046.")
    5
    """
    return len(text.split())


def character_count(text: str, spaces: bool = True) -> int:
    """Characters as portals count them, with or without spaces (line breaks count as spaces).

    >>> character_count("p=0.046, n=27"), character_count("p=0.046, n=27", spaces=False)
    (13, 12)
    """
    return len(text) if spaces else len("".join(text.split()))


# Comparison signs as words: portals drop "<" and ">" as markup, and "≤", "≥" come out as "?".
_COMPARISONS = {"<": "less than", ">": "greater than", "\u2264": "less than or equal to",
                "\u2265": "greater than or equal to"}
_SUPERSCRIPTS = str.maketrans("\u2070\u00b9\u00b2\u00b3\u2074\u2075\u2076\u2077\u2078\u2079\u207a\u207b",
                              "0123456789+-")
# Everything else a portal's plain-text box mangles, in ASCII. The en dash of a range becomes a
# hyphen: the study's range_dash chooses between that and " to " for a portal that wants words.
_ASCII = str.maketrans({
    "\u2010": "-", "\u2011": "-", "\u2012": "-", "\u2013": "-", "\u2212": "-", "\u2014": " - ", "\u2015": " - ",
    "\u00b1": "+/-", "\u00d7": "x", "\u00b7": ".", "\u2026": "...", "\u00b5": "u", "\u03bc": "u",
    "\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"', "\u00a0": " ", "\u2009": " ", "\u202f": " ",
})


def portal_text(text: str) -> str:
    """``text`` as a submission portal keeps it: signs as words, superscripts with ``^``, ASCII punctuation.

    Letters with accents lose them (``Gray`` stays, ``Kaplan–Meier`` gets a hyphen); anything
    without an ASCII form is left as it is, for :func:`non_ascii` to report.

    Examples
    --------
    >>> portal_text("27 patients <18 years, blasts >5% (≥2 lines), 0.8 mg/m² on day 1, p<0.001")
    '27 patients less than 18 years, blasts greater than 5% (greater than or equal to 2 lines), 0.8 mg/m^2 on day 1, p less than 0.001'
    >>> portal_text("39.4% (95% CI: 19.1–59.8%) — Kaplan–Meier, Müller, 10⁹/L")
    '39.4% (95% CI: 19.1-59.8%) - Kaplan-Meier, Muller, 10^9/L'
    """
    text = re.sub(r"\s*([<>\u2264\u2265])\s*", lambda m: f" {_COMPARISONS[m.group(1)]} ", text)
    text = re.sub(r"[\u2070\u00b9\u00b2\u00b3\u2074-\u207b]+", lambda m: "^" + m.group(0).translate(_SUPERSCRIPTS), text)
    text = unicodedata.normalize("NFKD", text.translate(_ASCII))
    text = "".join(c for c in text if not unicodedata.combining(c))
    # Words put in for signs leave doubled spaces and "( less than": tidy them line by line.
    lines = [re.sub(r"\(\s+", "(", " ".join(line.split())) for line in text.split("\n")]
    return "\n".join(lines)


def non_ascii(text: str) -> list[str]:
    """The distinct characters of ``text`` outside ASCII, in order of appearance.

    >>> non_ascii("OS 39.4%, Kaplan–Meier ≥ 2")
    ['–', '≥']
    """
    return list(dict.fromkeys(c for c in text if ord(c) > 127))


def plain_text(markdown: str) -> str:
    """Strip the inline markup the abstract uses (bold, italics, escapes), keep Unicode as is.

    >>> plain_text("**Results:** 21 *of* 27 \\\\<18")
    'Results: 21 of 27 <18'
    """
    text = re.sub(r"\*\*(.+?)\*\*", r"\1", markdown)
    text = re.sub(r"(?<![\w*])\*(?!\s)(.+?)(?<!\s)\*(?![\w*])", r"\1", text)
    text = re.sub(r"\\([\\`*_{}\[\]()#+\-.!<>])", r"\1", text)
    paragraphs = [" ".join(p.split()) for p in re.split(r"\n\s*\n", text)]
    return "\n\n".join(p for p in paragraphs if p)


def abstract_text(qmd_path: str | Path, namespace: dict, word_limit: int | None = None) -> AbstractText:
    """The abstract body of ``qmd_path`` (the ``#abstract-body`` div) as plain text.

    Inline expressions are evaluated in ``namespace``, the document's own
    kernel namespace, so the text is exactly what the rendered report says.
    """
    source = Path(qmd_path).read_text(encoding="utf-8")
    match = _ABSTRACT.search(source)
    if match is None:
        raise ValueError(f"{qmd_path}: no '::: {{#abstract-body}}' block to export as the abstract")
    body = _INLINE.sub(lambda m: str(eval(m.group(1), namespace)), match.group(1))
    text = plain_text(body)
    return AbstractText(text, word_count(text), len(text), word_limit)


def counts_text(abstract: AbstractText, portal: AbstractText) -> str:
    """``abstract.counts.txt``: words and characters of each file against the word limit, and what stays non-ASCII."""
    def line(name: str, counted: AbstractText) -> str:
        limit = ""
        if counted.word_limit is not None:
            margin = counted.word_limit - counted.words
            limit = (f" (limit {counted.word_limit}: {margin} to spare)" if margin >= 0
                     else f" (limit {counted.word_limit}: OVER by {-margin})")
        return (f"{name:<20} {counted.words} words{limit}, {counted.characters} characters with spaces, "
                f"{character_count(counted.text, spaces=False)} without")

    lines = [line("abstract.txt", abstract), line("abstract.portal.txt", portal)]
    left = non_ascii(portal.text)
    if left:
        lines.append(f"abstract.portal.txt keeps non-ASCII characters a portal may mangle: {' '.join(left)}")
    return "\n".join(lines) + "\n"


def export_abstract_text(qmd_path: str | Path, namespace: dict, word_limit: int | None = None,
                         note: str | None = None) -> AbstractText:
    """Write ``abstract.txt``, ``abstract.portal.txt`` and ``abstract.counts.txt``; print the word count on the
    build console (loudly when over the limit).

    A ``note`` (the synthetic-data label) heads the text files in brackets; the counts are of the abstract alone.
    """
    abstract = abstract_text(qmd_path, namespace, word_limit)
    safe = portal_text(abstract.text)
    portal = AbstractText(safe, word_count(safe), character_count(safe), word_limit)
    folder = output_dir()
    folder.mkdir(parents=True, exist_ok=True)
    header = f"[{note}]\n\n" if note else ""
    (folder / "abstract.txt").write_text(header + abstract.text + "\n", encoding="utf-8")
    (folder / "abstract.portal.txt").write_text(portal_text(header) + safe + "\n", encoding="utf-8")
    (folder / "abstract.counts.txt").write_text(counts_text(abstract, portal), encoding="utf-8")
    limit = f" (limit {word_limit} words)" if word_limit is not None else ""
    line = f"abstract     {abstract.words} words{limit}, {abstract.characters} characters"
    if abstract.over_limit:
        bar = "!" * 72
        line = f"{bar}\nWARNING: the abstract has {abstract.words} words, over the limit of {word_limit}.\n{bar}"
    # The kernel's own stderr is the build console; cell output would land in the document.
    print(line, file=sys.__stderr__, flush=True)
    return abstract
