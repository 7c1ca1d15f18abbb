"""The analysed photos of a recorded analysis, kept in memory while the user looks at them.

The visit view draws named points and lip contours, which the stored result
document does not hold (it keeps named points only), and a live correction
re-measures the analysis without detecting again. Both need the
:class:`~lipsym.analysis.PhotoAnalysis` objects: the visit record's
:func:`lipsym.visits._corrections.load_stored_analyses` makes them once per
recorded analysis (the recorded photos checked against their SHA-256 and
analysed again with the stored settings, a manual analysis's moves applied),
and they are kept here. Photos analysed by the app itself are kept straight
from that analysis.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from lipsym.analysis._result import PhotoAnalysis
from lipsym.visits.store import Analysis, Photo

#: How many analyses stay in memory (no pixels are kept: a few MB each).
CACHE_SIZE = 32
_SLOTS = ("rest", "smile")


@dataclass(frozen=True, eq=False)
class Workspace:
    """One recorded analysis with its PhotoAnalysis objects.

    Attributes
    ----------
    loaded : lipsym.visits._corrections.StoredAnalyses
        The record, its automatic analysis and the (possibly corrected) photo analyses.
    photos : mapping of str to Photo
        Condition (``rest``, ``smile``) → the recorded photo, for the conditions the analysis has.
    """

    loaded: Any
    photos: Mapping[str, Photo]

    @property
    def analysis(self) -> Analysis:
        return self.loaded.analysis

    @property
    def conditions(self) -> tuple[str, ...]:
        """The analysis's photo conditions, rest first."""
        return tuple(c for c in _SLOTS if c in self.photos)

    @property
    def analyses(self) -> tuple[PhotoAnalysis, ...]:
        """As the record stands (corrected for a manual analysis), in :attr:`conditions` order."""
        return tuple(self.loaded.photo(c) for c in self.conditions)

    def condition_of(self, photo_id: int) -> str:
        for c, p in self.photos.items():
            if p.id == photo_id:
                return c
        from lipsym.errors import CorrectionError

        raise CorrectionError(f"photo {photo_id} is not a photo of analysis {self.analysis.id}")

    def index(self, expression: str) -> int:
        """Position of the ``rest`` or ``smile`` photo in :attr:`conditions`."""
        return self.conditions.index(expression)


def photos_of(store, analysis: Analysis) -> dict[str, Photo]:
    return {c: store.get_photo(i) for c, i in zip(_SLOTS, (analysis.rest_photo_id, analysis.smile_photo_id))
            if i is not None}


def build_workspace(landmarker, state, analysis_id: int) -> Workspace:
    """Load a recorded analysis's PhotoAnalysis objects (runs on the analysis thread).

    Raises
    ------
    NotFoundError, PhotoNotFoundError, ConflictError, PhotoError, FaceError, MeasurementError
    """
    from lipsym.visits._corrections import analysis_options, load_stored_analyses

    with state.store() as store:
        record = store.get_analysis(analysis_id)
        # The app's landmarker serves analyses made with the landmarker settings it was built with;
        # any other is built by the library from the stored settings.
        same = analysis_options(record.settings).landmarker == state.worker.options.landmarker
        loaded = load_stored_analyses(store, record, landmarker=landmarker if same else None)
        return Workspace(loaded, photos_of(store, loaded.automatic))


def fresh_workspace(analysis: Analysis, photos: Mapping[str, Photo], analyses: Mapping[str, PhotoAnalysis],
                    options, automatic: Analysis | None = None) -> Workspace:
    """A workspace of photos this process has just analysed or corrected (nothing to load again)."""
    from lipsym.visits._corrections import StoredAnalyses

    loaded = StoredAnalyses(analysis, automatic or analysis, analyses.get("rest"), analyses.get("smile"),
                            None if automatic is None else analysis.id, options)
    return Workspace(loaded, dict(photos))


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
