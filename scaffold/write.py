"""The files of a new study folder, from what :mod:`scaffold.infer` proposed.

Each guess is marked ``REVIEW`` in a comment of the file that holds it, so the
first render shows real numbers and a reader knows what to check before
trusting them.
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import yaml

from scaffold.infer import DATA_FILE, ID, Column, Inference, unit_note

ENGINE = Path(__file__).resolve().parent.parent
DICTIONARY_FILE = "data/dictionary.yml"
# Table 1 rows the starter report lists at most; the others are named in study.yml to add by hand.
MAX_CHARACTERISTICS = 12


def _flow(value) -> str:
    """A value as one line of YAML (quoted where YAML needs it)."""
    # Unsorted: a category's codes keep the order the file (or the scaffold) gives them.
    return yaml.safe_dump(value, default_flow_style=True, allow_unicode=True, width=10_000,
                          sort_keys=False).strip().removesuffix(
        "\n...").strip()


def engine_path(folder: Path, target: str) -> str:
    """The engine's ``target`` as the study's _quarto.yml names it: relative inside the repository, else absolute."""
    full = ENGINE / target
    try:
        folder.resolve().relative_to(ENGINE)
    except ValueError:
        return str(full)
    return os.path.relpath(full, folder.resolve())


def dictionary_yaml(inference: Inference, source: Path) -> str:
    lines = [f"# Data dictionary of {inference.data_file}, drafted by `make new-study` from {source.name} on "
             f"{dt.date.today()}."]
    if inference.labelled:
        if inference.redcap_dictionary_file:
            lines += [
                f"# From the REDCap data dictionary ({inference.redcap_dictionary_file}): labels, types, the",
                "# choices' labels, min, max and required fields. The loader reads the export against",
                "# them, so a choice relabelled in REDCap later is refused, not silently regrouped.",
                "# REVIEW units, and min/max where REDCap has none.",
            ]
        else:
            lines += [
                f"# From the {inference.labelled} file's labels: column labels (variable labels), the codes'",
                "# labels (value labels; missing-value codes left out, they arrive missing). The loader",
                "# reads the file against them, so a code relabelled in the file later is refused, not",
                "# silently regrouped. REVIEW units and plausible min/max (the file has none), and",
                "# required: true where every patient in this file has a value.",
            ]
    else:
        lines += [
            "# REVIEW every column: the label the tables print, the unit, whether a cell may be",
            "# empty (required), the codes' labels, and the plausible range: min and max below",
            "# are only the values observed in this file, not limits.",
        ]
    lines += [
        "# Keys: name, label, type (string|integer|float|boolean|date|category), unit,",
        "# required, values (category: code: label), min, max, max_exclusive, pattern,",
        "# unique, required_when, as in the engine's data/dictionary.yml.",
        "columns:",
    ]
    for column in inference.columns:
        if column.review:
            lines.append(f"  # REVIEW {column.name}: {column.review}")
        label = column.given_label or ("Patient (pseudonymous study ID)" if column.name == ID else column.label)
        lines += [f"  - name: {_flow(column.name)}",
                  f"    label: {_flow(label)}",
                  f"    type: {column.type}",
                  f"    required: {_flow(column.required)}"]
        if column.unique:
            lines.append("    unique: true")
        if column.pattern:
            lines.append(f"    pattern: {_flow(column.pattern)}")
        if column.unit:
            lines.append(f"    unit: {column.unit}")
        if column.codes:
            labels = column.code_labels or {code: code.replace("_", " ").capitalize() for code in column.codes}
            lines.append(f"    values: {_flow(labels)}")
        for key in ("min", "max"):
            value = getattr(column, key)
            if value is not None:
                lines.append(f"    {key}: {_flow(value)}")
    return "\n".join(lines) + "\n"


def _landmark_unit(landmark: str) -> str:
    unit = landmark.split()[1]
    return "years" if unit.startswith("year") else "months" if unit.startswith("month") else "days"


def characteristics(inference: Inference) -> list[Column]:
    """Table 1 rows: the columns that describe patients (not the id, dates or endpoint columns)."""
    used = {value for e in inference.endpoints for key, value in e.declaration.items() if key in ("time", "status")}
    return [c for c in inference.columns
            if c.name != ID and c.type in ("boolean", "category", "integer", "float") and c.name not in used]


def study_yaml(inference: Inference, source: Path) -> str:
    lines = [
        f"# The study, drafted by `make new-study` from {source.name}. Every guess is marked",
        "# REVIEW. Quarto reads this file as document metadata (the title block);",
        "# analysis/ reads the `study:` block (keys: the README's \"Using your own cohort\").",
        'title: "Title of the study"  # REVIEW',
        "author:",
        "  - name: First Author  # REVIEW",
        "",
        "study:",
        f"  data: {_flow(inference.data_file)}",
        f"  dictionary: {DICTIONARY_FILE}",
    ]
    if inference.redcap_dictionary_file:
        lines += ["  # The REDCap project's data dictionary the export is read with (field types, choices).",
                  f"  redcap_dictionary: {_flow(inference.redcap_dictionary_file)}"]
    else:
        lines.append("  sheet: null")
    if inference.cutoff is not None:
        lines += ["  # REVIEW: the data cut-off, proposed as the latest date in the file; events and",
                  "  # follow-up after it are not counted.",
                  f"  cutoff_date: {inference.cutoff.isoformat()}"]
    lines += [
        "  # KM confidence intervals: linear (plain), log (R's default), log-log, logit, arcsine.",
        "  ci_transform: log",
        "  conf_level: 0.95",
        "  word_limit: 300",
        '  date_format: "%Y-%m-%d"',
    ]
    if inference.endpoints:
        unit = _landmark_unit(inference.landmark)
        lines += ["", "  # Time-to-event endpoints, proposed from the column names."]
        endpoints = {}
        for guess in inference.endpoints:
            lines.append(f"  # REVIEW {guess.name}: {guess.reason}{unit_note(inference, guess)}.")
            endpoints[guess.name] = {**guess.declaration, "unit": unit, "landmarks": [inference.landmark]}
        if any("time" in g.declaration for g in inference.endpoints):
            lines.append(f"  # Times are read in the unit {DICTIONARY_FILE} gives their column: REVIEW it there.")
        body = yaml.safe_dump({"endpoints": endpoints}, sort_keys=False, default_flow_style=None, allow_unicode=True,
                              width=110)
        lines += ["  " + line for line in body.splitlines()]
    rows = characteristics(inference)
    if rows:
        lines += ["", "  # Table 1 rows, in order: dictionary columns or definitions. REVIEW: keep what"]
        lines += ["  # describes the patients at the start; add characteristics_by: <column> for a split."]
        lines += ["  characteristics:"] + [f"    - {_flow(c.name)}" for c in rows[:MAX_CHARACTERISTICS]]
        if rows[MAX_CHARACTERISTICS:]:
            lines.append(f"    # also: {', '.join(c.name for c in rows[MAX_CHARACTERISTICS:])}")
    if inference.endpoints:
        first = inference.endpoints[0].name
        lines += ["", "  # Table 2 rows, in order.", "  outcomes:",
                  f"    - survival: {first}", f"    - median: {first}", f"    - follow_up: {first}"]
    return "\n".join(lines) + "\n"


_SETUP = '''---
# Title and authors come from study.yml (metadata-files in _quarto.yml).
jupyter: python3
---

```{{python}}
#| label: setup
from analysis import formatting as fmt
from analysis.exports import export_abstract_text, export_figure, export_table
from analysis.figures import km_figure
from analysis.provenance import methods_sentence, provenance
from analysis.record import write_record
from analysis.study import Study
from analysis.tables import outcomes, patient_characteristics

study = Study("study.yml")
s = study.settings
t1 = patient_characteristics(study)
t2 = outcomes(study)
{endpoint_setup}
```

<!-- Text in [brackets] is yours to write. The inline Python expressions are the
numbers, computed from the data at every render: keep them where your sentences
need them, and never type a number yourself. -->

::: {{#abstract-body}}

**Introduction:** [Why this cohort was studied, and the question.]

**Methods:** `{{python}} fmt.sentence_start(study.n)` patients [who, where, when]. {methods}

**Results:** {results}

**Conclusion:** [What the results mean.]

:::

**Statistical methods:** `{{python}} methods_sentence(study)`

```{{python}}
#| label: abstract-export
#| output: false
export_abstract_text("report.qmd", globals(), word_limit=s.word_limit, note=study.data_note)
```

## Patient characteristics

```{{python}}
#| label: tbl-characteristics
#| tbl-cap: Patient characteristics, n (%) of patients with a known value, or median (range).
#| output: asis
export_table(t1, "table1_characteristics")
print(t1.to_markdown())
```
'''

_OUTCOMES = '''
## Outcomes

```{{python}}
#| label: tbl-outcomes
#| tbl-cap: Outcomes, with {conf}% confidence intervals; the statistical methods name each estimate's method.
#| output: asis
export_table(t2, "table2_outcomes")
print(t2.to_markdown())
if not t2.rows:
    print("\\n[Table 2 is empty until study.yml declares `outcomes:` (README: Using your own cohort).]")
```
'''

_SURVIVAL = '''

{label} is shown in @fig-survival.

```{{python}}
#| label: fig-survival
#| fig-cap: {label} of all patients (Kaplan-Meier, shaded confidence band, tick marks censored patients).
#| fig-alt: Kaplan-Meier curve of {label_lower} with its confidence band and a table of patients at risk.
figure = km_figure([endpoint.curve], annotations=[fmt.landmark_annotation(endpoint.at_landmark, endpoint.landmark.adjective, endpoint=endpoint.endpoint.short)], landmark_days=endpoint.landmark.days, ylabel="{label}", note=study.data_note)
export_figure(figure, "figure1_survival")
```
'''

_PROVENANCE = '''
```{python}
#| label: provenance
#| output: asis
print(provenance(study).to_markdown())
```

```{python}
#| label: record
#| output: false
write_record("report.qmd", globals())
```
'''


def _table_one_example(inference: Inference) -> str:
    """One Table 1 number quoted in the text, to show how: a yes/no count or a median (range)."""
    rows = [c for c in characteristics(inference)[:MAX_CHARACTERISTICS] if c.type != "category"]
    if not rows:
        return ""
    return f" {rows[0].label}: `{{python}} t1.text({rows[0].name!r})`."


def report_qmd(inference: Inference) -> str:
    if inference.endpoints:
        guess = inference.endpoints[0]
        label = guess.declaration["label"]
        setup = f'endpoint = study.endpoints["{guess.name}"]'
        methods = (f"{label} was estimated with the Kaplan-Meier method ([define the origin and the event: "
                   f"{guess.reason}]).")
        results = ("Median follow-up (`{python} endpoint.endpoint.unit`) was "
                   "`{python} fmt.median_ci(endpoint.follow_up.median, endpoint.endpoint.unit)`; "
                   "`{python} fmt.number(endpoint.events)` events were recorded. "
                   f"{label} at "
                   "`{python} endpoint.landmark.text` was `{python} fmt.estimate_ci(endpoint.at_landmark)`."
                   + _table_one_example(inference))
        text = _SETUP.format(endpoint_setup=setup, methods=methods, results=results)
        text += _OUTCOMES.format(conf=95) + _SURVIVAL.format(label=label, label_lower=label.lower())
    else:
        text = _SETUP.format(endpoint_setup="", methods="",
                             results=_table_one_example(inference).strip() + " [No endpoint was recognised from the column names: declare one in study.yml "
                                     "(see README.md), then quote it here.]")
        text += _OUTCOMES.format(conf=95)
    return text + _PROVENANCE


def quarto_yaml(folder: Path) -> str:
    return f"""# A study is a Quarto project: this folder renders with `make report STUDY=<this folder>`,
# `quarto render` or an editor's Render button. Paths point at the engine.
project:
  type: default
  output-dir: _output
  # The data checks gate every render.
  pre-render: {_flow(engine_path(folder, "data_checks/pre_render.py"))}

metadata-files:
  - study.yml

execute:
  echo: false
  warning: false

lang: en-GB

format:
  html:
    embed-resources: true
    toc: false
    css: {_flow(engine_path(folder, "templates/abstract.css"))}
    template-partials:
      - {_flow(engine_path(folder, "templates/title-block.html"))}
    include-after-body: {_flow(engine_path(folder, "templates/figure-zoom.html"))}
  typst:
    papersize: a4
    font-paths:
      - {_flow(engine_path(folder, "templates/fonts"))}
    template-partials:
      - {_flow(engine_path(folder, "templates/typst-template.typ"))}
      - {_flow(engine_path(folder, "templates/typst-show.typ"))}
  docx:
    reference-doc: {_flow(engine_path(folder, "templates/reference.docx"))}
    filters:
      - {_flow(engine_path(folder, "templates/docx-title-block.lua"))}
      - {_flow(engine_path(folder, "templates/docx-tables.lua"))}
"""


def readme(inference: Inference, source: Path, folder: Path) -> str:
    left_out = "".join(f"\n- `{name}`: {why}" for name, why in inference.left_out.items()) or "\nnone"
    id_line = (f"the file's `{inference.id_source}` column" if inference.id_source not in (None, ID)
               else "none recognised in the file" if inference.labelled and not inference.id_source
               else "the file's `patient_id`" if inference.id_source == ID else "numbered `P-...` by the scaffold")
    if inference.labelled:
        data_rows = (f"| `{inference.data_file}` | the analysis set: a copy of the {inference.labelled} file itself, "
                     f"read with its labels and missing-value codes (patient id: {id_line}), without the columns "
                     "left out below |")
        if inference.redcap_dictionary_file:
            data_rows += (f"\n| `{inference.redcap_dictionary_file}` | a copy of the REDCap project's data dictionary, "
                          "which the export is read with |")
        dictionary_row = "the columns, from the file's labels: types, codes and their labels"
    else:
        data_rows = (f"| `{DATA_FILE}` | the analysis set: a copy of the cohort with the patient id ({id_line}) first, "
                     "without the columns left out below |")
        dictionary_row = "the columns: types, codes, ranges"
    return f"""# {folder.name}

Drafted by `make new-study` from `{source}` ({len(inference.table)} patients). It renders as it is;
every guess is marked `REVIEW` in the file that holds it.

| file | what |
|---|---|
{data_rows}
| `{DICTIONARY_FILE}` | {dictionary_row} |
| `study.yml` | title and authors, the data cut-off, endpoints, Table 1 and Table 2 rows, check rules |
| `report.qmd` | the text, with numbers computed from the data |
| `_quarto.yml` | formats; runs the data checks before every render |

Left out of the analysis set (direct identifiers or free text):{left_out}

## What to edit next

1. `{DICTIONARY_FILE}`: labels, units, the codes' labels, plausible `min`/`max`
   (the drafted ones are only the observed range), `required`.
2. `study.yml`: title and authors; the cut-off; each endpoint (origin, event,
   censoring, units); the Table 1 rows (`characteristics`, and
   `characteristics_by` for a split); comparisons and check rules as in the
   engine's README, "Using your own cohort".
3. `report.qmd`: the text in [brackets]. Numbers are inline expressions, e.g.
   `` `{{python}} t1.text("age")` `` for a Table 1 row.
4. Render: `make report STUDY={folder}` from the engine's folder; `make check
   STUDY={folder}` runs the data checks alone.
"""
