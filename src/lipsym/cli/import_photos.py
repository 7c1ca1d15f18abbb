"""``lipsym import`` and ``lipsym analyze-pending``: photos into the visit record."""

from __future__ import annotations

import sys

from lipsym.landmarks._detector import Landmarker
from lipsym.visits._analyzer import VisitAnalyzer
from lipsym.visits._documents import import_document
from lipsym.visits._import import ImportReport, analyze_pending, import_collection, read_source
from lipsym.cli.common import add_analysis_options, analysis_options
from lipsym.cli.store_common import add_db_option, add_json_option, open_store, print_json


def register(sub) -> None:
    p = sub.add_parser(
        "import", help="record a folder (PATIENT/YYYY-MM-DD/rest.jpg, smile.jpg) or manifest CSV in the visit record",
        description="Import photos into the visit record and analyse them. SOURCE is a folder laid out as "
                    "PATIENT/YYYY-MM-DD/rest.jpg + smile.jpg, or a manifest CSV with columns "
                    "patient,date,expression,path (optional: kind). Importing twice adds nothing; an "
                    "interrupted import resumes when run again.")
    p.add_argument("source", metavar="SOURCE", help="folder or manifest .csv")
    p.add_argument("--no-analyze", action="store_true",
                   help="only record the photos; analyse later with lipsym analyze-pending")
    _common(p)
    p.set_defaults(run=run_import)
    q = sub.add_parser("analyze-pending", help="analyse recorded photos that have no analysis yet",
                       description="Analyse every recorded photo (rest/smile pair per visit) not yet analysed "
                                   "with these settings.")
    q.add_argument("patients", nargs="*", metavar="PATIENT", help="only these patients (default: all)")
    _common(q)
    q.set_defaults(run=run_pending)


def _common(p) -> None:
    add_analysis_options(p)
    add_db_option(p)
    add_json_option(p)


def _say(what: str, reason: str) -> None:
    print(f"lipsym: {reason}", file=sys.stderr)


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
    with open_store(args, create=True) as store:
        if args.no_analyze:
            report = import_collection(store, collection, kinds=kinds, on_failure=_say)
        else:
            options = analysis_options(args)
            with Landmarker(options.landmarker) as landmarker:
                report = import_collection(store, collection, kinds=kinds,
                                           analyzer=VisitAnalyzer(landmarker, options), on_failure=_say)
    return _report(args, report)


def run_pending(args) -> int:
    options = analysis_options(args)
    with open_store(args) as store, Landmarker(options.landmarker) as landmarker:
        report = analyze_pending(store, VisitAnalyzer(landmarker, options), args.patients, on_failure=_say)
    return _report(args, report, imported=False)
