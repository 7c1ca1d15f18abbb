"""What refinement returns: the refined landmarks and the evidence behind each pair."""

from __future__ import annotations

from dataclasses import dataclass, field
from types import MappingProxyType
from typing import TYPE_CHECKING, Mapping

import numpy as np

if TYPE_CHECKING:
    from lipsym.refine._size import SizeBorders


@dataclass(frozen=True)
class Evidence:
    """How strong the image evidence behind one registration was.

    Attributes
    ----------
    peak_correlation : float
        Normalised correlation at the peak, the weaker of the two search
        directions (left patch in the mirrored right search, and back).
    sharpness : float
        How fast the correlation falls off the peak across the lip (both
        axes for a corner, the weaker one; across the lip only for the
        commissures, whose height alone is registered): the drop for a shift of 1 % of
        the interpupillary distance, from the peak's curvature. A flat peak
        (a faint or blurred border) locates nothing.
    uniqueness : float
        The best correlation minus the next distinct maximum across the lip
        (or minus the lowest, when there is none): near 0 when a second
        border or a texture ridge matches as well.
    contrast : float
        SD of the weaker patch's features (8-bit levels).
    disagreement_ipd : float
        How far the two search directions disagree (they should find the
        same residual, with opposite signs), fraction of the IPD: across the
        lip for a contour and for the commissures, both axes for another corner.
    strong : bool
        All of the above within the limits of the pair's kind
        (:mod:`lipsym.refine._evidence`).
    reason : str
        Which limit failed ("" when strong).
    """

    peak_correlation: float
    sharpness: float
    uniqueness: float
    contrast: float
    disagreement_ipd: float
    strong: bool = True
    reason: str = ""


#: Evidence of a registration that could not be made at all.
NO_EVIDENCE = Evidence(0.0, 0.0, 0.0, 0.0, float("inf"), False, "not registered")


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
    evidence : Evidence or None
        The registration's evidence (for the Cupid's bow, the weaker of its
        two passes); None when not recorded.
    weight : float
        The fraction of its registered correction the pair was moved by, in
        [0, 1]: below 1 where the correction fades with its evidence (the
        Cupid's bow's sharpness, :func:`lipsym.refine._evidence.bow_weight`;
        the commissures' two starts, :data:`lipsym.refine._commissures.START_DISAGREEMENT_IPD`).
    """

    right: int
    left: int
    residual_frame_px: np.ndarray
    peak_correlation: float
    used: bool
    reason: str = ""
    method: str = "registration"
    evidence: Evidence | None = None
    weight: float = 1.0


@dataclass(frozen=True)
class MeasureConfidence:
    """Whether one measure's refinement rests on strong image evidence.

    Attributes
    ----------
    structure : str
        The judged structure whose refined pairs drive the measure
        (``"cupids_bow"``, ``"commissures"``, ``"fissure_ends"``,
        ``"upper_vermilion"``, ``"lower_vermilion"``: :data:`lipsym.refine.STRUCTURE_MEASURES`).
    strong : bool
        False when the pair fell back or its evidence failed the structure's
        limits: the measure is then flagged (``weak_evidence_<structure>``)
        and its standard error widened.
    reason : str
        Why it is weak ("" when strong).
    evidence : Evidence or None
        The numbers behind it.
    fallback_share : float
        How much of the measure's value rests on the fallback rather than on
        the registration, in [0, 1]: 0 for a full correction, 1 for a pair
        that fell back or was moved only by its weak-evidence weight, between
        where the correction fades with its evidence; for a lip, the share of
        its border pairs that fell back. The standard error is
        widened in proportion (:func:`lipsym.measures._uncertainty.weak_evidence_sd`),
        so that it is as continuous in the photo as the value. Not given: 1
        when weak, 0 when strong (a weak measure is never left unwidened).

    Examples
    --------
    >>> MeasureConfidence("cupids_bow", strong=False, reason="flat").fallback_share
    1.0
    >>> MeasureConfidence("cupids_bow", strong=True, fallback_share=0.4).fallback_share
    0.4
    """

    structure: str
    strong: bool
    reason: str = ""
    evidence: Evidence | None = None
    fallback_share: float | None = None

    def __post_init__(self):
        if self.fallback_share is None:
            object.__setattr__(self, "fallback_share", 0.0 if self.strong else 1.0)

    @property
    def flagged(self) -> bool:
        """True when weak."""
        return not self.strong


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
    measure_confidence : mapping of str to MeasureConfidence
        Per measure key whose refined structure is judged
        (:data:`lipsym.refine.STRUCTURE_MEASURES`): strong or weak evidence, and why.
    size_borders : SizeBorders or None
        The symmetric shifts of the outer vermilion borders found in the image
        (:func:`lipsym.refine._size.search_size_borders`), used by the absolute
        (size) measures only; the points above do not include them. None when
        not searched.
    """

    points_px: np.ndarray
    pairs: tuple[PairRefinement, ...]
    fallback_fraction: float
    commissure_used: bool
    pupils: PairRefinement | None = None
    measure_confidence: Mapping[str, MeasureConfidence] = field(default_factory=lambda: MappingProxyType({}))
    size_borders: "SizeBorders | None" = None

    def by_index(self) -> Mapping[int, PairRefinement]:
        """Pairs keyed by both of their landmark indices."""
        out = {}
        for p in self.pairs:
            out[p.right] = out[p.left] = p
        return MappingProxyType(out)
