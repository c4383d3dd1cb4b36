"""Run a document's python cells and inline expressions in one Jupyter kernel.

The kernel is this interpreter (``sys.executable -m ipykernel_launcher``),
started in the document's directory, as Quarto's jupyter engine does; cells run
once, in order, and inline expressions are evaluated with ``user_expressions``
after the cells before them (Quarto's protocol, see notebook.py in quarto-cli).
"""

from __future__ import annotations

import ast
import contextlib
import os
import queue
import re
import sys
import sysconfig
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from jupyter_client import KernelManager
from jupyter_client.kernelspec import KernelSpec, KernelSpecManager

from renderer.errors import RenderError
from renderer.qmd import CodeCell, Prose, QmdDocument

_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
_CELL_FRAME = re.compile(r"^Cell In\[\d+\], line (\d+)")
_FILE_FRAME = re.compile(r"^File (.+?):(\d+)")


@dataclass(frozen=True)
class Output:
    """One output of a cell: a stream, a rich display or an error.

    Attributes
    ----------
    kind : str
        ``stream``, ``display`` (display_data / execute_result) or ``error``.
    name : str
        For streams, ``stdout`` or ``stderr``.
    data : dict
        For displays, the mime bundle; for streams, ``{"text/plain": text}``;
        for errors, ``{"text/plain": traceback}``.
    """

    kind: str
    name: str = ""
    data: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class CellResult:
    """A cell with its outputs (empty when it was not evaluated)."""

    cell: CodeCell
    outputs: tuple[Output, ...]


@dataclass(frozen=True)
class ExecutedDocument:
    """Results in document order: one CellResult per cell, one dict per prose chunk.

    Attributes
    ----------
    results : tuple
        For each chunk of the document, a CellResult (cells) or a dict mapping
        each inline expression to its markdown text (prose).
    """

    results: tuple[CellResult | dict[str, str], ...]


class _ThisPython(KernelSpecManager):
    """Kernel spec that is always this interpreter, whatever kernels are installed."""

    def get_kernel_spec(self, kernel_name: str) -> KernelSpec:
        return KernelSpec(
            argv=[sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
            language="python", display_name="Python 3", name=kernel_name,
        )


def execute_document(doc: QmdDocument, defaults: dict[str, Any],
                     figure_size: tuple[float, float, float], env: dict[str, str],
                     runtime_dir: Path, gate: Callable[[], None] | None = None) -> ExecutedDocument:
    """Execute every cell and inline expression of ``doc`` in one kernel.

    Parameters
    ----------
    doc : QmdDocument
        The parsed document.
    defaults : dict
        Document-wide cell options (`execute:` in the metadata).
    figure_size : tuple
        (width in, height in, dpi) for matplotlib figures.
    env : dict
        Extra environment variables for the kernel (e.g. REPORT_OUTPUT_DIR).
    runtime_dir : Path
        Scratch directory for the kernel's connection sockets.
    gate : callable, optional
        Called before any cell runs (e.g. the data checks); an exception from
        it stops everything. Meanwhile the kernel starts and runs the import
        statements that open the first cell: imports read no data, and the
        two overlap on a machine with two cores.

    Returns
    -------
    ExecutedDocument

    Raises
    ------
    RenderError
        When a cell without ``error: true`` raises, or an inline expression fails.

    Examples
    --------
    >>> import tempfile
    >>> from renderer.qmd import parse_qmd
    >>> d = Path(tempfile.mkdtemp())
    >>> _ = (d / "a.qmd").write_text("```{python}\\nx = 20 + 1\\nprint(x)\\n```\\n\\nx is `{python} x`\\n")
    >>> run = execute_document(parse_qmd(d / "a.qmd"), {}, (7, 5, 96), {}, d)
    >>> run.results[0].outputs[0].data["text/plain"]
    '21\\n'
    >>> run.results[1]
    {'x': '21'}
    """
    needs_kernel = any(
        isinstance(c, Prose) and c.expressions
        or isinstance(c, CodeCell) and c.options.get("eval", defaults.get("eval", True))
        for c in doc.chunks
    )
    if not needs_kernel:
        if gate is not None:
            gate()
        return ExecutedDocument(
            results=tuple(CellResult(c, ()) if isinstance(c, CodeCell) else {} for c in doc.chunks)
        )
    kernel = Kernel(cwd=doc.path.parent, env=env, runtime_dir=runtime_dir)
    try:
        # The kernel works through these while the gate runs; run() below waits its turn.
        kernel.submit(setup_code(figure_size))
        if gate is not None:
            kernel.submit(leading_imports(doc, defaults))
            gate()
        results: list[CellResult | dict[str, str]] = []
        for chunk in doc.chunks:
            if isinstance(chunk, CodeCell):
                results.append(run_cell(kernel, doc.path, chunk, defaults))
            else:
                results.append(run_inline(kernel, doc.path, chunk))
        return ExecutedDocument(results=tuple(results))
    finally:
        kernel.shutdown()


def setup_code(figure_size: tuple[float, float, float]) -> str:
    width, height, dpi = figure_size
    # PNG at twice the dpi (Quarto's default "retina") for HTML/DOCX, SVG for the PDF.
    return (
        "try:\n"
        "    import matplotlib.pyplot as _qr_plt\n"
        "    from matplotlib_inline.backend_inline import set_matplotlib_formats as _qr_fmt\n"
        f"    _qr_plt.rcParams['figure.figsize'] = ({width}, {height})\n"
        f"    _qr_plt.rcParams['figure.dpi'] = {dpi}\n"
        "    _qr_plt.rcParams['svg.hashsalt'] = 'report'\n"
        "    _qr_fmt('retina', 'svg')\n"
        "    del _qr_plt, _qr_fmt\n"
        "except ImportError:\n"
        "    pass\n"
    )


def leading_imports(doc: QmdDocument, defaults: dict[str, Any]) -> str:
    """The import statements that open the first evaluated cell, each allowed to fail.

    A failing import fails again, with its full message, when the cell runs.

    Examples
    --------
    >>> from renderer.qmd import parse_qmd
    >>> import tempfile
    >>> d = Path(tempfile.mkdtemp())
    >>> _ = (d / "a.qmd").write_text("```{python}\\nimport math\\nfrom os import path\\nx = 1\\nimport json\\n```\\n")
    >>> print(leading_imports(parse_qmd(d / "a.qmd"), {}))
    try:
        import math
    except Exception:
        pass
    try:
        from os import path
    except Exception:
        pass
    """
    first = next((c for c in doc.chunks if isinstance(c, CodeCell)
                  and {**defaults, **c.options}.get("eval", True)), None)
    if first is None:
        return ""
    try:
        body = ast.parse(first.code).body
    except SyntaxError:
        return ""
    imports = []
    for statement in body:
        if not isinstance(statement, (ast.Import, ast.ImportFrom)):
            break
        imports.append(f"try:\n    {ast.unparse(statement)}\nexcept Exception:\n    pass")
    return "\n".join(imports)


def run_cell(kernel: Kernel, path: Path, cell: CodeCell, defaults: dict[str, Any]) -> CellResult:
    """Run one code cell under its options; an error is a RenderError naming ``path``, the line and the cell."""
    option = {**defaults, **cell.options}.get
    if not option("eval", True):
        return CellResult(cell, ())
    label = f"cell '{cell.label}'" if cell.label else f"the cell at line {cell.line}"
    try:
        reply, outputs = kernel.run(cell.code)
    except RenderError as exc:
        raise RenderError(f"{path}:{cell.line}: {label}: {exc}") from exc
    if reply["status"] == "error" and not option("error", False):
        error = next((o for o in outputs if o.kind == "error"), None)
        traceback = error.data["text/plain"] if error else f"{reply.get('ename')}: {reply.get('evalue')}"
        line = _error_line(traceback, cell)
        raise RenderError(
            f"{path}:{line}: {label} raised {reply.get('ename')}: {reply.get('evalue')}",
            detail=_user_traceback(traceback),
        )
    if not option("warning", True):
        # Quarto's warning: false drops the stderr stream, where warnings go.
        outputs = [o for o in outputs if not (o.kind == "stream" and o.name == "stderr")]
    return CellResult(cell, tuple(outputs))


def run_inline(kernel: Kernel, path: Path, prose: Prose) -> dict[str, str]:
    """The printed value of each inline expression in ``prose``, keyed by its index there."""
    if not prose.expressions:
        return {}
    expressions = {str(i): e.expr for i, e in enumerate(prose.expressions)}
    reply, _ = kernel.run("", silent=True, user_expressions=expressions)
    values: dict[str, str] = {}
    for key, expression in zip(expressions, prose.expressions):
        result = reply["user_expressions"][key]
        if result["status"] != "ok":
            raise RenderError(
                f"{path}:{expression.line}: inline expression `{{python}} {expression.expr}` "
                f"raised {result.get('ename')}: {result.get('evalue')}"
            )
        values[expression.expr] = _inline_text(result["data"])
    return values


def _inline_text(data: dict[str, Any]) -> str:
    """Quarto inserts text/markdown, else text/plain, as markdown; str shows without quotes."""
    if "text/markdown" in data:
        return data["text/markdown"]
    text = data.get("text/plain", "")
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "'\"":
        try:
            value = ast.literal_eval(text)
        except (ValueError, SyntaxError):
            return text
        if isinstance(value, str):
            return value
    return text


def _error_line(traceback: str, cell: CodeCell) -> int:
    match = next((m for m in map(_CELL_FRAME.match, traceback.splitlines()) if m), None)
    if match is None:
        return cell.line
    return cell.code_line + int(match.group(1)) - 1


def _user_traceback(traceback: str) -> str:
    """Keep the frames of the cell and of project code; drop stdlib and site-packages."""
    library_roots = {
        os.path.realpath(sysconfig.get_paths()[key]) for key in ("stdlib", "platstdlib", "purelib", "platlib")
    }
    kept = []
    for block in traceback.split("\n\n"):
        frame = _FILE_FRAME.match(block)
        if frame:
            file = os.path.realpath(os.path.expanduser(frame.group(1)))
            if any(file.startswith(root + os.sep) for root in library_roots):
                continue
        kept.append(block)
    return "\n\n".join(kept).strip("\n")


class Kernel:
    """One live Python kernel in ``cwd``: code is submitted (no wait) or run (outputs and reply).

    With :func:`run_cell` and :func:`run_inline` it is the session API that
    :func:`execute_document` and ``make preview`` (which keeps a kernel between
    renders) share; :meth:`shutdown` ends it.
    """

    def __init__(self, cwd: Path, env: dict[str, str], runtime_dir: Path) -> None:
        # IPC sockets in a private directory: no TCP port, nothing left behind.
        self._manager = KernelManager(
            kernel_spec_manager=_ThisPython(), kernel_name="python3",
            transport="ipc", ip=str(runtime_dir / "kernel"),
        )
        self._manager.connection_file = str(runtime_dir / "kernel.json")
        kernel_env = {**os.environ, **env, "MPLBACKEND": "module://matplotlib_inline.backend_inline"}
        self._client = None
        try:
            self._manager.start_kernel(cwd=str(cwd), env=kernel_env)
            self._client = self._manager.blocking_client()
            self._client.start_channels()
            self._client.wait_for_ready(timeout=60)
        except RuntimeError as exc:
            self.shutdown()
            raise RenderError(f"the python kernel did not start: {exc}") from exc
        except BaseException:
            # An interrupt while it starts (the data checks run meanwhile) leaves no kernel behind;
            # what the half-started kernel says about being killed would hide the interrupt.
            with contextlib.suppress(Exception):
                self.shutdown()
            raise

    def submit(self, code: str) -> None:
        """Queue ``code`` silently without waiting; its messages are skipped by later runs."""
        if code:
            self._client.execute(code, silent=True, store_history=False, allow_stdin=False)

    def run(self, code: str, silent: bool = False,
            user_expressions: dict[str, str] | None = None) -> tuple[dict[str, Any], list[Output]]:
        outputs: list[Output] = []

        def collect(msg: dict[str, Any]) -> None:
            kind, content = msg["msg_type"], msg["content"]
            if kind == "stream":
                if outputs and outputs[-1].kind == "stream" and outputs[-1].name == content["name"]:
                    previous = outputs.pop()
                    text = previous.data["text/plain"] + content["text"]
                else:
                    text = content["text"]
                outputs.append(Output("stream", content["name"], {"text/plain": text}))
            elif kind in ("display_data", "execute_result"):
                outputs.append(Output("display", "", dict(content["data"])))
            elif kind == "error":
                text = _ANSI.sub("", "\n".join(content["traceback"]))
                outputs.append(Output("error", content["ename"], {"text/plain": text}))

        msg_id = self._client.execute(code, silent=silent, store_history=not silent,
                                      user_expressions=user_expressions or {}, allow_stdin=False)
        idle = False
        while not idle:
            message = self._next(self._client.get_iopub_msg)
            if message["parent_header"].get("msg_id") != msg_id:
                continue
            if message["msg_type"] == "status":
                idle = message["content"]["execution_state"] == "idle"
            else:
                collect(message)
        while True:
            reply = self._next(self._client.get_shell_msg)
            if reply["parent_header"].get("msg_id") == msg_id:
                return reply["content"], outputs

    def _next(self, receive: Callable[..., dict[str, Any]]) -> dict[str, Any]:
        """The next message; a kernel that died (os._exit, segfault) is an error, not a hang."""
        while True:
            try:
                return receive(timeout=1)
            except queue.Empty:
                if not self._manager.is_alive():
                    raise RenderError("the python kernel died while running the document") from None

    def shutdown(self) -> None:
        if self._client is not None:
            self._client.stop_channels()
        # Nothing of the kernel is needed any more (its cells are done and their files written,
        # or the build stopped), so a kill is enough; shutdown_kernel would interrupt first and
        # poll a tenth of a second.
        process = getattr(self._manager.provisioner, "process", None)
        if process is None:
            self._manager.shutdown_kernel(now=True)
            return
        process.kill()
        process.wait()
        self._manager.cleanup_resources()
