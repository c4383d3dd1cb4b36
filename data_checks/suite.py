"""The study's rules, written as a Great Expectations suite.

Read this module as the list of rules a cohort must satisfy before any
statistic is computed. Each rule is one GX expectation with a one-line
``description`` in plain words, a stable ``meta["rule"]`` name (what tests and
the console refer to) and a ``meta["section"]``. Nothing here knows a study:

* per-column rules (presence, ranges, allowed codes, uniqueness, pattern,
  ``required_when``) come from the data dictionary;
* date rules come from study.yml's declarations: the entry date within the
  study window, no date after the cut-off, each endpoint's origin before its
  event and censoring dates, which come before the cut-off, the entry date
  before every origin, and a death date exactly when the patient died;
* time rules come from the endpoints given as time and status columns: a
  time is 0 or more and recorded, a status recorded and, as numbers, one of
  0, 1 and the event's codes (a warning);
* the study's own cross-column rules are the expectations listed under
  ``checks:`` in study.yml;
* privacy rules are the same for every study.

Severity: errors (GX "critical") stop the report; warnings (GX "warning") are
shown and recorded but do not.
"""

from __future__ import annotations

import re

import great_expectations as gx
import great_expectations.expectations as gxe
import pandas as pd
from great_expectations.expectations.row_conditions import Column, Condition

from great_expectations.exceptions import ExpectationNotFoundError
from great_expectations.expectations.registry import get_expectation_impl

from analysis.cohort import PATIENT_ID, ColumnSpec, DataDictionary
from analysis.config import TIME_UNITS, StudySettings, integer_code, time_unit
from analysis.identifiers import (
    FREE_TEXT_MIN_WORDS,
    FREE_TEXT_NAME_PATTERN,
    IDENTIFIER_NAME_PATTERN,
    IDENTIFIER_VALUE_PATTERN,
    PERSON_NAME_PATTERN,
)
from data_checks.custom_expectations import (
    ExpectColumnPairValuesToBeAtLeastDaysApart,
    ExpectTableRowsToDifferBeyondId,
    ExpectTableToHaveNoDirectIdentifiers,
    ExpectTableToHaveNoFreeTextColumns,
)

SUITE_NAME = "cohort_rules"

STRUCTURE = "Structure"
RANGES = "Ranges and allowed values"
DATES = "Dates"
CONSISTENCY = "Consistency between columns"
PRIVACY = "Privacy"
FOLLOW_UP = "Follow-up"
SECTIONS = (STRUCTURE, RANGES, DATES, CONSISTENCY, PRIVACY, FOLLOW_UP)



def _rule(expectation_class, rule: str, section: str, description: str, warning: bool = False, **kwargs):
    return expectation_class(
        description=description,
        meta={"rule": rule, "section": section},
        severity="warning" if warning else "critical",
        **kwargs,
    )


def _pair_order(later: ColumnSpec, earlier: ColumnSpec) -> gxe.Expectation:
    return _rule(
        gxe.ExpectColumnPairValuesAToBeGreaterThanB,
        f"order:{earlier.name}<={later.name}",
        DATES,
        f"{earlier.label} is on or before {later.label.lower()}",
        column_A=later.name,
        column_B=earlier.name,
        or_equal=True,
        ignore_row_if="either_value_is_missing",
    )


_IS = re.compile(r"^\s*(\w+)\s+is\s+(\w+)\s*$")
_COMPARE = re.compile(r"^\s*(\w+)\s*(<=|>=|<|>|==|!=)\s*(-?[0-9.]+)\s*$")


def required_when_condition(dictionary: DataDictionary, text: str) -> Condition:
    """The GX row condition of a dictionary ``required_when`` text.

    Two forms are understood: ``<column> is <value>`` (``yes``/``no`` for a
    boolean column, a code for a category) and ``<column> <op> <number>``.

    Examples
    --------
    >>> dictionary = DataDictionary((ColumnSpec("transplant", "Transplant", "boolean"),
    ...                              ColumnSpec("doses", "Doses", "integer")))
    >>> required_when_condition(dictionary, "transplant is yes")
    transplant == True
    >>> required_when_condition(dictionary, "doses < 3")
    doses < 3
    """
    if match := _IS.match(text):
        spec, word = dictionary.column(match[1]), match[2]
        if spec.type == "boolean" and word in ("yes", "no"):
            return Column(spec.name) == (word == "yes")
        if spec.type == "category" and word in spec.values:
            return Column(spec.name) == word
    elif match := _COMPARE.match(text):
        spec = dictionary.column(match[1])
        number = float(match[3]) if "." in match[3] else int(match[3])
        operators = {"<": "__lt__", "<=": "__le__", ">": "__gt__", ">=": "__ge__", "==": "__eq__", "!=": "__ne__"}
        return getattr(Column(spec.name), operators[match[2]])(number)
    raise ValueError(f"data dictionary: cannot read required_when {text!r} (use '<column> is <value>' or '<column> < <number>')")


_CLAUSE = re.compile(
    r"^\s*(\w+)\s*(?:(<=|>=|<|>|==|!=)\s*('[^']*'|\"[^\"]*\"|-?[0-9.]+|True|False|true|false)|is\s+(not\s+)?null)\s*$"
)
_OPERATORS = {"<": "__lt__", "<=": "__le__", ">": "__gt__", ">=": "__ge__", "==": "__eq__", "!=": "__ne__"}


def row_condition(text: str) -> Condition:
    """A GX row condition from study.yml's words: clauses ``<column> <op> <value>`` or
    ``<column> is [not] null``, joined by ``and`` or by ``or`` (not both).

    Examples
    --------
    >>> row_condition("flow < 0.01")
    flow < 0.01
    >>> row_condition("transplant == false or transplant is null")
    (transplant == False OR transplant IS NULL)
    """
    joiners = {j for j in ("and", "or") if re.search(rf"\s{j}\s", text)}
    if len(joiners) > 1:
        raise ValueError(f"row condition {text!r}: use either 'and' or 'or', not both")
    condition = None
    for clause in re.split(r"\s(?:and|or)\s", text):
        match = _CLAUSE.match(clause)
        if not match:
            raise ValueError(f"row condition {text!r}: cannot read {clause.strip()!r} "
                             "(use '<column> <op> <value>' or '<column> is null')")
        column = Column(match[1])
        if match[2] is None:
            part = column.is_not_null() if match[4] else column.is_null()
        else:
            literal = match[3]
            if literal[0] in "'\"":
                value = literal[1:-1]
            elif literal.lower() in ("true", "false"):
                value = literal.lower() == "true"
            else:
                value = float(literal) if "." in literal else int(literal)
            part = getattr(column, _OPERATORS[match[2]])(value)
        condition = part if condition is None else (condition & part if "and" in joiners else condition | part)
    return condition


def _range_text(spec: ColumnSpec) -> str:
    """The allowed range in words; a dictionary may give only one bound.

    Examples
    --------
    >>> from analysis.cohort import ColumnSpec
    >>> _range_text(ColumnSpec(name="n", label="N", type="integer", min=0))
    'at least 0'
    >>> _range_text(ColumnSpec(name="a", label="A", type="float", unit="years", min=0, max=18, max_exclusive=True))
    '0 to under 18 years'
    """
    percent = "%" if spec.unit == "%" else ""
    unit = "" if spec.unit in (None, "%") else f" {spec.unit}"
    lower = None if spec.min is None else f"{spec.min:g}{percent}"
    upper = None if spec.max is None else ("under " if spec.max_exclusive else "") + f"{spec.max:g}{percent}"
    if lower is not None and upper is not None:
        return f"{lower} to {upper}{unit}"
    if lower is not None:
        return f"at least {lower}{unit}"
    return f"at most {upper}{unit}" if not spec.max_exclusive else f"{upper}{unit}"


def per_column_rules(dictionary: DataDictionary) -> list[gxe.Expectation]:
    """Rules derived from the data dictionary, column by column."""
    rules: list[gxe.Expectation] = [
        _rule(
            gxe.ExpectTableColumnsToMatchSet,
            "columns:present",
            STRUCTURE,
            "Every column of the data dictionary is present",
            column_set=list(dictionary.names),
            exact_match=False,
        ),
        _rule(
            gxe.ExpectTableColumnsToMatchSet,
            "columns:declared",
            STRUCTURE,
            "No column outside the data dictionary (such columns are not analysed)",
            warning=True,
            column_set=list(dictionary.names),
            exact_match=True,
        ),
        _rule(
            gxe.ExpectTableRowCountToBeBetween, "rows:present", STRUCTURE, "The cohort has at least one patient", min_value=1
        ),
    ]
    for spec in dictionary.columns:
        if spec.required:
            rules.append(
                _rule(
                    gxe.ExpectColumnValuesToNotBeNull,
                    f"required:{spec.name}",
                    STRUCTURE,
                    f"{spec.label} is recorded for every patient",
                    column=spec.name,
                )
            )
        if spec.unique:
            rules.append(
                _rule(gxe.ExpectColumnValuesToBeUnique, f"unique:{spec.name}", STRUCTURE, f"{spec.label} is unique", column=spec.name)
            )
        if spec.pattern:
            rules.append(
                _rule(
                    gxe.ExpectColumnValuesToMatchRegex,
                    f"pattern:{spec.name}",
                    STRUCTURE,
                    f"{spec.label} has the pseudonymous form {spec.pattern}",
                    column=spec.name,
                    regex=spec.pattern,
                )
            )
        if spec.min is not None or spec.max is not None:
            rules.append(
                _rule(
                    gxe.ExpectColumnValuesToBeBetween,
                    f"range:{spec.name}",
                    RANGES,
                    f"{spec.label} is {_range_text(spec)}",
                    column=spec.name,
                    min_value=spec.min,
                    max_value=spec.max,
                    strict_max=spec.max_exclusive,
                )
            )
        if spec.type == "category":
            rules.append(
                _rule(
                    gxe.ExpectColumnValuesToBeInSet,
                    f"allowed:{spec.name}",
                    RANGES,
                    f"{spec.label} is one of: {', '.join(spec.values)}",
                    column=spec.name,
                    value_set=list(spec.values),
                )
            )
        if spec.required_when:
            rules.append(
                _rule(
                    gxe.ExpectColumnValuesToNotBeNull,
                    f"required_when:{spec.name}",
                    CONSISTENCY,
                    f"{spec.label} is recorded when {spec.required_when}",
                    column=spec.name,
                    row_condition=required_when_condition(dictionary, spec.required_when),
                )
            )
    return rules


def _noun(spec: ColumnSpec) -> str:
    """A column's label inside a sentence: lower case, without its parenthetical note."""
    return re.sub(r"\s*\(.*\)\s*$", "", spec.label).lower()


def _date_pairs(settings: StudySettings) -> list[tuple[str, str]]:
    """(earlier, later) date columns that the endpoint declarations put in order, each pair once."""
    pairs: list[tuple[str, str]] = []

    def add(earlier: str, later: str) -> None:
        if earlier != later and (earlier, later) not in pairs:
            pairs.append((earlier, later))

    for endpoint in settings.endpoints.values():
        if not endpoint.from_dates:
            continue
        if settings.entry_date is not None:
            add(settings.entry_date, endpoint.origin)
        add(endpoint.origin, endpoint.censor)
        for source in endpoint.events + endpoint.competing:
            add(endpoint.origin, source.date)
            add(source.date, endpoint.censor)
    return pairs


def date_rules(dictionary: DataDictionary, settings: StudySettings) -> list[gxe.Expectation]:
    """Entry within the study window, nothing after the cut-off, the declared dates in their order, death dates."""
    col = dictionary.column
    rules = []
    if settings.entry_date is not None and settings.window_start is not None:
        entry = col(settings.entry_date)
        rules.append(_rule(
            gxe.ExpectColumnValuesToBeBetween,
            f"window:{entry.name}",
            DATES,
            f"{entry.label} is within the study window {settings.window_start} to {settings.window_end}",
            column=entry.name,
            min_value=pd.Timestamp(settings.window_start),
            max_value=pd.Timestamp(settings.window_end),
        ))
    if settings.cutoff_date is not None:
        for spec in dictionary.of_type("date"):
            rules.append(_rule(
                gxe.ExpectColumnValuesToBeBetween,
                f"cutoff:{spec.name}",
                DATES,
                f"{spec.label} is not after the data cut-off {settings.cutoff_date}",
                column=spec.name,
                max_value=pd.Timestamp(settings.cutoff_date),
            ))
    rules += [_pair_order(col(later), col(earlier)) for earlier, later in _date_pairs(settings)]
    death = settings.death
    if death is not None:
        dead, alive = Column(death.status) == death.dead, Column(death.status) != death.dead
        rules += [
            _rule(
                gxe.ExpectColumnPairValuesToBeEqual,
                f"{death.date}_is_{death.last_contact.removesuffix('_date')}",
                DATES,
                f"A patient who died has the {_noun(col(death.date))} as the {_noun(col(death.last_contact))}",
                column_A=death.date,
                column_B=death.last_contact,
                ignore_row_if="either_value_is_missing",
                row_condition=dead,
            ),
            _rule(
                gxe.ExpectColumnValuesToBeNull,
                f"absent_unless:{death.date}",
                DATES,
                f"A patient alive at last contact has no {_noun(col(death.date))}",
                column=death.date,
                row_condition=alive,
            ),
        ]
    return rules


def time_rules(dictionary: DataDictionary, settings: StudySettings) -> list[gxe.Expectation]:
    """What an endpoint given as time and status columns needs of them, each rule once.

    A time is 0 or more; a time and a status are recorded for every patient
    (unless the endpoint has a population: the engine names the patients of it
    who lack one); a numeric status is 0, 1 or one of the event's codes (a
    warning: another code is read as censored, which may be what the study means).
    """
    rules: dict[str, gxe.Expectation] = {}
    codes: dict[str, set] = {}
    for endpoint in settings.endpoints.values():
        if endpoint.from_dates:
            continue
        for source in (endpoint.status_event, endpoint.status_competing):
            if source is None:
                continue
            time, status = dictionary.column(source.time), dictionary.column(source.status)
            unit = time_unit(time.unit)
            if source is endpoint.status_event and endpoint.landmarks and unit is not None:
                # Times in another unit than declared (months read as days) put every landmark past the
                # longest follow-up: the estimates would be "not estimable", 0% or 100%.
                last = max(endpoint.landmarks, key=lambda landmark: landmark.days)
                rules.setdefault(f"follow_up:{time.name}", _rule(
                    gxe.ExpectColumnMaxToBeBetween, f"follow_up:{time.name}", RANGES,
                    f"{time.label} reaches {last.text} for some patient, the last landmark of "
                    f"{endpoint.label.lower()} (if not, is {time.name} really in {unit}?)",
                    warning=True, column=time.name, min_value=last.days / TIME_UNITS[unit],
                ))
            rules.setdefault(f"time:{time.name}>=0", _rule(
                gxe.ExpectColumnValuesToBeBetween, f"time:{time.name}>=0", RANGES,
                f"{time.label} is 0 or more (a time from the origin of {endpoint.label.lower()})",
                column=time.name, min_value=0,
            ))
            for spec in (time, status):
                if endpoint.population is None and not spec.required:
                    rules.setdefault(f"given:{spec.name}", _rule(
                        gxe.ExpectColumnValuesToNotBeNull, f"given:{spec.name}", STRUCTURE,
                        f"{spec.label} is recorded for every patient ({endpoint.label.lower()} needs it)",
                        column=spec.name,
                    ))
            if status.type == "integer":
                codes.setdefault(status.name, {0, 1}).update(
                    code for v in source.event_values if (code := integer_code(v)) is not None)
    for name, allowed in codes.items():
        spec = dictionary.column(name)
        rules[f"allowed:{name}"] = _rule(
            gxe.ExpectColumnValuesToBeInSet, f"allowed:{name}", RANGES,
            f"{spec.label} is one of: {', '.join(map(str, sorted(allowed)))} (another code is read as censored)",
            warning=True, column=name, value_set=sorted(allowed),
        )
    return list(rules.values())


def configured_rules(dictionary: DataDictionary, settings: StudySettings) -> list[gxe.Expectation]:
    """The study's own rules, as study.yml's ``checks:`` lists them; a bad one names its key."""
    rules = []
    for number, check in enumerate(settings.checks):
        key = f"checks[{number}]"
        try:
            expectation_class = get_expectation_impl(check.type)
        except ExpectationNotFoundError:
            raise settings.error(f"{key}.type", f"{check.type!r} is not a Great Expectations expectation") from None
        for argument in ("column", "column_A", "column_B"):
            if argument in check.kwargs and check.kwargs[argument] not in dictionary.names:
                raise settings.error(f"{key}.kwargs.{argument}",
                                     f"{check.kwargs[argument]!r} is not a column of the data dictionary")
        try:
            condition = {"row_condition": row_condition(check.row_condition)} if check.row_condition else {}
        except ValueError as error:
            raise settings.error(f"{key}.row_condition", str(error)) from None
        try:
            rules.append(_rule(expectation_class, check.rule, check.section, check.description,
                               warning=check.severity == "warning", **check.kwargs, **condition))
        except (TypeError, ValueError) as error:  # pydantic's ValidationError is a ValueError
            message = " ".join(str(error).split())
            raise settings.error(key, f"the arguments do not fit {check.type}: {message}") from None
    return rules


def privacy_rules(dictionary: DataDictionary) -> list[gxe.Expectation]:
    """No direct identifiers and no free text in the analysis set."""
    declared = list(dictionary.names)
    return [
        _rule(
            ExpectTableToHaveNoDirectIdentifiers,
            "privacy:no_direct_identifiers",
            PRIVACY,
            "No column is a direct identifier (name, record number, birth date, address, telephone, e-mail)",
            name_pattern=IDENTIFIER_NAME_PATTERN,
            value_pattern=IDENTIFIER_VALUE_PATTERN,
            person_name_pattern=PERSON_NAME_PATTERN,
            declared_columns=declared,
            id_column=PATIENT_ID,
        ),
        _rule(
            ExpectTableToHaveNoFreeTextColumns,
            "privacy:no_free_text",
            PRIVACY,
            "No free-text column (comments, notes) in the analysis set",
            name_pattern=FREE_TEXT_NAME_PATTERN,
            min_words=FREE_TEXT_MIN_WORDS,
            declared_columns=declared,
            id_column=PATIENT_ID,
        ),
    ]


def repeated_patient_rules(dictionary: DataDictionary) -> list[gxe.Expectation]:
    """Warning: two ids whose rows agree in every other dictionary column are probably one patient entered twice."""
    return [
        _rule(
            ExpectTableRowsToDifferBeyondId,
            "rows:one_patient_once",
            STRUCTURE,
            "No two patients have the same values in every column but the patient id",
            warning=True,
            id_column=PATIENT_ID,
            columns=[name for name in dictionary.names if name != PATIENT_ID],
        )
    ]


def follow_up_rules(settings: StudySettings) -> list[gxe.Expectation]:
    """Warnings: data that weaken an estimate without invalidating it."""
    death = settings.death
    if settings.entry_date is None or death is None or settings.landmark_days is None:
        return []
    return [
        _rule(
            ExpectColumnPairValuesToBeAtLeastDaysApart,
            "follow_up:landmark",
            FOLLOW_UP,
            f"A patient alive at last contact was followed for at least the landmark ({settings.landmark_days:g} days)",
            warning=True,
            column_A=settings.entry_date,
            column_B=death.last_contact,
            min_days=settings.landmark_days,
            row_condition=Column(death.status) != death.dead,
        ),
    ]


def study_rules(dictionary: DataDictionary, settings: StudySettings) -> list[gxe.Expectation]:
    """Every rule of the study, in the order of :data:`SECTIONS`.

    Examples
    --------
    >>> from analysis.cohort import load_dictionary
    >>> from analysis.config import load_study
    >>> rules = study_rules(load_dictionary("data/dictionary.yml"), load_study("study.yml"))
    >>> len(rules) >= 30
    True
    >>> sorted({r.meta["section"] for r in rules}) == sorted(SECTIONS)
    True
    """
    rules = (
        per_column_rules(dictionary)
        + date_rules(dictionary, settings)
        + time_rules(dictionary, settings)
        + configured_rules(dictionary, settings)
        + privacy_rules(dictionary)
        + follow_up_rules(settings)
        + repeated_patient_rules(dictionary)
    )
    return sorted(rules, key=lambda r: SECTIONS.index(r.meta["section"]))


def build_suite(dictionary: DataDictionary, settings: StudySettings) -> gx.ExpectationSuite:
    """The GX expectation suite of :func:`study_rules`.

    Examples
    --------
    >>> from analysis.cohort import load_dictionary
    >>> from analysis.config import load_study
    >>> suite = build_suite(load_dictionary("data/dictionary.yml"), load_study("study.yml"))
    >>> suite.name, len(suite.expectations) == len(study_rules(load_dictionary(), load_study()))
    ('cohort_rules', True)
    """
    return gx.ExpectationSuite(name=SUITE_NAME, expectations=study_rules(dictionary, settings))
