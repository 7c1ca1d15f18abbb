"""Whether a registration's image evidence is strong enough to trust, per structure.

Every registration reports its evidence (:class:`lipsym.refine.Evidence`:
correlation peak, its sharpness and uniqueness, patch contrast, and how far
the two search directions disagree). This module judges it against the
limits of the structure the pair measures, and names the measures a weak
structure affects, so that the measures layer can widen their standard
errors and the analysis can flag them (:func:`measure_confidence`). A lip
(its vermilion) is judged by whether all of its border pairs were
registered (:func:`border_evidence`).

Why the Cupid's bow has its own limits: its registration makes false
shifts where the border is faint (a pale, diffuse or low-contrast border,
stubble): the correlation peak across the lip is then flat. See
:data:`BOW_MIN_SHARPNESS`.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from types import MappingProxyType
from typing import Mapping

from lipsym.face._anatomy import INNER_LOWER, INNER_UPPER, OUTER_LOWER, OUTER_UPPER
from lipsym.refine._pairs import BOW_PAIR, COMMISSURES, CORNER_PAIRS, LIP_PAIRS, LandmarkPair
from lipsym.refine._result import Evidence, MeasureConfidence, PairRefinement

#: The Cupid's bow registration's peak is too flat below this drop in
#: correlation for a shift of 1 % of the IPD across the lip (the weaker of
#: its two passes). Chosen on the London set (34 neutral faces) as the
#: smallest limit of the grid 0.01, 0.015, 0.02, 0.025, 0.03 whose bow peak
#: height asymmetry MAE against the manual points is at most 0.85 of
#: answering zero (fewest faces flagged: 3 of 34); checked on 3DSK (50
#: faces, not used for the choice): docs/accuracy.md. The sharpness is a
#: property of the border (a planted 2 mm lift changes it little), so a real
#: asymmetry on a clear border is not flagged. The two directions'
#: disagreement is not used: a real (planted) lift raises it as much as a
#: false shift does (London, 2 mm: up to 0.6 % IPD).
BOW_MIN_SHARPNESS = 0.015
#: A bow registration with weak evidence moves the pair by this fraction of
#: its residual (MediaPipe's position plus half the correction). A full
#: fallback (0) was tried: it left the London bow MAE against the manual
#: points at 0.89 of answering zero (half: 0.83), because MediaPipe's own
#: bow asymmetry is shrunk towards zero (slope 0.43); 0.25 and 0.75 did
#: worse than 0.5 on London too. The measure is flagged and its standard
#: error widened either way.
WEAK_BOW_WEIGHT = 0.5
#: The bow's weight rises from :data:`WEAK_BOW_WEIGHT` to 1 over this
#: half-width of sharpness around :data:`BOW_MIN_SHARPNESS` (0.0125 to
#: 0.0175), so that a bow whose sharpness sits at the limit does not jump
#: between half and full correction under re-processing: London 128's bow
#: read −0.16 to −0.18 mm as weak and −0.57 mm as strong (JPEG q75), SD
#: 0.153 mm over its seven versions; with the ramp 0.112. The flag still
#: marks every bow below the limit. Of the ramps tried (half-widths none,
#: 0.0025, 0.005 centred; 0.005 wide below or above the limit: London MAE
#: 0.520, or planted recovery down by up to 0.07), this one left the planted
#: lifts' recovery unchanged within 0.01 (London 34 and 3DSK 50 faces, every
#: shape at 2 mm) and the bow agreement as good or better (London MAE 0.503 →
#: 0.495, 3DSK 0.456 → 0.456). Chosen on London, checked on 3DSK.
BOW_WEIGHT_RAMP = 0.0025


#: Above this facial-hair score (:func:`lipsym.refine._hair.hair_score`) the
#: bow's evidence is weak: the skin above its border is darker and more
#: finely textured than the cheeks, as under a moustache, and the bow's
#: registration aligns hair instead of the border. Chosen on the London set
#: (34 neutral faces; facial hair labelled by eye, benchmarks/labels/beards.csv)
#: as the smallest of 35, 40, 50, 60 whose ramp (:data:`BOW_HAIR_RAMP`) starts
#: above every face not labelled "beard" (highest 33.5, London 038; the three
#: dense beards 72.6-112.6, the fourth, light one 23.2); checked on 3DSK (50
#: faces, not used for the choice): docs/accuracy.md "Facial hair over the
#: Cupid's bow".
BOW_MAX_HAIR_SCORE = 40.0
#: The bow's weight falls from 1 to :data:`WEAK_BOW_WEIGHT` over this
#: half-width of the hair score around :data:`BOW_MAX_HAIR_SCORE` (36 to 44),
#: so that a face near the limit does not jump under re-processing.
BOW_HAIR_RAMP = 4.0


def ramp(x: float, lo: float, hi: float) -> float:
    """0 at or below ``lo``, 1 at or above ``hi``, linear between: a correction that fades with its evidence
    instead of switching at a limit (so the result is continuous in the photo)."""
    return min(max((x - lo) / (hi - lo), 0.0), 1.0)


def bow_weight(sharpness: float) -> float:
    """Fraction of its registered correction a bow pair is moved by, for its sharpness (see :data:`BOW_WEIGHT_RAMP`)."""
    return WEAK_BOW_WEIGHT + (1.0 - WEAK_BOW_WEIGHT) * ramp(sharpness, BOW_MIN_SHARPNESS - BOW_WEIGHT_RAMP,
                                                          BOW_MIN_SHARPNESS + BOW_WEIGHT_RAMP)


def hair_weight(score: float) -> float:
    """Fraction of its correction a bow pair keeps for facial hair above its border (see :data:`BOW_MAX_HAIR_SCORE`).

    Examples
    --------
    >>> hair_weight(10.0), hair_weight(40.0), hair_weight(100.0)
    (1.0, 0.75, 0.5)
    """
    return 1.0 - (1.0 - WEAK_BOW_WEIGHT) * ramp(score, BOW_MAX_HAIR_SCORE - BOW_HAIR_RAMP,
                                               BOW_MAX_HAIR_SCORE + BOW_HAIR_RAMP)


def judge_hair(evidence: Evidence, score: float) -> Evidence:
    """``evidence`` made weak, with the reason, when the facial-hair score is above :data:`BOW_MAX_HAIR_SCORE`."""
    if not score > BOW_MAX_HAIR_SCORE:
        return evidence
    why = (f"dark, finely textured skin above the border, as under facial hair "
           f"(score {score:.0f} > {BOW_MAX_HAIR_SCORE:g})")
    return replace(evidence, strong=False, reason="; ".join(r for r in (evidence.reason, why) if r))


@dataclass(frozen=True)
class EvidenceLimits:
    """The limits a registration's evidence must meet to be strong.

    Attributes
    ----------
    min_peak_correlation, min_sharpness, min_uniqueness, min_contrast : float
        Lower limits of the :class:`lipsym.refine.Evidence` fields of these names.
    max_disagreement_ipd : float
        Upper limit of :attr:`lipsym.refine.Evidence.disagreement_ipd`.
    """

    min_peak_correlation: float = 0.0
    min_sharpness: float = 0.0
    min_uniqueness: float = 0.0
    min_contrast: float = 0.0
    max_disagreement_ipd: float = float("inf")


#: Limits of the Cupid's bow pair (:data:`lipsym.refine.BOW_PAIR`).
BOW_LIMITS = EvidenceLimits(min_sharpness=BOW_MIN_SHARPNESS)

#: The measures each judged structure's pairs drive (their keys in
#: :mod:`lipsym.measures`): widened and flagged when its evidence is weak.
#: Those with a manual reference to calibrate the weak case's error
#: (lipsym/measures/uncertainty.json, ``weak_evidence_sd_rel_ipd``).
#: "fissure_ends" is the commissures' lateral position (:func:`fissure_ends_evidence`),
#: judged apart from their height: a crease that the fissure follower does
#: not trust leaves the corners where MediaPipe put them laterally while
#: their height is registered there soundly. The smile angle and the
#: endocanthion-cheilion distance go with the height (their corner vector is
#: mostly vertical), the commissure excursion with the lateral position (mostly
#: horizontal). "upper_vermilion" and
#: "lower_vermilion" are each lip's border pairs, outer and inner contour
#: (:func:`border_evidence`): the vermilion heights and hemi-areas rest on all
#: of them.
STRUCTURE_MEASURES: Mapping[str, tuple[str, ...]] = {
    "cupids_bow": ("bow_peak_height", "bow_peak_height_above_labrale_superius"),
    "commissures": ("commissure_height", "smile_angle", "endocanthion_cheilion"),
    "fissure_ends": ("commissure_lateral", "commissure_excursion"),
    "upper_vermilion": ("upper_vermilion_height_mid", "upper_vermilion_height_peak", "upper_hemi_vermilion_area"),
    "lower_vermilion": ("lower_vermilion_height_mid", "lower_vermilion_height_peak", "lower_hemi_vermilion_area"),
}


def _lip_pairs(*contours: tuple[int, ...]) -> tuple[LandmarkPair, ...]:
    """The pairs of :data:`lipsym.refine.LIP_PAIRS` on these contours, the corners left out (they are
    the commissures' and the inner corners' own structures)."""
    on = {i for contour in contours for i in contour}
    return tuple(p for p in LIP_PAIRS if p not in CORNER_PAIRS and p.left in on)


#: Each lip's border pairs, outer and inner contour (the Cupid's bow's among the upper),
#: judged together (:func:`border_evidence`).
_LIPS: Mapping[str, tuple[LandmarkPair, ...]] = {"upper_vermilion": _lip_pairs(OUTER_UPPER, INNER_UPPER),
                                                 "lower_vermilion": _lip_pairs(OUTER_LOWER, INNER_LOWER)}

#: The refined pairs behind each judged structure.
STRUCTURE_PAIRS: Mapping[str, tuple[LandmarkPair, ...]] = {
    "cupids_bow": (BOW_PAIR,), "commissures": (COMMISSURES,), "fissure_ends": (COMMISSURES,), **_LIPS,
}

#: Structures whose standard error is widened in proportion to how far their
#: correction has faded (:func:`fallback_share`), with the weight
#: (:attr:`lipsym.refine.PairRefinement.weight`) at which the fade is complete:
#: the bow keeps half of its correction (:data:`WEAK_BOW_WEIGHT`), and its
#: weight ramps across the flag's limit. The commissures are not here: their
#: fade starts at the flag's limit (two starts 1 % IPD apart are uncertain by
#: about that much whatever the weight), so a flagged pair is widened in full.
FADING_STRUCTURES: Mapping[str, float] = {"cupids_bow": WEAK_BOW_WEIGHT}


def judge(evidence: Evidence, limits: EvidenceLimits) -> Evidence:
    """``evidence`` with ``strong`` and ``reason`` set from ``limits`` (an already weak one stays weak)."""
    if not evidence.strong:
        return evidence
    checks = (
        (evidence.peak_correlation < limits.min_peak_correlation,
         f"correlation {evidence.peak_correlation:.2f} < {limits.min_peak_correlation:g}"),
        (evidence.sharpness < limits.min_sharpness,
         f"flat correlation peak (sharpness {evidence.sharpness:.3f} < {limits.min_sharpness:g})"),
        (evidence.uniqueness < limits.min_uniqueness,
         f"second match (uniqueness {evidence.uniqueness:.2f} < {limits.min_uniqueness:g})"),
        (evidence.contrast < limits.min_contrast, f"low contrast ({evidence.contrast:.1f} < {limits.min_contrast:g})"),
        (evidence.disagreement_ipd > limits.max_disagreement_ipd,
         f"search directions disagree by {100 * evidence.disagreement_ipd:.2f} % IPD "
         f"(> {100 * limits.max_disagreement_ipd:g} %)"),
    )
    failed = [why for bad, why in checks if bad]
    return evidence if not failed else replace(evidence, strong=False, reason="; ".join(failed))


def weaker(a: Evidence, b: Evidence) -> Evidence:
    """The weaker of two registrations' evidence, field by field (both must be strong for a strong result)."""
    return Evidence(min(a.peak_correlation, b.peak_correlation), min(a.sharpness, b.sharpness),
                    min(a.uniqueness, b.uniqueness), min(a.contrast, b.contrast),
                    max(a.disagreement_ipd, b.disagreement_ipd), a.strong and b.strong,
                    "; ".join(r for r in (a.reason, b.reason) if r))


def measure_confidence(pairs: tuple[PairRefinement, ...]) -> Mapping[str, MeasureConfidence]:
    """Per measure key of :data:`STRUCTURE_MEASURES`, its structure's evidence.

    A one-pair structure is judged by :func:`structure_evidence` (or its own
    rule, :func:`fissure_ends_evidence`), a lip by :func:`border_evidence`.
    """
    by_index = {p.left: p for p in pairs}
    out = {}
    for structure, keys in STRUCTURE_MEASURES.items():
        judged = [by_index[pair.left] for pair in STRUCTURE_PAIRS[structure]]
        if structure in _LIPS:
            strong, why, evidence, share = border_evidence(judged)
        else:
            (pair,) = judged
            strong, why = _JUDGED_BY.get(structure, structure_evidence)(pair)
            evidence = pair.evidence
            # A structure that does not fade rests wholly on its fallback when weak
            # (MeasureConfidence's own default when no share is given).
            share = fallback_share(pair, FADING_STRUCTURES[structure]) if structure in FADING_STRUCTURES else None
        for key in keys:
            out[key] = MeasureConfidence(structure, strong, why, evidence, share)
    return MappingProxyType(out)


def border_evidence(pairs: list[PairRefinement]) -> tuple[bool, str, Evidence | None, float]:
    """Whether a lip's border pairs were all registered: (strong, why, evidence, fallback share).

    Each pair whose registration could not be used keeps MediaPipe's
    position (its reason: a correlation below
    :data:`lipsym.refine._registration.MIN_PEAK_CORRELATION`, a peak on the
    search border, ...), so that part of the lip's contour carries
    MediaPipe's symmetric prior. The lip is weak when any of its pairs fell
    back, and its measures rest on the fallback in the share of its pairs
    that did: no limit here was chosen on data. On 3DSK the 7 of 50 faces
    with an upper-lip pair fallen back have about twice the upper lip's error
    against the manual points (docs/accuracy.md "Confidence flag vs error").
    The evidence reported is the weakest pair's (lowest correlation peak).

    Examples
    --------
    >>> import numpy as np
    >>> from lipsym.refine import PairRefinement
    >>> ok = PairRefinement(185, 409, np.zeros(2), 0.9, True)
    >>> lost = PairRefinement(40, 270, np.zeros(2), 0.5, False, "weak image evidence (correlation 0.50)")
    >>> border_evidence([ok, ok, ok, lost])[0], border_evidence([ok, ok, ok, lost])[3]
    (False, 0.25)
    >>> border_evidence([ok, ok])[:2]
    (True, '')
    """
    fallen = [p for p in pairs if not p.used]
    with_evidence = [p for p in pairs if p.evidence is not None]
    weakest = min(with_evidence, key=lambda p: p.evidence.peak_correlation).evidence if with_evidence else None
    if not fallen:
        return True, "", weakest, 0.0
    reasons = sorted({p.reason or "not registered" for p in fallen})
    why = (f"{len(fallen)} of {len(pairs)} border pairs kept MediaPipe's positions "
           f"({', '.join(f'{p.right}/{p.left}' for p in fallen)}: {'; '.join(reasons)})")
    return False, why, weakest, len(fallen) / len(pairs)


def fallback_share(pair: PairRefinement, fallback_weight: float) -> float:
    """How much of a fading pair's correction is the fallback's, in [0, 1] (:attr:`MeasureConfidence.fallback_share`).

    1 for a pair that fell back; otherwise where its weight stands between a
    full correction (0) and ``fallback_weight``, the weight at which the fade
    is complete (1; :data:`FADING_STRUCTURES`), flagged or not.

    Examples
    --------
    >>> import numpy as np
    >>> from lipsym.refine import PairRefinement
    >>> fallback_share(PairRefinement(37, 267, np.zeros(2), 0.9, True, weight=0.75), 0.5)
    0.5
    >>> fallback_share(PairRefinement(37, 267, np.zeros(2), 0.0, False, "no contrast"), 0.5)
    1.0
    """
    if not pair.used:
        return 1.0
    return ramp(1.0 - pair.weight, 0.0, 1.0 - fallback_weight)


def fissure_ends_evidence(pair: PairRefinement) -> tuple[bool, str]:
    """Whether the commissure pair's lateral positions are the oral fissure's ends, and why not.

    The corners' lateral positions come from the fissure's ends alone (the
    registration measures their height only). They are weak evidence where
    MediaPipe's corners were kept instead (the ends were not found, or one
    lay far further out than the other: a crease followed on one side), and
    where the pair's height depends on which of the two was taken (its
    correction faded, :data:`lipsym.refine._commissures.START_DISAGREEMENT_IPD`),
    since the fissure decision is then uncertain. MediaPipe follows about
    half of a corner's real lateral move (docs/accuracy.md "London: planted
    standard changes"), so a lateral asymmetry read from its corners is
    shrunk towards symmetry.

    Examples
    --------
    >>> import numpy as np
    >>> from lipsym.refine import PairRefinement
    >>> fissure_ends_evidence(PairRefinement(61, 291, np.zeros(2), 0.9, True, method="registration+fissure"))
    (True, '')
    >>> fissure_ends_evidence(PairRefinement(61, 291, np.zeros(2), 0.9, True, method="registration"))[0]
    False
    """
    if "fissure" not in pair.method:
        return False, ("the oral fissure's ends were not found, or one lay far further out of MediaPipe's corner "
                       "than the other: the corners' lateral positions are MediaPipe's")
    if pair.weight < 1.0:
        return False, (pair.evidence.reason if pair.evidence is not None and pair.evidence.reason
                       else "the corners' height depends on where the fissure is taken to end")
    return True, ""


def structure_evidence(pair: PairRefinement) -> tuple[bool, str]:
    """Whether a pair's refinement rests on strong evidence, and why not.

    A pair that fell back (``used`` False) is weak for the reason it fell
    back; a used one is as strong as its judged evidence.
    """
    if not pair.used:
        return False, pair.reason or "not registered"
    if pair.evidence is not None and not pair.evidence.strong:
        return False, pair.evidence.reason
    return True, ""


#: Structures judged otherwise than by their pair's registration evidence (:func:`structure_evidence`).
_JUDGED_BY = {"fissure_ends": fissure_ends_evidence}
