"""``lipsym analyze``: photos (and rest/smile pairs) → JSON document, CSV."""

from __future__ import annotations

import sys

from lipsym.errors import ConfigurationError
from lipsym.formats._csv import to_csv
from lipsym.formats._json import document
from lipsym.io._outputs import write_atomic
from lipsym.landmarks._detector import Landmarker
from lipsym.pipeline._analyze import analyze_item
from lipsym.pipeline._item import ItemSpec
from lipsym.cli.common import add_analysis_options, analysis_options, emit_json


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
    items = ([ItemSpec.photo(path, args.expression) for path in args.photos]
             + [ItemSpec.pair(rest, smile) for rest, smile in zip(args.rest, args.smile)])
    options = analysis_options(args)
    results, pairs, rows = [], [], []
    failures = 0
    with Landmarker(options.landmarker) as landmarker:
        for item in items:
            result = analyze_item(item, landmarker, options)
            for error in result.errors:
                print(f"lipsym: {error.reason}", file=sys.stderr)
            failures += not result.ok
            results += result.results(include_landmarks=args.all_landmarks, errors_by_item=True)
            pairs += result.pairs()
            rows.append(result.csv_row)
        sha = landmarker.model_sha256
    doc = document(results, pairs, model_sha256=sha, settings=options.identity())
    emit_json(doc, args.output, args.force)
    if args.csv:
        write_atomic(args.csv, to_csv(rows), overwrite=args.force)
    return 1 if failures else 0
