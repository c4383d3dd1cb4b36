"""A study drafted from an SPSS, Stata or REDCap file: the dictionary from its labels, the data the file itself.

A CSV says nothing about its columns, so :mod:`scaffold.infer` guesses. An
SPSS (.sav, .zsav) or Stata (.dta) file carries variable labels, value labels
and missing-value codes, and a REDCap export comes with the project's data
dictionary (field types, choices, min, max, required and identifier fields):
the study's ``dictionary.yml`` is drafted from those
(:func:`analysis.foreign.draft_dictionary_from_labels`), and the study reads a
copy of the file itself rather than a CSV made from it, so that the labels
stay the source of truth: the loader checks every labelled value against the
dictionary at each render, and a code relabelled in a later export is refused
instead of being silently regrouped.

Identifiers never enter the study folder: REDCap fields marked ``Identifier?
= y``, and columns that the CSV path's rules (:mod:`analysis.identifiers`,
which the data checks apply) find identifying, are left out of the copy and
named. The copy is the file unchanged when nothing is left out; otherwise it
is written again without those columns, with the labels, formats and
missing-value codes of the rest (checked by drafting the copy again).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import yaml

from analysis.cohort import load_cohort, load_dictionary
from analysis.foreign import FOREIGN_SUFFIXES, _read, draft_dictionary_from_labels
from analysis.identifiers import birth_date_rows, ids_with_names
from analysis.redcap import read_redcap_dictionary
from scaffold.infer import (
    _ISO_DATE,
    Column,
    Inference,
    _cell,
    _choose_id,
    _identifier_reason,
    id_pattern,
    propose_endpoints,
    read_table,
)

__all__ = ["FOREIGN_SUFFIXES", "write_labelled_study_data"]

REDCAP_EXPORT_FILE = "data/redcap_export.csv"
REDCAP_DICTIONARY_FILE = "data/redcap_dictionary.csv"


def _text_table(path: Path) -> pd.DataFrame:
    """An SPSS/Stata file's values as the text a CSV would hold (missing codes missing), for the identifier rules."""
    frame, _ = _read(path)
    frame.columns = [str(name).strip() for name in frame.columns]
    return frame.astype(object).map(_cell)


def _as_typed(table: pd.DataFrame) -> pd.DataFrame:
    """Text columns that are all dates or all numbers, typed: what the birth-date rule compares."""
    typed = {}
    for name in table.columns:
        present = table[name].dropna().astype(str)
        if len(present) and present.str.match(_ISO_DATE).all():
            typed[name] = pd.to_datetime(table[name], format="%Y-%m-%d", errors="coerce")
        elif len(present):
            numbers = pd.to_numeric(table[name], errors="coerce")
            if numbers.notna().sum() == len(present):
                typed[name] = numbers
    return pd.DataFrame(typed, index=table.index)


def _left_out(table: pd.DataFrame, id_column: str | None, marked: dict[str, str]) -> dict[str, str]:
    """The columns kept out of the study folder, with why: those marked, then the CSV path's rules."""
    left_out = dict(marked)
    for name in table.columns:
        if name not in left_out and name != id_column:
            reason = _identifier_reason(name, table[name])
            if reason:
                left_out[name] = reason
    typed = _as_typed(table.drop(columns=[c for c in left_out if c in table.columns]))
    for name in typed.select_dtypes(include="datetime").columns:
        if birth_date_rows(table[name].dropna(), typed).any():
            left_out[name] = "its dates give each patient's age: birth dates"
    return left_out


def _copy_without(source: Path, copy: Path, left_out: list[str]) -> None:
    """The SPSS/Stata file copied, or written again without the ``left_out`` columns and with the others' metadata."""
    if not left_out:
        shutil.copyfile(source, copy)
        return
    import pyreadstat

    # Missing-value codes read as the codes they are (9, or Stata's .a), to be declared missing again.
    frame, meta = _read(source, user_missing=True)
    kept = [name for name in frame.columns if name not in left_out]

    def keep(mapping: dict | None) -> dict:
        return {name: value for name, value in (mapping or {}).items() if name in kept}

    labels = {name: meta.column_names_to_labels.get(name) for name in kept}
    if source.suffix.lower() == ".dta":
        pyreadstat.write_dta(frame[kept], copy, file_label=meta.file_label or "", column_labels=labels,
                             variable_value_labels=keep(meta.variable_value_labels),
                             missing_user_values=keep(meta.missing_user_values),
                             variable_format=keep(meta.original_variable_types))
    else:
        pyreadstat.write_sav(frame[kept], copy, file_label=meta.file_label or "", column_labels=labels,
                             compress=source.suffix.lower() == ".zsav",
                             variable_value_labels=keep(meta.variable_value_labels),
                             missing_ranges=keep(meta.missing_ranges),
                             variable_measure=keep(meta.variable_measure),
                             variable_display_width=keep(meta.variable_display_width),
                             variable_format=keep(meta.original_variable_types))
    # The copy must say what the file says about every column it keeps, or the labels are no longer the source.
    before = {c["name"]: c for c in draft_dictionary_from_labels(source)["columns"] if c["name"] in kept}
    after = {c["name"]: c for c in draft_dictionary_from_labels(copy)["columns"]}
    if before != after:
        changed = sorted(n for n in before if before[n] != after.get(n))
        copy.unlink()
        raise ValueError(f"{source}: the copy without {left_out} would change the labels of {changed}; delete "
                         "those columns in SPSS or Stata and run new-study again")


def _columns(draft: dict, typed: pd.DataFrame, id_column: str | None, labelled: str) -> list[Column]:
    """The drafted dictionary's columns as the scaffold's, with what to review."""
    columns = []
    for entry in draft["columns"]:
        name = entry["name"]
        # REDCap says which fields are required; SPSS and Stata do not, so a column complete in this file is.
        required = entry.get("required", False) if labelled == "REDCap" else bool(typed[name].notna().all())
        values = entry.get("values")
        column = Column(name, entry["type"], required, codes=tuple(values or ()), min=entry.get("min"),
                        max=entry.get("max"), given_label=entry["label"], code_labels=values,
                        unique=bool(entry.get("unique")) or name == id_column)
        if name == id_column:
            column.required = True
            if column.type == "string":
                column.pattern = id_pattern(typed[name].astype(str))
        elif entry["label"] == name and labelled != "REDCap":
            column.review = "no variable label in the file: give the label the tables print"
        elif column.type in ("integer", "float") and column.min is None:
            column.review = "a measurement: give its unit and plausible min and max"
        columns.append(column)
    return columns


def write_labelled_study_data(folder: Path, source: Path, redcap_dictionary: Path | None) -> Inference:
    """Copy the file (without identifiers) into ``folder``/data, draft the dictionary from it, propose endpoints.

    The dictionary is drafted from the copy, the file the study reads, so the
    two agree by construction. ``folder``/data/dictionary.yml is written here,
    since the endpoints are proposed from the cohort as the loader types it.
    """
    from scaffold.write import DICTIONARY_FILE, dictionary_yaml

    (folder / "data").mkdir(parents=True)
    notes: list[str] = []
    if redcap_dictionary is not None:
        labelled = "REDCap"
        redcap = read_redcap_dictionary(redcap_dictionary)
        table = read_table(source)
        fields = redcap.export_columns()
        marked = {name: "marked as an identifier in the REDCap data dictionary (Identifier? = y)"
                  for name in table.columns if name in fields and fields[name][0].identifier}
        id_column = redcap.fields[0].name if redcap.fields[0].name in table.columns else None
        left_out = _left_out(table, id_column, marked)
        table = table.drop(columns=list(left_out))
        data_file, redcap_file = REDCAP_EXPORT_FILE, REDCAP_DICTIONARY_FILE
        # The export as text, as read: codes stay codes; the loader maps them with the REDCap dictionary.
        table.to_csv(folder / data_file, index=False, lineterminator="\n")
        shutil.copyfile(redcap_dictionary, folder / redcap_file)
    else:
        suffix = source.suffix.lower()
        labelled = f"Stata {suffix}" if suffix == ".dta" else f"SPSS {suffix}"
        table = _text_table(source)
        id_column = _choose_id(table)
        left_out = _left_out(table, id_column, {})
        table = table.drop(columns=list(left_out))
        data_file, redcap_file = f"data/cohort{source.suffix.lower()}", None
        _copy_without(source, folder / data_file, list(left_out))
    if id_column is not None and ids_with_names(table[id_column].astype(str)).any():
        raise ValueError(f"{source}: the patient ids in {id_column!r} carry what looks like a surname or given "
                         "name; give the patients pseudonymous ids in the file and run new-study again")
    if id_column is None:
        notes.append("no patient id column recognised: add one (unique, pseudonymous) to the file")

    draft = draft_dictionary_from_labels(folder / data_file,
                                         folder / redcap_file if redcap_file else None)
    # Typed as the report will read it; the id column and codes as they will be written.
    path = folder / DICTIONARY_FILE
    path.write_text(yaml.safe_dump(draft, sort_keys=False, allow_unicode=True), encoding="utf-8")
    typed = load_cohort(folder / data_file, load_dictionary(path),
                        redcap_dictionary=folder / redcap_file if redcap_file else None, id_as_patient_id=False)
    inference = Inference(table, _columns(draft, typed, id_column, labelled), left_out, id_column, notes=notes,
                          data_file=data_file, redcap_dictionary_file=redcap_file, labelled=labelled)
    propose_endpoints(inference, typed)
    path.write_text(dictionary_yaml(inference, source), encoding="utf-8")
    return inference
