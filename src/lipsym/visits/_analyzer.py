"""Analyse the photos recorded for a visit and store the results.

Every rest and every smile photo of a visit is analysed. Replicates (the
capture protocol's several photos per expression, docs/visit-record.md)
are paired in the order they were recorded: the i-th rest photo with the
i-th smile photo (rest, smile and dynamic measures, the smile measured on
its rest photo's scale), so each replicate pair also gives a dynamic
replicate; photos left over when the counts differ are analysed alone.
With one rest and one smile this is the single pair it always was.
``other`` photos are recorded but not measured.
An analysis is identified by its photos and settings, so work already in
the store is skipped: re-running after an interruption resumes where it
stopped, and two processes on one store do each analysis once (a race
loses gracefully to the analysis the other process stored, and only the
process that inserted a row counts it).

Before a photo is analysed its file is hashed again: a photo moved or
modified since it was recorded is refused with a one-line reason, never
measured under the old record.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from lipsym.analysis._options import AnalysisOptions
from lipsym.errors import ConflictError, PhotoNotFoundError
from lipsym.landmarks._detector import Landmarker
from lipsym.pipeline._analyze import analyze_item
from lipsym.pipeline._item import ItemSpec
from lipsym.visits.store import Analysis, Photo, Store, Visit


@dataclass(frozen=True)
class AnalysisJob:
    """One analysis a visit needs: a rest/smile pair or a single photo.

    Attributes
    ----------
    visit_id : int
    rest, smile : Photo or None
        At least one is set.
    """

    visit_id: int
    rest: Photo | None
    smile: Photo | None

    @property
    def label(self) -> str:
        """The photo path(s), for messages."""
        return self.item.label

    @property
    def item(self) -> ItemSpec:
        """The photos to analyse: the pair, or the one photo with its expression."""
        if self.rest is not None and self.smile is not None:
            return ItemSpec.pair(self.rest.path, self.smile.path)
        photo = self.rest or self.smile
        return ItemSpec.photo(photo.path, photo.expression)


def visit_jobs(photos: list[Photo]) -> list[AnalysisJob]:
    """The analyses a visit's photos call for (see module docstring).

    Parameters
    ----------
    photos : list of Photo
        The visit's photos, in the order they were recorded.
    """
    rests = [p for p in photos if p.expression == "rest"]
    smiles = [p for p in photos if p.expression == "smile"]
    paired = min(len(rests), len(smiles))
    jobs = [AnalysisJob(r.visit_id, r, s) for r, s in zip(rests[:paired], smiles[:paired])]
    jobs += [AnalysisJob(p.visit_id, p, None) for p in rests[paired:]]
    jobs += [AnalysisJob(p.visit_id, None, p) for p in smiles[paired:]]
    return jobs


@dataclass(frozen=True)
class VisitAnalyzer:
    """Runs and stores the analyses of visits with one landmarker and one set of options.

    Attributes
    ----------
    landmarker : Landmarker
        Built from ``options.landmarker``.
    options : AnalysisOptions
        With the photos, ``options.identity()`` identifies an analysis in the store.
    """

    landmarker: Landmarker
    options: AnalysisOptions

    @property
    def settings(self) -> dict[str, Any]:
        """The settings analyses are stored and looked up under (``options.identity()``)."""
        return self.options.identity()

    def pending(self, store: Store, visit: Visit | int) -> list[AnalysisJob]:
        """The visit's analyses not yet in the store under these settings."""
        settings = self.settings
        return [job for job in visit_jobs(store.list_photos(visit))
                if store.find_analysis(rest_photo=job.rest, smile_photo=job.smile, settings=settings) is None]

    def run(self, store: Store, job: AnalysisJob) -> Analysis:
        """Analyse one job's photos and store the result.

        Raises
        ------
        PhotoError, FaceError, MeasurementError
            The photo could not be analysed (nothing is stored).
        ConflictError
            A photo file was modified since it was recorded.
        """
        self.check_photos(store, job)
        result = analyze_item(job.item, self.landmarker, self.options)
        result.raise_error()
        return self.record(store, job, result.document(), result.specs(), result.model_sha256)[0]

    def check_photos(self, store: Store, job: AnalysisJob) -> None:
        """Refuse a job whose photo files are missing or changed since they were recorded.

        Raises
        ------
        PhotoNotFoundError, ConflictError
        """
        for photo in (job.rest, job.smile):
            if photo is not None:
                _require_unchanged(store, photo)

    def record(self, store: Store, job: AnalysisJob, document: dict[str, Any], measures: list,
               model_sha256: str | None) -> tuple[Analysis, bool]:
        """Store a job's successful result, computed here or in a worker process.

        Parameters
        ----------
        document, measures, model_sha256
            ``ItemResult.document()``, ``.specs()`` and ``.model_sha256``
            (picklable, unlike the ItemResult).

        Returns
        -------
        analysis : Analysis
            The stored analysis: this one, or the one another process stored
            first for the same photos and settings (its result stands).
        created : bool
            True only if this call inserted the row. The look-up and the
            insert run in one write transaction (``BEGIN IMMEDIATE``), so of
            two processes recording the same job at once exactly one sees
            ``created``; counters that add it count only rows that exist.
        """
        settings = self.settings
        try:
            with store.transaction():
                before = store.find_analysis(rest_photo=job.rest, smile_photo=job.smile, settings=settings)
                analysis = store.add_analysis(rest_photo=job.rest, smile_photo=job.smile, settings=settings,
                                              result=document, measures=measures, model_sha256=model_sha256)
            return analysis, before is None
        except ConflictError:
            # Another process stored this analysis (with a result that differs
            # in some detail) before us: its result stands, and it is theirs.
            existing = store.find_analysis(rest_photo=job.rest, smile_photo=job.smile, settings=settings)
            if existing is None:
                raise
            return existing, False


def _require_unchanged(store: Store, photo: Photo) -> None:
    status = store.verify_photo(photo)
    if status.state == "missing":
        raise PhotoNotFoundError(f"{photo.path}: recorded photo {photo.id} is missing (moved? see lipsym db verify)")
    if status.state != "ok":
        raise ConflictError(f"{photo.path}: the file changed since it was recorded as photo {photo.id} "
                            "(sha256 differs); not analysing it")
