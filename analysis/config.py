"""The study's configuration: the ``study:`` block of study.yml, read and checked.

A study is declared, not programmed. The block names the cohort file and its
dictionary, the general settings (cut-off, confidence level, CI transform),
and the study's declarations in its own words:

* ``definitions``: derived yes/no variables (a pandas expression each);
* ``endpoints``: time-to-event endpoints, from dates (an origin, event
  sources, a censoring date, optional competing events and population) as
  pharmaverse admiral's ``derive_param_tte`` describes them, or given directly
  as a time column and a status column;
* ``comparisons``: an endpoint compared across the levels of a variable;
* ``proportions``: a binary outcome counted among a population;
* ``models``: multivariable Cox models (an endpoint and its covariates);
* ``characteristics`` and ``outcomes``: the rows of Table 1 and Table 2;
* ``death``, ``entry_date``: what the date-order checks derive their rules from;
* ``checks``: the study's own cross-column rules, as Great Expectations
  expectations.

Every problem is a :class:`StudySettingsError` whose message names the file
and the key (``study.yml: study.endpoints.os.origin: ...``). Names of columns
are checked against the data dictionary by :func:`check_against_dictionary`.
"""

from __future__ import annotations

import datetime as dt
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import yaml

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
]

CI_TRANSFORMS = ("linear", "log", "log-log", "logit", "arcsine")
# Days per display unit; a year is 365.25 days, a month a twelfth of it.
TIME_UNITS = {"days": 1.0, "months": 365.25 / 12, "years": 365.25}
SEVERITIES = ("error", "warning")
OUTCOME_KINDS = ("proportion", "count", "categories", "survival", "cumulative_incidence", "comparison",
                 "median", "follow_up")


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
    # Status values that mean the event happened (a yes/no status: yes).
    event_values: tuple[Any, ...] = (True,)
    label: str | None = None


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

    def __getattr__(self, name: str) -> Any:
        # Only called for names that are not fields; dunder lookups (copy,
        # pickle) must fail normally before ``extra`` exists.
        if name.startswith("__") or name == "extra":
            raise AttributeError(name)
        try:
            return self.extra[name]
        except KeyError:
            raise AttributeError(f"study.yml has no setting study.{name}") from None

    def parameters(self) -> dict[str, Any]:
        """The scalar settings by name, for ``@name`` in the definitions' expressions."""
        settings = {name: getattr(self, name) for name in self.__dataclass_fields__ if name != "extra"}
        settings.update(self.extra)
        return {
            name: value
            for name, value in settings.items()
            if isinstance(value, (int, float, str, dt.date)) and not isinstance(value, bool)
        }

    def error(self, key: str, message: str) -> StudySettingsError:
        return StudySettingsError(f"{self.path}: {_keyed(f'study.{key}', message)}")


# -- reading --------------------------------------------------------------------


def _keyed(key: str, message: str) -> str:
    """"study.x must be a number", "study.x: 'y' is not declared": the key reads as the sentence's subject."""
    return f"{key} {message}" if message.startswith(("is ", "must ")) else f"{key}: {message}"


class _Block:
    """One mapping of the configuration and where it sits, for messages naming file and key."""

    def __init__(self, path: Path, key: str, value: Any):
        if not isinstance(value, dict):
            raise StudySettingsError(f"{path}: {key} must be a mapping of settings, got {value!r}")
        self.path, self.key, self.value = path, key, value

    def error(self, name: str, message: str) -> StudySettingsError:
        return StudySettingsError(f"{self.path}: {_keyed(f'{self.key}.{name}', message)}")

    def allow(self, *names: str) -> None:
        unknown = sorted(set(map(str, self.value)) - set(names))
        if unknown:
            raise StudySettingsError(
                f"{self.path}: {self.key}: unknown key(s) {unknown}; allowed: {', '.join(names)}"
            )

    def get(self, name: str, default: Any = None) -> Any:
        value = self.value.get(name)
        return default if value is None else value

    def text(self, name: str, default: str | None = None, required: bool = False) -> str | None:
        value = self.value.get(name)
        if value is None:
            if required:
                raise self.error(name, "is missing")
            return default
        if isinstance(value, (dict, list)):
            raise self.error(name, f"must be a single name or text, got {value!r}")
        return str(value)

    def number(self, name: str, kind: type = float) -> Any:
        value = self.value.get(name)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise self.error(name, f"must be a number, got {value!r}")
        if kind is int and value != int(value):
            raise self.error(name, f"must be a whole number, got {value!r}")
        return kind(value)

    def date(self, name: str) -> dt.date | None:
        value = self.value.get(name)
        if value is None:
            return None
        if isinstance(value, dt.datetime):
            return value.date()
        if isinstance(value, dt.date):
            return value
        try:
            return dt.date.fromisoformat(str(value))
        except ValueError:
            raise self.error(name, f"must be a date YYYY-MM-DD, got {value!r}") from None

    def flag(self, name: str, default: bool) -> bool:
        value = self.value.get(name)
        if value is None:
            return default
        if not isinstance(value, bool):
            raise self.error(name, f"must be true or false, got {value!r}")
        return value

    def mapping(self, name: str) -> dict:
        value = self.value.get(name)
        if value is None:
            return {}
        if not isinstance(value, dict):
            raise self.error(name, f"must be a mapping (name: settings), got {value!r}")
        return value

    def items(self, name: str) -> list:
        value = self.value.get(name)
        if value is None:
            return []
        return value if isinstance(value, list) else [value]

    def child(self, name: str, value: Any = None) -> _Block:
        return _Block(self.path, f"{self.key}.{name}", self.value.get(name) if value is None else value)


_LANDMARK = re.compile(r"^\s*([0-9]+(?:\.[0-9]+)?)\s*(day|days|month|months|year|years)\s*$")


def _landmark(block: _Block, name: str, value: Any) -> Landmark:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return Landmark(float(value), "days")
    match = _LANDMARK.match(str(value))
    if not match:
        raise block.error(name, f"must be a time such as '2 years', '6 months' or '100 days', got {value!r}")
    unit = match[2] if match[2].endswith("s") else match[2] + "s"
    return Landmark(float(match[1]), unit)


def _level_code(value: Any) -> str:
    # YAML reads yes/no/true/false keys as booleans; levels of a yes/no variable are "yes" and "no".
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


def _event_source(block: _Block, name: str, value: Any) -> EventSource:
    if isinstance(value, str):
        return EventSource(date=value)
    source = block.child(name, value)
    source.allow("date", "where", "label")
    return EventSource(date=source.text("date", required=True), where=source.text("where"),
                       label=source.text("label"))


def _status_source(block: _Block, name: str, value: Any) -> StatusSource:
    source = block.child(name, value)
    source.allow("time", "status", "event_values", "label")
    values = source.items("event_values") or [True]
    return StatusSource(time=source.text("time", required=True), status=source.text("status", required=True),
                        event_values=tuple(values), label=source.text("label"))


def _endpoint(study: _Block, name: str, default_landmark: float | None) -> Endpoint:
    block = study.child(f"endpoints.{name}", study.mapping("endpoints")[name])
    block.allow("label", "short", "description", "unit", "landmarks", "population", "origin", "events", "censor",
                "competing", "time", "status", "event_values", "competing_label")
    unit = block.text("unit", "months")
    if unit not in TIME_UNITS:
        raise block.error("unit", f"must be one of {', '.join(TIME_UNITS)}, got {unit!r}")
    landmarks = [_landmark(block, "landmarks", v) for v in block.items("landmarks")]
    if not landmarks and default_landmark is not None:
        landmarks = [_landmark(block, "landmarks", default_landmark)]
    label = block.text("label", name.replace("_", " ").capitalize())
    common = dict(
        name=name, label=label, short=block.text("short", label), description=block.text("description"),
        unit=unit, landmarks=tuple(landmarks), population=block.text("population"),
        competing_label=block.text("competing_label"),
    )
    if block.get("origin") is not None:
        if block.get("time") is not None or block.get("status") is not None:
            raise block.error("origin", "give either origin/events/censor (dates) or time/status, not both")
        events = [_event_source(block, "events", v) for v in block.items("events")]
        if not events:
            raise block.error("events", "is missing: at least one event source (a date column) is needed")
        competing = [_event_source(block, "competing", v) for v in block.items("competing")]
        return Endpoint(**common, origin=block.text("origin"), events=tuple(events),
                        censor=block.text("censor", required=True), competing=tuple(competing))
    if block.get("time") is None or block.get("status") is None:
        raise StudySettingsError(
            f"{block.path}: {block.key}: give either origin, events and censor (dates) or time and status (columns)"
        )
    event = StatusSource(time=block.text("time"), status=block.text("status"),
                         event_values=tuple(block.items("event_values") or [True]))
    competing = block.get("competing")
    if isinstance(competing, list):
        raise block.error("competing", "with time and status, give one mapping {time:, status:, event_values:}")
    status_competing = _status_source(block, "competing", competing) if competing is not None else None
    return Endpoint(**common, status_event=event, status_competing=status_competing)


def _comparison(study: _Block, name: str, endpoints: Mapping[str, Endpoint]) -> ComparisonSpec:
    block = study.child(f"comparisons.{name}", study.mapping("comparisons")[name])
    block.allow("endpoint", "by", "levels", "reference", "strata", "hazard_ratios", "landmark", "known_from",
                "rmst", "fixed_time")
    endpoint = block.text("endpoint", required=True)
    if endpoint not in endpoints:
        raise block.error("endpoint", f"{endpoint!r} is not a declared endpoint ({', '.join(endpoints) or 'none'})")
    levels = block.get("levels")
    if levels is not None and not isinstance(levels, dict):
        raise block.error("levels", f"must map each level's code to its label, got {levels!r}")
    levels = {_level_code(k): str(v) for k, v in levels.items()} if levels else None
    reference = block.get("reference")
    reference = _level_code(reference) if reference is not None else None
    if levels is not None and reference is not None and reference not in levels:
        raise block.error("reference", f"{reference!r} is not one of the levels {list(levels)}")
    return ComparisonSpec(name=name, endpoint=endpoint, by=block.text("by", required=True), levels=levels,
                          reference=reference, strata=block.text("strata"),
                          hazard_ratios=block.flag("hazard_ratios", True), **_comparison_methods(block, endpoints))


def _comparison_methods(block: _Block, endpoints: Mapping[str, Endpoint]) -> dict:
    """The optional methods of a comparison: landmark, known_from, rmst, fixed_time."""
    endpoint = endpoints[block.text("endpoint")]
    methods = dict(
        landmark=_landmark(block, "landmark", block.get("landmark")) if block.get("landmark") is not None else None,
        known_from=block.text("known_from"),
        rmst=_landmark(block, "rmst", block.get("rmst")) if block.get("rmst") is not None else None,
        fixed_time=block.flag("fixed_time", False),
    )
    if methods["known_from"] is not None and methods["landmark"] is None:
        raise block.error("known_from", "needs a landmark: the time-dependent model goes with the landmark analysis")
    survival_only = [key for key in ("landmark", "rmst", "fixed_time") if methods[key]]
    if endpoint.has_competing_events and survival_only:
        raise block.error(survival_only[0], f"is for survival endpoints; {endpoint.name!r} has competing events")
    return methods


def _model(study: _Block, name: str, endpoints: Mapping[str, Endpoint]) -> ModelSpec:
    block = study.child(f"models.{name}", study.mapping("models")[name])
    block.allow("endpoint", "covariates", "references", "ties")
    endpoint = block.text("endpoint", required=True)
    if endpoint not in endpoints:
        raise block.error("endpoint", f"{endpoint!r} is not a declared endpoint ({', '.join(endpoints) or 'none'})")
    if endpoints[endpoint].has_competing_events:
        raise block.error("endpoint", f"{endpoint!r} has competing events; a Cox model needs a survival endpoint")
    covariates = [str(c) for c in block.items("covariates")]
    if not covariates:
        raise block.error("covariates", "is missing: name at least one column or definition")
    references = {str(k): _level_code(v) for k, v in block.mapping("references").items()}
    unknown = sorted(set(references) - set(covariates))
    if unknown:
        raise block.error("references", f"{unknown} are not among the covariates {covariates}")
    ties = block.text("ties", "efron")
    if ties not in ("efron", "breslow"):
        raise block.error("ties", f"must be efron or breslow, got {ties!r}")
    return ModelSpec(name=name, endpoint=endpoint, covariates=tuple(covariates), references=references, ties=ties)


def _proportion(study: _Block, name: str) -> ProportionSpec:
    block = study.child(f"proportions.{name}", study.mapping("proportions")[name])
    block.allow("count", "among", "method")
    method = block.text("method", "clopper-pearson")
    if method not in ("clopper-pearson", "wilson"):
        raise block.error("method", f"must be clopper-pearson or wilson, got {method!r}")
    return ProportionSpec(name=name, count=block.text("count", required=True), among=block.text("among"),
                          method=method)


def _outcome(study: _Block, number: int, value: Any, settings: dict) -> OutcomeRow:
    block = study.child(f"outcomes[{number}]", value)
    kinds = [k for k in OUTCOME_KINDS if k in block.value]
    if len(kinds) != 1:
        raise StudySettingsError(
            f"{block.path}: {block.key}: each row names exactly one of {', '.join(OUTCOME_KINDS)}, got {value!r}"
        )
    kind = kinds[0]
    block.allow(kind, "among", "at", "label", "indent")
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
    at = _landmark(block, "at", block.get("at")) if block.get("at") is not None else None
    return OutcomeRow(kind=kind, name=name, among=block.text("among"), at=at, label=block.text("label"),
                      indent=block.number("indent", int) or 0)


def _check(study: _Block, number: int, value: Any) -> CheckRule:
    block = study.child(f"checks[{number}]", value)
    block.allow("rule", "type", "kwargs", "row_condition", "description", "severity")
    severity = block.text("severity", "error")
    if severity not in SEVERITIES:
        raise block.error("severity", f"must be error or warning, got {severity!r}")
    description = block.text("description", required=True)
    if len(description.splitlines()) != 1:
        raise block.error("description", "must be one line")
    kwargs = block.get("kwargs", {})
    if not isinstance(kwargs, dict):
        raise block.error("kwargs", f"must be a mapping of the expectation's arguments, got {kwargs!r}")
    return CheckRule(rule=block.text("rule", required=True), type=block.text("type", required=True),
                     kwargs=dict(kwargs), description=description, severity=severity,
                     row_condition=block.text("row_condition"))


_PARAMETER = re.compile(r"@(\w+)")


def _substitute(block: _Block, text: str, parameters: Mapping[str, Any]) -> str:
    """``@name`` in a check's condition or description replaced by the setting's value."""
    def value(match: re.Match) -> str:
        if match[1] not in parameters:
            raise StudySettingsError(f"{block.path}: {block.key}: @{match[1]} is not a setting of the study block")
        setting = parameters[match[1]]
        return f"{setting:g}" if isinstance(setting, float) else str(setting)
    return _PARAMETER.sub(value, text)


def _setting(block: _Block, value: Any, parameters: Mapping[str, Any]) -> Any:
    """An argument written "@name" is the setting's value, typed (a threshold as a number)."""
    if isinstance(value, str) and (match := re.fullmatch(r"@(\w+)", value)):
        if match[1] not in parameters:
            raise StudySettingsError(f"{block.path}: {block.key}: @{match[1]} is not a setting of the study block")
        return parameters[match[1]]
    return value


_REQUIRED_SETTINGS = ("data", "dictionary", "ci_transform", "conf_level")
_KNOWN = frozenset(StudySettings.__dataclass_fields__) - {"path", "extra"}


def _redcap_dictionary(raw: Mapping[str, Any]) -> Path | None:
    # As DATA: the variable is a path from where the command runs, study.yml's from the study's folder.
    if os.environ.get("REDCAP_DICTIONARY"):
        return Path(os.environ["REDCAP_DICTIONARY"]).resolve()
    given = raw.get("redcap_dictionary")
    return Path(given) if given else None


def load_study(path: str | Path = "study.yml") -> StudySettings:
    """Read the study settings and declarations, the ``study:`` block of study.yml.

    The environment variable ``DATA``, when set and not empty, replaces the
    ``data`` setting (``DATA=other.csv make report``); ``REDCAP_DICTIONARY``
    likewise replaces ``redcap_dictionary``.

    Raises
    ------
    StudySettingsError
        Missing file or setting, a value of the wrong kind, a study window that
        ends before it starts or after the cut-off, an unknown CI transform, a
        declaration that refers to something not declared.

    Examples
    --------
    >>> settings = load_study("study.yml")
    >>> settings.ci_transform, settings.endpoints["overall_survival"].landmarks[0].text
    ('linear', '2 years')
    >>> settings.window_start <= settings.window_end <= settings.cutoff_date
    True
    """
    path = Path(path)
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise StudySettingsError(f"{path}: study file not found") from None
    except yaml.YAMLError as error:
        raise StudySettingsError(f"{path}: not valid YAML: {error}") from None
    raw = document.get("study") if isinstance(document, dict) else None
    if not isinstance(raw, dict):
        raise StudySettingsError(f"{path}: expected a 'study:' block")
    study = _Block(path, "study", raw)
    missing = [name for name in _REQUIRED_SETTINGS if raw.get(name) is None]
    if missing:
        raise StudySettingsError(f"{path}: study.{missing[0]} is missing" + (f" (also {missing[1:]})" if missing[1:] else ""))

    landmark_days = study.number("landmark_days")
    endpoints = {str(name): _endpoint(study, name, landmark_days) for name in study.mapping("endpoints")}
    if any(e.from_dates for e in endpoints.values()) and raw.get("cutoff_date") is None:
        raise StudySettingsError(f"{path}: study.cutoff_date is missing (endpoints from dates need the data cut-off)")
    comparisons = {str(name): _comparison(study, name, endpoints) for name in study.mapping("comparisons")}
    proportions = {str(name): _proportion(study, name) for name in study.mapping("proportions")}
    models = {str(name): _model(study, name, endpoints) for name in study.mapping("models")}
    declared = {"endpoints": endpoints, "comparisons": comparisons, "proportions": proportions}
    outcomes = tuple(_outcome(study, i, row, declared) for i, row in enumerate(study.items("outcomes")))

    definitions = {}
    for name, definition in study.mapping("definitions").items():
        block = study.child(f"definitions.{name}", definition)
        block.allow("label", "where")
        definitions[str(name)] = {"label": block.text("label", str(name)), "where": block.text("where", required=True)}

    death = None
    if raw.get("death") is not None:
        block = study.child("death")
        block.allow("date", "status", "dead", "last_contact")
        death = Death(date=block.text("date", required=True), status=block.text("status", required=True),
                      dead=block.get("dead", "dead"), last_contact=block.text("last_contact", required=True))

    characteristics = study.items("characteristics")
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
        definitions=definitions,
        characteristics=tuple(str(c) for c in characteristics),
        characteristics_by=study.text("characteristics_by"),
        characteristics_test=study.flag("characteristics_test", False),
        endpoints=endpoints,
        comparisons=comparisons,
        proportions=proportions,
        models=models,
        outcomes=outcomes,
        death=death,
        redcap_dictionary=_redcap_dictionary(raw),
        extra=extra,
    )
    parameters = settings.parameters()
    checks = []
    for number, value in enumerate(study.items("checks")):
        rule = _check(study, number, value)
        block = study.child(f"checks[{number}]", value)
        kwargs = {key: _setting(block, value, parameters) for key, value in rule.kwargs.items()}
        checks.append(replace(
            rule, kwargs=kwargs, description=_substitute(block, rule.description, parameters),
            row_condition=_substitute(block, rule.row_condition, parameters) if rule.row_condition else None,
        ))
    names = [c.rule for c in checks]
    if len(set(names)) != len(names):
        raise StudySettingsError(f"{path}: study.checks: rule names must be unique, repeated: "
                                 f"{sorted({n for n in names if names.count(n) > 1})}")
    # The checks' words use the settings' values (@name), so they are read last.
    settings = replace(settings, checks=tuple(checks))

    window = (settings.window_start, settings.window_end)
    if any(d is not None for d in window):
        if None in window:
            raise StudySettingsError(f"{path}: study.window_start and study.window_end go together")
        if not settings.window_start <= settings.window_end <= (settings.cutoff_date or settings.window_end):
            raise StudySettingsError(
                f"{path}: expected window_start <= window_end <= cutoff_date, got "
                f"{settings.window_start}, {settings.window_end}, {settings.cutoff_date}"
            )
    if settings.ci_transform not in CI_TRANSFORMS:
        raise StudySettingsError(f"{path}: study.ci_transform must be one of {CI_TRANSFORMS}, got {settings.ci_transform!r}")
    if not 0 < settings.conf_level < 1:
        raise StudySettingsError(f"{path}: study.conf_level must be between 0 and 1, got {settings.conf_level}")
    return settings


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
            raise settings.error(key, f"{name!r} is not a column of the data dictionary {dictionary.path or ''}".rstrip())
        if types and columns[name].type not in types:
            raise settings.error(key, f"column {name!r} is {columns[name].type}, expected {' or '.join(types)}")

    def variable(key: str, name: str | None, *types: str) -> None:
        if name is not None and name not in definitions:
            column(key, name, *types)

    def condition(key: str, text: str | None) -> None:
        # A bare name must be a yes/no variable; anything else is a pandas expression.
        if text is not None and re.fullmatch(r"\w+", text):
            variable(key, text, "boolean")

    column("entry_date", settings.entry_date, "date")
    for name in settings.characteristics:
        variable("characteristics", name)
    variable("characteristics_by", settings.characteristics_by, "boolean", "category")
    for name, endpoint in settings.endpoints.items():
        key = f"endpoints.{name}"
        condition(f"{key}.population", endpoint.population)
        if endpoint.from_dates:
            column(f"{key}.origin", endpoint.origin, "date")
            column(f"{key}.censor", endpoint.censor, "date")
            for kind, sources in (("events", endpoint.events), ("competing", endpoint.competing)):
                for source in sources:
                    column(f"{key}.{kind}", source.date, "date")
                    condition(f"{key}.{kind}", source.where)
        else:
            column(f"{key}.time", endpoint.status_event.time, "integer", "float")
            column(f"{key}.status", endpoint.status_event.status, "boolean", "integer", "category")
            if endpoint.status_competing is not None:
                column(f"{key}.competing.time", endpoint.status_competing.time, "integer", "float")
                column(f"{key}.competing.status", endpoint.status_competing.status, "boolean", "integer", "category")
    for name, comparison in settings.comparisons.items():
        key = f"comparisons.{name}"
        variable(f"{key}.by", comparison.by, "boolean", "category")
        variable(f"{key}.strata", comparison.strata, "boolean", "category")
        column(f"{key}.known_from", comparison.known_from, "date")
        if comparison.by in columns and columns[comparison.by].type == "category":
            codes = list(columns[comparison.by].values)
            for level in list(comparison.levels or ()) + [comparison.reference]:
                if level is not None and level not in codes:
                    raise settings.error(key, f"level {level!r} is not a code of column {comparison.by!r} ({codes})")
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
