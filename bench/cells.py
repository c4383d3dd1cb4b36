"""Where the execution of a .qmd goes: its imports, then each cell, timed in this process.

``python bench/cells.py report.qmd`` (run in the document's folder) imports
the modules of :data:`IMPORTS` first, so the setup cell's time is the analysis
itself, then runs every code cell in one namespace, as the kernel does, and
prints one JSON object ``{"imports": s, "cells": {label: s}}``. Figures are
not displayed, so what the renderer adds (the kernel, capturing outputs,
inline expressions) is the build's execute stage minus these.
"""

from __future__ import annotations

import contextlib
import importlib
import io
import json
import os
import sys
import time
from pathlib import Path

IMPORTS = ("analysis.formatting", "analysis.exports", "analysis.figures", "analysis.provenance",
           "analysis.study", "analysis.tables", "matplotlib.pyplot")


def time_cells(doc_path: str | Path) -> dict:
    """Seconds of the imports and of each code cell of ``doc_path``, run in order in one namespace.

    Examples
    --------
    >>> import tempfile
    >>> doc = Path(tempfile.mkdtemp()) / "note.qmd"
    >>> _ = doc.write_text("---\\ntitle: t\\n---\\n\\n```{python}\\n#| label: sum\\nx = 1 + 2\\n```\\n")
    >>> sorted(time_cells(doc)["cells"])
    ['sum']
    """
    sys.path.insert(0, os.getcwd())
    from renderer.qmd import parse_qmd

    start = time.perf_counter()
    for name in IMPORTS:
        importlib.import_module(name)
    imports = time.perf_counter() - start
    # The kernel runs with a non-interactive backend too.
    importlib.import_module("matplotlib").use("agg")
    namespace: dict = {}
    cells = {}
    for i, cell in enumerate(parse_qmd(Path(doc_path)).cells):
        start = time.perf_counter()
        with contextlib.redirect_stdout(io.StringIO()):
            exec(compile(cell.code, f"{doc_path}:{cell.code_line}", "exec"), namespace)
        cells[cell.label or f"cell {i + 1}"] = time.perf_counter() - start
    return {"imports": imports, "cells": cells}


if __name__ == "__main__":
    print(json.dumps(time_cells(sys.argv[1])))
