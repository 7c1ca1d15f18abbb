"""``lipsym calibrate``: the clinic's re-capture SD from the replicate photos in the record."""

from __future__ import annotations

import sys

from lipsym.comparison._calibration import MIN_DEGREES_OF_FREEDOM
from lipsym.formats._envelope import envelope
from lipsym.measures._registry import display_name, unit_label
from lipsym.visits._calibration import calibrate_clinic
from lipsym.cli.store_common import add_db_option, add_json_option, format_table, open_store, print_json


def register(sub) -> None:
    p = sub.add_parser(
        "calibrate", help="estimate this clinic's re-capture SD from replicate photos and use it for later MDCs",
        description="Pools the spread of every visit's replicate photos (two or more rest or smile photos of one "
                    "visit) into this clinic's own re-capture SD per measure, with its 95 % confidence interval "
                    "and sample size, and stores it in the record. Later comparisons (track, compare, report) use "
                    f"it instead of lipsym's capture model for measures with at least {MIN_DEGREES_OF_FREEDOM} "
                    "degrees of freedom; the published 3-D test-retest floor still applies. Run it again as "
                    "replicates accumulate: each run replaces the previous estimate.")
    p.add_argument("--dry-run", action="store_true", help="print the estimate without storing it")
    add_db_option(p)
    add_json_option(p)
    p.set_defaults(run=run)


def run(args) -> int:
    with open_store(args) as store:
        calibration = calibrate_clinic(store, save=not args.dry_run)
    if args.json:
        doc = calibration.to_dict()
        # The envelope states the running lipsym; the estimate's own is kept apart.
        doc["estimated_by_lipsym"] = doc.pop("lipsym_version")
        print_json(envelope("lipsym.clinic_calibration", {"saved": not args.dry_run, **doc}))
        return 0
    if not calibration.measures:
        print("no visit holds two or more photos of an expression: nothing to calibrate "
              "(the capture model stays in use; docs/visit-record.md, capture protocol)", file=sys.stderr)
        return 0
    rows = [(c.expression, f"{display_name(c.key)} ({unit_label(c.unit)})", f"{c.sd:.2f}",
             f"{c.ci_low:.2f}–{c.ci_high:.2f}", c.degrees_of_freedom, c.visits, c.photos,
             "yes" if c.used else f"no (< {MIN_DEGREES_OF_FREEDOM} df)")
            for c in sorted(calibration.measures.values(), key=lambda c: (c.expression, c.key))]
    print(format_table(("expression", "measure", "re-capture SD", "95 % CI", "df", "visits", "photos", "used"), rows))
    print("\nstored in the record; later comparisons use it" if not args.dry_run else "\n(dry run: not stored)",
          file=sys.stderr)
    return 0
