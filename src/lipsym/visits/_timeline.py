"""A patient's visits with their measures and treatments, read from the store.

The read side of the visit record: :func:`load_timeline` gathers, for each
visit, the sided measures of each condition (rest, smile, dynamic) and the
treatments given at it. A photo's latest analysis stands for it (a
re-analysis with new settings supersedes the old one), except that its
latest MANUAL analysis (landmarks corrected by hand,
:mod:`lipsym.visits._corrections`) stands for it whenever there is one, so a
later automatic re-analysis never silently drops a correction; a condition with
several photos (replicates, docs/visit-record.md) takes their robust mean,
with their spread (:func:`lipsym.comparison.aggregate_replicates`). Everything downstream
(:mod:`lipsym.visits`, ``lipsym track`` / ``compare``) works on this
frozen snapshot, not on the store.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from lipsym.comparison._calibration import ClinicCalibration
from lipsym.comparison._replicates import ReplicateMeasure, aggregate_replicates
from lipsym.errors import ConfigurationError, NotFoundError
from lipsym.measures import SidedMeasure
from lipsym.visits._provenance import MANUAL_KEYS, ManualCorrection, manual_correction
from lipsym.visits.store import MeasureRow, Patient, Store, Treatment, Visit
from lipsym.visits.store._analyses import prepare_settings
from lipsym.visits.store import _validate as validate
from lipsym.formats._store_rows import sided_from_rows
from lipsym.visits._calibration_record import load_clinic_calibration

_VISIT_ID = re.compile(r"^#?(\d+)$")


@dataclass(frozen=True)
class VisitMeasures:
    """One visit of the timeline.

    Attributes
    ----------
    visit : Visit
    sided : mapping of str to mapping of str to SidedMeasure
        Condition (``rest``, ``smile``, ``dynamic``) → measure key → measure:
        the latest analysis of the condition's photo, or, when the visit has
        several photos of it, their robust mean (``replicates``). Empty for a
        visit without analysed photos.
    analysis_ids : mapping of str to int
        Condition → the latest analysis the measures come from.
    treatments : tuple of Treatment
        Given at this visit.
    settings_hashes : mapping of str to str
        Condition → the settings hash of that analysis.
    photos : mapping of str to mapping
        Photo condition (``rest``, ``smile``) → that photo's entry of the
        stored result document (pose, scale, frame, points): how it was
        captured, for the change's between-capture error and the
        same-person check.
    replicates : mapping of str to mapping of str to ReplicateMeasure
        Condition → key → the replicates' value, SD and n, for the
        conditions measured on two or more photos at this visit.
    replicate_analysis_ids : mapping of str to tuple of int
        Condition → every analysis its measures come from (one per photo).
    corrections : mapping of str to tuple of ManualCorrection
        Condition → the manual analyses (landmarks corrected by hand) among
        those its measures come from; conditions measured automatically are
        left out.
    measurement_settings_hashes : mapping of str to str
        Condition → the settings hash of the automatic analysis behind its
        measures (a manual analysis's own hash also covers its moves).
    """

    visit: Visit
    sided: Mapping[str, Mapping[str, SidedMeasure]]
    analysis_ids: Mapping[str, int]
    treatments: tuple[Treatment, ...]
    settings_hashes: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    photos: Mapping[str, Mapping[str, Any]] = field(default_factory=lambda: MappingProxyType({}))
    replicates: Mapping[str, Mapping[str, ReplicateMeasure]] = field(default_factory=lambda: MappingProxyType({}))
    replicate_analysis_ids: Mapping[str, tuple[int, ...]] = field(default_factory=lambda: MappingProxyType({}))
    corrections: Mapping[str, tuple[ManualCorrection, ...]] = field(default_factory=lambda: MappingProxyType({}))
    measurement_settings_hashes: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))

    @property
    def manual_points(self) -> int:
        """How many points were moved by hand in the analyses this visit's measures come from."""
        seen = {m.analysis_id: m for ms in self.corrections.values() for m in ms}
        return sum(m.n_points for m in seen.values())

    def provenance_line(self) -> str | None:
        """``landmarks corrected manually (N points moved; ...)`` when they were, else None."""
        seen = {m.analysis_id: m for ms in self.corrections.values() for m in ms}
        if not seen:
            return None
        n = self.manual_points
        ids = ", ".join(f"#{i}" for i in sorted(seen))
        return f"landmarks corrected manually ({n} point{'s' if n != 1 else ''} moved; analysis {ids})"

    def provenance(self) -> dict[str, Any]:
        """As JSON values: ``provenance`` (``automatic`` / ``manual``) and, per condition, the manual analyses' moves."""
        if not self.corrections:
            return {"provenance": "automatic"}
        return {"provenance": "manual", "points_moved": self.manual_points,
                "corrections": {c: [m.to_dict() for m in ms] for c, ms in self.corrections.items()}}

    @property
    def treated(self) -> bool:
        """True if a treatment was recorded at this visit, or it is a ``treatment`` visit."""
        return bool(self.treatments) or self.visit.kind == "treatment"

    @property
    def label(self) -> str:
        """``DATE kind`` (unique within a patient)."""
        return f"{self.visit.visit_date.isoformat()} {self.visit.kind}"


@dataclass(frozen=True)
class Timeline:
    """A patient's visits in order (date, then baseline → treatment → follow-up on one day).

    Attributes
    ----------
    patient : Patient
    visits : tuple of VisitMeasures
    calibration : ClinicCalibration or None
        The clinic's re-capture calibration stored in the record
        (``lipsym calibrate``), which comparisons of these visits use.
    """

    patient: Patient
    visits: tuple[VisitMeasures, ...]
    calibration: ClinicCalibration | None = None

    @property
    def mixed_settings(self) -> bool:
        """True when the tracked analyses were made with different settings (e.g. another scale).

        Changes between such visits mix a change of the face with a change
        of the measurement; the CLI warns.
        """
        return len({vm.measurement_settings_hashes.get(c, h) for vm in self.visits
                    for c, h in vm.settings_hashes.items()}) > 1

    def find(self, ref: str | int) -> VisitMeasures:
        """The visit named by ``ref``.

        Parameters
        ----------
        ref : str or int
            A visit id (``12`` or ``#12``), a date (``2024-05-02``), a date
            and kind (``2024-05-02:treatment``), a kind when the patient has
            one visit of it (``baseline``), or ``first`` / ``last``: the
            first / last visit with analysed photos (of any visit when none
            has any), so that a visit recorded ahead of its photos, or left
            empty by mistake, does not make ``--to last`` a comparison with
            nothing.

        Raises
        ------
        NotFoundError
            No such visit of this patient.
        ConfigurationError
            ``ref`` is malformed or matches several visits.
        """
        text = str(ref).strip()
        who = self.patient.identifier
        if not self.visits:
            raise NotFoundError(f"patient {who!r} has no visits")
        if text in ("first", "last"):
            measured = [v for v in self.visits if v.sided] or list(self.visits)
            return measured[0 if text == "first" else -1]
        if (m := _VISIT_ID.match(text)) is not None:
            found = [v for v in self.visits if v.visit.id == int(m.group(1))]
            what = f"visit id {m.group(1)}"
        elif text[:1].isdigit():
            day_text, _, kind_text = text.partition(":")
            day = validate.iso_date(day_text, "visit date")
            found = [v for v in self.visits if v.visit.visit_date == day]
            if kind_text:
                kind = validate.visit_kind(kind_text)
                found = [v for v in found if v.visit.kind == kind]
            what = f"visit on {text}"
        else:
            try:
                kind = validate.visit_kind(text)
            except ConfigurationError:
                raise ConfigurationError(f"visit {text!r}: give a visit id, YYYY-MM-DD, YYYY-MM-DD:KIND, a kind "
                                         "(baseline, treatment, follow-up, maintenance), first or last") from None
            found = [v for v in self.visits if v.visit.kind == kind]
            what = f"{kind} visit"
        if not found:
            known = ", ".join(v.label for v in self.visits)
            raise NotFoundError(f"patient {who!r} has no {what} (visits: {known})")
        if len(found) > 1:
            raise ConfigurationError(f"{text!r} matches {len(found)} visits of {who!r} "
                                     f"({', '.join(v.label for v in found)}); give DATE:KIND or the visit id")
        return found[0]


#: Which photo(s) a condition's measures are of, in a measure row.
_PHOTOS_OF = {"rest": ("rest_photo_id",), "smile": ("smile_photo_id",),
              "dynamic": ("rest_photo_id", "smile_photo_id")}


@dataclass(frozen=True)
class _Condition:
    """One condition of one visit: its measures and where they come from."""

    sided: Mapping[str, SidedMeasure]
    analysis_id: int
    settings_hash: str
    analysis_ids: tuple[int, ...]
    replicates: Mapping[str, ReplicateMeasure] | None


def _per_condition(rows: list[MeasureRow], manual_ids=frozenset()) -> dict[str, _Condition]:
    by_analysis: dict[int, list[MeasureRow]] = {}
    for row in rows:
        by_analysis.setdefault(row.analysis_id, []).append(row)
    # Condition → photo(s) → (analysis id, measures). Latest analysis first:
    # a re-analysis (new settings, pair after a single photo) supersedes
    # earlier ones photo by photo; other photos of the condition are replicates.
    found: dict[str, dict[tuple, tuple[int, Mapping[str, SidedMeasure]]]] = {}
    # A manual analysis (landmarks corrected by hand) comes before any automatic one.
    for analysis_id in sorted(by_analysis, key=lambda i: (i in manual_ids, i), reverse=True):
        first = by_analysis[analysis_id][0]
        for condition, measures in sided_from_rows(by_analysis[analysis_id]).items():
            photo = tuple(getattr(first, name) for name in _PHOTOS_OF.get(condition, ("analysis_id",)))
            found.setdefault(condition, {}).setdefault(photo, (analysis_id, measures))
    out = {}
    for condition, by_photo in found.items():
        # Photo order (the order they were recorded) makes the replicates' order stable.
        chosen = [by_photo[photo] for photo in sorted(by_photo, key=lambda p: tuple(x or 0 for x in p))]
        ids = tuple(analysis_id for analysis_id, _ in chosen)
        latest = max(ids)
        if len(chosen) == 1:
            sided, replicates = chosen[0][1], None
        else:
            replicates = MappingProxyType(aggregate_replicates([m for _, m in chosen]))
            sided = MappingProxyType({k: r.measure for k, r in replicates.items()})
        out[condition] = _Condition(sided, latest, by_analysis[latest][0].settings_hash, ids, replicates)
    return out


def load_timeline(store: Store, patient: Patient | str) -> Timeline:
    """Read a patient's timeline from the store (one consistent snapshot per query).

    Parameters
    ----------
    store : Store
    patient : Patient or str

    Raises
    ------
    NotFoundError
        Unknown patient.
    """
    record = store.get_patient(patient) if isinstance(patient, str) else patient
    rows_by_visit: dict[int, list[MeasureRow]] = {}
    for row in store.measures_for_patient(record):
        rows_by_visit.setdefault(row.visit_id, []).append(row)
    treatments_by_visit: dict[int, list[Treatment]] = {}
    for given in store.treatments_for_patient(record):
        treatments_by_visit.setdefault(given.visit.id, []).append(given.treatment)
    visits = []
    for visit in store.list_visits(record):
        manual = _manual_analyses(store, visit) if visit.id in rows_by_visit else {}
        conditions = _per_condition(rows_by_visit.get(visit.id, []), frozenset(manual))
        ids = {c: v.analysis_id for c, v in conditions.items()}
        corrections = {c: tuple(manual[i][0] for i in v.analysis_ids if i in manual) for c, v in conditions.items()}
        visits.append(VisitMeasures(
            visit=visit, sided=MappingProxyType({c: v.sided for c, v in conditions.items()}),
            analysis_ids=MappingProxyType(ids), treatments=tuple(treatments_by_visit.get(visit.id, ())),
            settings_hashes=MappingProxyType({c: v.settings_hash for c, v in conditions.items()}),
            photos=MappingProxyType(_photo_entries(store, ids)),
            replicates=MappingProxyType({c: v.replicates for c, v in conditions.items() if v.replicates}),
            replicate_analysis_ids=MappingProxyType({c: v.analysis_ids for c, v in conditions.items()}),
            corrections=MappingProxyType({c: ms for c, ms in corrections.items() if ms}),
            measurement_settings_hashes=MappingProxyType(
                {c: manual[v.analysis_id][1] if v.analysis_id in manual else v.settings_hash
                 for c, v in conditions.items()})))
    return Timeline(patient=record, visits=tuple(visits), calibration=load_clinic_calibration(store))


def _manual_analyses(store: Store, visit: Visit) -> dict[int, tuple[ManualCorrection, str]]:
    """Analysis id → (its manual correction, the settings hash of its automatic analysis)."""
    out = {}
    for analysis in store.list_analyses(visit):
        manual = manual_correction(analysis)
        if manual is not None:
            base = {k: v for k, v in analysis.settings.items() if k not in MANUAL_KEYS}
            out[analysis.id] = (manual, prepare_settings(base)[1])
    return out


def _photo_entries(store: Store, analysis_ids: Mapping[str, int]) -> dict[str, Mapping[str, Any]]:
    """Condition → the analysed photo's entry of its stored result document."""
    entries: dict[str, Mapping[str, Any]] = {}
    documents: dict[int, dict] = {}
    for condition, analysis_id in analysis_ids.items():
        if condition == "dynamic":
            continue
        if analysis_id not in documents:
            documents[analysis_id] = json.loads(store.get_analysis(analysis_id).result_json)
        entry = next((r for r in documents[analysis_id].get("results", ())
                      if r.get("status") == "ok" and r.get("expression") == condition), None)
        if entry is not None:
            entries[condition] = MappingProxyType(entry)
    return entries
