"""``lipsym import`` and ``lipsym analyze-pending``: photos into the visit record."""

from __future__ import annotations

import sys

from contextlib import contextmanager, nullcontext

from lipsym.batch._progress import Progress
from lipsym.landmarks._detector import Landmarker
from lipsym.visits._analyzer import VisitAnalyzer
from lipsym.visits._documents import import_document
from lipsym.visits._import import ImportReport, analyze_pending, import_collection, read_source
from lipsym.visits._plausibility import patient_code_implausibility, visit_date_implausibility
from lipsym.cli.common import (add_analysis_options, add_force_option, add_worker_options, analysis_options,
                               refuse_implausible, worker_count)
from lipsym.cli.store_common import add_db_option, add_json_option, open_store, print_json


def register(sub) -> None:
    p = sub.add_parser(
        "import", help="record a folder (PATIENT/YYYY-MM-DD/rest.jpg, smile.jpg) or manifest CSV in the visit record",
        description="Import photos into the visit record and analyse them. SOURCE is a folder laid out as "
                    "PATIENT/YYYY-MM-DD/rest.jpg + smile.jpg (replicates: rest1.jpg rest2.jpg ... smile1.jpg ..., "
                    "docs/visit-record.md), or a manifest CSV with columns "
                    "patient,date,expression,path (optional: kind). Importing twice adds nothing; an "
                    "interrupted import resumes when run again.")
    p.add_argument("source", metavar="SOURCE", help="folder or manifest .csv")
    p.add_argument("--no-analyze", action="store_true",
                   help="only record the photos; analyse later with lipsym analyze-pending")
    _common(p)
    add_force_option(p, "accept values outside the plausible ranges (patient codes that look like names, "
                        "future dates, --ipd-mm, --iris-mm)")
    p.set_defaults(run=run_import)
    q = sub.add_parser("analyze-pending", help="analyse recorded photos that have no analysis yet",
                       description="Analyse every recorded photo (the i-th rest paired with the i-th smile of a visit) "
                                   "not yet analysed "
                                   "with these settings.")
    q.add_argument("patients", nargs="*", metavar="PATIENT", help="only these patients (default: all)")
    _common(q)
    add_force_option(q, "accept --ipd-mm/--iris-mm outside the plausible ranges")
    q.set_defaults(run=run_pending)


def _common(p) -> None:
    add_analysis_options(p)
    add_db_option(p)
    add_json_option(p)
    add_worker_options(p, "analyse in N worker processes")


class _Reporter:
    """Failures and progress on stderr; the progress line starts with the first analysis."""

    def __init__(self, quiet: bool):
        self.quiet = quiet
        self.progress: Progress | None = None

    def failure(self, what: str, reason: str) -> None:
        line = f"lipsym: {reason}"
        if self.progress is not None:
            self.progress.message(line)
        else:
            print(line, file=sys.stderr)

    def update(self, done: int, total: int, ok: bool) -> None:
        if self.progress is None:
            self.progress = Progress(total, label="lipsym import", quiet=self.quiet)
        self.progress.update(computed=True, ok=ok)

    def finish(self) -> None:
        if self.progress is not None:
            self.progress.finish()


@contextmanager
def _analyzer(options, jobs: int):
    """The analyzer; with several jobs the workers build the landmarkers, not this process."""
    with (Landmarker(options.landmarker) if jobs == 1 else nullcontext()) as landmarker:
        yield VisitAnalyzer(landmarker, options)


def _check_collection(collection, force: bool) -> None:
    """Refuse patient codes that look like names and future visit dates before anything is recorded."""
    for item in collection.items:
        if item.patient is not None:
            refuse_implausible(patient_code_implausibility(item.patient), item.patient, force)
            if item.visit_date is not None:
                refuse_implausible(visit_date_implausibility(item.visit_date), item.patient, force)


def _report(args, report: ImportReport, *, imported: bool = True) -> int:
    r = report
    if args.json:
        print_json(import_document(r))
    else:
        recorded = (f"patients added {r.patients_added}, visits added {r.visits_added}, photos added "
                    f"{r.photos_added} (already recorded {r.photos_known}), ") if imported else ""
        print(f"{recorded}analyses added {r.analyses_added}, pending {r.analyses_pending}, failures {len(r.failures)}")
    return 1 if r.failures else 0


def run_import(args) -> int:
    # Read the source first: an unreadable folder or manifest creates no database.
    collection, kinds = read_source(args.source)
    _check_collection(collection, args.force)
    options = None if args.no_analyze else analysis_options(args)
    jobs, say = worker_count(args), _Reporter(args.quiet)
    try:
        with open_store(args, create=True) as store:
            if options is None:
                report = import_collection(store, collection, kinds=kinds, on_failure=say.failure)
            else:
                with _analyzer(options, jobs) as analyzer:
                    report = import_collection(store, collection, kinds=kinds, analyzer=analyzer,
                                               on_failure=say.failure, jobs=jobs, on_progress=say.update)
    finally:
        say.finish()
    return _report(args, report)


def run_pending(args) -> int:
    options, jobs, say = analysis_options(args), worker_count(args), _Reporter(args.quiet)
    try:
        with open_store(args) as store, _analyzer(options, jobs) as analyzer:
            report = analyze_pending(store, analyzer, args.patients, on_failure=say.failure, jobs=jobs,
                                     on_progress=say.update)
    finally:
        say.finish()
    return _report(args, report, imported=False)
