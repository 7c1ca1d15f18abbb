"""Lip-view labels do not overlap, even on a small face (#16: "labels overlap in the lip view on smaller faces")."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from conftest import SAMPLE
from lipsym.report import _overlay
from lipsym.report._declutter import declutter, label_boxes


def _overlapping_pairs(ax) -> list[tuple[str, str]]:
    boxes = label_boxes(ax)
    return [(a.get_text(), b.get_text()) for (a, box_a), (b, box_b) in itertools.combinations(boxes, 2)
            if box_a.overlaps(box_b)]


def test_declutter_separates_labels_stacked_on_one_point():
    fig = _overlay.new_figure(3, 2, dpi=100)
    ax = fig.add_axes((0, 0, 1, 1))
    ax.set_xlim(0, 100)
    ax.set_ylim(0, 100)
    for i, text in enumerate(["Ch R", "+1.6 mm", "3.4", "↔ 28.3", "CPh R"]):
        ax.annotate(text, (50, 50), textcoords="offset points", xytext=(0, 0), ha="center", va="center",
                    fontsize=8, bbox=_overlay.label_box(_overlay.BLUE) if i % 2 else None)
    assert len(_overlapping_pairs(ax)) == 10  # all five on top of each other
    assert declutter(ax) == 4
    assert _overlapping_pairs(ax) == []
    frame = ax.get_window_extent(fig.canvas.get_renderer())
    for _, box in label_boxes(ax):  # and all still inside the view
        assert frame.x0 <= box.x0 and box.x1 <= frame.x1 and frame.y0 <= box.y0 and box.y1 <= frame.y1


@pytest.fixture(scope="module")
def small_face(landmarker):
    """The bundled astronaut: a face 89 px wide, the case the issue reports."""
    from lipsym.analysis import AnalysisOptions
    from lipsym.pipeline import ItemSpec, analyze_item

    result = analyze_item(ItemSpec.photo(SAMPLE, "rest"), landmarker, AnalysisOptions())
    result.raise_error()
    return result.rgb(0), result.analyses[0], result.measures[0]


def test_small_face_lip_view_labels_do_not_overlap(small_face, monkeypatch):
    rgb, analysis, measures = small_face
    assert analysis.anatomy.points_px["cheilion_left"][0] - analysis.anatomy.points_px["cheilion_right"][0] < 80
    fig = _overlay.overlay_figure(rgb, analysis, measures, view="lips")
    ax = fig.axes[0]
    assert len(label_boxes(ax)) >= 15  # point names, segment values, side marks, flags, summary
    assert _overlapping_pairs(ax) == []
    # The same view without the placement does overlap: the test can fail.
    monkeypatch.setattr(_overlay, "declutter", lambda ax: 0)
    crowded = _overlay.overlay_figure(rgb, analysis, measures, view="lips")
    assert _overlapping_pairs(crowded.axes[0]) != []
    # And the rendered PNG is what was measured (rendering does not move labels again).
    png = _overlay.figure_png(fig)
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    assert np.isfinite(len(png))
