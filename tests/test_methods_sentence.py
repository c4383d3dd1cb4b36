"""The methods say which test the p-value next to a landmark estimate is, for both studies."""

from __future__ import annotations

import re
from pathlib import Path

from analysis.provenance import methods_sentence
from analysis.study import Study

ROOT = Path(__file__).resolve().parents[1]


def test_a_whole_curve_log_rank_next_to_a_2_year_estimate_says_so():
    text = methods_sentence(Study(ROOT / "study.yml"))
    assert ("The p-value given with the groups' 2-year OS is that of the log-rank test, which compares the whole "
            "curves, not the 2-year estimates; the 2-year estimates themselves are compared by a z test of their "
            "difference on the plain (linear) scale.") in text


def test_each_endpoint_names_its_own_test_at_the_landmarks_table_2_gives_by_group():
    text = methods_sentence(Study(ROOT / "examples" / "colon" / "study.yml"))
    # The endpoints declare 1, 3 and 5 years, but Table 2 gives the arms' estimates at 5 years only.
    assert ("The p-value given with the groups' 5-year OS is that of the log-rank test, which "
            "compares the whole curves, not the 5-year estimates.") in text
    assert ("The p-value given with the groups' 5-year recurrence is that of Gray's test, which compares the whole "
            "cumulative incidence curves, not the 5-year estimates.") in text
    assert "1-year" not in text and "3-year" not in text
    # Without a fixed-time comparison nothing claims the estimates were tested themselves.
    assert "z test" not in text


def test_cumulative_incidence_intervals_and_fine_gray_are_described():
    text = methods_sentence(Study(ROOT / "examples" / "colon" / "study.yml"))
    # The colon study asks for log-transformed KM intervals, but cumulative incidence intervals are log(-log).
    assert "Greenwood's variance on the log-transformed scale" in text
    assert ("Recurrence was estimated as cumulative incidence with death without recurrence as a competing event "
            "(Aalen-Johansen, 95% confidence intervals on the log(-log) scale)") in text
    # recurrence_by_arm declares fine_gray: true.
    assert ("subdistribution hazard ratios of recurrence against the reference group come from Fine-Gray models "
            "with robust (sandwich) 95% confidence intervals") in text


def test_no_fine_gray_claimed_without_a_fine_gray_comparison():
    assert "Fine-Gray" not in methods_sentence(Study(ROOT / "study.yml"))


def test_every_sentence_of_the_methods_has_a_verb(tmp_path, monkeypatch):
    # A trial's lung study (survival only, with follow-up) printed "Follow-up by the reverse
    # Kaplan-Meier method." as a sentence of its own: the colon study without its recurrence rows.
    monkeypatch.delenv("DATA", raising=False)
    from tests.test_colon_study import _colon_variant
    study = _colon_variant(tmp_path, """    - cumulative_incidence: recurrence
      at: 5 years
    - comparison: recurrence_by_arm
      at: 5 years
""", "")
    text = methods_sentence(study)
    assert "Follow-up was estimated by the reverse Kaplan-Meier method." in text
    for sentence in text.split(". "):
        assert re.search(r"\b(was|were|is|are|have|has|come|used)\b", sentence), sentence


def test_a_declared_landmark_analysis_and_rmst_are_described():
    # study.yml: mrd_negative_remission declares landmark: 60 days and rmst: 2 years.
    text = methods_sentence(Study(ROOT / "study.yml"))
    assert ("By MRD-negative remission without extramedullary lesions, OS was also compared in a landmark analysis "
            "at 60 days (patients still followed then, time from the landmark), a Cox model with it as a "
            "time-dependent covariate, switching at the landmark (no date recorded), and restricted mean survival "
            "time to 2 years compared as a difference and a ratio (as survRM2).") in text
    colon = methods_sentence(Study(ROOT / "examples" / "colon" / "study.yml"))
    assert "landmark analysis" not in colon and "restricted mean" not in colon
