"""Time-to-event data of a declared endpoint, derived from the cohort's columns.

An endpoint (:class:`analysis.config.Endpoint`) is data, not code, as in
pharmaverse admiral's ``derive_param_tte``: an origin date, event sources (a
date column, counted where an optional condition holds), a censoring date,
optional competing event sources and an optional population. The earliest
event wins (ties: events of interest before competing events, then the order
listed); a patient without one is censored at the censoring date. With a data
cut-off, events after it are ignored, follow-up stops at it, and patients
whose origin lies after it are not yet in the population.

An endpoint can also arrive as a time column and a status column, as trial
exports deliver it; a competing endpoint then takes a second time and status
pair, and the earlier event wins. The times are read in the unit the data
dictionary declares for their column (days, weeks, months of 365.25/12 days,
years of 365.25 days) and converted to days here, once; a time column without a
unit is refused, never read as days.

Dates that make an interval impossible (an event before the origin or after
the censoring date, an event whose condition holds without a date) raise
ValueError naming column, rule and patients; the data checks stop such data
before the report is built.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from analysis.config import TIME_UNITS, Endpoint, StatusSource, integer_code

__all__ = ["CENSORED", "COMPETING_EVENT", "EVENT_OF_INTEREST", "TimeToEventData", "time_to_event"]

CENSORED = 0
EVENT_OF_INTEREST = 1
COMPETING_EVENT = 2


@dataclass(frozen=True, eq=False)
class TimeToEventData:
    """Per-patient times and events of one endpoint.

    Attributes
    ----------
    name : str
        Endpoint name, as declared.
    patient_id : pandas.Series
        Patient IDs, indexed like the cohort rows in the endpoint's population.
    time_days : numpy.ndarray of float
        Days from the origin to the event or censoring.
    event : numpy.ndarray
        bool (True = event) for single-event endpoints; for competing risks
        int codes 0 censored, 1 event of interest, 2 competing event.
    """

    name: str
    patient_id: pd.Series
    time_days: np.ndarray
    event: np.ndarray

    def __post_init__(self):
        if not len(self.patient_id) == self.time_days.size == self.event.size:
            raise ValueError(f"{self.name}: patient_id, time_days and event must have one value per patient")
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


def _require_columns(cohort: pd.DataFrame, endpoint: Endpoint) -> None:
    missing = [c for c in ("patient_id", *endpoint.columns) if c not in cohort.columns]
    if missing:
        raise ValueError(f"endpoint {endpoint.name!r}: the cohort table lacks column(s) {missing}")
    if endpoint.from_dates:
        for column in endpoint.columns:
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


def _evaluate(cohort: pd.DataFrame, expression: str) -> pd.Series:
    return pd.Series(cohort.eval(expression, engine="python"), index=cohort.index)


def _from_dates(cohort: pd.DataFrame, endpoint: Endpoint, cutoff, condition) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    origin_column = endpoint.origin
    rows = pd.Series(True, index=cohort.index)
    if endpoint.population is not None:
        rows = condition(endpoint.population).fillna(False).astype(bool)
    _fail(origin_column, "date given", cohort, rows & cohort[origin_column].isna())
    if cutoff is not None:
        rows &= cohort[origin_column] <= cutoff
    patients = cohort.loc[rows]
    origin, end = patients[origin_column], patients[endpoint.censor]
    _fail(endpoint.censor, "date given", patients, end.isna())
    candidates = []
    for code, sources in ((EVENT_OF_INTEREST, endpoint.events), (COMPETING_EVENT, endpoint.competing)):
        for source in sources:
            date = patients[source.date]
            if source.where is not None:
                holds = condition(source.where)[rows].fillna(False).astype(bool)
                _fail(source.date, f"given when {source.where}", patients, holds & date.isna())
                date = date.where(holds)
            _fail(source.date, f"on or after {origin_column}", patients, date < origin)
            _fail(source.date, f"on or before {endpoint.censor}", patients, date > end)
            candidates.append((code, date))
    _fail(endpoint.censor, f"on or after {origin_column}", patients, end < origin)
    time, code = _first_event(origin, end, cutoff, candidates)
    return patients, time, code


def _status(patients: pd.DataFrame, source: StatusSource) -> tuple[np.ndarray, np.ndarray]:
    """Days to the event or censoring, and whether the event happened."""
    if source.unit not in TIME_UNITS:
        raise ValueError(f"cohort column {source.time!r}: the unit of its times is not declared "
                         f"(got {source.unit!r}; give the column unit: days, weeks, months or years "
                         "in the data dictionary)")
    time, status = patients[source.time], patients[source.status]
    _fail(source.time, "time given", patients, time.isna())
    _fail(source.time, "time >= 0", patients, time < 0)
    _fail(source.status, "status given", patients, status.isna())
    given = source.event_values or (True,)
    if pd.api.types.is_bool_dtype(status):
        values = status.astype(object).isin(list(given))
    elif pd.api.types.is_numeric_dtype(status):
        # A code as YAML writes it, 1 or '1'.
        values = status.isin([code for v in given if (code := integer_code(v)) is not None])
    else:
        values = status.astype(str).isin([str(v).strip() for v in given])
    return time.to_numpy(dtype=float) * TIME_UNITS[source.unit], values.to_numpy(dtype=bool)


def _from_status(cohort: pd.DataFrame, endpoint: Endpoint, condition) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    rows = pd.Series(True, index=cohort.index)
    if endpoint.population is not None:
        rows = condition(endpoint.population).fillna(False).astype(bool)
    patients = cohort.loc[rows]
    time, event = _status(patients, endpoint.status_event)
    code = np.where(event, EVENT_OF_INTEREST, CENSORED)
    if endpoint.status_competing is not None:
        # The earlier event wins (the event of interest on a tie); without
        # either, the patient is censored at the endpoint's own time.
        other_time, other = _status(patients, endpoint.status_competing)
        competing_first = other & (~event | (other_time < time))
        time = np.where(competing_first, other_time, time)
        code = np.where(competing_first, COMPETING_EVENT, code)
    return patients, time, code


def time_to_event(
    cohort: pd.DataFrame,
    endpoint: Endpoint,
    cutoff_date=None,
    condition: Callable[[str], pd.Series] | None = None,
) -> TimeToEventData:
    """Per-patient time and event of a declared endpoint.

    Parameters
    ----------
    cohort : pandas.DataFrame
        Typed cohort table (one row per patient).
    endpoint : Endpoint
        The declaration (see :mod:`analysis.config`).
    cutoff_date : date-like, optional
        Data cut-off, for endpoints from dates.
    condition : callable, optional
        Turns a population or event condition (a definition's name or an
        expression) into one bool per patient; default: a pandas expression.

    Returns
    -------
    TimeToEventData
        Event True/False, or 0/1/2 codes when the endpoint has competing events.

    Examples
    --------
    >>> from analysis.config import Endpoint, EventSource
    >>> os_ = Endpoint(name="os", label="Overall survival", short="OS", description=None, unit="months",
    ...                landmarks=(), origin="start", events=(EventSource("death", "status == 'dead'"),),
    ...                censor="last_contact")
    >>> cohort = pd.DataFrame({
    ...     "patient_id": ["AB-001", "AB-002"],
    ...     "start": pd.to_datetime(["2020-01-01", "2020-01-01"]),
    ...     "status": ["dead", "alive"],
    ...     "death": pd.to_datetime(["2020-01-31", None]),
    ...     "last_contact": pd.to_datetime(["2020-01-31", "2020-03-01"])})
    >>> data = time_to_event(cohort, os_)
    >>> data.time_days.tolist(), data.event.tolist()
    ([30.0, 60.0], [True, False])
    """
    _require_columns(cohort, endpoint)
    condition = condition or (lambda expression: _evaluate(cohort, expression))
    if endpoint.from_dates:
        patients, time, code = _from_dates(cohort, endpoint, _cutoff(cutoff_date), condition)
    else:
        patients, time, code = _from_status(cohort, endpoint, condition)
    event = code.astype(np.int64) if endpoint.has_competing_events else code == EVENT_OF_INTEREST
    return TimeToEventData(name=endpoint.name, patient_id=patients["patient_id"].copy(),
                           time_days=np.asarray(time, dtype=float), event=event)
