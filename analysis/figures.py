"""Kaplan-Meier figures in the KMunicate style (Morris et al., BMJ Open 2019;9:e030215).

A figure shows each curve as a step function with censor marks and a shaded
confidence band, months on the x-axis, and under it a table giving, at every
tick, the patients at risk and the cumulative numbers censored and with an
event. The counts come from :func:`risk_table`, a pure function, so a test or
the report can quote exactly the numbers the figure prints.

The module formats nothing but those integer counts: annotations (survival at a
landmark, a log-rank p-value) arrive as finished strings from the caller.
Figures are built on :class:`matplotlib.figure.Figure` directly, without pyplot
and its global state, so they work the same in a Jupyter kernel and headless.
"""

from __future__ import annotations

import os

from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

import matplotlib
import matplotlib.font_manager
import numpy as np
import pandas as pd
from matplotlib.collections import LineCollection, PolyCollection
from matplotlib.figure import Figure
from matplotlib.legend_handler import HandlerPatch, HandlerTuple
from matplotlib.lines import Line2D
from matplotlib.patches import Patch, Rectangle
from matplotlib.path import Path as GeometryPath
from matplotlib.ticker import PercentFormatter
from matplotlib.transforms import Affine2D, Bbox, Transform, blended_transform_factory

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.legend import Legend

    from analysis.simon_makuch import SimonMakuch
    from analysis.survival import KaplanMeier

DAYS_PER_MONTH = 365.25 / 12

# Okabe-Ito colours, each paired with its own line style so the curves stay
# apart when the page is printed in greyscale.
CURVE_STYLES: tuple[tuple[str, str | tuple], ...] = (
    ("#0072B2", "solid"),
    ("#D55E00", (0, (6, 2.5))),
    ("#009E73", (0, (6, 2, 1.5, 2))),
    ("#CC79A7", (0, (1.5, 1.5))),
)
# Confidence bands: the first plain, the others hatched in the curve's colour
# (rising lines, falling lines, dots), so overlapping bands stay apart in
# greyscale too. The hatching is drawn as lines or dots clipped to the band, not
# as a matplotlib hatch: matplotlib's SVG paints a hatch's pattern over a tile
# of the band's own colour, all at the band's fill opacity, so the SVG and the
# PDF made from it showed a plain tint where the PNG showed hatching.
BAND_HATCHES = (None, "/", "\\", ".")
HATCH_SPACING_PT = 6  # between lines along a row, as matplotlib's "////"; dots at half that
HATCH_LINEWIDTH_PT = 1.0
HATCH_DOT_PT = 1.0
HATCH_ALPHA = 0.45
LANDMARK_STYLE = {"color": "0.45", "linestyle": (0, (1, 2)), "linewidth": 0.9}
BAND_ALPHA = 0.16
FONT_PT = 9
TABLE_FONT_PT = 8
# The report's text face (templates/fonts, also embedded in the HTML and used
# by the PDF), so figures and text are one family in every format.
FONT_DIR = Path(__file__).resolve().parent.parent / "templates" / "fonts"
FONT_FAMILY = "Linux Libertine O"
for _font in sorted(FONT_DIR.glob("*.otf")):
    matplotlib.font_manager.fontManager.addfont(str(_font))
# Follow-up ending this little past a tick (in tick spacings) ends the axis at that tick.
AXIS_SLACK = 1 / 12
TABLE_ROWS = (("at_risk", "At risk"), ("censored", "Censored"), ("events", "Events"))
# Salt for the ids matplotlib writes into SVG files: a fixed salt makes two
# saves of the same figure byte-identical.
SVG_HASHSALT = "analysis.figures"
# Text stays text in the SVG (editable on a poster; the PDF draws it in the same font).
FIGURE_RC = {"font.family": FONT_FAMILY, "svg.fonttype": "none", "svg.hashsalt": SVG_HASHSALT}


def risk_table(curves: Sequence[KaplanMeier], times: Sequence[float]) -> pd.DataFrame:
    """Numbers at risk, censored and with an event for each curve at given times.

    At time ``t`` a patient is at risk when their follow-up time is ``>= t``
    (as R's ``summary(survfit, times=)`` and ggsurvfit's risk tables count);
    censored and events are cumulative over times ``<= t``.

    Parameters
    ----------
    curves : sequence of KaplanMeier
        Fitted curves (their ``table_`` has one row per distinct time).
    times : sequence of float
        Times in the curves' unit (days), ascending.

    Returns
    -------
    pandas.DataFrame
        One row per curve and time, curve by curve, with columns ``curve``
        (position in ``curves``), ``label``, ``time``, ``at_risk``,
        ``censored`` and ``events`` (the last three integers).

    Examples
    --------
    >>> from analysis.survival import KaplanMeier
    >>> km = KaplanMeier().fit([10, 20, 20, 35, 50], [1, 0, 1, 1, 0], label="All")
    >>> risk_table([km], [0, 20, 40]).drop(columns="curve")
      label  time  at_risk  censored  events
    0   All     0        5         0       0
    1   All    20        4         1       2
    2   All    40        1         1       3
    """
    times = np.asarray(times, dtype=float)
    if times.ndim != 1 or np.any(np.diff(times) < 0):
        raise ValueError(f"risk_table: times must be a 1-d ascending sequence, got {times!r}")
    rows = []
    for index, curve in enumerate(curves):
        table = _fitted_table(curve, index)
        curve_times = table["time"].to_numpy(dtype=float)
        removed = (table["n_event"] + table["n_censor"]).to_numpy()
        # Everyone still followed at time t: the n_risk of the first distinct
        # time >= t, or nobody once the last patient has left follow-up.
        first_at_or_after = np.searchsorted(curve_times, times, side="left")
        n_risk = table["n_risk"].to_numpy()
        at_risk = np.where(
            first_at_or_after < len(table),
            n_risk[np.minimum(first_at_or_after, len(table) - 1)],
            n_risk[0] - removed.sum(),
        )
        up_to = np.searchsorted(curve_times, times, side="right")
        censored = np.concatenate([[0], np.cumsum(table["n_censor"].to_numpy())])[up_to]
        events = np.concatenate([[0], np.cumsum(table["n_event"].to_numpy())])[up_to]
        for t, n_at_risk, n_censored, n_events in zip(times, at_risk, censored, events, strict=True):
            rows.append((index, curve.label_, t, n_at_risk, n_censored, n_events))
    frame = pd.DataFrame(rows, columns=["curve", "label", "time", "at_risk", "censored", "events"])
    if np.all(np.mod(times, 1) == 0):
        frame["time"] = frame["time"].astype(int)
    return frame.astype({"curve": int, "at_risk": int, "censored": int, "events": int})


#: Tick spacings (months) the axis chooses from beyond six months, and the most columns a risk table may have.
LONG_SPACINGS = (12, 24, 36, 60, 120, 240, 600)
MAX_TICK_INTERVALS = 12


def tick_spacing(end_months: float) -> int:
    """Six months, unless that would give more than 12 risk-table columns (then the smallest of 12, 24,
    36, 60, ... months that does) or fewer than two intervals (then 3 months, or 1).

    Examples
    --------
    >>> [tick_spacing(m) for m in (2.5, 8, 32.9, 66, 100, 424)]
    [1, 3, 6, 6, 12, 36]
    """
    def intervals(spacing: float) -> float:
        return end_months / spacing - AXIS_SLACK

    if intervals(6) > MAX_TICK_INTERVALS:
        return next((t for t in LONG_SPACINGS if intervals(t) <= MAX_TICK_INTERVALS), LONG_SPACINGS[-1])
    if intervals(6) < 2:
        return 3 if intervals(3) >= 2 else 1
    return 6


def _ticks_to(end_months: float, tick_months: int | None, slack: float = 1e-9) -> np.ndarray:
    """Ticks from 0 in steps of ``tick_months`` (default :func:`tick_spacing`) to the first at or after
    ``end_months`` (less ``slack`` steps); at least one step."""
    tick_months = tick_spacing(end_months) if tick_months is None else tick_months
    if tick_months <= 0:
        raise ValueError(f"tick_months must be positive, got {tick_months}")
    return np.arange(max(1, int(np.ceil(end_months / tick_months - slack))) + 1) * tick_months


def month_ticks(
    curves: Sequence[KaplanMeier],
    *,
    tick_months: int | None = None,
    max_months: float | None = None,
    days_per_month: float = DAYS_PER_MONTH,
) -> np.ndarray:
    """Tick positions (months) of a Kaplan-Meier figure's time axis.

    Ticks are the multiples of ``tick_months`` from 0 up to the first one at or
    after the longest follow-up, or up to ``max_months`` when given. Follow-up
    ending within a twelfth of a spacing past a tick (66.04 months with 6-month
    ticks) ends at that tick: a column of zeros at 72 would show no one.

    Parameters
    ----------
    curves : sequence of KaplanMeier
        Fitted curves; their times are in days.
    tick_months : int, optional
        Spacing of the ticks in months; default six months, or what keeps
        between 2 and 12 intervals (:func:`tick_spacing`), so any follow-up,
        in any unit, gets a legible axis.
    max_months : float, optional
        End of the axis in months; ticks past it are dropped.
    days_per_month : float, default 365.25 / 12
        Length of a month in days.
    note : str, optional
        Small grey text in the top right corner, e.g. "Synthetic example
        data", which stays with the figure when it is copied onto a slide.

    Returns
    -------
    numpy.ndarray
        The tick positions in months, ascending, starting at 0.

    Examples
    --------
    >>> from analysis.survival import KaplanMeier
    >>> km = KaplanMeier().fit([100, 400, 1000], [1, 1, 0])  # 1000 days = 32.9 months
    >>> month_ticks([km], tick_months=6).tolist()
    [0, 6, 12, 18, 24, 30, 36]
    >>> month_ticks([KaplanMeier().fit([100, 12_900], [1, 0])]).tolist()  # 424 months: 36-month steps
    [0, 36, 72, 108, 144, 180, 216, 252, 288, 324, 360, 396, 432]
    >>> month_ticks([km], tick_months=12, max_months=24).tolist()
    [0, 12, 24]
    >>> month_ticks([KaplanMeier().fit([100, 2011], [1, 0])]).tolist()[-1]  # 66.07 months
    66
    """
    if max_months is not None and max_months <= 0:
        raise ValueError(f"max_months must be positive, got {max_months}")
    if days_per_month <= 0:
        raise ValueError(f"days_per_month must be positive, got {days_per_month}")
    end = max_months if max_months is not None else _longest_follow_up(curves) / days_per_month
    ticks = _ticks_to(end, tick_months, AXIS_SLACK if max_months is None else 1e-9)
    if max_months is not None and len(ticks) > 2 and ticks[-1] > max_months + 1e-9:
        ticks = ticks[:-1]
    return ticks


def km_figure(
    curves: Sequence[KaplanMeier],
    *,
    title: str | None = None,
    annotations: Sequence[str] = (),
    landmark_days: float | None = None,
    tick_months: int | None = None,
    max_months: float | None = None,
    ylabel: str = "Overall survival",
    xlabel: str = "Months",
    days_per_month: float = DAYS_PER_MONTH,
    note: str | None = None,
) -> Figure:
    """Kaplan-Meier curves with confidence bands and a KMunicate risk table.

    Parameters
    ----------
    curves : sequence of KaplanMeier
        One to four fitted curves (times in days). With more than one curve
        each needs a label; a single curve's label, if any, heads its table.
    title : str, optional
        Title above the plot (journals usually leave it to the caption).
    annotations : sequence of str
        Finished text (e.g. ``"2-year OS 39.4% (95% CI: 19.1-59.8%)"``),
        shown in the legend. The legend goes inside the plot where it covers
        no curve, band, censor mark or landmark line, else above the plot.
    landmark_days : float, optional
        Draws a dotted vertical line at this time (days).
    tick_months : int, optional
        Spacing of the x-axis ticks and of the risk-table columns, in months;
        default chosen from the follow-up (:func:`tick_spacing`).
    max_months : float, optional
        Cut the x-axis, and the curves, at the last tick not past this many
        months (default: the axis ends at the first tick at or after the
        longest follow-up).
    ylabel, xlabel : str
        Axis labels.
    days_per_month : float, default 365.25 / 12
        Length of a month in days.
    note : str, optional
        Small grey text in the top right corner, e.g. "Synthetic example
        data", which stays with the figure when it is copied onto a slide.

    Returns
    -------
    matplotlib.figure.Figure
        6.3 in wide (an A4 text column); the risk table adds to the height.

    Examples
    --------
    >>> from analysis.survival import KaplanMeier
    >>> km = KaplanMeier().fit([120, 300, 450, 700, 800, 1000], [1, 0, 1, 1, 0, 0], label="All")
    >>> fig = km_figure([km], annotations=["Median follow-up 26 months"], landmark_days=730.5)
    >>> [round(float(size), 2) for size in fig.get_size_inches()]
    [6.3, 3.41]
    """
    with matplotlib.rc_context(FIGURE_RC):
        return _km_figure(list(curves), title=title, annotations=annotations, landmark_days=landmark_days,
                          tick_months=tick_months, max_months=max_months, ylabel=ylabel, xlabel=xlabel,
                          days_per_month=days_per_month, note=note)


def _km_figure(curves, *, title, annotations, landmark_days, tick_months, max_months, ylabel, xlabel,
               days_per_month, note) -> Figure:
    _check_curves(curves)
    ticks = month_ticks(curves, tick_months=tick_months, max_months=max_months, days_per_month=days_per_month)
    table = risk_table(curves, ticks * days_per_month)
    n_rows = sum(len(TABLE_ROWS) + (1 if curve.label_ else 0) for curve in curves)
    layout = _Layout.for_table(n_rows=n_rows, has_title=title is not None)

    fig = Figure(figsize=layout.size, dpi=100)
    ax = fig.add_axes(layout.plot_rect(), label="survival")
    table_ax = fig.add_axes(layout.table_rect(), label="risk_table", sharex=ax)
    handles = [
        _draw_curve(ax, curve, style, hatch, ticks[-1], AXIS_SLACK * (ticks[1] - ticks[0]), days_per_month)
        for curve, style, hatch in zip(curves, CURVE_STYLES, BAND_HATCHES, strict=False)
    ]
    if landmark_days is not None:
        ax.axvline(landmark_days / days_per_month, zorder=1, **LANDMARK_STYLE)
    _style_axes(ax, ticks, xlabel=xlabel, ylabel=ylabel)
    _draw_risk_table(table_ax, table, ticks, layout)
    if title is not None:
        fig.text(
            layout.left / layout.width,
            1 - layout.top_pad / layout.height,
            title,
            fontsize=FONT_PT + 1,
            fontweight="bold",
            ha="left",
            va="top",
        )

    if note is not None:
        fig.text(1 - layout.right / layout.width, 1 - 0.04 / layout.height, note,
                 fontsize=FONT_PT - 1, fontstyle="italic", color="0.45", ha="right", va="top")

    # A single curve is named by its risk-table heading; a legend names several,
    # each on one line with its own annotation ("Remission: 2-year OS ...").
    entries = []
    annotations = list(annotations)
    if len(curves) > 1:
        for handle, curve in zip(handles, curves, strict=True):
            own = next((text for text in annotations if text.startswith(f"{curve.label_}: ")), None)
            entries.append((handle, own or curve.label_))
            if own is not None:
                annotations.remove(own)
    entries += [(Patch(visible=False), text) for text in annotations]
    if entries:
        _place_legend(fig, ax, table_ax, entries, layout)
    return fig


class SavedFigure(NamedTuple):
    """A figure written as PNG and SVG, which displays as those same files.

    Returned by :func:`save_figure`. As the last expression of a report cell
    it shows the saved PNG and SVG themselves (a Jupyter kernel, Quarto and
    the built-in renderer take the image/png and image/svg+xml outputs), so a
    figure is drawn once per format rather than once more for the document.
    """

    png: Path
    svg: Path

    def _repr_mimebundle_(self, include=None, exclude=None) -> dict[str, bytes | str]:
        # Quarto takes the SVG whenever a cell offers it, in every format, so
        # under Quarto (which names the format's figure format in
        # QUARTO_FIG_FORMAT) offer only what that format should get: PNG for
        # HTML and DOCX, SVG for Typst. The built-in renderer executes once
        # for all formats and picks per format itself, so it gets both.
        wanted = os.environ.get("QUARTO_FIG_FORMAT")
        bundle: dict[str, bytes | str] = {}
        if wanted != "svg":
            bundle["image/png"] = self.png.read_bytes()
        if wanted in (None, "svg"):
            bundle["image/svg+xml"] = self.svg.read_text(encoding="utf-8")
        return bundle


def save_figure(fig: Figure, stem: str, out_dir: str | Path) -> SavedFigure:
    """Write a figure as ``out_dir/figures/<stem>.png`` (300 dpi) and ``.svg``.

    Both files are reproducible: saving the same figure twice gives the same
    bytes (fixed SVG id salt, no creation date).

    Parameters
    ----------
    fig : matplotlib.figure.Figure
        The figure, e.g. from :func:`km_figure`.
    stem : str
        File name without extension; no directory parts.
    out_dir : str or pathlib.Path
        Output directory; ``figures/`` is created inside it.

    Returns
    -------
    SavedFigure
        The PNG path and the SVG path; displays as those images.

    Examples
    --------
    >>> import tempfile
    >>> from analysis.survival import KaplanMeier
    >>> km = KaplanMeier().fit([120, 300, 450, 700], [1, 0, 1, 1])
    >>> with tempfile.TemporaryDirectory() as out:
    ...     png, svg = save_figure(km_figure([km]), "os", out)
    ...     print(png.relative_to(out), svg.relative_to(out))
    figures/os.png figures/os.svg
    """
    if not stem or Path(stem).name != stem or stem in {".", ".."}:
        raise ValueError(f"save_figure: stem must be a plain file name without directories, got {stem!r}")
    figures_dir = Path(out_dir) / "figures"
    figures_dir.mkdir(parents=True, exist_ok=True)
    png, svg = figures_dir / f"{stem}.png", figures_dir / f"{stem}.svg"
    with matplotlib.rc_context(FIGURE_RC):
        fig.savefig(png, dpi=300, format="png", facecolor="white")
        fig.savefig(svg, format="svg", facecolor="white", metadata={"Date": None})
    return SavedFigure(png, svg)


@dataclass(frozen=True)
class _Layout:
    """Figure geometry in inches, so margins stay fixed whatever the height."""

    n_rows: int
    width: float = 6.3
    left: float = 1.0  # room for the y label and the table's row labels
    right: float = 0.25
    top_pad: float = 0.16
    title: float = 0.0
    legend: float = 0.0  # strip above the plot, used when no place inside fits
    # Short enough that two figures of two curves, with their risk tables and captions, share
    # an A4 page of the PDF at 90% of its text width (templates/typst-template.typ).
    plot: float = 1.95
    axis: float = 0.5  # tick labels and x label
    gap: float = 0.12
    row: float = 0.15
    bottom: float = 0.08

    @classmethod
    def for_table(cls, *, n_rows: int, has_title: bool) -> _Layout:
        return cls(n_rows=n_rows, title=0.3 if has_title else 0.0)

    @property
    def height(self) -> float:
        above = self.top_pad + self.title + self.legend
        return above + self.plot + self.axis + self.gap + self.n_rows * self.row + self.bottom

    @property
    def size(self) -> tuple[float, float]:
        return (self.width, self.height)

    def plot_rect(self) -> list[float]:
        bottom = self.bottom + self.n_rows * self.row + self.gap + self.axis
        return self._rect(bottom, self.plot)

    def table_rect(self) -> list[float]:
        return self._rect(self.bottom, self.n_rows * self.row)

    def _rect(self, bottom: float, height: float) -> list[float]:
        plot_width = self.width - self.left - self.right
        return [self.left / self.width, bottom / self.height, plot_width / self.width, height / self.height]


def _fitted_table(curve: KaplanMeier, index: int) -> pd.DataFrame:
    table = getattr(curve, "table_", None)
    if table is None:
        raise ValueError(f"curve {index} ({curve!r}) is not fitted: call .fit() first")
    missing = {"time", "n_risk", "n_event", "n_censor", "surv", "lower", "upper"} - set(table.columns)
    if missing:
        raise ValueError(f"curve {index}: table_ lacks column(s) {sorted(missing)}")
    if table.empty:
        raise ValueError(f"curve {index} ({curve.label_!r}) has no patients")
    return table


def _longest_follow_up(curves: Sequence[KaplanMeier]) -> float:
    if not curves:
        raise ValueError("no curves given: a Kaplan-Meier figure needs at least one fitted curve")
    return max(float(_fitted_table(curve, index)["time"].max()) for index, curve in enumerate(curves))


def _check_curves(curves: list[KaplanMeier]) -> None:
    if not curves:
        raise ValueError("no curves given: a Kaplan-Meier figure needs at least one fitted curve")
    if len(curves) > len(CURVE_STYLES):
        raise ValueError(
            f"{len(curves)} curves given: a figure shows at most {len(CURVE_STYLES)} to stay legible"
        )
    for index, curve in enumerate(curves):
        _fitted_table(curve, index)
        if len(curves) > 1 and not curve.label_:
            raise ValueError(f"curve {index} has no label: label each curve (fit(..., label=)) to plot several")


def _step_path(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Vertices of a right-continuous step function through (x, y)."""
    step_x = np.repeat(x, 2)[1:]
    step_y = np.repeat(y, 2)[:-1]
    return step_x, step_y


def _draw_curve(
    ax: Axes, curve: KaplanMeier, style: tuple[str, str | tuple], hatch: str | None, end_months: float,
    slack_months: float, days_per_month: float,
) -> tuple[Patch, Line2D]:
    colour, linestyle = style
    table = curve.table_
    months = table["time"].to_numpy(dtype=float) / days_per_month
    surv = table["surv"].to_numpy(dtype=float)
    # Where a CI is undefined (S = 1 before the first event, S = 0 for R) the
    # band closes onto the curve rather than leaving a gap.
    lower = table["lower"].fillna(table["surv"]).to_numpy(dtype=float)
    upper = table["upper"].fillna(table["surv"]).to_numpy(dtype=float)
    x = np.concatenate([[0.0], months])
    keep = x <= end_months
    cut_at_end = not keep.all()
    x = np.append(x[keep], end_months) if cut_at_end else x
    y, low, high = (
        np.concatenate([[1.0], values])[keep] for values in (surv, lower, upper)
    )
    if cut_at_end:
        y, low, high = np.append(y, y[-1]), np.append(low, low[-1]), np.append(high, high[-1])

    band_key = _fill_band(ax, x, low, high, colour, hatch)
    line = ax.plot(*_step_path(x, y), color=colour, linestyle=linestyle, linewidth=1.6, zorder=3)[0]
    line.set_solid_capstyle("butt")
    # "+" marks: the vertical stroke shows on a dashed line's gaps as on its dashes.
    # A patient censored just past the axis's end (see AXIS_SLACK) is marked at the end.
    censored = (table["n_censor"].to_numpy() > 0) & (months <= end_months + slack_months)
    ax.plot(
        np.minimum(months[censored], end_months),
        surv[censored],
        linestyle="none",
        marker="+",
        markersize=7,
        markeredgewidth=1.2,
        color=colour,
        zorder=4,
        clip_on=False,
    )
    return band_key, Line2D([], [], color=colour, linestyle=linestyle, linewidth=1.6)


class _BandKey(Patch):
    """A confidence band's legend key: its tint, hatched as the band is (see :class:`_HandlerBand`)."""

    def __init__(self, colour: str, hatch: str | None):
        alpha = BAND_ALPHA if hatch is None else BAND_ALPHA * 0.6
        super().__init__(facecolor=matplotlib.colors.to_rgba(colour, alpha), linewidth=0)
        self.colour = colour
        self.band_hatch = hatch


class _HandlerBand(HandlerPatch):
    """Draws a :class:`_BandKey` as a tinted box with the band's hatching clipped to it."""

    def create_artists(self, legend, orig_handle, xdescent, ydescent, width, height, fontsize, trans):
        box = Rectangle((-xdescent, -ydescent), width, height)
        self.update_prop(box, orig_handle, legend)
        box.set_transform(trans)  # a legend's handle box is measured in points
        if orig_handle.band_hatch is None:
            return [box]
        hatching = _Hatching(orig_handle.band_hatch, orig_handle.colour, trans)
        hatching.set_clip_path(box)
        return [box, hatching]


_LEGEND_HANDLERS = {tuple: HandlerTuple(ndivide=None, pad=0), _BandKey: _HandlerBand()}


def _fill_band(ax: Axes, x: np.ndarray, low: np.ndarray, high: np.ndarray, colour: str,
               hatch: str | None) -> _BandKey:
    """A confidence band: a light fill, hatched in the curve's colour for all but the first curve.

    Returns the band's legend key.
    """
    key = _BandKey(colour, hatch)
    band = ax.fill_between(x, low, high, step="post", zorder=2, facecolor=key.get_facecolor(), linewidth=0)
    if hatch is not None:
        # In points from the figure's corner, so the lines run at 45 degrees whatever the axes' scales.
        points = Affine2D().scale(1 / 72) + ax.get_figure().dpi_scale_trans
        hatching = _Hatching(hatch, colour, points)
        hatching.set_clip_path(GeometryPath.make_compound_path(*band.get_paths()), band.get_transform())
        hatching.set_zorder(2)
        ax.add_collection(hatching, autolim=False)
    return key


class _Hatching(LineCollection):
    """Rising lines ("/"), falling lines ("\\") or dots (".") over what the clip path covers.

    The lines are laid out when drawn, over the clip path's extent at that time,
    so they cover a band wherever the layout has put it, and no more. ``transform``
    maps points (1/72 inch) to the display.
    """

    def __init__(self, hatch: str, colour: str, transform: Transform):
        if hatch not in ("/", "\\", "."):
            raise ValueError(f"unknown band hatch {hatch!r}: use '/', '\\\\' or '.'")
        self.hatch_kind = hatch
        style = {"linewidths": HATCH_LINEWIDTH_PT}
        if hatch == ".":
            # Rows of dots as dashed lines (a dot a dash), every other row shifted by half a step
            # as in matplotlib's dot hatch: a few dozen lines where single dots would be thousands.
            dashes = (HATCH_DOT_PT, HATCH_SPACING_PT / 2 - HATCH_DOT_PT)
            style = {"linewidths": HATCH_DOT_PT, "linestyles": [(0, dashes), (HATCH_SPACING_PT / 4, dashes)]}
        super().__init__([], transform=transform, colors=[matplotlib.colors.to_rgba(colour, HATCH_ALPHA)],
                         capstyle="butt", **style)

    def draw(self, renderer) -> None:
        # A Rectangle given as clip path (a legend key) becomes a clip box.
        clip = self.get_clip_path()
        extent = clip.get_fully_transformed_path().get_extents() if clip is not None else self.get_clip_box()
        self.set_segments(_hatch_segments(self.hatch_kind, self.get_transform().inverted().transform_bbox(extent)))
        super().draw(renderer)


def _hatch_segments(hatch: str, region: Bbox) -> list[list[tuple[float, float]]]:
    """The lines of a hatch over ``region`` (points), on a grid fixed to the origin."""
    x0, y0, x1, y1 = region.extents
    if hatch == ".":
        step = HATCH_SPACING_PT / 2
        # From an even row, so the rows' alternating dash offsets stay on the grid.
        rows = np.arange(2 * np.floor(y0 / (2 * step)), np.ceil(y1 / step) + 1) * step
        return [[(x0 - x0 % step, y), (x1, y)] for y in rows]
    spacing = HATCH_SPACING_PT
    if hatch == "/":  # y = x - c
        offsets = np.arange(np.floor((x0 - y1) / spacing), np.ceil((x1 - y0) / spacing) + 1) * spacing
        return [[(x0, x0 - c), (x1, x1 - c)] for c in offsets]
    # "\\": y = c - x
    offsets = np.arange(np.floor((x0 + y0) / spacing), np.ceil((x1 + y1) / spacing) + 1) * spacing
    return [[(x0, c - x0), (x1, c - x1)] for c in offsets]


def _style_axes(ax: Axes, ticks: np.ndarray, *, xlabel: str, ylabel: str) -> None:
    ax.set_xlim(0, ticks[-1])
    ax.set_ylim(0, 1)
    ax.set_xticks(ticks)
    ax.set_yticks(np.linspace(0, 1, 6))
    ax.yaxis.set_major_formatter(PercentFormatter(xmax=1, decimals=0))
    ax.tick_params(labelsize=FONT_PT, length=3.5, width=0.8)
    ax.set_xlabel(xlabel, fontsize=FONT_PT)
    ax.set_ylabel(ylabel, fontsize=FONT_PT)
    ax.grid(axis="y", color="0.9", linewidth=0.6, zorder=0)
    ax.set_axisbelow(True)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    for side in ("left", "bottom"):
        ax.spines[side].set_linewidth(0.8)
    # Keep the curve's first drop and the last tick off the spines.
    ax.spines["left"].set_position(("outward", 4))
    ax.spines["bottom"].set_position(("outward", 4))


def _draw_risk_table(table_ax: Axes, table: pd.DataFrame, ticks: np.ndarray, layout: _Layout) -> None:
    n_rows = layout.n_rows
    table_ax.set_ylim(n_rows - 0.5, -0.5)
    table_ax.axis("off")
    plot_width = layout.width - layout.left - layout.right
    # Row labels end left of the numbers under tick 0; curve names start at the figure edge.
    row_label = blended_transform_factory(table_ax.transAxes, table_ax.transData)
    row_label_x = -0.22 / plot_width
    heading_x = -(layout.left - 0.08) / plot_width
    row = 0
    for index, counts in table.groupby("curve", sort=True):
        colour = CURVE_STYLES[index][0]
        label = counts["label"].iloc[0]
        if label:
            table_ax.text(
                heading_x, row, label, transform=row_label, fontsize=TABLE_FONT_PT,
                fontweight="bold", color=colour, ha="left", va="center",
            )
            row += 1
        for column, row_name in TABLE_ROWS:
            table_ax.text(
                row_label_x, row, row_name, transform=row_label, fontsize=TABLE_FONT_PT,
                ha="right", va="center", color="0.15",
            )
            for tick, value in zip(ticks, counts[column], strict=True):
                table_ax.text(
                    tick, row, f"{value:d}", fontsize=TABLE_FONT_PT, ha="center", va="center",
                    color="0.15", gid=f"risk-{index}-{column}",
                )
            row += 1


def _place_legend(
    fig: Figure, ax: Axes, table_ax: Axes, entries: list[tuple[object, str]], layout: _Layout
) -> Legend:
    """Put the legend inside the plot where it covers no curve, band or mark; else above the plot."""
    handles, labels = zip(*entries, strict=True)
    options = {
        "handler_map": _LEGEND_HANDLERS,
        "fontsize": TABLE_FONT_PT,
        "frameon": False,
        "handlelength": 2.6,
        "borderaxespad": 0.4,
    }
    # Curves start at the upper left, so its opposite corners are tried first.
    for loc in ("upper right", "lower left", "center right", "lower right", "lower center", "upper center"):
        legend = ax.legend(handles, labels, loc=loc, **options)
        if not _covers_data(ax, legend.get_window_extent()):
            return legend
    legend.remove()
    legend = fig.legend(handles, labels, loc="lower left", ncols=1, **options)
    height = legend.get_window_extent().height / fig.dpi
    taller = replace(layout, legend=height + 0.05)
    fig.set_size_inches(taller.size)
    ax.set_position(taller.plot_rect())
    table_ax.set_position(taller.table_rect())
    legend.set_bbox_to_anchor(
        (taller.left / taller.width - 0.015, 1 - (taller.top_pad + taller.title + height + 0.05) / taller.height),
        transform=fig.transFigure,
    )
    return legend


def _covers_data(ax: Axes, box: Bbox) -> bool:
    box = box.padded(0.04 * ax.get_figure().dpi)  # keep ~1 mm clear of any ink
    for line in ax.get_lines():
        path = line.get_transform().transform_path(line.get_path())
        if line.get_linestyle() == "None":
            x, y = path.vertices.T
            if np.any((box.x0 <= x) & (x <= box.x1) & (box.y0 <= y) & (y <= box.y1)):
                return True
        elif path.intersects_bbox(box, filled=False):
            return True
    # The bands, not their hatching, which covers the figure and is clipped to them.
    for band in (collection for collection in ax.collections if isinstance(collection, PolyCollection)):
        for path in band.get_paths():
            if band.get_transform().transform_path(path).intersects_bbox(box, filled=True):
                return True
    return False


def cumulative_incidence_figure(
    curves: Sequence,
    *,
    annotations: Sequence[str] = (),
    landmark_days: float | None = None,
    tick_months: int | None = None,
    ylabel: str = "Cumulative incidence",
    xlabel: str = "Months",
    days_per_month: float = DAYS_PER_MONTH,
    note: str | None = None,
) -> Figure:
    """Cumulative incidence curves (Aalen-Johansen) with their log(-log) confidence bands.

    Parameters
    ----------
    curves : sequence of CumulativeIncidence
        One to four fitted curves (times in days), each labelled when there are several.
    annotations, landmark_days, tick_months, ylabel, xlabel, days_per_month, note
        As for :func:`km_figure`.

    Examples
    --------
    >>> from analysis.competing_risks import CumulativeIncidence
    >>> ci = CumulativeIncidence().fit([100, 200, 400, 700], [1, 2, 1, 0], label="All")
    >>> fig = cumulative_incidence_figure([ci], landmark_days=365.25)
    >>> fig.axes[0].get_ylabel()
    'Cumulative incidence'
    """
    curves = list(curves)
    if not curves or len(curves) > len(CURVE_STYLES):
        raise ValueError(f"a cumulative-incidence figure shows 1 to {len(CURVE_STYLES)} curves, got {len(curves)}")
    if len(curves) > 1 and not all(curve.label_ for curve in curves):
        raise ValueError("label each curve (fit(..., label=)) to plot several")
    ticks = _ticks_to(max(float(curve.table_["time"].max()) for curve in curves) / days_per_month, tick_months)
    with matplotlib.rc_context(FIGURE_RC):
        return _cumulative_incidence_figure(curves, ticks, annotations, landmark_days, ylabel, xlabel,
                                            days_per_month, note)


def _cumulative_incidence_figure(curves, ticks, annotations, landmark_days, ylabel, xlabel, days_per_month,
                                 note) -> Figure:
    fig = Figure(figsize=(6.3, 3.6), dpi=100)
    ax = fig.add_axes([0.12, 0.15, 0.84, 0.78], label="incidence")
    handles = []
    for curve, (colour, linestyle), hatch in zip(curves, CURVE_STYLES, BAND_HATCHES, strict=False):
        table = curve.table_
        x = np.concatenate([[0.0], table["time"].to_numpy(dtype=float) / days_per_month])
        y, low, high = (np.concatenate([[0.0], table[c].fillna(table["incidence"]).to_numpy(dtype=float)])
                        for c in ("incidence", "lower", "upper"))
        band_key = _fill_band(ax, x, low, high, colour, hatch)
        ax.plot(*_step_path(x, y), color=colour, linestyle=linestyle, linewidth=1.6, zorder=3)
        handles.append((band_key, Line2D([], [], color=colour, linestyle=linestyle, linewidth=1.6)))
    if landmark_days is not None:
        ax.axvline(landmark_days / days_per_month, zorder=1, **LANDMARK_STYLE)
    _style_axes(ax, ticks, xlabel=xlabel, ylabel=ylabel)
    if note is not None:
        fig.text(0.98, 0.99, note, fontsize=FONT_PT - 1, fontstyle="italic", color="0.45", ha="right", va="top")
    entries = [(handle, curve.label_) for handle, curve in zip(handles, curves, strict=True)] if len(curves) > 1 else []
    entries += [(Patch(visible=False), text) for text in annotations]
    if entries:
        labels = [text for _, text in entries]
        ax.legend([h for h, _ in entries], labels, loc="upper left", fontsize=TABLE_FONT_PT, frameon=False,
                  handler_map=_LEGEND_HANDLERS, handlelength=2.6)
    return fig


def simon_makuch_figure(
    result: SimonMakuch,
    *,
    annotations: Sequence[str] = (),
    landmark_days: float | None = None,
    tick_months: int | None = None,
    ylabel: str = "Overall survival",
    xlabel: str = "Months",
    days_per_month: float = DAYS_PER_MONTH,
    note: str | None = None,
) -> Figure:
    """Simon-Makuch curves (a grouping patients join during follow-up) with the patients in each group below.

    The numbers under the axis are the patients counted in each group at each
    tick: they move from the first group to the second when the grouping
    becomes known, so both can change without an event.

    Examples
    --------
    >>> from analysis.simon_makuch import simon_makuch
    >>> sm = simon_makuch([300, 150, 240, 180, 90], [1, 0, 1, 1, 1], [60, None, None, 60, None],
    ...                   labels=("Not yet", "Responded"))
    >>> [round(float(size), 2) for size in simon_makuch_figure(sm).get_size_inches()]
    [6.3, 4.2]
    """
    with matplotlib.rc_context(FIGURE_RC):
        curves = result.curves
        last = max(float(c.table["time"].max()) for c in curves if len(c.table)) / days_per_month
        ticks = _ticks_to(last, tick_months).astype(float)
        fig = Figure(figsize=(6.3, 4.2), dpi=100)
        ax = fig.add_axes([0.12, 0.34, 0.84, 0.6], label="simon_makuch")
        handles = []
        for curve, (colour, linestyle) in zip(curves, CURVE_STYLES, strict=False):
            table = curve.table
            x = np.concatenate([[0.0], table["time"].to_numpy(dtype=float) / days_per_month])
            y = np.concatenate([[1.0], table["surv"].to_numpy(dtype=float)])
            ax.plot(*_step_path(x, y), color=colour, linestyle=linestyle, linewidth=1.6, zorder=3)
            censored = table[table["n_censor"] > 0]
            ax.plot(censored["time"] / days_per_month, censored["surv"], linestyle="none", marker="|",
                    markersize=6, color=colour, zorder=4)
            handles.append(Line2D([], [], color=colour, linestyle=linestyle, linewidth=1.6))
        if landmark_days is not None:
            ax.axvline(landmark_days / days_per_month, zorder=1, **LANDMARK_STYLE)
        _style_axes(ax, ticks, xlabel=xlabel, ylabel=ylabel)
        if note is not None:
            fig.text(0.98, 0.99, note, fontsize=FONT_PT - 1, fontstyle="italic", color="0.45", ha="right", va="top")
        labels = [curve.label for curve in curves] + list(annotations)
        ax.legend(handles + [Patch(visible=False)] * len(annotations), labels, loc="upper right",
                  fontsize=TABLE_FONT_PT, frameon=False, handlelength=2.6)
        table_ax = fig.add_axes([0.12, 0.02, 0.84, 0.18], label="in_group", sharex=ax)
        table_ax.axis("off")
        table_ax.set_ylim(0, 2 * len(curves) + 1)
        left = blended_transform_factory(fig.transFigure, table_ax.transData)
        table_ax.text(0.01, 2 * len(curves) + 0.5, "Patients in each group", fontsize=TABLE_FONT_PT,
                      fontweight="bold", ha="left", va="center", transform=left)
        for row, curve in enumerate(curves):
            y = 2 * (len(curves) - row) - 0.5
            table_ax.text(0.01, y, curve.label, fontsize=TABLE_FONT_PT, ha="left", va="center", transform=left)
            for tick in ticks:
                # In the group just after the tick (start <= t < stop): those it follows from then on.
                table_ax.text(tick, y - 1, str(curve.at_risk(tick * days_per_month + 1e-9)),
                              fontsize=TABLE_FONT_PT, ha="center", va="center")
        return fig
