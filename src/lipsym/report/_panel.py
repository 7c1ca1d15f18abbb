"""The rest/smile panel of one visit.

Both photos are rotated and scaled onto the facial frame (IPL horizontal,
the same mm per canvas pixel: the pair scale of
:func:`lipsym.measures.pair_scale`), so that the smile can be compared with
rest directly. A third view overlays both lip contours and draws an arrow
from the rest to the smile position of each cheilion and Cupid's bow peak
(``PhotoMeasures.points_frame_mm``), labelled with its lift and outward
movement (``PairMeasures.dynamic``). The static and dynamic asymmetry
figures and the summary sentences are printed beside it.
"""

from __future__ import annotations

from lipsym.measures import PairMeasures
from lipsym.measures._registry import display_name
from lipsym.report._format import PM_LABEL, pm_se, signed
from lipsym.report._overlay import BLUE, ORANGE, figure_png, new_figure, wrap_to_axes
from lipsym.report._figures import (
    draw_aligned,
    draw_arrows,
    draw_contour_pair,
    draw_table,
    frame_views,
    lip_points_mm,
    lip_zoom_box_mm,
    lower_face_box_mm,
    show_canvas,
    zoom_to,
)
from lipsym.report._photos import ReportVisit
from lipsym.sides import Side

_STEMS = {"cheilion": "commissure", "crista_philtri": "Cupid's bow peak"}


def _movement_labels(pair: PairMeasures) -> dict[str, str]:
    labels = {}
    for stem in _STEMS:
        for side in Side:
            lift = getattr(pair.dynamic[f"{stem}_lift"], side.value)
            out = getattr(pair.dynamic[f"{stem}_outward"], side.value)
            labels[f"{stem}_{side.value}"] = f"↑{signed(lift, 1)} ↔{signed(out, 1)} mm"
    return labels


def static_dynamic_rows(pair: PairMeasures) -> list[list[str]]:
    """Rows (structure, at rest, in smile, lift, movement), each left − right ± SE, mm.

    Cupid's bow peak height stands for the peak height above labrale
    superius too: their asymmetries are equal (labrale superius is on the midline).
    """
    rows = []
    for stem, key in (("cheilion", "commissure_height"), ("crista_philtri", "bow_peak_height")):
        r, s = pair.rest.sided[key], pair.smile.sided[key]
        lift, move = pair.dynamic[f"{stem}_lift"], pair.dynamic[f"{stem}_movement"]
        rows.append([display_name(key), pm_se(r.asymmetry, r.standard_error), pm_se(s.asymmetry, s.standard_error),
                     pm_se(lift.asymmetry, lift.standard_error), pm_se(move.asymmetry, move.standard_error)])
    return rows


STATIC_DYNAMIC_HEADER = ("left − right, mm", "static (rest)", "smile", "dynamic (lift)", "movement")


def rest_smile_figure(visit: ReportVisit, *, width_in: float = 11.0, all_landmarks: bool = False,
                      with_table: bool = True):
    """The rest/smile panel as a matplotlib Figure.

    Parameters
    ----------
    visit : ReportVisit
        With a smile photo and its pair measures.
    width_in : float
        Figure width, inches (150 dpi).
    with_table : bool
        Draw the static/dynamic table beside the movement diagram (a report
        that prints the table as text leaves it out and widens the diagram).

    Returns
    -------
    matplotlib.figure.Figure
    """
    from lipsym.errors import ConfigurationError

    if visit.smile is None or visit.pair is None:
        raise ConfigurationError("the rest/smile panel needs a smile photo")
    rest, smile, pair = visit.rest, visit.smile, visit.pair
    ipd_mm = pair.rest.interpupillary_distance_mm
    lips = [lip_points_mm(rest), lip_points_mm(smile)]
    box, zoom = lower_face_box_mm(lips, ipd_mm), lip_zoom_box_mm(lips, ipd_mm)
    rest_view, smile_view = frame_views((rest, smile), box)
    # Heights in inches: two photos side by side on top, the movement
    # diagram and the figures below; 0.35 in for each row's titles.
    top_in = 0.5 * width_in * (box[3] - box[2]) / (box[1] - box[0])
    low_in = max(0.5 * width_in * (zoom[3] - zoom[2]) / (zoom[1] - zoom[0]), 2.4)
    title_in, legend_in = 0.35, 0.3
    height_in = top_in + low_in + 2 * title_in + legend_in
    fig = new_figure(width_in, height_in)
    y_top = (low_in + title_in + legend_in) / height_in
    ax_r = fig.add_axes((0.0, y_top, 0.495, top_in / height_in))
    ax_s = fig.add_axes((0.505, y_top, 0.495, top_in / height_in))
    draw_aligned(ax_r, rest, rest_view, title=f"rest  {rest.label}", all_landmarks=all_landmarks)
    smile_canvas = draw_aligned(ax_s, smile, smile_view, title=f"smile  {smile.label}", all_landmarks=all_landmarks)
    diagram_w = 0.495 if with_table else 1.0
    ax_m = fig.add_axes((0.0, legend_in / height_in, diagram_w, low_in / height_in))
    show_canvas(ax_m, smile_canvas, alpha=0.55)
    draw_contour_pair(ax_m, rest, smile, rest_view.photo_to_view, smile_view.photo_to_view, (BLUE, ORANGE),
                      ("rest lip contours", "smile lip contours"))
    draw_arrows(ax_m, smile_view, pair.rest.points_frame_mm, pair.smile.points_frame_mm, _movement_labels(pair))
    zoom_to(ax_m, smile_view, zoom)
    ax_m.set_title("movement rest → smile (↑ lift, ↔ outward, mm; subject's sides)", fontsize=9)
    if not with_table:
        return fig
    ax_t = fig.add_axes((0.52, legend_in / height_in, 0.47, low_in / height_in))
    draw_table(ax_t, STATIC_DYNAMIC_HEADER, static_dynamic_rows(pair), col_widths=(0.3, 0.18, 0.18, 0.18, 0.18),
               title=f"static and dynamic asymmetry (left − right, subject's sides, {PM_LABEL})")
    summary = "\n".join(s.text for s in pair.summary) + "\nMeasurements, not a diagnosis or treatment advice."
    ax_t.text(0.0, 0.55, wrap_to_axes(ax_t, summary, 7.5), transform=ax_t.transAxes, ha="left", va="top",
              fontsize=7.5)
    return fig


def rest_smile_png(visit: ReportVisit, **kwargs) -> bytes:
    """The rest/smile panel as PNG bytes (no metadata)."""
    return figure_png(rest_smile_figure(visit, **kwargs))
