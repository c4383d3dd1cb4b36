"""Where the numbers came from: the methods sentence and the provenance footer."""

from __future__ import annotations

import os
from pathlib import Path
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


def _join(clauses: list[str]) -> str:
    """"a", "a, and b", "a, b, and c": independent clauses, each with its own verb."""
    if len(clauses) < 2:
        return "".join(clauses)
    return ", ".join(clauses[:-1]) + ", and " + clauses[-1]


def _censoring(endpoint, cutoff) -> str:
    if not endpoint.from_dates:
        return "censored as recorded"
    if cutoff is None:
        return "censored at last contact"
    return "censored at last contact or at the data cut-off, whichever came first"


def _further_analyses(study, rows) -> list[str]:
    """The landmark analysis and restricted mean survival time a compared comparison declares, in one sentence each."""
    s = study.settings
    sentences = []
    for name in dict.fromkeys(row.name for row in rows if row.kind == "comparison"):
        comparison = s.comparisons[name]
        endpoint = s.endpoints[comparison.endpoint]
        parts = []
        if comparison.landmark is not None:
            switch = (f"from {formatting.in_sentence(study.label(comparison.known_from))}" if comparison.known_from
                      else "at the landmark (no date recorded)")
            parts += [f"a landmark analysis at {comparison.landmark.text} (patients still followed then, time from "
                      "the landmark)", f"a Cox model with it as a time-dependent covariate, switching {switch}"]
        if comparison.rmst is not None and not endpoint.has_competing_events:
            parts.append(f"restricted mean survival time to {comparison.rmst.text} compared as a difference and a "
                         "ratio (as survRM2)")
        if parts:
            by = formatting.in_sentence(study.label(comparison.by))
            listed = ", ".join(parts[:-1]) + ", and " + parts[-1] if len(parts) > 2 else " and ".join(parts)
            sentences.append(f"By {by}, {endpoint.short} was also compared in {listed}.")
    return sentences


def _landmark_tests(s, rows) -> list[str]:
    """Which test the p-value next to each group's landmark estimate is: a whole-curve test reads as a test at the
    landmark unless the methods say otherwise. The landmarks are those the outcomes table gives by group."""
    compared = {}
    for row in rows:
        if row.kind != "comparison":
            continue
        comparison = s.comparisons[row.name]
        at = row.at or next(iter(s.endpoints[comparison.endpoint].landmarks), None)
        compared.setdefault(comparison.endpoint, ([], []))
        compared[comparison.endpoint][0].append(comparison)
        if at is not None and at.adjective not in compared[comparison.endpoint][1]:
            compared[comparison.endpoint][1].append(at.adjective)
    sentences = []
    for name, (comparisons, adjectives) in compared.items():
        endpoint = s.endpoints[name]
        if not adjectives:
            continue
        when = " and ".join([", ".join(adjectives[:-1]), adjectives[-1]] if len(adjectives) > 1 else adjectives)
        if endpoint.has_competing_events:
            test = "that of Gray's test, which compares the whole cumulative incidence curves"
        else:
            stratified = "stratified " if any(c.strata for c in comparisons) else ""
            test = f"that of the {stratified}log-rank test, which compares the whole curves"
        text = (f"The p-value given with the groups' {when} {formatting.in_sentence(endpoint.short)} is {test}, "
                f"not the {when} estimates")
        if any(c.fixed_time for c in comparisons):
            text += (f"; the {endpoint.landmarks[0].adjective} estimates themselves are compared by a z test of their "
                     f"difference on the {_CI_TRANSFORMS[s.ci_transform]} scale")
        sentences.append(text + ".")
    return sentences


def methods_sentence(study) -> str:
    """The statistical methods of what the report declares and shows, generated from the settings used.

    An analysis is described when a row of the outcomes table or a comparison
    uses it; declared endpoints nobody reports are neither run nor described.
    """
    s = study.settings
    level = formatting.number(s.conf_level * 100)
    rows = s.outcomes
    compared = [s.comparisons[r.name] for r in rows if r.kind == "comparison"]
    reported = {r.name for r in rows if r.kind in ("survival", "median", "follow_up", "cumulative_incidence")}
    reported |= {c.endpoint for c in compared}
    endpoints = [e for name, e in s.endpoints.items() if name in reported]
    survival = [e for e in endpoints if not e.has_competing_events]
    competing = [e for e in endpoints if e.has_competing_events]

    sentences = [f"{e.short} was measured {e.description}, {_censoring(e, s.cutoff_date)}."
                 for e in survival if e.description]
    if survival:
        survival_compared = [c for c in compared if not s.endpoints[c.endpoint].has_competing_events]
        text = (f"Survival was estimated by the Kaplan-Meier method with {level}% confidence intervals from "
                f"Greenwood's variance on the {_CI_TRANSFORMS[s.ci_transform]} scale")
        if survival_compared:
            stratified = any(c.strata for c in survival_compared)
            text += f" and compared between groups with the two-sided {'stratified ' if stratified else ''}log-rank test"
            if any(c.hazard_ratios for c in survival_compared):
                text += (f"; hazard ratios against the reference group come from Cox models (Efron ties) "
                         f"with Wald {level}% confidence intervals")
        sentences.append(text + ".")
    clauses = []
    methods = {s.proportions[r.name].method for r in rows if r.kind == "proportion"}
    if methods:
        names = {"clopper-pearson": "exact (Clopper-Pearson)", "wilson": "Wilson score"}
        clauses.append(f"proportions have {' or '.join(names[m] for m in sorted(methods))} {level}% "
                       "confidence intervals")
    for e in competing:
        # analysis.competing_risks gives log(-log) intervals whatever ci_transform the survival curves use.
        clause = (f"{e.short} was estimated as cumulative incidence with {e.competing_text} as a competing event "
                  f"(Aalen-Johansen, {level}% confidence intervals on the log(-log) scale)")
        if any(c.endpoint == e.name for c in compared):
            clause += " and compared between groups with Gray's test"
        clauses.append(clause)
    fine_gray = [e for e in competing if any(c.fine_gray and c.endpoint == e.name for c in s.comparisons.values())]
    for e in fine_gray:
        clauses.append(f"subdistribution hazard ratios of {formatting.in_sentence(e.short)} against the reference group come "
                       f"from Fine-Gray models with robust (sandwich) {level}% confidence intervals")
    if any(r.kind == "follow_up" for r in rows):
        clauses.append("follow-up was estimated by the reverse Kaplan-Meier method")
    if clauses:
        text = _join(clauses)
        sentences.append(text[0].upper() + text[1:] + ".")
    sentences += _landmark_tests(s, rows)
    sentences += _further_analyses(study, rows)
    if s.cutoff_date is not None:
        sentences.append(f"Data cut-off: {formatting.date(s.cutoff_date, s.date_format)}.")
    versions = package_versions()
    software = ", ".join(f"{name} {versions[name]}" for name in ("Python", "pandas", "lifelines", "SciPy"))
    sentences.append(f"Analyses used {software}.")
    return " ".join(sentences)


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
    cutoff: str | None
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
            f"- *Data:* `{self.data_file}`" + (f", cut-off {self.cutoff}." if self.cutoff else "."),
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
        cutoff=(formatting.date(study.settings.cutoff_date, study.settings.date_format)
                if study.settings.cutoff_date else None),
        generated=generation_time().strftime(f"{study.settings.date_format} %H:%M UTC"),
        versions=package_versions(),
        synthetic=study.is_example,
        code=code_version(study.root),
        renderer=os.environ.get("REPORT_RENDERER") or _bare_quarto(),
    )


def _bare_quarto() -> str | None:
    """"Quarto <version>" when a bare ``quarto render`` runs the document (its kernel has
    QUARTO_FIG_FORMAT, and QUARTO_BIN_PATH names the installation), else None."""
    if "QUARTO_FIG_FORMAT" not in os.environ:
        return None
    try:
        version = (Path(os.environ["QUARTO_BIN_PATH"]).parent / "share" / "version").read_text().strip()
    except (KeyError, OSError):
        return "Quarto"
    return f"Quarto {version}"
