"""SPSS, Stata and REDCap inputs: the example cohort read from each is the CSV's typed table.

The .sav/.dta fixtures are written by R's haven and the REDCap export by R from
the example CSV (tests/reference/write_foreign_fixtures.R, `make reference`);
the REDCap data dictionaries and the small registry export are written by hand.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import yaml

from analysis.cohort import CohortLoadError, load_cohort, load_dictionary
from analysis.config import load_study
from analysis.foreign import draft_dictionary_from_labels
from tests.corruptions import ROOT

FOREIGN = ROOT / "tests" / "fixtures" / "foreign"
REDCAP = ROOT / "tests" / "fixtures" / "redcap"
EXAMPLE = ROOT / "data" / "example_cohort.csv"
DICTIONARY = load_dictionary(ROOT / "data" / "dictionary.yml")
INO_REDCAP = REDCAP / "ino_dictionary.csv"
REGISTRY = load_dictionary(REDCAP / "registry_dictionary.yml")
REGISTRY_REDCAP = REDCAP / "registry_dictionary.csv"


@pytest.fixture(scope="module")
def from_csv() -> pd.DataFrame:
    return load_cohort(EXAMPLE, DICTIONARY)


# -- SPSS and Stata ---------------------------------------------------------------------


@pytest.mark.parametrize("name", ["ino_cohort.sav", "ino_cohort.zsav", "ino_cohort.dta"])
def test_spss_and_stata_read_to_the_csv_table(name, from_csv):
    pd.testing.assert_frame_equal(load_cohort(FOREIGN / name, DICTIONARY), from_csv)


def test_missing_value_codes_arrive_missing(from_csv):
    # 9 "Not applicable" (SPSS user-missing) and .a (Stata) where the CSV has empty cells.
    for name in ("ino_cohort.sav", "ino_cohort.dta"):
        cohort = load_cohort(FOREIGN / name, DICTIONARY)
        for column in ("ino_stop_reason", "further_therapy_type", "sos"):
            assert cohort[column].isna().equals(from_csv[column].isna()), (name, column)
    # 99 "Unknown", declared missing, in an age column: missing, never 99 years.
    cohort = load_cohort(FOREIGN / "age_unknown_missing.sav", DICTIONARY).set_index("patient_id")
    assert pd.isna(cohort.loc["SYN-005", "age_years"])
    assert cohort["age_years"].max() < 18
    assert cohort.drop(index="SYN-005").equals(from_csv.set_index("patient_id").iloc[:6].drop(index="SYN-005"))


def test_a_missing_code_stays_missing_through_the_data_checks(capsys):
    from data_checks.__main__ import main

    code = main(["--data", str(FOREIGN / "age_unknown_missing.sav"), "--study", str(ROOT / "study.yml"), "--no-docs"])
    err = capsys.readouterr().err
    assert code == 1
    assert "required:age_years" in err and "SYN-005" in err


def test_a_labelled_code_in_a_numeric_column_is_refused():
    with pytest.raises(CohortLoadError) as error:
        load_cohort(FOREIGN / "age_unknown_undeclared.dta", DICTIONARY)
    assert ("age_unknown_undeclared.dta: 1 value(s) cannot be read" in str(error.value)
            and "observation 5, patient SYN-005, column 'age_years': '99' is labelled 'Unknown' in the file: "
                "a labelled value in a numeric column is a code, not a measurement" in str(error.value))


def test_a_label_outside_the_dictionary_is_refused_naming_code_and_patient():
    with pytest.raises(CohortLoadError) as error:
        load_cohort(FOREIGN / "sex_other.dta", DICTIONARY)
    assert ("observation 4, patient SYN-004, column 'sex': '3' is labelled 'Other' in the file, a code the data "
            "dictionary does not allow (its codes for 'sex': female 'Female', male 'Male')") in str(error.value)
    (problem,) = error.value.problems
    assert (problem.patient_id, problem.column, problem.value) == ("SYN-004", "sex", "3")


def test_a_changed_label_is_refused():
    with pytest.raises(CohortLoadError) as error:
        load_cohort(FOREIGN / "vital_status_relabelled.sav", DICTIONARY)
    assert ("case 3, patient SYN-003, column 'vital_status': 'dead' is labelled 'Deceased' in the file, but the "
            "data dictionary labels code 'dead' 'Dead'") in str(error.value)
    assert [p.patient_id for p in error.value.problems] == ["SYN-003", "SYN-005"]


def test_a_file_that_is_not_spss_is_refused(tmp_path):
    (tmp_path / "cohort.sav").write_text("patient_id,sex\n")
    with pytest.raises(CohortLoadError, match=r"cohort\.sav: not a readable SPSS \.sav file"):
        load_cohort(tmp_path / "cohort.sav", DICTIONARY)
    (tmp_path / "empty.dta").write_bytes(b"")
    with pytest.raises(CohortLoadError, match=r"empty\.dta: the file is empty"):
        load_cohort(tmp_path / "empty.dta", DICTIONARY)


def test_a_date_without_a_date_format_is_refused(tmp_path):
    import pyreadstat

    frame, meta = pyreadstat.read_sav(FOREIGN / "ino_cohort.sav")
    # What a date becomes when its format is lost: a number (here R's days since 1970).
    frame["ino_start_date"] = (pd.to_datetime(frame["ino_start_date"]) - pd.Timestamp("1970-01-01")).dt.days
    path = tmp_path / "cohort.sav"
    pyreadstat.write_sav(frame, path, variable_value_labels=meta.variable_value_labels)
    with pytest.raises(CohortLoadError) as error:
        load_cohort(path, DICTIONARY)
    assert "case 1, patient SYN-001, column 'ino_start_date': '19731' is a number, not a date" in str(error.value)
    frame["ino_start_date"] = dt.time(14, 30)
    pyreadstat.write_sav(frame, path, variable_value_labels=meta.variable_value_labels)
    with pytest.raises(CohortLoadError, match="'ino_start_date': '14:30:00' is a time or a duration, not a date"):
        load_cohort(path, DICTIONARY)


def test_draft_dictionary_from_spss_labels_reads_the_file_back():
    draft = draft_dictionary_from_labels(FOREIGN / "ino_cohort.sav")
    columns = {c["name"]: c for c in draft["columns"]}
    assert list(columns) == list(DICTIONARY.names)
    for spec in DICTIONARY.columns:
        drafted = columns[spec.name]
        assert drafted["label"] == spec.label
        assert drafted["type"] == spec.type, spec.name
        if spec.type == "category":
            # The labels carry over; the missing code 9 "Not applicable" is not a category.
            assert list(drafted["values"].values()) == list(spec.values.values())
    assert columns["vital_status"]["values"] == {"alive": "Alive", "dead": "Dead"}


def test_a_drafted_dictionary_loads_its_file(tmp_path, from_csv):
    path = tmp_path / "dictionary.yml"
    path.write_text(yaml.safe_dump(draft_dictionary_from_labels(FOREIGN / "ino_cohort.dta"), sort_keys=False))
    drafted = load_dictionary(path)
    cohort = load_cohort(FOREIGN / "ino_cohort.dta", drafted)
    assert cohort["age_years"].equals(from_csv["age_years"])
    # Every patient is in the category of the same label, under the draft's code.
    for spec in DICTIONARY.of_type("category"):
        read = cohort[spec.name].map(drafted.column(spec.name).values)
        assert read.equals(from_csv[spec.name].map(spec.values)), spec.name


# -- REDCap ---------------------------------------------------------------------------


def test_redcap_export_reads_to_the_csv_table(from_csv):
    cohort = load_cohort(REDCAP / "ino_export.csv", DICTIONARY, redcap_dictionary=INO_REDCAP)
    pd.testing.assert_frame_equal(cohort, from_csv)


def test_redcap_checkbox_expands_to_one_yes_no_column_per_choice():
    cohort = load_cohort(REDCAP / "registry_export.csv", REGISTRY, redcap_dictionary=REGISTRY_REDCAP)
    # The record id is the patient id; the engine knows it as patient_id and remembers its name.
    assert "record_id" not in cohort and cohort.attrs["id_column"] == "record_id"
    therapies = cohort.set_index("patient_id")[["prior_therapy___1", "prior_therapy___2", "prior_therapy___3"]]
    assert therapies.dtypes.map(str).tolist() == ["boolean"] * 3
    assert therapies.loc["REG-001"].tolist() == [True, False, True]
    assert therapies.loc["REG-002"].tolist() == [False, False, False]
    assert therapies.loc["REG-004"].tolist() == [True, True, True]


def test_redcap_field_types_map_to_the_dictionary_types():
    cohort = load_cohort(REDCAP / "registry_export.csv", REGISTRY, redcap_dictionary=REGISTRY_REDCAP)
    patient = cohort.set_index("patient_id").loc["REG-001"]
    assert patient["sex"] == "female" and patient["stage"] == "II"
    assert patient["smoker"] == False and patient["consent"] == True  # noqa: E712
    assert patient["age"] == 54 and patient["weight_kg"] == 71.5
    # A datetime field arrives as its date; the forms' status columns are not data.
    assert patient["last_visit"] == pd.Timestamp("2024-02-01")
    assert "enrolment_complete" not in cohort.columns


def test_redcap_identifier_field_is_refused_before_reading(tmp_path):
    export = pd.read_csv(REDCAP / "registry_export.csv", dtype=str, keep_default_na=False)
    export.insert(1, "patient_name", ["Ivanov I.I."] * len(export))
    export.to_csv(tmp_path / "export.csv", index=False)
    with pytest.raises(CohortLoadError) as error:
        load_cohort(tmp_path / "export.csv", REGISTRY, redcap_dictionary=REGISTRY_REDCAP)
    message = str(error.value)
    assert "export.csv: the export holds field(s) ['patient_name'] that the REDCap data dictionary" in message
    assert "marks as identifiers (Identifier? = y); they are not read" in message
    assert "Ivanov" not in message
    with pytest.raises(CohortLoadError, match=r"\['patient_name'\]"):
        draft_dictionary_from_labels(tmp_path / "export.csv", REGISTRY_REDCAP)


def test_redcap_choice_outside_the_field_and_label_outside_the_dictionary(tmp_path):
    export = (REDCAP / "registry_export.csv").read_text()
    (tmp_path / "export.csv").write_text(export.replace("REG-002,2023-02-11,67,88.0,2", "REG-002,2023-02-11,67,88.0,3"))
    with pytest.raises(CohortLoadError) as error:
        load_cohort(tmp_path / "export.csv", REGISTRY, redcap_dictionary=REGISTRY_REDCAP)
    assert ("line 3, patient REG-002, column 'sex': '3' is not a choice of REDCap field 'sex' (1, Female | 2, Male)"
            in str(error.value))
    redcap = (REGISTRY_REDCAP.read_text().replace('"1, Female | 2, Male"', '"1, Female | 2, Male | 3, Other"'))
    (tmp_path / "redcap.csv").write_text(redcap)
    with pytest.raises(CohortLoadError) as error:
        load_cohort(tmp_path / "export.csv", REGISTRY, redcap_dictionary=tmp_path / "redcap.csv")
    assert ("line 3, patient REG-002, column 'sex': '3' is labelled 'Other' in REDCap field 'sex', a code the data "
            "dictionary does not allow") in str(error.value)


@pytest.mark.parametrize("column, values, message", [
    ("redcap_repeat_instrument", ["", "adverse_events", "", ""], "row(s) are instances of repeating instruments"),
    ("redcap_event_name", ["baseline_arm_1", "month_6_arm_1", "baseline_arm_1", "baseline_arm_1"],
     "a longitudinal export: record(s) 'REG-001' have a row per event"),
])
def test_redcap_repeating_instruments_and_events_are_refused(tmp_path, column, values, message):
    export = pd.read_csv(REDCAP / "registry_export.csv", dtype=str, keep_default_na=False)
    if column == "redcap_event_name":
        export.loc[1, "record_id"] = "REG-001"
    export.insert(1, column, values)
    export.to_csv(tmp_path / "export.csv", index=False)
    with pytest.raises(CohortLoadError, match=re.escape(message)) as error:
        load_cohort(tmp_path / "export.csv", REGISTRY, redcap_dictionary=REGISTRY_REDCAP)
    assert "one row per patient: export a report" in str(error.value)


def test_redcap_single_event_export_is_read(tmp_path):
    export = pd.read_csv(REDCAP / "registry_export.csv", dtype=str, keep_default_na=False)
    export.insert(1, "redcap_event_name", "baseline_arm_1")
    export.to_csv(tmp_path / "export.csv", index=False)
    assert len(load_cohort(tmp_path / "export.csv", REGISTRY, redcap_dictionary=REGISTRY_REDCAP)) == 4


def test_redcap_export_with_labels_for_names_is_refused(tmp_path):
    (tmp_path / "export.csv").write_text("Record ID,Sex\nREG-001,Female\n")
    with pytest.raises(CohortLoadError, match=r"export the data as 'CSV / Microsoft Excel \(raw data\)'"):
        load_cohort(tmp_path / "export.csv", REGISTRY, redcap_dictionary=REGISTRY_REDCAP)


def test_not_a_redcap_dictionary(tmp_path):
    (tmp_path / "redcap.csv").write_text("name,type\nsex,radio\n")
    with pytest.raises(CohortLoadError, match=r"redcap\.csv: not a REDCap data dictionary: no column "
                                              r"'Variable / Field Name'"):
        load_cohort(REDCAP / "registry_export.csv", REGISTRY, redcap_dictionary=tmp_path / "redcap.csv")


def test_draft_dictionary_from_redcap_is_the_reviewed_one():
    draft = draft_dictionary_from_labels(REDCAP / "registry_export.csv", REGISTRY_REDCAP)
    # The reviewer added the units; everything else carried over from REDCap.
    reviewed = yaml.safe_load((REDCAP / "registry_dictionary.yml").read_text())["columns"]
    for column in reviewed:
        column.pop("unit", None)
    key = {"name": 0, "label": 1, "type": 2, "values": 3, "min": 4, "max": 5, "required": 6, "unique": 7}
    assert [dict(sorted(c.items(), key=lambda kv: key[kv[0]])) for c in draft["columns"]] == \
        [dict(sorted(c.items(), key=lambda kv: key[kv[0]])) for c in reviewed]


def test_study_points_at_the_redcap_dictionary(tmp_path, monkeypatch):
    text = (ROOT / "study.yml").read_text()
    text = text.replace("  data: data/example_cohort.csv\n", f"  data: {ROOT / 'data' / 'example_cohort.csv'}\n")
    text = text.replace("  dictionary: data/dictionary.yml\n",
                        f"  dictionary: {ROOT / 'data' / 'dictionary.yml'}\n  redcap_dictionary: redcap.csv\n")
    (tmp_path / "study.yml").write_text(text)
    monkeypatch.delenv("REDCAP_DICTIONARY", raising=False)
    assert load_study(tmp_path / "study.yml").redcap_dictionary == Path("redcap.csv")
    # The variable, like DATA, is a path from the working directory.
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("REDCAP_DICTIONARY", "other.csv")
    assert load_study(tmp_path / "study.yml").redcap_dictionary == tmp_path / "other.csv"
    assert load_study(ROOT / "study.yml").redcap_dictionary == tmp_path / "other.csv"
    monkeypatch.delenv("REDCAP_DICTIONARY")
    assert load_study(ROOT / "study.yml").redcap_dictionary is None


# -- the report --------------------------------------------------------------------------


def render(output: Path, **env: str) -> Path:
    environment = {k: v for k, v in os.environ.items() if k not in ("DATA", "REDCAP_DICTIONARY")} | env
    result = subprocess.run([sys.executable, "-m", "renderer", "report.qmd", "--renderer", "builtin",
                             "--output-dir", str(output)], cwd=ROOT, env=environment, capture_output=True,
                            text=True, timeout=600)
    assert result.returncode == 0, result.stderr
    return output


def test_stata_and_redcap_render_the_csv_report(tmp_path_factory):
    out = tmp_path_factory.mktemp("reports")
    builds = {
        "csv": render(out / "csv"),
        "dta": render(out / "dta", DATA=str(FOREIGN / "ino_cohort.dta")),
        "redcap": render(out / "redcap", DATA=str(REDCAP / "ino_export.csv"), REDCAP_DICTIONARY=str(INO_REDCAP)),
    }
    # The bundled example is recognised by its file, so only the CSV says it is synthetic.
    banner = "[Synthetic example data: not study results]\n\n"
    abstract = (builds["csv"] / "abstract.txt").read_text()
    assert abstract.startswith(banner)
    for name in ("dta", "redcap"):
        assert (builds[name] / "abstract.txt").read_text() == abstract.removeprefix(banner), name
        for table in sorted((builds["csv"] / "tables").glob("*.csv")):
            assert (builds[name] / "tables" / table.name).read_text() == table.read_text(), (name, table.name)
    shutil.rmtree(out)
