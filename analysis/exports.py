"""Artefacts written beside the report: figures and tables for slides, and the plain-text abstract.

They go to ``$REPORT_OUTPUT_DIR`` (the renderer's staging folder, moved into
``_output/`` only when the whole render succeeds), or ``_output/`` when the
variable is unset.
"""

from __future__ import annotations

import os
import re
import sys
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


def export_abstract_text(qmd_path: str | Path, namespace: dict, word_limit: int | None = None,
                         note: str | None = None) -> AbstractText:
    """Write ``abstract.txt`` and print its word count on the build console (loudly when over the limit).

    A ``note`` (the synthetic-data label) heads the file in brackets; the counts are of the abstract alone.
    """
    abstract = abstract_text(qmd_path, namespace, word_limit)
    path = output_dir() / "abstract.txt"
    path.parent.mkdir(parents=True, exist_ok=True)
    header = f"[{note}]\n\n" if note else ""
    path.write_text(header + abstract.text + "\n", encoding="utf-8")
    limit = f" (limit {word_limit})" if word_limit is not None else ""
    line = f"abstract     {abstract.words} words, {abstract.characters} characters{limit}"
    if abstract.over_limit:
        bar = "!" * 72
        line = f"{bar}\nWARNING: the abstract has {abstract.words} words, over the limit of {word_limit}.\n{bar}"
    # The kernel's own stderr is the build console; cell output would land in the document.
    print(line, file=sys.__stderr__, flush=True)
    return abstract
