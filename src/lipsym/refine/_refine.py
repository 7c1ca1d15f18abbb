"""Bilateral refinement of the lip landmarks from image evidence.

Why. MediaPipe's face model carries a strong symmetric prior: a real,
planted lift of one commissure is recovered only partly (lip-measures.md
section 5; on the London photos with lipsym's simulator, about a third of a
2 mm lift). Flip-averaging removes the model's side bias but not this
shrinkage. The image itself still shows where each lip feature is.

How. Every lip landmark off the midline has a mirror partner (61 ↔ 291,
37 ↔ 267, ...). The photo is resampled in the facial frame (x towards the
subject's left, y up, one sample per photo pixel) around the mouth, on a
grid symmetric about the midline, so the mirror image of the resampled
mouth is the same array reversed left to right. For each pair, a patch
around the left landmark is registered (zero-mean normalised
cross-correlation, sub-pixel peak) against the mirrored patch around the
right landmark. The registration measures how far the left feature sits
from the mirror image of the right feature *beyond* what the landmarks
already say: the asymmetric residual ``s`` the model's prior removed. Each
landmark of the pair then moves by half of it, in opposite (mirrored)
directions, so that

- the midpoint of the pair (the symmetric part, where MediaPipe is good) is
  unchanged, and only the asymmetry is corrected;
- mirroring the photo negates ``s`` exactly: the registration is made
  antisymmetric by averaging the left-to-right and right-to-left estimates,
  so the result of a mirrored photo is exactly the mirrored result;
- a symmetric face gives ``s = 0``: no asymmetry is invented.

Weak evidence (low correlation peak, a peak on the search border, a flat
peak: beards, overdrawn lipstick, blur, an open mouth at the commissure)
leaves the pair at MediaPipe's positions and reports it.

The photo is used at the resolution the landmarks were detected at
(:func:`lipsym.analysis.detect_at_adequate_resolution` keeps the face about
800 px wide or more, i.e. ≤ 0.2 mm per pixel), so refinement costs no extra
decoding.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, replace
from types import MappingProxyType
from typing import Mapping

import cv2
import numpy as np

from lipsym.face._anatomy import INNER_LOWER, INNER_UPPER, OUTER_LOWER, OUTER_UPPER
from lipsym.landmarks._mesh import mirror_pairs
from lipsym.refine._fissure import REACH_IPD, fissure_end
from lipsym.face._frame import PUPIL_LEFT, PUPIL_RIGHT, FacialFrame, frame_from_landmarks

#: Lip landmark pairs refined, (subject right, subject left). Both contours of
#: both lips, commissures included; the midline vertices need no pairing.
LIP_PAIRS: tuple[tuple[int, int], ...] = (
    (61, 291), (185, 409), (40, 270), (39, 269), (37, 267),          # outer upper
    (146, 375), (91, 321), (181, 405), (84, 314),                    # outer lower
    (78, 308), (191, 415), (80, 310), (81, 311), (82, 312),          # inner upper
    (95, 324), (88, 318), (178, 402), (87, 317),                     # inner lower
)

#: Pairs whose landmarks sit on a corner, where the image fixes both
#: coordinates. Every other pair lies on a contour, where a patch slides
#: along the edge with little change (the aperture problem): only the
#: component of the residual normal to the contour is used there.
CORNER_PAIRS = frozenset({(61, 291), (78, 308)})


def _contour_neighbours() -> dict[int, tuple[int, int]]:
    out = {}
    for contour in (OUTER_UPPER, OUTER_LOWER, INNER_UPPER, INNER_LOWER):
        for k in range(1, len(contour) - 1):
            out[contour[k]] = (contour[k - 1], contour[k + 1])
    return out


_NEIGHBOURS = _contour_neighbours()

#: Finest sampling of the mouth: at most this many samples across the
#: interpupillary distance (London faces: 180-215 px, sampled per pixel).
MAX_IPD_SAMPLES = 240.0
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
#: Gain on the commissure pair's registered residual (not on MediaPipe's
#: part nor on the fissure's lateral placement). Flip-averaged MediaPipe
#: recovers 0.50 of a planted commissure lift (20 faces, 1-3 mm), and with
#: the weighted registration the total was 0.95: the registration sees 0.9 of
#: the residual it should, the rest being the plant's fade over the weighted
#: patch. With the gain: sensitivity 0.99-1.02 and manual slope 1.00
#: (docs/accuracy.md). The other pairs are not scaled (not validated).
CORNER_GAIN = 1.0 / 0.9
#: Search range along the frame x axis for contour pairs, samples.
CONTOUR_SEARCH_X_PX = 2
#: Evidence limits: below this normalised correlation the pair is not moved.
MIN_PEAK_CORRELATION = 0.6
#: A second correlation maximum across the lip closer than this to the best
#: scales a contour correction down (to 0 when they are equal).
AMBIGUITY_MARGIN = 0.1
#: Patch half-size for the pupils, fraction of IPD: a little less than the
#: iris radius (11.7 / 63 / 2 ≈ 0.09 IPD), so the iris and its limbus fill the
#: patch rather than the eyelids and lashes.
PUPIL_PATCH_HALF_IPD = 0.08
#: The iris ring landmarks of each pupil, moved with it (the iris diameter,
#: hence the iris scale, is unchanged).
IRIS_RINGS = {PUPIL_RIGHT: (469, 470, 471, 472), PUPIL_LEFT: (474, 475, 476, 477)}
#: The Cupid's bow pair. Its first (contour) registration differs from the
#: other pairs' in two ways, and after it the pair is registered a second
#: time, at the corrected positions, with a window narrow along the border:
#: half-width BOW_HALF_X_IPD (a quarter or less of the peak's distance from
#: the midline), full patch height, and a search of BOW_SEARCH_IPD across the
#: lip for what the first pass left.
#:
#: Why the second pass: the border's asymmetry is zero at the midline (both
#: sides share labrale superius) and largest at the peak; the contour patch
#: (half-size 0.055 IPD) spans from near the midline to beyond the peak, so
#: it returns an average of the asymmetry over the bow, a face-dependent
#: fraction of it. The narrow window measures the border at the peak's own
#: column; the wide first pass keeps the capture robust (a narrow window as
#: the only pass: 0.76-0.80 of a planted lift at 1-2 mm, SD 0.20-0.57 mm).
#:
#: The first pass searches BOW_WIDE_SEARCH_IPD across the lip (≈ 5 mm, the
#: others 0.05 IPD ≈ 3 mm): flip-averaged MediaPipe recovers nothing of a
#: bow lift (London, simulator: 0.01), so a 3 mm asymmetry is all residual,
#: and with the others' search it ended on the search border (19 of 34
#: faces fell back at 3 mm; 1 with this one). And it registers the features
#: smoothed by a Gaussian of SD BOW_BLUR_IPD (≈ 0.3 mm, a London pixel):
#: a large asymmetry deforms one side's patch against the other's, and fine
#: texture (stubble, lip lines) then decorrelates first; the weakest face's
#: correlation at 3 mm went from 0.60 (below MIN_PEAK_CORRELATION: it fell
#: back) to 0.68, the others' by 0.01-0.10 (median 0.02), with the same
#: agreement with the manual points (bow height asymmetry r 0.707, slope 1.00).
#:
#: For this pair only, a second correlation maximum across the lip fades the
#: correction only when it is a distinct match (the scores dip by
#: AMBIGUITY_MARGIN between it and the best): the outer upper border has no
#: second border of the same polarity within reach, so a near-equal maximum
#: there is a ripple of a flat peak, and fading on it switched the correction
#: on and off (repeatability SD of the bow peak asymmetry 0.136 mm with the
#: plain rule, 0.050 with this one). The other contours keep the plain rule,
#: which the lower vermilion of a smile needs (tests/test_visit_acceptance.py).
#:
#: With these, and the peak located along the border on MediaPipe's contour
#: (:func:`lipsym.face.cupids_bow_peak`), a planted 0.5-3 mm lift of one
#: peak is recovered as 0.99-1.00 (34 faces, SD ≤ 0.13 mm; docs/accuracy.md).
BOW_PAIR = (37, 267)
BOW_HALF_X_IPD = 0.02
BOW_SEARCH_IPD = 0.03
BOW_WIDE_SEARCH_IPD = 0.08
BOW_BLUR_IPD = 0.005
#: Below this SD of a patch's features (8-bit grey levels) there is nothing to register.
MIN_PATCH_CONTRAST = 2.0
#: Largest accepted correction per landmark, fraction of IPD (≈ 2.5 mm).
MAX_SHIFT_IPD = 0.04


@dataclass(frozen=True)
class PairRefinement:
    """What refinement did to one landmark pair.

    Attributes
    ----------
    right, left : int
        MediaPipe indices (subject's sides).
    residual_frame_px : ndarray, shape (2,)
        Asymmetric residual ``s`` in frame px (x towards the subject's left, y
        up): the left landmark moved by ``s / 2``, the right one by the
        mirror image of ``-s / 2``. Zero when the pair fell back.
    peak_correlation : float
        Normalised correlation at the registration peak (1 = identical).
    used : bool
        False when the evidence was too weak and MediaPipe's points were kept.
    reason : str
        Why not used ("" when used).
    method : {"registration", "registration+fissure", "fissure"}
        How the pair was placed: bilateral patch registration; for the
        commissures, first moved along the lip line to the end of the oral
        fissure (:mod:`lipsym.refine`) when it can be followed, then
        registered there ("fissure" alone when that registration fell back).
    """

    right: int
    left: int
    residual_frame_px: np.ndarray
    peak_correlation: float
    used: bool
    reason: str = ""
    method: str = "registration"


@dataclass(frozen=True)
class Refinement:
    """Refined landmarks and the evidence behind them.

    Attributes
    ----------
    points_px : ndarray, shape (478, 3), read-only
        Landmarks with the refined lip pairs, photo px (z unchanged).
    pairs : tuple of PairRefinement
    fallback_fraction : float
        Fraction of :data:`LIP_PAIRS` left at MediaPipe's positions.
    commissure_used : bool
        Whether the commissure pair (61, 291) was refined.
    pupils : PairRefinement or None
        The pupil pair (468, 473), registered first: it sets the facial
        frame's axis (:func:`refine_pupils`). None when not attempted.
    """

    points_px: np.ndarray
    pairs: tuple[PairRefinement, ...]
    fallback_fraction: float
    commissure_used: bool
    pupils: PairRefinement | None = None

    def by_index(self) -> Mapping[int, PairRefinement]:
        """Pairs keyed by both of their landmark indices."""
        out = {}
        for p in self.pairs:
            out[p.right] = out[p.left] = p
        return MappingProxyType(out)


def _symmetric_grid(points_frame_px: np.ndarray, margin_px: float, step_px: float = 1.0,
                    margin_x_px: float | None = None,
                    margin_top_px: float | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Frame-px sample grid, symmetric about the midline, covering points plus a margin.

    ``margin_x_px`` (default ``margin_px``) is the margin beyond the
    outermost points, ``margin_top_px`` (default ``margin_px``) the margin
    above the highest one. Returns the 1-D u (x, symmetric about 0) and v (y,
    descending: image rows go down) sample positions, ``step_px`` apart; they
    are whole multiples of ``step_px``, so grids of different margins share
    samples.
    """
    pts = np.asarray(points_frame_px, dtype=np.float64)
    half_w = float(np.max(np.abs(pts[:, 0]))) + (margin_px if margin_x_px is None else margin_x_px)
    n = int(np.ceil(half_w / step_px))
    u = np.arange(-n, n + 1, dtype=np.float64) * step_px
    top = (float(np.max(pts[:, 1])) + (margin_px if margin_top_px is None else margin_top_px)) / step_px
    bottom = (float(np.min(pts[:, 1])) - margin_px) / step_px
    v = np.arange(np.ceil(top), np.floor(bottom) - 1, -1.0) * step_px
    return u, v


def _mouth_grid(points_px: np.ndarray, frame: FacialFrame, margin_px: float, step_px: float = 1.0,
                margin_x_px: float | None = None, margin_top_px: float | None = None) -> tuple[np.ndarray, np.ndarray]:
    """:func:`_symmetric_grid` around the lip landmarks (photo px)."""
    lips = frame.to_frame(points_px[[i for pair in LIP_PAIRS for i in pair] + [0, 17, 13, 14], :2])
    return _symmetric_grid(lips, margin_px, step_px, margin_x_px, margin_top_px)


def resample_in_frame(rgb: np.ndarray, frame: FacialFrame, u: np.ndarray, v: np.ndarray,
                      channels: np.ndarray | None = None) -> np.ndarray:
    """Sample an RGB photo on a frame grid (bilinear, float64 coordinates).

    Parameters
    ----------
    rgb : ndarray, shape (H, W, 3)
    frame : FacialFrame
        In the photo's pixels.
    u, v : ndarray, shape (nu,), (nv,)
        Frame x (towards the subject's left) and y (up) positions, px.
    channels : ndarray, shape (C, 3), optional
        A per-pixel linear map of RGB, applied to the samples.

    Returns
    -------
    ndarray, shape (nv, nu, C), float32 (C = 3 without ``channels``)
        Row i, column j is the photo at frame (u[j], v[i]). For the mirrored
        photo (and its mirrored frame) the result is this array with columns
        reversed, when ``u`` is symmetric.
    """
    # frame.to_photo on the grid, broadcast over rows and columns: the same
    # operations in the same order (so bit-identical), without the meshgrid.
    xy = np.empty((len(v), len(u), 2))
    for k in range(2):
        xy[..., k] = (frame.origin_px[k] + u[None, :] * frame.x_axis[k]) + v[:, None] * frame.y_axis[k]
    # Only the pixels under the grid are converted (a 24 MP photo is large):
    # a crop with a 2-pixel border gives bilinear samples identical to the
    # whole photo's, the clamping at the photo's edges included.
    h, w = rgb.shape[:2]
    x0 = int(np.clip(np.floor(xy[..., 0].min()) - 2, 0, w - 1))
    x1 = int(np.clip(np.ceil(xy[..., 0].max()) + 3, x0 + 1, w))
    y0 = int(np.clip(np.floor(xy[..., 1].min()) - 2, 0, h - 1))
    y1 = int(np.clip(np.ceil(xy[..., 1].max()) + 3, y0 + 1, h))
    # The 8-bit pixels are sampled as they are and the channel map applied to
    # the samples: converting the crop first cost more on large photos, whose
    # mouth crop holds ~2x more pixels than samples.
    samples = _bilinear(np.ascontiguousarray(rgb[y0:y1, x0:x1]), xy[..., 0] - x0, xy[..., 1] - y0)
    if channels is not None:
        samples = samples @ np.asarray(channels, dtype=np.float64).T
    return samples.astype(np.float32)


def _bilinear(image: np.ndarray, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Bilinear samples of an (h, w, c) image at float positions, edges clamped.

    In float64 throughout, so that mirrored positions on a mirrored image
    give bit-for-bit mirrored samples (OpenCV's remap rounds the weights to
    1/32 pixel).
    """
    shape = np.shape(x)
    h, w = image.shape[:2]
    x = np.clip(x, 0.0, w - 1.0).ravel()
    y = np.clip(y, 0.0, h - 1.0).ravel()
    x0 = np.minimum(np.floor(x).astype(np.intp), max(w - 2, 0))
    y0 = np.minimum(np.floor(y).astype(np.intp), max(h - 2, 0))
    dx, dy = np.minimum(x0 + 1, w - 1) - x0, (np.minimum(y0 + 1, h - 1) - y0) * w
    fx, fy = x - x0, y - y0
    n_c = image.shape[2]
    # Flat indices into the interleaved pixels: 1-D gathers are several times
    # faster than 2-D fancy indexing, and need no copy per channel.
    i00, dx, dy = (y0 * w + x0) * n_c, dx * n_c, dy * n_c
    flat = np.ascontiguousarray(image).reshape(-1)
    gx, gy = 1 - fx, 1 - fy
    out = np.empty((x.size, n_c), dtype=np.float64)
    for c in range(n_c):
        i = i00 + c
        top = flat[i] * gx + flat[i + dx] * fx
        bottom = flat[i + dy] * gx + flat[i + dy + dx] * fx
        out[:, c] = top * gy + bottom * fy
    return out.reshape(shape + (n_c,))


#: Channels that carry lip evidence, rows of a linear map of RGB: luminance
#: (Rec. 601) and redness (lip vs skin, R − G, weighted 1.5).
FEATURES = np.array([[0.299, 0.587, 0.114], [1.5, -1.5, 0.0]])


def _contrast(patch: np.ndarray) -> float:
    """SD of a feature patch over all its values (OpenCV's per-channel moments, combined)."""
    mean, sd = cv2.meanStdDev(patch)
    # Python floats: numpy's reductions cost more than the moments on tiny arrays.
    means, sds = mean.ravel().tolist(), sd.ravel().tolist()
    grand = sum(means) / len(means)
    return (sum(x * x for x in sds) / len(sds) + sum((m - grand) ** 2 for m in means) / len(means)) ** 0.5


def _subpixel_peak(scores: np.ndarray) -> tuple[float, float, float, bool, bool]:
    """Sub-pixel (col, row) of the maximum, its value, and whether it is interior in x and in y."""
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


def _register(image: np.ndarray, template: np.ndarray, corner: bool,
              distinct_only: bool = False, weighted: bool = False) -> tuple[np.ndarray, float, float, str]:
    """Offset (columns, rows) of ``template`` inside ``image`` relative to centring.

    Returns the offset, the peak correlation, a confidence in [0, 1] and why
    the offset cannot be used at all ("" when it can). The peak must be
    interior in both directions for a corner; for a contour (searched mainly
    across the lip, see :data:`CORNER_PAIRS`) in rows only. A faint border
    (the lower vermilion in a smile) can offer a second maximum across the
    lip; the confidence falls smoothly to 0 as it approaches the best, so
    that the correction fades out instead of jumping between the two. With
    ``distinct_only`` (the Cupid's bow pair, see :data:`BOW_PAIR`) a maximum
    counts only when the scores dip by :data:`AMBIGUITY_MARGIN` between it
    and the best. ``weighted``: the Gaussian weight of :data:`CORNER_WEIGHT_SIGMA`.
    """
    if weighted:
        weights = _centre_weights(*template.shape)
        scores = cv2.matchTemplate(image, template, cv2.TM_CCOEFF_NORMED, mask=weights)
    else:
        scores = cv2.matchTemplate(image, template, cv2.TM_CCOEFF_NORMED)
    x, y, peak, in_x, in_y = _subpixel_peak(scores)
    offset = np.array([x - 0.5 * (scores.shape[1] - 1), y - 0.5 * (scores.shape[0] - 1)])
    if not (in_y and (in_x or not corner)):
        return offset, peak, 0.0, "registration peak on the search border"
    confidence = 1.0
    if not corner:
        across = scores.max(axis=1).tolist()  # best score per row (offset across the lip)
        k = across.index(max(across))
        others = [across[i] for i in range(1, len(across) - 1)
                  if abs(i - k) > 1 and across[i] >= across[i - 1] and across[i] >= across[i + 1]
                  and (not distinct_only or min(across[min(i, k):max(i, k) + 1]) <= across[i] - AMBIGUITY_MARGIN)]
        if others:
            confidence = min(1.0, max(0.0, (peak - max(others)) / AMBIGUITY_MARGIN))
    return offset, peak, confidence, ""


def _patch(features: np.ndarray, col: float, row: float, half_x: int, half_y: int) -> np.ndarray | None:
    c, r = int(round(col)), int(round(row))
    if r - half_y < 0 or c - half_x < 0 or r + half_y + 1 > features.shape[0] or c + half_x + 1 > features.shape[1]:
        return None
    return features[r - half_y:r + half_y + 1, c - half_x:c + half_x + 1]


def _symmetric_height(left: np.ndarray, right: np.ndarray, height: float) -> tuple[np.ndarray, np.ndarray]:
    """Move both points of a pair (frame px) by one vertical shift, so that their mean height is ``height``.

    Used for the commissures: the registration measures their asymmetry
    and keeps MediaPipe's mean height; the two fissure ends measure the mean
    height better (London, 34 neutral faces: vertical error SD 0.52 against
    0.75 % IPD of the manual cheilia), but each alone repeats poorly (SD of
    the height asymmetry 0.23 mm against 0.05 mm registered). Both points
    move together, so every left − right asymmetry is unchanged and a
    mirrored photo still gives the mirrored result.
    """
    shift = np.array([0.0, height - 0.5 * (left[1] + right[1])])
    return left + shift, right + shift


def _normal_component(residual: np.ndarray, points_frame_px: np.ndarray, i_r: int, i_l: int) -> np.ndarray:
    """The part of ``residual`` normal to the contour through the pair.

    The normal is the mean of the left contour's normal and the mirror image
    of the right one's, so that it is the same line for the mirrored photo
    (whose residual is exactly ``-residual``).
    """
    normals = []
    for i in (i_l, i_r):
        prev, nxt = _NEIGHBOURS[i]
        t = points_frame_px[nxt] - points_frame_px[prev]
        normals.append(np.array([-t[1], t[0]]) / max(float(np.linalg.norm(t)), 1e-12))
    n_l, n_r = normals
    n_r_mirror = np.array([-n_r[0], n_r[1]])
    if float(n_l @ n_r_mirror) < 0:
        n_r_mirror = -n_r_mirror
    n = n_l + n_r_mirror
    n /= max(float(np.linalg.norm(n)), 1e-12)
    return float(residual @ n) * n


def _commissures_from_fissure(lum: np.ndarray, u: np.ndarray, v: np.ndarray, points_px: np.ndarray,
                              frame: FacialFrame) -> tuple[np.ndarray, np.ndarray, float] | None:
    """Both cheilia moved along the lip line to the end of the oral fissure; None if either side fails.

    Returns the right and left cheilion in photo px, and the mean frame
    height (px, y up) of the two fissure ends.

    The fissure's end (:func:`lipsym.refine.fissure_end`) fixes how far out
    each corner lies; its height stays that of ``points_px``, and the
    registration that follows measures it at the corner itself. On the
    London set (34 neutral faces) this cuts the median cheilion error against
    the manual points from 1.49 to 1.16 % IPD and the repeatability SD of the
    commissure height asymmetry from 0.105 to 0.041 mm, against the fissure's
    own height (0.23 mm). The right side is the left-side search on the
    left-right reversed image (``u`` is symmetric), so a mirrored photo gives
    the mirrored result.
    """
    ipd = frame.interpupillary_distance_px
    mirror = np.array([-1.0, 1.0])
    ends, heights = {}, []
    for side, outer, inner, image, m in (("left", 291, 308, lum, np.ones(2)), ("right", 61, 78, lum[:, ::-1], mirror)):
        f_outer = frame.to_frame(points_px[outer, :2]) * m
        f_inner = frame.to_frame(points_px[inner, :2]) * m
        end, _ = fissure_end(image, u, v, f_outer, f_inner, ipd)
        if end is None:
            return None
        ends[side] = np.array([end[0], f_outer[1]]) * m
        heights.append(float(end[1]))
    return frame.to_photo(ends["right"]), frame.to_photo(ends["left"]), 0.5 * (heights[0] + heights[1])


class _SymmetricGrid:
    """Features resampled on a midline-symmetric grid, and the bilateral registration of a landmark pair on it."""

    def __init__(self, feats: np.ndarray, u: np.ndarray, v: np.ndarray, step: float, half: int, search: int,
                 max_shift_px: float):
        self.feats, self.mirrored = feats, np.ascontiguousarray(feats[:, ::-1])
        self.u0, self.v0, self.n_u, self.step = float(u[0]), float(v[0]), len(u), step
        self.half, self.search, self.max_shift_px = half, search, max_shift_px

    def register(self, f_l: np.ndarray, f_r: np.ndarray, corner: bool, *, half_x: int | None = None,
                 search_y: int | None = None, distinct_only: bool = False,
                 weighted: bool = False) -> tuple[np.ndarray, float, str]:
        """Asymmetric residual ``s`` of a pair (frame px), the weaker peak correlation, and why it cannot be used.

        ``f_l``, ``f_r``: the left and right landmark, frame px. For a contour
        pair the residual is already scaled by the ambiguity confidence (see
        :func:`_register`); the reason is "" when the residual can be used.
        ``half_x`` and ``search_y`` (samples) narrow the patch along x and
        change the search across the lip (default: the grid's ``half`` and
        ``search``); ``distinct_only`` and ``weighted`` as in :func:`_register`.
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
        big_l = _patch(self.feats, col_l, row_l, half_x + search_x, half + search_y)
        tmpl_r = _patch(self.mirrored, col_rm, row_r, half_x, half)
        big_r = _patch(self.mirrored, col_rm, row_r, half_x + search_x, half + search_y)
        tmpl_l = _patch(self.feats, col_l, row_l, half_x, half)
        if big_l is None or tmpl_r is None or big_r is None or tmpl_l is None:
            return np.zeros(2), 0.0, "patch outside the photo"
        if min(_contrast(tmpl_r), _contrast(tmpl_l)) < MIN_PATCH_CONTRAST:
            return np.zeros(2), 0.0, "no image contrast (blur or occlusion)"
        # Rounding the patch centres to whole samples is undone below, so the
        # estimate is continuous in the landmark positions.
        frac_l = np.array([col_l - round(col_l), row_l - round(row_l)])
        frac_rm = np.array([col_rm - round(col_rm), row_r - round(row_r)])
        # Where the mirrored right feature lies around the left landmark, and vice versa.
        off_lr, peak_lr, conf_lr, why_lr = _register(big_l, tmpl_r, corner, distinct_only, weighted)
        off_rl, peak_rl, conf_rl, why_rl = _register(big_r, tmpl_l, corner, distinct_only, weighted)
        s_lr = off_lr - frac_l + frac_rm   # left feature − mirrored right feature, grid (col, row)
        s_rl = off_rl - frac_rm + frac_l   # the same seen from the other side, negated
        s_grid = 0.5 * (s_lr - s_rl)
        # s_grid: (left feature − left landmark) − (mirrored right feature −
        # mirrored right landmark), grid (col, row); rows go down, frame y up.
        residual = np.array([s_grid[0], -s_grid[1]]) * step
        peak = min(peak_lr, peak_rl)
        if why_lr or why_rl:
            return np.zeros(2), peak, why_lr or why_rl
        if peak < MIN_PEAK_CORRELATION:
            return np.zeros(2), peak, f"weak image evidence (correlation {peak:.2f})"
        if np.linalg.norm(residual) / 2 > self.max_shift_px:
            return np.zeros(2), peak, "correction larger than plausible"
        # Both directions' confidence, symmetric in the two sides (1 for a corner).
        return min(conf_lr, conf_rl) * residual, peak, ""


def refine_pupils(rgb: np.ndarray, points_px: np.ndarray, frame: FacialFrame) -> tuple[np.ndarray, PairRefinement]:
    """Correct the asymmetric part of the two pupil centres from the image.

    Why. Every height asymmetry is measured across the line through the
    pupils, so an error of that line's angle tilts every left − right height
    difference by (distance apart) × angle. MediaPipe's pupil centres
    disagree with the manual ones of the London set by 0.58 % IPD (SD) in
    their relative height, which alone makes ~0.5 % IPD of commissure height
    asymmetry error. Registering the left iris against the mirrored right
    iris (as the lip pairs, :class:`_SymmetricGrid`) brings it to 0.48 % IPD; the
    commissure height asymmetry then agrees better with the manual one (34
    faces: r 0.945 → 0.958, mean absolute error 0.655 → 0.60 % IPD).

    Parameters
    ----------
    rgb : ndarray, shape (H, W, 3), uint8
    points_px : ndarray, shape (478, 2 or 3)
        Flip-averaged landmarks in ``rgb``'s pixels.
    frame : FacialFrame
        Built from ``points_px``.

    Returns
    -------
    points_px : ndarray, shape (478, 2 or 3)
        A copy, pupils and iris rings moved (unchanged when the pair falls back).
    pupils : PairRefinement
    """
    pts = np.array(points_px, dtype=np.float64)
    ipd = frame.interpupillary_distance_px
    step = max(1.0, ipd / MAX_IPD_SAMPLES)
    half = max(4, int(round(PUPIL_PATCH_HALF_IPD * ipd / step)))
    search = max(2, int(round(SEARCH_IPD * ipd / step)))
    f_r, f_l = frame.to_frame(pts[PUPIL_RIGHT, :2]), frame.to_frame(pts[PUPIL_LEFT, :2])
    u, v = _symmetric_grid(np.array([f_l, f_r]), (half + search + 3) * step, step)
    feats = np.ascontiguousarray(resample_in_frame(rgb, frame, u, v, channels=FEATURES))
    grid = _SymmetricGrid(feats, u, v, step, half, search, MAX_SHIFT_IPD * ipd)
    residual, peak, reason = grid.register(f_l, f_r, corner=True, weighted=True)
    if reason:
        return pts, PairRefinement(PUPIL_RIGHT, PUPIL_LEFT, np.zeros(2), peak, False, reason)
    # Only the relative height is corrected: the horizontal residual is mostly
    # the gaze (both irises turned one way), which must not move the facial
    # midline (on London it made the lateral commissure asymmetry agree worse
    # with the manual points: MAE 1.54 → 2.03 % IPD).
    residual = np.array([0.0, residual[1]])
    shift_l = 0.5 * residual
    shift_r = np.array([shift_l[0], -shift_l[1]])  # the mirror image of −s/2, as for the lip pairs
    to_photo = np.column_stack([frame.x_axis, frame.y_axis])  # frame px → photo px displacement
    for pupil, shift in ((PUPIL_LEFT, shift_l), (PUPIL_RIGHT, shift_r)):
        pts[[pupil, *IRIS_RINGS[pupil]], :2] += to_photo @ shift
    return pts, PairRefinement(PUPIL_RIGHT, PUPIL_LEFT, residual, peak, True)


def refine_lips(rgb: np.ndarray, points_px: np.ndarray, frame: FacialFrame) -> Refinement:
    """Correct the asymmetric part of the lip landmarks from the image.

    Parameters
    ----------
    rgb : ndarray, shape (H, W, 3), uint8
        The photo the landmarks are in (any resolution; the landmarks'
        pixel grid).
    points_px : ndarray, shape (478, 2 or 3)
        Flip-averaged landmarks in ``rgb``'s pixels, subject sides.
    frame : FacialFrame
        Built from the same landmarks and pixels.

    Returns
    -------
    Refinement
        Its points are measured in the frame :func:`lipsym.face.frame_from_landmarks`
        builds from them: the pupils are refined first (:func:`refine_pupils`),
        and the lips in the frame of the refined pupils.
    """
    pts, pupils = refine_pupils(rgb, points_px, frame)
    if pupils.used:
        frame = frame_from_landmarks(pts)
    ipd = frame.interpupillary_distance_px
    # One sample per photo pixel, but no finer than MAX_IPD_SAMPLES across the
    # interpupillary distance: a large face costs no more than a London one.
    step = max(1.0, ipd / MAX_IPD_SAMPLES)
    half = max(4, int(round(PATCH_HALF_IPD * ipd / step)))
    search = max(2, int(round(SEARCH_IPD * ipd / step)))
    bow_half_x = max(1, int(round(BOW_HALF_X_IPD * ipd / step)))
    bow_search = max(2, int(round(BOW_SEARCH_IPD * ipd / step)))
    bow_wide_search = max(2, int(round(BOW_WIDE_SEARCH_IPD * ipd / step)))
    # Room for a patch and its search around every lip landmark, and beyond the
    # corners also for the fissure search's reach, so that a corner patch fits
    # at the farthest fissure end (a smaller grid all round let such a patch
    # leave the grid, and that commissure fell back); the grid's cost grows
    # with its area.
    patch_room = (half + search + 2) * step
    # Above the lips, also room for the bow's first pass (longer search, smoothed).
    bow_room = _bow_reach(step, half, ipd)[1] + bow_wide_search * step
    u, v = _mouth_grid(pts, frame, margin_px=patch_room, step_px=step,
                       margin_x_px=patch_room + REACH_IPD * ipd, margin_top_px=max(patch_room, bow_room))
    feats = np.ascontiguousarray(resample_in_frame(rgb, frame, u, v, channels=FEATURES))
    grid = _SymmetricGrid(feats, u, v, step, half, search, MAX_SHIFT_IPD * ipd)
    bow_grid = _bow_grid(feats, u, v, frame.to_frame(pts[list(BOW_PAIR), :2]), step, half, bow_wide_search, ipd)

    # The commissures are first moved along the lip line to the end of the
    # oral fissure, so that their registration below measures the corner itself.
    fissure = _commissures_from_fissure(feats[..., 0], u, v, pts, frame)
    fissure_found = fissure is not None
    if fissure_found:
        pts[61, :2], pts[291, :2], fissure_height = fissure

    # Frame coordinates of every landmark, kept in step with ``pts``.
    f_all = frame.to_frame(pts[:, :2])
    moved: list[int] = []  # converted back to photo px once, after the loop
    results = []
    for i_r, i_l in LIP_PAIRS:
        corner = (i_r, i_l) in CORNER_PAIRS
        f_r, f_l = f_all[i_r].copy(), f_all[i_l].copy()
        bow = (i_r, i_l) == BOW_PAIR
        commissures = (i_r, i_l) == (61, 291)
        residual, peak, reason = (bow_grid if bow else grid).register(f_l, f_r, corner, distinct_only=bow,
                                                                     weighted=commissures)
        method = "registration"
        if (i_r, i_l) == (61, 291) and fissure_found:
            method = "registration+fissure"
            if reason:
                # Fissure ends that do not register as mirror images of each
                # other (a crease followed on one side only) are not trusted:
                # the corners MediaPipe found are registered instead.
                f_r, f_l = frame.to_frame(points_px[61, :2]), frame.to_frame(points_px[291, :2])
                retry = grid.register(f_l, f_r, corner, weighted=True)
                if not retry[2]:
                    residual, peak, reason = retry
                    method, fissure_found = "registration", False
                    f_all[61], f_all[291] = f_r, f_l
        if reason:
            results.append(PairRefinement(i_r, i_l, np.zeros(2), peak, False, reason,
                                          "fissure" if method == "registration+fissure" else method))
            continue
        if not corner:
            residual = _normal_component(residual, f_all, i_r, i_l)
        if bow:
            # The border at the peak itself (see BOW_PAIR): what the first
            # pass left, measured at the corrected (still mirror-consistent)
            # positions; kept only when that registration is sound too.
            s_half = 0.5 * residual
            more, _, why2 = grid.register(f_l + s_half, f_r + s_half * np.array([1.0, -1.0]), False,
                                          half_x=bow_half_x, search_y=bow_search, distinct_only=True)
            if not why2:
                residual = residual + _normal_component(more, f_all, i_r, i_l)
        if (i_r, i_l) == (61, 291):
            residual = CORNER_GAIN * residual
        shift_l = 0.5 * residual
        shift_r = np.array([shift_l[0], -shift_l[1]])  # the mirror image of −s/2
        new_l, new_r = f_l + shift_l, f_r + shift_r
        if (i_r, i_l) == (61, 291):
            if fissure_found:
                new_l, new_r = _symmetric_height(new_l, new_r, fissure_height)
        f_all[i_l], f_all[i_r] = new_l, new_r
        moved += [i_l, i_r]
        results.append(PairRefinement(i_r, i_l, residual, peak, True, "", method))
    if moved:
        pts[moved, :2] = frame.to_photo(f_all[moved])
    if results[0].method != "registration":
        # The commissures' total correction, fissure included (for the record);
        # ``used`` stays the registration's: without it the height is MediaPipe's.
        p0 = results[0]
        residual = (frame.to_frame(pts[291, :2]) - frame.to_frame(points_px[291, :2])
                    - (frame.to_frame(pts[61, :2]) - frame.to_frame(points_px[61, :2])) * np.array([-1.0, 1.0]))
        results[0] = replace(p0, residual_frame_px=residual)
    pts.flags.writeable = False
    used = [p.used for p in results]
    return Refinement(
        points_px=pts,
        pairs=tuple(results),
        fallback_fraction=1.0 - sum(used) / len(used),
        commissure_used=results[0].used,
        pupils=pupils,
    )


def _bow_reach(step: float, half: int, ipd: float) -> tuple[float, float]:
    """Smoothing SD of the bow's first pass (samples), and how far its grid must reach beyond a patch centre
    (frame px, without the search): the patch, two samples of rounding, and the smoothing kernel's reach."""
    sigma = BOW_BLUR_IPD * ipd / step
    return sigma, (half + 2 + int(np.ceil(4.0 * sigma)) + 1) * step


def _bow_grid(feats: np.ndarray, u: np.ndarray, v: np.ndarray, bow_frame_px: np.ndarray, step: float, half: int,
              search: int, ipd: float) -> _SymmetricGrid:
    """The smoothed grid of the Cupid's bow's first pass (see BOW_BLUR_IPD), cut from the mouth grid around the pair.

    ``bow_frame_px``: the pair, shape (2, 2), frame px. Only the samples
    the pair's patches and search can reach are smoothed; the cut reaches
    beyond them by the kernel's reach, so its edges do not change them, and
    it is symmetric about the midline.
    """
    sigma, reach = _bow_reach(step, half, ipd)
    half_w = float(np.max(np.abs(bow_frame_px[:, 0]))) + reach + CONTOUR_SEARCH_X_PX * step
    top = float(np.max(bow_frame_px[:, 1])) + reach + search * step
    bottom = float(np.min(bow_frame_px[:, 1])) - reach - search * step
    cols = np.flatnonzero(np.abs(u) <= half_w)
    rows = np.flatnonzero((v <= top) & (v >= bottom))
    cut = feats[rows[0]:rows[-1] + 1, cols[0]:cols[-1] + 1]
    return _SymmetricGrid(_mirror_exact_blur(cut, sigma), u[cols[0]:cols[-1] + 1], v[rows[0]:rows[-1] + 1], step,
                          half, search, MAX_SHIFT_IPD * ipd)


def _mirror_exact_blur(feats: np.ndarray, sigma: float) -> np.ndarray:
    """Gaussian smoothing (SD ``sigma`` samples) whose result for the reversed array is exactly the reversed result.

    A convolution sums a reversed row in the reverse order, which differs in
    the last bits; averaging the smoothing of the array and of its mirror
    image (float addition commutes) keeps a mirrored photo's result the
    exact mirror image, as the rest of the refinement.
    """
    ahead = cv2.GaussianBlur(feats, (0, 0), sigma)
    back = cv2.GaussianBlur(np.ascontiguousarray(feats[:, ::-1]), (0, 0), sigma)[:, ::-1]
    return np.ascontiguousarray(0.5 * (ahead + back))


def _check_pairs() -> None:  # pragma: no cover - guards an edit of LIP_PAIRS
    partner = mirror_pairs()
    for r, l in LIP_PAIRS:
        assert partner[r] == l, (r, l)


_check_pairs()
