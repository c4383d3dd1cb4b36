"""Reading the data dictionary and the cohort table (the study settings: analysis.config).

The data dictionary (``data/dictionary.yml``) is the single description of the
cohort's columns: :func:`load_cohort` takes every column's type from it, and
``data_checks/`` derives its per-column rules from it. Loading only parses; the
study's rules (ranges, allowed codes, date order, ...) are checked afterwards by
the Great Expectations suite in ``data_checks/``, so this module must not
import great_expectations (the report imports it too).

Conventions of the cohort file, as the loader reads it:

* CSV: UTF-8 (a byte-order mark is allowed), comma-separated, first line the
  column names. Excel: ``.xlsx``, the first sheet or a named one, read as
  Excel shows it or refused cell by cell (see :mod:`analysis.workbook`).
  SPSS ``.sav``/``.zsav`` and Stata ``.dta``: value labels, missing-value
  codes and date formats read against the dictionary (see
  :mod:`analysis.foreign`). A REDCap raw export, given with its REDCap data
  dictionary: choices, yes/no and checkboxes read as their labels say,
  identifier fields refused (see :mod:`analysis.redcap`).
* One row per patient: an empty row between patients, the column names
  repeated, a totals row or a row without a patient id is refused with its
  line; empty rows below the data are dropped.
* A missing value is an empty cell. Words such as ``NA``, ``N/A`` or ``-``
  are refused with their line, never read as missing: they may mean
  "not done" or "negative".
* Booleans: ``yes``/``no`` as the dictionary says; ``true``/``false`` (any
  case) and Excel's own TRUE/FALSE cells are accepted too, since they cannot be
  misread. ``1``/``0`` are refused: a numeric code is ambiguous.
* Dates: ISO 8601 ``YYYY-MM-DD`` in text; Excel date cells as they are.
  Other formats (``01.03.2019``) are refused, since day and month can swap.
* Surrounding spaces are removed from every cell and column name.
* Columns the dictionary does not know are kept, as text, and reported with an
  :class:`UnknownColumnWarning`; the data checks then decide whether they are
  allowed (a name or free-text column is not).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import os
import re
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from analysis.foreign import FOREIGN_SUFFIXES, read_foreign
from analysis.identifiers import looks_identifying
from analysis.redcap import read_redcap_dictionary
from analysis.schema import COLUMN_TYPES, DICTIONARY_SCHEMA, ConfigFile, key_text, read_config, validate
from analysis.workbook import read_workbook

#: What the engine calls the patient id column, whatever the file calls it.
PATIENT_ID = "patient_id"

__all__ = [
    "COLUMN_TYPES",
    "CohortLoadError",
    "ColumnSpec",
    "DataDictionary",
    "DictionaryError",
    "LoadProblem",
    "UnknownColumnWarning",
    "load_cohort",
    "load_dictionary",
]


_TRUE_WORDS = frozenset({"yes", "true"})
_FALSE_WORDS = frozenset({"no", "false"})
_EXCEL_SUFFIXES = (".xlsx", ".xlsm")
_OTHER_DELIMITERS = {";": "semicolon", "\t": "tab", "|": "vertical bar"}
# How many bad values one error message lists before it gives a count.
_MAX_LISTED = 10


# -- errors -----------------------------------------------------------------


class DictionaryError(ValueError):
    """The data dictionary file is missing or malformed."""


class UnknownColumnWarning(UserWarning):
    """The cohort has a column that the data dictionary does not describe."""


@dataclass(frozen=True)
class LoadProblem:
    """One cell that cannot be read as its column's type, or only with another meaning.

    ``row`` is the row number as a spreadsheet shows it (the header is row 1),
    which is the line of a CSV file; ``cell`` is the Excel address
    (``cohort!D7``) when the file is a workbook; ``where`` names the row when
    the file has neither lines nor cells (``case 7`` of an SPSS file). Values
    and ids that look like personal identifiers are withheld from the message.
    """

    row: int
    patient_id: str | None
    column: str
    value: str
    problem: str
    cell: str | None = None
    where: str | None = None

    def __str__(self) -> str:
        where = self.where or (f"cell {self.cell}" if self.cell else f"line {self.row}")
        patient = f"patient {_shown(self.patient_id)}" if self.patient_id else "patient id missing"
        value = _shown(repr(self.value))
        return f"{where}, {patient}, column '{self.column}': {value} {self.problem}"


def _shown(text: str) -> str:
    return "(value withheld: looks like a personal identifier)" if looks_identifying(text) else text


class CohortLoadError(Exception):
    """The cohort file cannot be read as the data dictionary describes it.

    The message names the file and what is wrong; for values that do not parse,
    ``problems`` lists each one with its row, patient and column.
    """

    def __init__(self, path: str | Path, message: str, problems: tuple[LoadProblem, ...] = ()):
        self.path = Path(path)
        self.problems = problems
        super().__init__(f"{path}: {message}")


# -- data dictionary --------------------------------------------------------


@dataclass(frozen=True)
class ColumnSpec:
    """One column of the cohort table as the data dictionary describes it."""

    name: str
    label: str
    type: str
    unit: str | None = None
    required: bool = False
    values: Mapping[str, str] = field(default_factory=dict)
    min: float | None = None
    max: float | None = None
    max_exclusive: bool = False
    pattern: str | None = None
    unique: bool = False
    required_when: str | None = None


@dataclass(frozen=True)
class DataDictionary:
    """The columns of the cohort table, in file order."""

    columns: tuple[ColumnSpec, ...]
    path: Path | None = None
    # The file as read, with the line of every key, for messages about a column.
    source: ConfigFile | None = field(default=None, repr=False, compare=False)

    @property
    def names(self) -> tuple[str, ...]:
        """Column names, in dictionary order."""
        return tuple(c.name for c in self.columns)

    def column(self, name: str) -> ColumnSpec:
        """The column called ``name``; KeyError naming the dictionary if there is none."""
        for spec in self.columns:
            if spec.name == name:
                return spec
        raise KeyError(f"column {name!r} is not in the data dictionary {self.path or ''}".rstrip())

    def where(self, name: str, key: str | None = None) -> str:
        """``data/dictionary.yml, line 40`` for a message about column ``name`` (its ``key``, when given)."""
        if self.source is None or name not in self.names:
            return str(self.path or "data dictionary")
        number = self.names.index(name)
        return self.source.where(f"columns[{number}]" + (f".{key}" if key else ""))

    def of_type(self, *types: str) -> tuple[ColumnSpec, ...]:
        """The columns whose type is one of ``types``."""
        return tuple(c for c in self.columns if c.type in types)

    @property
    def id_column(self) -> str | None:
        """The patient id: ``patient_id``, or else a first column declared ``unique`` (a REDCap
        ``record_id``, an SPSS or Stata file's id kept under its own name); None without one."""
        if PATIENT_ID in self.names:
            return PATIENT_ID
        return self.columns[0].name if self.columns and self.columns[0].unique else None


def with_patient_id(dictionary: DataDictionary) -> DataDictionary:
    """The dictionary as :func:`load_cohort` returns the cohort: its id column named ``patient_id``.

    Examples
    --------
    >>> d = DataDictionary((ColumnSpec(name="record_id", label="Record ID", type="string", unique=True),))
    >>> [(c.name, c.label) for c in with_patient_id(d).columns]
    [('patient_id', 'Record ID')]
    """
    source = dictionary.id_column
    if source in (None, PATIENT_ID):
        return dictionary
    columns = tuple(replace(c, name=PATIENT_ID) if c.name == source else c for c in dictionary.columns)
    return replace(dictionary, columns=columns)


def load_dictionary(path: str | Path = "data/dictionary.yml") -> DataDictionary:
    """Read the data dictionary.

    Parameters
    ----------
    path : str or Path
        The YAML file with a ``columns:`` list (see the comments at its top).

    Returns
    -------
    DataDictionary

    Raises
    ------
    DictionaryError
        Missing file, a key or value the schema (analysis.schema) does not
        allow, a category without values, or a column described twice; the
        message names the file, the line and the column.

    Examples
    --------
    >>> dictionary = load_dictionary("data/dictionary.yml")
    >>> dictionary.names[0]
    'patient_id'
    >>> sorted({c.type for c in dictionary.columns})
    ['boolean', 'category', 'date', 'float', 'integer', 'string']
    """
    path = Path(path)
    source = read_config(path, DictionaryError, "data dictionary")
    validate(source, DICTIONARY_SCHEMA, DictionaryError, describe=lambda key: _column_key(source, key))
    columns = []
    for entry in source.data["columns"]:
        values = {str(code): str(label) for code, label in (entry.get("values") or {}).items()}
        columns.append(
            ColumnSpec(
                name=str(entry["name"]),
                label=str(entry.get("label", entry["name"])),
                type=entry["type"],
                unit=entry.get("unit"),
                required=bool(entry.get("required", False)),
                values=values,
                min=entry.get("min"),
                max=entry.get("max"),
                max_exclusive=bool(entry.get("max_exclusive", False)),
                pattern=entry.get("pattern"),
                unique=bool(entry.get("unique", False)),
                required_when=entry.get("required_when"),
            )
        )
    names = [c.name for c in columns]
    for number, name in enumerate(names):
        if name in names[:number]:
            raise DictionaryError(f"{source.where(f'columns[{number}].name')}: column {name!r} is described twice "
                                  f"(first as columns[{names.index(name)}])")
    return DataDictionary(columns=tuple(columns), path=path, source=source)


def _column_key(source, path: tuple) -> str:
    """A place in the dictionary as its author finds it: ``column 'age' max`` rather than ``columns[3].max``."""
    if len(path) >= 2 and path[0] == "columns" and isinstance(path[1], int):
        entry = source.plain["columns"][path[1]]
        name = entry.get("name") if isinstance(entry, dict) else None
        head = f"column {name!r}" if isinstance(name, str) else f"columns[{path[1]}]"
        return " ".join([head, key_text(path[2:])]) if path[2:] else head
    return key_text(path)


# -- the cohort table ---------------------------------------------------------


def _read_text(path: Path) -> str:
    raw = path.read_bytes()
    if not raw.strip():
        raise CohortLoadError(path, "the file is empty")
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        # Excel's "Unicode Text" and some exports.
        raise CohortLoadError(path, "the file is UTF-16; save it as CSV UTF-8")
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = raw[: error.start].count(b"\n") + 1
        raise CohortLoadError(
            path,
            f"not readable as UTF-8 (byte 0x{raw[error.start]:02x} on line {line}); "
            "save the file as CSV UTF-8",
        ) from None


def _check_delimiter(path: Path, header: str) -> None:
    for delimiter, name in _OTHER_DELIMITERS.items():
        if header.count(delimiter) > header.count(","):
            raise CohortLoadError(
                path,
                f"the columns are separated by {name}s ('{delimiter}'), expected commas; "
                "save the file as comma-separated CSV",
            )


# Text around a comma or a line end that shows a cell has surrounding spaces.
_PADDING = (" ,", ", ", "\t,", ",\t", " \n", "\t\n", " \r", "\n ", "\n\t")


def _read_csv(path: Path) -> tuple[pd.DataFrame, bool]:
    """The table as text (empty cells missing), and whether any cell may need stripping."""
    text = _read_text(path)
    if "\r" in text and "\n" not in text:
        # Old Mac line ends (Excel's "CSV (Macintosh)").
        text = text.replace("\r", "\n")
    end = text.find("\n")
    header = (text if end < 0 else text[:end]).rstrip("\r")
    _check_delimiter(path, header)
    names = [name.strip() for name in next(csv.reader([header]))]
    _check_unique_names(path, names)
    try:
        # Blank lines are kept (as empty rows) so that one between patients is reported with its line.
        table = pd.read_csv(
            io.StringIO(text), dtype=str, keep_default_na=False, na_values=[""], header=0, names=names,
            skip_blank_lines=False,
        )
        if not isinstance(table.index, pd.RangeIndex):
            # Rows one cell longer than the header: pandas took the first cell as an index.
            table = _without_trailing_cells(path, text, names)
    except pd.errors.ParserError as error:
        where = re.search(r"Expected \d+ fields in line (\d+), saw (\d+)", str(error))
        detail = f"line {where[1]} has {where[2]} cells" if where else str(error)
        raise CohortLoadError(
            path,
            f"rows do not have the header's {len(names)} columns: {detail} "
            "(a decimal comma, or a comma inside a value that is not in quotes?)",
        ) from None
    # Stripping a million-row table costs seconds; a machine-written file needs none.
    padded = text[:1].isspace() or (
        # A file without a space or tab has no padding; the pattern scan is for the others.
        (" " in text or "\t" in text) and any(pad in text for pad in _PADDING)
    )
    return table, padded


def _without_trailing_cells(path: Path, text: str, names: list[str]) -> pd.DataFrame:
    """The table when rows have one cell more than the header: fine if those cells are all empty.

    Spreadsheet exports often end every row with a separator.
    """
    extra = "\0extra"
    table = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False, na_values=[""], header=0,
                        names=[*names, extra], index_col=False, skip_blank_lines=False)
    filled = table[extra].notna().to_numpy()
    if filled.any():
        rows = [str(i + 2) for i in np.flatnonzero(filled)[:10]]
        raise CohortLoadError(
            path, f"line(s) {', '.join(rows)} have a value beyond the header's {len(names)} columns "
            "(a decimal comma, or a comma inside a value that is not in quotes?)",
        )
    return table.drop(columns=extra)


def _check_unique_names(path: Path, names: list[str]) -> None:
    duplicates = sorted({n for n in names if names.count(n) > 1 and n})
    if duplicates:
        raise CohortLoadError(path, f"column(s) named more than once: {duplicates}")


def _strip_cells(values: pd.Series, text: bool) -> pd.Series:
    """Text cells stripped of spaces; empty text becomes missing."""
    if text:
        stripped = values.str.strip()
    else:
        is_text = values.map(type) == str
        stripped = values.copy()
        stripped[is_text] = values[is_text].str.strip()
    return stripped.mask(stripped.eq(""))


def _numbers(values: pd.Series, text: bool) -> pd.Series:
    """Values as float; NaN where a present value is not a finite number."""
    if not text:
        # An Excel TRUE cell would otherwise count as the number 1.
        values = values.where(values.map(type) != bool)
    numbers = pd.to_numeric(values, errors="coerce")
    return numbers.where(np.isfinite(numbers))


_BOOLEAN_WORDS = {word: True for word in _TRUE_WORDS} | {word: False for word in _FALSE_WORDS}
# The spellings files use, looked up as written: lower-casing a million cells costs more than the lookup.
_BOOLEAN_SPELLINGS = {
    spelling: value for word, value in _BOOLEAN_WORDS.items() for spelling in (word, word.title(), word.upper())
}


def _booleans(values: pd.Series, text: bool) -> pd.Series:
    if text:
        parsed = values.map(_BOOLEAN_SPELLINGS)
        other = parsed.isna() & values.notna()
        if other.any():
            parsed[other] = values[other].str.lower().map(_BOOLEAN_WORDS)
        return parsed.astype("boolean")
    words = values.map(lambda v: v.lower() if isinstance(v, str) else v)
    parsed = words.map(lambda v: v if isinstance(v, bool) else _BOOLEAN_WORDS.get(v))
    return parsed.astype("boolean")


def _dates(values: pd.Series, text: bool) -> pd.Series:
    if text:
        return pd.to_datetime(values, format="%Y-%m-%d", errors="coerce").astype("datetime64[ns]")
    is_text = values.map(type) == str
    parsed = pd.to_datetime(values.where(is_text), format="%Y-%m-%d", errors="coerce").astype("datetime64[ns]")
    # Excel date cells arrive as datetimes; anything else (a number) is refused.
    is_date = values.map(lambda v: isinstance(v, dt.date))
    parsed[is_date] = pd.to_datetime(values[is_date]).dt.normalize()
    return parsed


def _parse_column(spec: ColumnSpec, values: pd.Series, text: bool) -> tuple[pd.Series, pd.Series, str]:
    """The column converted to its dictionary type, the cells that failed, and why.

    ``text``: every cell is text (a CSV file); Excel cells also hold numbers,
    dates and booleans.
    """
    if spec.type == "float":
        parsed = _numbers(values, text)
        return parsed.astype("float64"), parsed.isna(), "is not a number (use a decimal point)"
    if spec.type == "integer":
        parsed = _numbers(values, text)
        whole = parsed.where(parsed == parsed.round())
        return whole.astype("Int64"), whole.isna(), "is not a whole number"
    if spec.type == "boolean":
        parsed = _booleans(values, text)
        return parsed, parsed.isna(), "is not yes or no"
    if spec.type == "date":
        parsed = _dates(values, text)
        return parsed, parsed.isna(), "is not a date YYYY-MM-DD"
    if not text:
        values = values.map(lambda v: v if isinstance(v, str) or pd.isna(v) else _cell_text(v))
    return values.astype(object), pd.Series(False, index=values.index), ""


def _cell_text(value: Any) -> str:
    """An Excel cell as the text a person would type (12.0 -> '12')."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


# Words that stand for "no value": a missing value is an empty cell, so these are refused, never guessed.
_MISSING_MARKERS = frozenset(
    spelling
    for word in ("na", "n/a", "n.a.", "nan", "null", "none", "missing", "#n/a", "н/д", "нд", "нет данных", "-", "--",
                 "—", "–", "?", ".")
    for spelling in (word, word.upper(), word.title())
)
# Words that start a row of totals or summaries rather than a patient.
_TOTAL_WORDS = frozenset(
    spelling
    for word in ("total", "totals", "sum", "mean", "average", "median", "n", "итого", "всего", "сумма", "среднее")
    for spelling in (word, word.upper(), word.title(), word + ":", word.upper() + ":", word.title() + ":")
)
_NUMBER_WITH_COMMA = re.compile(r"^[+-]?\d+,\d+$")
# A date in another order or with other separators; an ISO-shaped date that does not exist (02-30) is not one.
_OTHER_DATE = re.compile(r"^(?!\d{4}-\d{2}-\d{2}$)\d{1,4}[./\-]\d{1,2}[./\-]\d{1,4}$")
_DATE_AND_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}[ T]\d{1,2}:\d{2}")


def _missing_markers(values: pd.Series, spec: ColumnSpec) -> pd.Series:
    """Text or category cells holding a word for "missing" (NA, N/A, -) that is not one of the column's codes.

    Typed columns need no search: such a word fails to parse, and :func:`_why` names it.
    """
    if spec.type not in ("string", "category"):
        return pd.Series(False, index=values.index)
    return values.isin(_MISSING_MARKERS - set(spec.values))


def _why(spec: ColumnSpec, value: Any, default: str) -> str:
    """Why a cell cannot be read, in the words that say what to do."""
    text = str(value).strip()
    if text in _MISSING_MARKERS and text not in spec.values:
        return "stands for a missing value; leave the cell empty (or write the value)"
    if spec.type in ("float", "integer") and _NUMBER_WITH_COMMA.match(text):
        return f"has a decimal comma; write it with a point ({text.replace(',', '.')})"
    if spec.type in ("float", "integer") and text.endswith("%"):
        return ("has a % sign; write the number alone, in %" if spec.unit == "%"
                else f"is a percentage, but '{spec.name}' is not measured in %")
    if spec.type == "date" and isinstance(value, str):
        if _DATE_AND_TIME.match(text):
            return "has a time of day; a date column holds the date alone, YYYY-MM-DD"
        if _OTHER_DATE.match(text):
            return "is a date in another format; write it as YYYY-MM-DD (day and month can swap)"
    return default


def _row_names(sheet_table, cases=None) -> Any:
    """How a message names table row ``i``: a CSV line, a row of the named sheet, or a case of an SPSS/Stata file."""
    if cases is not None:
        return cases.row_name
    if sheet_table is None:
        return lambda index: f"line {index + 2}"
    return lambda index: f"row {index + 2} of sheet {sheet_table.sheet!r}"


def _check_rows(path: Path, table: pd.DataFrame, dictionary: DataDictionary, sheet_table, cases=None) -> pd.DataFrame:
    """The table without the empty rows below the data; refused if a row is not a patient.

    A row is not a patient when it is empty between patient rows, repeats the
    column names, holds totals, has values but no patient id, or is one
    cell holding a line separated by another character.
    """
    # Every test starts from a cheap column-wise candidate set: a million rows are checked in well under a second.
    first = table.columns[0] if len(table.columns) else None
    if first is None:
        return table
    empty = table[first].isna().to_numpy()
    candidates = np.flatnonzero(empty)
    if len(candidates):
        empty[candidates] = table.iloc[candidates].isna().all(axis=1).to_numpy()
    if empty.all():
        return table.iloc[0:0]
    last = int(np.flatnonzero(~empty)[-1])
    table = table.iloc[: last + 1]
    empty = empty[: last + 1]
    name = _row_names(sheet_table, cases)
    found: list[str] = []
    for index in np.flatnonzero(empty)[:_MAX_LISTED]:
        found.append(f"{name(index)} is empty, between patient rows: delete it (an empty row is not a patient; "
                     "rows below it may have been pasted from elsewhere)")
    # A repeated header names every column, and a totals row says so where a person reads first (the first
    # column or the id); other totals rows have no id and are refused below for that.
    texts = list(dict.fromkeys([first, *(c for c in ("patient_id", *dictionary.names) if c in table.columns)]))[:2]
    same_as_name = sum((table[c] == c).to_numpy() for c in texts)
    for index in np.flatnonzero(same_as_name == len(texts))[:_MAX_LISTED]:
        found.append(f"{name(index)} repeats the column names: delete it (two tables pasted one under the other?)")
    totals = np.logical_or.reduce([table[c].isin(_TOTAL_WORDS).to_numpy() for c in texts])
    for index in np.flatnonzero(totals)[:_MAX_LISTED]:
        found.append(f"{name(index)} is a row of totals or summaries, not a patient: delete it "
                     "(the report computes its own)")
    if "patient_id" in table.columns:
        no_id = table["patient_id"].isna().to_numpy() & ~empty & ~totals
        for index in np.flatnonzero(no_id)[:_MAX_LISTED]:
            found.append(f"{name(index)} has values but no patient id: fill the id, or delete the row if it is "
                         "totals or notes")
    if len(table.columns) > 1:
        # A line split by another separator lands whole in the first cell, the others empty.
        lone = np.flatnonzero(table[table.columns[1]].isna().to_numpy() & ~empty)
        lone = lone[table.iloc[lone].notna().sum(axis=1).to_numpy() == 1]
        lone = lone[table[first].iloc[lone].astype(str).str.contains("[;\t]", regex=True).to_numpy()]
        for index in lone[:_MAX_LISTED]:
            found.append(f"{name(index)} is one cell holding a whole row separated by semicolons or tabs: "
                         "save the file again as comma-separated CSV")
    if found:
        raise CohortLoadError(path, f"{len(found)} row(s) are not patient rows:\n  " + "\n  ".join(found))
    return table


def load_cohort(path: str | Path, dictionary: DataDictionary, sheet: str | None = None,
                redcap_dictionary: str | Path | None = None, id_as_patient_id: bool = True) -> pd.DataFrame:
    """Read the cohort table, one row per patient, typed by the data dictionary.

    Parameters
    ----------
    path : str or Path
        A ``.csv`` file (UTF-8, comma-separated), an ``.xlsx`` workbook, an
        SPSS ``.sav``/``.zsav`` or a Stata ``.dta`` file, or a REDCap raw CSV
        export (with ``redcap_dictionary``).
    dictionary : DataDictionary
        Gives each column's type; every dictionary column must be present.
    sheet : str, optional
        Excel only: the sheet to read; default the first.
    redcap_dictionary : str or Path, optional
        The REDCap project's data dictionary (CSV): ``path`` is then read as
        that project's raw export.
    id_as_patient_id : bool
        Name the dictionary's id column (:attr:`DataDictionary.id_column`)
        ``patient_id`` in the result, as the analysis and the checks know it
        (:func:`with_patient_id` gives the dictionary to match).

    Returns
    -------
    pandas.DataFrame
        The dictionary's columns in its order, then any unknown columns (as
        text). Dates are ``datetime64[ns]``, booleans pandas ``boolean``,
        integers ``Int64``, floats ``float64``, categories and strings Python
        ``str`` (object) with NaN for empty cells. Empty rows below the
        data are dropped.

    Raises
    ------
    CohortLoadError
        Missing or empty file, not UTF-8, wrong delimiter, a dictionary column
        missing, a column named twice, rows that are not patients (each named
        by its line), values that do not parse as their type or, in Excel,
        would be read with another meaning (each named with line or cell,
        patient and column); SPSS/Stata/REDCap labels that disagree with the
        dictionary, labelled codes in numeric columns, REDCap identifier
        fields, repeating instruments and events.

    Warns
    -----
    UnknownColumnWarning
        For columns the dictionary does not describe.

    Examples
    --------
    >>> dictionary = load_dictionary("data/dictionary.yml")
    >>> cohort = load_cohort("tests/fixtures/valid_cohort.csv", dictionary)
    >>> sorted({spec.type: str(cohort[spec.name].dtype) for spec in dictionary.columns}.items())[:4]
    [('boolean', 'boolean'), ('category', 'object'), ('date', 'datetime64[ns]'), ('float', 'float64')]
    """
    path = Path(path)
    if not path.is_file():
        raise CohortLoadError(path, "file not found" if not path.exists() else "not a file")
    suffix = path.suffix.lower()
    text = suffix not in _EXCEL_SUFFIXES + FOREIGN_SUFFIXES
    padded = True
    sheet_table = cases = redcap = None
    problems: list[LoadProblem] = []
    if suffix in _EXCEL_SUFFIXES:
        sheet_table, problems = read_workbook(path, sheet, dictionary)
        table = sheet_table.table
        _check_unique_names(path, [n for n in table.columns if not n.startswith("Unnamed:")])
    elif suffix in FOREIGN_SUFFIXES:
        cases, problems = read_foreign(path, dictionary)
        table = cases.table
    elif suffix == ".xls":
        raise CohortLoadError(path, "old Excel .xls files are not read; save the workbook as .xlsx or CSV")
    else:
        if redcap_dictionary is not None:
            redcap = read_redcap_dictionary(Path(redcap_dictionary))
            # Identifier fields are refused on the export's header, before any value is read.
            redcap.check_export_header(path)
        table, padded = _read_csv(path)

    if padded:
        for name in table.columns:
            table[name] = _strip_cells(table[name], text)
    # Spreadsheets leave empty columns behind, and empty rows below the data; they carry nothing.
    unnamed = [n for n in table.columns if (not n or n.startswith("Unnamed:")) and table[n].isna().all()]
    table = table.drop(columns=unnamed)
    table = _check_rows(path, table, dictionary, sheet_table, cases)
    if table.empty:
        raise CohortLoadError(path, "the file has column names but no patient rows")
    if redcap is not None:
        table, problems = redcap.translate(path, table, dictionary)

    missing = [name for name in dictionary.names if name not in table.columns]
    if missing:
        # A renamed header: the same name but for case and punctuation (wt.loss, WtLoss, wt_loss).
        spare = [n for n in table.columns if n not in dictionary.names]
        squeezed = {re.sub(r"[^0-9a-z]", "", n.lower()): n for n in spare}
        hints = [f"'{squeezed[key]}' should be '{m}'" for m in missing
                 if (key := re.sub(r"[^0-9a-z]", "", m.lower())) and key in squeezed]
        raise CohortLoadError(
            path,
            f"missing column(s) {missing} required by the data dictionary" + (f" ({'; '.join(hints)})" if hints else ""),
        )
    unknown = [name for name in table.columns if name not in dictionary.names]
    if unknown:
        warnings.warn(
            f"{path}: column(s) {unknown} are not in the data dictionary; they are not analysed",
            UnknownColumnWarning,
            stacklevel=2,
        )

    cohort = {}
    n_bad = len(problems)
    # A cell the workbook reader refused is not reported a second time by its type.
    refused = {(p.row - 2, p.column) for p in problems}
    for spec in dictionary.columns:
        raw = table[spec.name]
        parsed, failed, why = _parse_column(spec, raw, text)
        # A category or text cell is checked against its codes later; here only for words that mean "missing".
        bad = (failed | _missing_markers(raw, spec)) & raw.notna()
        bad[[i for i, column in refused if column == spec.name and i in bad.index]] = False
        n_bad += int(bad.sum())
        for index in bad[bad].index[: max(_MAX_LISTED - len(problems), 0)]:
            patient = table.loc[index, "patient_id"]
            patient = patient if pd.isna(patient) else _cell_text(patient)
            problems.append(
                LoadProblem(
                    int(index) + 2, None if pd.isna(patient) else patient, spec.name, _cell_text(raw[index]),
                    _why(spec, raw[index], why),
                    cell=sheet_table.cell(int(index), spec.name) if sheet_table is not None else None,
                    where=cases.row_name(int(index)) if cases is not None else None,
                )
            )
        cohort[spec.name] = parsed
    for name in unknown:
        cohort[name] = _parse_column(ColumnSpec(name=name, label=name, type="string"), table[name], text)[0]
    if problems:
        problems.sort(key=lambda p: p.row)
        listed = "\n  ".join(str(p) for p in problems[:_MAX_LISTED])
        more = f"\n  ... and {n_bad - _MAX_LISTED} more" if n_bad > _MAX_LISTED else ""
        raise CohortLoadError(
            path,
            f"{n_bad} value(s) cannot be read as the data dictionary's type:\n  {listed}{more}",
            tuple(problems),
        )
    # The engine knows the patient id by one name, whatever the file calls it.
    source_id = dictionary.id_column
    if id_as_patient_id and source_id not in (None, PATIENT_ID):
        if PATIENT_ID in cohort:
            raise CohortLoadError(path, f"column '{PATIENT_ID}' is not in the data dictionary, whose patient id "
                                        f"is '{source_id}': rename or drop it")
        cohort = {PATIENT_ID if name == source_id else name: values for name, values in cohort.items()}
    # The deep copy consolidates columns of one dtype into blocks, which every later filter of the frame reuses.
    frame = pd.DataFrame(cohort).copy(deep=True)
    frame.attrs["id_column"] = source_id
    # How a message names a patient's row in the file (see row_name).
    frame.attrs["rows"] = ({"word": cases.row_word, "first": 1} if cases is not None
                           else {"word": "row", "first": 2, "sheet": sheet_table.sheet} if sheet_table is not None
                           else {"word": "line", "first": 2})
    return frame


def row_name(cohort: pd.DataFrame, index: int) -> str | None:
    """Where row ``index`` of a loaded cohort is in its file: "line 5", "row 5 of sheet 'cohort'", "case 4".

    Examples
    --------
    >>> cohort = load_cohort("tests/fixtures/valid_cohort.csv", load_dictionary("data/dictionary.yml"))
    >>> row_name(cohort, 3)
    'line 5'
    """
    rows = cohort.attrs.get("rows")
    if not rows:
        return None
    name = f"{rows['word']} {int(index) + rows['first']}"
    return f"{name} of sheet {rows['sheet']!r}" if "sheet" in rows else name
