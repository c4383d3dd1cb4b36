"""Cumulative incidence and Gray's test against R cmprsk 2.2-11.

Reference values: tests/reference/competing_risks_reference.json, written by
tests/reference/competing_risks_reference.R (cmprsk::cuminc, cmprsk::timepoints)
together with the datasets in tests/reference/data/cr_*.csv.
"""

import json
import math
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analysis import formatting as fmt
from analysis.competing_risks import CumulativeIncidence, gray_test

REFERENCE = Path(__file__).parent / "reference"
R = json.loads((REFERENCE / "competing_risks_reference.json").read_text())
CASES = {case["name"]: case for case in R["cuminc"]}
TOL = 1e-6


def load(case):
    return pd.read_csv(REFERENCE / "data" / case["csv"], dtype={case["group_col"]: str} if case["group_col"] else None)


def curves():
    """(case, curve name, group, cause) for every curve R estimated."""
    for case in R["cuminc"]:
        for name in case["curves"]:
            group, cause = name.rsplit(" ", 1)
            yield pytest.param(case["name"], name, group, int(cause), id=f"{case['name']}:{name}")


def fit_curve(case, group, cause):
    data = load(case)
    if case["group_col"] is not None:
        data = data[data[case["group_col"]] == group]
    return CumulativeIncidence(conf_level=case["conf_level"]).fit(data["time"], data["status"], event_of_interest=cause)


@pytest.mark.parametrize("case_name, curve, group, cause", list(curves()))
def test_timepoints_match_cmprsk(case_name, curve, group, cause):
    case = CASES[case_name]
    fit = fit_curve(case, group, cause)
    expected = case["curves"][curve]["at"]
    for j, t in enumerate(case["times"]):
        got = fit.at(t)
        if expected["est"][j] is None:
            # cmprsk: NA beyond the group's last follow-up time.
            assert not got.estimable and got.estimate is None and got.lower is None, (curve, t)
            continue
        assert got.estimable
        assert got.estimate == pytest.approx(expected["est"][j], abs=TOL), (curve, t)
        assert got.variance == pytest.approx(expected["var"][j], abs=TOL), (curve, t)
        for limit in ("lower", "upper"):
            if expected[limit][j] is None:  # incidence 0 or 1: no log(-log) interval
                assert getattr(got, limit) is None, (curve, t, limit)
            else:
                assert getattr(got, limit) == pytest.approx(expected[limit][j], abs=TOL), (curve, t, limit)


@pytest.mark.parametrize("case_name, curve, group, cause", list(curves()))
def test_every_step_matches_cmprsk_corners(case_name, curve, group, cause):
    """cuminc returns (0, t1, t1, t2, t2, ..., t_last): each step's left and right value."""
    case = CASES[case_name]
    fit = fit_curve(case, group, cause)
    corners = case["curves"][curve]["corners"]
    x, f, v = (np.array(corners[k], dtype=float) for k in ("time", "est", "var"))
    steps = fit.table_[fit.table_["n_event"] > 0]
    np.testing.assert_allclose(steps["time"], x[2:-1:2], atol=TOL)
    np.testing.assert_allclose(steps["incidence"], f[2:-1:2], atol=TOL)
    np.testing.assert_allclose(steps["variance"], v[2:-1:2], atol=TOL)
    assert fit.table_["time"].iloc[-1] == x[-1]  # last follow-up time
    for i in range(2, len(x) - 1, 2):
        if x[i] > 0:  # the value just before each step is the previous level
            assert fit.at(np.nextafter(x[i], -np.inf)).estimate == pytest.approx(f[i - 1], abs=TOL)


def gray_cases():
    for case in R["cuminc"]:
        for test in case["tests"] or []:
            yield pytest.param(case["name"], test, id=f"{case['name']}:cause{test['cause']}")


@pytest.mark.parametrize("case_name, expected", list(gray_cases()))
def test_gray_test_matches_cmprsk(case_name, expected):
    case = CASES[case_name]
    data = load(case)
    result = gray_test(data["time"], data["status"], data[case["group_col"]], event_of_interest=expected["cause"])
    assert result.statistic == pytest.approx(expected["stat"], abs=TOL)
    assert result.p == pytest.approx(expected["p"], abs=TOL)
    assert result.df == expected["df"]
    assert result.groups == tuple(case["groups"])
    assert result.event_of_interest == expected["cause"]


def test_gray_test_with_a_group_without_events_of_interest_is_finite():
    """The small data's group C has only competing events and censoring."""
    data = load(CASES["small_by_group"])
    assert (data.loc[data["group"] == "C", "status"] != 1).all()
    result = gray_test(data["time"], data["status"], data["group"])
    assert result.df == 2 and math.isfinite(result.statistic)


def test_hand_calculation_with_ties_and_time_zero():
    """Four patients: event of interest at 0, a competing event and a censoring tied at 2, event at 3.

    KM of any event: S(0) = 3/4, S(2) = 3/4 * 2/3 = 1/2 (censored patient leaves after 2).
    F(0) = 1/4; F(2) = 1/4 (competing only); F(3) = 1/4 + S(2) * 1/1 = 3/4.
    cmprsk variance at 0 (n=4, one event, S after = 3/4): weight 1/16, t3 = 1/S = 4/3,
    t4 = 1 + t3*F = 4/3, so v1 = v2 = v3 = (16/9)/16 = 1/9 and
    v = v1 + F^2 v3 - 2 F v2 = (1/9)(1 + 1/16 - 1/2) = 1/16.
    """
    fit = CumulativeIncidence().fit([0, 2, 2, 3], [1, 2, 0, 1])
    table = fit.table_
    assert table["time"].tolist() == [0.0, 2.0, 3.0]
    assert table["n_risk"].tolist() == [4, 3, 1]
    assert table["n_event"].tolist() == [1, 0, 1]
    assert table["n_competing"].tolist() == [0, 1, 0]
    assert table["n_censor"].tolist() == [0, 1, 0]
    assert table["incidence"].tolist() == pytest.approx([0.25, 0.25, 0.75])
    assert fit.at(0).variance == pytest.approx(1 / 16)
    assert fit.at(2.5).events == 1 and fit.at(2.5).competing_events == 1
    assert fit.at(3).n == 4


def test_incidences_of_all_causes_add_up_to_one_minus_km():
    """F1(t) + F2(t) = 1 - S(t), with S the Kaplan-Meier estimate of being free of any event."""
    data = load(CASES["mgus2_overall"])
    f1 = CumulativeIncidence().fit(data["time"], data["status"], 1).table_
    f2 = CumulativeIncidence().fit(data["time"], data["status"], 2).table_
    km = np.cumprod(1 - (f1["n_event"] + f1["n_competing"]) / f1["n_risk"])
    np.testing.assert_allclose(f1["incidence"] + f2["incidence"], 1 - km, atol=1e-12)


def test_event_of_interest_code_is_respected():
    """Swapping the codes 1 and 2 and asking for code 2 gives the cause-1 curve."""
    data = load(CASES["small_by_group"])
    swapped = data["status"].replace({1: 2, 2: 1})
    a = CumulativeIncidence().fit(data["time"], data["status"], 1).table_
    b = CumulativeIncidence().fit(data["time"], swapped, 2).table_
    pd.testing.assert_frame_equal(a, b)
    g1 = gray_test(data["time"], data["status"], data["group"], 1)
    g2 = gray_test(data["time"], swapped, data["group"], 2)
    assert g1.statistic == pytest.approx(g2.statistic, rel=1e-12)


def test_row_order_does_not_matter_and_results_repeat_exactly():
    data = load(CASES["mgus2_by_sex"])
    shuffled = data.sample(frac=1.0, random_state=3)
    first = CumulativeIncidence().fit(data["time"], data["status"]).table_
    again = CumulativeIncidence().fit(data["time"], data["status"]).table_
    reordered = CumulativeIncidence().fit(shuffled["time"], shuffled["status"]).table_
    pd.testing.assert_frame_equal(first, again, check_exact=True)
    pd.testing.assert_frame_equal(first, reordered, atol=1e-12)
    assert gray_test(data["time"], data["status"], data["sex"]).statistic == pytest.approx(
        gray_test(shuffled["time"], shuffled["status"], shuffled["sex"]).statistic, rel=1e-12
    )


def test_ci_stays_inside_zero_one_and_is_not_estimable_at_zero():
    fit = CumulativeIncidence().fit([1, 2, 3, 4, 5], [2, 1, 0, 1, 0])
    before = fit.at(0.5)
    assert (before.estimate, before.lower, before.upper, before.variance) == (0.0, None, None, 0.0)
    # R's survfit multi-state CI at zero incidence (after a competing event) is NA too.
    zero = R["zero_incidence"]
    at_zero = fit.at(zero["time"])
    assert at_zero.estimate == zero["estimate"] == 0
    assert (at_zero.lower, at_zero.upper) == (zero["lower"][0], zero["upper"][0]) == (None, None)
    assert fmt.estimate_ci(at_zero) == "0.0% (95% CI not estimable)"
    table = fit.table_.dropna()
    assert ((table["lower"] >= 0) & (table["lower"] <= table["incidence"]) & (table["upper"] <= 1)).all()


@pytest.mark.parametrize(
    "durations, codes, message",
    [
        ([1, 2], [1], "same length"),
        ([1, -2], [1, 0], ">= 0"),
        ([1, float("nan")], [1, 0], "finite"),
        ([1, 2], [1, 0.5], "integers"),
        ([], [], "empty"),
    ],
)
def test_bad_input_is_rejected_with_a_clear_message(durations, codes, message):
    with pytest.raises(ValueError, match=message):
        CumulativeIncidence().fit(durations, codes)


def test_bad_gray_input_is_rejected():
    with pytest.raises(ValueError, match="at least two groups"):
        gray_test([1, 2, 3], [1, 0, 2], ["a", "a", "a"])
    with pytest.raises(ValueError, match="missing"):
        gray_test([1, 2, 3], [1, 0, 2], ["a", None, "b"])
    with pytest.raises(ValueError, match="no event of interest"):
        gray_test([1, 2, 3, 4], [0, 2, 0, 2], ["a", "a", "b", "b"])
    with pytest.raises(ValueError, match="singular"):
        gray_test([1, 2, 2, 0], [0, 1, 1, 0], ["b", "a", "a", "b"])


def test_gray_groups_follow_the_category_order():
    groups = pd.Categorical(["yes", "no", "yes", "no", "yes", "no"], categories=["yes", "no", "unused"])
    result = gray_test([1, 2, 3, 4, 5, 6], [1, 1, 0, 2, 1, 0], groups)
    assert result.groups == ("yes", "no")
    plain = gray_test([1, 2, 3, 4, 5, 6], [1, 1, 0, 2, 1, 0], list(groups.astype(str)))
    assert plain.groups == ("no", "yes") and plain.statistic == pytest.approx(result.statistic, rel=1e-12)


def test_at_before_fit_and_negative_time():
    with pytest.raises(RuntimeError, match="before fit"):
        CumulativeIncidence().at(1)
    with pytest.raises(ValueError, match=">= 0"):
        CumulativeIncidence().fit([1, 2], [1, 0]).at(-1)


def test_a_million_patients_take_seconds():
    rng = np.random.default_rng(20250228)
    n = 1_000_000
    days = np.round(rng.exponential(400, n))
    codes = rng.choice([0, 1, 2], n, p=[0.5, 0.3, 0.2])
    groups = rng.choice(["a", "b", "c"], n)
    start = time.perf_counter()
    fit = CumulativeIncidence().fit(days, codes)
    fit.at(730.5)
    gray_test(days, codes, groups)
    assert time.perf_counter() - start < 10
