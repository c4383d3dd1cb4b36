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
from bs4 import BeautifulSoup
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
    monkeypatch.delenv("REDCAP_DICTIONARY", raising=False)


def scaffold(tmp_path, data, capsys, name="study"):
    folder = tmp_path / name
    assert main([str(folder), str(data)]) == 0
    return folder, capsys.readouterr().out


def render(folder, tmp_path):
    """Render with the built-in renderer; the data checks run first and stop the render if they fail."""
    out = tmp_path / "out"
    environment = {**os.environ, "PYTHONPATH": str(ROOT)}
    environment.pop("DATA", None)
    environment.pop("REDCAP_DICTIONARY", None)
    result = subprocess.run(
        [sys.executable, "-m", "renderer", str(folder / "report.qmd"), "--renderer", "builtin", "--output-dir", str(out)],
        cwd=ROOT, capture_output=True, text=True, env=environment, timeout=600,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    for name in ("report.html", "report.pdf", "report.docx", "abstract.txt", "numbers.json"):
        assert (out / name).stat().st_size > 0, name
    # The draft's note to its author stays in the source; no `...` prints as "Ellipsis".
    page = BeautifulSoup((out / "report.html").read_text(encoding="utf-8"), "html.parser")
    for script in page.find_all(["script", "style"]):
        script.decompose()
    assert "Ellipsis" not in page.get_text() and "yours to write" not in page.get_text()
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
    # Each time column is drafted with its unit (the name's, else days), marked for review on the console too.
    dictionary = (folder / "data" / "dictionary.yml").read_text()
    drafted = drafted_columns(folder)
    assert (drafted["os_days"]["unit"], drafted["pfs_time"]["unit"]) == ("days", "days")
    assert "# REVIEW pfs_time: unit days (a guess, the name does not say): CONFIRM the unit" in dictionary
    assert "# REVIEW os_days: unit days (its name says days): CONFIRM the unit" in dictionary
    assert "endpoint overall_survival: time os_days, status os_status (event: os_status = 1 of 0, 1); " \
           "times read as days (REVIEW the unit in the dictionary)" in console
    assert "review: pfs_time: unit days (a guess" in console


def test_times_in_months_are_drafted_in_months_and_the_landmark_is_real_time(tmp_path, capsys):
    # survival::mgus2's way: follow-up in months, a median near 8 years.
    rng = np.random.default_rng(3)
    months = rng.integers(60, 200, 80)
    pd.DataFrame({"futime": months, "death": rng.choice([0, 1], 80)}).to_csv(tmp_path / "bare.csv", index=False)
    pd.DataFrame({"os_months": months, "death": rng.choice([0, 1], 80)}).to_csv(tmp_path / "named.csv", index=False)
    folder, console = scaffold(tmp_path, tmp_path / "bare.csv", capsys, name="bare")
    # The name does not say: days, for review; the landmark is read in days (3 months within 60-200 days).
    assert drafted_columns(folder)["futime"]["unit"] == "days"
    assert "landmark 3 months" in console and "times read as days (REVIEW the unit" in console
    folder, console = scaffold(tmp_path, tmp_path / "named.csv", capsys, name="named")
    assert drafted_columns(folder)["os_months"]["unit"] == "months"
    assert "landmark 5 years" in console
    study = Study(folder / "study.yml")
    assert study.endpoint_data("overall_survival").time_days.tolist() == (months * 365.25 / 12).tolist()


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


# -- SPSS, Stata and REDCap: the dictionary from the file's labels ----------------------------------------------------

FOREIGN = ROOT / "tests" / "fixtures" / "foreign"
REDCAP = ROOT / "tests" / "fixtures" / "redcap"


def read_labelled_file(path, **options):
    import pyreadstat

    read = pyreadstat.read_dta if path.suffix == ".dta" else pyreadstat.read_sav
    return read(str(path), **options)


def declared_missing(meta, name, code):
    """Whether the file declares a labelled code missing (SPSS MISSING VALUES, Stata's .a to .z)."""
    if isinstance(code, str):
        return len(code) == 1 and code.isalpha() and meta.readstat_variable_types.get(name) != "string"
    return any(r["lo"] <= code <= r["hi"] for r in meta.missing_ranges.get(name, []))


def drafted_columns(folder):
    return {c["name"]: c for c in yaml.safe_load((folder / "data" / "dictionary.yml").read_text())["columns"]}


@pytest.mark.parametrize("name", ["ino_cohort.sav", "ino_cohort.dta"])
def test_spss_and_stata_draft_the_dictionary_from_their_labels_and_render(name, tmp_path, capsys):
    source = FOREIGN / name
    folder, console = scaffold(tmp_path, source, capsys)
    _, meta = read_labelled_file(source, user_missing=True)
    labelled, _ = read_labelled_file(source, apply_value_formats=True)
    drafted = drafted_columns(folder)
    assert list(drafted) == meta.column_names
    assert {n: c["label"] for n, c in drafted.items()} == meta.column_names_to_labels
    study = Study(folder / "study.yml")
    for variable, labels in meta.variable_value_labels.items():
        kept = [text for code, text in labels.items() if not declared_missing(meta, variable, code)]
        column = drafted[variable]
        if column["type"] == "boolean":
            assert sorted(t.lower() for t in kept) == ["no", "yes"], variable
            continue
        # The codes' labels are the file's, in its order, without the missing-value codes.
        assert list(column["values"].values()) == kept, variable
        # Every patient is read as the label the file gives it (missing codes missing).
        read = study.cohort[variable].astype(object).map(column["values"])
        assert read.fillna("-").tolist() == labelled[variable].astype(object).fillna("-").tolist(), variable
    settings = yaml.safe_load((folder / "study.yml").read_text())["study"]
    # Nothing to leave out: the study reads the file itself, byte for byte.
    assert settings["data"] == f"data/cohort{source.suffix}" and "left out" not in console
    assert (folder / settings["data"]).read_bytes() == source.read_bytes()
    assert not (folder / "data" / "cohort.csv").exists()
    assert settings["endpoints"]["overall_survival"]["events"][0]["where"] == "vital_status == 'dead'"
    abstract = render(folder, tmp_path)
    assert fmt.sentence_start(study.n) in abstract
    assert fmt.estimate_ci(study.endpoints["overall_survival"].at_landmark) in abstract


@pytest.mark.parametrize("suffix", [".sav", ".dta"])
def test_an_identifier_in_an_spss_or_stata_file_is_left_out_of_the_copy_and_named(suffix, tmp_path, capsys):
    import pyreadstat

    frame, meta = read_labelled_file(FOREIGN / f"ino_cohort{suffix}", user_missing=True)
    frame.insert(1, "patient_name", "Ivanova Anna Sergeevna")
    source = tmp_path / f"named{suffix}"
    options = {"column_labels": {**meta.column_names_to_labels, "patient_name": "Name"},
               "variable_value_labels": meta.variable_value_labels, "variable_format": meta.original_variable_types}
    if suffix == ".dta":
        pyreadstat.write_dta(frame, source, missing_user_values=meta.missing_user_values, **options)
    else:
        pyreadstat.write_sav(frame, source, missing_ranges=meta.missing_ranges, **options)
    folder, console = scaffold(tmp_path, source, capsys)
    assert "left out patient_name: its name says it is a direct identifier" in console
    copy = folder / "data" / f"cohort{suffix}"
    _, copied = read_labelled_file(copy, user_missing=True)
    assert copied.column_names == meta.column_names
    # The rest keeps the file's labels and missing-value codes.
    assert copied.variable_value_labels == meta.variable_value_labels
    assert copied.column_names_to_labels == meta.column_names_to_labels
    assert (copied.missing_ranges, copied.missing_user_values) == (meta.missing_ranges, meta.missing_user_values)
    assert not any(b"Ivanova" in path.read_bytes() for path in folder.rglob("*") if path.is_file())


def test_a_redcap_export_drafts_from_its_data_dictionary_leaves_identifiers_out_and_renders(tmp_path):
    export = pd.read_csv(REDCAP / "registry_export.csv", dtype=str, keep_default_na=False)
    export.insert(1, "patient_name", ["Ivanov I.I.", "Petrova A.A.", "Sidorov P.P.", "Popova E.E."])
    export.to_csv(tmp_path / "export.csv", index=False)
    folder = tmp_path / "registry"
    environment = {k: v for k, v in os.environ.items() if k not in ("DATA", "REDCAP_DICTIONARY")}
    # Through make, which passes REDCAP_DICTIONARY from its command line.
    made = subprocess.run(["make", "--no-print-directory", "new-study", f"DIR={folder}", f"DATA={tmp_path / 'export.csv'}",
                           f"REDCAP_DICTIONARY={REDCAP / 'registry_dictionary.csv'}"],
                          cwd=ROOT, capture_output=True, text=True, env=environment, timeout=600)
    assert made.returncode == 0, made.stdout + made.stderr
    assert "left out patient_name: marked as an identifier in the REDCap data dictionary" in made.stdout
    assert not any("Ivanov" in path.read_text() for path in folder.rglob("*") if path.is_file())

    settings = yaml.safe_load((folder / "study.yml").read_text())["study"]
    assert (settings["data"], settings["redcap_dictionary"]) == ("data/redcap_export.csv",
                                                                 "data/redcap_dictionary.csv")
    assert (folder / "data" / "redcap_dictionary.csv").read_bytes() == (REDCAP / "registry_dictionary.csv").read_bytes()
    drafted = drafted_columns(folder)
    redcap = pd.read_csv(REDCAP / "registry_dictionary.csv", dtype=str, keep_default_na=False)
    for field in redcap.to_dict("records"):
        name, kind = field["Variable / Field Name"], field["Field Type"]
        choices = [c.split(",", 1) for c in field["Choices, Calculations, OR Slider Labels"].split("|") if c.strip()]
        if field["Identifier?"] == "y" or kind == "descriptive":
            assert not [n for n in drafted if n == name or n.startswith(f"{name}___")], name
        elif kind in ("radio", "dropdown"):
            assert list(drafted[name]["values"].values()) == [label.strip() for _, label in choices], name
        elif kind == "checkbox":
            for code, label in choices:
                column = drafted[f"{name}___{code.strip()}"]
                assert (column["type"], column["label"].split(": ")[-1]) == ("boolean", label.strip()), name
        if name in drafted and field["Text Validation Min"]:
            assert (drafted[name]["min"], drafted[name]["max"]) == (float(field["Text Validation Min"]),
                                                                    float(field["Text Validation Max"])), name
        if name in drafted and field["Required Field?"] == "y":
            assert drafted[name]["required"] is True, name
    assert drafted["record_id"]["unique"] is True
    abstract = render(folder, tmp_path)
    assert fmt.sentence_start(len(export)) in abstract
    # The REDCap record id is the patient id: the checks name a repeated one.
    data = folder / "data" / "redcap_export.csv"
    rows = data.read_text(encoding="utf-8").splitlines()
    repeated = rows[1].split(",")[0]
    data.write_text("\n".join([rows[0], rows[1], repeated + rows[2][rows[2].index(","):], *rows[3:]]) + "\n",
                    encoding="utf-8")
    checks = subprocess.run([sys.executable, "-m", "data_checks", "--study", str(folder / "study.yml"), "--no-docs"],
                            cwd=ROOT, capture_output=True, text=True, env=environment, timeout=600)
    assert checks.returncode != 0 and "Traceback" not in checks.stderr, checks.stderr
    assert "unique" in checks.stderr and repeated in checks.stderr, checks.stderr
