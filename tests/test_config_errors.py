"""A catalogue of broken configurations: each is refused before anything runs, in one block naming file, line and key.

Each case edits one line of a copy of the colon study (examples/colon) and
runs the data checks' command line, the first thing `make report` and the
pre-render step run. The expected line is where the edit landed in the
edited file, so the assertion does not depend on the file's current layout.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from dataclasses import dataclass

import pytest

from data_checks.__main__ import main
from tests.corruptions import ROOT

COLON = ROOT / "examples" / "colon"
DEFINITION = "\n  definitions:\n    older:\n      label: Older than 70\n      where: agee > 70\n"


@dataclass(frozen=True)
class Broken:
    name: str
    file: str  # study.yml or data/dictionary.yml
    old: str
    new: str  # the line the message must point at holds this text
    key: str
    words: str  # what the message says besides file, line and key
    at: str | None = None  # text on the line the message names, within `new` (default: its last line)

    def apply(self, text: str) -> tuple[str, int]:
        """The edited text, and the line the message must name."""
        start = text.index(self.old)
        within = self.new.rindex(self.at) if self.at else self.new.rstrip("\n").rfind("\n") + 1
        line = (text[:start] + self.new[:within]).count("\n") + 1
        return text[:start] + self.new + text[start + len(self.old):], line


CATALOGUE = [
    Broken("misspelt setting", "study.yml", "word_limit: 300", "word_limt: 300",
           "study.word_limt", "unknown key; did you mean word_limit?"),
    Broken("misspelt block", "study.yml", "  comparisons:", "  comparison:",
           "study.comparison", "unknown key; did you mean comparisons?"),
    Broken("misspelt endpoint key", "study.yml", "landmarks: [1 year", "landmark: [1 year",
           "study.endpoints.overall_survival.landmark", "unknown key; did you mean landmarks?"),
    Broken("misspelt comparison key", "study.yml", "hazard_ratios: false", "hazard_ratio: false",
           "study.comparisons.os_by_arm_stratified.hazard_ratio", "did you mean hazard_ratios?"),
    Broken("misspelt competing key", "study.yml", "competing: {time: death_time_days",
           "competing: {tme: death_time_days", "study.endpoints.recurrence.competing", "tme"),
    Broken("misspelt dictionary key", "data/dictionary.yml", "    max: 100", "    maxx: 100",
           "column 'age' maxx", "unknown key; did you mean max?"),
    Broken("wrong type", "study.yml", "conf_level: 0.95", "conf_level: high",
           "study.conf_level", "must be a number between 0 and 1"),
    Broken("whole number expected", "study.yml", "word_limit: 300", "word_limit: 300 words",
           "study.word_limit", "must be a whole number"),
    Broken("unknown range dash", "study.yml", "word_limit: 300", "word_limit: 300\n  range_dash: '/'",
           "study.range_dash", "must be '-' (19.1-59.8)"),
    Broken("unknown p-value style", "study.yml", "word_limit: 300", "word_limit: 300\n  p_value_style: apa",
           "study.p_value_style", "must be one of default, nejm, or {digits: 3, below: 0.001}"),
    Broken("misspelt p-value style key", "study.yml", "word_limit: 300",
           "word_limit: 300\n  p_value_style: {digits: 3, bellow: 0.001}", "study.p_value_style", "bellow"),
    Broken("p-values that would print as zero", "study.yml", "word_limit: 300",
           "word_limit: 300\n  p_value_style: {digits: 2, below: 0.0001}", "study.p_value_style",
           "would print as p=0 with 2 decimals: give below: 0.01 or more"),
    Broken("wrong type in the dictionary", "data/dictionary.yml", "type: integer", "type: number",
           "column 'age' type", "must be one of string, integer, float"),
    Broken("yes/no expected in the dictionary", "data/dictionary.yml", "required: true", "required: maybe",
           "column 'patient_id' required", "must be true or false"),
    Broken("bad landmark", "study.yml", "landmarks: [1 year", "landmarks: [1 yr",
           "study.endpoints.overall_survival.landmarks[0]", "a time such as '2 years'"),
    Broken("unknown column in a definition", "study.yml", "\n  comparisons:", DEFINITION + "\n  comparisons:",
           "study.definitions.older.where", "'agee' in 'agee > 70' is not a column of the data dictionary; "
                                            "did you mean age?", at="where:"),
    Broken("unknown column as Table 1 split", "study.yml", "characteristics_by: arm", "characteristics_by: armm",
           "study.characteristics_by", "'armm' is not a column"),
    Broken("unknown column as a Table 1 row", "study.yml", "    - sex\n", "    - sexx\n",
           "study.characteristics[0]", "'sexx' is not a column of the data dictionary", at="    - sexx"),
    Broken("unknown endpoint in a comparison", "study.yml", "endpoint: recurrence\n", "endpoint: relapse\n",
           "study.comparisons.recurrence_by_arm.endpoint", "'relapse' is not a declared endpoint"),
    Broken("unknown endpoint in the outcomes", "study.yml", "- median: overall_survival", "- median: os",
           "study.outcomes[2].median", "'os' is not declared"),
    Broken("unknown level as reference", "study.yml", "reference: obs", "reference: placebo",
           "study.comparisons.os_by_arm.reference", "'placebo' is not a level of 'arm' (obs, lev, lev_5fu)"),
    Broken("bad date format", "study.yml", 'date_format: "%Y-%m-%d"', 'date_format: "%Y-%q"',
           "study.date_format", "must be a strftime date format"),
    Broken("date format without a date", "study.yml", 'date_format: "%Y-%m-%d"', 'date_format: "today"',
           "study.date_format", "must be a strftime date format"),
    Broken("missing data file", "study.yml", "data: data/colon.csv", "data: data/colon_2024.csv",
           "study.data", "file 'data/colon_2024.csv' not found"),
    Broken("missing dictionary file", "study.yml", "dictionary: data/dictionary.yml", "dictionary: data/dict.yml",
           "study.dictionary", "file 'data/dict.yml' not found"),
    Broken("a key given twice", "study.yml", "  conf_level: 0.95", "  conf_level: 0.95\n  conf_level: 0.80",
           "study.conf_level", "is given twice (first on line"),
    Broken("a column described twice", "data/dictionary.yml", "  - name: perfor", "  - name: obstruct",
           "column 'obstruct'", "is described twice (first as columns[4])"),
    Broken("a time column without its unit", "data/dictionary.yml",
           "  - name: death_time_days\n    label: Days to death or last follow-up\n    type: integer\n    unit: days\n",
           "  - name: death_time_days\n    label: Days to death or last follow-up\n    type: integer\n",
           "column 'death_time_days' unit", "is missing: it holds the times of study.endpoints.overall_survival.time",
           at="  - name: death_time_days"),
    Broken("a time column in an unknown unit", "data/dictionary.yml",
           "    type: integer\n    unit: days\n    required: true\n    min: 0\n  - name: death\n",
           "    type: integer\n    unit: d\n    required: true\n    min: 0\n  - name: death\n",
           "column 'death_time_days' unit", "'d' is not a unit of time", at="    unit: d"),
]


@pytest.fixture
def study(tmp_path, monkeypatch):
    # `make test` exports DATA (the top-level study's cohort); this study names its own.
    monkeypatch.delenv("DATA", raising=False)
    folder = tmp_path / "colon"
    shutil.copytree(COLON, folder, ignore=shutil.ignore_patterns("_output", ".quarto*"))
    # The copy is outside the repository: its project file names the engine's files by absolute paths.
    project = folder / "_quarto.yml"
    project.write_text(project.read_text(encoding="utf-8").replace("../../", f"{ROOT}/"), encoding="utf-8")
    return folder


@pytest.mark.parametrize("case", CATALOGUE, ids=[c.name for c in CATALOGUE])
def test_a_broken_configuration_is_named_by_file_line_and_key(case, study, capsys):
    path = study / case.file
    original = path.read_text(encoding="utf-8")
    assert case.old in original, "the catalogue no longer fits examples/colon"
    edited, line = case.apply(original)
    path.write_text(edited, encoding="utf-8")

    code = main(["--study", str(study / "study.yml"), "--no-docs"])
    out, err = capsys.readouterr()
    assert code == 2 and out == ""
    assert err.startswith(f"error: {path}, line {line}: "), err
    assert case.key in err and case.words in err, err
    assert "Traceback" not in err and len(err.splitlines()) == 1


def test_every_problem_of_a_file_is_listed_in_one_block(study, capsys):
    path = study / "study.yml"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("word_limit: 300", "word_limt: 300").replace("conf_level: 0.95", "conf_level: 2"),
                    encoding="utf-8")
    assert main(["--study", str(path), "--no-docs"]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: {path}: 2 problems:")
    assert "study.word_limt: unknown key; did you mean word_limit?" in err
    assert "study.conf_level must be a number between 0 and 1" in err


def test_a_study_of_its_own_keeps_its_own_settings(study):
    from analysis.config import load_study

    path = study / "study.yml"
    path.write_text(path.read_text(encoding="utf-8").replace("  sheet: null", "  sheet: null\n  nodes_threshold: 4"),
                    encoding="utf-8")
    assert load_study(path).nodes_threshold == 4


def test_the_p_value_style_is_read_by_name_or_by_digits(study):
    from analysis import formatting
    from analysis.config import load_study

    path = study / "study.yml"
    text = path.read_text(encoding="utf-8")
    for style, expected in [("nejm", formatting.P_VALUE_STYLES["nejm"]),
                            ("{digits: 2}", formatting.PValueStyle(digits=2, below=0.01)),
                            ("{digits: 2, small_digits: 3}", formatting.PValueStyle(digits=2, small_digits=3)),
                            ("{digits: 4, below: 0.0001}", formatting.PValueStyle(digits=4, below=0.0001))]:
        path.write_text(text.replace("word_limit: 300", f"word_limit: 300\n  p_value_style: {style}"), encoding="utf-8")
        assert load_study(path).p_value_style == expected, style


def test_a_broken_configuration_renders_nothing(study):
    path = study / "study.yml"
    edited, line = CATALOGUE[0].apply(path.read_text(encoding="utf-8"))
    path.write_text(edited, encoding="utf-8")
    environment = {**os.environ, "PYTHONPATH": str(ROOT)}
    environment.pop("DATA", None)
    done = subprocess.run([sys.executable, "-m", "renderer", str(study / "report.qmd"), "--renderer", "builtin"],
                          cwd=ROOT, capture_output=True, text=True, env=environment, timeout=600)
    assert done.returncode != 0
    # The pre-render step runs in the study's folder, which names the file as the folder does.
    assert f"error: study.yml, line {line}: study.word_limt: unknown key" in done.stderr
    assert "Traceback" not in done.stderr
    assert not (study / "_output" / "report.html").exists()
