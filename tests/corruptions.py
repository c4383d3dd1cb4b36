"""A catalogue of corrupted cohorts: each a small, named mutation of the example.

Every :class:`Corruption` takes the example cohort as the CSV file holds it
(all cells text, empty cells ""), changes one thing for one patient it picks
by a property (so the catalogue works on any valid example), and says what the
data checks must answer: the exit code, the rule that fails (its
``meta["rule"]`` name) or, for a file that cannot be loaded, a fragment of the
message, and the patient who must be named.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "data" / "example_cohort.csv"
FIXTURE = ROOT / "tests" / "fixtures" / "valid_cohort.csv"
# Until the example cohort exists the catalogue mutates the small fixture.
SOURCE = EXAMPLE if EXAMPLE.exists() else FIXTURE

EXIT_FAILED, EXIT_UNREADABLE = 1, 2


def read_example(path: Path = SOURCE) -> pd.DataFrame:
    """The example cohort as text, exactly as the file holds it."""
    return pd.read_csv(path, dtype=str, keep_default_na=False)


@dataclass(frozen=True)
class Mutated:
    """A corrupted cohort: a table (written as CSV) or the file's raw bytes, and the patient to name."""

    table: pd.DataFrame | None = None
    raw: bytes | None = None
    patient_id: str | None = None

    def write(self, path: Path) -> Path:
        if self.raw is not None:
            path.write_bytes(self.raw)
        else:
            self.table.to_csv(path, index=False)
        return path


@dataclass(frozen=True)
class Corruption:
    name: str
    mutate: Callable[[pd.DataFrame], Mutated]
    exit_code: int
    rule: str | None = None  # the failing rule (exit 1) or the warning rule (exit 0)
    message: str | None = None  # a fragment of the load error (exit 2)


# -- helpers --------------------------------------------------------------------


def _first(table: pd.DataFrame, mask: pd.Series) -> int:
    rows = table.index[mask]
    if rows.empty:
        raise LookupError("the example cohort has no patient with the property this corruption needs")
    return rows[0]


def _set(table: pd.DataFrame, row: int, **values: str) -> Mutated:
    table = table.copy()
    for column, value in values.items():
        table.loc[row, column] = value
    return Mutated(table=table, patient_id=table.loc[row, "patient_id"])


def _shift(date: str, days: int) -> str:
    return (pd.Timestamp(date) + pd.Timedelta(days=days)).date().isoformat()


def _with_column(table: pd.DataFrame, column: str, values: list[str]) -> pd.DataFrame:
    table = table.copy()
    table[column] = values
    return table


def _is(table: pd.DataFrame, column: str, value: str) -> pd.Series:
    return table[column] == value


# -- the mutations ----------------------------------------------------------------


def empty_file(t):
    return Mutated(raw=b"")


def header_only(t):
    return Mutated(raw=(",".join(t.columns) + "\n").encode())


def latin1_encoding(t):
    text = t.to_csv(index=False).replace("first_relapse", "first_relapsé", 1)
    return Mutated(raw=text.encode("latin-1"))


def semicolon_delimiter(t):
    return Mutated(raw=t.to_csv(index=False, sep=";").encode())


def missing_column(t):
    return Mutated(table=t.drop(columns=["sos_date"]))


def duplicate_header(t):
    text = t.to_csv(index=False)
    header, rest = text.split("\n", 1)
    return Mutated(raw=(header.replace("sos_date", "relapse_date") + "\n" + rest).encode())


def text_in_numeric(t):
    return _set(t, 1, age_years="twelve")


def decimal_comma(t):
    return _set(t, 2, bm_blasts_pct="45,5")


def fractional_dose(t):
    return _set(t, 0, ino_doses="2.5")


def day_month_date(t):
    row = 1
    return _set(t, row, ino_start_date=pd.Timestamp(t.loc[row, "ino_start_date"]).strftime("%d.%m.%Y"))


def numeric_boolean(t):
    return _set(t, 2, prior_car_t="1")


def duplicate_id(t):
    mutated = _set(t, 1, patient_id=t.loc[0, "patient_id"])
    return Mutated(table=mutated.table, patient_id=t.loc[0, "patient_id"])


def bad_id_pattern(t):
    return _set(t, 1, patient_id="ino 2")


def missing_sex(t):
    mutated = _set(t, 2, sex="")
    return mutated


def age_18(t):
    return _set(t, 0, age_years="18")


def negative_age(t):
    return _set(t, 1, age_years="-1")


def blasts_over_100(t):
    return _set(t, 1, bm_blasts_pct="101")


def four_doses(t):
    return _set(t, _first(t, _is(t, "ino_doses", "3")), ino_doses="4")


def unknown_sex_code(t):
    return _set(t, 0, sex="M")


def unknown_disease_status(t):
    return _set(t, 1, disease_status="fourth_relapse")


def ino_before_window(t):
    row = _first(t, _is(t, "hsct_after_ino", "no") & _is(t, "relapse_date", ""))
    return _set(t, row, ino_start_date="2018-12-31")


def ino_after_window(t):
    # A patient with no other dates to move: no HSCT, no relapse, died.
    row = _first(t, _is(t, "hsct_after_ino", "no") & _is(t, "vital_status", "dead") & _is(t, "relapse_date", ""))
    return _set(t, row, ino_start_date="2024-08-31", death_date="2025-01-31", last_contact_date="2025-01-31")


def contact_after_cutoff(t):
    return _set(t, _first(t, _is(t, "vital_status", "alive")), last_contact_date="2025-03-01")


def hsct_before_ino(t):
    row = _first(t, _is(t, "hsct_after_ino", "yes"))
    return _set(t, row, hsct_date=_shift(t.loc[row, "ino_start_date"], -1))


def death_before_hsct(t):
    row = _first(t, _is(t, "hsct_after_ino", "yes") & _is(t, "sos", "no") & _is(t, "relapse_date", ""))
    day_before = _shift(t.loc[row, "hsct_date"], -1)
    return _set(t, row, vital_status="dead", death_date=day_before, last_contact_date=day_before)


def death_not_last_contact(t):
    row = _first(t, _is(t, "vital_status", "dead"))
    return _set(t, row, death_date=_shift(t.loc[row, "last_contact_date"], -3))


def alive_with_death_date(t):
    row = _first(t, _is(t, "vital_status", "alive"))
    return _set(t, row, death_date=t.loc[row, "last_contact_date"])


def dead_without_death_date(t):
    return _set(t, _first(t, _is(t, "vital_status", "dead")), death_date="")


def sos_without_hsct(t):
    return _set(t, _first(t, _is(t, "hsct_after_ino", "no")), sos="yes")


def sos_date_before_hsct(t):
    row = _first(t, _is(t, "sos", "yes"))
    return _set(t, row, sos_date=_shift(t.loc[row, "hsct_date"], -2))


def hsct_without_date(t):
    return _set(t, _first(t, _is(t, "hsct_after_ino", "yes")), hsct_date="")


def relapse_before_ino(t):
    row = _first(t, t["relapse_date"] != "")
    return _set(t, row, relapse_date=_shift(t.loc[row, "ino_start_date"], -10))


def further_type_without_therapy(t):
    return _set(t, _first(t, _is(t, "further_therapy", "no")), further_therapy_type="chemotherapy")


def further_therapy_without_type(t):
    return _set(t, _first(t, _is(t, "further_therapy", "yes")), further_therapy_type="")


def single_dose_without_reason(t):
    return _set(t, _first(t, _is(t, "ino_doses", "3")), ino_doses="1")


def stop_reason_with_full_cycle(t):
    return _set(t, _first(t, _is(t, "ino_doses", "3")), ino_stop_reason="infection")


def not_evaluable_with_disease(t):
    return _set(t, _first(t, t["flow_mrd_pct"].astype(float) >= 0.01), response="not_evaluable")


def evaluated_without_disease(t):
    return _set(t, _first(t, t["response"] != "not_evaluable"), flow_mrd_pct="0")


def name_column(t):
    names = [f"Name{i} Surname{i}" for i in range(len(t))]
    return Mutated(table=_with_column(t, "patient_name", names), patient_id=t.loc[0, "patient_id"])


def birth_date_column(t):
    return Mutated(table=_with_column(t, "DateOfBirth", ["2010-01-01"] * len(t)), patient_id=t.loc[0, "patient_id"])


def _extra_column(t: pd.DataFrame, column: str, row: int, value: str, others: str = "") -> Mutated:
    """A column outside the dictionary, ``value`` for the patient in ``row``, ``others`` for the rest."""
    values = [others] * len(t)
    values[row] = value
    return Mutated(table=_with_column(t, column, values), patient_id=t.loc[row, "patient_id"])


def email_in_unknown_column(t):
    return _extra_column(t, "contact", 2, "parent@example.org")


def comments_column(t):
    return _extra_column(t, "comments", 1, "fever")


def free_text_in_unknown_column(t):
    return _extra_column(t, "extra", 3, "febrile neutropenia after the second dose", others="A")


def russian_name_column(t):
    names = ["Иванов И.И."] * len(t)
    return Mutated(table=_with_column(t, "ФИО", names), patient_id=t.loc[0, "patient_id"])


def names_in_an_innocent_column(t):
    return _extra_column(t, "patient", 4, "Ivan Petrov")


def blasts_without_flow_disease(t):
    return _set(t, _first(t, _is(t, "response", "not_evaluable")), bm_blasts_pct="80")


def extra_date_column(t):
    return Mutated(table=_with_column(t, "diagnosis_date", ["2018-05-03"] * len(t)))


def short_follow_up(t):
    row = _first(t, _is(t, "vital_status", "alive") & _is(t, "relapse_date", ""))
    return _set(t, row, last_contact_date=_shift(t.loc[row, "ino_start_date"], 365))


def harmless_extra_column(t):
    return Mutated(table=_with_column(t, "site", ["A"] * len(t)))


CATALOGUE: tuple[Corruption, ...] = (
    # the file cannot be loaded
    Corruption("empty file", empty_file, EXIT_UNREADABLE, message="empty"),
    Corruption("header only", header_only, EXIT_UNREADABLE, message="no patient rows"),
    Corruption("Latin-1 encoding", latin1_encoding, EXIT_UNREADABLE, message="UTF-8"),
    Corruption("semicolon delimiter", semicolon_delimiter, EXIT_UNREADABLE, message="semicolon"),
    Corruption("missing column", missing_column, EXIT_UNREADABLE, message="missing column(s) ['sos_date']"),
    Corruption("column named twice", duplicate_header, EXIT_UNREADABLE, message="named more than once"),
    Corruption("text in a numeric column", text_in_numeric, EXIT_UNREADABLE, message="column 'age_years': 'twelve'"),
    Corruption("decimal comma", decimal_comma, EXIT_UNREADABLE, message="column 'bm_blasts_pct': '45,5'"),
    Corruption("fractional dose count", fractional_dose, EXIT_UNREADABLE, message="column 'ino_doses': '2.5'"),
    Corruption("day.month.year date", day_month_date, EXIT_UNREADABLE, message="column 'ino_start_date'"),
    Corruption("boolean written 1", numeric_boolean, EXIT_UNREADABLE, message="column 'prior_car_t': '1'"),
    # structure
    Corruption("duplicate patient id", duplicate_id, EXIT_FAILED, rule="unique:patient_id"),
    Corruption("id not pseudonymous pattern", bad_id_pattern, EXIT_FAILED, rule="pattern:patient_id"),
    Corruption("sex missing", missing_sex, EXIT_FAILED, rule="required:sex"),
    # ranges and sets
    Corruption("age 18", age_18, EXIT_FAILED, rule="range:age_years"),
    Corruption("negative age", negative_age, EXIT_FAILED, rule="range:age_years"),
    Corruption("blasts over 100%", blasts_over_100, EXIT_FAILED, rule="range:bm_blasts_pct"),
    Corruption("four doses", four_doses, EXIT_FAILED, rule="range:ino_doses"),
    Corruption("sex coded M", unknown_sex_code, EXIT_FAILED, rule="allowed:sex"),
    Corruption("unknown disease status", unknown_disease_status, EXIT_FAILED, rule="allowed:disease_status"),
    # dates
    Corruption("InO before the study window", ino_before_window, EXIT_FAILED, rule="window:ino_start_date"),
    Corruption("InO after the study window", ino_after_window, EXIT_FAILED, rule="window:ino_start_date"),
    Corruption("last contact after cut-off", contact_after_cutoff, EXIT_FAILED, rule="cutoff:last_contact_date"),
    Corruption("HSCT before InO", hsct_before_ino, EXIT_FAILED, rule="order:ino_start_date<=hsct_date"),
    Corruption("death before HSCT", death_before_hsct, EXIT_FAILED, rule="order:hsct_date<=last_contact_date"),
    Corruption("death date not last contact", death_not_last_contact, EXIT_FAILED, rule="death_date_is_last_contact"),
    Corruption("alive with a death date", alive_with_death_date, EXIT_FAILED, rule="absent_unless:death_date"),
    Corruption("dead without a death date", dead_without_death_date, EXIT_FAILED, rule="required_when:death_date"),
    Corruption("SOS date before HSCT", sos_date_before_hsct, EXIT_FAILED, rule="order:hsct_date<=sos_date"),
    Corruption("relapse before InO", relapse_before_ino, EXIT_FAILED, rule="order:ino_start_date<=relapse_date"),
    # consistency
    Corruption("SOS without HSCT", sos_without_hsct, EXIT_FAILED, rule="absent_unless:sos"),
    Corruption("HSCT without date", hsct_without_date, EXIT_FAILED, rule="required_when:hsct_date"),
    Corruption("therapy type without further therapy", further_type_without_therapy, EXIT_FAILED,
               rule="absent_unless:further_therapy_type"),
    Corruption("further therapy without type", further_therapy_without_type, EXIT_FAILED,
               rule="required_when:further_therapy_type"),
    Corruption("single dose without reason", single_dose_without_reason, EXIT_FAILED, rule="required_when:ino_stop_reason"),
    Corruption("stop reason with full cycle", stop_reason_with_full_cycle, EXIT_FAILED, rule="absent_unless:ino_stop_reason"),
    Corruption("not evaluable with disease", not_evaluable_with_disease, EXIT_FAILED, rule="response:evaluable_with_disease"),
    Corruption("evaluated without disease", evaluated_without_disease, EXIT_FAILED,
               rule="response:not_evaluable_without_disease"),
    # privacy
    Corruption("a name column", name_column, EXIT_FAILED, rule="privacy:no_direct_identifiers"),
    Corruption("a birth-date column", birth_date_column, EXIT_FAILED, rule="privacy:no_direct_identifiers"),
    Corruption("an e-mail in an extra column", email_in_unknown_column, EXIT_FAILED, rule="privacy:no_direct_identifiers"),
    Corruption("a comments column", comments_column, EXIT_FAILED, rule="privacy:no_free_text"),
    Corruption("free text in an extra column", free_text_in_unknown_column, EXIT_FAILED, rule="privacy:no_free_text"),
    Corruption("a full-name column in Russian", russian_name_column, EXIT_FAILED, rule="privacy:no_direct_identifiers"),
    Corruption("a person's name in an extra column", names_in_an_innocent_column, EXIT_FAILED,
               rule="privacy:no_direct_identifiers"),
    # warnings: reported, the report still renders
    Corruption("an extra date column", extra_date_column, 0, rule="columns:declared"),
    Corruption("overt blasts without flow disease", blasts_without_flow_disease, 0,
               rule="response:blasts_agree_with_flow"),
    Corruption("short follow-up, alive", short_follow_up, 0, rule="follow_up:landmark"),
    Corruption("harmless extra column", harmless_extra_column, 0, rule="columns:declared"),
)
