"""Loading the study settings, the data dictionary and the cohort (before any check runs)."""

from __future__ import annotations

import datetime as dt
import warnings

import openpyxl
import pandas as pd
import pytest

from analysis.cohort import (
    CohortLoadError,
    DictionaryError,
    UnknownColumnWarning,
    load_cohort,
    load_dictionary,
)
from analysis.config import StudySettingsError, load_study
from tests.corruptions import FIXTURE, ROOT

DICTIONARY = load_dictionary(ROOT / "data" / "dictionary.yml")
EXPECTED_DTYPES = {
    "string": "object",
    "category": "object",
    "float": "float64",
    "integer": "Int64",
    "boolean": "boolean",
    "date": "datetime64[ns]",
}


def fixture_text() -> pd.DataFrame:
    return pd.read_csv(FIXTURE, dtype=str, keep_default_na=False)


def write(tmp_path, table: pd.DataFrame, name="cohort.csv"):
    path = tmp_path / name
    table.to_csv(path, index=False)
    return path


# -- types ------------------------------------------------------------------------


def test_every_column_has_the_dtype_of_its_dictionary_type():
    cohort = load_cohort(FIXTURE, DICTIONARY)
    assert list(cohort.columns) == list(DICTIONARY.names)
    for spec in DICTIONARY.columns:
        assert str(cohort[spec.name].dtype) == EXPECTED_DTYPES[spec.type], spec.name


def test_values_are_parsed_as_written():
    cohort = load_cohort(FIXTURE, DICTIONARY).set_index("patient_id")
    # Row INO-002 of tests/fixtures/valid_cohort.csv, read by eye.
    patient = cohort.loc["INO-002"]
    assert patient["age_years"] == 12.1
    assert patient["ino_cycles"] == 1 and patient["ino_doses"] == 3
    assert patient["extramedullary_disease"] == True  # noqa: E712
    assert patient["prior_blinatumomab"] == False  # noqa: E712
    assert patient["sos_date"] == pd.Timestamp("2020-09-01")
    assert patient["response"] == "no_mrd_negative_remission"
    # Empty cells are missing, of the column's kind.
    assert pd.isna(cohort.loc["INO-001", "sos_date"]) and pd.isna(cohort.loc["INO-001", "ino_stop_reason"])
    assert cohort.loc["INO-003", "sos"] is pd.NA


@pytest.mark.parametrize("written, value", [("yes", True), ("No", False), ("TRUE", True), ("false", False)])
def test_booleans_accept_yes_no_and_true_false(tmp_path, written, value):
    table = fixture_text()
    table.loc[0, "prior_car_t"] = written
    assert load_cohort(write(tmp_path, table), DICTIONARY).loc[0, "prior_car_t"] == value


def test_spaces_around_cells_and_names_are_removed(tmp_path):
    text = FIXTURE.read_text().replace("INO-001,female", " INO-001 , female ").replace("patient_id,sex", "patient_id , sex")
    (tmp_path / "cohort.csv").write_text(text)
    cohort = load_cohort(tmp_path / "cohort.csv", DICTIONARY)
    assert cohort.loc[0, "patient_id"] == "INO-001" and cohort.loc[0, "sex"] == "female"


def test_whole_number_written_with_decimals_is_an_integer(tmp_path):
    table = fixture_text()
    table.loc[0, "ino_doses"] = "3.0"
    assert load_cohort(write(tmp_path, table), DICTIONARY).loc[0, "ino_doses"] == 3


def test_empty_rows_are_dropped(tmp_path):
    path = tmp_path / "cohort.csv"
    path.write_text(FIXTURE.read_text() + "," * (len(DICTIONARY.names) - 1) + "\n")
    assert len(load_cohort(path, DICTIONARY)) == len(fixture_text())


# -- file-level errors ----------------------------------------------------------------


def test_missing_file(tmp_path):
    with pytest.raises(CohortLoadError, match=r"nothere\.csv: file not found"):
        load_cohort(tmp_path / "nothere.csv", DICTIONARY)


@pytest.mark.parametrize("content", [b"", b"  \n\n"])
def test_empty_file(tmp_path, content):
    (tmp_path / "cohort.csv").write_bytes(content)
    with pytest.raises(CohortLoadError, match=r"cohort\.csv: the file is empty"):
        load_cohort(tmp_path / "cohort.csv", DICTIONARY)


def test_not_utf8_names_the_byte_and_line(tmp_path):
    text = FIXTURE.read_text().replace("first_remission", "first_remissión")
    (tmp_path / "cohort.csv").write_bytes(text.encode("cp1252"))
    # INO-003 is on line 4 of the file; 'ó' is 0xf3 in cp1252.
    with pytest.raises(CohortLoadError, match=r"not readable as UTF-8 \(byte 0xf3 on line 4\)"):
        load_cohort(tmp_path / "cohort.csv", DICTIONARY)


def test_utf16_is_named(tmp_path):
    path = tmp_path / "cohort.csv"
    path.write_bytes(FIXTURE.read_text().encode("utf-16"))
    with pytest.raises(CohortLoadError, match="the file is UTF-16; save it as CSV UTF-8"):
        load_cohort(path, DICTIONARY)


def test_utf8_with_byte_order_mark_is_read(tmp_path):
    (tmp_path / "cohort.csv").write_bytes(b"\xef\xbb\xbf" + FIXTURE.read_bytes())
    assert load_cohort(tmp_path / "cohort.csv", DICTIONARY).columns[0] == "patient_id"


@pytest.mark.parametrize("sep, name", [(";", "semicolons"), ("\t", "tabs"), ("|", "vertical bars")])
def test_wrong_delimiter(tmp_path, sep, name):
    path = tmp_path / "cohort.csv"
    fixture_text().to_csv(path, index=False, sep=sep)
    with pytest.raises(CohortLoadError, match=f"separated by {name}"):
        load_cohort(path, DICTIONARY)


def test_missing_columns_are_all_named_with_a_hint_for_case_and_punctuation(tmp_path):
    table = fixture_text().drop(columns=["sos"]).rename(columns={"sex": "Sex", "relapse_date": "RelapseDate"})
    with pytest.raises(CohortLoadError) as error:
        load_cohort(write(tmp_path, table), DICTIONARY)
    assert "missing column(s) ['sex', 'sos', 'relapse_date']" in str(error.value)
    assert "'Sex' should be 'sex'" in str(error.value)
    assert "'RelapseDate' should be 'relapse_date'" in str(error.value)


def test_unknown_column_warns_and_is_kept_as_text(tmp_path):
    table = fixture_text().assign(site=["A", "B", "", "A", "B", "A"])
    with pytest.warns(UnknownColumnWarning, match=r"\['site'\] are not in the data dictionary"):
        cohort = load_cohort(write(tmp_path, table), DICTIONARY)
    assert cohort.columns[-1] == "site" and pd.isna(cohort.loc[2, "site"])


def test_rows_with_too_many_cells(tmp_path):
    path = tmp_path / "cohort.csv"
    path.write_text(FIXTURE.read_text().replace("INO-002,", "INO-002,extra,", 1))
    with pytest.raises(CohortLoadError, match="rows do not have the header's 25 columns"):
        load_cohort(path, DICTIONARY)


def test_rows_ending_in_a_separator_are_read(tmp_path):
    # Spreadsheet exports often end every data row (not the header) with a comma.
    header, *rows = FIXTURE.read_text().splitlines()
    path = tmp_path / "cohort.csv"
    path.write_text("\n".join([header, *(row + "," for row in rows)]) + "\n")
    assert load_cohort(path, DICTIONARY).equals(load_cohort(FIXTURE, DICTIONARY))
    ended = [row + "," for row in rows]
    ended[2] += "x"
    path.write_text("\n".join([header, *ended]) + "\n")
    with pytest.raises(CohortLoadError, match=r"line\(s\) 4 have a value beyond the header's 25 columns \(a decimal comma"):
        load_cohort(path, DICTIONARY)


def test_old_mac_line_ends_are_read(tmp_path):
    path = tmp_path / "cohort.csv"
    path.write_text("\r".join(FIXTURE.read_text().splitlines()) + "\r", newline="")
    assert load_cohort(path, DICTIONARY).equals(load_cohort(FIXTURE, DICTIONARY))


# -- values that do not parse ----------------------------------------------------------------


@pytest.mark.parametrize(
    "column, written, why",
    [
        ("age_years", "twelve", "is not a number"),
        ("bm_blasts_pct", "45,5", "has a decimal comma; write it with a point (45.5)"),
        ("bm_blasts_pct", "NA", "stands for a missing value; leave the cell empty"),
        ("sex", "N/A", "stands for a missing value; leave the cell empty"),
        ("further_therapy_type", "-", "stands for a missing value; leave the cell empty"),
        ("ino_cycles", "1.5", "is not a whole number"),
        ("prior_car_t", "1", "is not yes or no"),
        ("ino_start_date", "10.03.2019", "is a date in another format; write it as YYYY-MM-DD"),
        ("ino_start_date", "2019-03-10 14:30", "has a time of day; a date column holds the date alone"),
        ("ino_start_date", "2019-02-30", "is not a date YYYY-MM-DD"),
    ],
)
def test_value_not_of_its_type_names_row_patient_and_column(tmp_path, column, written, why):
    table = fixture_text()
    table.loc[3, column] = written
    with pytest.raises(CohortLoadError) as error:
        load_cohort(write(tmp_path, table), DICTIONARY)
    # Table row 3 is line 5 of the file (the header is line 1).
    assert f"line 5, patient INO-004, column '{column}': {written!r} {why}" in str(error.value)
    (problem,) = error.value.problems
    assert (problem.row, problem.patient_id, problem.column) == (5, "INO-004", column)


def test_many_bad_values_are_listed_up_to_ten_then_counted(tmp_path):
    table = pd.concat([fixture_text()] * 3, ignore_index=True)
    table["age_years"] = "old"
    with pytest.raises(CohortLoadError) as error:
        load_cohort(write(tmp_path, table), DICTIONARY)
    assert "18 value(s) cannot be read" in str(error.value)
    assert str(error.value).count("column 'age_years'") == 10
    assert "... and 8 more" in str(error.value)


# -- Excel ---------------------------------------------------------------------------------


def write_xlsx(path, sheets: dict[str, pd.DataFrame]):
    """A workbook as a person saves it: numbers, dates and text in their own cell types."""
    workbook = openpyxl.Workbook()
    workbook.remove(workbook.active)
    for name, table in sheets.items():
        sheet = workbook.create_sheet(name)
        sheet.append(list(table.columns))
        for row in table.itertuples(index=False):
            cells = []
            for column, value in zip(table.columns, row):
                kind = DICTIONARY.column(column).type
                if value == "":
                    cells.append(None)
                elif kind == "date":
                    cells.append(dt.datetime.fromisoformat(value))
                elif kind in ("float", "integer"):
                    cells.append(float(value) if kind == "float" else int(value))
                else:
                    cells.append(value)
            sheet.append(cells)
    workbook.save(path)
    return path


def test_excel_reads_like_the_csv(tmp_path):
    path = write_xlsx(tmp_path / "cohort.xlsx", {"cohort": fixture_text()})
    pd.testing.assert_frame_equal(load_cohort(path, DICTIONARY), load_cohort(FIXTURE, DICTIONARY))


def test_excel_column_named_twice(tmp_path):
    path = write_xlsx(tmp_path / "cohort.xlsx", {"cohort": fixture_text()})
    workbook = openpyxl.load_workbook(path)
    sheet = workbook.active
    sheet.cell(row=1, column=sheet.max_column + 1, value="relapse_date ")
    workbook.save(path)
    with pytest.raises(CohortLoadError, match=r"column\(s\) named more than once: \['relapse_date'\]"):
        load_cohort(path, DICTIONARY)


def test_excel_named_sheet(tmp_path):
    other = fixture_text().iloc[:2]
    path = write_xlsx(tmp_path / "cohort.xlsx", {"notes": other, "cohort": fixture_text()})
    assert len(load_cohort(path, DICTIONARY)) == 2
    assert len(load_cohort(path, DICTIONARY, sheet="cohort")) == len(fixture_text())
    with pytest.raises(CohortLoadError, match=r"no sheet named 'patients'; the sheets are \['notes', 'cohort'\]"):
        load_cohort(path, DICTIONARY, sheet="patients")


def test_excel_native_true_false_cells_and_bad_values(tmp_path):
    path = write_xlsx(tmp_path / "cohort.xlsx", {"cohort": fixture_text()})
    workbook = openpyxl.load_workbook(path)
    sheet = workbook.active
    header = [c.value for c in sheet[1]]
    sheet.cell(row=2, column=header.index("prior_car_t") + 1, value=True)
    sheet.cell(row=3, column=header.index("age_years") + 1, value="twelve")
    workbook.save(path)
    with pytest.raises(CohortLoadError, match=r"cell cohort!C3, patient INO-002, column 'age_years': 'twelve'"):
        load_cohort(path, DICTIONARY)
    sheet.cell(row=3, column=header.index("age_years") + 1, value=12.1)
    workbook.save(path)
    assert load_cohort(path, DICTIONARY).loc[0, "prior_car_t"] == True  # noqa: E712


def test_not_a_workbook(tmp_path):
    (tmp_path / "cohort.xlsx").write_text("patient_id\n")
    with pytest.raises(CohortLoadError, match="not a readable .xlsx workbook"):
        load_cohort(tmp_path / "cohort.xlsx", DICTIONARY)


# -- the data dictionary and the study settings ------------------------------------------------


def test_dictionary_errors_name_the_file_and_column(tmp_path):
    path = tmp_path / "dictionary.yml"
    path.write_text("columns:\n  - name: age\n    type: number\n")
    with pytest.raises(DictionaryError, match=r"dictionary\.yml, line 3: column 'age' type must be one of"):
        load_dictionary(path)
    path.write_text("columns:\n  - name: sex\n    type: category\n")
    with pytest.raises(DictionaryError, match=r"line 2: column 'sex' values is missing \(a category lists its codes"):
        load_dictionary(path)


def test_study_settings_are_typed():
    settings = load_study(ROOT / "study.yml")
    assert settings.window_start == dt.date(2019, 1, 1) and settings.cutoff_date == dt.date(2025, 2, 28)
    assert settings.landmark_days == 730.5 and settings.conf_level == 0.95
    assert settings.parameters()["mrd_threshold_pct"] == 0.01


def test_data_environment_variable_overrides_data(monkeypatch, tmp_path):
    # DATA is a path from where the command runs (the study's own `data:` is from its folder).
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DATA", "other/cohort.xlsx")
    assert load_study(ROOT / "study.yml").data == tmp_path / "other" / "cohort.xlsx"
    monkeypatch.setenv("DATA", "")
    assert str(load_study(ROOT / "study.yml").data) == "data/example_cohort.csv"


@pytest.mark.parametrize(
    "replace, message",
    [
        (("cutoff_date: 2025-02-28", "cutoff_date: 2024-01-01"), "window_start <= window_end <= cutoff_date"),
        (("ci_transform: linear", "ci_transform: plain"), "study.ci_transform must be one of"),
        (("landmark_days: 730.5", "landmark_days: two years"), "study.landmark_days must be a number"),
        (("  cutoff_date: 2025-02-28\n", ""), "study.cutoff_date is missing"),
    ],
)
def test_bad_study_settings(tmp_path, replace, message):
    text = (ROOT / "study.yml").read_text()
    assert replace[0] in text
    (tmp_path / "study.yml").write_text(text.replace(*replace))
    with pytest.raises(StudySettingsError, match=message):
        load_study(tmp_path / "study.yml")


def test_loading_does_not_import_great_expectations():
    import subprocess
    import sys

    code = "import sys, analysis.cohort; sys.exit('great_expectations' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], cwd=ROOT).returncode == 0


def test_no_warning_for_a_clean_file():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        load_cohort(FIXTURE, DICTIONARY)


# -- Excel cells read as Excel shows them ----------------------------------------------------------


@pytest.mark.parametrize("stored, number_format, read", [
    (0.367, "0.0%", 36.7),  # typed 36.7% in a percent cell
    (0.0001, "0.00%", 0.01),
    (36.7, '0.0"%"', 36.7),  # a % written as text in the format: shown unscaled
    (36.7, "0.0\\%", 36.7),
    (36.7, "General", 36.7),
])
def test_excel_percent_cells_read_as_shown(tmp_path, stored, number_format, read):
    path = write_xlsx(tmp_path / "cohort.xlsx", {"cohort": fixture_text()})
    workbook = openpyxl.load_workbook(path)
    sheet = workbook.active
    cell = sheet.cell(row=2, column=[c.value for c in sheet[1]].index("bm_blasts_pct") + 1)
    cell.value, cell.number_format = stored, number_format
    workbook.save(path)
    assert load_cohort(path, DICTIONARY).loc[0, "bm_blasts_pct"] == read


def test_excel_refusals_name_every_cell_and_leave_the_file_unchanged(tmp_path):
    path = write_xlsx(tmp_path / "Когорта InO.xlsx", {"Лист 1": fixture_text()})
    workbook = openpyxl.load_workbook(path)
    sheet = workbook.active
    header = [c.value for c in sheet[1]]
    serial = sheet.cell(row=3, column=header.index("hsct_date") + 1)
    serial.value, serial.number_format = 44000, "General"
    percent = sheet.cell(row=5, column=header.index("ino_doses") + 1)
    percent.value, percent.number_format = 3, "0%"
    workbook.save(path)
    before = path.read_bytes()
    with pytest.raises(CohortLoadError) as error:
        load_cohort(path, DICTIONARY)
    assert "cell 'Лист 1'!S3, patient INO-002, column 'hsct_date': '44000' is a number" in str(error.value)
    assert "cell 'Лист 1'!M5, patient INO-004, column 'ino_doses': '300%' is formatted as a percentage" in str(error.value)
    assert path.read_bytes() == before
