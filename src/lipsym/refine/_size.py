"""Where the vermilion borders lie, symmetrically: the image evidence behind the lips' SIZE.

Why. The bilateral refinement (:mod:`lipsym.refine`) registers left against
right and corrects only the asymmetric part of each lip pair; the symmetric
part stays MediaPipe's, whose mesh prior pulls the border towards an average
lip. A lip that grows on both sides (a filler) was read at 0.2-0.4 of its
growth (docs/accuracy.md, "Sensitivity to a symmetric growth").

How. Vertical strips at the midline and at fractions of the way to the
cheilion (:data:`STRIP_FRACTIONS`), each paired with its mirror strip: in
each, the redness profile across the outer border of each lip is sampled
relative to the (refined) contour, the left and the mirrored right profiles
are averaged, and the border is the strongest skin → vermilion redness edge
within :data:`SEARCH_IPD` of the contour. The offset found is the SYMMETRIC
shift of both sides' border at that |x|: a mirrored photo gives exactly the
same shifts, and the asymmetry is untouched. An edge at the end of the
search, or too faint (:data:`MIN_EDGE`), leaves that strip where it was.

Only the absolute (size) measures use the shifts
(:func:`lipsym.measures._absolute.absolute_measures`); the landmarks, and so
every sided measure, are unchanged.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from lipsym.face._anatomy import OUTER_LOWER, OUTER_UPPER
from lipsym.face._spline import NaturalCubicSpline
from lipsym.refine._registration import SymmetricGrid

#: Where the strips sit, fraction of the way from the midline (0) to the
#: cheilion (1, the mean |x| of the two). The shift tapers to 0 at the
#: cheilion, whose position the commissure refinement owns. Chosen on London
#: (neutral, dev): past 0.75 the two borders converge and the strip sees both.
STRIP_FRACTIONS = (0.0, 0.15, 0.3, 0.45, 0.6, 0.75)
#: Half-width of a strip, fraction of the IPD (≈ 0.6 mm each side).
STRIP_HALF_IPD = 0.01
#: Largest shift searched, fraction of the IPD (≈ 3.2 mm; the cap of the first,
#: not adopted attempt, docs/accuracy.md). An edge found at the end of the
#: search is not used.
SEARCH_IPD = 0.05
#: SD of the Gaussian smoothing of a profile before its derivative, fraction of
#: the IPD (≈ 0.25 mm; chosen on London).
SMOOTH_IPD = 0.004
#: Faintest edge used: the redness step across the border, in the feature's
#: units (1.5 (R − G) levels) per IPD-percent. Chosen on London.
MIN_EDGE = 2.0


@dataclass(frozen=True)
class SizeBorders:
    """Symmetric shifts of the outer vermilion borders, for the absolute measures only.

    Attributes
    ----------
    x_fraction : ndarray, shape (k,), float, dimensionless
        Where the strips sit: |x| over the cheilia's mean |x| (0 = midline),
        increasing (:data:`STRIP_FRACTIONS`).
    upper_shift_ipd, lower_shift_ipd : ndarray, shape (k,), float, fraction of the IPD
        Frame-y shift (up positive) of the outer upper / outer lower border at
        ``±x``, both sides alike; 0 where the evidence was weak. Fractions of the
        IPD, so the same at any resolution of the photo.
    upper_used, lower_used : ndarray, shape (k,), bool
        Whether each strip's edge was used.
    """

    x_fraction: np.ndarray
    upper_shift_ipd: np.ndarray
    lower_shift_ipd: np.ndarray
    upper_used: np.ndarray
    lower_used: np.ndarray

    def shift_at(self, lip: str, x_fraction: np.ndarray) -> np.ndarray:
        """The shift of a lip's outer border at |x| fractions (linear, 0 at the cheilion), fraction of the IPD.

        Parameters
        ----------
        lip : {"upper", "lower"}
        x_fraction : ndarray, shape (n,)
            Signed or unsigned; |x| over the cheilia's mean |x|.

        Returns
        -------
        ndarray, shape (n,), fraction of the IPD, up positive
        """
        shift = self.upper_shift_ipd if lip == "upper" else self.lower_shift_ipd
        xs = np.append(self.x_fraction, 1.0)
        return np.interp(np.abs(np.asarray(x_fraction, dtype=float)), xs, np.append(shift, 0.0), right=0.0)


def _dense(points_frame_px: np.ndarray, samples: int = 401) -> np.ndarray:
    """A smooth curve through contour vertices (chord-length natural spline), shape (samples, 2)."""
    chord = np.linalg.norm(np.diff(points_frame_px, axis=0), axis=1)
    t = np.concatenate([[0.0], np.cumsum(np.maximum(chord, 1e-9))])
    return NaturalCubicSpline(t, points_frame_px)(np.linspace(0.0, t[-1], samples))


def _curve_y(curve: np.ndarray, x: np.ndarray) -> np.ndarray:
    """The curve's y at each x (the curve runs right → left, x increasing in the middle)."""
    order = np.argsort(curve[:, 0], kind="stable")
    return np.interp(x, curve[order, 0], curve[order, 1])


def _edge(profile: np.ndarray, step_px: float, ipd_px: float) -> tuple[float, bool]:
    """Where the rising-redness edge of a profile lies, and whether it can be used.

    ``profile`` is sampled at offsets ``-m..m`` samples of ``step_px``,
    oriented so that the vermilion is at the END (redness rises across the border).
    """
    sigma = SMOOTH_IPD * ipd_px / step_px
    r = max(1, int(np.ceil(3 * sigma)))
    k = np.exp(-0.5 * (np.arange(-r, r + 1) / max(sigma, 1e-6)) ** 2)
    smooth = np.convolve(profile, k / k.sum(), mode="same")
    grad = np.gradient(smooth)
    m = (len(profile) - 1) // 2
    inner = slice(r + 1, len(profile) - r - 1)  # away from the convolution's edges
    g = grad[inner]
    i = int(np.argmax(g))
    peak = float(g[i])
    per_ipd_percent = peak / step_px * 0.01 * ipd_px
    if i == 0 or i == len(g) - 1 or per_ipd_percent < MIN_EDGE:
        return 0.0, False
    a, b, c = g[i - 1], g[i], g[i + 1]
    denom = a - 2 * b + c
    sub = 0.5 * (a - c) / denom if denom < 0 else 0.0
    return (i + inner.start + sub - m) * step_px, True


def search_size_borders(grid: SymmetricGrid, points_frame_px: np.ndarray) -> SizeBorders:
    """Symmetric shifts of the outer lip borders from the redness edge, strip by strip.

    Parameters
    ----------
    grid : SymmetricGrid
        The mouth's features (:func:`lipsym.refine._mouth.sample_mouth`);
        channel 1 is redness.
    points_frame_px : ndarray, shape (478, 2), float, frame px
        The refined landmarks in the grid's frame.

    Returns
    -------
    SizeBorders
    """
    ipd, step = grid.ipd_px, grid.step
    u, v = grid.u, grid.v
    red = grid.feats[..., 1].astype(np.float64)
    ch_x = 0.5 * (abs(points_frame_px[OUTER_UPPER[-1], 0]) + abs(points_frame_px[OUTER_UPPER[0], 0]))
    m = int(np.ceil(SEARCH_IPD * ipd / step)) + int(np.ceil(3 * SMOOTH_IPD * ipd / step)) + 2
    offsets = np.arange(-m, m + 1) * step
    v_up = v[::-1]  # increasing, for np.interp
    half = STRIP_HALF_IPD * ipd
    out = {}
    for lip, contour in (("upper", OUTER_UPPER), ("lower", OUTER_LOWER)):
        curve = _dense(points_frame_px[list(contour)])
        shifts, used = [], []
        for frac in STRIP_FRACTIONS:
            x0 = frac * ch_x
            cols = np.nonzero(np.abs(np.abs(u) - x0) <= half)[0]
            if frac == 0.0:
                cols = np.nonzero(np.abs(u) <= half)[0]
            ys = _curve_y(curve, u[cols])
            # Each column's profile relative to the border there, up positive;
            # the left strip and the mirrored right one together (symmetric).
            prof = np.mean([np.interp(y + offsets, v_up, red[::-1, j]) for j, y in zip(cols, ys)], axis=0)
            # Upper lip: vermilion below the border (offsets < 0), so reverse to
            # put it at the end; lower lip: vermilion above it.
            shift, ok = _edge(prof[::-1] if lip == "upper" else prof, step, ipd)
            shift = -shift if lip == "upper" else shift
            if ok and abs(shift) > SEARCH_IPD * ipd:
                ok = False
            shifts.append(shift / ipd if ok else 0.0)
            used.append(ok)
        out[lip] = (np.array(shifts), np.array(used))
    arrays = {"x_fraction": np.array(STRIP_FRACTIONS, dtype=float), "upper_shift_ipd": out["upper"][0],
              "lower_shift_ipd": out["lower"][0], "upper_used": out["upper"][1], "lower_used": out["lower"][1]}
    for a in arrays.values():
        a.flags.writeable = False
    return SizeBorders(**arrays)
