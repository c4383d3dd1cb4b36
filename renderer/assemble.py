"""Turn an executed document into one pandoc-markdown text, as Quarto's jupyter engine does.

Cell outputs become markdown: code blocks for text, ``![cap](file){#fig-x}``
for figures (PNG and SVG written side by side), raw markdown for
``output: asis`` and ``text/markdown``. HTML tables (pandas DataFrames) are
left as placeholders that :mod:`renderer.ast` fills with tables parsed by
pandoc's HTML reader (Quarto does the same in its Lua filters).
"""

from __future__ import annotations

import base64
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from renderer.errors import RenderError
from renderer.kernel import CellResult, ExecutedDocument, Output
from renderer.qmd import INLINE_EXPR, CodeCell, Prose, QmdDocument
from renderer.titleblock import Byline

_TABLE = re.compile(r"<table[\s>]", re.IGNORECASE)


@dataclass(frozen=True)
class CellFloat:
    """What a labelled or captioned cell asks of its output."""

    label: str
    fig_cap: str | None
    fig_alt: str | None
    tbl_cap: str | None
    line: int


@dataclass
class Assembled:
    """The markdown document and what the AST pass needs to finish it.

    Attributes
    ----------
    markdown : str
        Pandoc markdown with a YAML metadata block.
    html_tables : list of str
        HTML of each table placeholder, by index.
    cells : dict
        Wrapper div id -> CellFloat, for cells with a label or caption.
    svg_for_png : dict
        Figure PNG path -> the SVG of the same figure (vector for the PDF).
    """

    markdown: str
    html_tables: list[str] = field(default_factory=list)
    cells: dict[str, CellFloat] = field(default_factory=dict)
    svg_for_png: dict[str, str] = field(default_factory=dict)


def assemble(doc: QmdDocument, run: ExecutedDocument, metadata: dict[str, Any],
             byline: Byline, defaults: dict[str, Any], media_dir: Path) -> Assembled:
    """Build the markdown document from the parsed and executed .qmd.

    Parameters
    ----------
    doc : QmdDocument
        The parsed document.
    run : ExecutedDocument
        Outputs of its cells and values of its inline expressions.
    metadata : dict
        Merged metadata (front matter of the generated markdown).
    byline : Byline
        Normalised authors and affiliations.
    defaults : dict
        Document-wide cell options.
    media_dir : Path
        Where figure files are written.

    Returns
    -------
    Assembled

    Examples
    --------
    >>> import tempfile
    >>> from renderer.qmd import parse_qmd
    >>> from renderer.titleblock import normalise_byline
    >>> d = Path(tempfile.mkdtemp())
    >>> _ = (d / "a.qmd").write_text("```{python}\\nx = 2\\n```\\n\\nTwice: `{python} x * 2`.\\n")
    >>> doc = parse_qmd(d / "a.qmd")
    >>> run = ExecutedDocument(results=(CellResult(doc.cells[0], ()), {"x * 2": "4"}))
    >>> out = assemble(doc, run, {"title": "T"}, normalise_byline({}, "a"), {"echo": False}, d)
    >>> "Twice: 4." in out.markdown, "x = 2" in out.markdown
    (True, False)
    """
    state = Assembled(markdown="")
    parts = [_front_matter(metadata, byline), _title_block(metadata, byline)]
    figure_count = 0
    for chunk, result in zip(doc.chunks, run.results):
        if isinstance(chunk, Prose):
            parts.append(_substitute(chunk.text, result))
            continue
        cell_md, figure_count = _cell(doc.path, chunk, result, defaults, media_dir, state, figure_count)
        parts.append(cell_md)
    state.markdown = "\n\n".join(p for p in parts if p) + "\n"
    return state


def _front_matter(metadata: dict[str, Any], byline: Byline) -> str:
    meta = {k: v for k, v in metadata.items() if k not in ("author", "authors", "affiliations")}
    meta.update(byline.to_metadata())
    if "title" in meta and "pagetitle" not in meta:
        meta["pagetitle"] = str(meta["title"])
    return "---\n" + yaml.safe_dump(meta, allow_unicode=True, sort_keys=False) + "---"


def _title_block(metadata: dict[str, Any], byline: Byline) -> str:
    """The title block as styled divs (HTML classes, DOCX custom styles); Typst uses its template."""

    def block(cls: str, style: str, text: str) -> str:
        return f'::: {{.{cls} custom-style="{style}"}}\n{text}\n:::'

    parts = []
    journal = (metadata.get("journal") or {}).get("title")
    header = " · ".join(str(part) for part in (journal, metadata.get("conference")) if part)
    if header:
        parts.append(block("header-line", "Header Line", header))
    if metadata.get("title"):
        parts.append(block("title", "Title", str(metadata["title"])))
    if metadata.get("subtitle"):
        parts.append(block("subtitle", "Subtitle", str(metadata["subtitle"])))
    if byline.authors:
        names = [
            a.name + (f"^{byline.marks(a)}^" if a.affiliation_ids else "") for a in byline.authors
        ]
        parts.append(block("authors", "Author", ", ".join(names)))
    for affiliation in byline.affiliations:
        parts.append(block("affiliation", "Affiliation", f"^{affiliation.number}^ {affiliation.name}"))
    if metadata.get("date"):
        parts.append(block("date", "Date", str(metadata["date"])))
    if metadata.get("doi"):
        doi = str(metadata["doi"])
        parts.append(block("doi", "DOI", f"DOI: [{doi}](https://doi.org/{doi})"))
    if metadata.get("abstract"):
        parts.append(block("abstract-title", "Abstract Title", "Abstract"))
        parts.append(block("abstract", "Abstract", str(metadata["abstract"])))
    if not parts:
        return ""
    inner = "\n\n".join(parts)
    return f"::::: {{#qr-title-block}}\n{inner}\n:::::"


def _substitute(text: str, values: dict[str, str]) -> str:
    def replace(match: re.Match) -> str:
        return match.group(1) + values[match["expr"].strip()]

    return INLINE_EXPR.sub(replace, text)


def _code_block(text: str, classes: str) -> str:
    longest = max((len(m) for m in re.findall(r"`{3,}", text)), default=0)
    fence = "`" * max(3, longest + 1)
    return f"{fence} {{{classes}}}\n{text.rstrip(chr(10))}\n{fence}"


def _cell(path: Path, cell: CodeCell, result: CellResult, defaults: dict[str, Any],
          media_dir: Path, state: Assembled, figure_count: int) -> tuple[str, int]:
    option = {**defaults, **cell.options}.get
    if not option("include", True):
        return "", figure_count
    parts = []
    if option("echo", False):
        parts.append(_code_block(cell.code, ".python .cell-code"))
    output = option("output", True)
    float_spec = CellFloat(
        label=cell.label, fig_cap=option("fig-cap"), fig_alt=option("fig-alt"),
        tbl_cap=option("tbl-cap"), line=cell.line,
    )
    images = 0
    if output is not False:
        for out in result.outputs:
            text, is_image = _output(path, cell, out, output == "asis", float_spec, media_dir,
                                     state, figure_count + images + 1)
            images += is_image
            if text:
                parts.append(text)
    if cell.label.startswith("fig-") and images != 1:
        raise RenderError(
            f"{path}:{cell.line}: cell '{cell.label}' must produce exactly one figure "
            f"(it produced {images}"
            + ("; a figure still open at the end of a cell is shown again by Jupyter, as under "
               "Quarto: plt.close(fig) before returning it, or end with plt.show()" if images > 1 else "")
            + ")"
        )
    if cell.label.startswith("tbl-") or float_spec.tbl_cap:
        # The AST pass gives the cell's one table this caption and id.
        wrapper = f"qr-cell-{len(state.cells) + 1}"
        state.cells[wrapper] = float_spec
        caption = f"::: {{.qr-caption}}\n{float_spec.tbl_cap or ''}\n:::"
        body = "\n\n".join([caption, *parts])
        return f":::::: {{#{wrapper}}}\n{body}\n::::::", figure_count + images
    return "\n\n".join(parts), figure_count + images


def _output(path: Path, cell: CodeCell, out: Output, asis: bool, spec: CellFloat,
            media_dir: Path, state: Assembled, figure_number: int) -> tuple[str, bool]:
    if out.kind in ("stream", "error"):
        text = out.data["text/plain"]
        if asis and out.kind == "stream":
            return text, False
        name = "error" if out.kind == "error" else out.name
        return _code_block(text, f".cell-output .cell-output-{name}"), False
    data = out.data
    if "text/markdown" in data:
        return data["text/markdown"], False
    if "image/png" in data or "image/svg+xml" in data:
        return _figure(path, cell, data, spec, media_dir, state, figure_number), True
    if "text/html" in data and _TABLE.search(data["text/html"]):
        state.html_tables.append(data["text/html"])
        return f'::: {{.qr-html-table qr-index="{len(state.html_tables) - 1}"}}\n:::', False
    if "text/plain" in data:
        if asis:
            return data["text/plain"], False
        return _code_block(data["text/plain"], ".cell-output .cell-output-display"), False
    raise RenderError(
        f"{path}:{cell.line}: cell output of type {', '.join(sorted(data))} cannot be rendered "
        "to HTML, PDF and DOCX"
    )


def _figure(path: Path, cell: CodeCell, data: dict[str, Any], spec: CellFloat,
            media_dir: Path, state: Assembled, number: int) -> str:
    if "image/png" not in data or "image/svg+xml" not in data:
        raise RenderError(
            f"{path}:{cell.line}: a figure needs both PNG and SVG output (matplotlib gives both)"
        )
    media_dir.mkdir(parents=True, exist_ok=True)
    png = media_dir / f"figure-{number}.png"
    svg = media_dir / f"figure-{number}.svg"
    png.write_bytes(base64.b64decode(data["image/png"]))
    svg.write_text(data["image/svg+xml"], encoding="utf-8")
    state.svg_for_png[str(png)] = str(svg)
    caption = spec.fig_cap or ""
    attributes = []
    if spec.label.startswith("fig-"):
        if not caption:
            raise RenderError(f"{path}:{cell.line}: cell '{spec.label}' needs a fig-cap to be numbered")
        attributes.append(f"#{spec.label}")
    if spec.fig_alt:
        attributes.append('fig-alt="{}"'.format(str(spec.fig_alt).replace('"', '\\"')))
    attrs = "{" + " ".join(attributes) + "}" if attributes else ""
    # An image alone in its paragraph with a caption becomes a pandoc Figure.
    return f"![{caption}]({png.as_posix()}){attrs}"
