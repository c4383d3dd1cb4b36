"""A time column is read in the unit its dictionary declares, and checked before the report.

The colon study (examples/colon) gives its times in days. The same data in
months (days / 30.4375, the month of 365.25/12 days) with ``unit: months`` must
print the same numbers, equal to R's survfit on the days; without a unit the
study is refused by name, and a negative time stops the data checks naming the
patient, never a traceback from the report.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

import pandas as pd
import pytest

from analysis import formatting
from analysis.config import StudySettingsError
from analysis.study import Study
from data_checks.__main__ import main
from tests.corruptions import ROOT
from tests.test_colon_study import REFERENCE, close

COLON = ROOT / "examples" / "colon"
TIMES = ("death_time_days", "recurrence_time_days")
DAYS_PER_MONTH = 365.25 / 12


def colon_copy(folder, unit: str | None = "days", edit=None):
    """examples/colon in ``folder``, its times in ``unit`` (None: days, with the unit left out of the dictionary)."""
    shutil.copytree(COLON, folder, ignore=shutil.ignore_patterns("_output", ".quarto*", "snapshots"))
    dictionary = folder / "data" / "dictionary.yml"
    text = dictionary.read_text(encoding="utf-8")
    for name in TIMES:
        block = text[text.index(f"  - name: {name}\n"):]
        block = block[:block.index("  - name:", 3)]
        new = block.replace("    unit: days\n", "" if unit is None else f"    unit: {unit}\n")
        if unit == "months":
            new = new.replace("type: integer", "type: float")
        text = text.replace(block, new)
    dictionary.write_text(text, encoding="utf-8")
    data = folder / "data" / "colon.csv"
    cohort = pd.read_csv(data, dtype=str, keep_default_na=False)
    if unit == "months":
        for name in TIMES:
            cohort[name] = [repr(int(days) / DAYS_PER_MONTH) for days in cohort[name]]
    if edit is not None:
        edit(cohort, dictionary)
    cohort.to_csv(data, index=False)
    return folder


@pytest.fixture(autouse=True)
def no_data_variable(monkeypatch):
    # `make test` exports DATA (the top-level study's cohort); these studies read their own.
    monkeypatch.delenv("DATA", raising=False)


def printed(study: Study) -> dict[str, str]:
    """What the report prints of each endpoint: medians, follow-up, the landmark estimates."""
    numbers = {}
    for name, result in study.endpoints.items():
        # In the endpoint's unit as the report prints them, and in days to a tenth.
        for unit in (result.endpoint.unit, "days"):
            if result.median is not None:
                numbers[f"{name} median, {unit}"] = formatting.median_ci(result.median, unit)
            if result.follow_up is not None:
                numbers[f"{name} follow-up, {unit}"] = formatting.median_ci(result.follow_up.median, unit)
        for landmark in result.endpoint.landmarks:
            estimate = result.at(landmark)
            numbers[f"{name} at {landmark.text}"] = formatting.estimate_ci(estimate)
    return numbers


def test_times_in_months_print_what_the_same_times_in_days_print(tmp_path):
    days = Study(colon_copy(tmp_path / "days") / "study.yml")
    months = Study(colon_copy(tmp_path / "months", "months") / "study.yml")
    assert months.cohort["death_time_days"].iloc[0] == pytest.approx(1521 / 30.4375)
    assert printed(months) == printed(days)
    # OS: median and follow-up in two units, three landmarks; recurrence (competing death): three landmarks.
    assert len(printed(days)) == 10
    # And both are R's survfit on the days (tests/reference/colon_reference.R).
    for landmark, want in zip(("1 year", "3 years", "5 years"),
                              REFERENCE["os"]["km"]["all"]["by_conf_type"]["log"]["at"], strict=True):
        assert close(months.endpoints["overall_survival"].at(landmark).estimate, want["surv"])


def test_a_time_column_without_a_unit_is_refused_by_file_and_column(tmp_path, capsys):
    study = colon_copy(tmp_path / "colon", unit=None)
    assert main(["--study", str(study / "study.yml"), "--no-docs"]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: {study / 'data' / 'dictionary.yml'}, line ")
    assert "column 'death_time_days' unit is missing" in err and "never assumed to be days" in err
    assert "give unit: days, weeks, months or years" in err
    assert "Traceback" not in err and len(err.splitlines()) == 1
    with pytest.raises(StudySettingsError, match="column 'death_time_days' unit is missing"):
        Study(study / "study.yml")


def test_a_negative_time_stops_the_data_checks_naming_the_patient(tmp_path, capsys):
    def negative(cohort, dictionary):
        # Without the dictionary's range, the endpoint's own rule catches it.
        dictionary.write_text(dictionary.read_text(encoding="utf-8").replace("    min: 0\n", ""), encoding="utf-8")
        cohort.loc[3, "death_time_days"] = "-12"

    study = colon_copy(tmp_path / "colon", edit=negative)
    assert main(["--study", str(study / "study.yml"), "--no-docs"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("data checks FAILED for ")
    block = next(b for b in err.split("\n\n") if "rule:     time:death_time_days>=0" in b)
    assert "ERROR, rule not met: Days to death or last follow-up is 0 or more" in block
    assert "column:   death_time_days" in block and "patients: COL-0004" in block and "values:   -12" in block
    assert "Traceback" not in err


def test_the_report_is_not_built_from_a_negative_time(tmp_path):
    def negative(cohort, dictionary):
        dictionary.write_text(dictionary.read_text(encoding="utf-8").replace("    min: 0\n", ""), encoding="utf-8")
        cohort.loc[3, "death_time_days"] = "-12"

    study = colon_copy(tmp_path / "colon", edit=negative)
    project = study / "_quarto.yml"
    project.write_text(project.read_text(encoding="utf-8").replace("../../", f"{ROOT}/"), encoding="utf-8")
    environment = {**os.environ, "PYTHONPATH": str(ROOT)}
    environment.pop("DATA", None)
    done = subprocess.run([sys.executable, "-m", "renderer", str(study / "report.qmd"), "--renderer", "builtin"],
                          cwd=ROOT, capture_output=True, text=True, env=environment, timeout=600)
    assert done.returncode != 0
    assert "patients: COL-0004" in done.stderr and "time:death_time_days>=0" in done.stderr
    assert "Traceback" not in done.stderr
    assert not (study / "_output" / "report.html").exists()


def test_a_numeric_status_code_outside_censored_and_the_events_is_a_warning(tmp_path, capsys):
    def numeric_death(cohort, dictionary):
        text = dictionary.read_text(encoding="utf-8")
        block = text[text.index("  - name: death\n"):]
        dictionary.write_text(text.replace(block, block.replace("type: boolean", "type: integer")), encoding="utf-8")
        cohort["death"] = cohort["death"].map({"yes": "1", "no": "0"})
        cohort.loc[5, "death"] = "3"

    study = colon_copy(tmp_path / "colon", edit=numeric_death)
    path = study / "study.yml"
    path.write_text(path.read_text(encoding="utf-8")
                    .replace("      status: death\n", "      status: death\n      event_values: [1]\n")
                    .replace("{time: death_time_days, status: death}",
                             "{time: death_time_days, status: death, event_values: [1]}"), encoding="utf-8")
    assert main(["--study", str(path), "--no-docs"]) == 0
    err = capsys.readouterr().err
    block = next(b for b in err.split("\n\n") if "rule:     allowed:death" in b)
    assert 'warning: 1 patient does not meet the rule "Death (no = alive at death_time_days) is one of: 0, 1' in block
    assert "patients: COL-0006" in block and "values:   3" in block


def test_times_in_months_declared_as_days_are_warned_of(tmp_path, capsys):
    # The colon times in months (longest 3329 days = 109.4 months) with the dictionary still saying days:
    # 109 "days" never reach the 5-year landmark (1826 days), which the checks say in a warning.
    study = colon_copy(tmp_path / "colon", unit="months")
    dictionary = study / "data" / "dictionary.yml"
    dictionary.write_text(dictionary.read_text(encoding="utf-8").replace("unit: months", "unit: days"),
                          encoding="utf-8")
    assert main(["--study", str(study / "study.yml"), "--no-docs"]) == 0
    err = capsys.readouterr().err
    block = next(b for b in err.split("\n\n") if "rule:     follow_up:death_time_days" in b)
    assert "reaches 5 years for some patient, the last landmark of overall survival (if not, is " \
           "death_time_days really in days?)" in block
    assert "observed: 109.37" in block
    # In days, as the file really is, no such warning.
    other = colon_copy(tmp_path / "days")
    assert main(["--study", str(other / "study.yml"), "--no-docs"]) == 0
    assert "follow_up:death_time_days" not in capsys.readouterr().err
