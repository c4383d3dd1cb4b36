"""The methods of issue 16 against R: Cox models (counting process, several covariates, model tests,
concordance), the landmark analysis and the time-dependent Cox model of the example cohort.

R values: tests/reference/methods_reference.json, written by tests/reference/methods_reference.R
from the datasets in tests/reference/data/. Tolerance 1e-6, Cox 1e-4 (relative above 1).
"""

from __future__ import annotations

import hashlib
import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analysis import formatting as fmt
from analysis.config import StudySettingsError, load_study
from analysis.cox import counting_process, fit_cox
from analysis.study import Study

ROOT = Path(__file__).resolve().parents[1]
REFERENCE_DIR = Path(__file__).parent / "reference"
REFERENCE = json.loads((REFERENCE_DIR / "methods_reference.json").read_text())
TOL, COX_TOL = 1e-6, 1e-4


def as_list(value) -> list:
    return value if isinstance(value, list) else [value]


def assert_close(actual, expected, what: str, tol: float = TOL) -> None:
    if expected is None:
        assert actual is None, f"{what}: got {actual}, R gives NA"
        return
    assert actual is not None and abs(actual - expected) <= tol * max(1.0, abs(expected)), (
        f"{what}: got {actual}, R gives {expected}")


def model_data(name: str):
    if name.startswith("heart"):
        d = pd.read_csv(REFERENCE_DIR / "data" / "heart.csv")
        return d[["transplant", "age", "surgery"]], d["stop"], d["event"], d["start"]
    d = pd.read_csv(REFERENCE_DIR / "data" / "lung.csv").dropna(subset=["ph_ecog"])
    x = pd.DataFrame({"female": (d["sex"] == 2).astype(int), "ecog=1": (d["ph_ecog"] == 1).astype(int),
                      "ecog=2+": (d["ph_ecog"] >= 2).astype(int), "age": d["age"]})
    return x, d["time"], d["status"], None


def assert_model(model, want: dict) -> None:
    assert [t.covariate for t in model.terms] == as_list(want["covariates"])
    assert (model.n, model.events) == (want["n"], want["events"])
    for i, term in enumerate(model.terms):
        for field in ("coef", "se", "hazard_ratio", "lower", "upper", "p"):
            assert_close(getattr(term, field), as_list(want[field])[i], f"{term.covariate} {field}", COX_TOL)
    loglik = as_list(want["loglik"])
    assert_close(model.loglik[0], loglik[0], "loglik at 0", COX_TOL)
    assert_close(model.loglik[1], loglik[-1], "loglik", COX_TOL)
    for test in ("likelihood_ratio", "wald", "score"):
        statistic, df, p = want[test]
        got = getattr(model, test)
        assert_close(got.statistic, statistic, f"{test} statistic", COX_TOL)
        assert got.df == df
        assert_close(got.p, p, f"{test} p", COX_TOL)
    assert_close(model.concordance, want["concordance"], "concordance", COX_TOL)


@pytest.mark.parametrize("want", REFERENCE["models"], ids=lambda w: w["name"])
def test_cox_model_equals_coxph(want):
    x, stop, event, start = model_data(want["name"])
    assert_model(fit_cox(x, stop, event, start=start, ties=want["ties"]), want)


def test_counting_process_equals_tmerge_rows():
    rows = counting_process([10, 5, 8, 3], [1, 0, 1, 1], [4, float("nan"), 0, 3])
    assert rows[["start", "stop", "event", "state"]].values.tolist() == [
        [0, 4, 0, 0], [4, 10, 1, 1], [0, 5, 0, 0], [0, 8, 1, 1], [0, 3, 1, 0]]


def test_cox_counting_process_refuses_empty_intervals():
    with pytest.raises(ValueError, match="start < stop"):
        fit_cox(pd.Series([0, 1], name="x"), [2, 3], [1, 1], start=[2, 0])


def test_model_tests_print():
    x, stop, event, start = model_data("heart-efron")
    text = fmt.cox_model_tests(fit_cox(x, stop, event, start=start))
    assert text.startswith("likelihood ratio chi-square 10.72, 3 df, p=0.013;") and text.endswith("concordance 0.60")


# ----------------------------------------------------------- landmark (InO) ---


@pytest.fixture(scope="module")
def landmark():
    want = REFERENCE.get("landmark")
    cohort = ROOT / "data" / "example_cohort.csv"
    if not want or hashlib.md5(cohort.read_bytes()).hexdigest() != want["md5"]:
        pytest.skip("data/example_cohort.csv changed since the R reference: run Rscript tests/reference/methods_reference.R")
    return Study(ROOT / "study.yml").landmarks["mrd_negative_remission"], want


def test_landmark_analysis_equals_r(landmark):
    got, want = landmark
    assert got.at.days == want["landmark_days"]
    assert (got.excluded, got.excluded_events) == (want["excluded"], want["excluded_events"])
    assert sum(g.n for g in got.comparison.groups) == want["n"]
    for group, km in zip(got.comparison.groups, want["km"]):
        assert (group.level, group.n) == (km["level"], km["n"])
        estimate = group.at_landmark
        assert estimate.time == want["horizon_days"]
        for field, key in (("estimate", "surv"), ("se", "se"), ("lower", "lower"), ("upper", "upper")):
            assert_close(getattr(estimate, field), km[key], f"{group.level} {field}")
    assert_close(got.comparison.test.chisq, want["logrank_chisq"], "log-rank chi-square")
    assert_close(got.comparison.test.p, want["logrank_p"], "log-rank p")
    cox = want["cox"]
    for field in ("coef", "se", "hazard_ratio", "lower", "upper", "p"):
        assert_close(getattr(got.hazard_ratio, field), cox[field], f"landmark HR {field}", COX_TOL)


def test_time_dependent_cox_equals_r(landmark):
    got, want = landmark
    model = got.time_dependent
    assert model is not None and model.counting_process
    want_td = dict(want["time_dependent"], covariates=["yes"])
    assert model.n == want["time_dependent_rows"]
    assert_model(model, want_td)


def test_landmark_sentence_quotes_the_result(landmark):
    got, _ = landmark
    text = fmt.landmark_comparison(got, "OS")
    assert text.startswith("Landmark analysis at 60 days")
    assert fmt.hazard_ratio(got.time_dependent_ratio) in text and fmt.p_value(got.comparison.test.p) in text


def test_methods_are_declared_and_checked(tmp_path):
    text = (ROOT / "study.yml").read_text()
    settings = load_study(ROOT / "study.yml")
    spec = settings.comparisons["mrd_negative_remission"]
    assert spec.landmark.text == "60 days"
    bad = tmp_path / "study.yml"
    bad.write_text(text.replace("      rmst: 2 years\n", "      rmst: soon\n"))
    with pytest.raises(StudySettingsError, match="comparisons.mrd_negative_remission.rmst must be a time"):
        load_study(bad)


def test_time_dependent_model_with_a_date_column(tmp_path):
    """known_from: the covariate switches on at a recorded date (here HSCT after InO)."""
    text = (ROOT / "study.yml").read_text().replace(
        "  comparisons:\n",
        "  comparisons:\n    transplant:\n      endpoint: overall_survival\n      by: hsct_after_ino\n"
        "      landmark: 100 days\n      known_from: hsct_date\n")
    (tmp_path / "study.yml").write_text(text)
    for name in ("data", "templates"):
        if (ROOT / name).exists():
            (tmp_path / name).symlink_to(ROOT / name)
    study = Study(tmp_path / "study.yml")
    result = study.landmarks["transplant"]
    os_ = study.endpoint_data("overall_survival")
    cohort = study.cohort.loc[os_.patient_id.index]
    switch = (pd.to_datetime(cohort["hsct_date"]) - pd.to_datetime(cohort["ino_start_date"])).dt.days
    rows = counting_process(os_.time_days, os_.event, switch.where(cohort["hsct_after_ino"].astype(bool)))
    direct = fit_cox(rows["state"].rename("yes"), rows["stop"], rows["event"], start=rows["start"])
    if result.time_dependent is None:
        assert result.time_dependent_note
    else:
        assert math.isclose(result.time_dependent_ratio.hazard_ratio, direct.terms[0].hazard_ratio, rel_tol=1e-12)
        assert np.isfinite(result.time_dependent.score.statistic)


# ------------------------------------- restricted mean survival, fixed time ---

from analysis.survival import KaplanMeier  # noqa: E402
from analysis.survival_contrasts import restricted_mean, rmst_contrast, survival_difference  # noqa: E402

CONF_TYPE = {"plain": "linear", "log": "log", "log-log": "log-log", "logit": "logit", "arcsin": "arcsin"}


def groups_of(want, conf_type="linear"):
    d = pd.read_csv(REFERENCE_DIR / "data" / f"{want['name']}.csv")
    column, reference = d[want["group_column"]], want["reference"]
    is_reference = column.astype(str) == str(reference)
    fit = [KaplanMeier(conf_type=conf_type).fit(d.loc[m, "time"], d.loc[m, "status"]) for m in (~is_reference, is_reference)]
    return fit


def assert_rmst(means, contrast, want):
    levels = [str(v) for v in as_list(want["levels"])]
    reference = str(want["reference"])
    for level, rmean, se in zip(levels, as_list(want["rmean"]), as_list(want["se"])):
        got = means[level == reference]
        assert_close(got.estimate, rmean, f"RMST {level}")
        assert_close(got.se, se, f"SE(RMST) {level}")
    for fields, key in (((contrast.difference, contrast.difference_lower, contrast.difference_upper,
                          contrast.difference_p), "difference"),
                        ((contrast.ratio, contrast.ratio_lower, contrast.ratio_upper, contrast.ratio_p), "ratio")):
        for got, expected in zip(fields, want[key]):
            assert_close(got, expected, key)


@pytest.mark.parametrize("want", REFERENCE["rmst"], ids=lambda w: w["name"])
def test_rmst_equals_survfit_rmean_and_rmst2(want):
    group, reference = groups_of(want)
    means = [restricted_mean(group, want["tau"]), restricted_mean(reference, want["tau"])]
    assert_rmst(means, rmst_contrast(*means), want)


@pytest.mark.parametrize("want", REFERENCE["fixed_time"], ids=lambda w: w["conf_type"])
def test_fixed_time_difference_equals_r(want):
    group, reference = groups_of(want, CONF_TYPE[want["conf_type"]])
    got = survival_difference(group.at(want["time"]), reference.at(want["time"]))
    for field in ("difference", "lower", "upper", "statistic", "p"):
        assert_close(getattr(got, field), want[field], field)


def test_rmst_and_fixed_time_of_the_example_cohort(landmark):
    _, want = landmark
    study = Study(ROOT / "study.yml")
    result = study.restricted_means["mrd_negative_remission"]
    assert_rmst([result.means["yes"], result.means["no"]], result.contrasts["yes"], want["rmst"])
    got = study.survival_differences["prior_blinatumomab"]["yes"]
    for field in ("difference", "lower", "upper", "statistic", "p"):
        assert_close(getattr(got, field), want["fixed_time"][field], field)


def test_rmst_beyond_follow_up_and_differences_without_se_say_so():
    km = KaplanMeier().fit([1, 2, 3], [1, 0, 0])
    assert restricted_mean(km, 10).estimate is None
    assert rmst_contrast(restricted_mean(km, 10), restricted_mean(km, 10)) is None
    zero = KaplanMeier().fit([1, 2], [1, 1])
    assert restricted_mean(zero, 10).estimate == pytest.approx(1.5)
    assert survival_difference(zero.at(2.5), km.at(2.5)) is None


def test_multivariable_model_of_the_example_cohort_equals_coxph(landmark):
    _, want = landmark
    study = Study(ROOT / "study.yml")
    model, note = study.models["overall_survival_adjusted"]
    assert note is None
    assert_model(model, want["model"])


def test_a_monotone_model_says_so_in_words(tmp_path):
    text = (ROOT / "study.yml").read_text().replace("[prior_blinatumomab, sex, age_years]",
                                                    "[prior_blinatumomab, blasts_over_5]")
    (tmp_path / "study.yml").write_text(text)
    (tmp_path / "data").symlink_to(ROOT / "data")
    model, note = Study(tmp_path / "study.yml").models["overall_survival_adjusted"]
    assert model is None and "not estimable" in note


# ------------------------------------------------------------------ Fine-Gray ---

from analysis.fine_gray import fit_fine_gray  # noqa: E402


def fine_gray_data(name: str):
    if name.startswith("colon"):
        study = Study(ROOT / "examples" / "colon" / "study.yml")
        data = study.endpoint_data("recurrence")
        arm = study.cohort.loc[data.patient_id.index, "arm"].astype(str)
        x = pd.DataFrame({level: (arm == level).astype(int).to_numpy() for level in ("lev", "lev_5fu")})
        return x, data.time_days, data.event
    d = pd.read_csv(REFERENCE_DIR / "data" / ("cr_mgus2_sex.csv" if "sex" in name else "cr_mgus2_age.csv"))
    status = d["status"].where(d["status"] != 2, 3) if name.endswith("code3") else d["status"]
    if "sex" in name:
        return pd.DataFrame({"M": (d["sex"] == "M").astype(int)}), d["time"], status
    return pd.DataFrame({g: (d["age_group"] == g).astype(int) for g in ("60to74", "75plus")}), d["time"], status


@pytest.mark.parametrize("want", REFERENCE["fine_gray"], ids=lambda w: w["name"])
def test_fine_gray_equals_crr(want):
    model = fit_fine_gray(*fine_gray_data(want["name"]))
    assert [t.covariate for t in model.terms] == as_list(want["covariates"])
    assert (model.n, model.events) == (want["n"], want["events"])
    for i, term in enumerate(model.terms):
        for field in ("coef", "se", "hazard_ratio", "lower", "upper", "p"):
            assert_close(getattr(term, field), as_list(want[field])[i], f"{term.covariate} {field}", COX_TOL)
    assert_close(model.loglik[0], want["loglik"][0], "loglik at 0", COX_TOL)
    assert_close(model.loglik[1], want["loglik"][1], "loglik", COX_TOL)


def test_fine_gray_is_declared_and_printed_by_the_colon_study(tmp_path):
    want = next(w for w in REFERENCE["fine_gray"] if w["name"] == "colon-recurrence-by-arm")
    study = Study(ROOT / "examples" / "colon" / "study.yml")
    model, note = study.fine_gray["recurrence_by_arm"]
    assert note is None
    assert_close(model.term("lev_5fu").coef, want["coef"][1], "lev_5fu coef", COX_TOL)
    assert fmt.subdistribution_hazard_ratio(model.term("lev_5fu")).startswith(
        f"sHR {fmt.round_half_up(want['hazard_ratio'][1], 2)} (95% CI: {fmt.round_half_up(want['lower'][1], 2)}-")
    assert 'study.fine_gray["recurrence_by_arm"]' in (ROOT / "examples" / "colon" / "report.qmd").read_text()
    text = (ROOT / "examples" / "colon" / "study.yml").read_text()
    bad = tmp_path / "study.yml"
    bad.write_text(text.replace("      strata: sex\n", "      strata: sex\n      fine_gray: true\n"))
    with pytest.raises(StudySettingsError, match="fine_gray is for endpoints with competing events"):
        load_study(bad)


def test_fine_gray_without_events_says_so():
    with pytest.raises(ValueError, match="no events of interest"):
        fit_fine_gray(pd.Series([0, 1, 0], name="x"), [1, 2, 3], [0, 2, 0])


# ------------------------------------------------- proportional hazards check ---

from analysis.cox import proportional_hazards_test  # noqa: E402


def assert_zph(got, want):
    tests = list(got.terms) + [got.global_test]
    assert [t.name for t in got.terms] == as_list(want["terms"])[:-1]
    for test, chisq, df, p in zip(tests, as_list(want["chisq"]), as_list(want["df"]), as_list(want["p"])):
        assert test.df == df
        assert_close(test.statistic, chisq, f"{test.name} chi-square", COX_TOL)
        assert_close(test.p, p, f"{test.name} p", COX_TOL)


@pytest.mark.parametrize("want", REFERENCE["zph"], ids=lambda w: w["name"])
def test_proportional_hazards_test_equals_cox_zph(want):
    x, stop, event, start = model_data(want["name"])
    terms = ({"female": ["female"], "ecog": ["ecog=1", "ecog=2+"], "age": ["age"]}
             if want["name"].startswith("lung") else None)
    assert_zph(proportional_hazards_test(x, stop, event, start=start, ties=want["name"].split("-")[1],
                                         terms=terms), want)


def test_proportional_hazards_of_the_example_model_equals_cox_zph(landmark):
    _, want = landmark
    zph = Study(ROOT / "study.yml").proportional_hazards["overall_survival_adjusted"]
    expected = dict(want["model_zph"], terms=["prior_blinatumomab", "sex", "age_years", "GLOBAL"])
    assert_zph(zph, expected)
    text = fmt.proportional_hazards_test(zph)
    assert text.startswith("proportional hazards (cox.zph): prior_blinatumomab p=")
    assert text.endswith(f"{zph.global_test.df} df, {fmt.p_value(want['model_zph']['p'][-1])}")


# ------------------------------------------------------------- Simon-Makuch ---

from analysis.figures import simon_makuch_figure  # noqa: E402
from analysis.simon_makuch import simon_makuch  # noqa: E402


def assert_simon_makuch(result, want):
    for curve, expected in zip(result.curves, want, strict=True):
        table = curve.table
        assert table["time"].tolist() == pytest.approx(as_list(expected["time"]), abs=1e-9)
        for column in ("n_risk", "n_event", "n_censor"):
            assert table[column].tolist() == as_list(expected[column]), f"{expected['group']} {column}"
        assert np.max(np.abs(table["surv"].to_numpy() - np.array(as_list(expected["surv"])))) <= TOL


def test_simon_makuch_equals_survfit_on_counting_process_rows():
    heart = pd.read_csv(REFERENCE_DIR / "data" / "heart.csv")
    last = heart.loc[heart.groupby("id")["stop"].idxmax()].set_index("id")
    switch = heart[heart["transplant"] == 1].groupby("id")["start"].min().reindex(last.index)
    assert_simon_makuch(simon_makuch(last["stop"], last["event"], switch), REFERENCE["simon_makuch"]["heart"])


def test_simon_makuch_of_the_example_cohort_equals_survfit(landmark):
    _, want = landmark
    result, note = Study(ROOT / "study.yml").simon_makuch["mrd_negative_remission"]
    assert note is None
    assert_simon_makuch(result, want["simon_makuch"])
    figure = simon_makuch_figure(result, landmark_days=60)
    assert {ax.get_label() for ax in figure.axes} == {"simon_makuch", "in_group"}
    assert "simon_makuch_figure" in (ROOT / "report.qmd").read_text()
