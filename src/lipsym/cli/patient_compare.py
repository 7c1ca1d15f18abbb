"""Patient mode of ``lipsym compare``: ``lipsym compare PATIENT --from VISIT --to VISIT``.

The change table comes from the stored measures (:func:`lipsym.visits.compare_visits`).
With ``-o FILE.png`` the two visits' recorded photos (checked against their
SHA-256 first) are re-analysed with the command's analysis options and drawn
by the photo mode's figure (:func:`lipsym.report.comparison_png`).
"""

from __future__ import annotations

import sys
from pathlib import Path

from lipsym.comparison._compare import KEY_MEASURES
from lipsym.errors import ConfigurationError, ConflictError, PhotoNotFoundError
from lipsym.landmarks._detector import Landmarker
from lipsym.report._overlay import write_png
from lipsym.report import comparison_png, load_visit
from lipsym.visits._settling import PHOTO_CONDITIONS, compare_visits
from lipsym.visits.store import Store
from lipsym.visits._timeline import Timeline, VisitMeasures, load_timeline
from lipsym.cli.common import analysis_options, landmarker_options
from lipsym.cli.store_common import add_db_option, add_json_option, open_store, print_json, warn_mixed_settings
from lipsym.cli.visit_tables import print_changes


def add_patient_options(p) -> None:
    """The store options of ``compare`` (``--from``/``--to`` are declared by compare itself)."""
    add_db_option(p)
    add_json_option(p)
    p.add_argument("--all", action="store_true", dest="all_measures",
                   help="patient mode: every measure and the dynamic component, not only the key measures")


def run_patient(args) -> int:
    if not (args.from_visit and args.to_visit):
        raise ConfigurationError("patient mode needs both --from VISIT and --to VISIT")
    if args.output and not args.force and Path(args.output).exists():
        raise ConflictError(f"{args.output} exists; not overwriting it (use --force to replace it)")
    with open_store(args) as store:
        timeline = load_timeline(store, args.inputs[0])
        before, after = timeline.find(args.from_visit), timeline.find(args.to_visit)
        warn_mixed_settings(Timeline(timeline.patient, (before, after)))
        conditions = (*PHOTO_CONDITIONS, "dynamic") if args.all_measures else PHOTO_CONDITIONS
        changes = compare_visits(before, after, conditions=conditions,
                                 keys=None if args.all_measures else KEY_MEASURES)
        if not changes:
            raise ConfigurationError(f"visits {before.label} and {after.label} have no analysed photos in common "
                                     "(rest or smile); run lipsym analyze-pending")
        paths = [_photo_paths(store, vm) for vm in (before, after)] if args.output else None
    between = [t for vm in timeline.visits if before.visit.visit_date <= vm.visit.visit_date <= after.visit.visit_date
               and vm.visit.id != before.visit.id for t in vm.treatments]
    title = f"{timeline.patient.identifier}: {before.label} → {after.label}"
    if paths is not None:
        _write_images(args, paths, title)
    if args.json:
        print_json({"patient": timeline.patient.identifier, "from": before.visit, "to": after.visit,
                    "asymmetry_sign": "left minus right (subject's sides)",
                    "changes": {c: list(by_key.values()) for c, by_key in changes.items()},
                    "treatments_between": between, "image": args.output})
        return 0
    print_changes(changes, title=f"{title}: change of asymmetry (left − right, subject's sides)")
    if between:
        print("treatments in between: " + "; ".join(f"{t.product_name} {t.dose_value:g} {t.dose_unit}"
                                                     for t in between))
    return 0


def _photo_paths(store: Store, vm: VisitMeasures) -> tuple[str, str | None]:
    """Rest and smile photo files of the analysis the visit's measures come from, checked unchanged."""
    analysis_id = vm.analysis_ids.get("rest") or vm.analysis_ids.get("smile")
    if analysis_id is None:
        raise ConfigurationError(f"visit {vm.label} has no analysed photos to draw")
    analysis = store.get_analysis(analysis_id)
    if analysis.rest_photo_id is None:
        raise ConfigurationError(f"visit {vm.label} has no analysed rest photo to draw")
    out = []
    for photo_id in (analysis.rest_photo_id, analysis.smile_photo_id):
        if photo_id is None:
            out.append(None)
            continue
        status = store.verify_photo(photo_id)
        if status.state == "missing":
            raise PhotoNotFoundError(f"{status.photo.path}: recorded photo is missing (see lipsym db verify)")
        if not status.ok:
            raise ConflictError(f"{status.photo.path}: the file changed since it was recorded (sha256 differs)")
        out.append(status.photo.path)
    return out[0], out[1]


def _write_images(args, paths, title: str) -> None:
    (rest0, smile0), (rest1, smile1) = paths
    if (smile0 is None) != (smile1 is None):
        smile0 = smile1 = None  # draw the rest photos only: a row needs both visits
    options = analysis_options(args)
    with Landmarker(landmarker_options(args)) as landmarker:
        b = load_visit(rest0, smile0, landmarker, options=options)
        a = load_visit(rest1, smile1, landmarker, options=options)
    write_png(args.output, comparison_png(list(b.photos), list(a.photos), title=args.title or title,
                                          all_landmarks=args.all_landmarks), overwrite=args.force)
    print(f"wrote {args.output}", file=sys.stderr)
