"""The methods say which test the p-value next to a landmark estimate is, for both studies."""

from __future__ import annotations

from pathlib import Path

from analysis.provenance import methods_sentence
from analysis.study import Study

ROOT = Path(__file__).resolve().parents[1]


def test_a_whole_curve_log_rank_next_to_a_2_year_estimate_says_so():
    text = methods_sentence(Study(ROOT / "study.yml"))
    assert ("The p-value given with the groups' 2-year OS is that of the log-rank test, which compares the whole "
            "curves, not the 2-year estimates; the 2-year estimates themselves are compared by a z test of their "
            "difference on the plain (linear) scale.") in text


def test_each_endpoint_names_its_own_test_and_every_landmark():
    text = methods_sentence(Study(ROOT / "examples" / "colon" / "study.yml"))
    assert ("The p-value given with the groups' 1-year, 3-year and 5-year OS is that of the log-rank test, which "
            "compares the whole curves, not the 1-year, 3-year and 5-year estimates.") in text
    assert "is that of Gray's test, which compares the whole cumulative incidence curves" in text
    # Without a fixed-time comparison nothing claims the estimates were tested themselves.
    assert "z test" not in text
