"""What a report figure needs of a photo: its pixels, its analysis, its measures.

Report functions take these objects, never paths, so that any caller (the
``report`` and ``compare`` commands, the visit store, a notebook) can draw
photos it analysed its own way.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np

from lipsym.analysis._photo import AnalysisOptions, PhotoAnalysis, analyze_photo
from lipsym.errors import ConfigurationError
from lipsym.io._photo import load_photo
from lipsym.landmarks._detector import Landmarker
from lipsym.measures import PairMeasures, PhotoMeasures, measure_pair, measure_photo


@dataclass(frozen=True, eq=False)
class ReportPhoto:
    """One analysed and measured photo, ready to draw.

    Attributes
    ----------
    rgb : ndarray, shape (H, W, 3), uint8
        The photo at the analysis's pixel grid (``load_photo(path).rgb``).
    analysis : PhotoAnalysis
    measures : PhotoMeasures
        For the smile photo of a pair: ``PairMeasures.smile`` (the pair scale).
    label : str
        Shown above the photo (e.g. the file name); may be empty.
    """

    rgb: np.ndarray
    analysis: PhotoAnalysis
    measures: PhotoMeasures
    label: str = ""

    def __post_init__(self):
        a = self.analysis
        if self.rgb.ndim != 3 or self.rgb.shape[:2] != (a.height_px, a.width_px):
            raise ConfigurationError(f"photo array {self.rgb.shape} does not match its analysis "
                                     f"({a.width_px}x{a.height_px} px)")

    @property
    def mm_per_px(self) -> float:
        """The scale its measures used, mm per photo px."""
        return self.measures.scale.mm_per_px


@dataclass(frozen=True, eq=False)
class ReportVisit:
    """The photos of one visit: a rest photo, and a smile photo with the pair measures.

    Attributes
    ----------
    rest : ReportPhoto
    smile : ReportPhoto or None
    pair : PairMeasures or None
        Present exactly when ``smile`` is.
    """

    rest: ReportPhoto
    smile: ReportPhoto | None = None
    pair: PairMeasures | None = None

    def __post_init__(self):
        if (self.smile is None) != (self.pair is None):
            raise ConfigurationError("a visit's smile photo and its pair measures go together")

    @property
    def photos(self) -> tuple[ReportPhoto, ...]:
        return (self.rest,) if self.smile is None else (self.rest, self.smile)


def _label(path) -> str:
    return os.path.basename(str(path))


def load_report_photo(path: str | os.PathLike, landmarker: Landmarker, *, expression: str = "rest",
                      options: AnalysisOptions = AnalysisOptions()) -> ReportPhoto:
    """Analyse and measure one photo file and keep its pixels for drawing."""
    a = analyze_photo(path, landmarker, expression=expression, options=options)
    return photo_from_analysis(load_photo(path).rgb, a, _label(path))


def photo_from_analysis(rgb: np.ndarray, analysis: PhotoAnalysis, label: str = "") -> ReportPhoto:
    """A ReportPhoto of an in-memory photo already analysed (measured here)."""
    return ReportPhoto(rgb, analysis, measure_photo(analysis), label)


def visit_from_analyses(rest_rgb: np.ndarray, rest: PhotoAnalysis, smile_rgb: np.ndarray | None = None,
                        smile: PhotoAnalysis | None = None, *, rest_label: str = "rest",
                        smile_label: str = "smile") -> ReportVisit:
    """A visit from analysed photos: the smile photo measured with the pair scale."""
    if smile is None:
        return ReportVisit(photo_from_analysis(rest_rgb, rest, rest_label))
    pair = measure_pair(rest, smile)
    return ReportVisit(ReportPhoto(rest_rgb, rest, pair.rest, rest_label),
                       ReportPhoto(smile_rgb, smile, pair.smile, smile_label), pair)


def load_visit(rest_path: str | os.PathLike, smile_path: str | os.PathLike | None, landmarker: Landmarker, *,
               options: AnalysisOptions = AnalysisOptions()) -> ReportVisit:
    """Analyse a visit's rest (and smile) photo files.

    Raises
    ------
    PhotoError, FaceError, MeasurementError
    """
    rest = analyze_photo(rest_path, landmarker, expression="rest", options=options)
    smile = None if smile_path is None else analyze_photo(smile_path, landmarker, expression="smile", options=options)
    return visit_from_analyses(load_photo(rest_path).rgb, rest,
                               None if smile_path is None else load_photo(smile_path).rgb, smile,
                               rest_label=_label(rest_path),
                               smile_label="" if smile_path is None else _label(smile_path))
