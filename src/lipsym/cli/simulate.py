"""``lipsym simulate``: a photo with a planted, known asymmetry (what does 1.5 mm look like?)."""

from __future__ import annotations

import io
import json

from PIL import Image

from lipsym.analysis._photo import analyze_photo
from lipsym.io._photo import load_photo
from lipsym.landmarks._detector import Landmarker
from lipsym.io._outputs import write_atomic
from lipsym.simulate._simulate import STRUCTURES, parse_plant, plant
from lipsym.cli.common import add_analysis_options, analysis_options, landmarker_options


def register(sub) -> None:
    p = sub.add_parser("simulate", help="write a copy of a photo with a planted asymmetry in mm",
                       description="Move one or more lip structures of a photo by known amounts (mm, subject's "
                                   "sides) with a smooth warp; writes a PNG (no metadata) and, with --json, the "
                                   "exact moved reference points.")
    p.add_argument("photo", metavar="PHOTO")
    p.add_argument("--plant", action="append", required=True, metavar="STRUCTURE:SIDE:UP_MM[:OUT_MM]",
                   help=f"structure one of {', '.join(STRUCTURES)}; e.g. commissure:left:1.5 (repeatable)")
    p.add_argument("-o", "--output", required=True, metavar="FILE.png")
    p.add_argument("--json", metavar="FILE", help="write the planted changes and reference points")
    p.add_argument("--force", action="store_true", help="overwrite existing output files")
    add_analysis_options(p)
    p.set_defaults(run=run)


def run(args) -> int:
    plants = [parse_plant(t) for t in args.plant]
    with Landmarker(landmarker_options(args)) as landmarker:
        analysis = analyze_photo(args.photo, landmarker, options=analysis_options(args))
    sim = plant(load_photo(args.photo).rgb, analysis, plants)
    buf = io.BytesIO()
    Image.fromarray(sim.rgb).save(buf, format="PNG")  # a fresh image: no EXIF/GPS from the input
    write_atomic(args.output, buf.getvalue(), overwrite=args.force)
    if args.json:
        doc = {"schema": "lipsym.simulation", "schema_version": 1, "photo": args.photo, "output": args.output,
               "sides": "right/left are the SUBJECT's sides",
               "plants": [{"structure": p.structure, "side": p.side.value, "up_mm": p.up_mm, "out_mm": p.out_mm}
                          for p in sim.plants],
               "reference_before_px": {k: [float(v[0]), float(v[1])] for k, v in sim.reference_before_px.items()},
               "reference_after_px": {k: [float(v[0]), float(v[1])] for k, v in sim.reference_after_px.items()}}
        write_atomic(args.json, json.dumps(doc, indent=2) + "\n", overwrite=args.force)
    return 0
