"""Sensitivity of the lip-size measures to a planted SYMMETRIC growth (a filler's effect on size).

Usage::

    python benchmarks/size_sensitivity.py [--faces N] [--sets london,3dsk] [--cache DIR] [--json OUT]

For each face (the first N, default 10, of London neutral and of 3DSK), each lip (upper,
lower) and each amount (1, 2, 3 mm), two growths are planted on the photo:

- ``hemilip``: the simulator's vermilion plant on BOTH sides together
  (``Plant("upper_vermilion" | "lower_vermilion", side, up_mm)`` for each side): the
  outer border moves away from the contact line by ``up_mm`` at mid-hemilip, tapering
  towards the cheilion and the midline (held). Truth: the mid-hemilip mean height grows
  by ``up_mm``.
- ``midline``: the same, and the border at the midline moves too (the three sources of
  each side plus one at x = 0, all by ``up_mm`` but the outermost, 0.6 × ``up_mm``, as
  in the simulator's taper; inner contour and cheilia held). Built here with
  :func:`lipsym.simulate.make_field`, since a :class:`~lipsym.simulate.Plant` is of one
  side. Truth: the midline AND the mid-hemilip mean heights grow by ``up_mm``.

The warp is built on the flip-averaged MediaPipe analysis without refinement, so the
planted photos do not depend on the method under test. Each planted photo is analysed
by three methods: "raw" (MediaPipe, ``AnalysisOptions(refine=False)``), "lipsym" (the
refinement, without the symmetric border search: ``Refinement.size_borders`` dropped),
"new" (the refinement with it, :mod:`lipsym.refine._size`). Printed: the median (and
IQR) over faces of measured change ÷ planted.

MediaPipe's detections are cached (``--cache``, the folder benchmarks/validate.py uses).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from dataclasses import replace
from pathlib import Path

import numpy as np

from _validate_data import CachedLandmarker, faces_of
from lipsym.analysis._options import AnalysisOptions
from lipsym.analysis._photo import analyze_landmarks
from lipsym.errors import LipsymError
from lipsym.face._anatomy import INNER_LOWER, INNER_UPPER, OUTER_LOWER, OUTER_UPPER
from lipsym.io import load_photo, photo_from_array
from lipsym.landmarks._detector import LandmarkerOptions
from lipsym.measures._contours import dense_contour, height_at
from lipsym.measures._photo import measure_photo
from lipsym.sides import Side
from lipsym.simulate import make_field, warp_image
from lipsym.simulate._simulate import Plant, plant

#: The detection cache benchmarks/validate.py uses.
DEFAULT_CACHE = Path(tempfile.gettempdir()) / f"lipsym-validate-cache-{os.getuid()}"
AMOUNTS_MM = (1.0, 2.0, 3.0)
LIPS = ("upper", "lower")
VARIANTS = ("hemilip", "midline")
METHODS = ("raw", "lipsym", "new")
#: What each variant's truth is measured on: key → planted growth (both variants grow the mid-hemilip mean).
TRUTH = {"hemilip": ("{lip}_vermilion_height_mid_mean",),
         "midline": ("{lip}_vermilion_height_mid_mean", "{lip}_vermilion_height_midline")}


def midline_growth_rgb(rgb: np.ndarray, analysis, lip: str, up_mm: float) -> np.ndarray:
    """The photo with one lip's outer border grown on both sides AND at the midline by ``up_mm``."""
    fr = analysis.frame
    px_per_mm = 1.0 / analysis.scale.mm_per_px
    ipd = fr.interpupillary_distance_px
    pts = analysis.landmarks.points_px[:, :2]
    f = {n: fr.to_frame(p) for n, p in analysis.anatomy.points_px.items()}
    outer = dense_contour(fr.to_frame(pts[list(OUTER_UPPER if lip == "upper" else OUTER_LOWER)]))
    inner = dense_contour(fr.to_frame(pts[list(INNER_UPPER if lip == "upper" else INNER_LOWER)]))
    grow = up_mm * px_per_mm * (1.0 if lip == "upper" else -1.0)
    sources, disp, anchors = [], [], []
    xs = [(0.0, 1.0)] + [(frac * f[f"cheilion_{s.value}"][0], w) for s in (Side.RIGHT, Side.LEFT)
                         for frac, w in ((0.28, 1.0), (0.5, 1.0), (0.72, 0.6))]
    for x, w in xs:
        sources.append([x, height_at(outer, x)])
        disp.append([0.0, w * grow])
        anchors.append([x, height_at(inner, x)])
    height = abs(sources[0][1] - anchors[0][1])
    anchors += [f["cheilion_right"], f["cheilion_left"]]
    radius = max(2.0 * height, 0.08 * ipd)
    d = np.array(disp)
    field = make_field(fr.to_photo(np.array(sources)), d[:, :1] * fr.x_axis + d[:, 1:2] * fr.y_axis,
                       np.full(len(sources), radius), anchors_px=fr.to_photo(np.array(anchors)),
                       anchor_radius_px=radius)
    return warp_image(rgb, field)


def _measure(photo, landmarker) -> dict[str, dict[str, float]]:
    marks = landmarker.landmarks(photo)
    raw = measure_photo(analyze_landmarks(photo, marks, options=AnalysisOptions(refine=False)))
    refined = analyze_landmarks(photo, marks)
    current = replace(refined, refinement=replace(refined.refinement, size_borders=None))
    out = {}
    for method, m in (("raw", raw), ("lipsym", measure_photo(current)), ("new", measure_photo(refined))):
        out[method] = {k: s.value for k, s in m.scalars.items()}
    return out, refined


def face_records(face, landmarker) -> list[dict]:
    """Every lip, amount and variant planted on one face: one record per planted photo."""
    photo = load_photo(face.image)
    base, _ = _measure(photo, landmarker)
    plant_on = analyze_landmarks(photo, landmarker.landmarks(photo), options=AnalysisOptions(refine=False))
    records = []
    for lip in LIPS:
        for amount in AMOUNTS_MM:
            for variant in VARIANTS:
                try:
                    if variant == "hemilip":
                        rgb = plant(photo.rgb, plant_on, [Plant(f"{lip}_vermilion", s, up_mm=amount)
                                                          for s in (Side.RIGHT, Side.LEFT)]).rgb
                    else:
                        rgb = midline_growth_rgb(photo.rgb, plant_on, lip, amount)
                    after, _ = _measure(photo_from_array(rgb), landmarker)
                except LipsymError as e:
                    print(f"  {face.id} {lip} {amount} {variant}: {e}", file=sys.stderr)
                    continue
                for key in TRUTH[variant]:
                    key = key.format(lip=lip)
                    records.append({"face": face.id, "lip": lip, "amount": amount, "variant": variant,
                                    "measure": key,
                                    **{m: (after[m][key] - base[m][key]) / amount for m in METHODS}})
    return records


def summarise(records: list[dict]) -> list[dict]:
    rows = []
    keys = sorted({(r["variant"], r["measure"], r["lip"], r["amount"]) for r in records},
                  key=lambda k: (VARIANTS.index(k[0]), k[1].endswith("midline"), LIPS.index(k[2]), k[3]))
    for variant, measure, lip, amount in keys:
        sel = [r for r in records if (r["variant"], r["measure"], r["lip"], r["amount"]) == (variant, measure, lip, amount)]
        row = {"variant": variant, "measure": measure, "lip": lip, "amount": amount, "n": len(sel)}
        for m in METHODS:
            v = np.array([r[m] for r in sel])
            row[m] = [float(np.median(v)), float(np.percentile(v, 25)), float(np.percentile(v, 75))]
        rows.append(row)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--faces", type=int, default=10, help="the first N faces per set (default 10)")
    parser.add_argument("--sets", default="london,3dsk")
    parser.add_argument("--cache", type=Path, default=DEFAULT_CACHE, help="detection cache folder")
    parser.add_argument("--json", type=Path, default=None, help="also write records and summary as JSON")
    args = parser.parse_args()
    landmarker = CachedLandmarker(LandmarkerOptions(), args.cache)
    result = {}
    try:
        for name in args.sets.split(","):
            faces = faces_of(name)[:args.faces]
            if not faces:
                sys.exit(f"size_sensitivity: no {name} faces (../shared/data)")
            records = []
            for face in faces:
                records += face_records(face, landmarker)
                print(f"  {name}: {face.id} done", file=sys.stderr, flush=True)
            result[name] = {"faces": len(faces), "records": records, "summary": summarise(records)}
    finally:
        landmarker.close()
    for name, res in result.items():
        print(f"\n{name} ({res['faces']} faces): median measured ÷ planted [IQR]")
        print(f"{'plant':8s} {'measure':34s} {'mm':>4s} " + " ".join(f"{m:>18s}" for m in METHODS))
        for row in res["summary"]:
            cells = " ".join(f"{row[m][0]:5.2f} [{row[m][1]:4.2f}-{row[m][2]:4.2f}]" for m in METHODS)
            print(f"{row['variant']:8s} {row['measure']:34s} {row['amount']:4.1f} {cells}")
    if args.json:
        args.json.write_text(json.dumps(result, indent=1))
        print(f"\nwrote {args.json}")


if __name__ == "__main__":
    main()
