"""Labelled values (SPSS and Stata value labels, REDCap choices) read against the data dictionary.

A statistics package stores a category as a code with a label (1 "Female");
the data dictionary gives each column its codes and labels (``female:
Female``). A labelled value is read as the dictionary's code only when the two
agree, so that no patient changes category on the way in:

* the stored code is a code of the dictionary: its label (if the file gives
  one) must be the dictionary's label for it, else the file is refused (a
  changed label can mean a changed code);
* otherwise its label must be the label (or the code) of exactly one
  dictionary code, which is what the value becomes; a label the dictionary
  does not know is refused, naming the code, its label and the patient;
* a yes/no column reads a value labelled yes, no, true or false; a number
  without a label is refused (1/0 is ambiguous, as in CSV);
* in a numeric column a labelled value is a code (99 "Unknown"), never a
  measurement: it is refused unless the file declares it missing, in which
  case it arrives missing and never as a number.

Labels are compared without regard to case and runs of spaces. No Great
Expectations here: the report imports the loader.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import pandas as pd

if TYPE_CHECKING:
    from analysis.cohort import ColumnSpec

__all__ = ["code_text", "draft_codes", "read_labelled", "same_label"]

_YES = frozenset({"yes", "true"})
_NO = frozenset({"no", "false"})


def code_text(value: Any) -> str:
    """A stored code as the dictionary writes codes: 1.0 -> '1', ' a ' -> 'a'.

    >>> code_text(1.0), code_text(2), code_text(" dead "), code_text(2.5)
    ('1', '2', 'dead', '2.5')
    """
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def same_label(a: str, b: str) -> bool:
    """Two labels say the same: case and runs of spaces aside.

    >>> same_label("Female", " female"), same_label("Dead", "Deceased")
    (True, False)
    """
    return " ".join(a.split()).casefold() == " ".join(b.split()).casefold()


def _listing(spec: ColumnSpec) -> str:
    return ", ".join(f"{code} {label!r}" for code, label in spec.values.items())


def _category(spec: ColumnSpec, code: str, label: str | None, source: str) -> tuple[str | None, str | None]:
    if code in spec.values:
        if label is None or same_label(label, spec.values[code]):
            return code, None
        return None, (f"is labelled {label!r} in {source}, but the data dictionary labels code {code!r} "
                      f"{spec.values[code]!r}: make the labels agree (a changed label can mean a changed code)")
    if label is None:
        # As in CSV: the data checks refuse a code outside the dictionary, naming every patient.
        return code, None
    matches = [c for c, text in spec.values.items() if same_label(label, text) or same_label(label, c)]
    if len(matches) == 1:
        return matches[0], None
    return None, (f"is labelled {label!r} in {source}, a code the data dictionary does not allow "
                  f"(its codes for '{spec.name}': {_listing(spec)})")


def _resolve(spec: ColumnSpec, value: Any, label: str | None, source: str) -> tuple[Any, str | None]:
    """What a present value reads as in its column, or why it is refused."""
    if spec.type == "category":
        return _category(spec, code_text(value), label, source)
    if spec.type == "boolean":
        if label is None:
            if isinstance(value, str):
                return value, None
            return None, (f"is a number without a value label in {source}: 1/0 is ambiguous; "
                          "label the values (0 'No', 1 'Yes')")
        word = " ".join(label.split()).casefold()
        if word in _YES or word in _NO:
            return ("yes" if word in _YES else "no"), None
        return None, (f"is labelled {label!r} in {source}, which is not yes or no; if it means unknown, "
                      "declare it a missing value")
    if spec.type in ("float", "integer") and label is not None:
        return None, (f"is labelled {label!r} in {source}: a labelled value in a numeric column is a code, "
                      "not a measurement; declare it a missing value (SPSS: MISSING VALUES; Stata: .a to .z) "
                      "or remove it")
    return value, None


def read_labelled(spec: ColumnSpec, values: pd.Series, labels: Mapping[str, str], source: str,
                  ) -> tuple[pd.Series, pd.Series]:
    """A column's values as the dictionary reads them, and why each refused value is refused.

    Parameters
    ----------
    spec : ColumnSpec
        The column as the data dictionary describes it.
    values : pandas.Series
        The stored values (numbers or text; missing as NaN).
    labels : mapping
        The file's labels by code text (:func:`code_text`).
    source : str
        How messages name where the labels come from ("the file", "REDCap field 'sex'").

    Returns
    -------
    (pandas.Series, pandas.Series)
        The values (a category's code, "yes"/"no", or the value unchanged),
        and the reason per refused value (missing where the value is read).

    Examples
    --------
    >>> from analysis.cohort import ColumnSpec
    >>> sex = ColumnSpec("sex", "Sex", "category", values={"female": "Female", "male": "Male"})
    >>> read, why = read_labelled(sex, pd.Series([1.0, 2.0, 3.0]), {"1": "Female", "2": "Male", "3": "Other"}, "the file")
    >>> read.tolist()[:2], why.notna().tolist()
    (['female', 'male'], [False, False, True])
    """
    present = pd.unique(values.dropna())
    outcome = {value: _resolve(spec, value, labels.get(code_text(value)), source) for value in present}
    read = values.map({value: result if why is None else value for value, (result, why) in outcome.items()})
    reasons = values.map({value: why for value, (_, why) in outcome.items() if why is not None})
    return read.astype(object), reasons


def draft_codes(labels: Mapping[str, str]) -> dict[str, str]:
    """Dictionary codes for a file's labelled codes, with their labels.

    Codes that are words (``dead``) are kept; numbers become the label in
    lower case, words joined by ``_`` (a code 3 says nothing in a YAML file).
    A label without letters or digits, or one that two codes share, keeps its
    stored code.

    >>> draft_codes({"1": "First relapse", "2": "CAR T-cell therapy", "3": "—"})
    {'first_relapse': 'First relapse', 'car_t_cell_therapy': 'CAR T-cell therapy', '3': '—'}
    >>> draft_codes({"alive": "Alive", "dead": "Dead"})
    {'alive': 'Alive', 'dead': 'Dead'}
    """
    if not any(re.fullmatch(r"-?\d+(\.\d+)?", code) for code in labels):
        return dict(labels)
    slugs = {code: re.sub(r"\W+", "_", label.casefold()).strip("_") for code, label in labels.items()}
    counts = pd.Series(list(slugs.values())).value_counts()
    return {(slug if slug and counts[slug] == 1 else code): labels[code] for code, slug in slugs.items()}
