"""Shapes of a planted Cupid's bow lift other than the default plateau.

A real difference between the two sides of a Cupid's bow need not look like
the simulator's default plant (a disc of radius :data:`BOW_PLATEAU_IPD`
around the peak lifted by the full amount). The refinement was tuned on that
plant; these shapes are what it was NOT tuned on, so that the benchmark can
show whether a lift of another shape or width is still recovered
(benchmarks/validate.py, part ``plants``).

Each shape is a lift profile ``g(u)`` along the upper vermilion border, where
``u`` is the distance along the frame's x from the peak, positive away from
the midline (towards the cheilion), in IPD units; ``g(0) = 1`` (the peak
rises by exactly the planted amount) and ``0 ≤ g ≤ 1``. The border points at
a spacing of :data:`SPACING_IPD` receive the vertical displacement
``up · g(u)``, fading above and below the border (:func:`border_controls`:
the skin above and the vermilion below move with it); labrale superius, the other peak, subnasale, the inner upper
lip and the cheilion of the planted side are held.

Shapes (widths in IPD; 0.01 IPD ≈ 0.6 mm):

- ``gauss_narrow``: a Gaussian bump, σ 0.012;
- ``gauss_wide``: a Gaussian bump, σ 0.03;
- ``flat_top``: 1 within 0.035 of the peak, a cosine taper over 0.025 beyond;
- ``skew_lateral``: a skewed bump, σ 0.01 towards the midline and 0.04 towards the cheilion;
- ``skew_medial``: the mirror skew, σ 0.03 towards the midline and 0.01 towards the cheilion;
- ``hemi_border``: the whole hemi-border, from a third of the way between the
  midline and the peak out to 65 % of the way to the cheilion, lifted by the
  full amount (cosine tapers at both ends; nothing beyond 85 %).

Towards the midline every profile is cut off (and fades) before 0.75 of the
way from the peak to labrale superius, which stays put: a lift of one side
must not move the other.
"""

from __future__ import annotations

import math

import numpy as np

#: Shapes of :class:`~lipsym.simulate.Plant` ``bow_peak`` lifts; "plateau" is the default plant.
BOW_SHAPES = ("plateau", "gauss_narrow", "gauss_wide", "flat_top", "skew_lateral", "skew_medial", "hemi_border")
#: Spacing of the prescribed points along the border, IPD.
SPACING_IPD = 0.01
#: Heights above (+) and below (−) the border of the prescribed rows, IPD
#: (evenly spaced: uneven rows let the interpolant ripple between them).
ROWS_IPD = tuple(round(0.0167 * k, 4) for k in range(-6, 7))
#: The lift is whole within this height of the border, IPD (≈ 0.6 mm) ...
FULL_BAND_IPD = 0.01
#: ... and gone at this height (≈ 6 mm): a 2 mm lift then stretches or
#: compresses the skin and the vermilion by at most about half, far from folding.
VERTICAL_IPD = 0.1
#: Support radius of each prescribed point, IPD (≈ 3 mm): about three grid
#: spacings, so that the field between the prescribed points follows the
#: profile without ripples.
RADIUS_IPD = 0.045
#: Fraction of the peak-to-midline distance the profile may extend towards the midline.
MEDIAL_LIMIT = 0.75


def _gauss(u: np.ndarray, sigma_medial: float, sigma_lateral: float) -> np.ndarray:
    sigma = np.where(u < 0, sigma_medial, sigma_lateral)
    return np.exp(-0.5 * (u / sigma) ** 2)


def _taper(d: np.ndarray, width: float) -> np.ndarray:
    """1 at d ≤ 0, falling smoothly (cosine) to 0 at d ≥ width."""
    t = np.clip(d / width, 0.0, 1.0)
    return 0.5 * (1.0 + np.cos(math.pi * t))


def profile(shape: str, u_ipd: np.ndarray, gap_ipd: float, lateral_ipd: float) -> np.ndarray:
    """The lift profile g(u) of a shape (see the module doc).

    Parameters
    ----------
    shape : str
        One of :data:`BOW_SHAPES` except "plateau".
    u_ipd : ndarray
        Distance from the peak along x, positive away from the midline, IPD.
    gap_ipd : float
        Distance from the peak to the midline, IPD.
    lateral_ipd : float
        Distance from the peak to the cheilion, IPD.
    """
    u = np.asarray(u_ipd, dtype=float)
    if shape == "gauss_narrow":
        g = _gauss(u, 0.012, 0.012)
    elif shape == "gauss_wide":
        g = _gauss(u, 0.03, 0.03)
    elif shape == "flat_top":
        g = _taper(np.abs(u) - 0.035, 0.025)
    elif shape == "skew_lateral":
        g = _gauss(u, 0.01, 0.04)
    elif shape == "skew_medial":
        g = _gauss(u, 0.03, 0.01)
    elif shape == "hemi_border":
        inner = -(2.0 / 3.0) * gap_ipd  # a third of the way from the midline to the peak
        outer = 0.65 * lateral_ipd
        ramp = 0.3 * gap_ipd
        g = _taper(inner + ramp - u, ramp) * _taper(u - outer, 0.2 * lateral_ipd)
        g = np.where(u <= inner, 0.0, g)
    else:
        raise ValueError(f"unknown bow shape {shape!r}")
    # Fade out before the medial limit so that labrale superius is not pulled.
    limit = MEDIAL_LIMIT * gap_ipd
    return g * _taper(-u - 0.8 * limit, 0.2 * limit)


def _vertical(v_ipd: float) -> float:
    """Vertical falloff h(v) of the lift at a height v (IPD) above (+) or below (−) the border."""
    return float(_taper(np.array(abs(v_ipd) - FULL_BAND_IPD), VERTICAL_IPD - FULL_BAND_IPD))


def border_controls(shape: str, peak_frame_px: np.ndarray, outward_x: int, border_y, ipd_px: float,
                    gap_px: float, lateral_px: float, up_px: float) -> tuple[list, list, list]:
    """Sources (frame px), vertical displacements (frame px) and radii (px) of a shaped bow lift.

    The displacement is prescribed on a grid: along the border (spacing
    :data:`SPACING_IPD`) it is ``up · g(u)``; above and below, at the heights
    :data:`ROWS_IPD`, it falls off smoothly (``h(v)``: 1 within
    :data:`FULL_BAND_IPD` of the border, 0 at :data:`VERTICAL_IPD`), so that the
    skin above and the vermilion below move with the border without folding.

    Parameters
    ----------
    shape : str
    peak_frame_px : ndarray, shape (2,)
        The Cupid's bow peak, frame px.
    outward_x : int
        +1 on the subject's left, −1 on the right (:attr:`lipsym.sides.Side.outward_x`).
    border_y : callable
        Frame y of the upper vermilion border at a frame x (px).
    ipd_px, gap_px, lateral_px, up_px : float
        Interpupillary distance, peak-to-midline and peak-to-cheilion distances and the lift, px.
    """
    gap, lateral = gap_px / ipd_px, lateral_px / ipd_px
    step = SPACING_IPD
    u = np.arange(-MEDIAL_LIMIT * gap, 0.9 * lateral + 1e-9, step)
    u = u[np.abs(u) > 0.25 * step]
    u = np.sort(np.concatenate([u, [0.0]]))
    g = profile(shape, u, gap, lateral)
    # Only where the lift is, with two prescribed zeros beyond each end: the
    # warp's cost grows with the cube of the number of prescribed points.
    lifted = np.nonzero(g > 1e-3)[0]
    keep = slice(max(lifted[0] - 2, 0), min(lifted[-1] + 3, len(u)))
    u, g = u[keep], g[keep]
    offset = peak_frame_px[1] - border_y(peak_frame_px[0])
    sources, disp, radii = [], [], []
    for ui, gi in zip(u, g):
        x = peak_frame_px[0] + outward_x * ui * ipd_px
        y = peak_frame_px[1] if ui == 0.0 else border_y(x) + offset
        for v in ROWS_IPD:
            sources.append(np.array([x, y + v * ipd_px]))
            disp.append([0.0, up_px * float(gi) * _vertical(v)])
            radii.append(RADIUS_IPD * ipd_px)
    return sources, disp, radii
