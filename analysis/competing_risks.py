r"""Competing risks: cumulative incidence (Aalen-Johansen) and Gray's test.

Own implementation rather than lifelines' ``AalenJohansenFitter``, which breaks
tied times by random jitter and so is not reproducible run to run. Both
estimators follow R's cmprsk 2.2-11 (``cuminc``, ``timepoints``) step by step:

* the cumulative incidence of the event of interest is the Aalen-Johansen
  estimate :math:`F(t) = \sum_{t_j \le t} S(t_{j-1}) d_{1j} / n_j`, with
  :math:`S` the Kaplan-Meier estimate of being free of any event;
* its variance is the Aalen-type delta-method estimator of cmprsk's Fortran
  routine ``cinc`` (Gray's correction for tied event times included); like
  cmprsk, the variance changes only at times of the event of interest;
* beyond the last follow-up time the estimate is not estimable (cmprsk: NA);
* the confidence interval, which cmprsk does not report, is the customary
  log(-log) interval :math:`F^{\exp(\pm z \sqrt{V} / (F \log F))}`; it stays
  inside (0, 1). Where :math:`F` is 0 or 1 the transform is undefined and the
  interval is not estimable (None), as R's multi-state ``survfit`` gives NA
  limits at zero incidence;
* Gray's test (rho = 0) is cmprsk's ``crstm``: score statistic
  :math:`s^T V^{-1} s` over the first k-1 groups, chi-square with k-1 df.

Event codes: 0 censored, ``event_of_interest`` (default 1), any other positive
code a competing event. Everything is vectorised over distinct times.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

__all__ = [
    "IncidenceEstimate",
    "CumulativeIncidence",
    "GrayTestResult",
    "gray_test",
]

_INCIDENCE_METHOD = (
    "Aalen-Johansen cumulative incidence; variance as cmprsk::cuminc; "
    "log(-log) confidence interval"
)
_GRAY_METHOD = "Gray's test (rho=0) as cmprsk::cuminc"


@dataclass(frozen=True)
class IncidenceEstimate:
    """Cumulative incidence of the event of interest at one time.

    Attributes
    ----------
    time : float
        Time at which the step function is read (same unit as the durations).
    estimate, variance, lower, upper : float or None
        Incidence (a fraction), its cmprsk variance and the log(-log) CI;
        None when not estimable (the CI also where the incidence is 0 or 1).
    conf_level : float
        Confidence level of the interval.
    n : int
        Patients in the fit.
    events, competing_events : int
        Events of interest and competing events observed at or before ``time``.
    estimable : bool
        False when ``time`` lies beyond the last follow-up time.
    method : str
        Estimator, variance and interval used, for the methods section.
    """

    time: float
    estimate: float | None
    variance: float | None
    lower: float | None
    upper: float | None
    conf_level: float
    n: int
    events: int
    competing_events: int
    estimable: bool
    method: str


@dataclass(frozen=True)
class GrayTestResult:
    """Gray's test comparing cumulative incidence curves among groups.

    Attributes
    ----------
    statistic : float
        Chi-square statistic.
    df : int
        Degrees of freedom (groups - 1).
    p : float
        Upper-tail chi-square p-value.
    groups : tuple of str
        Group labels: a pandas Categorical's category order, else sorted (R's factor levels).
    event_of_interest : int
        Event code whose incidence is compared.
    method : str
        Test name, for the methods section.
    """

    statistic: float
    df: int
    p: float
    groups: tuple[str, ...]
    event_of_interest: int
    method: str


def _validated(durations, event_codes, event_of_interest) -> tuple[np.ndarray, np.ndarray]:
    """Return durations (float) and event codes (int) after checking them."""
    time = np.asarray(durations, dtype=float)
    raw_codes = np.asarray(event_codes)
    if time.ndim != 1 or raw_codes.ndim != 1:
        raise ValueError("durations and event_codes must be one-dimensional")
    if time.size != raw_codes.size:
        raise ValueError(
            f"durations ({time.size} values) and event_codes ({raw_codes.size} values) "
            "must have the same length"
        )
    if time.size == 0:
        raise ValueError("no observations: durations is empty")
    if not np.all(np.isfinite(time)):
        positions = np.flatnonzero(~np.isfinite(time))[:5].tolist()
        raise ValueError(f"durations must be finite numbers; not at positions {positions}")
    if np.any(time < 0):
        positions = np.flatnonzero(time < 0)[:5].tolist()
        raise ValueError(f"durations must be >= 0; negative at positions {positions}")
    codes = raw_codes.astype(float)
    if np.any(~np.isfinite(codes)) or np.any(codes != np.round(codes)) or np.any(codes < 0):
        raise ValueError(
            "event_codes must be integers >= 0 (0 censored, "
            f"{event_of_interest} event of interest, other codes competing events)"
        )
    if event_of_interest == 0 or int(event_of_interest) != event_of_interest:
        raise ValueError(f"event_of_interest must be a positive integer code, got {event_of_interest!r}")
    return time, codes.astype(np.int64)


def _tie_factor(tied: np.ndarray, at_risk: np.ndarray) -> np.ndarray:
    """Gray's correction for d tied events among n at risk: 1 - (d-1)/(n-1)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(tied > 1, 1.0 - (tied - 1.0) / (at_risk - 1.0), 1.0)


def _loglog_interval(estimate: np.ndarray, variance: np.ndarray, conf_level: float):
    """log(-log) confidence limits; NaN (not estimable) where the estimate is 0 or 1.

    There the transform is undefined; R's multi-state ``survfit`` likewise
    gives NA limits where the incidence is 0.
    """
    z = stats.norm.ppf(1.0 - (1.0 - conf_level) / 2.0)
    inside = (estimate > 0.0) & (estimate < 1.0)
    safe = np.where(inside, estimate, 0.5)
    power = np.exp(z * np.sqrt(variance) / (safe * np.log(safe)))
    lower = np.where(inside, safe ** (1.0 / power), np.nan)
    upper = np.where(inside, safe**power, np.nan)
    return lower, upper


def _limit(value: float) -> float | None:
    return None if np.isnan(value) else float(value)


class CumulativeIncidence:
    """Aalen-Johansen cumulative incidence with cmprsk's variance.

    Parameters
    ----------
    conf_level : float, default 0.95
        Level of the log(-log) confidence intervals.

    Attributes
    ----------
    table_ : pandas.DataFrame
        One row per distinct time: ``time, n_risk, n_event, n_competing,
        n_censor, incidence, variance, lower, upper``.
    label_ : str or None
        The label given to ``fit``.
    n_ : int
        Patients in the fit.

    Examples
    --------
    Five patients: events of interest at 1 and 3, a competing event at 2,
    censored at 2 and 5.

    >>> ci = CumulativeIncidence().fit([1, 2, 2, 3, 5], [1, 2, 0, 1, 0])
    >>> ci.at(2).estimate
    0.2
    >>> round(ci.at(4).estimate, 6)  # 0.2 + S(2) * 1/2, S(2) = 4/5 * 3/4 free of any event
    0.5
    >>> ci.at(6).estimable
    False
    """

    def __init__(self, conf_level: float = 0.95):
        if not 0.0 < conf_level < 1.0:
            raise ValueError(f"conf_level must lie strictly between 0 and 1, got {conf_level!r}")
        self.conf_level = conf_level

    def fit(self, durations, event_codes, event_of_interest: int = 1, label: str | None = None):
        """Estimate the cumulative incidence of ``event_of_interest``.

        Parameters
        ----------
        durations : array-like of float
            Follow-up times, >= 0.
        event_codes : array-like of int
            0 censored, ``event_of_interest``, any other positive code competing.
        event_of_interest : int, default 1
            Code of the event whose incidence is estimated.
        label : str, optional
            Name carried in ``label_`` (e.g. for a plot legend).

        Returns
        -------
        CumulativeIncidence
            self, fitted.

        Examples
        --------
        >>> ci = CumulativeIncidence().fit([2, 4, 4, 6], [1, 2, 1, 0], label="relapse")
        >>> ci.table_[["n_risk", "n_event", "n_competing", "n_censor"]].values.tolist()
        [[4, 1, 0, 0], [3, 1, 1, 0], [1, 0, 0, 1]]
        """
        time, codes = _validated(durations, event_codes, event_of_interest)
        times, position = np.unique(time, return_inverse=True)
        is_event = codes == event_of_interest
        is_competing = (codes != 0) & ~is_event
        n_event = np.bincount(position, weights=is_event, minlength=times.size)
        n_competing = np.bincount(position, weights=is_competing, minlength=times.size)
        n_leaving = np.bincount(position, minlength=times.size).astype(float)
        n_risk = time.size - (np.cumsum(n_leaving) - n_leaving)

        any_event = n_event + n_competing
        free_after = np.cumprod(1.0 - any_event / n_risk)
        free_before = np.concatenate(([1.0], free_after[:-1]))
        incidence = np.cumsum(free_before * n_event / n_risk)

        # cmprsk's cinc: three running sums, combined at each event-of-interest time.
        with np.errstate(divide="ignore", invalid="ignore"):
            inv_after = np.where(free_after > 0, 1.0 / free_after, 0.0)
        competing_used = (n_competing > 0) & (free_after > 0)
        w_competing = np.where(
            competing_used,
            free_before**2 * _tie_factor(n_competing, n_risk) * n_competing / n_risk**2,
            0.0,
        )
        w_event = free_before**2 * _tie_factor(n_event, n_risk) * n_event / n_risk**2
        t4_competing = incidence * inv_after
        t4_event = 1.0 + inv_after * incidence
        v1 = np.cumsum(t4_competing**2 * w_competing + t4_event**2 * w_event)
        v2 = np.cumsum(
            inv_after * t4_competing * w_competing + inv_after * t4_event * w_event
        )
        v3 = np.cumsum(inv_after**2 * (w_competing + w_event))
        variance_at_event = v1 + incidence**2 * v3 - 2.0 * incidence * v2
        last_event_row = np.maximum.accumulate(
            np.where(n_event > 0, np.arange(times.size), -1)
        )
        variance = np.where(last_event_row >= 0, variance_at_event[last_event_row], 0.0)

        lower, upper = _loglog_interval(incidence, variance, self.conf_level)
        self.table_ = pd.DataFrame(
            {
                "time": times,
                "n_risk": n_risk.astype(np.int64),
                "n_event": n_event.astype(np.int64),
                "n_competing": n_competing.astype(np.int64),
                "n_censor": (n_leaving - any_event).astype(np.int64),
                "incidence": incidence,
                "variance": variance,
                "lower": lower,
                "upper": upper,
            }
        )
        self.label_ = label
        self.n_ = int(time.size)
        self.event_of_interest_ = int(event_of_interest)
        return self

    def at(self, t: float) -> IncidenceEstimate:
        """Read the fitted step function at time ``t`` (right-continuous).

        Parameters
        ----------
        t : float
            Time >= 0, in the unit of the durations.

        Returns
        -------
        IncidenceEstimate
            Not estimable (``estimable=False``, values None) beyond the last
            follow-up time, as cmprsk::timepoints returns NA there.

        Examples
        --------
        >>> ci = CumulativeIncidence().fit([1, 2, 3, 4], [1, 0, 2, 1])
        >>> est = ci.at(1)
        >>> est.estimate, est.variance, est.events, est.competing_events
        (0.25, 0.0625, 1, 0)
        >>> round(est.lower, 4), round(est.upper, 4)  # 0.25 ** exp(-+1.96 * 0.25 / (0.25 * log 0.25))
        (0.0033, 0.7138)
        """
        if not hasattr(self, "table_"):
            raise RuntimeError("CumulativeIncidence.at() called before fit()")
        t = float(t)
        if not np.isfinite(t) or t < 0:
            raise ValueError(f"time must be a finite number >= 0, got {t!r}")
        table = self.table_
        row = int(np.searchsorted(table["time"].to_numpy(), t, side="right")) - 1
        common = {"time": t, "conf_level": self.conf_level, "n": self.n_, "method": _INCIDENCE_METHOD}
        if t > table["time"].iloc[-1]:
            return IncidenceEstimate(
                estimate=None, variance=None, lower=None, upper=None,
                events=int(table["n_event"].sum()),
                competing_events=int(table["n_competing"].sum()),
                estimable=False, **common,
            )
        if row < 0:
            return IncidenceEstimate(
                estimate=0.0, variance=0.0, lower=None, upper=None,
                events=0, competing_events=0, estimable=True, **common,
            )
        return IncidenceEstimate(
            estimate=float(table["incidence"].iloc[row]),
            variance=float(table["variance"].iloc[row]),
            lower=_limit(table["lower"].iloc[row]),
            upper=_limit(table["upper"].iloc[row]),
            events=int(table["n_event"].iloc[: row + 1].sum()),
            competing_events=int(table["n_competing"].iloc[: row + 1].sum()),
            estimable=True,
            **common,
        )


def gray_test(durations, event_codes, groups, event_of_interest: int = 1) -> GrayTestResult:
    """Gray's test for equal cumulative incidence among groups (cmprsk, rho = 0).

    Parameters
    ----------
    durations : array-like of float
        Follow-up times, >= 0.
    event_codes : array-like of int
        0 censored, ``event_of_interest``, any other positive code competing.
    groups : array-like
        Group of each patient, no missing values; at least two groups.
    event_of_interest : int, default 1
        Code of the event whose incidence curves are compared.

    Returns
    -------
    GrayTestResult
        Chi-square statistic with groups - 1 df and its p-value.

    Raises
    ------
    ValueError
        On malformed input, fewer than two groups, or a singular score
        variance (e.g. no event of interest at all), where cmprsk reports -1.

    Examples
    --------
    >>> result = gray_test([1, 2, 3, 4, 5, 6], [1, 1, 0, 2, 1, 0], ["a", "a", "a", "b", "b", "b"])
    >>> result.groups, result.df
    (('a', 'b'), 1)
    >>> 0 < result.p < 1
    True
    """
    time, codes = _validated(durations, event_codes, event_of_interest)
    if not np.any(codes == event_of_interest):
        raise ValueError(f"Gray's test is not computable: no event of interest (code {event_of_interest})")
    series = groups if isinstance(groups, pd.Series) else pd.Series(groups)
    group_values = series.to_numpy()
    if group_values.size != time.size:
        raise ValueError(
            f"groups ({group_values.size} values) and durations ({time.size} values) "
            "must have the same length"
        )
    if pd.isna(group_values).any():
        positions = np.flatnonzero(pd.isna(group_values))[:5].tolist()
        raise ValueError(f"groups must not be missing; missing at positions {positions}")
    if isinstance(series.dtype, pd.CategoricalDtype):
        # The categories' order (the dictionary's), unused ones dropped.
        present = set(series.unique())
        levels = np.array([c for c in series.cat.categories if c in present], dtype=object)
        group = pd.Categorical(series, categories=list(levels)).codes.astype(np.int64)
    else:
        levels, group = np.unique(group_values, return_inverse=True)
    k = levels.size
    if k < 2:
        raise ValueError(f"Gray's test needs at least two groups, got {k}")

    times, position = np.unique(time, return_inverse=True)
    cell = position * k + group
    size = times.size * k
    d1 = np.bincount(cell, weights=codes == event_of_interest, minlength=size).reshape(-1, k)
    d2 = np.bincount(
        cell, weights=(codes != 0) & (codes != event_of_interest), minlength=size
    ).reshape(-1, k)
    leaving = np.bincount(cell, minlength=size).reshape(-1, k).astype(float)
    rs = np.bincount(group, minlength=k) - (np.cumsum(leaving, axis=0) - leaving)
    with_event = (d1 + d2).sum(axis=1) > 0
    d1, d2, rs = d1[with_event], d2[with_event], rs[with_event]

    at_risk = rs > 0
    safe_rs = np.where(at_risk, rs, 1.0)
    km_after = np.cumprod(np.where(at_risk, 1.0 - (d1 + d2) / safe_rs, 1.0), axis=0)
    km_before = np.vstack([np.ones((1, k)), km_after[:-1]])
    # A group whose risk set is empty takes no part (its KM may be 0 there).
    safe_km = np.where(at_risk, km_before, 1.0)
    f1_step = np.where(at_risk, km_before * d1 / safe_rs, 0.0)
    f1_before = np.cumsum(f1_step, axis=0) - f1_step
    # In the notation of Gray (1988): t1 = R_k / S_k(t-), tr = sum of those.
    t1 = np.where(at_risk, rs / safe_km, 0.0)
    tr = t1.sum(axis=1)
    tq = np.where(at_risk, rs * (1.0 - f1_before) / safe_km, 0.0).sum(axis=1)
    nd1 = d1.sum(axis=1)
    pooled = np.cumsum(nd1 / tr)
    pooled_before = pooled - nd1 / tr

    a = t1[:, :, None] * np.eye(k) - t1[:, :, None] * t1[:, None, :] / tr[:, None, None]
    with np.errstate(divide="ignore", invalid="ignore"):
        c_step = np.where(nd1 > 0, nd1 / (tr * (1.0 - pooled_before)), 0.0)
    c = np.cumsum(a * c_step[:, None, None], axis=0)

    expected = np.where(at_risk, nd1[:, None] * rs * (1.0 - f1_before) / (safe_km * tq[:, None]), 0.0)
    s = (d1 - expected)[:, : k - 1].sum(axis=0)

    with np.errstate(divide="ignore", invalid="ignore"):
        surv_ratio = (1.0 - pooled)[:, None] / km_after
        # Terms at times with an event of interest.
        t4 = np.where(km_after > 0, 1.0 - surv_ratio, 1.0)
        t5 = np.where(nd1[:, None] > 1, 1.0 - (nd1[:, None] - 1.0) / (tr[:, None] * km_before - 1.0), 1.0)
        t3 = np.where(at_risk & (nd1[:, None] > 0), t5 * km_before * nd1[:, None] / (tr[:, None] * safe_rs), 0.0)
        # Terms at times with a competing event.
        competing = (km_after > 0) & (d2 > 0)
        t4b = np.where(competing, surv_ratio, 0.0)
        t3b = np.where(competing, _tie_factor(d2, rs) * km_before**2 * d2 / safe_rs**2, 0.0)

    v3 = (t4**2 * t3).sum(axis=0) + (t4b**2 * t3b).sum(axis=0)
    u = a[:, : k - 1, :] - t4[:, None, :] * c[:, : k - 1, :]
    ub = t4b[:, None, :] * c[:, : k - 1, :]
    v2 = np.einsum("tik,tk->ik", u, t4 * t3) - np.einsum("tik,tk->ik", ub, t4b * t3b)
    variance = np.einsum("tik,tjk,tk->ij", u, u, t3) + np.einsum("tik,tjk,tk->ij", ub, ub, t3b)
    c_end = c[-1, : k - 1, :]
    variance += np.einsum("ik,jk,k->ij", c_end, c_end, v3) + c_end @ v2.T + v2 @ c_end.T

    if np.linalg.matrix_rank(variance) < k - 1:
        raise ValueError(
            "Gray's test is not computable: the score variance is singular "
            f"(events of interest (code {event_of_interest}): {int(d1.sum())})"
        )
    statistic = float(s @ np.linalg.solve(variance, s))
    return GrayTestResult(
        statistic=statistic,
        df=k - 1,
        p=float(stats.chi2.sf(statistic, k - 1)),
        groups=tuple(str(level) for level in levels),
        event_of_interest=int(event_of_interest),
        method=_GRAY_METHOD,
    )
