"""Before/after comparison of two visits (or two photos) of one face.

The after photo is registered onto the before photo by a least-squares
similarity fitted on stable landmarks (eyes, nose: :data:`STABLE_LANDMARKS`),
and both are shown on the before photo's facial-frame canvas, so they share
one mm scale and one orientation. A third view overlays the before and after
lip contours in two colours with arrows for the moved cheilia and Cupid's bow
peaks. Under each row, every measure's change of asymmetry (after − before,
left − right) with its 95 % interval, minimal detectable change and verdict
(:func:`lipsym.comparison.compare_measures`): measurement statements, not
advice.

Used by ``lipsym compare``, ``lipsym report`` and the visit store, which all
pass analysed photos, never paths.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Mapping, Sequence

import numpy as np

from lipsym.comparison._compare import KEY_MEASURES, MeasureChange
from lipsym.comparison._photos import compare_captures
from lipsym.report._format import PM_LABEL, PM_NOTE, pm_se, plain, signed, table_keys
from lipsym.errors import ConfigurationError
from lipsym.measures._registry import display_name, unit_label
from lipsym.measures._photo import TRACKED_POINTS
from lipsym.report._overlay import BLUE, ORANGE, figure_png, new_figure, wrap_text, wrap_to_axes
from lipsym.report._declutter import declutter
from lipsym.report._align import HIGH_RESIDUAL_MM, Registration, register_stable
from lipsym.report._figures import (
    draw_aligned,
    draw_arrows,
    draw_contour_pair,
    draw_table,
    frame_views,
    lip_points_mm,
    lip_zoom_box_mm,
    lower_face_box_mm,
    point_side,
    show_canvas,
    zoom_to,
)
from lipsym.report._photos import ReportPhoto

# The MDC95 is 1.96 × the change's SE: a column of it would repeat the "± SE" column, so the table
# says only whether the change exceeds it.
CHANGE_HEADER = ("measure (left − right)", "before", "after", f"change {PM_LABEL}", "detectable (> MDC95)",
                 "|asymmetry|")
CHANGE_COL_WIDTHS = (0.34, 0.1, 0.1, 0.16, 0.16, 0.14)
DISCLAIMER = "Measurements, not a diagnosis or treatment advice."
FOOTNOTE = ("Change = after − before of each left − right asymmetry (subject's sides). " + PM_NOTE + " "
            + DISCLAIMER)


def detectable_text(c: MeasureChange) -> str:
    """``yes`` or ``no (noise)``: whether a change exceeds its MDC95."""
    return "yes" if c.detectable else "no (noise)"


def change_rows(changes: Mapping[str, MeasureChange], keys: Iterable[str] | None = None) -> list[list[str]]:
    """One row per measure (registry order, :func:`lipsym.report._format.table_keys`): before, after,
    change ± SE, detectable, settling of |asymmetry|."""
    rows = []
    for k in table_keys(changes) if keys is None else keys:
        c = changes[k]
        u = unit_label(c.unit)
        rows.append([f"{display_name(c.key)} ({u})", signed(c.before), signed(c.after),
                     pm_se(c.change, c.standard_error), detectable_text(c), c.settling])
    return rows


def registered_points_mm(after: ReportPhoto, before: ReportPhoto, reg: Registration,
                         names: Iterable[str] = TRACKED_POINTS) -> dict[str, np.ndarray]:
    """After photo's tracked points in the BEFORE photo's frame and scale, mm."""
    return {n: before.analysis.frame.to_frame(reg.after_to_before.apply(after.analysis.anatomy.points_px[n]))
            * before.mm_per_px for n in names}


def _as_seq(x) -> list[ReportPhoto]:
    return [x] if isinstance(x, ReportPhoto) else list(x)


def _arrow_labels(start: Mapping[str, np.ndarray], end: Mapping[str, np.ndarray]) -> dict[str, str]:
    labels = {}
    for name in start:
        d = end[name] - start[name]
        out = point_side(name).outward_x * d[0]  # frame x → outward, mm
        labels[name] = f"↑{signed(d[1], 1)} ↔{signed(out, 1)} mm"
    return labels


#: Layout of a row, fractions of the figure width: before and after photos; lip diagram and key changes.
_IMG_W, _SIDE_W = 0.34, 0.32
_TEXT_PT, _LEGEND_IN, _HEAD_IN, _TITLE_IN, _FOOT_IN = 7.5, 0.45, 0.45, 0.45, 0.3


@dataclass(frozen=True, eq=False)
class _Row:
    """One before/after couple, its registration and changes, and its size on the figure (inches)."""

    before: ReportPhoto
    after: ReportPhoto
    reg: Registration
    changes: Mapping[str, MeasureChange]
    box_mm: tuple[float, float, float, float]
    zoom_mm: tuple[float, float, float, float]
    img_h: float
    zoom_h: float
    height: float
    text: str
    table_h: float


#: Lowest height/width of the lip diagram: four arrow labels, each about half the diagram wide, need
#: two free rows above and below thin lips at rest (they covered each other on a London face).
_ZOOM_MIN_ASPECT = 0.6


def _tall_enough(box: tuple[float, float, float, float]) -> tuple[float, float, float, float]:
    """The lip diagram's box (frame mm) grown evenly up and down to :data:`_ZOOM_MIN_ASPECT`."""
    x0, x1, y0, y1 = box
    grow = max(0.0, _ZOOM_MIN_ASPECT * (x1 - x0) - (y1 - y0)) / 2
    return x0, x1, y0 - grow, y1 + grow


def _plan_row(b: ReportPhoto, a: ReportPhoto, keys, width_in: float, with_table: bool, with_text: bool) -> _Row:
    reg = register_stable(a.analysis, b.analysis)
    # Two photos are two captures: the MDC includes how differently they were
    # taken (the command refused different people before drawing).
    changes = compare_captures(b.analysis, a.analysis, b.measures, a.measures, keys=keys,
                               allow_different_person=True).changes
    lips = [lip_points_mm(b), lip_points_mm(a, reg.after_to_before, b)]
    ipd_mm = b.measures.interpupillary_distance_mm
    box, zoom = lower_face_box_mm(lips, ipd_mm), _tall_enough(lip_zoom_box_mm(lips, ipd_mm))
    img_h = _IMG_W * width_in * (box[3] - box[2]) / (box[1] - box[0])
    zoom_h = min(_SIDE_W * width_in * (zoom[3] - zoom[2]) / (zoom[1] - zoom[0]),
                 0.6 * img_h if with_text else img_h - _LEGEND_IN)
    text = wrap_text(key_changes_text(changes, reg), (_SIDE_W - 0.02) * width_in, _TEXT_PT) if with_text else ""
    text_h = (text.count("\n") + 1) * _TEXT_PT * 1.4 / 72 if text else 0.0
    return _Row(b, a, reg, changes, box, zoom, img_h, zoom_h,
                height=max(img_h, zoom_h + _LEGEND_IN + text_h),  # the key changes may need more than the photos
                text=text, table_h=0.2 * (len(changes) + 1) + 0.3 if with_table else 0.0)


def _draw_row(fig, row: _Row, top_in: float, all_landmarks: bool) -> None:
    """Photos, lip diagram, key changes and (if planned) the table of one row, hanging from ``top_in``."""
    height_in = fig.get_figheight()
    b, a = row.before, row.after

    def axes(x, width, top, h):
        return fig.add_axes((x, (top - h) / height_in, width, h / height_in))

    view = frame_views((b,), row.box_mm)[0]
    after_to_view = row.reg.after_to_before.then(view.photo_to_view)
    draw_aligned(axes(0.002, _IMG_W - 0.004, top_in, row.img_h), b, view,
                 title=f"before ({b.analysis.expression})  {b.label}", all_landmarks=all_landmarks)
    after_canvas = draw_aligned(axes(_IMG_W + 0.002, _IMG_W - 0.004, top_in, row.img_h), a, view, after_to_view,
                                title=f"after, registered ({a.analysis.expression})  {a.label}",
                                all_landmarks=all_landmarks)
    ax_z = axes(2 * _IMG_W + 0.004, _SIDE_W - 0.008, top_in, row.zoom_h)
    show_canvas(ax_z, after_canvas, alpha=0.5)
    draw_contour_pair(ax_z, b, a, view.photo_to_view, after_to_view, (BLUE, ORANGE),
                      ("before lip contours", "after lip contours"), ncol=1)
    start, end = b.measures.points_frame_mm, registered_points_mm(a, b, row.reg)
    draw_arrows(ax_z, view, start, end, _arrow_labels(start, end))
    zoom_to(ax_z, view, row.zoom_mm)
    ax_z.set_title(wrap_to_axes(ax_z, "lips: before → after (↑ up, ↔ outward; subject's sides)", 8.5),
                   fontsize=8.5)
    declutter(ax_z)  # arrow labels beside a wide smile's cheilia would run past the diagram's edge
    if row.text:
        fig.text(2 * _IMG_W + 0.01, (top_in - row.zoom_h - _LEGEND_IN) / height_in, row.text, ha="left",
                 va="top", fontsize=_TEXT_PT, linespacing=1.4)
    if row.table_h:
        draw_table(axes(0.01, 0.98, top_in - row.height, row.table_h), CHANGE_HEADER, change_rows(row.changes),
                   col_widths=CHANGE_COL_WIDTHS, fontsize=7.5)


def comparison_figure(before: ReportPhoto | Sequence[ReportPhoto], after: ReportPhoto | Sequence[ReportPhoto], *,
                      keys: Iterable[str] | None = None, title: str = "", width_in: float = 11.0,
                      all_landmarks: bool = False, with_table: bool = True, with_text: bool = True):
    """The before/after comparison as a matplotlib Figure.

    Parameters
    ----------
    before, after : ReportPhoto or sequence of ReportPhoto
        One row per (before, after) couple, e.g. rest and smile; each couple
        should show the same expression (smile photos measured with their
        pair scale).
    keys : iterable of str, optional
        Measures in the change table (default: :data:`lipsym.comparison.KEY_MEASURES` first, then all).
    title : str
        Printed at the top (e.g. patient and visit dates).
    width_in : float
        Figure width, inches (150 dpi).
    all_landmarks : bool
        Also draw the 478 landmarks.
    with_table : bool
        Print every measure's change under each row (a report that prints
        the table as text leaves it out).
    with_text : bool
        Print the key changes beside the lip diagram (a report that prints
        them as a table leaves them out: the list would appear twice).

    Returns
    -------
    matplotlib.figure.Figure
    """
    befores, afters = _as_seq(before), _as_seq(after)
    if not befores or len(befores) != len(afters):
        raise ConfigurationError("compare needs as many after photos as before photos")
    keys = None if keys is None else list(keys)
    rows = [_plan_row(b, a, keys, width_in, with_table, with_text) for b, a in zip(befores, afters)]
    footer = wrap_text(FOOTNOTE, width_in - 0.2, 7)
    height_in = _HEAD_IN + sum(_TITLE_IN + r.height + r.table_h for r in rows) + _FOOT_IN * (footer.count("\n") + 1)
    fig = new_figure(width_in, height_in)
    fig.text(0.01, 1 - 0.12 / height_in, title or "before / after comparison", ha="left", va="top", fontsize=11,
             weight="bold")
    top = height_in - _HEAD_IN
    for row in rows:
        _draw_row(fig, row, top - _TITLE_IN, all_landmarks)
        top -= _TITLE_IN + row.height + row.table_h
    fig.text(0.01, 0.1 / height_in, footer, ha="left", va="bottom", fontsize=7)
    return fig


KEY_CHANGES_TITLE = f"Change of asymmetry (left − right, subject's sides), after − before, {PM_LABEL}:"


def key_change_lines(changes: Mapping[str, MeasureChange]) -> list[str]:
    """The key measures' changes in words, one line each: change ± SE and the MDC95 verdict."""
    lines = []
    for key in KEY_MEASURES[:5]:
        if key in changes:
            c = changes[key]
            u = unit_label(c.unit)
            verdict = "beyond" if c.detectable else "within"
            lines.append(f"{display_name(key)}: {pm_se(c.change, c.standard_error)} {u} "
                         f"({verdict} the MDC95 of {plain(c.minimal_detectable_change)} {u})")
    return lines


def key_changes_text(changes: Mapping[str, MeasureChange], reg: Registration | None = None) -> str:
    """:func:`key_change_lines` as text under a title, with the registration's residual when given."""
    lines = [KEY_CHANGES_TITLE] + [f"• {line}" for line in key_change_lines(changes)]
    if reg is not None:
        lines.append(f"After photo registered on {len(reg.landmarks)} stable landmarks (eyes, nose); "
                     f"residual {reg.rms_residual_mm:.2f} mm rms; shown at the before photo's mm scale.")
        if reg.rms_residual_mm > HIGH_RESIDUAL_MM:
            # The numbers do not depend on the registration: each photo is measured in its own frame.
            lines.append(f"⚠ Residual above {HIGH_RESIDUAL_MM} mm: pose or expression differs around the eyes and "
                         "nose, so the images line up only approximately (the measures are unaffected).")
    return "\n".join(lines)


def comparison_png(before, after, **kwargs) -> bytes:
    """The before/after comparison as PNG bytes (no metadata); arguments as :func:`comparison_figure`."""
    return figure_png(comparison_figure(before, after, **kwargs))


def plain_comparison_figure(before: ReportPhoto, after: ReportPhoto, *, title: str = "", width_in: float = 7.0,
                            labels: tuple[str, str] = ("before", "after")):
    """Before and after side by side, registered and at one mm scale, with no marks: a picture to show.

    The after photo is registered onto the before photo on the stable
    landmarks (as in :func:`comparison_figure`) and both are cut to the same
    lower-face box of the before photo's facial frame.

    Returns
    -------
    matplotlib.figure.Figure
    """
    from lipsym.report._align import warp_to_view

    reg = register_stable(after.analysis, before.analysis)
    lips = [lip_points_mm(before), lip_points_mm(after, reg.after_to_before, before)]
    box = lower_face_box_mm(lips, before.measures.interpupillary_distance_mm)
    view = frame_views((before,), box)[0]
    title_in = 0.3 if title else 0.0
    img_h = 0.5 * width_in * (box[3] - box[2]) / (box[1] - box[0])
    height_in = img_h + 0.25 + title_in
    fig = new_figure(width_in, height_in)
    for i, (photo, sim, label) in enumerate(((before, view.photo_to_view, labels[0]),
                                             (after, reg.after_to_before.then(view.photo_to_view), labels[1]))):
        ax = fig.add_axes((0.5 * i + 0.003, 0.0, 0.494, img_h / height_in))
        show_canvas(ax, warp_to_view(photo.rgb, sim, view.size_px))
        fig.text(0.5 * i + 0.25, (img_h + 0.05) / height_in, label, ha="center", va="bottom", fontsize=9)
    if title:
        fig.text(0.01, 1 - 0.05 / height_in, title, ha="left", va="top", fontsize=10, weight="bold")
    return fig


def plain_comparison_png(before: ReportPhoto, after: ReportPhoto, **kwargs) -> bytes:
    """:func:`plain_comparison_figure` as PNG bytes (no metadata)."""
    return figure_png(plain_comparison_figure(before, after, **kwargs))
