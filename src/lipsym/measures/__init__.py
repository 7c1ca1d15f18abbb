"""Lip asymmetry measures: commissures, Cupid's bow, vermilion; rest, smile, dynamic.

Layer: works on :class:`lipsym.analysis.PhotoAnalysis` (frame, anatomy,
scale); knows nothing of MediaPipe or files. Definitions: docs/measures.md.
"""

from lipsym.measures._pair import PairMeasures, measure_pair, pair_scale
from lipsym.measures._photo import PhotoMeasures, measure_photo
from lipsym.measures._values import ASYMMETRY_MEANING, ScalarMeasure, SidedMeasure

__all__ = ["ASYMMETRY_MEANING", "PairMeasures", "PhotoMeasures", "ScalarMeasure", "SidedMeasure",
           "measure_pair", "measure_photo", "pair_scale"]
