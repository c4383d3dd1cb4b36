"""Reading a REDCap export ("CSV / Microsoft Excel (raw data)") with the project's data dictionary.

REDCap exports codes (``1``), not what they mean; its data dictionary (the
CSV from Project Setup > Data Dictionary, or the API's metadata export) says
what each field is. The project's field types map to the data dictionary's:

=============================================  ===========================================
REDCap                                         data dictionary
=============================================  ===========================================
yesno, truefalse                               boolean (1 yes/true, 0 no/false)
radio, dropdown                                category, its choices' labels as labels
checkbox ``f`` with choices 1, 2, ...          one boolean column per choice, ``f___1``, ...
text validated date_* / datetime_*             date (a date-time as its calendar day)
text validated integer / number*               integer / float, with the field's min and max
slider, calc                                   integer 0-100, float
text, notes, anything else                     string
``Required Field? = y``                        required
``Identifier? = y``                            refused: never read
=============================================  ===========================================

A choice's raw code becomes the dictionary's code as SPSS value labels do
(:mod:`analysis.labelled`): the same code with the same label, or the code
whose label is the choice's label; anything else is refused naming field,
code and record. REDCap's own columns are handled so: ``<form>_complete``
(the form's status) is dropped; a longitudinal project's
``redcap_event_name`` and a repeating instrument's ``redcap_repeat_*`` are
accepted only when every record has one row, and refused otherwise with
what to export instead.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from analysis.labelled import draft_codes, read_labelled

if TYPE_CHECKING:
    from analysis.cohort import DataDictionary, LoadProblem

__all__ = ["RedcapDictionary", "RedcapField", "read_redcap_dictionary"]

# The data dictionary's columns, as the Data Dictionary CSV and as the API's metadata export name them.
_COLUMNS = {
    "name": ("Variable / Field Name", "field_name"),
    "form": ("Form Name", "form_name"),
    "type": ("Field Type", "field_type"),
    "label": ("Field Label", "field_label"),
    "choices": ("Choices, Calculations, OR Slider Labels", "select_choices_or_calculations"),
    "validation": ("Text Validation Type OR Show Slider Number", "text_validation_type_or_show_slider_number"),
    "min": ("Text Validation Min", "text_validation_min"),
    "max": ("Text Validation Max", "text_validation_max"),
    "identifier": ("Identifier?", "identifier"),
    "required": ("Required Field?", "required_field"),
}
_FIXED_CHOICES = {
    "yesno": {"1": "Yes", "0": "No"},
    "truefalse": {"1": "True", "0": "False"},
    # A checkbox column is 1 where the choice is ticked, 0 where not.
    "checkbox": {"1": "Yes", "0": "No"},
}
_CHOICE_TYPES = ("radio", "dropdown", "yesno", "truefalse", "checkbox")
_EVENT, _REPEAT_INSTRUMENT, _REPEAT_INSTANCE = "redcap_event_name", "redcap_repeat_instrument", "redcap_repeat_instance"
_DATE_TIME = re.compile(r"^(\d{4}-\d{2}-\d{2})[ T]\d{2}:\d{2}(:\d{2})?$")
_NUMBER = re.compile(r"^-?\d+(\.\d+)?$")
# How many records one message lists before it gives a count.
_MAX_LISTED = 10


@dataclass(frozen=True)
class RedcapField:
    """One field of a REDCap project."""

    name: str
    form: str
    type: str
    label: str
    choices: dict[str, str] = field(default_factory=dict)
    validation: str = ""
    min: str = ""
    max: str = ""
    identifier: bool = False
    required: bool = False

    @property
    def is_date(self) -> bool:
        return self.type == "text" and self.validation.startswith(("date_", "datetime_"))

    def columns(self) -> dict[str, str | None]:
        """The export's columns of this field, each with its checkbox choice (None for other fields)."""
        if self.type == "checkbox":
            # REDCap names a choice's column by its code in lower case, other signs as "_".
            return {f"{self.name}___{re.sub(r'[^a-z0-9_]', '_', code.lower())}": code for code in self.choices}
        if self.type == "descriptive":
            return {}
        return {self.name: None}


def _choices(text: str) -> dict[str, str]:
    """"1, Female | 2, Male" as {"1": "Female", "2": "Male"}."""
    choices = {}
    for item in text.split("|"):
        if item.strip():
            code, _, label = item.partition(",")
            choices[code.strip()] = label.strip() or code.strip()
    return choices


def _plain(label: str) -> str:
    """A field label without the HTML REDCap allows in it."""
    return " ".join(re.sub(r"<[^>]+>", " ", label).split())


@dataclass(frozen=True)
class RedcapDictionary:
    """A REDCap project's data dictionary: its fields in order (the first is the record id)."""

    path: Path
    fields: tuple[RedcapField, ...]

    def export_columns(self) -> dict[str, tuple[RedcapField, str | None]]:
        """Every column a raw export can have, with its field and checkbox choice."""
        return {column: (f, choice) for f in self.fields for column, choice in f.columns().items()}

    def _header(self, export: Path) -> list[str]:
        from analysis.cohort import CohortLoadError

        try:
            with export.open(encoding="utf-8-sig", newline="") as file:
                return [name.strip() for name in next(csv.reader([file.readline()]), [])]
        except FileNotFoundError:
            raise CohortLoadError(export, "file not found") from None
        except UnicodeDecodeError:
            raise CohortLoadError(export, "not readable as UTF-8; export the data again from REDCap") from None

    def check_export_header(self, export: Path) -> None:
        """Refuse an export holding identifier fields, or one with labels for column names; reads the header only.

        Raises
        ------
        CohortLoadError
            Naming the identifier fields and how to export without them.
        """
        from analysis.cohort import CohortLoadError

        names = self._header(export)
        columns = self.export_columns()
        identifying = sorted({columns[n][0].name for n in names if n in columns and columns[n][0].identifier})
        if identifying:
            raise CohortLoadError(
                export,
                f"the export holds field(s) {identifying} that the REDCap data dictionary {self.path} marks as "
                "identifiers (Identifier? = y); they are not read. Export again with the de-identification option "
                "'Remove all tagged Identifier fields'",
            )
        if names and not any(n in columns for n in names):
            raise CohortLoadError(
                export,
                f"none of the columns is a field of the REDCap data dictionary {self.path}: export the data as "
                "'CSV / Microsoft Excel (raw data)', which names columns by field, not by label",
            )

    def _one_row_per_record(self, export: Path, table: pd.DataFrame) -> None:
        from analysis.cohort import CohortLoadError

        record = self.fields[0].name
        if _REPEAT_INSTRUMENT in table.columns and table[_REPEAT_INSTRUMENT].notna().any():
            rows = table.index[table[_REPEAT_INSTRUMENT].notna()]
            instruments = sorted(set(table.loc[rows, _REPEAT_INSTRUMENT]))
            raise CohortLoadError(
                export,
                f"{len(rows)} row(s) are instances of repeating instruments {instruments} (first: line "
                f"{rows[0] + 2}, record {table.at[rows[0], record]!r}); the report reads one row per patient: "
                "export a report without the repeating instruments' fields, or record what the analysis needs "
                "from them in a field of a non-repeating instrument",
            )
        if _EVENT in table.columns and record in table.columns:
            counts = table[record].value_counts()
            repeated = counts[counts > 1]
            if len(repeated):
                first = repeated.index[0]
                events = sorted(set(table.loc[table[record] == first, _EVENT].dropna()))
                listed = ", ".join(repr(r) for r in repeated.index[:_MAX_LISTED])
                more = f" and {len(repeated) - _MAX_LISTED} more" if len(repeated) > _MAX_LISTED else ""
                raise CohortLoadError(
                    export,
                    f"a longitudinal export: record(s) {listed}{more} have a row per event (record {first!r}: "
                    f"{events}); the report reads one row per patient: export a report filtered to one event, or "
                    "put the fields the analysis needs in one event",
                )

    def translate(self, export: Path, table: pd.DataFrame, dictionary: DataDictionary,
                  ) -> tuple[pd.DataFrame, list[LoadProblem]]:
        """The export's text cells as the data dictionary reads them, and the values refused.

        Choices, yes/no and checkboxes become the dictionary's codes or yes/no,
        date-times their date; REDCap's status columns are dropped. Line
        ``i + 2`` of the export is table row ``i``.
        """
        from analysis.cohort import LoadProblem

        self._one_row_per_record(export, table)
        forms = {f"{f.form}_complete" for f in self.fields}
        table = table.drop(columns=[c for c in table.columns if c in forms or c in (_EVENT, _REPEAT_INSTRUMENT,
                                                                                     _REPEAT_INSTANCE)])
        specs = {spec.name: spec for spec in dictionary.columns}
        record = self.fields[0].name
        problems: list[LoadProblem] = []

        def refuse(name: str, values: pd.Series, reasons: pd.Series) -> None:
            for index in reasons.dropna().index:
                patient = table.at[index, record] if record in table.columns else None
                problems.append(LoadProblem(int(index) + 2, None if pd.isna(patient) else str(patient), name,
                                            str(values[index]), reasons[index]))

        for name, (redcap_field, _) in self.export_columns().items():
            if name not in table.columns:
                continue
            values = table[name]
            if redcap_field.type in _CHOICE_TYPES:
                choices = _FIXED_CHOICES.get(redcap_field.type, redcap_field.choices)
                outside = values.notna() & ~values.isin(list(choices))
                listing = " | ".join(f"{code}, {label}" for code, label in choices.items())
                refuse(name, values, pd.Series(
                    f"is not a choice of REDCap field '{redcap_field.name}' ({listing}); export the raw data, "
                    "not labels, with the project's current data dictionary", index=values.index).where(outside))
                if name in specs:
                    read, reasons = read_labelled(specs[name], values.where(~outside), choices,
                                                  f"REDCap field '{redcap_field.name}'")
                    table[name] = read.where(~outside, values)
                    refuse(name, values, reasons)
            elif redcap_field.is_date:
                table[name] = values.map(lambda v: _DATE_TIME.sub(r"\1", v) if isinstance(v, str) else v)
        return table, problems

    def draft(self, export: Path) -> dict[str, Any]:
        """A data dictionary drafted from the REDCap one, for the export's columns in its order.

        Identifier fields are refused (as when loading); REDCap's own columns
        (form status, events) are left out. The record id (the first field) is
        a required, unique string.
        """
        self.check_export_header(export)
        columns = self.export_columns()
        drafted = []
        for name in self._header(export):
            if name not in columns:
                continue
            redcap_field, choice = columns[name]
            column: dict[str, Any] = {"name": name, "label": _plain(redcap_field.label) or name}
            if choice is not None:
                column["label"] += f": {redcap_field.choices[choice]}"
            column.update(_draft_type(redcap_field, choice))
            if redcap_field is self.fields[0]:
                column.update(required=True, unique=True)
            elif redcap_field.required and choice is None:
                column["required"] = True
            drafted.append(column)
        return {"columns": drafted}


def _draft_type(redcap_field: RedcapField, choice: str | None) -> dict[str, Any]:
    """The dictionary's type (with values or range) of a REDCap field, or of one checkbox choice."""
    kind, validation = redcap_field.type, redcap_field.validation
    if kind in ("yesno", "truefalse") or choice is not None:
        return {"type": "boolean"}
    if kind in ("radio", "dropdown"):
        return {"type": "category", "values": draft_codes(redcap_field.choices)}
    if redcap_field.is_date:
        return {"type": "date"}
    if kind == "slider":
        return {"type": "integer", "min": 0, "max": 100}
    if kind == "calc":
        return {"type": "float"}
    if kind == "text" and (validation == "integer" or validation.startswith("number")):
        drafted: dict[str, Any] = {"type": "integer" if validation == "integer" else "float"}
        for bound in ("min", "max"):
            text = getattr(redcap_field, bound).strip()
            if _NUMBER.match(text):
                drafted[bound] = int(text) if validation == "integer" else float(text)
        return drafted
    return {"type": "string"}


def read_redcap_dictionary(path: Path) -> RedcapDictionary:
    """Read a REDCap project's data dictionary (CSV, its standard columns).

    Raises
    ------
    CohortLoadError
        A missing or unreadable file, or one without the standard columns (named).

    Examples
    --------
    >>> redcap = read_redcap_dictionary(Path("tests/fixtures/redcap/registry_dictionary.csv"))
    >>> redcap.fields[6].type, redcap.fields[6].choices
    ('radio', {'1': 'Female', '2': 'Male'})
    >>> list(redcap.fields[10].columns())
    ['prior_therapy___1', 'prior_therapy___2', 'prior_therapy___3']
    """
    from analysis.cohort import CohortLoadError

    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise CohortLoadError(path, "REDCap data dictionary not found (study.redcap_dictionary or "
                                    "REDCAP_DICTIONARY)") from None
    except UnicodeDecodeError:
        raise CohortLoadError(path, "the REDCap data dictionary is not UTF-8; download it again from REDCap") from None
    rows = list(csv.reader(io.StringIO(text)))
    header = [name.strip() for name in rows[0]] if rows else []
    where = {}
    for key, spellings in _COLUMNS.items():
        found = [header.index(s) for s in spellings if s in header]
        if not found:
            raise CohortLoadError(path, f"not a REDCap data dictionary: no column {spellings[0]!r}; download it "
                                        "from REDCap (Project Setup > Data Dictionary)")
        where[key] = found[0]
    fields = []
    for row in rows[1:]:
        if not any(cell.strip() for cell in row):
            continue
        cell = {key: (row[i].strip() if i < len(row) else "") for key, i in where.items()}
        fields.append(RedcapField(
            name=cell["name"], form=cell["form"], type=cell["type"], label=cell["label"],
            choices=_choices(cell["choices"]) if cell["type"] in ("radio", "dropdown", "checkbox") else {},
            validation=cell["validation"], min=cell["min"], max=cell["max"],
            identifier=cell["identifier"].lower() == "y", required=cell["required"].lower() == "y",
        ))
    if not fields:
        raise CohortLoadError(path, "the REDCap data dictionary has no fields")
    return RedcapDictionary(path=path, fields=tuple(fields))
