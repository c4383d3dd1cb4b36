"""What a cohort file says about itself: column types, the patient id, identifiers, endpoints.

Every result is a proposal for a person to review: the files written from it
(:mod:`scaffold.write`) mark each guess in a comment. The rules follow the
loader (:mod:`analysis.cohort`): a date is ``YYYY-MM-DD`` (or an Excel date
cell), a yes/no column holds yes/no or true/false, and numeric codes (0/1)
are categories, never booleans, since the loader refuses 1/0 as yes/no.
Columns that look like direct identifiers or free text are left out of the
analysis set, by the rules of :mod:`analysis.identifiers` that the data checks
apply.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from analysis.config import TIME_UNITS
from analysis.identifiers import (
    FREE_TEXT_MIN_WORDS,
    FREE_TEXT_NAME_PATTERN,
    IDENTIFIER_NAME_PATTERN,
    birth_date_rows,
    column_words,
    ids_with_names,
    looks_identifying,
)

ID = "patient_id"
# The analysis set a CSV or Excel file is copied to, in the study folder.
DATA_FILE = "data/cohort.csv"
# A column with at most this many distinct text values, each shared by several patients, is a category.
MAX_CATEGORY_CODES = 12
# Whole numbers with at most this many distinct values are codes (0/1, 1/2/3), summarised as counts.
MAX_NUMERIC_CODES = 3
# Words R and pandas write for a missing value; the loader refuses them, the study's copy has empty cells.
EXPORT_MISSING = frozenset({"NA", "NaN"})

_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_OTHER_DATE = re.compile(r"^\d{1,4}[./-]\d{1,2}[./-]\d{1,4}$")
_DATE_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}[ T]\d{1,2}:\d{2}")
_INTEGER = re.compile(r"^[+-]?\d+$")
_NUMBER = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$")
_BOOLEAN = frozenset({"yes", "no", "true", "false"})
_ID_NAME = re.compile(r"_(id|patient|subject|pid|patid|participant|(study|subject|patient|record|case)_(id|no|num|number))_")
_WORDS = re.compile(rf"(?:\S+\s+){{{FREE_TEXT_MIN_WORDS - 1}}}\S+")

# What column names say about endpoints (searched in column_words(name)).
_DEATH = re.compile(r"_(death|died|dead|deceased|dod|mortality|os|overall_survival|surv|survival)_")
_LAST_CONTACT = re.compile(r"_(last_(contact|follow_?up|fu|seen|visit|alive)|lfu|censor(ing)?|date_last)")
_RELAPSE = re.compile(r"_(relapse|recurrence|recur|progression|prog|pd)_")
_TIME = re.compile(r"_(time|times|days|months|futime|ftime|duration|dur|t)_")
_STATUS = re.compile(r"_(status|stat|event|fustat|fstatus|cens|censor|dead|death|died|vital)_")
_DEAD_CODE = re.compile(r"^(dead|died|deceased|death|yes|true)$", re.IGNORECASE)
_UNIT_WORDS = {"time", "times", "days", "day", "months", "futime", "ftime", "duration", "dur", "t", "status", "stat",
               "event", "fustat", "fstatus", "cens", "censor"}
# The unit a time column's name says it is in; a name that says none is drafted as days, for review.
_TIME_UNIT_WORDS = {"day": "days", "days": "days", "week": "weeks", "weeks": "weeks", "wk": "weeks", "wks": "weeks",
                    "month": "months", "months": "months", "mo": "months", "mon": "months",
                    "year": "years", "years": "years", "yr": "years", "yrs": "years"}

_LANDMARKS = [(5, "years", 5 * 365.25), (3, "years", 3 * 365.25), (2, "years", 2 * 365.25), (1, "year", 365.25),
              (6, "months", 182.625), (3, "months", 91.3125), (1, "month", 30.4375)]


@dataclass
class Column:
    """One column of the draft dictionary."""

    name: str
    type: str
    required: bool
    codes: tuple[str, ...] = ()
    min: float | None = None
    max: float | None = None
    pattern: str | None = None
    # Why a person should look again ("0/1 codes read as a category: label them").
    review: str | None = None
    # What the source file says (SPSS/Stata variable and value labels, REDCap field labels and choices); a CSV
    # says nothing, so the label and the codes' labels are made from the names.
    given_label: str | None = None
    code_labels: dict[str, str] | None = None
    unique: bool = False
    # A time column's unit (days, weeks, months, years): what its times are read in.
    unit: str | None = None

    @property
    def label(self) -> str:
        return self.given_label or self.name.replace("_", " ").strip().capitalize()


@dataclass
class EndpointGuess:
    """A proposed endpoint: its declaration for study.yml, and why it was proposed."""

    name: str
    declaration: dict
    reason: str


@dataclass
class Inference:
    """All the scaffold proposes for one cohort file."""

    table: pd.DataFrame  # the analysis set as text: patient_id first, left-out columns dropped
    columns: list[Column]
    left_out: dict[str, str]  # column -> why
    id_source: str | None  # the file's id column, None when ids were generated
    endpoints: list[EndpointGuess] = field(default_factory=list)
    cutoff: dt.date | None = None
    landmark: str | None = None
    notes: list[str] = field(default_factory=list)
    # The study's data as study.yml names it, and the REDCap data dictionary it is read with.
    data_file: str = DATA_FILE
    redcap_dictionary_file: str | None = None
    # "SPSS .sav", "Stata .dta", "REDCap": the dictionary was drafted from the file's labels; None: guessed.
    labelled: str | None = None

    def column(self, name: str) -> Column:
        return next(c for c in self.columns if c.name == name)


# -- reading ----------------------------------------------------------------------------------------------------------


def _cell(value) -> str | None:
    """An Excel cell as the text the loader would read from a CSV."""
    if value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NaT:
        return None
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, (dt.datetime, pd.Timestamp)):
        return value.date().isoformat() if value.time() == dt.time(0) else value.isoformat(sep=" ")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    text = str(value).strip()
    return text or None


def read_table(path: Path, sheet: str | None = None) -> pd.DataFrame:
    """The cohort file as text cells (None where empty), names and cells stripped of spaces."""
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        table = pd.read_excel(path, sheet_name=sheet or 0, dtype=object, header=0)
        table = table.map(_cell)
    else:
        table = pd.read_csv(path, dtype=str, keep_default_na=False, na_values=[""], encoding="utf-8-sig")
        table = table.map(lambda v: v.strip() or None if isinstance(v, str) else None)
    table.columns = [str(c).strip() for c in table.columns]
    # Spreadsheets leave empty columns and rows behind; they carry nothing.
    table = table.loc[:, [not (c.startswith("Unnamed:") and table[c].isna().all()) for c in table.columns]]
    return table.dropna(how="all").reset_index(drop=True)


# -- columns ----------------------------------------------------------------------------------------------------------


def id_pattern(ids: pd.Series) -> str:
    """A regular expression every id matches, as tight as their shape allows.

    >>> id_pattern(pd.Series(["COL-0001", "COL-0929"])), id_pattern(pd.Series(["1", "17", "312"]))
    ('^COL-[0-9]{4}$', '^[0-9]{1,3}$')
    >>> id_pattern(pd.Series(["A1", "BB-2"]))
    '^\\\\S+$'
    """
    runs = [re.findall(r"[0-9]+|[A-Za-z]+|[^0-9A-Za-z]+", str(v)) for v in ids]
    kinds = {tuple("9" if r[0].isdigit() else "a" if r[0].isalpha() else r for r in parts) for parts in runs}
    if len(kinds) != 1:
        return r"^\S+$"
    pattern = ""
    for position, kind in enumerate(next(iter(kinds))):
        texts = {parts[position] for parts in runs}
        lengths = sorted({len(t) for t in texts})
        count = f"{{{lengths[0]}}}" if len(lengths) == 1 else f"{{{lengths[0]},{lengths[-1]}}}"
        if kind == "9":
            pattern += f"[0-9]{count}"
        elif len(texts) == 1:
            # re.escape would also escape "-", which reads badly in a dictionary.
            pattern += re.sub(r"([.^$*+?{}\[\]\\|()])", r"\\\1", next(iter(texts)))
        else:
            pattern += f"[A-Za-z]{count}"
    return f"^{pattern}$"


def _infer_column(name: str, values: pd.Series, n: int) -> Column:
    """The type of a column from its text values, with the codes or range observed."""
    present = values.dropna().astype(str)
    required = len(present) == n
    distinct = sorted(set(present))
    if not distinct:
        return Column(name, "string", False, review="empty in this file: say what it holds, or delete it")
    if all(_ISO_DATE.match(v) for v in distinct) and pd.to_datetime(present, errors="coerce").notna().all():
        return Column(name, "date", required)
    if all(v.lower() in _BOOLEAN for v in distinct):
        return Column(name, "boolean", required)
    if all(_INTEGER.match(v) for v in distinct):
        numbers = sorted({int(v) for v in distinct})
        if len(numbers) <= MAX_NUMERIC_CODES:
            return Column(name, "category", required, codes=tuple(str(v) for v in numbers),
                          review=f"numeric codes {', '.join(map(str, numbers))}: give each its meaning as the label")
        return Column(name, "integer", required, min=numbers[0], max=numbers[-1])
    if all(_NUMBER.match(v) for v in distinct):
        numbers = present.astype(float)
        return Column(name, "float", required, min=float(numbers.min()), max=float(numbers.max()))
    if all(_DATE_TIME.match(v) for v in distinct):
        return Column(name, "string", required, review="dates with a time of day: the loader reads dates alone "
                                                       "(YYYY-MM-DD); write the date only to use it as a date")
    if all(_OTHER_DATE.match(v) for v in distinct):
        return Column(name, "string", required, review="dates in another format than YYYY-MM-DD (day and month can "
                                                       "swap): rewrite them as YYYY-MM-DD to use them as dates")
    repeated = len(distinct) <= MAX_CATEGORY_CODES and len(distinct) <= max(2, len(present) // 2)
    if repeated:
        return Column(name, "category", required, codes=tuple(distinct))
    return Column(name, "string", required, review="text with many different values: is it needed for the analysis?")


def _identifier_reason(name: str, values: pd.Series) -> str | None:
    """Why a column is a direct identifier or free text, else None."""
    words = column_words(name)
    if re.search(IDENTIFIER_NAME_PATTERN, words, re.IGNORECASE):
        return "its name says it is a direct identifier (name, record number, birth date, address or contact)"
    present = values.dropna().astype(str)
    # Measurements are not contacts: a decimal number, or a whole number too short for a telephone number,
    # although 58.7652292950034 is shaped like a telephone number written with dots.
    measured = present.str.fullmatch(r"[+-]?\d+\.\d+|[+-]?\d{1,8}").all()
    if not measured and present.map(looks_identifying).any():
        return "its values look like personal names, e-mail addresses or telephone numbers"
    if re.search(FREE_TEXT_NAME_PATTERN, words, re.IGNORECASE):
        return "its name says free text, which may name people; code what the analysis needs as a category"
    if present.str.contains(_WORDS).any() and present.nunique() > len(present) / 2:
        return "free text (sentences that differ from patient to patient), which may name people"
    return None


def _typed(table: pd.DataFrame, columns: list[Column]) -> pd.DataFrame:
    """Dates and numbers typed, for the arithmetic that finds birth dates and follow-up."""
    typed = {}
    for column in columns:
        if column.type == "date":
            typed[column.name] = pd.to_datetime(table[column.name], format="%Y-%m-%d")
        elif column.type in ("integer", "float"):
            typed[column.name] = pd.to_numeric(table[column.name])
    return pd.DataFrame(typed, index=table.index)


def _choose_id(table: pd.DataFrame) -> str | None:
    """The file's patient-id column: ``patient_id``, else a complete, unique column whose name says id."""
    if ID in table.columns:
        return ID
    for name in table.columns:
        values = table[name]
        if (_ID_NAME.search(column_words(name)) and values.notna().all() and values.is_unique
                and not re.search(IDENTIFIER_NAME_PATTERN, column_words(name), re.IGNORECASE)):
            return name
    return None


# -- endpoints --------------------------------------------------------------------------------------------------------


def _landmark(days: pd.Series) -> tuple[str, float]:
    """The longest usual landmark (5 years ... 1 month) within the median follow-up time."""
    median = float(np.nanmedian(days)) if len(days) else 0.0
    for value, unit, length in _LANDMARKS:
        if length <= median:
            return f"{value} {unit}", length
    return "30 days", 30.0


def _death_condition(inference: Inference) -> tuple[str | None, str | None]:
    """A yes/no condition "this patient died" from a vital-status column, and that column."""
    for column in inference.columns:
        if not _STATUS.search(column_words(column.name)) and not _DEATH.search(column_words(column.name)):
            continue
        if column.type == "boolean" and _DEATH.search(column_words(column.name)):
            return column.name, column.name
        if column.type == "category":
            dead = [code for code in column.codes if _DEAD_CODE.match(code)]
            if len(dead) == 1:
                return f"{column.name} == '{dead[0]}'", column.name
    return None, None


def _stem(name: str) -> set[str]:
    return set(column_words(name).strip("_").split("_")) - _UNIT_WORDS


def propose_endpoints(inference: Inference, typed: pd.DataFrame) -> None:
    """Endpoints the column names make clear: death / last-contact / relapse dates, or time + status pairs."""
    dates = [c for c in inference.columns if c.type == "date"]
    death = next((c for c in dates if _DEATH.search(column_words(c.name))), None)
    last = next((c for c in dates if _LAST_CONTACT.search(column_words(c.name))), None)
    relapse = next((c for c in dates if _RELAPSE.search(column_words(c.name))), None)
    others = [c for c in dates if c not in (death, last, relapse) and c.required]
    if death is not None and last is not None and others:
        # The origin: the earliest complete date of the others (diagnosis, treatment start, registration).
        origin = min(others, key=lambda c: typed[c.name].median())
        where, _ = _death_condition(inference)
        event = {"date": death.name, "label": "death", **({"where": where} if where else {})}
        follow = (typed[last.name] - typed[origin.name]).dt.days
        landmark, _ = _landmark(follow.dropna())
        inference.landmark = landmark
        declaration = {"label": "Overall survival", "short": "OS",
                       "description": f"from {origin.label.lower()} to death from any cause",
                       "origin": origin.name, "events": [event], "censor": last.name}
        inference.endpoints.append(EndpointGuess(
            "overall_survival", declaration,
            f"from {origin.name} to {death.name}" + (f" (dead: {where})" if where else "") + f", censored at {last.name}"))
        if relapse is not None:
            inference.endpoints.append(EndpointGuess(
                "relapse", {"label": "Relapse", "short": "Relapse", "origin": origin.name,
                            "events": [{"date": relapse.name, "label": "relapse"}],
                            "competing": [event], "censor": last.name},
                f"from {origin.name} to {relapse.name}, death competing, censored at {last.name}"))
        inference.cutoff = max(typed[c.name].max() for c in dates).date()
        return
    _propose_time_status(inference, typed)


def _time_unit(time: Column) -> str:
    """The unit a time column is drafted in: what its name says, else days; marked for review either way.

    The report reads the times in the unit the dictionary declares, so a wrong one
    (months read as days) would print a plausible, wrong abstract: a person confirms it.
    """
    said = [_TIME_UNIT_WORDS[w] for w in column_words(time.name).strip("_").split("_") if w in _TIME_UNIT_WORDS]
    unit = said[0] if said else "days"
    why = f"its name says {unit}" if said else "a guess, the name does not say"
    note = (f"unit {unit} ({why}): CONFIRM the unit the times are in (days, weeks, months, years); "
            "the report reads them in it, and the landmark was proposed from it")
    time.unit = unit
    time.review = f"{time.review}; {note}" if time.review else note
    return unit


def unit_note(inference: Inference, guess: EndpointGuess) -> str:
    """What the console and study.yml say of an endpoint's times: the unit they are read in, to review."""
    time = guess.declaration.get("time")
    if time is None:
        return ""
    return f"; times read as {inference.column(time).unit} (REVIEW the unit in the dictionary)"


def _propose_time_status(inference: Inference, typed: pd.DataFrame) -> None:
    times = [c for c in inference.columns if c.type in ("integer", "float") and _TIME.search(column_words(c.name))]
    statuses = [c for c in inference.columns
                if c.type == "boolean" or (c.type == "category" and set(c.codes) <= {"0", "1", "2"})]
    used: set[str] = set()
    for time in times:
        # The status that shares a word with the time column (death_time_days / death), else one named status.
        candidates = [s for s in statuses if s.name not in used and _stem(s.name) & _stem(time.name)]
        candidates = candidates or [s for s in statuses if s.name not in used and _STATUS.search(column_words(s.name))]
        if not candidates:
            continue
        status = candidates[0]
        used.add(status.name)
        is_death = bool(_DEATH.search(column_words(time.name)) or _DEATH.search(column_words(status.name))
                        or (len(times) == 1 and not _RELAPSE.search(column_words(time.name))))
        name = "overall_survival" if is_death and not any(e.name == "overall_survival" for e in inference.endpoints) \
            else re.sub(r"_+", "_", "_".join(sorted(_stem(time.name) & _stem(status.name)) or [status.name]))
        declaration = {"label": "Overall survival" if name == "overall_survival" else name.replace("_", " ").capitalize(),
                       "short": "OS" if name == "overall_survival" else name.replace("_", " ").capitalize(),
                       "time": time.name, "status": status.name}
        unit = time.unit or _time_unit(time)
        reason = f"time {time.name}, status {status.name}"
        if status.type == "category":
            event = max(status.codes)
            declaration["event_values"] = [event]
            reason += f" (event: {status.name} = {event} of {', '.join(status.codes)})"
        if name == "overall_survival":
            inference.landmark, _ = _landmark(typed[time.name].dropna() * TIME_UNITS[unit])
        inference.endpoints.append(EndpointGuess(name, declaration, reason))
    inference.endpoints.sort(key=lambda e: e.name != "overall_survival")
    if inference.endpoints and inference.landmark is None:
        first = inference.column(inference.endpoints[0].declaration["time"])
        inference.landmark, _ = _landmark(typed[first.name].dropna() * TIME_UNITS[first.unit])


# -- the whole file ---------------------------------------------------------------------------------------------------


def infer(path: Path, sheet: str | None = None) -> Inference:
    """Read a cohort file and propose its dictionary, its analysis set and its endpoints."""
    table = read_table(path, sheet)
    notes = []
    exported_missing = [c for c in table.columns if table[c].isin(EXPORT_MISSING).any()]
    if exported_missing:
        table[exported_missing] = table[exported_missing].where(~table[exported_missing].isin(EXPORT_MISSING), None)
        notes.append(f"NA read as missing in {', '.join(exported_missing)} (empty cells in the study's copy): "
                     "check that NA meant 'not recorded' there")

    id_source = _choose_id(table)
    left_out: dict[str, str] = {}
    if id_source is not None and ids_with_names(table[id_source].astype(str)).any():
        left_out[id_source] = "its ids carry what looks like a surname or given name; new ids were numbered"
        id_source = None
    for name in table.columns:
        if name != id_source and name not in left_out:
            reason = _identifier_reason(name, table[name])
            if reason:
                left_out[name] = reason
    kept = [c for c in table.columns if c not in left_out and c != id_source]
    n = len(table)
    ids = table[id_source].astype(str) if id_source else pd.Series([f"P-{i:0{len(str(n))}d}" for i in range(1, n + 1)])
    analysis_set = pd.concat([ids.rename(ID).reset_index(drop=True), table[kept].reset_index(drop=True)], axis=1)

    columns = [Column(ID, "string", True, pattern=id_pattern(analysis_set[ID]), unique=True)]
    columns += [_infer_column(name, analysis_set[name], n) for name in kept]
    typed = _typed(analysis_set, columns)
    for column in [c for c in columns if c.type == "date"]:
        if birth_date_rows(analysis_set[column.name].dropna(), typed).any():
            left_out[column.name] = "its dates give each patient's age: birth dates"
    columns = [c for c in columns if c.name not in left_out]
    analysis_set = analysis_set.drop(columns=[c for c in analysis_set.columns if c in left_out])
    inference = Inference(analysis_set, columns, left_out, id_source, notes=notes)
    propose_endpoints(inference, typed)
    return inference
