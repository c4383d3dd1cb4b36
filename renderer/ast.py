"""The pandoc AST pass: tables, captions, Quarto cross-references, per-format variants.

The document is parsed by pandoc once; this module edits the JSON AST in
Python (what Quarto's Lua filters do) and derives one AST per output format.
Numbering follows Quarto: figures and tables are numbered separately in
document order, captions read "Figure 1: ...", references "Figure 1".
"""

from __future__ import annotations

import copy
import json
import subprocess
from pathlib import Path
from typing import Any, Callable

import pypandoc

from renderer.assemble import Assembled
from renderer.errors import RenderError

NBSP = "\u00a0"
_PREFIX = {"fig": "Figure", "tbl": "Table"}
_QUARTO_ONLY_CLASSES = ("callout", "panel-", "column-", "quarto-")
_DISPLAYED_META = ("title", "subtitle", "abstract", "date")

Node = dict[str, Any]


def pandoc(args: list[str], stdin: str = "", cwd: Path | None = None) -> str:
    """Run the pandoc binary shipped with pypandoc-binary.

    Parameters
    ----------
    args : list of str
        Command-line arguments.
    stdin : str
        Text on standard input.
    cwd : Path, optional
        Working directory (relative resources resolve from it).

    Returns
    -------
    str
        Standard output.

    Examples
    --------
    >>> pandoc(["-f", "markdown", "-t", "plain"], "*Hello*").strip()
    'Hello'
    """
    proc = subprocess.run(
        [pypandoc.get_pandoc_path(), *args], input=stdin.encode("utf-8"),
        capture_output=True, cwd=cwd, check=False,
    )
    if proc.returncode != 0:
        raise RenderError(f"pandoc failed: {proc.stderr.decode('utf-8', 'replace').strip()}")
    return proc.stdout.decode("utf-8")


def build_ast(assembled: Assembled, doc_path: Path) -> Node:
    """Parse the assembled markdown and resolve tables, captions and cross-references.

    Parameters
    ----------
    assembled : Assembled
        Output of :func:`renderer.assemble.assemble`.
    doc_path : Path
        The .qmd, named in error messages.

    Returns
    -------
    dict
        The pandoc JSON AST, common to all formats.

    Examples
    --------
    >>> md = ("See @fig-a.\\n\\n![Survival](a.png){#fig-a}\\n\\n"
    ...       "| x |\\n|---|\\n| 1 |\\n\\n: Counts {#tbl-b}\\n\\nAnd -@tbl-b.\\n")
    >>> ast = build_ast(Assembled(markdown=md), Path("doc.qmd"))
    >>> html = pandoc(["-f", "json", "-t", "html"], json.dumps(ast)).replace(NBSP, " ")
    >>> 'See <a href="#fig-a" class="quarto-xref">Figure 1</a>.' in html
    True
    >>> "<figcaption>Figure 1: Survival</figcaption>" in html, "Table 1: Counts" in html
    (True, True)
    >>> 'And <a href="#tbl-b" class="quarto-xref">1</a>.' in html
    True
    """
    ast = json.loads(pandoc(["-f", "markdown", "-t", "json"], assembled.markdown))
    if assembled.html_tables:
        _fill_html_tables(ast, assembled)
    _attach_table_captions(ast, assembled, doc_path)
    _check_supported(ast, doc_path)
    numbers = _number_floats(ast, doc_path)
    _resolve_references(ast, numbers, doc_path)
    return ast


def format_ast(ast: Node, fmt: str, svg_for_png: dict[str, str], doc_dir: Path,
               options: dict[str, Any], number_sections: bool = False) -> Node:
    """Derive the AST for one format (``html``, ``docx`` or ``typst``).

    HTML and DOCX keep the title block made of styled divs; Typst drops it (its
    template draws the title from the metadata) and uses the SVG of each figure.
    Format options become metadata, as template variables. A document that
    starts at ``##`` is promoted a level for Typst and for numbered sections.
    """
    out = copy.deepcopy(ast)
    if fmt == "typst" or number_sections:
        promote_headings(out)
    meta = out["meta"]
    for key, value in options.items():
        meta[key] = _to_meta(value)
    if fmt == "typst":
        out["blocks"] = [b for b in out["blocks"] if _id(b) != "qr-title-block"]

        def vector_image(node: Node) -> Node:
            if node["t"] == "Image":
                target = node["c"][2]
                source = target[0]
                if source in svg_for_png:
                    target[0] = svg_for_png[source]
                elif not Path(source).is_absolute():
                    # Typst resolves paths from its root (/), not the document.
                    target[0] = str((doc_dir / source).resolve())
            return node

        _walk(out, vector_image)
        return out
    if fmt == "html":
        _walk(out, _html_title)
    else:
        for key in ("title", "subtitle", "author", "date", "abstract"):
            meta.pop(key, None)
    return out


def _html_title(node: Node) -> Node | list[Node]:
    if node["t"] == "Div":
        classes = node["c"][0][1]
        node["c"][0][2] = [kv for kv in node["c"][0][2] if kv[0] != "custom-style"]
        if "title" in classes and node["c"][1] and node["c"][1][0]["t"] in ("Para", "Plain"):
            inlines = node["c"][1][0]["c"]
            return {"t": "Header", "c": [1, ["", ["title", "unnumbered", "unlisted"], []], inlines]}
    return node


def _to_meta(value: Any) -> Node:
    if isinstance(value, bool):
        return {"t": "MetaBool", "c": value}
    if isinstance(value, list):
        return {"t": "MetaList", "c": [_to_meta(v) for v in value]}
    if isinstance(value, dict):
        return {"t": "MetaMap", "c": {str(k): _to_meta(v) for k, v in value.items()}}
    return {"t": "MetaString", "c": str(value)}


def promote_headings(ast: Node) -> Node:
    """Without a level-1 heading, every heading one level up, as Quarto does (in place).

    Quarto shifts the headings of a document that starts at ``##`` for Typst,
    and numbered sections then read "1", "2", not "0.1", "0.2". The title
    block's own heading does not count.

    Examples
    --------
    >>> doc = {"blocks": [{"t": "Header", "c": [2, ["a", [], []], []]},
    ...                   {"t": "Header", "c": [3, ["b", [], []], []]}]}
    >>> [h["c"][0] for h in promote_headings(doc)["blocks"]]
    [1, 2]
    """
    levels: list[int] = []

    def collect(node: Node) -> Node:
        if node["t"] == "Header":
            levels.append(node["c"][0])
        return node

    def promote(node: Node) -> Node:
        if node["t"] == "Header":
            node["c"][0] -= 1
        return node

    body = [block for block in ast["blocks"] if _id(block) != "qr-title-block"]
    _walk(body, collect)
    if levels and min(levels) > 1:
        _walk(body, promote)
    return ast


def _walk(node: Any, fn: Callable[[Node], Node | list[Node]]) -> Any:
    """Apply ``fn`` bottom-up to every element; a returned list is spliced in place."""
    if isinstance(node, list):
        out = []
        for item in node:
            result = _walk(item, fn)
            if isinstance(item, dict) and "t" in item and isinstance(result, list):
                out.extend(result)
            else:
                out.append(result)
        node[:] = out
        return node
    if isinstance(node, dict):
        for key, value in node.items():
            if isinstance(value, (list, dict)):
                result = _walk(value, fn)
                if isinstance(result, dict):
                    node[key] = result
        if "t" in node:
            return fn(node)
    return node


def _id(node: Node) -> str:
    if node.get("t") in ("Div", "Figure", "Table", "Header", "CodeBlock"):
        attr = node["c"][1] if node["t"] == "Header" else node["c"][0]
        return attr[0]
    return ""


def _classes(node: Node) -> list[str]:
    if node.get("t") in ("Div", "Span"):
        return node["c"][0][1]
    return []


def _tables_in(node: Any) -> list[Node]:
    found: list[Node] = []

    def collect(n: Node) -> Node:
        if n["t"] == "Table":
            found.append(n)
        return n

    _walk(copy.deepcopy(node), collect)
    return found


def _fill_html_tables(ast: Node, assembled: Assembled) -> None:
    html = "".join(
        f'<div id="qr-table-{i}">{table}</div>' for i, table in enumerate(assembled.html_tables)
    )
    parsed = json.loads(pandoc(["-f", "html", "-t", "json"], html))
    tables = {}
    for block in parsed["blocks"]:
        if block["t"] == "Div" and _id(block).startswith("qr-table-"):
            tables[int(_id(block).removeprefix("qr-table-"))] = _tables_in(block["c"][1])

    def fill(node: Node) -> Node | list[Node]:
        if "qr-html-table" in _classes(node):
            index = int(dict(node["c"][0][2])["qr-index"])
            return tables.get(index, [])
        return node

    _walk(ast, fill)


def _attach_table_captions(ast: Node, assembled: Assembled, doc_path: Path) -> None:
    def attach(node: Node) -> Node | list[Node]:
        spec = assembled.cells.get(_id(node)) if node["t"] == "Div" else None
        if spec is None:
            return node
        blocks = node["c"][1]
        caption_div = next(b for b in blocks if "qr-caption" in _classes(b))
        content = [b for b in blocks if b is not caption_div]
        tables = _tables_in(content)
        if len(tables) != 1:
            name = f"'{spec.label}'" if spec.label else f"at line {spec.line}"
            raise RenderError(
                f"{doc_path}:{spec.line}: cell {name} has a table label or tbl-cap but produced "
                f"{len(tables)} tables (exactly one needed)"
            )
        inlines = [i for b in caption_div["c"][1] for i in b["c"]]

        def caption(table: Node) -> Node:
            if table["t"] == "Table":
                if spec.label.startswith("tbl-"):
                    table["c"][0][0] = spec.label
                if inlines:
                    table["c"][1] = [None, [{"t": "Plain", "c": inlines}]]
            return table

        _walk(content, caption)
        return content

    _walk(ast, attach)


def _check_supported(ast: Node, doc_path: Path) -> None:
    def check(node: Node) -> Node:
        for cls in _classes(node):
            if cls.startswith(_QUARTO_ONLY_CLASSES):
                raise RenderError(f"{doc_path}: Quarto block '.{cls}' is not supported by the built-in renderer")
        if node["t"] == "Div" and _id(node).startswith(("fig-", "tbl-")):
            raise RenderError(
                f"{doc_path}: div-based cross-reference target '#{_id(node)}' is not supported; "
                "use a labelled cell or ![caption](file){#fig-...}"
            )
        if node["t"] == "Image" and node["c"][2][0].startswith(("http://", "https://", "//")):
            raise RenderError(
                f"{doc_path}: remote image '{node['c'][2][0]}' is not supported (the HTML must "
                "not fetch anything); save it next to the document"
            )
        if node["t"] == "Image":
            attrs = node["c"][0][2]
            alt = next((v for k, v in attrs if k == "fig-alt"), None)
            if alt is not None:
                node["c"][0][2] = [kv for kv in attrs if kv[0] != "fig-alt"]
                node["c"][1] = [{"t": "Str", "c": alt}]
        return node

    _walk(ast, check)


def _number_floats(ast: Node, doc_path: Path) -> dict[str, int]:
    numbers: dict[str, int] = {}
    counters = {"fig": 0, "tbl": 0}

    def number(node: Node) -> Node:
        kind = {"Figure": "fig", "Table": "tbl"}.get(node["t"])
        ident = _id(node)
        if kind and ident.startswith(kind + "-"):
            if ident in numbers:
                raise RenderError(f"{doc_path}: label '{ident}' is used twice")
            counters[kind] += 1
            numbers[ident] = counters[kind]
            caption = node["c"][1][1]
            prefix = [{"t": "Str", "c": f"{_PREFIX[kind]}{NBSP}{counters[kind]}:"}, {"t": "Space"}]
            if caption and caption[0]["t"] in ("Plain", "Para"):
                caption[0]["c"] = prefix + caption[0]["c"]
            else:
                caption.insert(0, {"t": "Plain", "c": [{"t": "Str", "c": f"{_PREFIX[kind]}{NBSP}{counters[kind]}"}]})
        return node

    # Pre-order numbering: walk the blocks in document order.
    _walk(ast["blocks"], number)
    return numbers


def _resolve_references(ast: Node, numbers: dict[str, int], doc_path: Path) -> None:
    def resolve(node: Node) -> Node:
        if node["t"] != "Cite":
            return node
        citations = node["c"][0]
        keys = [c["citationId"] for c in citations]
        if len(keys) > 1:
            raise RenderError(
                f"{doc_path}: grouped reference [{'; '.join('@' + k for k in keys)}] is not "
                "supported; write each reference on its own"
            )
        key = keys[0]
        ident = key[:1].lower() + key[1:]
        kind = ident.split("-", 1)[0]
        if kind not in _PREFIX:
            raise RenderError(
                f"{doc_path}: reference '@{key}' is not supported (only @fig-... and @tbl-... "
                "cross-references; no bibliography)"
            )
        if ident not in numbers:
            raise RenderError(f"{doc_path}: cross-reference '@{key}' has no target (no {kind} labelled '{ident}')")
        number = numbers[ident]
        suppress = citations[0]["citationMode"]["t"] == "SuppressAuthor"
        text = f"{number}" if suppress else f"{_PREFIX[kind]}{NBSP}{number}"
        return {"t": "Link", "c": [["", ["quarto-xref"], []], [{"t": "Str", "c": text}], [f"#{ident}", ""]]}

    _walk(ast["blocks"], resolve)
    # Metadata holds settings too (e.g. `study:`); only the displayed keys are prose.
    for key in _DISPLAYED_META:
        if key in ast["meta"]:
            _walk(ast["meta"][key], resolve)
