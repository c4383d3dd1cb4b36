"""``python -m scaffold DIR DATA [--sheet NAME] [--redcap-dictionary CSV]``: draft a study folder from a cohort file.

Exit status: 0 the folder was written and reads back as a valid study; 2 the
folder exists, the file cannot be read, or the draft does not load (nothing is
left behind then).
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
from pathlib import Path

from analysis.cohort import CohortLoadError, DictionaryError, load_cohort, load_dictionary
from analysis.config import StudySettingsError, check_against_dictionary, load_study
from scaffold.infer import ID, infer, unit_note
from scaffold.labelled import FOREIGN_SUFFIXES, write_labelled_study_data
from scaffold.write import (
    DATA_FILE,
    DICTIONARY_FILE,
    dictionary_yaml,
    quarto_yaml,
    readme,
    report_qmd,
    study_yaml,
)


def write_study(folder: Path, source: Path, sheet: str | None = None,
                redcap_dictionary: Path | None = None) -> list[str]:
    """Write the study folder; return the console lines saying what was inferred."""
    if redcap_dictionary is not None or source.suffix.lower() in FOREIGN_SUFFIXES:
        inference = write_labelled_study_data(folder, source, redcap_dictionary)
    else:
        inference = infer(source, sheet)
        (folder / "data").mkdir(parents=True)
        inference.table.to_csv(folder / DATA_FILE, index=False, lineterminator="\n")
        (folder / DICTIONARY_FILE).write_text(dictionary_yaml(inference, source), encoding="utf-8")
    (folder / "study.yml").write_text(study_yaml(inference, source), encoding="utf-8")
    (folder / "report.qmd").write_text(report_qmd(inference), encoding="utf-8")
    (folder / "_quarto.yml").write_text(quarto_yaml(folder), encoding="utf-8")
    (folder / "README.md").write_text(readme(inference, source, folder), encoding="utf-8")

    types: dict[str, int] = {}
    for column in inference.columns:
        if column.name in (ID, inference.id_source):
            continue
        types[column.type] = types.get(column.type, 0) + 1
    if inference.labelled:
        ids = next((c for c in inference.columns if c.name == inference.id_source), None)
        id_from = (f"{ids.name}" + (f", pattern {ids.pattern}" if ids.pattern else "") if ids
                   else "none recognised in the file")
        lines = [f"new study {folder} from {source.name} ({inference.labelled}, read with its labels): "
                 f"{len(inference.table)} patients, {len(inference.columns)} columns kept",
                 f"  data: {inference.data_file}" + (f", read with {inference.redcap_dictionary_file}"
                                                     if inference.redcap_dictionary_file else ""),
                 f"  patient id: {id_from}"]
        named = [c for c in inference.columns if c.given_label != c.name]
        coded = [c for c in inference.columns if c.code_labels]
        lines.append(f"  labels: {len(named)} column labels, {len(coded)} columns with coded values "
                     "(codes and labels from the file)")
    else:
        id_from = (f"{inference.id_source} -> {ID}" if inference.id_source not in (None, ID)
                   else ID if inference.id_source else f"none in the file: numbered {inference.table[ID].iloc[0]}...")
        lines = [
            f"new study {folder} from {source.name}: {len(inference.table)} patients, "
            f"{len(inference.columns)} columns kept",
            f"  patient id: {id_from}, pattern {inference.columns[0].pattern}",
        ]
    lines.append("  types: " + ", ".join(f"{count} {kind}" for kind, count in sorted(types.items())))
    lines += [f"  left out {name}: {why}" for name, why in inference.left_out.items()]
    lines += [f"  endpoint {e.name}: {e.reason}{unit_note(inference, e)}" for e in inference.endpoints] or [
        "  no endpoint recognised from the column names: declare one in study.yml"]
    if inference.cutoff or inference.landmark:
        lines.append(f"  cut-off {inference.cutoff or 'not needed (times given)'}, landmark {inference.landmark}")
    lines += [f"  note: {note}" for note in inference.notes]
    lines += [f"  review: {c.name}: {c.review}" for c in inference.columns if c.review]
    lines.append(f"next: review the REVIEW comments ({folder / 'README.md'}), then make report STUDY={folder}")
    return lines


def self_check(folder: Path) -> None:
    """The draft reads back as the report will read it (the engine's own loaders; no data checks, no render)."""
    settings = load_study(folder / "study.yml")
    dictionary = load_dictionary(folder / settings.dictionary)
    check_against_dictionary(settings, dictionary)
    load_cohort(folder / settings.data, dictionary, redcap_dictionary=settings.redcap_dictionary and
                folder / settings.redcap_dictionary)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m scaffold", description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path, help="the new study folder (must not exist)")
    parser.add_argument("data", type=Path, help="the cohort file (.csv, .xlsx, .sav, .zsav, .dta, or a REDCap export)")
    parser.add_argument("--sheet", help="Excel: the sheet to read (default: the first)")
    parser.add_argument("--redcap-dictionary", type=Path,
                        help="REDCap: the project's data dictionary (CSV); DATA is then its raw export")
    args = parser.parse_args(argv)
    if args.folder.exists():
        print(f"error: {args.folder} exists; new-study never overwrites (choose another DIR)", file=sys.stderr)
        return 2
    if not args.data.is_file():
        print(f"error: {args.data}: cohort file not found", file=sys.stderr)
        return 2
    if args.redcap_dictionary is not None and not args.redcap_dictionary.is_file():
        print(f"error: {args.redcap_dictionary}: REDCap data dictionary not found", file=sys.stderr)
        return 2
    # `make` exports DATA and REDCAP_DICTIONARY (what to draft from); the draft reads its own copies.
    os.environ.pop("DATA", None)
    os.environ.pop("REDCAP_DICTIONARY", None)
    try:
        lines = write_study(args.folder, args.data, args.sheet, args.redcap_dictionary)
        self_check(args.folder)
    except (OSError, ValueError, CohortLoadError, DictionaryError, StudySettingsError) as error:
        shutil.rmtree(args.folder, ignore_errors=True)
        print(f"error: {error}", file=sys.stderr)
        return 2
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
