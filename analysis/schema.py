"""The configuration files read with their line numbers and checked against a JSON Schema.

study.yml's ``study:`` block and the data dictionary are validated with
jsonschema (pinned in requirements.lock) before anything reads them: a
misspelt key, a value of the wrong type or a missing setting is reported with
the file, the line and the key, every problem of the file in one block, and
nothing runs. The schemas below say what each file may hold; analysis.config
and analysis.cohort then check what a schema cannot (references between
declarations and to the dictionary's columns, dates in order), naming the line
through :meth:`ConfigFile.where`.

Files are read with PyYAML's node API (``compose``) so every key keeps its
line, and values are constructed exactly as ``yaml.safe_load`` would
(``yes`` is true, ``2025-02-28`` a date), since the rest of the engine relies
on that reading.
"""

from __future__ import annotations

import datetime as dt
import difflib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jsonschema
import yaml

from analysis.formatting import P_VALUE_STYLES

__all__ = [
    "CI_TRANSFORMS",
    "COLUMN_TYPES",
    "DICTIONARY_SCHEMA",
    "LANDMARK_PATTERN",
    "OUTCOME_KINDS",
    "STUDY_SCHEMA",
    "ConfigFile",
    "key_text",
    "read_config",
    "validate",
]

# How many problems one message lists; the rest are counted.
_MAX_LISTED = 15


def key_text(path: tuple) -> str:
    """``("study", "checks", 0, "kwargs")`` as ``study.checks[0].kwargs``."""
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def _name(key: Any) -> str:
    # YAML 1.1 reads the keys yes/no as booleans; as level codes they are "yes" and "no".
    if isinstance(key, bool):
        return "yes" if key else "no"
    return str(key)


@dataclass(frozen=True)
class ConfigFile:
    """A YAML file as ``yaml.safe_load`` reads it (``data``), its JSON form (``plain``) and each key's line."""

    path: Path
    data: Any
    plain: Any
    lines: dict[str, int]

    def line(self, key: str) -> int | None:
        """The line of ``key`` (``study.endpoints.os.origin``), else of its nearest enclosing key."""
        while key:
            if key in self.lines:
                return self.lines[key]
            cut = max(key.rfind("."), key.rfind("["))
            key = key[:cut] if cut > 0 else ""
        return None

    def where(self, key: str) -> str:
        """``study.yml, line 12`` for a message about ``key``."""
        line = self.line(key)
        return f"{self.path}, line {line}" if line else str(self.path)


def read_config(path: str | Path, error: type[Exception], what: str) -> ConfigFile:
    """Read a YAML configuration file, keeping the line of every key and list item.

    Raises ``error`` naming the file (and the line, when YAML says it) if the
    file is missing, is not YAML, or holds a key twice (YAML would silently keep
    the last).

    Examples
    --------
    >>> import tempfile
    >>> path = Path(tempfile.mkdtemp()) / "s.yml"
    >>> _ = path.write_text("study:\\n  cutoff_date: 2025-02-28\\n  levels: {yes: Y, no: N}\\n")
    >>> source = read_config(path, ValueError, "study file")
    >>> source.data["study"]["cutoff_date"], source.plain["study"]["cutoff_date"]
    (datetime.date(2025, 2, 28), '2025-02-28')
    >>> source.line("study.levels.no"), source.data["study"]["levels"]
    (3, {True: 'Y', False: 'N'})
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise error(f"{path}: {what} not found") from None
    loader = yaml.SafeLoader(text)
    lines: dict[str, int] = {}
    try:
        node = loader.get_single_node()
        data, plain = _construct(loader, node, (), lines, path, error) if node is not None else (None, None)
    except yaml.YAMLError as problem:
        raise error(f"{path}: not valid YAML: {problem}") from None
    finally:
        loader.dispose()
    return ConfigFile(path, data, plain, lines)


def _construct(loader: yaml.SafeLoader, node: yaml.Node, path: tuple, lines: dict[str, int], file: Path,
               error: type[Exception]) -> tuple[Any, Any]:
    key = key_text(path)
    lines.setdefault(key, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        loader.flatten_mapping(node)  # `<<: *anchor` merges, as safe_load does
        data, plain = {}, {}
        for key_node, value_node in node.value:
            name_value = _scalar(loader, key_node, path, file, error)
            name = _name(name_value)
            child = (*path, name)
            if name in plain:
                raise error(f"{file}, line {key_node.start_mark.line + 1}: {key_text(child)} is given twice "
                            f"(first on line {lines[key_text(child)]}); YAML would keep only the last")
            lines[key_text(child)] = key_node.start_mark.line + 1
            data[name_value], plain[name] = _construct(loader, value_node, child, lines, file, error)
        return data, plain
    if isinstance(node, yaml.SequenceNode):
        items = [_construct(loader, item, (*path, i), lines, file, error) for i, item in enumerate(node.value)]
        return [d for d, _ in items], [p for _, p in items]
    value = _scalar(loader, node, path, file, error)
    return value, value.isoformat() if isinstance(value, dt.date) else value


def _scalar(loader: yaml.SafeLoader, node: yaml.Node, path: tuple, file: Path, error: type[Exception]) -> Any:
    where = f"{file}, line {node.start_mark.line + 1}: {key_text(path) or 'the file'}"
    if not isinstance(node, yaml.ScalarNode):
        raise error(f"{where}: a key must be a single name, not a list or mapping")
    try:
        return loader.construct_object(node, deep=True)
    except ValueError as problem:
        # A date-shaped value that is no date (2025-02-30): YAML's own reader stops with a bare ValueError.
        raise error(f"{where}: {node.value!r} cannot be read ({problem})") from None


# -- checking -------------------------------------------------------------------------------------------------------

_TYPE_WORDS = {"string": "text", "integer": "a whole number", "number": "a number", "boolean": "true or false",
               "object": "a mapping (name: value)", "array": "a list", "null": "empty"}


def _suggestion(name: str, known: list[str], cutoff: float = 0.6) -> str:
    close = difflib.get_close_matches(name, known, n=1, cutoff=cutoff)
    return f"did you mean {close[0]}?" if close else f"allowed: {', '.join(known)}"


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _close_to_known(validator, known, instance, schema) -> Iterator[jsonschema.ValidationError]:
    """A key not in ``properties`` but nearly one of them (``word_limt``) is a misspelling, not a setting of its own."""
    if not isinstance(instance, dict):
        return
    for name, value in instance.items():
        # A list or mapping under an unknown key is reported by additionalProperties already.
        if name in known or isinstance(value, (dict, list)):
            continue
        close = difflib.get_close_matches(name, known, n=1, cutoff=0.8)
        if close:
            yield jsonschema.ValidationError(f"unknown key; did you mean {close[0]}?", path=(name,),
                                             validator="closeToKnown")


_Validator = jsonschema.validators.extend(jsonschema.Draft202012Validator, {"closeToKnown": _close_to_known})


def _messages(error: jsonschema.ValidationError, describe: Callable[[tuple], str]) -> Iterator[tuple[tuple, str]]:
    """(path of the key, sentence) for one schema error, in the words a study's author uses."""
    path, schema, value = tuple(error.absolute_path), error.schema, error.instance
    if error.validator == "additionalProperties" and error.validator_value is False:
        known = list(schema.get("properties", {}))
        for name in value:
            if name not in known:
                yield (*path, name), f"{describe((*path, name))}: unknown key; {_suggestion(name, known)}"
        return
    if error.validator == "closeToKnown":
        yield path, f"{describe(path)}: {error.message}"
        return
    if error.validator == "required":
        why = f" ({schema['x-why']})" if "x-why" in schema else ""
        for name in error.validator_value:
            if name not in value:
                yield path, f"{describe((*path, name))} is missing{why}"
        return
    if "x-unknown-key" in schema:
        # A value the study block cannot hold as a setting of its own: most likely a misspelt declaration.
        name = path[-1]
        yield path, (f"{describe(path)}: unknown key; {_suggestion(str(name), schema['x-unknown-key'])} "
                     f"(a study's own setting is a single number, text or date)")
        return
    if "x-expected" in schema:
        expected = schema["x-expected"]
    elif error.validator == "type":
        types = error.validator_value if isinstance(error.validator_value, list) else [error.validator_value]
        expected = " or ".join(_TYPE_WORDS[t] for t in types if t != "null")
    elif error.validator == "enum":
        options = [str(v) for v in error.validator_value if v is not None]
        close = difflib.get_close_matches(str(value), options, n=1, cutoff=0.6)
        hint = f"; did you mean {close[0]}?" if close else ""
        yield path, f"{describe(path)} must be one of {', '.join(options)}, got {_shown(value)}{hint}"
        return
    else:
        expected = error.message
    if value is None:
        yield path, f"{describe(path)} is empty; give {expected}"
        return
    yield path, f"{describe(path)} must be {expected}, got {_shown(value)}"


def validate(source: ConfigFile, schema: dict, error: type[Exception],
             describe: Callable[[tuple], str] = key_text) -> None:
    """Raise ``error`` listing every place where ``source`` breaks ``schema``, each with its line and key.

    Examples
    --------
    >>> import tempfile
    >>> path = Path(tempfile.mkdtemp()) / "study.yml"
    >>> _ = path.write_text("study:\\n  data: a.csv\\n  dictionary: d.yml\\n  ci_transform: log\\n"
    ...                     "  conf_level: 0.95\\n  word_limt: 300\\n")
    >>> validate(read_config(path, ValueError, "study file"), STUDY_SCHEMA, ValueError)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: .../study.yml, line 6: study.word_limt: unknown key; did you mean word_limit?
    """
    validator = _Validator(schema, format_checker=jsonschema.FormatChecker())
    found: dict[str, tuple[int, str]] = {}
    for problem in validator.iter_errors(source.plain):
        # anyOf/oneOf report their branches' errors in `context`; the branch that fits the value best is shown.
        if problem.context and "x-expected" not in problem.schema:
            problem = jsonschema.exceptions.best_match(problem.context)
        for path, sentence in _messages(problem, describe):
            found.setdefault(sentence, (source.line(key_text(path)) or 0, sentence))
    if not found:
        return
    ordered = sorted(found.values())
    if len(ordered) == 1:
        line, sentence = ordered[0]
        raise error(f"{source.path}, line {line}: {sentence}" if line else f"{source.path}: {sentence}")
    listed = [f"  line {line}: {sentence}" for line, sentence in ordered[:_MAX_LISTED]]
    if len(ordered) > _MAX_LISTED:
        listed.append(f"  ... and {len(ordered) - _MAX_LISTED} more")
    raise error(f"{source.path}: {len(ordered)} problems:\n" + "\n".join(listed))


# -- the schemas ----------------------------------------------------------------------------------------------------

CI_TRANSFORMS = ("linear", "log", "log-log", "logit", "arcsine")
_TEXT = {"type": "string"}
_NAME = {"type": "string", "x-expected": "a single name"}
_OPTIONAL_TEXT = {"type": ["string", "null"]}
_FLAG = {"type": ["boolean", "null"]}
_DATE = {"type": ["string", "null"], "format": "date", "x-expected": "a date YYYY-MM-DD"}
LANDMARK_PATTERN = r"^\s*([0-9]+(?:\.[0-9]+)?)\s*(day|days|month|months|year|years)\s*$"
_LANDMARK = {"anyOf": [{"type": "number", "exclusiveMinimum": 0}, {"type": "string", "pattern": LANDMARK_PATTERN}],
             "x-expected": "a time such as '2 years', '6 months' or '100 days'"}
# strftime directives that print a date (a time of day has no place in a report's dates); `%-d` is glibc's unpadded day.
_DATE_FORMAT = r"^(?=.*%-?[dmyYbBjeaA])(?:[^%]|%%|%-?[aAwdbBmyYjUWGuVexc])*$"
_CONDITION = {"type": "string", "x-expected": "a yes/no variable or a pandas expression"}


def _block(properties: dict, required: tuple[str, ...] = (), **more) -> dict:
    return {"type": "object", "properties": properties, "required": list(required), "additionalProperties": False,
            **more}


def _list_of(item: dict) -> dict:
    """A list, or a single item written without the list (``landmarks: 2 years``)."""
    # if/then/else rather than anyOf: an error then names the list's item, not the whole list.
    return {"if": {"type": "array"}, "then": {"items": item}, "else": item}


_EVENT_SOURCE = {"anyOf": [_NAME, _block({"date": _NAME, "where": _CONDITION, "label": _TEXT}, ("date",))],
                 "x-expected": "a date column, or {date:, where:, label:}"}
_STATUS_SOURCE = _block({"time": _NAME, "status": _NAME, "event_values": {"type": ["array", "string", "number",
                                                                                    "boolean"]},
                         "label": _TEXT}, ("time", "status"))
_ENDPOINT = _block({
    "label": _TEXT, "short": _TEXT, "description": _TEXT,
    "unit": {"enum": ["days", "months", "years"]},
    "landmarks": _list_of(_LANDMARK),
    "population": _CONDITION,
    "origin": _NAME, "events": _list_of(_EVENT_SOURCE), "censor": _NAME,
    "competing": {"anyOf": [_list_of(_EVENT_SOURCE), _STATUS_SOURCE],
                  "x-expected": "event sources (dates) or {time:, status:}"},
    "time": _NAME, "status": _NAME,
    "event_values": {"type": ["array", "string", "number", "boolean"]},
    "competing_label": _TEXT,
})
_LEVEL = {"type": ["string", "number", "boolean"], "x-expected": "a level's code"}
_COMPARISON = _block({
    "endpoint": _NAME, "by": _NAME,
    "levels": {"type": "object", "additionalProperties": {"type": ["string", "number"]},
               "x-expected": "a mapping of each level's code to its label"},
    "reference": _LEVEL, "strata": _NAME, "hazard_ratios": _FLAG,
    "landmark": _LANDMARK, "known_from": _NAME, "rmst": _LANDMARK, "fixed_time": _FLAG,
    "fine_gray": _FLAG,
}, ("endpoint", "by"))
_MODEL = _block({
    "endpoint": _NAME, "covariates": _list_of(_NAME),
    "references": {"type": "object", "additionalProperties": _LEVEL,
                   "x-expected": "a mapping of each categorical covariate to its reference level"},
    "ties": {"enum": ["efron", "breslow"]},
}, ("endpoint", "covariates"))
_PROPORTION = _block({"count": _NAME, "among": _NAME, "method": {"enum": ["clopper-pearson", "wilson"]}}, ("count",))
OUTCOME_KINDS = ("proportion", "count", "categories", "survival", "cumulative_incidence", "comparison", "median",
                 "follow_up")
_OUTCOME = _block({**{kind: _NAME for kind in OUTCOME_KINDS}, "among": _NAME, "at": _LANDMARK, "label": _TEXT,
                   "indent": {"type": "integer", "minimum": 0}})
_CHECK = _block({
    "rule": _NAME, "type": _NAME,
    "kwargs": {"type": "object", "x-expected": "a mapping of the expectation's arguments"},
    "row_condition": _CONDITION,
    "description": {"type": "string", "pattern": r"^[^\n]*$", "x-expected": "one line of text"},
    "severity": {"enum": ["error", "warning"]},
}, ("rule", "type", "description"))

_STUDY_SETTINGS = {
    "data": _TEXT, "dictionary": _TEXT, "example_data": _OPTIONAL_TEXT, "sheet": {"type": ["string", "integer",
                                                                                           "null"]},
    "entry_date": {"type": ["string", "null"]}, "window_start": _DATE, "window_end": _DATE, "cutoff_date": _DATE,
    "landmark_days": {"type": ["number", "null"], "exclusiveMinimum": 0},
    "ci_transform": {"enum": list(CI_TRANSFORMS)},
    "conf_level": {"type": "number", "exclusiveMinimum": 0, "exclusiveMaximum": 1,
                   "x-expected": "a number between 0 and 1 (0.95)"},
    "word_limit": {"type": ["integer", "null"], "minimum": 1},
    "date_format": {"type": "string", "pattern": _DATE_FORMAT,
                    "x-expected": "a strftime date format such as '%d.%m.%Y' or '%Y-%m-%d'"},
    "range_dash": {"enum": ["-", "\u2013", " to "],
                   "x-expected": "'-' (19.1-59.8), '\u2013' (the en dash, 19.1\u201359.8) or ' to ' (19.1 to 59.8)"},
    "p_value_style": {"anyOf": [
        {"enum": list(P_VALUE_STYLES)},
        _block({"digits": {"type": "integer", "minimum": 1, "maximum": 6}, "below": {"type": "number",
                "exclusiveMinimum": 0, "exclusiveMaximum": 0.05},
                "small_digits": {"type": ["integer", "null"], "minimum": 1, "maximum": 6}}, ("digits",)),
    ], "x-expected": f"one of {', '.join(P_VALUE_STYLES)}, or {{digits: 3, below: 0.001}} "
                     "(small_digits: the decimals below 0.01)"},
    "definitions": {"type": "object", "additionalProperties": _block({"label": _TEXT, "where": _CONDITION},
                                                                     ("where",))},
    "characteristics": _list_of(_NAME), "characteristics_by": {"type": ["string", "null"]},
    "characteristics_test": _FLAG,
    "endpoints": {"type": "object", "additionalProperties": _ENDPOINT},
    "comparisons": {"type": "object", "additionalProperties": _COMPARISON},
    "models": {"type": "object", "additionalProperties": _MODEL},
    "proportions": {"type": "object", "additionalProperties": _PROPORTION},
    "outcomes": {"type": "array", "items": _OUTCOME},
    "death": _block({"date": _NAME, "status": _NAME, "dead": {"type": ["string", "boolean", "number"]},
                     "last_contact": _NAME}, ("date", "status", "last_contact")),
    "checks": {"type": "array", "items": _CHECK},
    "redcap_dictionary": _OPTIONAL_TEXT,
}

#: study.yml: Quarto's metadata (title, author, ...) at the top, the engine's ``study:`` block below it.
STUDY_SCHEMA = {
    "type": "object",
    "required": ["study"],
    "properties": {"study": {
        "type": "object",
        "properties": _STUDY_SETTINGS,
        "required": ["data", "dictionary", "ci_transform", "conf_level"],
        # Any other key is the study's own setting (a threshold, a schedule), quoted by the prose and usable as
        # @name: a single value, and not a near-miss of a known key.
        "additionalProperties": {"type": ["number", "string", "boolean"], "x-unknown-key": sorted(_STUDY_SETTINGS)},
        "closeToKnown": sorted(_STUDY_SETTINGS),
    }},
}

COLUMN_TYPES = ("string", "integer", "float", "boolean", "date", "category")
_COLUMN = _block({
    "name": _NAME, "label": _TEXT, "type": {"enum": list(COLUMN_TYPES)}, "unit": _OPTIONAL_TEXT,
    "required": {"type": "boolean"}, "unique": {"type": "boolean"}, "max_exclusive": {"type": "boolean"},
    "values": {"type": "object", "additionalProperties": {"type": ["string", "number"]},
               "x-expected": "a mapping of each code to its label"},
    "min": {"type": ["number", "null"]}, "max": {"type": ["number", "null"]},
    "pattern": {"type": "string", "format": "regex", "x-expected": "a regular expression"},
    "required_when": _OPTIONAL_TEXT,
}, ("name", "type"), **{
    "if": {"properties": {"type": {"const": "category"}}, "required": ["type"]},
    "then": {"required": ["values"], "properties": {"values": {"minProperties": 1, "x-expected": "at least one code and its label"}},
             "x-why": "a category lists its codes and their labels"},
})

#: The data dictionary: a ``columns:`` list.
DICTIONARY_SCHEMA = _block({"columns": {"type": "array", "minItems": 1, "items": _COLUMN}}, ("columns",))
