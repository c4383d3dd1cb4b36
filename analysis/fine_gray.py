r"""Fine-Gray proportional subdistribution hazards regression, as R's ``cmprsk::crr``.

The subdistribution hazard of the event of interest keeps patients who had a
competing event in the risk set after it, weighted by the chance of still
being uncensored: at an event time :math:`t`, a patient with a competing
event at :math:`s < t` counts :math:`G(t-) / G(s-)`, :math:`G` the
Kaplan-Meier estimate of the censoring distribution (Fine & Gray, JASA 1999).
The weighted partial likelihood (Breslow ties) is maximised by Newton-Raphson
to a zero score; the variance is cmprsk's sandwich
:math:`I^{-1} (\sum_i (\eta_i + \psi_i)(\eta_i + \psi_i)^T) I^{-1}`, whose
:math:`\psi_i` accounts for the estimated censoring weights (Fortran
routine ``crrvv``, one censoring group). Event codes: 0 censored,
``event_of_interest`` (default 1), any other positive code competing.
Reference values: ``tests/reference/methods_reference.R``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from analysis.newton import check_estimable, maximise
from analysis.survival import HazardRatio, _z

__all__ = ["FineGrayModel", "fit_fine_gray"]

_METHOD = "Fine-Gray subdistribution hazards (cmprsk::crr), Breslow ties, robust Wald CI and p"


@dataclass(frozen=True)
class FineGrayModel:
    """A fitted Fine-Gray model: one subdistribution hazard ratio per covariate column (``terms``),
    the log pseudo-likelihood at 0 and at the estimate, and the patients and events used."""

    terms: tuple[HazardRatio, ...]
    loglik: tuple[float, float]
    n: int
    events: int
    competing_events: int
    method: str = _METHOD

    def term(self, name: str) -> HazardRatio:
        for term in self.terms:
            if term.covariate == name:
                return term
        raise KeyError(f"the model has no covariate {name!r}; covariates: {[t.covariate for t in self.terms]}")


def _censoring_left_limits(time: np.ndarray, censored: np.ndarray) -> np.ndarray:
    """G(t-) at each (sorted) time: Kaplan-Meier of the censoring times, censoring as the event."""
    distinct, first = np.unique(time, return_index=True)
    at_risk = time.size - first
    lost = np.bincount(np.searchsorted(distinct, time[censored]), minlength=distinct.size)
    step = np.cumprod(1.0 - lost / at_risk)
    before = np.concatenate(([1.0], step[:-1]))  # G just before each distinct time
    return before[np.searchsorted(distinct, time)]


def fit_fine_gray(covariates: pd.DataFrame | pd.Series, time, event, event_of_interest: int = 1,
                  conf_level: float = 0.95) -> FineGrayModel:
    """Fine-Gray model of the event of interest, equal to ``cmprsk::crr(time, event, covariates)``.

    Parameters
    ----------
    covariates : pandas.DataFrame or Series
        Numeric columns (categories as 0/1 indicators against a reference level).
    time : array-like
        Time to the first event or censoring.
    event : array-like of int
        0 censored, ``event_of_interest``, any other positive code a competing event.
    conf_level : float

    Raises
    ------
    ValueError
        In words: no event of interest, a covariate without variation, a
        monotone likelihood (infinite ratio).

    Examples
    --------
    >>> model = fit_fine_gray(pd.Series([0, 0, 1, 1, 0, 1], name="x"), [1, 2, 3, 4, 5, 6], [1, 2, 1, 0, 1, 1])
    >>> model.events, model.competing_events
    (4, 1)
    """
    frame = covariates.to_frame() if isinstance(covariates, pd.Series) else covariates
    names = [str(c) for c in frame.columns]
    x_all = frame.to_numpy(dtype=float)
    t_all = np.asarray(time, dtype=float)
    e_all = np.asarray(event, dtype=float)
    if x_all.shape[0] != t_all.size or e_all.size != t_all.size:
        raise ValueError("covariates, time and event must have one row per patient")
    if np.isnan(x_all).any() or np.isnan(t_all).any() or np.isnan(e_all).any():
        raise ValueError("Fine-Gray model: missing values (drop incomplete patients first, as crr's na.omit)")
    if np.any(t_all < 0):
        raise ValueError("Fine-Gray model: times must be >= 0")
    order = np.argsort(t_all, kind="stable")
    t, code, x = t_all[order], e_all[order], x_all[order]
    x = x - x.mean(axis=0)  # centred for numerical stability; the ratios do not change
    is_event = code == event_of_interest
    competing = (code != 0) & ~is_event
    if not is_event.any():
        raise ValueError("Fine-Gray model: no events of interest")
    g = _censoring_left_limits(t, code == 0)
    events = np.flatnonzero(is_event)
    te = t[events]
    # Risk-set weights (without exp(x b)) of every patient at every event: 1 while still
    # event-free, G(t-)/G(s-) after a competing event at s, 0 after censoring.
    still = t[None, :] >= te[:, None]
    after_competing = (t[None, :] < te[:, None]) & competing[None, :]
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(after_competing, g[events][:, None] / g[None, :], 0.0)
    weights = np.where(still, 1.0, ratio)

    def terms(beta):
        eta = x @ beta
        risk = np.exp(eta)
        s0 = weights @ risk
        s1 = weights @ (risk[:, None] * x)
        mean = s1 / s0[:, None]
        loglik = float(eta[events].sum() - np.log(s0).sum())
        score = (x[events] - mean).sum(axis=0)
        s2 = np.einsum("ej,j,jk,jl->kl", weights / s0[:, None], risk, x, x)
        information = s2 - mean.T @ mean
        return loglik, score, information, risk, s0, mean

    monotone = (f"Fine-Gray model: the likelihood is monotone, so the subdistribution hazard ratio of {names} "
                "is not estimable (infinite)")
    loglik0, _, information0, *_ = terms(np.zeros(x.shape[1]))
    check_estimable(information0, x, names, "Fine-Gray model", "subdistribution hazard ratio")
    beta = maximise(terms, x, monotone)
    loglik, _, information, risk, s0, mean = terms(beta)
    p = x.shape[1]
    # crrvv: eta_i, the subject's contribution to the score martingale ...
    inverse_s0 = weights / s0[:, None]  # [event, subject]
    eta = -risk[:, None] * (x * inverse_s0.sum(axis=0)[:, None] - inverse_s0.T @ mean)
    eta[events] += x[events] - mean
    # ... and psi_i, from estimating the censoring distribution G.
    distinct, first = np.unique(t, return_index=True)
    slot = np.searchsorted(distinct, t)
    at_risk = (t.size - first).astype(float)
    censored_here = np.bincount(slot[code == 0], minlength=distinct.size).astype(float)
    # C0(u), C1(u): sums of exp(x b) / G(s-) (times x) over competing events at s < u.
    comp_weight = np.where(competing, risk / g, 0.0)
    c0 = np.concatenate(([0.0], np.cumsum(np.bincount(slot, comp_weight, distinct.size))))[:-1]
    c1 = np.vstack([np.zeros(p), np.cumsum(np.stack([np.bincount(slot, comp_weight * x[:, k], distinct.size)
                                                     for k in range(p)], axis=1), axis=0)])[:-1]
    # Sums over events at or after u of G(t-)/S0 and G(t-) mean / S0.
    event_slot = slot[events]
    a0 = np.bincount(event_slot, g[events] / s0, distinct.size)
    a1 = np.stack([np.bincount(event_slot, g[events] * mean[:, k] / s0, distinct.size) for k in range(p)], axis=1)
    a0 = np.cumsum(a0[::-1])[::-1]
    a1 = np.cumsum(a1[::-1], axis=0)[::-1]
    q = c1 * a0[:, None] - c0[:, None] * a1
    jumps = np.cumsum(-q * (censored_here / at_risk**2)[:, None], axis=0)
    psi = jumps[slot] + np.where(code == 0, 1.0, 0.0)[:, None] * q[slot] / at_risk[slot][:, None]
    residual = eta + psi
    try:
        bread = np.linalg.inv(information)
    except np.linalg.LinAlgError:
        raise ValueError(monotone) from None
    variance = bread @ (residual.T @ residual) @ bread
    se = np.sqrt(np.diag(variance))
    z = _z(conf_level)
    n_events = int(is_event.sum())
    ratios = tuple(
        HazardRatio(covariate=name, hazard_ratio=float(np.exp(b)), lower=float(np.exp(b - z * s)),
                    upper=float(np.exp(b + z * s)), p=float(2 * stats.norm.sf(abs(b / s))), coef=float(b),
                    se=float(s), conf_level=conf_level, n=int(t.size), events=n_events, ties="breslow",
                    method=_METHOD)
        for name, b, s in zip(names, beta, se))
    return FineGrayModel(terms=ratios, loglik=(loglik0, float(loglik)), n=int(t.size), events=n_events,
                         competing_events=int(competing.sum()))
