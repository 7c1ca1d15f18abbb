"""Where the vermilion borders lie, symmetrically: the image evidence behind the lips' SIZE.

Why. The bilateral refinement (:mod:`lipsym.refine`) registers left against
right and corrects only the asymmetric part of each lip pair; the symmetric
part stays MediaPipe's, whose mesh prior pulls the border towards an average
lip. A lip that grows on both sides (a filler) was read at 0.2-0.4 of its
growth (docs/accuracy.md, "Sensitivity to a symmetric growth").

How. Vertical strips at the midline and at fractions of the way to the
cheilion (:data:`STRIP_FRACTIONS`), each paired with its mirror strip: in
each, the luminance and redness profiles across the outer border of each lip
are sampled relative to the (refined) contour, the left and the mirrored
right profiles are averaged, and the border is the strongest skin →
vermilion edge (:data:`EDGE_PARAMS`) within :data:`SEARCH_IPD` of the
contour, nearer ones preferred (:data:`PRIOR_IPD`). The offset found is the
SYMMETRIC shift of both sides' border at that |x|: a mirrored photo gives
exactly the same shifts, and the asymmetry is untouched. An edge at the end
of the search, or none, leaves that strip where it was.

Only the absolute (size) measures use the shifts
(:func:`lipsym.measures._absolute.absolute_measures`); the landmarks, and so
every sided measure, are unchanged.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from lipsym.face._anatomy import OUTER_LOWER, OUTER_UPPER
from lipsym.face._spline import chord_length_spline
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
#: Per lip: SD of the Gaussian weight that prefers an edge near MediaPipe's
#: border, fraction of the IPD (upper ≈ 1.3 mm, lower ≈ 2.9 mm): a second edge
#: farther away (the shadow under the lower lip, a moustache) wins only when
#: much stronger. The weight also pulls the edge found towards the contour
#: (the product of a broad edge response and the weight peaks nearer 0 than
#: the edge), which is what held the planted symmetric growths at about half
#: their size (docs/accuracy.md, "Sensitivity to a symmetric growth"); the
#: lower lip's broader edge is pulled the more. Chosen on London (neutral, 34
#: faces) as the weakest weight whose mean distance of the strips to the manual
#: FRL-189 border stays within 5 % of the best (0.02-0.05 tried): upper 0.02
#: (0.00696 IPD; 0.0225-0.035 give 0.0072-0.0074), lower 0.045 (0.00995 IPD,
#: best 0.00951 at 0.025). 3DSK, held out: upper 0.00582, lower 0.00955 IPD.
PRIOR_IPD = {"upper": 0.02, "lower": 0.045}
#: Per lip: SD of the Gaussian smoothing of a profile before its derivative
#: (fraction of the IPD), and the weight of the luminance step beside the
#: redness step (profile oriented skin → vermilion; negative: the vermilion
#: is darker). Chosen on London (neutral, 34 faces) by the strips' mean
#: absolute distance to the manual FRL-189 border (upper 0.0103 → 0.0070 IPD,
#: lower 0.0116 → 0.0096; 3DSK, not used to choose: 0.0084 → 0.0058 and
#: 0.0110 → 0.0091): the upper border is mostly a luminance edge (the lip
#: darker than the skin above), the lower one a redness edge.
EDGE_PARAMS = {"upper": (0.004, -4.0), "lower": (0.008, 0.25)}


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
    t, spline = chord_length_spline(points_frame_px, min_chord=1e-9)
    return spline(np.linspace(0.0, t[-1], samples))


def _curve_y(curve: np.ndarray, x: np.ndarray) -> np.ndarray:
    """The curve's y at each x (the curve runs right → left, x increasing in the middle)."""
    order = np.argsort(curve[:, 0], kind="stable")
    return np.interp(x, curve[order, 0], curve[order, 1])


def _smooth(profiles: np.ndarray, sigma: float) -> np.ndarray:
    """Gaussian smoothing along axis 1 (SD ``sigma`` samples), ends padded by their values.

    What ``np.convolve(np.pad(profile, r, mode="edge"), kernel, mode="valid")``
    gives each 1-D profile (the same values on the London photos, bit for
    bit), for all profiles and channels at once.
    """
    r = max(1, int(np.ceil(3 * sigma)))
    k = np.exp(-0.5 * (np.arange(-r, r + 1) / max(sigma, 1e-6)) ** 2)
    k = k / k.sum()
    padded = np.pad(profiles, [(0, 0), (r, r)] + [(0, 0)] * (profiles.ndim - 2), mode="edge")
    n = profiles.shape[1]
    out = np.zeros(profiles.shape)
    for i, weight in enumerate(k[::-1]):
        out += weight * padded[:, i:i + n]
    return out


def _edges(profiles: np.ndarray, lip: str, step_px: float, ipd_px: float) -> tuple[np.ndarray, np.ndarray]:
    """Where the skin → vermilion edge of each strip's profile lies, and whether it can be used.

    Parameters
    ----------
    profiles : ndarray, shape (k, 2m + 1, C)
        Per strip, features (luminance, redness, ...) at frame-y offsets
        ``-m..m`` samples of ``step_px`` from the border, up positive.
    lip : {"upper", "lower"}

    Returns
    -------
    shift_px : ndarray, shape (k,), float
        Each edge's offset from the border, frame px, up positive.
    used : ndarray, shape (k,), bool
        False when the strongest edge lies at the end of the search or runs
        the wrong way (no skin → vermilion step at all); its shift is 0.
    """
    sigma_ipd, lum_weight = EDGE_PARAMS[lip]
    n = profiles.shape[1]
    m = (n - 1) // 2
    offset_px = (np.arange(n) - m) * step_px
    # Oriented from skin to vermilion: the upper lip's vermilion lies below its border.
    sign = -1.0 if lip == "upper" else 1.0
    slope = np.gradient(_smooth(profiles, sigma_ipd * ipd_px / step_px), axis=1)
    step = sign * (slope[:, :, 1] + lum_weight * slope[:, :, 0])
    inside = np.abs(offset_px) <= SEARCH_IPD * ipd_px
    score = np.where(inside, step * np.exp(-0.5 * (offset_px / (PRIOR_IPD[lip] * ipd_px)) ** 2), -np.inf)
    shifts, used = np.zeros(len(profiles)), np.zeros(len(profiles), bool)
    for k, (row, st) in enumerate(zip(score, step)):
        i = int(np.argmax(row))
        if i == 0 or i == n - 1 or not (inside[i - 1] and inside[i + 1]) or st[i] <= 0:
            continue
        a, b, c = row[i - 1], row[i], row[i + 1]
        denom = a - 2 * b + c
        sub = 0.5 * (a - c) / denom if denom < 0 else 0.0
        shifts[k], used[k] = (i + sub - m) * step_px, True
    return shifts, used


def _interp_columns(y: np.ndarray, v_up: np.ndarray, columns: np.ndarray) -> np.ndarray:
    """``np.interp(y[j], v_up, columns[:, j, c])`` for every column j and channel c at once.

    Parameters
    ----------
    y : ndarray, shape (J, n), float, finite
        Positions per column; outside ``v_up`` the end values (as ``np.interp``).
    v_up : ndarray, shape (nv,), float, increasing
    columns : ndarray, shape (nv, J, C), float64

    Returns
    -------
    ndarray, shape (J, n, C)
        The same arithmetic as ``np.interp`` (slope × (x − xp[i]) + fp[i]).
    """
    i = np.clip(np.searchsorted(v_up, y, side="right") - 1, 0, len(v_up) - 2)
    j = np.arange(y.shape[0])[:, None]
    lo, hi = columns[i, j], columns[i + 1, j]
    slope = (hi - lo) / (v_up[i + 1] - v_up[i])[..., None]
    out = slope * (y - v_up[i])[..., None] + lo
    out = np.where((y <= v_up[0])[..., None], columns[0, j], out)
    return np.where((y >= v_up[-1])[..., None], columns[-1, j], out)


def strip_profiles(grid: SymmetricGrid, points_frame_px: np.ndarray) -> dict[str, np.ndarray]:
    """Feature profiles across each lip's outer border, one per strip, left and mirrored right averaged.

    Parameters
    ----------
    grid : SymmetricGrid
    points_frame_px : ndarray, shape (478, 2), float, frame px

    Returns
    -------
    dict of str to ndarray, shape (k, 2m + 1, C), float
        ``"upper"``, ``"lower"``: for each strip of :data:`STRIP_FRACTIONS`,
        the features at frame-y offsets ``-m..m`` grid steps from the border
        (up positive), ``m`` covering :data:`SEARCH_IPD` and the smoothing.
    """
    ipd, step = grid.ipd_px, grid.step
    u, v = grid.u, grid.v
    ch_x = 0.5 * (abs(points_frame_px[OUTER_UPPER[-1], 0]) + abs(points_frame_px[OUTER_UPPER[0], 0]))
    # Beyond the search, room for the widest smoothing.
    m = int(np.ceil(SEARCH_IPD * ipd / step)) + int(np.ceil(3 * max(p[0] for p in EDGE_PARAMS.values()) * ipd / step)) + 2
    offsets = np.arange(-m, m + 1) * step
    v_up = v[::-1]  # increasing, for np.interp
    half = STRIP_HALF_IPD * ipd
    # The strip at +x and its mirror at -x together (at the midline, one strip).
    # On a small photo the grid's columns can be farther apart than a strip
    # is wide: then the columns nearest the strip's |x| (the grid is symmetric,
    # so a mirror pair) stand for it.
    strips = []
    for frac in STRIP_FRACTIONS:
        off_strip = np.abs(np.abs(u) - frac * ch_x)
        strips.append(np.nonzero(off_strip <= max(half, off_strip.min() + 1e-9 * step))[0])
    cols = np.concatenate(strips)
    # Only the strips' columns are converted to float64, bottom row first (v increasing).
    columns = grid.feats[::-1, cols].astype(np.float64)
    bounds = np.cumsum([0] + [len(c) for c in strips])
    out = {}
    for lip, contour in (("upper", OUTER_UPPER), ("lower", OUTER_LOWER)):
        ys = _curve_y(_dense(points_frame_px[list(contour)]), u[cols])
        sampled = _interp_columns(ys[:, None] + offsets, v_up, columns)
        out[lip] = np.array([sampled[a:b].mean(axis=0) for a, b in zip(bounds[:-1], bounds[1:])])
    return out


def search_size_borders(grid: SymmetricGrid, points_frame_px: np.ndarray) -> SizeBorders:
    """Symmetric shifts of the outer lip borders from the skin → vermilion edge, strip by strip.

    Parameters
    ----------
    grid : SymmetricGrid
        The mouth's features (:func:`lipsym.refine._mouth.sample_mouth`):
        luminance and redness (:data:`lipsym.refine._grid.FEATURES`).
    points_frame_px : ndarray, shape (478, 2), float, frame px
        The refined landmarks in the grid's frame.

    Returns
    -------
    SizeBorders
    """
    ipd, step = grid.ipd_px, grid.step
    profiles = strip_profiles(grid, points_frame_px)
    out = {}
    for lip in ("upper", "lower"):
        shift_px, used = _edges(profiles[lip], lip, step, ipd)
        raw = shift_px / ipd
        # The median of each strip and its neighbours: one strip caught by
        # another edge (a highlight, a crease) does not bend the border.
        # Chosen on London (it lowered the distance to the manual border).
        shifts = np.array([np.median(raw[max(0, k - 1):k + 2]) for k in range(len(raw))])
        out[lip] = (shifts, used)
    arrays = {"x_fraction": np.array(STRIP_FRACTIONS, dtype=float), "upper_shift_ipd": out["upper"][0],
              "lower_shift_ipd": out["lower"][0], "upper_used": out["upper"][1], "lower_used": out["lower"][1]}
    for a in arrays.values():
        a.flags.writeable = False
    return SizeBorders(**arrays)
