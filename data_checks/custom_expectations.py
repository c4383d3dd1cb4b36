"""Great Expectations custom expectations for the rules GX has no built-in for.

* :class:`ExpectColumnPairValuesToBeAtLeastDaysApart`: a column-pair map
  expectation, "B is at least ``min_days`` days after A" (follow-up long
  enough to reach the landmark).
* :class:`ExpectTableToHaveNoDirectIdentifiers`: a batch expectation over the
  whole table, "no column is a direct identifier" judged by column name, for
  columns the dictionary does not declare also by content (e-mail addresses,
  telephone and national numbers, personal names, birth dates), and for the
  patient id by the names it may carry (``analysis/identifiers.py``).
* :class:`ExpectTableRowsToDifferBeyondId`: a batch expectation, "no two
  patients have the same values in every other column" (one patient entered
  twice under two ids).
* :class:`ExpectTableToHaveNoFreeTextColumns`: a batch expectation, "no column
  outside the dictionary holds free text" (by name, or values of several
  words).

The batch expectations put their findings in ``result["details"]["findings"]``,
a list of ``{"column", "reason", "patient_ids", "n_patients", "values"}``, so
the console summary can name patients as it does for the built-in map
expectations. Only the pandas engine is implemented: the cohort is a file
loaded into pandas.
"""

from __future__ import annotations

import re
from typing import Any, ClassVar

import pandas as pd
from great_expectations.core.metric_domain_types import MetricDomainTypes
from great_expectations.execution_engine import PandasExecutionEngine
from great_expectations.expectations.expectation import BatchExpectation, ColumnPairMapExpectation
from great_expectations.expectations.metrics.map_metric_provider import (
    ColumnPairMapMetricProvider,
    column_pair_condition_partial,
)
from great_expectations.expectations.metrics.metric_provider import metric_value
from great_expectations.expectations.metrics.table_metric_provider import TableMetricProvider

from analysis.identifiers import birth_date_rows, column_words, ids_with_names

# How many patient ids and values a finding keeps; the count says how many more.
MAX_LISTED = 10


class ColumnPairValuesDaysApartAtLeast(ColumnPairMapMetricProvider):
    """Rows where column B is at least ``min_days`` days after column A."""

    condition_metric_name = "column_pair_values.days_apart_at_least"
    condition_domain_keys = (
        "batch_id",
        "table",
        "column_A",
        "column_B",
        "row_condition",
        "condition_parser",
        "ignore_row_if",
    )
    condition_value_keys = ("min_days",)

    @column_pair_condition_partial(engine=PandasExecutionEngine)
    def _pandas(cls, column_A, column_B, **kwargs):  # noqa: N803 (GX's argument names)
        days = (column_B - column_A) / pd.Timedelta(days=1)
        return days >= kwargs["min_days"]


class ExpectColumnPairValuesToBeAtLeastDaysApart(ColumnPairMapExpectation):
    """Expect the date in column B to be at least ``min_days`` days after the date in column A.

    Rows where either date is missing are ignored.
    """

    min_days: float
    ignore_row_if: str = "either_value_is_missing"

    map_metric = "column_pair_values.days_apart_at_least"
    success_keys = ("column_A", "column_B", "min_days", "ignore_row_if", "mostly")
    args_keys = ("column_A", "column_B", "min_days")


def _finding(column: str, reason: str, rows: pd.Series, patient_ids: pd.Series, show: bool = True) -> dict[str, Any]:
    """One finding: the column, why, and the patients (first few) with their values.

    ``show=False`` withholds the values: repeating a name or an e-mail address
    in the console and the Data Docs would spread it further.
    """
    return {
        "column": column,
        "reason": reason,
        "patient_ids": [str(p) for p in patient_ids[rows.index[:MAX_LISTED]]],
        "n_patients": int(rows.size),
        "values": [str(v) if show else "(withheld)" for v in rows.iloc[:MAX_LISTED]],
    }


def _text_columns(df: pd.DataFrame, skip: list[str]) -> list[str]:
    return [c for c in df.columns if c not in skip and df[c].dtype == object]


class TableDirectIdentifiers(TableMetricProvider):
    """Columns that look like direct identifiers, by name or by content."""

    metric_name = "table.direct_identifiers"
    value_keys = ("name_pattern", "value_pattern", "person_name_pattern", "declared_columns", "id_column")

    @metric_value(engine=PandasExecutionEngine)
    def _pandas(cls, execution_engine, metric_domain_kwargs, metric_value_kwargs, metrics, runtime_configuration):
        df, _, _ = execution_engine.get_compute_domain(metric_domain_kwargs, domain_type=MetricDomainTypes.TABLE)
        name_pattern = re.compile(metric_value_kwargs["name_pattern"], re.IGNORECASE)
        id_column = metric_value_kwargs["id_column"]
        patient_ids = df[id_column] if id_column in df.columns else pd.Series(df.index, index=df.index)
        findings = []
        for column in df.columns:
            normalised = column_words(column)
            if name_pattern.search(normalised):
                filled = df[column].dropna()
                findings.append(
                    _finding(column, "column name looks like a direct identifier", filled, patient_ids, show=False)
                )
        named = {f["column"] for f in findings}
        # Declared columns are typed and checked against codes or a pattern already.
        for column in _text_columns(df, list(metric_value_kwargs["declared_columns"]) + sorted(named)):
            values = df[column].dropna().astype(str)
            matches = values[values.str.contains(metric_value_kwargs["value_pattern"], case=False, regex=True)]
            if not matches.empty:
                findings.append(
                    _finding(
                        column, "values look like e-mail addresses or telephone numbers", matches, patient_ids, show=False
                    )
                )
                continue
            names = values[values.str.contains(metric_value_kwargs["person_name_pattern"], regex=True)]
            if not names.empty:
                findings.append(_finding(column, "values look like personal names", names, patient_ids, show=False))
                continue
            births = birth_date_rows(values, df)
            if births.any():
                findings.append(
                    _finding(
                        column, "values are dates that give each patient's age: birth dates", values[births], patient_ids,
                        show=False,
                    )
                )
        if id_column in df.columns:
            ids = df[id_column].dropna()
            named = ids[ids_with_names(ids)]
            if not named.empty:
                # The ids themselves would show the names: the rows are named instead (row 2 is the first patient).
                rows = pd.Series([f"row {position + 2}" for position in df.index.get_indexer(named.index)], index=named.index)
                findings.append(
                    _finding(id_column, "patient ids carry what looks like a surname or given name", named, rows, show=False)
                )
        return findings


class TableRepeatedRecords(TableMetricProvider):
    """Groups of patients whose rows are identical in ``columns`` (every column but the id)."""

    metric_name = "table.repeated_records"
    value_keys = ("id_column", "columns")

    @metric_value(engine=PandasExecutionEngine)
    def _pandas(cls, execution_engine, metric_domain_kwargs, metric_value_kwargs, metrics, runtime_configuration):
        df, _, _ = execution_engine.get_compute_domain(metric_domain_kwargs, domain_type=MetricDomainTypes.TABLE)
        id_column = metric_value_kwargs["id_column"]
        others = [c for c in metric_value_kwargs["columns"] if c in df.columns]
        if id_column not in df.columns or not others:
            return []
        repeated = df[df.duplicated(subset=others, keep=False)]
        if repeated.empty:
            return []
        groups = repeated.groupby(others, dropna=False, sort=False)[id_column].agg(lambda ids: " = ".join(map(str, ids)))
        return [{
            "column": id_column,
            "reason": f"same values in every other column: {'; '.join(groups)} (the same patient entered twice?)",
            "patient_ids": [str(p) for p in repeated[id_column].iloc[:MAX_LISTED]],
            "n_patients": len(repeated),
            "values": [],
        }]


class TableFreeTextColumns(TableMetricProvider):
    """Undeclared text columns that hold free text, by name or by content."""

    metric_name = "table.free_text_columns"
    value_keys = ("name_pattern", "min_words", "declared_columns", "id_column")

    @metric_value(engine=PandasExecutionEngine)
    def _pandas(cls, execution_engine, metric_domain_kwargs, metric_value_kwargs, metrics, runtime_configuration):
        df, _, _ = execution_engine.get_compute_domain(metric_domain_kwargs, domain_type=MetricDomainTypes.TABLE)
        name_pattern = re.compile(metric_value_kwargs["name_pattern"], re.IGNORECASE)
        id_column = metric_value_kwargs["id_column"]
        patient_ids = df[id_column] if id_column in df.columns else pd.Series(df.index, index=df.index)
        words = rf"(?:\S+\s+){{{metric_value_kwargs['min_words'] - 1}}}\S+"
        findings = []
        for column in _text_columns(df, list(metric_value_kwargs["declared_columns"])):
            values = df[column].dropna().astype(str)
            normalised = column_words(column)
            if name_pattern.search(normalised):
                findings.append(_finding(column, "column name suggests free text", values, patient_ids, show=False))
                continue
            sentences = values[values.str.contains(words, regex=True)]
            if not sentences.empty:
                findings.append(_finding(column, "values are free text (several words)", sentences, patient_ids, show=False))
        return findings


class _FindingsExpectation(BatchExpectation):
    """A batch expectation that succeeds when its metric finds nothing."""

    domain_keys: ClassVar[tuple[str, ...]] = ("batch_id",)

    def _validate(self, metrics, runtime_configuration=None, execution_engine=None):
        findings = metrics[self.metric_dependencies[0]]
        return {
            "success": not findings,
            "result": {
                "observed_value": sorted({f["column"] for f in findings}) or "none",
                "details": {"findings": findings},
            },
        }


class ExpectTableToHaveNoDirectIdentifiers(_FindingsExpectation):
    """Expect no column to be a direct identifier (name, record number, birth date, contact details).

    ``name_pattern`` is searched in each column name, lower-cased, with runs of
    other characters replaced by ``_`` and ``_`` added at both ends.
    ``value_pattern`` (any case) and ``person_name_pattern`` (case as
    written) are searched in the values of text columns not in
    ``declared_columns``; those columns are also refused when their dates
    give each patient's age (birth dates), and ``id_column`` when its ids
    carry a name (see :mod:`analysis.identifiers`).
    """

    name_pattern: str
    value_pattern: str
    person_name_pattern: str
    declared_columns: list[str]
    id_column: str

    metric_dependencies: ClassVar[tuple[str, ...]] = ("table.direct_identifiers",)
    success_keys: ClassVar[tuple[str, ...]] = (
        "name_pattern", "value_pattern", "person_name_pattern", "declared_columns", "id_column"
    )


class ExpectTableRowsToDifferBeyondId(_FindingsExpectation):
    """Expect no two rows to have the same values in all of ``columns`` (every column but ``id_column``)."""

    id_column: str
    columns: list[str]

    metric_dependencies: ClassVar[tuple[str, ...]] = ("table.repeated_records",)
    success_keys: ClassVar[tuple[str, ...]] = ("id_column", "columns")


class ExpectTableToHaveNoFreeTextColumns(_FindingsExpectation):
    """Expect no free-text column outside ``declared_columns``.

    A text column is free text when its name matches ``name_pattern`` (matched
    as in :class:`ExpectTableToHaveNoDirectIdentifiers`) or a value has at
    least ``min_words`` words.
    """

    name_pattern: str
    min_words: int
    declared_columns: list[str]
    id_column: str

    metric_dependencies: ClassVar[tuple[str, ...]] = ("table.free_text_columns",)
    success_keys: ClassVar[tuple[str, ...]] = ("name_pattern", "min_words", "declared_columns", "id_column")
