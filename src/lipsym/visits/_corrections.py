"""Manual landmark corrections in the visit record: load, save, and say so.

A correction never overwrites the automatic analysis. Saving records a NEW
analysis of the same photos (no schema change): its settings are the
automatic analysis's settings plus

- ``provenance``: ``"manual"``;
- ``based_on``: the id of the automatic analysis the moves apply to;
- ``supersedes``: the manual analysis of these photos the user was editing
  (None for the first correction);
- ``corrections``: photo condition (``rest``, ``smile``) → the complete list
  of moves of that photo, ``[{point, x_px, y_px}]`` (absolute positions in
  the original photo's pixels, :class:`lipsym.analysis.Corrections`),

so it has its own settings hash, and its result document carries
``provenance`` and the moves with their displacements in each photo's entry.
Its measures are computed from the automatic analysis's points with the moves
applied (:func:`lipsym.analysis.apply_corrections`); no detection runs.

Two editors of the same photos (two browser tabs) cannot lose a save: each
save names the manual analysis it was loaded from (``expected_latest_id``)
and is refused with :class:`~lipsym.errors.CorrectionConflictError` when
another manual analysis of these photos was saved since. The check and the
insert are one write transaction.

Which analysis stands for a photo: the latest MANUAL analysis of it when one
exists, else the latest analysis (:func:`lipsym.visits.load_timeline`), so a
later automatic re-analysis does not silently drop a clinician's correction.

Getting the :class:`~lipsym.analysis.PhotoAnalysis` objects behind a stored
analysis (:func:`load_stored_analyses`): the stored document holds the named
points, not all 478 landmarks and the refinement, so the stored photos are
analysed ONCE again with the stored settings (the photos' hashes checked
first), the re-analysis is checked to reproduce the stored measures (same
lipsym, same model: identical to 1e-6), and a manual analysis's moves are
applied on top. A caller that corrects interactively (the correction app)
keeps the returned :class:`StoredAnalyses` and applies each drag to it
without detecting again.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from lipsym.analysis._corrections import Corrections, PointMove, apply_corrections
from lipsym.analysis._options import AnalysisOptions
from lipsym.analysis._result import PhotoAnalysis
from lipsym.errors import ConfigurationError, ConflictError, CorrectionConflictError, CorrectionError
from lipsym.face._scale import Calibration
from lipsym.landmarks._detector import Landmarker
from lipsym.landmarks._options import LandmarkerOptions
from lipsym.measures._pair import measure_pair
from lipsym.measures._photo import measure_photo
from lipsym.pipeline._analyze import analyze_item
from lipsym.pipeline._result import ItemResult
from lipsym.visits._analyzer import AnalysisJob, VisitAnalyzer
from lipsym.visits._provenance import (MANUAL, MANUAL_KEYS, SLOTS, ManualCorrection, latest_manual,
                                      manual_correction)
from lipsym.visits.store import Analysis, Store

#: Largest difference between a re-analysis and the stored measures that
#: still counts as the same analysis (stored documents round to 1e-9).
REPRODUCE_TOLERANCE = 1e-6


# --- the PhotoAnalysis objects behind a stored analysis --------------------------


def analysis_options(settings: Mapping[str, Any]) -> AnalysisOptions:
    """The :class:`AnalysisOptions` whose ``identity()`` is these stored settings.

    Manual keys (:data:`MANUAL_KEYS`) are ignored.

    Raises
    ------
    ConfigurationError
        Settings this lipsym does not write (another version's?).
    """
    base = {k: v for k, v in settings.items() if k not in MANUAL_KEYS}
    try:
        ipd, mm_per_px = base["ipd_mm"], base["mm_per_px"]
        calibration = None
        if ipd is not None or mm_per_px is not None:
            calibration = Calibration(interpupillary_distance_mm=ipd, mm_per_px=mm_per_px,
                                      relative_uncertainty=base["calibration_uncertainty"])
        options = AnalysisOptions(mirrored=base["mirrored"], iris_diameter_mm=base["iris_mm"],
                                  calibration=calibration, allow_multiple_faces=not base["single_face"],
                                  refine=base["refine"], allow_different_person=True,
                                  landmarker=LandmarkerOptions(flip_average=base["flip_average"]))
    except (KeyError, TypeError):
        options = None
    if options is None or options.identity() != base:
        raise ConfigurationError("the stored analysis settings are not ones this lipsym writes; "
                                 "analyse the visit again before correcting it")
    return options


@dataclass(frozen=True, eq=False)
class StoredAnalyses:
    """A stored analysis with its :class:`PhotoAnalysis` objects, for correcting it.

    Attributes
    ----------
    analysis : Analysis
        The stored analysis loaded (automatic or manual).
    automatic : Analysis
        The automatic analysis it is (based on).
    rest, smile : PhotoAnalysis or None
        The analysis's photos, corrected when ``analysis`` is manual (their
        ``automatic`` attribute is then the automatic PhotoAnalysis).
    latest_manual_id : int or None
        The latest manual analysis of these photos when loaded: pass it as
        ``expected_latest_id`` to :func:`save_corrections`.
    options : AnalysisOptions
        From the stored settings.
    """

    analysis: Analysis
    automatic: Analysis
    rest: PhotoAnalysis | None
    smile: PhotoAnalysis | None
    latest_manual_id: int | None
    options: AnalysisOptions

    def photo(self, condition: str) -> PhotoAnalysis:
        """The PhotoAnalysis of a condition (``rest`` or ``smile``).

        Raises
        ------
        CorrectionError
            This analysis has no photo of that condition.
        """
        found = self.photo_or_none(condition)
        if found is None:
            raise CorrectionError(f"analysis {self.analysis.id} has no {condition} photo "
                                  f"(it has: {', '.join(c for c in SLOTS if self._has(c))})")
        return found

    def photo_or_none(self, condition: str) -> PhotoAnalysis | None:
        """The PhotoAnalysis of a condition, or None when the analysis has no such photo."""
        return self.rest if condition == "rest" else self.smile if condition == "smile" else None

    def _has(self, condition: str) -> bool:
        return self.photo_or_none(condition) is not None

    @property
    def corrections(self) -> dict[str, Corrections]:
        """Condition → the moves currently applied (empty Corrections for an automatic analysis)."""
        out = {}
        for c in SLOTS:
            a = self.rest if c == "rest" else self.smile
            if a is not None:
                out[c] = Corrections(tuple(PointMove(m.name, *m.to_px) for m in a.corrections))
        return out


def _job(store: Store, analysis: Analysis) -> AnalysisJob:
    rest = None if analysis.rest_photo_id is None else store.get_photo(analysis.rest_photo_id)
    smile = None if analysis.smile_photo_id is None else store.get_photo(analysis.smile_photo_id)
    return AnalysisJob(analysis.visit_id, rest, smile)


def _landmarker_for(options: AnalysisOptions, landmarker: Landmarker | None) -> Landmarker:
    if landmarker is not None:
        return landmarker
    from lipsym.landmarks._default import default_landmarker

    if options.landmarker == LandmarkerOptions():
        return default_landmarker()
    return Landmarker(options.landmarker)


def _check_reproduced(store: Store, automatic: Analysis, result: ItemResult) -> None:
    stored = {(m.name, m.condition): m.value for m in store.get_measures(automatic)}
    again = {(m.name, m.condition): m.value for m in result.specs()}
    worst = max((abs(stored[k] - again[k]) for k in stored.keys() & again.keys()), default=0.0)
    if stored.keys() != again.keys() or worst > REPRODUCE_TOLERANCE or result.model_sha256 != automatic.model_sha256:
        raise ConflictError(
            f"analysis {automatic.id} was made by lipsym {automatic.lipsym_version} and cannot be reproduced "
            f"here (measures differ by up to {worst:.3g}"
            f"{'; another landmark model' if result.model_sha256 != automatic.model_sha256 else ''}); "
            "analyse the visit again before correcting it")


def load_stored_analyses(store: Store, analysis: Analysis | int, *,
                         landmarker: Landmarker | None = None) -> StoredAnalyses:
    """The PhotoAnalysis objects behind a stored analysis (see the module docstring).

    Parameters
    ----------
    store : Store
    analysis : Analysis or int
        Automatic or manual.
    landmarker : Landmarker, optional
        Built from the stored settings' landmarker options; default the
        process's shared one (:func:`lipsym.landmarks.default_landmarker`)
        when they are the defaults.

    Returns
    -------
    StoredAnalyses

    Raises
    ------
    NotFoundError
        Unknown analysis.
    PhotoNotFoundError, ConflictError
        A photo is missing or changed since it was recorded; the analysis
        cannot be reproduced (another lipsym or model).
    PhotoError, FaceError, MeasurementError
        The photo could not be analysed again.
    """
    record = store.get_analysis(analysis if isinstance(analysis, int) else analysis.id)
    manual = manual_correction(record)
    automatic = record if manual is None else store.get_analysis(manual.based_on)
    options = analysis_options(automatic.settings)
    lm = _landmarker_for(options, landmarker)
    job = _job(store, automatic)
    VisitAnalyzer(lm, options).check_photos(store, job)
    result = analyze_item(job.item, lm, options)
    result.raise_error()
    _check_reproduced(store, automatic, result)
    photos = dict(zip(SLOTS if job.rest and job.smile else ("rest" if job.rest else "smile",), result.analyses))
    if manual is not None:
        photos = {c: apply_corrections(a, manual.corrections.get(c, Corrections())) for c, a in photos.items()}
    latest = latest_manual(store, automatic)
    return StoredAnalyses(record, automatic, photos.get("rest"), photos.get("smile"),
                          None if latest is None else latest.id, options)


# --- saving ------------------------------------------------------------------------


def corrected_result(loaded: StoredAnalyses, corrections: Mapping[str, Corrections],
                     settings: Mapping[str, Any] | None = None) -> ItemResult:
    """The measures and documents of a stored analysis with these moves (no store access).

    Parameters
    ----------
    loaded : StoredAnalyses
    corrections : mapping of str to Corrections
        Condition → the COMPLETE moves of that photo (relative to its
        automatic analysis); a condition left out has no moves.
    settings : mapping, optional
        Recorded in the document (default: the automatic analysis's).

    Raises
    ------
    CorrectionError
        A condition the analysis has no photo of, or a bad move.
    """
    for condition in corrections:
        loaded.photo(condition)
    analyses = {}
    for condition in SLOTS:
        a = loaded.rest if condition == "rest" else loaded.smile
        if a is not None:
            base = a.automatic if a.automatic is not None else a
            analyses[condition] = apply_corrections(base, corrections.get(condition, Corrections()))
    job_item = _job_item(analyses)
    if len(analyses) == 2:
        pair = measure_pair(analyses["rest"], analyses["smile"])
        measures = (pair.rest, pair.smile)
    else:
        pair, measures = None, (measure_photo(next(iter(analyses.values()))),)
    return ItemResult(item=job_item, analyses=tuple(analyses.values()), decoded=(), measures=measures, pair=pair,
                      model_sha256=loaded.automatic.model_sha256,
                      settings=dict(settings if settings is not None else loaded.automatic.settings))


def _job_item(analyses: Mapping[str, PhotoAnalysis]):
    from lipsym.pipeline._item import ItemSpec

    if len(analyses) == 2:
        return ItemSpec.pair(analyses["rest"].path, analyses["smile"].path)
    (a,) = analyses.values()
    return ItemSpec.photo(a.path, a.expression)


def save_corrections(store: Store, loaded: StoredAnalyses, corrections: Mapping[str, Corrections], *,
                     expected_latest_id: int | None) -> Analysis:
    """Record a new manual analysis: the automatic one with these moves.

    Parameters
    ----------
    store : Store
    loaded : StoredAnalyses
        From :func:`load_stored_analyses` (of the automatic analysis or of
        any manual analysis based on it).
    corrections : mapping of str to Corrections
        Condition (``rest``, ``smile``) → the COMPLETE moves of that photo
        (positions relative to nothing: absolute photo px). A condition left
        out keeps the moves it has in ``loaded``.
    expected_latest_id : int or None
        The latest manual analysis of these photos the caller loaded
        (``loaded.latest_manual_id`` when it loaded the latest), None when it
        started from the automatic analysis with no manual one saved.

    Returns
    -------
    Analysis
        The new manual analysis (the automatic one is untouched); saving the
        same moves on top of the same analysis twice returns the first.

    Raises
    ------
    CorrectionConflictError
        Another manual analysis of these photos was saved after
        ``expected_latest_id``; nothing is saved.
    CorrectionError
        A bad move, or a condition without a photo.
    """
    complete = {**loaded.corrections, **dict(corrections)}
    automatic = loaded.automatic
    settings = {**automatic.settings, "provenance": MANUAL, "based_on": automatic.id,
                "supersedes": expected_latest_id,
                "corrections": {c: Corrections.to_dict(m)["moves"] for c, m in complete.items()}}
    result = corrected_result(loaded, complete, settings)
    document, specs = result.document(), result.specs()
    with store.transaction():
        latest = latest_manual(store, automatic)
        latest_id = None if latest is None else latest.id
        if latest is not None and latest_id != expected_latest_id and latest.settings == settings:
            return latest  # the same save again (a retried request): already recorded
        if latest_id != expected_latest_id:
            visit = store.get_visit(automatic.visit_id)
            loaded_text = "the automatic analysis" if expected_latest_id is None else f"analysis #{expected_latest_id}"
            raise CorrectionConflictError(
                f"visit {visit.visit_date.isoformat()} {visit.kind}: another correction of these photos was saved "
                f"(analysis #{latest_id}, {latest.created_at if latest else 'deleted since'}) after the one you "
                f"loaded ({loaded_text}); reload it and apply your moves again")
        existing = store.find_analysis(rest_photo=automatic.rest_photo_id, smile_photo=automatic.smile_photo_id,
                                       settings=settings)
        if existing is not None:
            return existing
        return store.add_analysis(rest_photo=automatic.rest_photo_id, smile_photo=automatic.smile_photo_id,
                                  settings=settings, result=document, measures=specs,
                                  model_sha256=automatic.model_sha256)


# --- a visit named by patient, visit and condition (lipsym correct) -----------------


@dataclass(frozen=True, eq=False)
class CorrectionOutcome:
    """What correcting a stored visit analysis did.

    Attributes
    ----------
    analysis : Analysis
        The manual analysis now standing for the photos.
    manual : ManualCorrection
        Its moves (all of them, the earlier ones included).
    before : StoredAnalyses
        The analysis the moves were applied on top of (the latest manual
        one, else the automatic one).
    result : ItemResult
        The corrected analyses and their measures.
    """

    analysis: Analysis
    manual: ManualCorrection
    before: StoredAnalyses
    result: ItemResult


def visit_analysis(store: Store, patient: str, visit_ref: str, condition: str,
                   analysis_id: int | None = None) -> Analysis:
    """The stored analysis standing for a visit's ``condition`` photo (latest manual, else latest).

    Parameters
    ----------
    patient, visit_ref : str
        As ``lipsym track`` / ``compare`` name them (:meth:`Timeline.find`).
    condition : {"rest", "smile"}
    analysis_id : int, optional
        A specific analysis of that visit instead (a replicate photo's).

    Raises
    ------
    NotFoundError, ConfigurationError, CorrectionError
    """
    from lipsym.visits._timeline import load_timeline

    if condition not in SLOTS:
        raise CorrectionError(f"condition must be rest or smile, got {condition!r}")
    vm = load_timeline(store, patient).find(visit_ref)
    if analysis_id is not None:
        record = store.get_analysis(analysis_id)
        if record.visit_id != vm.visit.id:
            raise CorrectionError(f"analysis {analysis_id} is not of {patient}'s visit {vm.label}")
        return record
    if condition not in vm.analysis_ids:
        raise CorrectionError(f"{patient}: visit {vm.label} has no analysed {condition} photo")
    return store.get_analysis(vm.analysis_ids[condition])


def load_visit_analyses(store: Store, patient: str, visit_ref: str, condition: str, *,
                        analysis_id: int | None = None, landmarker: Landmarker | None = None) -> StoredAnalyses:
    """:func:`load_stored_analyses` of the latest analysis of a visit's ``condition`` photo.

    The latest manual analysis of its photos when there is one, so that
    ``correctable_points(loaded.photo(condition))`` shows where the points
    stand now (``lipsym correct --list``).
    """
    record = visit_analysis(store, patient, visit_ref, condition, analysis_id)
    latest = latest_manual(store, record)
    loaded = load_stored_analyses(store, latest or record, landmarker=landmarker)
    loaded.photo(condition)
    return loaded


def correct_visit(store: Store, patient: str, visit_ref: str, condition: str, corrections: Corrections, *,
                  analysis_id: int | None = None, landmarker: Landmarker | None = None) -> CorrectionOutcome:
    """Apply moves to a visit's stored analysis and record the corrected analysis.

    The moves are added to those of the latest manual analysis of the
    photos (a later move of a point replaces an earlier one); the other
    photo of a pair keeps its moves. The automatic analysis is untouched.

    Parameters
    ----------
    store : Store
    patient, visit_ref, condition, analysis_id
        As :func:`visit_analysis`.
    corrections : Corrections
        Moves of the ``condition`` photo.
    landmarker : Landmarker, optional

    Returns
    -------
    CorrectionOutcome

    Raises
    ------
    CorrectionError
        Unknown point, a point outside the photo, no such photo.
    CorrectionConflictError
        Another correction of these photos was saved meanwhile (retry).
    NotFoundError, ConflictError, PhotoError, FaceError
        As :func:`load_stored_analyses`.
    """
    loaded = load_visit_analyses(store, patient, visit_ref, condition, analysis_id=analysis_id,
                                 landmarker=landmarker)
    merged = loaded.corrections[condition].merged(corrections)
    record = save_corrections(store, loaded, {condition: merged}, expected_latest_id=loaded.latest_manual_id)
    manual = manual_correction(record)
    complete = {**loaded.corrections, condition: merged}
    return CorrectionOutcome(record, manual, loaded, corrected_result(loaded, complete, record.settings))


# --- drawing a visit with its corrections (report, compare -o) ---------------------


def drawn_correction(store: Store, analysis_ids: Mapping[str, int]) -> ManualCorrection | None:
    """The manual correction of the analysis a visit's photos are drawn from, if it is manual.

    ``analysis_ids``: :attr:`lipsym.visits.VisitMeasures.analysis_ids`; the
    rest photo's analysis is drawn (as
    :func:`lipsym.visits._documents.recorded_photo_paths` chooses it).
    """
    analysis_id = analysis_ids.get("rest") or analysis_ids.get("smile")
    return None if analysis_id is None else manual_correction(store.get_analysis(analysis_id))


def corrected_report_visit(visit, manual: ManualCorrection | None):
    """A :class:`lipsym.report.ReportVisit` with a manual analysis's moves applied and measured again.

    The recorded photos are analysed again to draw them; this puts the
    points where the clinician moved them, so that figures and the detail
    pages show the corrected analysis the numbers come from.
    """
    if manual is None:
        return visit
    from lipsym.report._photos import ReportVisit, photo_from_analysis, visit_from_analyses

    rest = apply_corrections(visit.rest.analysis, manual.corrections.get("rest", Corrections()))
    if visit.smile is None:
        return ReportVisit(photo_from_analysis(visit.rest.rgb, rest, visit.rest.label))
    smile = apply_corrections(visit.smile.analysis, manual.corrections.get("smile", Corrections()))
    return visit_from_analyses(visit.rest.rgb, rest, visit.smile.rgb, smile, rest_label=visit.rest.label,
                               smile_label=visit.smile.label)
