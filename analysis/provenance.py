"""Where the numbers came from: the methods sentence and the provenance footer."""

from __future__ import annotations

import os
import platform
import subprocess
from dataclasses import dataclass
from datetime import datetime, timezone
from importlib.metadata import version
from pathlib import Path

from analysis import formatting
from analysis.identifiers import file_name_identifies

# Packages whose versions the report names; versions are read from metadata, not by importing.
_PACKAGES = {
    "pandas": "pandas",
    "NumPy": "numpy",
    "SciPy": "scipy",
    "lifelines": "lifelines",
    "matplotlib": "matplotlib",
    "Great Expectations": "great-expectations",
}

_CI_TRANSFORMS = {
    "linear": "plain (linear)",
    "plain": "plain (linear)",
    "log": "log-transformed",
    "log-log": "log-log-transformed",
    "logit": "logit-transformed",
    "arcsin": "arcsine-square-root-transformed",
}


def package_versions() -> dict[str, str]:
    versions = {"Python": platform.python_version()}
    versions.update({name: version(dist) for name, dist in _PACKAGES.items()})
    return versions


def generation_time() -> datetime:
    """Now, or SOURCE_DATE_EPOCH when set (reproducible builds)."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if epoch:
        return datetime.fromtimestamp(int(epoch), tz=timezone.utc)
    return datetime.now(timezone.utc).replace(microsecond=0)


def methods_sentence(study) -> str:
    """The statistical methods, generated from the settings actually used."""
    s = study.settings
    level = formatting.number(s.conf_level * 100)
    versions = package_versions()
    software = ", ".join(f"{name} {versions[name]}" for name in ("Python", "pandas", "lifelines", "SciPy"))
    return (
        f"OS was measured {study.overall_survival.definition}. "
        f"Survival was estimated by the Kaplan-Meier method with {level}% confidence intervals from Greenwood's "
        f"variance on the {_CI_TRANSFORMS[s.ci_transform]} scale and compared between groups with the two-sided "
        f"log-rank test. The response rate has an exact (Clopper-Pearson) {level}% confidence interval, SOS after "
        f"HSCT was estimated as cumulative incidence with death as a competing event (Aalen-Johansen), and "
        f"follow-up by the reverse Kaplan-Meier method. Data cut-off: "
        f"{formatting.date(s.cutoff_date, s.date_format)}. Analyses used {software}."
    )


def data_label(path: str | os.PathLike, sha256: str) -> str:
    """How outputs sent to co-authors name the cohort: its file name, or its checksum when the name may identify someone.

    The file name is judged by the same privacy patterns as the data (a
    surname, a telephone number, ...); a name that fails them is replaced by
    ``sha256:`` and the first 12 hex digits of the file's SHA-256, which the
    footer prints in full.

    Examples
    --------
    >>> data_label("data/example_cohort.csv", "ab" * 32)
    'example_cohort.csv'
    >>> data_label("/data/Иванов И.И. когорта.xlsx", "0123456789abcdef" * 4)
    'sha256:0123456789ab'
    """
    name = Path(path).name
    return f"sha256:{sha256[:12]}" if file_name_identifies(name) else name


def code_version(folder: str | os.PathLike = ".") -> str | None:
    """The project's git commit (short), with "+ uncommitted changes" when the tree differs; None outside git."""
    def git(*args: str) -> str | None:
        try:
            done = subprocess.run(["git", *args], cwd=folder, capture_output=True, text=True, timeout=10, check=False)
        except (OSError, subprocess.TimeoutExpired):
            return None
        return done.stdout.strip() if done.returncode == 0 else None

    commit = git("rev-parse", "--short", "HEAD")
    if not commit:
        return None
    changed = git("status", "--porcelain", "--untracked-files=no")
    return f"{commit} + uncommitted changes" if changed else commit


@dataclass(frozen=True)
class Provenance:
    data_file: str
    sha256: str
    cutoff: str
    generated: str
    versions: dict[str, str]
    synthetic: bool
    code: str | None = None
    renderer: str | None = None

    def to_markdown(self) -> str:
        """The footer: a rule, then one line each for the data, the build and the software."""
        packages = ", ".join(f"{k} {v}" for k, v in self.versions.items())
        built = "".join([
            f" *Code:* commit {self.code}." if self.code else "",
            f" *Rendered by:* {self.renderer}." if self.renderer else "",
        ])
        lines = [
            "---",
            "",
            f"- *Data:* `{self.data_file}`, cut-off {self.cutoff}.",
            f"- *SHA-256 of the data file:* `{self.sha256}`",
            f"- *Generated:* {self.generated}.{built}",
            f"- *Software:* {packages}.",
        ]
        if self.synthetic:
            lines.append("")
            lines.append("*These data are synthetic: no real patient is described.*")
        return "\n".join(lines)


def provenance(study) -> Provenance:
    """The footer of the report; names the data file, never a patient."""
    return Provenance(
        data_file=data_label(study.data_path, study.data_sha256),
        sha256=study.data_sha256,
        cutoff=formatting.date(study.settings.cutoff_date, study.settings.date_format),
        generated=generation_time().strftime(f"{study.settings.date_format} %H:%M UTC"),
        versions=package_versions(),
        synthetic=study.is_example,
        code=code_version(study.root),
        renderer=os.environ.get("REPORT_RENDERER"),
    )
