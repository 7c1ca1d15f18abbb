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

from typing import Iterable, Mapping, Sequence

import numpy as np

from ..comparison import KEY_MEASURES, Z95, MeasureChange, compare_measures
from ..errors import ConfigurationError
from ..measures.photo import TRACKED_POINTS
from ..overlay import BLUE, ORANGE, figure_png, new_figure, wrap_to_axes
from .align import HIGH_RESIDUAL_MM, Registration, register_stable
from .figures import (draw_aligned, draw_arrows, draw_contour_pair, draw_table, frame_views, lip_points_mm,
                      lip_zoom_box_mm, lower_face_box_mm, show_canvas, zoom_to)
from .photos import ReportPhoto

CHANGE_HEADER = ("measure (left − right)", "before", "after", "change ± 1.96·SE", "MDC95", "beyond MDC?",
                 "|asymmetry|")
DISCLAIMER = "Measurements, not a diagnosis or treatment advice."


def measure_name(key: str) -> str:
    """A measure key in words ('commissure_height' → 'commissure height')."""
    return key.replace("_", " ").replace("mid", "(mid-hemilip)").replace("bow peak", "Cupid's bow peak")


def change_rows(changes: Mapping[str, MeasureChange]) -> list[list[str]]:
    """One row per measure: before, after, change ± 1.96·SE, MDC95, detectable, settling."""
    rows = []
    for c in changes.values():
        u = "mm²" if c.unit == "mm2" else "°" if c.unit == "deg" else c.unit
        rows.append([f"{measure_name(c.key)} ({u})", f"{c.before:+.2f}", f"{c.after:+.2f}",
                     f"{c.change:+.2f} ± {Z95 * c.standard_error:.2f}", f"{c.minimal_detectable_change:.2f}",
                     "yes" if c.detectable else "no", c.settling])
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
        out = d[0] if name.endswith("left") else -d[0]
        labels[name] = f"↑{d[1]:+.1f} ↔{out:+.1f} mm"
    return labels


def comparison_figure(before: ReportPhoto | Sequence[ReportPhoto], after: ReportPhoto | Sequence[ReportPhoto], *,
                      keys: Iterable[str] | None = None, title: str = "", width_in: float = 11.0,
                      all_landmarks: bool = False, with_table: bool = True):
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

    Returns
    -------
    matplotlib.figure.Figure
    """
    befores, afters = _as_seq(before), _as_seq(after)
    if not befores or len(befores) != len(afters):
        raise ConfigurationError("compare needs as many after photos as before photos")
    keys = None if keys is None else list(keys)
    rows = []
    for b, a in zip(befores, afters):
        changes = compare_measures(b.measures, a.measures, keys)
        rows.append((b, a, register_stable(a.analysis, b.analysis), changes))
    img_w, side_w = 0.34, 0.32  # before and after photos; the lip diagram and key changes beside them
    heights = []
    for b, a, reg, changes in rows:
        box = lower_face_box_mm([lip_points_mm(b), lip_points_mm(a, reg.after_to_before, b)],
                                b.measures.interpupillary_distance_mm)
        table_in = 0.2 * (len(changes) + 1) + 0.3 if with_table else 0.0
        heights.append((box, img_w * width_in * (box[3] - box[2]) / (box[1] - box[0]), table_in))
    head_in, title_in, foot_in = 0.45, 0.35, 0.3
    height_in = head_in + sum(title_in + h + t for _, h, t in heights) + foot_in
    fig = new_figure(width_in, height_in)
    fig.text(0.01, 1 - 0.12 / height_in, title or "before / after comparison", ha="left", va="top", fontsize=11,
             weight="bold")
    y = height_in - head_in
    for (b, a, reg, changes), (box, img_h, table_h) in zip(rows, heights):
        y -= title_in + img_h
        ax_b = fig.add_axes((0.002, y / height_in, img_w - 0.004, img_h / height_in))
        ax_a = fig.add_axes((img_w + 0.002, y / height_in, img_w - 0.004, img_h / height_in))
        view = frame_views((b,), box)[0]
        after_to_view = reg.after_to_before.then(view.photo_to_view)
        draw_aligned(ax_b, b, view, title=f"before ({b.analysis.expression})  {b.label}", all_landmarks=all_landmarks)
        after_canvas = draw_aligned(ax_a, a, view, after_to_view,
                                    title=f"after, registered ({a.analysis.expression})  {a.label}",
                                    all_landmarks=all_landmarks)
        lips = [lip_points_mm(b), lip_points_mm(a, reg.after_to_before, b)]
        zoom = lip_zoom_box_mm(lips, b.measures.interpupillary_distance_mm)
        zoom_h = min(side_w * width_in * (zoom[3] - zoom[2]) / (zoom[1] - zoom[0]), 0.6 * img_h)
        ax_z = fig.add_axes((2 * img_w + 0.004, (y + img_h - zoom_h) / height_in, side_w - 0.008, zoom_h / height_in))
        show_canvas(ax_z, after_canvas, alpha=0.5)
        draw_contour_pair(ax_z, b, a, view.photo_to_view, after_to_view, (BLUE, ORANGE),
                          ("before lip contours", "after lip contours"))
        start, end = b.measures.points_frame_mm, registered_points_mm(a, b, reg)
        draw_arrows(ax_z, view, start, end, _arrow_labels(start, end))
        zoom_to(ax_z, view, zoom)
        ax_z.set_title("lips: before → after (↑ up, ↔ outward; subject's sides)", fontsize=9)
        ax_k = fig.add_axes((2 * img_w + 0.01, y / height_in, side_w - 0.02, (img_h - zoom_h - 0.45) / height_in))
        ax_k.axis("off")
        ax_k.text(0.0, 1.0, wrap_to_axes(ax_k, key_changes_text(changes, reg), 7.5), transform=ax_k.transAxes,
                  ha="left", va="top", fontsize=7.5, linespacing=1.4)
        if not with_table:
            continue
        y -= table_h
        ax_t = fig.add_axes((0.01, y / height_in, 0.98, table_h / height_in))
        draw_table(ax_t, CHANGE_HEADER, change_rows(changes), col_widths=(0.3, 0.09, 0.09, 0.16, 0.09, 0.1, 0.12),
                   fontsize=7.5)
    fig.text(0.01, 0.1 / height_in, "Change = after − before of each left − right asymmetry (subject's sides); "
             "± 1.96·SE is its 95 % interval; MDC95 = minimal detectable change. " + DISCLAIMER,
             ha="left", va="bottom", fontsize=7)
    return fig


KEY_CHANGES_TITLE = "Change of asymmetry (left − right, subject's sides), after − before:"


def key_change_lines(changes: Mapping[str, MeasureChange]) -> list[str]:
    """The key measures' changes in words, one line each: change ± 1.96·SE and the MDC95 verdict."""
    lines = []
    for key in KEY_MEASURES[:5]:
        if key in changes:
            c = changes[key]
            u = "mm²" if c.unit == "mm2" else c.unit
            verdict = "beyond" if c.detectable else "within"
            lines.append(f"{measure_name(key)}: {c.change:+.2f} ± {Z95 * c.standard_error:.2f} {u} "
                         f"({verdict} the MDC95 of {c.minimal_detectable_change:.2f} {u})")
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
