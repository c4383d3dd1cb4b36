"""Render a .qmd to HTML, PDF and DOCX: with Quarto if installed, else built in.

Everything is produced in a staging folder beside the output folder, which
becomes the output folder in one step when every format succeeded
(:mod:`renderer.build`); a failure or an interrupt leaves the output folder
exactly as it was.
"""

from __future__ import annotations

import json
import os
import shlex
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from importlib.metadata import version as package_version
from pathlib import Path
from typing import Callable, Iterator

import typst

from renderer.build import RECORD, RENDERERS, build_lock, inputs_digest, publish, staging_dir, up_to_date, write_record
from renderer.config import FORMATS, DocumentConfig, load_config, project_output_dir
from renderer.errors import GateFailed, RenderError
from renderer.qmd import CodeCell, parse_qmd
from renderer.quarto import find_quarto, quarto_engines, render_with_quarto
from renderer.titleblock import normalise_byline



@dataclass(frozen=True)
class RenderResult:
    """What a render did.

    Attributes
    ----------
    renderer : str
        ``builtin`` or ``quarto``.
    outputs : tuple of Path
        Every file written into the output directory (formats and artefacts).
    timings : tuple of (str, float)
        Seconds per stage, in order.
    """

    renderer: str
    outputs: tuple[Path, ...]
    timings: tuple[tuple[str, float], ...]


def render(doc_path: Path, output_dir: Path | None = None,
           formats: tuple[str, ...] = ("html", "pdf", "docx"), renderer: str = "auto",
           log: Callable[[str], None] = print) -> RenderResult:
    """Render ``doc_path`` to ``formats`` in ``output_dir``.

    Parameters
    ----------
    doc_path : Path
        The .qmd document.
    output_dir : Path, optional
        Defaults to `project: output-dir` of `_quarto.yml`, else the document's directory.
    formats : tuple of str
        Any of ``html``, ``pdf``, ``docx``.
    renderer : str
        ``auto`` (Quarto >= 1.4 if on PATH, else built in), ``builtin`` or ``quarto``.
    log : callable
        Receives a line when each long stage starts (``"  execute    started: 7 cells of report.qmd"``)
        and one with its time when it ends (``"  execute     1.84 s"``).

    The project's ``pre-render`` commands (``_quarto.yml``; the data checks)
    run before any cell executes, under either renderer: Quarto runs them
    itself; the built-in renderer runs them as Quarto does and starts its
    kernel meanwhile.

    Returns
    -------
    RenderResult

    Raises
    ------
    RenderError
        On any failure; nothing has been written then. :class:`GateFailed`
        when a pre-render command failed.

    Examples
    --------
    >>> import tempfile
    >>> d = Path(tempfile.mkdtemp())
    >>> _ = (d / "note.qmd").write_text("---\\ntitle: A note\\n---\\n\\nThree is `{python} 1 + 2`.\\n")
    >>> result = render(d / "note.qmd", d / "out", renderer="builtin", log=lambda line: None)
    >>> result.renderer, sorted(p.name for p in result.outputs)
    ('builtin', ['note.docx', 'note.html', 'note.pdf'])
    >>> "Three is 3." in (d / "out" / "note.html").read_text()
    True
    """
    doc_path = Path(doc_path).resolve()
    unknown = [f for f in formats if f not in FORMATS]
    if unknown or not formats:
        raise RenderError(f"unknown output format '{unknown[0] if unknown else ''}' (html, pdf, docx)")
    if renderer not in RENDERERS:
        raise RenderError(f"unknown renderer '{renderer}' ({', '.join(RENDERERS)})")
    if not doc_path.is_file():
        raise RenderError(f"{doc_path}: no such file")
    quarto = find_quarto() if renderer in ("auto", "quarto") else None
    if renderer == "quarto" and quarto is None:
        raise RenderError("--renderer quarto: no quarto 1.4 or newer on PATH")
    target = Path(output_dir or project_output_dir(doc_path) or doc_path.parent).resolve()
    timings: list[tuple[str, float]] = []

    def record(name: str, seconds: float) -> None:
        timings.append((name, seconds))
        log(f"  {name:<10} {seconds:5.2f} s")

    @contextmanager
    def stage(name: str) -> Iterator[_StageClock]:
        clock = _StageClock()
        yield clock
        record(name, time.perf_counter() - clock.start - clock.excluded)

    inputs = inputs_digest(doc_path, renderer, formats)
    with build_lock(target, log):
        if up_to_date(target, inputs):
            log(f"up to date: {target} was built from exactly these inputs ({RECORD})")
            return RenderResult(renderer="up to date", outputs=(), timings=())
        staging = staging_dir(target)
        try:
            with tempfile.TemporaryDirectory(prefix="render-") as scratch:
                work = Path(scratch)
                if quarto is not None:
                    executable, version = quarto
                    version_text = ".".join(map(str, version))
                    log(f"renderer: quarto {version_text} ({executable})")
                    with stage("quarto"):
                        render_with_quarto(executable, doc_path, list(formats), staging, target,
                                           engines=quarto_engines(executable, version_text))
                    name = "quarto"
                else:
                    config = load_config(doc_path, parse_qmd(doc_path).front_matter)
                    # The checks are the longest step before the first cell: they start now,
                    # before the kernel, rather than once the kernel is ready.
                    checks = PreRender(config, doc_path, target, staging)
                    if config.pre_render:
                        log(f"  {'pre-render':<10} started: {'; '.join(config.pre_render)} "
                            "(the python kernel starts meanwhile)")

                    def pre_render_then_announce() -> None:
                        checks.wait()
                        if config.pre_render:
                            record("pre-render", checks.seconds)
                        log("renderer: builtin" + (" (no quarto 1.4+ on PATH)" if renderer == "auto" else ""))

                    try:
                        _render_builtin(doc_path, config, formats, staging, target, work, stage, record,
                                        pre_render_then_announce, log)
                    finally:
                        checks.stop()
                    name = "builtin"
            if os.environ.get("CHANGES_SINCE"):
                # The co-authors' DOCX marks the figures that changed since the named snapshot.
                from analysis.changes import finish_build

                finish_build(staging, doc_path.parent)
            outputs = [target / p.relative_to(staging) for p in sorted(staging.rglob("*")) if p.is_file()]
            write_record(staging, inputs, name)
            with stage("publish"):
                publish(staging, target)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
    _log_written(outputs, target, log)
    return RenderResult(renderer=name, outputs=tuple(outputs), timings=tuple(timings))


def _log_written(outputs: list[Path], target: Path, log: Callable[[str], None]) -> None:
    """One line per file at the top of the output folder, one per subfolder (the Data Docs hold dozens)."""
    folders: dict[Path, int] = {}
    for path in outputs:
        top = target / path.relative_to(target).parts[0]
        if top == path:
            log(f"  wrote {path}")
        else:
            folders[top] = folders.get(top, 0) + 1
    for folder, count in folders.items():
        log(f"  wrote {folder}/ ({count} file{'s' if count != 1 else ''})")


class PreRender:
    """The project's ``pre-render`` commands, run as Quarto does, in a thread from construction on.

    In the project folder, in order; a ``.py`` script with this interpreter
    (Quarto uses ``QUARTO_PYTHON``), a ``.R`` script with Rscript, anything
    else as a program with its arguments (no shell). Quarto's variables
    ``QUARTO_PROJECT_OUTPUT_DIR`` and ``QUARTO_PROJECT_INPUT_FILES`` are set,
    and where the build is staged, the data checks' Data Docs folders: the
    build's (``REPORT_VALIDATION_DIR``) and the published one's
    (``REPORT_PUBLISHED_VALIDATION_DIR``). :meth:`wait` waits for them;
    :meth:`stop` kills the one running, so an interrupted build leaves no
    command writing into its staging folder.

    Raises
    ------
    RenderError
        At once, for a command the built-in renderer cannot run.
    """

    def __init__(self, config: DocumentConfig, doc_path: Path, output_dir: Path, staging: Path | None = None,
                 capture: bool = False) -> None:
        self._config = config
        self._capture = capture
        self._commands: list[tuple[str, list[str]]] = []
        if config.pre_render:
            self._env = {**os.environ, "QUARTO_PROJECT_OUTPUT_DIR": str(output_dir),
                         "QUARTO_PROJECT_INPUT_FILES": str(doc_path.relative_to(config.project_dir)),
                         "REPORT_VALIDATION_DIR": str((staging or output_dir) / "validation"),
                         "REPORT_PUBLISHED_VALIDATION_DIR": str(output_dir / "validation")}
        for command in config.pre_render:
            args = shlex.split(command)
            suffix = Path(args[0]).suffix.lower()
            if suffix in (".ts", ".js", ".lua"):
                raise RenderError(f"{config.project_dir / '_quarto.yml'}: pre-render '{command}': {suffix} scripts "
                                  "are not supported by the built-in renderer (.py, .R or a program)")
            interpreter = {".py": [sys.executable], ".r": ["Rscript"]}.get(suffix, [])
            self._commands.append((command, [*interpreter, *args]))
        self._lock = threading.Lock()
        self._process: subprocess.Popen | None = None
        self._stopped = False
        self._failure: RenderError | None = None
        self._start = time.perf_counter()
        self.seconds = 0.0
        self._thread = threading.Thread(target=self._run, name="pre-render", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        pipe = subprocess.PIPE if self._capture else None
        for command, argv in self._commands:
            with self._lock:
                if self._stopped:
                    return
                try:
                    self._process = subprocess.Popen(argv, cwd=self._config.project_dir, env=self._env,
                                                     stdout=pipe, stderr=pipe, text=True)
                except OSError as exc:
                    self._failure = RenderError(f"{self._config.project_dir / '_quarto.yml'}: pre-render "
                                                f"'{command}' could not run: {exc.strerror}")
                    return
            stdout, stderr = self._process.communicate()
            if self._process.returncode != 0:
                self._failure = GateFailed(command, self._process.returncode)
                self._failure.detail = ((stdout or "") + (stderr or "")).strip()
                return
        self.seconds = time.perf_counter() - self._start

    def wait(self) -> None:
        """Wait until every command has passed.

        Raises
        ------
        GateFailed
            When a command exits non-zero: it has printed why, or, with
            ``capture``, its output is the exception's ``detail``.
        """
        self._thread.join()
        if self._failure is not None:
            raise self._failure

    def stop(self) -> None:
        """Kill the command still running, if any, and wait for it."""
        with self._lock:
            self._stopped = True
            if self._process is not None and self._process.poll() is None:
                self._process.kill()
        self._thread.join()


def builtin_engines() -> str:
    """What renders, for the report's provenance line (cells read it as REPORT_RENDERER).

    Pandoc's version from package metadata (asking pandoc costs a tenth of a
    second); Typst's from the compiler itself, since the ``typst`` package's
    version is not the compiler's (0.15.2 wraps Typst 0.15.1).
    """
    return (f"built-in renderer (Pandoc of pypandoc-binary {package_version('pypandoc_binary')}, "
            f"Typst {typst_version()})")


def typst_version() -> str:
    """The version of the Typst compiler the PDF writer runs.

    Examples
    --------
    >>> import re
    >>> bool(re.fullmatch(r"\\d+\\.\\d+\\.\\d+", typst_version()))
    True
    """
    with tempfile.TemporaryDirectory() as scratch:
        probe = Path(scratch) / "version.typ"
        probe.write_text("#metadata(str(sys.version)) <version>", encoding="utf-8")
        return json.loads(typst.query(str(probe), "<version>", field="value", one=True))


class _StageClock:
    """Wall time of a stage, less the time of calls it hands to :meth:`excluding`."""

    def __init__(self) -> None:
        self.start = time.perf_counter()
        self.excluded = 0.0

    def excluding(self, fn: Callable[[], None]) -> Callable[[], None]:
        def timed() -> None:
            start = time.perf_counter()
            try:
                fn()
            finally:
                self.excluded += time.perf_counter() - start
        return timed


def _render_builtin(doc_path: Path, config: DocumentConfig, formats: tuple[str, ...],
                    staging: Path, target: Path, work: Path, stage: Callable, record: Callable[[str, float], None],
                    gate: Callable[[], None], log: Callable[[str], None]) -> None:
    # Imported here, once the checks are running: the kernel's client (jupyter_client, zmq)
    # takes a few tenths of a second that would otherwise delay the checks, the longest step.
    from renderer.assemble import assemble
    from renderer.ast import build_ast, format_ast
    from renderer.kernel import execute_document
    from renderer.writers import NOT_METADATA, write_docx, write_html, write_pdf

    doc = parse_qmd(doc_path)
    byline = normalise_byline(config.metadata, str(doc_path))
    cells = sum(isinstance(chunk, CodeCell) for chunk in doc.chunks)

    def gate_then_announce() -> None:
        gate()
        log(f"  {'execute':<10} started: {cells} cell{'s' if cells != 1 else ''} of {doc_path.name}")

    # The execute stage counts what the document took beyond the gate it overlaps.
    with stage("execute") as clock:
        run = execute_document(doc, config.execute, config.figure_size(),
                               {"REPORT_OUTPUT_DIR": str(staging), "REPORT_PUBLISHED_DIR": str(target),
                                "REPORT_RENDERER": builtin_engines()},
                               work, gate=clock.excluding(gate_then_announce))
    with stage("assemble"):
        assembled = assemble(doc, run, config.metadata, byline, config.execute, work / "media")
        ast = build_ast(assembled, doc_path)

    def write(fmt: str) -> float:
        start = time.perf_counter()
        quarto_name = FORMATS[fmt]
        options = config.formats.get(quarto_name, {})
        metadata = {k: v for k, v in options.items() if k not in NOT_METADATA}
        out = staging / f"{doc_path.stem}.{fmt}"
        fmt_ast = format_ast(ast, quarto_name, assembled.svg_for_png, doc_path.parent, metadata,
                             number_sections=bool(options.get("number-sections")))
        if fmt == "html":
            write_html(fmt_ast, out, options, doc_path.parent)
        elif fmt == "docx":
            write_docx(fmt_ast, out, options, doc_path.parent)
        else:
            typ = write_pdf(fmt_ast, out, options, doc_path.parent, work)
            if options.get("keep-typ"):
                shutil.copy(typ, staging / typ.name)
        return time.perf_counter() - start

    # The formats are independent Pandoc/Typst runs: written side by side, reported in order.
    with ThreadPoolExecutor(max_workers=len(formats)) as pool:
        futures = {}
        for fmt in formats:
            log(f"  {fmt:<10} started")
            futures[fmt] = pool.submit(write, fmt)
    for fmt, future in futures.items():
        record(fmt, future.result())
