"""Stability of the commissure height asymmetry under downscaling and re-capture (issue #13).

    PYTHONPATH=src python benchmarks/corner_stability.py [--faces N] [--recaptures K] [--json OUT]

For the first N development faces of each set (London neutral, London
smiling, 3DSK; ``_recapture_data.faces``), a 2 mm commissure lift is
planted (:func:`lipsym.simulate.plant`; the subject's left on even faces,
right on odd ones) and the measured change of the commissure height
asymmetry (planted − unplanted, signed towards the planted side) is read

- across a downscale sweep (cv2 INTER_AREA, 1.0 to 0.3 of the size in steps
  of 0.05), the planted and the unplanted photo downscaled alike: the
  change should not depend on the face's pixel size;
- on K re-captures (``lipsym.simulate._recapture.sample_params`` and
  ``planted_recapture``, seed fixed) against the unplanted source photo:
  a follow-up photo of a 2 mm lift ("recapture": the plant plus the
  re-capture's own change of the unplanted face);
- on the same K re-captures, against the unplanted face re-captured with
  the same parameters ("paired"): the plant alone, as the re-captured
  corner sees it.

Printed per set and part: the median and 10th percentile of measured /
planted, and the share of cases reading < 1.3 mm (a 2 mm lift read as
less than 1.3 mm). Also the largest jump between neighbouring scales of
one face (a discrete instability shows as a jump, a smooth bias does not).
Needs ../shared/data. Not a timing benchmark.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _recapture_data import check_data, faces  # noqa: E402

PLANT_MM = 2.0
KEY = "commissure_height"
SCALES = tuple(round(1.0 - 0.05 * i, 2) for i in range(15))  # 1.0 .. 0.3
LOW_MM = 1.3


def _asymmetry(rgb: np.ndarray, expression: str) -> float:
    from lipsym.analysis._photo import analyze_landmarks
    from lipsym.io import photo_from_array
    from lipsym.measures._photo import measure_photo
    from _recapture_data import landmarker

    photo = photo_from_array(rgb)
    a = analyze_landmarks(photo, landmarker().landmarks(photo), expression=expression)
    return float(measure_photo(a).sided[KEY].asymmetry)


def _down(rgb: np.ndarray, scale: float) -> np.ndarray:
    import cv2
    if scale == 1.0:
        return rgb
    h, w = rgb.shape[:2]
    return cv2.resize(rgb, (round(w * scale), round(h * scale)), interpolation=cv2.INTER_AREA)


def face_rows(index: int, set_: str, expression: str, path: Path, n_recaptures: int, seed: int) -> dict:
    """Measured changes (mm, towards the planted side) of one face."""
    from lipsym.analysis._photo import analyze_landmarks
    from lipsym.errors import LipsymError
    from lipsym.io import load_photo
    from lipsym.sides import Side
    from lipsym.simulate._recapture import planted_recapture, recapture, sample_params
    from lipsym.simulate._simulate import Plant, plant
    from _recapture_data import landmarker

    side = Side.LEFT if index % 2 == 0 else Side.RIGHT
    sign = 1.0 if side is Side.LEFT else -1.0  # asymmetry is left − right
    photo = load_photo(path)
    a = analyze_landmarks(photo, landmarker().landmarks(photo), expression=expression)
    plants = [Plant("commissure", side, up_mm=PLANT_MM)]
    planted = plant(photo.rgb, a, plants).rgb
    scales = {}
    for s in SCALES:
        try:
            scales[s] = sign * (_asymmetry(_down(planted, s), expression) - _asymmetry(_down(photo.rgb, s), expression))
        except LipsymError:
            continue
    base = _asymmetry(photo.rgb, expression)
    rng = np.random.default_rng([seed, index])
    face_width_px = float(np.hypot(*(a.landmarks.points_px[234, :2] - a.landmarks.points_px[454, :2])))
    rec, paired = [], []
    while len(rec) < n_recaptures:
        params = sample_params(rng, face_width_px=face_width_px)
        try:
            after = _asymmetry(planted_recapture(photo.rgb, a, plants, params).rgb, expression)
            unplanted = _asymmetry(recapture(photo.rgb, a, params).rgb, expression)
        except LipsymError:
            continue
        rec.append(sign * (after - base))
        paired.append(sign * (after - unplanted))
    return {"set": set_, "expression": expression, "face": path.stem, "side": side.value,
            "scales": {str(k): v for k, v in scales.items()}, "recaptures": rec, "paired": paired}


def summary(rows: list[dict]) -> None:
    print(f"{'set':8} {'expr':6} {'part':10} {'n':>4} {'median':>7} {'p10':>6} {'<1.3mm':>7} {'max jump':>9}")
    for set_, expr in sorted({(r["set"], r["expression"]) for r in rows}):
        sub = [r for r in rows if r["set"] == set_ and r["expression"] == expr]
        jumps = [float(np.max(np.abs(np.diff(list(r["scales"].values()))))) for r in sub if len(r["scales"]) > 1]
        for part, values in (("downscale", [v for r in sub for v in r["scales"].values()]),
                             ("recapture", [v for r in sub for v in r["recaptures"]]),
                             ("paired", [v for r in sub for v in r.get("paired", [])])):
            v = np.asarray(values) / PLANT_MM
            if not v.size:
                continue
            jump = f"{max(jumps):9.2f}" if part == "downscale" and jumps else " " * 9
            print(f"{set_:8} {expr:6} {part:10} {v.size:4d} {np.median(v):7.2f} {np.percentile(v, 10):6.2f} "
                  f"{np.mean(v * PLANT_MM < LOW_MM):7.1%} {jump}")
    if any(r["scales"] for r in rows):
        worst = sorted(rows, key=lambda r: min(r["scales"].values(), default=9))[:5]
        print("lowest downscale readings:", ", ".join(
            f"{r['set']}/{r['expression']}/{r['face']} {min(r['scales'].values()):+.2f}" for r in worst))


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--faces", type=int, default=8, help="faces per set and expression (default 8)")
    parser.add_argument("--recaptures", type=int, default=4)
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--skip", type=int, default=0, help="leave out the first K faces of each set (a fresh sample)")
    parser.add_argument("--only", help="comma-separated set/expression, e.g. london/smile (default: all)")
    parser.add_argument("--json", type=Path, help="write the per-face rows")
    parser.add_argument("--from-json", type=Path, help="summarise a saved run and stop")
    args = parser.parse_args(argv)
    if args.from_json:
        summary(json.loads(args.from_json.read_text()))
        return
    check_data("corner_stability")
    rows = []
    only = None if not args.only else set(args.only.split(","))
    skipped = {p for _, _, p in faces(args.skip)} if args.skip else set()
    for i, (set_, expr, path) in enumerate(faces(args.faces)):
        if (only and f"{set_}/{expr}" not in only) or path in skipped:
            continue
        rows.append(face_rows(i, set_, expr, path, args.recaptures, args.seed))
        r = rows[-1]
        print(f"  {set_} {expr} {r['face']}: scales " + " ".join(f"{v:+.2f}" for v in r["scales"].values())
              + " | recaptures " + " ".join(f"{v:+.2f}" for v in r["recaptures"])
              + " | paired " + " ".join(f"{v:+.2f}" for v in r["paired"]), file=sys.stderr, flush=True)
    if args.json:
        args.json.write_text(json.dumps(rows))
    summary(rows)


if __name__ == "__main__":
    main()
