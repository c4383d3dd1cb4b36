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
    Count,
    GroupTest,
    categorical_test,
    category_counts,
    continuous_test,
    count_true,
    summarize_continuous,
)
from analysis.study import Study


# How the footnote names each test: Fisher's replaces the chi-square test on small expected counts.
_TEST_NOTES = {"Fisher's exact test": "Fisher's exact test (an expected count below 5)"}


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
    # The tests behind the p-values, in order of first use: the footnote numbers them.
    test_names: tuple[str, ...] = ()
    # A sentence under the table (patients in no column of a split, for instance).
    note: str | None = None

    def row(self, key: str) -> Row:
        for row in self.rows:
            if row.key == key:
                return row
        raise KeyError(f"{self.name} has no row {key!r}; rows: {', '.join(r.key for r in self.rows)}")

    def text(self, key: str) -> str:
        return self.row(key).text

    def value(self, key: str) -> Any:
        return self.row(key).value

    def _columns(self, row: Row, marked: bool = False) -> list[str]:
        cells = [row.text, *(row.cells or [""] * len(self.group_headers))]
        if self.test_header is not None:
            text = formatting.p_value(row.test.p) if row.test is not None else ""
            if marked and row.test is not None and row.test.test in self.test_names:
                text += f"^{_mark(self.test_names.index(row.test.test))}^"
            cells.append(text)
        return cells

    @property
    def footnote(self) -> str:
        """Which test each p-value is, by its mark: "^a^ Pearson's chi-square test; ^b^ Kruskal-Wallis test"."""
        return "; ".join(f"^{_mark(i)}^ {_TEST_NOTES.get(name, name)}" for i, name in enumerate(self.test_names))

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
            lines.append(f"| {label} | " + " | ".join(_escape(c) for c in self._columns(r, marked=True)) + " |")
        table = "\n".join(lines)
        notes = [text for text in (self.footnote if self.test_names else None, self.note) if text]
        return "\n\n".join([table, *notes])


def _mark(index: int) -> str:
    """A test's footnote mark: a letter, never a digit, which copied as plain text would run into the
    p-value it follows (p=0.804 with mark 2 reads "p=0.8042").

    Examples
    --------
    >>> [_mark(i) for i in (0, 1, 25, 26)]
    ['a', 'b', 'z', 'aa']
    """
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(ord("a") + rest) + letters
    return letters


def _escape(text: str) -> str:
    return text.replace("|", "\\|")


# -- Table 1 ---------------------------------------------------------------------


def _column(study: Study, name: str):
    """The dictionary column a characteristic reads, or None for a study definition."""
    return study.dictionary.column(name) if name not in study.settings.definitions else None


def _missing(study: Study, name: str) -> pd.Series:
    """Patients whose value of the characteristic is not recorded (a definition is never missing: it counts as no)."""
    if _column(study, name) is None:
        return pd.Series(False, index=study.cohort.index)
    return study.cohort[name].isna()


def _characteristic(study: Study, name: str, rows: pd.Series, unknown: bool, whole_numbers: bool) -> list[Row]:
    """The row(s) of one characteristic among the patients in ``rows``.

    With ``unknown``, an indented "Unknown" row counts the patients without a
    value, as gtsummary's missing row: the other rows are of known values only.
    """
    column = _column(study, name)
    missing_anywhere = _missing(study, name)
    missing = missing_anywhere[rows]
    if column is not None and column.type in ("float", "integer"):
        values = study.cohort.loc[rows, name]
        if values.notna().sum() == 0:
            result = [Row(name, f"{column.label}, median (range)", formatting.NOT_ESTIMABLE)]
        else:
            summary = summarize_continuous(values)
            result = [Row(name, f"{column.label}, median (range)",
                          formatting.median_range(summary, whole_numbers=whole_numbers), summary)]
    elif column is not None and column.type == "category":
        result = [Row(name, column.label, "", None)]
        for count in category_counts(study.cohort.loc[rows, name], column.values):
            code = next(c for c, lab in column.values.items() if lab == count.label)
            text = formatting.count_percent(count) if count.denominator else formatting.NOT_ESTIMABLE
            result.append(Row(f"{name}={code}", count.label, text, count, 1))
    else:
        count = count_true(study.flag(name)[rows & ~missing_anywhere], label=study.label(name))
        text = formatting.count_percent(count) if count.denominator else formatting.NOT_ESTIMABLE
        result = [Row(name, study.label(name), text, count)]
    if unknown:
        count = Count(int(missing.sum()), int(rows.sum()), "Unknown")
        result.append(Row(f"{name}:unknown", "Unknown", formatting.number(count.count), count, 1))
    return result


def _test(study: Study, name: str, codes: pd.Series, levels: list[str]) -> GroupTest:
    known = codes.notna()
    column = _column(study, name)
    if column is not None and column.type in ("float", "integer"):
        values = study.cohort[name].astype(float)
        return continuous_test([values[known & (codes == level)] for level in levels])
    if column is not None and column.type == "category":
        values = study.cohort[name]
        categories = list(column.values)
    else:
        values = study.flag(name).map({True: "yes", False: "no"}).where(~_missing(study, name))
        categories = ["yes", "no"]
    present = known & values.notna()
    table = pd.crosstab(pd.Categorical(values[present], categories=categories),
                        pd.Categorical(codes[present], categories=levels), dropna=False)
    return categorical_test(table.to_numpy())


def patient_characteristics(study: Study) -> SummaryTable:
    """Table 1: the rows listed under ``characteristics`` in study.yml, n (%) of all patients.

    With ``characteristics_by``, a column per level of that variable follows
    the overall column (the variable itself is not a row), and with
    ``characteristics_test`` a column of p-values, each test named in a
    footnote. A characteristic some patients lack has an "Unknown" row.
    """
    s = study.settings
    names = [name for name in s.characteristics if name != s.characteristics_by]
    unknown = {name: bool(_missing(study, name).any()) for name in names}
    whole = {}
    for name in names:
        column = _column(study, name)
        values = study.cohort[name] if column is not None and column.type in ("float", "integer") else None
        whole[name] = values is not None and values.notna().any() and summarize_continuous(values).whole_numbers

    def rows_among(patients: pd.Series) -> list[Row]:
        return [row for name in names for row in _characteristic(study, name, patients, unknown[name], whole[name])]

    rows = rows_among(pd.Series(True, index=study.cohort.index))
    if s.characteristics_by is None:
        return SummaryTable("Table 1", f"N = {study.n}", tuple(rows))
    codes, labels = study.levels(s.characteristics_by)
    levels = list(labels)
    by_group = {level: {r.key: r.text for r in rows_among((codes == level).fillna(False))} for level in levels}
    tests = {}
    if s.characteristics_test:
        tests = {name: _test(study, name, codes, levels) for name in names}
    split = tuple(
        Row(r.key, r.label, r.text, r.value, r.indent, cells=tuple(by_group[level][r.key] for level in levels),
            test=tests.get(r.key))
        for r in rows
    )
    headers = tuple(f"{labels[level]}, N = {int((codes == level).sum())}" for level in levels)
    used = list(dict.fromkeys(test.test for test in tests.values()))
    outside = int((~codes.isin(levels)).sum())
    by_label = formatting.in_sentence(study.label(s.characteristics_by))
    note = (f"{formatting.sentence_start(outside)} {'patient' if outside == 1 else 'patients'} with {by_label} unknown "
            f"{'is' if outside == 1 else 'are'} counted in the Overall column only, and in no test." if outside else None)
    return SummaryTable("Table 1", f"Overall, N = {study.n}", split, group_headers=headers,
                        test_header="p-value" if s.characteristics_test else None,
                        test_names=tuple(used), note=note)


# -- Table 2 ---------------------------------------------------------------------


def _estimate_at(result, at: Landmark | None):
    if at is None or at.text in result.estimates:
        return result.at(at or result.landmark)
    return result.curve.at(at.days) if result.curve is not None else None


def _estimate_text(estimate) -> str:
    return formatting.estimate_ci(estimate) if estimate is not None else formatting.NOT_ESTIMABLE


def _overall_label(kind: str, endpoint, at: Landmark) -> str:
    """What an endpoint's estimate over all patients is called: "2-year overall survival", "Cumulative incidence of
    relapse at 2 years"."""
    if kind == "cumulative_incidence":
        return f"Cumulative incidence of {formatting.in_sentence(endpoint.label)} at {at.text}"
    return f"{at.adjective} {endpoint.label.lower()}"


def _comparison_at(study: Study, row: OutcomeRow) -> Landmark | None:
    return row.at or study.comparisons[row.name].landmark


def _follows_its_overall_row(study: Study, row: OutcomeRow, previous: OutcomeRow | None) -> bool:
    """A comparison directly under its endpoint's estimate over all patients, at the same time, reads as its
    breakdown; anywhere else its groups need a heading of their own."""
    if previous is None or previous.kind not in ("survival", "cumulative_incidence"):
        return False
    endpoint = study.comparisons[row.name].endpoint
    return (previous.name == endpoint.name
            and (previous.at or study.endpoints[previous.name].landmark) == _comparison_at(study, row))


def _outcome_rows(study: Study, row: OutcomeRow, previous: OutcomeRow | None = None) -> list[Row]:
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
        default = _overall_label(row.kind, endpoint, at) + (f" ({endpoint.competing_text} competing)"
                                                            if row.kind == "cumulative_incidence" else ", all patients")
        estimate = _estimate_at(result, at)
        return [Row(f"{row.name}@{at.text}", row.label or default, _estimate_text(estimate), estimate, indent)]
    if row.kind == "comparison":
        comparison = study.comparisons[row.name]
        at = _comparison_at(study, row)
        rows = []
        if not _follows_its_overall_row(study, row, previous):
            kind = "cumulative_incidence" if comparison.endpoint.has_competing_events else "survival"
            by = formatting.in_sentence(comparison.label)
            rows.append(Row(row.name, row.label or f"{_overall_label(kind, comparison.endpoint, at)} by {by}", "",
                            None, indent))
        for group in comparison.groups:
            estimate = _estimate_at(group.result, at)
            rows.append(Row(f"{row.name}:{group.level}", f"{group.label} (n={group.n})", _estimate_text(estimate),
                            estimate, indent + 1))
        if comparison.not_compared:
            rows.append(Row(f"{row.name}:not_compared",
                            f"Not compared: {formatting.in_sentence(comparison.label)} unknown (n={comparison.not_compared})",
                            "", comparison.not_compared, indent + 1))
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
    declared = study.settings.outcomes
    rows = [r for i, row in enumerate(declared) for r in _outcome_rows(study, row, declared[i - 1] if i else None)]
    return SummaryTable("Table 2", f"N = {study.n}", tuple(rows))
