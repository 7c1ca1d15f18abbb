"""``lipsym analyze``: photos (and rest/smile pairs) → table, JSON document, CSV, overlays.

Where the output goes (docs/cli.md):

- ``-o FILE`` writes the JSON document to FILE, ``--json`` (or ``-o -``)
  prints it on stdout;
- with neither, a terminal gets a short table per photo and pair
  (:mod:`lipsym.cli.analyze_table`) and a pipe or file gets the JSON, so
  ``lipsym analyze PHOTO > out.json`` keeps working in scripts;
- ``--csv FILE`` writes one row per photo or pair, ``--csv -`` prints it on
  stdout (then nothing else goes there unless asked, and asking for the
  JSON there too is an error);
- ``--overlay DIR`` writes one annotated PNG per photo analysed.

``--replicates`` says every photo given is a replicate capture of one face
at one visit (the capture protocol of docs/visit-record.md): the rest
photos (``--rest`` and PHOTO arguments named ``rest*``) and the smile
photos (``--smile``, ``smile*``) may differ in number, pair up in the order
given as the visit record pairs them (:func:`lipsym.pipeline.replicate_items`),
and the document gains a ``replicates`` section (each measure's robust mean,
SD and n), printed after the tables. Without it, ``--rest``/``--smile`` are
pairs as always.

Every output file is checked before the first photo is read.
"""

from __future__ import annotations

import sys
from pathlib import Path

from lipsym.errors import ConfigurationError
from lipsym.formats._csv import to_csv
from lipsym.formats._json import document
from lipsym.io._outputs import write_atomic
from lipsym.landmarks._detector import Landmarker
from lipsym.pipeline._analyze import analyze_item
from lipsym.pipeline._item import ItemSpec
from lipsym.pipeline._replicates import replicate_items, replicates_section
from lipsym.report._overlay import draw_overlay, write_png
from lipsym.cli.analyze_table import document_tables
from lipsym.cli.common import add_analysis_options, analysis_options, check_outputs, emit_json
from lipsym.comparison._compare import KEY_MEASURES

#: File-name stems that give a PHOTO argument its expression when --expression is not given.
_EXPRESSION_STEMS = ("rest", "smile")


def register(sub) -> None:
    p = sub.add_parser("analyze", help="measure photos; print a table or write a JSON document (and a CSV)",
                       description="Analyse photos and rest/smile pairs. On a terminal prints a short table per "
                                   "photo and pair; writes the versioned JSON document to -o FILE, or to stdout "
                                   "with --json or when stdout is not a terminal. A bad photo gets an error "
                                   "entry; the others are analysed.")
    p.add_argument("photos", nargs="*", metavar="PHOTO", help="photos to analyse one by one")
    p.add_argument("--rest", action="append", default=[], metavar="R", help="rest photo of a pair (repeatable)")
    p.add_argument("--smile", action="append", default=[], metavar="S", help="smile photo of the pair (repeatable)")
    p.add_argument("--expression", choices=("rest", "smile", "other"), default=None,
                   help="expression of every PHOTO argument (default: smile for file names starting with "
                        "'smile', else rest)")
    p.add_argument("--replicates", action="store_true",
                   help="the photos are replicate captures of one visit: rest and smile counts may differ "
                        "(i-th rest paired with i-th smile); adds each measure's robust mean, SD and n")
    p.add_argument("-o", "--output", metavar="FILE", help="write the JSON document to FILE ('-': stdout)")
    p.add_argument("--json", action="store_true", help="print the JSON document on stdout instead of the table")
    p.add_argument("--csv", metavar="FILE", help="also write one CSV row per photo or pair ('-': stdout)")
    p.add_argument("--overlay", metavar="DIR", help="write an annotated PNG of each photo into DIR")
    p.add_argument("--all-landmarks", action="store_true", help="include all 478 landmarks in the JSON")
    p.add_argument("--force", action="store_true",
                   help="overwrite existing output files; accept --ipd-mm/--iris-mm outside the plausible ranges")
    add_analysis_options(p)
    p.set_defaults(run=run)


def photo_expression(path: str, given: str | None) -> str:
    """The expression a PHOTO argument is analysed with: ``given``, else its name's (``smile*``), else rest.

    Examples
    --------
    >>> photo_expression("visit2/Smile_01.jpg", None), photo_expression("rest.jpg", None)
    ('smile', 'rest')
    >>> photo_expression("smile.jpg", "other")
    'other'
    """
    if given is not None:
        return given
    stem = Path(path).name.lower()
    return next((e for e in _EXPRESSION_STEMS if stem.startswith(e)), "rest")


def _overlay_paths(items: list[ItemSpec], folder: str | None) -> list[list[Path]]:
    """Each item's overlay files, one per photo: DIR/<photo stem>[_<expression>].png, made unique."""
    if folder is None:
        return [[] for _ in items]
    seen: set[str] = set()
    paths = []
    for item in items:
        names = []
        for expression, photo in item.photos:
            stem = Path(photo).stem
            name = stem if stem.lower().startswith(expression) else f"{stem}_{expression}"
            unique, n = name, 1
            while unique in seen:
                n += 1
                unique = f"{name}-{n}"
            seen.add(unique)
            names.append(Path(folder, unique + ".png"))
        paths.append(names)
    return paths


def _stdout_plan(args) -> tuple[bool, bool]:
    """(JSON on stdout, table on stdout)."""
    tty = sys.stdout.isatty()
    csv_out = args.csv == "-"
    json_out = args.json or args.output == "-" or (args.output is None and not tty and not csv_out)
    if json_out and csv_out:
        raise ConfigurationError("the JSON and the CSV cannot both go to stdout: give -o FILE.json or --csv FILE.csv")
    return json_out, tty and not json_out and not csv_out


def _replicate_items(args) -> list[ItemSpec]:
    """``--replicates``: the rest and smile photos of one visit, paired in the order given."""
    given = [(photo_expression(p, args.expression), p) for p in args.photos]
    if any(e == "other" for e, _ in given):
        raise ConfigurationError("--replicates measures rest and smile photos; 'other' photos cannot be replicates")
    rests = [*args.rest, *(p for e, p in given if e == "rest")]
    smiles = [*args.smile, *(p for e, p in given if e == "smile")]
    return replicate_items(rests, smiles)


def replicates_table(section: dict) -> str:
    """The key measures' replicate mean ± SD (n) per condition, for the terminal."""
    lines = []
    for condition, by_key in section.items():
        lines.append(f"replicates, {condition}: robust mean of the asymmetry (left - right), SD, n")
        for key in (k for k in KEY_MEASURES if k in by_key):
            r = by_key[key]
            sd = "-" if r["sd"] is None else f"{r['sd']:.2f}"
            lines.append(f"  {key:<28} {r['asymmetry']:+8.2f} {r['unit']:<4} SD {sd:>5}  n={r['n']}")
    return "\n".join(lines) + "\n" if lines else ""


def run(args) -> int:
    if len(args.rest) != len(args.smile) and not args.replicates:
        raise ConfigurationError("give as many --smile as --rest photos (one pair each), or --replicates")
    if not args.photos and not args.rest and not args.smile:
        raise ConfigurationError("nothing to analyse: give PHOTO arguments or --rest R --smile S")
    json_out, table_out = _stdout_plan(args)
    if args.replicates:
        singles, items = [], _replicate_items(args)
    else:
        singles = [ItemSpec.photo(path, photo_expression(path, args.expression)) for path in args.photos]
        items = singles + [ItemSpec.pair(rest, smile) for rest, smile in zip(args.rest, args.smile)]
    overlays = _overlay_paths(items, args.overlay)
    options = analysis_options(args)
    check_outputs([args.output, args.csv, *(p for ps in overlays for p in ps)], args.force)
    if {"rest", "smile"} <= {s.expressions[0] for s in singles}:
        print("lipsym: rest and smile photos are analysed one by one; give --rest R --smile S to measure "
              "them as a pair (shared scale, dynamic measures)", file=sys.stderr)
    results, pairs, rows, item_results = [], [], [], []
    failures = 0
    with Landmarker(options.landmarker) as landmarker:
        for item, overlay in zip(items, overlays):
            result = analyze_item(item, landmarker, options, keep_pixels=bool(overlay))
            if args.replicates:  # kept only when needed: a long run keeps no analyses
                item_results.append(result)
            for error in result.errors:
                print(f"lipsym: {error.reason}", file=sys.stderr)
            failures += not result.ok
            results += result.results(include_landmarks=args.all_landmarks, errors_by_item=True)
            pairs += result.pairs()
            rows.append(result.csv_row)
            if result.ok:
                for i, path in enumerate(overlay):
                    png = draw_overlay(result.rgb(i), result.analyses[i], result.measures[i])
                    write_png(path, png, overwrite=args.force)
        sha = landmarker.model_sha256
    doc = document(results, pairs, model_sha256=sha, settings=options.identity())
    if args.replicates:
        doc["replicates"] = replicates_section(item_results)
    if args.output not in (None, "-"):
        emit_json(doc, args.output, args.force)
    if json_out:
        emit_json(doc, None, args.force)
    if args.csv == "-":
        sys.stdout.write(to_csv(rows))
    elif args.csv:
        write_atomic(args.csv, to_csv(rows), overwrite=args.force)
    if table_out:
        sys.stdout.write(document_tables(doc) + replicates_table(doc.get("replicates", {})))
    return 1 if failures else 0
