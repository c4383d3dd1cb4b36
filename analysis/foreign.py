"""Reading the cohort from SPSS (.sav, .zsav) and Stata (.dta) files, and drafting a dictionary from their labels.

The files are read with pyreadstat (ReadStat). What the statistics package
knows about a value is used, and checked against the data dictionary:

* value labels: a category's stored code (1) and label ("Female") become the
  dictionary's code when they agree with it; a code or label the dictionary
  does not have is refused with the variable, the code, its label and the
  patient (see :mod:`analysis.labelled`);
* missing values: SPSS user-missing codes (MISSING VALUES, e.g. 99 "Unknown")
  and Stata's extended missing values (.a to .z) arrive missing, never as a
  number; a labelled value in a numeric column that is *not* declared missing
  is refused, since 99 "Unknown" must never become 99 years;
* dates and date-times (SPSS DATE/DATETIME formats, Stata %td/%tc) arrive as
  dates (a date-time as its calendar day); a number in a date column, which
  is what a date loses its format as, is refused;
* variable labels become the column labels of a drafted dictionary
  (:func:`draft_dictionary_from_labels`).

Rows are named as the package names them: SPSS's case number, Stata's
observation number (``_n``). The typed table is then built and checked by
:func:`analysis.cohort.load_cohort` exactly as for CSV.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from analysis.labelled import code_text, draft_codes, read_labelled

if TYPE_CHECKING:
    from analysis.cohort import DataDictionary, LoadProblem

__all__ = ["FOREIGN_SUFFIXES", "CaseTable", "draft_dictionary_from_labels", "read_foreign"]

FOREIGN_SUFFIXES = (".sav", ".zsav", ".dta")
_YES_NO = frozenset({"yes", "no", "true", "false"})


@dataclass(frozen=True)
class CaseTable:
    """A file's table of values (row i is case or observation i + 1), and how the package names a row."""

    table: pd.DataFrame
    row_word: str

    def row_name(self, index: int) -> str:
        """"case 7" (SPSS) or "observation 7" (Stata) for table row 6."""
        return f"{self.row_word} {index + 1}"


def _kind(path: Path) -> tuple[str, str]:
    """The package's name for the file, and for a row of it."""
    return ("Stata .dta", "observation") if path.suffix.lower() == ".dta" else ("SPSS .sav", "case")


def _read(path: Path, metadata_only: bool = False, user_missing: bool = False):
    import pyreadstat

    from analysis.cohort import CohortLoadError

    kind, _ = _kind(path)
    if path.stat().st_size == 0:
        raise CohortLoadError(path, "the file is empty")
    read = pyreadstat.read_dta if path.suffix.lower() == ".dta" else pyreadstat.read_sav
    try:
        return read(str(path), metadataonly=metadata_only, user_missing=user_missing)
    except (pyreadstat.ReadstatError, pyreadstat.PyreadstatError, UnicodeDecodeError, ValueError) as error:
        raise CohortLoadError(path, f"not a readable {kind} file ({error}); save it again from the program "
                                    "that made it, or export it as CSV") from None


def _labels(meta, name: str) -> dict[str, str]:
    # Stata's labels of extended missing values (.a) are keyed by letter; those values arrive missing.
    return {code_text(code): str(label) for code, label in (meta.variable_value_labels.get(name) or {}).items()}


def _not_dates(values: pd.Series) -> pd.Series:
    """Present values of a date column that the file does not hold as dates (or as text, which is parsed as in CSV)."""
    return values.notna() & ~values.map(lambda v: isinstance(v, (dt.date, str)))


def _why_not_a_date(value: Any) -> str:
    if isinstance(value, (dt.time, dt.timedelta)):
        return "is a time or a duration, not a date; give the variable a date format (SPSS: DATE11; Stata: %td)"
    return ("is a number, not a date: the variable has no date format (SPSS: DATE11; Stata: %td); give it one "
            "and check that it shows the intended days")


def read_foreign(path: Path, dictionary: DataDictionary) -> tuple[CaseTable, list[LoadProblem]]:
    """The file's table with labelled values read as the dictionary's codes, and the values refused.

    Returns
    -------
    (CaseTable, list of LoadProblem)
        Values as Python objects (text, numbers, dates; missing as NaN) for
        :func:`analysis.cohort.load_cohort` to type; each refused value with
        its case or observation, patient, variable and code.

    Raises
    ------
    CohortLoadError
        An empty file, or one the package's format reader cannot read.
    """
    from analysis.cohort import LoadProblem

    frame, meta = _read(path)
    _, row_word = _kind(path)
    source = CaseTable(frame.astype(object), row_word)
    table = source.table
    table.columns = [str(name).strip() for name in table.columns]
    patients = table["patient_id"].map(code_text) if "patient_id" in table.columns else None
    problems: list[LoadProblem] = []

    def refuse(name: str, values: pd.Series, reasons: pd.Series) -> None:
        for index in reasons.dropna().index:
            patient = None if patients is None or pd.isna(table.at[index, "patient_id"]) else patients[index]
            problems.append(LoadProblem(int(index) + 2, patient, name, code_text(values[index]), reasons[index],
                                        where=source.row_name(int(index))))

    for spec in dictionary.columns:
        if spec.name not in table.columns:
            continue
        values = table[spec.name]
        labels = _labels(meta, spec.name)
        if spec.type == "date":
            refuse(spec.name, values, values.map(_why_not_a_date).where(_not_dates(values)))
        elif labels or spec.type in ("category", "boolean"):
            read, reasons = read_labelled(spec, values, labels, "the file")
            table[spec.name] = read
            refuse(spec.name, values, reasons)
    return source, problems


def _draft_column(name: str, values: pd.Series, label: str, labels: dict[str, str], numeric_type: str,
                  ) -> dict[str, Any]:
    column: dict[str, Any] = {"name": name, "label": label}
    present = values.dropna()
    if labels:
        words = {" ".join(text.split()).casefold() for text in labels.values()}
        if words <= _YES_NO and len(words) == 2:
            return column | {"type": "boolean"}
        return column | {"type": "category", "values": draft_codes(labels)}
    if len(present) and present.map(lambda v: isinstance(v, dt.date)).all():
        return column | {"type": "date"}
    if len(present) and present.map(lambda v: isinstance(v, str)).all():
        return column | {"type": "string"}
    return column | {"type": numeric_type}


def _numeric_type(path: Path, meta, name: str) -> str:
    """integer when the file stores or shows the variable as whole numbers (Stata int, SPSS F8.0), else float."""
    if path.suffix.lower() == ".dta":
        return "integer" if meta.readstat_variable_types.get(name, "").startswith("int") else "float"
    return "integer" if re.fullmatch(r"F\d+\.0", meta.original_variable_types.get(name, "")) else "float"


def _missing_codes(meta, name: str) -> set[str]:
    """The value-label codes an SPSS file declares missing (its MISSING VALUES)."""
    codes = set()
    for code in meta.variable_value_labels.get(name) or {}:
        for declared in meta.missing_ranges.get(name) or []:
            if isinstance(code, (int, float)) and declared["lo"] <= code <= declared["hi"]:
                codes.add(code_text(code))
            elif code == declared["lo"]:
                codes.add(code_text(code))
    return codes


def draft_dictionary_from_labels(path: str | Path, redcap_dictionary: str | Path | None = None) -> dict[str, Any]:
    """A data dictionary drafted from what the file says about its columns, for a person to review.

    Parameters
    ----------
    path : str or Path
        An SPSS (.sav, .zsav) or Stata (.dta) file; with ``redcap_dictionary``,
        a REDCap raw CSV export.
    redcap_dictionary : str or Path, optional
        The REDCap project's data dictionary (CSV).

    Returns
    -------
    dict
        ``{"columns": [...]}`` as ``data/dictionary.yml`` holds it (write it
        with ``yaml.safe_dump(..., sort_keys=False)``). SPSS/Stata: variable
        labels become labels; value labels become a category's values (missing
        codes left out), or a boolean when the labels are yes/no; dates and
        date-times become dates; whole-number variables integers. REDCap: see
        :meth:`analysis.redcap.RedcapDictionary.draft`. Nothing is guessed from
        the values: ``required``, ranges and units are for the reviewer (REDCap
        states some of them).

    Examples
    --------
    >>> draft = draft_dictionary_from_labels("tests/fixtures/redcap/registry_export.csv",
    ...                                      "tests/fixtures/redcap/registry_dictionary.csv")
    >>> draft["columns"][4]
    {'name': 'sex', 'label': 'Sex', 'type': 'category', 'values': {'female': 'Female', 'male': 'Male'}, 'required': True}
    """
    path = Path(path)
    if redcap_dictionary is not None:
        from analysis.redcap import read_redcap_dictionary

        return read_redcap_dictionary(Path(redcap_dictionary)).draft(path)
    frame, meta = _read(path)
    _, declared = _read(path, metadata_only=True, user_missing=True)
    stata = path.suffix.lower() == ".dta"
    columns = []
    for name in frame.columns:
        # Stata labels its extended missing values (.a) by letter in a numeric variable.
        letters = stata and meta.readstat_variable_types.get(name) != "string"
        labels = {code: text for code, text in _labels(meta, name).items()
                  if code not in _missing_codes(declared, name) and not (letters and re.fullmatch(r"[a-z]", code))}
        label = (meta.column_names_to_labels.get(name) or name).strip()
        columns.append(_draft_column(str(name), frame[name], label, labels, _numeric_type(path, meta, name)))
    return {"columns": columns}
