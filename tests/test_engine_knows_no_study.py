"""The engine names no study: analysis/, data_checks/ and renderer/ hold no column or concept of the example.

Every column of the example's data dictionary counts, with two exceptions,
each with its reason: ``patient_id`` is the identifier column every cohort
has (the loader, the privacy rules and the messages naming patients use it),
and ``sex`` is a column of every clinical dataset, the R datasets the
docstring examples use included (lifelines' ``load_lung``).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
ENGINE = ("analysis", "data_checks", "renderer")
CONCEPTS = r"\bino_|hsct|\bsos\b|mrd|blinatumomab|further_therapy|full_cycle|inotuzumab"
NOT_THE_STUDY_S = {"patient_id", "sex"}


def study_words() -> re.Pattern:
    columns = [c["name"] for c in yaml.safe_load((ROOT / "data" / "dictionary.yml").read_text())["columns"]]
    names = [rf"\b{re.escape(c)}\b" for c in columns if c not in NOT_THE_STUDY_S]
    return re.compile("|".join([CONCEPTS, *names]), re.IGNORECASE)


def mentions(text: str, pattern: re.Pattern) -> list[str]:
    return [f"{number}: {line.strip()}" for number, line in enumerate(text.splitlines(), 1) if pattern.search(line)]


@pytest.mark.parametrize("folder", ENGINE)
def test_engine_code_names_no_column_or_concept_of_the_example(folder):
    pattern = study_words()
    found = {str(path.relative_to(ROOT)): hits for path in sorted((ROOT / folder).rglob("*.py"))
             if (hits := mentions(path.read_text(encoding="utf-8"), pattern))}
    assert found == {}


@pytest.mark.parametrize("line, hit", [
    ("origin = cohort['ino_start_date']", True),
    ("if row.hsct_after_ino:", True),
    ("SOS incidence", True),
    ("flow_mrd_pct >= threshold", True),
    ("further_therapy_type", True),
    ("response rate", True),  # a column of the example's dictionary
    ("the origin of an endpoint", False),
    ("lung['sex']", False),
    ("cohort['patient_id']", False),
    ("casino_night", False),
])
def test_the_scan_finds_study_names_and_only_them(line, hit):
    assert bool(mentions(line, study_words())) is hit
