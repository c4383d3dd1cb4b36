"""The bundled example cohort reproduces every figure of the published abstract.

Expected values are the abstract's (shared/seeds/000_a6bef3406c6954cf.txt), at
its printed precision; the computed values come from the project's own
analysis/ objects, the same ones report.qmd quotes. Two printed values are the
abstract's errors, corrected here as data/README.md explains: "52%" is 52.2%,
"96%CI" is a 95% CI.
"""

from __future__ import annotations

import subprocess
import sys
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import pytest

from analysis.study import Study
from analysis.tables import outcomes, patient_characteristics

ROOT = Path(__file__).resolve().parents[1]


def printed(fraction: float, as_printed: str) -> bool:
    """Whether a fraction, as a percentage rounded half-up at the printed precision, reads as printed."""
    places = Decimal(as_printed)
    value = Decimal(repr(fraction * 100)).quantize(places if places.as_tuple().exponent < 0 else Decimal(1), ROUND_HALF_UP)
    return value == places


@pytest.fixture(scope="module")
def study() -> Study:
    return Study(ROOT / "study.yml")


@pytest.fixture(scope="module")
def t1(study):
    return patient_characteristics(study)


@pytest.fixture(scope="module")
def t2(study):
    return outcomes(study)


def test_1_patients(study):
    assert study.n == 27


def test_2_3_full_cycle_and_single_dose(study, t1):
    assert t1.value("full_cycle").count == 26
    incomplete = "incomplete_first_cycle"
    assert (study.count(incomplete).count, study.shared_value("ino_doses", among=incomplete),
            study.shared_value("ino_stop_reason", among=incomplete)) == (1, 1, "Liver toxicity")


@pytest.mark.parametrize(
    "key, count, percent",
    [
        ("blasts_over_5", 21, "77.8"),  # 4
        ("flow_detectable", 26, "96.3"),  # 5
        ("disease_status=first_remission", 1, "3.7"),  # 6
        ("disease_status=primary_refractory", 2, "7.4"),  # 7
        ("disease_status=first_relapse", 15, "55.6"),  # 8
        ("disease_status=second_relapse", 7, "25.9"),  # 9
        ("disease_status=third_relapse", 2, "7.4"),  # 10
        ("prior_blinatumomab", 13, "48.1"),  # 11
        ("prior_car_t", 8, "29.6"),  # 12
        ("prior_allo_hsct", 3, "11.1"),  # 13
    ],
)
def test_4_13_characteristics(t1, key, count, percent):
    value = t1.value(key)
    assert (value.count, value.denominator) == (count, 27)
    assert printed(value.count / value.denominator, percent)


def test_14_mrd_negative_remission(t2):
    response = t2.value("response")
    assert (response.count, response.n) == (13, 26)
    assert printed(response.estimate, "50")


def test_15_18_further_therapy(t2):
    further = t2.value("further_therapy")
    assert (further.count, further.denominator) == (19, 27)
    assert printed(further.count / further.denominator, "70.4")
    by_type = {k: t2.value(f"further_therapy_type={k}").count for k in ("blinatumomab", "chemotherapy", "car_t")}
    assert by_type == {"blinatumomab": 10, "chemotherapy": 7, "car_t": 2}


def test_19_20_hsct_and_sos(t2):
    assert t2.value("hsct_after_ino").count == 18
    sos = t2.value("sos")
    assert (sos.count, sos.denominator) == (5, 18)
    assert printed(sos.count / sos.denominator, "27.8")


def assert_os(estimate, point: str, lower: str, upper: str):
    assert estimate.estimable
    assert printed(estimate.estimate, point)
    assert printed(estimate.lower, lower)
    assert printed(estimate.upper, upper)


def test_21_23_two_year_os(study):
    os_ = study.endpoints["overall_survival"]
    assert os_.landmark.days == 730.5
    assert os_.at_landmark.conf_level == 0.95
    assert_os(os_.at_landmark, "39.4", "19.1", "59.8")


def test_24_30_os_by_mrd_negative_remission(study):
    comparison = study.comparisons["mrd_negative_remission"]
    assert (comparison.group("no").n, comparison.group("yes").n) == (14, 13)
    assert_os(comparison.group("no").at_landmark, "28.6", "4.9", "52.2")
    assert_os(comparison.group("yes").at_landmark, "50.1", "17.4", "82.9")
    assert 0.0455 <= comparison.test.p < 0.0465


def test_31_37_os_by_prior_blinatumomab(study):
    comparison = study.comparisons["prior_blinatumomab"]
    assert (comparison.group("yes").n, comparison.group("no").n) == (13, 14)
    assert_os(comparison.group("yes").at_landmark, "30.8", "5.7", "55.9")
    assert_os(comparison.group("no").at_landmark, "48.7", "19.1", "78.3")
    assert 0.0455 <= comparison.test.p < 0.0465


def test_generator_recreates_the_cohort_byte_for_byte(tmp_path):
    cohort = ROOT / "data" / "example_cohort.csv"
    copy = tmp_path / "data"
    copy.mkdir()
    (copy / "generate_example_cohort.py").write_bytes((ROOT / "data" / "generate_example_cohort.py").read_bytes())
    subprocess.run([sys.executable, "generate_example_cohort.py"], cwd=copy, check=True, capture_output=True, timeout=300)
    assert (copy / "example_cohort.csv").read_bytes() == cohort.read_bytes()


def test_printed_rounds_half_up():
    assert printed(0.5215, "52.2") and not printed(0.5215, "52.1")
    assert printed(0.50, "50") and not printed(0.506, "50")


def test_the_example_is_marked_synthetic_under_any_name_and_only_the_example(tmp_path, monkeypatch):
    example = (ROOT / "data" / "example_cohort.csv").read_bytes()
    (tmp_path / "renamed.csv").write_bytes(example)
    monkeypatch.setenv("DATA", str(tmp_path / "renamed.csv"))
    assert Study(ROOT / "study.yml").is_example
    # One patient a tenth of a year older: no longer the bundled file.
    lines = example.decode().splitlines()
    header = lines[0].split(",")
    row = lines[1].split(",")
    column = header.index("age_years")
    row[column] = str(float(row[column]) + 0.1)
    (tmp_path / "edited.csv").write_text("\n".join([lines[0], ",".join(row), *lines[2:]]) + "\n")
    monkeypatch.setenv("DATA", str(tmp_path / "edited.csv"))
    assert not Study(ROOT / "study.yml").is_example


def test_table_2_gives_a_comparison_away_from_the_overall_row_its_own_heading(t2):
    labels = [row.label for row in t2.rows]
    start = labels.index("2-year overall survival, all patients")
    # By response directly under the overall 2-year row: a breakdown of it; by prior blinatumomab next: a heading.
    assert labels[start + 1:start + 9] == [
        "Achieved MRD-negative remission (n=13)", "Did not achieve MRD-negative remission (n=14)", "Log-rank test",
        "2-year overall survival by prior blinatumomab", "Prior blinatumomab (n=13)",
        "No prior blinatumomab (n=14)", "Log-rank test", "Median overall survival, months"]
    assert t2.text("prior_blinatumomab") == ""
