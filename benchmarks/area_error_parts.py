"""Which part of lipsym's lip contours carries its hemi-vermilion area asymmetry error (issue #14, point 2).

On the London and 3DSK development sets (neutral photos, manual FRL-189 lip polygons), lipsym's
contours and the manual ones are both taken in lipsym's facial frame and sampled densely
(:func:`lipsym.measures._contours.dense_contour`); the area asymmetry is (left − right) ×100 / IPD².
Printed per set and lip, as r against the manual polygons' asymmetry (docs/accuracy.md, "What the
error is made of"):

- ``lipsym``: the contours as measured;
- oracles that move lipsym's dense contour points onto the nearest point of the manual contour:
  the outer border (both components, only x, only y), the inner border, both borders (y only);
- the outer border's y-correction applied only within one zone of |x| / half mouth width;
- ``centroid shift``: each lip moved sideways until its centroid is the manual polygon's (the
  eighth session's "lateral position" oracle), and the same oracle applied to a control whose
  only error is vertical: the manual outer border moved up or down by a piecewise-linear
  curve through 7 random heights, its ends held (σ 1.2 % IPD, which gives the control about
  lipsym's r on the upper lip). If the control recovers too, the oracle says nothing about
  where the error lies.

Uses the cached MediaPipe detections of ``benchmarks/validate.py`` (``--cache``)::

    python benchmarks/area_error_parts.py [--cache DIR] [--seed 0]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
from scipy.spatial import cKDTree

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _validate_data import INNER_LOWER, INNER_UPPER, OUTER_LOWER, OUTER_UPPER, Manual, faces_of  # noqa: E402
from validate import DEFAULT_CACHE, Methods  # noqa: E402

from lipsym.io import load_photo  # noqa: E402
from lipsym.measures._contours import dense_contour  # noqa: E402
from lipsym.measures._vermilion import hemi_areas_px2, lip_polygon  # noqa: E402

LIPS = {"upper": (OUTER_UPPER, INNER_UPPER), "lower": (OUTER_LOWER, INNER_LOWER)}
ZONES = ((0.0, 0.2), (0.2, 0.4), (0.4, 0.6), (0.6, 0.8), (0.8, 1.01))
#: Vertical noise of the control's outer border, fraction of IPD: chosen so that the control's upper-lip r is
#: about lipsym's (0.85-0.87 against 0.82-0.86), not on any result of the oracles.
CONTROL_NOISE_IPD = 0.012


def asymmetry(outer: np.ndarray, inner: np.ndarray, ipd: float) -> float:
    """Hemi-vermilion area asymmetry of dense contours (frame px), left − right, % of IPD²."""
    right, left = hemi_areas_px2(lip_polygon(outer, inner))
    return 100.0 * (left - right) / ipd ** 2


def centroid_x(outer: np.ndarray, inner: np.ndarray) -> float:
    """Frame x of the lip polygon's centroid."""
    p = lip_polygon(outer, inner)
    x, y = p[:, 0], p[:, 1]
    cross = x * np.roll(y, -1) - np.roll(x, -1) * y
    return float(((x + np.roll(x, -1)) * cross).sum() / (3.0 * cross.sum()))


def towards(curve: np.ndarray, target: np.ndarray, axes: str = "xy",
            zone: tuple[float, float] | None = None) -> np.ndarray:
    """``curve`` with each point moved onto the nearest point of ``target`` (only ``axes``, only in ``zone``)."""
    _, nearest = cKDTree(target).query(curve)
    step = target[nearest] - curve
    keep = np.ones(len(curve), bool)
    if zone is not None:
        half_width = 0.5 * (curve[:, 0].max() - curve[:, 0].min())
        where = np.abs(curve[:, 0]) / half_width
        keep = (where >= zone[0]) & (where < zone[1])
    out = curve.copy()
    for i, axis in enumerate("xy"):
        if axis in axes:
            out[keep, i] += step[keep, i]
    return out


def shifted(curve: np.ndarray, dx: float) -> np.ndarray:
    out = curve.copy()
    out[:, 0] += dx
    return out


def lip_contours(methods: Methods, set_name: str) -> list[dict]:
    """Per face: lipsym's and the manual dense contours in lipsym's frame, and the IPD (frame px)."""
    faces = []
    for face in faces_of(set_name):
        analysis = methods.analyze("lipsym", load_photo(face.image))
        frame, contours = analysis.frame, analysis.anatomy.contours
        manual = Manual.load(face.gt)
        rec = {"ipd": frame.interpupillary_distance_px}
        for lip, (outer_idx, inner_idx) in LIPS.items():
            rec[lip] = {
                "ours": tuple(dense_contour(frame.to_frame(getattr(contours, f"{part}_{lip}")))
                              for part in ("outer", "inner")),
                # FRL-189 runs image-left → image-right, i.e. subject right → left, as lipsym's contours.
                "manual": tuple(dense_contour(frame.to_frame(manual.points_px[list(idx)]))
                                for idx in (outer_idx, inner_idx)),
            }
        faces.append(rec)
    return faces


def parts(faces: list[dict], lip: str, rng: np.random.Generator) -> dict[str, float]:
    """r against the manual asymmetry of lipsym, each oracle and the control (see the module doc)."""
    cols: dict[str, list[float]] = {}

    def add(name: str, value: float) -> None:
        cols.setdefault(name, []).append(value)

    for f in faces:
        (o, i), (mo, mi), ipd = f[lip]["ours"], f[lip]["manual"], f["ipd"]
        add("truth", asymmetry(mo, mi, ipd))
        add("lipsym", asymmetry(o, i, ipd))
        for axes in ("xy", "x", "y"):
            add(f"outer {axes}", asymmetry(towards(o, mo, axes), i, ipd))
        add("inner xy", asymmetry(o, towards(i, mi), ipd))
        add("both y", asymmetry(towards(o, mo, "y"), towards(i, mi, "y"), ipd))
        for zone in ZONES:
            add(f"outer y in {zone[0]:.1f}-{min(zone[1], 1.0):.1f}", asymmetry(towards(o, mo, "y", zone), i, ipd))
        dx = centroid_x(mo, mi) - centroid_x(o, i)
        add("centroid shift", asymmetry(shifted(o, dx), shifted(i, dx), ipd))
        noisy = mo.copy()
        noisy[:, 1] += np.interp(np.linspace(0, 1, len(mo)), np.linspace(0, 1, 9),
                                 np.r_[0.0, rng.normal(0.0, CONTROL_NOISE_IPD * ipd, 7), 0.0])
        add("control", asymmetry(noisy, mi, ipd))
        dx = centroid_x(mo, mi) - centroid_x(noisy, mi)
        add("control, centroid shift", asymmetry(shifted(noisy, dx), shifted(mi, dx), ipd))
    truth = np.asarray(cols.pop("truth"))
    return {name: float(np.corrcoef(truth, np.asarray(v))[0, 1]) for name, v in cols.items()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cache", type=Path, default=DEFAULT_CACHE, help="MediaPipe detection cache folder")
    parser.add_argument("--seed", type=int, default=0, help="the control's noise")
    args = parser.parse_args(argv)
    methods = Methods(args.cache, names=("lipsym",))
    rng = np.random.default_rng(args.seed)
    try:
        for set_name in ("london", "3dsk"):
            faces = lip_contours(methods, set_name)
            for lip in LIPS:
                r = parts(faces, lip, rng)
                print(f"{set_name} {lip} ({len(faces)} faces): " + " | ".join(f"{k} {v:.3f}" for k, v in r.items()),
                      flush=True)
    finally:
        methods.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
