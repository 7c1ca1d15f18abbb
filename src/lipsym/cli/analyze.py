"""``lipsym analyze``: photos (and rest/smile pairs) → JSON document, CSV."""

from __future__ import annotations

import sys

from lipsym.analysis._photo import analyze_photo
from lipsym.formats._json import document, error_to_dict, pair_to_dict, photo_to_dict
from lipsym.errors import ConfigurationError, LipsymError
from lipsym.landmarks._detector import Landmarker
from lipsym.measures import measure_pair, measure_photo
from lipsym.io._outputs import write_atomic
from lipsym.formats._csv import error_columns, pair_columns, photo_columns, to_csv
from lipsym.cli.common import add_analysis_options, analysis_options, emit_json, landmarker_options, settings_of


def register(sub) -> None:
    p = sub.add_parser("analyze", help="measure photos; write a JSON document (and a CSV)",
                       description="Analyse photos and rest/smile pairs. Writes the versioned JSON document "
                                   "to stdout or -o FILE. A bad photo gets an error entry; the others are analysed.")
    p.add_argument("photos", nargs="*", metavar="PHOTO", help="photos to analyse one by one")
    p.add_argument("--rest", action="append", default=[], metavar="R", help="rest photo of a pair (repeatable)")
    p.add_argument("--smile", action="append", default=[], metavar="S", help="smile photo of the pair (repeatable)")
    p.add_argument("--expression", choices=("rest", "smile", "other"), default="rest",
                   help="expression of the PHOTO arguments (default %(default)s)")
    p.add_argument("-o", "--output", metavar="FILE", help="JSON output file (default: stdout)")
    p.add_argument("--csv", metavar="FILE", help="also write one CSV row per photo or pair")
    p.add_argument("--all-landmarks", action="store_true", help="include all 478 landmarks in the JSON")
    p.add_argument("--force", action="store_true", help="overwrite existing output files")
    add_analysis_options(p)
    p.set_defaults(run=run)


def run(args) -> int:
    if len(args.rest) != len(args.smile):
        raise ConfigurationError("give as many --smile as --rest photos (one pair each)")
    if not args.photos and not args.rest:
        raise ConfigurationError("nothing to analyse: give PHOTO arguments or --rest R --smile S")
    options = analysis_options(args)
    results, pairs, rows = [], [], []
    failures = 0

    def failed(path, exc):
        nonlocal failures
        failures += 1
        print(f"lipsym: {exc}", file=sys.stderr)
        results.append(error_to_dict(path, exc))

    with Landmarker(landmarker_options(args)) as landmarker:
        for path in args.photos:
            try:
                a = analyze_photo(path, landmarker, expression=args.expression, options=options)
                m = measure_photo(a)
            except LipsymError as exc:
                failed(path, exc)
                rows.append(error_columns(path, str(exc)))
                continue
            results.append(photo_to_dict(a, m, include_landmarks=args.all_landmarks))
            rows.append(photo_columns(a, m))
        for rest_path, smile_path in zip(args.rest, args.smile):
            row = {"rest_file": rest_path, "smile_file": smile_path}
            try:
                rest = analyze_photo(rest_path, landmarker, expression="rest", options=options)
                smile = analyze_photo(smile_path, landmarker, expression="smile", options=options)
                pair = measure_pair(rest, smile)
            except LipsymError as exc:
                failed(f"{rest_path} + {smile_path}", exc)
                rows.append({**row, "status": "error", "error": str(exc)})
                continue
            results.append(photo_to_dict(rest, pair.rest, include_landmarks=args.all_landmarks))
            results.append(photo_to_dict(smile, pair.smile, include_landmarks=args.all_landmarks))
            pairs.append(pair_to_dict(rest_path, smile_path, pair))
            rows.append(pair_columns(rest, smile, pair))
        sha = landmarker.model_sha256
    doc = document(results, pairs, model_sha256=sha, settings=settings_of(args))
    emit_json(doc, args.output, args.force)
    if args.csv:
        write_atomic(args.csv, to_csv(rows), overwrite=args.force)
    return 1 if failures else 0
