"""The study's configuration: the ``study:`` block of study.yml, read and checked.

A study is declared, not programmed. The block names the cohort file and its
dictionary, the general settings (cut-off, confidence level, CI transform),
and the study's declarations in its own words:

* ``definitions``: derived yes/no variables (a pandas expression each);
* ``endpoints``: time-to-event endpoints, from dates (an origin, event
  sources, a censoring date, optional competing events and population) as
  pharmaverse admiral's ``derive_param_tte`` describes them, or given directly
  as a time column (in the unit its data-dictionary column declares) and a
  status column;
* ``comparisons``: an endpoint compared across the levels of a variable;
* ``proportions``: a binary outcome counted among a population;
* ``models``: multivariable Cox models (an endpoint and its covariates);
* ``characteristics`` and ``outcomes``: the rows of Table 1 and Table 2;
* ``death``, ``entry_date``: what the date-order checks derive their rules from;
* ``checks``: the study's own cross-column rules, as Great Expectations
  expectations.

The file is checked against a JSON Schema first (:mod:`analysis.schema`:
unknown keys with the known key they resemble, types, required settings),
then for meaning here. Every problem is a :class:`StudySettingsError` whose
message names the file, the line and the key
(``study.yml, line 12: study.endpoints.os.origin: ...``). Names of columns
are checked against the data dictionary by :func:`check_against_dictionary`.
"""

from __future__ import annotations

import ast
import datetime as dt
import difflib
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from analysis.formatting import P_VALUE_STYLES, NumberStyle, PValueStyle
from analysis.schema import CI_TRANSFORMS, LANDMARK_PATTERN, OUTCOME_KINDS, STUDY_SCHEMA, ConfigFile, read_config, validate

__all__ = [
    "CI_TRANSFORMS",
    "TIME_UNITS",
    "CheckRule",
    "ComparisonSpec",
    "Death",
    "Endpoint",
    "EventSource",
    "Landmark",
    "ModelSpec",
    "OutcomeRow",
    "ProportionSpec",
    "StatusSource",
    "StudySettings",
    "StudySettingsError",
    "check_against_dictionary",
    "load_study",
    "integer_code",
    "time_unit",
    "with_time_units",
]

# Days per unit of time; a year is 365.25 days, a month a twelfth of it (30.4375 days), as R users
# convert. Landmarks and the printed unit are days, months or years; a time column may also be in weeks.
TIME_UNITS = {"days": 1.0, "weeks": 7.0, "months": 365.25 / 12, "years": 365.25}


class StudySettingsError(ValueError):
    """The ``study:`` block of study.yml is missing a setting or has a bad value."""


# -- declarations ---------------------------------------------------------------


@dataclass(frozen=True)
class Landmark:
    """A time at which an endpoint is read: "2 years", "100 days"."""

    value: float
    unit: str

    @property
    def days(self) -> float:
        return self.value * TIME_UNITS[self.unit]

    @property
    def years(self) -> float:
        return self.days / TIME_UNITS["years"]

    @property
    def text(self) -> str:
        """"2 years", "1 year", "100 days"."""
        unit = self.unit[:-1] if self.value == 1 else self.unit
        return f"{self.value:g} {unit}"

    @property
    def adjective(self) -> str:
        """"2-year", "100-day", as in "2-year overall survival"."""
        return f"{self.value:g}-{self.unit[:-1]}"


@dataclass(frozen=True)
class EventSource:
    """A date that ends an interval, counted where ``where`` holds (every patient with a date, if None)."""

    date: str
    where: str | None = None
    label: str | None = None


@dataclass(frozen=True)
class StatusSource:
    """An event given as a time column and a status column, as trial exports deliver it."""

    time: str
    status: str
    # Status values that mean the event happened; none given: a yes/no status's yes (a coded
    # status must name its codes: check_against_dictionary refuses it otherwise).
    event_values: tuple[Any, ...] = ()
    label: str | None = None
    # The unit the time column is in (a key of TIME_UNITS), as the data dictionary declares it.
    unit: str | None = None


@dataclass(frozen=True)
class Endpoint:
    """A time-to-event endpoint (ADaM ADTTE style): origin, events, censoring, competing events."""

    name: str
    label: str
    short: str
    description: str | None
    unit: str
    landmarks: tuple[Landmark, ...]
    population: str | None = None
    # From dates:
    origin: str | None = None
    events: tuple[EventSource, ...] = ()
    censor: str | None = None
    competing: tuple[EventSource, ...] = ()
    # Or given directly:
    status_event: StatusSource | None = None
    status_competing: StatusSource | None = None
    competing_label: str | None = None

    @property
    def from_dates(self) -> bool:
        return self.origin is not None

    @property
    def has_competing_events(self) -> bool:
        return bool(self.competing) or self.status_competing is not None

    @property
    def competing_text(self) -> str:
        """What competes, in words ("death")."""
        if self.competing_label:
            return self.competing_label
        labels = [s.label for s in self.competing if s.label]
        return " or ".join(labels) if labels else "another event"

    @property
    def columns(self) -> tuple[str, ...]:
        if self.from_dates:
            return (self.origin, self.censor, *(s.date for s in self.events + self.competing))
        sources = [s for s in (self.status_event, self.status_competing) if s is not None]
        return tuple(c for s in sources for c in (s.time, s.status))


@dataclass(frozen=True)
class ComparisonSpec:
    """An endpoint compared across the levels of a variable, against a reference level."""

    name: str
    endpoint: str
    by: str
    # Level code -> label, in display order; None: the dictionary's order and labels.
    levels: Mapping[str, str] | None
    reference: str | None
    strata: str | None = None
    hazard_ratios: bool = True
    # Methods a reviewer asks for, each optional (issue 16):
    # a landmark analysis from this time (patients alive then, time from it),
    # with a time-dependent Cox model whose covariate switches on at the date
    # in ``known_from`` (or at the landmark when no date is recorded);
    landmark: Landmark | None = None
    known_from: str | None = None
    # restricted mean survival time to this horizon, per group and between groups;
    rmst: Landmark | None = None
    # and survival at the endpoint's landmark compared between two groups.
    fixed_time: bool = False
    # Fine-Gray subdistribution hazard ratios against the reference (competing-risk endpoints).
    fine_gray: bool = False


@dataclass(frozen=True)
class ModelSpec:
    """A multivariable Cox model: an endpoint and its covariates (categories against their reference level)."""

    name: str
    endpoint: str
    covariates: tuple[str, ...]
    # Covariate -> reference level; default: "no" for yes/no, else the dictionary's first category.
    references: Mapping[str, str] = field(default_factory=dict)
    ties: str = "efron"


@dataclass(frozen=True)
class ProportionSpec:
    """A binary outcome: patients with ``count`` among patients with ``among`` (everyone if None)."""

    name: str
    count: str
    among: str | None
    method: str


@dataclass(frozen=True)
class OutcomeRow:
    """One declared row (or block of rows) of the outcomes table."""

    kind: str
    name: str
    among: str | None = None
    at: Landmark | None = None
    label: str | None = None
    indent: int = 0


@dataclass(frozen=True)
class Death:
    """How death is recorded: the date, the vital-status column and its 'dead' code, the last-contact date."""

    date: str
    status: str
    dead: Any
    last_contact: str


@dataclass(frozen=True)
class CheckRule:
    """A study-specific rule: one Great Expectations expectation with its words."""

    rule: str
    type: str
    kwargs: Mapping[str, Any]
    description: str
    severity: str
    row_condition: str | None = None
    section: str = "Consistency between columns"


@dataclass(frozen=True)
class StudySettings:
    """The ``study:`` block of study.yml.

    Paths are as written in the file (relative to the study file's folder) or,
    for ``data``, as given in the environment variable ``DATA``. Scalar
    settings this class does not name (a study's thresholds) are kept in
    ``extra``, read as attributes too, and usable as ``@name`` in expressions.
    """

    path: Path
    data: Path
    dictionary: Path
    example_data: Path | None
    sheet: str | None
    ci_transform: str
    conf_level: float
    window_start: dt.date | None = None
    window_end: dt.date | None = None
    cutoff_date: dt.date | None = None
    entry_date: str | None = None
    landmark_days: float | None = None
    word_limit: int | None = None
    # How every date in the report prints (strftime): the abstract's, the methods' and the footer's.
    date_format: str = "%d.%m.%Y"
    # Between the ends of every range the report prints (formatting.RANGE_DASHES).
    range_dash: str = "-"
    # How every p-value prints: a journal's style by name, or digits and threshold.
    p_value_style: PValueStyle = PValueStyle()
    definitions: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    characteristics: tuple[str, ...] = ()
    characteristics_by: str | None = None
    characteristics_test: bool = False
    endpoints: Mapping[str, Endpoint] = field(default_factory=dict)
    comparisons: Mapping[str, ComparisonSpec] = field(default_factory=dict)
    proportions: Mapping[str, ProportionSpec] = field(default_factory=dict)
    models: Mapping[str, ModelSpec] = field(default_factory=dict)
    outcomes: tuple[OutcomeRow, ...] = ()
    death: Death | None = None
    checks: tuple[CheckRule, ...] = ()
    # A REDCap project's data dictionary (CSV): `data` is then that project's raw export.
    redcap_dictionary: Path | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)
    # The file as read, with the line of every key, for messages about the declarations.
    source: ConfigFile | None = field(default=None, repr=False, compare=False)

    def __getattr__(self, name: str) -> Any:
        # Only called for names that are not fields; dunder lookups (copy,
        # pickle) must fail normally before ``extra`` exists.
        if name.startswith("__") or name == "extra":
            raise AttributeError(name)
        try:
            return self.extra[name]
        except KeyError:
            raise AttributeError(f"study.yml has no setting study.{name}") from None

    @property
    def number_style(self) -> NumberStyle:
        """How the report prints ranges and p-values; :class:`analysis.study.Study` prints in it."""
        return NumberStyle(range_dash=self.range_dash, p_value=self.p_value_style)

    def parameters(self) -> dict[str, Any]:
        """The scalar settings by name, for ``@name`` in the definitions' expressions."""
        settings = {name: getattr(self, name) for name in self.__dataclass_fields__ if name not in ("extra", "source")}
        settings.update(self.extra)
        return {
            name: value
            for name, value in settings.items()
            if isinstance(value, (int, float, str, dt.date)) and not isinstance(value, bool)
        }

    def error(self, key: str, message: str) -> StudySettingsError:
        """An error about ``study.<key>``, naming the file and the key's line."""
        key = f"study.{key}"
        where = self.source.where(key) if self.source is not None else str(self.path)
        return StudySettingsError(f"{where}: {_keyed(key, message)}")


# -- reading --------------------------------------------------------------------


def _keyed(key: str, message: str) -> str:
    """"study.x must be a number", "study.x: 'y' is not declared": the key reads as the sentence's subject."""
    return f"{key} {message}" if message.startswith(("is ", "must ")) else f"{key}: {message}"


class _Block:
    """One mapping of the configuration and where it sits, for messages naming file, line and key.

    The schema (analysis.schema) has checked its keys and the types of its
    values already: a block reads values and checks what they mean.
    """

    def __init__(self, source: ConfigFile, key: str, value: dict):
        self.source, self.key, self.value = source, key, value

    def error(self, name: str | None, message: str) -> StudySettingsError:
        key = self.key if name is None else f"{self.key}.{name}"
        return StudySettingsError(f"{self.source.where(key)}: {_keyed(key, message)}")

    def get(self, name: str, default: Any = None) -> Any:
        value = self.value.get(name)
        return default if value is None else value

    def text(self, name: str, default: str | None = None, required: bool = False) -> str | None:
        value = self.value.get(name)
        if value is None:
            if required:
                raise self.error(name, "is missing")
            return default
        return str(value)

    def number(self, name: str, kind: type = float) -> Any:
        value = self.value.get(name)
        return None if value is None else kind(value)

    def date(self, name: str) -> dt.date | None:
        value = self.value.get(name)
        if isinstance(value, dt.datetime):
            return value.date()
        if isinstance(value, str):
            return dt.date.fromisoformat(value)
        return value

    def items(self, name: str) -> list:
        value = self.value.get(name)
        if value is None:
            return []
        return value if isinstance(value, list) else [value]

    def child(self, name: str, value: Any = None) -> _Block:
        return _Block(self.source, f"{self.key}.{name}", self.value.get(name) if value is None else value)


_LANDMARK = re.compile(LANDMARK_PATTERN)


def _landmark(value: Any) -> Landmark:
    """A landmark as the schema allows it: days as a number, or "2 years"."""
    if isinstance(value, (int, float)):
        return Landmark(float(value), "days")
    match = _LANDMARK.match(str(value))
    unit = match[2] if match[2].endswith("s") else match[2] + "s"
    return Landmark(float(match[1]), unit)


def _level_code(value: Any) -> str:
    # YAML reads yes/no/true/false keys as booleans; levels of a yes/no variable are "yes" and "no".
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


def _event_source(block: _Block, name: str, number: int, value: Any) -> EventSource:
    if isinstance(value, str):
        return EventSource(date=value)
    source = block.child(f"{name}[{number}]", value)
    return EventSource(date=source.text("date"), where=source.text("where"), label=source.text("label"))


def _event_sources(block: _Block, name: str) -> list[EventSource]:
    return [_event_source(block, name, number, value) for number, value in enumerate(block.items(name))]


def _endpoint(study: _Block, name: str, default_landmark: float | None) -> Endpoint:
    block = study.child(f"endpoints.{name}", study.get("endpoints")[name])
    landmarks = [_landmark(v) for v in block.items("landmarks")]
    if not landmarks and default_landmark is not None:
        landmarks = [_landmark(default_landmark)]
    label = block.text("label", name.replace("_", " ").capitalize())
    common = dict(
        name=name, label=label, short=block.text("short", label), description=block.text("description"),
        unit=block.text("unit", "months"), landmarks=tuple(landmarks), population=block.text("population"),
        competing_label=block.text("competing_label"),
    )
    if block.get("origin") is not None:
        if block.get("time") is not None or block.get("status") is not None:
            raise block.error("origin", "give either origin/events/censor (dates) or time/status, not both")
        events = _event_sources(block, "events")
        if not events:
            raise block.error("events", "is missing: at least one event source (a date column) is needed")
        return Endpoint(**common, origin=block.text("origin"), events=tuple(events),
                        censor=block.text("censor", required=True), competing=tuple(_event_sources(block, "competing")))
    if block.get("time") is None or block.get("status") is None:
        raise block.error(None, "give either origin, events and censor (dates) or time and status (columns)")
    event = StatusSource(time=block.text("time"), status=block.text("status"),
                         event_values=tuple(block.items("event_values") or ()))
    competing = block.get("competing")
    if competing is None:
        return Endpoint(**common, status_event=event)
    if not isinstance(competing, dict):
        raise block.error("competing", "with time and status, give one mapping {time:, status:, event_values:}")
    source = block.child("competing")
    status_competing = StatusSource(time=source.text("time"), status=source.text("status"),
                                    event_values=tuple(source.items("event_values") or ()),
                                    label=source.text("label"))
    return Endpoint(**common, status_event=event, status_competing=status_competing)


def _comparison(study: _Block, name: str, endpoints: Mapping[str, Endpoint]) -> ComparisonSpec:
    block = study.child(f"comparisons.{name}", study.get("comparisons")[name])
    endpoint = block.text("endpoint")
    if endpoint not in endpoints:
        raise block.error("endpoint", f"{endpoint!r} is not a declared endpoint ({', '.join(endpoints) or 'none'})")
    levels = block.get("levels")
    levels = {_level_code(k): str(v) for k, v in levels.items()} if levels else None
    reference = block.get("reference")
    reference = _level_code(reference) if reference is not None else None
    if levels is not None and reference is not None and reference not in levels:
        raise block.error("reference", f"{reference!r} is not one of the levels {list(levels)}")
    return ComparisonSpec(name=name, endpoint=endpoint, by=block.text("by"), levels=levels,
                          reference=reference, strata=block.text("strata"),
                          hazard_ratios=block.get("hazard_ratios", True), **_comparison_methods(block, endpoints))


def _comparison_methods(block: _Block, endpoints: Mapping[str, Endpoint]) -> dict:
    """The optional methods of a comparison: landmark, known_from, rmst, fixed_time, fine_gray."""
    endpoint = endpoints[block.text("endpoint")]
    methods = dict(
        landmark=_landmark(block.get("landmark")) if block.get("landmark") is not None else None,
        known_from=block.text("known_from"),
        rmst=_landmark(block.get("rmst")) if block.get("rmst") is not None else None,
        fixed_time=bool(block.get("fixed_time", False)),
        fine_gray=bool(block.get("fine_gray", False)),
    )
    if methods["known_from"] is not None and methods["landmark"] is None:
        raise block.error("known_from", "needs a landmark: the time-dependent model goes with the landmark analysis")
    survival_only = [key for key in ("landmark", "rmst", "fixed_time") if methods[key]]
    if endpoint.has_competing_events and survival_only:
        raise block.error(survival_only[0], f"is for survival endpoints; {endpoint.name!r} has competing events")
    if methods["fine_gray"] and not endpoint.has_competing_events:
        raise block.error("fine_gray", f"is for endpoints with competing events; {endpoint.name!r} has none "
                                       "(its Cox hazard ratios are the comparison's hazard_ratios)")
    return methods


def _model(study: _Block, name: str, endpoints: Mapping[str, Endpoint]) -> ModelSpec:
    block = study.child(f"models.{name}", study.get("models")[name])
    endpoint = block.text("endpoint")
    if endpoint not in endpoints:
        raise block.error("endpoint", f"{endpoint!r} is not a declared endpoint ({', '.join(endpoints) or 'none'})")
    if endpoints[endpoint].has_competing_events:
        raise block.error("endpoint", f"{endpoint!r} has competing events; a Cox model needs a survival endpoint")
    covariates = [str(c) for c in block.items("covariates")]
    if not covariates:
        raise block.error("covariates", "is missing: name at least one column or definition")
    references = {str(k): _level_code(v) for k, v in block.get("references", {}).items()}
    unknown = sorted(set(references) - set(covariates))
    if unknown:
        raise block.error("references", f"{unknown} are not among the covariates {covariates}")
    return ModelSpec(name=name, endpoint=endpoint, covariates=tuple(covariates), references=references,
                     ties=block.text("ties", "efron"))


def _proportion(study: _Block, name: str) -> ProportionSpec:
    block = study.child(f"proportions.{name}", study.get("proportions")[name])
    return ProportionSpec(name=name, count=block.text("count"), among=block.text("among"),
                          method=block.text("method", "clopper-pearson"))


def _outcome(study: _Block, number: int, value: Any, settings: dict) -> OutcomeRow:
    block = study.child(f"outcomes[{number}]", value)
    kinds = [k for k in OUTCOME_KINDS if k in block.value]
    if len(kinds) != 1:
        raise block.error(None, f"each row names exactly one of {', '.join(OUTCOME_KINDS)}, got {value!r}")
    kind = kinds[0]
    name = block.text(kind)
    known = {
        "proportion": settings["proportions"], "survival": settings["endpoints"],
        "cumulative_incidence": settings["endpoints"], "median": settings["endpoints"],
        "follow_up": settings["endpoints"], "comparison": settings["comparisons"],
    }.get(kind)
    if known is not None and name not in known:
        raise block.error(kind, f"{name!r} is not declared (declared: {', '.join(known) or 'none'})")
    if kind == "cumulative_incidence" and not settings["endpoints"][name].has_competing_events:
        raise block.error(kind, f"endpoint {name!r} declares no competing events")
    at = _landmark(block.get("at")) if block.get("at") is not None else None
    return OutcomeRow(kind=kind, name=name, among=block.text("among"), at=at, label=block.text("label"),
                      indent=block.number("indent", int) or 0)


_PARAMETER = re.compile(r"@(\w+)")


def _parameter(block: _Block, name: str, parameters: Mapping[str, Any]) -> Any:
    if name not in parameters:
        raise block.error(None, f"@{name} is not a setting of the study block")
    return parameters[name]


def _substitute(block: _Block, text: str, parameters: Mapping[str, Any]) -> str:
    """``@name`` in a check's condition or description replaced by the setting's value."""
    def value(match: re.Match) -> str:
        setting = _parameter(block, match[1], parameters)
        return f"{setting:g}" if isinstance(setting, float) else str(setting)
    return _PARAMETER.sub(value, text)


def _setting(block: _Block, value: Any, parameters: Mapping[str, Any]) -> Any:
    """An argument written "@name" is the setting's value, typed (a threshold as a number)."""
    if isinstance(value, str) and (match := re.fullmatch(r"@(\w+)", value)):
        return _parameter(block, match[1], parameters)
    return value


def _check(study: _Block, number: int, value: Any, parameters: Mapping[str, Any]) -> CheckRule:
    block = study.child(f"checks[{number}]", value)
    condition = block.text("row_condition")
    return CheckRule(
        rule=block.text("rule"), type=block.text("type"),
        kwargs={key: _setting(block.child(f"kwargs.{key}", {}), argument, parameters)
                for key, argument in block.get("kwargs", {}).items()},
        description=_substitute(block.child("description", {}), block.text("description"), parameters),
        severity=block.text("severity", "error"),
        row_condition=_substitute(block.child("row_condition", {}), condition, parameters) if condition else None,
    )


_KNOWN = frozenset(StudySettings.__dataclass_fields__) - {"path", "extra", "source"}


def _p_value_style(study: _Block) -> PValueStyle:
    """``p_value_style``: a name in formatting.P_VALUE_STYLES, or ``{digits, below, small_digits}``."""
    value = study.get("p_value_style")
    if value is None:
        return StudySettings.p_value_style
    if isinstance(value, str):
        return P_VALUE_STYLES[value]
    # Without a threshold, the smallest value the decimals can print: "p<0.01" with two.
    below = 10.0 ** -(value.get("small_digits") or value["digits"])
    try:
        return PValueStyle(**{"below": below, **value})
    except ValueError as error:
        raise study.error("p_value_style", str(error)) from None


def _redcap_dictionary(raw: Mapping[str, Any]) -> Path | None:
    # As DATA: the variable is a path from where the command runs, study.yml's from the study's folder.
    if os.environ.get("REDCAP_DICTIONARY"):
        return Path(os.environ["REDCAP_DICTIONARY"]).resolve()
    given = raw.get("redcap_dictionary")
    return Path(given) if given else None


def load_study(path: str | Path = "study.yml") -> StudySettings:
    """Read the study settings and declarations, the ``study:`` block of study.yml.

    The file is first checked against :data:`analysis.schema.STUDY_SCHEMA`
    (every problem at once, each with its line); then the declarations'
    references to one another, the study window and the files it names.
    The environment variable ``DATA``, when set and not empty, replaces the
    ``data`` setting (``DATA=other.csv make report``); ``REDCAP_DICTIONARY``
    likewise replaces ``redcap_dictionary``.

    Raises
    ------
    StudySettingsError
        Missing file or setting, an unknown key (with the known key it most
        resembles), a value of the wrong kind, a study window that ends before
        it starts or after the cut-off, a declaration that refers to something
        not declared, a data or dictionary file that is not there. The message
        names the file, the line and the key.

    Examples
    --------
    >>> settings = load_study("study.yml")
    >>> settings.ci_transform, settings.endpoints["overall_survival"].landmarks[0].text
    ('linear', '2 years')
    >>> settings.window_start <= settings.window_end <= settings.cutoff_date
    True
    """
    path = Path(path)
    source = read_config(path, StudySettingsError, "study file")
    validate(source, STUDY_SCHEMA, StudySettingsError)
    raw = source.data["study"]
    study = _Block(source, "study", raw)

    landmark_days = study.number("landmark_days")
    endpoints = {str(name): _endpoint(study, name, landmark_days) for name in study.get("endpoints", {})}
    from_dates = [name for name, endpoint in endpoints.items() if endpoint.from_dates]
    if from_dates and raw.get("cutoff_date") is None:
        first = f"study.endpoints.{from_dates[0]}"
        raise study.error("cutoff_date", f"is missing: {first} (line {source.line(first)}) runs from dates, "
                                         "which the data cut-off ends")
    comparisons = {str(name): _comparison(study, name, endpoints) for name in study.get("comparisons", {})}
    proportions = {str(name): _proportion(study, name) for name in study.get("proportions", {})}
    models = {str(name): _model(study, name, endpoints) for name in study.get("models", {})}
    declared = {"endpoints": endpoints, "comparisons": comparisons, "proportions": proportions}
    outcomes = tuple(_outcome(study, i, row, declared) for i, row in enumerate(study.items("outcomes")))
    definitions = {str(name): {"label": str(definition.get("label") or name), "where": str(definition["where"])}
                   for name, definition in study.get("definitions", {}).items()}
    death = None
    if raw.get("death") is not None:
        block = study.child("death")
        death = Death(date=block.text("date"), status=block.text("status"), dead=block.get("dead", "dead"),
                      last_contact=block.text("last_contact"))

    extra = {k: v for k, v in raw.items() if k not in _KNOWN}
    settings = StudySettings(
        path=path,
        # DATA is a path from where the command runs; study.yml's, from the study's folder.
        data=Path(os.environ["DATA"]).resolve() if os.environ.get("DATA") else Path(raw["data"]),
        dictionary=Path(raw["dictionary"]),
        example_data=Path(raw["example_data"]) if raw.get("example_data") else None,
        sheet=str(raw["sheet"]) if raw.get("sheet") is not None else None,
        ci_transform=str(raw["ci_transform"]),
        conf_level=study.number("conf_level"),
        window_start=study.date("window_start"),
        window_end=study.date("window_end"),
        cutoff_date=study.date("cutoff_date"),
        entry_date=study.text("entry_date"),
        landmark_days=landmark_days,
        word_limit=study.number("word_limit", int),
        date_format=str(raw.get("date_format") or StudySettings.date_format),
        range_dash=str(raw.get("range_dash") or StudySettings.range_dash),
        p_value_style=_p_value_style(study),
        definitions=definitions,
        characteristics=tuple(str(c) for c in study.items("characteristics")),
        characteristics_by=study.text("characteristics_by"),
        characteristics_test=study.get("characteristics_test", False),
        endpoints=endpoints,
        comparisons=comparisons,
        proportions=proportions,
        models=models,
        outcomes=outcomes,
        death=death,
        redcap_dictionary=_redcap_dictionary(raw),
        extra=extra,
        source=source,
    )
    # The checks' words use the settings' values (@name), so they are read last.
    parameters = settings.parameters()
    checks = tuple(_check(study, number, value, parameters) for number, value in enumerate(study.items("checks")))
    seen: dict[str, int] = {}
    for number, check in enumerate(checks):
        if check.rule in seen:
            raise study.error(f"checks[{number}].rule", f"{check.rule!r} is already the name of checks[{seen[check.rule]}]; "
                                                        "rule names must be unique")
        seen[check.rule] = number
    settings = replace(settings, checks=checks)

    window = (settings.window_start, settings.window_end)
    if any(d is not None for d in window):
        if None in window:
            raise study.error("window_end" if settings.window_end is None else "window_start",
                              "is missing: study.window_start and study.window_end go together")
        if not settings.window_start <= settings.window_end <= (settings.cutoff_date or settings.window_end):
            raise study.error("window_end", "must lie between study.window_start and study.cutoff_date: expected "
                              f"window_start <= window_end <= cutoff_date, got {settings.window_start}, "
                              f"{settings.window_end}, {settings.cutoff_date}")
    _check_files(study, settings)
    return settings


def _check_files(study: _Block, settings: StudySettings) -> None:
    """The dictionary, and the cohort file unless DATA names another, are where study.yml says.

    Relative paths are read from the study file's folder, as the report reads them.
    """
    folder = settings.path.resolve().parent
    named = [("dictionary", settings.dictionary)]
    if not os.environ.get("DATA"):
        named.insert(0, ("data", settings.data))
    for key, name in named:
        if not (folder / name).is_file():
            raise study.error(key, f"file '{name}' not found (looked in {folder})")


# -- against the dictionary -------------------------------------------------------------


def check_against_dictionary(settings: StudySettings, dictionary) -> None:
    """Every column a declaration names is in the data dictionary, with a type that fits.

    Raises StudySettingsError naming the file and the key.
    """
    columns = {c.name: c for c in dictionary.columns}
    definitions = settings.definitions

    def column(key: str, name: str | None, *types: str) -> None:
        if name is None:
            return
        if name not in columns:
            close = difflib.get_close_matches(name, list(columns), n=1)
            raise settings.error(key, f"{name!r} is not a column of the data dictionary {dictionary.path or ''}".rstrip()
                                 + (f"; did you mean {close[0]}?" if close else ""))
        if types and columns[name].type not in types:
            raise settings.error(key, f"column {name!r} is {columns[name].type}, expected {' or '.join(types)}")

    def variable(key: str, name: str | None, *types: str) -> None:
        if name is not None and name not in definitions:
            column(key, name, *types)

    def expression(key: str, text: str) -> None:
        """A pandas expression names only columns of the dictionary, and @settings of the study block."""
        for name in _PARAMETER.findall(text):
            if name not in parameters:
                raise settings.error(key, f"@{name} is not a setting of the study block")
        try:
            # pandas' @name is not Python; the setting stands in as a number for the parse.
            tree = ast.parse(_PARAMETER.sub("0", text).strip(), mode="eval")
        except SyntaxError as problem:
            raise settings.error(key, f"{text!r} is not a valid expression ({problem.msg})") from None
        for name in sorted({node.id for node in ast.walk(tree) if isinstance(node, ast.Name)}):
            if name not in columns:
                close = difflib.get_close_matches(name, list(columns), n=1)
                hint = f"; did you mean {close[0]}?" if close else ""
                raise settings.error(key, f"{name!r} in {text!r} is not a column of the data dictionary{hint}")

    def condition(key: str, text: str | None) -> None:
        # A bare name must be a yes/no variable; anything else is a pandas expression.
        if text is None:
            return
        if re.fullmatch(r"\w+", text):
            variable(key, text, "boolean")
        else:
            expression(key, text)

    parameters = settings.parameters()
    for name, definition in definitions.items():
        expression(f"definitions.{name}.where", definition["where"])

    column("entry_date", settings.entry_date, "date")
    for number, name in enumerate(settings.characteristics):
        variable(f"characteristics[{number}]", name)
    variable("characteristics_by", settings.characteristics_by, "boolean", "category")
    for name, endpoint in settings.endpoints.items():
        key = f"endpoints.{name}"
        condition(f"{key}.population", endpoint.population)
        if endpoint.from_dates:
            column(f"{key}.origin", endpoint.origin, "date")
            column(f"{key}.censor", endpoint.censor, "date")
            for kind, sources in (("events", endpoint.events), ("competing", endpoint.competing)):
                for number, source in enumerate(sources):
                    column(f"{key}.{kind}[{number}].date", source.date, "date")
                    condition(f"{key}.{kind}[{number}].where", source.where)
        else:
            for where, source in ((key, endpoint.status_event), (f"{key}.competing", endpoint.status_competing)):
                if source is not None:
                    column(f"{where}.time", source.time, "integer", "float")
                    column(f"{where}.status", source.status, "boolean", "integer", "category")
                    _time_unit_declared(settings, f"{where}.time", columns[source.time], dictionary)
                    _event_codes(settings, where, columns[source.status], source.event_values)
    for name, comparison in settings.comparisons.items():
        key = f"comparisons.{name}"
        variable(f"{key}.by", comparison.by, "boolean", "category")
        variable(f"{key}.strata", comparison.strata, "boolean", "category")
        column(f"{key}.known_from", comparison.known_from, "date")
        # A yes/no variable (a boolean column or a definition) has the levels yes and no.
        is_category = comparison.by not in definitions and columns[comparison.by].type == "category"
        codes = list(columns[comparison.by].values) if is_category else ["yes", "no"]
        for level in comparison.levels or ():
            if level not in codes:
                raise settings.error(f"{key}.levels.{level}", f"{level!r} is not a level of {comparison.by!r} "
                                                              f"({', '.join(codes)})")
        if comparison.reference is not None and comparison.reference not in codes:
            raise settings.error(f"{key}.reference", f"{comparison.reference!r} is not a level of {comparison.by!r} "
                                                     f"({', '.join(codes)})")
    for name, model in settings.models.items():
        for covariate in model.covariates:
            variable(f"models.{name}.covariates", covariate)
        for covariate, level in model.references.items():
            if covariate in columns and columns[covariate].type == "category" and level not in columns[covariate].values:
                raise settings.error(f"models.{name}.references", f"level {level!r} is not a code of column "
                                     f"{covariate!r} ({list(columns[covariate].values)})")
    for name, spec in settings.proportions.items():
        variable(f"proportions.{name}.count", spec.count, "boolean")
        variable(f"proportions.{name}.among", spec.among, "boolean")
    for number, row in enumerate(settings.outcomes):
        if row.kind == "count":
            variable(f"outcomes[{number}].count", row.name, "boolean")
        if row.kind == "categories":
            column(f"outcomes[{number}].categories", row.name, "category")
        variable(f"outcomes[{number}].among", row.among, "boolean")
    if settings.death is not None:
        column("death.date", settings.death.date, "date")
        column("death.status", settings.death.status)
        column("death.last_contact", settings.death.last_contact, "date")


# -- time columns ---------------------------------------------------------------------


def time_unit(text: str | None) -> str | None:
    """The key of :data:`TIME_UNITS` a dictionary's ``unit`` names ("Months", "month"), else None.

    Examples
    --------
    >>> time_unit("Months"), time_unit("day"), time_unit("%"), time_unit(None)
    ('months', 'days', None, None)
    """
    if text is None:
        return None
    word = str(text).strip().lower()
    word = word if word.endswith("s") else word + "s"
    return word if word in TIME_UNITS else None


def integer_code(value: Any) -> int | None:
    """A status code as YAML may write it for an integer column, 1 or '1'; None for anything else.

    Examples
    --------
    >>> integer_code(1), integer_code(" 2 "), integer_code("Dead"), integer_code(True)
    (1, 2, None, None)
    """
    text = str(value).strip()
    return int(text) if not isinstance(value, bool) and re.fullmatch(r"-?\d+", text) else None


def _event_codes(settings: StudySettings, key: str, spec, given: tuple[Any, ...]) -> None:
    """A coded status names the code(s) of an event, each a code the column has: a wrong or missing
    code would count no events and print 100% survival without a word.

    A yes/no status needs none (yes is the event). Codes are compared as text, so
    YAML's 1 and '1' are the same code.
    """
    if spec.type == "boolean":
        return
    codes = {str(code): str(label) for code, label in (spec.values or {}).items()}
    listed = ", ".join(f"{code} ({label})" for code, label in codes.items())
    if not given:
        raise settings.error(f"{key}.status", f"column {spec.name!r} is coded ({spec.type}): give event_values, "
                                              "the code(s) that mean the event happened"
                                              + (f"; its codes: {listed}" if codes else ""))
    for value in given:
        text = str(value).strip()
        if codes and text not in codes:
            by_label = {label.lower(): code for code, label in codes.items()}
            hint = (f"; did you mean {by_label[text.lower()]!r}, the code of {text!r}?" if text.lower() in by_label
                    else "")
            raise settings.error(f"{key}.event_values", f"{value!r} is not a code of column {spec.name!r} "
                                                        f"(codes: {listed}){hint}")
        if not codes and spec.type == "integer" and integer_code(value) is None:
            raise settings.error(f"{key}.event_values", f"{value!r} is not a code of the integer column {spec.name!r}")


def _time_unit_declared(settings: StudySettings, key: str, spec, dictionary) -> None:
    """An endpoint's time column declares the unit its times are in: never silently days."""
    if time_unit(spec.unit) is not None:
        return
    problem = "is missing" if spec.unit is None else f"{spec.unit!r} is not a unit of time"
    where = settings.source.where(f"study.{key}") if settings.source is not None else str(settings.path)
    raise StudySettingsError(
        f"{dictionary.where(spec.name, 'unit')}: column {spec.name!r} unit {problem}: it holds the times of "
        f"study.{key} ({where}), read in that unit and never assumed to be days; give unit: days, weeks, "
        "months or years, whichever the file's times are in (a month is 365.25/12 days, a year 365.25)")


def with_time_units(settings: StudySettings, dictionary) -> StudySettings:
    """The settings whose time-and-status endpoints know the unit of each time column, from the dictionary.

    :func:`check_against_dictionary` has checked that every such column declares one;
    :func:`analysis.endpoints.time_to_event` converts the times to days with it.
    """
    def sourced(source: StatusSource | None) -> StatusSource | None:
        return None if source is None else replace(source, unit=time_unit(dictionary.column(source.time).unit))

    endpoints = {name: endpoint if endpoint.from_dates else
                 replace(endpoint, status_event=sourced(endpoint.status_event),
                         status_competing=sourced(endpoint.status_competing))
                 for name, endpoint in settings.endpoints.items()}
    return replace(settings, endpoints=endpoints)
