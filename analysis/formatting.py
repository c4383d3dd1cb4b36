"""Numbers and results as an abstract prints them: pure functions, no statistics.

Rounding is half-up (half away from zero) on the decimal a number prints as,
so 0.0455 gives "0.046" even though the binary float 0.0455 lies just below
it and Python's ``round`` gives 0.045. Percentages are computed in decimal
arithmetic for the same reason.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from numbers import Integral, Real

__all__ = [
    "round_half_up",
    "percent",
    "count_percent",
    "estimate_ci",
    "p_value",
    "spell_number",
    "sentence_start",
    "number",
    "date",
    "sentence_count_percent",
    "n_percent",
    "difference",
    "median_ci",
    "median_ci_months",
    "hazard_ratio",
    "k_group_test",
    "test_result",
    "landmark_annotation",
    "comparison_annotations",
    "synthetic_data_note",
    "days_to_months",
    "months",
    "median_range",
    "landmark_comparison",
    "cox_model_tests",
    "rmst_contrast",
    "survival_difference",
    "NOT_REACHED",
    "NOT_ESTIMABLE",
    "RANGE_DASHES",
    "P_VALUE_STYLES",
    "PValueStyle",
    "NumberStyle",
    "set_style",
    "current_style",
]

NOT_REACHED = "not reached"
NOT_ESTIMABLE = "not estimable"
DAYS_PER_MONTH = 365.25 / 12

# What may separate the two ends of a range (a CI, minimum-maximum): a hyphen, the en dash
# most journals' style asks for, or the word.
RANGE_DASHES = ("-", "\u2013", " to ")


@dataclass(frozen=True)
class PValueStyle:
    """How p-values print: ``digits`` decimals (``small_digits`` below 0.01), and "p<``below``" under ``below``."""

    digits: int = 3
    below: float = 0.001
    small_digits: int | None = None

    def __post_init__(self):
        finest = self.small_digits or self.digits
        if not 1 <= min(self.digits, finest) <= max(self.digits, finest) <= 6:
            raise ValueError(f"p-value digits lie between 1 and 6, got {self.digits} and {self.small_digits}")
        below = Decimal(str(self.below))
        # A p just above `below` must not print as zero ("p=0.00").
        if below < Decimal(1).scaleb(-finest):
            raise ValueError(f"p-values just above {self.below} would print as p=0 with {finest} decimals: "
                             f"give below: {Decimal(1).scaleb(-finest):f} or more")
        # "p<below" reads as significant (see difference()): it must be under any alpha a report uses.
        if below >= Decimal("0.05"):
            raise ValueError(f"below must be under 0.05, got {self.below}")

    def decimals(self, value: Decimal) -> int:
        return self.small_digits if self.small_digits is not None and value < Decimal("0.01") else self.digits


# Journals' styles by name. NEJM: two decimals, three below 0.01, "P<0.001" below that.
P_VALUE_STYLES = {
    "default": PValueStyle(),
    "nejm": PValueStyle(digits=2, small_digits=3, below=0.001),
}


@dataclass(frozen=True)
class NumberStyle:
    """How a study prints what journals' styles disagree on (study.yml's ``range_dash`` and ``p_value_style``)."""

    range_dash: str = "-"
    p_value: PValueStyle = PValueStyle()

    def __post_init__(self):
        if self.range_dash not in RANGE_DASHES:
            raise ValueError(f"range_dash must be one of {RANGE_DASHES}, got {self.range_dash!r}")


# One report prints in one style: analysis.study.Study sets its study's, so every function
# here, the tables' included, follows it without each call passing it on.
_style = NumberStyle()


def set_style(style: NumberStyle) -> NumberStyle:
    """Print in ``style`` from now on; returns the style it replaces (to restore it)."""
    global _style
    previous, _style = _style, style
    return previous


def current_style() -> NumberStyle:
    return _style


def _range(low: str, high: str) -> str:
    # "-24-68" reads as a subtraction: with a negative end the range takes the word.
    if low.startswith("-") or high.startswith("-"):
        return f"{low} to {high}"
    return f"{low}{_style.range_dash}{high}"


def _decimal(x) -> Decimal:
    """The decimal a number prints as (shortest repr), never its binary expansion."""
    if isinstance(x, Decimal):
        value = x
    elif isinstance(x, bool):
        raise TypeError(f"expected a number, got the boolean {x!r}")
    elif isinstance(x, Integral):
        value = Decimal(int(x))
    elif isinstance(x, Real):
        value = Decimal(repr(float(x)))
    else:
        raise TypeError(f"expected a number, got {x!r}")
    if not value.is_finite():
        raise ValueError(f"cannot format a non-finite number: {x!r}")
    return value


def _round(value: Decimal, digits: int) -> str:
    if digits < 0:
        raise ValueError(f"digits must be >= 0, got {digits}")
    rounded = value.quantize(Decimal(1).scaleb(-digits), rounding=ROUND_HALF_UP)
    # -0.0 prints as "0.0": a value that rounds to zero has no sign.
    if rounded == 0:
        rounded = abs(rounded)
    return f"{rounded:f}"


def round_half_up(x, digits: int) -> str:
    """Round half-up to ``digits`` decimals and return the text.

    Parameters
    ----------
    x : float, int or Decimal
    digits : int
        Decimals to keep (trailing zeros kept: 0.5 with 2 digits -> "0.50").

    Returns
    -------
    str

    Examples
    --------
    >>> round_half_up(0.0455, 3), round(0.0455, 3)
    ('0.046', 0.045)
    >>> round_half_up(2.5, 0), round_half_up(-1.25, 1), round_half_up(0.5, 2)
    ('3', '-1.3', '0.50')
    """
    return _round(_decimal(x), digits)


def percent(fraction, digits: int = 1) -> str:
    """A fraction (0..1) as a percentage.

    Examples
    --------
    >>> percent(21 / 27), percent(0.5), percent(0.0455, 0)
    ('77.8%', '50.0%', '5%')
    """
    return _round(_decimal(fraction) * 100, digits) + "%"


def _noun(noun, count: int) -> str:
    """A noun that agrees with ``count``: a (singular, plural) pair, or a word used as given."""
    if isinstance(noun, tuple):
        singular, plural = noun
        return singular if count == 1 else plural
    return noun


def _count_and_denominator(count, denominator) -> tuple[int, int]:
    if hasattr(count, "count") and hasattr(count, "denominator"):
        if denominator is not None:
            raise TypeError("give either a Count or a count and a denominator, not both")
        count, denominator = count.count, count.denominator
    if denominator is None:
        raise TypeError("a percentage needs a denominator")
    if int(denominator) != denominator or denominator <= 0:
        raise ValueError(f"denominator must be a positive whole number, got {denominator!r}")
    if int(count) != count or not 0 <= count <= denominator:
        raise ValueError(f"count must be a whole number between 0 and {denominator}, got {count!r}")
    return int(count), int(denominator)


def _share(count: int, denominator: int, digits: int) -> str:
    return _round(Decimal(count) * 100 / Decimal(denominator), digits) + "%"


def count_percent(count, denominator=None, digits: int = 1, noun=None) -> str:
    """A count with its percentage of the denominator: "21 (77.8%)".

    Parameters
    ----------
    count : int or Count
        The count, or a :class:`analysis.descriptive.Count` (then no denominator).
    denominator : int, optional
        Required with an int count; must be positive.
    digits : int, default 1
    noun : str or (str, str), optional
        Printed after the count; a (singular, plural) pair agrees with it.

    Examples
    --------
    >>> count_percent(21, 27), count_percent(1, 27), count_percent(13, 26)
    ('21 (77.8%)', '1 (3.7%)', '13 (50.0%)')
    >>> count_percent(1, 27, noun=("patient", "patients"))
    '1 patient (3.7%)'
    """
    count, denominator = _count_and_denominator(count, denominator)
    words = f" {_noun(noun, count)}" if noun else ""
    return f"{count}{words} ({_share(count, denominator, digits)})"


def sentence_count_percent(count, noun=None, denominator=None, digits: int = 1) -> str:
    """A count spelled out to open a sentence, with its percentage: "One patient (3.7%)".

    Examples
    --------
    >>> sentence_count_percent(19, "", 27), sentence_count_percent(1, ("patient", "patients"), 27)
    ('Nineteen (70.4%)', 'One patient (3.7%)')
    """
    count, denominator = _count_and_denominator(count, denominator)
    words = f" {_noun(noun, count)}" if noun else ""
    return f"{sentence_start(count)}{words} ({_share(count, denominator, digits)})"


def n_percent(count, denominator=None, digits: int = 1) -> str:
    """A count as "n=13, 48.1%", for a parenthesis after what is counted.

    Examples
    --------
    >>> n_percent(13, 27)
    'n=13, 48.1%'
    """
    count, denominator = _count_and_denominator(count, denominator)
    return f"n={count}, {_share(count, denominator, digits)}"


def _conf_label(conf_level) -> str:
    return f"{(_decimal(conf_level) * 100).normalize():f}%"


def estimate_ci(estimate, lower=None, upper=None, conf_level=0.95, digits: int = 1) -> str:
    """An estimate with its CI, fractions in, percent out.

    Parameters
    ----------
    estimate : float or result object
        A fraction, or any object with ``estimate``, ``lower``, ``upper`` and
        ``conf_level`` (e.g. an IncidenceEstimate); an object whose
        ``estimable`` is False or whose estimate is None prints "not estimable".
    lower, upper : float
        Confidence limits (fractions), with a plain estimate.
    conf_level : float, default 0.95
    digits : int, default 1

    Examples
    --------
    >>> estimate_ci(0.394, 0.191, 0.598)
    '39.4% (95% CI: 19.1-59.8%)'
    >>> estimate_ci(0.5, 0.4, 0.6, conf_level=0.9, digits=0)
    '50% (90% CI: 40-60%)'

    Where R gives no limits (S(t) = 1 under a log-log or logit transform, or
    S(t) = 0), the estimate stands and the interval says so:

    >>> estimate_ci(1.0, float("nan"), float("nan"))
    '100.0% (95% CI not estimable)'
    """
    if hasattr(estimate, "estimate"):
        result = estimate
        if lower is not None or upper is not None:
            raise TypeError("give either a result object or estimate, lower and upper, not both")
        if not getattr(result, "estimable", True) or result.estimate is None:
            return NOT_ESTIMABLE
        estimate, lower, upper = result.estimate, result.lower, result.upper
        conf_level = result.conf_level
    if estimate is None:
        return NOT_ESTIMABLE
    return f"{percent(estimate, digits)} ({interval(lower, upper, conf_level, digits)})"


def interval(lower, upper=None, conf_level=0.95, digits: int = 1) -> str:
    """A confidence interval alone, fractions in, percent out: "95% CI: 29.9-70.1%".

    ``lower`` may be a result object with ``lower``, ``upper`` and ``conf_level``.

    Examples
    --------
    >>> interval(0.299, 0.701)
    '95% CI: 29.9-70.1%'
    >>> interval(None, None, conf_level=0.9)
    '90% CI not estimable'
    """
    if hasattr(lower, "lower"):
        result = lower
        lower, upper, conf_level = result.lower, result.upper, result.conf_level
    missing = [limit is None or math.isnan(limit) for limit in (lower, upper)]
    if all(missing):
        return f"{_conf_label(conf_level)} CI not estimable"
    if any(missing):
        raise ValueError("interval needs both confidence limits, or neither")
    low = _round(_decimal(lower) * 100, digits)
    high = _round(_decimal(upper) * 100, digits)
    return f"{_conf_label(conf_level)} CI: {_range(low, high)}%"


def _printed_p(p, digits: int | None = None) -> tuple[str, Decimal]:
    """A p-value as it prints, as its relation and number: ("=", 0.046), ("<", 0.001), (">", 0.99)."""
    value = _decimal(p)
    if not 0 <= value <= 1:
        raise ValueError(f"a p-value lies between 0 and 1, got {p!r}")
    style = _style.p_value if digits is None else PValueStyle(digits=digits, below=10.0 ** -digits)
    below = _decimal(style.below)
    if value < below:
        return "<", below
    if value > Decimal("0.99"):
        return ">", Decimal("0.99")
    return "=", Decimal(_round(value, style.decimals(value)))


def p_value(p, digits: int | None = None) -> str:
    """A p-value in the study's style: "p=0.046", "p<0.001" below its threshold, "p>0.99" above 0.99.

    ``digits`` overrides the style: that many decimals, "p<0.0001" below 10**-digits.

    Examples
    --------
    >>> p_value(0.0455), p_value(0.00004), p_value(0.996), p_value(0.2)
    ('p=0.046', 'p<0.001', 'p>0.99', 'p=0.200')
    >>> previous = set_style(NumberStyle(p_value=P_VALUE_STYLES["nejm"]))
    >>> p_value(0.0455), p_value(0.0042), p_value(0.00004), p_value(0.2)
    ('p=0.05', 'p=0.004', 'p<0.001', 'p=0.20')
    >>> _ = set_style(previous)
    """
    relation, value = _printed_p(p, digits)
    return f"p{relation}{value:f}"


_ONES = (
    "zero one two three four five six seven eight nine ten eleven twelve thirteen "
    "fourteen fifteen sixteen seventeen eighteen nineteen"
).split()
_TENS = "_ _ twenty thirty forty fifty sixty seventy eighty ninety".split()


def _below_thousand(n: int) -> str:
    hundreds, rest = divmod(n, 100)
    words = [f"{_ONES[hundreds]} hundred"] if hundreds else []
    if rest or not hundreds:
        tens, ones = divmod(rest, 10)
        if rest < 20:
            words.append(_ONES[rest])
        else:
            words.append(_TENS[tens] + (f"-{_ONES[ones]}" if ones else ""))
    return " ".join(words)


def spell_number(n: int) -> str:
    """A whole number 0..999,999 in words (American style, no "and").

    Examples
    --------
    >>> spell_number(27), spell_number(0), spell_number(105), spell_number(18000)
    ('twenty-seven', 'zero', 'one hundred five', 'eighteen thousand')
    """
    if isinstance(n, bool) or int(n) != n:
        raise ValueError(f"spell_number needs a whole number, got {n!r}")
    n = int(n)
    if not 0 <= n <= 999_999:
        raise ValueError(f"spell_number covers 0..999,999, got {n}")
    thousands, rest = divmod(n, 1000)
    if not thousands:
        return _below_thousand(rest)
    words = f"{_below_thousand(thousands)} thousand"
    return words + (f" {_below_thousand(rest)}" if rest else "")


def in_sentence(term: str) -> str:
    """A label or short name inside a sentence: "Sex" becomes "sex", "OS" and "HIV-positive" keep their capitals.

    Examples
    --------
    >>> in_sentence("Recurrence"), in_sentence("OS"), in_sentence("HIV-positive")
    ('recurrence', 'OS', 'HIV-positive')
    """
    return term[0].lower() + term[1:] if term[1:2].islower() else term


def sentence_start(n: int) -> str:
    """A number spelled out and capitalised, to open a sentence.

    Examples
    --------
    >>> sentence_start(27), sentence_start(1)
    ('Twenty-seven', 'One')
    """
    words = spell_number(n)
    return words[0].upper() + words[1:]


def days_to_months(days) -> float:
    """Days to months of 365.25 / 12 days.

    Examples
    --------
    >>> days_to_months(365.25)
    12.0
    """
    return float(days) / DAYS_PER_MONTH


def months(days, digits: int = 1) -> str:
    """A duration in days printed in months; None (median not reached) -> "not reached".

    Examples
    --------
    >>> months(730.5), months(None)
    ('24.0 months', 'not reached')
    """
    if days is None:
        return NOT_REACHED
    return f"{round_half_up(days_to_months(days), digits)} months"


def median_range(summary, digits: int = 1, whole_numbers: bool | None = None) -> str:
    """Median (minimum-maximum) of a summary, e.g. "9.6 (1.2-17.8)".

    Whole numbers (ages in years, counts) print as gtsummary prints them: the
    range without decimals, the median too unless it falls halfway (62.5).

    Parameters
    ----------
    summary : object with ``median``, ``minimum``, ``maximum``
        E.g. :class:`analysis.descriptive.ContinuousSummary`.
    digits : int, default 1
    whole_numbers : bool, optional
        Whether the values are whole numbers; default: the summary's
        ``whole_numbers`` (False without it).

    Examples
    --------
    >>> from types import SimpleNamespace
    >>> median_range(SimpleNamespace(median=9.6, minimum=1.2, maximum=17.84))
    '9.6 (1.2-17.8)'
    >>> median_range(SimpleNamespace(median=7.0, minimum=-24.0, maximum=68.0), whole_numbers=True)
    '7 (-24 to 68)'
    >>> median_range(SimpleNamespace(median=62.5, minimum=39.0, maximum=82.0), whole_numbers=True)
    '62.5 (39-82)'
    """
    if summary.median is None:
        return NOT_REACHED
    if whole_numbers is None:
        whole_numbers = getattr(summary, "whole_numbers", False)
    bounds = 0 if whole_numbers else digits
    middle = 0 if whole_numbers and float(summary.median).is_integer() else digits
    return (
        f"{round_half_up(summary.median, middle)} "
        f"({_range(round_half_up(summary.minimum, bounds), round_half_up(summary.maximum, bounds))})"
    )


def median_ci(quantile, unit: str = "months", digits: int = 1) -> str:
    """A median time (days) in ``unit`` (days, months, years) with its CI; None limits are "not reached".

    Examples
    --------
    >>> from types import SimpleNamespace
    >>> median_ci(SimpleNamespace(estimate=730.5, lower=365.25, upper=None, conf_level=0.95), "years")
    '2.0 (95% CI: 1.0-not reached)'
    """
    per_unit = {"days": 1.0, "months": DAYS_PER_MONTH, "years": 365.25}[unit]

    def text(days):
        return NOT_REACHED if days is None else round_half_up(float(days) / per_unit, digits)

    if quantile.estimate is None:
        return NOT_REACHED
    return f"{text(quantile.estimate)} ({_conf_label(quantile.conf_level)} CI: {_range(text(quantile.lower), text(quantile.upper))})"


def median_ci_months(quantile, digits: int = 1) -> str:
    """A median survival time (days) in months with its CI; None limits are "not reached".

    Parameters
    ----------
    quantile : object with ``estimate``, ``lower``, ``upper``, ``conf_level``
        E.g. :class:`analysis.survival.QuantileEstimate`; times in days.

    Examples
    --------
    >>> from types import SimpleNamespace
    >>> median_ci_months(SimpleNamespace(estimate=292.2, lower=152.2, upper=None, conf_level=0.95))
    '9.6 (95% CI: 5.0-not reached)'
    >>> median_ci_months(SimpleNamespace(estimate=None, lower=400.0, upper=None, conf_level=0.95))
    'not reached'
    """
    return median_ci(quantile, "months", digits)


def number(x, digits: int | None = None) -> str:
    """A number as plain text: shortest form by default (18.0 -> "18"), else ``digits`` decimals.

    Examples
    --------
    >>> number(18.0), number(0.01), number(27), number(2.0), number(95.0), number(1 / 3, 2)
    ('18', '0.01', '27', '2', '95', '0.33')
    """
    if x is None:
        raise ValueError("number() got None: there is no value to print")
    if digits is not None:
        return round_half_up(x, digits)
    value = _decimal(x).normalize()
    return f"{value if value != 0 else abs(value):f}"


def date(value, style: str = "%d.%m.%Y") -> str:
    """A date as the abstract prints it (default day.month.year, as the seed abstract).

    Parameters
    ----------
    value : datetime.date, datetime.datetime, pandas.Timestamp or ISO string
    style : str, default "%d.%m.%Y"
        ``strftime`` format, e.g. "%Y-%m-%d" for ISO 8601.

    Examples
    --------
    >>> import datetime
    >>> date(datetime.date(2019, 1, 1)), date("2024-08-30", "%Y-%m-%d")
    ('01.01.2019', '2024-08-30')
    """
    if isinstance(value, str):
        value = dt.date.fromisoformat(value)
    if not isinstance(value, dt.date):
        raise TypeError(f"expected a date, got {value!r}")
    return value.strftime(style)


def difference(estimate, reference, p, alpha: float = 0.05, digits: int | None = None) -> str:
    """How ``estimate`` compares with ``reference``: "significantly lower", "not significantly higher", ...

    The direction comes from the two estimates, "significantly" from the
    p-value as :func:`p_value` prints it (the study's style, or ``digits``)
    being below alpha, so the word and the printed p never disagree
    (p=0.04996 prints "p=0.050": not significant).

    Parameters
    ----------
    estimate, reference : float or object with ``estimate``
        The two values compared (e.g. SurvivalEstimate at the landmark).
    p : float
        p-value of the test comparing them.
    alpha : float, default 0.05
    digits : int, optional
        Decimals the p-value is printed with, as in :func:`p_value` (default: the study's style).

    Examples
    --------
    >>> difference(0.286, 0.501, 0.046), difference(0.6, 0.5, 0.3)
    ('significantly lower', 'not significantly higher')
    >>> difference(0.286, 0.501, 0.04996), difference(0.286, 0.501, 0.00004)
    ('not significantly lower', 'significantly lower')
    """
    values = [getattr(v, "estimate", v) for v in (estimate, reference)]
    if any(v is None for v in values):
        raise ValueError("difference() needs two estimable values")
    first, second = values
    if p is None:
        raise ValueError(f"a p-value lies between 0 and 1, got {p!r}")
    # The printed value decides: "p=0.05" is not below 0.05; "p<0.001" is (a style's threshold is under 0.05).
    relation, printed = _printed_p(p, digits)
    significant = relation == "<" or (relation == "=" and printed < _decimal(alpha))
    qualifier = "significantly" if significant else "not significantly"
    if first == second:
        return f"{qualifier} different"
    return f"{qualifier} {'lower' if first < second else 'higher'}"


def landmark_annotation(estimate, years, digits: int = 1, endpoint: str = "OS") -> str:
    """Legend text for an estimate at a landmark: "2-year OS 39.4% (95% CI: 19.1-59.8%)".

    ``years`` is the landmark in years, or the landmark's own adjective ("100-day").

    Examples
    --------
    >>> from types import SimpleNamespace
    >>> os_2y = SimpleNamespace(estimate=0.394, lower=0.191, upper=0.598, conf_level=0.95)
    >>> landmark_annotation(os_2y, 2.0)
    '2-year OS 39.4% (95% CI: 19.1-59.8%)'
    >>> landmark_annotation(None, "100-day", endpoint="relapse")
    '100-day relapse not estimable'
    """
    when = years if isinstance(years, str) else f"{number(years)}-year"
    text = estimate_ci(estimate, digits=digits) if estimate is not None else NOT_ESTIMABLE
    return f"{when} {endpoint} {text}"


def test_result(test, note: str | None = None) -> str:
    """A between-group test's p-value, or in words why there is none ("no events", "not estimable").

    Examples
    --------
    >>> from types import SimpleNamespace
    >>> test_result(SimpleNamespace(p=0.0455)), test_result(None, "no events"), test_result(None)
    ('p=0.046', 'no events', 'not estimable')
    """
    if test is None:
        return note or NOT_ESTIMABLE
    return p_value(test.p)


def comparison_annotations(comparison, landmark, digits: int = 1, endpoint: str = "OS") -> list[str]:
    """Legend texts for a k-group comparison: each group's estimate at ``landmark``, then the test.

    Parameters
    ----------
    comparison : object with ``groups`` (each with ``label`` and ``at(landmark)``),
        ``test`` (with ``p``, or None), ``note`` and ``test_short``, e.g.
        :class:`analysis.study.ComparisonResult`.
    landmark : a declared landmark (:class:`analysis.config.Landmark`) or its text ("5 years"):
        the estimate is taken at it and the legend names it, so the two cannot disagree.

    Examples
    --------
    >>> from types import SimpleNamespace as NS
    >>> est = NS(estimate=0.5, lower=0.3, upper=0.7, conf_level=0.95)
    >>> two_years = NS(text="2 years", adjective="2-year")
    >>> group = NS(label="Remission", at=lambda lm: est if lm is two_years else None)
    >>> comp = NS(groups=(group,), test=NS(p=0.046), note=None, test_short="Log-rank")
    >>> comparison_annotations(comp, two_years)
    ['Remission: 2-year OS 50.0% (95% CI: 30.0-70.0%)', 'Log-rank p=0.046']
    """
    texts = [
        f"{group.label}: {landmark_annotation(group.at(landmark), landmark.adjective, digits, endpoint)}"
        for group in comparison.groups
    ]
    return texts + [f"{comparison.test_short} {test_result(comparison.test, comparison.note)}"]


def hazard_ratio(ratio, digits: int = 2) -> str:
    """A hazard ratio with its CI: "0.69 (95% CI: 0.55-0.87)"; None -> "not estimable".

    Examples
    --------
    >>> from types import SimpleNamespace
    >>> hazard_ratio(SimpleNamespace(hazard_ratio=0.6885, lower=0.5468, upper=0.8669, conf_level=0.95))
    '0.69 (95% CI: 0.55-0.87)'
    >>> hazard_ratio(None)
    'not estimable'
    """
    if ratio is None:
        return NOT_ESTIMABLE
    return (f"{round_half_up(ratio.hazard_ratio, digits)} ({_conf_label(ratio.conf_level)} CI: "
            f"{_range(round_half_up(ratio.lower, digits), round_half_up(ratio.upper, digits))})")


def k_group_test(test, note: str | None = None, digits: int = 2) -> str:
    """A k-group test with its statistic: "chi-square 12.34, 2 df, p=0.002"; or why there is none.

    Examples
    --------
    >>> from types import SimpleNamespace
    >>> k_group_test(SimpleNamespace(chisq=12.3449, df=2, p=0.00209))
    'chi-square 12.34, 2 df, p=0.002'
    >>> k_group_test(None, "no events")
    'no events'
    """
    if test is None:
        return note or NOT_ESTIMABLE
    statistic = getattr(test, "chisq", None)
    if statistic is None:
        statistic = test.statistic
    return f"chi-square {round_half_up(statistic, digits)}, {test.df} df, {p_value(test.p)}"


def synthetic_data_note(file_name: str) -> str:
    """A Markdown block quote saying the report was built from the bundled synthetic cohort.

    A plain block quote, so every output format (HTML, PDF, DOCX) shows it.

    Examples
    --------
    >>> print(synthetic_data_note("example_cohort.csv"))
    > **Synthetic data.** This report was computed from `example_cohort.csv`, the bundled synthetic example cohort: its numbers illustrate the pipeline and are not study results.
    <BLANKLINE>
    """
    return (
        f"> **Synthetic data.** This report was computed from `{file_name}`, the bundled synthetic "
        "example cohort: its numbers illustrate the pipeline and are not study results.\n"
    )


def landmark_comparison(landmark, endpoint: str = "OS", digits: int = 1) -> str:
    """A landmark analysis in one sentence: who is in it, each group's estimate, the test and the hazard ratios.

    Parameters
    ----------
    landmark : object like :class:`analysis.study.LandmarkResult`
        ``at`` (a Landmark), ``excluded``, ``excluded_events``, ``comparison``
        (groups with ``label``, ``n`` and ``at_landmark``; ``test``, ``note``,
        ``landmark``), ``hazard_ratio``, ``time_dependent_ratio`` and
        ``time_dependent_note``.

    Examples
    --------
    >>> from types import SimpleNamespace as NS
    >>> est = NS(estimate=0.5, lower=0.2, upper=0.8, conf_level=0.95)
    >>> hr = NS(hazard_ratio=0.43, lower=0.15, upper=1.25, conf_level=0.95, p=0.12)
    >>> lm = NS(at=NS(text="60 days"), excluded=2, excluded_events=2, hazard_ratio=hr,
    ...         comparison=NS(groups=(NS(label="Responders", n=13, at_landmark=est),), test=NS(p=0.11),
    ...                       note=None, test_short="Log-rank", landmark=NS(adjective="2-year")),
    ...         time_dependent_ratio=hr, time_dependent_note=None)
    >>> print(landmark_comparison(lm))
    Landmark analysis at 60 days (the 2 patients who had died or were censored before it excluded, 2 of them died): 2-year OS from the landmark, responders (n=13) 50.0% (95% CI: 20.0-80.0%); log-rank p=0.110; hazard ratio 0.43 (95% CI: 0.15-1.25), p=0.120. Time-dependent Cox model over all patients: hazard ratio 0.43 (95% CI: 0.15-1.25), p=0.120.
    """
    comparison = landmark.comparison
    adjective = comparison.landmark.adjective if comparison.landmark is not None else ""
    groups = ", ".join(
        f"{group.label.lower()} (n={group.n}) "
        f"{estimate_ci(group.at_landmark, digits=digits) if group.at_landmark is not None else NOT_ESTIMABLE}"
        for group in comparison.groups
    )
    died = landmark.excluded_events
    text = (f"Landmark analysis at {landmark.at.text} (the {landmark.excluded} "
            f"{'patient who' if landmark.excluded == 1 else 'patients who'} had died or were censored before it "
            f"excluded, {died} of them died): {adjective} {endpoint} from the landmark, {groups}; "
            f"{comparison.test_short.lower()} {test_result(comparison.test, comparison.note)}")
    ratio = landmark.hazard_ratio
    text += f"; hazard ratio {hazard_ratio(ratio)}" + (f", {p_value(ratio.p)}" if ratio is not None else "") + "."
    td = landmark.time_dependent_ratio
    if td is not None:
        text += f" Time-dependent Cox model over all patients: hazard ratio {hazard_ratio(td)}, {p_value(td.p)}."
    elif landmark.time_dependent_note:
        text += f" Time-dependent Cox model: {landmark.time_dependent_note}."
    return text


def cox_model_tests(model, digits: int = 2) -> str:
    """The whole-model tests and concordance of a Cox model, as ``summary(coxph)`` lists them.

    Examples
    --------
    >>> from types import SimpleNamespace as NS
    >>> t = NS(statistic=10.7187, df=3, p=0.0133)
    >>> cox_model_tests(NS(likelihood_ratio=t, wald=t, score=t, concordance=0.5998))
    'likelihood ratio chi-square 10.72, 3 df, p=0.013; Wald 10.72, 3 df, p=0.013; score (log-rank) 10.72, 3 df, p=0.013; concordance 0.60'
    """
    def test(t):
        return f"{round_half_up(t.statistic, digits)}, {t.df} df, {p_value(t.p)}"

    concordance = NOT_ESTIMABLE if model.concordance is None else round_half_up(model.concordance, digits)
    return (f"likelihood ratio chi-square {test(model.likelihood_ratio)}; Wald {test(model.wald)}; "
            f"score (log-rank) {test(model.score)}; concordance {concordance}")


def rmst_contrast(contrast, unit: str = "months", digits: int = 1) -> str:
    """An RMST difference and ratio (times in days) as ``rmst2`` reports them; None -> "not estimable".

    Examples
    --------
    >>> from types import SimpleNamespace as NS
    >>> c = NS(difference=289.76, difference_lower=114.26, difference_upper=465.25, difference_p=0.0012,
    ...        ratio=1.921, ratio_lower=1.182, ratio_upper=3.124, ratio_p=0.0084, conf_level=0.95)
    >>> rmst_contrast(c)
    'difference 9.5 months (95% CI: 3.8-15.3), p=0.001; ratio 1.92 (95% CI: 1.18-3.12), p=0.008'
    """
    if contrast is None:
        return NOT_ESTIMABLE
    per_unit = {"days": 1.0, "months": DAYS_PER_MONTH, "years": 365.25}[unit]

    def t(days):
        return round_half_up(days / per_unit, digits)

    level = _conf_label(contrast.conf_level)
    return (f"difference {t(contrast.difference)} {unit} ({level} CI: "
            f"{_range(t(contrast.difference_lower), t(contrast.difference_upper))}), {p_value(contrast.difference_p)}; "
            f"ratio {round_half_up(contrast.ratio, 2)} ({level} CI: "
            f"{_range(round_half_up(contrast.ratio_lower, 2), round_half_up(contrast.ratio_upper, 2))}), "
            f"{p_value(contrast.ratio_p)}")


def survival_difference(difference, digits: int = 1) -> str:
    """A difference of survival at a fixed time in percentage points, with CI and test; None -> "not estimable".

    Examples
    --------
    >>> from types import SimpleNamespace as NS
    >>> survival_difference(NS(difference=-0.179, lower=-0.567, upper=0.209, p=0.365, conf_level=0.95,
    ...                        conf_type="linear"))
    'difference -17.9 percentage points (95% CI: -56.7 to 20.9), p=0.365 (z test, linear scale)'
    """
    if difference is None:
        return NOT_ESTIMABLE
    def points(x):
        return _round(_decimal(x) * 100, digits)

    return (f"difference {points(difference.difference)} percentage points ({_conf_label(difference.conf_level)} "
            f"CI: {points(difference.lower)} to {points(difference.upper)}), {p_value(difference.p)} "
            f"(z test, {difference.conf_type} scale)")


def subdistribution_hazard_ratio(ratio, digits: int = 2) -> str:
    """A Fine-Gray subdistribution hazard ratio: "sHR 0.62 (95% CI: 0.49-0.77)"; None -> "not estimable".

    Examples
    --------
    >>> from types import SimpleNamespace
    >>> subdistribution_hazard_ratio(SimpleNamespace(hazard_ratio=0.5963, lower=0.4731, upper=0.7516, conf_level=0.95))
    'sHR 0.60 (95% CI: 0.47-0.75)'
    """
    return NOT_ESTIMABLE if ratio is None else f"sHR {hazard_ratio(ratio, digits)}"


def proportional_hazards_test(zph, digits: int = 2) -> str:
    """cox.zph in a line: each term's p, then the global test; None -> "not estimable".

    Examples
    --------
    >>> from types import SimpleNamespace as NS
    >>> zph = NS(terms=[NS(name="age", statistic=0.2, df=1, p=0.65)], global_test=NS(statistic=5.237, df=4, p=0.264))
    >>> proportional_hazards_test(zph)
    'proportional hazards (cox.zph): age p=0.650; global chi-square 5.24, 4 df, p=0.264'
    """
    if zph is None:
        return NOT_ESTIMABLE
    terms = "; ".join(f"{t.name} {p_value(t.p)}" for t in zph.terms)
    g = zph.global_test
    return (f"proportional hazards (cox.zph): {terms}; global chi-square {round_half_up(g.statistic, digits)}, "
            f"{g.df} df, {p_value(g.p)}")
