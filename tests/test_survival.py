"""analysis/survival.py against R's survival package, hand calculations and lifelines.

R values: tests/reference/survival_reference.json, written with the datasets in
tests/reference/data/ by tests/reference/survival_reference.R (R is not needed
to run these tests). Tolerance 1e-6 (relative for values above 1), 1e-4 for Cox.
"""

from __future__ import annotations

import hashlib
import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from lifelines import CoxPHFitter
from lifelines.statistics import multivariate_logrank_test

from analysis.cohort import load_cohort, load_dictionary
from analysis.study import Study
from analysis.survival import (
    KaplanMeier,
    cox_hazard_ratio,
    log_rank,
    median_follow_up,
)

REFERENCE_DIR = Path(__file__).parent / "reference"
REFERENCE = json.loads((REFERENCE_DIR / "survival_reference.json").read_text())
COHORT = Path(__file__).parents[1] / "data" / "example_cohort.csv"
TOL = 1e-6
COX_TOL = 1e-4
# R's conf.type -> the name this project uses ("plain" is also accepted).
CONF_TYPE = {"plain": "linear", "log": "log", "log-log": "log-log", "logit": "logit",
             "arcsin": "arcsin"}


def dataset(name: str) -> pd.DataFrame:
    return pd.read_csv(REFERENCE_DIR / "data" / f"{name}.csv")


def close(actual, expected, tol: float = TOL) -> bool:
    """Equal within tol (relative above 1); None and NaN stand for R's NA."""
    if expected is None or (isinstance(expected, float) and math.isnan(expected)):
        return actual is None or (isinstance(actual, float) and math.isnan(actual))
    if actual is None:
        return False
    return abs(actual - expected) <= tol * max(1.0, abs(expected))


def assert_close(actual, expected, what: str, tol: float = TOL) -> None:
    assert close(actual, expected, tol), f"{what}: got {actual}, R gives {expected}"


def as_list(value) -> list:
    """jsonlite writes one-element vectors as scalars."""
    return value if isinstance(value, list) else [value]


def subset(entry: dict) -> pd.DataFrame:
    d = dataset(entry["dataset"])
    if entry.get("subset_column"):
        d = d[d[entry["subset_column"]] == entry["subset_value"]]
    return d


def entry_id(entry: dict) -> str:
    where = f"{entry['subset_column']}={entry['subset_value']}" if entry.get("subset_column") else "all"
    return f"{entry['dataset']}-{where}-{entry['conf_type']}"


# ----------------------------------------------------------- Kaplan-Meier ---


@pytest.mark.parametrize("entry", REFERENCE["km"], ids=entry_id)
def test_km_table_equals_survfit(entry):
    d = subset(entry)
    km = KaplanMeier(conf_type=CONF_TYPE[entry["conf_type"]]).fit(d["time"], d["status"])
    table = km.table_
    assert list(table.columns) == ["time", "n_risk", "n_event", "n_censor", "surv", "se",
                                   "lower", "upper"]
    assert (km.n_, km.events_) == (entry["n"], entry["events"])
    expected = {column: as_list(values) for column, values in entry["table"].items()}
    assert len(table) == len(expected["time"])
    for column in table.columns:
        for i, (got, want) in enumerate(zip(table[column].tolist(), expected[column])):
            assert_close(float(got), want, f"{column} at time {expected['time'][i]}")


@pytest.mark.parametrize("entry", REFERENCE["km"], ids=entry_id)
def test_km_at_time_equals_summary_survfit(entry):
    d = subset(entry)
    km = KaplanMeier(conf_type=CONF_TYPE[entry["conf_type"]]).fit(d["time"], d["status"])
    for want in entry["at"]:
        got = km.at(want["time"])
        label = f"t={want['time']}"
        assert got.estimable == want["estimable"], label
        assert (got.n_at_risk, got.events) == (want["n_risk"], want["events"]), label
        if not want["estimable"]:
            assert (got.estimate, got.se, got.lower, got.upper) == (None, None, None, None)
            continue
        for field, key in [("estimate", "surv"), ("se", "se"), ("lower", "lower"), ("upper", "upper")]:
            assert_close(getattr(got, field), want[key], f"{field} at {label}")


@pytest.mark.parametrize("entry", REFERENCE["km"], ids=entry_id)
def test_km_quantiles_equal_quantile_survfit(entry):
    d = subset(entry)
    km = KaplanMeier(conf_type=CONF_TYPE[entry["conf_type"]]).fit(d["time"], d["status"])
    for want in entry["quantiles"]:
        got = km.quantile(want["p"])
        for field in ("estimate", "lower", "upper"):
            assert_close(getattr(got, field), want[field], f"p={want['p']} {field}")


def test_km_by_hand():
    # times 1, 2, 2+, 3: S = 3/4, then 3/4 * 2/3 = 1/2, then 0.
    # Greenwood at t=2: S^2 * (1/(4*3) + 1/(3*2)) = 1/4 * 1/4, so SE(S) = 0.25.
    km = KaplanMeier(conf_type="linear", conf_level=0.95).fit([1, 2, 2, 3], [1, 1, 0, 1])
    s = km.at(2)
    assert s.estimate == pytest.approx(0.5)
    assert s.se == pytest.approx(0.25)
    assert s.lower == pytest.approx(0.5 - 1.959963984540054 * 0.25)
    assert s.upper == pytest.approx(0.5 + 1.959963984540054 * 0.25)
    assert (s.n_at_risk, s.events, s.conf_type) == (3, 2, "linear")
    # S(3) = 0: R reports SE and CI as NA.
    end = km.at(3)
    assert (end.estimate, end.se, end.lower, end.upper) == (0.0, None, None, None)


def test_plain_is_linear():
    data = dataset("gehan")
    plain = KaplanMeier(conf_type="plain").fit(data["time"], data["status"])
    linear = KaplanMeier(conf_type="linear").fit(data["time"], data["status"])
    pd.testing.assert_frame_equal(plain.table_, linear.table_)
    assert plain.conf_type == "linear"


def test_median_midpoint_and_not_reached():
    # R's rules (notes: lifelines would say 2 and inf).
    assert KaplanMeier().fit([1, 2, 3, 4], [1, 1, 1, 1]).median().estimate == 2.5
    # S = 0.5 from t=2 to the last time 4: midpoint of 2 and 4.
    assert KaplanMeier().fit([1, 2, 3, 4], [1, 1, 0, 0]).median().estimate == 3.0
    assert KaplanMeier().fit([1, 2, 3], [1, 0, 0]).median().estimate is None  # S stays 2/3


def test_km_fit_keeps_label_and_returns_self():
    km = KaplanMeier()
    assert km.fit([1, 2], [True, False], label="6-MP") is km
    assert km.label_ == "6-MP"


# -------------------------------------------------------------- follow-up ---


@pytest.mark.parametrize("entry", REFERENCE["follow_up"],
                         ids=lambda e: f"{e['dataset']}-{e['conf_type']}")
def test_median_follow_up_equals_reverse_survfit(entry):
    d = dataset(entry["dataset"])
    got = median_follow_up(d["time"], d["status"], conf_type=CONF_TYPE[entry["conf_type"]])
    assert_close(got.median.estimate, entry["median"], "median")
    assert_close(got.median.lower, entry["lower"], "lower")
    assert_close(got.median.upper, entry["upper"], "upper")
    assert got.n_alive == entry["n_alive"]
    assert_close(got.alive_min, entry["alive_min"], "alive_min")
    assert_close(got.alive_max, entry["alive_max"], "alive_max")


def test_follow_up_when_everyone_died():
    got = median_follow_up([1, 2, 3], [1, 1, 1])
    assert (got.n_alive, got.alive_min, got.alive_max, got.median.estimate) == (0, None, None, None)


# --------------------------------------------------------------- log-rank ---


def logrank_id(entry: dict) -> str:
    strata = f"-strata({entry['strata_column']})" if entry["strata_column"] else ""
    return f"{entry['dataset']}-{entry['group_column']}{strata}"


def same_label(ours: str, r_label) -> bool:
    """R prints the numeric label 0 as "0" where pandas read it as 0.0."""
    try:
        return float(ours) == float(r_label)
    except ValueError:
        return ours == str(r_label)


@pytest.mark.parametrize("entry", REFERENCE["logrank"], ids=logrank_id)
def test_log_rank_equals_survdiff(entry):
    d = dataset(entry["dataset"])
    if entry["dataset"] == "edge":
        d = d[d["group"].isin(as_list(entry["groups"]))]
    columns = [entry["group_column"]] + ([entry["strata_column"]] if entry["strata_column"] else [])
    d = d.dropna(subset=columns)
    strata = d[entry["strata_column"]] if entry["strata_column"] else None
    got = log_rank(d["time"], d["status"], d[entry["group_column"]], strata=strata)
    assert_close(got.chisq, entry["chisq"], "chisq")
    assert got.df == entry["df"]
    assert_close(got.p, entry["p"], "p")
    assert len(got.groups) == len(as_list(entry["groups"]))
    assert all(same_label(g, w) for g, w in zip(got.groups, as_list(entry["groups"])))
    assert got.n == tuple(as_list(entry["n"]))
    for got_values, want_values, what in [(got.observed, entry["observed"], "observed"),
                                          (got.expected, entry["expected"], "expected")]:
        for g, v in zip(got_values, as_list(want_values)):
            assert_close(g, v, what)
    assert got.stratified == bool(entry["strata_column"])


def test_log_rank_agrees_with_lifelines_without_strata():
    d = dataset("lung").dropna(subset=["ecog_group"])
    ours = log_rank(d["time"], d["status"], d["ecog_group"])
    theirs = multivariate_logrank_test(d["time"], d["ecog_group"], d["status"])
    assert ours.chisq == pytest.approx(theirs.test_statistic, rel=1e-9)
    assert ours.df == theirs.degrees_of_freedom


def test_log_rank_two_patients_by_hand():
    # One death at t=1 with both at risk: E = (1/2, 1/2), V = 1 * 1/2 * 1/2 * (2-1)/(2-1) = 1/4,
    # chisq = (1 - 1/2)^2 / (1/4) = 1.
    got = log_rank([1, 2], [1, 0], ["a", "b"])
    assert got.observed == (1.0, 0.0)
    assert got.expected == pytest.approx((0.5, 0.5))
    assert got.chisq == pytest.approx(1.0)


def test_log_rank_category_order_is_kept():
    groups = pd.Categorical(["yes", "no", "yes", "no"], categories=["yes", "no"])
    got = log_rank([1, 2, 3, 4], [1, 1, 0, 1], groups)
    assert got.groups == ("yes", "no")


# -------------------------------------------------------------------- Cox ---


def cox_covariates(entry: dict) -> pd.DataFrame:
    d = dataset(entry["dataset"])
    derived = {
        "control": lambda: (d["treat"] == "control").astype(int),
        "female": lambda: (d["sex"] == 2).astype(int),
        "b": lambda: (d["group"] == "b").astype(int),
        "experimental": lambda: (d["arm"] == "experimental").astype(int),
        "y": lambda: (d["group"] == "y").astype(int),
        "age": lambda: d["age"],
    }
    return d, pd.DataFrame({name: derived[name]() for name in as_list(entry["covariates"])})


@pytest.mark.parametrize("entry", REFERENCE["cox"],
                         ids=lambda e: f"{e['dataset']}-{'+'.join(as_list(e['covariates']))}-{e['ties']}")
def test_cox_equals_coxph(entry):
    d, covariates = cox_covariates(entry)
    got = cox_hazard_ratio(d["time"], d["status"], covariates, ties=entry["ties"])
    assert [hr.covariate for hr in got] == as_list(entry["covariates"])
    for i, hr in enumerate(got):
        for field, key in [("coef", "coef"), ("se", "se"), ("hazard_ratio", "hazard_ratio"),
                           ("lower", "lower"), ("upper", "upper"), ("p", "p")]:
            assert_close(getattr(hr, field), as_list(entry[key])[i], f"{hr.covariate} {field}",
                         COX_TOL)
        assert (hr.n, hr.events, hr.ties) == (entry["n"], entry["events"], entry["ties"])


def test_cox_efron_agrees_with_lifelines():
    d = dataset("lung")
    frame = pd.DataFrame({"time": d["time"], "status": d["status"], "age": d["age"],
                          "female": (d["sex"] == 2).astype(int)})
    theirs = CoxPHFitter().fit(frame, "time", "status")
    ours = cox_hazard_ratio(frame["time"], frame["status"], frame[["age", "female"]])
    # lifelines stops about 1e-6 short of the zero-score estimate.
    for hr in ours:
        assert hr.coef == pytest.approx(theirs.params_[hr.covariate], abs=1e-5)
        assert hr.se == pytest.approx(theirs.standard_errors_[hr.covariate], rel=1e-4)


def test_cox_hazard_ratio_by_hand():
    # x = (1, 0, 1, 0) at times 1, 2, 3, 4; events at 1, 2, 3. With r = e^b:
    # L = r/(2r+2) * 1/(r+2) * r/(r+1); score 2 - 2r/(r+1) - r/(r+2) = 0
    # <=> 2/(r+1) = r/(r+2) <=> r^2 - r - 4 = 0, so HR = r = (1 + sqrt(17)) / 2.
    got = cox_hazard_ratio([1, 2, 3, 4], [1, 1, 1, 0], pd.Series([1, 0, 1, 0], name="x"))
    assert got[0].hazard_ratio == pytest.approx((1 + math.sqrt(17)) / 2, rel=1e-9)


# ------------------------------------------- the notes' reference values ---


def test_reference_values_of_the_notes():
    """Figures of /work/shared/notes/r-vs-lifelines.md at their printed precision."""
    gehan = dataset("gehan")
    test = log_rank(gehan["time"], gehan["status"], gehan["treat"])
    assert (round(test.chisq, 3), test.df, round(test.p, 7)) == (16.793, 1, 4.17e-5)
    medians = {arm: KaplanMeier().fit(g["time"], g["status"]).median().estimate
               for arm, g in gehan.groupby("treat")}
    assert medians == {"6-MP": 23.0, "control": 8.0}
    control = (gehan["treat"] == "control").astype(int).rename("control")
    (efron,) = cox_hazard_ratio(gehan["time"], gehan["status"], control)
    (breslow,) = cox_hazard_ratio(gehan["time"], gehan["status"], control, ties="breslow")
    assert (round(efron.hazard_ratio, 3), round(efron.lower, 3), round(efron.upper, 2)) == (
        4.817, 2.147, 10.81)
    assert round(breslow.hazard_ratio, 3) == 4.523
    lung = dataset("lung")
    test = log_rank(lung["time"], lung["status"], lung["sex"])
    assert (round(test.chisq, 3), round(test.p, 5)) == (10.327, 0.00131)
    assert [KaplanMeier().fit(g["time"], g["status"]).median().estimate
            for _, g in lung.groupby("sex")] == [270.0, 426.0]
    (female,) = cox_hazard_ratio(lung["time"], lung["status"], (lung["sex"] == 2).rename("female"))
    assert (round(female.hazard_ratio, 3), round(female.lower, 3), round(female.upper, 3)) == (
        0.588, 0.424, 0.816)


def test_json_sanity_block_matches_the_notes():
    sanity = REFERENCE["notes_sanity_check"]
    assert round(sanity["gehan_logrank_chisq"], 3) == 16.793
    assert round(sanity["gehan_cox_efron_hr"], 3) == 4.817
    assert round(sanity["lung_cox_female_hr"], 3) == 0.588


# ---------------------------------------------------------------- cohort ---


@pytest.fixture(scope="module")
def cohort():
    section = REFERENCE.get("example_cohort")
    if not COHORT.exists() or not section:
        pytest.skip("no data/example_cohort.csv reference: run Rscript tests/reference/survival_reference.R")
    if hashlib.md5(COHORT.read_bytes()).hexdigest() != section["md5"]:
        pytest.skip("data/example_cohort.csv changed since the R reference was made: "
                    "run Rscript tests/reference/survival_reference.R")
    # OS as the report derives it (study.yml's declaration), checked against R's own derivation.
    d = load_cohort(COHORT, load_dictionary(COHORT.parent / "dictionary.yml"))
    study = Study(COHORT.parents[1] / "study.yml")
    assert str(study.settings.cutoff_date) == section["cutoff_date"]
    os_ = study.endpoint_data("overall_survival")
    d["os_days"], d["dead"] = os_.time_days, os_.event
    return d, section


def assert_landmark(d: pd.DataFrame, want: dict, landmark: float) -> None:
    got = KaplanMeier(conf_type="linear").fit(d["os_days"], d["dead"]).at(landmark)
    assert got.estimable == want["estimable"]
    if want["estimable"]:
        assert_close(got.estimate, want["surv"], "2-year OS")
        assert_close(got.se, want["se"], "SE")
        assert_close(got.lower, want["lower"], "lower")
        assert_close(got.upper, want["upper"], "upper")
        assert got.n_at_risk == want["n_risk"]


def test_example_cohort_overall_survival(cohort):
    d, section = cohort
    assert_landmark(d, section["overall"], section["landmark_days"])


@pytest.mark.parametrize("split", ["mrd_negative_remission", "prior_blinatumomab"])
def test_example_cohort_subgroups(cohort, split):
    d, section = cohort
    flag = (d["response"] == "mrd_negative_remission" if split == "mrd_negative_remission"
            else d["prior_blinatumomab"].astype(bool))
    assert_landmark(d[flag], section[split]["yes"], section["landmark_days"])
    assert_landmark(d[~flag], section[split]["no"], section["landmark_days"])
    test = log_rank(d["os_days"], d["dead"], flag)
    assert_close(test.p, section[split]["logrank_p"], "log-rank p")


# ------------------------------------------------------------- bad input ---


@pytest.mark.parametrize("durations, events, message", [
    ([1, 2], [1], "2 values but event_observed has 1"),
    ([1, -2], [1, 0], "negative time"),
    ([1, float("nan")], [1, 0], "missing or infinite time"),
    ([1, 2], [1, 2], "True/False or 1/0"),
    ([1, 2], [1, None], "True/False or 1/0"),
    ([], [], "no patients"),
    (["a", 2], [1, 0], "must be numbers"),
])
def test_bad_survival_data(durations, events, message):
    with pytest.raises(ValueError, match=message):
        KaplanMeier().fit(durations, events)


def test_error_names_column_and_patient():
    times = pd.Series([3.0, -1.0], index=["INO-001", "INO-002"], name="os_days")
    with pytest.raises(ValueError, match=r"os_days: row with index 'INO-002' has a negative time"):
        KaplanMeier().fit(times, [1, 0])


def test_bad_settings_and_requests():
    with pytest.raises(ValueError, match="conf_type"):
        KaplanMeier(conf_type="loglog")
    with pytest.raises(ValueError, match="conf_level"):
        KaplanMeier(conf_level=95)
    km = KaplanMeier().fit([1, 2], [1, 0])
    with pytest.raises(ValueError, match="time must be"):
        km.at(-1)
    with pytest.raises(ValueError, match="strictly between 0 and 1"):
        km.quantile(1.0)


def test_bad_log_rank_input():
    with pytest.raises(ValueError, match="at least 2 groups"):
        log_rank([1, 2], [1, 1], ["a", "a"])
    # Every patient censored: chi-square 0 and p not available, as survdiff (the
    # R reference's all_censored entry); two events at one time and nobody
    # else at risk: no variance, a plain message (R's survdiff stops too).
    none = log_rank([1, 2], [0, 0], ["a", "b"])
    assert (none.chisq, none.p) == (0.0, None)
    with pytest.raises(ValueError, match="no variance"):
        log_rank([2, 2], [1, 1], ["a", "b"])
    with pytest.raises(ValueError, match="arm: row with index 1 has no value"):
        log_rank([1, 2], [1, 1], pd.Series(["a", None], name="arm"))


def test_bad_cox_input():
    times, events = [1, 2, 3, 4], [1, 1, 0, 1]
    with pytest.raises(ValueError, match="same value for every patient"):
        cox_hazard_ratio(times, events, pd.Series([1, 1, 1, 1], name="x"))
    with pytest.raises(ValueError, match="not numeric"):
        cox_hazard_ratio(times, events, pd.Series(["a", "b", "a", "b"], name="arm"))
    with pytest.raises(ValueError, match="no value"):
        cox_hazard_ratio(times, events, pd.Series([1, None, 0, 1], name="x"))
    with pytest.raises(ValueError, match="ties"):
        cox_hazard_ratio(times, events, pd.Series([1, 0, 0, 1], name="x"), ties="exact")
    # Every event in the x=1 group before any x=0 event time: the HR is infinite
    # (R: "coefficient may be infinite"); the likelihood is monotone, not collinear.
    with pytest.raises(ValueError, match="monotone.*not estimable"):
        cox_hazard_ratio([1, 2, 3, 4], [1, 1, 0, 0], pd.Series([1, 1, 0, 0], name="x"))
    with pytest.raises(ValueError, match="monotone.*not estimable"):
        cox_hazard_ratio([1, 2, 0, 1, 2, 0, 0], [0, 0, 1, 0, 0, 0, 1], pd.Series([1, 0, 0, 1, 0, 0, 0], name="x"))
    # A level never at risk at an event time (R's coxph: NA); collinear indicators.
    with pytest.raises(ValueError, match="'x' does not vary among the patients at risk"):
        cox_hazard_ratio([1, 2, 2, 0], [0, 1, 1, 0], pd.Series([1, 0, 0, 1], name="x"))
    with pytest.raises(ValueError, match="collinear"):
        cox_hazard_ratio(times, events, pd.DataFrame({"x": [1, 0, 0, 1], "y": [0, 1, 1, 0]}))


@pytest.mark.parametrize("times", [[3.0, 3.0, 3.0, 5.0], [3.0, 3.0, 3.0, 3.0]])
def test_all_events_at_one_time_never_a_linear_algebra_error(times):
    events, x = [1, 1, 1, 0], pd.Series([1, 0, 1, 0], name="x")
    for call in (lambda: log_rank(times, events, x), lambda: cox_hazard_ratio(times, events, x)):
        try:
            call()
        except ValueError as error:
            assert "Singular matrix" not in str(error) and "LinAlgError" not in type(error).__name__


def test_timefix_ties_times_a_rounding_error_apart():
    """R's aeqSurv: 1 + 1e-12 is 1; 1 + 1e-6 is not."""
    from analysis.survival import timefix
    (fixed,) = timefix(np.array([2.0, 1.0 + 1e-12, 1.0, 1.0 + 1e-6]))
    assert fixed.tolist() == [2.0, 1.0, 1.0, 1.0 + 1e-6]
    km = KaplanMeier().fit([1.0, 1.0 + 1e-12, 2.0], [1, 1, 0])
    assert km.table_["n_event"].tolist() == [2, 0]


def test_landmark_past_the_end_of_a_curve_at_zero_is_zero():
    got = KaplanMeier(conf_type="log").fit([1, 2, 3], [1, 0, 1]).at(5)
    assert (got.estimable, got.estimate, got.se, got.lower, got.upper) == (True, 0.0, None, None, None)
    assert KaplanMeier().fit([1, 2, 3], [1, 1, 0]).at(5).estimable is False
