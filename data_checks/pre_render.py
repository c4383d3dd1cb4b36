"""The data checks as a Quarto project's pre-render step.

A study's ``_quarto.yml`` declares ``project: pre-render: <path to this file>``,
so ``quarto render``, ``quarto preview``, an editor's Render button and the
built-in renderer all run the checks of the study in the current folder before
any cell executes, and stop when they fail.

Quarto runs a ``.py`` pre-render script with ``QUARTO_PYTHON`` or the first
``python3`` on PATH, which may lack the project's packages: the script then
re-runs itself with the project's ``.venv`` interpreter.

Where the Data Docs go: into ``.build/data-docs/`` of the study's folder (the
latest check, passed or failed, as ``make check`` writes it) and, when the
checks pass, into the report's: under ``python -m renderer`` (``make report``)
the build's staging folder (``REPORT_VALIDATION_DIR``), published with the
report or not at all; under a bare ``quarto render``
``$QUARTO_PROJECT_OUTPUT_DIR/validation``. A failed check leaves the report's
folder alone. When the checks already passed on exactly these inputs, the
published report's Data Docs (``REPORT_PUBLISHED_VALIDATION_DIR``) are carried
over and the checks are not run again.
"""

from __future__ import annotations

import signal

# Ctrl-C reaches every process of the terminal's group: this step then simply
# ends (the renderer reports the interrupt), with no traceback of an import.
if __name__ == "__main__":
    signal.signal(signal.SIGINT, signal.SIG_DFL)

import os  # noqa: E402
import shutil  # noqa: E402
import sys  # noqa: E402
from pathlib import Path  # noqa: E402

PROJECT = Path(__file__).resolve().parent.parent
LATEST_DOCS = Path(".build") / "data-docs"


def _project_python() -> Path | None:
    """The project's virtual environment interpreter, when this is not it."""
    venv = PROJECT / ".venv"
    python = venv / "bin" / "python"
    if not python.is_file() or Path(sys.prefix).resolve() == venv.resolve():
        return None
    return python


def _copy(source: Path, destination: Path) -> None:
    """Copy a Data Docs folder, as hard links where the file system allows (they are never edited in place)."""
    def link(src: str, dst: str) -> None:
        try:
            os.link(src, dst)
        except OSError:
            shutil.copy2(src, dst)

    shutil.copytree(source, destination, copy_function=link, dirs_exist_ok=True)


def main() -> int:
    python = _project_python()
    if python is not None:
        os.execv(python, [str(python), __file__, *sys.argv[1:]])
    sys.path.insert(0, str(PROJECT))
    from data_checks.stamp import inputs_digest, passed_before

    default = Path(os.environ.get("QUARTO_PROJECT_OUTPUT_DIR") or "_output") / "validation"
    docs_dir = Path(os.environ.get("REPORT_VALIDATION_DIR") or default)
    published = Path(os.environ.get("REPORT_PUBLISHED_VALIDATION_DIR") or default)
    if passed_before(inputs_digest("study.yml"), published):
        if published.resolve() != docs_dir.resolve():
            _copy(published, docs_dir)
        print("data checks: passed before on these exact inputs (their Data Docs carried over)")
        return 0
    from data_checks.__main__ import main as check

    status = check(["--study", "study.yml", "--docs-dir", str(LATEST_DOCS.resolve()), *sys.argv[1:]])
    if status == 0:
        shutil.rmtree(docs_dir, ignore_errors=True)
        _copy(LATEST_DOCS, docs_dir)
    return status


if __name__ == "__main__":
    sys.exit(main())
