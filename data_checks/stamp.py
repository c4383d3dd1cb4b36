"""Whether the data checks already passed on exactly these inputs.

The stamp is the SHA-256 of everything the checks read (the cohort, the
dictionary, the study file, the engine's code and the pinned environment),
written to ``.build/checks.ok`` in the study's folder when the checks pass.
Content decides, not modification times: a cohort replaced by an older file
is new data. Reading it imports no pandas and no Great Expectations.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import yaml

ENGINE = Path(__file__).resolve().parent.parent
STAMP = Path(".build") / "checks.ok"


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


def passed_before(study_file: str | Path, digest: str | None, docs_index: Path | None) -> bool:
    """True when the checks passed on inputs with this digest and their Data Docs are still there."""
    if digest is None or (docs_index is not None and not docs_index.is_file()):
        return False
    stamp = Path(study_file).parent / STAMP
    return stamp.is_file() and stamp.read_text().strip() == digest


def record_pass(study_file: str | Path, digest: str | None) -> None:
    if digest is None:
        return
    stamp = Path(study_file).parent / STAMP
    stamp.parent.mkdir(parents=True, exist_ok=True)
    stamp.write_text(digest + "\n")
