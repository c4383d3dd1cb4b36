"""Synthetic cohorts of any size for the scale benchmark.

The cohort has the columns of ``data/dictionary.yml`` and passes every rule of
the data checks (``data_checks/``): dates inside the study window of
``study.yml`` and not after its cut-off, the date of death equal to the last
contact for the dead, HSCT between InO and last contact, SOS only after HSCT,
a further-therapy type only with further therapy, a stop reason exactly when
the first cycle was incomplete, ``not_evaluable`` exactly when flow MRD is
below the threshold, unique ids ``SC-000000``, ... Living patients are followed
for at least the landmark, so not even the follow-up warning fires.

Proportions follow the published abstract (27 patients); survival is
exponential with a median near 18 months, worse without MRD-negative remission
and after prior blinatumomab, so that the log-rank test and the Cox model have
something to find. Every column is drawn at once with numpy from one seed:
10^6 patients take a few seconds, and the same ``(n, seed)`` gives the same
bytes.

Usage: ``python bench/make_cohort.py N [--seed S] [--out PATH]``.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SEED = 20250228
ID_DIGITS = 6
ID_BLOCK = 10**ID_DIGITS
# Block 0 is "SC", blocks 1..25 "SCB".."SCZ": 26 * 10^6 ids fit the dictionary's pattern.
ID_LETTERS = np.array(list("ABCDEFGHIJKLMNOPQRSTUVWXYZ"))
MEDIAN_SURVIVAL_DAYS = 550.0
# Living patients' last contact falls this many days or fewer before the cut-off.
LAST_CONTACT_SPREAD_DAYS = 30
DISEASE_STATUS = {  # the abstract: 1, 2, 15, 7 and 2 of 27 patients
    "first_remission": 1,
    "primary_refractory": 2,
    "first_relapse": 15,
    "second_relapse": 7,
    "third_relapse": 2,
}


@dataclass(frozen=True)
class StudyDates:
    """The settings of ``study.yml`` that the generated dates must respect."""

    window_start: np.datetime64
    window_end: np.datetime64
    cutoff: np.datetime64
    landmark_days: float
    mrd_threshold_pct: float

    @classmethod
    def from_file(cls, study_file: str | Path) -> StudyDates:
        """Read the ``study:`` block of ``study_file``.

        Examples
        --------
        >>> StudyDates.from_file(ROOT / "study.yml").landmark_days
        730.5
        """
        study = yaml.safe_load(Path(study_file).read_text(encoding="utf-8"))["study"]
        return cls(
            window_start=np.datetime64(str(study["window_start"]), "D"),
            window_end=np.datetime64(str(study["window_end"]), "D"),
            cutoff=np.datetime64(str(study["cutoff_date"]), "D"),
            landmark_days=float(study["landmark_days"]),
            mrd_threshold_pct=float(study["mrd_threshold_pct"]),
        )


def patient_ids(n: int) -> np.ndarray:
    """Unique ids of the dictionary's pattern: ``SC-000000`` ... ``SC-999999``, then ``SCB-000000`` ...

    Examples
    --------
    >>> patient_ids(3).tolist()
    ['SC-000000', 'SC-000001', 'SC-000002']
    >>> str(patient_ids(1_000_001)[-1])
    'SCB-000000'
    """
    if n > ID_BLOCK * len(ID_LETTERS):
        raise ValueError(f"at most {ID_BLOCK * len(ID_LETTERS)} patients: the id pattern allows 6 digits")
    index = np.arange(n)
    block = index // ID_BLOCK
    prefix = np.where(block == 0, "SC", np.strings.add("SC", ID_LETTERS[block]))
    number = np.strings.zfill((index % ID_BLOCK).astype(str), ID_DIGITS)
    return np.strings.add(np.strings.add(prefix, "-"), number)


def _yes_no(flags: np.ndarray, present: np.ndarray | None = None) -> np.ndarray:
    text = np.where(flags, "yes", "no")
    return text if present is None else np.where(present, text, "")


def _iso(days: np.ndarray, present: np.ndarray | None = None) -> np.ndarray:
    text = np.datetime_as_string(days.astype("datetime64[D]"), unit="D")
    return text if present is None else np.where(present, text, "")


def _uniform_days(rng: np.random.Generator, low: np.datetime64, high: np.datetime64, n: int) -> np.ndarray:
    """Whole days, uniform from ``low`` to ``high`` inclusive."""
    return low + rng.integers(0, int((high - low).astype(int)) + 1, size=n).astype("timedelta64[D]")


def _days_within(rng: np.random.Generator, span: np.ndarray, at_most: float) -> np.ndarray:
    """Per patient, whole days from 0 to min(span, at_most), so a later date never passes its bound."""
    limit = np.minimum(span, at_most)
    return np.floor(rng.random(span.size) * (limit + 1)).astype(int).clip(0, limit).astype("timedelta64[D]")


def make_cohort(n: int, seed: int = DEFAULT_SEED, study_file: str | Path = ROOT / "study.yml") -> pd.DataFrame:
    """A synthetic cohort of ``n`` patients as the cohort file writes it (text cells, ``""`` missing).

    Parameters
    ----------
    n : int
        Number of patients (at least 1).
    seed : int
        Seed of the random generator: the same ``(n, seed)`` gives the same table.
    study_file : str or Path
        The study settings whose window, cut-off, landmark and MRD threshold
        the table respects.

    Returns
    -------
    pandas.DataFrame
        The columns of ``data/dictionary.yml``, in its order, all text.

    Examples
    --------
    >>> cohort = make_cohort(1000, seed=1)
    >>> cohort.shape, cohort["patient_id"].is_unique
    ((1000, 25), True)
    >>> dead = cohort["vital_status"] == "dead"
    >>> bool((cohort.loc[dead, "death_date"] == cohort.loc[dead, "last_contact_date"]).all())
    True
    >>> make_cohort(50, seed=2).equals(make_cohort(50, seed=2))
    True
    """
    if n < 1:
        raise ValueError(f"n must be at least 1, got {n}")
    dates = StudyDates.from_file(study_file)
    rng = np.random.default_rng(seed)

    status_codes = np.array(list(DISEASE_STATUS))
    status_p = np.array(list(DISEASE_STATUS.values()), dtype=float)
    disease_status = rng.choice(status_codes, size=n, p=status_p / status_p.sum())

    # Detectable disease in 26 of 27 patients; the rest are below the threshold.
    detectable = rng.random(n) < 26 / 27
    flow_mrd = np.where(
        detectable,
        np.round(dates.mrd_threshold_pct + rng.random(n) * (95 - dates.mrd_threshold_pct), 2),
        np.round(rng.random(n) * dates.mrd_threshold_pct * 0.9, 4),
    )
    bm_blasts = np.round(np.clip(flow_mrd * rng.uniform(0.8, 1.2, n), 0, 100), 1)
    age = np.round(rng.uniform(0.5, 17.9, n), 1)

    ino_doses = np.where(rng.random(n) < 26 / 27, 3, rng.integers(1, 3, n))
    stop_reason = rng.choice(["liver_toxicity", "infection", "progression", "other_toxicity"], size=n)
    mrd_negative = detectable & (rng.random(n) < 0.5)
    response = np.where(~detectable, "not_evaluable", np.where(mrd_negative, "mrd_negative_remission",
                                                                "no_mrd_negative_remission"))
    prior_blina = rng.random(n) < 13 / 27
    further = rng.random(n) < 19 / 27
    further_type = rng.choice(["blinatumomab", "chemotherapy", "car_t"], size=n, p=[10 / 19, 7 / 19, 2 / 19])

    # Survival: exponential, proportional hazards in MRD response and prior blinatumomab.
    hazard = np.log(2) / MEDIAN_SURVIVAL_DAYS * np.exp(0.6 * ~mrd_negative + 0.4 * prior_blina)
    death_after = np.ceil(rng.exponential(1 / hazard))
    ino_start = _uniform_days(rng, dates.window_start, dates.window_end, n)
    dead = death_after <= (dates.cutoff - ino_start).astype(int)
    # The living are followed to near the cut-off and for at least the landmark:
    # their InO start is moved early enough for that.
    latest_alive_start = dates.cutoff - np.timedelta64(int(np.ceil(dates.landmark_days)) + LAST_CONTACT_SPREAD_DAYS, "D")
    ino_start = np.where(dead, ino_start, _uniform_days(rng, dates.window_start, latest_alive_start, n))
    alive_contact = dates.cutoff - rng.integers(0, LAST_CONTACT_SPREAD_DAYS + 1, n).astype("timedelta64[D]")
    last_contact = np.where(dead, ino_start + death_after.astype("timedelta64[D]"), alive_contact)
    follow_up = (last_contact - ino_start).astype(int)

    hsct = rng.random(n) < 18 / 27
    hsct_date = ino_start + np.timedelta64(30, "D") + _days_within(rng, np.maximum(follow_up - 30, 0), 150)
    # A patient who died within 30 days of InO is transplanted no later than the last contact.
    hsct_date = np.minimum(hsct_date, last_contact)
    sos = hsct & (rng.random(n) < 5 / 18)
    sos_date = hsct_date + _days_within(rng, (last_contact - hsct_date).astype(int), 30)
    relapse = (rng.random(n) < 0.4) & (follow_up > 0)
    relapse_date = ino_start + _days_within(rng, follow_up, 10_000)

    columns = {
        "patient_id": patient_ids(n),
        "sex": rng.choice(["female", "male"], size=n),
        "age_years": age.astype(str),
        "disease_status": disease_status,
        "bm_blasts_pct": bm_blasts.astype(str),
        "flow_mrd_pct": flow_mrd.astype(str),
        "extramedullary_disease": _yes_no(rng.random(n) < 0.2),
        "prior_blinatumomab": _yes_no(prior_blina),
        "prior_car_t": _yes_no(rng.random(n) < 8 / 27),
        "prior_allo_hsct": _yes_no(rng.random(n) < 3 / 27),
        "ino_start_date": _iso(ino_start),
        "ino_cycles": np.where(rng.random(n) < 0.9, "1", "2"),
        "ino_doses": ino_doses.astype(str),
        "ino_stop_reason": np.where(ino_doses < 3, stop_reason, ""),
        "response": response,
        "further_therapy": _yes_no(further),
        "further_therapy_type": np.where(further, further_type, ""),
        "hsct_after_ino": _yes_no(hsct),
        "hsct_date": _iso(hsct_date, hsct),
        "sos": _yes_no(sos, hsct),
        "sos_date": _iso(sos_date, sos),
        "relapse_date": _iso(relapse_date, relapse),
        "vital_status": np.where(dead, "dead", "alive"),
        "death_date": _iso(last_contact, dead),
        "last_contact_date": _iso(last_contact),
    }
    return pd.DataFrame(columns)


def write_cohort(n: int, path: str | Path, seed: int = DEFAULT_SEED) -> Path:
    """Write :func:`make_cohort` as CSV (UTF-8, comma-separated, ``\\n`` line ends) and return the path.

    Examples
    --------
    >>> import tempfile
    >>> path = write_cohort(5, Path(tempfile.mkdtemp()) / "cohort.csv", seed=3)
    >>> path.read_text().splitlines()[1].split(",")[0]
    'SC-000000'
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    make_cohort(n, seed).to_csv(path, index=False, lineterminator="\n")
    return path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python bench/make_cohort.py", description=__doc__.splitlines()[0])
    parser.add_argument("patients", type=int, help="number of patients")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED, help="random seed (default: %(default)s)")
    parser.add_argument("--out", type=Path, help="CSV to write (default: bench/cohorts/cohort_<N>.csv)")
    args = parser.parse_args(argv)
    out = args.out or ROOT / "bench" / "cohorts" / f"cohort_{args.patients}.csv"
    print(write_cohort(args.patients, out, args.seed))
    return 0


if __name__ == "__main__":
    sys.exit(main())
