"""A coded status names the codes of an event, each one the column has: never zero events in silence.

A trial run showed a coded death column (0 Alive, 1 Dead) with `event_values`
written as a YAML number, as the label, as a code the column lacks, or left out:
each counted no deaths and printed 100% survival with a 100-100% interval. The
colon study (examples/colon) with its yes/no death column recoded that way must
now be refused by name in each wrong case, and read 1 and '1' as one code.
"""

from __future__ import annotations

import pytest

from analysis.study import Study
from data_checks.__main__ import main
from tests.test_colon_study import REFERENCE
from tests.test_time_units import colon_copy


def coded_death(cohort, dictionary):
    """death as a category: '0' Alive, '1' Dead (the colon file's no/yes)."""
    text = dictionary.read_text(encoding="utf-8")
    block = text[text.index("  - name: death\n"):]
    block = block[:block.find("  - name:", 3)] if "  - name:" in block[3:] else block
    coded = block.replace("type: boolean", "type: category\n    values: {'0': Alive, '1': Dead}")
    dictionary.write_text(text.replace(block, coded), encoding="utf-8")
    cohort["death"] = cohort["death"].map({"yes": "1", "no": "0"})


def study_with(tmp_path, event_values: str | None):
    folder = colon_copy(tmp_path / "colon", edit=coded_death)
    path = folder / "study.yml"
    given = "" if event_values is None else f", event_values: {event_values}"
    text = path.read_text(encoding="utf-8")
    text = text.replace("      status: death\n",
                        "      status: death\n" + (f"      event_values: {event_values}\n" if event_values else ""))
    text = text.replace("{time: death_time_days, status: death}", "{time: death_time_days, status: death" + given + "}")
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize("written", ["[1]", "['1']", "[' 1']"])
def test_a_code_written_as_a_number_or_text_is_the_same_code(tmp_path, written):
    study = Study(study_with(tmp_path, written))
    # R (tests/reference/colon_reference.R): 452 deaths among the 929 patients.
    assert study.endpoints["overall_survival"].events == REFERENCE["counts"]["all"]["deaths"]


@pytest.mark.parametrize(("written", "words"), [
    (None, "study.endpoints.overall_survival.status: column 'death' is coded (category): give event_values, "
           "the code(s) that mean the event happened; its codes: 0 (Alive), 1 (Dead)"),
    ("['Dead']", "'Dead' is not a code of column 'death' (codes: 0 (Alive), 1 (Dead)); did you mean '1', the code of 'Dead'?"),
    ("['2']", "'2' is not a code of column 'death' (codes: 0 (Alive), 1 (Dead))"),
])
def test_a_missing_or_unknown_event_code_is_refused_by_name(tmp_path, capsys, written, words):
    path = study_with(tmp_path, written)
    assert main(["--study", str(path), "--no-docs"]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: {path}, line ") and words in err, err
    assert "Traceback" not in err and len(err.splitlines()) == 1
