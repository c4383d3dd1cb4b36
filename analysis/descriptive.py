"""Descriptive statistics: proportions with CIs, counts and continuous summaries.

Each count carries its denominator explicitly, so "13 of 26 with detectable
disease" cannot silently become "13 of 27". Intervals follow R: Clopper-Pearson
as ``binom.test``, Wilson score as ``prop.test(correct = FALSE)``; quartiles as
``quantile(type = 7)``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

__all__ = [
    "Proportion",
    "proportion",
    "Count",
    "count_true",
    "category_counts",
    "ContinuousSummary",
    "summarize_continuous",
    "GroupTest",
    "categorical_test",
    "continuous_test",
    "fisher_exact_test",
]

_PROPORTION_METHODS = {
    "clopper-pearson": "Clopper-Pearson exact",
    "wilson": "Wilson score (no continuity correction)",
}


@dataclass(frozen=True)
class Proportion:
    """A proportion with its confidence interval (fractions, not percent).

    Attributes
    ----------
    count, n : int
        Numerator and denominator.
    estimate, lower, upper : float
        count / n and the confidence limits.
    conf_level : float
        Confidence level.
    method : str
        Interval method, for the methods section.
    """

    count: int
    n: int
    estimate: float
    lower: float
    upper: float
    conf_level: float
    method: str


def _whole_number(value, name: str) -> int:
    if isinstance(value, bool) or not float(value).is_integer():
        raise ValueError(f"{name} must be a whole number, got {value!r}")
    return int(value)


def proportion(count, n, method: str = "clopper-pearson", conf_level: float = 0.95) -> Proportion:
    """Proportion ``count / n`` with a confidence interval.

    Parameters
    ----------
    count, n : int
        Patients with the characteristic, and patients assessed (n >= 1).
    method : {"clopper-pearson", "wilson"}
        "clopper-pearson": exact interval, as R ``binom.test``;
        "wilson": score interval, as R ``prop.test(correct = FALSE)``.
    conf_level : float, default 0.95
        Confidence level.

    Returns
    -------
    Proportion

    Examples
    --------
    >>> p = proportion(21, 27)
    >>> round(p.estimate, 4), round(p.lower, 4), round(p.upper, 4)
    (0.7778, 0.5774, 0.9138)
    >>> proportion(0, 10, method="wilson").lower
    0.0
    """
    count = _whole_number(count, "count")
    n = _whole_number(n, "n")
    if n < 1:
        raise ValueError(f"n must be at least 1, got {n}")
    if not 0 <= count <= n:
        raise ValueError(f"count must lie between 0 and n={n}, got {count}")
    if method not in _PROPORTION_METHODS:
        raise ValueError(f"method must be one of {sorted(_PROPORTION_METHODS)}, got {method!r}")
    if not 0.0 < conf_level < 1.0:
        raise ValueError(f"conf_level must lie strictly between 0 and 1, got {conf_level!r}")
    alpha = 1.0 - conf_level
    estimate = count / n
    if method == "clopper-pearson":
        lower = 0.0 if count == 0 else float(stats.beta.ppf(alpha / 2, count, n - count + 1))
        upper = 1.0 if count == n else float(stats.beta.ppf(1 - alpha / 2, count + 1, n - count))
    else:
        z = float(stats.norm.ppf(1 - alpha / 2))
        z22n = z**2 / (2 * n)
        half_width = z * np.sqrt(estimate * (1 - estimate) / n + z22n / (2 * n))
        # prop.test pins the limits to 0 and 1 when the estimate sits there.
        lower = 0.0 if count == 0 else float((estimate + z22n - half_width) / (1 + 2 * z22n))
        upper = 1.0 if count == n else float((estimate + z22n + half_width) / (1 + 2 * z22n))
    return Proportion(count, n, estimate, lower, upper, conf_level, _PROPORTION_METHODS[method])


@dataclass(frozen=True)
class Count:
    """A count with the denominator it was taken from.

    Attributes
    ----------
    count : int
        Patients with the characteristic.
    denominator : int
        Patients it is counted among.
    label : str or None
        What is counted, in the study's words.
    """

    count: int
    denominator: int
    label: str | None = None

    @property
    def percent(self) -> float:
        """Percentage 0..100; undefined (ValueError) for an empty denominator."""
        if self.denominator == 0:
            raise ValueError(f"percent of {self.label or 'a count'} is undefined: the denominator is 0")
        return 100.0 * self.count / self.denominator


def _patients(index: pd.Index) -> str:
    shown = ", ".join(str(i) for i in index[:10])
    return shown + (f" and {len(index) - 10} more" if len(index) > 10 else "")


def count_true(mask: pd.Series, label: str | None = None, among: pd.Series | None = None) -> Count:
    """Count rows where ``mask`` is true, among an explicit set of rows.

    Parameters
    ----------
    mask : pandas.Series of bool (nullable "boolean" allowed)
        The characteristic, one value per patient.
    label : str, optional
        Stored in the Count.
    among : pandas.Series of bool, optional
        The denominator rows (same index as ``mask``), e.g. transplant recipients.
        Default: rows where ``mask`` is not missing. Within ``among`` the mask
        must not be missing.

    Returns
    -------
    Count

    Examples
    --------
    >>> infection = pd.Series([True, False, pd.NA, True], dtype="boolean")
    >>> transplanted = pd.Series([True, True, False, True], dtype="boolean")
    >>> count_true(infection, "Infection", among=transplanted)
    Count(count=2, denominator=3, label='Infection')
    """
    mask = pd.Series(mask)
    if among is None:
        rows = mask.notna()
    else:
        among = pd.Series(among)
        if not among.index.equals(mask.index):
            raise ValueError("`among` must have the same index as the mask (one value per patient)")
        if among.isna().any():
            raise ValueError(f"`among` is missing for patient row(s) {_patients(among.index[among.isna()])}")
        rows = among.astype(bool)
        missing = rows & mask.isna()
        if missing.any():
            raise ValueError(
                f"{label or mask.name or 'mask'} is missing for patient row(s) "
                f"{_patients(mask.index[missing])}, which belong to the denominator"
            )
    selected = mask[rows].astype(bool)
    return Count(int(selected.sum()), int(rows.sum()), label)


def category_counts(series: pd.Series, categories: Mapping[str, str] | None = None) -> tuple[Count, ...]:
    """Count each category, in dictionary order, among non-missing values.

    Parameters
    ----------
    series : pandas.Series
        Category codes, one per patient.
    categories : mapping of code -> label, optional
        The data dictionary's ``values``: gives the order and the labels, and
        keeps categories nobody has (count 0). Default: codes sorted, labelled
        by themselves.

    Returns
    -------
    tuple of Count
        One per category; the denominator is the number of non-missing values.

    Examples
    --------
    >>> status = pd.Series(["first_relapse", "second_relapse", "first_relapse"])
    >>> labels = {"first_remission": "First remission", "first_relapse": "First relapse",
    ...           "second_relapse": "Second relapse"}
    >>> [(c.label, c.count, c.denominator) for c in category_counts(status, labels)]
    [('First remission', 0, 3), ('First relapse', 2, 3), ('Second relapse', 1, 3)]
    """
    values = pd.Series(series).dropna().astype(str)
    if categories is None:
        categories = {code: code for code in sorted(values.unique())}
    unknown = sorted(set(values) - set(categories))
    if unknown:
        raise ValueError(
            f"{series.name or 'series'}: value(s) {unknown} are not among the allowed "
            f"categories {list(categories)}"
        )
    tally = values.value_counts()
    return tuple(Count(int(tally.get(code, 0)), int(values.size), label) for code, label in categories.items())


@dataclass(frozen=True)
class ContinuousSummary:
    """Summary of a continuous variable (missing values excluded).

    Attributes
    ----------
    n, missing : int
        Non-missing and missing values.
    median, q1, q3 : float
        Quartiles as R ``quantile(type = 7)``.
    minimum, maximum, mean : float
        Range and mean.
    sd : float
        Sample standard deviation (n - 1); NaN when n = 1, as R's NA.
    whole_numbers : bool
        Every value is a whole number (ages in years, counts): the tables print no decimals then.
    """

    n: int
    missing: int
    median: float
    q1: float
    q3: float
    minimum: float
    maximum: float
    mean: float
    sd: float
    whole_numbers: bool = False


def summarize_continuous(x) -> ContinuousSummary:
    """Median, quartiles, range, mean and SD of the non-missing values.

    Parameters
    ----------
    x : array-like of float
        Values; NaN / NA count as missing.

    Returns
    -------
    ContinuousSummary

    Examples
    --------
    >>> s = summarize_continuous([3.1, 7.4, 1.2, 17.8, 9.6, None])
    >>> s.median, s.q1, s.q3, s.missing
    (7.4, 3.1, 9.6, 1)
    """
    values = pd.to_numeric(pd.Series(x, dtype=object), errors="raise").astype(float).to_numpy()
    present = values[~np.isnan(values)]
    if present.size == 0:
        raise ValueError("cannot summarise: no non-missing values")
    q1, median, q3 = np.quantile(present, [0.25, 0.5, 0.75], method="linear")
    return ContinuousSummary(
        n=int(present.size),
        missing=int(values.size - present.size),
        median=float(median),
        q1=float(q1),
        q3=float(q3),
        minimum=float(present.min()),
        maximum=float(present.max()),
        mean=float(present.mean()),
        sd=float(present.std(ddof=1)) if present.size > 1 else float("nan"),
        whole_numbers=bool(np.all(present == np.round(present))),
    )


# -- tests between groups (gtsummary's add_p defaults) ------------------------------

# R's fisher.test counts tables whose probability is within this relative
# tolerance of the observed one as "as extreme".
_FISHER_REL_ERR = 1 + 1e-7
# Tables enumerated at most by the exact r x c Fisher test before it gives up.
_FISHER_MAX_TABLES = 2_000_000


@dataclass(frozen=True)
class GroupTest:
    """A test of "no difference between groups": its name, statistic, degrees of freedom and p-value."""

    test: str
    statistic: float | None
    df: int | None
    p: float


def _log_factorial(n) -> np.ndarray:
    from scipy.special import gammaln

    return gammaln(np.asarray(n, dtype=float) + 1)


def fisher_exact_test(table) -> GroupTest:
    """Fisher's exact test of an r x c table, two-sided as R's ``fisher.test``.

    Every table with the observed margins is enumerated; tables no more likely
    than the observed one count (within R's relative tolerance 1e-7).

    Examples
    --------
    >>> round(fisher_exact_test([[1, 2, 9], [4, 5, 1]]).p, 6)  # R: fisher.test -> 0.008395629
    0.008396
    """
    observed = np.asarray(table, dtype=np.int64)
    observed = observed[observed.sum(axis=1) > 0][:, observed.sum(axis=0) > 0]
    if observed.ndim != 2 or min(observed.shape) < 2:
        return GroupTest("Fisher's exact test", None, None, 1.0)
    rows, columns = observed.sum(axis=1), observed.sum(axis=0)
    total = int(rows.sum())
    constant = _log_factorial(rows).sum() + _log_factorial(columns).sum() - _log_factorial(total)

    def log_probability(cells: np.ndarray) -> float:
        return float(constant - _log_factorial(cells).sum())

    target = log_probability(observed) + np.log(_FISHER_REL_ERR)
    p, enumerated = 0.0, 0
    # Fill column by column: each column's counts are bounded by what the rows still need.
    stack = [(0, rows.copy(), [])]
    while stack:
        j, remaining, filled = stack.pop()
        if j == len(columns) - 1:
            enumerated += 1
            if enumerated > _FISHER_MAX_TABLES:
                raise ValueError("Fisher's exact test: too many tables to enumerate; use the chi-square test")
            cells = np.column_stack([*filled, remaining]) if filled else remaining[:, None]
            value = log_probability(cells)
            if value <= target:
                p += np.exp(value)
            continue
        for column in _compositions(int(columns[j]), remaining):
            stack.append((j + 1, remaining - column, [*filled, column]))
    return GroupTest("Fisher's exact test", None, None, float(min(1.0, p)))


def _compositions(total: int, bounds: np.ndarray):
    """Every vector of non-negative integers with this sum, each entry within its bound."""
    if len(bounds) == 1:
        if total <= bounds[0]:
            yield np.array([total], dtype=np.int64)
        return
    rest = int(bounds[1:].sum())
    for first in range(max(0, total - rest), min(total, int(bounds[0])) + 1):
        for tail in _compositions(total - first, bounds[1:]):
            yield np.concatenate([[first], tail])


def categorical_test(table) -> GroupTest:
    """Chi-square test without continuity correction, or Fisher's exact test when an expected count is below 5.

    gtsummary's default for categorical rows of ``tbl_summary(by=) |> add_p()``.
    ``table`` has one row per category and one column per group.

    Examples
    --------
    >>> result = categorical_test([[20, 30], [25, 25]])  # R: chisq.test(correct=FALSE): X2 1.0101, p 0.3149
    >>> result.test, round(result.statistic, 4), result.df, round(result.p, 4)
    ("Pearson's chi-square test", 1.0101, 1, 0.3149)
    """
    observed = np.asarray(table, dtype=float)
    observed = observed[observed.sum(axis=1) > 0][:, observed.sum(axis=0) > 0]
    if min(observed.shape) < 2:
        return GroupTest("Pearson's chi-square test", None, None, 1.0)
    expected = np.outer(observed.sum(axis=1), observed.sum(axis=0)) / observed.sum()
    if (expected < 5).any():
        return fisher_exact_test(observed.astype(np.int64))
    statistic, p, df, _ = stats.chi2_contingency(observed, correction=False)
    return GroupTest("Pearson's chi-square test", float(statistic), int(df), float(p))


def continuous_test(samples) -> GroupTest:
    """Wilcoxon rank-sum test for two groups, Kruskal-Wallis for more; gtsummary's defaults.

    The Wilcoxon test is exact for fewer than 50 patients per group without
    ties and otherwise normal with continuity and tie corrections, as R's
    ``wilcox.test``.

    Examples
    --------
    >>> round(continuous_test([[1.1, 2.2, 3.3], [4.4, 5.5, 6.6]]).p, 4)  # R: wilcox.test -> 0.1
    0.1
    """
    groups = [np.asarray(s, dtype=float) for s in samples]
    groups = [g[~np.isnan(g)] for g in groups]
    groups = [g for g in groups if g.size]
    if len(groups) < 2:
        return GroupTest("Kruskal-Wallis test", None, None, 1.0)
    pooled = np.concatenate(groups)
    if np.unique(pooled).size == 1:
        return GroupTest("Kruskal-Wallis test" if len(groups) > 2 else "Wilcoxon rank-sum test", None, None, 1.0)
    if len(groups) == 2:
        x, y = groups
        exact = x.size < 50 and y.size < 50 and np.unique(pooled).size == pooled.size
        result = stats.mannwhitneyu(x, y, alternative="two-sided", use_continuity=True,
                                    method="exact" if exact else "asymptotic")
        return GroupTest("Wilcoxon rank-sum test", float(result.statistic), None, float(result.pvalue))
    result = stats.kruskal(*groups)
    return GroupTest("Kruskal-Wallis test", float(result.statistic), len(groups) - 1, float(result.pvalue))
