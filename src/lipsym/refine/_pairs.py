"""The lip landmark pairs refined, and the steps every pair's refinement shares.

Every lip landmark off the midline has a mirror partner (61 ↔ 291, 37 ↔ 267,
...). A pair is corrected by its asymmetric residual ``s`` alone: the left
landmark moves by ``s / 2`` and the right one by the mirror image of
``-s / 2``, so the pair's symmetric part (where MediaPipe is good) stays.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from lipsym.face._anatomy import INNER_LOWER, INNER_UPPER, OUTER_LOWER, OUTER_UPPER
from lipsym.landmarks._mesh import mirror_pairs
from lipsym.refine._registration import SymmetricGrid
from lipsym.refine._result import PairRefinement
from lipsym.sides import Side


class LandmarkPair(NamedTuple):
    """Two MediaPipe landmarks that are mirror images of each other (equal to the tuple ``(right, left)``)."""

    right: int
    left: int

    def on(self, side: Side) -> int:
        """The landmark on the subject's ``side``."""
        return self.left if side is Side.LEFT else self.right


#: The outer mouth corners (cheilia): placed on the end of the oral fissure
#: first, then registered with a centre weight and a gain (:mod:`._commissures`).
COMMISSURES = LandmarkPair(61, 291)
#: The inner mouth corners, where the oral fissure is followed from.
INNER_CORNERS = LandmarkPair(78, 308)
#: The Cupid's bow pair, registered in two passes (:mod:`._bow`).
BOW_PAIR = LandmarkPair(37, 267)

#: Lip landmark pairs refined, in this order (a contour pair's normal is taken
#: through its neighbours as already refined). Both contours of both lips,
#: mouth corners included; the midline vertices need no pairing.
LIP_PAIRS: tuple[LandmarkPair, ...] = (
    COMMISSURES, LandmarkPair(185, 409), LandmarkPair(40, 270), LandmarkPair(39, 269), BOW_PAIR,  # outer upper
    LandmarkPair(146, 375), LandmarkPair(91, 321), LandmarkPair(181, 405), LandmarkPair(84, 314),  # outer lower
    INNER_CORNERS, LandmarkPair(191, 415), LandmarkPair(80, 310), LandmarkPair(81, 311),
    LandmarkPair(82, 312),                                                                         # inner upper
    LandmarkPair(95, 324), LandmarkPair(88, 318), LandmarkPair(178, 402), LandmarkPair(87, 317),   # inner lower
)

#: Every landmark of :data:`LIP_PAIRS`, pair by pair.
LIP_PAIR_INDICES: tuple[int, ...] = tuple(i for pair in LIP_PAIRS for i in pair)

#: Pairs whose landmarks sit on a corner, where the image fixes both
#: coordinates. Every other pair lies on a contour, where a patch slides
#: along the edge with little change (the aperture problem): only the
#: component of the residual normal to the contour is used there.
CORNER_PAIRS = frozenset({COMMISSURES, INNER_CORNERS})


def _contour_neighbours() -> dict[int, tuple[int, int]]:
    out = {}
    for contour in (OUTER_UPPER, OUTER_LOWER, INNER_UPPER, INNER_LOWER):
        for k in range(1, len(contour) - 1):
            out[contour[k]] = (contour[k - 1], contour[k + 1])
    return out


_NEIGHBOURS = _contour_neighbours()


def pair_in_frame(points_frame_px: np.ndarray, pair: LandmarkPair) -> tuple[np.ndarray, np.ndarray]:
    """Copies of the pair's left and right points, shape (2,) each, frame px (the order :meth:`SymmetricGrid.register` takes)."""
    return points_frame_px[pair.left].copy(), points_frame_px[pair.right].copy()


def mirrored_shifts(residual_frame_px: np.ndarray) -> dict[Side, np.ndarray]:
    """How each landmark of a pair moves for the residual ``s``, frame px.

    Parameters
    ----------
    residual_frame_px : ndarray, shape (2,), float, frame px

    Returns
    -------
    dict of Side to ndarray, shape (2,), frame px
        The left landmark's shift ``s / 2``, the right one's the mirror image
        of ``-s / 2``: the pair's midpoint is unchanged, and a mirrored photo
        (whose residual is exactly ``-s``) gets the mirrored shifts.
    """
    shift_left = 0.5 * residual_frame_px
    return {Side.LEFT: shift_left, Side.RIGHT: np.array([shift_left[0], -shift_left[1]])}


def shifted(left_frame_px: np.ndarray, right_frame_px: np.ndarray,
            residual_frame_px: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The pair's left and right points, shape (2,) each, moved by :func:`mirrored_shifts`, frame px."""
    shift = mirrored_shifts(residual_frame_px)
    return left_frame_px + shift[Side.LEFT], right_frame_px + shift[Side.RIGHT]


def normal_component(residual_frame_px: np.ndarray, points_frame_px: np.ndarray, pair: LandmarkPair) -> np.ndarray:
    """The part of a contour pair's residual normal to the contour through it.

    Parameters
    ----------
    residual_frame_px : ndarray, shape (2,), float, frame px
    points_frame_px : ndarray, shape (478, 2), float, frame px
        All landmarks; the contour's direction at each landmark is taken
        through its two neighbours on the contour.
    pair : LandmarkPair
        A pair on a lip contour (not a mouth corner).

    Returns
    -------
    ndarray, shape (2,), frame px
        The normal is the mean of the left contour's normal and the mirror
        image of the right one's, so that it is the same line for the
        mirrored photo (whose residual is exactly ``-residual``).
    """
    normals = []
    for i in (pair.left, pair.right):
        prev, nxt = _NEIGHBOURS[i]
        t = points_frame_px[nxt] - points_frame_px[prev]
        normals.append(np.array([-t[1], t[0]]) / max(float(np.linalg.norm(t)), 1e-12))
    n_l, n_r = normals
    n_r_mirror = np.array([-n_r[0], n_r[1]])
    if float(n_l @ n_r_mirror) < 0:
        n_r_mirror = -n_r_mirror
    n = n_l + n_r_mirror
    n /= max(float(np.linalg.norm(n)), 1e-12)
    return float(residual_frame_px @ n) * n


def refine_pair(pair: LandmarkPair, points_frame_px: np.ndarray, grid: SymmetricGrid, *,
                distinct_only: bool = False) -> PairRefinement:
    """Register one pair and move it by its residual (a corner), or by the residual's normal part (a contour).

    Parameters
    ----------
    pair : LandmarkPair
    points_frame_px : ndarray, shape (478, 2), float, frame px
        All landmarks; the pair's two rows are moved in place when the
        registration is used.
    grid : SymmetricGrid
        The features the pair is registered on.
    distinct_only : bool
        As in :func:`._registration.register_patch`.

    Returns
    -------
    PairRefinement
    """
    f_l, f_r = pair_in_frame(points_frame_px, pair)
    corner = pair in CORNER_PAIRS
    residual, peak, reason, evidence = grid.register(f_l, f_r, corner, distinct_only=distinct_only)
    if reason:
        return PairRefinement(*pair, np.zeros(2), peak, False, reason, evidence=evidence)
    if not corner:
        residual = normal_component(residual, points_frame_px, pair)
    points_frame_px[pair.left], points_frame_px[pair.right] = shifted(f_l, f_r, residual)
    return PairRefinement(*pair, residual, peak, True, evidence=evidence)


def _check_pairs() -> None:  # pragma: no cover - guards an edit of LIP_PAIRS
    partner = mirror_pairs()
    for pair in LIP_PAIRS:
        assert partner[pair.right] == pair.left, pair


_check_pairs()
