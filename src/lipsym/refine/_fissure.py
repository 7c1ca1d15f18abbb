"""The commissure as the end of the oral fissure, found in the image.

Manual annotators (and clinicians) put the mouth corner where the dark line
between the lips, the oral fissure, ends. MediaPipe's outer commissure
vertex scatters along that line by about 1.6 % of the interpupillary
distance (London set, manual points). This module follows the fissure from
the inner mouth corner outwards in the facial frame and returns the point
where its darkness has faded below a fixed fraction of its darkness further
in.

:mod:`lipsym.refine` uses the end's lateral position (``_commissures``): its height, taken
from the fissure's own course, repeats less well under re-photographing
than the registered height (0.23 against 0.105 mm SD on the London set).

It works on the subject's LEFT half of a frame-resampled luminance image;
the right half is handled by the caller on the left-right reversed image,
which makes the result exactly mirror-consistent.
"""

from __future__ import annotations

import statistics

import numpy as np

#: The fissure has ended where its contrast falls below this fraction of its
#: median contrast between the inner corner and MediaPipe's commissure.
#: Chosen on the London set (34 neutral faces) at the middle of the range
#: 0.75-0.85 where the agreement with the manual corners is flat (below 0.7
#: the search runs on along skin creases).
END_CONTRAST_FRACTION = 0.8
#: Half-height of the window searched across the fissure, fraction of IPD.
WINDOW_HALF_IPD = 0.03
#: How far beyond MediaPipe's commissure the fissure is followed, fraction of IPD.
REACH_IPD = 0.12
#: Below this median contrast (8-bit grey levels) there is no fissure to follow.
MIN_FISSURE_CONTRAST = 6.0


def _min_subpixel(profile: np.ndarray) -> tuple[float, float]:
    """Position (sub-sample) and value of a profile's minimum."""
    k = int(np.argmin(profile))
    pos, val = float(k), float(profile[k])
    if 0 < k < len(profile) - 1:
        a, b, c = profile[k - 1], profile[k], profile[k + 1]
        den = a - 2 * b + c
        if den > 0:
            off = 0.5 * (a - c) / den
            pos, val = k + off, float(b - 0.25 * (a - c) * off)
    return pos, val


def fissure_end(lum: np.ndarray, u: np.ndarray, v: np.ndarray, outer_frame_px: np.ndarray,
                inner_frame_px: np.ndarray, ipd_px: float) -> tuple[np.ndarray | None, str]:
    """Where the oral fissure ends on the subject's left side.

    Parameters
    ----------
    lum : ndarray, shape (nv, nu)
        Luminance resampled in the facial frame: column j at frame x = u[j]
        (towards the subject's left), row i at frame y = v[i] (descending).
    u, v : ndarray, shapes (nu,), (nv,)
        Sample positions, frame px, evenly spaced (u increasing, v decreasing).
    outer_frame_px, inner_frame_px : ndarray, shape (2,)
        MediaPipe's outer (291) and inner (308) left mouth corners, frame px.
    ipd_px : float
        Interpupillary distance, frame px.

    Returns
    -------
    point : ndarray, shape (2,), or None
        The fissure's end, frame px; None when it cannot be followed.
    reason : str
        Why not ("" when found).
    """
    step = u[1] - u[0]  # frame px per sample
    half = max(3, int(round(WINDOW_HALF_IPD * ipd_px / step)))
    col_start = int(np.ceil((inner_frame_px[0] - u[0]) / step))
    col_stop = int(np.floor((outer_frame_px[0] + REACH_IPD * ipd_px - u[0]) / step))
    span = outer_frame_px[0] - inner_frame_px[0]
    if span <= 0:
        return None, "mouth corners out of order"
    slope = (outer_frame_px[1] - inner_frame_px[1]) / span
    xs, ys, contrast = [], [], []
    for col in range(col_start, col_stop + 1):
        x = u[0] + col * step
        if len(ys) < 3:
            y_pred = inner_frame_px[1] + slope * (x - inner_frame_px[0])
        else:  # follow the fissure's own course
            y_pred = ys[-1] + 0.5 * (ys[-1] - ys[-3])
        row = int(round((v[0] - y_pred) / step))
        if col < 0 or col >= lum.shape[1] or row - half < 0 or row + half + 1 > lum.shape[0]:
            break  # the end, if any, lies among the samples taken so far
        profile = lum[row - half:row + half + 1, col]
        k, darkest = _min_subpixel(profile)
        xs.append(float(x))
        ys.append(float(v[0] - (row - half + k) * step))
        # Darkness relative to the lips / skin on both sides of the line.
        contrast.append(0.25 * (float(profile[0]) + float(profile[1]) + float(profile[-2]) + float(profile[-1]))
                        - darkest)
    if len(xs) < 3:  # the first columns already left the image (a strongly turned head)
        return None, "fissure too short to measure"
    xs_a, c = np.asarray(xs), np.convolve(np.asarray(contrast), np.ones(3) / 3, mode="same")
    inside = xs_a < outer_frame_px[0]
    if inside.sum() < 3:
        return None, "fissure too short to measure"
    reference = statistics.median(c[inside].tolist())  # numpy's median costs more on ~30 values
    if reference < MIN_FISSURE_CONTRAST:
        return None, f"no dark fissure (contrast {reference:.1f})"
    threshold = END_CONTRAST_FRACTION * reference
    eligible = xs_a > inner_frame_px[0] + 0.3 * span
    ends = np.nonzero((c < threshold) & eligible)[0]
    if ends.size == 0 or ends[0] == 0:
        return None, "fissure does not fade within reach"
    i = int(ends[0])
    # Linear interpolation of the threshold crossing between samples i-1 and i.
    w = (c[i - 1] - threshold) / (c[i - 1] - c[i]) if c[i - 1] != c[i] else 1.0
    x_end = xs_a[i - 1] + w * step
    y_end = statistics.median(ys[max(0, i - 4):i])
    return np.array([x_end, y_end]), ""
