"""Natural cubic spline through points of a curve, with numpy alone.

The lip contours and the Cupid's bow are interpolated by natural cubic
splines parametrised by chord length. scipy.interpolate.CubicSpline does the
same, but importing it costs about a second per process (it pulls in
scipy.optimize), which every worker of a batch and every CLI call would pay
for eleven-point curves.
"""

from __future__ import annotations

import numpy as np


class NaturalCubicSpline:
    """Interpolating cubic spline with zero second derivative at both ends.

    Parameters
    ----------
    t : ndarray, shape (n,)
        Strictly increasing parameter values, n >= 2.
    y : ndarray, shape (n, d)
        Values at ``t`` (any number of coordinates).

    Notes
    -----
    Equivalent to ``scipy.interpolate.CubicSpline(t, y, bc_type="natural")``
    (tested); evaluation outside ``[t[0], t[-1]]`` extrapolates the end pieces.
    """

    def __init__(self, t: np.ndarray, y: np.ndarray):
        t = np.asarray(t, dtype=np.float64)
        y = np.asarray(y, dtype=np.float64)
        if y.ndim == 1:
            y = y[:, None]
        n = len(t)
        if n < 2 or np.any(np.diff(t) <= 0):
            raise ValueError("spline parameters must be strictly increasing, at least two")
        h = np.diff(t)
        # Second derivatives m at the knots: tridiagonal system, m[0] = m[-1] = 0.
        m = np.zeros_like(y)
        if n > 2:
            a = np.zeros((n - 2, n - 2))
            idx = np.arange(n - 2)
            a[idx, idx] = 2.0 * (h[:-1] + h[1:])
            a[idx[1:], idx[:-1]] = h[1:-1]
            a[idx[:-1], idx[1:]] = h[1:-1]
            slopes = np.diff(y, axis=0) / h[:, None]
            m[1:-1] = np.linalg.solve(a, 6.0 * np.diff(slopes, axis=0))
        self._t, self._y, self._m, self._h = t, y, m, h

    def __call__(self, s: np.ndarray | float) -> np.ndarray:
        """Values at ``s``: shape ``s.shape + (d,)`` (a 1-D input curve gives ``s.shape + (1,)``)."""
        s = np.asarray(s, dtype=np.float64)
        t, y, m, h = self._t, self._y, self._m, self._h
        i = np.clip(np.searchsorted(t, s, side="right") - 1, 0, len(t) - 2)
        hi = h[i][..., None]
        a = (t[i + 1][..., None] - s[..., None]) / hi
        b = (s[..., None] - t[i][..., None]) / hi
        # np.take of the (n, d) rows: the same values as y[i], ~4x faster (~800 samples).
        y0, y1, m0, m1 = (np.take(v, k, axis=0) for v, k in ((y, i), (y, i + 1), (m, i), (m, i + 1)))
        return (a * y0 + b * y1
                + ((a ** 3 - a) * m0 + (b ** 3 - b) * m1) * hi ** 2 / 6.0)


def chord_length_spline(points: np.ndarray, min_chord: float = 0.0) -> tuple[np.ndarray, NaturalCubicSpline]:
    """The natural cubic spline through a curve's points, parametrised by chord length.

    Parameters
    ----------
    points : ndarray, shape (n, d)
        Ordered along the curve (e.g. a lip contour in frame px).
    min_chord : float
        Floor of each chord (coincident points would repeat a parameter).

    Returns
    -------
    t : ndarray, shape (n,)
        Cumulative chord length at each point, from 0.
    spline : NaturalCubicSpline
    """
    chord = np.linalg.norm(np.diff(points, axis=0), axis=1)
    t = np.concatenate([[0.0], np.cumsum(np.maximum(chord, min_chord))])
    return t, NaturalCubicSpline(t, points)
