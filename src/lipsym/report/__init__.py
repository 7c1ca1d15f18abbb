"""Reports: overlays, the rest/smile panel, before/after comparisons, visit reports.

Draws and renders what the measures and comparison layers computed. Report
functions take analysed photos (:class:`ReportPhoto`), never paths, so that
the CLI, the visit record and notebooks share them. Outputs carry no
metadata from the input photos and reference nothing outside themselves.
"""

from .._lazy import attach

__getattr__, __dir__, __all__ = attach(__name__, {
    "_align": ["STABLE_LANDMARKS", "FrameView", "Registration", "Similarity", "fit_similarity", "frame_view",
               "register_stable"],
    "_before_after": ["comparison_figure", "comparison_png"],
    "_content": ["ReportHeader", "measures_table"],
    "_panel": ["rest_smile_figure", "rest_smile_png"],
    "_photos": ["ReportPhoto", "ReportVisit", "load_report_photo", "load_visit", "photo_from_analysis",
                "visit_from_analyses"],
    "_visit_report": ["VisitReport", "build_report", "write_report"],
    "_overlay": ["draw_overlay", "write_png"],
})
