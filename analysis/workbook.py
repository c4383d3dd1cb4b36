"""Reading the cohort from an Excel workbook as the person who filled it sees it.

A cell's stored value can mean something else than what Excel shows: 36.7%
is stored as 0.367, a date as a serial number, a hidden row still holds a
patient, a formula written by a program may have no value at all. This module
reads each cell as Excel displays it when that is unambiguous (a percentage
in a column whose unit is %), and otherwise refuses the workbook with the
sheet, the cell and the rule, so that no number is read with another meaning.

Refused: hidden or filtered rows and hidden columns, merged cells, formulas
without a calculated value, error values (#N/A), column names below a title
row, the data on another sheet than the one configured, a hidden first sheet,
percentages in a column not measured in %, numbers or date-times in a date
column, dates in a numeric column, files that are not .xlsx workbooks.
"""

from __future__ import annotations

import datetime as dt
import re
import zipfile
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

if TYPE_CHECKING:
    from analysis.cohort import DataDictionary, LoadProblem

# How far down a sheet the column names are looked for when row 1 does not hold them.
_HEADER_SEARCH_ROWS = 30
# How many rows, columns or cells one message lists before it gives a count.
_MAX_LISTED = 10


@dataclass(frozen=True)
class SheetTable:
    """A sheet's table: cell values by column (row i of the table is sheet row i + 2), and where each column is."""

    table: pd.DataFrame
    sheet: str
    letters: dict[str, str]

    def cell(self, index: int, column: str) -> str:
        """The address a person types in Excel's name box: ``cohort!D7``, ``'My sheet'!D7``."""
        return cell_address(self.sheet, self.letters[column], index + 2)


def sheet_reference(sheet: str) -> str:
    """A sheet's name as Excel writes it before ``!``: quoted when it holds spaces or signs."""
    return sheet if re.fullmatch(r"\w+", sheet) else "'" + sheet.replace("'", "''") + "'"


def cell_address(sheet: str, letter: str, row: int) -> str:
    """The address a person types in Excel's name box.

    >>> cell_address("Sheet1", "D", 7), cell_address("Лист 1", "A", 2)
    ('Sheet1!D7', "'Лист 1'!A2")
    """
    return f"{sheet_reference(sheet)}!{letter}{row}"


def _listed(items: list[str]) -> str:
    more = f" ... and {len(items) - _MAX_LISTED} more" if len(items) > _MAX_LISTED else ""
    return ", ".join(items[:_MAX_LISTED]) + more


def is_percent_format(number_format: str) -> bool:
    """True when Excel shows a number in this format multiplied by 100 (a % outside quotes and escapes).

    >>> is_percent_format("0.0%"), is_percent_format('0.0"%"'), is_percent_format("0.0\\\\%"), is_percent_format("General")
    (True, False, False, False)
    """
    shown, quoted, escaped = [], False, False
    for char in number_format:
        if escaped:
            escaped = False
        elif char == "\\":
            escaped = True
        elif char == '"':
            quoted = not quoted
        elif not quoted:
            shown.append(char)
    return "%" in "".join(shown)


def _not_a_workbook(path: Path, raw: bytes) -> str:
    """Why a file named .xlsx cannot be opened, and what to do."""
    if raw.startswith(b"\xd0\xcf\x11\xe0"):
        return "not a readable .xlsx workbook: it is an old Excel 97-2003 (.xls) file; open it in Excel and save it as .xlsx"
    if raw.startswith(b"PK"):
        return "not a readable .xlsx workbook: a zip file without a workbook inside (an .ods or a damaged file?); save it from Excel as .xlsx"
    try:
        raw[:4096].decode("utf-8")
    except UnicodeDecodeError:
        return "not a readable .xlsx workbook; save it from Excel as .xlsx, or as CSV UTF-8"
    return "not a readable .xlsx workbook: it is a text file; if it is CSV, give it the .csv extension"


def _names(row: tuple[Any, ...]) -> list[str]:
    return [str(value).strip() if value is not None else "" for value in row]


def _header_row(worksheet, known: set[str]) -> int | None:
    """The first row (1-based) holding a dictionary column name, within the first rows."""
    for number, row in enumerate(worksheet.iter_rows(max_row=_HEADER_SEARCH_ROWS, values_only=True), start=1):
        if known & set(_names(row)):
            return number
    return None


def _choose_sheet(workbook, sheet: str | None, known: set[str], fail) -> Any:
    if sheet is not None:
        if sheet not in workbook.sheetnames:
            fail(f"no sheet named {sheet!r}; the sheets are {workbook.sheetnames}")
        worksheet = workbook[sheet]
    else:
        worksheet = workbook.worksheets[0]
        if worksheet.sheet_state != "visible":
            fail(
                f"the first sheet, {worksheet.title!r}, is hidden, so Excel opens on another one; "
                "set study.sheet to the sheet that holds the cohort, or unhide it"
            )
    if _header_row(worksheet, known) is None:
        others = [ws.title for ws in workbook.worksheets if ws is not worksheet and _header_row(ws, known) is not None]
        if others:
            where = f"sheet {worksheet.title!r}" + (" (the first)" if sheet is None else " (study.sheet)")
            fail(
                f"{where} has none of the data dictionary's columns; they are on sheet {others[0]!r}: "
                f"set study.sheet: {others[0]} in study.yml"
            )
    return worksheet


def _hidden_rows(worksheet, first: int, last: int) -> list[int]:
    return sorted(
        number for number, dims in worksheet.row_dimensions.items()
        if first <= number <= last and (dims.hidden or (dims.customHeight and dims.ht == 0))
    )


def _hidden_columns(worksheet, width: int) -> list[int]:
    hidden = set()
    for dims in worksheet.column_dimensions.values():
        if dims.hidden or (dims.customWidth and dims.width == 0):
            hidden.update(range(max(dims.min or 1, 1), min(dims.max or width, width) + 1))
    return sorted(hidden)


def _formulas_without_value(path: Path, title: str, first: int, values) -> list[str]:
    """Cells that hold a formula whose result was never stored (files written by programs, not saved by Excel)."""
    import openpyxl

    workbook = openpyxl.load_workbook(path, read_only=True, data_only=False)
    try:
        cells = []
        for row in workbook[title].iter_rows(min_row=first):
            for cell in row:
                if getattr(cell, "data_type", None) == "f" and values(cell.row, cell.column) is None:
                    cells.append(cell.coordinate)
        return cells
    finally:
        workbook.close()


def read_workbook(path: Path, sheet: str | None, dictionary: DataDictionary) -> tuple[SheetTable, list[LoadProblem]]:
    """The cohort sheet as a table of cell values, and the cells that cannot be read with one meaning.

    Percentages in a column whose unit is % are read as Excel shows them
    (0.367 formatted 0.0% is 36.7). Dates stay datetimes, text stays text:
    :func:`analysis.cohort.load_cohort` parses them by the dictionary.

    Raises
    ------
    CohortLoadError
        For what concerns the whole sheet (not a workbook, sheet, title row,
        hidden rows or columns, merged cells, formulas without values).
    """
    import openpyxl
    from openpyxl.utils import get_column_letter
    from openpyxl.utils.exceptions import InvalidFileException

    from analysis.cohort import CohortLoadError, LoadProblem

    def fail(message: str):
        raise CohortLoadError(path, message)

    raw = path.read_bytes()
    if not raw[:4]:
        fail("the file is empty")
    try:
        workbook = openpyxl.load_workbook(path, data_only=True)
    except (zipfile.BadZipFile, InvalidFileException, KeyError, OSError, ValueError, TypeError):
        fail(_not_a_workbook(path, raw))
    known = set(dictionary.names)
    worksheet = _choose_sheet(workbook, sheet, known, fail)
    title = worksheet.title

    header = _header_row(worksheet, known) or 1
    if header > 1:
        fail(
            f"the column names are on row {header} of sheet {title!r} ({cell_address(title, 'A', header)}), below "
            f"{header - 1} row(s) of titles or notes; delete the rows above the column names"
        )
    rows = list(worksheet.iter_rows(min_row=1))
    names = _names(tuple(cell.value for cell in rows[0])) if rows else []
    width = len(names)
    filled = [number for number, row in enumerate(rows, start=1) if any(cell.value is not None for cell in row)]
    last = filled[-1] if filled else 1

    hidden = _hidden_rows(worksheet, 2, last)
    if hidden:
        filtered = " by a filter" if worksheet.auto_filter.ref else ""
        fail(
            f"rows {_listed([str(n) for n in hidden])} of sheet {title!r} are hidden{filtered}; every row is read, "
            "seen or not, so unhide them (clear the filter) and delete the rows that are not in the cohort"
        )
    hidden = [c for c in _hidden_columns(worksheet, width) if names[c - 1] or any(
        row[c - 1].value is not None for row in rows[1:last] if len(row) >= c)]
    if hidden:
        listed = [f"{get_column_letter(c)} ({names[c - 1] or 'no name'})" for c in hidden]
        fail(
            f"column(s) {_listed(listed)} of sheet {title!r} are hidden; every column is read, seen or not, "
            "so unhide them and delete the ones that are not in the cohort"
        )
    merged = [str(r) for r in worksheet.merged_cells.ranges]
    if merged:
        fail(
            f"cells {_listed([f'{sheet_reference(title)}!{r}' for r in merged])} are merged; "
            "a merged range holds its value in its first cell only, the others read as empty: unmerge them and "
            "fill every cell"
        )
    no_value = _formulas_without_value(path, title, 2, lambda r, c: worksheet.cell(r, c).value)
    if no_value:
        fail(
            f"cell(s) {_listed([f'{sheet_reference(title)}!{c}' for c in no_value])} "
            "hold formulas whose value was never calculated (the file was written by a program); open the file in "
            "Excel and save it, or replace the formulas by their values"
        )

    columns = [name or f"Unnamed: {get_column_letter(number)}" for number, name in enumerate(names, start=1)]
    specs = {spec.name: spec for spec in dictionary.columns}
    problems: list[LoadProblem] = []
    records = []
    id_position = names.index("patient_id") if "patient_id" in names else None
    for row in rows[1:last]:
        cells = list(row)[:width] + [None] * (width - len(row))
        patient = cells[id_position].value if id_position is not None and cells[id_position] is not None else None
        record = []
        for name, cell in zip(columns, cells):
            if cell is None or cell.value is None:
                # Missing as pandas writes it for CSV too, so that both read alike.
                record.append(float("nan"))
                continue
            value, why = _as_seen(cell, specs.get(name))
            if why:
                problems.append(LoadProblem(cell.row, None if patient is None else str(patient).strip(), name,
                                            _display(cell), why, cell=cell_address(title, cell.column_letter, cell.row)))
            record.append(value)
        records.append(record)
    workbook.close()
    table = pd.DataFrame.from_records(records, columns=columns) if records else pd.DataFrame(columns=columns)
    return SheetTable(table.astype(object), title, {c: get_column_letter(i) for i, c in enumerate(columns, start=1)}), problems


def _display(cell) -> str:
    """A cell's value roughly as Excel shows it, for messages."""
    value = cell.value
    if isinstance(value, (int, float)) and not isinstance(value, bool) and is_percent_format(cell.number_format):
        return f"{float(Decimal(repr(value)) * 100):g}%"
    if isinstance(value, dt.datetime):
        return value.isoformat(sep=" ")
    return str(value)


def _as_seen(cell, spec) -> tuple[Any, str | None]:
    """The cell's value as its column reads it, or why it cannot be read with one meaning."""
    value = cell.value
    if cell.data_type == "e":
        return value, "is an Excel error value (a formula failed); fix the formula or type the value"
    if spec is None:
        # Columns outside the dictionary are not analysed; dates there are kept as the text Excel shows.
        if isinstance(value, dt.datetime) and value == dt.datetime.combine(value.date(), dt.time()):
            return value.date().isoformat(), None
        return value, None
    number = isinstance(value, (int, float)) and not isinstance(value, bool)
    if number and is_percent_format(cell.number_format):
        if spec.unit == "%":
            # Decimal keeps what Excel shows: 0.367 * 100 as a float is 36.699999999999996.
            return float(Decimal(repr(value)) * 100), None
        return value, (
            f"is formatted as a percentage (Excel shows {_display(cell)}, the cell holds {value!r}) but "
            f"'{spec.name}' is not measured in %; format the cell as a number"
        )
    if spec.type == "date":
        if isinstance(value, dt.datetime):
            if value.time() != dt.time():
                return value, "is a date and time; a date column holds dates only: remove the time of day"
            return value, None
        if isinstance(value, (dt.time, dt.timedelta)):
            return value, "is a time or a duration, not a date; type the date as YYYY-MM-DD or format the cell as a date"
        if number:
            return value, (
                "is a number (Excel shows it as a number, not a date: a date serial or a typo?); "
                "format the cell as a date and check that it shows the intended day"
            )
        return value, None
    if spec.type in ("float", "integer") and isinstance(value, (dt.datetime, dt.date, dt.time, dt.timedelta)):
        return value, "is a date or time cell in a numeric column; format the cell as a number and check its value"
    return value, None
