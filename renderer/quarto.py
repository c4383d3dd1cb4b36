"""Find a Quarto CLI (1.4 or newer) and render with it."""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

from renderer.errors import RenderError

MINIMUM_VERSION = (1, 4)
#: Output name -> Quarto format name.
QUARTO_FORMATS = {"html": "html", "pdf": "typst", "docx": "docx"}


def quarto_version(executable: str) -> tuple[int, ...] | None:
    """The version ``quarto --version`` reports, or None if it cannot be read.

    Examples
    --------
    >>> quarto_version("/nonexistent/quarto") is None
    True
    """
    try:
        proc = subprocess.run([executable, "--version"], capture_output=True, text=True,
                              timeout=60, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return None
    match = re.search(r"(\d+)\.(\d+)(?:\.(\d+))?", proc.stdout)
    if proc.returncode != 0 or match is None:
        return None
    return tuple(int(g) for g in match.groups() if g is not None)


def find_quarto() -> tuple[str, tuple[int, ...]] | None:
    """Path and version of a usable `quarto` on PATH (>= 1.4), else None.

    Examples
    --------
    >>> import os
    >>> os.environ["PATH"], saved = "/nonexistent", os.environ["PATH"]
    >>> find_quarto() is None
    True
    >>> os.environ["PATH"] = saved
    """
    executable = shutil.which("quarto")
    if executable is None:
        return None
    version = quarto_version(executable)
    if version is None or version[:2] < MINIMUM_VERSION:
        return None
    return executable, version


def quarto_engines(executable: str, version_text: str) -> str:
    """What renders under Quarto, for the report's provenance: Quarto and the Pandoc and Typst it runs."""
    parts = []
    for tool, name in (("pandoc", "Pandoc"), ("typst", "Typst")):
        try:
            proc = subprocess.run([executable, tool, "--version"], capture_output=True, text=True,
                                  timeout=60, check=False)
        except (OSError, subprocess.TimeoutExpired):
            continue
        # `quarto typst --version` answers on stderr.
        match = re.search(r"\d+\.\d+(?:\.\d+)?", proc.stdout + proc.stderr)
        if proc.returncode == 0 and match:
            parts.append(f"{name} {match.group(0)}")
    return f"Quarto {version_text}" + (f" ({', '.join(parts)})" if parts else "")


def _run_group(command: list[str], cwd: Path, env: dict[str, str]) -> tuple[int, str]:
    """Run Quarto in a process group of its own: an interrupted render takes its kernel down with it."""
    proc = subprocess.Popen(command, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True, start_new_session=True)
    try:
        output, _ = proc.communicate()
    except BaseException:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        raise
    return proc.returncode, output


def quarto_message(output: str) -> str:
    """Quarto's own error text: colours and the JavaScript stack trace removed, the rest kept whole.

    Examples
    --------
    >>> quarto_message("\\x1b[31mERROR: Validation of metadata file study.yml failed.\\x1b[39m\\n"
    ...                "(line 17) Field journal must be an object\\n"
    ...                "Stack trace:\\n    at validate (file:///q/quarto.js:1:2)\\n")
    'ERROR: Validation of metadata file study.yml failed.\\n(line 17) Field journal must be an object'
    """
    lines = []
    for line in re.sub(r"\x1b\[[0-9;]*m", "", output).splitlines():
        if line.strip() == "Stack trace:" or re.match(r"\s+at \S", line):
            continue
        lines.append(line.rstrip())
    return "\n".join(lines).strip()


def render_with_quarto(executable: str, doc_path: Path, formats: list[str], staging: Path,
                       output_dir: Path, engines: str = "Quarto") -> None:
    """Run ``quarto render`` for ``formats`` into ``staging``.

    All three formats are one ``--to all`` run (a comma-joined ``--to`` is one
    unknown format name to Quarto inside a project); a subset is one run per
    format. Quarto runs the project's pre-render commands itself. Its kernel
    runs ``sys.executable`` (``QUARTO_PYTHON``) and inherits
    ``REPORT_OUTPUT_DIR=staging`` and ``REPORT_PUBLISHED_DIR`` (the output
    folder as it was before this build), as the built-in renderer's kernel does.

    Raises
    ------
    RenderError
        If quarto fails (with Quarto's message) or an expected output is missing.
    """
    runs = [["all"]] if set(formats) == set(QUARTO_FORMATS) else [[f] for f in formats]
    # Quarto before 1.5 takes --output-dir only inside the project: a hidden
    # folder beside the document, emptied into the staging directory.
    with tempfile.TemporaryDirectory(prefix=".quarto-render-", dir=doc_path.parent) as rendered:
        relative = Path(rendered).name
        env = {**os.environ, "QUARTO_PYTHON": sys.executable, "REPORT_OUTPUT_DIR": str(staging),
               "REPORT_PUBLISHED_DIR": str(output_dir),
               "REPORT_RENDERER": engines, "REPORT_VALIDATION_DIR": str(staging / "validation"),
               "REPORT_PUBLISHED_VALIDATION_DIR": str(output_dir / "validation")}
        for run in runs:
            to = run[0] if run[0] == "all" else QUARTO_FORMATS[run[0]]
            command = [executable, "render", str(doc_path), "--to", to, "--output-dir", relative]
            returncode, output = _run_group(command, doc_path.parent, env)
            if returncode != 0:
                raise RenderError(f"{doc_path}: quarto render --to {to} failed (exit {returncode})",
                                  detail=quarto_message(output))
        for fmt in formats:
            expected = Path(rendered) / f"{doc_path.stem}.{fmt}"
            if not expected.is_file():
                raise RenderError(f"{doc_path}: quarto render did not produce {expected.name}")
            shutil.move(str(expected), str(staging / expected.name))
