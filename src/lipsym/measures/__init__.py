"""Lip asymmetry measures: commissures, Cupid's bow, vermilion; rest, smile, dynamic.

Layer: works on :class:`lipsym.analysis.PhotoAnalysis` (frame, anatomy,
scale); knows nothing of MediaPipe or files. Definitions: docs/measures.md.

- :func:`measure_photo` → :class:`PhotoMeasures` (sided and scalar measures,
  the composite score, reference bands);
- :data:`ABSOLUTE_KEYS`: the scalar measures of the lips' absolute size (mouth
  width, vermilion heights and areas, upper:lower ratio, philtrum length);
- :func:`measure_pair` → :class:`PairMeasures` (rest, smile on one scale, and
  the rest → smile movement);
- :data:`REGISTRY`: one :class:`MeasureInfo` per measure (key, kind, unit,
  display name, definition, sign meaning, band), from which every output is
  generated.
"""

from .._lazy import attach

__getattr__, __dir__, __all__ = attach(__name__, {
    "_pair": ["PairMeasures", "PatternSummary", "measure_pair", "pair_scale"],
    "_photo": ["PhotoMeasures", "measure_photo"],
    "_absolute": ["ABSOLUTE_KEYS"],
    "_values": ["ASYMMETRY_MEANING", "ScalarMeasure", "SidedMeasure"],
    "_registry": ["AGREEMENT_TIERS", "MeasureInfo", "REGISTRY", "agreement_tier", "display_name", "measure_info",
                  "measures_of_kind", "scale_power", "unit_label"],
    "_bands": ["Band", "band_for"],
    "_composite": ["CompositeScore"],
})
