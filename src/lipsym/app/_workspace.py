"""The analysed photos of a recorded analysis, kept in memory while the user looks at them.

The visit view draws named points and lip contours, which the stored result
document does not hold (it keeps named points only), and a live correction
re-measures the analysis without detecting again. Both need the
:class:`~lipsym.analysis.PhotoAnalysis` objects: they are made once per
recorded analysis, by the same :func:`lipsym.pipeline.analyze_item` that
``lipsym report`` and ``lipsym compare -o`` use (with the record's settings), from the recorded photo files
checked against their SHA-256 first, and kept here.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

from lipsym.analysis._result import PhotoAnalysis
from lipsym.errors import ConflictError, PhotoNotFoundError
from lipsym.visits.store import Analysis, Photo, Store

#: How many analyses' photos stay in memory (each holds its decoded photos, ~20-75 MB at 6-24 MP).
CACHE_SIZE = 6


@dataclass(frozen=True)
class Workspace:
    """One recorded analysis, analysed again in memory.

    Attributes
    ----------
    analysis : Analysis
        The record the workspace was made from.
    photos : tuple of Photo
        Rest first, then smile (either may be absent).
    analyses : tuple of PhotoAnalysis
        In the order of ``photos``, as the pipeline made them (pixels are not kept).
    """

    analysis: Analysis
    photos: tuple[Photo, ...]
    analyses: tuple[PhotoAnalysis, ...]

    def index(self, expression: str) -> int:
        """Position of the ``rest`` or ``smile`` photo."""
        for i, p in enumerate(self.photos):
            if p.expression == expression:
                return i
        raise KeyError(expression)


def recorded_photos(store: Store, analysis: Analysis) -> tuple[Photo, ...]:
    """The analysis's photos, rest first, each checked unchanged since it was recorded.

    Raises
    ------
    PhotoNotFoundError, ConflictError
    """
    photos = tuple(store.get_photo(i) for i in (analysis.rest_photo_id, analysis.smile_photo_id) if i is not None)
    for photo in photos:
        status = store.verify_photo(photo)
        if status.state == "missing":
            raise PhotoNotFoundError(f"photo {photo.id}: the recorded file is missing ({photo.path})")
        if status.state != "ok":
            raise ConflictError(f"photo {photo.id}: the file changed since it was recorded (sha256 differs)")
    return photos


def build_workspace(landmarker, options, analysis: Analysis, photos: tuple[Photo, ...]) -> Workspace:
    """Analyse the recorded photos again (runs on the analysis thread)."""
    from lipsym.pipeline._analyze import analyze_item
    from lipsym.pipeline._item import ItemSpec

    item = (ItemSpec.pair(photos[0].path, photos[1].path) if len(photos) == 2
            else ItemSpec.photo(photos[0].path, photos[0].expression))
    result = analyze_item(item, landmarker, options)
    result.raise_error()
    return Workspace(analysis, photos, tuple(result.analyses))


class WorkspaceCache:
    """Least-recently-used workspaces by analysis id (thread-safe)."""

    def __init__(self, size: int = CACHE_SIZE):
        self._items: OrderedDict[int, Workspace] = OrderedDict()
        self._lock = threading.Lock()
        self._size = size

    def get(self, analysis_id: int) -> Workspace | None:
        with self._lock:
            ws = self._items.get(analysis_id)
            if ws is not None:
                self._items.move_to_end(analysis_id)
            return ws

    def put(self, ws: Workspace) -> None:
        with self._lock:
            self._items[ws.analysis.id] = ws
            self._items.move_to_end(ws.analysis.id)
            while len(self._items) > self._size:
                self._items.popitem(last=False)

    def info(self) -> dict[str, Any]:
        with self._lock:
            return {"cached": list(self._items)}
