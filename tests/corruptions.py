"""A catalogue of corrupted cohorts: each a small, named mutation of the example.

Every :class:`Corruption` takes the example cohort as the CSV file holds it
(all cells text, empty cells ""), changes one thing for one patient it picks
by a property (so the catalogue works on any valid example), and says what the
data checks must answer: the exit code, the rule that fails (its
``meta["rule"]`` name) or, for a file that cannot be loaded, a fragment of the
message, and the patient who must be named. A mutation may also write an
Excel workbook (built here with openpyxl, never committed), name the file,
list fragments every message must contain (sheet, cell, line, rule) and
values that must never be printed (identifiers); an entry with exit 0 and no
rule must read exactly as the example does.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import openpyxl
import pandas as pd
import yaml
from openpyxl.utils import get_column_letter

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "data" / "example_cohort.csv"
FIXTURE = ROOT / "tests" / "fixtures" / "valid_cohort.csv"
# Until the example cohort exists the catalogue mutates the small fixture.
SOURCE = EXAMPLE if EXAMPLE.exists() else FIXTURE

EXIT_FAILED, EXIT_UNREADABLE = 1, 2


def read_example(path: Path = SOURCE) -> pd.DataFrame:
    """The example cohort as text, exactly as the file holds it."""
    return pd.read_csv(path, dtype=str, keep_default_na=False)


@dataclass(frozen=True)
class Mutated:
    """A corrupted cohort: a table (written as CSV) or the file's raw bytes, and the patient to name.

    ``names``: fragments the message must hold (a cell, a line, the rule);
    ``withheld``: values that must appear in no message.
    """

    table: pd.DataFrame | None = None
    raw: bytes | None = None
    patient_id: str | None = None
    file_name: str = "cohort.csv"
    names: tuple[str, ...] = ()
    withheld: tuple[str, ...] = ()

    def write(self, folder: Path) -> Path:
        path = folder / self.file_name
        if self.raw is not None:
            path.write_bytes(self.raw)
        else:
            self.table.to_csv(path, index=False)
        return path


@dataclass(frozen=True)
class Corruption:
    name: str
    mutate: Callable[[pd.DataFrame], Mutated]
    exit_code: int
    rule: str | None = None  # the failing rule (exit 1) or the warning rule (exit 0)
    message: str | None = None  # a fragment of the load error (exit 2)


# -- helpers --------------------------------------------------------------------


def _first(table: pd.DataFrame, mask: pd.Series) -> int:
    rows = table.index[mask]
    if rows.empty:
        raise LookupError("the example cohort has no patient with the property this corruption needs")
    return rows[0]


def _set(table: pd.DataFrame, row: int, **values: str) -> Mutated:
    table = table.copy()
    for column, value in values.items():
        table.loc[row, column] = value
    return Mutated(table=table, patient_id=table.loc[row, "patient_id"])


def _shift(date: str, days: int) -> str:
    return (pd.Timestamp(date) + pd.Timedelta(days=days)).date().isoformat()


def _with_column(table: pd.DataFrame, column: str, values: list[str]) -> pd.DataFrame:
    table = table.copy()
    table[column] = values
    return table


def _is(table: pd.DataFrame, column: str, value: str) -> pd.Series:
    return table[column] == value


# -- the mutations ----------------------------------------------------------------


def empty_file(t):
    return Mutated(raw=b"")


def header_only(t):
    return Mutated(raw=(",".join(t.columns) + "\n").encode())


def latin1_encoding(t):
    text = t.to_csv(index=False).replace("first_relapse", "first_relapsé", 1)
    return Mutated(raw=text.encode("latin-1"))


def semicolon_delimiter(t):
    return Mutated(raw=t.to_csv(index=False, sep=";").encode())


def missing_column(t):
    return Mutated(table=t.drop(columns=["sos_date"]))


def duplicate_header(t):
    text = t.to_csv(index=False)
    header, rest = text.split("\n", 1)
    return Mutated(raw=(header.replace("sos_date", "relapse_date") + "\n" + rest).encode())


def text_in_numeric(t):
    return _set(t, 1, age_years="twelve")


def decimal_comma(t):
    return _set(t, 2, bm_blasts_pct="45,5")


def fractional_dose(t):
    return _set(t, 0, ino_doses="2.5")


def day_month_date(t):
    row = 1
    return _set(t, row, ino_start_date=pd.Timestamp(t.loc[row, "ino_start_date"]).strftime("%d.%m.%Y"))


def numeric_boolean(t):
    return _set(t, 2, prior_car_t="1")


def duplicate_id(t):
    mutated = _set(t, 1, patient_id=t.loc[0, "patient_id"])
    return Mutated(table=mutated.table, patient_id=t.loc[0, "patient_id"])


def bad_id_pattern(t):
    return _set(t, 1, patient_id="ino 2")


def missing_sex(t):
    mutated = _set(t, 2, sex="")
    return mutated


def age_18(t):
    return _set(t, 0, age_years="18")


def negative_age(t):
    return _set(t, 1, age_years="-1")


def blasts_over_100(t):
    return _set(t, 1, bm_blasts_pct="101")


def four_doses(t):
    return _set(t, _first(t, _is(t, "ino_doses", "3")), ino_doses="4")


def unknown_sex_code(t):
    return _set(t, 0, sex="M")


def unknown_disease_status(t):
    return _set(t, 1, disease_status="fourth_relapse")


def ino_before_window(t):
    row = _first(t, _is(t, "hsct_after_ino", "no") & _is(t, "relapse_date", ""))
    return _set(t, row, ino_start_date="2018-12-31")


def ino_after_window(t):
    # A patient with no other dates to move: no HSCT, no relapse, died.
    row = _first(t, _is(t, "hsct_after_ino", "no") & _is(t, "vital_status", "dead") & _is(t, "relapse_date", ""))
    return _set(t, row, ino_start_date="2024-08-31", death_date="2025-01-31", last_contact_date="2025-01-31")


def contact_after_cutoff(t):
    return _set(t, _first(t, _is(t, "vital_status", "alive")), last_contact_date="2025-03-01")


def hsct_before_ino(t):
    row = _first(t, _is(t, "hsct_after_ino", "yes"))
    return _set(t, row, hsct_date=_shift(t.loc[row, "ino_start_date"], -1))


def death_before_hsct(t):
    row = _first(t, _is(t, "hsct_after_ino", "yes") & _is(t, "sos", "no") & _is(t, "relapse_date", ""))
    day_before = _shift(t.loc[row, "hsct_date"], -1)
    return _set(t, row, vital_status="dead", death_date=day_before, last_contact_date=day_before)


def death_not_last_contact(t):
    row = _first(t, _is(t, "vital_status", "dead"))
    return _set(t, row, death_date=_shift(t.loc[row, "last_contact_date"], -3))


def alive_with_death_date(t):
    row = _first(t, _is(t, "vital_status", "alive"))
    return _set(t, row, death_date=t.loc[row, "last_contact_date"])


def dead_without_death_date(t):
    return _set(t, _first(t, _is(t, "vital_status", "dead")), death_date="")


def sos_without_hsct(t):
    return _set(t, _first(t, _is(t, "hsct_after_ino", "no")), sos="yes")


def sos_date_before_hsct(t):
    row = _first(t, _is(t, "sos", "yes"))
    return _set(t, row, sos_date=_shift(t.loc[row, "hsct_date"], -2))


def hsct_without_date(t):
    return _set(t, _first(t, _is(t, "hsct_after_ino", "yes")), hsct_date="")


def relapse_before_ino(t):
    row = _first(t, t["relapse_date"] != "")
    return _set(t, row, relapse_date=_shift(t.loc[row, "ino_start_date"], -10))


def further_type_without_therapy(t):
    return _set(t, _first(t, _is(t, "further_therapy", "no")), further_therapy_type="chemotherapy")


def further_therapy_without_type(t):
    return _set(t, _first(t, _is(t, "further_therapy", "yes")), further_therapy_type="")


def single_dose_without_reason(t):
    return _set(t, _first(t, _is(t, "ino_doses", "3")), ino_doses="1")


def stop_reason_with_full_cycle(t):
    return _set(t, _first(t, _is(t, "ino_doses", "3")), ino_stop_reason="infection")


def not_evaluable_with_disease(t):
    return _set(t, _first(t, t["flow_mrd_pct"].astype(float) >= 0.01), response="not_evaluable")


def evaluated_without_disease(t):
    return _set(t, _first(t, t["response"] != "not_evaluable"), flow_mrd_pct="0")


def name_column(t):
    names = [f"Name{i} Surname{i}" for i in range(len(t))]
    return Mutated(table=_with_column(t, "patient_name", names), patient_id=t.loc[0, "patient_id"])


def birth_date_column(t):
    return Mutated(table=_with_column(t, "DateOfBirth", ["2010-01-01"] * len(t)), patient_id=t.loc[0, "patient_id"])


def _extra_column(t: pd.DataFrame, column: str, row: int, value: str, others: str = "") -> Mutated:
    """A column outside the dictionary, ``value`` for the patient in ``row``, ``others`` for the rest."""
    values = [others] * len(t)
    values[row] = value
    return Mutated(table=_with_column(t, column, values), patient_id=t.loc[row, "patient_id"])


def email_in_unknown_column(t):
    return _extra_column(t, "contact", 2, "parent@example.org")


def comments_column(t):
    return _extra_column(t, "comments", 1, "fever")


def free_text_in_unknown_column(t):
    return _extra_column(t, "extra", 3, "febrile neutropenia after the second dose", others="A")


def russian_name_column(t):
    names = ["Иванов И.И."] * len(t)
    return Mutated(table=_with_column(t, "ФИО", names), patient_id=t.loc[0, "patient_id"])


def names_in_an_innocent_column(t):
    return _extra_column(t, "patient", 4, "Ivan Petrov")


def blasts_without_flow_disease(t):
    return _set(t, _first(t, _is(t, "response", "not_evaluable")), bm_blasts_pct="80")


def extra_date_column(t):
    return Mutated(table=_with_column(t, "diagnosis_date", ["2018-05-03"] * len(t)))


def short_follow_up(t):
    row = _first(t, _is(t, "vital_status", "alive") & _is(t, "relapse_date", ""))
    return _set(t, row, last_contact_date=_shift(t.loc[row, "ino_start_date"], 365))


def harmless_extra_column(t):
    return Mutated(table=_with_column(t, "site", ["A"] * len(t)))


# -- Excel workbooks, built as a person saves them ----------------------------------


_TYPES = {c["name"]: c["type"] for c in yaml.safe_load((ROOT / "data" / "dictionary.yml").read_text())["columns"]}


def _typed(column: str, value: str):
    """A CSV cell as Excel stores it when typed: numbers, dates, text; empty is no cell."""
    kind = _TYPES.get(column)
    if value == "":
        return None
    if kind == "date":
        return dt.datetime.fromisoformat(value)
    if kind in ("float", "integer"):
        return float(value) if kind == "float" else int(value)
    return value


def _workbook(t: pd.DataFrame, edit: Callable, patient_id: str | None = None, names: tuple[str, ...] = (),
              withheld: tuple[str, ...] = (), file_name: str = "cohort.xlsx", sheet: str = "cohort") -> Mutated:
    """The example as a workbook (sheet ``cohort``), changed by ``edit(workbook, sheet, letter)``.

    ``letter(column)`` is the column's letter; table row i is sheet row i + 2.
    """
    workbook = openpyxl.Workbook()
    worksheet = workbook.active
    worksheet.title = sheet
    worksheet.append(list(t.columns))
    for row in t.itertuples(index=False):
        worksheet.append([_typed(c, v) for c, v in zip(t.columns, row)])
    columns = list(t.columns)
    edit(workbook, worksheet, lambda column: get_column_letter(columns.index(column) + 1))
    buffer = io.BytesIO()
    workbook.save(buffer)
    return Mutated(raw=buffer.getvalue(), patient_id=patient_id, file_name=file_name, names=names, withheld=withheld)


def excel_as_typed(t):
    return _workbook(t, lambda wb, ws, col: None)


def excel_percent_cells(t):
    # 36.7% typed into a cell formatted 0.0% is stored as 0.367: read as Excel shows it.
    def edit(wb, ws, col):
        for row in range(2, len(t) + 2):
            cell = ws[f"{col('bm_blasts_pct')}{row}"]
            cell.value = float(pd.Series([cell.value]).div(100).round(10).iloc[0])
            cell.number_format = "0.0%"
    return _workbook(t, edit)


def excel_percent_in_a_column_not_in_percent(t):
    def edit(wb, ws, col):
        ws[f"{col('age_years')}4"].value = 0.121
        ws[f"{col('age_years')}4"].number_format = "0%"
    return _workbook(t, edit, t.loc[2, "patient_id"], names=(f"cell cohort!C4", "formatted as a percentage"))


def excel_hidden_rows(t):
    def edit(wb, ws, col):
        ws.row_dimensions[5].hidden = True
        ws.row_dimensions[9].hidden = True
    return _workbook(t, edit, names=("rows 5, 9 of sheet 'cohort' are hidden", "unhide them"))


def excel_filtered_rows(t):
    def edit(wb, ws, col):
        ws.auto_filter.ref = f"A1:{col('last_contact_date')}{len(t) + 1}"
        ws.auto_filter.add_filter_column(1, ["male"])
        for row in range(2, len(t) + 2):
            ws.row_dimensions[row].hidden = ws[f"B{row}"].value != "male"
    return _workbook(t, edit, names=("of sheet 'cohort' are hidden by a filter", "clear the filter"))


def excel_hidden_column(t):
    def edit(wb, ws, col):
        ws.column_dimensions[col("flow_mrd_pct")].hidden = True
    return _workbook(t, edit, names=("column(s) F (flow_mrd_pct) of sheet 'cohort' are hidden",))


def excel_date_serial_number(t):
    def edit(wb, ws, col):
        ws[f"{col('ino_start_date')}3"].value = 43534
        ws[f"{col('ino_start_date')}3"].number_format = "General"
    return _workbook(t, edit, t.loc[1, "patient_id"], names=("cell cohort!K3", "is a number", "format the cell as a date"))


def excel_date_as_other_text(t):
    def edit(wb, ws, col):
        ws[f"{col('last_contact_date')}6"].value = "27.02.2025"
    return _workbook(t, edit, t.loc[4, "patient_id"], names=("cell cohort!Y6", "is a date in another format"))


def excel_date_and_time(t):
    def edit(wb, ws, col):
        cell = ws[f"{col('ino_start_date')}2"]
        cell.value = cell.value.replace(hour=23)
    return _workbook(t, edit, t.loc[0, "patient_id"], names=("cell cohort!K2", "is a date and time"))


def excel_date_in_a_numeric_column(t):
    def edit(wb, ws, col):
        ws[f"{col('ino_cycles')}7"].value = dt.datetime(1900, 1, 1)
    return _workbook(t, edit, t.loc[5, "patient_id"], names=("cell cohort!L7", "date or time cell in a numeric column"))


def excel_formula_without_value(t):
    # openpyxl, like many programs, writes formulas without their results.
    def edit(wb, ws, col):
        ws[f"{col('age_years')}5"].value = "=10+2.5"
    return _workbook(t, edit, names=("cohort!C5", "formulas whose value was never calculated"))


def excel_error_value(t):
    def edit(wb, ws, col):
        cell = ws[f"{col('flow_mrd_pct')}8"]
        cell.value = "#N/A"
        cell.data_type = "e"
    return _workbook(t, edit, t.loc[6, "patient_id"], names=("cell cohort!F8", "is an Excel error value"))


def excel_merged_cells(t):
    def edit(wb, ws, col):
        ws.merge_cells(f"{col('ino_cycles')}3:{col('ino_cycles')}4")
    return _workbook(t, edit, names=("cells cohort!L3:L4 are merged", "unmerge them"))


def excel_title_row(t):
    def edit(wb, ws, col):
        ws.insert_rows(1, amount=2)
        ws["A1"].value = "InO cohort, export of 2025-02-28"
    return _workbook(t, edit, names=("the column names are on row 3 of sheet 'cohort' (cohort!A3)",
                                     "delete the rows above"))


def excel_data_on_another_sheet(t):
    def edit(wb, ws, col):
        notes = wb.create_sheet("Notes", 0)
        notes["A1"].value = "Read me first"
    return _workbook(t, edit, sheet="Данные", names=("sheet 'Notes' (the first) has none of the data dictionary's columns",
                                                   "they are on sheet 'Данные'", "study.sheet"))


def excel_first_sheet_hidden(t):
    def edit(wb, ws, col):
        ws.sheet_state = "hidden"
        wb.create_sheet("Summary")["A1"].value = "n=27"
    return _workbook(t, edit, names=("the first sheet, 'cohort', is hidden",))


def text_named_xlsx(t):
    return Mutated(raw=t.to_csv(index=False).encode(), file_name="cohort.xlsx",
                   names=("not a readable .xlsx workbook: it is a text file", "give it the .csv extension"))


def old_xls_named_xlsx(t):
    return Mutated(raw=b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504), file_name="cohort.xlsx",
                   names=("old Excel 97-2003 (.xls) file", "save it as .xlsx"))


def excel_in_a_folder_with_spaces_and_cyrillic(t):
    return _workbook(t, lambda wb, ws, col: None, file_name="Когорта InO 2024 (копия).xlsx", sheet="Лист 1")


# -- CSV lines that are not patients, and cells that say "missing" in words ------------------


def _lines(t: pd.DataFrame) -> list[str]:
    return t.to_csv(index=False).splitlines()


def _csv(lines: list[str], **kwargs) -> Mutated:
    return Mutated(raw=("\n".join(lines) + "\n").encode(), **kwargs)


def empty_line_between_patients(t):
    lines = _lines(t)
    lines.insert(6, "")
    return _csv(lines, names=("line 7 is empty, between patient rows",))


def empty_cells_row_between_patients(t):
    lines = _lines(t)
    lines.insert(3, "," * (len(t.columns) - 1))
    return _csv(lines, names=("line 4 is empty, between patient rows",))


def header_repeated(t):
    lines = _lines(t)
    lines.insert(11, lines[0])
    return _csv(lines, names=("line 12 repeats the column names",))


def totals_row(t):
    totals = ["Total"] + [""] * (len(t.columns) - 1)
    totals[list(t.columns).index("age_years")] = f"{t['age_years'].astype(float).sum():g}"
    return _csv(_lines(t) + [",".join(totals)], names=(f"line {len(t) + 2} is a row of totals",))


def russian_totals_row(t):
    totals = ["Итого:"] + [""] * (len(t.columns) - 1)
    totals[list(t.columns).index("sex")] = "15 female"
    totals[list(t.columns).index("bm_blasts_pct")] = "12"
    return _csv(_lines(t) + [",".join(totals)], names=(f"line {len(t) + 2} is a row of totals",))


def row_without_id(t):
    lines = _lines(t)
    row = lines[5].split(",")
    row[0] = ""
    lines[5] = ",".join(row)
    return _csv(lines, names=("line 6 has values but no patient id",))


def summary_row_without_id(t):
    means = [""] * len(t.columns)
    means[list(t.columns).index("disease_status")] = "mean"
    means[list(t.columns).index("age_years")] = f"{t['age_years'].astype(float).mean():.1f}"
    return _csv(_lines(t) + [",".join(means)], names=(f"line {len(t) + 2} has values but no patient id",
                                                      "totals or notes"))


def semicolons_in_one_line(t):
    lines = _lines(t)
    lines[4] = lines[4].replace(",", ";")
    return _csv(lines, names=("line 5 is one cell holding a whole row separated by semicolons",))


def na_for_missing_number(t):
    mutated = _set(t, 3, flow_mrd_pct="NA")
    return Mutated(table=mutated.table, patient_id=mutated.patient_id,
                   names=("line 5", "column 'flow_mrd_pct': 'NA' stands for a missing value; leave the cell empty",))


def na_slash_for_missing_category(t):
    row = _first(t, _is(t, "further_therapy", "no"))
    mutated = _set(t, row, further_therapy_type="N/A")
    return Mutated(table=mutated.table, patient_id=mutated.patient_id,
                   names=(f"line {row + 2}", "'N/A' stands for a missing value"))


def dash_for_missing_date(t):
    row = _first(t, _is(t, "relapse_date", ""))
    mutated = _set(t, row, relapse_date="-")
    return Mutated(table=mutated.table, patient_id=mutated.patient_id,
                   names=(f"line {row + 2}", "column 'relapse_date': '-' stands for a missing value"))


def decimal_comma_quoted(t):
    mutated = _set(t, 2, flow_mrd_pct="0,5")
    return Mutated(table=mutated.table, patient_id=mutated.patient_id,
                   names=("line 4", "has a decimal comma; write it with a point (0.5)"))


def decimal_comma_unquoted(t):
    lines = _lines(t)
    cells = lines[3].split(",")
    cells[list(t.columns).index("age_years")] = cells[list(t.columns).index("age_years")].replace(".", ",")
    lines[3] = ",".join(cells)
    return _csv(lines, names=("line 4 has 26 cells", "a decimal comma"))


def windows_cyrillic_encoding(t):
    text = t.to_csv(index=False).replace("first_relapse", "первый_рецидив", 1)
    line = next(i for i, line in enumerate(text.splitlines(), start=1) if "первый" in line)
    return Mutated(raw=text.encode("cp1251"), names=(f"on line {line}", "save the file as CSV UTF-8"))


def tab_separated(t):
    return Mutated(raw=t.to_csv(index=False, sep="\t").encode(), names=("separated by tabs", "comma-separated CSV"))


def csv_in_a_folder_with_spaces_and_cyrillic(t):
    return Mutated(table=t, file_name="Когорта ИнО, выгрузка 2025.csv")


# -- the same patient twice, under two ids ------------------------------------------------------------


def _twice(t: pd.DataFrame, row: int, new_id: str, **changes: str) -> Mutated:
    copy = t.loc[[row]].assign(patient_id=new_id, **changes)
    table = pd.concat([t, copy], ignore_index=True)
    return Mutated(table=table, patient_id=new_id, names=(t.loc[row, "patient_id"], new_id))


def patient_entered_twice(t):
    return _twice(t, 4, "SYN-901")


def patient_entered_twice_with_padding(t):
    return _twice(t, 7, "SYN-902", sex=f" {t.loc[7, 'sex']} ")


def patient_entered_twice_apart(t):
    return _twice(t, 0, "SYN-903")


# -- identifiers --------------------------------------------------------------------------------


def dob_column(t):
    return Mutated(table=_with_column(t, "DoB", ["2008-03-01"] * len(t)), patient_id=t.loc[0, "patient_id"])


def russian_dob_abbreviation(t):
    return Mutated(table=_with_column(t, "ДР", ["01.03.2008"] * len(t)), patient_id=t.loc[0, "patient_id"])


def _identifier(t: pd.DataFrame, column: str, row: int, value: str) -> Mutated:
    mutated = _extra_column(t, column, row, value, others="A")
    return Mutated(table=mutated.table, patient_id=mutated.patient_id, withheld=(value,))


def name_in_capitals(t):
    return _identifier(t, "extra", 3, "ИВАНОВ И.И.")


def initials_first(t):
    return _identifier(t, "doctor", 5, "I. Petrov")


def obfuscated_email(t):
    return _identifier(t, "contact", 2, "ivanova(at)mail.ru")


def labelled_phone(t):
    return _identifier(t, "contact", 6, "тел. 89161234567")


def snils_number(t):
    return _identifier(t, "doc", 1, "123-456-789 01")


def passport_number(t):
    return _identifier(t, "doc", 8, "45 06 123456")


def _birth_dates(t: pd.DataFrame) -> list[dt.datetime]:
    start = pd.to_datetime(t["ino_start_date"])
    return [(s - pd.Timedelta(days=round(float(a) * 365.25))).to_pydatetime() for s, a in zip(start, t["age_years"])]


def birth_dates_as_date_cells(t):
    births = _birth_dates(t)

    def edit(wb, ws, col):
        column = len(t.columns) + 1
        ws.cell(1, column, "d")
        for row, born in enumerate(births, start=2):
            ws.cell(row, column, born).number_format = "dd.mm.yyyy"
    first = births[0].date()
    return _workbook(t, edit, t.loc[0, "patient_id"], names=("birth dates",),
                     withheld=(first.isoformat(), first.strftime("%d.%m.%Y")))


def birth_dates_as_text(t):
    births = [b.strftime("%d.%m.%Y") for b in _birth_dates(t)]
    return Mutated(table=_with_column(t, "extra_date", births), patient_id=t.loc[0, "patient_id"],
                   names=("birth dates",), withheld=(births[0],))


def surname_in_patient_id(t):
    table = t.copy()
    table.loc[1, "patient_id"] = "PETROV-002"
    return Mutated(table=table, patient_id="row 3", names=("surname or given name",), withheld=("PETROV",))


def english_surname_in_patient_id(t):
    table = t.copy()
    table.loc[4, "patient_id"] = "SMITH-005"
    return Mutated(table=table, patient_id="row 6", names=("surname or given name",), withheld=("SMITH",))


def drugs_and_places_in_an_extra_column(t):
    places = ["Saint Petersburg", "Inotuzumab Ozogamicin", "Nizhny Novgorod", "Blinatumomab"] * len(t)
    return Mutated(table=_with_column(t, "site", places[: len(t)]))



CATALOGUE: tuple[Corruption, ...] = (
    # the file cannot be loaded
    Corruption("empty file", empty_file, EXIT_UNREADABLE, message="empty"),
    Corruption("header only", header_only, EXIT_UNREADABLE, message="no patient rows"),
    Corruption("Latin-1 encoding", latin1_encoding, EXIT_UNREADABLE, message="UTF-8"),
    Corruption("semicolon delimiter", semicolon_delimiter, EXIT_UNREADABLE, message="semicolon"),
    Corruption("missing column", missing_column, EXIT_UNREADABLE, message="missing column(s) ['sos_date']"),
    Corruption("column named twice", duplicate_header, EXIT_UNREADABLE, message="named more than once"),
    Corruption("text in a numeric column", text_in_numeric, EXIT_UNREADABLE, message="column 'age_years': 'twelve'"),
    Corruption("decimal comma", decimal_comma, EXIT_UNREADABLE, message="column 'bm_blasts_pct': '45,5' has a decimal comma"),
    Corruption("fractional dose count", fractional_dose, EXIT_UNREADABLE, message="column 'ino_doses': '2.5'"),
    Corruption("day.month.year date", day_month_date, EXIT_UNREADABLE, message="column 'ino_start_date'"),
    Corruption("boolean written 1", numeric_boolean, EXIT_UNREADABLE, message="column 'prior_car_t': '1'"),
    # Excel: read as Excel shows it, or refused naming sheet, cell and rule
    Corruption("Excel: percent-formatted with a % unit", excel_percent_cells, 0),
    Corruption("Excel: percent-formatted without a % unit", excel_percent_in_a_column_not_in_percent, EXIT_UNREADABLE,
               message="not measured in %"),
    Corruption("Excel: hidden rows", excel_hidden_rows, EXIT_UNREADABLE, message="are hidden"),
    Corruption("Excel: filtered rows", excel_filtered_rows, EXIT_UNREADABLE, message="hidden by a filter"),
    Corruption("Excel: hidden column", excel_hidden_column, EXIT_UNREADABLE, message="are hidden"),
    Corruption("Excel: date as a serial number", excel_date_serial_number, EXIT_UNREADABLE, message="is a number"),
    Corruption("Excel: date as text in another format", excel_date_as_other_text, EXIT_UNREADABLE,
               message="write it as YYYY-MM-DD"),
    Corruption("Excel: date and time", excel_date_and_time, EXIT_UNREADABLE, message="remove the time of day"),
    Corruption("Excel: date in a numeric column", excel_date_in_a_numeric_column, EXIT_UNREADABLE,
               message="numeric column"),
    Corruption("Excel: formula without a value", excel_formula_without_value, EXIT_UNREADABLE,
               message="never calculated"),
    Corruption("Excel: error value", excel_error_value, EXIT_UNREADABLE, message="Excel error value"),
    Corruption("Excel: merged cells", excel_merged_cells, EXIT_UNREADABLE, message="merged"),
    Corruption("Excel: title row above the header", excel_title_row, EXIT_UNREADABLE, message="column names are on row 3"),
    Corruption("Excel: data on another sheet", excel_data_on_another_sheet, EXIT_UNREADABLE, message="study.sheet"),
    Corruption("Excel: first sheet hidden", excel_first_sheet_hidden, EXIT_UNREADABLE, message="is hidden"),
    Corruption("Excel: text file named .xlsx", text_named_xlsx, EXIT_UNREADABLE, message="not a readable .xlsx workbook"),
    Corruption("Excel: old .xls named .xlsx", old_xls_named_xlsx, EXIT_UNREADABLE, message="not a readable .xlsx workbook"),
    Corruption("Excel: typed cells, sheet and path with spaces and Cyrillic", excel_in_a_folder_with_spaces_and_cyrillic, 0),
    # CSV: lines that are not patients, words for missing, separators and encodings, each named by line
    Corruption("CSV: empty line between patients", empty_line_between_patients, EXIT_UNREADABLE, message="is empty"),
    Corruption("CSV: row of empty cells between patients", empty_cells_row_between_patients, EXIT_UNREADABLE,
               message="is empty"),
    Corruption("CSV: header repeated", header_repeated, EXIT_UNREADABLE, message="repeats the column names"),
    Corruption("CSV: totals row", totals_row, EXIT_UNREADABLE, message="row of totals"),
    Corruption("CSV: totals row in Russian", russian_totals_row, EXIT_UNREADABLE, message="row of totals"),
    Corruption("CSV: row without a patient id", row_without_id, EXIT_UNREADABLE, message="no patient id"),
    Corruption("CSV: means row without a patient id", summary_row_without_id, EXIT_UNREADABLE, message="no patient id"),
    Corruption("CSV: one line separated by semicolons", semicolons_in_one_line, EXIT_UNREADABLE, message="semicolons"),
    Corruption("CSV: NA for a missing number", na_for_missing_number, EXIT_UNREADABLE, message="stands for a missing value"),
    Corruption("CSV: N/A for a missing category", na_slash_for_missing_category, EXIT_UNREADABLE,
               message="stands for a missing value"),
    Corruption("CSV: dash for a missing date", dash_for_missing_date, EXIT_UNREADABLE, message="stands for a missing value"),
    Corruption("CSV: decimal comma in quotes", decimal_comma_quoted, EXIT_UNREADABLE, message="decimal comma"),
    Corruption("CSV: decimal comma unquoted", decimal_comma_unquoted, EXIT_UNREADABLE, message="decimal comma"),
    Corruption("CSV: Windows Cyrillic encoding", windows_cyrillic_encoding, EXIT_UNREADABLE, message="UTF-8"),
    Corruption("CSV: tab-separated", tab_separated, EXIT_UNREADABLE, message="tabs"),
    Corruption("CSV: path with spaces and Cyrillic", csv_in_a_folder_with_spaces_and_cyrillic, 0),
    # structure
    Corruption("duplicate patient id", duplicate_id, EXIT_FAILED, rule="unique:patient_id"),
    Corruption("id not pseudonymous pattern", bad_id_pattern, EXIT_FAILED, rule="pattern:patient_id"),
    Corruption("sex missing", missing_sex, EXIT_FAILED, rule="required:sex"),
    # ranges and sets
    Corruption("age 18", age_18, EXIT_FAILED, rule="range:age_years"),
    Corruption("negative age", negative_age, EXIT_FAILED, rule="range:age_years"),
    Corruption("blasts over 100%", blasts_over_100, EXIT_FAILED, rule="range:bm_blasts_pct"),
    Corruption("four doses", four_doses, EXIT_FAILED, rule="range:ino_doses"),
    Corruption("sex coded M", unknown_sex_code, EXIT_FAILED, rule="allowed:sex"),
    Corruption("unknown disease status", unknown_disease_status, EXIT_FAILED, rule="allowed:disease_status"),
    # dates
    Corruption("InO before the study window", ino_before_window, EXIT_FAILED, rule="window:ino_start_date"),
    Corruption("InO after the study window", ino_after_window, EXIT_FAILED, rule="window:ino_start_date"),
    Corruption("last contact after cut-off", contact_after_cutoff, EXIT_FAILED, rule="cutoff:last_contact_date"),
    Corruption("HSCT before InO", hsct_before_ino, EXIT_FAILED, rule="order:ino_start_date<=hsct_date"),
    Corruption("death before HSCT", death_before_hsct, EXIT_FAILED, rule="order:hsct_date<=last_contact_date"),
    Corruption("death date not last contact", death_not_last_contact, EXIT_FAILED, rule="death_date_is_last_contact"),
    Corruption("alive with a death date", alive_with_death_date, EXIT_FAILED, rule="absent_unless:death_date"),
    Corruption("dead without a death date", dead_without_death_date, EXIT_FAILED, rule="required_when:death_date"),
    Corruption("SOS date before HSCT", sos_date_before_hsct, EXIT_FAILED, rule="order:hsct_date<=sos_date"),
    Corruption("relapse before InO", relapse_before_ino, EXIT_FAILED, rule="order:ino_start_date<=relapse_date"),
    # consistency
    Corruption("SOS without HSCT", sos_without_hsct, EXIT_FAILED, rule="absent_unless:sos"),
    Corruption("HSCT without date", hsct_without_date, EXIT_FAILED, rule="required_when:hsct_date"),
    Corruption("therapy type without further therapy", further_type_without_therapy, EXIT_FAILED,
               rule="absent_unless:further_therapy_type"),
    Corruption("further therapy without type", further_therapy_without_type, EXIT_FAILED,
               rule="required_when:further_therapy_type"),
    Corruption("single dose without reason", single_dose_without_reason, EXIT_FAILED, rule="required_when:ino_stop_reason"),
    Corruption("stop reason with full cycle", stop_reason_with_full_cycle, EXIT_FAILED, rule="absent_unless:ino_stop_reason"),
    Corruption("not evaluable with disease", not_evaluable_with_disease, EXIT_FAILED, rule="response:evaluable_with_disease"),
    Corruption("evaluated without disease", evaluated_without_disease, EXIT_FAILED,
               rule="response:not_evaluable_without_disease"),
    # privacy
    Corruption("a name column", name_column, EXIT_FAILED, rule="privacy:no_direct_identifiers"),
    Corruption("a birth-date column", birth_date_column, EXIT_FAILED, rule="privacy:no_direct_identifiers"),
    Corruption("an e-mail in an extra column", email_in_unknown_column, EXIT_FAILED, rule="privacy:no_direct_identifiers"),
    Corruption("a comments column", comments_column, EXIT_FAILED, rule="privacy:no_free_text"),
    Corruption("free text in an extra column", free_text_in_unknown_column, EXIT_FAILED, rule="privacy:no_free_text"),
    Corruption("a full-name column in Russian", russian_name_column, EXIT_FAILED, rule="privacy:no_direct_identifiers"),
    Corruption("a person's name in an extra column", names_in_an_innocent_column, EXIT_FAILED,
               rule="privacy:no_direct_identifiers"),
    Corruption("a DoB column", dob_column, EXIT_FAILED, rule="privacy:no_direct_identifiers"),
    Corruption("a ДР column", russian_dob_abbreviation, EXIT_FAILED, rule="privacy:no_direct_identifiers"),
    Corruption("a name in capitals", name_in_capitals, EXIT_FAILED, rule="privacy:no_direct_identifiers"),
    Corruption("a name with initials first", initials_first, EXIT_FAILED, rule="privacy:no_direct_identifiers"),
    Corruption("an obfuscated e-mail", obfuscated_email, EXIT_FAILED, rule="privacy:no_direct_identifiers"),
    Corruption("a labelled telephone number", labelled_phone, EXIT_FAILED, rule="privacy:no_direct_identifiers"),
    Corruption("a SNILS number", snils_number, EXIT_FAILED, rule="privacy:no_direct_identifiers"),
    Corruption("a passport number", passport_number, EXIT_FAILED, rule="privacy:no_direct_identifiers"),
    Corruption("birth dates as Excel date cells", birth_dates_as_date_cells, EXIT_FAILED,
               rule="privacy:no_direct_identifiers"),
    Corruption("birth dates as text", birth_dates_as_text, EXIT_FAILED, rule="privacy:no_direct_identifiers"),
    Corruption("a surname in a patient id", surname_in_patient_id, EXIT_FAILED, rule="privacy:no_direct_identifiers"),
    Corruption("an English surname in a patient id", english_surname_in_patient_id, EXIT_FAILED,
               rule="privacy:no_direct_identifiers"),
    # warnings: reported, the report still renders
    Corruption("an extra date column", extra_date_column, 0, rule="columns:declared"),
    Corruption("overt blasts without flow disease", blasts_without_flow_disease, 0,
               rule="response:blasts_agree_with_flow"),
    Corruption("short follow-up, alive", short_follow_up, 0, rule="follow_up:landmark"),
    Corruption("harmless extra column", harmless_extra_column, 0, rule="columns:declared"),
    Corruption("drug and place names in an extra column", drugs_and_places_in_an_extra_column, 0,
               rule="columns:declared"),
    Corruption("one patient entered twice", patient_entered_twice, 0, rule="rows:one_patient_once"),
    Corruption("one patient entered twice, padded", patient_entered_twice_with_padding, 0, rule="rows:one_patient_once"),
    Corruption("one patient entered twice, rows apart", patient_entered_twice_apart, 0, rule="rows:one_patient_once"),
)
