"""What refinement returns: the refined landmarks and the evidence behind each pair."""

from __future__ import annotations

from dataclasses import dataclass
from types import MappingProxyType
from typing import Mapping

import numpy as np


@dataclass(frozen=True)
class PairRefinement:
    """What refinement did to one landmark pair.

    Attributes
    ----------
    right, left : int
        MediaPipe indices (subject's sides).
    residual_frame_px : ndarray, shape (2,), float, frame px
        Asymmetric residual ``s`` (x towards the subject's left, y up): the
        left landmark moved by ``s / 2``, the right one by the mirror image of
        ``-s / 2``. Zero when the pair fell back. For the commissures placed
        on the oral fissure, their total correction from MediaPipe's corners.
    peak_correlation : float
        Normalised correlation at the registration peak (1 = identical).
    used : bool
        False when the evidence was too weak and the registration was not applied.
    reason : str
        Why not used ("" when used).
    method : {"registration", "registration+fissure", "fissure"}
        How the pair was placed: bilateral patch registration; for the
        commissures, first moved along the lip line to the end of the oral
        fissure (:func:`lipsym.refine.fissure_end`) when it can be followed,
        then registered there ("fissure" alone when that registration fell
        back).
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
    points_px : ndarray, shape (478, 3), float, photo px, read-only
        Landmarks with the refined pupils and lip pairs (z unchanged).
    pairs : tuple of PairRefinement
        One per pair of :data:`lipsym.refine.LIP_PAIRS`, in its order.
    fallback_fraction : float
        Fraction of :data:`lipsym.refine.LIP_PAIRS` whose registration was not applied.
    commissure_used : bool
        Whether the commissure pair (:data:`lipsym.refine.COMMISSURES`) was registered.
    pupils : PairRefinement or None
        The pupil pair (468, 473), registered first: it sets the facial
        frame's axis (:func:`lipsym.refine.refine_pupils`). None when not attempted.
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
