"""Find a Quarto CLI (1.4 or newer) and render with it."""

from __future__ import annotations

import os
import re
import shutil
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


def render_with_quarto(executable: str, doc_path: Path, formats: list[str], staging: Path,
                       engines: str = "Quarto") -> None:
    """Run ``quarto render`` for ``formats`` into ``staging``.

    Quarto's kernel runs ``sys.executable`` (``QUARTO_PYTHON``) and inherits
    ``REPORT_OUTPUT_DIR=staging``, as the built-in renderer's kernel does.

    Raises
    ------
    RenderError
        If quarto fails or an expected output is missing.
    """
    # Quarto before 1.5 takes --output-dir only inside the project: a hidden
    # folder beside the document, emptied into the staging directory.
    with tempfile.TemporaryDirectory(prefix=".quarto-render-", dir=doc_path.parent) as rendered:
        relative = Path(rendered).name
        command = [
            executable, "render", str(doc_path),
            "--to", ",".join(QUARTO_FORMATS[f] for f in formats),
            "--output-dir", relative,
        ]
        env = {**os.environ, "QUARTO_PYTHON": sys.executable, "REPORT_OUTPUT_DIR": str(staging),
               "REPORT_RENDERER": engines}
        proc = subprocess.run(command, cwd=doc_path.parent, env=env, capture_output=True, text=True, check=False)
        if proc.returncode != 0:
            tail = "\n".join((proc.stderr or proc.stdout).strip().splitlines()[-15:])
            raise RenderError(f"{doc_path}: quarto render failed (exit {proc.returncode})", detail=tail)
        for fmt in formats:
            expected = Path(rendered) / f"{doc_path.stem}.{fmt}"
            if not expected.is_file():
                raise RenderError(f"{doc_path}: quarto render did not produce {expected.name}")
            shutil.move(str(expected), str(staging / expected.name))
