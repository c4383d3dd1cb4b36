"""Degenerate cohorts: the tables, the prose's results and the figures come out in words, never a traceback.

Each case mutates the example cohort (as text, like tests/corruptions.py) in
a way the data checks allow, then builds everything report.qmd builds.
"""

from __future__ import annotations

import pytest

from analysis import formatting as fmt
from analysis.figures import km_figure
from analysis.provenance import methods_sentence
from analysis.study import Study
from analysis.tables import outcomes, patient_characteristics
from tests.corruptions import ROOT, read_example


def no_transplants(t):
    return t.assign(hsct_after_ino="no", hsct_date="", sos="", sos_date="")


def everyone_alive(t):
    return t.assign(vital_status="alive", death_date="")


def single_patient(t):
    return t.head(1)


def one_level(t):
    return t.assign(prior_blinatumomab="yes")


CASES = {"no transplant recipients": no_transplants, "no deaths": everyone_alive,
         "a single patient": single_patient, "a variable with one level": one_level}


@pytest.fixture(params=list(CASES), scope="module")
def built(request, tmp_path_factory):
    path = tmp_path_factory.mktemp("cohort") / "cohort.csv"
    CASES[request.param](read_example()).to_csv(path, index=False)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DATA", str(path))
        study = Study(ROOT / "study.yml")
        t1, t2 = patient_characteristics(study), outcomes(study)
        figures = [km_figure([g.curve for g in c.groups if g.curve is not None],
                             annotations=fmt.comparison_annotations(c, c.landmark))
                   for c in study.comparisons.values()]
        return request.param, study, t1, t2, methods_sentence(study), figures


def test_everything_is_built(built):
    _, study, t1, t2, methods, figures = built
    assert t1.rows and t2.rows and methods.startswith("OS was measured") and len(figures) == 2


def test_what_cannot_be_estimated_says_so(built):
    case, study, _, t2, _, _ = built
    if case == "no transplant recipients":
        assert t2.text("sos") == "not estimable"
        assert t2.text("sos_after_hsct@100 days") == "not estimable"
        assert study.endpoints["sos_after_hsct"].n == 0
    if case == "no deaths":
        mrd = study.comparisons["mrd_negative_remission"]
        assert mrd.test is None and fmt.test_result(mrd.test, mrd.note) == "no events"
        assert t2.text("mrd_negative_remission:test") == "no events"
        assert t2.text("overall_survival:median") == "not reached"
    if case == "a variable with one level":
        blina = study.comparisons["prior_blinatumomab"]
        assert blina.group("no").n == 0 and blina.group("no").curve is None
        assert t2.text("prior_blinatumomab:no") == "not estimable"
        assert t2.text("prior_blinatumomab:test").startswith("one group only")
    if case == "a single patient":
        assert study.n == 1 and t2.row("prior_blinatumomab:test").value is None


def test_k_group_comparison_without_events_and_with_an_empty_arm(tmp_path, monkeypatch):
    colon = ROOT / "examples" / "colon"
    table = read_example(colon / "data" / "colon.csv")
    # Nobody dies, and nobody is in the levamisole arm.
    table = table[table["arm"] != "lev"].assign(death="no")
    table.to_csv(tmp_path / "colon.csv", index=False)
    monkeypatch.setenv("DATA", str(tmp_path / "colon.csv"))
    study = Study(colon / "study.yml")
    by_arm = study.comparisons["os_by_arm"]
    assert by_arm.group("lev").n == 0 and fmt.k_group_test(by_arm.test, by_arm.note) == "no events"
    assert {arm: fmt.hazard_ratio(by_arm.hazard_ratio(arm)) for arm in ("lev", "lev_5fu")} == {
        "lev": "not estimable", "lev_5fu": "not estimable"}
    t2 = outcomes(study)
    assert t2.text("os_by_arm:lev") == "not estimable" and t2.text("os_by_arm:test") == "no events"
    # Recurrence still competes with nothing: Gray's test on the two arms left.
    assert study.comparisons["recurrence_by_arm"].test.df == 1
    assert patient_characteristics(study).row("sex").test is not None


def test_a_bad_declaration_is_named_with_file_and_key(tmp_path):
    text = (ROOT / "study.yml").read_text(encoding="utf-8")
    (tmp_path / "study.yml").write_text(text.replace("origin: hsct_date", "origin: transplant_day"))
    (tmp_path / "data").mkdir()
    for name in ("dictionary.yml", "example_cohort.csv"):
        (tmp_path / "data" / name).write_bytes((ROOT / "data" / name).read_bytes())
    with pytest.raises(ValueError, match=r"study\.yml, line \d+: study\.endpoints\.sos_after_hsct\.origin: 'transplant_day' "
                                         r"is not a column of the data dictionary"):
        Study(tmp_path / "study.yml")
