"""Time-to-event statistics that equal R's survival package.

Kaplan-Meier estimates with confidence intervals (``survfit``), survival
quantiles (``quantile.survfit``), median follow-up by reverse Kaplan-Meier,
the log-rank test (``survdiff``, also stratified) and Cox hazard ratios
(``coxph``, Efron or Breslow ties). Reference values come from
``tests/reference/survival_reference.R``.

Durations are non-negative numbers in any unit (the report uses days);
``event_observed`` is 1/True for the event (death) and 0/False for censoring.
Every function works on whole numpy arrays, so it scales to millions of patients.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from lifelines import KaplanMeierFitter
from scipy import stats

from analysis.newton import check_estimable, maximise

__all__ = [
    "FollowUp",
    "HazardRatio",
    "KaplanMeier",
    "LogRankResult",
    "QuantileEstimate",
    "SurvivalEstimate",
    "cox_hazard_ratio",
    "log_rank",
    "median_follow_up",
]

# User-facing names of the CI transforms -> the name R's survfit uses.
_CONF_TYPES = {
    "linear": "plain",
    "plain": "plain",
    "log": "log",
    "log-log": "log-log",
    "logit": "logit",
    "arcsin": "arcsin",
    "arcsine": "arcsin",
}
# The name results carry: the project calls R's "plain" interval "linear".
_CONF_TYPE_LABEL = {"plain": "linear", "log": "log", "log-log": "log-log",
                    "logit": "logit", "arcsin": "arcsin"}
# quantile.survfit's tolerance for "S(t) equals 1 - p".
_QUANTILE_TOL = np.sqrt(np.finfo(float).eps)
# R's Surv(timefix = TRUE): times closer than this (absolutely, or relative to
# the mean absolute time) are one time (survival:::aeqSurv).
_TIMEFIX_TOL = np.sqrt(np.finfo(float).eps)


@dataclass(frozen=True)
class SurvivalEstimate:
    """Kaplan-Meier survival at one time, as R's ``summary(survfit, times=)``.

    ``estimate``, ``se`` (standard error of S(t), Greenwood), ``lower`` and
    ``upper`` are None where R gives NA: all of them beyond the last follow-up
    time (``estimable`` False: never extrapolate), the SE and CI where S(t) = 0,
    and the log-log and logit CI on a step where S(t) = 1. ``n_at_risk`` counts
    patients with time >= ``time``; ``events`` counts events up to and
    including ``time``.
    """

    time: float
    estimate: float | None
    se: float | None
    lower: float | None
    upper: float | None
    conf_level: float
    conf_type: str
    n: int
    n_at_risk: int
    events: int
    estimable: bool
    method: str


@dataclass(frozen=True)
class QuantileEstimate:
    """Time by which a fraction ``p`` had the event (p = 0.5: the median).

    None means not reached (R's NA), for the estimate and each CI limit.
    """

    p: float
    estimate: float | None
    lower: float | None
    upper: float | None
    conf_level: float
    conf_type: str
    n: int
    events: int
    method: str


@dataclass(frozen=True)
class FollowUp:
    """Median follow-up by reverse Kaplan-Meier and the range among patients alive."""

    median: QuantileEstimate
    alive_min: float | None
    alive_max: float | None
    n_alive: int
    method: str


@dataclass(frozen=True)
class LogRankResult:
    """Log-rank test of k >= 2 groups, as R's ``survdiff(rho = 0)``.

    ``observed`` and ``expected`` are events per group (summed over strata
    when stratified), in the order of ``groups``. With no events at all,
    chi-square is 0 and ``p`` None, as R's NA.
    """

    chisq: float
    df: int
    p: float | None
    groups: tuple[str, ...]
    n: tuple[int, ...]
    observed: tuple[float, ...]
    expected: tuple[float, ...]
    stratified: bool
    method: str


@dataclass(frozen=True)
class HazardRatio:
    """Hazard ratio for one covariate of a Cox model, as R's ``summary(coxph)``.

    ``hazard_ratio`` = exp(``coef``), CI = exp(coef -/+ z se), ``p`` is the
    Wald test of coef = 0.
    """

    covariate: str
    hazard_ratio: float
    lower: float
    upper: float
    p: float
    coef: float
    se: float
    conf_level: float
    n: int
    events: int
    ties: str
    method: str


# ------------------------------------------------------------- validation ---


def _name_of(values, default: str) -> str:
    name = getattr(values, "name", None)
    return str(name) if name is not None else default


def _patient(values, position: int) -> str:
    """How to point at one row in an error message: its index label if it has one."""
    if isinstance(values, pd.Series):
        return f"row with index {values.index[position]!r}"
    return f"position {position}"


def covariate_frame(covariates, rows: int, unit: str) -> tuple[pd.DataFrame, list[str]]:
    """Covariates of a Cox model as a frame, checked: one numeric, complete column per covariate.

    ``rows`` is how many rows of follow-up there are, ``unit`` what a row is ("patients").
    """
    frame = covariates.to_frame() if isinstance(covariates, pd.Series) else covariates
    if not isinstance(frame, pd.DataFrame) or frame.shape[1] == 0:
        raise ValueError("covariates must be a pandas DataFrame with at least one column, or a Series")
    if len(frame) != rows:
        raise ValueError(f"covariates have {len(frame)} rows but there are {rows} {unit}")
    for column in frame.columns:
        values = frame[column]
        if not (pd.api.types.is_numeric_dtype(values) or pd.api.types.is_bool_dtype(values)):
            raise ValueError(f"covariate {column!r} is not numeric (dtype {values.dtype}); "
                             "code categories as 0/1 indicators")
        missing = values.isna().to_numpy()
        if missing.any():
            i = int(np.flatnonzero(missing)[0])
            raise ValueError(f"covariate {column!r}: {_patient(values, i)} has no value")
    return frame, [str(c) for c in frame.columns]


def _survival_data(durations, event_observed) -> tuple[np.ndarray, np.ndarray]:
    """Validate and convert to (float times, bool events)."""
    t_name = _name_of(durations, "durations")
    e_name = _name_of(event_observed, "event_observed")
    try:
        times = np.asarray(durations, dtype=float)
    except (TypeError, ValueError) as err:
        raise ValueError(f"{t_name}: survival times must be numbers ({err})") from None
    raw_events = np.asarray(event_observed)
    if times.ndim != 1 or raw_events.ndim != 1:
        raise ValueError(f"{t_name} and {e_name} must be one-dimensional")
    if len(times) != len(raw_events):
        raise ValueError(
            f"{t_name} has {len(times)} values but {e_name} has {len(raw_events)}: "
            "give one time and one event indicator per patient"
        )
    if len(times) == 0:
        raise ValueError(f"{t_name}: no patients")
    bad = ~np.isfinite(times)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise ValueError(f"{t_name}: {_patient(durations, i)} has a missing or infinite time "
                         f"({times[i]}); every patient needs a follow-up time")
    bad = times < 0
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise ValueError(f"{t_name}: {_patient(durations, i)} has a negative time "
                         f"({times[i]}); times must be >= 0")
    (times,) = timefix(times)
    if raw_events.dtype == bool:
        return times, raw_events
    try:
        numeric = raw_events.astype(float)
    except (TypeError, ValueError):
        numeric = np.full(len(raw_events), np.nan)
    bad = ~np.isin(numeric, (0.0, 1.0))
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise ValueError(f"{e_name}: {_patient(event_observed, i)} has {raw_events[i]!r}; "
                         "the event indicator must be True/False or 1/0")
    return times, numeric == 1.0


def timefix(*columns: np.ndarray) -> tuple[np.ndarray, ...]:
    """Times that differ by a rounding error made equal, as R's ``aeqSurv``.

    R's ``Surv(timefix = TRUE)``, the default of ``survfit``, ``survdiff`` and
    ``coxph``: the distinct times of all columns together are sorted, and a
    time within ``sqrt(.Machine$double.eps)`` (about 1.5e-8) of the one before
    it, absolutely or relative to the mean absolute time, becomes that earlier
    time. Times in months or years computed from days (``days / 30.4375``)
    then tie where the days tie.

    Examples
    --------
    >>> timefix(np.array([1.0, 1.0 + 1e-12, 2.0]))[0].tolist()
    [1.0, 1.0, 2.0]
    """
    values = np.unique(np.concatenate([np.ravel(c) for c in columns]))
    values = values[np.isfinite(values)]
    if len(values) < 2:
        return columns
    gaps = np.diff(values)
    with np.errstate(divide="ignore", invalid="ignore"):
        tied = (gaps <= _TIMEFIX_TOL) | (gaps / np.mean(np.abs(values)) <= _TIMEFIX_TOL)
    if not tied.any():
        return columns
    cuts = values[np.r_[True, ~tied]]
    return tuple(cuts[np.searchsorted(cuts, c, side="right") - 1] for c in columns)


def _labels(values, name: str, n: int) -> tuple[np.ndarray, tuple[str, ...]]:
    """Integer codes and labels (as text) of a grouping variable.

    Order: a pandas Categorical keeps its category order (unused categories
    dropped); anything else is sorted, as R orders factor levels.
    """
    if isinstance(values, pd.Series):
        series = values
    elif isinstance(values, pd.Categorical):
        series = pd.Series(values)
    else:
        series = pd.Series(np.asarray(values))
    if len(series) != n:
        raise ValueError(f"{name} has {len(series)} values but there are {n} patients")
    missing = series.isna().to_numpy()
    if missing.any():
        i = int(np.flatnonzero(missing)[0])
        raise ValueError(f"{name}: {_patient(values, i)} has no value; drop or fill it first")
    if isinstance(series.dtype, pd.CategoricalDtype):
        present = set(series.unique())
        levels = [c for c in series.cat.categories if c in present]
    else:
        uniques = list(series.unique())
        try:
            levels = sorted(uniques)
        except TypeError:
            levels = sorted(uniques, key=str)
    codes = pd.Categorical(series, categories=levels).codes.astype(np.int64)
    return codes, tuple(str(level) for level in levels)


def _conf_type(conf_type: str) -> str:
    try:
        return _CONF_TYPES[conf_type]
    except KeyError:
        raise ValueError(f"conf_type {conf_type!r} is not one of {sorted(_CONF_TYPES)}") from None


def _z(conf_level: float) -> float:
    if not 0 < conf_level < 1:
        raise ValueError(f"conf_level must be between 0 and 1, got {conf_level}")
    return float(stats.norm.ppf(1 - (1 - conf_level) / 2))


def _none_if_nan(value: float) -> float | None:
    return None if np.isnan(value) else float(value)


# ----------------------------------------------------------- Kaplan-Meier ---


def _confidence_band(surv: np.ndarray, se_log: np.ndarray, r_conf_type: str, z: float):
    """Pointwise CI of S(t) exactly as R's ``survival:::survfit_confint`` (NaN = NA).

    ``se_log`` is the Greenwood SE of log S(t) (R's ``std.err``).
    """
    p = surv
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        if r_conf_type == "plain":
            half = se_log * p * z
            return np.maximum(p - half, 0.0), np.minimum(p + half, 1.0)
        xx = np.where(p == 0, np.nan, p)
        if r_conf_type == "log":
            return np.exp(np.log(xx) - z * se_log), np.minimum(np.exp(np.log(xx) + z * se_log), 1.0)
        if r_conf_type == "log-log":
            xx = np.where(p == 1, np.nan, xx)
            half = z * se_log / np.log(xx)
            loglog = np.log(-np.log(xx))
            return np.exp(-np.exp(loglog - half)), np.exp(-np.exp(loglog + half))
        if r_conf_type == "logit":
            half = z * se_log * (1 + xx / (1 - xx))
            logit = np.log(p / (1 - p))
            return 1 - 1 / (1 + np.exp(logit - half)), 1 - 1 / (1 + np.exp(logit + half))
        half = 0.5 * z * se_log * np.sqrt(xx / (1 - xx))
        angle = np.arcsin(np.sqrt(xx))
        return (np.sin(np.maximum(0.0, angle - half)) ** 2,
                np.sin(np.minimum(np.pi / 2, angle + half)) ** 2)


def _first_index_reaching(y: np.ndarray, p: float) -> float:
    """R's ``approx(y, 1:n, p, method = "constant", f = 1)``: 0-based index or NaN."""
    nodes = np.flatnonzero(~np.isnan(y))
    order = np.argsort(y[nodes], kind="stable")
    ys, idx = y[nodes][order], nodes[order]
    if len(ys) == 0 or p < ys[0] or p > ys[-1]:
        return np.nan
    return float(idx[np.searchsorted(ys, p, side="left")])


def _find_quantile(x: np.ndarray, y: np.ndarray, p: float) -> float | None:
    """R's ``survival:::findq``: first x where the distribution y reaches p.

    Where y equals p (within tolerance) over an interval, the midpoint of that
    interval; if y stays at p to the end, the midpoint up to the last time.
    NaN in y are R's NA (no confidence limit there).
    """
    if np.all(np.isnan(y)) or np.nanmax(y) < p:
        return None
    x_max = x[-1]
    keep = ~pd.Series(y).duplicated().to_numpy()
    x, y = x[keep], y[keep]
    i1 = _first_index_reaching(y + _QUANTILE_TOL, p)
    i2 = _first_index_reaching(y - _QUANTILE_TOL, p)
    if not np.isnan(y[-1]) and abs(p - y[-1]) < _QUANTILE_TOL and not np.isnan(i1):
        return float((x[int(i1)] + x_max) / 2)
    if np.isnan(i1) or np.isnan(i2):
        return None
    return float((x[int(i1)] + x[int(i2)]) / 2)


class KaplanMeier:
    """Kaplan-Meier survival curve with Greenwood SE and a chosen CI transform.

    Equals R's ``survfit(Surv(time, status) ~ 1, conf.type = ...)``.

    Parameters
    ----------
    conf_type : {"linear", "plain", "log", "log-log", "logit", "arcsin"}
        Transform for the pointwise confidence interval, as R's ``conf.type``
        and SAS PROC LIFETEST ``CONFTYPE=`` ("linear" and "plain" are the
        same; "arcsine" is accepted for "arcsin"). Results report "linear".
    conf_level : float
        Confidence level, e.g. 0.95.

    Attributes
    ----------
    table_ : pandas.DataFrame
        One row per distinct time (events and censorings), ascending, with
        columns time, n_risk, n_event, n_censor, surv, se, lower, upper.
        ``se`` is the Greenwood SE of S(t) (not of log S as R's ``std.err``);
        NaN where R gives NA.
    n_, events_ : int
        Patients and events.
    label_ : str or None
        The label given to ``fit``.

    Examples
    --------
    >>> from lifelines.datasets import load_lung
    >>> lung = load_lung()
    >>> km = KaplanMeier(conf_type="log").fit(lung["time"], lung["status"])
    >>> km.n_, km.events_
    (228, 165)
    >>> round(km.median().estimate)
    310
    >>> s = km.at(365.25)
    >>> round(s.estimate, 3), round(s.lower, 3), round(s.upper, 3)
    (0.409, 0.345, 0.486)
    """

    def __init__(self, conf_type: str = "log-log", conf_level: float = 0.95):
        self._r_conf_type = _conf_type(conf_type)
        self._z = _z(conf_level)
        self.conf_type = _CONF_TYPE_LABEL[self._r_conf_type]
        self.conf_level = conf_level

    @property
    def _method(self) -> str:
        return f"Kaplan-Meier, Greenwood SE, {self.conf_type} CI"

    def fit(self, durations, event_observed, label: str | None = None) -> KaplanMeier:
        """Estimate the survival curve; returns self.

        Parameters
        ----------
        durations : array-like of float
            Time from the origin to the event or censoring, >= 0.
        event_observed : array-like of bool or 0/1
            True/1 if the event happened at that time, False/0 if censored.
        label : str, optional
            Name of the curve (e.g. the group), kept as ``label_``.

        Examples
        --------
        >>> km = KaplanMeier(conf_type="linear").fit([1, 2, 2, 3], [1, 1, 0, 1])
        >>> km.table_[["time", "n_risk", "n_event", "n_censor", "surv"]]
           time  n_risk  n_event  n_censor  surv
        0   1.0       4        1         0  0.75
        1   2.0       3        1         1  0.50
        2   3.0       1        1         0  0.00
        """
        times, events = _survival_data(durations, event_observed)
        steps = KaplanMeierFitter().fit(times, events)
        table = steps.event_table
        # lifelines adds a row at time 0 even when nobody has time 0; R does not.
        real = table["removed"].to_numpy() > 0
        n_risk = table["at_risk"].to_numpy()[real].astype(np.int64)
        n_event = table["observed"].to_numpy()[real].astype(np.int64)
        # The product itself, as R forms it: lifelines sums logs, which puts S a
        # rounding error off 0.5 on a plateau and moves medians (R: midpoint rule).
        surv = np.cumprod(1.0 - n_event / n_risk)
        # Greenwood variance of log S(t): lifelines keeps it private, so computed here.
        with np.errstate(divide="ignore", invalid="ignore"):
            se_log = np.sqrt(np.cumsum(n_event / (n_risk * (n_risk - n_event))))
            lower, upper = _confidence_band(surv, se_log, self._r_conf_type, self._z)
            se = np.where(surv == 0, np.nan, surv * se_log)
        self.table_ = pd.DataFrame({
            "time": table.index.to_numpy(dtype=float)[real],
            "n_risk": n_risk,
            "n_event": n_event,
            "n_censor": table["censored"].to_numpy()[real].astype(np.int64),
            "surv": surv,
            "se": se,
            "lower": lower,
            "upper": upper,
        })
        self._sorted_times = np.sort(times)
        self.n_ = int(len(times))
        self.events_ = int(events.sum())
        self.label_ = label
        return self

    def at(self, t: float) -> SurvivalEstimate:
        """Survival at time ``t`` (any time, not only event times).

        Beyond the last follow-up time the curve is not estimable (no
        extrapolation), unless it has reached 0 there: then it is 0. Before the first time in the table S = 1 with CI 1-1,
        as R's ``summary(survfit, times=)`` reports it.

        Examples
        --------
        >>> km = KaplanMeier(conf_type="linear").fit([1, 2, 2, 3, 5], [1, 1, 0, 1, 0])
        >>> s = km.at(2.5)
        >>> round(s.estimate, 4), s.n_at_risk, s.events
        (0.6, 2, 2)
        >>> km.at(6).estimable, km.at(6).estimate
        (False, None)
        >>> KaplanMeier().fit([1, 2], [1, 1]).at(5).estimate
        0.0
        """
        t = float(t)
        if not np.isfinite(t) or t < 0:
            raise ValueError(f"time must be a finite number >= 0, got {t}")
        table = self.table_
        times = table["time"].to_numpy()
        i = int(np.searchsorted(times, t, side="right")) - 1
        common = dict(time=t, conf_level=self.conf_level, conf_type=self.conf_type, n=self.n_,
                      n_at_risk=int(self.n_ - np.searchsorted(self._sorted_times, t, side="left")),
                      events=int(table["n_event"].to_numpy()[: i + 1].sum()), method=self._method)
        if t > times[-1]:
            if table["surv"].iloc[-1] == 0:
                # The curve reached 0 (the last observation a death): it stays 0,
                # as R's summary(survfit, times =, extend = TRUE).
                return SurvivalEstimate(estimate=0.0, se=None, lower=None, upper=None,
                                        estimable=True, **common)
            return SurvivalEstimate(estimate=None, se=None, lower=None, upper=None,
                                    estimable=False, **common)
        if i < 0:
            return SurvivalEstimate(estimate=1.0, se=0.0, lower=1.0, upper=1.0,
                                    estimable=True, **common)
        row = table.iloc[i]
        return SurvivalEstimate(estimate=float(row["surv"]), se=_none_if_nan(row["se"]),
                                lower=_none_if_nan(row["lower"]), upper=_none_if_nan(row["upper"]),
                                estimable=True, **common)

    def quantile(self, p: float) -> QuantileEstimate:
        """Time by which a fraction ``p`` had the event, with CI, as R's ``quantile.survfit``.

        The estimate is the first time with S(t) <= 1 - p; where S(t) equals
        1 - p over an interval, the midpoint of the interval. The CI limits
        are the same rule applied to the lower and upper confidence curves.
        None means not reached.

        Examples
        --------
        S(t) is 0.75 on [1, 2), 0.5 on [2, 3) and 0.25 on [3, 4), so every
        quartile is a midpoint (R gives the same):

        >>> km = KaplanMeier().fit([1, 2, 3, 4], [1, 1, 1, 1])
        >>> [km.quantile(p).estimate for p in (0.25, 0.5, 0.75)]
        [1.5, 2.5, 3.5]
        """
        if not 0 < p < 1:
            raise ValueError(f"p must be strictly between 0 and 1, got {p}")
        table = self.table_
        # R searches the distribution 1 - S from (time 0, 0); the CI limits
        # come from the lower and upper confidence curves in the same way.
        x = np.concatenate(([0.0], table["time"].to_numpy()))
        reached = {column: _find_quantile(x, np.concatenate(([0.0], 1 - table[column].to_numpy())), p)
                   for column in ("surv", "lower", "upper")}
        return QuantileEstimate(
            p=float(p),
            estimate=reached["surv"],
            lower=reached["lower"],
            upper=reached["upper"],
            conf_level=self.conf_level, conf_type=self.conf_type, n=self.n_, events=self.events_,
            method=f"Kaplan-Meier quantile (R survival rules), CI from the {self.conf_type} "
                   "confidence curves (Brookmeyer-Crowley)",
        )

    def median(self) -> QuantileEstimate:
        """Median survival time with CI; ``estimate`` None = not reached.

        Examples
        --------
        >>> KaplanMeier().fit([3, 5, 8], [1, 0, 0]).median().estimate is None
        True
        """
        return self.quantile(0.5)


def median_follow_up(durations, event_observed, conf_type: str = "log-log",
                     conf_level: float = 0.95) -> FollowUp:
    """Median follow-up by reverse Kaplan-Meier (censoring counted as the event).

    Equals ``quantile(survfit(Surv(time, 1 - status) ~ 1), 0.5)`` in R, so a
    patient who died contributes follow-up until death, then counts as
    censored. ``alive_min``/``alive_max`` give the range of follow-up among
    patients without the event (None if everyone had it).

    Examples
    --------
    >>> from lifelines.datasets import load_lung
    >>> lung = load_lung()
    >>> fu = median_follow_up(lung["time"], lung["status"])
    >>> fu.median.estimate, fu.n_alive, fu.alive_min, fu.alive_max
    (588.0, 63, 92.0, 1022.0)
    """
    times, events = _survival_data(durations, event_observed)
    reverse = KaplanMeier(conf_type=conf_type, conf_level=conf_level).fit(times, ~events)
    alive = times[~events]
    return FollowUp(
        median=reverse.median(),
        alive_min=float(alive.min()) if len(alive) else None,
        alive_max=float(alive.max()) if len(alive) else None,
        n_alive=int(len(alive)),
        method=f"reverse Kaplan-Meier (Schemper and Smith), {reverse.conf_type} CI",
    )


# --------------------------------------------------------------- log-rank ---


def log_rank(durations, event_observed, groups, strata=None) -> LogRankResult:
    """Log-rank test for k >= 2 groups, optionally stratified; equals R's ``survdiff``.

    Implemented here rather than with lifelines, which neither stratifies nor
    returns observed and expected events per group. Groups are ordered as
    R orders factor levels: sorted, or the category order of a pandas
    Categorical. The chi-square uses the groups with expected events > 0,
    with df = (number of such groups) - 1, as R does.

    Parameters
    ----------
    durations, event_observed : array-like
        As for ``KaplanMeier.fit``.
    groups : array-like
        Group label of each patient.
    strata : array-like, optional
        Stratum of each patient: observed minus expected and its variance are
        summed over strata (``survdiff(... ~ group + strata(s))``).

    Examples
    --------
    >>> from lifelines.datasets import load_lung
    >>> lung = load_lung()
    >>> test = log_rank(lung["time"], lung["status"], lung["sex"])
    >>> test.groups, round(test.chisq, 3), test.df, round(test.p, 5)
    (('1', '2'), 10.327, 1, 0.00131)
    """
    times, events = _survival_data(durations, event_observed)
    n = len(times)
    group, labels = _labels(groups, _name_of(groups, "groups"), n)
    if len(labels) < 2:
        raise ValueError(f"log-rank needs at least 2 groups, got {len(labels)}: {labels}")
    stratum = (np.zeros(n, dtype=np.int64) if strata is None
               else _labels(strata, _name_of(strata, "strata"), n)[0])
    k = len(labels)

    order = np.lexsort((times, stratum))
    times, events, group, stratum = times[order], events[order], group[order], stratum[order]
    # One key per distinct (stratum, time).
    new_key = np.r_[True, (stratum[1:] != stratum[:-1]) | (times[1:] != times[:-1])]
    key = np.cumsum(new_key) - 1
    n_keys = int(key[-1]) + 1
    cell = key * k + group
    leaving = np.bincount(cell, minlength=n_keys * k).reshape(n_keys, k).astype(float)
    deaths = np.bincount(cell, weights=events, minlength=n_keys * k).reshape(n_keys, k)
    # At risk at a time = leaving at this or a later time of the same stratum.
    suffix = np.vstack([np.cumsum(leaving[::-1], axis=0)[::-1], np.zeros((1, k))])
    key_stratum = stratum[new_key]
    stratum_end = np.searchsorted(key_stratum, key_stratum, side="right")
    at_risk = suffix[:-1] - suffix[stratum_end]

    total_risk = at_risk.sum(axis=1)
    total_deaths = deaths.sum(axis=1)
    expected = (at_risk * (total_deaths / total_risk)[:, None]).sum(axis=0)
    observed = deaths.sum(axis=0)
    # Hypergeometric variance; a time with one patient at risk adds nothing.
    with np.errstate(divide="ignore", invalid="ignore"):
        weight = np.where(total_risk > 1,
                          total_deaths * (total_risk - total_deaths) / (total_risk - 1) / total_risk,
                          0.0)
    variance = np.diag((weight[:, None] * at_risk).sum(axis=0)) - (
        (weight / total_risk)[:, None] * at_risk).T @ at_risk

    used = np.flatnonzero(expected > 0)
    df = len(used) - 1
    if df < 0:
        # Every patient censored: R's survdiff gives chi-square 0 and p NA.
        chisq, p, df = 0.0, None, 0
    elif df == 0:
        # Only one group is at risk at any event time: nothing to compare.
        # R reports chi-square 0 on 0 df, p = 1.
        chisq, p = 0.0, 1.0
    else:
        diff = (observed - expected)[used][1:]
        try:
            chisq = float(diff @ np.linalg.solve(variance[np.ix_(used, used)][1:, 1:], diff))
        except np.linalg.LinAlgError:
            # R's survdiff stops here too ("system is exactly singular").
            raise ValueError("log-rank test not computable: observed minus expected events has no "
                             "variance (e.g. every event at one time, with nobody else at risk)") from None
        p = float(stats.chi2.sf(chisq, df))
    return LogRankResult(
        chisq=chisq, df=df, p=p, groups=labels,
        n=tuple(int(c) for c in np.bincount(group, minlength=k)),
        observed=tuple(float(o) for o in observed), expected=tuple(float(e) for e in expected),
        stratified=strata is not None,
        method="stratified log-rank test" if strata is not None else "log-rank test",
    )


# -------------------------------------------------------------------- Cox ---


def _cox_fit_terms(beta, x, events, time_starts, event_time, event_rank, event_ties, ties):
    """Partial log-likelihood, score and information of a Cox model at ``beta``.

    Subjects are sorted by time; ``time_starts`` are the first rows of each
    distinct time and ``event_time`` the distinct time of each event.
    Event-level arrays (one entry per event) give the distinct time, the rank
    of the event within its tied set and the size of that set (Efron's weights).
    """
    p = x.shape[1]
    eta = x @ beta
    shift = eta.max()  # exp(eta - shift) cannot overflow; ratios are unchanged
    w = np.exp(eta - shift)
    wx = w[:, None] * x
    wxx = wx[:, :, None] * x[:, None, :]

    def by_time(values):
        return np.add.reduceat(values, time_starts, axis=0)

    def suffix(values):
        return np.cumsum(values[::-1], axis=0)[::-1]

    s0, s1, s2 = suffix(by_time(w)), suffix(by_time(wx)), suffix(by_time(wxx))
    e = events.astype(float)
    t0, t1, t2 = by_time(w * e), by_time(wx * e[:, None]), by_time(wxx * e[:, None, None])
    if ties == "efron":
        fraction = event_rank / event_ties
    else:
        fraction = np.zeros(len(event_time))
    den = s0[event_time] - fraction * t0[event_time]
    num1 = s1[event_time] - fraction[:, None] * t1[event_time]
    num2 = s2[event_time] - fraction[:, None, None] * t2[event_time]
    mean = num1 / den[:, None]
    loglik = eta[events].sum() - np.log(den).sum() - len(den) * shift
    score = x[events].sum(axis=0) - mean.sum(axis=0)
    information = (num2 / den[:, None, None]).sum(axis=0) - np.einsum("ki,kj->ij", mean, mean)
    return loglik, score, information.reshape(p, p)


def cox_hazard_ratio(durations, event_observed, covariates: pd.DataFrame | pd.Series,
                     ties: str = "efron", conf_level: float = 0.95) -> tuple[HazardRatio, ...]:
    """Cox proportional-hazards hazard ratios, equal to R's ``coxph`` and its summary.

    Fitted here by Newton-Raphson from beta = 0 to a zero score, as R does:
    lifelines' CoxPHFitter has no Breslow ties, stops short of R's estimate
    (about 1e-6) and takes several seconds on 10^6 patients.

    Parameters
    ----------
    durations, event_observed : array-like
        As for ``KaplanMeier.fit``.
    covariates : pandas.DataFrame or pandas.Series
        Numeric covariates, one column each (code groups as 0/1 indicators:
        the hazard ratio compares 1 with 0).
    ties : {"efron", "breslow"}
        Handling of tied event times.
    conf_level : float
        Level of the Wald confidence interval.

    Returns
    -------
    tuple of HazardRatio
        One per covariate column, in column order.

    Examples
    --------
    >>> from lifelines.datasets import load_lung
    >>> lung = load_lung()
    >>> female = (lung["sex"] == 2).astype(int).rename("female")
    >>> (hr,) = cox_hazard_ratio(lung["time"], lung["status"], female)
    >>> hr.covariate, round(hr.hazard_ratio, 3), round(hr.lower, 3), round(hr.upper, 3)
    ('female', 0.588, 0.424, 0.816)
    """
    if ties not in ("efron", "breslow"):
        raise ValueError(f"ties must be 'efron' or 'breslow', got {ties!r}")
    z = _z(conf_level)
    times, events = _survival_data(durations, event_observed)
    frame, names = covariate_frame(covariates, len(times), "patients")
    for column in frame.columns:
        if frame[column].nunique() < 2:
            raise ValueError(f"covariate {column!r} has the same value for every patient")
    if not events.any():
        raise ValueError("Cox model: no events")

    order = np.argsort(times, kind="stable")
    times, events = times[order], events[order]
    x = frame.to_numpy(dtype=float)[order]
    x = x - x.mean(axis=0)  # centred as in R, for numerical stability only
    new_time = np.r_[True, times[1:] != times[:-1]]
    time_starts = np.flatnonzero(new_time)
    time_index = np.cumsum(new_time) - 1
    event_time = time_index[events]
    # Rank of each event within its set of tied event times, and the set size.
    start = np.r_[True, event_time[1:] != event_time[:-1]]
    set_id = np.cumsum(start) - 1
    set_start = np.flatnonzero(start)
    event_rank = (np.arange(len(event_time)) - set_start[set_id]).astype(float)
    event_ties = np.bincount(set_id).astype(float)[set_id]

    def terms(beta):
        return _cox_fit_terms(beta, x, events, time_starts, event_time, event_rank, event_ties, ties)

    monotone = ("Cox model: the likelihood is monotone (e.g. every event in one group before any "
                f"event in the other), so the hazard ratio of {names} is not estimable (infinite)")
    check_estimable(terms(np.zeros(x.shape[1]))[2], x, names, "Cox model", "hazard ratio")
    beta = maximise(terms, x, monotone)
    _, _, information = terms(beta)
    try:
        se = np.sqrt(np.diag(np.linalg.inv(information)))
    except np.linalg.LinAlgError:
        raise ValueError(monotone) from None
    wald = beta / se
    return tuple(
        HazardRatio(
            covariate=name, hazard_ratio=float(np.exp(b)), lower=float(np.exp(b - z * s)),
            upper=float(np.exp(b + z * s)), p=float(2 * stats.norm.sf(abs(w))), coef=float(b),
            se=float(s), conf_level=conf_level, n=int(len(times)), events=int(events.sum()),
            ties=ties, method=f"Cox proportional hazards, {ties.capitalize()} ties, Wald CI and p",
        )
        for name, b, s, w in zip(names, beta, se, wald)
    )
