"""Kaplan-Meier figures: the risk table's counts, the axes, and the saved files."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest
from matplotlib.collections import LineCollection, PolyCollection
from matplotlib.colors import to_hex
from PIL import Image

from analysis.figures import CURVE_STYLES, km_figure, month_ticks, risk_table, save_figure
from analysis.survival import KaplanMeier

# Ten patients (days, event). With 30-day months the ticks 0, 6, 12, 18, 24
# months fall on days 0, 180, 360, 540, 720, so patients 3, 4 and 6 sit exactly
# on a tick and test the ">= t" (at risk) and "<= t" (censored, events) rules.
TEN_PATIENTS = pd.DataFrame(
    {
        "days": [30, 90, 180, 180, 250, 360, 400, 500, 650, 700],
        "died": [1, 0, 1, 0, 1, 0, 1, 1, 0, 1],
    }
)
THIRTY_DAY_MONTHS = 30.0


def ten_patients(label="All patients"):
    return KaplanMeier().fit(TEN_PATIENTS["days"], TEN_PATIENTS["died"], label=label)


def two_groups():
    """Two arms on the real calendar (365.25/12-day months), one with a plateau."""
    good = KaplanMeier().fit(
        [60, 200, 240, 400, 520, 610, 700, 760, 900, 1020, 1100, 1150, 1200, 1300],
        [1, 0, 1, 0, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0],
        label="MRD-negative remission",
    )
    poor = KaplanMeier().fit(
        [20, 45, 80, 110, 150, 190, 230, 300, 330, 420, 560, 640, 800],
        [1, 1, 0, 1, 1, 1, 0, 1, 1, 1, 0, 1, 0],
        label="No MRD-negative remission",
    )
    return [good, poor]


def drawn_counts(fig, curve, column):
    """The integers the figure prints in one row of its risk table."""
    (table_ax,) = [ax for ax in fig.axes if ax.get_label() == "risk_table"]
    return [int(text.get_text()) for text in table_ax.texts if text.get_gid() == f"risk-{curve}-{column}"]


def test_risk_table_matches_hand_count_with_patients_on_ticks():
    # At risk at t = patients with days >= t:
    #   t=0: all 10;  t=180: 180,180,250,360,400,500,650,700 = 8;
    #   t=360: 360,400,500,650,700 = 5;  t=540: 650,700 = 2;  t=720: nobody = 0.
    # Censored with days <= t (censorings at 90, 180, 360, 650):
    #   0, then 90+180 = 2, then +360 = 3, still 3, then +650 = 4.
    # Events with days <= t (deaths at 30, 180, 250, 400, 500, 700):
    #   0, then 30+180 = 2, then +250 = 3, then +400+500 = 5, then +700 = 6.
    table = risk_table([ten_patients()], [0, 180, 360, 540, 720])
    assert table["at_risk"].tolist() == [10, 8, 5, 2, 0]
    assert table["censored"].tolist() == [0, 2, 3, 3, 4]
    assert table["events"].tolist() == [0, 2, 3, 5, 6]
    assert table["time"].tolist() == [0, 180, 360, 540, 720]
    assert set(table["label"]) == {"All patients"}


def test_risk_table_between_distinct_times_and_per_curve():
    # Just after a tick-day: t=181 excludes the two patients who left at 180;
    # t=701 is past everyone. The second curve is the first shifted by 1000
    # days: nobody has left it yet at t <= 1000.
    shifted = KaplanMeier().fit(TEN_PATIENTS["days"] + 1000, TEN_PATIENTS["died"], label="Later")
    table = risk_table([ten_patients(), shifted], [181, 701])
    assert table["curve"].tolist() == [0, 0, 1, 1]
    assert table["label"].tolist() == ["All patients", "All patients", "Later", "Later"]
    assert table["at_risk"].tolist() == [6, 0, 10, 10]
    assert table["censored"].tolist() == [2, 4, 0, 0]
    assert table["events"].tolist() == [2, 6, 0, 0]


def test_risk_table_rejects_descending_times():
    with pytest.raises(ValueError, match="ascending"):
        risk_table([ten_patients()], [180, 0])


def test_figure_prints_the_hand_counted_table():
    fig = km_figure([ten_patients()], days_per_month=THIRTY_DAY_MONTHS)
    assert drawn_counts(fig, 0, "at_risk") == [10, 8, 5, 2, 0]
    assert drawn_counts(fig, 0, "censored") == [0, 2, 3, 3, 4]
    assert drawn_counts(fig, 0, "events") == [0, 2, 3, 5, 6]
    (table_ax,) = [ax for ax in fig.axes if ax.get_label() == "risk_table"]
    numbers = [text for text in table_ax.texts if text.get_gid() == "risk-0-at_risk"]
    assert [text.get_position()[0] for text in numbers] == [0, 6, 12, 18, 24]
    labels = [text.get_text() for text in table_ax.texts if not text.get_gid()]
    assert labels == ["All patients", "At risk", "Censored", "Events"]
    unlabelled = km_figure([ten_patients(label=None)], days_per_month=THIRTY_DAY_MONTHS)
    (table_ax,) = [ax for ax in unlabelled.axes if ax.get_label() == "risk_table"]
    assert [text.get_text() for text in table_ax.texts if not text.get_gid()] == ["At risk", "Censored", "Events"]
    assert drawn_counts(unlabelled, 0, "events") == [0, 2, 3, 5, 6]


def test_two_curve_table_labels_are_coloured_like_their_curves():
    curves = two_groups()
    fig = km_figure(curves)
    ticks = month_ticks(curves)
    expected = risk_table(curves, ticks * 365.25 / 12)
    for index in (0, 1):
        assert drawn_counts(fig, index, "at_risk") == expected.query("curve == @index")["at_risk"].tolist()
    (ax,) = [ax for ax in fig.axes if ax.get_label() == "survival"]
    (table_ax,) = [ax for ax in fig.axes if ax.get_label() == "risk_table"]
    steps = [line for line in ax.get_lines() if line.get_linestyle() != "None" and len(line.get_xdata()) > 2]
    for curve, line in zip(curves, steps, strict=True):
        (heading,) = [text for text in table_ax.texts if text.get_text() == curve.label_]
        assert to_hex(heading.get_color()) == to_hex(line.get_color())
    # Counts at 0: every patient at risk (14 and 13 patients).
    assert drawn_counts(fig, 0, "at_risk")[0] == 14
    assert drawn_counts(fig, 1, "at_risk")[0] == 13


def test_ticks_are_six_month_steps_ending_at_first_tick_after_follow_up():
    # Longest follow-up 700 days = 23.0 months of 365.25/12 days -> axis to 24;
    # with 30-day months 700 days = 23.3 months -> also 24; 1300 days = 42.7 -> 48.
    assert month_ticks([ten_patients()]).tolist() == [0, 6, 12, 18, 24]
    assert month_ticks(two_groups()).tolist() == [0, 6, 12, 18, 24, 30, 36, 42, 48]
    assert month_ticks(two_groups(), max_months=30).tolist() == [0, 6, 12, 18, 24, 30]
    assert month_ticks(two_groups(), tick_months=12).tolist() == [0, 12, 24, 36, 48]
    # Follow-up ending exactly on a tick: 720 days with 30-day months = 24.
    on_tick = KaplanMeier().fit([100, 720], [1, 0])
    assert month_ticks([on_tick], days_per_month=30).tolist() == [0, 6, 12, 18, 24]


def test_figure_axis_uses_the_ticks_and_cuts_curves_at_max_months():
    fig = km_figure(two_groups(), max_months=24)
    (ax,) = [ax for ax in fig.axes if ax.get_label() == "survival"]
    assert ax.get_xticks().tolist() == [0, 6, 12, 18, 24]
    assert ax.get_xlim() == (0, 24)
    assert ax.get_ylim() == (0, 1)
    assert [label.get_text() for label in ax.get_yticklabels()] == ["0%", "20%", "40%", "60%", "80%", "100%"]
    for line in ax.get_lines():
        assert np.nanmax(line.get_xdata()) <= 24


def test_steps_and_band_follow_the_estimates():
    curve = ten_patients()
    fig = km_figure([curve], days_per_month=THIRTY_DAY_MONTHS)
    (ax,) = [ax for ax in fig.axes if ax.get_label() == "survival"]
    step, marks = ax.get_lines()
    # After the last event (700 days) the curve sits at the final estimate.
    assert step.get_ydata()[-1] == pytest.approx(curve.table_["surv"].iloc[-1])
    assert step.get_ydata()[0] == 1.0
    # Censor marks at 90, 180, 360 and 650 days, at the estimate in force there.
    table = curve.table_.set_index("time")
    censor_days = [90, 180, 360, 650]
    assert marks.get_xdata().tolist() == pytest.approx([day / 30 for day in censor_days])
    assert marks.get_ydata().tolist() == pytest.approx(table.loc[censor_days, "surv"].tolist())
    # The band steps like the curve: over [t_i, t_i+1) it spans lower_i..upper_i.
    (band,) = ax.collections
    vertices = {tuple(np.round(vertex, 9)) for vertex in band.get_paths()[0].vertices}
    rows = curve.table_
    for start, end, lower, upper in zip(rows["time"][:-1], rows["time"][1:], rows["lower"], rows["upper"]):
        for x in (start / 30, end / 30):
            assert (round(x, 9), round(lower, 9)) in vertices
            assert (round(x, 9), round(upper, 9)) in vertices


def test_landmark_is_a_dotted_vertical_line():
    fig = km_figure([ten_patients()], landmark_days=730.5)
    (ax,) = [ax for ax in fig.axes if ax.get_label() == "survival"]
    (landmark,) = [line for line in ax.get_lines() if line.get_xdata()[0] == line.get_xdata()[-1] != 0]
    assert landmark.get_xdata()[0] == pytest.approx(24.0)
    _, dashes = landmark._dash_pattern  # matplotlib exposes the scaled pattern only here
    assert dashes is not None  # not a solid line
    assert dashes[0] <= landmark.get_linewidth()  # dots: each no longer than the line is wide


def test_curves_differ_in_line_style_and_use_okabe_ito_colours():
    fig = km_figure(two_groups())
    (ax,) = [ax for ax in fig.axes if ax.get_label() == "survival"]
    steps = [line for line in ax.get_lines() if line.get_linestyle() != "None" and len(line.get_xdata()) > 2]
    assert len(steps) == 2
    patterns = [line._dash_pattern for line in steps]
    assert patterns[0] != patterns[1]
    assert {to_hex(line.get_color()) for line in steps} == {"#0072b2", "#d55e00"}
    # All four styles are pairwise distinct, so four curves stay apart in greyscale.
    assert len({str(style) for _, style in CURVE_STYLES}) == len(CURVE_STYLES)


def test_annotations_are_in_a_legend_that_covers_no_curve():
    annotations = ["2-year OS 39.4% (95% CI: 19.1-59.8%)", "Log-rank p=0.046"]
    for curves in ([ten_patients()], two_groups()):
        fig = km_figure(curves, annotations=annotations, landmark_days=730.5)
        fig.draw_without_rendering()
        legend = fig.axes[0].get_legend() or fig.legends[0]
        texts = [text.get_text() for text in legend.get_texts()]
        assert texts[-2:] == annotations
        if len(curves) == 2:
            assert texts[:2] == [curve.label_ for curve in curves]
        box = legend.get_window_extent()
        for line in fig.axes[0].get_lines():
            path = line.get_transform().transform_path(line.get_path())
            x, y = path.vertices.T
            inside = (box.x0 < x) & (x < box.x1) & (box.y0 < y) & (y < box.y1)
            assert not inside.any()
            if line.get_linestyle() != "None":
                assert not path.intersects_bbox(box, filled=False)


def test_legend_goes_above_the_plot_when_no_corner_is_free():
    # Curves filling the whole plot (one near 100%, one dropping to 0 early)
    # leave no free corner for a long annotation.
    high = KaplanMeier().fit(np.arange(30, 1500, 30), np.r_[np.zeros(48), 1], label="High")
    low = KaplanMeier().fit(np.arange(5, 250, 5), np.ones(49), label="Low")
    mid = KaplanMeier().fit(np.arange(15, 1500, 30), np.tile([1, 0], 25), label="Middle")
    annotation = "A deliberately long annotation that needs most of the plot's width to show"
    fig = km_figure([high, low, mid], annotations=[annotation])
    assert fig.legends and fig.axes[0].get_legend() is None
    fig.draw_without_rendering()
    legend_box = fig.legends[0].get_window_extent()
    plot_box = fig.axes[0].get_window_extent()
    assert legend_box.y0 >= plot_box.y1
    assert legend_box.y1 <= fig.bbox.y1


def test_text_is_legible_at_print_size():
    fig = km_figure(two_groups(), title="Overall survival", annotations=["Log-rank p=0.046"])
    fig.draw_without_rendering()
    texts = fig.findobj(lambda artist: hasattr(artist, "get_fontsize") and hasattr(artist, "get_text"))
    sizes = [text.get_fontsize() for text in texts if text.get_text()]
    assert sizes and min(sizes) >= 8
    width, height = fig.get_size_inches()
    assert width == pytest.approx(6.3)
    assert 4.2 < height < 7


def test_saved_png_is_300_dpi_and_svg_is_vector(tmp_path):
    fig = km_figure(two_groups(), annotations=["Log-rank p=0.046"], landmark_days=730.5)
    png, svg = save_figure(fig, "os_by_mrd", tmp_path)
    assert png == tmp_path / "figures" / "os_by_mrd.png"
    assert svg == tmp_path / "figures" / "os_by_mrd.svg"
    with Image.open(png) as image:
        assert image.info["dpi"] == pytest.approx((300, 300), abs=0.01)
        width, height = fig.get_size_inches()
        assert image.size == (round(width * 300), round(height * 300))
    text = svg.read_text()
    assert "<path" in text
    # Text is text (editable on a poster), in the report's face.
    assert "Log-rank p=0.046" in text and "font-family: 'Linux Libertine O'" in text
    assert "<image" not in text and "base64" not in text
    assert "<dc:date>" not in text


def test_saved_figure_displays_as_the_files_it_wrote(tmp_path):
    from IPython.core.formatters import DisplayFormatter

    saved = save_figure(km_figure(two_groups()), "os", tmp_path)
    bundle, _ = DisplayFormatter().format(saved)
    assert bundle["image/png"] == saved.png.read_bytes()
    assert bundle["image/svg+xml"] == saved.svg.read_text(encoding="utf-8")


def test_two_saves_give_identical_bytes(tmp_path):
    first = save_figure(km_figure(two_groups(), annotations=["p=0.046"]), "os", tmp_path / "a")
    second = save_figure(km_figure(two_groups(), annotations=["p=0.046"]), "os", tmp_path / "b")
    for one, other in zip(first, second, strict=True):
        assert one.read_bytes() == other.read_bytes()


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: km_figure([]), "at least one fitted curve"),
        (lambda: km_figure([KaplanMeier()]), "curve 0 .* is not fitted"),
        (lambda: km_figure([ten_patients(), ten_patients(None)]), "curve 1 has no label"),
        (lambda: km_figure([ten_patients(str(i)) for i in range(5)]), "at most 4"),
        (lambda: km_figure([ten_patients()], tick_months=0), "tick_months must be positive"),
        (lambda: save_figure(km_figure([ten_patients()]), "../os", "."), "plain file name"),
    ],
)
def test_bad_input_is_named(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_curves_stay_apart_in_greyscale_bands_hatched_and_censor_marks_plus():
    fig = km_figure(two_groups())
    (ax,) = [ax for ax in fig.axes if ax.get_label() == "survival"]
    bands = [c for c in ax.collections if isinstance(c, PolyCollection)]
    (hatching,) = [c for c in ax.collections if isinstance(c, LineCollection)]
    assert len(bands) == 2
    # The second band's hatching: lines at 45 degrees on the page, in its curve's colour, clipped to it.
    assert to_hex(hatching.get_edgecolor()[0]) == CURVE_STYLES[1][0].lower()
    to_page = hatching.get_transform()
    for segment in hatching.get_segments()[:5]:
        (x0, y0), (x1, y1) = to_page.transform(segment)
        assert x1 - x0 == pytest.approx(y1 - y0)
    clip = hatching.get_clip_path().get_fully_transformed_path()
    band = bands[1].get_transform().transform_path(bands[1].get_paths()[0])
    assert np.allclose(clip.vertices, band.vertices)
    marks = [line for line in ax.get_lines() if line.get_linestyle() == "None"]
    assert marks and {line.get_marker() for line in marks} == {"+"}


def test_the_svg_draws_the_hatching_as_lines_not_a_pattern(tmp_path):
    # matplotlib's SVG pattern for a hatch paints the lines over a tile of the band's own
    # colour at the band's opacity: a browser, and Typst making the PDF, showed a plain tint.
    four = [KaplanMeier().fit(TEN_PATIENTS["days"] + 20 * i, TEN_PATIENTS["died"], label=f"Group {i}")
            for i in range(4)]
    text = save_figure(km_figure(four), "four", tmp_path).svg.read_text()
    assert "<pattern" not in text and "url(#h" not in text
    lines = re.findall(r'<path d="M (-?[\d.]+) (-?[\d.]+)\s+L (-?[\d.]+) (-?[\d.]+)\s+" clip-path="url\(#\w+\)"'
                       r' style="fill: none; [^"]*stroke: (#\w+); stroke-opacity: 0.45', text)
    for colour, slope in zip((c.lower() for c, _ in CURVE_STYLES[1:]), (-1, 1, 0), strict=True):
        drawn = [line for line in lines if line[4] == colour]
        assert len(drawn) > 20, colour
        # Rising, falling, then dotted rows (SVG's y runs down).
        slopes = {round((float(y1) - float(y0)) / (float(x1) - float(x0)), 6) for x0, y0, x1, y1, _ in drawn}
        assert slopes == {slope}, (colour, slopes)


def test_time_axis_ends_at_the_tick_the_follow_up_reaches():
    # 2011 days is 66.07 months: the axis ends at 66, and a patient censored then is still marked.
    curve = KaplanMeier().fit([100, 500, 2011], [1, 0, 0])
    fig = km_figure([curve])
    (ax,) = [ax for ax in fig.axes if ax.get_label() == "survival"]
    assert ax.get_xlim()[1] == 66
    (marks,) = [line for line in ax.get_lines() if line.get_linestyle() == "None"]
    assert list(marks.get_xdata())[-1] == 66
    assert month_ticks([KaplanMeier().fit([100, 2040], [1, 0])]).tolist()[-1] == 72  # 67.0 months


def test_a_group_s_annotation_joins_its_legend_entry():
    curves = two_groups()
    annotations = [f"{curve.label_}: 2-year OS 50.0% (95% CI: 30.0-70.0%)" for curve in curves] + ["Log-rank p=0.046"]
    fig = km_figure(curves, annotations=annotations)
    legend = fig.axes[0].get_legend() or fig.legends[0]
    assert [text.get_text() for text in legend.get_texts()] == annotations


def test_figures_use_the_report_s_text_face():
    fig = km_figure(two_groups(), annotations=["Log-rank p=0.046"])
    fig.draw_without_rendering()
    texts = [t for t in fig.findobj(lambda a: hasattr(a, "get_fontname") and hasattr(a, "get_text")) if t.get_text()]
    assert texts and {t.get_fontname() for t in texts} == {"Linux Libertine O"}


def test_a_long_follow_up_gets_at_most_twelve_columns():
    # mgus2-like: 424 months (12 906 days). Six-month steps would print 71 risk-table columns
    # over each other; 424 / 36 = 11.8, so 36-month steps end at 432 (12 intervals).
    long = KaplanMeier().fit([3000, 9000, 12_906], [1, 1, 0])
    fig = km_figure([long])
    (ax,) = [ax for ax in fig.axes if ax.get_label() == "survival"]
    assert ax.get_xticks().tolist() == list(range(0, 433, 36))
    # A short one: 8 months (243.5 days) in 3-month steps, 0 to 9.
    short = KaplanMeier().fit([100, 243.5], [1, 0])
    (ax,) = [ax for ax in km_figure([short]).axes if ax.get_label() == "survival"]
    assert ax.get_xticks().tolist() == [0, 3, 6, 9]
