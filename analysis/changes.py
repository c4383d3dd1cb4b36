"""What changed between two records of printed numbers, and what in the inputs moved them.

Each build compares its record (``numbers.json``) with the previous build's
(``$REPORT_PUBLISHED_DIR``): ``changes.html`` and ``changes.md`` list each
figure whose printed text changed, old and new, grouped by where it is
printed; figures added and removed; settings changed; and how many patients
were added or removed and which columns changed. They name no patient: they
go to co-authors. The same comparison with patient ids and cell values is
``audit/changes.html``, which stays local.

A snapshot freezes a record under a name (``snapshots/<name>.json`` in the
study folder, small, no patient ids, kept in the repository) so that a later
build can be compared with the submitted draft::

    python -m analysis.changes snapshot --study . --name submitted
    python -m analysis.changes changes --study . --since submitted
"""

from __future__ import annotations

import argparse
import copy
import html
import json
import os
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from analysis.record import RECORD

SNAPSHOTS = "snapshots"


@dataclass
class InputChanges:
    """How the cohort moved between two builds; ids and values only in the local audit."""

    data_changed: bool = False
    patients_before: int | None = None
    patients_after: int | None = None
    added: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    #: (patient, column, old, new) for patients in both builds.
    cells: list[tuple[str, str, str, str]] = field(default_factory=list)
    #: Columns whose values changed, when only checksums are known (a snapshot).
    columns: list[str] = field(default_factory=list)

    def columns_changed(self) -> dict[str, int]:
        """Column -> number of patients whose value changed (0 when only the column's checksum is known)."""
        counts: dict[str, int] = {column: 0 for column in self.columns}
        for _, column, _, _ in self.cells:
            counts[column] = counts.get(column, 0) + 1
        return counts


@dataclass
class Changes:
    since: str
    changed: list[tuple[dict, dict]]
    added: list[dict]
    removed: list[dict]
    settings: list[tuple[str, Any, Any]]
    inputs: InputChanges

    @property
    def line(self) -> str:
        line = f"{len(self.changed)} printed figure{'s' if len(self.changed) != 1 else ''} changed since {self.since}"
        if self.added or self.removed:
            line += f" ({len(self.added)} added, {len(self.removed)} removed)"
        return line

    def changed_texts(self) -> list[dict]:
        """The new entries whose text is new since the older record (changed or added)."""
        return [new for _, new in self.changed] + self.added


def _flat(settings: dict, prefix: str = "") -> dict[str, Any]:
    flat = {}
    for name, value in settings.items():
        if isinstance(value, dict):
            flat.update(_flat(value, f"{prefix}{name}."))
        else:
            flat[f"{prefix}{name}"] = value
    return flat


_SETTING_NAMES = {"cutoff_date": "data cut-off", "ci_transform": "CI transform", "conf_level": "confidence level"}


def setting_name(name: str) -> str:
    """How a setting is named on the changes page.

    >>> setting_name("ci_transform"), setting_name("landmarks.overall_survival")
    ('CI transform', 'landmarks of overall_survival')
    """
    head, _, rest = name.partition(".")
    if rest:
        return f"{head} of {rest}"
    return _SETTING_NAMES.get(name, name)


def compare(old: dict, new: dict, since: str = "the last build", old_cohort: pd.DataFrame | None = None,
            new_cohort: pd.DataFrame | None = None) -> Changes:
    """Compare two records (``numbers.json`` as loaded); with the two cohorts as text, patient by patient too."""
    before = {entry["key"]: entry for entry in old.get("numbers", [])}
    after = {entry["key"]: entry for entry in new.get("numbers", [])}
    changed = [(before[key], entry) for key, entry in after.items() if key in before and before[key]["text"] != entry["text"]]
    added = [entry for key, entry in after.items() if key not in before]
    removed = [entry for key, entry in before.items() if key not in after]
    old_settings, new_settings = _flat(old.get("settings", {})), _flat(new.get("settings", {}))
    settings = [(name, old_settings.get(name), new_settings.get(name))
                for name in dict.fromkeys([*old_settings, *new_settings])
                if old_settings.get(name) != new_settings.get(name)]
    return Changes(since, changed, added, removed, settings,
                   _inputs(old.get("inputs", {}), new.get("inputs", {}), old_cohort, new_cohort))


def _inputs(old: dict, new: dict, old_cohort, new_cohort) -> InputChanges:
    changes = InputChanges(data_changed=old.get("data_sha256") != new.get("data_sha256"),
                           patients_before=old.get("patients"), patients_after=new.get("patients"))
    if old_cohort is not None and new_cohort is not None:
        before = old_cohort.set_index("patient_id")
        after = new_cohort.set_index("patient_id")
        changes.added = sorted(set(after.index) - set(before.index))
        changes.removed = sorted(set(before.index) - set(after.index))
        both = sorted(set(after.index) & set(before.index))
        for column in after.columns:
            if column not in before.columns:
                changes.columns.append(column)
                continue
            old_values, new_values = before.loc[both, column], after.loc[both, column]
            for patient in old_values.index[old_values.to_numpy() != new_values.to_numpy()]:
                changes.cells.append((patient, column, old_values[patient], new_values[patient]))
    else:
        old_columns, new_columns = old.get("columns", {}), new.get("columns", {})
        changes.columns = [c for c in new_columns if old_columns.get(c) != new_columns[c]]
    return changes


# -- pages ----------------------------------------------------------------------------


def _sections(changes: Changes) -> dict[str, list[tuple[str, dict | None, dict | None]]]:
    """Changed, added and removed figures by the section they are printed in, in the report's order."""
    sections: dict[str, list] = {}
    for old, new in changes.changed:
        sections.setdefault(new["printed_in"][0]["section"], []).append(("changed", old, new))
    for new in changes.added:
        sections.setdefault(new["printed_in"][0]["section"], []).append(("added", None, new))
    for old in changes.removed:
        sections.setdefault(old["printed_in"][0]["section"], []).append(("removed", old, None))
    return sections


def _what(entry: dict) -> str:
    """What a figure is, in words: its definition, its population, and its table cell."""
    where = entry["printed_in"][0].get("block")
    population = entry.get("population")
    return (entry["definition"] + (f"; {population}" if population else "")
            + (f" [{where}]" if where and entry["printed_in"][0]["where"] == "table" else ""))


def input_lines(changes: Changes, patients: bool = False) -> list[str]:
    """The input changes in sentences; ``patients`` adds ids and values (local audit only)."""
    i = changes.inputs
    lines = []
    for name, old, new in changes.settings:
        lines.append(f"Setting changed: {setting_name(name)}: {old} → {new}")
    if i.patients_before is not None and i.patients_before != i.patients_after:
        lines.append(f"Patients: {i.patients_before} → {i.patients_after}")
    if i.added:
        lines.append(f"{len(i.added)} patient{'s' if len(i.added) != 1 else ''} added"
                     + (f": {', '.join(i.added)}" if patients else ""))
    if i.removed:
        lines.append(f"{len(i.removed)} patient{'s' if len(i.removed) != 1 else ''} removed"
                     + (f": {', '.join(i.removed)}" if patients else ""))
    for column, count in i.columns_changed().items():
        lines.append(f"Column {column} changed" + (f" for {count} patient{'s' if count != 1 else ''}" if count else ""))
    if patients:
        lines += [f"{patient}: {column}: {old or '(empty)'} → {new or '(empty)'}"
                  for patient, column, old, new in i.cells]
    if i.data_changed and not (i.added or i.removed or i.cells or i.columns):
        lines.append("The data file changed (its content as read is the same)")
    return lines or ["No change in the data or the settings"]


def changes_markdown(changes: Changes, title: str) -> str:
    out = [f"# {title}", "", f"**{changes.line}.**", "", "## What changed in the inputs", ""]
    out += [f"- {line}" for line in input_lines(changes)] + [""]
    for section, items in _sections(changes).items():
        out += [f"## {section}", "", "| figure | before | now |", "|---|---|---|"]
        for kind, old, new in items:
            entry = new or old
            before = old["text"] if old else "(new)"
            now = new["text"] if new else "(removed)"
            out.append(f"| {_escape(_what(entry))} | {_escape(before)} | {_escape(now)} |")
        out.append("")
    return "\n".join(out)


def _escape(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


_STYLE = """<style>
body{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;line-height:1.45;color:#222}
table{border-collapse:collapse;width:100%;margin:.4rem 0 1.2rem}td,th{border:1px solid #ccc;padding:.3rem .5rem;vertical-align:top;text-align:left}
th{background:#f3f3f3}.old{color:#8a1c1c;text-decoration:line-through}.new{color:#1c5e20;font-weight:600}
.summary{font-size:1.15em}.tag{font-size:.8em;color:#666}
</style>"""


def changes_html(changes: Changes, title: str, patients: bool = False) -> str:
    parts = [f"<h1>{html.escape(title)}</h1>", f'<p class="summary"><b>{html.escape(changes.line)}.</b></p>',
             "<h2>What changed in the inputs</h2><ul>"
             + "".join(f"<li>{html.escape(line)}</li>" for line in input_lines(changes, patients)) + "</ul>"]
    for section, items in _sections(changes).items():
        rows = []
        for kind, old, new in items:
            entry = new or old
            before = f'<span class="old">{html.escape(old["text"])}</span>' if old else '<span class="tag">new</span>'
            now = f'<span class="new">{html.escape(new["text"])}</span>' if new else '<span class="tag">removed</span>'
            rows.append(f"<tr><td>{html.escape(_what(entry))}</td><td>{before}</td><td>{now}</td></tr>")
        parts.append(f"<h2>{html.escape(section)}</h2><table><tr><th>figure</th><th>before</th><th>now</th></tr>"
                     f"{''.join(rows)}</table>")
    if patients:
        parts.insert(1, '<p style="background:#fde2e1;padding:.5rem"><b>Local only:</b> names patients.</p>')
    return (f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>'
            f"{_STYLE}</head><body>\n" + "\n".join(parts) + "\n</body></html>\n")


def write_changes(changes: Changes, folder: Path, stem: str = "changes", audit_folder: Path | None = None) -> None:
    """``<stem>.html`` and ``.md`` for co-authors; with ``audit_folder``, the patient-level page there."""
    title = f"Printed figures changed since {changes.since}"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{stem}.md").write_text(changes_markdown(changes, title), encoding="utf-8")
    (folder / f"{stem}.html").write_text(changes_html(changes, title), encoding="utf-8")
    if audit_folder is not None:
        audit_folder.mkdir(parents=True, exist_ok=True)
        (audit_folder / f"{stem}.html").write_text(changes_html(changes, title, patients=True), encoding="utf-8")


def read_record(folder: Path) -> dict | None:
    try:
        return json.loads((Path(folder) / RECORD).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def read_cohort_copy(folder: Path) -> pd.DataFrame | None:
    from analysis.audit import COHORT_COPY

    path = Path(folder) / "audit" / COHORT_COPY
    if not path.is_file():
        return None
    return pd.read_csv(path, dtype=str, keep_default_na=False)


def snapshot_path(study_dir: Path, name: str) -> Path:
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]*", name or ""):
        raise ValueError(f"snapshot name {name!r}: use letters, digits, '.', '_' or '-'")
    return Path(study_dir) / SNAPSHOTS / f"{name}.json"


def read_snapshot(study_dir: Path, name: str) -> dict:
    path = snapshot_path(study_dir, name)
    if not path.is_file():
        known = sorted(p.stem for p in path.parent.glob("*.json")) if path.parent.is_dir() else []
        raise FileNotFoundError(f"{path}: no snapshot {name!r}" + (f" (snapshots: {', '.join(known)})" if known
                                                                 else " (make snapshot NAME=... makes one)"))
    return json.loads(path.read_text(encoding="utf-8"))


# -- Word highlighting ----------------------------------------------------------------


def _boundary(text: str) -> re.Pattern:
    """``text`` where it stands as a whole figure: not inside a longer number or word.

    A DOCX table keeps a range whole with no-break spaces and word joiners
    around an en dash (templates/docx-tables.lua): those match too.

    Examples
    --------
    >>> bool(_boundary("5.9 to 7.1").search("(95% CI: 5.9\u00a0to\u00a07.1)"))
    True
    >>> bool(_boundary("5.9–7.1").search("5.9\u2060–\u20607.1")), bool(_boundary("5.9").search("15.9"))
    (True, False)
    """
    body = "".join("[ \u00a0]" if c == " " else "\u2060?–\u2060?" if c == "–" else re.escape(c) for c in text)
    return re.compile(r"(?<![\w.])" + body + r"(?![\w%]|\.\d)")


def _highlight_runs(paragraph, spans: list[tuple[int, int]]) -> None:
    """Split the paragraph's runs at the spans' edges and highlight the runs inside them."""
    from docx.enum.text import WD_COLOR_INDEX
    from docx.text.run import Run

    position = 0
    for run in list(paragraph.runs):
        text = run.text
        start, end = position, position + len(text)
        position = end
        cuts = sorted({start, end, *(edge for a, b in spans for edge in (a, b) if start < edge < end)})
        if not any(a < end and b > start for a, b in spans):
            continue
        if any(a <= start and end <= b for a, b in spans):
            # Whole inside: highlighted as it is, so a run that is Word's no-break hyphen stays one.
            run.font.highlight_color = WD_COLOR_INDEX.YELLOW
            continue
        for left, right in zip(cuts, cuts[1:]):
            piece = copy.deepcopy(run._r)
            run._r.addprevious(piece)
            new = Run(piece, paragraph)
            new.text = text[left - start:right - start]
            if any(a <= left and right <= b for a, b in spans):
                new.font.highlight_color = WD_COLOR_INDEX.YELLOW
        run._r.getparent().remove(run._r)


def highlight_docx(source: Path, target: Path, entries: list[dict]) -> int:
    """Copy a report DOCX with Word's highlighting on each entry's text where the entry says it is printed.

    Abstract and text entries are looked for in the paragraph their section
    names (``Results: ...``), table entries in the cells of their row.
    Returns how many places were highlighted.
    """
    from docx import Document

    document = Document(str(source))
    paragraphs = list(document.paragraphs)
    cells = [(row.cells[0].text.strip(), cell) for table in document.tables for row in table.rows
             for cell in row.cells[1:]]
    marked = 0
    for entry in entries:
        pattern = _boundary(entry["text"])
        for where in entry["printed_in"]:
            if where["where"] == "table":
                label = where.get("block", "").split(" | ")[0]
                targets = [p for row_label, cell in cells if row_label == label.strip() for p in cell.paragraphs]
            elif where["where"] in ("abstract", "text"):
                block = where.get("block")
                targets = [p for p in paragraphs if not block or p.text.startswith(f"{block}:")]
            else:
                continue  # figure legends are pictures in Word
            for paragraph in targets:
                spans = [m.span() for m in pattern.finditer(paragraph.text)]
                if spans:
                    _highlight_runs(paragraph, spans)
                    marked += len(spans)
    document.save(str(target))
    return marked


def finish_build(staging: Path, study_dir: Path) -> None:
    """After the formats are written: highlight in ``report.docx`` what changed since ``$CHANGES_SINCE``.

    The renderer's hook (one call after the writers, before the build record):
    a no-op without ``CHANGES_SINCE``.
    """
    name = os.environ.get("CHANGES_SINCE")
    docx = Path(staging) / "report.docx"
    current = read_record(staging)
    if not name or current is None or not docx.is_file():
        return
    changes = compare(read_snapshot(study_dir, name), current, f"snapshot {name}")
    highlight_docx(docx, docx, changes.changed_texts())


# -- command line ---------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m analysis.changes", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    for name, text in (("snapshot", "freeze the current record under a name"),
                       ("changes", "compare the current build with a snapshot"),
                       ("audit", "say where the audit of the current build is")):
        command = commands.add_parser(name, help=text)
        command.add_argument("--study", default=".", help="the study folder (default: .)")
        if name == "snapshot":
            command.add_argument("--name", required=True)
        if name == "changes":
            command.add_argument("--since", required=True, help="a snapshot's name")
    args = parser.parse_args(argv)
    study = Path(args.study)
    output = study / "_output"
    current = read_record(output)
    if current is None:
        print(f"{output / RECORD}: no record yet: run make report first", file=sys.stderr)
        return 1
    try:
        if args.command == "snapshot":
            path = snapshot_path(study, args.name)
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps(current, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
            print(f"snapshot     {len(current['numbers'])} printed figures frozen in {path}")
        elif args.command == "changes":
            changes = compare(read_snapshot(study, args.since), current, f"snapshot {args.since}")
            folder = study / ".build" / "changes"
            stem = f"since-{args.since}"
            write_changes(changes, folder, stem)
            written = [folder / f"{stem}.html", folder / f"{stem}.md"]
            if (output / "report.docx").is_file():
                docx = folder / f"report-{stem}.docx"
                highlight_docx(output / "report.docx", docx, changes.changed_texts())
                written.append(docx)
            print(changes.line)
            for path in written:
                print(f"  wrote {path}")
        else:
            for name in ("index.html", "report.html", "changes.html"):
                print(f"  {output / 'audit' / name}")
            print("local only: these pages name patients")
    except (OSError, ValueError) as error:
        print(error, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
