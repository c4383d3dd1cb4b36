"""The benchmark's scale cohorts (bench/make_cohort.py): they pass the data checks, are reproducible, and look like the abstract's cohort."""

from __future__ import annotations

import hashlib
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

from make_cohort import make_cohort, patient_ids, write_cohort  # noqa: E402

from analysis.cohort import load_cohort, load_dictionary  # noqa: E402
from analysis.config import load_study  # noqa: E402


@pytest.fixture(scope="module")
def written(tmp_path_factory):
    return write_cohort(3000, tmp_path_factory.mktemp("scale") / "cohort.csv", seed=11)


def test_generated_cohort_passes_every_data_check_without_warnings(written):
    from data_checks.validation import validate_cohort

    dictionary, settings = load_dictionary(ROOT / "data/dictionary.yml"), load_study(ROOT / "study.yml")
    report = validate_cohort(load_cohort(written, dictionary), dictionary, settings)
    assert report.findings == ()
    assert report.n_patients == 3000


def test_same_seed_same_bytes_other_seed_other_bytes(written, tmp_path):
    again = write_cohort(3000, tmp_path / "again.csv", seed=11)
    other = write_cohort(3000, tmp_path / "other.csv", seed=12)
    digest = lambda p: hashlib.sha256(p.read_bytes()).hexdigest()  # noqa: E731
    assert digest(again) == digest(written)
    assert digest(other) != digest(written)


def test_columns_are_the_dictionary_columns_in_order():
    assert tuple(make_cohort(10).columns) == load_dictionary(ROOT / "data/dictionary.yml").names


def test_ids_stay_unique_and_in_pattern_past_a_million():
    ids = patient_ids(1_000_002)
    assert ids[999_999] == "SC-999999" and ids[1_000_000] == "SCB-000000"
    assert len(np.unique(ids)) == ids.size
    with pytest.raises(ValueError, match="at most"):
        patient_ids(26 * 10**6 + 1)


def test_proportions_follow_the_abstract():
    # The abstract: 26/27 detectable disease, 18/27 HSCT, 13/27 prior blinatumomab,
    # 15/27 in first relapse; 10^5 patients put each share within 1 point of it.
    cohort = make_cohort(100_000, seed=3)
    shares = {
        "detectable": (cohort["response"] != "not_evaluable").mean(),
        "hsct": (cohort["hsct_after_ino"] == "yes").mean(),
        "blinatumomab": (cohort["prior_blinatumomab"] == "yes").mean(),
        "first_relapse": (cohort["disease_status"] == "first_relapse").mean(),
    }
    expected = {"detectable": 26 / 27, "hsct": 18 / 27, "blinatumomab": 13 / 27, "first_relapse": 15 / 27}
    for name, share in shares.items():
        assert share == pytest.approx(expected[name], abs=0.01), name


def test_rejects_an_empty_cohort():
    with pytest.raises(ValueError, match="at least 1"):
        make_cohort(0)
