"""Merge `_quarto.yml`, its `metadata-files` and the front matter, as Quarto does.

Order (later wins, mappings merged key by key): `_quarto.yml`, each file in its
`metadata-files`, the document's front matter. Per-format options live under
``format: {html|typst|docx}: {...}`` and are validated against what the
built-in renderer implements.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from renderer.errors import RenderError
from renderer.qmd import INLINE_EXPR

#: Formats the built-in renderer writes, keyed by the output name used on the CLI.
FORMATS = {"html": "html", "pdf": "typst", "docx": "docx"}

#: Format options implemented per format; anything else is an error.
FORMAT_OPTIONS = {
    "html": {"embed-resources", "self-contained", "toc", "toc-depth", "number-sections", "css",
             "template-partials", "include-after-body"},
    "typst": {"papersize", "margin", "fontsize", "mainfont", "columns", "toc", "toc-depth",
              "section-numbering", "keep-typ", "template-partials", "font-paths"},
    "docx": {"reference-doc", "toc", "toc-depth", "number-sections", "filters"},
}
_PATH_OPTIONS = {"css", "template-partials", "reference-doc", "filters", "font-paths", "include-after-body"}
# Path options that name folders rather than files.
_FOLDER_OPTIONS = {"font-paths"}
# The partials and filters each format honours. HTML's title-block.html and
# DOCX's docx-title-block.lua filter serve Quarto: the built-in renderer prints
# the same fields (header line, title, authors, affiliations, DOI) itself.
# docx-tables.lua it runs with pandoc, as Quarto does. Any other filter or
# partial is an error, never silently skipped.
_PARTIALS = {"typst": ("typst-template.typ", "typst-show.typ"), "html": ("title-block.html",)}
_FILTERS = {"docx": ("docx-title-block.lua", "docx-tables.lua")}
_EXECUTE_OPTIONS = {"echo", "eval", "include", "output", "warning", "error", "freeze", "cache"}
# Quarto keys that change output in ways the built-in renderer does not reproduce.
_UNSUPPORTED_KEYS = {
    "bibliography", "csl", "citeproc", "filters", "shortcodes", "crossref", "knitr",
    "include-in-header", "include-before-body", "params",
    "fig-cap-location", "tbl-cap-location", "cap-location", "date-format", "fig-format", "fig-align",
    "fig-pos", "fig-responsive", "code-fold", "code-tools", "code-line-numbers", "highlight-style",
    "theme", "number-depth", "number-offset", "toc-title", "toc-location", "linestretch",
    "reference-location", "citation-location", "df-print", "lightbox", "brand", "license", "copyright",
    "funding", "abstract-title", "author-title", "affiliation-title",
}
_FIGURE_KEYS = ("fig-width", "fig-height", "fig-dpi")
# The `journal` fields of pandoc's JATS metadata; the title block prints the title.
_JOURNAL_KEYS = {"title", "abbrev-title", "publisher-name", "publisher-loc", "pissn", "eissn", "pubmed-id",
                 "publisher-id", "nlm-ta"}


@dataclass(frozen=True)
class DocumentConfig:
    """Everything the render needs to know besides the cells.

    Attributes
    ----------
    metadata : dict
        Document metadata (title, author, ...), without `format`, `execute`,
        `project` and `metadata-files`.
    execute : dict
        Document-wide cell defaults (`echo`, `eval`, `warning`, ...).
    formats : dict
        Options per Quarto format name (`html`, `typst`, `docx`); paths are
        absolute.
    project_dir : Path or None
        The directory of `_quarto.yml`, if there is one.
    output_dir : Path or None
        `project: output-dir`, absolute, if given.
    pre_render : tuple of str
        `project: pre-render`: commands run in the project folder before
        anything executes, as Quarto runs them (the data checks).
    """

    metadata: dict[str, Any]
    execute: dict[str, Any]
    formats: dict[str, dict[str, Any]]
    project_dir: Path | None
    output_dir: Path | None
    pre_render: tuple[str, ...] = ()

    def figure_size(self) -> tuple[float, float, float]:
        """(width in, height in, dpi) for matplotlib: Quarto's HTML defaults unless set."""
        width = float(self.metadata.get("fig-width", 7))
        height = float(self.metadata.get("fig-height", 5))
        dpi = float(self.metadata.get("fig-dpi", 96))
        return width, height, dpi


def load_config(doc_path: Path, front_matter: dict[str, Any]) -> DocumentConfig:
    """Merge project, metadata files and front matter for one document.

    Parameters
    ----------
    doc_path : Path
        The .qmd file; `_quarto.yml` is looked for in its directory.
    front_matter : dict
        The document's YAML front matter.

    Returns
    -------
    DocumentConfig

    Examples
    --------
    >>> import tempfile
    >>> d = Path(tempfile.mkdtemp())
    >>> _ = (d / "_quarto.yml").write_text(
    ...     "metadata-files: [study.yml]\\nexecute: {echo: false}\\n"
    ...     "format: {html: {toc: false}, typst: {papersize: a4}, docx: default}\\n")
    >>> _ = (d / "study.yml").write_text("title: From study\\njournal: {title: J}\\n")
    >>> cfg = load_config(d / "a.qmd", {"title": "Doc wins", "format": {"html": {"toc": True}}})
    >>> cfg.metadata
    {'title': 'Doc wins', 'journal': {'title': 'J'}}
    >>> cfg.execute, cfg.formats["html"], cfg.formats["docx"]
    ({'echo': False}, {'toc': True}, {})
    """
    doc_path = Path(doc_path).resolve()
    project_file = doc_path.parent / "_quarto.yml"
    project_dir = project_file.parent if project_file.is_file() else None
    merged: dict[str, Any] = {}
    output_dir = None
    pre_render: tuple[str, ...] = ()
    if project_dir is not None:
        project = _read_yaml(project_file)
        _resolve_paths(project, project_dir, project_file)
        settings = project.get("project") or {}
        output = settings.get("output-dir")
        if output:
            output_dir = (project_dir / output).resolve()
        pre_render = _scripts(settings.get("pre-render"), project_file)
        merged = _merge(merged, project)
        for name in project.get("metadata-files") or []:
            extra = _read_yaml(project_dir / name, referenced_by=project_file)
            _resolve_paths(extra, project_dir, project_dir / name)
            merged = _merge(merged, extra)
    front = dict(front_matter)
    _resolve_paths(front, doc_path.parent, doc_path)
    for name in front.get("metadata-files") or []:
        extra = _read_yaml(doc_path.parent / name, referenced_by=doc_path)
        _resolve_paths(extra, doc_path.parent, doc_path.parent / name)
        merged = _merge(merged, extra)
    merged = _merge(merged, front)
    return _split(merged, doc_path, project_dir, output_dir, pre_render)


def _scripts(value: Any, source: Path) -> tuple[str, ...]:
    """`pre-render:` as Quarto reads it: one command or a list of commands."""
    if value is None:
        return ()
    commands = value if isinstance(value, list) else [value]
    if not all(isinstance(c, str) and c.strip() for c in commands):
        raise RenderError(f"{source}: project.pre-render must be a command or a list of commands")
    return tuple(commands)


def project_output_dir(doc_path: Path) -> Path | None:
    """`project: output-dir` of the `_quarto.yml` beside the document, absolute; nothing else is read.

    What Quarto renders, Quarto validates: the built-in renderer's limits do not apply to it.
    """
    project_file = Path(doc_path).resolve().parent / "_quarto.yml"
    if not project_file.is_file():
        return None
    output = (_read_yaml(project_file).get("project") or {}).get("output-dir")
    return (project_file.parent / output).resolve() if output else None


def _read_yaml(path: Path, referenced_by: Path | None = None) -> dict[str, Any]:
    if not path.is_file():
        where = f" (named in {referenced_by})" if referenced_by else ""
        raise RenderError(f"{path}: no such file{where}")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise RenderError(f"{path}: not valid YAML: {exc}") from exc
    if not isinstance(data, dict):
        raise RenderError(f"{path}: must be a YAML mapping")
    return data


def _merge(base: dict[str, Any], update: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in update.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = value
    return out


def _resolve_paths(data: dict[str, Any], base: Path, source: Path) -> None:
    """Make path-valued format options absolute relative to the file naming them."""
    formats = data.get("format")
    if not isinstance(formats, dict):
        return
    for name, options in formats.items():
        if not isinstance(options, dict):
            continue
        for key in _PATH_OPTIONS & set(options):
            value = options[key]
            paths = value if isinstance(value, list) else [value]
            resolved = []
            for p in paths:
                full = (base / str(p)).resolve()
                kind, exists = ("folder", full.is_dir()) if key in _FOLDER_OPTIONS else ("file", full.is_file())
                if not exists:
                    raise RenderError(f"{source}: format.{name}.{key}: {kind} '{p}' not found ({full})")
                resolved.append(full)
            options[key] = resolved if isinstance(value, list) else resolved[0]


def _check_no_inline_code(value: Any, doc_path: Path, key: str) -> None:
    """Quarto does not evaluate inline code in YAML; neither do we, loudly."""
    if isinstance(value, dict):
        for k, v in value.items():
            _check_no_inline_code(v, doc_path, f"{key}.{k}" if key else str(k))
    elif isinstance(value, list):
        for v in value:
            _check_no_inline_code(v, doc_path, key)
    elif isinstance(value, str) and INLINE_EXPR.search(value):
        raise RenderError(
            f"{doc_path}: metadata '{key}' contains an inline expression; Quarto does not "
            "evaluate inline code in YAML (compute the text in a cell instead)"
        )


def _split(merged: dict[str, Any], doc_path: Path, project_dir: Path | None,
           output_dir: Path | None, pre_render: tuple[str, ...]) -> DocumentConfig:
    for key in sorted(_UNSUPPORTED_KEYS & set(merged)):
        raise RenderError(f"{doc_path}: metadata key '{key}' is not supported by the built-in renderer")
    engine = merged.get("engine", "jupyter")
    if engine != "jupyter":
        raise RenderError(f"{doc_path}: engine '{engine}' is not supported (only jupyter/python)")
    jupyter = merged.get("jupyter", "python3")
    if jupyter not in ("python3", "python"):
        raise RenderError(f"{doc_path}: jupyter kernel '{jupyter}' is not supported (only python3)")
    execute = merged.get("execute") or {}
    unknown = sorted(set(execute) - _EXECUTE_OPTIONS)
    if unknown:
        raise RenderError(f"{doc_path}: execute option '{unknown[0]}' is not supported")
    formats: dict[str, dict[str, Any]] = {}
    for name, options in (merged.get("format") or {}).items():
        if name not in FORMAT_OPTIONS:
            raise RenderError(
                f"{doc_path}: format '{name}' is not supported by the built-in renderer "
                "(html, typst, docx)"
            )
        options = {} if options in (None, "default") else options
        if not isinstance(options, dict):
            raise RenderError(f"{doc_path}: format.{name} must be 'default' or a mapping")
        for key in options:
            if key in _FIGURE_KEYS:
                raise RenderError(
                    f"{doc_path}: format.{name}.{key}: figure sizes are set once for all formats "
                    f"(one execution); put '{key}' at the top level"
                )
            if key not in FORMAT_OPTIONS[name]:
                raise RenderError(
                    f"{doc_path}: format.{name} option '{key}' is not supported by the built-in "
                    f"renderer (supported: {', '.join(sorted(FORMAT_OPTIONS[name]))})"
                )
        formats[name] = dict(options)
    # A format option at the top level applies to every format that has it, as in Quarto.
    shared = sorted({key for options in FORMAT_OPTIONS.values() for key in options} & set(merged))
    for key in shared:
        if key in _PATH_OPTIONS:
            raise RenderError(f"{doc_path}: '{key}' names a file: put it under format: (html, typst or docx)")
        for name, supported in FORMAT_OPTIONS.items():
            if key in supported:
                formats.setdefault(name, {}).setdefault(key, merged[key])
    for key, allowed_by_format in (("template-partials", _PARTIALS), ("filters", _FILTERS)):
        for name, allowed in allowed_by_format.items():
            for partial in formats.get(name, {}).get(key, []):
                if partial.name not in allowed:
                    raise RenderError(
                        f"{doc_path}: format.{name}.{key}: '{partial.name}' is not supported "
                        f"({' and '.join(allowed)})"
                    )
    journal = merged.get("journal")
    if journal is not None and not (isinstance(journal, dict) and set(journal) <= _JOURNAL_KEYS):
        # Quarto's schema: an object, as pandoc's JATS writer reads it.
        raise RenderError(
            f"{doc_path}: metadata 'journal' must be an object as in Quarto's schema, e.g. "
            f"journal: {{title: ...}} (keys: {', '.join(sorted(_JOURNAL_KEYS))})"
        )
    if str(merged.get("date", "")) in ("today", "now", "last-modified"):
        raise RenderError(
            f"{doc_path}: 'date: {merged['date']}' is not supported by the built-in renderer; "
            "write the date"
        )
    _check_no_inline_code(merged, doc_path, "")
    metadata = {
        k: v for k, v in merged.items()
        if k not in ("format", "execute", "project", "metadata-files", "engine", "jupyter", *shared)
    }
    return DocumentConfig(
        metadata=metadata,
        execute=dict(execute),
        formats=formats,
        project_dir=project_dir,
        output_dir=output_dir,
        pre_render=pre_render,
    )
