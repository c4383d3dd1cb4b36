"""Table 1 (patient characteristics) and Table 2 (outcomes), from the study's declarations.

A table is a list of rows, each holding the typed result it shows and that
result's text. The prose quotes cells by key (``table.text("blasts_over_5")``),
as gtsummary's ``inline_text()`` does, so a sentence and its table cell are the
same object. Table 1 can be split by a variable, with an overall column and a
test column, as ``tbl_summary(by=) |> add_overall() |> add_p()``; Table 2 has
exactly the rows ``outcomes:`` declares, in that order.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd

from analysis import formatting
from analysis.config import Landmark, OutcomeRow
from analysis.descriptive import (
    GroupTest,
    categorical_test,
    category_counts,
    continuous_test,
    count_true,
    summarize_continuous,
)
from analysis.study import Study


@dataclass(frozen=True)
class Row:
    key: str
    label: str
    text: str
    value: Any = None  # the typed result the text was formatted from
    indent: int = 0
    cells: tuple[str, ...] = ()  # one text per group, when the table is split
    test: GroupTest | None = None


@dataclass(frozen=True)
class SummaryTable:
    """A table (characteristic, value[, one column per group, test]) with keyed rows."""

    name: str
    value_header: str
    rows: tuple[Row, ...]
    group_headers: tuple[str, ...] = ()
    test_header: str | None = None

    def row(self, key: str) -> Row:
        for row in self.rows:
            if row.key == key:
                return row
        raise KeyError(f"{self.name} has no row {key!r}; rows: {', '.join(r.key for r in self.rows)}")

    def text(self, key: str) -> str:
        return self.row(key).text

    def value(self, key: str) -> Any:
        return self.row(key).value

    def _columns(self, row: Row) -> list[str]:
        cells = [row.text, *(row.cells or [""] * len(self.group_headers))]
        if self.test_header is not None:
            cells.append(formatting.p_value(row.test.p) if row.test is not None else "")
        return cells

    @property
    def headers(self) -> list[str]:
        return [self.value_header, *self.group_headers] + ([self.test_header] if self.test_header else [])

    def to_frame(self) -> pd.DataFrame:
        data = {"Characteristic": [r.label for r in self.rows]}
        for i, header in enumerate(self.headers):
            data[header] = [self._columns(r)[i] for r in self.rows]
        return pd.DataFrame(data)

    def to_markdown(self) -> str:
        """A pipe table; indented rows get a non-breaking indent so every format shows the nesting."""
        # Pandoc sizes wrapped pipe-table columns by the separator's dashes: a lone
        # value column gets 38%, so an estimate with its CI fits one line in the PDF
        # (in the DOCX, templates/docx-tables.lua sizes the columns to their cells).
        label_dashes, value_dashes = (28, 17) if not self.group_headers else (24, 14)
        lines = ["| Characteristic | " + " | ".join(_escape(h) for h in self.headers) + " |",
                 "|:" + "-" * label_dashes + "|" + "|".join("-" * value_dashes + ":" for _ in self.headers) + "|"]
        for r in self.rows:
            label = "\u00a0" * 4 * r.indent + _escape(r.label)
            lines.append(f"| {label} | " + " | ".join(_escape(c) for c in self._columns(r)) + " |")
        return "\n".join(lines)


def _escape(text: str) -> str:
    return text.replace("|", "\\|")


# -- Table 1 ---------------------------------------------------------------------


def _characteristic(study: Study, name: str, rows: pd.Series) -> list[Row]:
    """The row(s) of one characteristic among the patients in ``rows``."""
    column = study.dictionary.column(name) if name not in study.settings.definitions else None
    if column is not None and column.type in ("float", "integer"):
        values = study.cohort.loc[rows, name]
        if values.notna().sum() == 0:
            return [Row(name, f"{column.label}, median (range)", formatting.NOT_ESTIMABLE)]
        summary = summarize_continuous(values)
        return [Row(name, f"{column.label}, median (range)", formatting.median_range(summary), summary)]
    if column is not None and column.type == "category":
        result = [Row(name, column.label, "", None)]
        for count in category_counts(study.cohort.loc[rows, name], column.values):
            code = next(c for c, lab in column.values.items() if lab == count.label)
            text = formatting.count_percent(count) if count.denominator else formatting.NOT_ESTIMABLE
            result.append(Row(f"{name}={code}", count.label, text, count, 1))
        return result
    count = count_true(study.flag(name)[rows], label=study.label(name))
    text = formatting.count_percent(count) if count.denominator else formatting.NOT_ESTIMABLE
    return [Row(name, study.label(name), text, count)]


def _test(study: Study, name: str, codes: pd.Series, levels: list[str]) -> GroupTest:
    known = codes.notna()
    column = study.dictionary.column(name) if name not in study.settings.definitions else None
    if column is not None and column.type in ("float", "integer"):
        values = study.cohort[name].astype(float)
        return continuous_test([values[known & (codes == level)] for level in levels])
    if column is not None and column.type == "category":
        values = study.cohort[name]
        categories = list(column.values)
    else:
        values = study.flag(name).map({True: "yes", False: "no"})
        categories = ["yes", "no"]
    present = known & values.notna()
    table = pd.crosstab(pd.Categorical(values[present], categories=categories),
                        pd.Categorical(codes[present], categories=levels), dropna=False)
    return categorical_test(table.to_numpy())


def patient_characteristics(study: Study) -> SummaryTable:
    """Table 1: the rows listed under ``characteristics`` in study.yml, n (%) of all patients.

    With ``characteristics_by``, a column per level of that variable follows
    the overall column, and with ``characteristics_test`` a column of p-values.
    """
    s = study.settings
    everyone = pd.Series(True, index=study.cohort.index)
    rows = [row for name in s.characteristics for row in _characteristic(study, name, everyone)]
    if s.characteristics_by is None:
        return SummaryTable("Table 1", f"N = {study.n}", tuple(rows))
    codes, labels = study.levels(s.characteristics_by)
    levels = list(labels)
    by_group = {level: {r.key: r.text for name in s.characteristics
                        for r in _characteristic(study, name, (codes == level).fillna(False))}
                for level in levels}
    tests = {}
    if s.characteristics_test:
        tests = {name: _test(study, name, codes, levels) for name in s.characteristics}
    split = tuple(
        Row(r.key, r.label, r.text, r.value, r.indent, cells=tuple(by_group[level][r.key] for level in levels),
            test=tests.get(r.key))
        for r in rows
    )
    headers = tuple(f"{labels[level]}, N = {int((codes == level).sum())}" for level in levels)
    return SummaryTable("Table 1", f"Overall, N = {study.n}", split, group_headers=headers,
                        test_header="p-value" if s.characteristics_test else None)


# -- Table 2 ---------------------------------------------------------------------


def _estimate_at(result, at: Landmark | None):
    if at is None or at.text in result.estimates:
        return result.at(at or result.landmark)
    return result.curve.at(at.days) if result.curve is not None else None


def _estimate_text(estimate) -> str:
    return formatting.estimate_ci(estimate) if estimate is not None else formatting.NOT_ESTIMABLE


def _outcome_rows(study: Study, row: OutcomeRow) -> list[Row]:
    indent = row.indent
    if row.kind == "proportion":
        result = study.proportions[row.name]
        count = result.count
        label = row.label or (f"{result.label}, of the {count.denominator} with {result.among_label.lower()}"
                              if result.among_label else result.label)
        text = (f"{formatting.count_percent(count)}, {formatting.interval(result.proportion)}"
                if result.proportion is not None else formatting.NOT_ESTIMABLE)
        return [Row(row.name, label.format(n=count.denominator), text, result.proportion, indent)]
    if row.kind == "count":
        count = study.count(row.name, among=row.among)
        text = formatting.count_percent(count) if count.denominator else formatting.NOT_ESTIMABLE
        return [Row(row.name, (row.label or study.label(row.name)).format(n=count.denominator), text, count, indent)]
    if row.kind == "categories":
        column = study.dictionary.column(row.name)
        among = study.flag(row.among) if row.among else pd.Series(True, index=study.cohort.index)
        label = (row.label or column.label).format(n=int(among.sum()))
        rows = [Row(row.name, label, "", None, indent)]
        for count in category_counts(study.cohort.loc[among, row.name].dropna(), column.values):
            code = next(c for c, lab in column.values.items() if lab == count.label)
            text = formatting.count_percent(count) if count.denominator else formatting.NOT_ESTIMABLE
            rows.append(Row(f"{row.name}={code}", count.label, text, count, indent + 1))
        return rows
    if row.kind in ("survival", "cumulative_incidence"):
        result = study.endpoints[row.name]
        at = row.at or result.landmark
        endpoint = result.endpoint
        default = (f"Cumulative incidence of {endpoint.label[0].lower()}{endpoint.label[1:]} at {at.text} "
                   f"({endpoint.competing_text} competing)"
                   if row.kind == "cumulative_incidence" else f"{at.adjective} {endpoint.label.lower()}, all patients")
        estimate = _estimate_at(result, at)
        return [Row(f"{row.name}@{at.text}", row.label or default, _estimate_text(estimate), estimate, indent)]
    if row.kind == "comparison":
        comparison = study.comparisons[row.name]
        at = row.at or comparison.landmark
        rows = []
        for group in comparison.groups:
            estimate = _estimate_at(group.result, at)
            rows.append(Row(f"{row.name}:{group.level}", f"{group.label} (n={group.n})", _estimate_text(estimate),
                            estimate, indent + 1))
        test_text = formatting.p_value(comparison.test.p) if comparison.test is not None else comparison.note
        rows.append(Row(f"{row.name}:test", comparison.test_name, test_text, comparison.test, indent + 1))
        reference = comparison.group(comparison.reference).label
        for level, ratio in comparison.hazard_ratios.items():
            rows.append(Row(f"{row.name}:hazard_ratio:{level}",
                            f"Hazard ratio, {comparison.group(level).label} vs {reference}",
                            formatting.hazard_ratio(ratio), ratio, indent + 1))
        return rows
    result = study.endpoints[row.name]
    unit = result.endpoint.unit
    if row.kind == "median":
        label = row.label or f"Median {result.endpoint.label.lower()}, {unit}"
        text = formatting.median_ci(result.median, unit) if result.median else formatting.NOT_ESTIMABLE
        return [Row(f"{row.name}:median", label, text, result.median, indent)]
    label = row.label or f"Median follow-up (reverse Kaplan-Meier), {unit}"
    follow_up = result.follow_up
    text = formatting.median_ci(follow_up.median, unit) if follow_up else formatting.NOT_ESTIMABLE
    return [Row(f"{row.name}:follow_up", label, text, follow_up, indent)]


def outcomes(study: Study) -> SummaryTable:
    """Table 2: the rows declared under ``outcomes`` in study.yml, in their order."""
    rows = [r for row in study.settings.outcomes for r in _outcome_rows(study, row)]
    return SummaryTable("Table 2", f"N = {study.n}", tuple(rows))
