"""Overlays: the measured points, frame and segments drawn on the photo.

Report layer (uses matplotlib with the Agg backend; nothing is shown on
screen). Colours are the Okabe-Ito colour-blind-safe palette. Output PNGs
carry no metadata from the input photo.
"""

from __future__ import annotations

import io
import os
from pathlib import Path

import numpy as np

from .analysis import PhotoAnalysis
from .measures import PhotoMeasures

# Okabe & Ito (2008) palette: distinguishable with the common colour-vision deficiencies.
BLUE, ORANGE, GREEN, VERMILLION, PURPLE, SKY, YELLOW = (
    "#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442")


def _figure(rgb: np.ndarray, box_px: tuple[float, float, float, float], width_in: float):
    import matplotlib

    matplotlib.use("Agg", force=False)
    from matplotlib.figure import Figure

    x0, y0, x1, y1 = box_px
    fig = Figure(figsize=(width_in, width_in * (y1 - y0) / (x1 - x0)), dpi=150)
    ax = fig.add_axes((0, 0, 1, 1))
    ax.imshow(rgb, interpolation="lanczos")
    ax.set_xlim(x0, x1)
    ax.set_ylim(y1, y0)
    ax.axis("off")
    return fig, ax


def _lip_box(a: PhotoAnalysis, margin: float = 0.35) -> tuple[float, float, float, float]:
    pts = np.vstack([a.anatomy.contours.outer_upper, a.anatomy.contours.outer_lower])
    ipd = a.frame.interpupillary_distance_px
    lo, hi = pts.min(axis=0) - margin * ipd, pts.max(axis=0) + margin * ipd
    return float(lo[0]), float(lo[1]), float(hi[0]), float(hi[1])


def _face_box(a: PhotoAnalysis) -> tuple[float, float, float, float]:
    pts = a.landmarks.points_px[:, :2]
    lo, hi = pts.min(axis=0), pts.max(axis=0)
    pad = 0.08 * (hi - lo).max()
    return (max(lo[0] - pad, -0.5), max(lo[1] - pad, -0.5), min(hi[0] + pad, a.width_px - 0.5),
            min(hi[1] + pad, a.height_px - 0.5))


def draw_overlay(rgb: np.ndarray, analysis: PhotoAnalysis, measures: PhotoMeasures | None = None, *,
                 view: str = "lips", all_landmarks: bool = False, width_in: float = 7.0) -> bytes:
    """Render an overlay as PNG bytes.

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
        Figure width in inches at 150 dpi.
    """
    a, f = analysis, analysis.frame
    box = _lip_box(a) if view == "lips" else _face_box(a)
    fig, ax = _figure(rgb, box, width_in)
    ipd = f.interpupillary_distance_px
    lw = 1.6
    # Interpupillary line and the midline perpendicular through its centre.
    pr, pl = a.anatomy.points_px["pupil_right"], a.anatomy.points_px["pupil_left"]
    ext = 0.4 * ipd
    ax.plot(*np.array([pr - ext * f.x_axis, pl + ext * f.x_axis]).T, color=SKY, lw=lw, ls="--")
    ax.plot(*np.array([f.origin_px + 0.5 * ipd * f.y_axis, f.origin_px - 1.8 * ipd * f.y_axis]).T,
            color=SKY, lw=lw, ls="--")
    c = a.anatomy.contours
    for contour, color in ((c.outer_upper, ORANGE), (c.outer_lower, ORANGE), (c.inner_upper, PURPLE),
                           (c.inner_lower, PURPLE)):
        ax.plot(contour[:, 0], contour[:, 1], color=color, lw=1.0)
    if all_landmarks:
        ax.scatter(a.landmarks.points_px[:, 0], a.landmarks.points_px[:, 1], s=1.5, color=YELLOW, lw=0)
    for name, p in a.anatomy.points_px.items():
        color = VERMILLION if "cheilion" in name else GREEN if "crista" in name else BLUE
        ax.scatter([p[0]], [p[1]], s=28, facecolor=color, edgecolor="white", lw=0.8, zorder=5)
    if measures is not None:
        _draw_measures(ax, a, measures)
    text = [fl.message for fl in a.flags] + list(a.warnings)
    if text:
        ax.text(0.01, 0.99, "\n".join(text), transform=ax.transAxes, va="top", ha="left", fontsize=7,
                color="black", bbox=dict(facecolor=YELLOW, alpha=0.9, edgecolor="none"))
    buf = io.BytesIO()
    fig.savefig(buf, format="png", metadata={"Software": None})
    return buf.getvalue()


def _draw_measures(ax, a: PhotoAnalysis, m: PhotoMeasures) -> None:
    """Vertical drops from the IPL to each cheilion and bow peak, labelled in mm."""
    f = a.frame
    for name, key, color in (("cheilion", "commissure_height", VERMILLION),
                             ("crista_philtri", "bow_peak_height_above_labrale_superius", GREEN)):
        for side in ("right", "left"):
            p = a.anatomy.points_px[f"{name}_{side}"]
            fp = f.to_frame(p)
            foot = f.to_photo(np.array([fp[0], 0.0])) if key == "commissure_height" else \
                f.to_photo(np.array([fp[0], f.to_frame(a.anatomy.points_px["labrale_superius"])[1]]))
            ax.plot([foot[0], p[0]], [foot[1], p[1]], color=color, lw=1.2)
            value = getattr(m.sided[key], side)
            ax.annotate(f"{value:+.1f} mm", p, textcoords="offset points", xytext=(-40 if side == "right" else 8, 8),
                        fontsize=8, color="white", bbox=dict(facecolor=color, alpha=0.85, edgecolor="none", pad=1.5))
    ch = m.sided["commissure_height"]
    ax.text(0.99, 0.01, f"commissure height L−R {ch.asymmetry:+.2f} ± {ch.standard_error:.2f} mm",
            transform=ax.transAxes, ha="right", va="bottom", fontsize=8,
            bbox=dict(facecolor="white", alpha=0.85, edgecolor="none"))


def write_png(path: str | os.PathLike, png: bytes, *, overwrite: bool = False) -> Path:
    """Write PNG bytes atomically (no metadata is added)."""
    from .outputs import write_atomic

    return write_atomic(path, png, overwrite=overwrite)
