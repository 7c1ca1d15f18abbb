"""Smooth, exactly-interpolating image warps (core of the planted-asymmetry simulator).

The simulator takes a real photo and moves one facial structure by a known
amount so that a landmark detector's sensitivity can be measured against
planted ground truth. This module is the pixel-level core: it knows nothing
about mm or anatomy. A caller gives control points (pixel positions and the
displacement each must receive), optional anchors (points that must stay put)
and a support radius; the module builds a smooth forward displacement field
``d`` and warps images and points with it.

Conventions
-----------
* Coordinates are ``(x, y)`` in pixels, ``x`` to the right, ``y`` down, and
  the CENTRE of pixel ``image[i, j]`` is at ``(x, y) = (j, i)`` (the
  convention of ``cv2.remap``).
* The field is a FORWARD field: content at ``p`` moves to ``p + d(p)``. The
  warped image ``J`` satisfies ``J(p + d(p)) = I(p)``.

Kernel
------
``d(p) = sum_j w_j * phi(|p - c_j| / R_j)`` over the centres ``c_j`` (sources
then anchors), with the Wendland C2 function

    phi(s) = (1 - s)^4 (4 s + 1)   for 0 <= s < 1,   0 for s >= 1.

Why this kernel:

* compact support: outside the union of the balls ``|p - c_j| < R_j`` the
  displacement is exactly ``0.0``, so far pixels are bit-identical to the
  input and only a small region of a large photo has to be processed (a
  Gaussian never reaches 0 and would touch every pixel a little);
* C2 smoothness: the field and its gradient have no creases or jumps, so the
  warped photo shows no seams, also at the edge of the support;
* strictly positive definite in 2-D (for a common radius): the interpolation
  matrix is symmetric positive definite for distinct centres. With different
  radii per centre (``A_ij = phi(|c_i - c_j| / R_j)``) it is no longer
  symmetric; it stays invertible for any practical layout, and its condition
  number is checked;
* ``phi(0) = 1`` and ``grad phi(0) = 0``: a lone control point translates its
  neighbourhood locally rigidly (to first order), which keeps a small
  structure's shape while moving it.

The weights ``w_j`` come from solving the small ``(n + m) x (n + m)`` linear
system ``d(c_i) = target_i`` (prescribed displacement at sources, 0 at
anchors), so interpolation is exact even when supports overlap; a plain sum of
bumps would not be.

Inverse mapping
---------------
Images are warped by inverse mapping: for each output pixel ``q`` the source
position ``p`` with ``p + d(p) = q`` is found by the fixed-point iteration
``p <- q - d(p)`` (a contraction where ``|grad d| < 1``), finished by Newton
steps for the rare pixels where it is slow (strong compression or shear).

Sampling
--------
The input is sampled at ``p`` with the Keys cubic convolution kernel with
``a = -0.5`` (Catmull-Rom), separable 4 x 4 taps, borders reflected like
``cv2.BORDER_REFLECT`` (``-1 -> 0``). Not ``cv2.remap``: its ``INTER_CUBIC``
uses ``a = -0.75``, which does not reproduce linear ramps, and it rounds
sampling positions to 1/32 px; together they shift content by up to ~0.05 px
depending on the fractional position (``INTER_LANCZOS4``: ~0.03 px), which is
the size of the sensitivities the simulator is meant to measure. Catmull-Rom
reproduces quadratics exactly at the exact position, is C1, interpolates
(pixels at integer positions are returned unchanged) and overshoots less at
sharp edges than ``a = -0.75`` or Lanczos (less ringing).
"""

from __future__ import annotations

import dataclasses
import math
from typing import Iterator

import numpy as np
from numpy.typing import ArrayLike

from lipsym.errors import ConfigurationError

__all__ = ["WarpField", "make_field", "warp_image", "warp_points"]

#: The forward map must keep this much area locally (``det(I + grad d) > 0.2``);
#: below it the warp is close to folding and the photo would look smeared.
_MIN_JACOBIAN_DET = 0.2
#: Interpolation systems worse conditioned than this mean coincident (or
#: practically coincident) control points with conflicting targets.
_MAX_CONDITION_NUMBER = 1e10
#: Interpolation at the control points must hold to this, px.
_EXACTNESS_TOL_PX = 1e-9
#: The inverse map is iterated until a pixel's update is below this, px.
_INVERSE_TOL_PX = 1e-4
_MAX_FIXED_POINT_ITERATIONS = 30
_MAX_NEWTON_ITERATIONS = 15
#: Points evaluated per block: bounds temporary memory (~50 MB) on big ROIs.
_CHUNK_POINTS = 1 << 18
#: Fold-over check grid: at least this many samples per smallest radius
#: (``phi`` varies on the scale of ``R / 4``), at most this many samples.
_GRID_SAMPLES_PER_RADIUS = 16
_MAX_GRID_POINTS = 1_000_000
#: Pixels sampled per block: bounds the temporaries of the 16-tap gather.
_SAMPLE_CHUNK_POINTS = 1 << 17


# --- kernel ------------------------------------------------------------------


def _wendland_c2(s: np.ndarray) -> np.ndarray:
    """Wendland C2 function ``phi(s) = (1 - s)^4_+ (4 s + 1)``.

    Parameters
    ----------
    s : ndarray of float, any shape
        Distance divided by the support radius, ``>= 0``.

    Returns
    -------
    ndarray of float, same shape
        ``phi(s)``; exactly 1 at ``s = 0`` and exactly 0 for ``s >= 1``.
    """
    t = np.maximum(1.0 - s, 0.0)
    t2 = t * t
    return t2 * t2 * (4.0 * s + 1.0)


def _kernel_matrix(points_px: np.ndarray, centres_px: np.ndarray, radii_px: np.ndarray) -> np.ndarray:
    """Kernel values ``phi(|p_i - c_j| / R_j)``.

    Parameters
    ----------
    points_px : ndarray, shape (N, 2)
        Evaluation points, px.
    centres_px : ndarray, shape (k, 2)
        Kernel centres, px.
    radii_px : ndarray, shape (k,)
        Support radius of each centre, px.

    Returns
    -------
    ndarray, shape (N, k)
    """
    delta_px = points_px[:, None, :] - centres_px[None, :, :]
    dist_px = np.sqrt(np.sum(delta_px * delta_px, axis=-1))
    return _wendland_c2(dist_px / radii_px[None, :])


def _field_terms(
    x_px: np.ndarray,
    y_px: np.ndarray,
    centres_px: np.ndarray,
    radii_px: np.ndarray,
    weights_px: np.ndarray,
    *,
    with_jacobian: bool = False,
) -> tuple[np.ndarray, np.ndarray, tuple[np.ndarray, ...] | None]:
    """Displacement (and its Jacobian) of a kernel expansion at points.

    Each centre only touches the points inside its ball, which keeps the cost
    proportional to the area actually edited. Coordinates come as separate x
    and y arrays: reductions over a trailing axis of length 2 are slow in
    numpy, and this is the inner loop of the inverse map.

    Parameters
    ----------
    x_px, y_px : ndarray, shape (N,)
        Evaluation points, px.
    centres_px, radii_px, weights_px : ndarray, shapes (k, 2), (k,), (k, 2)
        Centres (px), support radii (px) and vector weights (px).
    with_jacobian : bool
        Also return ``grad d``.

    Returns
    -------
    dx_px, dy_px : ndarray, shape (N,)
        ``d(p)``, px.
    jacobian : tuple of 4 ndarrays of shape (N,), or None
        ``(dd_x/dx, dd_x/dy, dd_y/dx, dd_y/dy)`` (dimensionless), when asked.
    """
    n_points = x_px.shape[0]
    dx_px, dy_px = np.zeros(n_points), np.zeros(n_points)
    jacobian = tuple(np.zeros(n_points) for _ in range(4)) if with_jacobian else None
    for (cx_px, cy_px), radius_px, (wx_px, wy_px) in zip(centres_px, radii_px, weights_px):
        if wx_px == 0.0 and wy_px == 0.0:
            continue
        off_x_px = x_px - cx_px
        off_y_px = y_px - cy_px
        dist2_px2 = off_x_px * off_x_px + off_y_px * off_y_px
        inside = np.flatnonzero(dist2_px2 < radius_px * radius_px)
        if inside.size == 0:
            continue
        # Same arithmetic as _kernel_matrix, so d(c_i) reproduces the solved
        # system to rounding.
        s = np.sqrt(dist2_px2[inside]) / radius_px
        phi = _wendland_c2(s)
        dx_px[inside] += wx_px * phi
        dy_px[inside] += wy_px * phi
        if jacobian is not None:
            # grad phi(|p - c| / R) = -20 (1 - s)^3 (p - c) / R^2: no 1/r
            # singularity at the centre, where it is exactly 0.
            t = 1.0 - s
            slope_per_px2 = -20.0 * t * t * t / (radius_px * radius_px)
            grad_x = slope_per_px2 * off_x_px[inside]
            grad_y = slope_per_px2 * off_y_px[inside]
            jacobian[0][inside] += wx_px * grad_x
            jacobian[1][inside] += wx_px * grad_y
            jacobian[2][inside] += wy_px * grad_x
            jacobian[3][inside] += wy_px * grad_y
    return dx_px, dy_px, jacobian


def _chunks(n_points: int, size: int = _CHUNK_POINTS) -> Iterator[slice]:
    """Consecutive slices of at most ``size`` points."""
    for start in range(0, n_points, size):
        yield slice(start, min(start + size, n_points))


# --- validation --------------------------------------------------------------


def _as_points_px(values: object, name: str) -> np.ndarray:
    """A finite ``(k, 2)`` float array (a copy), or ConfigurationError."""
    try:
        points_px = np.array(values, dtype=float)
    except (TypeError, ValueError) as exc:
        raise ConfigurationError(f"{name} must be an array of (x, y) pixel pairs: {exc}") from None
    if points_px.size == 0:
        points_px = points_px.reshape(0, 2)
    if points_px.ndim != 2 or points_px.shape[1] != 2:
        raise ConfigurationError(f"{name} must have shape (k, 2), got {points_px.shape}")
    if not np.all(np.isfinite(points_px)):
        raise ConfigurationError(f"{name} contains NaN or infinite values")
    return points_px


def _as_radii_px(values: object, n_sources: int, name: str) -> np.ndarray:
    """Per-source radii, shape ``(n_sources,)``, all finite and > 0."""
    try:
        radii_px = np.array(values, dtype=float)
    except (TypeError, ValueError) as exc:
        raise ConfigurationError(f"{name} must be a number or an array of numbers: {exc}") from None
    if radii_px.ndim == 0:
        radii_px = np.full(n_sources, float(radii_px))
    if radii_px.shape != (n_sources,):
        raise ConfigurationError(f"{name} must be a scalar or have shape ({n_sources},), got {radii_px.shape}")
    if not np.all(np.isfinite(radii_px)) or np.any(radii_px <= 0):
        raise ConfigurationError(f"{name} must be finite and > 0 px, got {radii_px.tolist()}")
    return radii_px


def _read_only(array: np.ndarray) -> np.ndarray:
    """Mark an array read-only so the frozen dataclass stays frozen."""
    array.setflags(write=False)
    return array


# --- the field ---------------------------------------------------------------


@dataclasses.dataclass(frozen=True, eq=False)
class WarpField:
    """A smooth forward displacement field defined by control points.

    Constructing a field solves for the interpolation weights and checks that
    the forward map ``p -> p + d(p)`` does not fold; see the module docstring
    for the kernel. Prefer :func:`make_field`, which accepts lists.

    Parameters
    ----------
    sources_px : ndarray, shape (n, 2)
        ``(x, y)`` pixel positions (x right, y down) where the displacement is
        prescribed.
    displacements_px : ndarray, shape (n, 2)
        Prescribed displacement ``(dx, dy)`` at each source, px.
    radius_px : float or ndarray, shape (n,)
        Support radius of each source's influence, px.
    anchors_px : ndarray, shape (m, 2)
        Points that must not move (displacement exactly 0); may be ``(0, 2)``.
    anchor_radius_px : float, optional
        Support radius of the anchors' (counter-)influence, px. Default: the
        largest source radius, so an anchor cancels a source's displacement as
        gently as the source imposes it.

    Raises
    ------
    ConfigurationError
        Bad shapes or values, coincident control points, or a fold-over
        (``det(I + grad d) <= 0.2`` somewhere on the support).

    Notes
    -----
    The arrays are copied and made read-only. Fields compare by identity.
    """

    sources_px: np.ndarray
    displacements_px: np.ndarray
    radius_px: float | np.ndarray
    anchors_px: np.ndarray
    anchor_radius_px: float | None = None
    # Derived in __post_init__ (all centres = sources then anchors).
    _centres_px: np.ndarray = dataclasses.field(init=False, repr=False)
    _radii_px: np.ndarray = dataclasses.field(init=False, repr=False)
    _weights_px: np.ndarray = dataclasses.field(init=False, repr=False)
    _min_jacobian_det: float = dataclasses.field(init=False, repr=False)
    _max_displacement_px: float = dataclasses.field(init=False, repr=False)

    def __post_init__(self) -> None:
        sources_px = _as_points_px(self.sources_px, "sources_px")
        n_sources = sources_px.shape[0]
        displacements_px = _as_points_px(self.displacements_px, "displacements_px")
        if displacements_px.shape != sources_px.shape:
            raise ConfigurationError(
                f"displacements_px must have the shape of sources_px {sources_px.shape}, got {displacements_px.shape}"
            )
        source_radii_px = _as_radii_px(self.radius_px, n_sources, "radius_px")
        anchors_px = _as_points_px(self.anchors_px, "anchors_px")
        anchor_radius_px = self._anchor_radius(source_radii_px)

        set_ = object.__setattr__  # frozen dataclass: fill derived fields once
        set_(self, "sources_px", _read_only(sources_px))
        set_(self, "displacements_px", _read_only(displacements_px))
        radius = float(self.radius_px) if np.ndim(self.radius_px) == 0 else _read_only(source_radii_px.copy())
        set_(self, "radius_px", radius)
        set_(self, "anchors_px", _read_only(anchors_px))
        set_(self, "anchor_radius_px", anchor_radius_px)

        centres_px = np.concatenate([sources_px, anchors_px])
        radii_px = np.concatenate([source_radii_px, np.full(anchors_px.shape[0], anchor_radius_px)])
        targets_px = np.concatenate([displacements_px, np.zeros_like(anchors_px)])
        weights_px = _solve_weights(centres_px, radii_px, targets_px, n_sources)
        set_(self, "_centres_px", _read_only(centres_px))
        set_(self, "_radii_px", _read_only(radii_px))
        set_(self, "_weights_px", _read_only(weights_px))

        min_det, where_px, max_disp_px = _scan_support(centres_px, radii_px, weights_px)
        if min_det <= _MIN_JACOBIAN_DET:
            raise ConfigurationError(
                f"warp folds over: Jacobian determinant {min_det:.3g} <= {_MIN_JACOBIAN_DET} near "
                f"(x={where_px[0]:.0f}, y={where_px[1]:.0f}) px; reduce the displacement or enlarge the radius"
            )
        set_(self, "_min_jacobian_det", float(min_det))
        set_(self, "_max_displacement_px", float(max_disp_px))

    def _anchor_radius(self, source_radii_px: np.ndarray) -> float:
        """The anchors' support radius, px (validated or defaulted)."""
        if self.anchor_radius_px is None:
            return float(source_radii_px.max()) if source_radii_px.size else 1.0
        radius_px = float(self.anchor_radius_px)
        if not math.isfinite(radius_px) or radius_px <= 0:
            raise ConfigurationError(f"anchor_radius_px must be finite and > 0 px, got {self.anchor_radius_px!r}")
        return radius_px

    # --- queries --------------------------------------------------------------

    @property
    def min_jacobian_det(self) -> float:
        """Smallest ``det(I + grad d)`` found on the support grid (1.0 if identity)."""
        return self._min_jacobian_det

    @property
    def max_displacement_px(self) -> float:
        """Upper bound of ``|d(p)|`` over the plane, px."""
        return self._max_displacement_px

    @property
    def is_identity(self) -> bool:
        """True when every weight is zero (e.g. all displacements are zero)."""
        return not np.any(self._weights_px)

    def support_bbox_px(self) -> tuple[float, float, float, float] | None:
        """Bounding box of the support (union of balls with non-zero weight).

        Returns
        -------
        tuple (x_min, y_min, x_max, y_max) of float, px, or None
            None for the identity field. Outside this box ``d`` is exactly 0.
        """
        active = np.any(self._weights_px != 0, axis=1)
        if not active.any():
            return None
        centres_px = self._centres_px[active]
        radii_px = self._radii_px[active]
        low_px = (centres_px - radii_px[:, None]).min(axis=0)
        high_px = (centres_px + radii_px[:, None]).max(axis=0)
        return float(low_px[0]), float(low_px[1]), float(high_px[0]), float(high_px[1])

    def _terms(self, points_px: np.ndarray, *, with_jacobian: bool = False):
        """:func:`_field_terms` of this field at ``(N, 2)`` points."""
        return _field_terms(
            points_px[:, 0], points_px[:, 1], self._centres_px, self._radii_px, self._weights_px,
            with_jacobian=with_jacobian,
        )

    def displacement_at(self, xy_px: np.ndarray) -> np.ndarray:
        """Forward displacement ``d(p)``: the point ``p`` moves to ``p + d(p)``.

        Parameters
        ----------
        xy_px : array_like, shape (..., 2)
            ``(x, y)`` positions, px.

        Returns
        -------
        ndarray, shape (..., 2)
            ``(dx, dy)``, px. The prescribed displacement at each source and 0
            at each anchor (both to rounding, ~1e-14 px); exactly 0.0 outside
            the support.
        """
        points_px, shape = _flatten_points(xy_px, "xy_px")
        out_px = np.empty_like(points_px)
        for block in _chunks(points_px.shape[0]):
            dx_px, dy_px, _ = self._terms(points_px[block])
            out_px[block, 0], out_px[block, 1] = dx_px, dy_px
        return out_px.reshape(shape)

    def jacobian_at(self, xy_px: np.ndarray) -> np.ndarray:
        """Gradient of the displacement, ``grad d``.

        Parameters
        ----------
        xy_px : array_like, shape (..., 2)
            ``(x, y)`` positions, px.

        Returns
        -------
        ndarray, shape (..., 2, 2)
            ``J[..., a, b] = d d_a / d p_b`` (dimensionless). The forward
            map's Jacobian is ``I + J``.
        """
        points_px, shape = _flatten_points(xy_px, "xy_px")
        out = np.empty((points_px.shape[0], 2, 2))
        for block in _chunks(points_px.shape[0]):
            _, _, (jxx, jxy, jyx, jyy) = self._terms(points_px[block], with_jacobian=True)
            out[block] = np.stack([jxx, jxy, jyx, jyy], axis=-1).reshape(-1, 2, 2)
        return out.reshape(shape[:-1] + (2, 2))


def _flatten_points(xy_px: object, name: str) -> tuple[np.ndarray, tuple[int, ...]]:
    """``(..., 2)`` float points as ``(N, 2)`` plus the original shape."""
    points_px = np.asarray(xy_px, dtype=float)
    if points_px.ndim == 0 or points_px.shape[-1] != 2:
        raise ConfigurationError(f"{name} must have shape (..., 2), got {points_px.shape}")
    if not np.all(np.isfinite(points_px)):
        raise ConfigurationError(f"{name} contains NaN or infinite values")
    return points_px.reshape(-1, 2), points_px.shape


def _solve_weights(centres_px: np.ndarray, radii_px: np.ndarray, targets_px: np.ndarray, n_sources: int) -> np.ndarray:
    """Weights that make the kernel expansion interpolate ``targets_px`` exactly.

    Parameters
    ----------
    centres_px : ndarray, shape (k, 2)
        Sources then anchors, px.
    radii_px : ndarray, shape (k,)
        Support radius of each centre, px.
    targets_px : ndarray, shape (k, 2)
        Required displacement at each centre, px.
    n_sources : int
        How many of the centres are sources (for error messages).

    Returns
    -------
    ndarray, shape (k, 2)
        Weights, px.

    Raises
    ------
    ConfigurationError
        Coincident centres (singular or hopelessly ill-conditioned system).
    """
    k = centres_px.shape[0]
    if k == 0 or not np.any(targets_px):
        # Nothing moves: all-zero weights are the exact solution.
        return np.zeros((k, 2))
    system = _kernel_matrix(centres_px, centres_px, radii_px)
    condition = np.linalg.cond(system)
    if not np.isfinite(condition) or condition > _MAX_CONDITION_NUMBER:
        i, j = _closest_pair(centres_px)
        raise ConfigurationError(
            f"control points {_describe_centre(i, n_sources)} and {_describe_centre(j, n_sources)} coincide "
            f"(distance {np.linalg.norm(centres_px[i] - centres_px[j]):.3g} px); merge or separate them"
        )
    weights_px = np.linalg.solve(system, targets_px)
    # One step of iterative refinement tightens the residual for close points.
    weights_px += np.linalg.solve(system, targets_px - system @ weights_px)
    residual_px = np.max(np.abs(system @ weights_px - targets_px))
    if residual_px > _EXACTNESS_TOL_PX:
        raise ConfigurationError(
            f"control points are too close for exact interpolation (residual {residual_px:.2g} px); separate them"
        )
    return weights_px


def _closest_pair(points_px: np.ndarray) -> tuple[int, int]:
    """Indices of the two closest points (k is small, brute force)."""
    dist_px = np.linalg.norm(points_px[:, None, :] - points_px[None, :, :], axis=-1)
    np.fill_diagonal(dist_px, np.inf)
    i, j = np.unravel_index(np.argmin(dist_px), dist_px.shape)
    return int(min(i, j)), int(max(i, j))


def _describe_centre(index: int, n_sources: int) -> str:
    """``source 2`` / ``anchor 0`` for messages."""
    return f"source {index}" if index < n_sources else f"anchor {index - n_sources}"


def _scan_support(
    centres_px: np.ndarray, radii_px: np.ndarray, weights_px: np.ndarray
) -> tuple[float, np.ndarray, float]:
    """Sample the support on a grid: fold-over check and displacement bound.

    Parameters
    ----------
    centres_px, radii_px, weights_px : ndarray, shapes (k, 2), (k,), (k, 2)
        The kernel expansion.

    Returns
    -------
    min_det : float
        Smallest ``det(I + grad d)`` on the grid (1.0 for the identity).
    where_px : ndarray, shape (2,)
        Where it occurs, px.
    max_displacement_px : float
        Upper bound of ``|d|``: grid maximum plus the most it can grow between
        grid points (Lipschitz bound), px.
    """
    active = np.any(weights_px != 0, axis=1)
    if not active.any():
        return 1.0, np.zeros(2), 0.0
    low_px = (centres_px[active] - radii_px[active, None]).min(axis=0)
    high_px = (centres_px[active] + radii_px[active, None]).max(axis=0)
    step_px = float(radii_px[active].min()) / _GRID_SAMPLES_PER_RADIUS
    extent_px = high_px - low_px
    # Coarsen the grid when the support is huge relative to the smallest radius.
    step_px = max(step_px, math.sqrt(float(extent_px[0] * extent_px[1]) / _MAX_GRID_POINTS))
    xs_px = np.arange(low_px[0], high_px[0] + step_px, step_px)
    ys_px = np.arange(low_px[1], high_px[1] + step_px, step_px)
    grid_px = np.stack(np.meshgrid(xs_px, ys_px), axis=-1).reshape(-1, 2)
    grid_px = np.concatenate([grid_px, centres_px[active]])

    min_det, where_px, max_disp_px, max_grad = np.inf, np.zeros(2), 0.0, 0.0
    for block in _chunks(grid_px.shape[0]):
        x_px, y_px = grid_px[block, 0], grid_px[block, 1]
        dx_px, dy_px, (jxx, jxy, jyx, jyy) = _field_terms(
            x_px, y_px, centres_px, radii_px, weights_px, with_jacobian=True
        )
        det = (1.0 + jxx) * (1.0 + jyy) - jxy * jyx
        i = int(np.argmin(det))
        if det[i] < min_det:
            min_det, where_px = float(det[i]), grid_px[block][i]
        max_disp_px = max(max_disp_px, float(np.max(np.hypot(dx_px, dy_px))))
        # Frobenius norm: a cheap upper bound of the spectral norm.
        frobenius = np.sqrt(jxx * jxx + jxy * jxy + jyx * jyx + jyy * jyy)
        max_grad = max(max_grad, float(np.max(frobenius)))
    return min_det, where_px, max_disp_px + max_grad * step_px


def make_field(
    sources_px: ArrayLike,
    displacements_px: ArrayLike,
    radius_px: float | ArrayLike,
    anchors_px: ArrayLike | None = None,
    *,
    anchor_radius_px: float | None = None,
) -> WarpField:
    """Build a :class:`WarpField` from array-likes.

    Parameters
    ----------
    sources_px : array_like, shape (n, 2) or (2,)
        ``(x, y)`` pixel positions where the displacement is prescribed.
    displacements_px : array_like, shape (n, 2) or (2,)
        Displacement ``(dx, dy)`` at each source, px.
    radius_px : float or array_like, shape (n,)
        Support radius of each source, px. Typical: 30-150 px.
    anchors_px : array_like, shape (m, 2), optional
        Points that must not move. Default: none.
    anchor_radius_px : float, optional
        Support radius of the anchors, px; default the largest source radius.

    Returns
    -------
    WarpField

    Raises
    ------
    ConfigurationError
        Invalid arguments, coincident control points or fold-over.
    """
    sources = np.asarray(sources_px, dtype=float)
    displacements = np.asarray(displacements_px, dtype=float)
    # A single control point may be given as a bare (x, y) pair.
    sources = sources.reshape(1, 2) if sources.shape == (2,) else sources
    displacements = displacements.reshape(1, 2) if displacements.shape == (2,) else displacements
    anchors = np.zeros((0, 2)) if anchors_px is None else anchors_px
    return WarpField(sources, displacements, radius_px, anchors, anchor_radius_px)


def warp_points(points_px: ArrayLike, field: WarpField) -> np.ndarray:
    """Exact forward positions ``p + d(p)`` of reference points.

    Parameters
    ----------
    points_px : array_like, shape (..., 2)
        ``(x, y)`` positions in the input image, px.
    field : WarpField

    Returns
    -------
    ndarray, shape (..., 2)
        Where each point's content is in the warped image, px.
    """
    points = np.asarray(points_px, dtype=float)
    return points + field.displacement_at(points)


# --- inverse map ---------------------------------------------------------------


def _invert(qx_px: np.ndarray, qy_px: np.ndarray, field: WarpField) -> tuple[np.ndarray, np.ndarray]:
    """Solve ``p + d(p) = q`` for each ``q``.

    Fixed-point iteration ``p <- q - d(p)`` (cheap, converges where the
    field's gradient is a contraction), only on the pixels that have not
    converged yet; the few left after ``_MAX_FIXED_POINT_ITERATIONS`` (strong
    compression or shear near anchors) are finished with Newton steps, which
    converge wherever ``det(I + grad d)`` stays away from 0, as the fold-over
    check guarantees.

    Parameters
    ----------
    qx_px, qy_px : ndarray, shape (N,)
        Output positions ``q``, px.
    field : WarpField

    Returns
    -------
    px_px, py_px : ndarray, shape (N,)
        Source positions ``p``, px; exactly ``q`` where ``d(q) = 0``.

    Raises
    ------
    ConfigurationError
        If some pixel does not converge (not expected for a field that passed
        the fold-over check).
    """
    terms = dict(centres_px=field._centres_px, radii_px=field._radii_px, weights_px=field._weights_px)
    px_px, py_px = qx_px.copy(), qy_px.copy()
    active = np.arange(qx_px.size)
    for _ in range(_MAX_FIXED_POINT_ITERATIONS):
        if active.size == 0:
            break
        dx_px, dy_px, _ = _field_terms(px_px[active], py_px[active], **terms)
        new_x_px = qx_px[active] - dx_px
        new_y_px = qy_px[active] - dy_px
        change_px = np.maximum(np.abs(new_x_px - px_px[active]), np.abs(new_y_px - py_px[active]))
        px_px[active], py_px[active] = new_x_px, new_y_px
        active = active[change_px >= _INVERSE_TOL_PX]
    max_step_px = float(field._radii_px.min()) / 4.0  # keep Newton inside the smooth region
    for _ in range(_MAX_NEWTON_ITERATIONS):
        if active.size == 0:
            break
        x_px, y_px = px_px[active], py_px[active]
        dx_px, dy_px, (jxx, jxy, jyx, jyy) = _field_terms(x_px, y_px, **terms, with_jacobian=True)
        # Solve (I + grad d) step = residual (2 x 2, Cramer's rule).
        res_x_px = x_px + dx_px - qx_px[active]
        res_y_px = y_px + dy_px - qy_px[active]
        a, b, c, d = 1.0 + jxx, jxy, jyx, 1.0 + jyy
        det = a * d - b * c
        step_x_px = (d * res_x_px - b * res_y_px) / det
        step_y_px = (a * res_y_px - c * res_x_px) / det
        scale = np.minimum(1.0, max_step_px / np.maximum(np.hypot(step_x_px, step_y_px), 1e-300))
        step_x_px *= scale
        step_y_px *= scale
        px_px[active], py_px[active] = x_px - step_x_px, y_px - step_y_px
        active = active[np.maximum(np.abs(step_x_px), np.abs(step_y_px)) >= _INVERSE_TOL_PX]
    if active.size:
        raise ConfigurationError(
            f"warp inverse did not converge at {active.size} pixels; reduce the displacement or enlarge the radius"
        )
    return px_px, py_px


# --- images ----------------------------------------------------------------------


def _roi_bounds(field: WarpField, height: int, width: int, margin_px: float) -> tuple[int, int, int, int] | None:
    """Output pixels that can differ from the input: ``(y0, y1, x0, x1)``, half-open.

    A pixel ``q`` changes only if ``q = p + d(p)`` with ``p`` in the support,
    so it lies in the support's box grown by ``max |d|``.
    """
    bbox_px = field.support_bbox_px()
    if bbox_px is None:
        return None
    x_min, y_min, x_max, y_max = bbox_px
    x0 = max(0, math.floor(x_min - margin_px))
    y0 = max(0, math.floor(y_min - margin_px))
    x1 = min(width, math.ceil(x_max + margin_px) + 1)
    y1 = min(height, math.ceil(y_max + margin_px) + 1)
    if x0 >= x1 or y0 >= y1:
        return None
    return y0, y1, x0, x1


def _catmull_rom_taps(positions_px: np.ndarray, size: int) -> tuple[np.ndarray, np.ndarray]:
    """Tap indices and weights of Keys' cubic (``a = -0.5``) along one axis.

    Parameters
    ----------
    positions_px : ndarray, shape (N,)
        Sampling coordinates, px (pixel centres at integers).
    size : int
        Image size along the axis.

    Returns
    -------
    indices : ndarray of intp, shape (4, N)
        Taps ``floor(x) - 1 ... floor(x) + 2``, reflected into ``[0, size)``
        like ``cv2.BORDER_REFLECT`` (``-1 -> 0``, ``size -> size - 1``).
    weights : ndarray of float, shape (4, N)
        Kernel weights; they sum to 1 and reproduce linear and quadratic
        functions exactly.
    """
    base = np.floor(positions_px)
    t = positions_px - base
    t2 = t * t
    t3 = t2 * t
    weights = np.stack(
        [
            -0.5 * t3 + t2 - 0.5 * t,
            1.5 * t3 - 2.5 * t2 + 1.0,
            -1.5 * t3 + 2.0 * t2 + 0.5 * t,
            0.5 * t3 - 0.5 * t2,
        ]
    )
    taps = base.astype(np.intp)[None, :] + np.arange(-1, 3, dtype=np.intp)[:, None]
    # Half-sample symmetric reflection, periodic with period 2 * size.
    folded = np.mod(taps, 2 * size)
    indices = np.where(folded < size, folded, 2 * size - 1 - folded)
    return indices, weights


def _sample_cubic(image: np.ndarray, x_px: np.ndarray, y_px: np.ndarray) -> np.ndarray:
    """Catmull-Rom samples of ``image`` at exact positions.

    Parameters
    ----------
    image : ndarray, shape (H, W, C)
        Any real dtype.
    x_px, y_px : ndarray of float, shape (N,)
        Sampling positions, px.

    Returns
    -------
    ndarray of float64, shape (N, C)
    """
    height, width, channels = image.shape
    out = np.empty((x_px.size, channels))
    for block in _chunks(x_px.size, _SAMPLE_CHUNK_POINTS):
        x_taps, x_weights = _catmull_rom_taps(x_px[block], width)
        y_taps, y_weights = _catmull_rom_taps(y_px[block], height)
        # Gather from a small contiguous crop holding every tap: flat takes are
        # much faster than 2-D fancy indexing into a large photo.
        x0, x1 = int(x_taps.min()), int(x_taps.max()) + 1
        y0, y1 = int(y_taps.min()), int(y_taps.max()) + 1
        crop = np.ascontiguousarray(image[y0:y1, x0:x1]).reshape(-1, channels)
        stride = x1 - x0
        acc = np.zeros((x_taps.shape[1], channels))
        for row_taps, row_weights in zip(y_taps, y_weights):
            row_base = (row_taps - y0) * stride - x0
            row = np.zeros_like(acc)
            for col_taps, col_weights in zip(x_taps, x_weights):
                row += col_weights[:, None] * np.take(crop, row_base + col_taps, axis=0)
            acc += row_weights[:, None] * row
        out[block] = acc
    return out


def _cast_like(values: np.ndarray, dtype: np.dtype) -> np.ndarray:
    """Float samples back to ``dtype``: rounded and saturated for integers."""
    if np.issubdtype(dtype, np.integer):
        info = np.iinfo(dtype)
        return np.clip(np.rint(values), info.min, info.max).astype(dtype)
    return values.astype(dtype)


def warp_image(image: np.ndarray, field: WarpField, *, roi_margin_px: float | None = None) -> np.ndarray:
    """Warp an image so that content at ``p`` moves to ``p + d(p)``.

    Produces ``J`` with ``J(p + d(p)) = I(p)`` by inverse mapping: each output
    pixel ``q`` in the region of interest samples the input (Catmull-Rom
    bicubic, reflected border) at the solution ``p`` of ``p + d(p) = q``.
    Pixels outside the region, and pixels whose ``p`` is exactly ``q``, are
    copied bit-for-bit.

    Parameters
    ----------
    image : ndarray, shape (H, W) or (H, W, C)
        Any integer or float dtype, any number of channels. Integer results
        are rounded and saturated. Not modified.
    field : WarpField
    roi_margin_px : float, optional
        Margin around the support's bounding box that is processed, px. The
        output only changes within ``max |d|`` of the support, so that much
        is always processed; a larger value only costs time (and must give
        the same result). Default: ``max |d| + 2`` px.

    Returns
    -------
    ndarray, same shape and dtype as ``image``
        The warped image (a new array).

    Raises
    ------
    ConfigurationError
        Bad image shape or dtype, or a negative margin.
    """
    image = np.asarray(image)
    if image.ndim not in (2, 3) or image.shape[0] == 0 or image.shape[1] == 0:
        raise ConfigurationError(f"image must have shape (H, W) or (H, W, C), got {image.shape}")
    if not (np.issubdtype(image.dtype, np.integer) or np.issubdtype(image.dtype, np.floating)):
        raise ConfigurationError(f"image dtype {image.dtype} is not supported; use an integer or float image")
    margin_px = field.max_displacement_px + 2.0
    if roi_margin_px is not None:
        if not math.isfinite(roi_margin_px) or roi_margin_px < 0:
            raise ConfigurationError(f"roi_margin_px must be finite and >= 0, got {roi_margin_px!r}")
        margin_px = max(margin_px, float(roi_margin_px))

    output = image.copy()
    height, width = image.shape[:2]
    bounds = _roi_bounds(field, height, width, margin_px)
    if bounds is None:
        return output
    y0, y1, x0, x1 = bounds
    pixels = image if image.ndim == 3 else image[:, :, None]  # (H, W, C) view
    region = output[y0:y1, x0:x1]  # view: written in place
    roi_width = x1 - x0
    # Blocks of ROI pixels bound the memory of the inverse map and the gather
    # even when a huge radius covers most of a 24-Mpx photo.
    for block in _chunks((y1 - y0) * roi_width):
        rows, cols = np.divmod(np.arange(block.start, block.stop), roi_width)
        qx_px, qy_px = (cols + x0).astype(float), (rows + y0).astype(float)
        px_px, py_px = _invert(qx_px, qy_px, field)
        # Only pixels whose source is exactly elsewhere are resampled; the
        # rest keep their input value bit for bit.
        moved = (px_px != qx_px) | (py_px != qy_px)
        if not moved.any():
            continue
        sampled = _sample_cubic(pixels, px_px[moved], py_px[moved])
        region[rows[moved], cols[moved]] = _cast_like(sampled, image.dtype).reshape((-1,) + image.shape[2:])
    return output
