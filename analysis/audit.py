"""The local audit: the patients behind every printed number. It names patients: it never leaves the machine.

``audit/`` in the output folder holds, for each entry of ``numbers.json``:
the numerator and denominator patients of a count or proportion; for a
Kaplan-Meier or cumulative-incidence figure the life table up to the time
quoted, with the patients who had the event or were censored at each time;
the patients a population leaves out and why. ``audit/report.html`` is the
report's text, tables and figure legends with every number a link to its
entry (``audit/index.html``); ``audit/audit.json`` is the same for programs;
``audit/cohort.csv`` keeps the cohort as this build read it, for the next
build's comparison of inputs.
"""

from __future__ import annotations

import html
import json
import re
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from analysis.endpoints import COMPETING_EVENT, EVENT_OF_INTEREST

COHORT_COPY = "cohort.csv"


def _ids(study, mask) -> list[str]:
    mask = pd.Series(mask, index=study.cohort.index).fillna(False).astype(bool)
    return study.cohort.loc[mask, "patient_id"].astype(str).tolist()


# -- who is behind a number ---------------------------------------------------------


def _excluded(study, endpoint, kept_index, group=None) -> list[dict[str, str]]:
    """Patients of the cohort outside an endpoint's (or a group's) analysis, each with the reason."""
    everyone = study.cohort
    in_endpoint = study.endpoint_data(endpoint.name).patient_id.index
    reasons = []
    population = study.flag(endpoint.population) if endpoint.population else None
    for index in everyone.index.difference(in_endpoint):
        if population is not None and not population.loc[index]:
            why = f"not in the population ({study.label(endpoint.population)})"
        else:
            why = "entered after the data cut-off"
        reasons.append({"patient": str(everyone.at[index, "patient_id"]), "reason": why})
    if group is not None:
        comparison, _ = group
        codes, labels = study.levels(comparison.spec.by, comparison.spec)
        for index in in_endpoint:
            if pd.isna(codes.loc[index]):
                reasons.append({"patient": str(everyone.at[index, "patient_id"]),
                                "reason": f"{comparison.label}: missing or not among the levels compared"})
    return reasons


def endpoint_patients(study, result, group=None) -> dict[str, Any]:
    """The patients in an endpoint's (or a group's) analysis, those with the event, and those left out."""
    data = result.data
    events = np.asarray(data.event) == EVENT_OF_INTEREST
    ids = data.patient_id.astype(str).to_numpy()
    return {"numerator": ids.tolist(), "events": ids[events].tolist(),
            "excluded": _excluded(study, result.endpoint, data.patient_id.index, group)}


def life_table(result, up_to: float | None) -> list[dict[str, Any]]:
    """The life table of an endpoint result up to ``up_to`` days (all of it when None), with patients.

    Kaplan-Meier: each row's factor (1 - events / at risk); their running
    product is S(t). Competing risks: the Aalen-Johansen step
    S(t-) * events / at risk; their running sum is the cumulative incidence.
    """
    data = result.data
    time = np.asarray(data.time_days, dtype=float)
    code = np.asarray(data.event).astype(int)
    ids = data.patient_id.astype(str).to_numpy()
    competing = result.endpoint.has_competing_events
    rows, at_risk, survival, incidence = [], len(time), 1.0, 0.0
    for t in np.unique(time):
        if up_to is not None and t > up_to:
            break
        here = time == t
        event_ids = sorted(ids[here & (code == EVENT_OF_INTEREST)])
        competing_ids = sorted(ids[here & (code == COMPETING_EVENT)]) if competing else []
        censored_ids = sorted(ids[here & (code == 0)])
        row = {"time_days": float(t), "at_risk": at_risk, "events": event_ids, "censored": censored_ids}
        if competing:
            incidence += survival * len(event_ids) / at_risk
            survival *= 1 - (len(event_ids) + len(competing_ids)) / at_risk
            row.update(competing=competing_ids, incidence=incidence)
        else:
            row["factor"] = 1 - len(event_ids) / at_risk
            survival *= row["factor"]
            row["survival"] = survival
        rows.append(row)
        at_risk -= int(here.sum())
    return rows


def life_table_patients(study, result, up_to, group=None) -> dict[str, Any]:
    return {**endpoint_patients(study, result, group), "life_table": life_table(result, up_to),
            "up_to_days": None if up_to is None else float(up_to)}


def comparison_patients(study, comparison) -> dict[str, Any]:
    """The patients of each group compared and their events; those without a level are left out."""
    groups = {}
    for group in comparison.groups:
        data = group.result.data
        ids = data.patient_id.astype(str).to_numpy()
        groups[group.level] = {"patients": ids.tolist(),
                               "events": ids[np.asarray(data.event) == EVENT_OF_INTEREST].tolist()}
    everyone = [i for g in groups.values() for i in g["patients"]]
    first = comparison.groups[0]
    return {"denominator": everyone, "groups": groups,
            "excluded": _excluded(study, comparison.endpoint, None, (comparison, first))}


def count_patients(study, count: str, among: str | None) -> dict[str, Any]:
    everyone = pd.Series(True, index=study.cohort.index)
    den = study.flag(among) if among else everyone
    why = f"not among: {study.label(among)}" if among else ""
    return masks_patients(study, (den & study.flag(count), den, why))


def row_masks(study, table_id: str, key: str, level: str | None = None):
    """(numerator, denominator, why not in the denominator) of a table row, as the table counted it; None if not a count."""
    s = study.settings
    cohort = study.cohort
    everyone = pd.Series(True, index=cohort.index)
    name, _, code = key.partition("=")
    if table_id == "table1" and name in s.characteristics:
        rows = everyone
        if level is not None:
            codes, _ = study.levels(s.characteristics_by)
            rows = (codes == level).fillna(False).astype(bool)
        return _masks(study, name, code, rows, f"not in the group {level}" if level else "")
    if table_id == "table2":
        for row in s.outcomes:
            if row.name != name or row.kind not in ("count", "categories", "proportion"):
                continue
            among = row.among
            if row.kind == "proportion":
                among = s.proportions[name].among
                name = s.proportions[name].count
            rows = study.flag(among) if among else everyone
            return _masks(study, name, code, rows, f"not among: {study.label(among)}" if among else "")
    return None


def _masks(study, name: str, code: str, rows: pd.Series, why: str):
    cohort = study.cohort
    column = study.dictionary.column(name) if name not in study.settings.definitions else None
    if column is not None and column.type in ("float", "integer"):
        return None, rows & cohort[name].notna(), why
    if code:
        known = rows & cohort[name].notna()
        return known & (cohort[name].astype(str) == code), known, why or "value missing"
    return rows & study.flag(name), rows, why


def masks_patients(study, masks) -> dict[str, Any]:
    numerator, denominator, why = masks
    cohort = study.cohort
    outside = ~denominator
    return {
        "numerator": _ids(study, numerator) if numerator is not None else None,
        "denominator": _ids(study, denominator),
        "excluded": [{"patient": str(cohort.at[i, "patient_id"]),
                      "reason": why or "value missing"}
                     for i in cohort.index[outside.to_numpy()]],
    }


def patients_of(record) -> dict[str, dict[str, Any]]:
    """Each entry's patients, by key (settings and generated texts have none).

    A population's size printed alone (``.n``) lists that population; a
    number of events (``.events``) the patients with the event among it.
    """
    found = {}
    for key, entry in record.entries.items():
        if entry.source.patients is None:
            continue
        patients = entry.source.patients()
        if entry.path.endswith(".n"):
            population = patients.get("denominator") or patients.get("numerator")
            patients = {"numerator": population, "excluded": patients.get("excluded", [])}
        elif entry.path.endswith(".events"):
            patients = {**patients, "numerator": patients["events"], "denominator": patients["numerator"]}
        found[key] = patients
    return found


# -- pages ----------------------------------------------------------------------------


def anchor(key: str) -> str:
    """An HTML id for an entry key.

    >>> anchor("comparison:by_arm:lev@5 years/estimate_ci")
    'comparison-by_arm-lev-5-years-estimate_ci'
    """
    return re.sub(r"[^A-Za-z0-9_]+", "-", key).strip("-")


_STYLE = """<style>
body{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;line-height:1.45;color:#222}
a.n{background:#fff3b0;color:inherit;text-decoration:none;border-bottom:1px solid #c9a400}
a.n:hover{background:#ffe066}
table{border-collapse:collapse;margin:.5rem 0}td,th{border:1px solid #ccc;padding:.2rem .5rem;vertical-align:top}
.ids{font-family:ui-monospace,monospace;font-size:.85em}.entry{border-top:1px solid #ddd;padding:.6rem 0}
.entry:target{background:#fffbe6}.local{background:#fde2e1;padding:.5rem;border-left:4px solid #c0392b}
.muted{color:#666}
</style>"""
_LOCAL = ('<p class="local"><b>Local only:</b> this page names patients. Keep it on this machine; send '
          "co-authors <code>numbers.json</code> and <code>changes.html</code>.</p>")


def _page(title: str, body: str) -> str:
    return (f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>'
            f"{_STYLE}</head><body>\n<h1>{html.escape(title)}</h1>\n{_LOCAL}\n{body}\n</body></html>\n")


def _id_list(ids) -> str:
    if ids is None:
        return "—"
    return f'{len(ids)}: <span class="ids">{html.escape(", ".join(ids)) or "none"}</span>'


def _number(x, digits=4) -> str:
    return "" if x is None else f"{x:.{digits}f}"


def _entry_html(entry, patients: dict | None) -> str:
    e = entry.to_json()
    lines = [f'<div class="entry" id="{anchor(entry.key)}"><b>{html.escape(entry.text)}</b> '
             f'<span class="muted">{html.escape(entry.key)}</span>',
             f"<br>{html.escape(e['definition'] or '')}"
             + (f"; population: {html.escape(e['population'])}" if e["population"] else ""),
             "<br>printed in: " + "; ".join(html.escape(w["section"] + (f" ({w['block']})" if w.get("block") else ""))
                                            for w in entry.printed_in)]
    if e["analysis"]:
        lines.append("<br>analysis: " + html.escape(", ".join(f"{k} {v}" for k, v in e["analysis"].items()
                                                              if v is not None)))
    if patients:
        if "numerator" in patients:
            lines.append(f"<br>numerator: {_id_list(patients['numerator'])}")
        if "denominator" in patients:
            lines.append(f"<br>denominator: {_id_list(patients['denominator'])}")
        if "events" in patients:
            lines.append(f"<br>events: {_id_list(patients['events'])}")
        for level, group in patients.get("groups", {}).items():
            lines.append(f"<br>group {html.escape(level)}: {_id_list(group['patients'])}; "
                         f"events {_id_list(group['events'])}")
        if patients.get("life_table"):
            lines.append(_life_table_html(patients["life_table"], patients.get("up_to_days")))
        if patients.get("excluded"):
            lines.append("<br>left out: " + "; ".join(
                f'<span class="ids">{html.escape(x["patient"])}</span> ({html.escape(x["reason"])})'
                for x in patients["excluded"]))
    return "\n".join(lines) + "</div>"


def _life_table_html(rows, up_to) -> str:
    competing = "incidence" in rows[0]
    head = ("<tr><th>day</th><th>at risk</th><th>events</th>" + ("<th>competing</th>" if competing else "")
            + "<th>censored</th>" + ("<th>cumulative incidence</th>" if competing else
                                     "<th>factor</th><th>S(t), product</th>") + "</tr>")
    body = []
    for r in rows:
        cells = [f"{r['time_days']:g}", str(r["at_risk"]), _id_list(r["events"])]
        if competing:
            cells.append(_id_list(r["competing"]))
        cells.append(_id_list(r["censored"]))
        cells += [_number(r["incidence"])] if competing else [_number(r["factor"]), _number(r["survival"])]
        body.append("<tr>" + "".join(f"<td>{c}</td>" for c in cells) + "</tr>")
    title = "whole follow-up" if up_to is None else f"up to day {up_to:g}"
    return f"<br>life table, {title}:<table>{head}{''.join(body)}</table>"


def _markdown_inline(text: str) -> str:
    text = html.escape(text)
    text = re.sub(r"\*\*(.+?)\*\*", r"<b>\1</b>", text)
    return re.sub(r"\\([\\`*_{}\[\]()#+\-.!<>])", r"\1", text)


_INLINE = re.compile(r"`\{python\}\s+(.+?)`")


def _prose_html(text: str, printed: list[tuple[str, str | None]]) -> str:
    """A prose chunk with each inline expression replaced by what it printed, a link when it is a number."""
    spans = iter(printed)
    placeholders: list[str] = []

    def replace(_match) -> str:
        shown, key = next(spans)
        link = (f'<a class="n" href="index.html#{anchor(key)}" title="{html.escape(key)}">{html.escape(shown)}</a>'
                if key else html.escape(shown))
        placeholders.append(link)
        return f"\x00{len(placeholders) - 1}\x00"

    marked = _INLINE.sub(replace, text)
    out = []
    for paragraph in re.split(r"\n\s*\n", marked):
        paragraph = paragraph.strip()
        if not paragraph or paragraph.startswith(":::"):
            continue
        paragraph = "\n".join(line for line in paragraph.splitlines() if not line.startswith(":::"))
        if paragraph.startswith("#"):
            out.append(f"<h2>{_markdown_inline(paragraph.lstrip('#').strip())}</h2>")
        else:
            out.append(f"<p>{_markdown_inline(paragraph)}</p>")
    return re.sub("\x00(\\d+)\x00", lambda m: placeholders[int(m.group(1))], "\n".join(out))


def _table_html(table, label: str, keys: dict) -> str:
    headers = table.headers
    rows = [f"<tr><th>Characteristic</th>{''.join(f'<th>{html.escape(h)}</th>' for h in headers)}</tr>"]
    for row in table.rows:
        cells = []
        for text, header in zip(table._columns(row), headers):
            key = keys.get((row.key, header))
            cells.append(f'<td><a class="n" href="index.html#{anchor(key)}">{html.escape(text)}</a></td>'
                         if key else f"<td>{html.escape(text)}</td>")
        label_text = "\u00a0" * 4 * row.indent + row.label
        rows.append(f"<tr><td>{html.escape(label_text)}</td>{''.join(cells)}</tr>")
    return f'<h3 id="{label}">{html.escape(table.name)}</h3><table>{"".join(rows)}</table>'


def annotated_report(record) -> str:
    parts = []
    for block in record.blocks:
        if block[0] == "prose":
            parts.append(_prose_html(block[1], block[2]))
        elif block[0] == "table":
            parts.append(_table_html(block[1], block[2], block[3]))
        else:
            _, label, stem, caption, legend = block
            image = f'<img src="../figures/{stem}.png" alt="" style="max-width:100%">' if stem else ""
            items = "".join(
                f'<li><a class="n" href="index.html#{anchor(key)}">{html.escape(text)}</a></li>' if key
                else f"<li>{html.escape(text)}</li>" for text, key in legend)
            parts.append(f'<figure id="{label}">{image}<figcaption>{html.escape(caption)}'
                         f"<ul>{items}</ul></figcaption></figure>")
    return _page("Report, every number linked to its patients", "\n".join(parts)
                 + '<p><a href="index.html">All entries</a></p>')


def write_audit(record, folder: Path) -> dict[str, dict[str, Any]]:
    """Write ``index.html``, ``report.html``, ``audit.json`` and ``cohort.csv`` into ``folder``."""
    from analysis.record import cohort_text

    folder.mkdir(parents=True, exist_ok=True)
    patients = patients_of(record)
    entries = sorted(record.entries.values(), key=lambda e: e.key)
    body = ('<p><a href="report.html">The report with every number linked</a> · '
            '<a href="changes.html">what changed since the last build, by patient</a></p>'
            + "\n".join(_entry_html(entry, patients.get(entry.key)) for entry in entries))
    (folder / "index.html").write_text(_page("Audit of every printed number", body), encoding="utf-8")
    (folder / "report.html").write_text(annotated_report(record), encoding="utf-8")
    audit = {key: {"text": entry.text, "patients": patients.get(key)} for key, entry in record.entries.items()}
    (folder / "audit.json").write_text(json.dumps(audit, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    cohort_text(record.study.cohort).to_csv(folder / COHORT_COPY, index=False, lineterminator="\n")
    return patients
