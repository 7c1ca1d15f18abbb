"""The refine layer: bilateral refinement of the pupils and lip landmarks from image evidence.

Why. MediaPipe's face model carries a strong symmetric prior: a real,
planted lift of one commissure is recovered only partly (docs/reference.md
§7; on the London photos with lipsym's simulator, about a third of a
2 mm lift). Flip-averaging removes the model's side bias but not this
shrinkage. The image itself still shows where each lip feature is.

How. Every lip landmark off the midline has a mirror partner
(:data:`LIP_PAIRS`: 61 ↔ 291, 37 ↔ 267, ...). The photo is resampled in the
facial frame (x towards the subject's left, y up, one sample per photo
pixel) around the mouth, on a grid symmetric about the midline, so the
mirror image of the resampled mouth is the same array reversed left to
right (:func:`resample_in_frame`). For each pair, a patch around the left
landmark is registered against the mirrored patch around the right
landmark: the asymmetric residual ``s`` the model's prior removed. Each
landmark of the pair then moves by half of it, in opposite (mirrored)
directions, so that

- the midpoint of the pair (the symmetric part, where MediaPipe is good) is
  unchanged, and only the asymmetry is corrected;
- mirroring the photo negates ``s`` exactly, so the result of a mirrored
  photo is exactly the mirrored result;
- a symmetric face gives ``s = 0``: no asymmetry is invented.

Weak evidence (low correlation peak, a peak on the search border, a flat
peak: beards, overdrawn lipstick, blur, an open mouth at the commissure)
leaves the pair where it was and reports it (:class:`PairRefinement`).
Every registration reports its evidence (:class:`Evidence`: peak, its
sharpness and uniqueness, contrast, the two search directions'
disagreement); the structures whose measures are judged (the Cupid's bow,
the commissures' height, their lateral position, each lip's vermilion:
:data:`STRUCTURE_MEASURES`) are strong or weak by it (:func:`structure_evidence`;
the lateral position by whether the fissure's ends were used, a lip by whether
all of its border pairs were registered), and a weak one is flagged by the
analysis and widened by the measures.

- :func:`refine_lips` → :class:`Refinement`: the pupils first
  (:func:`refine_pupils`, they set the frame's axis), then every pair of
  :data:`LIP_PAIRS`; the commissures (:data:`COMMISSURES`) are first placed
  at the end of the oral fissure (:func:`fissure_end`), the Cupid's bow
  (:data:`BOW_PAIR`) is registered in two passes, and its evidence is weak
  where the skin above it looks like facial hair (:func:`hair_score`).

The photo is used at the resolution the landmarks were detected at
(:func:`lipsym.analysis.detect_at_adequate_resolution` keeps the face about
800 px wide or more, i.e. ≤ 0.2 mm per pixel), so refinement costs no extra
decoding.
"""

from .._lazy import attach

__getattr__, __dir__, __all__ = attach(__name__, {
    "_lips": ["refine_lips"],
    "_pupils": ["refine_pupils"],
    "_result": ["Refinement", "PairRefinement", "Evidence", "MeasureConfidence"],
    "_evidence": ["EvidenceLimits", "BOW_LIMITS", "STRUCTURE_MEASURES", "structure_evidence"],
    "_pairs": ["LandmarkPair", "LIP_PAIRS", "CORNER_PAIRS", "COMMISSURES", "BOW_PAIR"],
    "_fissure": ["fissure_end"],
    "_hair": ["hair_score"],
    "_grid": ["resample_in_frame"],
    "_size": ["SizeBorders", "search_size_borders"],
})
