"""What ``lipsym correct`` reports: the corrected analysis, or the points a script may move.

Documents ``lipsym.correction`` (after a correction was saved) and
``lipsym.correctable_points`` (``--list``), docs/corrections.md.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from lipsym.analysis._corrections import correctable_points
from lipsym.comparison._compare import KEY_MEASURES
from lipsym.formats._envelope import envelope
from lipsym.measures._pair import measure_pair
from lipsym.measures._photo import PhotoMeasures, measure_photo
from lipsym.visits._corrections import CorrectionOutcome, StoredAnalyses, load_visit_analyses
from lipsym.visits._provenance import SLOTS
from lipsym.visits.store import Store


@dataclass(frozen=True, eq=False)
class CorrectablePoints:
    """The correctable points of one photo of a stored visit analysis (``lipsym correct --list``).

    Attributes
    ----------
    patient, visit_label, condition : str
    loaded : StoredAnalyses
        The analysis standing for the photos now (the latest manual one, if any).
    points : dict of str to (float, float)
        :func:`lipsym.analysis.correctable_points` of the ``condition`` photo.
    """

    patient: str
    visit_label: str
    condition: str
    loaded: StoredAnalyses
    points: dict[str, tuple[float, float]]


def visit_correctable_points(store: Store, patient: str, visit_ref: str, condition: str, *,
                             analysis_id: int | None = None, landmarker=None) -> CorrectablePoints:
    """Where each correctable point of a visit's ``condition`` photo is now.

    Raises
    ------
    As :func:`lipsym.visits.load_visit_analyses`.
    """
    loaded = load_visit_analyses(store, patient, visit_ref, condition, analysis_id=analysis_id,
                                 landmarker=landmarker)
    visit = store.get_visit(loaded.automatic.visit_id)
    return CorrectablePoints(patient, f"{visit.visit_date.isoformat()} {visit.kind}", condition, loaded,
                             correctable_points(loaded.photo(condition)))


def correctable_points_document(found: CorrectablePoints) -> dict[str, Any]:
    """``lipsym.correctable_points``: every point's name and position (``lipsym correct --list --json``)."""
    photo = found.loaded.photo(found.condition)
    return envelope("lipsym.correctable_points", {
        "patient": found.patient, "visit": found.visit_label, "condition": found.condition,
        "analysis_id": found.loaded.analysis.id, "provenance": photo.provenance,
        "file": str(photo.path), "width_px": photo.width_px, "height_px": photo.height_px,
        "points_px": {name: list(xy) for name, xy in found.points.items()},
    })


def _measures(loaded: StoredAnalyses) -> dict[str, PhotoMeasures]:
    if loaded.rest is not None and loaded.smile is not None:
        pair = measure_pair(loaded.rest, loaded.smile)
        return {"rest": pair.rest, "smile": pair.smile}
    return {c: measure_photo(a) for c, a in (("rest", loaded.rest), ("smile", loaded.smile)) if a is not None}


def key_changes(outcome: CorrectionOutcome) -> dict[str, dict[str, dict[str, float]]]:
    """Condition → key measure → ``{unit, before, after}``: the asymmetries before and after the correction."""
    before = _measures(outcome.before)
    after = dict(zip([c for c in SLOTS if c in before], outcome.result.measures))
    out: dict[str, dict[str, dict[str, Any]]] = {}
    for condition, m in before.items():
        out[condition] = {k: {"unit": m.sided[k].unit, "before": m.sided[k].asymmetry,
                              "after": after[condition].sided[k].asymmetry}
                          for k in KEY_MEASURES if k in m.sided}
    return out


def correction_document(outcome: CorrectionOutcome, patient: str, visit_label: str) -> dict[str, Any]:
    """``lipsym.correction``: the manual analysis recorded (``lipsym correct --file --json``)."""
    moves = {}
    for condition, a in zip([c for c in SLOTS if outcome.before.photo_or_none(c) is not None],
                            outcome.result.analyses):
        if a.corrections:
            moves[condition] = [m.to_dict() for m in a.corrections]
    return envelope("lipsym.correction", {
        "patient": patient, "visit": visit_label,
        "analysis_id": outcome.analysis.id, "provenance": "manual",
        "based_on": outcome.manual.based_on, "supersedes": outcome.manual.supersedes,
        "moved_points": outcome.manual.moved_points,
        "moves": moves,
        "asymmetry_changes": key_changes(outcome),
    })
