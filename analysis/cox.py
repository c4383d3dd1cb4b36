"""Cox models as R's ``coxph`` reports them: counting-process data, several covariates, model tests.

:func:`fit_cox` fits ``coxph(Surv(tstart, tstop, event) ~ x1 + x2 ...)`` (or
``Surv(time, event)`` without start times) by Newton-Raphson from beta = 0 to
a zero score, with Efron or Breslow ties, and returns a :class:`CoxModel`:
each covariate's hazard ratio with its Wald CI and p, the likelihood-ratio,
Wald and score (log-rank) tests of the whole model, and Harrell's
concordance as R's ``concordance(fit)``. :func:`counting_process` turns
a time to event and the time a yes/no state switches on (a treatment given
later, a status reached) into the (start, stop] rows of a time-dependent covariate, as
``survival::tmerge`` does. :func:`proportional_hazards_test` is R's
``cox.zph`` (transform "km"): score tests, per term and global, of adding
each covariate times g(t) = 1 - KM(t-) to the fitted model.
Reference values: ``tests/reference/methods_reference.R``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from analysis.newton import check_estimable, maximise
from analysis.survival import HazardRatio, _patient, _survival_data, _z, covariate_frame, timefix

__all__ = ["CoxModel", "ModelTest", "ProportionalHazardsTest", "counting_process", "fit_cox",
           "proportional_hazards_test"]



@dataclass(frozen=True)
class ModelTest:
    """A test of the whole model (all coefficients 0): statistic, df and p, as ``summary(coxph)`` prints."""

    name: str
    statistic: float
    df: int
    p: float


@dataclass(frozen=True)
class CoxModel:
    """A fitted Cox model, as R's ``summary(coxph)`` and ``concordance``.

    ``terms`` holds one :class:`~analysis.survival.HazardRatio` per covariate
    column, in column order. ``loglik`` is (at beta = 0, at the estimate).
    ``concordance`` is Harrell's C of the linear predictor (pairs tied on
    the predictor count one half; pairs tied on time are not comparable).
    """

    terms: tuple[HazardRatio, ...]
    loglik: tuple[float, float]
    likelihood_ratio: ModelTest
    wald: ModelTest
    score: ModelTest
    concordance: float | None
    n: int
    events: int
    ties: str
    counting_process: bool
    method: str

    def term(self, name: str) -> HazardRatio:
        for term in self.terms:
            if term.covariate == name:
                return term
        raise KeyError(f"the model has no covariate {name!r}; covariates: {[t.covariate for t in self.terms]}")


def counting_process(time, event, switch_time) -> pd.DataFrame:
    """(start, stop] rows of a yes/no covariate that switches on at ``switch_time``.

    Each patient is followed from 0 to ``time``; where ``switch_time`` is known
    and before ``time`` the follow-up splits at it: (0, switch] with the
    covariate 0 and no event, then (switch, time] with the covariate 1 and
    the patient's event. A switch at 0 gives one row with the covariate 1; a
    switch at or after ``time`` (or none, NaN) one row with 0. This is
    ``tmerge(data, data, id, death = event(time, status), state = tdc(switch))``.

    Returns
    -------
    pandas.DataFrame
        Columns patient (position in the input), start, stop, event, state.

    Examples
    --------
    >>> counting_process([10, 5, 8], [1, 0, 1], [4, float("nan"), 0]).values.tolist()
    [[0.0, 0.0, 4.0, 0.0, 0.0], [0.0, 4.0, 10.0, 1.0, 1.0], [1.0, 0.0, 5.0, 0.0, 0.0], [2.0, 0.0, 8.0, 1.0, 1.0]]
    """
    times, events = _survival_data(time, event)
    switch = np.asarray(switch_time, dtype=float)
    if switch.shape != times.shape:
        raise ValueError(f"switch_time has {switch.size} values but there are {times.size} patients")
    if np.any(switch[~np.isnan(switch)] < 0):
        raise ValueError("switch_time must be >= 0 (the state switches on after the origin)")
    patients = np.arange(times.size)
    splits = ~np.isnan(switch) & (switch > 0) & (switch < times)
    on_from_start = ~np.isnan(switch) & (switch <= 0) & (times > 0)
    whole = pd.DataFrame({"patient": patients[~splits], "start": 0.0, "stop": times[~splits],
                          "event": events[~splits].astype(float), "state": on_from_start[~splits].astype(float)})
    before = pd.DataFrame({"patient": patients[splits], "start": 0.0, "stop": switch[splits], "event": 0.0,
                           "state": 0.0})
    after = pd.DataFrame({"patient": patients[splits], "start": switch[splits], "stop": times[splits],
                          "event": events[splits].astype(float), "state": 1.0})
    rows = pd.concat([whole, before, after], ignore_index=True)
    return rows.sort_values(["patient", "start"], kind="stable").reset_index(drop=True).astype(float)


class _RiskSets:
    """Who is at risk at each distinct event time, for sums over (start, stop] risk sets."""

    def __init__(self, start: np.ndarray, stop: np.ndarray, event: np.ndarray):
        self.event_times = np.unique(stop[event])
        self.by_stop = np.argsort(stop, kind="stable")
        self.by_start = np.argsort(start, kind="stable")
        # At risk at t: stop >= t and start < t.
        self.stop_from = np.searchsorted(stop[self.by_stop], self.event_times, side="left")
        self.start_from = np.searchsorted(start[self.by_start], self.event_times, side="left")
        rows = np.flatnonzero(event)
        slot = np.searchsorted(self.event_times, stop[rows])
        order = np.argsort(slot, kind="stable")
        self.event_rows, self.event_slot = rows[order], slot[order]
        first = np.r_[True, self.event_slot[1:] != self.event_slot[:-1]]
        set_id = np.cumsum(first) - 1
        self.rank = (np.arange(len(rows)) - np.flatnonzero(first)[set_id]).astype(float)
        self.ties = np.bincount(set_id).astype(float)[set_id]

    def at_risk_sum(self, values: np.ndarray) -> np.ndarray:
        """Sum of ``values`` (rows first) over the risk set of each event time."""
        def suffix(order, start_at):
            sums = np.cumsum(values[order][::-1], axis=0)[::-1]
            sums = np.concatenate([sums, np.zeros((1,) + values.shape[1:])])
            return sums[start_at]
        return suffix(self.by_stop, self.stop_from) - suffix(self.by_start, self.start_from)

    def tied_sum(self, values: np.ndarray) -> np.ndarray:
        """Sum of ``values`` over the events at each event time."""
        out = np.zeros((len(self.event_times),) + values.shape[1:])
        np.add.at(out, self.event_slot, values[self.event_rows])
        return out


def _terms(beta, x, risk: _RiskSets, ties: str):
    """Partial log-likelihood, score and information at ``beta`` (Efron or Breslow)."""
    eta = x @ beta
    shift = eta.max()
    w = np.exp(eta - shift)
    wx = w[:, None] * x
    wxx = wx[:, :, None] * x[:, None, :]
    slot = risk.event_slot
    fraction = risk.rank / risk.ties if ties == "efron" else np.zeros(len(slot))
    den = risk.at_risk_sum(w)[slot] - fraction * risk.tied_sum(w)[slot]
    num1 = risk.at_risk_sum(wx)[slot] - fraction[:, None] * risk.tied_sum(wx)[slot]
    num2 = risk.at_risk_sum(wxx)[slot] - fraction[:, None, None] * risk.tied_sum(wxx)[slot]
    mean = num1 / den[:, None]
    rows = risk.event_rows
    loglik = eta[rows].sum() - np.log(den).sum() - len(den) * shift
    score = x[rows].sum(axis=0) - mean.sum(axis=0)
    information = (num2 / den[:, None, None]).sum(axis=0) - np.einsum("ki,kj->ij", mean, mean)
    return loglik, score, information


def _concordance(start, stop, event, eta) -> float | None:
    """Harrell's C as R's ``concordance(coxph)``: a higher risk score should mean an earlier event.

    For each event at t, the comparable patients are those at risk then with
    a longer time (stop > t, or stop = t and censored); predictor ties count 1/2.
    """
    concordant = discordant = tied = 0.0
    stop_order = np.argsort(stop, kind="stable")
    sorted_stop = stop[stop_order]
    for i in np.flatnonzero(event):
        t = stop[i]
        later = stop_order[np.searchsorted(sorted_stop, t, side="right"):]
        same = stop_order[np.searchsorted(sorted_stop, t, side="left"):np.searchsorted(sorted_stop, t, side="right")]
        others = np.concatenate([later, same[~event[same]]])
        others = others[start[others] < t]
        difference = eta[i] - eta[others]
        concordant += np.sum(difference > 0)
        discordant += np.sum(difference < 0)
        tied += np.sum(difference == 0)
    comparable = concordant + discordant + tied
    return None if comparable == 0 else float((concordant + tied / 2) / comparable)


def fit_cox(covariates: pd.DataFrame | pd.Series, stop, event, start=None, ties: str = "efron",
            conf_level: float = 0.95) -> CoxModel:
    """Cox proportional-hazards model, equal to R's ``coxph`` and its summary.

    Parameters
    ----------
    covariates : pandas.DataFrame or Series
        Numeric columns (categories as 0/1 indicators against a reference level).
    stop, event : array-like
        End of each row's interval (the follow-up time) and its event (1/0).
    start : array-like, optional
        Start of each row's interval for counting-process data (time-dependent
        covariates); rows are at risk on (start, stop]. Default: all start at -inf
        (plain right-censored data).
    ties : {"efron", "breslow"}
    conf_level : float

    Raises
    ------
    ValueError
        In words: no events, a covariate without variation among those at
        risk, collinear covariates, a monotone likelihood (infinite hazard ratio).

    Examples
    --------
    >>> from lifelines.datasets import load_lung
    >>> lung = load_lung().dropna(subset=["ph.ecog"])
    >>> x = pd.DataFrame({"female": (lung["sex"] == 2).astype(int), "age": lung["age"]})
    >>> model = fit_cox(x, lung["time"], lung["status"])
    >>> round(model.term("female").hazard_ratio, 3), model.likelihood_ratio.df
    (0.603, 2)
    """
    if ties not in ("efron", "breslow"):
        raise ValueError(f"ties must be 'efron' or 'breslow', got {ties!r}")
    z = _z(conf_level)
    stop_times, events = _survival_data(stop, event)
    counting = start is not None
    if counting:
        start_times = np.asarray(start, dtype=float)
        if start_times.shape != stop_times.shape or not np.all(np.isfinite(start_times)):
            raise ValueError("start must give a finite start time for every row")
        start_times, stop_times = timefix(start_times, stop_times)
        bad = start_times >= stop_times
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise ValueError(f"start: {_patient(start, i)} starts at {start_times[i]} but stops at "
                             f"{stop_times[i]}; each interval must have start < stop")
    else:
        start_times = np.full(stop_times.shape, -np.inf)
    frame, names = covariate_frame(covariates, len(stop_times), "rows of follow-up")
    if not events.any():
        raise ValueError("Cox model: no events")
    x = frame.to_numpy(dtype=float)
    x = x - x.mean(axis=0)  # centred as in R, for numerical stability only
    risk = _RiskSets(start_times, stop_times, events)

    def terms(b):
        return _terms(b, x, risk, ties)

    monotone = ("Cox model: the likelihood is monotone (e.g. every event in one group before any "
                f"event in the other), so the hazard ratio of {names} is not estimable (infinite)")
    loglik0, score0, information0 = terms(np.zeros(x.shape[1]))
    check_estimable(information0, x, names, "Cox model", "hazard ratio")
    beta = maximise(terms, x, monotone)
    loglik, _, information = terms(beta)
    try:
        variance = np.linalg.inv(information)
    except np.linalg.LinAlgError:
        raise ValueError(monotone) from None
    se = np.sqrt(np.diag(variance))
    p_count = len(names)
    lr = 2 * (loglik - loglik0)
    wald = float(beta @ information @ beta)
    score_stat = float(score0 @ np.linalg.solve(information0, score0))
    n_rows, n_events = int(len(stop_times)), int(events.sum())
    method = (f"Cox proportional hazards{' (counting process)' if counting else ''}, "
              f"{ties.capitalize()} ties, Wald CI and p")
    hazard_ratios = tuple(
        HazardRatio(covariate=name, hazard_ratio=float(np.exp(b)), lower=float(np.exp(b - z * s)),
                    upper=float(np.exp(b + z * s)), p=float(2 * stats.norm.sf(abs(b / s))), coef=float(b),
                    se=float(s), conf_level=conf_level, n=n_rows, events=n_events, ties=ties, method=method)
        for name, b, s in zip(names, beta, se)
    )
    return CoxModel(
        terms=hazard_ratios,
        loglik=(float(loglik0), float(loglik)),
        likelihood_ratio=ModelTest("likelihood ratio", float(lr), p_count, float(stats.chi2.sf(lr, p_count))),
        wald=ModelTest("Wald", wald, p_count, float(stats.chi2.sf(wald, p_count))),
        score=ModelTest("score (log-rank)", score_stat, p_count, float(stats.chi2.sf(score_stat, p_count))),
        concordance=_concordance(start_times, stop_times, events, x @ beta),
        n=n_rows, events=n_events, ties=ties, counting_process=counting, method=method,
    )


@dataclass(frozen=True)
class ProportionalHazardsTest:
    """R's ``cox.zph``: a score test of each term (``terms``, in order) and of all together (``global_test``)
    that its log hazard ratio does not change with g(t), the time transform (``transform``)."""

    terms: tuple[ModelTest, ...]
    global_test: ModelTest
    transform: str = "km"
    method: str = "score test of proportional hazards (Grambsch-Therneau), as survival::cox.zph"

    def term(self, name: str) -> ModelTest:
        for test in self.terms:
            if test.name == name:
                return test
        raise KeyError(f"no term {name!r}; terms: {[t.name for t in self.terms]}")


def proportional_hazards_test(covariates: pd.DataFrame | pd.Series, stop, event, start=None,
                              ties: str = "efron", terms: dict[str, list[str]] | None = None
                              ) -> ProportionalHazardsTest:
    """The proportional-hazards check of a Cox model, equal to R's ``cox.zph(coxph(...))`` (transform "km").

    The model is fitted as :func:`fit_cox` fits it; the score vector and
    information of the model extended by x * g(t), at (beta-hat, 0), give
    each term's test (its columns' g-terms, df = number of columns) and the
    global test (all g-terms, df = number of columns). g(t) = 1 - KM(t-),
    the left-continuous Kaplan-Meier estimate of the whole sample at each
    event time, centred on its mean over the events.

    Parameters
    ----------
    covariates, stop, event, start, ties
        As :func:`fit_cox`.
    terms : dict, optional
        Term name -> its columns (a category's indicators form one term);
        default: each column its own term.

    Examples
    --------
    >>> from lifelines.datasets import load_lung
    >>> lung = load_lung()
    >>> zph = proportional_hazards_test(pd.DataFrame({"age": lung["age"], "sex": lung["sex"]}), lung["time"], lung["status"])
    >>> [t.df for t in zph.terms], zph.global_test.df
    ([1, 1], 2)
    """
    model = fit_cox(covariates, stop, event, start=start, ties=ties)
    frame = covariates.to_frame() if isinstance(covariates, pd.Series) else covariates
    names = [str(c) for c in frame.columns]
    terms = terms or {name: [name] for name in names}
    x = frame.to_numpy(dtype=float)
    x = x - x.mean(axis=0)
    stop_times, events = _survival_data(stop, event)
    if start is not None:
        start_times, stop_times = timefix(np.asarray(start, dtype=float), stop_times)
    else:
        start_times = np.full(stop_times.shape, -np.inf)
    risk = _RiskSets(start_times, stop_times, events)
    beta = np.array([t.coef for t in model.terms])
    # g(t): 1 - KM(t-) over the distinct event times, centred on its mean over the events.
    at_risk = risk.at_risk_sum(np.ones(len(stop_times)))
    deaths = risk.tied_sum(np.ones(len(stop_times)))
    km_before = np.concatenate(([1.0], np.cumprod(1 - deaths / at_risk)[:-1]))
    g = (1 - km_before)[risk.event_slot]
    g = g - g.mean()
    # Per event: the risk set's weighted mean and variance of x (Efron's share for tied events).
    w = np.exp(x @ beta)
    wx = w[:, None] * x
    wxx = wx[:, :, None] * x[:, None, :]
    slot = risk.event_slot
    fraction = risk.rank / risk.ties if ties == "efron" else np.zeros(len(slot))
    den = risk.at_risk_sum(w)[slot] - fraction * risk.tied_sum(w)[slot]
    mean = (risk.at_risk_sum(wx)[slot] - fraction[:, None] * risk.tied_sum(wx)[slot]) / den[:, None]
    second = (risk.at_risk_sum(wxx)[slot] - fraction[:, None, None] * risk.tied_sum(wxx)[slot]) / den[:, None, None]
    variance = second - mean[:, :, None] * mean[:, None, :]
    p = len(names)
    score_g = (g[:, None] * (x[risk.event_rows] - mean)).sum(axis=0)
    information = np.zeros((2 * p, 2 * p))
    information[:p, :p] = variance.sum(axis=0)
    information[:p, p:] = information[p:, :p] = np.einsum("k,kij->ij", g, variance)
    information[p:, p:] = np.einsum("k,kij->ij", g**2, variance)

    def test(name, columns):
        keep = list(range(p)) + [p + names.index(c) for c in columns]
        u = np.concatenate([np.zeros(p), score_g[[names.index(c) for c in columns]]])
        statistic = float(u @ np.linalg.solve(information[np.ix_(keep, keep)], u))
        return ModelTest(name, statistic, len(columns), float(stats.chi2.sf(statistic, len(columns))))

    return ProportionalHazardsTest(terms=tuple(test(name, columns) for name, columns in terms.items()),
                                   global_test=test("GLOBAL", names))
