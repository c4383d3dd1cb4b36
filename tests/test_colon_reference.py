"""The colon example's data and its R reference values agree with each other.

examples/colon/data/colon.csv is survival::colon, one row per patient
(examples/colon/data/make_colon_csv.R); tests/reference/colon_reference.json
holds R's values computed from that file (tests/reference/colon_reference.R).
These tests check only what can be counted from the CSV by hand: the file
loads as its dictionary says, and the counts in the JSON match the CSV. The
estimates themselves are for the engine's tests to compare against.
"""

from __future__ import annotations

import hashlib
import json
import re
import warnings

import pandas as pd
import pytest

from analysis.cohort import load_cohort, load_dictionary
from tests.corruptions import ROOT

COLON = ROOT / "examples" / "colon"
CSV = COLON / "data" / "colon.csv"
DICTIONARY = load_dictionary(COLON / "data" / "dictionary.yml")
REFERENCE = json.loads((ROOT / "tests" / "reference" / "colon_reference.json").read_text())
ARMS = ("obs", "lev", "lev_5fu")
EXPECTED_DTYPES = {
    "string": "object",
    "category": "object",
    "float": "float64",
    "integer": "Int64",
    "boolean": "boolean",
    "date": "datetime64[ns]",
}


@pytest.fixture(scope="module")
def cohort() -> pd.DataFrame:
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no column unknown to the dictionary
        return load_cohort(CSV, DICTIONARY)


def by_arm(cohort: pd.DataFrame):
    yield "all", cohort
    for arm in ARMS:
        yield arm, cohort[cohort["arm"] == arm]


# -- the file and its dictionary -----------------------------------------------


def test_one_row_per_patient(cohort):
    assert len(cohort) == 929
    assert cohort["patient_id"].is_unique
    pattern = re.compile(DICTIONARY.column("patient_id").pattern)
    assert all(pattern.fullmatch(i) for i in cohort["patient_id"])
    assert cohort["patient_id"].iloc[0] == "COL-0001" and cohort["patient_id"].iloc[-1] == "COL-0929"


def test_columns_parse_as_the_dictionary_says(cohort):
    assert list(cohort.columns) == list(DICTIONARY.names)
    for spec in DICTIONARY.columns:
        column = cohort[spec.name]
        assert str(column.dtype) == EXPECTED_DTYPES[spec.type], spec.name
        if spec.required:
            assert column.notna().all(), spec.name
        if spec.type == "category":
            assert set(column.dropna()) <= set(spec.values), spec.name
        if spec.min is not None:
            assert (column.dropna() >= spec.min).all(), spec.name
        if spec.max is not None:
            assert (column.dropna() <= spec.max).all(), spec.name


def test_arm_order_starts_with_observation():
    assert tuple(DICTIONARY.column("arm").values) == ARMS
    assert tuple(REFERENCE["meta"]["arms"]) == ARMS and REFERENCE["meta"]["reference_arm"] == "obs"


def test_missing_values_are_where_the_readme_says(cohort):
    missing = cohort.isna().sum()
    assert missing[missing > 0].to_dict() == {"nodes": 18, "differ": 23}


def test_times_as_given_have_no_recurrence_after_death(cohort):
    assert (cohort["recurrence_time_days"] <= cohort["death_time_days"]).all()
    no_recurrence = ~cohort["recurrence"]
    assert (cohort.loc[no_recurrence, "recurrence_time_days"] == cohort.loc[no_recurrence, "death_time_days"]).all()


# -- the JSON against counts from the CSV ------------------------------------------


def test_reference_was_computed_from_this_file():
    assert REFERENCE["meta"]["data_md5"] == hashlib.md5(CSV.read_bytes()).hexdigest()
    assert REFERENCE["meta"]["n_patients"] == 929


def test_event_counts_per_arm(cohort):
    for group, part in by_arm(cohort):
        deaths = int(part["death"].sum())
        recurrences = int(part["recurrence"].sum())
        competing = int((part["death"] & ~part["recurrence"]).sum())
        assert REFERENCE["counts"][group]["n"] == len(part), group
        assert REFERENCE["counts"][group]["deaths"] == deaths, group
        assert REFERENCE["os"]["km"][group]["events"] == deaths, group
        assert REFERENCE["os"]["km"][group]["n"] == len(part), group
        aalen_johansen = REFERENCE["recurrence"]["aalen_johansen"][group]
        assert aalen_johansen["recurrences"] == recurrences, group
        assert aalen_johansen["deaths_without_recurrence"] == competing, group
    logrank = REFERENCE["os"]["logrank"]["by_arm"]
    assert logrank["groups"] == list(ARMS)
    assert logrank["observed"] == [int(part["death"].sum()) for _, part in list(by_arm(cohort))[1:]]
    assert REFERENCE["os"]["cox"]["events"] == int(cohort["death"].sum()) == 452


def test_numbers_at_risk_at_the_landmarks(cohort):
    # Kaplan-Meier's number at risk at t is the number of patients whose time is >= t.
    for group, part in by_arm(cohort):
        for at in REFERENCE["os"]["km"][group]["by_conf_type"]["log"]["at"]:
            assert at["n_risk"] == int((part["death_time_days"] >= at["time_days"]).sum()), (group, at["years"])
            deaths = part["death"] & (part["death_time_days"] <= at["time_days"])
            assert at["events_by_then"] == int(deaths.sum()), (group, at["years"])


def test_table1_counts(cohort):
    table1 = REFERENCE["table1"]
    assert table1["n"] == {**{arm: int((cohort["arm"] == arm).sum()) for arm in ARMS}, "overall": 929}
    for column, block in table1["categorical"].items():
        spec = DICTIONARY.column(column)
        for group, part in by_arm(cohort):
            entry = block["by_group"]["overall" if group == "all" else group]
            assert entry["missing"] == int(part[column].isna().sum()), (column, group)
            values = part[column].dropna()
            if spec.type == "boolean":
                values = values.map({True: "yes", False: "no"})
            assert entry["counts"] == {level: int((values == level).sum()) for level in block["levels"]}, (column, group)
    for group, part in by_arm(cohort):
        entry = table1["continuous"]["age"]["by_group"]["overall" if group == "all" else group]
        age = part["age"].astype(float)
        assert (entry["median"], entry["min"], entry["max"]) == (age.median(), age.min(), age.max()), group
