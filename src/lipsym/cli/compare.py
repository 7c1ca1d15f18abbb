"""``lipsym compare``: a before/after comparison image of two photos or two visits.

Three forms, told apart by their arguments:

- ``lipsym compare BEFORE AFTER -o FILE.png``: two photos (``--expression``);
- ``lipsym compare --before-rest R0 [--before-smile S0] --after-rest R1
  [--after-smile S1] -o FILE.png``: two visits' rest (and smile) photos;
- ``lipsym compare PATIENT --from VISIT --to VISIT``: two visits of the visit
  store (:func:`lipsym.cli.patient_compare.run_patient`).

``--json`` prints the ``lipsym.photo_comparison`` (photos) or
``lipsym.visit_comparison`` (visit store) document instead of the text.
"""

from __future__ import annotations

import sys
from pathlib import Path

from lipsym.errors import ConfigurationError
from lipsym.landmarks._detector import Landmarker
from lipsym.report._overlay import write_png
from lipsym.report import load_report_photo, load_visit
from lipsym.report._before_after import key_changes_text
from lipsym.comparison._photos import compare_captures
from lipsym.cli.common import add_analysis_options, analysis_options, check_outputs, landmarker_options
from lipsym.cli.patient_compare import add_patient_options, comparison_image, run_patient
from lipsym.cli.store_common import print_json
from lipsym.formats._comparison import photo_comparison_document


def register(sub) -> None:
    p = sub.add_parser("compare", help="before/after comparison image of two photos or two visits",
                       description="Register the after photo onto the before photo on stable landmarks (eyes, nose), "
                                   "show both at one mm scale with both lip contours, and annotate each measure's "
                                   "change with its 95 % interval and minimal detectable change.")
    p.add_argument("inputs", nargs="*", metavar="BEFORE AFTER",
                   help="the before and the after photo (or PATIENT with --from/--to)")
    p.add_argument("--expression", choices=("rest", "smile", "other"), default="rest",
                   help="expression of the BEFORE and AFTER photos (default %(default)s)")
    for when in ("before", "after"):
        p.add_argument(f"--{when}-rest", metavar="R", help=f"rest photo of the {when} visit")
        p.add_argument(f"--{when}-smile", metavar="S", help=f"smile photo of the {when} visit (optional)")
    p.add_argument("--from", dest="from_visit", metavar="VISIT", help="visit store: the earlier visit of PATIENT")
    p.add_argument("--to", dest="to_visit", metavar="VISIT", help="visit store: the later visit of PATIENT")
    p.add_argument("-o", "--output", metavar="FILE.png", help="comparison image to write")
    p.add_argument("--title", default="", help="title printed on the image (e.g. patient and dates)")
    p.add_argument("--all-landmarks", action="store_true", help="also draw the 478 landmarks")
    p.add_argument("--plain", action="store_true",
                   help="a clean image to show the patient: the registered before and after rest photos side by "
                        "side, no marks or numbers")
    p.add_argument("--force", action="store_true",
                   help="overwrite an existing output file; accept --ipd-mm/--iris-mm outside the plausible ranges")
    add_analysis_options(p)
    add_patient_options(p)
    p.set_defaults(run=run)


def _pairs_given(args) -> bool:
    return any((args.before_rest, args.before_smile, args.after_rest, args.after_smile))


def _check_output(args) -> Path:
    if not args.output:
        raise ConfigurationError("give the comparison image to write: -o FILE.png")
    out = Path(args.output)
    if out.suffix.lower() != ".png":
        raise ConfigurationError(f"{out}: the comparison image is written as PNG; give a .png file name")
    check_outputs([out], args.force)
    return out


def run(args) -> int:
    if args.from_visit or args.to_visit:
        if len(args.inputs) != 1 or _pairs_given(args):
            raise ConfigurationError("patient mode takes exactly one PATIENT and --from VISIT --to VISIT")
        return run_patient(args)
    if args.inputs and _pairs_given(args):
        raise ConfigurationError("give either BEFORE AFTER photos or --before-rest/--after-rest visits, not both")
    if len(args.inputs) == 1:
        raise ConfigurationError(f"{args.inputs[0]}: one argument: give two photos BEFORE AFTER, or a patient "
                                 "with --from VISIT --to VISIT")
    if len(args.inputs) > 2:
        raise ConfigurationError(f"give two photos, BEFORE and AFTER (got {len(args.inputs)})")
    if not args.inputs:
        if not (args.before_rest and args.after_rest):
            raise ConfigurationError("nothing to compare: give BEFORE AFTER photos, or --before-rest R0 "
                                     "--after-rest R1 (and optionally --before-smile/--after-smile)")
        if bool(args.before_smile) != bool(args.after_smile):
            raise ConfigurationError("give both --before-smile and --after-smile, or neither")
    out = _check_output(args)
    options = analysis_options(args)
    with Landmarker(landmarker_options(args)) as landmarker:
        if args.inputs:
            befores = [load_report_photo(args.inputs[0], landmarker, expression=args.expression, options=options)]
            afters = [load_report_photo(args.inputs[1], landmarker, expression=args.expression, options=options)]
        else:
            b = load_visit(args.before_rest, args.before_smile, landmarker, options=options)
            a = load_visit(args.after_rest, args.after_smile, landmarker, options=options)
            befores, afters = list(b.photos), list(a.photos)
    # Refuses two different people before anything is drawn or written.
    compared = {b.analysis.expression: compare_captures(b.analysis, a.analysis, b.measures, a.measures,
                                                        allow_different_person=options.allow_different_person)
                for b, a in zip(befores, afters)}
    write_png(out, comparison_image(befores, afters, args), overwrite=args.force)
    changes = {expression: c.changes for expression, c in compared.items()}
    warnings = [w for c in compared.values() for w in c.warnings]
    for w in warnings:
        print(f"lipsym: warning: {w.message}", file=sys.stderr)
    if args.json:
        files = [[str(p.analysis.path) if p.analysis.path else None for p in photos] for photos in (befores, afters)]
        print_json(photo_comparison_document(*files, changes, str(out), warnings=warnings))
    else:
        for expression, ch in changes.items():
            print(f"{expression}: " + key_changes_text(ch))
    print(f"wrote {out}", file=sys.stderr)
    return 0
