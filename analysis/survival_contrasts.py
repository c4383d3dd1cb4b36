r"""Two survival curves compared by a single number: restricted mean survival time and survival at a fixed time.

* Restricted mean survival time (RMST) to a horizon :math:`\tau`: the area under
  the Kaplan-Meier curve from 0 to :math:`\tau`, with R's variance
  (``print(survfit, rmean = tau)``: :math:`\sum_i A_i^2 d_i / (n_i (n_i - d_i))`,
  :math:`A_i` the area from event time :math:`t_i` to :math:`\tau`); between
  two groups the difference (SE the root of the summed variances) and the
  ratio (delta method on the log scale), as survRM2's ``rmst2``.
* Survival at a fixed time compared between two groups (Klein et al., Stat Med
  2007): the difference S1 - S0 with a linear CI, and a z test on the CI's
  transform g (linear, log, log-log, logit, arcsine), so the test matches the
  intervals the report prints: :math:`z = (g(S_1) - g(S_0)) / \sqrt{v_1 + v_0}`,
  :math:`v` the delta-method variance of :math:`g(S)` from Greenwood's variance.

Reference values: ``tests/reference/methods_reference.R``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats

from analysis.survival import KaplanMeier, SurvivalEstimate, _z

__all__ = ["RestrictedMean", "RestrictedMeanContrast", "SurvivalDifference", "restricted_mean",
           "rmst_contrast", "survival_difference"]


@dataclass(frozen=True)
class RestrictedMean:
    """RMST to ``horizon`` (time units of the data) with its SE and a linear CI; None if not estimable."""

    horizon: float
    estimate: float | None
    se: float | None
    lower: float | None
    upper: float | None
    conf_level: float
    n: int
    events: int
    method: str = "restricted mean survival time (area under the Kaplan-Meier curve), R's survfit variance"


@dataclass(frozen=True)
class RestrictedMeanContrast:
    """RMST of one group against a reference: difference and ratio, each with CI and p (survRM2::rmst2)."""

    horizon: float
    difference: float
    difference_lower: float
    difference_upper: float
    difference_p: float
    ratio: float
    ratio_lower: float
    ratio_upper: float
    ratio_p: float
    conf_level: float
    method: str = "difference and ratio of restricted mean survival times, as survRM2::rmst2"


@dataclass(frozen=True)
class SurvivalDifference:
    """S1(t) - S0(t) with a linear CI and a z test on the estimates' CI transform."""

    time: float
    difference: float
    lower: float
    upper: float
    statistic: float
    p: float
    conf_type: str
    conf_level: float
    method: str = "difference of Kaplan-Meier estimates at a fixed time (Klein et al. 2007)"


def restricted_mean(curve: KaplanMeier, horizon: float) -> RestrictedMean:
    """RMST of a fitted Kaplan-Meier curve to ``horizon``, as R's ``print(survfit, rmean = horizon)``.

    Not estimable (None) when the horizon lies beyond the last follow-up time,
    unless the curve has reached 0 there (survRM2 refuses such a horizon too).

    Examples
    --------
    >>> km = KaplanMeier().fit([2, 4, 6], [1, 1, 1])
    >>> round(restricted_mean(km, 5).estimate, 6)  # 2 * 1 + 2 * 2/3 + 1 * 1/3
    3.666667
    """
    horizon = float(horizon)
    if not np.isfinite(horizon) or horizon <= 0:
        raise ValueError(f"the RMST horizon must be a positive time, got {horizon}")
    table = curve.table_
    common = dict(horizon=horizon, conf_level=curve.conf_level, n=curve.n_, events=curve.events_)
    if horizon > table["time"].iloc[-1] and table["surv"].iloc[-1] > 0:
        return RestrictedMean(estimate=None, se=None, lower=None, upper=None, **common)
    inside = table[table["time"] <= horizon]
    times = np.concatenate(([0.0], inside["time"].to_numpy(), [horizon]))
    surv = np.concatenate(([1.0], inside["surv"].to_numpy()))
    area = surv * np.diff(times)  # area of each step up to the horizon
    estimate = float(area.sum())
    # Area from each time in the table to the horizon.
    beyond = np.cumsum(area[::-1])[::-1][1:]
    n_risk, n_event = inside["n_risk"].to_numpy(float), inside["n_event"].to_numpy(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(n_event > 0, beyond**2 * n_event / (n_risk * (n_risk - n_event)), 0.0)
    se = float(np.sqrt(np.sum(terms[np.isfinite(terms)])))
    z = _z(curve.conf_level)
    return RestrictedMean(estimate=estimate, se=se, lower=estimate - z * se, upper=estimate + z * se, **common)


def rmst_contrast(group: RestrictedMean, reference: RestrictedMean) -> RestrictedMeanContrast | None:
    """Difference and ratio of two RMSTs to the same horizon, as survRM2's ``rmst2`` (None if either is not estimable).

    Examples
    --------
    >>> a = RestrictedMean(10, 6.0, 0.5, None, None, 0.95, 20, 5)
    >>> b = RestrictedMean(10, 5.0, 0.5, None, None, 0.95, 20, 8)
    >>> c = rmst_contrast(a, b)
    >>> round(c.difference, 6), round(c.ratio, 6)
    (1.0, 1.2)
    """
    if group.estimate is None or reference.estimate is None:
        return None
    if group.horizon != reference.horizon:
        raise ValueError("the two RMSTs must share their horizon")
    z = _z(group.conf_level)
    difference = group.estimate - reference.estimate
    se = np.hypot(group.se, reference.se)
    log_ratio = np.log(group.estimate / reference.estimate)
    se_log = np.sqrt((group.se / group.estimate) ** 2 + (reference.se / reference.estimate) ** 2)
    with np.errstate(divide="ignore", invalid="ignore"):
        p_difference = float(2 * stats.norm.sf(abs(difference / se))) if se > 0 else float("nan")
        p_ratio = float(2 * stats.norm.sf(abs(log_ratio / se_log))) if se_log > 0 else float("nan")
    return RestrictedMeanContrast(
        horizon=group.horizon, difference=float(difference), difference_lower=float(difference - z * se),
        difference_upper=float(difference + z * se), difference_p=p_difference, ratio=float(np.exp(log_ratio)),
        ratio_lower=float(np.exp(log_ratio - z * se_log)), ratio_upper=float(np.exp(log_ratio + z * se_log)),
        ratio_p=p_ratio, conf_level=group.conf_level)


def _transform(estimate: SurvivalEstimate) -> tuple[float, float] | None:
    """g(S) and the delta-method SD of g(S) on the estimate's CI transform (None where undefined)."""
    s, se = estimate.estimate, estimate.se
    if s is None or se is None or s <= 0:
        return None
    se_log = se / s  # R's std.err: the SE of log S
    kind = estimate.conf_type
    if kind == "linear":
        return s, se
    if kind == "log":
        return np.log(s), se_log
    if s >= 1:
        return None
    if kind == "log-log":
        return np.log(-np.log(s)), se_log / abs(np.log(s))
    if kind == "logit":
        return np.log(s / (1 - s)), se_log / (1 - s)
    return np.arcsin(np.sqrt(s)), 0.5 * se_log * np.sqrt(s / (1 - s))


def survival_difference(group: SurvivalEstimate, reference: SurvivalEstimate) -> SurvivalDifference | None:
    """S_group(t) - S_reference(t) with a linear CI and a z test on the estimates' CI transform.

    None where either estimate is not estimable or has no SE (S = 0, or S = 1
    under a transform undefined there) or both SEs are 0.

    Examples
    --------
    >>> a = KaplanMeier(conf_type="linear").fit([1, 2, 3, 4, 5, 6], [1, 0, 0, 1, 0, 0]).at(5)
    >>> b = KaplanMeier(conf_type="linear").fit([1, 2, 3, 4, 5, 6], [1, 1, 1, 0, 1, 0]).at(5)
    >>> d = survival_difference(a, b)
    >>> round(d.difference, 4), d.conf_type
    (0.3056, 'linear')
    """
    if group.time != reference.time or group.conf_type != reference.conf_type:
        raise ValueError("compare estimates at the same time with the same CI transform")
    first, second = _transform(group), _transform(reference)
    if first is None or second is None or group.se is None or reference.se is None:
        return None
    sd = np.hypot(first[1], second[1])
    if sd == 0:
        return None
    z = _z(group.conf_level)
    difference = group.estimate - reference.estimate
    half = z * np.hypot(group.se, reference.se)
    statistic = float((first[0] - second[0]) / sd)
    return SurvivalDifference(time=group.time, difference=float(difference), lower=float(difference - half),
                              upper=float(difference + half), statistic=statistic,
                              p=float(2 * stats.norm.sf(abs(statistic))), conf_type=group.conf_type,
                              conf_level=group.conf_level)
