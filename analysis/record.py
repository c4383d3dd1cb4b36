"""The record of every printed number: what each figure says, what it was computed from, where it stands.

A report's last cell calls :func:`write_record`. It reads the document as
the renderer does (prose, inline expressions, cells), evaluates every inline
expression again in the document's own namespace (so the text is exactly what
was printed), and traces each one to the named result it formats: an
endpoint's estimate at a landmark, a comparison's group, a table row, a
setting. The key of an entry is that name plus how it was printed
(``comparison:by_arm:lev@5 years/estimate_ci``), never a
position, so a figure keeps its key from draft to draft while prose moves
around it. Table cells and figure legends are recorded the same way.

``numbers.json`` holds no patient identifier: it travels with the report.
The patients behind each number are in the local audit (:mod:`analysis.audit`).
"""

from __future__ import annotations

import ast
import datetime as dt
import hashlib
import json
import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from numbers import Real
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from analysis.competing_risks import GrayTestResult, IncidenceEstimate
from analysis.descriptive import ContinuousSummary, Count, GroupTest, Proportion
from analysis.study import ComparisonResult, EndpointResult, GroupResult, ProportionResult, Study
from analysis.survival import FollowUp, HazardRatio, LogRankResult, QuantileEstimate, SurvivalEstimate
from analysis.tables import SummaryTable

RECORD = "numbers.json"
FORMAT_VERSION = 1

_NUMBER_WORDS = (
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen "
    "seventeen eighteen nineteen twenty thirty forty fifty sixty seventy eighty ninety hundred thousand"
).split()
#: A digit, or a number in words (``fmt.sentence_start`` spells counts that open a sentence).
NUMBER = re.compile(r"\d|\b(?:" + "|".join(_NUMBER_WORDS) + r")\b", re.IGNORECASE)
_INLINE = re.compile(r"`\{python\}\s+(.+?)`")
_LABEL = re.compile(r"^\*\*(?P<label>[^*]+?):\*\*")


@dataclass
class Source:
    """What a printed number was computed from: a named result of the study, or a setting.

    ``patients`` gives, for the local audit only, the patients behind the
    result (see :mod:`analysis.audit`); None for settings.
    """

    key: str
    definition: str
    population: str | None = None
    endpoint: str | None = None
    analysis: dict[str, Any] = field(default_factory=dict)
    patients: Callable[[], dict] | None = None


@dataclass
class Entry:
    """One printed number (or one printed figure with its interval) and where it is printed."""

    key: str
    text: str
    source: Source
    printed_as: str
    values: dict[str, Any]
    printed_in: list[dict[str, str]] = field(default_factory=list)
    #: From the named result to what was printed (".count", ".n"): which of its patients the audit lists.
    path: str = ""

    @property
    def section(self) -> str:
        return self.printed_in[0]["section"]

    def to_json(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "text": self.text,
            **self.values,
            "definition": self.source.definition,
            "population": self.source.population,
            "endpoint": self.source.endpoint,
            "analysis": self.source.analysis,
            "printed_as": self.printed_as,
            "printed_in": self.printed_in,
        }


def _lowered(label: str) -> str:
    """A label inside a sentence: first letter lower case unless it opens an acronym.

    >>> _lowered("Overall survival"), _lowered("CAR T-cell therapy")
    ('overall survival', 'CAR T-cell therapy')
    """
    return label[:1].lower() + label[1:] if label[1:2].islower() else label


def has_number(text: str) -> bool:
    """Whether a printed text holds a figure: a digit or a number in words.

    >>> has_number("Twenty-seven"), has_number("39.4%"), has_number("significantly lower")
    (True, True, False)
    """
    return NUMBER.search(text) is not None


# -- what a number was computed from ----------------------------------------------


def _ids(study: Study, mask) -> list[str]:
    mask = pd.Series(mask, index=study.cohort.index).fillna(False).astype(bool)
    return study.cohort.loc[mask, "patient_id"].astype(str).tolist()


class Sources:
    """The study's computed results, each found by identity from the object a formatting call received."""

    def __init__(self, study: Study, tables: dict[str, SummaryTable], namespace: dict | None = None):
        self.study = study
        self._by_id: dict[int, tuple[Any, Source]] = {}
        s = study.settings
        self.common = {"ci_transform": s.ci_transform, "conf_level": s.conf_level,
                       "cutoff_date": _json_value(s.cutoff_date)}
        everyone = pd.Series(True, index=study.cohort.index)
        self.add(study, Source("cohort", "patients in the cohort", "all patients",
                               patients=lambda: {"numerator": _ids(study, everyone)}))
        self.add(s, Source("settings", f"settings of {s.path.name}"))
        for column in study.dictionary.columns:
            self.add(column, Source(f"dictionary:{column.name}", f"data dictionary: {column.label}"))
        for name, result in dict.items(study.endpoints):
            self._endpoint(f"endpoint:{name}", result, "all patients in the endpoint's population")
        for name, comparison in dict.items(study.comparisons):
            self._comparison(name, comparison)
        for name, result in dict.items(study.proportions):
            self._proportion(name, result)
        for table_id, table in tables.items():
            self._table(table_id, table)
        for value in (namespace or {}).values():
            if isinstance(value, Count) and self.of(value) is None:
                self._count(value)

    def add(self, obj: Any, source: Source) -> None:
        # The first name wins: a table cell quoting an endpoint's estimate keeps the endpoint's name.
        if obj is not None and id(obj) not in self._by_id:
            self._by_id[id(obj)] = (obj, source)

    def of(self, obj: Any) -> Source | None:
        found = self._by_id.get(id(obj))
        return found[1] if found is not None and found[0] is obj else None

    # -- results -------------------------------------------------------------

    def _endpoint_analysis(self, result: EndpointResult, landmark=None) -> dict[str, Any]:
        endpoint = result.endpoint
        method = "Aalen-Johansen cumulative incidence" if endpoint.has_competing_events else "Kaplan-Meier"
        analysis = {"method": method, **self.common}
        if endpoint.has_competing_events:
            analysis["ci_transform"] = "log-log"
            analysis["competing"] = endpoint.competing_text
        if landmark is not None:
            analysis.update(landmark=landmark.text, landmark_days=landmark.days)
        return analysis

    def _endpoint(self, key: str, result: EndpointResult, population: str, group=None) -> None:
        from analysis import audit

        endpoint = result.endpoint
        where = f"{population} (n={result.n})"
        self.add(result, Source(key, f"{endpoint.label}: patients in the analysis", where, endpoint.name,
                                self._endpoint_analysis(result),
                                lambda: audit.endpoint_patients(self.study, result, group)))
        self.add(endpoint, Source(f"endpoint:{endpoint.name}:declaration", f"{endpoint.label} as declared"))
        for landmark in endpoint.landmarks:
            self.add(landmark, Source(f"endpoint:{endpoint.name}@{landmark.text}:landmark",
                                      f"landmark of {_lowered(endpoint.label)}: {landmark.text}"))
            estimate = result.estimates.get(landmark.text)
            kind = "cumulative incidence" if endpoint.has_competing_events else "probability"
            self.add(estimate, Source(
                f"{key}@{landmark.text}", f"{kind} of {_lowered(endpoint.label)} at {landmark.text}"
                + (f" ({endpoint.description})" if endpoint.description else ""),
                where, endpoint.name, self._endpoint_analysis(result, landmark),
                lambda result=result, landmark=landmark: audit.life_table_patients(
                    self.study, result, landmark.days, group)))
        if result.median is not None:
            self.add(result.median, Source(
                f"{key}:median", f"median {_lowered(endpoint.label)}", where, endpoint.name,
                {**self._endpoint_analysis(result), "unit": endpoint.unit},
                lambda: audit.life_table_patients(self.study, result, result.median.estimate, group)))
        if result.follow_up is not None:
            follow_up = Source(
                f"{key}:follow_up", f"median follow-up by reverse Kaplan-Meier ({_lowered(endpoint.label)})",
                where, endpoint.name, {**self._endpoint_analysis(result), "method": "reverse Kaplan-Meier",
                                       "unit": endpoint.unit},
                lambda: audit.life_table_patients(self.study, result, None, group))
            self.add(result.follow_up, follow_up)
            self.add(result.follow_up.median, follow_up)

    def _comparison(self, name: str, comparison: ComparisonResult) -> None:
        from analysis import audit

        key = f"comparison:{name}"
        test = {"test": comparison.test_name, "strata": comparison.spec.strata}
        analysis = {"method": comparison.test_name, **self.common, **test}
        population = f"{comparison.endpoint.label}, by {_lowered(comparison.label)}"
        self.add(comparison, Source(key, f"{comparison.endpoint.label} by {_lowered(comparison.label)}",
                                    population, comparison.endpoint.name, analysis))
        self.add(comparison.test, Source(
            f"{key}:test", f"{comparison.test_name} of {_lowered(comparison.endpoint.label)} across "
            f"{_lowered(comparison.label)}" + (f", stratified by {comparison.spec.strata}" if comparison.spec.strata
                                            else ""),
            population, comparison.endpoint.name, analysis, lambda: audit.comparison_patients(self.study, comparison)))
        for level, ratio in comparison.hazard_ratios.items():
            self.add(ratio, Source(
                f"{key}:hazard_ratio:{level}",
                f"Cox hazard ratio, {comparison.group(level).label} vs {comparison.group(comparison.reference).label}",
                population, comparison.endpoint.name, {**analysis, "method": "Cox (Efron ties), Wald CI"},
                lambda: audit.comparison_patients(self.study, comparison)))
        for group in comparison.groups:
            self.add(group, Source(f"{key}:{group.level}", f"patients in the group {group.label}",
                                   group.label, comparison.endpoint.name, analysis,
                                   lambda group=group: audit.endpoint_patients(self.study, group.result,
                                                                               (comparison, group))))
            self._endpoint(f"{key}:{group.level}", group.result, group.label, (comparison, group))

    def _proportion(self, name: str, result: ProportionResult) -> None:
        from analysis import audit

        spec = self.study.settings.proportions[name]
        among = f"patients with: {result.among_label}" if result.among_label else "all patients"
        source = Source(f"proportion:{name}", f"{result.label} among {among}", among, None,
                        {"method": spec.method, "conf_level": self.study.settings.conf_level},
                        lambda: audit.count_patients(self.study, spec.count, spec.among))
        self.add(result, source)
        self.add(result.proportion, source)
        self.add(result.count, source)

    def _count(self, count: Count) -> None:
        """A count the document asked the study for (``study.count(name)``): named by the variable it counts."""
        from analysis import audit

        study = self.study
        names = [*study.settings.definitions, *study.dictionary.names]
        name = next((n for n in names if study.label(n) == count.label), None)
        if name is None or count.denominator != study.n:
            return
        self.add(count, Source(f"cohort.count({name})", f"patients with {_lowered(count.label)}", "all patients",
                               patients=lambda: audit.count_patients(study, name, None)))

    def _table(self, table_id: str, table: SummaryTable) -> None:
        from analysis import audit

        self.add(table, Source(table_id, table.name))
        for row in table.rows:
            masks = audit.row_masks(self.study, table_id, row.key)
            population = None
            if masks is not None:
                population = f"{int(masks[1].sum())} patients" if masks[1] is not None else None
            self.add(row.value, Source(
                f"{table_id}:{row.key}", f"{table.name}: {row.label.strip()}", population, None,
                {"method": _method_of(row.value)} if _method_of(row.value) else {},
                (lambda masks=masks: audit.masks_patients(self.study, masks)) if masks is not None else None))


def _method_of(value) -> str | None:
    return getattr(value, "method", None) if not isinstance(value, Count) else None


# -- values as numbers.json states them -------------------------------------------


def _json_value(value: Any) -> Any:
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, (dt.date, pd.Timestamp)):
        return value.isoformat()[:10]
    if isinstance(value, (np.integer, int)):
        return int(value)
    if isinstance(value, (np.floating, float)):
        return None if math.isnan(value) else float(value)
    return str(value)


def values_of(obj: Any) -> dict[str, Any]:
    """The value, interval, numerator and denominator behind a printed text, from its result object."""
    v: dict[str, Any] = {}
    if isinstance(obj, Count):
        v.update(value=obj.count / obj.denominator if obj.denominator else None,
                 numerator=obj.count, denominator=obj.denominator)
    elif isinstance(obj, Proportion):
        v.update(value=obj.estimate, ci=[obj.lower, obj.upper], conf_level=obj.conf_level,
                 numerator=obj.count, denominator=obj.n)
    elif isinstance(obj, ProportionResult):
        return values_of(obj.proportion or obj.count)
    elif isinstance(obj, (SurvivalEstimate, IncidenceEstimate)):
        v.update(value=obj.estimate, ci=[obj.lower, obj.upper], conf_level=obj.conf_level, time_days=obj.time,
                 n=obj.n, events=obj.events)
        if isinstance(obj, SurvivalEstimate):
            v["n_at_risk"] = obj.n_at_risk
    elif isinstance(obj, FollowUp):
        return values_of(obj.median)
    elif isinstance(obj, QuantileEstimate):
        v.update(value=obj.estimate, ci=[obj.lower, obj.upper], conf_level=obj.conf_level, unit="days",
                 n=obj.n, events=obj.events)
    elif isinstance(obj, HazardRatio):
        v.update(value=obj.hazard_ratio, ci=[obj.lower, obj.upper], conf_level=obj.conf_level, p=obj.p,
                 n=obj.n, events=obj.events)
    elif isinstance(obj, (LogRankResult, GrayTestResult, GroupTest)):
        statistic = getattr(obj, "chisq", None)
        v.update(value=obj.p, statistic=statistic if statistic is not None else obj.statistic, df=obj.df)
    elif isinstance(obj, ContinuousSummary):
        v.update(value=obj.median, range=[obj.minimum, obj.maximum], n=obj.n)
    elif isinstance(obj, (GroupResult, EndpointResult)):
        v.update(value=obj.n, n=obj.n)
    elif isinstance(obj, (Real, dt.date)) and not isinstance(obj, bool):
        v["value"] = obj
    return {k: ([_json_value(x) for x in val] if isinstance(val, list) else _json_value(val))
            for k, val in v.items()}


# -- tracing an expression to its result ---------------------------------------------


@dataclass
class Trace:
    """An expression's subject: the named result it formats, the path from it, and the object reached."""

    source: Source
    path: str
    obj: Any
    base: Any = None  # the object the source names (the Count whose ``.count`` is printed)


def _trace(node: ast.expr, namespace: dict, sources: Sources) -> Trace | None:
    """Follow ``node`` down to the nearest object the study knows by name.

    ``obs.n`` -> the group's source and ".n"; ``study.shared_value("x")`` ->
    the cohort's source and ".shared_value(x)"; names of the document's own
    variables never enter a key, only the result they hold.
    """
    try:
        obj = eval(compile(ast.Expression(node), "<record>", "eval"), namespace)
    except Exception:  # a sub-expression that cannot stand alone (never the case in a valid report)
        return None
    source = sources.of(obj)
    if source is not None:
        return Trace(source, "", obj, obj)
    if isinstance(node, ast.Attribute):
        inner = _trace(node.value, namespace, sources)
        if inner is not None:
            return Trace(inner.source, f"{inner.path}.{node.attr}", obj, inner.base)
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
        inner = _trace(node.func.value, namespace, sources)
        if inner is not None:
            arguments = ",".join([str(a.value) for a in node.args if isinstance(a, ast.Constant)]
                                 + [f"{k.arg}={k.value.value}" for k in node.keywords
                                    if isinstance(k.value, ast.Constant)])
            return Trace(inner.source, f"{inner.path}.{node.func.attr}({arguments})", obj, inner.base)
    return None


def _counted(trace: Trace) -> dict[str, int]:
    """Numerator and denominator of a count printed alone: a Count's ``.count``, a population's ``.n``, ``.events``."""
    base, path = trace.base, trace.path
    if path.endswith(".count") and isinstance(base, (Count, Proportion, ProportionResult)):
        counted = values_of(base)
        return {"numerator": counted["numerator"], "denominator": counted["denominator"]}
    if path.endswith(".n") and isinstance(trace.obj, int):
        return {"numerator": trace.obj}
    if path.endswith(".events") and isinstance(base, (EndpointResult, GroupResult)):
        return {"numerator": trace.obj, "denominator": base.n}
    return {}


def _printed_as(node: ast.expr) -> tuple[str, ast.expr | None]:
    """The formatting function an expression calls and its subject (first argument)."""
    if isinstance(node, ast.Call):
        func = node.func
        name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "call")
        if isinstance(func, ast.Attribute) and func.attr == "text" and node.args:
            # table.text("row") prints the row's cell: traced through the row's value.
            value = ast.Call(func=ast.Attribute(value=func.value, attr="value", ctx=ast.Load()),
                             args=node.args, keywords=[])
            return "cell", ast.fix_missing_locations(ast.copy_location(value, node))
        if isinstance(func, ast.Attribute) and func.attr in ("lower", "upper", "capitalize", "title"):
            return _printed_as(func.value)
        return name, (node.args[0] if node.args else None)
    return "value", node


# -- reading the document ---------------------------------------------------------


@dataclass
class _Where:
    section: str
    where: str
    file: str
    block: str | None = None


def _prose_expressions(text: str, state: dict) -> list[tuple[str, _Where]]:
    """Each inline expression of a prose chunk with its section: the abstract's paragraph label or the heading."""
    found = []
    paragraph_label = None
    previous_blank = True
    for line in text.splitlines():
        stripped = line.strip()
        if stripped.startswith(":::"):
            state["abstract"] = "abstract-body" in stripped
            previous_blank = True
            continue
        if stripped.startswith("#"):
            state["heading"] = stripped.lstrip("#").strip()
            paragraph_label = None
            previous_blank = True
            continue
        if not stripped:
            previous_blank = True
            continue
        if previous_blank:
            match = _LABEL.match(stripped)
            paragraph_label = match.group("label") if match else None
        previous_blank = False
        for expression in _INLINE.finditer(line):
            if state.get("abstract"):
                where = _Where(f"Abstract, {paragraph_label}" if paragraph_label else "Abstract", "abstract",
                               "abstract.txt", paragraph_label)
            else:
                where = _Where(paragraph_label or state.get("heading") or "Text", "text", "report.html",
                               paragraph_label)
            found.append((expression.group(1), where))
    return found


def _names_in(code: str) -> list[ast.AST]:
    try:
        return list(ast.walk(ast.parse(code)))
    except SyntaxError:
        return []


class RecordBuilder:
    def __init__(self, study: Study, tables: dict[str, SummaryTable], namespace: dict):
        self.study, self.tables, self.namespace = study, tables, namespace
        self.sources = Sources(study, tables, namespace)
        self.entries: dict[str, Entry] = {}
        self.untraced: list[str] = []
        self.blocks: list[tuple] = []

    def add(self, key: str, text: str, source: Source, printed_as: str, values: dict, where: _Where) -> Entry:
        entry = self.entries.get(key)
        if entry is not None and entry.text != text:
            # The same result printed two ways by the same function (other options): both kept, told apart.
            key = f"{key}~{hashlib.sha256(text.encode()).hexdigest()[:6]}"
            entry = self.entries.get(key)
        if entry is None:
            entry = self.entries[key] = Entry(key, text, source, printed_as, values)
        location = {k: v for k, v in vars(where).items() if v is not None}
        if location not in entry.printed_in:
            entry.printed_in.append(location)
        return entry

    def expression(self, expression: str, where: _Where) -> tuple[str, str | None]:
        """The text an inline expression printed, and the key of its entry (None: it printed no number)."""
        text = str(eval(expression, self.namespace))
        if not has_number(text):
            return text, None
        return text, self.formatted(ast.parse(expression, mode="eval").body, text, where)

    def formatted(self, node: ast.expr, text: str, where: _Where, suffix: str | None = None) -> str | None:
        printed_as, subject = _printed_as(node)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
            # A text the engine writes from the whole study (the methods sentence): named by its function.
            source = Source(f"text:{printed_as}", f"text written by {printed_as} from the settings",
                            analysis=self.sources.common)
            trace = Trace(source, "", None)
        else:
            trace = _trace(subject, self.namespace, self.sources) if subject is not None else None
        if trace is None:
            self.untraced.append(ast.unparse(node))
            return None
        values = {**values_of(trace.obj), **_counted(trace)}
        if printed_as == "count_percent" and isinstance(node, ast.Call) and len(node.args) == 2:
            numerator, denominator = (eval(compile(ast.Expression(a), "<record>", "eval"), self.namespace)
                                      for a in node.args)
            values.update(numerator=int(numerator), denominator=int(denominator))
        key = f"{trace.source.key}{trace.path}/{suffix or printed_as}"
        entry = self.add(key, text, trace.source, printed_as, values, where)
        entry.path = trace.path
        return entry.key

    def document(self, chunks) -> None:
        """Prose, tables and figures in document order; ``blocks`` keeps them for the annotated copy."""
        state: dict[str, Any] = {}
        for chunk in chunks:
            if hasattr(chunk, "expressions"):
                printed = [self.expression(expression, where)
                           for expression, where in _prose_expressions(chunk.text, state)]
                self.blocks.append(("prose", chunk.text, printed))
                continue
            label = chunk.label
            nodes = _names_in(chunk.code)
            if label.startswith("tbl-"):
                for node in nodes:
                    if isinstance(node, ast.Name) and isinstance(self.namespace.get(node.id), SummaryTable):
                        self.table(self.namespace[node.id], label, nodes)
                        break
            if label.startswith("fig-"):
                self.figure(label, nodes, chunk.options.get("fig-cap", ""))

    def _table_id(self, table: SummaryTable) -> str:
        return next(name for name, t in self.tables.items() if t is table)

    def table(self, table: SummaryTable, label: str, nodes) -> None:
        table_id = self._table_id(table)
        stem = _exported_stem(nodes, "export_table")
        file = f"tables/{stem}.csv" if stem else "report.html"
        headers = table.headers
        levels = []
        if table.group_headers:
            levels = list(self.study.levels(self.study.settings.characteristics_by)[1])
        keys: dict[tuple[str, str], str] = {}
        self.blocks.append(("table", table, label, keys))
        for row in table.rows:
            source = self.sources.of(row.value) if row.value is not None else None
            source = source or Source(f"{table_id}:{row.key}", f"{table.name}: {row.label.strip()}")
            cells = [(row.text, "", headers[0], row.value)]
            cells += [(text, f"[{level}]", header, None)
                      for text, level, header in zip(row.cells, levels, table.group_headers)]
            if table.test_header is not None and row.test is not None:
                cells.append((table._columns(row)[-1], "[test]", table.test_header, row.test))
            for text, column, header, value in cells:
                if not text or not has_number(text):
                    continue
                cell_source = source
                if column:
                    cell_source = self._cell_source(table_id, table, row, column.strip("[]"), source)
                values = values_of(value) if value is not None else {}
                where = _Where(f"{table.name}", "table", file, f"{row.label.strip()} | {header}")
                entry = self.add(f"{source.key}/{table_id}{column}", text, cell_source, "cell", values, where)
                keys[(row.key, header)] = entry.key

    def _cell_source(self, table_id, table, row, column, source):
        from analysis import audit

        if column == "test":
            return Source(f"{table_id}:{row.key}:test", f"{table.name}: test of {row.label.strip()} across groups",
                          source.population, analysis={"method": row.test.test})
        masks = audit.row_masks(self.study, table_id, row.key, level=column)
        return Source(source.key, source.definition, f"level {column}", source.endpoint, source.analysis,
                      (lambda: audit.masks_patients(self.study, masks)) if masks is not None else None)

    def figure(self, label: str, nodes, caption: str) -> None:
        stem = _exported_stem(nodes, "export_figure")
        where = _Where(f"Figure {label}", "figure", f"figures/{stem}.png" if stem else "report.html", label)
        legend: list[tuple[str, str | None]] = []
        self.blocks.append(("figure", label, stem, caption, legend))
        for node in nodes:
            if not isinstance(node, ast.keyword) or node.arg != "annotations":
                continue
            value = node.value
            if isinstance(value, (ast.List, ast.Tuple)):
                for element in value.elts:
                    text = str(eval(compile(ast.Expression(element), "<record>", "eval"), self.namespace))
                    legend.append((text, self.formatted(element, text, where, "legend")))
            elif isinstance(value, ast.Call) and value.args:
                legend += self._comparison_legend(value, where)

    def _comparison_legend(self, call: ast.Call, where: _Where) -> list[tuple[str, str | None]]:
        texts = eval(compile(ast.Expression(call), "<record>", "eval"), self.namespace)
        comparison = eval(compile(ast.Expression(call.args[0]), "<record>", "eval"), self.namespace)
        source = self.sources.of(comparison)
        if not isinstance(comparison, ComparisonResult) or source is None:
            self.untraced.append(ast.unparse(call))
            return []
        landmark = eval(compile(ast.Expression(call.args[1]), "<record>", "eval"), self.namespace)
        legend = []
        # comparison_annotations: one legend line per group (its estimate at the landmark given), then the test.
        for group, text in zip(comparison.groups, texts):
            estimate = group.at(landmark)
            group_source = self.sources.of(estimate) or self.sources.of(group)
            entry = self.add(f"{group_source.key}/legend", text, group_source, "comparison_annotations",
                             values_of(estimate), where)
            legend.append((text, entry.key))
        test_source = self.sources.of(comparison.test) or source
        entry = self.add(f"{source.key}:test/legend", texts[-1], test_source, "comparison_annotations",
                         values_of(comparison.test), where)
        return legend + [(texts[-1], entry.key)]


def _exported_stem(nodes, function: str) -> str | None:
    for node in nodes:
        if (isinstance(node, ast.Call) and getattr(node.func, "id", None) == function and len(node.args) > 1
                and isinstance(node.args[1], ast.Constant)):
            return str(node.args[1].value)
    return None


# -- the record -------------------------------------------------------------------


@dataclass
class Record:
    """Every printed number of one build, with the settings and inputs it was computed from."""

    entries: dict[str, Entry]
    settings: dict[str, Any]
    inputs: dict[str, Any]
    study: Study | None = None
    untraced: list[str] = field(default_factory=list)
    #: The document in order (prose with each expression's text and key, tables, figures): the annotated copy.
    blocks: list[tuple] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "format": FORMAT_VERSION,
            "settings": self.settings,
            "inputs": self.inputs,
            "numbers": [entry.to_json() for entry in self.entries.values()],
        }

    def write(self, folder: Path) -> Path:
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / RECORD
        path.write_text(json.dumps(self.to_json(), indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
        return path


def settings_of(study: Study) -> dict[str, Any]:
    """The settings a reader of the numbers needs: the ones that move a figure when changed."""
    s = study.settings
    return {
        "cutoff_date": _json_value(s.cutoff_date),
        "ci_transform": s.ci_transform,
        "conf_level": s.conf_level,
        "landmarks": {name: [lm.text for lm in e.landmarks] for name, e in s.endpoints.items()},
        "definitions": {name: d["where"] for name, d in s.definitions.items()},
        "parameters": {name: _json_value(value) for name, value in s.extra.items()
                       if isinstance(value, (int, float, str)) and not isinstance(value, bool)},
    }


def cohort_text(cohort: pd.DataFrame) -> pd.DataFrame:
    """The cohort as text, one row per patient in id order: what two builds' inputs are compared on."""
    frame = cohort.copy()
    for column in frame.columns:
        values = frame[column]
        if pd.api.types.is_datetime64_any_dtype(values):
            frame[column] = values.dt.strftime("%Y-%m-%d")
        frame[column] = frame[column].astype(object).where(frame[column].notna(), "").astype(str)
    return frame.sort_values("patient_id").reset_index(drop=True)


def inputs_of(study: Study) -> dict[str, Any]:
    """What the cohort was, without a patient id: its checksum, its size, one checksum per column."""
    frame = cohort_text(study.cohort)
    columns = {column: hashlib.sha256("\n".join(frame[column]).encode()).hexdigest()
               for column in frame.columns if column != "patient_id"}
    return {"data_sha256": study.data_sha256, "patients": int(len(frame)), "columns": columns}


def build_record(qmd_path: str | Path, namespace: dict) -> Record:
    """Every number ``qmd_path`` prints, traced to its result in the document's namespace."""
    from renderer.qmd import parse_qmd

    study = next(value for value in namespace.values() if isinstance(value, Study))
    tables = {}
    for value in namespace.values():
        if isinstance(value, SummaryTable) and all(value is not t for t in tables.values()):
            tables[value.name.lower().replace(" ", "")] = value
    builder = RecordBuilder(study, tables, namespace)
    document = parse_qmd(Path(qmd_path))
    builder.document(document.chunks)
    return Record(builder.entries, settings_of(study), inputs_of(study), study, builder.untraced, builder.blocks)


def write_record(qmd_path: str | Path, namespace: dict) -> Record:
    """The report's last cell: write ``numbers.json``, the local audit and what changed since the last build.

    Everything goes to the build's staging folder (``$REPORT_OUTPUT_DIR``);
    the previous build's record is read from ``$REPORT_PUBLISHED_DIR``, and,
    with ``$CHANGES_SINCE``, a snapshot's from the study's ``snapshots/``.
    Prints "N printed figures changed since the last build" on the build
    console, as the abstract's word count is printed.
    """
    import io
    import os
    import sys

    from analysis import audit, changes
    from analysis.exports import output_dir

    record = build_record(qmd_path, namespace)
    folder = output_dir()
    record.write(folder)
    audit.write_audit(record, folder / "audit")
    current = record.to_json()
    new_cohort = pd.read_csv(io.StringIO(cohort_text(record.study.cohort).to_csv(index=False)), dtype=str,
                             keep_default_na=False)
    published = os.environ.get("REPORT_PUBLISHED_DIR")
    previous = changes.read_record(Path(published)) if published else None
    if previous is None:
        line = f"no previous build to compare with: {len(record.entries)} printed figures recorded"
    else:
        found = changes.compare(previous, current, "the last build", changes.read_cohort_copy(Path(published)),
                                new_cohort)
        changes.write_changes(found, folder, "changes", folder / "audit")
        line = found.line
    since = os.environ.get("CHANGES_SINCE")
    if since:
        study_dir = Path(qmd_path).resolve().parent
        found = changes.compare(changes.read_snapshot(study_dir, since), current, f"snapshot {since}")
        changes.write_changes(found, folder, f"changes-since-{since}")
        line += f"; {found.line}"
    # The kernel's own stderr is the build console; cell output would land in the document.
    print(f"record       {line}", file=sys.__stderr__, flush=True)
    return record
