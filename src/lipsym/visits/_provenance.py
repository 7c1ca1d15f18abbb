"""Provenance of a stored analysis: automatic, or landmarks corrected by hand.

Light (no OpenCV, no MediaPipe): the timeline, documents and reports read it.
How manual analyses are stored is described in :mod:`lipsym.visits._corrections`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from lipsym.analysis._corrections import Corrections
from lipsym.errors import CorrectionError
from lipsym.visits.store import Analysis, Store

MANUAL = "manual"
#: Keys a manual analysis adds to its automatic analysis's settings.
MANUAL_KEYS = ("provenance", "based_on", "supersedes", "corrections")
#: Photo conditions a correction applies to, by the analysis's photo slot.
SLOTS = ("rest", "smile")


@dataclass(frozen=True)
class ManualCorrection:
    """A stored manual analysis, as its settings describe it.

    Attributes
    ----------
    analysis_id : int
    based_on : int
        The automatic analysis the moves apply to.
    supersedes : int or None
        The manual analysis that was being edited when this one was saved.
    corrections : mapping of str to Corrections
        Photo condition (``rest``, ``smile``) → its complete moves.
    created_at : str
    """

    analysis_id: int
    based_on: int
    supersedes: int | None
    corrections: Mapping[str, Corrections]
    created_at: str

    @property
    def moved_points(self) -> dict[str, list[str]]:
        """Condition → names of the points moved (conditions without moves left out)."""
        return {c: [m.name for m in moves.moves] for c, moves in self.corrections.items() if moves.moves}

    @property
    def n_points(self) -> int:
        """How many points were moved, over both photos."""
        return sum(len(v) for v in self.moved_points.values())

    def summary(self) -> str:
        """One line for text outputs and reports, e.g. ``landmarks corrected manually (2 points moved: ...)``."""
        n = self.n_points
        where = "; ".join(f"{c}: {', '.join(names)}" for c, names in self.moved_points.items())
        return (f"landmarks corrected manually ({n} point{'s' if n != 1 else ''} moved"
                f"{': ' + where if where else ''}; analysis #{self.analysis_id}, based on #{self.based_on})")

    def to_dict(self) -> dict[str, Any]:
        """As JSON values: ``provenance``, ``analysis_id``, ``based_on``, ``moved_points``, ``moves``."""
        return {"provenance": MANUAL, "analysis_id": self.analysis_id, "based_on": self.based_on,
                "moved_points": self.moved_points,
                "moves": {c: [{"point": m.name, "x_px": m.x_px, "y_px": m.y_px} for m in moves.moves]
                          for c, moves in self.corrections.items() if moves.moves}}


def manual_correction(analysis: Analysis) -> ManualCorrection | None:
    """What a stored analysis records about manual corrections; None for an automatic one.

    Raises
    ------
    CorrectionError
        The analysis says it is manual but its corrections are malformed.
    """
    settings = analysis.settings
    if settings.get("provenance") != MANUAL:
        return None
    raw = settings.get("corrections")
    if not isinstance(raw, Mapping) or not set(raw) <= set(SLOTS) or not isinstance(settings.get("based_on"), int):
        raise CorrectionError(f"analysis {analysis.id}: malformed manual corrections in its settings")
    corrections = {c: Corrections.from_dict({"schema": "lipsym.corrections", "schema_version": 1, "moves": moves})
                   for c, moves in raw.items()}
    return ManualCorrection(analysis.id, settings["based_on"], settings.get("supersedes"),
                            MappingProxyType(corrections), analysis.created_at)


def provenance_of(analysis: Analysis) -> dict[str, Any]:
    """``{"provenance": "automatic"}`` or the manual analysis's :meth:`ManualCorrection.to_dict`."""
    manual = manual_correction(analysis)
    return {"provenance": "automatic"} if manual is None else manual.to_dict()


def _same_photos(a: Analysis, b: Analysis) -> bool:
    return (a.visit_id, a.rest_photo_id, a.smile_photo_id) == (b.visit_id, b.rest_photo_id, b.smile_photo_id)


def automatic_analysis(store: Store, analysis: Analysis | int) -> Analysis:
    """The automatic analysis behind a stored analysis (itself when automatic)."""
    record = store.get_analysis(analysis if isinstance(analysis, int) else analysis.id)
    manual = manual_correction(record)
    return record if manual is None else store.get_analysis(manual.based_on)


def latest_manual(store: Store, analysis: Analysis | int) -> Analysis | None:
    """The latest manual analysis of the same photos as ``analysis`` (None if never corrected)."""
    record = store.get_analysis(analysis if isinstance(analysis, int) else analysis.id)
    found = [a for a in store.list_analyses(record.visit_id)
             if _same_photos(a, record) and a.settings.get("provenance") == MANUAL]
    return max(found, key=lambda a: a.id, default=None)


