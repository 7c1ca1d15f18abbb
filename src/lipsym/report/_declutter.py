"""Labels that do not overlap: a greedy, collision-avoiding placement for an overlay's annotations.

Labels are sized in points, the photo in its pixels: on a small face (or a
small panel) the lip view's labels (point names, segment values) crowd
together and cover each other (issue #16, "labels overlap in the lip view on
smaller faces"). After everything is drawn, :func:`declutter` measures every
label as it will be rendered and moves each one that touches an earlier label
or a marked point to the nearest free place around its anchor, in a spiral
of candidate offsets; a label moved further than about its own height gets a
thin leader line to its anchor, so it still says what it belongs to.
Plain texts (side marks, flags, the summary box) are obstacles that stay put.
"""

from __future__ import annotations

import itertools

import numpy as np

# matplotlib is imported inside the functions, as in lipsym.report._overlay:
# commands that draw nothing do not pay for importing it.

#: Free space kept around each label, in points.
PAD_PT = 1.5
#: Candidate directions, in the order tried (up/down first: labels sit on segments drawn vertically).
_DIRECTIONS = [(0, 1), (0, -1), (1, 0), (-1, 0), (1, 1), (-1, 1), (1, -1), (-1, -1)]
#: Rings of the spiral, each one label height further out.
_RINGS = 10
#: Largest number of marked points that count as obstacles (the named points, not the 478 landmarks).
_MAX_MARKERS = 40
#: Radius around a marked point that labels keep clear of, in points.
MARKER_RADIUS_PT = 3.5


def label_boxes(ax) -> list[tuple[object, object]]:
    """Every visible text of ``ax`` with its rendered box (label background included, leader line not), in display px."""
    from matplotlib.text import Annotation, Text

    renderer = ax.figure.canvas.get_renderer()
    boxes = []
    for text in ax.texts:
        if not text.get_visible() or not text.get_text().strip():
            continue
        patch = text.get_bbox_patch()
        if isinstance(text, Annotation):
            text.update_positions(renderer)
        if patch is not None:
            text.update_bbox_position_size(renderer)
            box = patch.get_window_extent(renderer)
        else:
            # Text's own extent: an Annotation's would include its leader line.
            box = Text.get_window_extent(text, renderer)
        boxes.append((text, box))
    return boxes


def _padded(box, pad_px: float):
    from matplotlib.transforms import Bbox

    return Bbox.from_extents(box.x0 - pad_px, box.y0 - pad_px, box.x1 + pad_px, box.y1 + pad_px)


def _marker_boxes(ax, radius_px: float) -> list:
    from matplotlib.transforms import Bbox

    boxes = []
    for collection in ax.collections:
        offsets = collection.get_offsets()
        if len(offsets) == 0 or len(offsets) > _MAX_MARKERS:
            continue
        for x, y in collection.get_offset_transform().transform(offsets):
            boxes.append(Bbox.from_extents(x - radius_px, y - radius_px, x + radius_px, y + radius_px))
    return boxes


def declutter(ax) -> int:
    """Move the annotations of ``ax`` so that no two labels (and no label and marked point) overlap.

    Annotations placed with ``textcoords="offset points"`` are moved, in
    the order they were drawn; other texts stay where they are and are
    avoided. Call it after the axes' limits and the figure size are final.

    Parameters
    ----------
    ax : matplotlib Axes

    Returns
    -------
    int
        How many labels were moved.
    """
    from matplotlib.text import Annotation

    fig = ax.figure
    px_per_pt = fig.dpi / 72.0
    pad_px = PAD_PT * px_per_pt
    boxes = label_boxes(ax)
    movable = [(t, b) for t, b in boxes if isinstance(t, Annotation) and t.anncoords == "offset points"]
    placed = [_padded(b, pad_px) for t, b in boxes if not (isinstance(t, Annotation) and t.anncoords == "offset points")]
    placed += _marker_boxes(ax, MARKER_RADIUS_PT * px_per_pt)
    frame = ax.get_window_extent(fig.canvas.get_renderer())
    moved = 0
    for text, box in movable:
        candidate = _padded(box, pad_px)
        if _free(candidate, placed, frame):
            placed.append(candidate)
            continue
        step_px = max(box.height, 6 * px_per_pt)
        for ring, (dx, dy) in itertools.product(range(1, _RINGS + 1), _DIRECTIONS):
            shift = np.array([dx * ring * step_px * (1.0 if dx == 0 or dy == 0 else 0.7),
                              dy * ring * step_px * (1.0 if dx == 0 or dy == 0 else 0.7)])
            candidate = _padded(box.translated(*shift), pad_px)
            if _free(candidate, placed, frame):
                _shift_annotation(text, shift / px_per_pt, far=ring * step_px > 1.2 * box.height)
                placed.append(candidate)
                moved += 1
                break
        else:  # nowhere free nearby: leave it (the test of a rendered view would catch this)
            placed.append(_padded(box, pad_px))
    return moved


def _free(box, placed: list, frame) -> bool:
    inside = box.x0 >= frame.x0 and box.x1 <= frame.x1 and box.y0 >= frame.y0 and box.y1 <= frame.y1
    return inside and not any(box.overlaps(other) for other in placed)


def _shift_annotation(text, shift_pt: np.ndarray, *, far: bool) -> None:
    x, y = text.xyann
    text.xyann = (x + shift_pt[0], y + shift_pt[1])
    if far and text.arrowprops is None:
        colour = text.get_bbox_patch().get_facecolor() if text.get_bbox_patch() is not None else text.get_color()
        # A leader line from the label back to what it labels (Annotation
        # builds its arrow only in __init__, so it is given one here).
        from matplotlib.patches import FancyArrowPatch

        text.arrowprops = dict(arrowstyle="-", color=colour, lw=0.7, shrinkA=0, shrinkB=2)
        text.arrow_patch = FancyArrowPatch((0, 0), (1, 1), **text.arrowprops)
        text._arrow_relpos = (0.5, 0.5)  # what Annotation.__init__ sets for an arrow
