"""Proportions, counts and continuous summaries.

Intervals and quartiles are compared with R (binom.test, prop.test(correct =
FALSE), quantile(type = 7)) through tests/reference/competing_risks_reference.json;
counts with the published abstract (27 children treated with InO).
"""

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analysis.descriptive import (
    Count,
    category_counts,
    count_true,
    proportion,
    summarize_continuous,
)

R = json.loads((Path(__file__).parent / "reference" / "competing_risks_reference.json").read_text())
TOL = 1e-6


@pytest.mark.parametrize("case", R["proportions"], ids=lambda c: f"{c['count']}/{c['n']}@{c['conf_level']}")
def test_clopper_pearson_matches_binom_test(case):
    p = proportion(case["count"], case["n"], method="clopper-pearson", conf_level=case["conf_level"])
    assert (p.lower, p.upper) == pytest.approx(tuple(case["clopper_pearson"]), abs=TOL)
    assert p.estimate == case["count"] / case["n"]
    assert p.method == "Clopper-Pearson exact"


@pytest.mark.parametrize("case", R["proportions"], ids=lambda c: f"{c['count']}/{c['n']}@{c['conf_level']}")
def test_wilson_matches_prop_test_without_correction(case):
    p = proportion(case["count"], case["n"], method="wilson", conf_level=case["conf_level"])
    assert (p.lower, p.upper) == pytest.approx(tuple(case["wilson"]), abs=TOL)


def test_wilson_by_hand():
    """x=5, n=18, z=1.959964: centre (p + z^2/2n)/(1 + z^2/n), half-width z*sqrt(p(1-p)/n + z^2/4n^2)/(1 + z^2/n)."""
    z, n, p = 1.959963984540054, 18, 5 / 18
    centre = (p + z**2 / (2 * n)) / (1 + z**2 / n)
    half = z * math.sqrt(p * (1 - p) / n + z**2 / (4 * n**2)) / (1 + z**2 / n)
    result = proportion(5, 18, method="wilson")
    assert (result.lower, result.upper) == pytest.approx((centre - half, centre + half), rel=1e-12)


def test_proportion_edges_are_exact():
    assert proportion(0, 10).lower == 0.0 and proportion(10, 10).upper == 1.0
    assert proportion(0, 10, method="wilson").lower == 0.0 and proportion(10, 10, method="wilson").upper == 1.0


@pytest.mark.parametrize(
    "args, kwargs, message",
    [
        ((5, 0), {}, "at least 1"),
        ((11, 10), {}, "between 0 and n=10"),
        ((-1, 10), {}, "between 0"),
        ((2.5, 10), {}, "whole number"),
        ((2, 10), {"method": "wald"}, "method must be one of"),
        ((2, 10), {"conf_level": 95}, "conf_level"),
    ],
)
def test_bad_proportion_input(args, kwargs, message):
    with pytest.raises(ValueError, match=message):
        proportion(*args, **kwargs)


@pytest.mark.parametrize("case", R["summaries"], ids=lambda c: f"n={c['n']}")
def test_summary_matches_r_quantile_type_7(case):
    x = [np.nan if v is None else v for v in case["x"]]
    s = summarize_continuous(x)
    assert (s.n, s.missing) == (case["n"], case["missing"])
    for field in ("median", "q1", "q3", "minimum", "maximum", "mean"):
        assert getattr(s, field) == pytest.approx(case[field], abs=TOL), field
    if case["sd"] is None:
        assert math.isnan(s.sd)
    else:
        assert s.sd == pytest.approx(case["sd"], abs=TOL)


def test_summary_by_hand_and_of_a_nullable_series():
    """1, 2, 3, 4: type-7 quartiles at positions 1 + 0.25*3 = 1.75 and 3.25 -> 1.75, 3.25."""
    s = summarize_continuous(pd.Series([4, 1, pd.NA, 3, 2], dtype="Float64"))
    assert (s.n, s.missing, s.q1, s.median, s.q3) == (4, 1, 1.75, 2.5, 3.25)
    with pytest.raises(ValueError, match="no non-missing"):
        summarize_continuous([np.nan, None])


def test_summary_knows_whether_its_values_are_whole_numbers():
    assert summarize_continuous(pd.Series([63, 39, pd.NA, 82], dtype="Int64")).whole_numbers
    assert summarize_continuous([-24.0, 7.0, 68.0, None]).whole_numbers
    assert not summarize_continuous([12.6, 3.1, 17.5]).whole_numbers


def test_count_true_among_explicit_denominator():
    """The abstract: 13 of 26 patients with detectable disease reached MRD-negative remission."""
    detectable = pd.Series([True] * 26 + [False], dtype="boolean")
    responded = pd.Series([True] * 13 + [False] * 13 + [False], dtype="boolean")
    count = count_true(responded, "MRD-negative remission", among=detectable)
    assert count == Count(13, 26, "MRD-negative remission")
    assert count.percent == 50.0
    # Without `among`, every non-missing row is the denominator.
    assert count_true(responded).denominator == 27


def test_count_true_missing_values():
    sos = pd.Series([True, pd.NA, False, True], dtype="boolean", index=["p1", "p2", "p3", "p4"])
    assert count_true(sos) == Count(2, 3, None)
    hsct = pd.Series([True, True, True, False], dtype="boolean", index=sos.index)
    with pytest.raises(ValueError, match="p2"):
        count_true(sos, "SOS", among=hsct)
    with pytest.raises(ValueError, match="same index"):
        count_true(sos, among=hsct.reset_index(drop=True))


def test_category_counts_follow_the_dictionary_and_keep_zeros():
    """Disease status in the abstract: 1, 2, 15, 7, 2 of 27 (3.7%, 7.4%, 55.6%, 25.9%, 7.4%)."""
    labels = {
        "first_remission": "First remission",
        "primary_refractory": "Primary refractory",
        "first_relapse": "First relapse",
        "second_relapse": "Second relapse",
        "third_relapse": "Third relapse",
        "fourth_relapse": "Fourth relapse",
    }
    status = pd.Series(
        ["first_relapse"] * 15 + ["second_relapse"] * 7 + ["primary_refractory"] * 2
        + ["third_relapse"] * 2 + ["first_remission"]
    )
    counts = category_counts(status, labels)
    assert [c.label for c in counts] == list(labels.values())
    assert [c.count for c in counts] == [1, 2, 15, 7, 2, 0]
    assert {c.denominator for c in counts} == {27}
    assert [round(c.percent, 1) for c in counts] == [3.7, 7.4, 55.6, 25.9, 7.4, 0.0]


def test_category_counts_without_mapping_and_with_unknown_codes():
    counts = category_counts(pd.Series(["b", "a", None, "b"]))
    assert [(c.label, c.count, c.denominator) for c in counts] == [("a", 1, 3), ("b", 2, 3)]
    with pytest.raises(ValueError, match=r"\['relapse'\]"):
        category_counts(pd.Series(["relapse"], name="disease_status"), {"first_relapse": "First relapse"})


def test_percent_of_an_empty_denominator_is_an_error():
    with pytest.raises(ValueError, match="denominator is 0"):
        Count(0, 0, "SOS").percent
