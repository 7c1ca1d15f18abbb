"""``lipsym simulate``: a photo with a planted, known asymmetry (what does 1.5 mm look like?)."""

from __future__ import annotations

import io
import json
from pathlib import Path

from PIL import Image

from lipsym.analysis._photo import analyze_photo
from lipsym.errors import ConfigurationError
from lipsym.formats._envelope import envelope
from lipsym.io._photo import load_photo
from lipsym.landmarks._detector import Landmarker
from lipsym.io._outputs import write_atomic
from lipsym.simulate._simulate import STRUCTURES, parse_plant, plant
from lipsym.cli.common import add_analysis_options, analysis_options, check_outputs


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
    p.add_argument("--force", action="store_true",
                   help="overwrite existing output files; accept --ipd-mm/--iris-mm outside the plausible ranges")
    add_analysis_options(p)
    p.set_defaults(run=run)


def run(args) -> int:
    plants = [parse_plant(t) for t in args.plant]
    if Path(args.output).suffix.lower() != ".png":
        # A PNG keeps the planted change exact; a JPEG would re-encode it, and PNG data under a .jpg name misleads.
        raise ConfigurationError(f"{args.output}: the simulated photo is written as PNG; give a .png file name")
    options = analysis_options(args)
    check_outputs([args.output, args.json], args.force)
    with Landmarker(options.landmarker) as landmarker:
        analysis = analyze_photo(args.photo, landmarker, options=options)
    sim = plant(load_photo(args.photo).rgb, analysis, plants)
    buf = io.BytesIO()
    Image.fromarray(sim.rgb).save(buf, format="PNG")  # a fresh image: no EXIF/GPS from the input
    write_atomic(args.output, buf.getvalue(), overwrite=args.force)
    if args.json:
        doc = envelope("lipsym.simulation", {
            "photo": args.photo, "output": args.output, "sides": "right/left are the SUBJECT's sides",
            "plants": [{"structure": p.structure, "side": p.side.value, "up_mm": p.up_mm, "out_mm": p.out_mm}
                       for p in sim.plants],
            "reference_before_px": {k: [float(v[0]), float(v[1])] for k, v in sim.reference_before_px.items()},
            "reference_after_px": {k: [float(v[0]), float(v[1])] for k, v in sim.reference_after_px.items()}})
        write_atomic(args.json, json.dumps(doc, indent=2) + "\n", overwrite=args.force)
    return 0
