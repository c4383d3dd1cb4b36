"""Endpoints from declarations: small cohorts built by hand, times counted by hand in the comments.

The declarations below are the example study's four endpoints written out
(conditions as expressions), so the engine is tested without study.yml. All
patients start on 2020-01-01 unless stated; 2020 is a leap year (January 31,
February 29 days), so 2020-03-01 is day 60 and 2021-01-01 day 366.
"""

import numpy as np
import pandas as pd
import pytest

from analysis.config import Endpoint, EventSource, StatusSource
from analysis.endpoints import time_to_event

DEATH = EventSource("death_date", "vital_status == 'dead'", "death")


def declared(name, **fields):
    return Endpoint(name=name, label=name, short=name, description=None, unit="days", landmarks=(), **fields)


OS = declared("os", origin="ino_start_date", events=(DEATH,), censor="last_contact_date")
EFS = declared("efs", origin="ino_start_date", censor="last_contact_date", events=(
    EventSource("ino_start_date", "response == 'no_mrd_negative_remission'"), EventSource("relapse_date"), DEATH))
SOS = declared("sos", origin="hsct_date", population="hsct_after_ino == True", censor="last_contact_date",
               events=(EventSource("sos_date", "sos == True"),), competing=(DEATH,))
RELAPSE = declared("relapse", origin="ino_start_date", population="response == 'mrd_negative_remission'",
                   censor="last_contact_date", events=(EventSource("relapse_date"),), competing=(DEATH,))


def endpoint_of(declaration):
    return lambda data, cutoff_date=None: time_to_event(data, declaration, cutoff_date=cutoff_date)


overall_survival, event_free_survival = endpoint_of(OS), endpoint_of(EFS)
sos_after_hsct, relapse_after_remission = endpoint_of(SOS), endpoint_of(RELAPSE)

START = "2020-01-01"
CUTOFF = "2020-12-31"  # day 365


def cohort(*patients):
    """A typed cohort from per-patient dicts: defaults fill the columns an endpoint reads."""
    defaults = {
        "ino_start_date": START,
        "response": "mrd_negative_remission",
        "relapse_date": None,
        "hsct_after_ino": False,
        "hsct_date": None,
        "sos": None,
        "sos_date": None,
        "vital_status": "alive",
        "death_date": None,
        "last_contact_date": "2021-06-30",
    }
    rows = [{"patient_id": f"AB-{i + 1:03d}", **defaults, **p} for i, p in enumerate(patients)]
    frame = pd.DataFrame(rows)
    for column in ("ino_start_date", "relapse_date", "hsct_date", "sos_date", "death_date", "last_contact_date"):
        frame[column] = pd.to_datetime(frame[column])
    for column in ("hsct_after_ino", "sos"):
        frame[column] = frame[column].astype("boolean")
    return frame


def dead(on):
    return {"vital_status": "dead", "death_date": on, "last_contact_date": on}


# -- overall survival ------------------------------------------------------


def test_overall_survival_without_cutoff():
    data = cohort(
        dead("2020-03-01"),  # death on day 60
        {"last_contact_date": "2021-01-01"},  # alive, censored on day 366
        dead("2020-01-01"),  # death on the day of the first dose: day 0
    )
    os_ = overall_survival(data)
    assert os_.time_days.tolist() == [60.0, 366.0, 0.0]
    assert os_.event.tolist() == [True, False, True]
    assert os_.event.dtype == bool
    assert os_.patient_id.tolist() == ["AB-001", "AB-002", "AB-003"]


def test_overall_survival_at_cutoff():
    data = cohort(
        dead("2021-02-01"),  # death after the cut-off: alive on day 365, censored there
        {"last_contact_date": "2021-06-30"},  # last contact after the cut-off: censored on day 365
        {"last_contact_date": "2020-07-01"},  # lost before the cut-off: censored on day 182 (31+29+31+30+31+30)
        dead("2020-12-31"),  # death on the cut-off date counts: day 365
    )
    os_ = overall_survival(data, cutoff_date=CUTOFF)
    assert os_.time_days.tolist() == [365.0, 365.0, 182.0, 365.0]
    assert os_.event.tolist() == [False, False, False, True]


def test_cutoff_accepts_dates_and_timestamps():
    import datetime

    data = cohort(dead("2021-02-01"))
    for cutoff in (datetime.date(2020, 12, 31), pd.Timestamp(CUTOFF), CUTOFF):
        assert overall_survival(data, cutoff_date=cutoff).time_days.tolist() == [365.0]


def test_results_are_read_only_and_aligned_with_the_cohort_index():
    data = cohort(dead("2020-03-01"), {}).set_axis([10, 20])
    os_ = overall_survival(data)
    assert os_.patient_id.index.tolist() == [10, 20]
    with pytest.raises(ValueError):
        os_.time_days[0] = 1.0


# -- event-free survival ---------------------------------------------------


def test_event_free_survival():
    data = cohort(
        {"response": "no_mrd_negative_remission", "last_contact_date": "2020-06-01"},  # event at day 0
        {"relapse_date": "2020-04-10", **dead("2020-05-01")},  # relapse day 100 before death day 121
        dead("2020-02-01"),  # death in remission, day 31
        {"response": "not_evaluable", "last_contact_date": "2021-01-01"},  # no event: censored day 366
        {"response": "not_evaluable", "relapse_date": "2020-03-01"},  # starts in remission, relapse day 60
    )
    efs = event_free_survival(data)
    assert efs.time_days.tolist() == [0.0, 100.0, 31.0, 366.0, 60.0]
    assert efs.event.tolist() == [True, True, True, False, True]


def test_event_free_survival_ignores_events_after_cutoff():
    data = cohort(
        {"relapse_date": "2021-01-15", **dead("2021-03-01")},  # both after the cut-off: censored day 365
        {"response": "no_mrd_negative_remission"},  # induction failure stays an event at day 0
    )
    efs = event_free_survival(data, cutoff_date=CUTOFF)
    assert efs.time_days.tolist() == [365.0, 0.0]
    assert efs.event.tolist() == [False, True]


# -- SOS after HSCT (competing risks) ---------------------------------------


def test_sos_after_hsct_recipients_only_with_death_competing():
    data = cohort(
        {"hsct_after_ino": True, "hsct_date": "2020-03-01", "sos": True, "sos_date": "2020-03-15"},  # SOS day 14
        {"hsct_after_ino": True, "hsct_date": "2020-03-01", "sos": False, **dead("2020-04-10")},  # death, no SOS: day 40
        {"hsct_after_ino": True, "hsct_date": "2020-03-01", "sos": False, "last_contact_date": "2020-05-30"},  # censored day 90
        {"hsct_after_ino": False, **dead("2020-02-01")},  # not transplanted: not in the population
        {"hsct_after_ino": True, "hsct_date": "2020-03-01", "sos": True, "sos_date": "2020-03-20", **dead("2020-04-01")},
        # SOS on day 19 comes before death on day 31: an SOS event
    )
    sos = sos_after_hsct(data)
    assert sos.patient_id.tolist() == ["AB-001", "AB-002", "AB-003", "AB-005"]
    assert sos.time_days.tolist() == [14.0, 40.0, 90.0, 19.0]
    assert sos.event.tolist() == [1, 2, 0, 1]
    assert np.issubdtype(sos.event.dtype, np.integer)


def test_sos_after_hsct_with_cutoff():
    data = cohort(
        # transplanted 2020-12-01 (day 0); SOS on 2021-01-05 is after the cut-off: censored at day 30
        {"hsct_after_ino": True, "hsct_date": "2020-12-01", "sos": True, "sos_date": "2021-01-05"},
        # transplanted after the cut-off: not an HSCT recipient as known at the cut-off
        {"hsct_after_ino": True, "hsct_date": "2021-01-10", "sos": False},
        # death without SOS after the cut-off: censored at the cut-off, day 365 - 60 = 305 from HSCT
        {"hsct_after_ino": True, "hsct_date": "2020-03-01", "sos": False, **dead("2021-02-01")},
    )
    sos = sos_after_hsct(data, cutoff_date=CUTOFF)
    assert sos.patient_id.tolist() == ["AB-001", "AB-003"]
    assert sos.time_days.tolist() == [30.0, 305.0]
    assert sos.event.tolist() == [0, 0]


# -- relapse after remission (competing risks) ------------------------------


def test_relapse_after_remission():
    data = cohort(
        {"relapse_date": "2020-02-01"},  # relapse day 31
        dead("2020-03-01"),  # death in remission day 60: competing
        {"relapse_date": "2020-04-01", **dead("2020-04-01")},  # relapse and death the same day: relapse, day 91
        {"response": "no_mrd_negative_remission", **dead("2020-02-01")},  # not a responder: left out
        {"response": "not_evaluable"},  # not a responder: left out
        {"last_contact_date": "2020-01-31"},  # censored day 30
    )
    relapse = relapse_after_remission(data)
    assert relapse.patient_id.tolist() == ["AB-001", "AB-002", "AB-003", "AB-006"]
    assert relapse.time_days.tolist() == [31.0, 60.0, 91.0, 30.0]
    assert relapse.event.tolist() == [1, 2, 1, 0]


def test_relapse_after_remission_with_cutoff():
    data = cohort({"relapse_date": "2021-01-02"}, dead("2021-01-02"), dead("2020-06-01"))
    relapse = relapse_after_remission(data, cutoff_date=CUTOFF)
    # relapse and death after the cut-off are ignored: censored at day 365; death on 2020-06-01 is day 152
    assert relapse.time_days.tolist() == [365.0, 365.0, 152.0]
    assert relapse.event.tolist() == [0, 0, 2]


# -- bad input ----------------------------------------------------------------


# Codes and yes/no values outside their sets (an alive patient with a death
# date, an unknown vital status or response, SOS unrecorded after HSCT) are
# the data checks' to stop: see the catalogue in tests/corruptions.py.
@pytest.mark.parametrize(
    "patient, endpoint, message",
    [
        ({"vital_status": "dead"}, overall_survival, "'death_date'.*given when vital_status == 'dead'.*AB-001"),
        (dead("2019-12-01"), overall_survival, "'death_date'.*on or after ino_start_date"),
        ({"last_contact_date": "2019-12-31"}, overall_survival, "'last_contact_date'.*on or after"),
        ({"relapse_date": "2019-12-01"}, event_free_survival, "'relapse_date'.*on or after"),
        ({"relapse_date": "2021-08-01"}, event_free_survival, "'relapse_date'.*on or before last_contact_date"),
        ({"hsct_after_ino": True}, sos_after_hsct, "'hsct_date'.*date given"),
        ({"hsct_after_ino": True, "hsct_date": "2020-03-01", "sos": True}, sos_after_hsct, "'sos_date'.*given when sos"),
        (
            {"hsct_after_ino": True, "hsct_date": "2020-03-01", "sos": True, "sos_date": "2020-02-01"},
            sos_after_hsct,
            "'sos_date'.*on or after hsct_date",
        ),
    ],
)
def test_impossible_dates_name_column_rule_and_patient(patient, endpoint, message):
    with pytest.raises(ValueError, match=message):
        endpoint(cohort(patient))


def test_start_after_cutoff_and_untyped_columns():
    # Not yet in the population as known at the cut-off.
    late = overall_survival(cohort({"ino_start_date": "2021-01-05"}, {}), cutoff_date=CUTOFF)
    assert late.patient_id.tolist() == ["AB-002"]
    untyped = cohort({})
    untyped["death_date"] = untyped["death_date"].astype(str)
    with pytest.raises(TypeError, match="'death_date' must be dates"):
        overall_survival(untyped)
    with pytest.raises(ValueError, match="lacks column"):
        overall_survival(cohort({}).drop(columns="last_contact_date"))
    with pytest.raises(ValueError, match="cutoff_date"):
        overall_survival(cohort({}), cutoff_date=20201231)


# -- time and status as given --------------------------------------------------


def test_time_and_status_columns_with_a_competing_pair():
    recurrence = declared(
        "recurrence", status_event=StatusSource("rec_days", "rec", unit="days"),
        status_competing=StatusSource("death_days", "died", unit="days"))
    data = pd.DataFrame({
        "patient_id": ["AB-001", "AB-002", "AB-003", "AB-004", "AB-005"],
        "rec_days": [100.0, 300.0, 250.0, 80.0, 90.0],
        "rec": pd.array([True, False, False, True, False], dtype="boolean"),
        "death_days": [400.0, 300.0, 500.0, 80.0, 60.0],
        "died": pd.array([True, True, False, True, True], dtype="boolean"),
    })
    result = time_to_event(data, recurrence)
    # 1: recurrence day 100 before death day 400; 2: no recurrence, death day 300 competes;
    # 3: neither, censored at its own day 250; 4: recurrence and death the same day: recurrence;
    # 5: death on day 60 before the recurrence follow-up ends: competing.
    assert result.time_days.tolist() == [100.0, 300.0, 250.0, 80.0, 60.0]
    assert result.event.tolist() == [1, 2, 0, 1, 2]


def test_time_and_status_with_numeric_codes():
    os_ = declared("os", status_event=StatusSource("days", "status", event_values=(2,), unit="days"))
    data = pd.DataFrame({"patient_id": ["AB-001", "AB-002"], "days": [5.0, 7.0], "status": [2, 1]})
    result = time_to_event(data, os_)
    assert result.time_days.tolist() == [5.0, 7.0] and result.event.tolist() == [True, False]


def test_times_are_read_in_their_declared_unit():
    data = pd.DataFrame({"patient_id": ["AB-001", "AB-002"], "time": [1.0, 12.0], "status": [True, False]})
    for unit, days in [("days", [1.0, 12.0]), ("weeks", [7.0, 84.0]), ("months", [30.4375, 365.25]),
                       ("years", [365.25, 4383.0])]:
        os_ = declared("os", status_event=StatusSource("time", "status", unit=unit))
        assert time_to_event(data, os_).time_days.tolist() == days, unit


def test_times_without_a_unit_are_refused_not_read_as_days():
    data = pd.DataFrame({"patient_id": ["AB-001"], "time": [6.0], "status": [True]})
    with pytest.raises(ValueError, match="cohort column 'time': the unit of its times is not declared"):
        time_to_event(data, declared("os", status_event=StatusSource("time", "status")))
