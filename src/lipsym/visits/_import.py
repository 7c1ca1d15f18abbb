"""Import a folder of visit photos (or a manifest) into the visit-record store.

Discovery (which photos, which patient, date and expression) is
:mod:`lipsym.io`'s, shared with ``lipsym batch``; this module adds
the visit kinds and writes the store.

Idempotent: photos are recognised by content hash, visits by patient, date
and kind, analyses by photos and settings, so importing twice adds nothing
and an interrupted import resumes when run again. Several imports may run
at once on one store (each patient's visits are created in one write
transaction, photos and analyses in their own).

Visit kinds: a kind given in the manifest wins; else a date on which the
patient already has exactly one visit reuses it; else the patient's first
date (in the store and in the import) is the ``baseline`` and later dates
are ``follow-up`` visits.
"""

from __future__ import annotations

import csv
import datetime as _dt
import multiprocessing
import os
import signal
import threading
import time
from contextlib import nullcontext
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from pathlib import Path

from lipsym.analysis._options import AnalysisOptions
from lipsym.io._collection import Collection, Item, discover, manifest_delimiter
from lipsym.landmarks._detector import Landmarker
from lipsym.pipeline._analyze import analyze_item
from lipsym.pipeline._item import ItemSpec
from lipsym.pipeline._result import ItemResult
from lipsym.errors import ConflictError, LipsymError
from lipsym.visits.store import Store, Visit
from lipsym.visits.store import _validate as validate
from lipsym.visits._analyzer import AnalysisJob, VisitAnalyzer, visit_jobs

#: Optional manifest column giving the visit kind (baseline, treatment, follow-up, maintenance).
KIND_COLUMN = "kind"


@dataclass(frozen=True)
class ImportReport:
    """What an import did.

    Attributes
    ----------
    patients_added, visits_added, photos_added : int
    photos_known : int
        Photos already recorded (same content, same visit).
    analyses_added : int
    analyses_pending : int
        Analyses not run (``analyze=False``, or they failed).
    failures : tuple of (str, str)
        ``(file, one-line reason)`` of each photo that could not be
        recorded or analysed; the rest was imported.
    """

    patients_added: int = 0
    visits_added: int = 0
    photos_added: int = 0
    photos_known: int = 0
    analyses_added: int = 0
    analyses_pending: int = 0
    failures: tuple[tuple[str, str], ...] = field(default=())


@dataclass
class _Failures:
    """Collects ``(file, reason)`` failures, passing each on as it happens."""

    on_failure: Callable[[str, str], None] | None
    seen: list[tuple[str, str]] = field(default_factory=list)

    def __call__(self, what: str, reason: str) -> None:
        self.seen.append((what, reason))
        if self.on_failure is not None:
            self.on_failure(what, reason)


def manifest_kinds(manifest: str | os.PathLike) -> dict[tuple[str, _dt.date], str]:
    """The visit kinds a manifest's optional ``kind`` column gives.

    Only that column is read here; everything else about the manifest is
    :func:`lipsym.io.read_manifest`'s.

    Returns
    -------
    dict of (str, date) to str
        ``(patient identifier casefolded, date)`` → canonical kind; empty
        when the column is absent.

    Raises
    ------
    ConfigurationError
        An unknown kind, or two kinds for one visit.
    """
    path = Path(manifest)
    with open(path, encoding="utf-8-sig", newline="") as stream:
        delimiter = manifest_delimiter(stream.readline())
        stream.seek(0)
        reader = csv.DictReader(stream, delimiter=delimiter)
        fields = {(f or "").strip().lower(): f for f in reader.fieldnames or ()}
        if KIND_COLUMN not in fields:
            return {}
        kinds: dict[tuple[str, _dt.date], str] = {}
        for line, row in enumerate(reader, start=2):
            text = (row.get(fields[KIND_COLUMN]) or "").strip()
            patient = (row.get(fields.get("patient", "")) or "").strip()
            date_text = (row.get(fields.get("date", "")) or "").strip()
            if not text or not patient or not date_text:
                continue
            try:
                key = (patient.casefold(), _dt.date.fromisoformat(date_text))
            except ValueError:
                continue  # the collection reports the bad date for this row
            kind = validate.visit_kind(text)
            if kinds.setdefault(key, kind) != kind:
                raise ConflictError(f"{path}:{line}: visit {patient} {date_text} is given two kinds "
                                    f"({kinds[key]}, {kind})")
    return kinds


def assign_kinds(patient: str, dates: Iterable[_dt.date], given: Mapping[_dt.date, str],
                 existing: Sequence[Visit]) -> dict[_dt.date, str]:
    """Visit kind of each date of ONE patient's import (see module docstring).

    Parameters
    ----------
    patient : str
        For messages.
    dates : iterable of date
        The dates imported.
    given : mapping of date to str
        Kinds stated by the manifest.
    existing : sequence of Visit
        The patient's visits already in the store.

    Returns
    -------
    dict of date to str

    Raises
    ------
    ConflictError
        A date without a given kind has several visits in the store.
    """
    dates = sorted(set(dates))
    first_stored = min((v.visit_date for v in existing), default=None)
    kinds = {}
    for day in dates:
        if day in given:
            kinds[day] = given[day]
            continue
        same_day = [v for v in existing if v.visit_date == day]
        if len(same_day) > 1:
            raise ConflictError(f"patient {patient!r} has {len(same_day)} visits on {day}; "
                                "give the visit kind in a manifest 'kind' column")
        if same_day:
            kinds[day] = same_day[0].kind
        elif day == dates[0] and (first_stored is None or day < first_stored):
            kinds[day] = "baseline"
        else:
            kinds[day] = "follow-up"
    return kinds


def _by_patient(items: Iterable[Item]) -> dict[str, list[Item]]:
    groups: dict[str, list[Item]] = {}
    for item in items:
        groups.setdefault(item.patient.casefold(), []).append(item)
    return groups


def import_path(store: Store, source: str | os.PathLike, *, analyzer: VisitAnalyzer | None = None,
                on_failure: Callable[[str, str], None] | None = None, jobs: int = 1,
                on_progress: Callable[[int, int, bool], None] | None = None) -> ImportReport:
    """Import a folder (``PATIENT/YYYY-MM-DD/rest.jpg``, ``smile.jpg``) or a manifest CSV.

    Parameters
    ----------
    store : Store
    source : path-like
        Folder or ``.csv`` manifest (see :mod:`lipsym.io`).
    analyzer : VisitAnalyzer, optional
        Analyse what was imported; None records the photos only.
    on_failure : callable, optional
        Called with ``(file, reason)`` as each failure happens.
    jobs, on_progress
        As for :func:`import_collection`.

    Raises
    ------
    CollectionError
        The source cannot be read; nothing is imported.
    """
    collection, kinds = read_source(source)
    return import_collection(store, collection, kinds=kinds, analyzer=analyzer, on_failure=on_failure, jobs=jobs,
                             on_progress=on_progress)


def read_source(source: str | os.PathLike) -> tuple[Collection, dict[tuple[str, _dt.date], str]]:
    """Discover a folder or manifest, and the manifest's visit kinds (before touching the store).

    Raises
    ------
    CollectionError, ConfigurationError
        The source cannot be read, or its kinds are invalid.
    """
    collection = discover(source)
    return collection, (manifest_kinds(source) if Path(source).is_file() else {})


def import_collection(store: Store, collection: Collection, *,
                      kinds: Mapping[tuple[str, _dt.date], str] | None = None,
                      analyzer: VisitAnalyzer | None = None,
                      on_failure: Callable[[str, str], None] | None = None, jobs: int = 1,
                      on_progress: Callable[[int, int, bool], None] | None = None) -> ImportReport:
    """Record patients, visits and photos of a collection and (with an analyzer) analyse them.

    Parameters
    ----------
    store : Store
    collection : Collection
        Items without a patient and date cannot be filed under a visit:
        they are reported as failures.
    kinds : mapping, optional
        ``(patient casefolded, date)`` → visit kind, as from
        :func:`manifest_kinds`.
    analyzer : VisitAnalyzer, optional
    on_failure : callable, optional
    jobs : int
        Analyse in this many worker processes (each builds its own
        landmarker from ``analyzer.options``; ``analyzer.landmarker`` is then
        unused and may be None). The store is written by this process only.
    on_progress : callable, optional
        Called with ``(done, total, ok)`` after each analysis.

    Returns
    -------
    ImportReport
    """
    kinds = kinds or {}
    counts = dict(patients_added=0, visits_added=0, photos_added=0, photos_known=0)
    fail = _Failures(on_failure)
    for problem in collection.problems:
        fail(problem.file, problem.reason)
    filed = []
    for item in collection.items:
        if item.patient is None or item.visit_date is None:
            for _, path in item.photos:
                fail(str(path), f"{path}: not in a PATIENT/YYYY-MM-DD folder (or manifest row); not imported")
        else:
            filed.append(item)
    touched: dict[int, Visit] = {}
    for group in _by_patient(filed).values():
        name = group[0].patient
        try:
            with store.transaction():
                # Decided under the write lock: two imports of one patient at
                # once see each other's visits and agree on the kinds.
                is_new = not any(p.identifier.casefold() == name.casefold() for p in store.list_patients())
                patient = store.get_or_create_patient(name)
                given = {day: kind for (who, day), kind in kinds.items() if who == name.casefold()}
                plan = assign_kinds(name, (i.visit_date for i in group), given, store.list_visits(patient))
                visits, new_visits = {}, 0
                for day, kind in plan.items():
                    new_visits += store.find_visit(patient, day, kind) is None
                    visits[day] = store.get_or_create_visit(patient, day, kind)
        except LipsymError as error:
            fail(f"patient {name}", _naming(f"patient {name}", str(error)))
            continue
        # Counted once committed: a commit that fails (disk full) added nothing.
        counts["visits_added"] += new_visits
        counts["patients_added"] += is_new
        for item in group:
            visit = visits[item.visit_date]
            touched[visit.id] = visit
            for expression, path in item.photos:
                try:
                    # One write transaction: another import adding the same
                    # photo at the same moment cannot make both count it.
                    with store.transaction():
                        had = {p.id for p in store.list_photos(visit)}
                        photo = store.add_photo(visit, path, expression)
                except LipsymError as error:
                    fail(str(path), _naming(str(path), str(error)))
                    continue
                counts["photos_known" if photo.id in had else "photos_added"] += 1
    if analyzer is None:
        added, pending = 0, sum(len(_unanalysed(store, v)) for v in touched.values())
    else:
        added, pending = _run_pending(store, analyzer, touched.values(), fail, jobs, on_progress)
    return ImportReport(**counts, analyses_added=added, analyses_pending=pending, failures=tuple(fail.seen))


def _naming(what: str, reason: str) -> str:
    """``reason``, prefixed with ``what`` unless it names it already (e.g. 'database or disk is full')."""
    return reason if what in reason else f"{what}: {reason}"


def _unanalysed(store: Store, visit: Visit) -> list[AnalysisJob]:
    # Without settings we cannot tell which analyses are current; a job
    # whose photos have no analysis at all is pending.
    analysed = {(a.rest_photo_id, a.smile_photo_id) for a in store.list_analyses(visit)}
    return [j for j in visit_jobs(store.list_photos(visit))
            if (j.rest and j.rest.id, j.smile and j.smile.id) not in analysed]


def _run_pending(store: Store, analyzer: VisitAnalyzer, visits: Iterable[Visit],
                 fail: Callable[[str, str], None], jobs: int = 1,
                 on_progress: Callable[[int, int, bool], None] | None = None) -> tuple[int, int]:
    """Run the visits' pending analyses; return (added, failed).

    The photos are checked and the results stored here, in this process
    (one SQLite writer); with ``jobs > 1`` the analyses run in worker
    processes (:func:`_analyses`).
    """
    todo, added, failed = [], 0, 0
    for visit in visits:
        for job in analyzer.pending(store, visit):
            try:
                analyzer.check_photos(store, job)
            except LipsymError as error:
                failed += 1
                fail(job.label, _naming(job.label, str(error)))
                continue
            todo.append(job)
    for done, (index, outcome) in enumerate(_analyses(analyzer, [j.item for j in todo], jobs), start=1):
        job = todo[index]
        try:
            if isinstance(outcome, LipsymError):
                raise outcome
            _, created = analyzer.record(store, job, *outcome)
            added += created
        except LipsymError as error:
            failed += 1
            fail(job.label, _naming(job.label, str(error)))
        if on_progress is not None:
            on_progress(done, len(todo), not isinstance(outcome, LipsymError))
    return added, failed


#: What an analysis gives the parent: ``(document, measure specs, model sha256)``, or the error.
_Outcome = tuple[dict, list, str | None] | LipsymError


def _outcome(result: ItemResult) -> _Outcome:
    # An ItemResult does not pickle; these parts are all the store needs.
    return result.errors[0].error if result.errors else (result.document(), result.specs(), result.model_sha256)


def _analyses(analyzer: VisitAnalyzer, items: Sequence[ItemSpec], jobs: int) -> Iterator[tuple[int, _Outcome]]:
    """``(index, outcome)`` of each item, in completion order.

    ``jobs > 1`` starts that many ``spawn`` worker processes (MediaPipe is
    not fork-safe), each with one landmarker of its own; the analyzer's
    landmarker is then not used (with a single item, or without a landmarker
    and one job, one is built here). A worker that dies (killed, out of memory)
    fails the items it had: they stay pending for ``lipsym analyze-pending``.
    """
    if jobs <= 1 or len(items) <= 1:  # one item is not worth a worker's start-up (~2 s)
        with (nullcontext(analyzer.landmarker) if analyzer.landmarker is not None
              else Landmarker(analyzer.options.landmarker)) as landmarker:
            for index, item in enumerate(items):
                yield index, _outcome(analyze_item(item, landmarker, analyzer.options))
        return
    context = multiprocessing.get_context("spawn")
    pool = ProcessPoolExecutor(max_workers=min(jobs, len(items)), mp_context=context,
                               initializer=_start_worker, initargs=(analyzer.options,))
    try:
        futures = {pool.submit(_analyze_in_worker, item): index for index, item in enumerate(items)}
        for future in as_completed(futures):
            index = futures[future]
            try:
                yield index, future.result()
            except BrokenProcessPool:
                yield index, WorkerDiedError(f"{items[index].label}: the analysis worker died; "
                                             "run lipsym analyze-pending to retry")
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


class WorkerDiedError(LipsymError):
    """An analysis worker process died (killed, out of memory) before returning its result."""


#: The worker process's landmarker, or the error that kept it from being built.
_WORKER: dict[str, object] = {}


def _start_worker(options: AnalysisOptions) -> None:
    # Ctrl-C is the parent's to handle; a worker killed by it would break the pool.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # A pool worker blocks on its task queue, whose write end it holds too, so
    # a parent killed outright (SIGKILL, OOM) never wakes it: it would idle
    # forever holding its landmarker. Leave when the parent does.
    threading.Thread(target=_exit_with_parent, args=(os.getppid(),), daemon=True).start()
    try:
        _WORKER["landmarker"] = Landmarker(options.landmarker)
    except LipsymError as error:  # raised in the parent by the first item (e.g. ModelError, exit 5)
        _WORKER["error"] = error
    _WORKER["options"] = options


def _exit_with_parent(parent_pid: int, every_s: float = 0.5) -> None:
    while os.getppid() == parent_pid:
        time.sleep(every_s)
    os._exit(1)


def _analyze_in_worker(item: ItemSpec) -> _Outcome:
    if "error" in _WORKER:
        raise _WORKER["error"]
    return _outcome(analyze_item(item, _WORKER["landmarker"], _WORKER["options"]))


def analyze_pending(store: Store, analyzer: VisitAnalyzer, patients: Sequence[str] = (),
                    on_failure: Callable[[str, str], None] | None = None, jobs: int = 1,
                    on_progress: Callable[[int, int, bool], None] | None = None) -> ImportReport:
    """Analyse every recorded photo that has no analysis under the analyzer's settings.

    Parameters
    ----------
    store : Store
    analyzer : VisitAnalyzer
    patients : sequence of str, optional
        Only these patients (default: all).
    on_failure : callable, optional
        Called with ``(file, reason)`` as each failure happens.
    jobs, on_progress
        As for :func:`import_collection`.
    """
    chosen = [store.get_patient(p) for p in patients] or store.list_patients()
    fail = _Failures(on_failure)
    visits = [v for p in chosen for v in store.list_visits(p)]
    added, pending = _run_pending(store, analyzer, visits, fail, jobs, on_progress)
    return ImportReport(analyses_added=added, analyses_pending=pending, failures=tuple(fail.seen))
