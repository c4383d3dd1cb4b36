"""Simon-Makuch curves: survival by a grouping that patients join during follow-up.

A patient counts in the "not yet" group from the origin until the grouping
becomes known (a status reached, a treatment given later), then in the other group, so
nobody's time before joining is credited to the group joined (Simon &
Makuch, Stat Med 1984). Each curve is the Kaplan-Meier estimate on
counting-process rows: at each stop time t of a group's rows,
S(t) = S(t-) (1 - d / n), with n the group's rows at risk (start < t <= stop),
as R's ``survfit(Surv(tstart, tstop, event) ~ state)`` on the rows of
:func:`analysis.cox.counting_process`. Reference values:
``tests/reference/methods_reference.R``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from analysis.cox import counting_process
from analysis.survival import timefix

__all__ = ["SimonMakuch", "SimonMakuchCurve", "simon_makuch"]


@dataclass(frozen=True)
class SimonMakuchCurve:
    """One group's curve: ``table`` has a row per distinct stop time (time, n_risk, n_event, n_censor, surv)."""

    label: str
    table: pd.DataFrame
    start: np.ndarray
    stop: np.ndarray

    def at_risk(self, t: float) -> int:
        """Patients counted in the group just before ``t`` (start < t <= stop)."""
        return int(np.sum((self.start < t) & (self.stop >= t)))

    def surv_at(self, t: float) -> float:
        """S(t), right-continuous; 1 before the first stop time."""
        table = self.table
        i = np.searchsorted(table["time"].to_numpy(), t, side="right")
        return 1.0 if i == 0 else float(table["surv"].iloc[i - 1])


@dataclass(frozen=True)
class SimonMakuch:
    """The "not yet" curve (``before``) and the joined group's curve (``after``)."""

    before: SimonMakuchCurve
    after: SimonMakuchCurve
    method: str = "Simon-Makuch (Kaplan-Meier on counting-process rows), as survfit(Surv(tstart, tstop, event) ~ group)"

    @property
    def curves(self) -> tuple[SimonMakuchCurve, SimonMakuchCurve]:
        return self.before, self.after


def _curve(label: str, start: np.ndarray, stop: np.ndarray, event: np.ndarray) -> SimonMakuchCurve:
    times = np.unique(stop)
    n_risk = np.array([np.sum((start < t) & (stop >= t)) for t in times], dtype=float)
    n_event = np.array([np.sum(event & (stop == t)) for t in times], dtype=float)
    n_censor = np.array([np.sum(~event & (stop == t)) for t in times], dtype=float)
    surv = np.cumprod(1 - np.divide(n_event, n_risk, out=np.zeros_like(n_event), where=n_risk > 0))
    table = pd.DataFrame({"time": times, "n_risk": n_risk, "n_event": n_event, "n_censor": n_censor, "surv": surv})
    return SimonMakuchCurve(label, table, start, stop)


def simon_makuch(time, event, switch_time, labels: tuple[str, str] = ("not yet", "joined")) -> SimonMakuch:
    """Simon-Makuch curves of patients followed to ``time`` who join the group at ``switch_time`` (NaN: never).

    Examples
    --------
    >>> sm = simon_makuch([10, 5, 8, 6, 3], [1, 0, 1, 1, 1], [4, float("nan"), float("nan"), 2, float("nan")])
    >>> sm.before.table["surv"].tolist(), sm.after.table["surv"].tolist()
    ([1.0, 0.75, 0.75, 0.75, 0.0], [0.5, 0.0])
    """
    rows = counting_process(time, event, switch_time)
    start, stop = timefix(rows["start"].to_numpy(), rows["stop"].to_numpy())
    state = rows["state"].to_numpy() == 1
    died = rows["event"].to_numpy() == 1
    return SimonMakuch(_curve(labels[0], start[~state], stop[~state], died[~state]),
                       _curve(labels[1], start[state], stop[state], died[state]))
