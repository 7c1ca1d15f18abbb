"""Patient mode of ``lipsym compare``: ``lipsym compare PATIENT --from VISIT --to VISIT``.

The change table comes from the stored measures
(:func:`lipsym.visits._documents.compare_recorded_visits`); ``--json`` prints
the ``lipsym.visit_comparison`` document.
With ``-o FILE.png`` the two visits' recorded photos (checked against their
SHA-256 first) are re-analysed with the command's analysis options and drawn
by the photo mode's figure (:func:`lipsym.report.comparison_png`).
"""

from __future__ import annotations

import sys
from pathlib import Path

from lipsym.errors import ConfigurationError, ConflictError
from lipsym.landmarks._detector import Landmarker
from lipsym.report._overlay import write_png
from lipsym.report import comparison_png, load_visit
from lipsym.report._before_after import plain_comparison_png
from lipsym.visits._corrections import corrected_report_visit, drawn_correction
from lipsym.visits._documents import compare_recorded_visits, recorded_photo_paths, visit_comparison_document
from lipsym.cli.common import analysis_options, landmarker_options
from lipsym.cli.store_common import add_db_option, add_json_option, open_store, print_json, warn_mixed_settings
from lipsym.cli.visit_tables import print_absolute_changes, print_changes


def add_patient_options(p) -> None:
    """The store options of ``compare`` (``--from``/``--to`` are declared by compare itself)."""
    add_db_option(p)
    add_json_option(p)
    p.add_argument("--all", action="store_true", dest="all_measures",
                   help="patient mode: every measure and the dynamic component, not only the key measures")


def comparison_image(befores, afters, args) -> bytes:
    """The annotated comparison, or with ``--plain`` the clean registered photos (first couple: rest)."""
    if args.plain:
        return plain_comparison_png(befores[0], afters[0], title=args.title)
    return comparison_png(befores, afters, title=args.title, all_landmarks=args.all_landmarks)


def run_patient(args) -> int:
    if not (args.from_visit and args.to_visit):
        raise ConfigurationError("patient mode needs both --from VISIT and --to VISIT")
    if args.output and not args.force and Path(args.output).exists():
        raise ConflictError(f"{args.output} exists; not overwriting it (use --force to replace it)")
    with open_store(args) as store:
        comparison = compare_recorded_visits(store, args.inputs[0], args.from_visit, args.to_visit,
                                             all_measures=args.all_measures,
                                             allow_different_person=args.allow_different_person)
        paths = ([recorded_photo_paths(store, vm) for vm in (comparison.before, comparison.after)]
                 if args.output else None)
        manual = [drawn_correction(store, vm.analysis_ids) for vm in (comparison.before, comparison.after)]
    warn_mixed_settings(comparison.compared)
    for w in comparison.capture_warnings:
        print(f"lipsym: warning: {w.message}", file=sys.stderr)
    if paths is not None:
        _write_images(args, paths, comparison.title, manual)
    if args.json:
        print_json(visit_comparison_document(comparison, args.output))
        return 0
    print_changes(comparison.changes,
                  title=f"{comparison.title}: change of asymmetry (left − right, subject's sides)")
    print_absolute_changes(comparison.absolute,
                           title=f"{comparison.title}: change of the size of the lips (MDC95 between two captures)")
    for vm in (comparison.before, comparison.after):
        if (line := vm.provenance_line()) is not None:
            print(f"{vm.label}: {line}")
    if comparison.treatments_between:
        print("treatments in between: " + "; ".join(f"{t.product_name} {t.dose_value:g} {t.dose_unit}"
                                                     for t in comparison.treatments_between))
    return 0


def _write_images(args, paths, title: str, manual) -> None:
    (rest0, smile0), (rest1, smile1) = paths
    if (smile0 is None) != (smile1 is None):
        smile0 = smile1 = None  # draw the rest photos only: a row needs both visits
    options = analysis_options(args)
    with Landmarker(landmarker_options(args)) as landmarker:
        # Drawn with the landmarks corrected by hand where the visit's analysis is manual.
        b = corrected_report_visit(load_visit(rest0, smile0, landmarker, options=options), manual[0])
        a = corrected_report_visit(load_visit(rest1, smile1, landmarker, options=options), manual[1])
    if not args.title:
        args.title = title
    write_png(args.output, comparison_image(list(b.photos), list(a.photos), args), overwrite=args.force)
    print(f"wrote {args.output}", file=sys.stderr)
