"""Whether the data checks already passed on exactly these inputs.

The stamp is the SHA-256 of everything the checks read (the cohort, the
dictionary, the study file, the engine's code and the pinned environment),
written as ``inputs.sha256`` into the Data Docs folder of a run that passed:
the stamp travels with the pages that show that run, so pages of another
file or of a failed run never pass for these. Content decides, not
modification times: a cohort replaced by an older file is new data. Reading
it imports no pandas and no Great Expectations.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import yaml

ENGINE = Path(__file__).resolve().parent.parent
STAMP = "inputs.sha256"


def inputs_digest(study_file: str | Path, data: str | Path | None = None) -> str | None:
    """SHA-256 over what the checks read; None when an input cannot be read (the checks will say why).

    Examples
    --------
    >>> digest = inputs_digest("study.yml")
    >>> len(digest), digest == inputs_digest("study.yml")
    (64, True)
    >>> inputs_digest("study.yml", data="no/such/cohort.csv") is None
    True
    """
    study_file = Path(study_file)
    root = study_file.parent
    try:
        block = (yaml.safe_load(study_file.read_text(encoding="utf-8")) or {}).get("study") or {}
        data = Path(data) if data else Path(os.environ.get("DATA") or root / block["data"])
        inputs = [study_file, data, root / block["dictionary"]]
        redcap = os.environ.get("REDCAP_DICTIONARY") or block.get("redcap_dictionary")
        if redcap:
            inputs.append(root / redcap)
    except (OSError, yaml.YAMLError, KeyError, TypeError, AttributeError):
        return None
    inputs += sorted(ENGINE.glob("analysis/*.py")) + sorted(ENGINE.glob("data_checks/*.py"))
    inputs.append(ENGINE / "requirements.lock")
    digest = hashlib.sha256()
    for path in inputs:
        try:
            content = Path(path).read_bytes()
        except OSError:
            return None
        digest.update(str(len(content)).encode() + b"\0" + content)
    return digest.hexdigest()


def passed_before(digest: str | None, docs_dir: Path) -> bool:
    """True when the Data Docs in ``docs_dir`` show a run that passed on inputs with this digest."""
    docs_dir = Path(docs_dir)
    if digest is None or not (docs_dir / "index.html").is_file():
        return False
    stamp = docs_dir / STAMP
    return stamp.is_file() and stamp.read_text().strip() == digest


def record_pass(docs_dir: Path, digest: str | None) -> None:
    if digest is None:
        return
    stamp = Path(docs_dir) / STAMP
    # A new file, not a rewrite: published copies of the Data Docs are hard links to these.
    stamp.unlink(missing_ok=True)
    stamp.write_text(digest + "\n")
