"""Validation benchmark: raw MediaPipe beside lipsym, on London and 3DSK separately, in one run.

Usage::

    python benchmarks/validate.py [--set london|3dsk|all] [--parts agreement,plants,...]
                                  [--json OUT] [--cache DIR | --no-cache] [--faces N]
                                  [--write-calibration] [--calibrate-absolute]

Needs ../shared/data/london_dev (34 people; neutral photos with 189 manual points,
smiling photos without) and ../shared/data/3dsk_dev (50 neutral photos with manual
points). Methods, all on the same photos:

- ``raw``: MediaPipe alone (one detection, no flip-averaging, no refinement);
- ``mediapipe_flip``: flip-averaged MediaPipe, no refinement (``--no-refine``);
- ``lipsym``: the default pipeline.

Parts (``--parts``, comma-separated; default ``agreement,plants``):

agreement (per set; benchmarks/_validate_agreement.py)
    Against the manual points: commissure height asymmetry (r, slope, MAE, % IPD),
    cheilion error (median, p90, % IPD), Cupid's bow peak height asymmetry (r, MAE and
    the MAE of answering zero), hemi-vermilion AREA asymmetry upper and lower against
    the manual polygons split at the facial midline (r, slope, MAE, mm²), vermilion
    height asymmetry at mid-hemilip, the ``refinement_fallback`` rate; each figure
    broken down by skin tone (London ``face_eth``) and facial hair
    (benchmarks/labels/beards.csv); the error of photos flagged / not flagged by any
    per-measure confidence the measures carry; the issue's acceptance points.
plants (per set; benchmarks/_validate_plants.py)
    Planted Cupid's bow lifts of several shapes and widths (lipsym.simulate bow
    shapes), 1 and 2 mm, recovery = measured change / planted, per shape.
sensitivity, repeatability, invariances (London neutral only; the earlier tables)
    (a) the standard plants (commissure, bow, upper vermilion) 0.5-3 mm with the plant's
    fidelity on the manual points; (c) pooled within-face SD under sub-pixel shifts,
    ±5 % rescaling, JPEG q90/q75 (the calibration of lipsym's standard errors);
    (d) mirror, rotation ±10°, scale ×0.5 / ×2.

MediaPipe's detections are cached (``--cache``, default a private folder under the
system's temporary directory) keyed by the decoded pixels, the model's digest, the
landmarker's options and the landmark layer's source: the refinement and the measures
always run anew, so a changed refinement is never served stale figures.

``--write-calibration`` stores lipsym's repeatability SDs in
src/lipsym/measures/uncertainty.json (relative to the interpupillary distance), which
the measures use as their landmark standard error (it runs the repeatability and
sensitivity parts on London).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _perturb import perturbations  # noqa: E402
from _validate_data import LONDON, THREEDSK, CachedLandmarker, faces_of, london_faces  # noqa: E402
import _validate_agreement as agreement_mod  # noqa: E402
import _validate_plants as plants_mod  # noqa: E402
from _validate_markdown import OTHER_ROWS  # noqa: E402
from lipsym.analysis._photo import AnalysisOptions, analyze_landmarks  # noqa: E402
from lipsym.io import load_photo, photo_from_array  # noqa: E402
from lipsym.landmarks._detector import LandmarkerOptions  # noqa: E402
from lipsym.measures import measure_photo  # noqa: E402
from lipsym.measures._absolute import ABSOLUTE_KEYS  # noqa: E402
from lipsym.refine._evidence import STRUCTURE_MEASURES  # noqa: E402
from lipsym.simulate._simulate import Plant, plant  # noqa: E402
from lipsym.simulate._warp import warp_points  # noqa: E402
from lipsym.sides import Side  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
CALIBRATION = REPO / "src" / "lipsym" / "measures" / "uncertainty.json"
SETS = {"london": LONDON, "3dsk": THREEDSK}
SET_NAMES = {"london": "London", "3dsk": "3DSK"}
DEFAULT_CACHE = Path(tempfile.gettempdir()) / f"lipsym-validate-cache-{os.getuid()}"

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
#: Methods: name → (flip-average MediaPipe, refine).
METHODS = {"raw": (False, False), "mediapipe_flip": (True, False), "lipsym": (True, True)}
PARTS = ("agreement", "plants", "sensitivity", "repeatability", "invariances")
DEFAULT_PARTS = "agreement,plants"


class Methods:
    """The compared pipelines, sharing cached detectors (one per flip setting)."""

    def __init__(self, cache_dir: Path | None, names=tuple(METHODS)):
        self.names = tuple(names)
        self._landmarkers = {flip: CachedLandmarker(LandmarkerOptions(flip_average=flip), cache_dir)
                             for flip in sorted({METHODS[n][0] for n in self.names})}
        self.seconds = {n: 0.0 for n in self.names}
        self.photos = {n: 0 for n in self.names}

    def analyze(self, name: str, photo, expression: str = "rest"):
        flip, refine = METHODS[name]
        marks = self._landmarkers[flip].landmarks(photo)
        t0 = time.perf_counter()  # the analysis after detection: refinement and frame
        a = analyze_landmarks(photo, marks, expression=expression,
                              options=AnalysisOptions(refine=refine, landmarker=LandmarkerOptions(flip_average=flip)))
        self.seconds[name] += time.perf_counter() - t0
        self.photos[name] += 1
        return a

    def cache_stats(self) -> dict:
        return {f"flip={k}": {"hits": v.hits, "misses": v.misses} for k, v in self._landmarkers.items()}

    def close(self) -> None:
        for lm in self._landmarkers.values():
            lm.close()


class Method:
    """One pipeline of the London tables (a)-(d): analyses an in-memory RGB photo."""

    def __init__(self, methods: Methods, name: str):
        self.name, self._methods = name, methods

    def analyze(self, rgb: np.ndarray):
        return self._methods.analyze(self.name, photo_from_array(rgb))


def _gt(fid: str) -> dict[str, np.ndarray]:
    pts = np.asarray(json.loads((LONDON / "gt" / f"{fid}_03.frl189.json").read_text())["points"], float)
    # FRL-189 names IMAGE sides: image-left = subject's right.
    return {"pupil_right": pts[0], "pupil_left": pts[1], "cheilion_right": pts[87], "cheilion_left": pts[93],
            "crista_philtri_right": pts[89], "crista_philtri_left": pts[91]}


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
    """Recovered fraction of planted asymmetries, per measure and amount.

    ``sd_strong_mm`` leaves out the plants whose measure was flagged as resting on weak
    evidence (``weak_evidence_<structure>``): a flagged measure carries its own, wider
    standard error (``weak_evidence_sd_rel_ipd``), and a weak Cupid's bow is half-corrected,
    so it recovers about half of a lift (London 020, 083, 128, 141 at 2 mm: 0.39-0.54). Counting
    it in the face-to-face spread as well would widen every unflagged photo's error by it.
    """
    out = {m.name: {k: {str(d): [] for d in AMOUNTS_MM} for k in SENSITIVITY} for m in methods}
    strong = {m.name: {k: {str(d): [] for d in AMOUNTS_MM} for k in SENSITIVITY} for m in methods}
    weak_flag = {key: f"weak_evidence_{structure}" for structure, keys in STRUCTURE_MEASURES.items() for key in keys}
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
                    analysis = m.analyze(warped)
                    after = measure_photo(analysis).sided[key].asymmetry
                    change = sign * (after - base[m.name].sided[key].asymmetry)
                    out[m.name][name][str(d)].append(change)
                    if not any(f.code == weak_flag.get(key) for f in analysis.flags):
                        strong[m.name][name][str(d)].append(change)
        print(f"  sensitivity: face {fid} done", file=sys.stderr, flush=True)
    summary = {}
    for m, per in out.items():
        summary[m] = {}
        for name, by_d in per.items():
            rows = {}
            for d, vals in by_d.items():
                v, v_strong = np.asarray(vals), np.asarray(strong[m][name][d])
                rows[d] = {"sensitivity": float(v.mean() / float(d)), "bias_mm": float(v.mean() - float(d)),
                           "sd_mm": float(v.std(ddof=1)), "n": len(v),
                           "sd_strong_mm": float(v_strong.std(ddof=1)) if len(v_strong) > 1 else float("nan"),
                           "n_strong": len(v_strong)}
            planted = np.concatenate([[float(d)] * len(v) for d, v in by_d.items() if float(d) >= 1.0])
            measured = np.concatenate([v for d, v in by_d.items() if float(d) >= 1.0])
            rows["slope_1_to_3mm"] = float(np.polyfit(planted, measured, 1)[0])
            summary[m][name] = rows
    summary["plant_fidelity"] = {k: {"mean": float(np.mean(v)), "sd": float(np.std(v, ddof=1)), "min": float(np.min(v)),
                                     "n": len(v)} for k, v in fidelity.items() if v}
    return summary


def _pooled_sd(methods, faces, keys, read) -> dict:
    """Pooled within-face SD of ``read(measures, key) -> (value, unit)`` over the perturbations."""
    res = {m.name: {k: [] for k in keys} for m in methods}
    rel = {m.name: {k: [] for k in keys} for m in methods}
    for fid, rgb, _, base in faces:
        variants = perturbations(rgb)
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


def _print_legacy(result: dict) -> None:
    if "sensitivity" in result:
        print("\n(a) London: sensitivity to planted asymmetry (measured change / planted), SD in mm")
        for name in SENSITIVITY:
            for m in result["sensitivity"]:
                if m == "plant_fidelity":
                    continue
                rows = result["sensitivity"][m][name]
                cells = "  ".join(f"{d}mm: {rows[str(d)]['sensitivity']:.2f} (SD {rows[str(d)]['sd_mm']:.2f}; "
                                  f"unflagged {rows[str(d)].get('sd_strong_mm', float('nan')):.2f}, "
                                  f"n {rows[str(d)].get('n_strong', 0)})"
                                  for d in AMOUNTS_MM)
                print(f"  {name:28s} {m:14s} {cells}  slope(1-3mm) {rows['slope_1_to_3mm']:.3f}")
        print("  the plant's movement of the MANUAL point (cheilion, crista philtri) / planted, all amounts:")
        for name, f in result["sensitivity"]["plant_fidelity"].items():
            print(f"  {name:28s} mean {f['mean']:.3f}  SD {f['sd']:.3f}  min {f['min']:.2f}  (n {f['n']})")
    if "repeatability" in result:
        print("\n(c) London: repeatability SD of each asymmetry (shifts, ±5 % scale, JPEG q90/q75)")
        for k in result["repeatability"]["lipsym"]:
            cells = "  ".join(f"{m}: {result['repeatability'][m][k]['sd']:.3f} {result['repeatability'][m][k]['unit']}"
                              for m in result["repeatability"])
            print(f"  {k:40s} {cells}")
    if "invariances" in result:
        print("\n(d) London: invariances (worst case over faces, mm)")
        for m, r in result["invariances"].items():
            print(f"  {m:14s} " + "  ".join(f"{k} {v:.2e}" for k, v in r.items()))


def _jsonable(x):
    """NaN and infinities as null (JSON has no NaN); numpy scalars as Python numbers."""
    if isinstance(x, dict):
        return {str(k): _jsonable(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_jsonable(v) for v in x]
    if isinstance(x, (np.floating, float)):
        return float(x) if math.isfinite(x) else None
    if isinstance(x, np.integer):
        return int(x)
    if isinstance(x, np.bool_):
        return bool(x)
    return x


def _check_data(sets) -> None:
    for name in sets:
        folder = SETS[name]
        label = SET_NAMES[name]
        if not folder.is_dir():
            sys.exit(f"validate: {folder} is absent; the benchmark needs the {label} photos")
        if not faces_of(name):  # an empty or half-copied data folder must not pass as a validation run
            sys.exit(f"validate: no annotated photos in {folder}; the benchmark needs the {label} photos")


def run_agreement(methods: Methods, sets, limit: int | None) -> dict:
    """Per set: every face's record per method, their summaries, breakdowns and acceptance."""
    out = {}
    for name in sets:
        records = {m: [] for m in methods.names}
        for face in faces_of(name)[:limit]:
            photo = load_photo(face.image)
            for m, rec in agreement_mod.measure_face(face, methods, photo).items():
                records[m].append(rec)
            print(f"  agreement: {name} {face.id} done", file=sys.stderr, flush=True)
        res = {"faces": len(records[methods.names[0]]), "records": records, "summary": {}, "by_skin": {},
               "by_beard": {}, "confidence": {}}
        for m, recs in records.items():
            res["summary"][m] = agreement_mod.summarise(recs)
            res["by_skin"][m] = agreement_mod.by_group(recs, "skin")
            res["by_beard"][m] = agreement_mod.by_group(recs, "beard")
            res["confidence"][m] = agreement_mod.confidence_split(recs)
        if "lipsym" in res["summary"]:
            res["acceptance"] = [{"criterion": c, "figure": f, "met": bool(ok)}
                                 for c, f, ok in agreement_mod.acceptance(res["summary"]["lipsym"],
                                                                          res["by_skin"]["lipsym"])]
        out[name] = res
    return out


_NO_STATS = {"r": None, "slope": None, "mae": None}  # a figure an older saved run lacks


def _fmt(v, spec=".3f") -> str:
    return "  nan" if v is None or not math.isfinite(v) else format(v, spec)


def _print_summary_rows(summary: dict, indent: str = "  ") -> None:
    for m, s in summary.items():
        c, e, b = s["commissure_height"], s["cheilion_error"], s["bow_peak_height"]
        ua, la = s["upper_area"], s["lower_area"]
        uh, lh = s["upper_height_mid"], s["lower_height_mid"]
        fail = f"  FAILED {len(s['failed'])}" if s["failed"] else ""
        print(f"{indent}{m:14s} n {s['n']:2d}{fail}")
        print(f"{indent}  commissure height asym   r {_fmt(c['r'])} slope {_fmt(c['slope'])} MAE {_fmt(c['mae'])} % IPD")
        lat = s.get("commissure_lateral", _NO_STATS)
        print(f"{indent}  commissure lateral asym  r {_fmt(lat['r'])} slope {_fmt(lat['slope'])} MAE {_fmt(lat['mae'])} "
              "% IPD")
        print(f"{indent}  cheilion error           median {_fmt(e['median'], '.2f')} p90 {_fmt(e['p90'], '.2f')} "
              f"mean {_fmt(e['mean'], '.2f')} % IPD")
        print(f"{indent}  bow peak height asym     r {_fmt(b['r'])} slope {_fmt(b['slope'])} MAE {_fmt(b['mae'])} "
              f"% IPD; MAE of answering 0 {_fmt(b['mae_zero'])} (ratio {_fmt(b['mae'] / b['mae_zero'] if b['mae_zero'] else float('nan'), '.2f')})")
        for lip, a, sp in (("upper", ua, s["upper_area_spline"]), ("lower", la, s["lower_area_spline"])):
            print(f"{indent}  {lip} hemi-verm. area asym r {_fmt(a['r'])} slope {_fmt(a['slope'])} MAE "
                  f"{_fmt(a['mae'], '.1f')} mm² (polygon; vs spline r {_fmt(sp['r'])} slope {_fmt(sp['slope'])})")
        print(f"{indent}  verm. height asym mid    upper r {_fmt(uh['r'])} slope {_fmt(uh['slope'])} MAE "
              f"{_fmt(uh['mae'])}; lower r {_fmt(lh['r'])} slope {_fmt(lh['slope'])} MAE {_fmt(lh['mae'])} % IPD")
        for key, label in OTHER_ROWS:
            o = s.get(key, _NO_STATS)
            print(f"{indent}  {label}: r {_fmt(o['r'])} slope {_fmt(o['slope'])} MAE {_fmt(o['mae'])}")
        print(f"{indent}  refinement_fallback      {s['fallback_n']}/{s['n']} ({_fmt(100 * s['fallback_rate'], '.0f')} %)")
        for f in s["failed"]:
            print(f"{indent}  failed: {f}")


def _print_group_rows(groups: dict, label: str) -> None:
    print(f"  by {label} (n per group; r and slope are unstable below n ≈ 10):")
    print(f"    {'group':12s} {'method':14s} {'n':>3s} {'comm r':>7s} {'MAE':>6s} {'ch med':>6s} {'p90':>5s} "
          f"{'bow r':>6s} {'MAE/0':>6s} {'upA r':>6s} {'slope':>6s} {'loA r':>6s} {'slope':>6s} {'fallbk':>6s}")
    methods = list(groups)
    for g in groups[methods[0]]:
        for m in methods:
            s = groups[m][g]
            c, e, b = s["commissure_height"], s["cheilion_error"], s["bow_peak_height"]
            ratio = b["mae"] / b["mae_zero"] if b["mae_zero"] else float("nan")
            print(f"    {g:12s} {m:14s} {s['n']:3d} {_fmt(c['r'], '7.3f')} {_fmt(c['mae'], '6.3f')} "
                  f"{_fmt(e['median'], '6.2f')} {_fmt(e['p90'], '5.2f')} {_fmt(b['r'], '6.3f')} {_fmt(ratio, '6.2f')} "
                  f"{_fmt(s['upper_area']['r'], '6.3f')} {_fmt(s['upper_area']['slope'], '6.2f')} "
                  f"{_fmt(s['lower_area']['r'], '6.3f')} {_fmt(s['lower_area']['slope'], '6.2f')} "
                  f"{_fmt(100 * s['fallback_rate'], '5.0f')}%")


def print_agreement(result: dict) -> None:
    for name, res in result.items():
        print(f"\n== {SET_NAMES[name]}: agreement with the manual FRL-189 points ({res['faces']} neutral faces) ==")
        print("  % IPD of the MANUAL interpupillary distance; areas in mm² with each method's own scale; "
              "asymmetries left − right (subject)")
        _print_summary_rows(res["summary"])
        _print_group_rows(res["by_skin"], "skin tone (London face_eth; 3DSK has no labels)")
        _print_group_rows(res["by_beard"], "facial hair (benchmarks/labels/beards.csv, by eye)")
        conf = {m: c for m, c in res["confidence"].items() if c}
        if conf:
            print("  confidence vs error (absolute error of flagged / unflagged photos):")
            for m, per in conf.items():
                for k, v in per.items():
                    print(f"    {m:14s} {k:18s} flagged n {v['flagged']['n']:2d} MAE {_fmt(v['flagged']['mae'])} "
                          f"p90 {_fmt(v['flagged']['p90'])}; unflagged n {v['unflagged']['n']:2d} MAE "
                          f"{_fmt(v['unflagged']['mae'])} p90 {_fmt(v['unflagged']['p90'])} {v['unit']}")
        else:
            print("  confidence vs error: no per-measure confidence found in the measures or the analysis")
        if "acceptance" in res:
            print(f"  acceptance (issue #14), lipsym on {SET_NAMES[name]}:")
            for a in res["acceptance"]:
                print(f"    {'MET   ' if a['met'] else 'MISSED'} {a['criterion']:45s} {a['figure']}")


def _print_all(result: dict) -> None:
    if "agreement" in result:
        print_agreement(result["agreement"])
    if "plants" in result:
        plants_mod.print_plants(result["plants"])
    _print_legacy(result)


def _write_markdown(result: dict, path: Path) -> None:
    import _validate_markdown

    path.write_text(_validate_markdown.markdown(json.loads(json.dumps(_jsonable(result)))) + "\n")
    print(f"wrote {path}")


def _legacy_faces(methods: Methods, limit: int | None, names: tuple[str, ...] = ("raw", "lipsym")):
    """The London neutral photos analysed by each pipeline of ``names``: (pipelines, faces)."""
    ms = [Method(methods, n) for n in names]
    faces = []
    for face in london_faces()[:limit]:
        rgb = load_photo(face.image).rgb
        analyses = {m.name: m.analyze(rgb) for m in ms}
        faces.append((face.id, rgb, analyses, {k: measure_photo(a) for k, a in analyses.items()}))
    return ms, faces


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--set", choices=("london", "3dsk", "all"), default="all")
    parser.add_argument("--parts", default=DEFAULT_PARTS,
                        help=f"comma-separated, of {', '.join(PARTS)} (default agreement,plants; 'all' for every part)")
    parser.add_argument("--faces", type=int, default=None, help="at most N faces per set (default all)")
    parser.add_argument("--sensitivity-faces", type=int, default=None, help="default: --faces")
    parser.add_argument("--json", "--out", dest="json", type=Path, default=None, help="write every figure as JSON")
    parser.add_argument("--markdown", type=Path, default=None,
                        help="also write the figures as Markdown tables (docs/accuracy.md's)")
    parser.add_argument("--from-json", type=Path, default=None,
                        help="print the tables of a saved --json run (with --markdown: render them) and stop")
    parser.add_argument("--cache", type=Path, default=DEFAULT_CACHE, help="detection cache folder")
    parser.add_argument("--no-cache", action="store_true")
    parser.add_argument("--write-calibration", action="store_true")
    parser.add_argument("--calibrate-absolute", action="store_true",
                        help="only measure the absolute measures' repeatability (lipsym pipeline) and add "
                             "their SDs to the calibration, keeping the asymmetries' SDs")
    args = parser.parse_args()
    if args.from_json:
        saved = json.loads(args.from_json.read_text())
        _print_all(saved)
        if args.markdown:
            _write_markdown(saved, args.markdown)
        return
    sets = ("london", "3dsk") if args.set == "all" else (args.set,)
    parts = PARTS if args.parts == "all" else tuple(p.strip() for p in args.parts.split(",") if p.strip())
    unknown = set(parts) - set(PARTS)
    if unknown:
        sys.exit(f"validate: unknown part(s) {', '.join(sorted(unknown))}; expected {', '.join(PARTS)}")
    if args.write_calibration:
        parts = tuple(dict.fromkeys(parts + ("sensitivity", "repeatability")))
    if args.calibrate_absolute or any(p in parts for p in ("sensitivity", "repeatability", "invariances")):
        sets_needed = tuple(dict.fromkeys(("london",) + sets))
    else:
        sets_needed = sets
    _check_data(sets_needed)
    methods = Methods(None if args.no_cache else args.cache)
    t0 = time.perf_counter()
    try:
        if args.calibrate_absolute:
            ms, faces = _legacy_faces(methods, args.faces)
            rep = absolute_repeatability(ms[1:], faces)["lipsym"]
            for k, v in rep.items():
                print(f"{k:35s} sd {v['sd']:.4f} {v['unit']}   sd_rel_ipd {v['sd_rel_ipd']:.6f}")
            _write_absolute_calibration(rep, len(faces))
            return
        result = {"sets": list(sets), "parts": list(parts), "methods": {k: {"flip_average": v[0], "refine": v[1]}
                                                                      for k, v in METHODS.items()}}
        if "agreement" in parts:
            result["agreement"] = run_agreement(methods, sets, args.faces)
            print_agreement(result["agreement"])
        if "plants" in parts:
            result["plants"] = plants_mod.run_plants(methods, sets, args.faces)
            plants_mod.print_plants(result["plants"])
        if any(p in parts for p in ("sensitivity", "repeatability", "invariances")):
            ms, faces = _legacy_faces(methods, args.faces)
            result["legacy_faces"] = [f[0] for f in faces]
            if "repeatability" in parts:
                result["repeatability"] = repeatability(ms, faces)
                result["absolute_repeatability"] = absolute_repeatability(ms, faces)
            if "sensitivity" in parts:
                result["sensitivity"] = sensitivity(ms, faces[: args.sensitivity_faces or args.faces])
            if "invariances" in parts:
                result["invariances"] = invariances(ms, faces[:6])
            _print_legacy(result)
        result["cost"] = {m: {"ms_per_photo_after_detection": 1e3 * methods.seconds[m] / max(methods.photos[m], 1),
                              "photos": methods.photos[m]} for m in methods.names}
        result["detection_cache"] = methods.cache_stats()
        result["seconds"] = time.perf_counter() - t0
    finally:
        methods.close()
    print("\ncost (analysis after detection: frame, refinement, anatomy)")
    for m, r in result["cost"].items():
        print(f"  {m:14s} {r['ms_per_photo_after_detection']:.1f} ms per photo ({r['photos']} photos)")
    print(f"  detection cache {result['detection_cache']}; {result['seconds']:.0f} s in all")
    if args.json:
        args.json.write_text(json.dumps(_jsonable(result), indent=1))
        print(f"\nwrote {args.json}")
    if args.markdown:
        _write_markdown(_jsonable(result), args.markdown)
    if args.write_calibration:
        # The asymmetries' SDs, then the absolute values'.
        rep = {**result["repeatability"]["lipsym"], **result["absolute_repeatability"]["lipsym"]}
        n = len(result["legacy_faces"])
        # Entries written by other calibrations (the weak-evidence fallback SDs, lipsym.refine) are kept.
        cal = json.loads(CALIBRATION.read_text())
        cal |= {"source": "benchmarks/validate.py repeatability, lipsym pipeline, london_dev neutral "
                          f"({n} faces): pooled within-face SD under sub-pixel shifts, ±5 % rescaling "
                          "and JPEG re-encoding (of the asymmetries; of the values for the absolute measures)",
                "sd_rel_ipd": {k: v["sd_rel_ipd"] for k, v in rep.items()},
                "units": {k: v["unit"] for k, v in rep.items()},
                "sensitivity_rel_sd": {k: result["sensitivity"]["lipsym"][k]["2.0"]["sd_strong_mm"] / 2.0
                                       for k in SENSITIVITY}}
        CALIBRATION.write_text(json.dumps(cal, indent=2) + "\n")
        print(f"wrote {CALIBRATION}")


if __name__ == "__main__":
    main()
