"""Overlays: the measured points, frame, contours and segments drawn on the photo.

Report layer (matplotlib, Agg backend; nothing is shown on screen). Colours
are the Okabe-Ito colour-blind-safe palette; every label sits on an opaque
box or has a white halo so that it stays legible printed in grey.

Everything is drawn through a ``to_view`` map from photo pixels to the axes'
coordinates, so the same drawing serves the photo as it is
(:func:`draw_overlay`) and the photo rotated and scaled onto the facial frame
(the rest/smile panel and the before/after comparison of
:mod:`lipsym.report`).

PNG output carries no metadata: the input photo's EXIF never reaches the
arrays drawn here, and matplotlib's own "Software" key is removed.
"""

from __future__ import annotations

import io
import os
from pathlib import Path
from typing import Callable

import numpy as np

from lipsym.analysis._result import PhotoAnalysis
from lipsym.errors import ConfigurationError, MeasurementError
from lipsym.measures import PhotoMeasures
from lipsym.measures._contours import dense_contour, height_at
from lipsym.measures._registry import unit_label
from lipsym.report._declutter import declutter
from lipsym.report._format import PM_LABEL, pm_se, signed

# Okabe & Ito (2008) palette: distinguishable with the common colour-vision deficiencies.
BLUE, ORANGE, GREEN, VERMILLION, PURPLE, SKY, YELLOW = (
    "#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442")
BLACK = "#000000"

#: Colour of each kind of mark (also the legend of every overlay).
POINT_COLOURS = {"cheilion": VERMILLION, "crista_philtri": GREEN}
FRAME_COLOUR, OUTER_COLOUR, INNER_COLOUR, OTHER_POINT_COLOUR, VERMILION_HEIGHT_COLOUR = SKY, ORANGE, PURPLE, BLUE, BLUE

#: Short labels of the named points in the lip view (subject's R / L).
POINT_LABELS = {
    "cheilion_right": "Ch R", "cheilion_left": "Ch L", "crista_philtri_right": "CPh R",
    "crista_philtri_left": "CPh L", "labrale_superius": "Ls", "labrale_inferius": "Li", "stomion": "Sto",
    "subnasale": "Sn",
}

#: Where (in points) a side's labels go: outward from the midline of a
#: non-mirrored view; flipped when the view shows the subject's left on the left.
_OUT = {"right": -1.0, "left": 1.0}

ToView = Callable[[np.ndarray], np.ndarray]

#: PNG metadata written by lipsym: none (matplotlib would add "Software").
PNG_METADATA = {"Software": None}
#: PDF metadata written by lipsym: no producer, creator or dates.
PDF_METADATA = {"Creator": None, "Producer": None, "CreationDate": None}


def new_figure(width_in: float, height_in: float, dpi: int = 150):
    """A matplotlib Figure on the Agg canvas (never a GUI window)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width_in, height_in), dpi=dpi)
    FigureCanvasAgg(fig)
    return fig


def figure_png(fig, dpi: int | None = None) -> bytes:
    """PNG bytes of a figure, without metadata."""
    buf = io.BytesIO()
    # zlib level 3: a report's PNGs encode in a third of the default level's time for ~15 % more bytes.
    fig.savefig(buf, format="png", dpi=dpi or fig.dpi, metadata=PNG_METADATA, pil_kwargs={"compress_level": 3})
    return buf.getvalue()


def _halo(width: float = 2.5):
    from matplotlib import patheffects

    return [patheffects.withStroke(linewidth=width, foreground="white")]


def label_box(colour: str, alpha: float = 0.9) -> dict:
    """Opaque label background (white text on an Okabe-Ito colour)."""
    return dict(boxstyle="round,pad=0.2", facecolor=colour, alpha=alpha, edgecolor="none")


#: Median luminance (0-255) under which a lip crop is shown contrast-stretched: dark lips on dark skin
#: otherwise print too dark to check the contours by eye (issue #14.6).
DARK_MEDIAN = 90.0


def stretch_if_dark(crop: np.ndarray) -> tuple[np.ndarray, bool]:
    """A crop stretched from its 1st-99th luminance percentile to full range when its median is dark.

    Only the display changes; the measures never see these pixels.

    Returns
    -------
    crop : ndarray, uint8
    stretched : bool
    """
    lum = crop[..., :3].astype(np.float32) @ np.array([0.299, 0.587, 0.114], dtype=np.float32)
    if crop.size == 0 or float(np.median(lum)) >= DARK_MEDIAN:
        return crop, False
    lo, hi = np.percentile(lum, (1, 99))
    if hi - lo < 1.0:
        return crop, False
    out = (crop[..., :3].astype(np.float32) - lo) * (255.0 / (hi - lo))
    return np.clip(out, 0, 255).astype(np.uint8), True


def show_photo(ax, rgb: np.ndarray, box_px: tuple[float, float, float, float], *, stretch_dark: bool = False) -> bool:
    """Show the part of a photo inside a box, in photo-pixel coordinates.

    Only the box (plus a margin) is handed to matplotlib, so a 24 MP photo
    costs no more than a small one.

    Parameters
    ----------
    ax : matplotlib Axes
    rgb : ndarray, shape (H, W, 3), uint8
    box_px : (x0, y0, x1, y1)
        Photo pixels; the axes' limits are set to it (y down).
    stretch_dark : bool
        Stretch the contrast of a dark crop (:func:`stretch_if_dark`).

    Returns
    -------
    bool
        Whether the crop was shown stretched.
    """
    x0, y0, x1, y1 = box_px
    h, w = rgb.shape[:2]
    c0, r0 = max(int(np.floor(x0)) - 1, 0), max(int(np.floor(y0)) - 1, 0)
    c1, r1 = min(int(np.ceil(x1)) + 2, w), min(int(np.ceil(y1)) + 2, h)
    crop, stretched = stretch_if_dark(rgb[r0:r1, c0:c1]) if stretch_dark else (rgb[r0:r1, c0:c1], False)
    ax.imshow(crop, extent=(c0 - 0.5, c1 - 0.5, r1 - 0.5, r0 - 0.5), interpolation="lanczos")
    ax.set_xlim(x0, x1)
    ax.set_ylim(y1, y0)
    ax.axis("off")
    return stretched


def lip_box(a: PhotoAnalysis, margin: float = 0.35) -> tuple[float, float, float, float]:
    """Box around the lips with a margin (fraction of the IPD), photo px."""
    pts = np.vstack([a.anatomy.contours.outer_upper, a.anatomy.contours.outer_lower])
    ipd = a.frame.interpupillary_distance_px
    lo, hi = pts.min(axis=0) - margin * ipd, pts.max(axis=0) + margin * ipd
    return float(lo[0]), float(lo[1]), float(hi[0]), float(hi[1])


def face_box(a: PhotoAnalysis) -> tuple[float, float, float, float]:
    """Box around all landmarks with an 8 % margin, clipped to the photo, px."""
    pts = a.landmarks.points_px[:, :2]
    lo, hi = pts.min(axis=0), pts.max(axis=0)
    pad = 0.08 * (hi - lo).max()
    return (max(lo[0] - pad, -0.5), max(lo[1] - pad, -0.5), min(hi[0] + pad, a.width_px - 0.5),
            min(hi[1] + pad, a.height_px - 0.5))


def smooth_contours_px(a: PhotoAnalysis) -> dict[str, np.ndarray]:
    """The four lip contours as the measures see them (dense splines), photo px.

    Returns
    -------
    dict of str to ndarray, shape (n, 2)
        ``outer_upper``, ``outer_lower``, ``inner_upper``, ``inner_lower``.
    """
    f, c = a.frame, a.anatomy.contours
    return {name: f.to_photo(dense_contour(f.to_frame(getattr(c, name)), samples=201))
            for name in ("outer_upper", "outer_lower", "inner_upper", "inner_lower")}


def draw_contours(ax, a: PhotoAnalysis, to_view: ToView, *, outer: str = OUTER_COLOUR, inner: str | None = INNER_COLOUR,
                  lw: float = 1.4, ls: str = "-", label: str | None = None) -> None:
    """Draw the lip contours (outer: vermilion border; inner: lip contact line)."""
    for i, (name, curve) in enumerate(smooth_contours_px(a).items()):
        colour = outer if name.startswith("outer") else inner
        if colour is None:
            continue
        v = to_view(curve)
        ax.plot(v[:, 0], v[:, 1], color=colour, lw=lw, ls=ls, label=label if i == 0 else None)


def draw_frame_lines(ax, a: PhotoAnalysis, to_view: ToView, lw: float = 1.6) -> None:
    """The interpupillary line and the midline (perpendicular through its centre), dashed."""
    f = a.frame
    ipd = f.interpupillary_distance_px
    pr, pl = a.anatomy.points_px["pupil_right"], a.anatomy.points_px["pupil_left"]
    ext = 0.4 * ipd
    for seg in (np.array([pr - ext * f.x_axis, pl + ext * f.x_axis]),
                np.array([f.origin_px + 0.5 * ipd * f.y_axis, f.origin_px - 1.8 * ipd * f.y_axis])):
        v = to_view(seg)
        ax.plot(v[:, 0], v[:, 1], color=FRAME_COLOUR, lw=lw, ls="--")


def _point_colour(name: str) -> str:
    for stem, colour in POINT_COLOURS.items():
        if name.startswith(stem):
            return colour
    return OTHER_POINT_COLOUR


def draw_points(ax, a: PhotoAnalysis, to_view: ToView, *, names=None, size: float = 34.0,
                labels: bool = False, fontsize: float = 7.0) -> None:
    """The named points as dots (white edge), optionally with their short names."""
    for name in names or a.anatomy.points_px:
        p = to_view(a.anatomy.points_px[name])
        ax.scatter([p[0]], [p[1]], s=size, facecolor=_point_colour(name), edgecolor="white", lw=0.9, zorder=6)
        if labels and name in POINT_LABELS:
            ax.annotate(POINT_LABELS[name], p, textcoords="offset points", xytext=(0, -11), ha="center",
                        fontsize=fontsize, color=BLACK, path_effects=_halo(), zorder=7)


def _view_out_sign(a: PhotoAnalysis, to_view: ToView) -> float:
    """+1 when the subject's left is on the view's right (the usual photo), else −1."""
    o, l = to_view(a.frame.origin_px), to_view(a.frame.origin_px + a.frame.x_axis)
    return 1.0 if l[0] >= o[0] else -1.0


def _segment(ax, p0, p1, colour, text, to_view, xytext, fontsize, lw=1.5, ls="-", at="end"):
    v = to_view(np.array([p0, p1]))
    ax.plot(v[:, 0], v[:, 1], color=colour, lw=lw, ls=ls, zorder=4, path_effects=_halo(lw + 1.5))
    if text:
        ax.annotate(text, v[1] if at == "end" else 0.5 * (v[0] + v[1]), textcoords="offset points",
                    xytext=xytext, ha="center", va="center", fontsize=fontsize, color="white",
                    bbox=label_box(colour), zorder=8)


def draw_measure_segments(ax, a: PhotoAnalysis, m: PhotoMeasures, to_view: ToView, *, detail: bool = True,
                          fontsize: float = 7.5) -> None:
    """The measurement segments, each labelled with its value in mm.

    Always: commissure height (drop from the IPL to each cheilion) and Cupid's
    bow peak height above labrale superius. With ``detail``: commissure
    lateral distance (midline to cheilion) and the upper and lower vermilion
    heights at mid-hemilip.
    """
    f, pts = a.frame, a.anatomy.points_px
    out = _view_out_sign(a, to_view)
    ls_y = f.to_frame(pts["labrale_superius"])[1]
    dense = {k: dense_contour(f.to_frame(v)) for k, v in smooth_contours_px(a).items()} if detail else {}
    for side in ("right", "left"):
        dx = 30 * _OUT[side] * out
        ch, peak = pts[f"cheilion_{side}"], pts[f"crista_philtri_{side}"]
        fch, fpk = f.to_frame(ch), f.to_frame(peak)
        _segment(ax, f.to_photo(np.array([fch[0], 0.0])), ch, POINT_COLOURS["cheilion"],
                 f"{signed(getattr(m.sided['commissure_height'], side), 1)} mm", to_view, (dx, 12), fontsize)
        _segment(ax, f.to_photo(np.array([fpk[0], ls_y])), peak, POINT_COLOURS["crista_philtri"],
                 f"{signed(getattr(m.sided['bow_peak_height_above_labrale_superius'], side), 1)} mm", to_view,
                 (0.6 * dx, 16), fontsize)
        if not detail:
            continue
        _segment(ax, f.to_photo(np.array([0.0, fch[1]])), ch, POINT_COLOURS["cheilion"],
                 f"↔ {getattr(m.sided['commissure_lateral'], side):.1f}", to_view, (0, -8), fontsize - 0.5,
                 lw=1.0, ls=":", at="mid")
        x = 0.5 * fch[0]
        for lip, outer, inner in (("upper", "outer_upper", "inner_upper"), ("lower", "outer_lower", "inner_lower")):
            try:
                y0, y1 = height_at(dense[inner], x), height_at(dense[outer], x)
            except MeasurementError:  # contour does not reach mid-hemilip: nothing to draw there
                continue
            value = getattr(m.sided[f"{lip}_vermilion_height_mid"], side)
            _segment(ax, f.to_photo(np.array([x, y0])), f.to_photo(np.array([x, y1])), VERMILION_HEIGHT_COLOUR,
                     f"{value:.1f}", to_view, (0, 9 if lip == "upper" else -9), fontsize - 0.5, lw=1.2)


def measure_summary_text(m: PhotoMeasures) -> str:
    """The main asymmetries (left − right, subject's sides) with their SE, one per line."""
    lines = [f"asymmetry left − right (subject's sides) {PM_LABEL}:"]
    for key, name in (("commissure_height", "commissure height"), ("commissure_lateral", "commissure lateral"),
                      ("bow_peak_height", "Cupid's bow peak height"),
                      ("upper_vermilion_height_mid", "upper vermilion height"),
                      ("lower_vermilion_height_mid", "lower vermilion height")):
        s = m.sided[key]
        lines.append(f"{name} {pm_se(s.asymmetry, s.standard_error)} {unit_label(s.unit)}")
    return "\n".join(lines)


def flag_text(a: PhotoAnalysis) -> str:
    """Quality flags and warnings, one per line ('' when there are none)."""
    return "\n".join([f"⚠ {fl.message}" for fl in a.flags] + [f"⚠ {w}" for w in a.warnings])


def wrap_text(text: str, width_in: float, fontsize: float) -> str:
    """Wrap each line of ``text`` to a width in inches (average DejaVu Sans glyph: 0.6 em)."""
    import textwrap

    chars = max(20, int(width_in * 72 / (0.6 * fontsize)))
    return "\n".join(textwrap.fill(line, chars, subsequent_indent="  ") for line in text.splitlines())


def wrap_to_axes(ax, text: str, fontsize: float) -> str:
    """Wrap each line of ``text`` to the width of the axes (so nothing runs off a printed page)."""
    return wrap_text(text, ax.get_position().width * ax.figure.get_figwidth(), fontsize)


def draw_flags(ax, a: PhotoAnalysis, fontsize: float = 7.0) -> None:
    """Quality flags and warnings in a yellow box at the top left of the axes."""
    text = wrap_to_axes(ax, flag_text(a), fontsize)
    if text:
        ax.text(0.01, 0.99, text, transform=ax.transAxes, va="top", ha="left", fontsize=fontsize, color=BLACK,
                bbox=dict(facecolor=YELLOW, alpha=0.95, edgecolor=BLACK, lw=0.5), zorder=9)


def draw_side_marks(ax, a: PhotoAnalysis, to_view: ToView, fontsize: float = 8.0) -> None:
    """'subject's R' / 'L' beside the cheilia: sides are always the subject's."""
    f = a.frame
    for side, sign in (("right", -1.0), ("left", 1.0)):
        p = f.to_photo(f.to_frame(a.anatomy.points_px[f"cheilion_{side}"]) + np.array([sign * 0.12, -0.17])
                       * f.interpupillary_distance_px)
        v = to_view(p)
        ax.text(v[0], v[1], "subject's\n" + side.upper(), ha="center", va="center", fontsize=fontsize, color=BLACK,
                path_effects=_halo(), zorder=7)


def draw_annotations(ax, a: PhotoAnalysis, m: PhotoMeasures | None = None, *, to_view: ToView | None = None,
                     view: str = "lips", all_landmarks: bool = False, summary: bool = True) -> None:
    """Everything the overlay shows, on axes already showing the photo.

    Parameters
    ----------
    ax : matplotlib Axes
    a : PhotoAnalysis
    m : PhotoMeasures, optional
        Adds the measurement segments and the asymmetry summary.
    to_view : callable, optional
        Photo px (..., 2) → axes data coordinates (default: identity).
    view : {"lips", "face"}
        The lip view gets point names, the side marks and the detailed segments.
    all_landmarks : bool
        Also the 478 landmarks as small dots.
    summary : bool
        Write the main asymmetries at the bottom right.
    """
    to_view = to_view or (lambda p: np.asarray(p, dtype=np.float64))
    lips = view == "lips"
    draw_frame_lines(ax, a, to_view)
    if all_landmarks:
        v = to_view(a.landmarks.points_px[:, :2])
        ax.scatter(v[:, 0], v[:, 1], s=2.5 if lips else 1.2, color=YELLOW, lw=0, zorder=3)
    draw_contours(ax, a, to_view, lw=1.6 if lips else 1.1)
    if m is not None:
        draw_measure_segments(ax, a, m, to_view, detail=lips)
    draw_points(ax, a, to_view, labels=lips, size=36 if lips else 18)
    if lips:
        draw_side_marks(ax, a, to_view)
    if m is not None and summary:
        ax.text(0.99, 0.01, measure_summary_text(m), transform=ax.transAxes, ha="right", va="bottom", fontsize=7,
                bbox=dict(facecolor="white", alpha=0.9, edgecolor="none"), zorder=9)
    draw_flags(ax, a)
    if lips:
        # Point names and segment values crowd together on a small face.
        declutter(ax)


def draw_overlay(rgb: np.ndarray, analysis: PhotoAnalysis, measures: PhotoMeasures | None = None, *,
                 view: str = "lips", all_landmarks: bool = False, width_in: float = 7.0) -> bytes:
    """Render an overlay of one photo as PNG bytes (no metadata).

    Parameters
    ----------
    rgb : ndarray, shape (H, W, 3), uint8
        The photo at its ORIGINAL resolution (``analysis`` coordinates).
    analysis : PhotoAnalysis
    measures : PhotoMeasures, optional
        Adds the measurement segments labelled with their mm values.
    view : {"lips", "face"}
        Zoomed lip view or full-face view.
    all_landmarks : bool
        Draw the 478 landmarks as small dots.
    width_in : float
        Figure width in inches (printed size; labels keep their point size).

    Notes
    -----
    The resolution follows the photo: from 150 dpi up to :data:`MAX_DPI`, so
    that a high-resolution photo keeps its detail (a 24 MP full face is no
    longer cut to 600 px). Dark lip views are contrast-stretched
    (:func:`stretch_if_dark`) and say so.
    """
    return figure_png(overlay_figure(rgb, analysis, measures, view=view, all_landmarks=all_landmarks,
                                     width_in=width_in))


def overlay_figure(rgb: np.ndarray, analysis: PhotoAnalysis, measures: PhotoMeasures | None = None, *,
                   view: str = "lips", all_landmarks: bool = False, width_in: float = 7.0):
    """The matplotlib figure :func:`draw_overlay` renders (same parameters)."""
    if view not in ("lips", "face"):
        raise ConfigurationError(f"overlay view must be 'lips' or 'face', got {view!r}")
    box = lip_box(analysis) if view == "lips" else face_box(analysis)
    x0, y0, x1, y1 = box
    dpi = overlay_dpi(x1 - x0, width_in)
    fig = new_figure(width_in, width_in * (y1 - y0) / (x1 - x0), dpi=dpi)
    ax = fig.add_axes((0, 0, 1, 1))
    if show_photo(ax, rgb, box, stretch_dark=view == "lips"):
        ax.text(0.01, 0.01, "contrast stretched for viewing", transform=ax.transAxes, fontsize=6.5, ha="left",
                va="bottom", color="white", bbox=label_box("#444444"), zorder=10)
    draw_annotations(ax, analysis, measures, view=view, all_landmarks=all_landmarks)
    return fig


#: Highest overlay resolution, dots per inch (a 4 in full-face view: at most 1600 px wide).
MAX_DPI = 400


def overlay_dpi(box_width_px: float, width_in: float) -> int:
    """Resolution that shows the photo's pixels one to one, between 150 dpi and :data:`MAX_DPI`."""
    return int(np.clip(box_width_px / width_in, 150, MAX_DPI))


def write_png(path: str | os.PathLike, png: bytes, *, overwrite: bool = False) -> Path:
    """Write PNG bytes atomically (no metadata is added)."""
    from lipsym.io._outputs import write_atomic

    return write_atomic(path, png, overwrite=overwrite)
