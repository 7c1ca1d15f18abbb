"""What the visit-record commands report, and their versioned JSON documents.

Each ``lipsym patient …`` / ``lipsym compare PATIENT …`` command reads the
store through one function here, then prints a table or the document; the
other visit-record commands (``visit``, ``treatment``, ``import``, ``track``)
print their document from here too (schema
names and versions: :data:`lipsym.formats.SCHEMAS`, docs/json-schema.md).
Documents are plain JSON values: dates as ISO strings, records as objects.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from lipsym.comparison._capture_checks import CaptureWarning
from lipsym.comparison._photos import compare_captures
from lipsym.formats._comparison import capture_warnings_to_json
from lipsym.comparison._compare import KEY_MEASURES, MeasureChange
from lipsym.errors import ConfigurationError, ConflictError, PhotoNotFoundError, StoreError
from lipsym.formats._comparison import CHANGE_ASYMMETRY_SIGN, changes_to_json
from lipsym.formats._envelope import envelope, plain
from lipsym.visits._import import ImportReport
from lipsym.comparison._absolute_change import KEY_ABSOLUTE, AbsoluteChange
from lipsym.visits._settling import PHOTO_CONDITIONS, compare_visits, compare_visits_absolute, visit_absolute
from lipsym.visits._timeline import Timeline, VisitMeasures, load_timeline
from lipsym.visits.store import Patient, Photo, Store, Treatment, Visit

#: Sign convention stated in the visit-record documents.
ASYMMETRY_SIGN = CHANGE_ASYMMETRY_SIGN


def patient_document(patient: Patient) -> dict[str, Any]:
    """``lipsym.patient``: one patient record (``lipsym patient add --json``)."""
    return envelope("lipsym.patient", plain(patient))


def visit_document(visit: Visit) -> dict[str, Any]:
    """``lipsym.visit``: one visit record (``lipsym visit add --json``)."""
    return envelope("lipsym.visit", plain(visit))


def treatment_document(treatment: Treatment) -> dict[str, Any]:
    """``lipsym.treatment``: one treatment record with its sites (``lipsym treatment add --json``)."""
    return envelope("lipsym.treatment", plain(treatment))


def import_document(report: ImportReport) -> dict[str, Any]:
    """``lipsym.import_report``: what an import or analyze-pending did (``lipsym import --json``)."""
    return envelope("lipsym.import_report", plain(report))


def track_document(timeline: Timeline, keys: Iterable[str], settling: Any, plot: str | None = None,
                   effects: Any = ()) -> dict[str, Any]:
    """``lipsym.track``: a patient's tracked asymmetries and settling (``lipsym track --json``).

    Parameters
    ----------
    timeline : Timeline
    keys : iterable of str
        The measures tracked (those a visit lacks are left out of it).
    settling : sequence of FollowUpSettling
        :func:`lipsym.visits.follow_up_settling` of the timeline.
    plot : str, optional
        The plot written with it.
    effects : sequence of TreatmentEffect
        :func:`lipsym.visits.treatment_effects` of the timeline: the
        absolute lip measures' change since before the treatment, since it
        and since the previous visit, with MDC95.
    """
    keys = list(keys)
    return envelope("lipsym.track", {
        "patient": timeline.patient.identifier,
        "asymmetry_sign": ASYMMETRY_SIGN,
        # Which stored analysis (and settings) each condition's numbers come from.
        "visits": [{"visit": plain(vm.visit), "treatments": plain(vm.treatments),
                    "analyses": {c: {"analysis_id": i, "settings_hash": vm.settings_hashes.get(c)}
                                 for c, i in vm.analysis_ids.items()},
                    # Whether landmarks were corrected by hand, and which points were moved.
                    **vm.provenance(),
                    "measures": {c: {k: plain(vm.sided[c][k]) for k in keys if k in vm.sided[c]}
                                 for c in PHOTO_CONDITIONS if c in vm.sided},
                    # The size of the lips (not their asymmetry): the key absolute measures.
                    "absolute": {c: {k: plain(m) for k, m in visit_absolute(vm, c).items() if k in KEY_ABSOLUTE}
                                 for c in PHOTO_CONDITIONS if visit_absolute(vm, c)}} for vm in timeline.visits],
        "settling": plain(settling),
        "treatment_effect": plain(effects),
        "plot": plot,
    })


@dataclass(frozen=True)
class PatientSummary:
    """A patient with the number of visits and the date of the last one."""

    patient: Patient
    visits: int
    last_visit: _dt.date | None


def patient_summaries(store: Store) -> list[PatientSummary]:
    """Every patient of the store, with visit count and last visit date."""
    out = []
    for p in store.list_patients():
        visits = store.list_visits(p)
        out.append(PatientSummary(p, len(visits), visits[-1].visit_date if visits else None))
    return out


def patients_document(summaries: list[PatientSummary]) -> dict[str, Any]:
    """``lipsym.patients``: the patient list (``lipsym patient list --json``)."""
    return envelope("lipsym.patients", {"patients": [
        {**plain(s.patient), "visits": s.visits, "last_visit": plain(s.last_visit)} for s in summaries]})


@dataclass(frozen=True)
class PatientHistory:
    """A patient's visits with their photos, analyses and treatments.

    Attributes
    ----------
    timeline : Timeline
    photos : mapping of int to tuple of Photo
        Visit id → the visit's photos.
    analyses : mapping of int to int
        Visit id → number of analyses.
    """

    timeline: Timeline
    photos: Mapping[int, tuple[Photo, ...]]
    analyses: Mapping[int, int]


def patient_history(store: Store, identifier: str) -> PatientHistory:
    """A patient's history (``lipsym patient show``).

    Raises
    ------
    NotFoundError
        No such patient.
    """
    timeline = load_timeline(store, identifier)
    visits = [vm.visit for vm in timeline.visits]
    return PatientHistory(timeline, MappingProxyType({v.id: tuple(store.list_photos(v)) for v in visits}),
                          MappingProxyType({v.id: len(store.list_analyses(v)) for v in visits}))


def patient_history_document(history: PatientHistory) -> dict[str, Any]:
    """``lipsym.patient_history``: a patient and their visits (``lipsym patient show --json``)."""
    return envelope("lipsym.patient_history", {"patient": plain(history.timeline.patient), "visits": [
        {**plain(vm.visit), "photos": plain(history.photos[vm.visit.id]), "analyses": history.analyses[vm.visit.id],
         "treatments": plain(vm.treatments)}
        for vm in history.timeline.visits]})


@dataclass(frozen=True)
class VisitComparison:
    """The change of each asymmetry between two recorded visits of a patient.

    Attributes
    ----------
    timeline : Timeline
        The patient's whole timeline.
    before, after : VisitMeasures
    changes : mapping of str to (mapping of str to MeasureChange)
        Condition → measure key → change.
    treatments_between : tuple of Treatment
        Given after ``before`` and up to ``after``.
    capture_warnings : tuple of CaptureWarning
        How differently the two visits' photos were taken (each widens the
        MDC by its modelled amount, already in ``changes``).
    absolute : mapping of str to (mapping of str to AbsoluteChange)
        Condition → absolute lip measure → change (the size of the lips:
        a treatment's effect), with its MDC95 between two captures.
    """

    timeline: Timeline
    before: VisitMeasures
    after: VisitMeasures
    changes: Mapping[str, Mapping[str, MeasureChange]]
    treatments_between: tuple[Treatment, ...]
    capture_warnings: tuple[CaptureWarning, ...] = ()
    absolute: Mapping[str, Mapping[str, AbsoluteChange]] = field(default_factory=lambda: MappingProxyType({}))

    @property
    def title(self) -> str:
        """``PATIENT: BEFORE → AFTER``."""
        return f"{self.timeline.patient.identifier}: {self.before.label} → {self.after.label}"

    @property
    def compared(self) -> Timeline:
        """The two compared visits as a timeline (e.g. to check for mixed settings)."""
        return Timeline(self.timeline.patient, (self.before, self.after))


def compare_recorded_visits(store: Store, patient: str, from_visit: str, to_visit: str, *,
                            all_measures: bool = False, allow_different_person: bool = False) -> VisitComparison:
    """Compare two recorded visits of a patient from their stored measures.

    Parameters
    ----------
    store : Store
    patient : str
    from_visit, to_visit : str
        Visit references (:meth:`lipsym.visits.Timeline.find`).
    all_measures : bool
        Every measure and the dynamic component, not only the key measures
        at rest and in smile.
    allow_different_person : bool
        Compare even when the visits' photos do not look like the same person.

    Raises
    ------
    DifferentPersonError
        A condition's two photos do not plausibly show the same person.
    StoreError
        The visits have no analysed photo condition in common (exit 7, as
        every refusal of ``compare PATIENT --from --to``).
    NotFoundError
        No such patient or visit.
    StoreError
        Both references name the same visit (e.g. first and last of a
        patient with one visit).
    """
    timeline = load_timeline(store, patient)
    before, after = timeline.find(from_visit), timeline.find(to_visit)
    if before.visit.id == after.visit.id:
        # Comparing a visit with itself gives a table of zeros that looks like a result.
        alone = " (the patient's only visit)" if len(timeline.visits) == 1 else ""
        raise StoreError(f"{patient}: --from {from_visit} and --to {to_visit} are the same visit, "
                         f"{before.label}{alone}; a comparison needs two different visits")
    conditions = (*PHOTO_CONDITIONS, "dynamic") if all_measures else PHOTO_CONDITIONS
    changes = compare_visits(before, after, conditions=conditions, keys=None if all_measures else KEY_MEASURES,
                             calibration=timeline.calibration)
    if not changes:
        raise StoreError(f"{patient}: visits {before.label} and {after.label} have no analysed photos in common "
                         "(rest or smile): add the missing photos (lipsym import) or analyse the recorded ones "
                         "(lipsym analyze-pending)")
    warnings = []
    for condition in PHOTO_CONDITIONS:
        if condition in before.photos and condition in after.photos:
            # Same person, and how the photos were taken; the changes already carry the captures.
            warnings += compare_captures(before.photos[condition], after.photos[condition],
                                         before.sided.get(condition, {}), after.sided.get(condition, {}), keys=(),
                                         allow_different_person=allow_different_person).warnings
    between = tuple(t for vm in timeline.visits
                    if before.visit.visit_date <= vm.visit.visit_date <= after.visit.visit_date
                    and vm.visit.id != before.visit.id for t in vm.treatments)
    absolute = compare_visits_absolute(before, after, keys=None if all_measures else KEY_ABSOLUTE)
    return VisitComparison(timeline, before, after, MappingProxyType(changes), between, tuple(warnings),
                           MappingProxyType(absolute))


def visit_comparison_document(comparison: VisitComparison, image: str | None = None) -> dict[str, Any]:
    """``lipsym.visit_comparison`` (``lipsym compare PATIENT --from --to --json``).

    Parameters
    ----------
    comparison : VisitComparison
    image : str, optional
        The comparison image written with it.
    """
    return envelope("lipsym.visit_comparison", {
        "patient": comparison.timeline.patient.identifier,
        "from": plain(comparison.before.visit),
        "to": plain(comparison.after.visit),
        "asymmetry_sign": ASYMMETRY_SIGN,
        "changes": changes_to_json(comparison.changes),
        # The size of the lips: each absolute measure's change with its MDC95 (condition → list).
        "absolute": {c: [plain(ch) for ch in by_key.values()] for c, by_key in comparison.absolute.items()},
        "treatments_between": plain(comparison.treatments_between),
        "capture_warnings": capture_warnings_to_json(comparison.capture_warnings),
        "image": image,
        # How many photos (replicates) each visit's value of a condition is the robust mean of.
        "replicates": {side: {c: len(ids) for c, ids in vm.replicate_analysis_ids.items()}
                       for side, vm in (("from", comparison.before), ("to", comparison.after))},
        # Whether each visit's landmarks were corrected by hand, and which points were moved.
        "provenance": {side: vm.provenance() for side, vm in (("from", comparison.before), ("to", comparison.after))},
    })


def recorded_photo_paths(store: Store, vm: VisitMeasures) -> tuple[str, str | None]:
    """Rest and smile photo files of the analysis the visit's measures come from, checked unchanged.

    Raises
    ------
    ConfigurationError
        The visit has no analysed (rest) photo.
    PhotoNotFoundError, ConflictError
        A recorded photo is missing or its content changed (SHA-256).
    """
    analysis_id = vm.analysis_ids.get("rest") or vm.analysis_ids.get("smile")
    if analysis_id is None:
        raise ConfigurationError(f"visit {vm.label} has no analysed photos to draw")
    analysis = store.get_analysis(analysis_id)
    if analysis.rest_photo_id is None:
        raise ConfigurationError(f"visit {vm.label} has no analysed rest photo to draw")
    out = []
    for photo_id in (analysis.rest_photo_id, analysis.smile_photo_id):
        if photo_id is None:
            out.append(None)
            continue
        status = store.verify_photo(photo_id)
        if status.state == "missing":
            raise PhotoNotFoundError(f"{status.photo.path}: recorded photo is missing (see lipsym db verify)")
        if not status.ok:
            raise ConflictError(f"{status.photo.path}: the file changed since it was recorded (sha256 differs)")
        out.append(status.photo.path)
    return out[0], out[1]
