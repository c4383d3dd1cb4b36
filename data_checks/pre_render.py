"""The data checks as a Quarto project's pre-render step.

A study's ``_quarto.yml`` declares ``project: pre-render: <path to this file>``,
so ``quarto render``, ``quarto preview``, an editor's Render button and the
built-in renderer all run the checks of the study in the current folder before
any cell executes, and stop when they fail.

Quarto runs a ``.py`` pre-render script with ``QUARTO_PYTHON`` or the first
``python3`` on PATH, which may lack the project's packages: the script then
re-runs itself with the project's ``.venv`` interpreter. The checks are skipped
when they already passed on exactly these inputs (content, not dates) and
their Data Docs are in place. Data Docs go to ``$REPORT_VALIDATION_DIR`` (the
renderer's final output folder's ``validation/``: under ``make report`` Quarto
renders into a temporary folder), else ``$QUARTO_PROJECT_OUTPUT_DIR/validation``
(set by Quarto), else ``_output/validation``.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

PROJECT = Path(__file__).resolve().parent.parent


def _project_python() -> Path | None:
    """The project's virtual environment interpreter, when this is not it."""
    venv = PROJECT / ".venv"
    python = venv / "bin" / "python"
    if not python.is_file() or Path(sys.prefix).resolve() == venv.resolve():
        return None
    return python


def main() -> int:
    python = _project_python()
    if python is not None:
        os.execv(python, [str(python), __file__, *sys.argv[1:]])
    sys.path.insert(0, str(PROJECT))
    from data_checks.stamp import inputs_digest, passed_before

    docs_dir = Path(os.environ.get("REPORT_VALIDATION_DIR")
                    or Path(os.environ.get("QUARTO_PROJECT_OUTPUT_DIR") or "_output") / "validation")
    if passed_before("study.yml", inputs_digest("study.yml"), docs_dir / "index.html"):
        print("data checks: passed before on these exact inputs (Data Docs in place)")
        return 0
    from data_checks.__main__ import main as check

    return check(["--study", "study.yml", "--docs-dir", str(docs_dir), *sys.argv[1:]])


if __name__ == "__main__":
    sys.exit(main())
