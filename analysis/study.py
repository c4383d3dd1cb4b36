"""The study: its settings, the validated cohort, and the analyses the abstract quotes.

``report.qmd`` creates one :class:`Study` and quotes it. Every number the report
prints comes from an object built here (or from the tables built from it), so a
sentence and the table or figure beside it cannot drift apart.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import numpy as np
import pandas as pd

from analysis.cohort import load_cohort, load_dictionary, load_study
from analysis.competing_risks import CumulativeIncidence, IncidenceEstimate
from analysis.endpoints import TimeToEventData, overall_survival, sos_after_hsct
from analysis.survival import (
    FollowUp,
    KaplanMeier,
    LogRankResult,
    QuantileEstimate,
    SurvivalEstimate,
    log_rank,
    median_follow_up,
)


@dataclass(frozen=True)
class GroupSurvival:
    """Overall survival of one group of a comparison."""

    label: str
    n: int
    curve: KaplanMeier
    at_landmark: SurvivalEstimate


@dataclass(frozen=True)
class Comparison:
    """Overall survival compared between the two groups of a yes/no variable."""

    by: str
    label: str
    achieved: GroupSurvival  # the group where the variable is yes
    not_achieved: GroupSurvival  # the group where it is no
    log_rank: LogRankResult

    @property
    def groups(self) -> tuple[GroupSurvival, GroupSurvival]:
        return (self.achieved, self.not_achieved)


@dataclass(frozen=True)
class IncompleteCycle:
    """Patients whose first InO cycle stopped before its planned doses."""

    count: int
    doses: int | None  # the dose count they received, when they share one
    reason: str | None  # the recorded reason's label, when they share one


class Study:
    """A study as configured in ``study.yml``, with its validated cohort.

    Parameters
    ----------
    study_file : path of the study configuration (``study.yml``).
    root : folder the configuration's relative paths are resolved from
        (default: the configuration's folder).

    Examples
    --------
    >>> study = Study("study.yml")
    >>> study.n
    27
    """

    def __init__(self, study_file: str | Path = "study.yml", root: str | Path | None = None):
        study_file = Path(study_file)
        self.root = Path(root) if root is not None else study_file.resolve().parent
        self.settings = load_study(study_file)
        self.dictionary = load_dictionary(self.root / self.settings.dictionary)
        self.data_path = self.root / self.settings.data
        self.cohort = load_cohort(self.data_path, self.dictionary, sheet=self.settings.sheet)

    # -- provenance --------------------------------------------------------

    @property
    def n(self) -> int:
        return len(self.cohort)

    @cached_property
    def data_sha256(self) -> str:
        return hashlib.sha256(self.data_path.read_bytes()).hexdigest()

    @cached_property
    def is_example(self) -> bool:
        """True when the cohort is the bundled synthetic example, or a copy of it under another name."""
        example = self.settings.example_data
        if example is None:
            return False
        example_path = (self.root / example).resolve()
        if example_path == self.data_path.resolve():
            return True
        return example_path.is_file() and hashlib.sha256(example_path.read_bytes()).hexdigest() == self.data_sha256

    @property
    def data_note(self) -> str | None:
        """The label that travels with every figure and text export of the synthetic example, else None."""
        return "Synthetic example data: not study results" if self.is_example else None

    # -- variables ---------------------------------------------------------

    def flag(self, name: str) -> pd.Series:
        """A yes/no variable as booleans: a dictionary boolean column or a study definition.

        Missing values count as no.
        """
        definitions = self.settings.definitions
        if name in definitions:
            values = self.cohort.eval(
                definitions[name]["where"], engine="python", local_dict=self.settings.parameters()
            )
        elif name in self.cohort.columns:
            values = self.cohort[name]
        else:
            raise KeyError(f"{name!r} is neither a column of the cohort nor a definition in study.yml")
        return pd.Series(values, index=self.cohort.index).fillna(False).astype(bool)

    def label(self, name: str) -> str:
        """Plain-language label of a dictionary column or a study definition."""
        definitions = self.settings.definitions
        if name in definitions:
            return definitions[name]["label"]
        return self.dictionary.column(name).label

    # -- treatment ---------------------------------------------------------

    @property
    def age_limit(self) -> float:
        """The upper age limit of the cohort (the dictionary's bound for age)."""
        return self.dictionary.column("age_years").max

    @property
    def cycles_received(self) -> int | None:
        """The number of InO cycles, when every patient received the same number."""
        cycles = self.cohort["ino_cycles"].dropna().unique()
        return int(cycles[0]) if len(cycles) == 1 else None

    @cached_property
    def incomplete_first_cycle(self) -> IncompleteCycle:
        stopped = self.cohort[~self.flag("full_cycle")]
        doses = stopped["ino_doses"].dropna().unique()
        reasons = stopped["ino_stop_reason"].dropna().unique()
        labels = self.dictionary.column("ino_stop_reason").values
        return IncompleteCycle(
            count=len(stopped),
            doses=int(doses[0]) if len(doses) == 1 else None,
            reason=labels[reasons[0]] if len(reasons) == 1 else None,
        )

    # -- overall survival --------------------------------------------------

    @cached_property
    def overall_survival(self) -> TimeToEventData:
        return overall_survival(self.cohort, cutoff_date=self.settings.cutoff_date)

    def survival_curve(self, mask: np.ndarray | pd.Series | None = None, label: str | None = None) -> KaplanMeier:
        """Kaplan-Meier OS curve of the whole cohort or of the patients in ``mask``."""
        os_ = self.overall_survival
        keep = np.ones(self.n, dtype=bool) if mask is None else np.asarray(mask, dtype=bool)
        return KaplanMeier(conf_type=self.settings.ci_transform, conf_level=self.settings.conf_level).fit(
            os_.time_days[keep], os_.event[keep], label=label
        )

    @property
    def landmark_years(self) -> float:
        return self.settings.landmark_days / 365.25

    @cached_property
    def os_curve(self) -> KaplanMeier:
        return self.survival_curve(label="All patients")

    @cached_property
    def os_at_landmark(self) -> SurvivalEstimate:
        return self.os_curve.at(self.settings.landmark_days)

    @cached_property
    def median_os(self) -> QuantileEstimate:
        return self.os_curve.median()

    @cached_property
    def follow_up(self) -> FollowUp:
        os_ = self.overall_survival
        return median_follow_up(
            os_.time_days, os_.event, conf_type=self.settings.ci_transform, conf_level=self.settings.conf_level
        )

    def comparison(self, by: str) -> Comparison:
        """OS at the landmark in the two groups of ``by`` and the log-rank test between them."""
        spec = next((c for c in self.settings.comparisons if c["by"] == by), None)
        if spec is None:
            raise KeyError(f"no comparison by {by!r} in study.yml")
        mask = self.flag(by).to_numpy()
        groups = []
        for value in (True, False):
            label = spec["groups"][value]
            curve = self.survival_curve(mask == value, label=label)
            groups.append(GroupSurvival(label, int((mask == value).sum()), curve, curve.at(self.settings.landmark_days)))
        os_ = self.overall_survival
        test = log_rank(os_.time_days, os_.event, np.where(mask, groups[0].label, groups[1].label))
        return Comparison(by, self.label(by), groups[0], groups[1], test)

    @cached_property
    def comparisons(self) -> dict[str, Comparison]:
        return {spec["by"]: self.comparison(spec["by"]) for spec in self.settings.comparisons}

    # -- transplant --------------------------------------------------------

    @cached_property
    def sos_incidence(self) -> IncidenceEstimate:
        """Cumulative incidence of SOS after HSCT at the configured day, death as competing event."""
        sos = sos_after_hsct(self.cohort, cutoff_date=self.settings.cutoff_date)
        fit = CumulativeIncidence(conf_level=self.settings.conf_level).fit(
            sos.time_days, sos.event, event_of_interest=1, label="SOS"
        )
        return fit.at(self.settings.sos_landmark_days)
