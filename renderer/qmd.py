"""Read a .qmd file into front matter, prose chunks and python cells.

Only the subset of Quarto syntax listed in renderer/README.md is accepted;
anything else Quarto would interpret (other engines, shortcodes, unknown cell
options) is an error that names it, so the output is never silently different
from what ``quarto render`` would produce.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from renderer.errors import RenderError

#: Cell options the renderer implements, with Quarto's meaning.
CELL_OPTIONS = frozenset(
    {"label", "echo", "eval", "include", "output", "warning", "error",
     "fig-cap", "fig-alt", "tbl-cap"}
)

_FENCE_OPEN = re.compile(r"^(?P<ticks>`{3,})\s*\{(?P<header>[^}]*)\}\s*$")
_FENCE_PLAIN = re.compile(r"^(?P<ticks>`{3,}|~{3,})")
_ENGINE = re.compile(r"^\s*(?P<engine>[A-Za-z][\w-]*)(?P<rest>.*)$")
_OPTION_LINE = re.compile(r"^#\s*\| ?")
# Quarto's own pattern for inline expressions (jupyter-inline.ts).
INLINE_EXPR = re.compile(r"(^|[^`])`\{(?P<lang>[A-Za-z][\w-]*)\}[ \t](?P<expr>[^`]+)`")
_SHORTCODE = re.compile(r"\{\{[<%].*?[>%]\}\}")


@dataclass(frozen=True)
class CodeCell:
    """One ```` ```{python} ```` cell.

    Attributes
    ----------
    code : str
        The source without its ``#|`` option lines.
    options : dict
        The parsed ``#|`` options (only keys from :data:`CELL_OPTIONS`).
    line : int
        1-based line in the .qmd of the opening fence.
    code_line : int
        1-based line in the .qmd of the first line of ``code``.
    """

    code: str
    options: dict[str, Any]
    line: int
    code_line: int

    @property
    def label(self) -> str:
        """The cell's label, or ``''``."""
        return str(self.options.get("label", ""))


@dataclass(frozen=True)
class InlineExpression:
    """One `` `{python} expr` `` in prose, with its 1-based .qmd line."""

    expr: str
    line: int


@dataclass(frozen=True)
class Prose:
    """Markdown between cells, with the inline expressions it contains."""

    text: str
    line: int
    expressions: tuple[InlineExpression, ...] = ()


@dataclass(frozen=True)
class QmdDocument:
    """A parsed .qmd: its path, front matter and chunks in document order."""

    path: Path
    front_matter: dict[str, Any]
    chunks: tuple[Prose | CodeCell, ...] = field(default_factory=tuple)

    @property
    def cells(self) -> list[CodeCell]:
        """The code cells, in order."""
        return [c for c in self.chunks if isinstance(c, CodeCell)]


def parse_qmd(path: Path) -> QmdDocument:
    """Parse a .qmd file.

    Parameters
    ----------
    path : Path
        The document.

    Returns
    -------
    QmdDocument

    Raises
    ------
    RenderError
        On a missing file, bad YAML, an engine other than python, a shortcode,
        an unknown cell option or an inline expression in another language.

    Examples
    --------
    >>> import tempfile
    >>> d = Path(tempfile.mkdtemp())
    >>> _ = (d / "a.qmd").write_text(
    ...     "---\\ntitle: T\\n---\\n\\nx is `{python} x`.\\n\\n"
    ...     "```{python}\\n#| label: setup\\nx = 1\\n```\\n")
    >>> doc = parse_qmd(d / "a.qmd")
    >>> doc.front_matter
    {'title': 'T'}
    >>> [type(c).__name__ for c in doc.chunks]
    ['Prose', 'CodeCell']
    >>> doc.cells[0].label, doc.cells[0].code, doc.cells[0].code_line
    ('setup', 'x = 1', 9)
    >>> doc.chunks[0].expressions
    (InlineExpression(expr='x', line=5),)
    """
    path = Path(path)
    if not path.is_file():
        raise RenderError(f"{path}: no such file")
    lines = path.read_text(encoding="utf-8").splitlines()
    front_matter, body_start = _front_matter(path, lines)
    chunks: list[Prose | CodeCell] = []
    prose: list[str] = []
    prose_start = body_start + 1
    i = body_start
    while i < len(lines):
        line = lines[i]
        opened = _FENCE_OPEN.match(line)
        plain = None if opened else _FENCE_PLAIN.match(line)
        if opened and not opened["header"].lstrip().startswith((".", "#", "=")):
            if prose:
                chunks.append(_prose(path, prose, prose_start))
            cell, i = _code_cell(path, lines, i, opened)
            chunks.append(cell)
            prose, prose_start = [], i + 1
            continue
        if opened or plain:
            # A plain fenced block: copied verbatim, never scanned for syntax.
            ticks = (opened or plain)["ticks"]
            end = _closing_fence(lines, i, ticks)
            if end is None:
                raise RenderError(f"{path}:{i + 1}: code block is never closed ({ticks})")
            prose.extend(lines[i:end + 1])
            i = end + 1
            continue
        prose.append(line)
        i += 1
    if prose:
        chunks.append(_prose(path, prose, prose_start))
    return QmdDocument(path=path, front_matter=front_matter, chunks=tuple(chunks))


def _front_matter(path: Path, lines: list[str]) -> tuple[dict[str, Any], int]:
    if not lines or lines[0].strip() != "---":
        return {}, 0
    for end in range(1, len(lines)):
        if lines[end].strip() in ("---", "..."):
            try:
                data = yaml.safe_load("\n".join(lines[1:end])) or {}
            except yaml.YAMLError as exc:
                raise RenderError(f"{path}: front matter is not valid YAML: {exc}") from exc
            if not isinstance(data, dict):
                raise RenderError(f"{path}: front matter must be a YAML mapping")
            return data, end + 1
    raise RenderError(f"{path}:1: front matter is never closed with '---'")


def _closing_fence(lines: list[str], start: int, ticks: str) -> int | None:
    for j in range(start + 1, len(lines)):
        stripped = lines[j].strip()
        if stripped.startswith(ticks[0] * len(ticks)) and set(stripped) == {ticks[0]}:
            return j
    return None


def _code_cell(path: Path, lines: list[str], i: int, opened: re.Match) -> tuple[CodeCell, int]:
    header = opened["header"]
    engine = _ENGINE.match(header)
    name = engine["engine"] if engine else header.strip()
    if name != "python":
        raise RenderError(
            f"{path}:{i + 1}: engine '{{{name}}}' is not supported by the built-in "
            "renderer (only ```{python} cells run)"
        )
    if engine["rest"].strip():
        raise RenderError(
            f"{path}:{i + 1}: options in the cell header ('{header.strip()}') are not "
            "supported; write them as '#| key: value' lines"
        )
    end = _closing_fence(lines, i, opened["ticks"])
    if end is None:
        raise RenderError(f"{path}:{i + 1}: python cell is never closed")
    body = lines[i + 1:end]
    n_options = 0
    while n_options < len(body) and _OPTION_LINE.match(body[n_options]):
        n_options += 1
    options = _cell_options(path, i + 1, body[:n_options])
    cell = CodeCell(
        code="\n".join(body[n_options:]),
        options=options,
        line=i + 1,
        code_line=i + 2 + n_options,
    )
    return cell, end + 1


def _cell_options(path: Path, line: int, option_lines: list[str]) -> dict[str, Any]:
    source = "\n".join(_OPTION_LINE.sub("", l, count=1) for l in option_lines)
    try:
        options = yaml.safe_load(source) or {}
    except yaml.YAMLError as exc:
        raise RenderError(f"{path}:{line}: cell options are not valid YAML: {exc}") from exc
    if not isinstance(options, dict):
        raise RenderError(f"{path}:{line}: cell options must be 'key: value' lines")
    unknown = sorted(set(options) - CELL_OPTIONS)
    if unknown:
        key_line = next(
            (line + 1 + n for n, text in enumerate(option_lines)
             if _OPTION_LINE.sub("", text, count=1).strip().startswith(f"{unknown[0]}:")),
            line,
        )
        raise RenderError(
            f"{path}:{key_line}: unknown cell option '{unknown[0]}' (the built-in renderer "
            f"supports: {', '.join(sorted(CELL_OPTIONS))})"
        )
    for key in ("echo", "eval", "include", "warning", "error"):
        if key in options and not isinstance(options[key], bool):
            raise RenderError(
                f"{path}:{line}: cell option '{key}: {options[key]}' is not supported "
                "(use true or false)"
            )
    if "output" in options and options["output"] not in (True, False, "asis"):
        raise RenderError(
            f"{path}:{line}: cell option 'output: {options['output']}' is not supported "
            "(use true, false or asis)"
        )
    return options


def _prose(path: Path, text_lines: list[str], start: int) -> Prose:
    expressions = []
    in_fence: str | None = None
    for offset, line in enumerate(text_lines):
        fence = _FENCE_PLAIN.match(line)
        if in_fence:
            if fence and line.strip() == in_fence[0] * len(line.strip()) and len(line.strip()) >= len(in_fence):
                in_fence = None
            continue
        if fence:
            in_fence = fence["ticks"]
            continue
        number = start + offset
        shortcode = _SHORTCODE.search(line)
        if shortcode:
            raise RenderError(
                f"{path}:{number}: shortcode '{shortcode.group()}' is not supported by the "
                "built-in renderer"
            )
        for match in INLINE_EXPR.finditer(line):
            if match["lang"] != "python":
                raise RenderError(
                    f"{path}:{number}: inline expression '`{{{match['lang']}}} "
                    f"{match['expr']}`' uses engine '{match['lang']}'; only python is supported"
                )
            expressions.append(InlineExpression(expr=match["expr"].strip(), line=number))
    return Prose(text="\n".join(text_lines), line=start, expressions=tuple(expressions))
