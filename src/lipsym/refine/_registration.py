"""Bilateral registration: where a left feature sits against the mirror image of its right partner.

For a landmark pair, a patch around the left landmark is registered
(zero-mean normalised cross-correlation, sub-sample peak) against the
mirrored patch around the right landmark, on a midline-symmetric grid
(:mod:`._grid`). The registration measures how far the left feature sits
from the mirror image of the right feature *beyond* what the landmarks
already say: the asymmetric residual ``s`` MediaPipe's symmetric prior
removed. It is made antisymmetric by averaging the left-to-right and
right-to-left estimates, so a mirrored photo gives exactly ``-s`` and a
symmetric face ``s = 0``.

Weak evidence (low correlation peak, a peak on the search border, a flat
peak: beards, overdrawn lipstick, blur, an open mouth at the commissure)
gives a reason instead, and the caller keeps the pair where it was.
"""

from __future__ import annotations

import functools

import cv2
import numpy as np

from lipsym.refine._result import NO_EVIDENCE, Evidence

#: Patch half-size and search range, as fractions of the interpupillary distance.
PATCH_HALF_IPD = 0.055
SEARCH_IPD = 0.05
#: The commissures and the pupils are registered with a Gaussian weight over
#: the patch, its SD this fraction of the patch half-size (the inner mouth
#: corners too changed no validation figure beyond the third decimal, and
#: weighted matching costs ~0.4 ms a pair). Why: what is
#: wanted is the displacement of the corner itself, and the unweighted
#: correlation returns the displacement averaged over the patch. A real
#: corner moves nearly rigidly over the patch (±3.5 mm), but the simulator's
#: plant fades over it (Wendland support 0.3 IPD: 78 % at the patch edge), so
#: unweighted registration recovered 0.87 of a planted lift and needed a gain
#: of 1/0.87 that then over-expanded real asymmetries (manual slope
#: 1.08-1.12). Weighted: London, 34 faces, commissure height asymmetry vs
#: manual MAE 0.626 -> 0.52 % IPD.
CORNER_WEIGHT_SIGMA = 0.5
#: Search range along the frame x axis for contour pairs, samples.
CONTOUR_SEARCH_X_PX = 2
#: Evidence limits: below this normalised correlation the pair is not moved.
MIN_PEAK_CORRELATION = 0.6
#: A second correlation maximum across the lip closer than this to the best
#: scales a contour correction down (to 0 when they are equal).
AMBIGUITY_MARGIN = 0.1
#: Below this SD of a patch's features (8-bit grey levels) there is nothing to register.
MIN_PATCH_CONTRAST = 2.0
#: Largest accepted correction per landmark, fraction of IPD (≈ 2.5 mm).
MAX_SHIFT_IPD = 0.04


class SymmetricGrid:
    """Features resampled on a midline-symmetric grid, and the bilateral registration of a landmark pair on it.

    Parameters
    ----------
    feats : ndarray, shape (nv, nu, C), float32, C-contiguous
        Row i, column j at frame (u[j], v[i]) (:func:`._grid.resample_in_frame`).
    u, v : ndarray, shapes (nu,), (nv,), float, frame px
        The grid (:func:`._grid.symmetric_grid`): ``u`` symmetric about 0.
    step : float
        Frame px between samples.
    half, search : int
        Patch half-size and search range, samples.
    ipd_px : float
        Interpupillary distance, frame px: bounds a plausible correction
        (:data:`MAX_SHIFT_IPD`).
    """

    def __init__(self, feats: np.ndarray, u: np.ndarray, v: np.ndarray, step: float, half: int, search: int,
                 ipd_px: float):
        self.feats, self.mirrored = feats, np.ascontiguousarray(feats[:, ::-1])
        self.u, self.v, self.step, self.half, self.search, self.ipd_px = u, v, step, half, search, ipd_px
        self.u0, self.v0, self.n_u = float(u[0]), float(v[0]), len(u)
        self.max_shift_px = MAX_SHIFT_IPD * ipd_px

    def register(self, f_l: np.ndarray, f_r: np.ndarray, corner: bool, *, half_x: int | None = None,
                 search_y: int | None = None, distinct_only: bool = False, weighted: bool = False,
                 soft_along: float = 0.0) -> tuple[np.ndarray, float, str, Evidence]:
        """The asymmetric residual of a landmark pair.

        Parameters
        ----------
        f_l, f_r : ndarray, shape (2,), float, frame px
            The left and the right landmark.
        corner : bool
            Both coordinates are registered (a corner); otherwise a contour
            pair, searched mainly across the lip (:data:`CONTOUR_SEARCH_X_PX`
            along it), whose residual is scaled by the ambiguity confidence
            (:func:`register_patch`).
        half_x, search_y : int, optional
            Narrow the patch along x, and change the search across the lip,
            samples (default: the grid's ``half`` and ``search``).
        distinct_only, weighted : bool
            As in :func:`register_patch`.
        soft_along : float
            As in :func:`register_patch` (a contour pair only).

        Returns
        -------
        residual : ndarray, shape (2,), float, frame px
            ``s``: (left feature − left landmark) − mirror image of (right
            feature − right landmark). Zero when it cannot be used.
        peak : float
            The weaker of the two directions' peak correlations.
        reason : str
            Why the residual cannot be used ("" when it can).
        evidence : Evidence
            The numbers behind it (:class:`lipsym.refine.Evidence`), before
            any pair-specific limit is applied (``strong`` is True unless
            the registration could not be made).
        """
        step, half = self.step, self.half
        half_x = half if half_x is None else half_x
        search_y = self.search if search_y is None else search_y
        # Python floats: rounding a numpy scalar costs ~10x more, and it is done a dozen times a pair.
        col_l, row_l = (float(f_l[0]) - self.u0) / step, (self.v0 - float(f_l[1])) / step
        # The right landmark's mirror image sits at column (n_u − 1 − col_r) of the mirrored array.
        col_rm, row_r = self.n_u - 1 - (float(f_r[0]) - self.u0) / step, (self.v0 - float(f_r[1])) / step
        # Along a contour a long search only finds the edge sliding along
        # itself; a narrow one keeps the normal estimate local.
        search_x = self.search if corner else CONTOUR_SEARCH_X_PX
        patches, refusal = self._pair_patches(col_l, row_l, col_rm, row_r, half_x, search_x, search_y)
        if refusal is not None:
            return refusal
        big_l, tmpl_r, big_r, tmpl_l, contrast = patches
        # Rounding the patch centres to whole samples is undone below, so the
        # estimate is continuous in the landmark positions.
        frac_l = np.array([col_l - round(col_l), row_l - round(row_l)])
        frac_rm = np.array([col_rm - round(col_rm), row_r - round(row_r)])
        # Where the mirrored right feature lies around the left landmark, and vice versa.
        off_lr, peak_lr, conf_lr, why_lr, sharp_lr, uniq_lr = register_patch(big_l, tmpl_r, corner, distinct_only,
                                                                             weighted, soft_along)
        off_rl, peak_rl, conf_rl, why_rl, sharp_rl, uniq_rl = register_patch(big_r, tmpl_l, corner, distinct_only,
                                                                             weighted, soft_along)
        s_lr = off_lr - frac_l + frac_rm   # left feature − mirrored right feature, grid (col, row)
        s_rl = off_rl - frac_rm + frac_l   # the same seen from the other side, negated
        s_grid = 0.5 * (s_lr - s_rl)
        # s_grid: (left feature − left landmark) − (mirrored right feature −
        # mirrored right landmark), grid (col, row); rows go down, frame y up.
        residual = np.array([s_grid[0], -s_grid[1]]) * step
        # Both directions should find the same residual: s_lr = −s_rl. Their
        # sum is symmetric in the two sides, so a mirrored photo has the same.
        apart = s_lr + s_rl
        disagreement = (float(np.hypot(apart[0], apart[1])) if corner else abs(float(apart[1]))) * step / self.ipd_px
        reason, peak, evidence = self._judge(float(np.linalg.norm(residual)), (peak_lr, peak_rl), (why_lr, why_rl),
                                             (sharp_lr, sharp_rl), (uniq_lr, uniq_rl), contrast, disagreement)
        if reason:
            return np.zeros(2), peak, reason, evidence
        # Both directions' confidence, symmetric in the two sides (1 for a corner).
        return min(conf_lr, conf_rl) * residual, peak, "", evidence

    def _judge(self, shift_px: float, peaks, whys, sharpnesses, uniquenesses, contrast: float,
               disagreement_ipd: float) -> tuple[str, float, Evidence]:
        """(refusal or "", peak, evidence) of a registration from its two search directions.

        ``shift_px``: the size of the registered residual, frame px; the
        other arguments are each direction's numbers (:class:`Evidence`).
        """
        peak = min(peaks)
        per_pct_ipd = (0.01 * self.ipd_px / self.step) ** 2
        evidence = Evidence(peak, min(sharpnesses) * per_pct_ipd, min(uniquenesses), contrast, disagreement_ipd)
        if whys[0] or whys[1]:
            return whys[0] or whys[1], peak, evidence
        if peak < MIN_PEAK_CORRELATION:
            return f"weak image evidence (correlation {peak:.2f})", peak, evidence
        if shift_px / 2 > self.max_shift_px:
            return "correction larger than plausible", peak, evidence
        return "", peak, evidence


    def _pair_patches(self, col_l: float, row_l: float, col_rm: float, row_r: float, half_x: int,
                      reach_x: int, reach_y: int):
        """The pair's four patches and their contrast, or the registration's refusal.

        Each landmark's search area (``reach_x``, ``reach_y`` samples beyond a
        template of half-size ``half_x`` by :attr:`half`) and the other
        side's mirrored template. Returns ``((big_l, tmpl_r, big_r, tmpl_l,
        contrast), None)``, or ``(None, refusal)`` with the 4-tuple a
        registration returns when a patch leaves the photo or has no contrast.
        """
        half = self.half
        big_l = _patch(self.feats, col_l, row_l, half_x + reach_x, half + reach_y)
        tmpl_r = _patch(self.mirrored, col_rm, row_r, half_x, half)
        big_r = _patch(self.mirrored, col_rm, row_r, half_x + reach_x, half + reach_y)
        tmpl_l = _patch(self.feats, col_l, row_l, half_x, half)
        if big_l is None or tmpl_r is None or big_r is None or tmpl_l is None:
            return None, (np.zeros(2), 0.0, "patch outside the photo", NO_EVIDENCE)
        contrast = min(_contrast(tmpl_r), _contrast(tmpl_l))
        if contrast < MIN_PATCH_CONTRAST:
            return None, (np.zeros(2), 0.0, "no image contrast (blur or occlusion)",
                          Evidence(0.0, 0.0, 0.0, contrast, float("inf"), False, "no image contrast"))
        return (big_l, tmpl_r, big_r, tmpl_l, contrast), None

    def register_height(self, f_l: np.ndarray, f_r: np.ndarray) -> tuple[np.ndarray, float, str, Evidence]:
        """The height part of a corner pair's asymmetric residual, the corners' lateral positions taken as given.

        As :meth:`register` for a corner (weighted), but the mirrored
        patch is only searched across the lip line: the correlation is
        computed at the three whole-sample column offsets around the one
        that puts the two landmarks on each other, and the best row (sub-
        sample) is interpolated linearly between those columns at the exact
        (fractional) landmark columns. Why: a corner along the oral fissure
        is a ridge in x (the lip line), and a 2-D peak slides along it: on
        the commissures its two search directions disagreed by ~4 % IPD in
        x, and its x peak hit the search border at some photo scales (the
        pair then fell back to MediaPipe's height, reading a planted 2 mm
        lift as ~0.6 mm; issue #13). The commissures' lateral positions are
        set by the fissure (:mod:`._fissure`), so only their height is
        registered; the result is continuous in the landmark positions.

        Returns
        -------
        residual : ndarray, shape (2,), float, frame px
            (0, height residual); zero when it cannot be used.
        peak, reason, evidence
            As :meth:`register` (the sharpness across the lip only).
        """
        step, half = self.step, self.half
        col_l, row_l = (float(f_l[0]) - self.u0) / step, (self.v0 - float(f_l[1])) / step
        col_rm, row_r = self.n_u - 1 - (float(f_r[0]) - self.u0) / step, (self.v0 - float(f_r[1])) / step
        patches, refusal = self._pair_patches(col_l, row_l, col_rm, row_r, half, 1, self.search)
        if refusal is not None:
            return refusal
        big_l, tmpl_r, big_r, tmpl_l, contrast = patches
        frac_l = (col_l - round(col_l), row_l - round(row_l))
        frac_rm = (col_rm - round(col_rm), row_r - round(row_r))
        # The template's own centre lies frac_rm from its rounded column, the
        # target frac_l from its: the column offset that aligns the two.
        y_lr, peak_lr, why_lr, sharp_lr, uniq_lr = _height_at(big_l, tmpl_r, frac_l[0] - frac_rm[0])
        y_rl, peak_rl, why_rl, sharp_rl, uniq_rl = _height_at(big_r, tmpl_l, frac_rm[0] - frac_l[0])
        s_lr = y_lr - frac_l[1] + frac_rm[1]
        s_rl = y_rl - frac_rm[1] + frac_l[1]
        residual = np.array([0.0, -0.5 * (s_lr - s_rl) * step])
        disagreement = abs(s_lr + s_rl) * step / self.ipd_px
        reason, peak, evidence = self._judge(abs(residual[1]), (peak_lr, peak_rl), (why_lr, why_rl),
                                             (sharp_lr, sharp_rl), (uniq_lr, uniq_rl), contrast, disagreement)
        if reason:
            return np.zeros(2), peak, reason, evidence
        return residual, peak, "", evidence


def _height_at(image: np.ndarray, template: np.ndarray, dx: float) -> tuple[float, float, str, float, float]:
    """Sub-sample row offset (and peak, reason, sharpness, uniqueness) of ``template`` in ``image`` at column offset ``dx``.

    ``image`` is 2 samples wider than ``template`` (column offsets −1, 0,
    +1); ``dx`` in (−1, 1). Each column's best row is found (sub-sample,
    weighted as :data:`CORNER_WEIGHT_SIGMA`) and the row and its score are
    interpolated linearly between the two columns around ``dx``.
    """
    scores = cv2.matchTemplate(image, template, cv2.TM_CCOEFF_NORMED, mask=_centre_weights(*template.shape))
    n_rows = scores.shape[0]
    lo = 0 if dx < 0 else 1
    w = dx + 1.0 - lo  # weight of column lo + 1
    rows, values, sharp, uniq = [], [], [], []
    for col in (lo, lo + 1):
        column = scores[:, col]
        k = int(np.argmax(column))
        if not 0 < k < n_rows - 1:
            return 0.0, float(column[k]), "registration peak on the search border", 0.0, 0.0
        a, b, c = float(column[k - 1]), float(column[k]), float(column[k + 1])
        rows.append(_parabola_peak(k, a, b, c) - 0.5 * (n_rows - 1))
        values.append(b)
        sharp.append(max(b - 0.5 * (a + c), 0.0))
        maxima = [float(column[i]) for i in range(1, n_rows - 1) if abs(i - k) > 1
                  and column[i] >= column[i - 1] and column[i] >= column[i + 1]]
        uniq.append(b - (max(maxima) if maxima else float(column.min())))
    mix = lambda x: (1.0 - w) * x[0] + w * x[1]  # noqa: E731
    return mix(rows), mix(values), "", mix(sharp), mix(uniq)


def register_patch(image: np.ndarray, template: np.ndarray, corner: bool, distinct_only: bool = False,
                   weighted: bool = False, soft_along: float = 0.0) -> tuple[np.ndarray, float, float, str, float, float]:
    """Offset of ``template`` inside ``image`` relative to centring.

    Parameters
    ----------
    image : ndarray, shape (h + 2 * search_y, w + 2 * search_x, C), float32
    template : ndarray, shape (h, w, C), float32
    corner : bool
        The peak must be interior in both directions for a corner; for a
        contour (searched mainly across the lip, see
        :data:`lipsym.refine.CORNER_PAIRS`) in rows only.
    distinct_only : bool
        A faint border (the lower vermilion in a smile) can offer a second
        maximum across the lip; the confidence falls smoothly to 0 as it
        approaches the best, so that the correction fades out instead of
        jumping between the two. With ``distinct_only`` (the Cupid's bow
        pair, :data:`lipsym.refine.BOW_PAIR`) a maximum counts only when the
        scores dip by :data:`AMBIGUITY_MARGIN` between it and the best.
    weighted : bool
        Weight the template by a Gaussian of :data:`CORNER_WEIGHT_SIGMA`.
    soft_along : float
        For a contour: when positive, the offset is not the best score's but
        the mean of every column's best (sub-sample) row and its column,
        weighted by ``exp((score - best) / soft_along)`` (a soft maximum
        along the contour, score units). Why: across a tilted border the
        scores form a ridge; where it is flat the best column jumps from one
        end of the search along the contour to the other, and with it the
        row (see :data:`lipsym.refine._bow.BOW_ALONG_SOFTNESS`). The
        evidence (peak, sharpness, uniqueness, confidence) stays the best
        score's. 0 (default): the best score's offset.

    Returns
    -------
    offset : ndarray, shape (2,), float, samples
        (columns, rows), sub-sample.
    peak : float
        Normalised correlation at the peak.
    confidence : float
        In [0, 1]: 1 for a corner, less for a contour with a second maximum.
    reason : str
        Why the offset cannot be used at all ("" when it can).
    sharpness : float
        Curvature of the scores at the peak (drop per sample², the weaker
        axis: rows, and columns too for a corner).
    uniqueness : float
        Peak minus the next distinct maximum across the lip (rows), or minus
        the lowest row maximum when there is none.
    """
    if weighted:
        weights = _centre_weights(*template.shape)
        scores = cv2.matchTemplate(image, template, cv2.TM_CCOEFF_NORMED, mask=weights)
    else:
        scores = cv2.matchTemplate(image, template, cv2.TM_CCOEFF_NORMED)
    x, y, peak, in_x, in_y = _subpixel_peak(scores)
    offset = np.array([x - 0.5 * (scores.shape[1] - 1), y - 0.5 * (scores.shape[0] - 1)])
    if not (in_y and (in_x or not corner)):
        return offset, peak, 0.0, "registration peak on the search border", 0.0, 0.0
    sharpness = _curvature(scores, corner)
    across = scores.max(axis=1).tolist()  # best score per row (offset across the lip)
    k = across.index(max(across))
    maxima = [across[i] for i in range(1, len(across) - 1)
              if abs(i - k) > 1 and across[i] >= across[i - 1] and across[i] >= across[i + 1]]
    uniqueness = peak - (max(maxima) if maxima else min(across))
    confidence = 1.0
    if not corner:
        others = [across[i] for i in range(1, len(across) - 1)
                  if abs(i - k) > 1 and across[i] >= across[i - 1] and across[i] >= across[i + 1]
                  and (not distinct_only or min(across[min(i, k):max(i, k) + 1]) <= across[i] - AMBIGUITY_MARGIN)]
        if others:
            confidence = min(1.0, max(0.0, (peak - max(others)) / AMBIGUITY_MARGIN))
        if soft_along > 0:
            offset = _soft_along_offset(scores, soft_along, offset)
    return offset, peak, confidence, "", sharpness, uniqueness


def _parabola_peak(k: int, a: float, b: float, c: float) -> float:
    """Sub-sample position of a maximum at ``k`` with neighbours ``a`` (before) and ``c`` (after): the parabola's vertex."""
    den = a - 2 * b + c
    return k + (0.5 * (a - c) / den if den < 0 else 0.0)


def _soft_along_offset(scores: np.ndarray, softness: float, best: np.ndarray) -> np.ndarray:
    """The soft maximum along a contour of a score map (see :func:`register_patch`), samples (columns, rows).

    Columns whose best row lies on the search border take no part; ``best``
    is returned when none is left.
    """
    n_rows, n_cols = scores.shape
    cols, rows, values = [], [], []
    for j in range(n_cols):
        column = scores[:, j]
        k = int(np.argmax(column))
        if not 0 < k < n_rows - 1:
            continue
        a, b, c = float(column[k - 1]), float(column[k]), float(column[k + 1])
        cols.append(j - 0.5 * (n_cols - 1))
        rows.append(_parabola_peak(k, a, b, c) - 0.5 * (n_rows - 1))
        values.append(b)
    if not values:
        return best
    weights = np.exp((np.array(values) - max(values)) / softness)
    return np.array([weights @ np.array(cols), weights @ np.array(rows)]) / weights.sum()


def _curvature(scores: np.ndarray, corner: bool) -> float:
    """Drop of the scores per sample² at their (interior) maximum: rows, and for a corner the weaker of rows and columns."""
    _, _, _, (ix, iy) = cv2.minMaxLoc(scores)
    c = float(scores[iy, ix])
    out = c - 0.5 * (float(scores[iy - 1, ix]) + float(scores[iy + 1, ix]))
    if corner:
        out = min(out, c - 0.5 * (float(scores[iy, ix - 1]) + float(scores[iy, ix + 1])))
    return max(out, 0.0)


def _patch(features: np.ndarray, col: float, row: float, half_x: int, half_y: int) -> np.ndarray | None:
    """The window of ``features`` centred on the nearest sample to (col, row); None where it leaves the grid."""
    c, r = int(round(col)), int(round(row))
    if r - half_y < 0 or c - half_x < 0 or r + half_y + 1 > features.shape[0] or c + half_x + 1 > features.shape[1]:
        return None
    return features[r - half_y:r + half_y + 1, c - half_x:c + half_x + 1]


def _contrast(patch: np.ndarray) -> float:
    """SD of a feature patch over all its values (OpenCV's per-channel moments, combined)."""
    mean, sd = cv2.meanStdDev(patch)
    # Python floats: numpy's reductions cost more than the moments on tiny arrays.
    means, sds = mean.ravel().tolist(), sd.ravel().tolist()
    grand = sum(means) / len(means)
    return (sum(x * x for x in sds) / len(sds) + sum((m - grand) ** 2 for m in means) / len(means)) ** 0.5


def _subpixel_peak(scores: np.ndarray) -> tuple[float, float, float, bool, bool]:
    """Sub-sample (col, row) of the maximum, its value, and whether it is interior in x and in y."""
    _, peak, _, (ix, iy) = cv2.minMaxLoc(scores)  # the first maximum in row-major order, as np.argmax
    in_x = 0 < ix < scores.shape[1] - 1
    in_y = 0 < iy < scores.shape[0] - 1
    dx = dy = 0.0
    c = scores[iy, ix]
    if in_x:
        l, r = scores[iy, ix - 1], scores[iy, ix + 1]
        den = l - 2 * c + r
        dx = 0.5 * (l - r) / den if den < 0 else 0.0
    if in_y:
        t, b = scores[iy - 1, ix], scores[iy + 1, ix]
        den = t - 2 * c + b
        dy = 0.5 * (t - b) / den if den < 0 else 0.0
    return ix + dx, iy + dy, peak, in_x, in_y


@functools.lru_cache(maxsize=32)
def _centre_weights(rows: int, cols: int, channels: int) -> np.ndarray:
    """Gaussian weights of a corner patch (see :data:`CORNER_WEIGHT_SIGMA`), shape (rows, cols, channels), float32."""
    y, x = np.mgrid[0:rows, 0:cols]
    cy, cx = (rows - 1) / 2.0, (cols - 1) / 2.0
    sx, sy = CORNER_WEIGHT_SIGMA * max(cx, 1.0), CORNER_WEIGHT_SIGMA * max(cy, 1.0)
    w = np.exp(-0.5 * (((x - cx) / sx) ** 2 + ((y - cy) / sy) ** 2)).astype(np.float32)
    w = np.repeat(w[..., None], channels, axis=2)
    w.flags.writeable = False
    return w
