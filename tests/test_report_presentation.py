"""Presentation defects of issue #16.7 and #13.6, each with the check that would have caught it.

Pure tests (no photo analysis): the one '± SE' convention, no '-0.0', change
tables without a column that repeats another, one of two measures with equal
asymmetry, PDF table columns that never split a word, no near-empty PDF page,
the HTML print stylesheet, the track plot's legend, labels, reference bands,
MDC band and units, the contrast stretch of dark lip views.
"""

from __future__ import annotations

import datetime as dt
import re
import statistics
from dataclasses import replace
from types import MappingProxyType

import numpy as np
import pytest

from lipsym.comparison._compare import compare_sided
from lipsym.measures import SidedMeasure
from lipsym.measures._registry import measures_of_kind
from lipsym.report._before_after import CHANGE_HEADER, change_rows, key_change_lines
from lipsym.report._blocks import Document, Image, Paragraph, Section, Table
from lipsym.report._format import PM_LABEL, SAME_ASYMMETRY_AS, pm_se, plain, signed, table_keys
from lipsym.report._html import render_html
from lipsym.report._overlay import stretch_if_dark
from lipsym.report._pdf import _fit_words, _wrap, layout_pdf
from lipsym.visits._settling import compare_visits
from lipsym.visits._timeline import Timeline, VisitMeasures
from lipsym.visits._track_plot import track_figure
from lipsym.visits.store import Patient, Treatment, TreatmentSite, Visit


def sided(key: str, asym: float, se: float = 0.1, unit: str = "mm") -> SidedMeasure:
    return SidedMeasure(key, unit, 0.0, asym, asym, None, None, se, "")


# --- one convention, no -0.0 -------------------------------------------------------------------------------

def test_rounded_zero_never_prints_negative():
    assert signed(-0.001) == "+0.00" and signed(-0.04, 1) == "+0.0" and plain(-0.001) == "0.00"
    assert signed(-0.5) == "-0.50" and signed(0.5) == "+0.50" and signed(None) == "–"
    assert pm_se(-0.004, 0.123) == "+0.00 ± 0.12"


def test_change_table_states_se_and_no_column_repeats_the_mdc():
    change = compare_sided(sided("commissure_height", 0.2), sided("commissure_height", 1.7))
    rows = change_rows({"commissure_height": change})
    assert any(PM_LABEL in h for h in CHANGE_HEADER)
    # the MDC95 (1.96·SE) as a number would be a second column holding the change's interval again
    assert f"{change.minimal_detectable_change:.2f}" not in " ".join(rows[0])
    assert rows[0][3] == pm_se(change.change, change.standard_error) and rows[0][4] == "yes"
    assert "± 1.96" not in " ".join(CHANGE_HEADER)
    assert key_change_lines({"commissure_height": change})[0].startswith(
        f"commissure height: {pm_se(change.change, change.standard_error)} mm")


def test_terminal_tables_use_the_same_convention():
    from lipsym.cli.visit_tables import CHANGE_HEADERS, change_cells, value_text

    m = sided("commissure_height", 1.234, 0.2)
    assert value_text(m) == "+1.23 ± 0.20 mm"
    change = compare_sided(sided("commissure_height", 0.0), m)
    cells = change_cells("rest", change)
    assert len(cells) == len(CHANGE_HEADERS) and f"+1.23 ± {change.standard_error:.2f} mm" in cells
    assert "MDC95" in " ".join(CHANGE_HEADERS) and not any(h == "MDC95" for h in CHANGE_HEADERS)


def test_tables_take_their_measures_from_the_registry():
    every = [m.key for m in measures_of_kind("sided")]
    keys = table_keys(every)
    assert set(keys) == set(every) - set(SAME_ASYMMETRY_AS)
    assert "bow_peak_height" in keys and "bow_peak_height_above_labrale_superius" not in keys
    assert keys[0] == "commissure_height"  # key measures first
    # a measure added to the registry (or not yet in it) still shows, after the known ones
    assert table_keys(every + ["mouth_width"])[-1] == "mouth_width"


# --- PDF and HTML layout ------------------------------------------------------------------------------------

def test_pdf_columns_never_split_a_word():
    t = Table(("", "expression", "photo"), (("this", "smile", "a.png"),), col_widths=(0.48, 0.04, 0.48))
    widths = _fit_words(t, np.array([0.48, 0.04, 0.48]) * 7.0)
    assert widths.sum() == pytest.approx(7.0)
    cell = _wrap("expression", widths[1] - 0.08, 7.0, words=True)
    assert cell == ["expression"]
    assert _wrap("+1.23 ± 0.45", 0.3, 7.0, words=True) == ["+1.23\u00a0±\u00a00.45"]  # a value keeps its SE


def _png(w: int, h: int) -> bytes:
    import io

    from PIL import Image as PILImage

    buf = io.BytesIO()
    PILImage.new("RGB", (w, h), (200, 100, 50)).save(buf, format="PNG")
    return buf.getvalue()


def test_pdf_shrinks_an_image_rather_than_leaving_a_page_almost_empty():
    text = Paragraph("Some text. " * 400)
    doc = Document("t", "", (Section("A", (text, Image("a.png", "caption"), text)),))
    pdf, fills = layout_pdf(doc, {"a.png": _png(800, 900)}, "footer")
    assert pdf.startswith(b"%PDF")
    assert min(fills[:-1]) > 0.6, fills


def test_html_prints_on_a4_and_letter():
    doc = Document("t", "s", (Section("A", (Paragraph("x"),)), Section("B", (Paragraph("y"),), new_page=True)))
    html = render_html(doc, {})
    css = html[html.index("<style>"):html.index("</style>")]
    page = re.search(r"@page\s*\{([^}]*)\}", css)
    assert page and "margin" in page.group(1) and "size" not in page.group(1)  # the printer's paper, A4 or Letter
    assert "break-after: avoid" in css and "max-height" in css  # no page holding a lone heading or one huge image
    assert html.count('class="new-page"') == 1


# --- the track plot -----------------------------------------------------------------------------------------

def _treatment(tid: int, visit_id: int, name: str, kind: str, dose: float, unit: str) -> Treatment:
    return Treatment(tid, visit_id, name, kind, None, dose, unit, None, None, None, "",
                     (TreatmentSite(tid, tid, 0, "commissure", "left", None),))


def _timeline() -> Timeline:
    def vm(vid, day, kind, asym, treatments=()):
        by = MappingProxyType({"commissure_height": sided("commissure_height", asym),
                               "upper_hemi_vermilion_area": sided("upper_hemi_vermilion_area", 2 * asym, 0.5, "mm2")})
        return VisitMeasures(Visit(vid, 1, dt.date.fromisoformat(day), kind, None, ""),
                             MappingProxyType({"rest": by}), MappingProxyType({"rest": vid}), tuple(treatments))

    return Timeline(Patient(1, "P001", None, None, None, ""), (
        vm(1, "2024-03-01", "baseline", 0.2),
        vm(2, "2024-03-08", "treatment", 1.7, (_treatment(1, 2, "Volbella", "ha_filler", 0.3, "mL"),
                                                _treatment(2, 2, "Botox", "neuromodulator", 4, "U"))),
        vm(3, "2024-03-22", "follow-up", 0.4)))


def test_track_plot_legend_labels_bands_and_units():
    import matplotlib.dates as mdates

    fig = track_figure(_timeline())
    axes = fig.axes
    assert all(ax.get_legend() is None for ax in axes) and fig.legends  # the legend hides no point
    labels = [t.get_text() for t in axes[0].texts]
    same_day = [t for t in labels if "Volbella" in t or "Botox" in t]
    assert len(same_day) == 1 and "Volbella" in same_day[0] and "Botox" in same_day[0]  # one label per day
    # the filler's months-long reference range does not stretch the axis: the visits fill it
    x0, x1 = (mdates.num2date(x).date() for x in axes[-1].get_xlim())
    assert (dt.date(2024, 3, 22) - dt.date(2024, 3, 1)) / (x1 - x0) > 0.6
    ylabels = " ".join(ax.get_ylabel() for ax in axes)
    assert "mm²" in ylabels and "mm2" not in ylabels
    assert any(p.get_label() == "first visit ± MDC95" for p in axes[0].patches)  # the MDC is drawn
    assert any("converging" in t or "diverging" in t for ax in axes for t in (x.get_text() for x in ax.texts))
    assert PM_LABEL in " ".join(t.get_text() for t in fig.texts)


def test_track_plot_band_is_the_mdc_the_tables_print():
    """The grey band's half-height is the MDC95 of a change from the first visit, as compare_visits gives it.

    It used to be 1.96·√2·SE of the first visit alone; the later visits' SEs (here larger) count too. (With
    stored documents compare_visits also adds the between-capture SD and the floors.)
    """
    base = _timeline()
    visits = tuple(replace(vm, sided=MappingProxyType({"rest": MappingProxyType({
        k: replace(m, standard_error=0.1 if i == 0 else 0.6) for k, m in vm.sided["rest"].items()})}))
        for i, vm in enumerate(base.visits))
    tl = replace(base, visits=visits)
    (band,) = [p for p in track_figure(tl).axes[0].patches if p.get_label() == "first visit ± MDC95"]
    # axhspan gives a Rectangle (matplotlib ≥ 3.9) or a Polygon: y in data units either way.
    ys = ((band.get_y(), band.get_y() + band.get_height()) if hasattr(band, "get_height")
          else np.asarray(band.get_xy())[:, 1])
    expected = statistics.median(compare_visits(tl.visits[0], vm)["rest"]["commissure_height"].minimal_detectable_change
                                 for vm in tl.visits[1:])
    assert (max(ys) - min(ys)) / 2 == pytest.approx(expected) and expected > 1.96 * 0.1 * 2 ** 0.5 * 2


# --- dark lips ----------------------------------------------------------------------------------------------

def test_dark_lip_view_is_stretched_and_light_one_left_alone():
    rng = np.random.default_rng(0)
    dark = rng.integers(10, 60, size=(40, 60, 3), dtype=np.uint8)
    out, stretched = stretch_if_dark(dark)
    assert stretched and out.max() >= 250 and out.min() <= 5
    light = rng.integers(120, 220, size=(40, 60, 3), dtype=np.uint8)
    same, stretched = stretch_if_dark(light)
    assert not stretched and same is light


def test_track_says_which_analysis_it_uses():
    from lipsym.visits._documents import track_document

    doc = track_document(_timeline(), ["commissure_height"], [])
    assert doc["visits"][0]["analyses"] == {"rest": {"analysis_id": 1, "settings_hash": None}}
