"""Drawing helpers shared by the rest/smile panel and the before/after comparison.

Photos are shown on a :class:`~lipsym.report.FrameView` canvas (facial
frame upright, fixed px per mm), annotated with :mod:`lipsym.report`'s own
drawing functions through the photo → canvas map.
"""

from __future__ import annotations

from typing import Iterable, Mapping, Sequence

import numpy as np

from lipsym.measures._photo import TRACKED_POINTS
from lipsym.report._overlay import (
    POINT_COLOURS,
    draw_annotations,
    draw_contours,
    label_box,
    smooth_contours_px,
    wrap_to_axes,
)
from lipsym.report._declutter import declutter
from lipsym.report._align import FrameView, Similarity, frame_view, warp_to_view
from lipsym.report._photos import ReportPhoto
from lipsym.sides import Side

#: Canvas resolution of the aligned views.
PX_PER_MM = 8.0
#: Sign of x pointing away from the midline on each of the subject's sides,
#: in the facial frame and on a canvas (both run towards the subject's left).
def point_side(name: str) -> Side:
    """The subject's side of a sided point name (``"crista_philtri_left"`` → ``Side.LEFT``).

    Raises
    ------
    ValueError
        When ``name`` ends in no side.
    """
    return Side(name.rpartition("_")[2])


def lip_points_mm(photo: ReportPhoto, photo_to_before: Similarity | None = None,
                  before: ReportPhoto | None = None) -> np.ndarray:
    """Lip contour points in frame mm, shape (n, 2).

    With ``photo_to_before``, the points are first mapped into ``before``'s
    photo and expressed in ``before``'s frame and scale.
    """
    pts = np.vstack(list(smooth_contours_px(photo.analysis).values()))
    ref = photo
    if photo_to_before is not None:
        pts, ref = photo_to_before.apply(pts), before
    return ref.analysis.frame.to_frame(pts) * ref.mm_per_px


def lower_face_box_mm(lip_mm: Iterable[np.ndarray], ipd_mm: float) -> tuple[float, float, float, float]:
    """From just above the pupils to below the lips, wide enough for both cheilia and their labels (frame mm)."""
    pts = np.vstack(list(lip_mm))
    # 0.5 IPD beside the cheilia: their lateral-distance labels must not be cut at the border on a small print.
    half = max(0.85 * ipd_mm, float(np.abs(pts[:, 0]).max()) + 0.5 * ipd_mm)
    return -half, half, float(pts[:, 1].min()) - 0.3 * ipd_mm, 0.25 * ipd_mm


def lip_zoom_box_mm(lip_mm: Iterable[np.ndarray], ipd_mm: float) -> tuple[float, float, float, float]:
    """The lips with a margin of 12 % of the IPD (22 % above), 35 % sideways, for the labels (frame mm).

    The larger top margin keeps the Cupid's bow peak labels, drawn above the
    peaks, clear of the axes' title.
    """
    pts = np.vstack(list(lip_mm))
    m = 0.12 * ipd_mm
    half = float(np.abs(pts[:, 0]).max()) + 0.35 * ipd_mm
    return -half, half, float(pts[:, 1].min()) - m, float(pts[:, 1].max()) + 0.22 * ipd_mm


def show_canvas(ax, canvas_rgb: np.ndarray, alpha: float = 1.0) -> None:
    """Show a canvas image in canvas px coordinates (y down)."""
    h, w = canvas_rgb.shape[:2]
    ax.imshow(canvas_rgb, extent=(-0.5, w - 0.5, h - 0.5, -0.5), alpha=alpha, interpolation="antialiased")
    ax.set_xlim(-0.5, w - 0.5)
    ax.set_ylim(h - 0.5, -0.5)
    ax.axis("off")


def zoom_to(ax, view: FrameView, box_mm: tuple[float, float, float, float]) -> None:
    """Limit the axes to a frame-mm box of the canvas."""
    (x0, y0), (x1, y1) = view.mm_to_view(np.array([[box_mm[0], box_mm[3]], [box_mm[1], box_mm[2]]]))
    ax.set_xlim(x0, x1)
    ax.set_ylim(y1, y0)


def draw_aligned(ax, photo: ReportPhoto, view: FrameView, photo_to_view: Similarity | None = None, *,
                 title: str = "", all_landmarks: bool = False) -> np.ndarray:
    """A photo resampled onto the canvas and annotated (IPL, midline, points, mm segments, flags).

    Parameters
    ----------
    photo_to_view : Similarity, optional
        Default ``view.photo_to_view`` (the photo's own facial frame); the
        before/after comparison passes the registration composed with the
        before photo's view.

    Returns
    -------
    ndarray, shape (h, w, 3), uint8
        The resampled canvas (reused by the contour diagram).
    """
    sim = photo_to_view or view.photo_to_view
    canvas = warp_to_view(photo.rgb, sim, view.size_px)
    show_canvas(ax, canvas)
    draw_annotations(ax, photo.analysis, photo.measures, to_view=sim.apply, view="face", all_landmarks=all_landmarks,
                     summary=False)
    if photo.analysis.mirrored:
        title += " (mirrored selfie, shown un-mirrored)"
    if title:
        ax.set_title(wrap_to_axes(ax, title, 8.5), fontsize=8.5)
    # Labels are sized in points, the panel in mm: on a narrow panel (a report's before/after row)
    # a smile's commissure labels reach past the border and onto the next panel's.
    declutter(ax)
    return canvas


def draw_arrows(ax, view: FrameView, start_mm: Mapping[str, np.ndarray], end_mm: Mapping[str, np.ndarray],
                labels: Mapping[str, str] | None = None, names: Sequence[str] = TRACKED_POINTS,
                fontsize: float = 7.0) -> None:
    """Arrows from each point's start to its end position (frame mm), with optional labels."""
    for name in names:
        p0, p1 = view.mm_to_view(start_mm[name]), view.mm_to_view(end_mm[name])
        colour = POINT_COLOURS["cheilion" if name.startswith("cheilion") else "crista_philtri"]
        ax.scatter(*p0, s=22, facecolor="white", edgecolor=colour, lw=1.4, zorder=7)
        ax.annotate("", xy=p1, xytext=p0, zorder=8,
                    arrowprops=dict(arrowstyle="-|>", color=colour, lw=1.8, shrinkA=0, shrinkB=0, mutation_scale=11))
        if labels and name in labels:
            below = name.startswith("cheilion")
            # Cheilia: label below; the two bow peaks are close, so their labels go
            # outward (the canvas always shows the subject's left on the right).
            dx = 0 if below else 30 * point_side(name).outward_x
            ax.annotate(labels[name], p1, textcoords="offset points", xytext=(dx, -14 if below else 14),
                        ha="center", va="center", fontsize=fontsize, color="white", bbox=label_box(colour), zorder=9)


def draw_contour_pair(ax, first: ReportPhoto, second: ReportPhoto, first_to_view: Similarity,
                      second_to_view: Similarity, colours: tuple[str, str], names: tuple[str, str],
                      ncol: int = 2) -> None:
    """Both photos' lip contours on one canvas, in two colours (legend included)."""
    draw_contours(ax, first.analysis, first_to_view.apply, outer=colours[0], inner=colours[0], lw=1.6, ls="--",
                  label=names[0])
    draw_contours(ax, second.analysis, second_to_view.apply, outer=colours[1], inner=colours[1], lw=1.6,
                  label=names[1])
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, 0.0), ncol=ncol, fontsize=7, frameon=False)


def draw_table(ax, header: Sequence[str], rows: Sequence[Sequence[str]], *, fontsize: float = 7.5,
               col_widths: Sequence[float] | None = None, title: str = "") -> None:
    """A plain table filling the axes (header shaded); the font shrinks until every cell fits its column."""
    ax.axis("off")
    if title:
        ax.set_title(wrap_to_axes(ax, title, 9), fontsize=9, loc="left")
    if not rows:
        return
    n = len(header)
    fractions = np.asarray(col_widths or [1.0 / n] * n, dtype=float)
    width_in = ax.get_position().width * ax.figure.get_figwidth() * fractions / fractions.sum()
    # Average glyph ≈ 0.58 em (DejaVu Sans), bold header ≈ 0.66 em; 0.1 in of cell padding.
    body = [max([len(str(r[i])) for r in rows] + [1]) for i in range(n)]
    head = [max(len(str(header[i])), 1) for i in range(n)]
    fit = min(min((w - 0.1) * 72 / (0.58 * b), (w - 0.1) * 72 / (0.66 * h)) for w, b, h in zip(width_in, body, head))
    table = ax.table(cellText=[list(r) for r in rows], colLabels=list(header), loc="upper center",
                     cellLoc="left", colLoc="left", colWidths=col_widths)
    table.auto_set_font_size(False)
    table.set_fontsize(min(fontsize, max(fit, 5.0)))
    table.scale(1.0, 1.25)
    for (r, _), cell in table.get_celld().items():
        cell.set_edgecolor("#BBBBBB")
        cell.set_linewidth(0.5)
        if r == 0:
            cell.set_facecolor("#E8E8E8")
            cell.set_text_props(weight="bold")


def frame_views(photos: Sequence[ReportPhoto], box_mm: tuple[float, float, float, float]) -> list[FrameView]:
    """One canvas per photo, all with the same box and px per mm."""
    return [frame_view(p.analysis, p.mm_per_px, box_mm, PX_PER_MM) for p in photos]
