"""The colon study (examples/colon) computed from its declarations equals R.

Reference values: tests/reference/colon_reference.json, written by
tests/reference/colon_reference.R from examples/colon/data/colon.csv
(survival 3.5-3, cmprsk 2.2-11). Tolerance 1e-6, Cox 1e-4. The report is
rendered end to end with the built-in renderer.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from types import SimpleNamespace as NS

import pytest

from analysis import formatting
from analysis.study import Study
from analysis.tables import outcomes, patient_characteristics
from tests.corruptions import ROOT
from tests.test_outputs import browser, check_docx_in_libreoffice, check_report_in_browser  # noqa: F401

COLON = ROOT / "examples" / "colon"
REFERENCE = json.loads((ROOT / "tests" / "reference" / "colon_reference.json").read_text())
ARMS = ("obs", "lev", "lev_5fu")
LANDMARKS = ("1 year", "3 years", "5 years")


def close(got, want, tol=1e-6):
    if want is None:
        return got is None
    return got is not None and abs(got - want) <= tol * max(1.0, abs(want))


@pytest.fixture(scope="module")
def study() -> Study:
    # `make test` exports DATA (the top-level study's cohort); this study reads its own.
    with pytest.MonkeyPatch.context() as patch:
        patch.delenv("DATA", raising=False)
        return Study(COLON / "study.yml")


def group_results(study, comparison):
    yield "all", study.endpoints[study.settings.comparisons[comparison].endpoint]
    for arm in ARMS:
        yield arm, study.comparisons[comparison].group(arm).result


def test_the_declared_arms_and_ci_transform(study):
    assert study.settings.ci_transform == "log"
    assert [g.level for g in study.comparisons["os_by_arm"].groups] == list(ARMS)
    assert study.comparisons["os_by_arm"].reference == REFERENCE["meta"]["reference_arm"]


def test_overall_survival_at_landmarks_equals_survfit(study):
    for group, result in group_results(study, "os_by_arm"):
        want = REFERENCE["os"]["km"][group]
        assert (result.n, result.events) == (want["n"], want["events"])
        for landmark, point in zip(LANDMARKS, want["by_conf_type"]["log"]["at"], strict=True):
            got = result.at(landmark)
            assert got.time == point["time_days"]
            for field in ("surv", "se", "lower", "upper"):
                assert close(getattr(got, "estimate" if field == "surv" else field), point[field]), (group, landmark, field)
            assert got.n_at_risk == point["n_risk"]


def test_medians_and_follow_up_equal_survfit(study):
    for group, result in group_results(study, "os_by_arm"):
        want = REFERENCE["os"]["km"][group]["by_conf_type"]["log"]["median"]
        assert all(close(getattr(result.median, k), want[k]) for k in ("estimate", "lower", "upper")), group
        follow_up = REFERENCE["os"]["follow_up"][group]["by_conf_type"]["log"]
        got = result.follow_up.median
        assert (got.estimate, got.lower, got.upper) == (follow_up["median"], follow_up["lower"], follow_up["upper"])


@pytest.mark.parametrize("comparison, reference", [("os_by_arm", "by_arm"),
                                                   ("os_by_arm_stratified", "by_arm_stratified_by_sex")])
def test_log_rank_equals_survdiff(study, comparison, reference):
    test = study.comparisons[comparison].test
    want = REFERENCE["os"]["logrank"][reference]
    assert test.groups == tuple(want["groups"]) and test.df == want["df"]
    assert close(test.chisq, want["chisq"]) and close(test.p, want["p"])
    assert all(close(g, w) for g, w in zip(test.expected, want["expected"], strict=True))
    assert test.stratified == (want["strata_column"] is not None)


def test_hazard_ratios_against_observation_equal_coxph(study):
    comparison = study.comparisons["os_by_arm"]
    for arm in ("lev", "lev_5fu"):
        got, want = comparison.hazard_ratio(arm), REFERENCE["os"]["cox"]["terms"][arm]
        for field in ("coef", "se", "hazard_ratio", "lower", "upper", "p"):
            assert close(getattr(got, field), want[field], 1e-4), (arm, field)
    with pytest.raises(KeyError, match="reference"):
        comparison.hazard_ratio("obs")


def test_recurrence_incidence_and_grays_test_equal_cmprsk(study):
    for group, result in group_results(study, "recurrence_by_arm"):
        points = REFERENCE["recurrence"]["cmprsk"]["curves"][group]["recurrence"]["at"]
        for landmark, point in zip(LANDMARKS, points, strict=True):
            got = result.at(landmark)
            assert close(got.estimate, point["estimate"]) and close(got.variance, point["variance"]), (group, landmark)
            assert close(got.lower, point["loglog_lower"]) and close(got.upper, point["loglog_upper"])
    counts = REFERENCE["counts"]["all"]
    data = study.endpoint_data("recurrence")
    assert [int((data.event == code).sum()) for code in (1, 2, 0)] == [
        counts["cr_status_1"], counts["cr_status_2"], counts["cr_status_0"]]
    gray, want = study.comparisons["recurrence_by_arm"].test, REFERENCE["recurrence"]["cmprsk"]["gray_test"]["recurrence"]
    assert close(gray.statistic, want["statistic"]) and close(gray.p, want["p"]) and gray.df == want["df"]


def test_table_one_by_arm_equals_the_r_counts_and_tests(study):
    table = patient_characteristics(study)
    want = REFERENCE["table1"]
    assert table.headers[0] == f"Overall, N = {want['n']['overall']}" and table.test_header == "p-value"
    columns = ["overall", *ARMS]
    for name, spec in want["categorical"].items():
        row = table.row(name)
        assert close(row.test.p, spec["test"]["p"]) and close(row.test.statistic, spec["test"]["statistic"]), name
        boolean = spec["levels"] == ["yes", "no"]
        for level in spec["levels"][:1] if boolean else spec["levels"]:
            texts = [table.row(name if boolean else f"{name}={level}").text,
                     *table.row(name if boolean else f"{name}={level}").cells]
            expected = [formatting.count_percent(spec["by_group"][c]["counts"][level], spec["by_group"][c]["known"])
                        for c in columns]
            assert texts == expected, (name, level)
    for name, spec in want["continuous"].items():
        row = table.row(name)
        assert close(row.test.p, spec["test"]["p"]) and close(row.test.statistic, spec["test"]["statistic"]), name
        # Age and positive nodes are whole numbers: printed without decimals, as gtsummary does.
        expected = [formatting.median_range(NS(median=g["median"], minimum=g["min"], maximum=g["max"]),
                                            whole_numbers=True)
                    for g in (spec["by_group"][c] for c in columns)]
        assert [row.text, *row.cells] == expected, name


def test_outcomes_table_holds_exactly_the_declared_rows(study):
    keys = [row.key for row in outcomes(study).rows]
    assert keys == [
        "overall_survival@5 years", "os_by_arm:obs", "os_by_arm:lev", "os_by_arm:lev_5fu", "os_by_arm:test",
        "os_by_arm:hazard_ratio:lev", "os_by_arm:hazard_ratio:lev_5fu", "overall_survival:median",
        "overall_survival:follow_up", "recurrence@5 years", "recurrence_by_arm:obs", "recurrence_by_arm:lev",
        "recurrence_by_arm:lev_5fu", "recurrence_by_arm:test",
    ]


@pytest.fixture(scope="module")
def rendered(tmp_path_factory):
    """The colon report rendered once by the built-in renderer: its output folder."""
    out = tmp_path_factory.mktemp("colon") / "out"
    environment = {**os.environ, "PYTHONPATH": str(ROOT)}
    environment.pop("DATA", None)
    result = subprocess.run(
        [sys.executable, "-m", "renderer", str(COLON / "report.qmd"), "--renderer", "builtin", "--output-dir", str(out)],
        cwd=ROOT, capture_output=True, text=True, env=environment, timeout=600,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return out


def test_the_colon_report_renders(rendered, tmp_path):
    out = rendered
    for name in ("report.html", "report.pdf", "report.docx", "abstract.txt", "figures/figure2_recurrence_by_arm.png"):
        assert (out / name).stat().st_size > 0, name
    abstract = (out / "abstract.txt").read_text(encoding="utf-8")
    hr = REFERENCE["os"]["cox"]["terms"]["lev_5fu"]
    for figure in (f"n={REFERENCE['counts']['obs']['n']}",
                   formatting.hazard_ratio(NS(**hr, conf_level=0.95)),
                   formatting.p_value(REFERENCE["os"]["logrank"]["by_arm"]["p"])):
        assert figure in abstract
    # A second study's tables, in the face of the reference document: intervals whole in Word too
    # (last: without LibreOffice the test is skipped only once the rest has passed).
    check_docx_in_libreoffice(out, tmp_path)


def test_table_one_prints_whole_numbers_whole_counts_the_unknown_and_names_each_test(study):
    table = patient_characteristics(study)
    # R: median(colon$age) 61, range 18-85 (etype 2): whole numbers print without a false decimal.
    assert table.text("age") == "61 (18-85)"
    # R: tapply(is.na(nodes), rx, sum) 3, 6, 9 (18 in all); differ: 7, 10, 6 (23).
    assert table.row("nodes:unknown").label == "Unknown"
    assert [table.text("nodes:unknown"), *table.row("nodes:unknown").cells] == ["18", "3", "6", "9"]
    assert [table.text("differ:unknown"), *table.row("differ:unknown").cells] == ["23", "7", "10", "6"]
    assert "sex:unknown" not in [row.key for row in table.rows]
    markdown = table.to_markdown()
    # Letters, not digits: copied as plain text, "p=0.804" and a mark 2 would read "p=0.8042".
    assert " p=0.804^b^ |" in markdown and " p=0.028^a^ |" in markdown
    assert markdown.endswith("\n\n^a^ Pearson's chi-square test; ^b^ Kruskal-Wallis test")


def _colon_variant(tmp_path, old: str, new: str) -> Study:
    """The colon study with one passage of its study.yml replaced."""
    (tmp_path / "data").mkdir()
    for name in ("colon.csv", "dictionary.yml"):
        (tmp_path / "data" / name).write_bytes((COLON / "data" / name).read_bytes())
    text = (COLON / "study.yml").read_text(encoding="utf-8")
    assert old in text
    (tmp_path / "study.yml").write_text(text.replace(old, new), encoding="utf-8")
    with pytest.MonkeyPatch.context() as patch:
        patch.delenv("DATA", raising=False)
        return Study(tmp_path / "study.yml")


def test_the_split_variable_is_not_a_row_of_its_own_table(tmp_path):
    variant = _colon_variant(tmp_path, "  characteristics:\n", "  characteristics:\n    - arm\n")
    keys = [row.key for row in patient_characteristics(variant).rows]
    assert "arm" not in keys and not any(key.startswith("arm=") for key in keys)
    assert keys[0] == "sex"


def test_a_comparison_away_from_its_overall_row_has_a_heading(tmp_path):
    variant = _colon_variant(tmp_path, """  outcomes:
    - survival: overall_survival
      at: 5 years
    - comparison: os_by_arm
      at: 5 years
""", """  outcomes:
    - survival: overall_survival
      at: 1 year
    - comparison: os_by_arm
      at: 5 years
""")
    rows = outcomes(variant).rows
    labels = [row.label for row in rows]
    # 5-year estimates by arm under the 1-year overall row would read as 1-year: they get their own heading.
    assert labels[:3] == ["1-year overall survival, all patients", "5-year overall survival by treatment arm",
                          "Observation (n=315)"]
    assert rows[1].text == "" and rows[2].indent == rows[1].indent + 1
    # The recurrence comparison still follows its own 5-year overall row: no heading.
    recurrence = [row.key for row in rows if row.key.startswith("recurrence")]
    assert recurrence[:2] == ["recurrence@5 years", "recurrence_by_arm:obs"]


def test_the_colon_report_in_a_browser(browser, rendered):
    # Four group columns and a p-value: at 1280 px Table 1 fits its column, at 390 px it scrolls in its box.
    check_report_in_browser(browser, rendered)


def test_patients_in_no_group_are_counted_not_dropped_in_silence(tmp_path):
    # Seven patients' arm left empty (as pbc's 106 patients without trt): Table 1 says where they are,
    # and each comparison names them.
    variant = _colon_variant(tmp_path, "word_limit: 300", "word_limit: 300")
    cohort = variant.cohort
    data = tmp_path / "data" / "colon.csv"
    text = data.read_text(encoding="utf-8").splitlines()
    header = text[0].split(",")
    column = header.index("arm")
    for line in range(1, 8):
        cells = text[line].split(",")
        cells[column] = ""
        text[line] = ",".join(cells)
    data.write_text("\n".join(text) + "\n", encoding="utf-8")
    with pytest.MonkeyPatch.context() as patch:
        patch.delenv("DATA", raising=False)
        study = Study(tmp_path / "study.yml")
    assert len(study.cohort) == len(cohort) == 929
    table_one = patient_characteristics(study)
    assert sum(int(h.rsplit("= ", 1)[1]) for h in table_one.group_headers) == 929 - 7
    assert table_one.to_markdown().endswith("Seven patients with treatment arm unknown are counted in the Overall "
                                            "column only, and in no test.")
    rows = {row.key: row for row in outcomes(study).rows}
    for name in ("os_by_arm", "recurrence_by_arm"):
        assert rows[f"{name}:not_compared"].label == "Not compared: treatment arm unknown (n=7)"
        comparison = study.comparisons[name]
        assert sum(group.n for group in comparison.groups) + comparison.not_compared == 929
