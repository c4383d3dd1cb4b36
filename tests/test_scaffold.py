"""`make new-study`: a study folder drafted from a cohort file renders at once, with the types right and identifiers out.

Run on both bundled examples' data files (their hand-written dictionaries are
the reference for the inferred types) and on a generated cohort with dates,
time/status pairs, categories, a free-text column and direct identifiers.
Each folder is rendered with the built-in renderer into a temporary folder.
"""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
import yaml

from analysis import formatting as fmt
from analysis.cohort import load_dictionary
from analysis.study import Study
from scaffold.__main__ import main
from scaffold.infer import MAX_NUMERIC_CODES, infer
from tests.corruptions import ROOT

EXAMPLES = {"ino": ROOT / "data" / "example_cohort.csv", "colon": ROOT / "examples" / "colon" / "data" / "colon.csv"}
BUNDLED = {"ino": ROOT / "study.yml", "colon": ROOT / "examples" / "colon" / "study.yml"}


@pytest.fixture(autouse=True)
def no_data_override(monkeypatch):
    # `make test` exports DATA (the top-level study's cohort); every study here reads its own.
    monkeypatch.delenv("DATA", raising=False)


def scaffold(tmp_path, data, capsys, name="study"):
    folder = tmp_path / name
    assert main([str(folder), str(data)]) == 0
    return folder, capsys.readouterr().out


def render(folder, tmp_path):
    out = tmp_path / "out"
    environment = {**os.environ, "PYTHONPATH": str(ROOT)}
    environment.pop("DATA", None)
    result = subprocess.run(
        [sys.executable, "-m", "renderer", str(folder / "report.qmd"), "--renderer", "builtin", "--output-dir", str(out)],
        cwd=ROOT, capture_output=True, text=True, env=environment, timeout=600,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    for name in ("report.html", "report.pdf", "report.docx", "abstract.txt"):
        assert (out / name).stat().st_size > 0, name
    return (out / "abstract.txt").read_text(encoding="utf-8")


def types(dictionary_file):
    return {c.name: c.type for c in load_dictionary(dictionary_file).columns}


@pytest.mark.parametrize("example", sorted(EXAMPLES))
def test_the_inferred_types_are_the_hand_written_dictionarys(example):
    bundled = load_dictionary(BUNDLED[example].parent / yaml.safe_load(BUNDLED[example].read_text())["study"]["dictionary"])
    inference = infer(EXAMPLES[example])
    inferred = {c.name: c for c in inference.columns}
    assert list(inferred) == list(bundled.names) and not inference.left_out
    cohort = pd.read_csv(EXAMPLES[example], dtype=str)
    for spec in bundled.columns:
        got = inferred[spec.name]
        if spec.type == "integer" and cohort[spec.name].nunique() <= MAX_NUMERIC_CODES:
            # A whole number with a few values is summarised as codes (counts), not as a median.
            assert got.type == "category", spec.name
        else:
            assert got.type == spec.type, spec.name
        if spec.type == "category":
            assert set(got.codes) == set(cohort[spec.name].dropna()) <= set(spec.values), spec.name
        if got.type in ("integer", "float"):
            observed = pd.to_numeric(cohort[spec.name])
            assert (got.min, got.max) == (observed.min(), observed.max()), spec.name
        assert got.required == cohort[spec.name].notna().all(), spec.name
    ids = cohort["patient_id"]
    assert ids.str.fullmatch(inferred["patient_id"].pattern.strip("^$")).all()
    assert not ids.str.replace("0", "#").str.fullmatch(inferred["patient_id"].pattern.strip("^$")).any()


def test_the_colon_data_drafts_the_colon_study_and_renders_its_numbers(tmp_path, capsys):
    folder, console = scaffold(tmp_path, EXAMPLES["colon"], capsys)
    settings = yaml.safe_load((folder / "study.yml").read_text())["study"]
    os_ = settings["endpoints"]["overall_survival"]
    assert (os_["time"], os_["status"]) == ("death_time_days", "death")
    assert "overall_survival" in console and "death_time_days" in console
    drafted, bundled = Study(folder / "study.yml"), Study(BUNDLED["colon"])
    landmark = drafted.endpoints["overall_survival"].landmark.text
    assert drafted.n == bundled.n
    # The draft reads the same patients and times as the hand-written study: the same survival at the landmark.
    assert (drafted.endpoints["overall_survival"].at(landmark).estimate
            == bundled.endpoints["overall_survival"].at(landmark).estimate)
    abstract = render(folder, tmp_path)
    assert fmt.sentence_start(bundled.n) in abstract
    assert fmt.estimate_ci(drafted.endpoints["overall_survival"].at_landmark) in abstract


def test_the_ino_data_drafts_endpoints_from_dates_and_renders(tmp_path, capsys):
    folder, console = scaffold(tmp_path, EXAMPLES["ino"], capsys)
    study = yaml.safe_load((folder / "study.yml").read_text())["study"]
    os_ = study["endpoints"]["overall_survival"]
    assert (os_["origin"], os_["censor"], os_["events"][0]["date"]) == ("ino_start_date", "last_contact_date",
                                                                        "death_date")
    assert os_["events"][0]["where"] == "vital_status == 'dead'"
    cohort = pd.read_csv(EXAMPLES["ino"], dtype=str)
    dates = pd.concat([pd.to_datetime(cohort[c]) for c in cohort if c.endswith("_date")])
    assert study["cutoff_date"] == dates.max().date()
    drafted = Study(folder / "study.yml")
    abstract = render(folder, tmp_path)
    assert fmt.sentence_start(len(cohort)) in abstract
    assert fmt.estimate_ci(drafted.endpoints["overall_survival"].at_landmark) in abstract
    assert "REVIEW" in (folder / "study.yml").read_text() and "cut-off" in console


# -- a generated cohort ----------------------------------------------------------------------------------------------


def generated_cohort(n=60, seed=7) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    start = pd.Timestamp("2018-01-01") + pd.to_timedelta(rng.integers(0, 700, n), unit="D")
    follow = rng.integers(60, 1500, n)
    died = rng.random(n) < 0.4
    relapse_days = rng.integers(1, 1500, n)
    relapsed = relapse_days < follow
    given = ["Ivan", "Olga", "Anna", "Pavel", "Sergey", "Maria"]
    surnames = ["Petrov", "Smirnova", "Ivanova", "Sokolov", "Popov", "Volkova"]
    return pd.DataFrame({
        "study_no": [f"ABC-{i:03d}" for i in range(1, n + 1)],
        "patient_name": [f"{rng.choice(given)} {rng.choice(surnames)}" for _ in range(n)],
        "group": rng.choice(["control", "treated"], n),
        "stage": rng.choice(["I", "II", "III"], n),
        "age": np.round(rng.uniform(20, 80, n), 1),
        "smoker": rng.choice(["yes", "no"], n),
        "grade": rng.choice([1, 2], n),
        "enrolment_date": start.strftime("%Y-%m-%d"),
        "vital_status": np.where(died, "dead", "alive"),
        "death_date": [(s + pd.Timedelta(days=int(f))).strftime("%Y-%m-%d") if d else ""
                       for s, f, d in zip(start, follow, died, strict=True)],
        "last_contact_date": (start + pd.to_timedelta(follow, unit="D")).strftime("%Y-%m-%d"),
        "pfs_time": np.where(relapsed, relapse_days, follow),
        "pfs_event": np.where(relapsed | died, "yes", "no"),
        "clinician_notes": [f"seen by the team on visit {i}, doing well" for i in range(n)],
    })


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    folder = tmp_path_factory.mktemp("generated")
    cohort = generated_cohort()
    cohort.to_csv(folder / "cohort.csv", index=False)
    with pd.ExcelWriter(folder / "cohort.xlsx") as writer:
        # Dates as Excel date cells, as a spreadsheet holds them.
        excel = cohort.assign(**{c: pd.to_datetime(cohort[c]) for c in ("enrolment_date", "death_date",
                                                                      "last_contact_date")})
        excel.to_excel(writer, index=False)
    return folder, cohort


EXPECTED_TYPES = {"patient_id": "string", "group": "category", "stage": "category", "age": "float",
                  "smoker": "boolean", "grade": "category", "enrolment_date": "date", "vital_status": "category",
                  "death_date": "date", "last_contact_date": "date", "pfs_time": "integer", "pfs_event": "boolean"}


@pytest.mark.parametrize("suffix", ["csv", "xlsx"])
def test_a_generated_cohort_is_typed_and_its_identifiers_left_out(generated, tmp_path, capsys, suffix):
    source, cohort = generated
    folder, console = scaffold(tmp_path, source / f"cohort.{suffix}", capsys)
    assert types(folder / "data" / "dictionary.yml") == EXPECTED_TYPES
    copy = pd.read_csv(folder / "data" / "cohort.csv", dtype=str, keep_default_na=False)
    assert list(copy.columns) == list(EXPECTED_TYPES)
    assert copy["patient_id"].tolist() == cohort["study_no"].tolist()
    for name in ("patient_name", "clinician_notes"):
        line = next(line for line in console.splitlines() if f"left out {name}:" in line)
        assert "identifier" in line or "names" in line or "free text" in line
    assert "Ivan" not in (folder / "data" / "cohort.csv").read_text()
    study = yaml.safe_load((folder / "study.yml").read_text())["study"]
    assert study["endpoints"]["overall_survival"]["origin"] == "enrolment_date"
    assert dt.date.fromisoformat(str(study["cutoff_date"])) == pd.to_datetime(cohort["last_contact_date"]).max().date()


def test_a_generated_cohort_renders_with_its_numbers(generated, tmp_path, capsys):
    source, cohort = generated
    folder, _ = scaffold(tmp_path, source / "cohort.csv", capsys)
    abstract = render(folder, tmp_path)
    drafted = Study(folder / "study.yml")
    assert fmt.sentence_start(len(cohort)) in abstract
    assert fmt.estimate_ci(drafted.endpoints["overall_survival"].at_landmark) in abstract
    assert drafted.endpoints["overall_survival"].events == (cohort["vital_status"] == "dead").sum()


def test_time_and_status_pairs_become_endpoints(tmp_path, capsys):
    cohort = generated_cohort().drop(columns=["enrolment_date", "death_date", "last_contact_date", "vital_status"])
    cohort["os_days"] = cohort["pfs_time"] + 30
    cohort["os_status"] = np.where(cohort["pfs_event"] == "yes", 1, 0)
    cohort.to_csv(tmp_path / "pairs.csv", index=False)
    folder, console = scaffold(tmp_path, tmp_path / "pairs.csv", capsys)
    endpoints = yaml.safe_load((folder / "study.yml").read_text())["study"]["endpoints"]
    os_ = endpoints["overall_survival"]
    assert (os_["time"], os_["status"], os_["event_values"]) == ("os_days", "os_status", ["1"])
    assert {e["time"]: e["status"] for e in endpoints.values()} == {"os_days": "os_status", "pfs_time": "pfs_event"}
    assert "cut-off not needed" in console


def test_an_existing_folder_is_never_overwritten(tmp_path, capsys):
    folder = tmp_path / "study"
    folder.mkdir()
    (folder / "report.qmd").write_text("mine")
    assert main([str(folder), str(EXAMPLES["colon"])]) == 2
    assert "exists" in capsys.readouterr().err
    assert [p.name for p in folder.iterdir()] == ["report.qmd"] and (folder / "report.qmd").read_text() == "mine"


def test_quarto_paths_are_relative_inside_the_repository_and_absolute_outside(tmp_path):
    from scaffold.write import engine_path

    inside = ROOT / "examples" / "new"
    assert engine_path(inside, "data_checks/pre_render.py") == "../../data_checks/pre_render.py"
    assert engine_path(tmp_path, "data_checks/pre_render.py") == str(ROOT / "data_checks" / "pre_render.py")
