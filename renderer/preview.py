"""``make preview``: the HTML report on localhost, updated as its sources change.

``python -m renderer.preview report.qmd [--port N]`` renders the document to
HTML with the built-in renderer, serves it on 127.0.0.1 only, and watches
every input a build reads (:func:`renderer.build.input_files`: the document,
the project and study files, the data, the dictionary, the engine's code).
The page reloads itself when a render finishes and shows the abstract's word
count against the limit; a failure shows in the page, above the last good
render.

What is reused, as Quarto's keep-alive kernel and jupyter-cache decide it:
the key of an execution is the source of every code cell and the content of
every input but the prose. While the key holds, the kernel stays alive and a
prose edit reuses the cells' outputs; an inline expression seen before keeps
its value, a new one is evaluated in the live kernel only when no later cell
assigns a name it reads (otherwise its value could differ from the one a
full render computes) - else, and whenever the key changes, the document is
executed again in a new kernel, with the data checks first when their inputs
changed. So no state of an earlier render reaches a number.

Preview outputs go to ``.build/preview/`` of the study's folder; ``_output/``
is left to ``make report``.
"""

from __future__ import annotations

import argparse
import ast as pyast
import hashlib
import http.server
import json
import os
import shutil
import signal
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from renderer.assemble import assemble
from renderer.ast import build_ast, format_ast
from renderer.build import input_files
from renderer.config import DocumentConfig, load_config
from renderer.errors import GateFailed, RenderError
from renderer.kernel import (CellResult, ExecutedDocument, Kernel, leading_imports, run_cell, run_inline,
                             setup_code)
from renderer.qmd import CodeCell, Prose, QmdDocument, parse_qmd
from renderer.render import PreRender, builtin_engines
from renderer.titleblock import normalise_byline
from renderer.writers import NOT_METADATA, write_html

POLL_SECONDS = 0.3
_RELOAD = """<script>
(function () {{
  var shown = {version};
  function poll() {{
    fetch("/__status").then(function (r) {{ return r.json(); }}).then(function (s) {{
      if (s.version !== shown) {{ location.reload(); }} else {{ setTimeout(poll, 300); }}
    }}).catch(function () {{ setTimeout(poll, 1000); }});
  }}
  setTimeout(poll, 300);
}})();
</script>"""
_BANNER = ('<div id="preview-status" style="position:sticky;top:0;z-index:9;padding:.35rem .8rem;'
           'font:13px/1.4 sans-serif;background:{background};color:#111;border-bottom:1px solid #999">{text}</div>')


@dataclass
class Status:
    version: int = 0
    state: str = "starting"  # rendering | ok | failed
    message: str = ""
    words: str = ""
    last: str = ""  # what the last render did: executed, or reused


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _assigned_names(cell: CodeCell) -> set[str]:
    """Names a cell binds (assignments, imports, definitions, loop targets); None-safe on syntax errors."""
    try:
        tree = pyast.parse(cell.code)
    except SyntaxError:
        return {"*"}
    names: set[str] = set()
    for node in pyast.walk(tree):
        if isinstance(node, pyast.Name) and isinstance(node.ctx, (pyast.Store, pyast.Del)):
            names.add(node.id)
        elif isinstance(node, (pyast.FunctionDef, pyast.AsyncFunctionDef, pyast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, (pyast.Import, pyast.ImportFrom)):
            names.update((a.asname or a.name).split(".")[0] for a in node.names)
        elif isinstance(node, (pyast.Global, pyast.Nonlocal)):
            names.add("*")
    return names


def _read_names(expression: str) -> set[str]:
    try:
        tree = pyast.parse(expression, mode="eval")
    except SyntaxError:
        return {"*"}
    return {n.id for n in pyast.walk(tree) if isinstance(n, pyast.Name)}


class Session:
    """One document's preview: the live kernel, the last execution and what it was keyed on."""

    def __init__(self, doc_path: Path, out_dir: Path, log=print) -> None:
        self.doc_path = Path(doc_path).resolve()
        self.out_dir = Path(out_dir)
        self.log = log
        self.kernel: Kernel | None = None
        self.key: str | None = None
        self.checks_key: str | None = None
        self.cells: dict[str, CellResult] = {}
        # (expression, how many code cells precede it) -> printed text, from the last execution
        self.values: dict[tuple[str, int], str] = {}
        self._runtime = Path(tempfile.mkdtemp(prefix="preview-"))

    # -- keys ------------------------------------------------------------

    def _execution_key(self, doc: QmdDocument) -> str:
        digest = hashlib.sha256()
        for chunk in doc.chunks:
            if isinstance(chunk, CodeCell):
                digest.update(json.dumps([chunk.code, chunk.options], sort_keys=True, default=str).encode())
        digest.update(os.environ.get("DATA", "").encode())
        for path in input_files(self.doc_path):
            if path == self.doc_path:
                continue
            digest.update(str(path).encode())
            try:
                digest.update(hashlib.sha256(path.read_bytes()).digest())
            except OSError:
                digest.update(b"missing")
        return digest.hexdigest()

    def _checks_key(self) -> str:
        from data_checks.stamp import inputs_digest

        return str(inputs_digest(self.doc_path.parent / "study.yml"))

    # -- execution -------------------------------------------------------

    def _execute(self, doc: QmdDocument, config: DocumentConfig) -> ExecutedDocument:
        """Every cell and expression in a new kernel (the data checks first, when their inputs changed)."""
        self.close_kernel()
        files = self.out_dir / "files"
        shutil.rmtree(files, ignore_errors=True)
        files.mkdir(parents=True)
        env = {"REPORT_OUTPUT_DIR": str(files), "REPORT_PUBLISHED_DIR": str(files),
               "REPORT_RENDERER": builtin_engines() + ", preview"}
        checks_key = self._checks_key() if config.pre_render else None
        # As in make report, the checks run while the kernel starts and imports; no cell runs before they pass.
        checks = PreRender(config, self.doc_path, self.out_dir, capture=True) \
            if config.pre_render and checks_key != self.checks_key else None
        try:
            kernel = Kernel(cwd=self.doc_path.parent, env=env, runtime_dir=self._runtime)
            self.kernel = kernel
            kernel.submit(setup_code(config.figure_size()))
            if checks is not None:
                kernel.submit(leading_imports(doc, config.execute))
                checks.wait()
                self.checks_key = checks_key
        finally:
            if checks is not None:
                checks.stop()
        results: list = []
        self.values = {}
        preceding = 0
        for chunk in doc.chunks:
            if isinstance(chunk, CodeCell):
                results.append(run_cell(kernel, doc.path, chunk, config.execute))
                preceding += 1
            else:
                values = run_inline(kernel, doc.path, chunk)
                self.values.update({(expr, preceding): text for expr, text in values.items()})
                results.append(values)
        self.cells = {json.dumps([c.code, c.options], sort_keys=True, default=str): r
                      for c, r in zip(doc.chunks, results) if isinstance(c, CodeCell)}
        return ExecutedDocument(results=tuple(results))

    def _reuse(self, doc: QmdDocument) -> tuple[ExecutedDocument, int] | None:
        """The last execution's results for a prose edit; None when a full execution is needed."""
        code_cells = [c for c in doc.chunks if isinstance(c, CodeCell)]
        later_assignments: list[set[str]] = []
        names: set[str] = set()
        for cell in reversed(code_cells):
            later_assignments.insert(0, set(names))
            names |= _assigned_names(cell)
        later_assignments.append(set())  # after the last cell nothing is assigned
        results: list = []
        evaluated = 0
        preceding = 0
        for chunk in doc.chunks:
            if isinstance(chunk, CodeCell):
                results.append(self.cells[json.dumps([chunk.code, chunk.options], sort_keys=True, default=str)])
                preceding += 1
                continue
            values = {}
            new = []
            for expression in chunk.expressions:
                cached = self.values.get((expression.expr, preceding))
                if cached is not None:
                    values[expression.expr] = cached
                elif "*" in later_assignments[preceding] or _read_names(expression.expr) & later_assignments[preceding]:
                    return None
                else:
                    new.append(expression)
            if new:
                computed = run_inline(self.kernel, doc.path, Prose(text="", line=chunk.line, expressions=tuple(new)))
                self.values.update({(expr, preceding): text for expr, text in computed.items()})
                values.update(computed)
                evaluated += len(new)
            results.append(values)
        return ExecutedDocument(results=tuple(results)), evaluated

    # -- render ----------------------------------------------------------

    def render(self) -> tuple[Path, str, str]:
        """Render the HTML; return its path, the word count line and what was done."""
        doc = parse_qmd(self.doc_path)
        config = load_config(self.doc_path, doc.front_matter)
        key = self._execution_key(doc)
        reused = self._reuse(doc) if self.kernel is not None and key == self.key else None
        if reused is None:
            run = self._execute(doc, config)
            self.key = key
            done = "executed every cell in a new kernel"
        else:
            run, evaluated = reused
            done = f"prose edit: cell outputs reused, {evaluated} new inline expression(s) evaluated"
        work = Path(tempfile.mkdtemp(prefix="preview-work-"))
        try:
            byline = normalise_byline(config.metadata, str(self.doc_path))
            assembled = assemble(doc, run, config.metadata, byline, config.execute, work / "media")
            options = config.formats.get("html", {})
            metadata = {k: v for k, v in options.items() if k not in NOT_METADATA}
            fmt_ast = format_ast(build_ast(assembled, self.doc_path), "html", assembled.svg_for_png,
                                 self.doc_path.parent, metadata, number_sections=bool(options.get("number-sections")))
            out = self.out_dir / f".{self.doc_path.stem}.html"
            write_html(fmt_ast, out, options, self.doc_path.parent)
            final = self.out_dir / f"{self.doc_path.stem}.html"
            os.replace(out, final)
        finally:
            shutil.rmtree(work, ignore_errors=True)
        return final, self._word_count(assembled.markdown, config), done

    @staticmethod
    def _word_count(markdown: str, config: DocumentConfig) -> str:
        from analysis.exports import plain_text, word_count

        start = markdown.find("::: {#abstract-body}")
        if start < 0:
            return ""
        end = markdown.find("\n:::", start + 5)
        body = plain_text(markdown[start + len("::: {#abstract-body}"):end])
        limit = (config.metadata.get("study") or {}).get("word_limit")
        words = word_count(body)
        return f"abstract: {words} words" + (f" (limit {limit})" if limit else "")

    def close_kernel(self) -> None:
        if self.kernel is not None:
            self.kernel.shutdown()
            self.kernel = None

    def close(self) -> None:
        self.close_kernel()
        shutil.rmtree(self._runtime, ignore_errors=True)


def _fingerprint(doc: Path) -> tuple:
    stamps = []
    for path in input_files(doc):
        try:
            stat = path.stat()
            stamps.append((str(path), stat.st_mtime_ns, stat.st_size))
        except OSError:
            stamps.append((str(path), None, None))
    return tuple(stamps)


class _Handler(http.server.BaseHTTPRequestHandler):
    server_version = "preview"

    def log_message(self, format, *args) -> None:  # noqa: A002 (the base class's name)
        pass

    def do_GET(self) -> None:  # noqa: N802 (the base class's name)
        preview = self.server.preview  # type: ignore[attr-defined]
        status: Status = preview.status
        if self.path.startswith("/__status"):
            body = json.dumps(status.__dict__).encode()
            content_type = "application/json"
        elif self.path in ("/", f"/{preview.html.name}"):
            body = preview.page().encode()
            content_type = "text/html; charset=utf-8"
        else:
            self.send_error(404)
            return
        self.send_response(200)
        self.send_header("Content-Type", content_type)
        self.send_header("Cache-Control", "no-store")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


class Preview:
    """The server and the watch loop around a :class:`Session`."""

    def __init__(self, doc: Path, port: int, log=print) -> None:
        self.doc = Path(doc).resolve()
        self.log = log
        self.session = Session(self.doc, self.doc.parent / ".build" / "preview", log)
        self.session.out_dir.mkdir(parents=True, exist_ok=True)
        self.html = self.session.out_dir / f"{self.doc.stem}.html"
        self.status = Status()
        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", port), _Handler)
        self.server.preview = self  # type: ignore[attr-defined]
        self.port = self.server.server_address[1]

    def page(self) -> str:
        try:
            html = self.html.read_text(encoding="utf-8")
        except OSError:
            html = "<html><body><p>Rendering...</p></body></html>"
        status = self.status
        if status.state == "failed":
            banner = _BANNER.format(background="#fbd5d5",
                                    text="Render failed (the page below is the last good one):<pre>"
                                    + _escape(status.message) + "</pre>")
        else:
            banner = _BANNER.format(background="#e8f0e8", text=_escape(f"{status.words} · {status.last}"))
        reload = _RELOAD.format(version=status.version)
        html = html.replace("<body>", "<body>" + banner, 1) if "<body>" in html else banner + html
        return html.replace("</body>", reload + "</body>", 1) if "</body>" in html else html + reload

    def render_once(self) -> None:
        self.status.state = "rendering"
        started = time.perf_counter()
        try:
            _, words, done = self.session.render()
        except (RenderError, OSError) as exc:
            self.session.close_kernel()  # a failed execution leaves no state to build on
            self.session.key = None
            detail = getattr(exc, "detail", "")
            self.status.message = str(exc) + (f"\n{detail}" if detail else "")
            self.status.state = "failed"
            self.log(f"preview: render failed: {exc}")
        else:
            self.status.words, self.status.last, self.status.state = words, done, "ok"
            self.status.message = ""
            self.log(f"preview: {done} ({time.perf_counter() - started:.2f} s); {words}")
        self.status.version += 1

    def serve(self) -> None:
        thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        thread.start()
        self.log(f"preview: http://127.0.0.1:{self.port}/ (Ctrl-C stops)")
        seen = _fingerprint(self.doc)
        self.render_once()
        while True:
            time.sleep(POLL_SECONDS)
            now = _fingerprint(self.doc)
            if now != seen:
                time.sleep(POLL_SECONDS)  # let an editor finish writing
                seen = _fingerprint(self.doc)
                self.render_once()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.session.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m renderer.preview", description=__doc__.splitlines()[0])
    parser.add_argument("document", type=Path)
    parser.add_argument("--port", type=int, default=int(os.environ.get("PORT") or 4848),
                        help="port on 127.0.0.1 (default: $PORT, else 4848; 0 picks a free one)")
    args = parser.parse_args(argv)
    for variable in ("DATA", "REDCAP_DICTIONARY"):
        if os.environ.get(variable):
            os.environ[variable] = os.path.abspath(os.environ[variable])
    if not args.document.is_file():
        print(f"error: {args.document}: no such file", file=sys.stderr)
        return 1
    signal.signal(signal.SIGTERM, lambda signum, frame: (_ for _ in ()).throw(KeyboardInterrupt()))
    try:
        preview = Preview(args.document.resolve(), args.port, log=lambda line: print(line, flush=True))
    except OSError as exc:
        print(f"error: cannot serve on 127.0.0.1:{args.port}: {exc.strerror}", file=sys.stderr)
        return 1
    try:
        preview.serve()
    except KeyboardInterrupt:
        print("preview: stopped", flush=True)
        return 0
    finally:
        # A second Ctrl-C (or the same one, forwarded by a wrapper) must not cut the clean-up short:
        # the kernel and the server go down whatever the user presses meanwhile.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        preview.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
