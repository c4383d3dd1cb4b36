"""All-or-nothing builds: what a report is built from, one build at a time, published in one step.

- **Inputs.** A build's inputs are the document, its project and metadata
  files, the study's data and dictionary, the files its format options name,
  the engine's code and templates, the pinned environment, and the settings
  that choose the data and the renderer. Their SHA-256 (content, not dates)
  decides whether the report is up to date.
- **Record.** Every published output folder holds ``build.json``: the inputs'
  digest and the SHA-256 of every file the build wrote, so the folder can be
  checked to be one complete build.
- **Lock.** One build of an output folder at a time: a second waits for the
  first (``fcntl.flock`` on a file beside the folder) and then checks again
  whether there is anything left to do.
- **Publish.** A build is written into a staging folder beside the output
  folder and exchanged with it in one ``renameat2(RENAME_EXCHANGE)`` call:
  at every instant the output folder is the previous build or the new one,
  whole. Where the kernel cannot exchange (not Linux), two renames leave a
  window of microseconds without an output folder, never a mixed one.

This module imports nothing heavy: ``python -m renderer`` answers "up to
date" from it without starting pandas, Jupyter or Typst.
"""

from __future__ import annotations

import ctypes
import errno
import fcntl
import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import yaml

ENGINE = Path(__file__).resolve().parent.parent
RECORD = "build.json"
RENDERERS = ("auto", "builtin", "quarto")
#: Engine files every build depends on, relative to the repository.
_ENGINE_GLOBS = ("analysis/*.py", "data_checks/*.py", "renderer/*.py", "templates/**/*", "requirements.lock")
#: Format options that name files.
_FILE_OPTIONS = ("css", "template-partials", "reference-doc", "filters", "include-after-body")


def _yaml(path: Path) -> dict:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError):
        return {}
    return data if isinstance(data, dict) else {}


def _front_matter(doc: Path) -> dict:
    text = doc.read_text(encoding="utf-8")
    if not text.startswith("---"):
        return {}
    end = text.find("\n---", 3)
    try:
        data = yaml.safe_load(text[3:end]) if end > 0 else None
    except yaml.YAMLError:
        return {}
    return data if isinstance(data, dict) else {}


def _named_files(config: dict, base: Path) -> list[Path]:
    """Files a configuration names: metadata files, format options' files, the study's data and dictionary."""
    files = [base / str(name) for name in config.get("metadata-files") or []]
    for options in (config.get("format") or {}).values():
        if isinstance(options, dict):
            for key in _FILE_OPTIONS:
                value = options.get(key) or []
                files += [base / str(v) for v in (value if isinstance(value, list) else [value])]
    study = config.get("study")
    if isinstance(study, dict):
        for key in ("data", "dictionary", "redcap_dictionary"):
            if study.get(key):
                files.append(base / str(study[key]))
    return files


def input_files(doc: Path) -> list[Path]:
    """Every file a render of ``doc`` reads, as far as its configuration says.

    Examples
    --------
    >>> names = [p.name for p in input_files(Path("report.qmd"))]
    >>> {"report.qmd", "_quarto.yml", "study.yml", "example_cohort.csv", "dictionary.yml"} <= set(names)
    True
    >>> "render.py" in names and "requirements.lock" in names
    True
    """
    doc = Path(doc).resolve()
    files = [doc]
    project = doc.parent / "_quarto.yml"
    configs = [(_front_matter(doc), doc.parent)]
    if project.is_file():
        files.append(project)
        configs.insert(0, (_yaml(project), doc.parent))
    seen = {p.resolve() for p in files}
    while configs:
        config, base = configs.pop(0)
        for path in _named_files(config, base):
            path = path.resolve()
            if path in seen:
                continue
            seen.add(path)
            files.append(path)
            if path.suffix in (".yml", ".yaml") and path.is_file():
                configs.append((_yaml(path), path.parent))
    for variable in ("DATA", "REDCAP_DICTIONARY"):
        if os.environ.get(variable):
            files.append(Path(os.environ[variable]).resolve())
    if os.environ.get("CHANGES_SINCE"):
        files.append(doc.parent / "snapshots" / f"{os.environ['CHANGES_SINCE']}.json")
    for pattern in _ENGINE_GLOBS:
        files += sorted(p for p in ENGINE.glob(pattern) if p.is_file())
    return files


def inputs_digest(doc: Path, renderer: str, formats: tuple[str, ...] = ("html", "pdf", "docx")) -> str:
    """SHA-256 over the content of every input file, the data setting, the renderer chosen and the formats.

    A missing input counts as such (the render will say what is missing).
    """
    digest = hashlib.sha256()
    quarto = shutil.which("quarto") if renderer in ("auto", "quarto") else None
    settings = {"renderer": renderer, "quarto": quarto, "DATA": os.environ.get("DATA", ""),
                "REDCAP_DICTIONARY": os.environ.get("REDCAP_DICTIONARY", ""),
                "CHANGES_SINCE": os.environ.get("CHANGES_SINCE", ""),
                "formats": sorted(formats)}
    digest.update(json.dumps(settings, sort_keys=True).encode())
    for path in input_files(doc):
        digest.update(b"\0" + str(path).encode() + b"\0")
        try:
            digest.update(hashlib.sha256(path.read_bytes()).digest())
        except OSError:
            digest.update(b"missing")
    return digest.hexdigest()


def _file_sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def write_record(staging: Path, inputs: str, renderer: str) -> None:
    """``build.json`` in the staging folder: the inputs' digest and every file the build wrote."""
    files = {str(p.relative_to(staging)): _file_sha256(p) for p in sorted(staging.rglob("*")) if p.is_file()}
    record = {"inputs_sha256": inputs, "renderer": renderer, "files": files}
    (staging / RECORD).write_text(json.dumps(record, indent=1) + "\n", encoding="utf-8")


def read_record(output_dir: Path) -> dict | None:
    try:
        record = json.loads((Path(output_dir) / RECORD).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return record if isinstance(record, dict) else None


def complete(output_dir: Path) -> bool:
    """True when ``output_dir`` holds exactly the files its record lists, each as written.

    Examples
    --------
    >>> d = Path(tempfile.mkdtemp())
    >>> _ = (d / "report.html").write_text("<p>1</p>")
    >>> write_record(d, "abc", "builtin")
    >>> complete(d)
    True
    >>> _ = (d / "report.html").write_text("<p>2</p>")
    >>> complete(d)
    False
    """
    output_dir = Path(output_dir)
    record = read_record(output_dir)
    if record is None:
        return False
    present = {str(p.relative_to(output_dir)) for p in output_dir.rglob("*") if p.is_file()} - {RECORD}
    files = record.get("files") or {}
    return present == set(files) and all(_file_sha256(output_dir / name) == sha for name, sha in files.items())


def up_to_date(output_dir: Path, inputs: str) -> bool:
    """The output folder was built from exactly these inputs and is whole."""
    record = read_record(output_dir)
    return record is not None and record.get("inputs_sha256") == inputs and complete(output_dir)


@contextmanager
def build_lock(output_dir: Path, log=print) -> Iterator[None]:
    """Hold the lock of ``output_dir`` (a file beside it); wait, saying so, while another build holds it."""
    output_dir = Path(output_dir)
    output_dir.parent.mkdir(parents=True, exist_ok=True)
    lock_path = output_dir.parent / f".{output_dir.name}.lock"
    with open(lock_path, "a+") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            lock.seek(0)
            holder = lock.read().strip() or "another process"
            log(f"waiting: another build of {output_dir} is running (pid {holder})")
            fcntl.flock(lock, fcntl.LOCK_EX)
        lock.seek(0)
        lock.truncate()
        lock.write(str(os.getpid()))
        lock.flush()
        _remove_leftovers(output_dir)
        try:
            yield
        finally:
            lock.seek(0)
            lock.truncate()
            fcntl.flock(lock, fcntl.LOCK_UN)


def _remove_leftovers(output_dir: Path) -> None:
    """Staging folders of builds that were killed (SIGKILL, power loss); only called under the lock."""
    for leftover in output_dir.parent.glob(f".{output_dir.name}.staging-*"):
        shutil.rmtree(leftover, ignore_errors=True)


def staging_dir(output_dir: Path) -> Path:
    """A new, empty folder beside ``output_dir`` (so on its file system), for one build to write into."""
    output_dir = Path(output_dir)
    output_dir.parent.mkdir(parents=True, exist_ok=True)
    return Path(tempfile.mkdtemp(prefix=f".{output_dir.name}.staging-", dir=output_dir.parent))


_libc = ctypes.CDLL(None, use_errno=True)
_AT_FDCWD = -100
_RENAME_EXCHANGE = 2


def _exchange(a: Path, b: Path) -> bool:
    """Swap two paths atomically (Linux renameat2); False where the system cannot."""
    renameat2 = getattr(_libc, "renameat2", None)
    if renameat2 is None:
        return False
    if renameat2(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE) == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.ENOSYS, errno.EINVAL, errno.ENOTSUP):
        return False
    raise OSError(code, os.strerror(code), str(b))


def publish(staging: Path, output_dir: Path) -> None:
    """Make the staging folder the output folder in one step; the previous build is removed after.

    Examples
    --------
    >>> root = Path(tempfile.mkdtemp())
    >>> out = root / "_output"
    >>> for text in ("first", "second"):
    ...     new = staging_dir(out)
    ...     _ = (new / "report.html").write_text(text)
    ...     publish(new, out)
    >>> (out / "report.html").read_text(), sorted(p.name for p in root.iterdir())
    ('second', ['_output'])
    """
    staging, output_dir = Path(staging), Path(output_dir)
    if not output_dir.exists():
        os.rename(staging, output_dir)
        return
    if not _exchange(staging, output_dir):
        old = output_dir.parent / f"{staging.name}-old"
        os.rename(output_dir, old)
        os.rename(staging, output_dir)
        staging = old
    shutil.rmtree(staging)
