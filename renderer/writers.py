"""Write HTML, DOCX and PDF (via Typst) from the per-format pandoc ASTs."""

from __future__ import annotations

import json
import shutil
import zipfile
from xml.sax.saxutils import escape
from pathlib import Path
from typing import Any

import typst

from renderer.ast import pandoc
from renderer.errors import RenderError

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"
#: Format options that are pandoc flags or renderer settings, not template variables.
NOT_METADATA = {"embed-resources", "self-contained", "toc-depth", "number-sections", "css",
                "keep-typ", "template-partials", "reference-doc", "filters", "font-paths",
                "include-after-body"}
#: Quarto's Lua filters whose work the built-in renderer does itself (the title block); the others pandoc runs.
FILTERS_DONE_HERE = {"docx-title-block.lua"}


def write_html(ast: dict[str, Any], out: Path, options: dict[str, Any], doc_dir: Path) -> None:
    """One self-contained HTML file: images as data URIs, CSS inline, MathML (no CDN).

    Examples
    --------
    >>> import tempfile
    >>> d = Path(tempfile.mkdtemp())
    >>> ast = json.loads(pandoc(["-f", "markdown", "-t", "json"], "---\\npagetitle: T\\n---\\n\\nHi $x^2$"))
    >>> write_html(ast, d / "a.html", {}, d)
    >>> html = (d / "a.html").read_text()
    >>> "<math" in html, "<style" in html, "http" in html.split("<body>")[0]
    (True, True, False)
    """
    args = ["-f", "json", "-t", "html5", "--standalone", "--embed-resources", "--mathml", "--wrap=none",
            "--template", str(TEMPLATES / "abstract.html"), "--resource-path", str(doc_dir),
            "-o", str(out)]
    stylesheets = options.get("css") or [TEMPLATES / "abstract.css"]
    if isinstance(stylesheets, (str, Path)):  # `css:` may be one path or a list, as in Quarto
        stylesheets = [stylesheets]
    for css in stylesheets:
        args += ["--css", str(css)]
    after_body = options.get("include-after-body") or []
    for include in after_body if isinstance(after_body, list) else [after_body]:
        args += ["--include-after-body", str(include)]
    args += _common_flags(options)
    pandoc(args, json.dumps(ast), cwd=doc_dir)


def write_docx(ast: dict[str, Any], out: Path, options: dict[str, Any], doc_dir: Path) -> None:
    """A Word document through pandoc's docx writer, styled by `reference-doc` if given.

    Examples
    --------
    >>> import tempfile, docx
    >>> d = Path(tempfile.mkdtemp())
    >>> ast = json.loads(pandoc(["-f", "markdown", "-t", "json"], "| a |\\n|---|\\n| 1 |\\n"))
    >>> write_docx(ast, d / "a.docx", {}, d)
    >>> len(docx.Document(str(d / "a.docx")).tables)
    1
    """
    meta = ast["meta"]
    # Core properties: pandoc fills subject and keywords from the metadata; the
    # conference is the subject unless one is given (as the Lua filter does under Quarto).
    if "subject" not in meta and "conference" in meta:
        meta = {**meta, "subject": meta["conference"]}
    args = ["-f", "json", "-t", "docx", "--resource-path", str(doc_dir), "-o", str(out)]
    if options.get("reference-doc"):
        args += ["--reference-doc", str(options["reference-doc"])]
    for lua in options.get("filters") or []:
        if Path(lua).name not in FILTERS_DONE_HERE:
            args += ["--lua-filter", str(lua)]
    args += _common_flags(options)
    pandoc(args, json.dumps({**ast, "meta": meta}), cwd=doc_dir)
    # Title and authors: the title block is drawn from styled paragraphs, so
    # pandoc, which takes them from `title` and `author`, leaves them empty.
    authors = [_meta_text(author["c"]["name"]) for author in meta.get("by-author", {}).get("c", [])
               if author["t"] == "MetaMap" and "name" in author["c"]]
    _set_core_properties(out, title=_meta_text(meta.get("pagetitle")), creator="; ".join(authors))


def _meta_text(value: Any) -> str:
    """The plain text of a metadata value (strings, inlines, a map's `literal`)."""
    if value is None:
        return ""
    if isinstance(value, list):
        return "".join(_meta_text(v) for v in value)
    kind, content = value.get("t"), value.get("c")
    if kind in ("MetaString", "Str"):
        return content
    if kind in ("Space", "SoftBreak", "LineBreak"):
        return " "
    if kind == "MetaMap":
        return _meta_text(content.get("literal"))
    if isinstance(content, list):
        return _meta_text(content)
    return ""


def _set_core_properties(docx: Path, **fields: str) -> None:
    """Fill empty Dublin Core fields (``dc:title``, ``dc:creator``) of a .docx in place."""
    with zipfile.ZipFile(docx) as archive:
        entries = [(info, archive.read(info)) for info in archive.infolist()]
    with zipfile.ZipFile(docx, "w") as archive:
        for info, data in entries:
            if info.filename == "docProps/core.xml":
                text = data.decode("utf-8")
                for name, value in fields.items():
                    if value:
                        text = text.replace(f"<dc:{name}></dc:{name}>", f"<dc:{name}>{escape(value)}</dc:{name}>")
                data = text.encode("utf-8")
            archive.writestr(info, data)


def write_pdf(ast: dict[str, Any], out: Path, options: dict[str, Any], doc_dir: Path,
              work_dir: Path) -> Path:
    """Pandoc writes Typst with the project's template; the typst package compiles the PDF.

    Returns the path of the intermediate .typ file (in ``work_dir``).

    Examples
    --------
    >>> import tempfile
    >>> d = Path(tempfile.mkdtemp())
    >>> ast = json.loads(pandoc(["-f", "markdown", "-t", "json"], "---\\ntitle: T\\n---\\n\\nHello."))
    >>> _ = write_pdf(ast, d / "a.pdf", {}, d, d)
    >>> (d / "a.pdf").read_bytes()[:5]
    b'%PDF-'
    """
    template_dir = work_dir / "typst-template"
    template_dir.mkdir(parents=True, exist_ok=True)
    shutil.copy(TEMPLATES / "abstract.typ", template_dir / "abstract.typ")
    partials = {p.name: p for p in options.get("template-partials") or []}
    for name in ("typst-template.typ", "typst-show.typ"):
        shutil.copy(partials.get(name, TEMPLATES / name), template_dir / name)
    source = pandoc(
        ["-f", "json", "-t", "typst", "--standalone", "--template", str(template_dir / "abstract.typ")],
        json.dumps(ast), cwd=doc_dir,
    )
    typ = work_dir / (out.stem + ".typ")
    typ.write_text(source, encoding="utf-8")
    try:
        # Only the fonts embedded in typst and those of `font-paths` (the report's face,
        # templates/fonts): the same PDF on every machine.
        fonts = options.get("font-paths") or []
        fonts = [str(path) for path in (fonts if isinstance(fonts, list) else [fonts])]
        typst.compile(str(typ), output=str(out), root="/", font_paths=fonts, ignore_system_fonts=True)
    except typst.TypstError as exc:
        raise RenderError(f"typst could not compile the PDF: {exc}".splitlines()[0], detail=str(exc)) from exc
    return typ


def _common_flags(options: dict[str, Any]) -> list[str]:
    flags = []
    if options.get("toc"):
        flags += ["--toc", f"--toc-depth={options.get('toc-depth', 3)}"]
    if options.get("number-sections"):
        flags.append("--number-sections")
    return flags
