"""A rest photo and a smile photo of one visit, analysed together."""

from __future__ import annotations

import os
from typing import NamedTuple

from lipsym.analysis._options import AnalysisOptions
from lipsym.analysis._photo import analyze_photo
from lipsym.analysis._result import PhotoAnalysis
from lipsym.landmarks._detector import Landmarker


class PairAnalysis(NamedTuple):
    """The analyses of a rest/smile pair; ``measure_pair(*pair)`` measures it.

    Attributes
    ----------
    rest, smile : PhotoAnalysis
    """

    rest: PhotoAnalysis
    smile: PhotoAnalysis


def analyze_pair(rest_path: str | os.PathLike, smile_path: str | os.PathLike, landmarker: Landmarker | None = None,
                 *, options: AnalysisOptions = AnalysisOptions()) -> PairAnalysis:
    """Analyse a rest photo and a smile photo of the same face.

    Parameters
    ----------
    rest_path, smile_path : path-like
    landmarker : Landmarker, optional
        Default :func:`lipsym.landmarks.default_landmarker`.
    options : AnalysisOptions

    Returns
    -------
    PairAnalysis

    Raises
    ------
    PhotoError, FaceError, MeasurementError
        For the first photo that cannot be analysed, naming its file.

    Examples
    --------
    >>> import lipsym
    >>> pair = lipsym.analyze_pair("sample_images/astronaut.png", "sample_images/astronaut.png")
    >>> pair.rest.expression, pair.smile.expression
    ('rest', 'smile')
    >>> m = lipsym.measure_pair(*pair)
    >>> round(m.dynamic["cheilion_movement"].asymmetry, 6)
    0.0
    """
    return PairAnalysis(analyze_photo(rest_path, landmarker, expression="rest", options=options),
                        analyze_photo(smile_path, landmarker, expression="smile", options=options))
