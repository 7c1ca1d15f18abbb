"""``lipsym correct PATIENT``: move landmarks of a stored visit analysis by hand, from a JSON file.

``--file MOVES.json`` records a new manual analysis (the automatic one is
kept) through :func:`lipsym.visits.correct_visit`; ``--list`` prints the
correctable points and where they are now, so a script knows their names.
The file format is docs/corrections.md.
"""

from __future__ import annotations

from lipsym.analysis._corrections import read_corrections
from lipsym.errors import ConfigurationError
from lipsym.measures._registry import unit_label
from lipsym.report._format import signed
from lipsym.visits._correction_documents import (correctable_points_document, correction_document, key_changes,
                                                 visit_correctable_points)
from lipsym.visits._corrections import correct_visit
from lipsym.cli.store_common import add_db_option, add_json_option, open_store, print_json, print_table


def register(sub) -> None:
    p = sub.add_parser(
        "correct", help="move landmarks of a recorded visit by hand (from a JSON file); --list names them",
        description="Apply manual landmark corrections (docs/corrections.md) to the analysis of a recorded visit's "
                    "photo. A new analysis is recorded with provenance 'manual' and the moved points; the automatic "
                    "analysis is kept. track, compare, report and export then use the corrected analysis and say so. "
                    "The photos are analysed again once (no new result is stored for that) and must be unchanged.")
    p.add_argument("patient", metavar="PATIENT")
    p.add_argument("--visit", required=True, metavar="VISIT",
                   help="visit id, YYYY-MM-DD, YYYY-MM-DD:KIND, a kind, first or last")
    p.add_argument("--condition", required=True, choices=("rest", "smile"), help="which photo the moves are on")
    what = p.add_mutually_exclusive_group(required=True)
    what.add_argument("--file", metavar="MOVES.json", help="a lipsym.corrections document: the points to move")
    what.add_argument("--list", action="store_true", help="print the correctable points and their positions (px)")
    p.add_argument("--analysis", type=int, metavar="ID",
                   help="correct this analysis of the visit (a replicate photo's) instead of the latest")
    add_db_option(p)
    add_json_option(p)
    p.set_defaults(run=run)


def run(args) -> int:
    corrections = None if args.list else read_corrections(args.file)
    with open_store(args) as store:
        if args.list:
            found = visit_correctable_points(store, args.patient, args.visit, args.condition,
                                             analysis_id=args.analysis)
        else:
            outcome = correct_visit(store, args.patient, args.visit, args.condition, corrections,
                                    analysis_id=args.analysis)
            visit = store.get_visit(outcome.analysis.visit_id)
            label = f"{visit.visit_date.isoformat()} {visit.kind}"
    if args.list:
        return _print_points(args, found)
    if args.json:
        print_json(correction_document(outcome, args.patient, label))
        return 0
    print(f"{args.patient} {label}: recorded analysis #{outcome.analysis.id}: {outcome.manual.summary()}; "
          f"the automatic analysis #{outcome.manual.based_on} is kept")
    rows = [(c, m.name, f"{m.displacement_px[0]:+.1f}, {m.displacement_px[1]:+.1f}",
             f"{m.displacement_frame_mm[0]:+.2f}, {m.displacement_frame_mm[1]:+.2f}", f"{m.distance_mm:.2f}")
            for c, a in zip(("rest", "smile") if len(outcome.result.analyses) == 2
                            else (args.condition,), outcome.result.analyses) for m in a.corrections]
    print_table(("photo", "point", "moved (x, y px)", "moved (left, up mm)", "distance mm"), rows)
    changes = [(c, k, signed(v["before"]), signed(v["after"]), unit_label(v["unit"]))
               for c, by_key in key_changes(outcome).items() for k, v in by_key.items()]
    print()
    print_table(("condition", "measure", "before", "after", "unit"), changes,
                title="Asymmetry left − right (subject's sides), before and after the correction")
    return 0


def _print_points(args, found) -> int:
    if args.json:
        print_json(correctable_points_document(found))
        return 0
    photo = found.loaded.photo(found.condition)
    if photo is None:  # pragma: no cover - load_visit_analyses checked it
        raise ConfigurationError(f"{args.patient}: no {found.condition} photo")
    print_table(("point", "x_px", "y_px"), [(n, f"{x:.2f}", f"{y:.2f}") for n, (x, y) in found.points.items()],
                title=f"{args.patient} {found.visit_label} {found.condition} ({photo.path}, analysis "
                      f"#{found.loaded.analysis.id}, {photo.provenance}): correctable points, photo px")
    return 0
