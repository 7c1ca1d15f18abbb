"""Smooth lip contours in frame coordinates, and the geometry measured on them.

Each contour (11 MediaPipe vertices, subject right → left) is interpolated by
a natural cubic spline parametrised by chord length and densely sampled.
Sampling is symmetric (the same parameter values whichever end it starts
from), so a mirrored face gives exactly mirrored samples.
"""

from __future__ import annotations

import numpy as np
from lipsym.face._spline import chord_length_spline

from lipsym.errors import MeasurementError

_SAMPLES = 801


def dense_contour(points_frame_px: np.ndarray, samples: int = _SAMPLES) -> np.ndarray:
    """Densely sampled smooth curve through contour points.

    Parameters
    ----------
    points_frame_px : ndarray, shape (n, 2)
        Contour vertices in frame coordinates, ordered along the contour.
    samples : int

    Returns
    -------
    ndarray, shape (samples, 2)
    """
    chord = np.linalg.norm(np.diff(points_frame_px, axis=0), axis=1)
    if np.any(chord <= 0):
        raise MeasurementError("lip contour has coincident points")
    t, spline = chord_length_spline(points_frame_px)
    ts = 0.5 * (np.linspace(0.0, t[-1], samples) + (t[-1] - np.linspace(t[-1], 0.0, samples)))
    return spline(ts)


def height_at(curve_frame_px: np.ndarray, x_px: float) -> float:
    """Height (frame y) of a curve where it crosses the vertical line x = x_px.

    The crossing nearest the curve's middle is used, which is the lip's own
    crossing even where a contour bends back near a commissure.

    Raises
    ------
    MeasurementError
        The curve does not reach that x.
    """
    x = curve_frame_px[:, 0] - x_px
    crossings = np.nonzero(np.signbit(x[:-1]) != np.signbit(x[1:]))[0]
    exact = np.nonzero(x == 0)[0]
    if crossings.size == 0 and exact.size == 0:
        raise MeasurementError(f"lip contour does not reach x = {x_px:.1f} px in the facial frame")
    middle = 0.5 * (len(x) - 1)
    candidates = [(abs(i - middle), float(curve_frame_px[i, 1])) for i in exact]
    for i in crossings:
        w = x[i] / (x[i] - x[i + 1])
        y = (1 - w) * curve_frame_px[i, 1] + w * curve_frame_px[i + 1, 1]
        candidates.append((abs(i + w - middle), float(y)))
    return min(candidates)[1]


def polygon_area_px2(polygon_px: np.ndarray) -> float:
    """Unsigned area of a simple polygon (shoelace), px²."""
    x, y = polygon_px[:, 0], polygon_px[:, 1]
    return 0.5 * abs(float(np.dot(x, _next(y)) - np.dot(y, _next(x))))


def _next(a: np.ndarray) -> np.ndarray:
    """``np.roll(a, -1, axis=0)`` (each row's successor, the first after the last), a few times faster."""
    return np.concatenate([a[1:], a[:1]])


def clip_half_plane(polygon_px: np.ndarray, keep_negative_x: bool) -> np.ndarray:
    """Clip a polygon to x ≤ 0 (or x ≥ 0) (Sutherland-Hodgman, one edge).

    Parameters
    ----------
    polygon_px : ndarray, shape (n, 2)
    keep_negative_x : bool
        Keep the subject's right half (x ≤ 0) if True, else the left half.
    """
    sign = -1.0 if keep_negative_x else 1.0
    p = np.asarray(polygon_px, dtype=np.float64)
    q = _next(p)
    p_in, q_in = sign * p[:, 0] >= 0, sign * q[:, 0] >= 0
    cross = p_in != q_in
    with np.errstate(divide="ignore", invalid="ignore"):
        w = np.where(cross, p[:, 0] / (p[:, 0] - q[:, 0]), 0.0)
    inter = np.column_stack([np.zeros(len(p)), p[:, 1] + w * (q[:, 1] - p[:, 1])])
    # Per edge, in order: its start point if inside, then the crossing if any
    # (np.take of the kept rows: ~8x faster than a boolean mask on the (n, 2, 2) stack).
    keep = np.flatnonzero(np.stack([p_in, cross], axis=1))
    return np.take(np.stack([p, inter], axis=1).reshape(-1, 2), keep, axis=0)


def midline_crossing(curve_frame_px: np.ndarray) -> np.ndarray:
    """Where a lip contour crosses the facial midline (x = 0), frame px."""
    return np.array([0.0, height_at(curve_frame_px, 0.0)])
