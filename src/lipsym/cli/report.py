"""``lipsym report``: a visit report (HTML, PDF and PNG figures) in a directory.

Two forms: ``lipsym report PATIENT [--visit last|DATE] [--course] [--clinic NAME] -o DIR``
reports a recorded visit from the visit store
(:func:`lipsym.visits._record_report.record_report`); ``lipsym report --rest R
[--smile S] [--before-rest R0 ...] -o DIR`` reports photo files. Progress is
printed on stderr while the report builds.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from lipsym.errors import ConfigurationError, ConflictError
from lipsym.landmarks._detector import Landmarker
from lipsym.report import ReportHeader, build_report, load_visit, write_report
from lipsym.report._visit_report import HTML_NAME, PDF_NAME
from lipsym.cli.common import add_analysis_options, analysis_options
from lipsym.cli.store_common import add_db_option, open_store


def register(sub) -> None:
    p = sub.add_parser("report", help="visit report: self-contained HTML, PDF and PNG figures",
                       description="Analyse a visit's rest (and smile) photo and write DIR/report.html (opens "
                                   "offline, images embedded), DIR/report.pdf and the figures. With "
                                   "--before-rest (and --before-smile), also the comparison with that earlier visit.")
    # dest differs from --patient (the identifier printed on a report of photo files).
    p.add_argument("record_patient", nargs="?", metavar="PATIENT",
                   help="visit store: report a recorded visit of this patient (instead of --rest photos)")
    p.add_argument("--visit", default="last", metavar="VISIT",
                   help="visit store: the visit to report (last, a date, DATE:KIND or an id; default %(default)s)")
    p.add_argument("--course", action="store_true",
                   help="visit store: add every visit, the track plot and the treatment history")
    p.add_argument("--clinic", default="", metavar="NAME", help="clinic name printed on the report")
    p.add_argument("--rest", metavar="R", help="rest photo of this visit")
    p.add_argument("--smile", metavar="S", help="smile photo of this visit")
    p.add_argument("--before-rest", metavar="R0", help="rest photo of a previous visit to compare with")
    p.add_argument("--before-smile", metavar="S0", help="smile photo of that previous visit")
    p.add_argument("-o", "--output", required=True, metavar="DIR", help="directory to write the report into")
    g = p.add_argument_group("identifiers (printed as given)")
    g.add_argument("--patient", default="", help="patient identifier")
    g.add_argument("--visit-date", default="", help="date of this visit")
    g.add_argument("--before-date", default="", help="date of the previous visit")
    g.add_argument("--note", default="", help="free text printed in the report")
    g.add_argument("--photo-credit", default="", help="attribution printed under the photos (where a licence asks)")
    p.add_argument("--all-landmarks", action="store_true", help="also draw the 478 landmarks on the full-face views")
    p.add_argument("--force", action="store_true", help="overwrite existing report files")
    add_db_option(p)
    add_analysis_options(p)
    p.set_defaults(run=run)


def _progress():
    start = time.monotonic()

    def say(message: str) -> None:
        print(f"report: {message} ({time.monotonic() - start:.0f} s)", file=sys.stderr, flush=True)
    return say


def run(args) -> int:
    if args.record_patient and (args.rest or args.smile or args.before_rest or args.before_smile):
        raise ConfigurationError("give either PATIENT (a recorded visit) or --rest/--smile photos, not both")
    if not args.record_patient and not args.rest:
        raise ConfigurationError("nothing to report: give PATIENT (visit store) or --rest R [--smile S]")
    if args.before_smile and not args.before_rest:
        raise ConfigurationError("--before-smile needs --before-rest")
    if args.before_smile and not args.smile:
        raise ConfigurationError("--before-smile is compared with this visit's smile: give --smile too")
    if Path(args.output).exists() and not Path(args.output).is_dir():
        raise ConfigurationError(f"{args.output} exists and is not a directory: give the directory to write into")
    for name in (HTML_NAME, PDF_NAME):  # fail before the slow part; write_report checks every file
        if (Path(args.output) / name).exists() and not args.force:
            raise ConflictError(f"{Path(args.output) / name} exists; not overwriting the report (use --force to "
                                f"replace it)")
    options = analysis_options(args)
    progress = _progress()
    if args.record_patient:
        from lipsym.visits._record_report import record_report

        with open_store(args) as store, Landmarker(options.landmarker) as landmarker:
            report = record_report(store, args.record_patient, visit=args.visit, course=args.course,
                                   clinic=args.clinic, landmarker=landmarker, options=options, progress=progress)
        return _write(args, report)
    with Landmarker(options.landmarker) as landmarker:
        progress("analysing the photos")
        visit = load_visit(args.rest, args.smile, landmarker, options=options)
        previous = None
        if args.before_rest:
            previous = load_visit(args.before_rest, args.before_smile, landmarker, options=options)
    header = ReportHeader(patient=args.patient, visit_date=args.visit_date, previous_visit_date=args.before_date,
                          note=args.note, photo_credit=args.photo_credit, clinic=args.clinic)
    return _write(args, build_report(visit, header, previous, all_landmarks=args.all_landmarks, progress=progress))


def _write(args, report) -> int:
    write_report(report, args.output, overwrite=args.force)
    print(f"wrote {args.output}/{HTML_NAME}, {args.output}/{PDF_NAME} and {len(report.figures)} figures",
          file=sys.stderr)
    return 0
