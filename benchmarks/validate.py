"""Validation benchmark: raw MediaPipe vs lipsym, side by side in one run.

Usage::

    python benchmarks/validate.py [--faces N] [--out validation.json] [--write-calibration]

Needs ../shared/data/london_dev (34 people, neutral photos with 189 manual
points). Prints four tables and writes their figures as JSON:

a. sensitivity: a structure of one side is moved by the planted-asymmetry
   simulator (lipsym.simulate) by 0.5, 1, 2 and 3 mm; the measured change of
   the signed asymmetry is compared with the planted one (sensitivity =
   mean measured / planted, bias, SD), for commissure height, commissure
   lateral position, Cupid's bow peak height and upper hemi-vermilion height.
   The side alternates between faces.
b. agreement with the manual points: cheilion point error (% IPD) and the
   commissure height / lateral and Cupid's bow peak height asymmetries (r,
   slope, MAE in % IPD and mm; FRL-189 points 87/93 and 89/91).
c. repeatability: the photo shifted by sub-pixel amounts, rescaled by ±5 %
   and re-encoded as JPEG (q 90 and 75); the pooled within-face SD of each
   asymmetry, mm (this is the SEM of a single measurement, from which
   lipsym's standard errors and minimal detectable changes are derived).
d. invariances: mirror (|A + A_mirror|), rotation ±10°, scale ×0.5 / ×2.

"raw" is MediaPipe alone (no flip-averaging, no refinement); "lipsym" is
the default pipeline. ``--write-calibration`` stores lipsym's repeatability
SDs in src/lipsym/measures/uncertainty.json (relative to the interpupillary
distance), which the measures use as their landmark standard error.
"""

from __future__ import annotations

import argparse
import io
import json
import math
import os
import sys
import time
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

from lipsym.analysis._photo import AnalysisOptions, analyze_landmarks
from lipsym.io import load_photo, photo_from_array
from lipsym.landmarks._detector import Landmarker, LandmarkerOptions
from lipsym.measures import measure_photo
from lipsym.measures._absolute import ABSOLUTE_KEYS
from lipsym.simulate._simulate import Plant, plant
from lipsym.simulate._warp import warp_points
from lipsym.sides import Side

REPO = Path(__file__).resolve().parents[1]
#: $LIPSYM_LONDON_DEV overrides the data folder (tests point it at an empty one).
LONDON = Path(os.environ.get("LIPSYM_LONDON_DEV") or REPO.parent / "shared" / "data" / "london_dev")
CALIBRATION = REPO / "src" / "lipsym" / "measures" / "uncertainty.json"

SENSITIVITY = {  # name → (plant structure, measure key, which planted component)
    "commissure_height": ("commissure", "commissure_height", "up"),
    "commissure_lateral": ("commissure", "commissure_lateral", "out"),
    "bow_peak_height": ("bow_peak", "bow_peak_height", "up"),
    "upper_vermilion_height_mid": ("upper_vermilion", "upper_vermilion_height_mid", "up"),
}
AMOUNTS_MM = (0.5, 1.0, 2.0, 3.0)
KEY = ("commissure_height", "commissure_lateral", "bow_peak_height", "bow_peak_height_above_labrale_superius",
       "upper_vermilion_height_mid", "lower_vermilion_height_mid", "upper_vermilion_height_peak",
       "lower_vermilion_height_peak", "commissure_excursion", "endocanthion_cheilion")


class Method:
    """One pipeline: a landmarker and analysis options."""

    def __init__(self, name: str, flip_average: bool, refine: bool):
        self.name = name
        self.landmarker = Landmarker(LandmarkerOptions(flip_average=flip_average))
        self.options = AnalysisOptions(refine=refine)
        self.seconds = 0.0
        self.photos = 0

    def analyze(self, rgb: np.ndarray):
        t0 = time.perf_counter()
        photo = photo_from_array(rgb)
        a = analyze_landmarks(photo, self.landmarker.landmarks(photo), options=self.options)
        self.seconds += time.perf_counter() - t0
        self.photos += 1
        return a

    def close(self):
        self.landmarker.close()


def _ids(limit: int) -> list[str]:
    return sorted(p.name.split("_")[0] for p in (LONDON / "neutral").glob("*_03.jpg"))[:limit]


def _gt(fid: str) -> dict[str, np.ndarray]:
    pts = np.asarray(json.loads((LONDON / "gt" / f"{fid}_03.frl189.json").read_text())["points"], float)
    # FRL-189 names IMAGE sides: image-left = subject's right.
    return {"pupil_right": pts[0], "pupil_left": pts[1], "cheilion_right": pts[87], "cheilion_left": pts[93],
            "crista_philtri_right": pts[89], "crista_philtri_left": pts[91]}


def _stats(ours, truth) -> dict:
    ours, truth = np.asarray(ours), np.asarray(truth)
    return {"r": float(np.corrcoef(ours, truth)[0, 1]), "slope": float(np.polyfit(truth, ours, 1)[0]),
            "mae": float(np.mean(np.abs(ours - truth)))}


def _fidelity(sim, analysis, fid: str, structure: str, side: Side, comp: str, planted_mm: float) -> float | None:
    """How far the plant moved the MANUAL point of the structure, as a fraction of the planted amount.

    The simulator moves the point it computes from MediaPipe's landmarks; a
    measure that finds the real structure can recover no more of the plant
    than the real structure moved.
    """
    manual = {"commissure": "cheilion", "bow_peak": "crista_philtri"}.get(structure)
    if manual is None:
        return None
    g = _gt(fid)[f"{manual}_{side.value}"]
    moved_px = warp_points(g, sim.field) - g
    fr = analysis.frame
    along = fr.y_axis if comp == "up" else fr.x_axis * (1.0 if side is Side.LEFT else -1.0)
    return float(moved_px @ along) * analysis.scale.mm_per_px / planted_mm


def sensitivity(methods, faces) -> dict:
    out = {m.name: {k: {str(d): [] for d in AMOUNTS_MM} for k in SENSITIVITY} for m in methods}
    fidelity = {k: [] for k in SENSITIVITY}
    for i, (fid, rgb, analyses, base) in enumerate(faces):
        side = Side.LEFT if i % 2 == 0 else Side.RIGHT
        sign = 1.0 if side is Side.LEFT else -1.0
        for name, (structure, key, comp) in SENSITIVITY.items():
            for d in AMOUNTS_MM:
                p = Plant(structure, side, up_mm=d if comp == "up" else 0.0, out_mm=d if comp == "out" else 0.0)
                # The warp is built on lipsym's analysis so both methods see the same photo.
                sim = plant(rgb, analyses["lipsym"], [p])
                warped = sim.rgb
                f = _fidelity(sim, analyses["lipsym"], fid, structure, side, comp, d)
                if f is not None:
                    fidelity[name].append(f)
                for m in methods:
                    after = measure_photo(m.analyze(warped)).sided[key].asymmetry
                    out[m.name][name][str(d)].append(sign * (after - base[m.name].sided[key].asymmetry))
        print(f"  sensitivity: face {fid} done", file=sys.stderr, flush=True)
    summary = {}
    for m, per in out.items():
        summary[m] = {}
        for name, by_d in per.items():
            rows = {}
            for d, vals in by_d.items():
                v = np.asarray(vals)
                rows[d] = {"sensitivity": float(v.mean() / float(d)), "bias_mm": float(v.mean() - float(d)),
                           "sd_mm": float(v.std(ddof=1)), "n": len(v)}
            planted = np.concatenate([[float(d)] * len(v) for d, v in by_d.items() if float(d) >= 1.0])
            measured = np.concatenate([v for d, v in by_d.items() if float(d) >= 1.0])
            rows["slope_1_to_3mm"] = float(np.polyfit(planted, measured, 1)[0])
            summary[m][name] = rows
    summary["plant_fidelity"] = {k: {"mean": float(np.mean(v)), "sd": float(np.std(v, ddof=1)), "min": float(np.min(v)),
                                     "n": len(v)} for k, v in fidelity.items() if v}
    return summary


def agreement(methods, faces) -> dict:
    out = {}
    for m in methods:
        height, lateral, height_gt, lateral_gt, point_err, ipd_mm = [], [], [], [], [], []
        bow, bow_gt = [], []
        for fid, _, analyses, base in faces:
            a = analyses[m.name]
            g = _gt(fid)
            ipd = a.frame.interpupillary_distance_px
            x = g["pupil_left"] - g["pupil_right"]
            gipd = float(np.linalg.norm(x))
            xa, up = x / gipd, np.array([x[1], -x[0]]) / gipd
            mid = 0.5 * (g["pupil_left"] + g["pupil_right"])
            height_gt.append(100 * ((g["cheilion_left"] - g["cheilion_right"]) @ up) / gipd)
            lateral_gt.append(100 * (((g["cheilion_left"] - mid) @ xa) + ((g["cheilion_right"] - mid) @ xa)) / gipd)
            bow_gt.append(100 * ((g["crista_philtri_left"] - g["crista_philtri_right"]) @ up) / gipd)
            bow.append(base[m.name].sided["bow_peak_height"].asymmetry_pct_ipd)
            height.append(base[m.name].sided["commissure_height"].asymmetry_pct_ipd)
            lateral.append(base[m.name].sided["commissure_lateral"].asymmetry_pct_ipd)
            ipd_mm.append(base[m.name].interpupillary_distance_mm)
            for s in ("right", "left"):
                point_err.append(100 * np.linalg.norm(a.anatomy.points_px[f"cheilion_{s}"] - g[f"cheilion_{s}"]) / ipd)
        mm = np.mean(ipd_mm) / 100
        h, lat, b = _stats(height, height_gt), _stats(lateral, lateral_gt), _stats(bow, bow_gt)
        for d in (h, lat, b):
            d["mae_pct_ipd"] = d.pop("mae")
            d["mae_mm"] = d["mae_pct_ipd"] * mm
        out[m.name] = {
            "cheilion_error_pct_ipd": {"median": float(np.median(point_err)), "mean": float(np.mean(point_err)),
                                       "p90": float(np.percentile(point_err, 90))},
            "commissure_height_asymmetry": h,
            "commissure_lateral_asymmetry": lat,
            "bow_peak_height_asymmetry": b,
        }
    return out


def _perturbations(rgb: np.ndarray) -> dict[str, np.ndarray]:
    h, w = rgb.shape[:2]
    out = {}
    for name, (dx, dy) in {"shift_0.5_0": (0.5, 0.0), "shift_0.25_0.5": (0.25, 0.5)}.items():
        m = np.float32([[1, 0, dx], [0, 1, dy]])
        out[name] = cv2.warpAffine(rgb, m, (w, h), flags=cv2.INTER_CUBIC, borderMode=cv2.BORDER_REFLECT)
    for f in (0.95, 1.05):
        out[f"scale_{f}"] = cv2.resize(rgb, (round(w * f), round(h * f)), interpolation=cv2.INTER_AREA if f < 1 else cv2.INTER_CUBIC)
    for q in (90, 75):
        buf = io.BytesIO()
        Image.fromarray(rgb).save(buf, format="JPEG", quality=q)
        out[f"jpeg_{q}"] = np.asarray(Image.open(io.BytesIO(buf.getvalue())).convert("RGB"))
    return out


def _pooled_sd(methods, faces, keys, read) -> dict:
    """Pooled within-face SD of ``read(measures, key) -> (value, unit)`` over the perturbations."""
    res = {m.name: {k: [] for k in keys} for m in methods}
    rel = {m.name: {k: [] for k in keys} for m in methods}
    for fid, rgb, _, base in faces:
        variants = _perturbations(rgb)
        for m in methods:
            vals = {k: [read(base[m.name], k)[0]] for k in keys}
            for img in variants.values():
                meas = measure_photo(m.analyze(img))
                for k in keys:
                    vals[k].append(read(meas, k)[0])
            ipd = base[m.name].interpupillary_distance_mm
            for k in keys:
                v = np.asarray(vals[k])
                res[m.name][k].append(float(np.var(v, ddof=1)))
                unit = read(base[m.name], k)[1]
                norm = {"mm": ipd, "mm2": ipd * ipd}.get(unit, 1.0)  # angles and ratios are scale-free
                rel[m.name][k].append(float(np.var(v / norm, ddof=1)))
        print(f"  repeatability: face {fid} done", file=sys.stderr, flush=True)
    out = {}
    for m in res:
        out[m] = {k: {"sd": math.sqrt(np.mean(res[m][k])), "sd_rel_ipd": math.sqrt(np.mean(rel[m][k])),
                      "unit": read(faces[0][3][m], k)[1]} for k in keys}
    return out


def repeatability(methods, faces) -> dict:
    """Pooled within-face SD of each asymmetry (mm), and relative to the IPD."""
    return _pooled_sd(methods, faces, list(faces[0][3]["lipsym"].sided),
                      lambda meas, k: (meas.sided[k].asymmetry, meas.sided[k].unit))


def absolute_repeatability(methods, faces) -> dict:
    """Pooled within-face SD of each absolute measure's value (mm, mm² or ratio), and relative to the IPD."""
    return _pooled_sd(methods, faces, ABSOLUTE_KEYS,
                      lambda meas, k: (meas.scalars[k].value, meas.scalars[k].unit))


def _write_absolute_calibration(rep: dict, n_faces: int) -> None:
    """Add the absolute measures' landmark SDs to the calibration, leaving the asymmetries' as they are."""
    cal = json.loads(CALIBRATION.read_text())
    for k, v in rep.items():
        cal["sd_rel_ipd"][k] = v["sd_rel_ipd"]
        cal["units"][k] = v["unit"]
    cal["absolute_source"] = ("benchmarks/validate.py --calibrate-absolute, lipsym pipeline, london_dev neutral "
                              f"({n_faces} faces): pooled within-face SD of each absolute value under the same "
                              "perturbations")
    CALIBRATION.write_text(json.dumps(cal, indent=2) + "\n")
    print(f"wrote the absolute measures to {CALIBRATION}")


def invariances(methods, faces) -> dict:
    out = {m.name: {"mirror_max_abs_sum_mm": 0.0, "rotate_10_max_change_mm": 0.0, "scale_max_change_mm": 0.0}
           for m in methods}
    for fid, rgb, _, base in faces:
        h, w = rgb.shape[:2]
        mirrored = np.ascontiguousarray(rgb[:, ::-1])
        rotated = []
        for ang in (10, -10):
            mat = cv2.getRotationMatrix2D((w / 2, h / 2), ang, 1.0)
            rotated.append(cv2.warpAffine(rgb, mat, (w, h), flags=cv2.INTER_CUBIC, borderMode=cv2.BORDER_REFLECT))
        scaled = [cv2.resize(rgb, (w // 2, h // 2), interpolation=cv2.INTER_AREA),
                  cv2.resize(rgb, (w * 2, h * 2), interpolation=cv2.INTER_CUBIC)]
        for m in methods:
            b = base[m.name].sided
            mir = measure_photo(m.analyze(mirrored)).sided
            o = out[m.name]
            o["mirror_max_abs_sum_mm"] = max(o["mirror_max_abs_sum_mm"], max(abs(b[k].asymmetry + mir[k].asymmetry) for k in b))
            for img in rotated:
                s = measure_photo(m.analyze(img)).sided
                o["rotate_10_max_change_mm"] = max(o["rotate_10_max_change_mm"], max(abs(s[k].asymmetry - b[k].asymmetry) for k in KEY))
            for img in scaled:
                s = measure_photo(m.analyze(img)).sided
                o["scale_max_change_mm"] = max(o["scale_max_change_mm"], max(abs(s[k].asymmetry - b[k].asymmetry) for k in KEY))
    return out


def _print_tables(result: dict) -> None:
    print("\n(a) sensitivity to planted asymmetry (measured change / planted), SD in mm")
    for name in SENSITIVITY:
        for m in ("raw", "lipsym"):
            rows = result["sensitivity"][m][name]
            cells = "  ".join(f"{d}mm: {rows[str(d)]['sensitivity']:.2f} (SD {rows[str(d)]['sd_mm']:.2f})" for d in AMOUNTS_MM)
            print(f"  {name:28s} {m:7s} {cells}  slope(1-3mm) {rows['slope_1_to_3mm']:.3f}")
    print("  the plant's movement of the MANUAL point (cheilion, crista philtri) / planted, all amounts:")
    for name, f in result["sensitivity"]["plant_fidelity"].items():
        print(f"  {name:28s} mean {f['mean']:.3f}  SD {f['sd']:.3f}  min {f['min']:.2f}  (n {f['n']})")
    print("\n(b) agreement with manual points (london_dev neutral)")
    for m, r in result["agreement"].items():
        h, lat, e = r["commissure_height_asymmetry"], r["commissure_lateral_asymmetry"], r["cheilion_error_pct_ipd"]
        print(f"  {m:7s} cheilion error median {e['median']:.2f} % IPD (p90 {e['p90']:.2f}); height asym r {h['r']:.3f} "
              f"slope {h['slope']:.3f} MAE {h['mae_pct_ipd']:.3f} % IPD ({h['mae_mm']:.2f} mm); lateral asym r {lat['r']:.3f} "
              f"slope {lat['slope']:.3f} MAE {lat['mae_pct_ipd']:.3f} % IPD ({lat['mae_mm']:.2f} mm)")
        b = r["bow_peak_height_asymmetry"]
        print(f"          bow peak height asym r {b['r']:.3f} slope {b['slope']:.3f} MAE {b['mae_pct_ipd']:.3f} % IPD "
              f"({b['mae_mm']:.2f} mm)")
    print("\n(c) repeatability SD of each asymmetry (shifts, ±5 % scale, JPEG q90/q75)")
    for k in result["repeatability"]["lipsym"]:
        cells = "  ".join(f"{m}: {result['repeatability'][m][k]['sd']:.3f} {result['repeatability'][m][k]['unit']}"
                          for m in result["repeatability"])
        print(f"  {k:40s} {cells}")
    print("\n(d) invariances (worst case over faces, mm)")
    for m, r in result["invariances"].items():
        print(f"  {m:7s} " + "  ".join(f"{k} {v:.2e}" for k, v in r.items()))
    print("\ncost")
    for m, r in result["cost"].items():
        print(f"  {m:7s} {r['ms_per_photo']:.1f} ms per analysed photo (decoded in memory, {r['photos']} photos)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--faces", type=int, default=34)
    parser.add_argument("--sensitivity-faces", type=int, default=None, help="default: --faces")
    parser.add_argument("--out", type=Path, default=Path("validation.json"))
    parser.add_argument("--write-calibration", action="store_true")
    parser.add_argument("--calibrate-absolute", action="store_true",
                        help="only measure the absolute measures' repeatability (lipsym pipeline) and add "
                             "their SDs to the calibration, keeping the asymmetries' SDs")
    args = parser.parse_args()
    if not LONDON.is_dir():
        sys.exit(f"validate: {LONDON} is absent; the benchmark needs the London photos")
    methods = [Method("raw", flip_average=False, refine=False), Method("lipsym", flip_average=True, refine=True)]
    if args.calibrate_absolute:
        methods[0].close()
        methods = methods[1:]
    ids = _ids(args.faces)
    if not ids:  # an empty or half-copied data folder must not pass as a validation run
        sys.exit(f"validate: no photos (*_03.jpg) in {LONDON / 'neutral'}; the benchmark needs the London photos")
    faces = []
    for fid in ids:
        rgb = load_photo(LONDON / "neutral" / f"{fid}_03.jpg").rgb
        analyses = {m.name: m.analyze(rgb) for m in methods}
        faces.append((fid, rgb, analyses, {k: measure_photo(a) for k, a in analyses.items()}))
    if args.calibrate_absolute:
        rep = absolute_repeatability(methods, faces)["lipsym"]
        methods[0].close()
        for k, v in rep.items():
            print(f"{k:35s} sd {v['sd']:.4f} {v['unit']}   sd_rel_ipd {v['sd_rel_ipd']:.6f}")
        _write_absolute_calibration(rep, len(faces))
        return
    result = {
        "faces": [f[0] for f in faces],
        "agreement": agreement(methods, faces),
        "repeatability": repeatability(methods, faces),
        "absolute_repeatability": absolute_repeatability(methods, faces),
        "sensitivity": sensitivity(methods, faces[: args.sensitivity_faces or args.faces]),
        "invariances": invariances(methods, faces[:6]),
    }
    result["cost"] = {m.name: {"ms_per_photo": 1e3 * m.seconds / m.photos, "photos": m.photos} for m in methods}
    for m in methods:
        m.close()
    _print_tables(result)
    args.out.write_text(json.dumps(result, indent=2))
    print(f"\nwrote {args.out}")
    if args.write_calibration:
        # The asymmetries' SDs, then the absolute values'.
        rep = {**result["repeatability"]["lipsym"], **result["absolute_repeatability"]["lipsym"]}
        cal = {"source": "benchmarks/validate.py repeatability, lipsym pipeline, london_dev neutral "
                         f"({len(faces)} faces): pooled within-face SD under sub-pixel shifts, ±5 % rescaling "
                         "and JPEG re-encoding (of the asymmetries; of the values for the absolute measures)",
               "sd_rel_ipd": {k: v["sd_rel_ipd"] for k, v in rep.items()},
               "units": {k: v["unit"] for k, v in rep.items()},
               "sensitivity_rel_sd": {k: result["sensitivity"]["lipsym"][k]["2.0"]["sd_mm"] / 2.0
                                      for k in SENSITIVITY}}
        CALIBRATION.write_text(json.dumps(cal, indent=2) + "\n")
        print(f"wrote {CALIBRATION}")


if __name__ == "__main__":
    main()
