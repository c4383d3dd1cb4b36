"""Table 1 (patient characteristics) and Table 2 (outcomes).

A table is a list of rows, each holding the typed result it shows and that
result's text. The prose quotes cells by key (``table.text("blasts_over_5")``),
as gtsummary's ``inline_text()`` does, so a sentence and its table cell are the
same object.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd

from analysis import formatting
from analysis.descriptive import category_counts, count_true, proportion, summarize_continuous
from analysis.study import Study


@dataclass(frozen=True)
class Row:
    key: str
    label: str
    text: str
    value: Any = None  # the typed result the text was formatted from
    indent: int = 0


@dataclass(frozen=True)
class SummaryTable:
    """A two-column table (characteristic, value) with keyed rows."""

    name: str
    value_header: str
    rows: tuple[Row, ...]

    def row(self, key: str) -> Row:
        for row in self.rows:
            if row.key == key:
                return row
        raise KeyError(f"{self.name} has no row {key!r}; rows: {', '.join(r.key for r in self.rows)}")

    def text(self, key: str) -> str:
        return self.row(key).text

    def value(self, key: str) -> Any:
        return self.row(key).value

    def to_frame(self) -> pd.DataFrame:
        return pd.DataFrame(
            {"Characteristic": [r.label for r in self.rows], self.value_header: [r.text for r in self.rows]}
        )

    def to_markdown(self) -> str:
        """A pipe table; indented rows get a non-breaking indent so every format shows the nesting."""
        # Pandoc sizes wrapped pipe-table columns by the separator's dashes: 70% for the labels.
        lines = [f"| Characteristic | {self.value_header} |", "|:" + "-" * 34 + "|" + "-" * 14 + ":|"]
        for r in self.rows:
            label = "\u00a0" * 4 * r.indent + _escape(r.label)
            lines.append(f"| {label} | {_escape(r.text)} |")
        return "\n".join(lines)


def _escape(text: str) -> str:
    return text.replace("|", "\\|")


def _yes_no_row(study: Study, name: str, among: pd.Series | None = None, indent: int = 0) -> Row:
    count = count_true(study.flag(name), label=study.label(name), among=among)
    return Row(name, study.label(name), formatting.count_percent(count), count, indent)


def patient_characteristics(study: Study) -> SummaryTable:
    """Table 1: the rows listed under ``characteristics`` in study.yml, n (%) of all patients."""
    rows: list[Row] = []
    for name in study.settings.characteristics:
        column = study.dictionary.column(name) if name not in study.settings.definitions else None
        if column is not None and column.type in ("float", "integer"):
            summary = summarize_continuous(study.cohort[name])
            rows.append(Row(name, f"{column.label}, median (range)", formatting.median_range(summary), summary))
        elif column is not None and column.type == "category":
            rows.append(Row(name, column.label, "", None))
            for count in category_counts(study.cohort[name], column.values):
                code = next(c for c, lab in column.values.items() if lab == count.label)
                rows.append(Row(f"{name}={code}", count.label, formatting.count_percent(count), count, 1))
        else:
            rows.append(_yes_no_row(study, name))
    return SummaryTable("Table 1", f"N = {study.n}", tuple(rows))


def outcomes(study: Study) -> SummaryTable:
    """Table 2: response, further therapy, HSCT and SOS, and overall survival."""
    s = study.settings
    rows: list[Row] = []

    achieved, among = s.response["achieved"], s.response["among"]
    responders = count_true(study.flag(achieved), among=study.flag(among))
    response = proportion(responders.count, responders.denominator, method="clopper-pearson", conf_level=s.conf_level)
    rows.append(
        Row(
            "response",
            f"{study.label(achieved)}, of the {responders.denominator} with {study.label(among).lower()}",
            f"{formatting.count_percent(responders)}, {formatting.interval(response)}",
            response,
        )
    )

    further = _yes_no_row(study, "further_therapy")
    rows.append(further)
    # The types are shares of those treated further, which their heading says.
    therapy = study.dictionary.column("further_therapy_type")
    rows.append(Row("further_therapy_type", f"{therapy.label}, of the {further.value.count} treated", "", None, 1))
    for count in category_counts(study.cohort["further_therapy_type"].dropna(), therapy.values):
        code = next(c for c, lab in therapy.values.items() if lab == count.label)
        rows.append(Row(f"further_therapy_type={code}", count.label, formatting.count_percent(count), count, 2))

    rows.append(_yes_no_row(study, "hsct_after_ino"))
    hsct = study.flag("hsct_after_ino")
    sos_crude = count_true(study.flag("sos"), among=hsct)
    rows.append(Row("sos", f"{study.label('sos')}, of HSCT recipients", formatting.count_percent(sos_crude), sos_crude, 1))
    rows.append(
        Row(
            "sos_incidence",
            f"Cumulative incidence of SOS at day {s.sos_landmark_days:g} after HSCT (death competing)",
            formatting.estimate_ci(study.sos_incidence),
            study.sos_incidence,
            1,
        )
    )

    landmark = f"{formatting.number(study.landmark_years)}-year"
    rows.append(Row("os_landmark", f"{landmark} overall survival, all patients", formatting.estimate_ci(study.os_at_landmark), study.os_at_landmark))
    for name, comparison in study.comparisons.items():
        for key, group in (("achieved", comparison.achieved), ("not_achieved", comparison.not_achieved)):
            rows.append(
                Row(
                    f"os_landmark:{name}:{key}",
                    f"{group.label} (n={group.n})",
                    formatting.estimate_ci(group.at_landmark),
                    group.at_landmark,
                    1,
                )
            )
        rows.append(Row(f"log_rank:{name}", "Log-rank test", formatting.p_value(comparison.log_rank.p), comparison.log_rank, 1))

    rows.append(Row("median_os", "Median overall survival, months", formatting.median_ci_months(study.median_os), study.median_os))
    rows.append(
        Row("median_follow_up", "Median follow-up (reverse Kaplan-Meier), months", formatting.median_ci_months(study.follow_up.median), study.follow_up)
    )
    return SummaryTable("Table 2", f"N = {study.n}", tuple(rows))
