"""What counts as identifying: values, patient ids, birth dates and the cohort file's name (analysis/identifiers.py)."""

from __future__ import annotations

import pandas as pd
import pytest
import yaml

from analysis.identifiers import birth_date_rows, file_name_identifies, ids_with_names, looks_identifying
from analysis.provenance import data_label
from tests.corruptions import ROOT, read_example


@pytest.mark.parametrize("value", [
    "ИВАНОВ И.И.", "Иванов И. И.", "IVANOV I.I.", "I. Petrov", "И.И. Иванов", "I.I.Petrov", "Иванов Иван Иванович",
    "ПЕТРОВА АННА СЕРГЕЕВНА", "Ivan Petrov", "Petrov, Ivan", "Smith John", "Kuzma Tyrtov",
    "name(at)mail.ru", "name [at] mail [dot] ru", "name собака mail.ru", "ivanov@mail", "parent@example.org",
    "тел. 89161234567", "тел.: 8 (916) 123-45-67", "моб 123-45-67", "phone +7 916 123 45 67", "89161234567",
    "звонить 8-916-123-45-67 маме", "123-456-789 01", "СНИЛС 12345678901", "45 06 123456", "4506 №123456",
])
def test_identifying_values(value):
    assert looks_identifying(value)


@pytest.mark.parametrize("value", [
    "Saint Petersburg", "Nizhny Novgorod", "New York", "Inotuzumab Ozogamicin", "Blinatumomab", "Цитарабин",
    "Азацитидин Венетоклакс", "CAR T-cell therapy", "2019-03-10", "10.03.2019", "36.7", "INO-001", "SYN-027",
    "first_relapse", "0.8 mg/m² on day 1", "A", "",
])
def test_ordinary_values_are_not_identifying(value):
    assert not looks_identifying(value)


def test_no_code_or_label_of_the_dictionary_and_no_example_value_looks_identifying():
    dictionary = yaml.safe_load((ROOT / "data" / "dictionary.yml").read_text(encoding="utf-8"))
    words = [str(w) for c in dictionary["columns"] for w in (c["label"], *(c.get("values") or {}).items())]
    words += [v for column in read_example().to_numpy().tolist() for v in column]
    assert [w for w in words if looks_identifying(w)] == []
    assert not ids_with_names(read_example()["patient_id"]).any()


def test_ids_with_names_flags_surnames_given_names_and_lone_codes_only():
    ids = pd.Series(["MSK-001", "MSK-002", "SPB-003", "SPB-004", "IVANOV-005", "OLGA-006", "KHAN-007", "EKB-008"])
    assert ids[ids_with_names(ids)].tolist() == ["IVANOV-005", "OLGA-006", "KHAN-007"]


def test_birth_dates_are_found_by_the_age_they_give_and_a_diagnosis_date_is_not():
    cohort = pd.DataFrame({
        "age_years": [10.0, 5.5, 16.2, 8.0],
        "start": pd.to_datetime(["2020-01-01", "2021-06-01", "2022-03-15", "2019-09-09"]),
    })
    births = (cohort["start"] - pd.to_timedelta(cohort["age_years"] * 365.25, unit="D")).dt.strftime("%d.%m.%Y")
    assert birth_date_rows(births, cohort).all()
    diagnosis = pd.Series(["2019-05-01", "2020-11-20", "2021-12-01", "2019-01-03"])
    assert not birth_date_rows(diagnosis, cohort).any()


@pytest.mark.parametrize("name, identifies", [
    ("example_cohort.csv", False), ("Когорта InO 2024 (копия).xlsx", False), ("cohort export 2025-02-28.csv", False),
    ("Иванов И.И. когорта.xlsx", True), ("ivanov_cohort.csv", True), ("cohort_olga.xlsx", True),
    ("data from anna.smith@clinic.org.csv", True), ("cohort_89161234567.csv", True),
])
def test_file_names(name, identifies):
    assert file_name_identifies(name) == identifies


def test_data_label_names_the_file_or_its_checksum():
    digest = "0123456789abcdef" * 4
    assert data_label(ROOT / "data" / "example_cohort.csv", digest) == "example_cohort.csv"
    assert data_label("/home/me/Когорта InO 2024.csv", digest) == "Когорта InO 2024.csv"
    assert data_label("/home/me/Petrova_cohort.xlsx", digest) == "sha256:0123456789ab"
