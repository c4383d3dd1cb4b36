"""The study: its declarations, the validated cohort, and every result the report quotes.

``report.qmd`` creates one :class:`Study` and reaches each result by name:
``study.endpoints["overall_survival"].at_landmark``,
``study.comparisons["by_arm"].group("lev").at_landmark``,
``study.comparisons["by_arm"].hazard_ratio("lev")``,
``study.proportions["remission"]``. Results are dataclasses; they are computed
when first asked for, so only what the report uses is run. Nothing here knows
a study: every column and concept comes from ``study.yml``.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, replace
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from analysis import formatting
from analysis.cohort import load_cohort, load_dictionary, with_patient_id
from analysis.competing_risks import CumulativeIncidence, GrayTestResult, IncidenceEstimate, gray_test
from analysis.config import ComparisonSpec, Endpoint, Landmark, check_against_dictionary, load_study, with_time_units
from analysis.cox import CoxModel, ProportionalHazardsTest, counting_process, fit_cox, proportional_hazards_test
from analysis.descriptive import Count, Proportion, count_true, proportion
from analysis.endpoints import EVENT_OF_INTEREST, TimeToEventData, time_to_event
from analysis.fine_gray import FineGrayModel, fit_fine_gray
from analysis.simon_makuch import SimonMakuch, simon_makuch
from analysis.survival import (
    FollowUp,
    HazardRatio,
    KaplanMeier,
    LogRankResult,
    QuantileEstimate,
    SurvivalEstimate,
    cox_hazard_ratio,
    log_rank,
    median_follow_up,
)
from analysis.survival_contrasts import (
    RestrictedMean,
    RestrictedMeanContrast,
    SurvivalDifference,
    restricted_mean,
    rmst_contrast,
    survival_difference,
)

NO_EVENTS = "no events"
NOT_ESTIMABLE = "not estimable"


@dataclass(frozen=True)
class EndpointResult:
    """An endpoint over its whole population: the curve and its readings at the declared landmarks.

    For an endpoint with competing events the curve is a cumulative
    incidence (Aalen-Johansen) and the estimates are incidences; otherwise it
    is Kaplan-Meier survival, with the median and the reverse-KM follow-up.
    """

    endpoint: Endpoint
    data: TimeToEventData
    curve: KaplanMeier | CumulativeIncidence | None  # None: nobody in the population
    estimates: dict[str, SurvivalEstimate | IncidenceEstimate | None]
    median: QuantileEstimate | None
    follow_up: FollowUp | None

    @property
    def n(self) -> int:
        return self.data.n

    @property
    def events(self) -> int:
        return int(np.sum(self.data.event == EVENT_OF_INTEREST))

    @property
    def landmark(self) -> Landmark | None:
        """The first declared landmark (the one an abstract usually quotes)."""
        return self.endpoint.landmarks[0] if self.endpoint.landmarks else None

    @property
    def at_landmark(self):
        return self.at(self.landmark)

    def landmark_named(self, text: str) -> Landmark:
        """A declared landmark by its text ("5 years")."""
        for landmark in self.endpoint.landmarks:
            if landmark.text == text:
                return landmark
        raise KeyError(f"endpoint {self.endpoint.name!r} has no landmark {text!r}; "
                       f"declared: {', '.join(lm.text for lm in self.endpoint.landmarks) or 'none'}")

    def at(self, landmark: Landmark | str):
        """The estimate at a declared landmark, by the landmark or its text ("2 years")."""
        key = landmark.text if isinstance(landmark, Landmark) else landmark
        if key not in self.estimates:
            raise KeyError(f"endpoint {self.endpoint.name!r} has no landmark {key!r}; "
                           f"declared: {', '.join(self.estimates) or 'none'}")
        return self.estimates[key]


@dataclass(frozen=True)
class GroupResult:
    """One level of a comparison: its patients' curve and estimates (an empty level has none)."""

    level: str
    label: str
    result: EndpointResult

    @property
    def n(self) -> int:
        return self.result.n

    @property
    def curve(self):
        return self.result.curve

    @property
    def at_landmark(self):
        return self.result.at_landmark

    def at(self, landmark):
        return self.result.at(landmark)

    @property
    def median(self):
        return self.result.median


@dataclass(frozen=True)
class ComparisonResult:
    """An endpoint compared across the levels of a variable.

    ``test`` is the log-rank test (survival) or Gray's test (cumulative
    incidence), None when it cannot be computed, with ``note`` saying why
    ("no events", "one group only"). ``hazard_ratios`` maps every level but
    the reference to its Cox hazard ratio against the reference (None: not
    estimable).
    """

    spec: ComparisonSpec
    endpoint: Endpoint
    label: str
    groups: tuple[GroupResult, ...]
    reference: str
    test: LogRankResult | GrayTestResult | None
    hazard_ratios: dict[str, HazardRatio | None]
    note: str | None
    # Patients of the endpoint in none of the groups (their level unknown, or not among `levels`).
    not_compared: int = 0

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def landmark(self) -> Landmark | None:
        return self.endpoint.landmarks[0] if self.endpoint.landmarks else None

    @property
    def test_name(self) -> str:
        return "Gray's test" if self.endpoint.has_competing_events else "Log-rank test"

    @property
    def test_short(self) -> str:
        """The test's name before its p-value in a legend ("Log-rank p=0.046")."""
        return "Gray's test" if self.endpoint.has_competing_events else "Log-rank"

    def group(self, level: Any) -> GroupResult:
        key = ("yes" if level else "no") if isinstance(level, bool) else str(level)
        for group in self.groups:
            if group.level == key:
                return group
        raise KeyError(f"comparison {self.name!r} has no level {key!r}; levels: {[g.level for g in self.groups]}")

    def hazard_ratio(self, level: Any) -> HazardRatio | None:
        key = self.group(level).level
        if key == self.reference:
            raise KeyError(f"{key!r} is the reference level of comparison {self.name!r}")
        return self.hazard_ratios.get(key)


@dataclass(frozen=True)
class LandmarkResult:
    """A comparison among patients still at risk at a landmark, time measured from it.

    For a grouping known only after the origin (a status reached or a treatment given later), the
    comparison from the origin favours the group that had to survive long
    enough to join it (guarantee-time bias). ``comparison`` repeats it among
    the ``comparison.groups``' patients at risk at ``at`` (follow-up >= L),
    with hazard ratios; ``excluded`` patients had died or were censored
    before (``excluded_events`` of them died). ``time_dependent`` is the Cox
    model over all patients with the grouping as a covariate that switches
    on when it becomes known (None, with ``time_dependent_note`` saying why).
    """

    comparison: ComparisonResult
    at: Landmark
    excluded: int
    excluded_events: int
    time_dependent: CoxModel | None
    time_dependent_note: str | None

    @property
    def hazard_ratio(self) -> HazardRatio | None:
        """The landmark Cox hazard ratio of the non-reference level (two levels)."""
        ratios = list(self.comparison.hazard_ratios.values())
        return ratios[0] if len(ratios) == 1 else None

    @property
    def time_dependent_ratio(self) -> HazardRatio | None:
        return self.time_dependent.terms[0] if self.time_dependent is not None else None


@dataclass(frozen=True)
class RestrictedMeanResult:
    """RMST to ``horizon`` per level (None: not estimable) and each level against ``reference``."""

    horizon: Landmark
    reference: str
    means: dict[str, RestrictedMean | None]
    contrasts: dict[str, RestrictedMeanContrast | None]


@dataclass(frozen=True)
class ProportionResult:
    """A binary outcome among its population, with its confidence interval (None if nobody is in it)."""

    name: str
    label: str
    among_label: str | None
    count: Count
    proportion: Proportion | None


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
        # Everything the report prints from here on follows the study's style (ranges, p-values).
        formatting.set_style(self.settings.number_style)
        self.dictionary = load_dictionary(self.root / self.settings.dictionary)
        check_against_dictionary(self.settings, self.dictionary)
        # Times given as a column are read in the unit the dictionary declares for it.
        self.settings = with_time_units(self.settings, self.dictionary)
        self.data_path = self.root / self.settings.data
        redcap = self.settings.redcap_dictionary
        self.cohort = load_cohort(self.data_path, self.dictionary, sheet=self.settings.sheet,
                                  redcap_dictionary=self.root / redcap if redcap is not None else None)
        # From here on the id column is `patient_id`, in the cohort and in the dictionary alike.
        self.dictionary = with_patient_id(self.dictionary)

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
        """A yes/no variable as booleans: a definition, a boolean column, or a pandas expression.

        Missing values count as no.
        """
        definitions = self.settings.definitions
        if name in definitions:
            values = self.cohort.eval(definitions[name]["where"], engine="python",
                                      local_dict=self.settings.parameters())
        elif name in self.cohort.columns:
            values = self.cohort[name]
        else:
            try:
                values = self.cohort.eval(name, engine="python", local_dict=self.settings.parameters())
            except Exception as error:  # pandas raises many kinds for a bad expression
                raise ValueError(f"{self.settings.path}: {name!r} is neither a column, a definition nor a "
                                 f"valid expression: {error}") from None
        return pd.Series(values, index=self.cohort.index).fillna(False).astype(bool)

    def label(self, name: str) -> str:
        """Plain-language label of a dictionary column or a study definition."""
        definitions = self.settings.definitions
        if name in definitions:
            return definitions[name]["label"]
        return self.dictionary.column(name).label

    def count(self, name: str, among: str | None = None) -> Count:
        """Patients for whom ``name`` holds, among those for whom ``among`` holds (default: all)."""
        label = self.label(name) if name in self.settings.definitions or name in self.dictionary.names else name
        return count_true(self.flag(name), label=label, among=None if among is None else self.flag(among))

    def shared_value(self, column: str, among: str | None = None) -> Any:
        """The value of ``column`` every patient (with ``among``) shares, as its label for a category; None if they differ."""
        rows = self.cohort if among is None else self.cohort[self.flag(among)]
        values = rows[column].dropna().unique()
        if len(values) != 1:
            return None
        value = values[0]
        spec = self.dictionary.column(column)
        if spec.type == "category":
            return spec.values[str(value)]
        return int(value) if spec.type == "integer" else value

    # -- endpoints -----------------------------------------------------------

    def endpoint_data(self, name: str) -> TimeToEventData:
        return self._endpoint_data[name]

    @cached_property
    def _endpoint_data(self) -> _Lazy:
        return _Lazy(lambda name: time_to_event(self.cohort, self.settings.endpoints[name],
                                                cutoff_date=self.settings.cutoff_date, condition=self.flag),
                     self.settings.endpoints, "endpoint")

    def _result(self, endpoint: Endpoint, data: TimeToEventData, label: str | None) -> EndpointResult:
        s = self.settings
        if data.n == 0:
            return EndpointResult(endpoint, data, None, {lm.text: None for lm in endpoint.landmarks}, None, None)
        if endpoint.has_competing_events:
            curve = CumulativeIncidence(conf_level=s.conf_level).fit(
                data.time_days, data.event, event_of_interest=EVENT_OF_INTEREST, label=label)
            estimates = {lm.text: curve.at(lm.days) for lm in endpoint.landmarks}
            return EndpointResult(endpoint, data, curve, estimates, None, None)
        curve = KaplanMeier(conf_type=s.ci_transform, conf_level=s.conf_level).fit(
            data.time_days, data.event, label=label)
        estimates = {lm.text: curve.at(lm.days) for lm in endpoint.landmarks}
        follow_up = median_follow_up(data.time_days, data.event, conf_type=s.ci_transform, conf_level=s.conf_level)
        return EndpointResult(endpoint, data, curve, estimates, curve.median(), follow_up)

    @cached_property
    def endpoints(self) -> _Lazy:
        """Results by endpoint name, each computed when first asked for."""
        return _Lazy(lambda name: self._result(self.settings.endpoints[name], self.endpoint_data(name), "All patients"),
                     self.settings.endpoints, "endpoint")

    # -- comparisons ---------------------------------------------------------

    def levels(self, by: str, spec: ComparisonSpec | None = None) -> tuple[pd.Series, dict[str, str]]:
        """Each patient's level of ``by`` (a code; NA if missing) and the levels' labels in display order.

        A yes/no variable has levels "yes" then "no" (missing counts as no); a
        category has the dictionary's codes in the dictionary's order.
        """
        is_category = by not in self.settings.definitions and self.dictionary.column(by).type == "category"
        if is_category:
            codes = self.cohort[by].astype("string")
            labels = dict(self.dictionary.column(by).values)
        else:
            codes = pd.Series(np.where(self.flag(by), "yes", "no"), index=self.cohort.index, dtype="string")
            labels = {"yes": f"{self.label(by)}: yes", "no": f"{self.label(by)}: no"}
        if spec is not None and spec.levels is not None:
            labels = dict(spec.levels)
            codes = codes.where(codes.isin(list(labels)))
        return codes, labels

    def comparison(self, name: str) -> ComparisonResult:
        spec = self.settings.comparisons[name]
        return self._compare(spec, self.endpoint_data(spec.endpoint))

    def _compare(self, spec: ComparisonSpec, data: TimeToEventData) -> ComparisonResult:
        endpoint = self.settings.endpoints[spec.endpoint]
        codes, labels = self.levels(spec.by, spec)
        level = codes.loc[data.patient_id.index]
        groups = []
        for code, label in labels.items():
            keep = (level == code).fillna(False).to_numpy(dtype=bool)
            subset = TimeToEventData(name=data.name, patient_id=data.patient_id[keep],
                                     time_days=data.time_days[keep], event=data.event[keep])
            groups.append(GroupResult(code, label, self._result(endpoint, subset, label)))
        # R's reference levels: "no" for a yes/no variable, else the first category.
        reference = spec.reference or ("no" if list(labels) == ["yes", "no"] else list(labels)[0])
        test, note = self._test(endpoint, data, level, labels, spec)
        hazard_ratios = self._hazard_ratios(endpoint, data, level, labels, reference, spec)
        return ComparisonResult(spec, endpoint, self.label(spec.by), tuple(groups), reference, test,
                                hazard_ratios, note, not_compared=int(level.isna().sum()))

    def _test(self, endpoint, data, level, labels, spec):
        known = level.notna().to_numpy()
        present = [code for code in labels if (level == code).any()]
        if len(present) < 2:
            return None, f"one group only ({', '.join(labels[c] for c in present) or 'none'})"
        events = data.event[known] == EVENT_OF_INTEREST
        if not events.any():
            return None, NO_EVENTS
        groups = pd.Categorical(level[known].astype(str), categories=present)
        if endpoint.has_competing_events:
            try:
                return gray_test(data.time_days[known], data.event[known], groups), None
            except ValueError:
                return None, NOT_ESTIMABLE
        strata = None
        if spec.strata is not None:
            strata_codes, _ = self.levels(spec.strata)
            strata = strata_codes.loc[data.patient_id.index][known].astype(str).to_numpy()
        try:
            return log_rank(data.time_days[known], data.event[known], groups, strata=strata), None
        except ValueError:
            # No variance to test against (e.g. every event at one time): in words.
            return None, NOT_ESTIMABLE

    def _hazard_ratios(self, endpoint, data, level, labels, reference, spec) -> dict[str, HazardRatio | None]:
        if endpoint.has_competing_events or not spec.hazard_ratios:
            return {}
        others = [code for code in labels if code != reference]
        ratios: dict[str, HazardRatio | None] = dict.fromkeys(others)
        known = level.notna().to_numpy()
        present = [code for code in others if (level == code).any()]
        if not present or not (level == reference).any():
            return ratios
        indicators = pd.DataFrame({code: (level[known] == code).astype(int).to_numpy() for code in present})
        try:
            fitted = cox_hazard_ratio(data.time_days[known], data.event[known], indicators,
                                      conf_level=self.settings.conf_level)
        except ValueError:
            # No events, or a level without events (infinite ratio): not estimable, in words.
            return ratios
        ratios.update({hr.covariate: hr for hr in fitted})
        return ratios

    @cached_property
    def comparisons(self) -> _Lazy:
        """Results by comparison name, each computed when first asked for."""
        return _Lazy(self.comparison, self.settings.comparisons, "comparison")

    # -- restricted mean survival time and fixed-time comparisons -------------

    def _restricted_mean(self, name: str) -> RestrictedMeanResult:
        spec = self.settings.comparisons[name]
        if spec.rmst is None:
            raise KeyError(f"comparison {name!r} declares no rmst horizon (study.yml: comparisons.{name}.rmst)")
        comparison = self.comparisons[name]
        means = {g.level: restricted_mean(g.curve, spec.rmst.days) if g.curve is not None else None
                 for g in comparison.groups}
        reference = means[comparison.reference]
        contrasts = {level: rmst_contrast(mean, reference) if mean is not None and reference is not None else None
                     for level, mean in means.items() if level != comparison.reference}
        return RestrictedMeanResult(spec.rmst, comparison.reference, means, contrasts)

    @cached_property
    def restricted_means(self) -> _Lazy:
        """RMST per group and against the reference, by comparison name (comparisons that declare ``rmst``)."""
        declared = {name: spec for name, spec in self.settings.comparisons.items() if spec.rmst is not None}
        return _Lazy(self._restricted_mean, declared, "rmst comparison")

    def _survival_difference(self, name: str) -> dict[str, SurvivalDifference | None]:
        comparison = self.comparisons[name]
        reference = comparison.group(comparison.reference).at_landmark
        return {g.level: (survival_difference(g.at_landmark, reference)
                          if g.at_landmark is not None and reference is not None else None)
                for g in comparison.groups if g.level != comparison.reference}

    @cached_property
    def survival_differences(self) -> _Lazy:
        """Survival at the endpoint's landmark, each level against the reference (comparisons with ``fixed_time``)."""
        declared = {name: spec for name, spec in self.settings.comparisons.items() if spec.fixed_time}
        return _Lazy(self._survival_difference, declared, "fixed-time comparison")

    # -- Fine-Gray subdistribution hazard ratios ----------------------------

    def _fine_gray(self, name: str) -> tuple[FineGrayModel | None, str | None]:
        """The comparison's levels as indicators against its reference in a Fine-Gray model."""
        spec = self.settings.comparisons[name]
        comparison = self.comparisons[name]
        data = self.endpoint_data(spec.endpoint)
        codes, _ = self.levels(spec.by, spec)
        level = codes.loc[data.patient_id.index]
        known = level.notna().to_numpy()
        others = [g.level for g in comparison.groups if g.level != comparison.reference and g.n > 0]
        if not others or not (level == comparison.reference).any():
            return None, "one group only"
        design = pd.DataFrame({code: (level[known] == code).astype(float).to_numpy() for code in others})
        try:
            return fit_fine_gray(design, data.time_days[known], data.event[known],
                                 event_of_interest=EVENT_OF_INTEREST, conf_level=self.settings.conf_level), None
        except ValueError as error:
            return None, str(error).removeprefix("Fine-Gray model: ")

    @cached_property
    def fine_gray(self) -> _Lazy:
        """Fine-Gray models by comparison name (comparisons that declare ``fine_gray``): (model, None) or
        (None, why not); ``model.term(level)`` is a level's subdistribution hazard ratio against the reference."""
        declared = {name: spec for name, spec in self.settings.comparisons.items() if spec.fine_gray}
        return _Lazy(self._fine_gray, declared, "Fine-Gray comparison")

    # -- multivariable Cox models ------------------------------------------

    def model_covariates(self, name: str) -> pd.DataFrame:
        """The design of a declared model: numbers as they are, yes/no as 1/0, a category as one
        indicator per level against its reference (``references``, else the dictionary's first level)."""
        spec = self.settings.models[name]
        columns = {}
        for covariate in spec.covariates:
            is_column = covariate in self.dictionary.names and covariate not in self.settings.definitions
            kind = self.dictionary.column(covariate).type if is_column else "boolean"
            if kind in ("integer", "float"):
                columns[covariate] = pd.to_numeric(self.cohort[covariate], errors="coerce")
            elif kind == "category":
                codes, labels = self.levels(covariate)
                reference = spec.references.get(covariate, list(labels)[0])
                for level in labels:
                    if level != reference and (codes == level).any():
                        columns[f"{covariate}={level}"] = (codes == level).astype(float).where(codes.notna())
            else:
                values = self.flag(covariate) if not is_column else self.cohort[covariate]
                columns[covariate] = values.astype("float")
        return pd.DataFrame(columns, index=self.cohort.index)

    def _model(self, name: str) -> tuple[CoxModel | None, str | None]:
        spec = self.settings.models[name]
        data = self.endpoint_data(spec.endpoint)
        design = self.model_covariates(name).loc[data.patient_id.index]
        complete = design.notna().all(axis=1).to_numpy()  # complete cases, as R's na.omit
        try:
            return fit_cox(design[complete].reset_index(drop=True), data.time_days[complete],
                           data.event[complete], ties=spec.ties, conf_level=self.settings.conf_level), None
        except ValueError as error:
            return None, str(error).removeprefix("Cox model: ")

    @cached_property
    def models(self) -> _Lazy:
        """Multivariable Cox models by name: (CoxModel, None) or (None, why not) in words."""
        return _Lazy(self._model, self.settings.models, "model")

    def _proportional_hazards(self, name: str) -> ProportionalHazardsTest | None:
        spec = self.settings.models[name]
        if self.models[name][0] is None:
            return None
        data = self.endpoint_data(spec.endpoint)
        design = self.model_covariates(name).loc[data.patient_id.index]
        complete = design.notna().all(axis=1).to_numpy()
        # A category's indicators ("sex=male") form one term, as cox.zph's terms = TRUE.
        terms: dict[str, list[str]] = {}
        for column in design.columns:
            terms.setdefault(column.split("=")[0] if column.split("=")[0] in spec.covariates else column,
                             []).append(column)
        return proportional_hazards_test(design[complete].reset_index(drop=True), data.time_days[complete],
                                         data.event[complete], ties=spec.ties, terms=terms)

    @cached_property
    def proportional_hazards(self) -> _Lazy:
        """cox.zph of each declared model, by name (None where the model is not estimable)."""
        return _Lazy(self._proportional_hazards, self.settings.models, "model")

    # -- landmark analyses ---------------------------------------------------

    def _landmark(self, name: str) -> LandmarkResult:
        spec = self.settings.comparisons[name]
        if spec.landmark is None:
            raise KeyError(f"comparison {name!r} declares no landmark (study.yml: comparisons.{name}.landmark)")
        data = self.endpoint_data(spec.endpoint)
        at = spec.landmark
        # At risk at the landmark (follow-up >= L, as n.risk counts), time measured from it.
        alive = data.time_days >= at.days
        shifted = TimeToEventData(name=data.name, patient_id=data.patient_id[alive],
                                  time_days=data.time_days[alive] - at.days, event=data.event[alive])
        comparison = self._compare(replace(spec, hazard_ratios=True), shifted)
        time_dependent, note = self._time_dependent(spec, data, comparison.reference)
        return LandmarkResult(comparison, at, int(data.n - alive.sum()), int(np.sum(data.event[~alive])),
                              time_dependent, note)

    def _switch_times(self, spec: ComparisonSpec, data: TimeToEventData, reference: str):
        """(days from the origin to when each patient joins the non-reference level, NaN: never; that level),
        or (None, why not)."""
        codes, labels = self.levels(spec.by, spec)
        level = codes.loc[data.patient_id.index]
        others = [code for code in labels if code != reference]
        if len(others) != 1:
            return None, f"a time-dependent covariate needs two levels, {spec.by!r} has {len(labels)}"
        switched = (level == others[0]).fillna(False).to_numpy(dtype=bool)
        if spec.known_from is not None:
            endpoint = self.settings.endpoints[spec.endpoint]
            if endpoint.origin is None:
                return None, "known_from needs an endpoint defined from dates"
            rows = self.cohort.loc[data.patient_id.index]
            days = (pd.to_datetime(rows[spec.known_from]) - pd.to_datetime(rows[endpoint.origin])).dt.days
            return np.where(switched, days.to_numpy(dtype=float), np.nan), others[0]
        # No date when it became known: known at the landmark for everyone.
        return np.where(switched, spec.landmark.days, np.nan), others[0]

    def _time_dependent(self, spec: ComparisonSpec, data: TimeToEventData, reference: str):
        """Cox model with the comparison's variable as a time-dependent covariate, from the origin."""
        switch, level = self._switch_times(spec, data, reference)
        if switch is None:
            return None, level
        others = [level]
        rows = counting_process(data.time_days, data.event, switch)
        try:
            model = fit_cox(rows["state"].rename(others[0]), rows["stop"], rows["event"], start=rows["start"],
                            conf_level=self.settings.conf_level)
        except ValueError as error:
            return None, str(error).removeprefix("Cox model: ")
        return model, None

    def _simon_makuch(self, name: str) -> tuple[SimonMakuch | None, str | None]:
        spec = self.settings.comparisons[name]
        data = self.endpoint_data(spec.endpoint)
        reference = self.landmarks[name].comparison.reference
        switch, level = self._switch_times(spec, data, reference)
        if switch is None:
            return None, level
        _, labels = self.levels(spec.by, spec)
        return simon_makuch(data.time_days, data.event, switch,
                            labels=(f"{labels[reference]} or not yet known", labels[level])), None

    @cached_property
    def simon_makuch(self) -> _Lazy:
        """Simon-Makuch curves by comparison name (comparisons that declare ``landmark``): patients move to the
        non-reference group when it becomes known (``known_from``, else at the landmark); (curves, None) or
        (None, why not)."""
        declared = {name: spec for name, spec in self.settings.comparisons.items() if spec.landmark is not None}
        return _Lazy(self._simon_makuch, declared, "landmark analysis")

    @cached_property
    def landmarks(self) -> _Lazy:
        """Landmark analyses by comparison name (comparisons that declare ``landmark``)."""
        declared = {name: spec for name, spec in self.settings.comparisons.items() if spec.landmark is not None}
        return _Lazy(self._landmark, declared, "landmark analysis")

    # -- proportions ---------------------------------------------------------

    def _proportion(self, name: str) -> ProportionResult:
        spec = self.settings.proportions[name]
        counted = count_true(self.flag(spec.count), label=self.label(spec.count),
                             among=None if spec.among is None else self.flag(spec.among))
        estimate = (proportion(counted.count, counted.denominator, method=spec.method,
                               conf_level=self.settings.conf_level) if counted.denominator else None)
        return ProportionResult(name, self.label(spec.count), self.label(spec.among) if spec.among else None,
                                counted, estimate)

    @cached_property
    def proportions(self) -> _Lazy:
        return _Lazy(self._proportion, self.settings.proportions, "proportion")


class _Lazy(dict):
    """A mapping that computes each declared entry when first read (undeclared names: KeyError naming the declared)."""

    def __init__(self, compute, declared, kind: str):
        super().__init__()
        self._compute, self._declared, self._kind = compute, declared, kind

    def __missing__(self, name):
        if name not in self._declared:
            raise KeyError(f"no {self._kind} {name!r} in study.yml; declared: {', '.join(self._declared) or 'none'}")
        self[name] = value = self._compute(name)
        return value

    def __iter__(self):
        return iter(self._declared)

    def __len__(self):
        return len(self._declared)

    def __contains__(self, name):
        return name in self._declared

    def items(self):
        return [(name, self[name]) for name in self._declared]

    def values(self):
        return [self[name] for name in self._declared]

    def keys(self):
        return list(self._declared)
