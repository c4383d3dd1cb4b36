"""Formatting: expected strings are worked out by hand or printed in the published abstract."""

import datetime
from decimal import Decimal
from types import SimpleNamespace as NS

import numpy as np
import pytest

from analysis import formatting as fmt
from analysis.competing_risks import IncidenceEstimate
from analysis.descriptive import ContinuousSummary, Count


@pytest.mark.parametrize(
    "x, digits, expected",
    [
        # Binary floats just below the half: Python's round() goes down, the printed decimal goes up.
        (0.0455, 3, "0.046"),  # float is 0.045499999999999999278...
        (2.675, 2, "2.68"),  # float is 2.67499999999999982236...
        (1.005, 2, "1.01"),  # float is 1.00499999999999989342...
        (0.125, 2, "0.13"),  # exact in binary; round() would give 0.12 (half to even)
        (2.5, 0, "3"),
        (0.5, 0, "1"),
        (-1.25, 1, "-1.3"),  # half away from zero
        (-0.0004, 2, "0.00"),  # no "-0.00"
        (7, 2, "7.00"),
        (np.float64(0.0455), 3, "0.046"),
        (np.int64(3), 1, "3.0"),
        (Decimal("0.0455"), 3, "0.046"),
        (123.456, 0, "123"),
    ],
)
def test_round_half_up(x, digits, expected):
    assert fmt.round_half_up(x, digits) == expected


def test_round_half_up_rejects_non_numbers():
    for bad in (True, "0.5", None):
        with pytest.raises(TypeError):
            fmt.round_half_up(bad, 1)
    with pytest.raises(ValueError, match="non-finite"):
        fmt.round_half_up(float("nan"), 1)
    with pytest.raises(ValueError, match="digits"):
        fmt.round_half_up(1.0, -1)


@pytest.mark.parametrize(
    "fraction, digits, expected",
    [
        (21 / 27, 1, "77.8%"),  # 77.777...
        (0.2855, 1, "28.6%"),  # 0.2855 * 100 is 28.549999999999997 in floats
        (0.0455, 1, "4.6%"),
        (0.5, 1, "50.0%"),
        (1.0, 0, "100%"),
        (0.0, 1, "0.0%"),
    ],
)
def test_percent(fraction, digits, expected):
    assert fmt.percent(fraction, digits) == expected


@pytest.mark.parametrize(
    "count, denominator, expected",
    [  # every "n (%)" of the published abstract
        (21, 27, "21 (77.8%)"),
        (26, 27, "26 (96.3%)"),
        (1, 27, "1 (3.7%)"),
        (2, 27, "2 (7.4%)"),
        (15, 27, "15 (55.6%)"),
        (7, 27, "7 (25.9%)"),
        (13, 27, "13 (48.1%)"),
        (8, 27, "8 (29.6%)"),
        (3, 27, "3 (11.1%)"),
        (19, 27, "19 (70.4%)"),
        (5, 18, "5 (27.8%)"),
        (13, 26, "13 (50.0%)"),
        (1, 80, "1 (1.3%)"),  # 1.25 exactly: half up
    ],
)
def test_count_percent_reproduces_the_abstract(count, denominator, expected):
    assert fmt.count_percent(count, denominator) == expected
    assert fmt.count_percent(Count(count, denominator, "x")) == expected


def test_count_percent_nouns_and_errors():
    assert fmt.count_percent(2, 27, noun="patients") == "2 patients (7.4%)"
    assert fmt.count_percent(1, 27, noun=("patient", "patients")) == "1 patient (3.7%)"
    assert fmt.count_percent(15, 27, noun=("patient", "patients")) == "15 patients (55.6%)"
    with pytest.raises(ValueError, match="positive"):
        fmt.count_percent(0, 0)
    with pytest.raises(ValueError, match="between 0 and 27"):
        fmt.count_percent(28, 27)
    with pytest.raises(TypeError, match="not both"):
        fmt.count_percent(Count(1, 2, None), 2)
    with pytest.raises(TypeError, match="denominator"):
        fmt.count_percent(3)


def test_sentence_count_percent_and_n_percent():
    """The abstract: "One patient (3.7%) received InO ...", "Nineteen (70.4%) patients ...", "(n=13, 48.1%)"."""
    assert fmt.sentence_count_percent(Count(1, 27, None), ("patient", "patients")) == "One patient (3.7%)"
    assert fmt.sentence_count_percent(Count(19, 27, None), "") == "Nineteen (70.4%)"
    assert fmt.n_percent(Count(13, 27, None)) == "n=13, 48.1%"
    assert fmt.n_percent(8, 27) == "n=8, 29.6%"


def test_estimate_ci():
    assert fmt.estimate_ci(0.394, 0.191, 0.598) == "39.4% (95% CI: 19.1-59.8%)"
    # 0.5005 -> 50.05 -> "50.1"; 0.1735 -> "17.4"; 0.8285 -> "82.9" (half up on the printed decimal)
    assert fmt.estimate_ci(0.5005, 0.1735, 0.8285) == "50.1% (95% CI: 17.4-82.9%)"
    assert fmt.estimate_ci(0.5, 0.4, 0.6, conf_level=0.9) == "50.0% (90% CI: 40.0-60.0%)"
    assert fmt.estimate_ci(0.5, 0.4, 0.6, conf_level=0.975, digits=0) == "50% (97.5% CI: 40-60%)"


def test_estimate_ci_of_result_objects():
    common = dict(time=100.0, conf_level=0.95, n=18, events=5, competing_events=2, method="m")
    estimable = IncidenceEstimate(estimate=0.278, variance=0.01, lower=0.1, upper=0.5, estimable=True, **common)
    beyond = IncidenceEstimate(estimate=None, variance=None, lower=None, upper=None, estimable=False, **common)
    assert fmt.estimate_ci(estimable) == "27.8% (95% CI: 10.0-50.0%)"
    assert fmt.estimate_ci(beyond) == "not estimable"
    assert fmt.estimate_ci(NS(estimate=0.25, lower=0.1, upper=0.4, conf_level=0.9)) == "25.0% (90% CI: 10.0-40.0%)"
    assert fmt.estimate_ci(None) == "not estimable"
    with pytest.raises(ValueError, match="both confidence limits"):
        fmt.estimate_ci(0.5, 0.4)
    # R's NA limits (S(t) = 1 under log-log, or S(t) = 0): the estimate stands.
    at_one = NS(estimate=1.0, lower=None, upper=None, conf_level=0.95)
    assert fmt.estimate_ci(at_one) == "100.0% (95% CI not estimable)"


@pytest.mark.parametrize(
    "p, expected",
    [
        (0.046, "p=0.046"),
        (0.0455, "p=0.046"),
        (0.04549, "p=0.045"),
        (0.2, "p=0.200"),
        (0.001, "p=0.001"),
        (0.00099, "p<0.001"),
        (4.17e-5, "p<0.001"),
        (0.0, "p<0.001"),
        (0.99, "p=0.990"),
        (0.9901, "p>0.99"),
        (1.0, "p>0.99"),
    ],
)
def test_p_value(p, expected):
    assert fmt.p_value(p) == expected


def test_ranges_print_with_the_styles_dash():
    previous = fmt.set_style(fmt.NumberStyle(range_dash="\u2013"))
    try:
        assert fmt.interval(0.191, 0.598) == "95% CI: 19.1\u201359.8%"
        assert fmt.median_range(NS(median=9.6, minimum=1.2, maximum=17.84)) == "9.6 (1.2\u201317.8)"
        fmt.set_style(fmt.NumberStyle(range_dash=" to "))
        assert fmt.hazard_ratio(NS(hazard_ratio=0.6885, lower=0.5468, upper=0.8669, conf_level=0.95)) == \
            "0.69 (95% CI: 0.55 to 0.87)"
    finally:
        fmt.set_style(previous)
    assert fmt.interval(0.191, 0.598) == "95% CI: 19.1-59.8%"
    with pytest.raises(ValueError, match="range_dash must be one of"):
        fmt.NumberStyle(range_dash="/")


@pytest.fixture
def p_style():
    """Print in a p-value style for one test, then in the one before."""
    previous = fmt.current_style()

    def use(style):
        fmt.set_style(fmt.NumberStyle(p_value=style))
    yield use
    fmt.set_style(previous)


@pytest.mark.parametrize(
    "p, nejm, two_decimals",
    [
        (0.2, "p=0.20", "p=0.20"),
        (0.0455, "p=0.05", "p=0.05"),
        (0.0096, "p=0.010", "p<0.01"),
        (0.0042, "p=0.004", "p<0.01"),
        (0.001, "p=0.001", "p<0.01"),
        (0.00099, "p<0.001", "p<0.01"),
        (0.994, "p>0.99", "p>0.99"),
    ],
)
def test_p_value_styles(p_style, p, nejm, two_decimals):
    p_style(fmt.P_VALUE_STYLES["nejm"])
    assert fmt.p_value(p) == nejm
    p_style(fmt.PValueStyle(digits=2, below=0.01))
    assert fmt.p_value(p) == two_decimals
    # An explicit digits argument still overrides the style.
    assert fmt.p_value(0.00042, digits=4) == "p=0.0004"


def test_significance_follows_the_p_value_as_the_style_prints_it(p_style):
    lower, higher = 0.286, 0.501
    assert fmt.difference(lower, higher, 0.046) == "significantly lower"
    # Two decimals print 0.046 as "p=0.05", which is not below 0.05.
    p_style(fmt.P_VALUE_STYLES["nejm"])
    assert fmt.p_value(0.046) == "p=0.05" and fmt.difference(lower, higher, 0.046) == "not significantly lower"
    assert fmt.difference(lower, higher, 0.0042) == "significantly lower"
    # "p<0.01" is below 0.05, whatever the number behind it.
    p_style(fmt.PValueStyle(digits=2, below=0.01))
    assert fmt.p_value(0.0042) == "p<0.01" and fmt.difference(lower, higher, 0.0042) == "significantly lower"


def test_p_value_styles_that_cannot_print_are_refused():
    with pytest.raises(ValueError, match="would print as p=0 with 2 decimals"):
        fmt.PValueStyle(digits=2, below=0.001)
    with pytest.raises(ValueError, match="under 0.05"):
        fmt.PValueStyle(digits=1, below=0.1)
    with pytest.raises(ValueError, match="digits lie between 1 and 6"):
        fmt.PValueStyle(digits=0, below=0.01)


def test_p_value_digits_and_range():
    assert fmt.p_value(0.00042, digits=4) == "p=0.0004"
    assert fmt.p_value(0.00004, digits=4) == "p<0.0001"
    for bad in (-0.1, 1.5):
        with pytest.raises(ValueError, match="between 0 and 1"):
            fmt.p_value(bad)


@pytest.mark.parametrize(
    "n, words",
    [
        (0, "zero"),
        (1, "one"),
        (13, "thirteen"),
        (19, "nineteen"),
        (20, "twenty"),
        (27, "twenty-seven"),
        (99, "ninety-nine"),
        (100, "one hundred"),
        (105, "one hundred five"),
        (999, "nine hundred ninety-nine"),
        (1000, "one thousand"),
        (21_018, "twenty-one thousand eighteen"),
        (2.0, "two"),
    ],
)
def test_spell_number(n, words):
    assert fmt.spell_number(n) == words


def test_sentence_start_and_range():
    assert fmt.sentence_start(27) == "Twenty-seven"
    assert fmt.sentence_start(18) == "Eighteen"
    for bad in (-1, 1_000_000, 2.5):
        with pytest.raises(ValueError):
            fmt.spell_number(bad)


def test_months():
    assert fmt.days_to_months(365.25 / 12) == pytest.approx(1.0)
    assert fmt.days_to_months(730.5) == 24.0
    # 374 days = 374 / 30.4375 = 12.2875... months
    assert fmt.months(374) == "12.3 months"
    assert fmt.months(None) == "not reached"


def test_median_range_and_median_ci_months():
    summary = ContinuousSummary(n=27, missing=0, median=9.6, q1=5.0, q3=13.0, minimum=1.15, maximum=17.849, mean=9.0, sd=4.0)
    assert fmt.median_range(summary) == "9.6 (1.2-17.8)"  # 1.15 -> 1.2 half up
    assert fmt.median_range(NS(median=None, minimum=1, maximum=2)) == "not reached"
    # 304.375 days = 10.0 months; 152.1875 = 5.0; upper limit not reached.
    median = NS(estimate=304.375, lower=152.1875, upper=None, conf_level=0.95)
    assert fmt.median_ci_months(median) == "10.0 (95% CI: 5.0-not reached)"
    assert fmt.median_ci_months(NS(estimate=None, lower=None, upper=None, conf_level=0.95)) == "not reached"


def test_whole_numbers_print_without_a_false_decimal_and_a_negative_range_takes_the_word():
    # R survival::lung: age median 63, range 39-82; wt.loss median 7, range -24 to 68.
    assert fmt.median_range(NS(median=63.0, minimum=39.0, maximum=82.0), whole_numbers=True) == "63 (39-82)"
    assert fmt.median_range(NS(median=7.0, minimum=-24.0, maximum=68.0), whole_numbers=True) == "7 (-24 to 68)"
    # The median of an even number of whole numbers may fall halfway: one decimal then.
    assert fmt.median_range(NS(median=62.5, minimum=39.0, maximum=82.0), whole_numbers=True) == "62.5 (39-82)"
    # A summary says itself whether its values are whole; measurements keep their decimal.
    assert fmt.median_range(NS(median=2.0, minimum=0.0, maximum=33.0, whole_numbers=True)) == "2 (0-33)"
    assert fmt.median_range(NS(median=-1.25, minimum=-3.0, maximum=4.04)) == "-1.3 (-3.0 to 4.0)"
    previous = fmt.set_style(fmt.NumberStyle(range_dash="\u2013"))
    try:
        assert fmt.median_range(NS(median=7.0, minimum=-24.0, maximum=68.0), whole_numbers=True) == "7 (-24 to 68)"
        assert fmt.median_range(NS(median=7.0, minimum=2.0, maximum=68.0), whole_numbers=True) == "7 (2\u201368)"
    finally:
        fmt.set_style(previous)


def test_number_and_date():
    assert [fmt.number(x) for x in (18.0, 0.01, 27, 2.0, 1e-05, -0.0)] == ["18", "0.01", "27", "2", "0.00001", "0"]
    assert fmt.number(2 / 3, 2) == "0.67"
    with pytest.raises(ValueError, match="None"):
        fmt.number(None)
    assert fmt.date(datetime.date(2024, 8, 30)) == "30.08.2024"  # as the abstract prints it
    assert fmt.date("2019-01-01", "%Y-%m-%d") == "2019-01-01"
    with pytest.raises(TypeError):
        fmt.date(20190101)


def test_difference_wording_follows_estimates_and_p():
    low, high = NS(estimate=0.286), NS(estimate=0.501)
    assert fmt.difference(low, high, 0.046) == "significantly lower"
    assert fmt.difference(high, low, 0.046) == "significantly higher"
    assert fmt.difference(low, high, 0.05) == "not significantly lower"
    assert fmt.difference(0.3, 0.3, 0.9) == "not significantly different"
    with pytest.raises(ValueError, match="estimable"):
        fmt.difference(NS(estimate=None), high, 0.01)


def test_annotations():
    est = NS(estimate=0.394, lower=0.191, upper=0.598, conf_level=0.95)
    assert fmt.landmark_annotation(est, 730.5 / 365.25) == "2-year OS 39.4% (95% CI: 19.1-59.8%)"
    unknown = NS(estimate=None, lower=None, upper=None, conf_level=0.95)
    two_years, one_year = NS(adjective="2-year"), NS(adjective="1-year")
    comparison = NS(
        groups=(NS(label="Yes"), NS(label="No", at=lambda landmark: unknown)),
        test=NS(p=0.0004), note=None, test_short="Log-rank",
    )
    comparison.groups[0].at = lambda landmark: {"2-year": est, "1-year": unknown}[landmark.adjective]
    # The legend names the landmark it took the estimate at.
    assert fmt.comparison_annotations(comparison, one_year)[0] == "Yes: 1-year OS not estimable"
    assert fmt.comparison_annotations(comparison, two_years) == [
        "Yes: 2-year OS 39.4% (95% CI: 19.1-59.8%)",
        "No: 2-year OS not estimable",
        "Log-rank p<0.001",
    ]
    assert "`cohort.csv`" in fmt.synthetic_data_note("cohort.csv")


@pytest.mark.parametrize("p, digits, word", [(0.04996, 3, "not significantly"), (0.0494, 3, "significantly"),
                                             (0.0496, 2, "not significantly"), (0.0004, 3, "significantly")])
def test_significance_word_follows_the_printed_p(p, digits, word):
    text = fmt.difference(0.3, 0.5, p, digits=digits)
    assert text == f"{word} lower"
    printed = float(fmt.p_value(p, digits=digits).lstrip("p=<"))
    assert (word == "significantly") == (printed < 0.05 or fmt.p_value(p, digits=digits).startswith("p<"))
