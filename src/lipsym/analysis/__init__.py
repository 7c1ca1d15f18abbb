"""The analysis layer: one photo → frame, named anatomy, scale and quality flags.

:func:`analyze_photo` decodes a photo at the resolution its face needs,
detects the landmarks, refines the lip points from image evidence
(:mod:`lipsym.refine`) and returns a frozen :class:`PhotoAnalysis` in the
photo's own pixels; :mod:`lipsym.measures` turns it into millimetres.
:class:`AnalysisOptions` holds every setting that changes a result.
:func:`apply_corrections` moves points by hand (:class:`Corrections`) and
rebuilds the frame and anatomy without detecting again.
"""

from .._lazy import attach

__getattr__, __dir__, __all__ = attach(__name__, {
    "_photo": ["analyze_photo", "analyze_landmarks", "EXPRESSIONS"],
    "_result": ["PhotoAnalysis"],
    "_options": ["AnalysisOptions"],
    "_pair": ["PairAnalysis", "analyze_pair"],
    "_corrections": ["correctable_points", "PointMove", "Corrections", "AppliedMove", "apply_corrections",
                     "CORRECTABLE_POINTS", "read_corrections"],
})
