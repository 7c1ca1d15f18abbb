"""Reports: overlays, the rest/smile panel, before/after comparisons, visit reports.

The top layer: it draws and renders what the measures and comparison layers
computed, and takes analysed photos (:class:`ReportPhoto`), never paths, so
that the CLI, the visit store and notebooks share it. Outputs carry no
metadata from the input photos and reference nothing outside themselves.
"""

from lipsym.report._align import (
    STABLE_LANDMARKS,
    FrameView,
    Registration,
    Similarity,
    fit_similarity,
    frame_view,
    register_stable,
)
from lipsym.report._before_after import comparison_figure, comparison_png
from lipsym.report._content import ReportHeader
from lipsym.report._panel import rest_smile_figure, rest_smile_png
from lipsym.report._photos import (
    ReportPhoto,
    ReportVisit,
    load_report_photo,
    load_visit,
    photo_from_analysis,
    visit_from_analyses,
)
from lipsym.report._visit_report import VisitReport, build_report, write_report

__all__ = ["STABLE_LANDMARKS", "FrameView", "Registration", "ReportHeader", "ReportPhoto", "ReportVisit",
           "Similarity", "VisitReport", "build_report", "comparison_figure", "comparison_png", "fit_similarity",
           "frame_view", "load_report_photo", "load_visit", "photo_from_analysis", "register_stable",
           "rest_smile_figure", "rest_smile_png", "visit_from_analyses", "write_report"]
