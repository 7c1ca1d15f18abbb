"""lipsym: lip asymmetry measured from clinical photographs.

The public API is loaded lazily: ``import lipsym`` imports neither OpenCV
nor MediaPipe; the first use of a name loads what it needs.

- :func:`analyze_photo`, :func:`analyze_pair` → analyses in photo pixels;
- :func:`measure_photo`, :func:`measure_pair` → measures in mm with standard errors;
- :func:`apply_corrections` (:class:`Corrections` of :class:`PointMove`) → an analysis with points moved by hand;
- :func:`compare` → the change of each asymmetry between two measurements;
- :func:`analyze_item` → one photo or rest/smile pair analysed, measured and written out (:class:`ItemSpec`);
- :class:`Side` (always the subject's), :class:`LipsymError` (every error lipsym raises on purpose);
- :class:`AnalysisOptions`, :class:`LandmarkerOptions`, :class:`Landmarker`.

Subpackages, one per layer (docs/architecture.md): ``io``, ``landmarks``,
``face``, ``refine``, ``analysis``, ``measures``, ``comparison``, ``formats``,
``pipeline``, ``report``, ``simulate``, ``visits``, ``batch``, ``cli``.

Examples
--------
>>> import lipsym
>>> pair = lipsym.analyze_pair("sample_images/astronaut.png", "sample_images/astronaut.png")
>>> rest = lipsym.measure_pair(*pair).rest
>>> rest.sided["commissure_height"].unit
'mm'
>>> lipsym.Side.LEFT.other
<Side.RIGHT: 'right'>
"""

__version__ = "0.1.0"

from ._lazy import attach as _attach

__getattr__, __dir__, __all__ = _attach(__name__, {
    "analysis._photo": ["analyze_photo"],
    "analysis._result": ["PhotoAnalysis"],
    "analysis._pair": ["analyze_pair", "PairAnalysis"],
    "analysis._options": ["AnalysisOptions"],
    "analysis._corrections": ["apply_corrections", "correctable_points", "Corrections", "PointMove"],
    "measures._photo": ["measure_photo", "PhotoMeasures"],
    "measures._pair": ["measure_pair", "PairMeasures"],
    "comparison._compare": ["compare:compare_measures"],
    "pipeline._item": ["ItemSpec"],
    "pipeline._analyze": ["analyze_item"],
    "landmarks._options": ["LandmarkerOptions"],
    "landmarks._detector": ["Landmarker"],
    "sides": ["Side"],
    "errors": ["LipsymError", "CorrectionError"],
})
__all__ = [*__all__, "__version__"]
