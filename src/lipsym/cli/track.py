"""``lipsym track PATIENT``: key asymmetries across visits, settling after treatments, and a plot."""

from __future__ import annotations

import sys

from lipsym.comparison._absolute_change import KEY_ABSOLUTE
from lipsym.comparison._compare import KEY_MEASURES
from lipsym.io._outputs import write_atomic
from lipsym.visits._documents import track_document
from lipsym.visits._settling import PHOTO_CONDITIONS, follow_up_settling, treatment_effects
from lipsym.visits._timeline import load_timeline
from lipsym.visits._track_plot import plotted_keys, track_png
from lipsym.cli.store_common import add_db_option, add_json_option, open_store, print_json, warn_mixed_settings
from lipsym.cli.visit_tables import (print_absolute_timeline, print_settling, print_timeline,
                                    print_treatment_effects)


def register(sub) -> None:
    p = sub.add_parser(
        "track", help="a patient's key asymmetries and lip sizes across visits, with the treatment's effect and settling",
        description="Table of the key asymmetries at each visit (± SE, with the analysis each comes from), the settling of each follow-up "
                    "after a treatment (change since the treatment and since the previous visit, against the "
                    "minimal detectable change), the key absolute lip measures (vermilion heights and areas, "
                    "mouth width) at each visit with the treatment's effect (change since before the treatment, "
                    "since it and since the previous visit, with MDC95 between two captures), and with -o a PNG plot with treatments and typical product "
                    "durations (literature reference ranges) on the time axis.")
    p.add_argument("patient", metavar="PATIENT")
    p.add_argument("-o", "--plot", metavar="FILE.png", help="write the plot here")
    p.add_argument("--force", action="store_true", help="overwrite an existing plot file")
    add_db_option(p)
    add_json_option(p)
    p.set_defaults(run=run)


def run(args) -> int:
    with open_store(args) as store:
        timeline = load_timeline(store, args.patient)
    warn_mixed_settings(timeline)
    settling = follow_up_settling(timeline)
    effects = treatment_effects(timeline)
    keys = plotted_keys(timeline, KEY_MEASURES)
    if args.plot:
        write_atomic(args.plot, track_png(timeline), overwrite=args.force)
    if args.json:
        print_json(track_document(timeline, keys, settling, args.plot, effects))
        return 0
    print_timeline(timeline, keys, PHOTO_CONDITIONS)
    for vm in timeline.visits:
        if (line := vm.provenance_line()) is not None:
            print(f"{vm.label}: {line}")
    print_settling(settling)
    print_absolute_timeline(timeline, KEY_ABSOLUTE)
    print_treatment_effects(effects)
    if args.plot:
        print(f"\nplot: {args.plot}", file=sys.stderr)
    return 0
