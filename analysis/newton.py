"""Maximising a partial likelihood: Newton-Raphson with step halving, as R's coxph and crr fit.

One loop serves the Cox fits (right-censored and counting-process) and the
Fine-Gray fit; each model brings its own ``terms(beta)``: the log likelihood,
its score and its information, then anything else it wants back.
"""

from __future__ import annotations

from typing import Callable

import numpy as np

#: Beyond this log hazard ratio across a covariate's range (e^30 ~ 10^13) no data
#: support the estimate: the likelihood is monotone (R warns "coefficient may be infinite").
MAX_LOG_HR_SPREAD = 30.0


def check_estimable(information: np.ndarray, x: np.ndarray, names: list[str], model: str, ratio: str) -> None:
    """Refuse covariates whose ratio cannot be estimated, from the information at beta = 0.

    There it is the covariates' variance within the risk sets: zero for a
    covariate that never varies among those at risk at an event time (R's coxph
    gives NA), singular for collinear covariates.

    Examples
    --------
    >>> check_estimable(np.array([[0.0]]), np.ones((3, 1)), ["x"], "Cox model", "hazard ratio")
    Traceback (most recent call last):
    ...
    ValueError: Cox model: covariate 'x' does not vary among the patients at risk at any event time, so its hazard ratio is not estimable
    """
    scale = np.sqrt(np.clip(np.diag(information), 0, None))
    flat = scale <= 1e-10 * max(1.0, float(np.max(np.abs(x))))
    if flat.any():
        raise ValueError(f"{model}: covariate {names[int(np.argmax(flat))]!r} does not vary among the "
                         f"patients at risk at any event time, so its {ratio} is not estimable")
    if np.linalg.matrix_rank(information / np.outer(scale, scale), tol=1e-10) < len(names):
        raise ValueError(f"{model}: covariates {names} are collinear")


def maximise(terms: Callable[[np.ndarray], tuple], x: np.ndarray, monotone: str) -> np.ndarray:
    """The coefficients maximising ``terms(beta)[0]``, from beta = 0.

    ``x`` is the (centred) covariate matrix; ``monotone`` is the message when
    the maximum is at infinity (Newton fails, or "converges" to an estimate
    beyond anything data can support).

    Examples
    --------
    A concave quadratic with its maximum at (1, -2):

    >>> target = np.array([1.0, -2.0])
    >>> def terms(b):
    ...     return -float((b - target) @ (b - target)), -2 * (b - target), 2 * np.eye(2)
    >>> maximise(terms, np.eye(2), "monotone").round(12).tolist()
    [1.0, -2.0]
    """
    beta = np.zeros(x.shape[1])
    loglik, score, information = terms(beta)[:3]
    for _ in range(50):
        try:
            step = np.linalg.solve(information, score)
        except np.linalg.LinAlgError:
            # Singular only as a coefficient runs off to infinity.
            raise ValueError(monotone) from None
        if np.max(np.abs(step)) <= 1e-10 * max(1.0, float(np.max(np.abs(beta)))):
            beta = beta + step
            break
        candidate = beta + step
        new = terms(candidate)
        halvings = 0
        # Step halving when Newton overshoots, as coxph does.
        while not new[0] >= loglik - 1e-12 * abs(loglik) and halvings < 30:
            candidate = (beta + candidate) / 2
            new = terms(candidate)
            halvings += 1
        beta, (loglik, score, information) = candidate, new[:3]
    else:
        raise ValueError(monotone)
    if not np.all(np.isfinite(beta)) or np.any(np.abs(beta) * np.ptp(x, axis=0) > MAX_LOG_HR_SPREAD):
        raise ValueError(monotone)
    return beta
