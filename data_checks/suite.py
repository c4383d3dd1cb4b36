"""The study's rules, written as a Great Expectations suite.

Read this module as the list of rules a cohort must satisfy before any
statistic is computed. Each rule is one GX expectation with a one-line
``description`` in plain words, a stable ``meta["rule"]`` name (what tests and
the console refer to) and a ``meta["section"]``. Per-column rules (presence,
types' ranges, allowed codes, uniqueness, pattern, ``required_when``) are
derived from the data dictionary; rules between columns are written out here.

Severity: errors (GX "critical") stop the report; warnings (GX "warning") are
shown and recorded but do not.
"""

from __future__ import annotations

import re

import great_expectations as gx
import great_expectations.expectations as gxe
import pandas as pd
from great_expectations.expectations.row_conditions import Column, Condition

from analysis.cohort import ColumnSpec, DataDictionary, StudySettings
from analysis.identifiers import IDENTIFIER_NAME_PATTERN, IDENTIFIER_VALUE_PATTERN, PERSON_NAME_PATTERN
from data_checks.custom_expectations import (
    ExpectColumnPairValuesToBeAtLeastDaysApart,
    ExpectTableRowsToDifferBeyondId,
    ExpectTableToHaveNoDirectIdentifiers,
    ExpectTableToHaveNoFreeTextColumns,
)

SUITE_NAME = "cohort_rules"
PATIENT_ID = "patient_id"

STRUCTURE = "Structure"
RANGES = "Ranges and allowed values"
DATES = "Dates"
CONSISTENCY = "Consistency between columns"
PRIVACY = "Privacy"
FOLLOW_UP = "Follow-up"
SECTIONS = (STRUCTURE, RANGES, DATES, CONSISTENCY, PRIVACY, FOLLOW_UP)

FREE_TEXT_NAME_PATTERN = r"_(comment|comments|note|notes|remark|remarks|free_?text|description|narrative|text)_"
# A value of this many words or more is prose, not a code.
FREE_TEXT_MIN_WORDS = 3


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
    >>> from analysis.cohort import load_dictionary
    >>> dictionary = load_dictionary("data/dictionary.yml")
    >>> required_when_condition(dictionary, "hsct_after_ino is yes")
    hsct_after_ino == True
    >>> required_when_condition(dictionary, "ino_doses < 3")
    ino_doses < 3
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


def _range_text(spec: ColumnSpec) -> str:
    unit = "" if spec.unit in (None, "%") else f" {spec.unit}"
    upper = f"under {spec.max:g}" if spec.max_exclusive else f"{spec.max:g}"
    if spec.unit == "%":
        return f"{spec.min:g}% to {upper}%"
    return f"{spec.min:g} to {upper}{unit}"


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


def date_rules(dictionary: DataDictionary, settings: StudySettings) -> list[gxe.Expectation]:
    """InO within the study window, nothing after the cut-off, events in their order."""
    col = dictionary.column
    cutoff = pd.Timestamp(settings.cutoff_date)
    rules = [
        _rule(
            gxe.ExpectColumnValuesToBeBetween,
            "window:ino_start_date",
            DATES,
            f"{col('ino_start_date').label} is within the study window {settings.window_start} to {settings.window_end}",
            column="ino_start_date",
            min_value=pd.Timestamp(settings.window_start),
            max_value=pd.Timestamp(settings.window_end),
        )
    ]
    for spec in dictionary.of_type("date"):
        rules.append(
            _rule(
                gxe.ExpectColumnValuesToBeBetween,
                f"cutoff:{spec.name}",
                DATES,
                f"{spec.label} is not after the data cut-off {settings.cutoff_date}",
                column=spec.name,
                max_value=cutoff,
            )
        )
    for earlier, later in [
        ("ino_start_date", "hsct_date"),
        ("hsct_date", "last_contact_date"),
        ("ino_start_date", "last_contact_date"),
        ("ino_start_date", "relapse_date"),
        ("relapse_date", "last_contact_date"),
        ("hsct_date", "sos_date"),
        ("sos_date", "last_contact_date"),
    ]:
        rules.append(_pair_order(col(later), col(earlier)))
    dead, alive = Column("vital_status") == "dead", Column("vital_status") == "alive"
    rules += [
        _rule(
            gxe.ExpectColumnPairValuesToBeEqual,
            "death_date_is_last_contact",
            DATES,
            "A patient who died has the date of death as the date of last contact",
            column_A="death_date",
            column_B="last_contact_date",
            ignore_row_if="either_value_is_missing",
            row_condition=dead,
        ),
        _rule(
            gxe.ExpectColumnValuesToBeNull,
            "absent_unless:death_date",
            DATES,
            "A patient alive at last contact has no date of death",
            column="death_date",
            row_condition=alive,
        ),
    ]
    return rules


def consistency_rules(settings: StudySettings) -> list[gxe.Expectation]:
    """Values recorded only where they make sense; response against detectable disease."""
    threshold = settings.mrd_threshold_pct
    blasts = getattr(settings, "blast_threshold_pct", None)
    # Flow below the threshold with overt marrow blasts: one of the two measurements is probably wrong.
    agreement = [] if blasts is None else [
        _rule(
            gxe.ExpectColumnValuesToBeBetween,
            "response:blasts_agree_with_flow",
            CONSISTENCY,
            f"Bone-marrow blasts are at most {blasts:g}% when flow MRD is below {threshold:g}% "
            "(otherwise check both measurements)",
            warning=True,
            column="bm_blasts_pct",
            max_value=blasts,
            row_condition=Column("flow_mrd_pct") < threshold,
        )
    ]
    return agreement + [
        _rule(
            gxe.ExpectColumnValuesToBeInSet,
            "response:not_evaluable_without_disease",
            CONSISTENCY,
            f"Response is 'not_evaluable' when there was no detectable disease at InO (flow MRD < {threshold:g}%)",
            column="response",
            value_set=["not_evaluable"],
            row_condition=Column("flow_mrd_pct") < threshold,
        ),
        _rule(
            gxe.ExpectColumnValuesToNotBeInSet,
            "response:evaluable_with_disease",
            CONSISTENCY,
            f"Response is evaluated (not 'not_evaluable') when disease was detectable at InO (flow MRD >= {threshold:g}%)",
            column="response",
            value_set=["not_evaluable"],
            row_condition=Column("flow_mrd_pct") >= threshold,
        ),
        _rule(
            gxe.ExpectColumnValuesToBeNull,
            "absent_unless:ino_stop_reason",
            CONSISTENCY,
            "No early-stop reason when all 3 doses of the first cycle were given",
            column="ino_stop_reason",
            row_condition=Column("ino_doses") >= 3,
        ),
        _rule(
            gxe.ExpectColumnValuesToBeNull,
            "absent_unless:further_therapy_type",
            CONSISTENCY,
            "A type of further therapy only when further therapy was given",
            column="further_therapy_type",
            row_condition=Column("further_therapy") == False,  # noqa: E712 (a GX condition, not a test)
        ),
        _rule(
            gxe.ExpectColumnValuesToBeNull,
            "absent_unless:hsct_date",
            CONSISTENCY,
            "An HSCT date only for patients who had HSCT after InO",
            column="hsct_date",
            row_condition=Column("hsct_after_ino") == False,  # noqa: E712
        ),
        _rule(
            gxe.ExpectColumnValuesToBeNull,
            "absent_unless:sos",
            CONSISTENCY,
            "SOS is recorded only for patients who had HSCT after InO",
            column="sos",
            row_condition=Column("hsct_after_ino") == False,  # noqa: E712
        ),
        _rule(
            gxe.ExpectColumnValuesToBeNull,
            "absent_unless:sos_date",
            CONSISTENCY,
            "An SOS date only when SOS is yes",
            column="sos_date",
            row_condition=(Column("sos") == False) | Column("sos").is_null(),  # noqa: E712
        ),
    ]


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
    return [
        _rule(
            ExpectColumnPairValuesToBeAtLeastDaysApart,
            "follow_up:landmark",
            FOLLOW_UP,
            f"A patient alive at last contact was followed for at least the landmark ({settings.landmark_days:g} days)",
            warning=True,
            column_A="ino_start_date",
            column_B="last_contact_date",
            min_days=settings.landmark_days,
            row_condition=Column("vital_status") == "alive",
        ),
    ]


def study_rules(dictionary: DataDictionary, settings: StudySettings) -> list[gxe.Expectation]:
    """Every rule of the study, in the order of :data:`SECTIONS`.

    Examples
    --------
    >>> from analysis.cohort import load_dictionary, load_study
    >>> rules = study_rules(load_dictionary("data/dictionary.yml"), load_study("study.yml"))
    >>> len(rules) >= 30
    True
    >>> next(r for r in rules if r.meta["rule"] == "range:age_years").description
    'Age at InO, years is 0 to under 18 years'
    """
    rules = (
        per_column_rules(dictionary)
        + date_rules(dictionary, settings)
        + consistency_rules(settings)
        + privacy_rules(dictionary)
        + follow_up_rules(settings)
        + repeated_patient_rules(dictionary)
    )
    return sorted(rules, key=lambda r: SECTIONS.index(r.meta["section"]))


def build_suite(dictionary: DataDictionary, settings: StudySettings) -> gx.ExpectationSuite:
    """The GX expectation suite of :func:`study_rules`.

    Examples
    --------
    >>> from analysis.cohort import load_dictionary, load_study
    >>> suite = build_suite(load_dictionary("data/dictionary.yml"), load_study("study.yml"))
    >>> suite.name, len(suite.expectations) == len(study_rules(load_dictionary(), load_study()))
    ('cohort_rules', True)
    """
    return gx.ExpectationSuite(name=SUITE_NAME, expectations=study_rules(dictionary, settings))
