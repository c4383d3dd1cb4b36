"""One step of the scale benchmark, in a fresh process so its peak memory is its own.

``python bench/scale_step.py STEP COHORT.csv`` loads the cohort as the pipeline
does (``analysis.cohort.load_cohort``), runs STEP and prints one JSON object:
the seconds of each part, the process's peak resident memory and a few results
(so that a reader sees the work was done, and on what).

Steps:

* ``load``: read and type the CSV.
* ``checks``: the data checks (``data_checks.validation.validate_cohort``,
  the full GX suite, no Data Docs); the cohort must pass.
* ``analysis``: overall survival; Kaplan-Meier with CI at the landmark, for
  all patients and for each group of the first comparison of ``study.yml``;
  the log-rank test between those groups; a Cox model on the comparisons'
  variables; cumulative incidence of SOS after HSCT, death competing.
"""

from __future__ import annotations

import json
import resource
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
STEPS = ("load", "checks", "analysis")
# Modules in ROOT (analysis/, data_checks/) import from the checkout, as the pipeline does.
sys.path.insert(0, str(ROOT))


def _peak_rss_bytes() -> int:
    # Linux reports ru_maxrss in KiB.
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def _timed(seconds: dict[str, float], name: str, fn, *args, **kwargs):
    start = time.perf_counter()
    result = fn(*args, **kwargs)
    seconds[name] = time.perf_counter() - start
    return result


def _checks(cohort, dictionary, settings, seconds: dict[str, float]) -> dict:
    import data_checks  # noqa: F401 (switches GX analytics off before GX is imported)

    start = time.perf_counter()
    from data_checks.validation import validate_cohort

    seconds["import"] += time.perf_counter() - start
    report = _timed(seconds, "checks", validate_cohort, cohort, dictionary, settings, docs_dir=None)
    if not report.passed:
        rules = ", ".join(f.rule for f in report.errors)
        raise SystemExit(f"scale step 'checks': the generated cohort failed rules {rules}")
    return {"expectations": report.n_expectations, "warnings": len(report.warnings)}


def _flag(cohort, settings, name: str):
    """A yes/no variable of the study (a boolean column or a definition) as booleans, missing = no."""
    definition = settings.definitions.get(name)
    if definition is None:
        values = cohort[name]
    else:
        values = cohort.eval(definition["where"], engine="python", local_dict=settings.parameters())
    return values.fillna(False).astype(bool)


def _analysis(cohort, dictionary, settings, seconds: dict[str, float]) -> dict:
    start = time.perf_counter()
    import numpy as np
    import pandas as pd

    from analysis.competing_risks import CumulativeIncidence
    from analysis.endpoints import overall_survival, sos_after_hsct
    from analysis.survival import KaplanMeier, cox_hazard_ratio, log_rank

    seconds["import"] += time.perf_counter() - start
    start = time.perf_counter()
    os_ = _timed(seconds, "endpoints", overall_survival, cohort, cutoff_date=settings.cutoff_date)
    landmark = settings.landmark_days

    def km(mask=None):
        keep = slice(None) if mask is None else mask
        curve = KaplanMeier(conf_type=settings.ci_transform, conf_level=settings.conf_level)
        return curve.fit(os_.time_days[keep], os_.event[keep]).at(landmark)

    by = settings.comparisons[0]["by"]
    group = _flag(cohort, settings, by).to_numpy()
    all_patients = _timed(seconds, "km_landmark", km)
    in_group = km(group)
    out_group = km(~group)
    test = _timed(seconds, "log_rank", log_rank, os_.time_days, os_.event, np.where(group, "yes", "no"))
    covariates = pd.DataFrame({spec["by"]: _flag(cohort, settings, spec["by"]).astype(int)
                               for spec in settings.comparisons})
    hazard_ratios = _timed(seconds, "cox", cox_hazard_ratio, os_.time_days, os_.event, covariates)
    sos = sos_after_hsct(cohort, cutoff_date=settings.cutoff_date)
    incidence = _timed(
        seconds, "cumulative_incidence",
        lambda: CumulativeIncidence(conf_level=settings.conf_level).fit(sos.time_days, sos.event)
        .at(settings.sos_landmark_days),
    )
    seconds["analysis"] = time.perf_counter() - start
    return {
        "os_at_landmark": [all_patients.estimate, all_patients.lower, all_patients.upper],
        f"os_at_landmark_by_{by}": [in_group.estimate, out_group.estimate],
        "log_rank_p": test.p,
        "hazard_ratios": {hr.covariate: hr.hazard_ratio for hr in hazard_ratios},
        "sos_incidence": incidence.estimate,
    }


def run_step(step: str, cohort_path: str | Path, study_file: str | Path = ROOT / "study.yml") -> dict:
    """Run one scale step in this process and return its measurements.

    Parameters
    ----------
    step : {"load", "checks", "analysis"}
    cohort_path : str or Path
        A cohort CSV with the columns of the data dictionary.
    study_file : str or Path
        The study settings (cut-off, landmark, CI transform, comparisons).

    Returns
    -------
    dict
        ``seconds`` (per part; ``load`` always), ``peak_rss_bytes`` of this
        process so far, ``patients`` and the step's ``results``.

    Examples
    --------
    >>> out = run_step("load", ROOT / "tests/fixtures/valid_cohort.csv")
    >>> out["patients"], out["peak_rss_bytes"] > 0, "load" in out["seconds"]
    (6, True, True)
    """
    if step not in STEPS:
        raise ValueError(f"unknown step {step!r}: one of {', '.join(STEPS)}")
    seconds = {"import": 0.0}
    start = time.perf_counter()
    from analysis.cohort import load_cohort, load_dictionary
    from analysis.config import load_study

    seconds["import"] += time.perf_counter() - start
    settings = load_study(study_file)
    dictionary = load_dictionary(Path(study_file).parent / settings.dictionary)
    cohort = _timed(seconds, "load", load_cohort, cohort_path, dictionary)
    results: dict = {}
    if step == "checks":
        results = _checks(cohort, dictionary, settings, seconds)
    elif step == "analysis":
        results = _analysis(cohort, dictionary, settings, seconds)
    return {
        "step": step,
        "patients": len(cohort),
        "seconds": seconds,
        "peak_rss_bytes": _peak_rss_bytes(),
        "results": results,
    }


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 2 or args[0] not in STEPS:
        print(f"usage: python bench/scale_step.py {{{','.join(STEPS)}}} COHORT.csv", file=sys.stderr)
        return 2
    print(json.dumps(run_step(args[0], args[1])))
    return 0


if __name__ == "__main__":
    sys.exit(main())
