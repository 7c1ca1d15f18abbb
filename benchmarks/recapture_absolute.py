"""Re-capture benchmark of the ABSOLUTE lip measures: honest change calls between two photos.

Usage::

    python benchmarks/recapture_absolute.py [--faces N] [--recaptures N] [--workers N] [--cache FILE]
        [--fit [--perspective]] [--draw {default,earlier}]

Needs ../shared/data (London and 3DSK development photos, the invariance
re-photographs); exits with a one-line reason when it is absent.

Pairs (issue #16, the treatment's effect):

- simulated re-captures (lipsym.simulate._recapture, its default draw as in
  benchmarks/recapture.py: a quarter at close range, small faces; ``--draw
  earlier``: the earlier calibration's, without close range) of the first ``--faces``
  development photos of each set (London neutral *_03 as rest, London
  smiling *_08 as smile, 3DSK neutral as rest): each photo against
  ``--recaptures`` re-captures of itself and the re-captures against each
  other. The model's coefficients are fitted on these (``--fit``);
- real re-photographs of unchanged people, NEVER fitted, the check: every
  pair within invariance/lisa (lisa1-4) and within invariance/zoom (15, 30,
  45, 60 cm), 6 + 6 pairs, rest;
- planted upper-vermilion growth of 1 and 2 mm on both sides (the
  ``upper_vermilion`` plant of lipsym.simulate grows the vermilion height at
  mid-hemilip) rendered on a re-capture, against the original photo.

Printed per absolute measure (lipsym.measures._absolute.ABSOLUTE_KEYS): the
false "detectable" rate on the unchanged pairs with the one-photo standard
error and with the between-capture model (lipsym.comparison._absolute_change),
and the detection rate of the planted growth.

The analyses are cached as JSON lines (``--cache``, default
/tmp/lipsym_recapture_absolute.jsonl): a second run only re-evaluates.
"""

from __future__ import annotations

import argparse
import itertools
import math
import os
import sys
from pathlib import Path

import numpy as np

from _recapture_data import REAL, check_data, collect_rows, faces  # the benchmarks folder is on sys.path
from _recapture_data import capture as _capture, landmarker as _landmarker, unchanged as _unchanged
AMOUNTS_MM = (1.0, 2.0)
PLANT_KEY = "upper_vermilion_height_mid_mean"
#: Redraws of a re-capture the simulator cannot render (as benchmarks/recapture.py).
_MAX_DRAWS = 5
#: Environment variable that carries ``--draw`` to the spawned workers.
_DRAW_ENV = "LIPSYM_RECAPTURE_ABSOLUTE_DRAW"


# --- analysis (worker side) -------------------------------------------------------

def _measured(photo, expression: str):
    """(analysis, {key: value, se, unit}, capture dict) of a decoded photo."""
    from lipsym.analysis._photo import analyze_landmarks
    from lipsym.comparison._capture import capture_from_analysis, capture_to_dict
    from lipsym.measures._absolute import ABSOLUTE_KEYS
    from lipsym.measures._photo import measure_photo

    a = analyze_landmarks(photo, _landmarker().landmarks(photo), expression=expression)
    m = measure_photo(a)
    values = {k: {"value": v.value, "standard_error": v.standard_error, "unit": v.unit}
              for k, v in m.scalars.items() if k in ABSOLUTE_KEYS}
    return a, values, capture_to_dict(capture_from_analysis(a, m))


def _array(rgb: np.ndarray, expression: str):
    from lipsym.io import photo_from_array
    return _measured(photo_from_array(rgb), expression)


def _simulated_rows(job: tuple[int, str, str, str, int, int]) -> list[dict]:
    """Unchanged and planted pairs of one development face."""
    from lipsym.io import load_photo
    from lipsym.sides import Side
    from lipsym.simulate._recapture import planted_recapture, recapture, sample_params as sample
    from lipsym.simulate._simulate import Plant

    index, set_, expression, path, n_recaptures, seed = job
    rng = np.random.default_rng([seed, index])
    photo = load_photo(path)
    a, vals, cap = _measured(photo, expression)
    face = Path(path).stem
    base = {"set": set_, "expression": expression, "face": face}
    versions = [(vals, cap)]
    earlier = os.environ.get(_DRAW_ENV) == "earlier"

    def draw(render):
        """(measures, capture) of one re-capture, drawn as benchmarks/recapture.py draws them
        (close range and small faces included); parameters the simulator cannot render or whose
        face MediaPipe does not find are redrawn, and counted. ``--draw earlier``: the re-captures
        of the calibration before the close-range share (no close range, downscale to 0.3)."""
        from lipsym.errors import LipsymError
        for _ in range(_MAX_DRAWS):
            params = (sample(rng, close_range=False) if earlier
                      else sample(rng, face_width_px=cap["face_width_px"]))
            try:
                _, s, c = _array(render(params).rgb, expression)
            except LipsymError as exc:
                print(f"  {face}: redrawn ({type(exc).__name__}: {str(exc)[:80]})", file=sys.stderr, flush=True)
                continue
            return s, c
        raise RuntimeError(f"{face}: no renderable re-capture in {_MAX_DRAWS} draws")

    for _ in range(n_recaptures):
        versions.append(draw(lambda params: recapture(photo.rgb, a, params)))
    rows = [dict(base, kind="unchanged", before=b[0], after=v[0], cap_before=b[1], cap_after=v[1])
            for b, v in itertools.combinations(versions, 2)]
    for d in AMOUNTS_MM:
        plants = [Plant("upper_vermilion", Side.LEFT, up_mm=d), Plant("upper_vermilion", Side.RIGHT, up_mm=d)]
        s, c = draw(lambda params: planted_recapture(photo.rgb, a, plants, params))
        rows.append(dict(base, kind="planted", amount_mm=d, before=vals, after=s, cap_before=cap, cap_after=c))
    return rows


def _real_rows(set_: str) -> list[dict]:
    from lipsym.io import load_photo
    photos = [(p.stem, *_measured(load_photo(p), "rest")[1:]) for p in REAL[set_]]
    return [{"set": set_, "expression": "rest", "face": f"{b[0]}-{a[0]}", "kind": "unchanged",
             "before": b[1], "after": a[1], "cap_before": b[2], "cap_after": a[2]}
            for b, a in itertools.combinations(photos, 2)]


def collect(cache: Path, n_faces: int, n_recaptures: int, workers: int, seed: int) -> list[dict]:
    """Analyse every pair (or read them from ``cache``)."""
    return collect_rows(cache, lambda: _real_rows("lisa") + _real_rows("zoom"), _simulated_rows, faces(n_faces), n_recaptures, workers, seed)


# --- evaluation ------------------------------------------------------------------

SIM_SETS = (("london", "rest"), ("london", "smile"), ("3dsk", "rest"))
FIT_TERMS = ("scale", "base_rest", "base_smile", "pose", "distance", "perspective")
#: Largest false "detectable" rate the fitted model may leave on the
#: simulated calibration pairs (the acceptance target is 5 %).
FIT_TARGET_RATE = 0.04


def _scalar(key: str, d: dict):
    from lipsym.measures import ScalarMeasure
    return ScalarMeasure(key, d["unit"], d["value"], d["standard_error"], "")


def _changes(row: dict, with_captures: bool) -> dict:
    from lipsym.comparison._absolute_change import compare_absolute
    b = {k: _scalar(k, v) for k, v in row["before"].items() if v["value"] is not None}
    a = {k: _scalar(k, v) for k, v in row["after"].items() if v["value"] is not None}
    caps = (_capture(row["cap_before"]), _capture(row["cap_after"])) if with_captures else None
    return compare_absolute(b, a, captures=caps)


def _rate(rows: list[dict], key: str, with_captures: bool) -> tuple[float, int]:
    calls = [c[key].detectable for c in (_changes(r, with_captures) for r in rows) if key in c]
    return (float(np.mean(calls)) if calls else float("nan")), len(calls)


def _features(row: dict, key: str) -> tuple[list[float], float] | None:
    """(features, squared change beyond the landmark variance) of one pair, or None."""
    from lipsym.comparison._absolute_change import _landmark_se
    from lipsym.comparison._capture_model import perspective_change
    from lipsym.measures._registry import scale_power
    bm, am = row["before"].get(key), row["after"].get(key)
    if not bm or not am or bm["value"] is None or am["value"] is None:
        return None
    cb, ca = _capture(row["cap_before"]), _capture(row["cap_after"])
    p = scale_power(bm["unit"])
    size2 = (0.5 * (cb.ipd_mm + ca.ipd_mm)) ** (2 * p)
    v = 0.5 * (bm["value"] + am["value"])
    rest = row["expression"] == "rest"
    dpose2 = (ca.yaw_deg - cb.yaw_deg) ** 2 + (ca.pitch_deg - cb.pitch_deg) ** 2 + (ca.roll_deg - cb.roll_deg) ** 2
    x = [(p * v) ** 2, rest * size2, (not rest) * size2, dpose2 * size2, math.log(ca.ipd_px / cb.ipd_px) ** 2 * size2,
         perspective_change(cb, ca) ** 2 * size2]
    y = ((am["value"] - bm["value"]) ** 2 - _landmark_se(key, bm["unit"], cb) ** 2
         - _landmark_se(key, bm["unit"], ca) ** 2)
    return x, y


def scale_sd(rows: list[dict]) -> float:
    """RMS of ln(IPD_mm before / IPD_mm after) over unchanged pairs: how much the photo's scale moves.

    The interpupillary distance in mm of an unchanged face is constant, so
    its change between two captures is the change of the mm-per-pixel scale
    (plus pupil location noise: slightly conservative).
    """
    d = [math.log(r["cap_before"]["ipd_px"] * r["cap_before"]["mm_per_px"]
                  / (r["cap_after"]["ipd_px"] * r["cap_after"]["mm_per_px"])) for r in rows]
    return float(np.sqrt(np.mean(np.square(d))))


def fit(rows: list[dict], perspective: bool = False) -> dict:
    """Coefficients per absolute measure (module docstring).

    ``scale``: :func:`scale_sd` of the simulated unchanged pairs, the same for
    every measure (not fitted per measure: the simulated re-captures alone
    cannot separate it from the base term). The other terms: non-negative
    least squares of the squared change beyond the landmark and scale
    variance, then one factor per measure (≥ 1) so that at most
    :data:`FIT_TARGET_RATE` of the simulated pairs are called detectable.
    ``perspective``: fit the perspective term too (else it is 0; docs/accuracy.md,
    "Change of absolute measures between two captures", why the committed
    coefficients leave it out).
    """
    from scipy.optimize import nnls

    import lipsym.comparison._absolute_change as model
    from lipsym.measures._absolute import ABSOLUTE_KEYS

    sim = [r for s, e in SIM_SETS for r in _unchanged(rows, s, e)]
    scale = scale_sd(sim)
    print(f"scale: RMS ln(IPD_mm ratio) of {len(sim)} simulated unchanged pairs = {scale:.4f}; "
          + ", ".join(f"{s} {scale_sd(_unchanged(rows, s)):.4f}" for s in ("lisa", "zoom")) + " (real, not fitted)")
    out = {}
    for key in ABSOLUTE_KEYS:
        data = [f for f in (_features(r, key) for r in sim) if f is not None]
        x = np.array([d[0] for d in data])
        y = np.array([d[1] for d in data]) - scale ** 2 * x[:, 0]  # x[:, 0] = (p·v)², 0 for the ratio
        terms = FIT_TERMS[1:] if perspective else FIT_TERMS[1:-1]
        sq, _ = nnls(x[:, 1:1 + len(terms)], y)
        coef = {"scale": scale if x[:, 0].any() else 0.0, "perspective": 0.0, **dict(zip(terms, np.sqrt(sq)))}
        coef["smile"] = 0.0
        factor = 1.0
        while True:
            trial = {k: v * factor for k, v in coef.items()}
            saved = model.ABSOLUTE_COEFFICIENTS
            model.ABSOLUTE_COEFFICIENTS = {**saved, key: model.AbsoluteCoefficients(**trial)}
            try:
                rate = np.mean([c[key].detectable for c in (_changes(r, True) for r in sim) if key in c])
            finally:
                model.ABSOLUTE_COEFFICIENTS = saved
            if rate <= FIT_TARGET_RATE or factor > 5:
                break
            factor *= 1.05
        out[key] = dict(trial, _factor=factor)
    return out


def print_fit(rows: list[dict], perspective: bool = False) -> None:
    coefficients = fit(rows, perspective)
    print("ABSOLUTE_COEFFICIENTS: Mapping[str, AbsoluteCoefficients] = MappingProxyType({")
    for key, c in coefficients.items():
        terms = ", ".join(f"{k}={float(c[k]):.3g}" for k in ("scale", "base_rest", "base_smile", "pose",
                                                             "distance", "smile", "perspective"))
        print(f'    "{key}": AbsoluteCoefficients(  # factor {c["_factor"]:.2f}')
        print(f"        {terms}),")
    print("})")


def report(rows: list[dict]) -> None:
    from lipsym.measures._absolute import ABSOLUTE_KEYS
    groups = [(f"{s} {e}", _unchanged(rows, s, e)) for s, e in SIM_SETS]
    groups += [("real lisa", _unchanged(rows, "lisa")), ("real zoom", _unchanged(rows, "zoom"))]
    print("\nFalse 'detectable' rate on unchanged pairs: one-photo SE -> between-capture model (pairs)")
    print(f"{'measure':34s}" + "".join(f"{g:>22s}" for g, _ in groups))
    totals = {g: [] for g, _ in groups}
    for key in ABSOLUTE_KEYS:
        cells = []
        for g, rs in groups:
            old, _ = _rate(rs, key, False)
            new, n = _rate(rs, key, True)
            totals[g].append((new, n))
            cells.append(f"{100 * old:5.1f}% -> {100 * new:5.1f}% ({n:3d})")
        print(f"{key:34s}" + "".join(f"{c:>22s}" for c in cells))
    print(f"{'all measures':34s}" + "".join(
        f"{100 * sum(r * n for r, n in totals[g]) / max(1, sum(n for _, n in totals[g])):>14.1f}%       "
        for g, _ in groups))
    planted = [r for r in rows if r["kind"] == "planted"]
    print(f"\nPlanted upper-vermilion growth (both sides, mid-hemilip) against the original photo, "
          f"{PLANT_KEY} and upper_vermilion_area:")
    for d in sorted({r["amount_mm"] for r in planted}):
        rs = [r for r in planted if r["amount_mm"] == d]
        for key in (PLANT_KEY, "upper_vermilion_height_midline", "upper_vermilion_area"):
            cs = [c[key] for c in (_changes(r, True) for r in rs) if key in c]
            det = np.mean([c.detectable and c.change > 0 for c in cs])
            med = np.median([c.change for c in cs])
            mdc = np.median([c.minimal_detectable_change for c in cs])
            print(f"  +{d:.1f} mm  {key:34s} detected {100 * det:5.1f}% of {len(cs)}  "
                  f"median change {med:+.2f}  median MDC95 {mdc:.2f}")
    for g, rs in groups:
        mdcs = {k: np.median([c[k].minimal_detectable_change for c in (_changes(r, True) for r in rs) if k in c])
                for k in ("upper_vermilion_height_midline", "upper_vermilion_area", "intercommissural_width")}
        print(f"  median MDC95 {g:12s} " + ", ".join(f"{k} {v:.2f}" for k, v in mdcs.items()))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--faces", type=int, default=8, help="development photos per set (default 8)")
    ap.add_argument("--recaptures", type=int, default=2)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--seed", type=int, default=16)
    ap.add_argument("--cache", type=Path, default=Path("/tmp/lipsym_recapture_absolute.jsonl"))
    ap.add_argument("--fit", action="store_true", help="print the fitted coefficients as Python")
    ap.add_argument("--perspective", action="store_true",
                    help="with --fit: fit the perspective term too (the committed coefficients do not)")
    ap.add_argument("--draw", choices=("default", "earlier"), default="default",
                    help="re-captures: the simulator's default (close range and small faces, as "
                         "benchmarks/recapture.py) or the earlier ones without close range (use its own --cache)")
    args = ap.parse_args()
    os.environ[_DRAW_ENV] = args.draw  # the spawned workers inherit it
    check_data("recapture_absolute")
    rows = collect(args.cache, args.faces, args.recaptures, args.workers, args.seed)
    print(f"{len(rows)} pairs ({args.cache})")
    if args.fit:
        print_fit(rows, args.perspective)
    report(rows)


if __name__ == "__main__":
    main()
