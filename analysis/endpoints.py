"""Time-to-event endpoints derived from the cohort's dates.

Each function reads the typed cohort table (one row per patient, columns as in
data/dictionary.yml: dates datetime64, booleans pandas "boolean", categories
strings) and returns a :class:`TimeToEventData`: for every patient in the
endpoint's population, days from the origin to the first event, or to the end
of follow-up when there is none, and what ended the interval.

End of follow-up is the date of death for patients who died, otherwise the last
contact. With a cut-off date, events after it are ignored and follow-up stops
at it: the analysis sees the data as known on the cut-off date. Dates that make
an interval impossible (an event before the origin, a relapse after the end of
follow-up, a death without a date) raise ValueError naming column, rule and
patients.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pandas as pd

__all__ = [
    "CENSORED",
    "EVENT_OF_INTEREST",
    "COMPETING_EVENT",
    "TimeToEventData",
    "overall_survival",
    "event_free_survival",
    "sos_after_hsct",
    "relapse_after_remission",
]

CENSORED = 0
EVENT_OF_INTEREST = 1
COMPETING_EVENT = 2

_RESPONSES = {"mrd_negative_remission", "no_mrd_negative_remission", "not_evaluable"}
_VITAL_STATUSES = {"alive", "dead"}


@dataclass(frozen=True, eq=False)
class TimeToEventData:
    """Per-patient times and events of one endpoint.

    Attributes
    ----------
    name : str
        Endpoint name, e.g. "overall survival".
    definition : str
        One plain sentence for the methods section.
    patient_id : pandas.Series
        Patient IDs, indexed like the cohort rows in the endpoint's population.
    time_days : numpy.ndarray of float
        Days from the origin to the event or censoring.
    event : numpy.ndarray
        bool (True = event) for single-event endpoints; for competing risks
        int codes 0 censored, 1 event of interest, 2 competing event.
    """

    name: str
    definition: str
    patient_id: pd.Series
    time_days: np.ndarray
    event: np.ndarray

    def __post_init__(self):
        if not len(self.patient_id) == self.time_days.size == self.event.size:
            raise ValueError(
                f"{self.name}: patient_id, time_days and event must have one value per patient"
            )
        for array in (self.time_days, self.event):
            array.setflags(write=False)

    @property
    def n(self) -> int:
        """Number of patients in the endpoint's population."""
        return int(self.time_days.size)


def _fail(column: str, rule: str, cohort: pd.DataFrame, bad: pd.Series) -> None:
    """Raise if any row breaks ``rule``; the message names the patients."""
    bad = pd.Series(bad, index=cohort.index).fillna(False).astype(bool)
    if bad.any():
        ids = cohort.loc[bad, "patient_id"].astype(str).tolist()
        shown = ", ".join(ids[:10]) + (f" and {len(ids) - 10} more" if len(ids) > 10 else "")
        raise ValueError(f"cohort column {column!r}: rule '{rule}' fails for patient(s) {shown}")


def _require_columns(cohort: pd.DataFrame, columns: list[str], dates: list[str]) -> None:
    missing = [c for c in ["patient_id", *columns, *dates] if c not in cohort.columns]
    if missing:
        raise ValueError(f"cohort table lacks column(s) {missing} (see data/dictionary.yml)")
    for column in dates:
        if not pd.api.types.is_datetime64_any_dtype(cohort[column]):
            raise TypeError(
                f"cohort column {column!r} must be dates (datetime64), got {cohort[column].dtype}; "
                "load the cohort with its data dictionary"
            )


def _cutoff(cutoff_date) -> pd.Timestamp | None:
    if cutoff_date is None:
        return None
    if isinstance(cutoff_date, (str, dt.date, np.datetime64, pd.Timestamp)):
        cutoff = pd.Timestamp(cutoff_date)
        if not pd.isna(cutoff):
            return cutoff
    raise ValueError(f"cutoff_date must be a date, got {cutoff_date!r}")


def _codes(cohort: pd.DataFrame, column: str, allowed: set[str]) -> pd.Series:
    values = cohort[column].astype("string")
    _fail(column, f"value is one of {sorted(allowed)}", cohort, ~values.isin(allowed) | values.isna())
    return values


def _flag(cohort: pd.DataFrame, column: str, rows: pd.Series | None = None) -> pd.Series:
    """A boolean column as plain bool; missing is an error (within ``rows``)."""
    values = cohort[column].astype("boolean")
    within = pd.Series(True, index=cohort.index) if rows is None else rows
    _fail(column, "yes or no must be given", cohort, values.isna() & within)
    return values.fillna(False).astype(bool)


def _follow_up(cohort: pd.DataFrame, origin: str, cutoff: pd.Timestamp | None) -> tuple[pd.Series, pd.Series]:
    """Death date (NaT if none) and end of follow-up (death or last contact)."""
    dead = _codes(cohort, "vital_status", _VITAL_STATUSES) == "dead"
    death = cohort["death_date"]
    _fail("death_date", "given when vital_status is dead", cohort, dead & death.isna())
    _fail("death_date", "empty when vital_status is alive", cohort, ~dead & death.notna())
    _fail(origin, "date given", cohort, cohort[origin].isna())
    _fail("last_contact_date", "date given", cohort, cohort["last_contact_date"].isna())
    end = death.where(dead, cohort["last_contact_date"])
    _fail("death_date", f"on or after {origin}", cohort, death < cohort[origin])
    _fail("last_contact_date", f"on or after {origin}", cohort, cohort["last_contact_date"] < cohort[origin])
    if cutoff is not None:
        _fail(origin, f"on or before the cut-off date {cutoff.date()}", cohort, cohort[origin] > cutoff)
    return death, end


def _check_event_date(cohort: pd.DataFrame, column: str, origin: str, end: pd.Series) -> None:
    date = cohort[column]
    _fail(column, f"on or after {origin}", cohort, date < cohort[origin])
    _fail(column, "on or before the end of follow-up (death or last contact)", cohort, date > end)


def _first_event(
    origin: pd.Series,
    end: pd.Series,
    cutoff: pd.Timestamp | None,
    candidates: list[tuple[int, pd.Series]],
) -> tuple[np.ndarray, np.ndarray]:
    """Days to the earliest candidate event (ties: first listed) or to censoring.

    ``candidates`` are (code, date) pairs, NaT where the patient had no such
    event. Events after the cut-off are ignored and follow-up stops there.
    """
    stop = end if cutoff is None else end.where(end <= cutoff, cutoff)
    censor_days = ((stop - origin) / pd.Timedelta(days=1)).to_numpy(dtype=float)
    days = np.full((len(origin), len(candidates)), np.inf)
    for j, (_, date) in enumerate(candidates):
        counted = date.notna() if cutoff is None else date.notna() & (date <= cutoff)
        delay = ((date - origin) / pd.Timedelta(days=1)).to_numpy(dtype=float)
        days[:, j] = np.where(counted.to_numpy(), delay, np.inf)
    first = np.argmin(days, axis=1)
    first_days = days[np.arange(len(origin)), first]
    has_event = np.isfinite(first_days)
    codes = np.array([code for code, _ in candidates])[first]
    return np.where(has_event, first_days, censor_days), np.where(has_event, codes, CENSORED)


def _censoring_phrase(cutoff: pd.Timestamp | None) -> str:
    if cutoff is None:
        return "censored at last contact"
    return "censored at last contact or at the data cut-off, whichever came first"


def overall_survival(cohort: pd.DataFrame, cutoff_date=None) -> TimeToEventData:
    """Overall survival from the first InO dose.

    Parameters
    ----------
    cohort : pandas.DataFrame
        Typed cohort table.
    cutoff_date : date-like, optional
        Data cut-off: deaths after it are ignored, follow-up stops at it.

    Returns
    -------
    TimeToEventData
        All patients; event True = death from any cause.

    Examples
    --------
    >>> cohort = pd.DataFrame({
    ...     "patient_id": ["AB-001", "AB-002"],
    ...     "ino_start_date": pd.to_datetime(["2020-01-01", "2020-01-01"]),
    ...     "vital_status": ["dead", "alive"],
    ...     "death_date": pd.to_datetime(["2020-01-31", None]),
    ...     "last_contact_date": pd.to_datetime(["2020-01-31", "2020-03-01"])})
    >>> os_ = overall_survival(cohort)
    >>> os_.time_days.tolist(), os_.event.tolist()
    ([30.0, 60.0], [True, False])
    """
    origin = "ino_start_date"
    _require_columns(cohort, ["vital_status"], [origin, "death_date", "last_contact_date"])
    cutoff = _cutoff(cutoff_date)
    death, end = _follow_up(cohort, origin, cutoff)
    time, code = _first_event(cohort[origin], end, cutoff, [(EVENT_OF_INTEREST, death)])
    return TimeToEventData(
        name="overall survival",
        definition=f"from the first InO dose to death from any cause, {_censoring_phrase(cutoff)}",
        patient_id=cohort["patient_id"].copy(),
        time_days=time,
        event=code == EVENT_OF_INTEREST,
    )


def event_free_survival(cohort: pd.DataFrame, cutoff_date=None) -> TimeToEventData:
    """Event-free survival from the first InO dose.

    Events: no MRD-negative remission after InO (an event at day 0, the usual
    pediatric convention), relapse or progression, death from any cause.
    Patients not evaluable for response (no detectable disease at InO) start
    in remission and can fail only by relapse or death.

    Parameters
    ----------
    cohort : pandas.DataFrame
        Typed cohort table.
    cutoff_date : date-like, optional
        Data cut-off: events after it are ignored, follow-up stops at it.

    Returns
    -------
    TimeToEventData
        All patients; event True = any of the events above.

    Examples
    --------
    >>> cohort = pd.DataFrame({
    ...     "patient_id": ["AB-001", "AB-002"],
    ...     "ino_start_date": pd.to_datetime(["2020-01-01", "2020-01-01"]),
    ...     "response": ["no_mrd_negative_remission", "mrd_negative_remission"],
    ...     "relapse_date": pd.to_datetime([None, "2020-04-10"]),
    ...     "vital_status": ["alive", "alive"],
    ...     "death_date": pd.to_datetime([None, None]),
    ...     "last_contact_date": pd.to_datetime(["2020-06-01", "2020-06-01"])})
    >>> efs = event_free_survival(cohort)
    >>> efs.time_days.tolist(), efs.event.tolist()
    ([0.0, 100.0], [True, True])
    """
    origin = "ino_start_date"
    _require_columns(cohort, ["vital_status", "response"], [origin, "relapse_date", "death_date", "last_contact_date"])
    cutoff = _cutoff(cutoff_date)
    death, end = _follow_up(cohort, origin, cutoff)
    _check_event_date(cohort, "relapse_date", origin, end)
    no_remission = _codes(cohort, "response", _RESPONSES) == "no_mrd_negative_remission"
    induction_failure = cohort[origin].where(no_remission.to_numpy(dtype=bool))
    time, code = _first_event(
        cohort[origin],
        end,
        cutoff,
        [(EVENT_OF_INTEREST, induction_failure), (EVENT_OF_INTEREST, cohort["relapse_date"]),
         (EVENT_OF_INTEREST, death)],
    )
    return TimeToEventData(
        name="event-free survival",
        definition=(
            "from the first InO dose to the first of: no MRD-negative remission after InO "
            "(counted as an event at day 0), relapse or progression, or death from any cause, "
            f"{_censoring_phrase(cutoff)}; patients without detectable disease at InO entered in remission"
        ),
        patient_id=cohort["patient_id"].copy(),
        time_days=time,
        event=code == EVENT_OF_INTEREST,
    )


def sos_after_hsct(cohort: pd.DataFrame, cutoff_date=None) -> TimeToEventData:
    """Sinusoidal obstruction syndrome after allogeneic HSCT, with death as competing event.

    Parameters
    ----------
    cohort : pandas.DataFrame
        Typed cohort table.
    cutoff_date : date-like, optional
        Data cut-off: patients transplanted after it are left out, events
        after it are ignored, follow-up stops at it.

    Returns
    -------
    TimeToEventData
        HSCT recipients only, origin the HSCT date; event codes 1 SOS,
        2 death without SOS, 0 censored.

    Examples
    --------
    >>> cohort = pd.DataFrame({
    ...     "patient_id": ["AB-001", "AB-002", "AB-003"],
    ...     "ino_start_date": pd.to_datetime(["2020-01-01"] * 3),
    ...     "hsct_after_ino": pd.array([True, True, False], dtype="boolean"),
    ...     "hsct_date": pd.to_datetime(["2020-03-01", "2020-03-01", None]),
    ...     "sos": pd.array([True, False, pd.NA], dtype="boolean"),
    ...     "sos_date": pd.to_datetime(["2020-03-15", None, None]),
    ...     "vital_status": ["alive", "dead", "alive"],
    ...     "death_date": pd.to_datetime([None, "2020-04-10", None]),
    ...     "last_contact_date": pd.to_datetime(["2020-06-01", "2020-04-10", "2020-06-01"])})
    >>> sos = sos_after_hsct(cohort)
    >>> sos.patient_id.tolist(), sos.time_days.tolist(), sos.event.tolist()
    (['AB-001', 'AB-002'], [14.0, 40.0], [1, 2])
    """
    origin = "hsct_date"
    _require_columns(
        cohort,
        ["vital_status", "hsct_after_ino", "sos"],
        ["ino_start_date", origin, "sos_date", "death_date", "last_contact_date"],
    )
    cutoff = _cutoff(cutoff_date)
    recipient = _flag(cohort, "hsct_after_ino")
    _fail(origin, "given when hsct_after_ino is yes", cohort, recipient & cohort[origin].isna())
    _fail(origin, "on or after ino_start_date", cohort, cohort[origin] < cohort["ino_start_date"])
    if cutoff is not None:
        recipient &= cohort[origin] <= cutoff
    recipients = cohort.loc[recipient]
    death, end = _follow_up(recipients, origin, cutoff)
    sos = _flag(recipients, "sos")
    _fail("sos_date", "given when sos is yes", recipients, sos & recipients["sos_date"].isna())
    _fail("sos_date", "empty when sos is no", recipients, ~sos & recipients["sos_date"].notna())
    _check_event_date(recipients, "sos_date", origin, end)
    time, code = _first_event(
        recipients[origin], end, cutoff,
        [(EVENT_OF_INTEREST, recipients["sos_date"]), (COMPETING_EVENT, death)],
    )
    return TimeToEventData(
        name="sinusoidal obstruction syndrome after HSCT",
        definition=(
            "among patients who received an allogeneic HSCT after InO, from the HSCT to "
            f"sinusoidal obstruction syndrome, with death without it as a competing event, {_censoring_phrase(cutoff)}"
        ),
        patient_id=recipients["patient_id"].copy(),
        time_days=time,
        event=code.astype(np.int64),
    )


def relapse_after_remission(cohort: pd.DataFrame, cutoff_date=None) -> TimeToEventData:
    """Relapse among patients in MRD-negative remission, with death in remission as competing event.

    Parameters
    ----------
    cohort : pandas.DataFrame
        Typed cohort table.
    cutoff_date : date-like, optional
        Data cut-off: events after it are ignored, follow-up stops at it.

    Returns
    -------
    TimeToEventData
        Responders (response ``mrd_negative_remission``) only, origin the first
        InO dose; event codes 1 relapse or progression, 2 death in remission,
        0 censored. A relapse and a death on the same day count as relapse.

    Examples
    --------
    >>> cohort = pd.DataFrame({
    ...     "patient_id": ["AB-001", "AB-002", "AB-003"],
    ...     "ino_start_date": pd.to_datetime(["2020-01-01"] * 3),
    ...     "response": ["mrd_negative_remission", "mrd_negative_remission", "no_mrd_negative_remission"],
    ...     "relapse_date": pd.to_datetime(["2020-02-01", None, None]),
    ...     "vital_status": ["alive", "dead", "alive"],
    ...     "death_date": pd.to_datetime([None, "2020-03-01", None]),
    ...     "last_contact_date": pd.to_datetime(["2020-06-01", "2020-03-01", "2020-06-01"])})
    >>> relapse = relapse_after_remission(cohort)
    >>> relapse.time_days.tolist(), relapse.event.tolist()
    ([31.0, 60.0], [1, 2])
    """
    origin = "ino_start_date"
    _require_columns(cohort, ["vital_status", "response"], [origin, "relapse_date", "death_date", "last_contact_date"])
    cutoff = _cutoff(cutoff_date)
    responders = cohort.loc[_codes(cohort, "response", _RESPONSES) == "mrd_negative_remission"]
    death, end = _follow_up(responders, origin, cutoff)
    _check_event_date(responders, "relapse_date", origin, end)
    time, code = _first_event(
        responders[origin], end, cutoff,
        [(EVENT_OF_INTEREST, responders["relapse_date"]), (COMPETING_EVENT, death)],
    )
    return TimeToEventData(
        name="relapse after MRD-negative remission",
        definition=(
            "among patients in MRD-negative remission after InO, from the first InO dose to relapse "
            f"or progression, with death in remission as a competing event, {_censoring_phrase(cutoff)}"
        ),
        patient_id=responders["patient_id"].copy(),
        time_days=time,
        event=code.astype(np.int64),
    )
