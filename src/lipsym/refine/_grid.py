"""The photo resampled in the facial frame, on a grid symmetric about the midline.

The grid's columns sit at frame x (towards the subject's left) symmetric
about 0 and its rows at frame y (up), one sample per photo pixel at most, so
the mirror image of the resampled region is the same array reversed left to
right: a left feature and the mirror image of its right partner can be
compared directly (:mod:`._registration`), and a mirrored photo gives exactly
the mirrored samples.
"""

from __future__ import annotations

import cv2
import numpy as np

from lipsym.face._frame import FacialFrame

#: Finest sampling of the mouth: at most this many samples across the
#: interpupillary distance (London faces: 175-250 px, sampled per pixel).
MAX_IPD_SAMPLES = 240.0
#: Coarsest sampling: at least this many samples across the interpupillary
#: distance, a small face's photo being interpolated (bilinear) between its
#: pixels. Why: the fissure search and the registrations count some lengths
#: in samples (the fissure's 3-sample smoothing and its 3 samples between the
#: inner and the outer corner, the patches' minimum sizes), so below ~80 px
#: of IPD the fissure was followed at one scale and dropped at the next, and
#: the commissure height moved with it (issue #13; London 122, 2 mm lift
#: downscaled to IPD 76 px: 1.75 mm). Set below every face of the London
#: (IPD ≥ 175 px) and 3DSK (~350 px) sets, so that no validated result moves;
#: not tuned (benchmarks/corner_stability.py measures its effect).
MIN_IPD_SAMPLES = 160.0

#: Channels that carry lip evidence, rows of a linear map of RGB: luminance
#: (Rec. 601) and redness (lip vs skin, R − G, weighted 1.5).
FEATURES = np.array([[0.299, 0.587, 0.114], [1.5, -1.5, 0.0]])


def sampling_step_px(ipd_px: float) -> float:
    """Frame px between grid samples for a face whose interpupillary distance is ``ipd_px``.

    One sample per photo pixel, but no finer than :data:`MAX_IPD_SAMPLES`
    across the interpupillary distance (a large face costs no more than a
    London one) and no coarser than :data:`MIN_IPD_SAMPLES` (a small face
    is sampled between its pixels, so that lengths counted in samples keep
    their size in the face). Continuous in ``ipd_px``.
    """
    return max(ipd_px / MAX_IPD_SAMPLES, min(1.0, ipd_px / MIN_IPD_SAMPLES))


def samples(fraction_ipd: float, ipd_px: float, step_px: float, minimum: int) -> int:
    """A length given as a fraction of the IPD, in whole grid samples (at least ``minimum``)."""
    return max(minimum, int(round(fraction_ipd * ipd_px / step_px)))


def symmetric_grid(points_frame_px: np.ndarray, margin_px: float, step_px: float = 1.0,
                   margin_x_px: float | None = None,
                   margin_top_px: float | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Sample positions symmetric about the midline, covering points plus a margin.

    Parameters
    ----------
    points_frame_px : ndarray, shape (N, 2), float, frame px
    margin_px : float
        Margin below the lowest point, frame px; also beyond the outermost
        points and above the highest one unless given below.
    step_px : float
        Frame px between samples.
    margin_x_px, margin_top_px : float, optional
        Margin beyond the outermost points, and above the highest one, frame px.

    Returns
    -------
    u : ndarray, shape (nu,), float, frame px
        x positions, symmetric about 0, increasing.
    v : ndarray, shape (nv,), float, frame px
        y positions, decreasing (image rows go down).
        Both are whole multiples of ``step_px``, so grids of different
        margins share samples.
    """
    pts = np.asarray(points_frame_px, dtype=np.float64)
    half_w = float(np.max(np.abs(pts[:, 0]))) + (margin_px if margin_x_px is None else margin_x_px)
    n = int(np.ceil(half_w / step_px))
    u = np.arange(-n, n + 1, dtype=np.float64) * step_px
    top = (float(np.max(pts[:, 1])) + (margin_px if margin_top_px is None else margin_top_px)) / step_px
    bottom = (float(np.min(pts[:, 1])) - margin_px) / step_px
    v = np.arange(np.ceil(top), np.floor(bottom) - 1, -1.0) * step_px
    return u, v


def resample_in_frame(rgb: np.ndarray, frame: FacialFrame, u: np.ndarray, v: np.ndarray,
                      channels: np.ndarray | None = None) -> np.ndarray:
    """Sample an RGB photo on a frame grid (bilinear, float64 coordinates).

    Parameters
    ----------
    rgb : ndarray, shape (H, W, 3), uint8
    frame : FacialFrame
        In the photo's pixels.
    u, v : ndarray, shape (nu,), (nv,), float, frame px
        Frame x (towards the subject's left) and y (up) positions.
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
    sampled = _bilinear(np.ascontiguousarray(rgb[y0:y1, x0:x1]), xy[..., 0] - x0, xy[..., 1] - y0)
    if channels is not None:
        sampled = sampled @ np.asarray(channels, dtype=np.float64).T
    return sampled.astype(np.float32)


def resample_features(rgb: np.ndarray, frame: FacialFrame, u: np.ndarray, v: np.ndarray) -> np.ndarray:
    """:func:`resample_in_frame` with the :data:`FEATURES` channels, shape (nv, nu, 2), float32, C-contiguous."""
    return np.ascontiguousarray(resample_in_frame(rgb, frame, u, v, channels=FEATURES))


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


def mirror_exact_blur(feats: np.ndarray, sigma: float) -> np.ndarray:
    """Gaussian smoothing (SD ``sigma`` samples) whose result for the reversed array is exactly the reversed result.

    A convolution sums a reversed row in the reverse order, which differs in
    the last bits; averaging the smoothing of the array and of its mirror
    image (float addition commutes) keeps a mirrored photo's result the
    exact mirror image, as the rest of the refinement.
    """
    ahead = cv2.GaussianBlur(feats, (0, 0), sigma)
    back = cv2.GaussianBlur(np.ascontiguousarray(feats[:, ::-1]), (0, 0), sigma)[:, ::-1]
    return np.ascontiguousarray(0.5 * (ahead + back))
