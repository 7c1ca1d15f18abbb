"""Absolute lip measures against the manual FRL-189 points: raw MediaPipe beside lipsym.

Usage::

    python benchmarks/absolute_measures.py [--faces N]

Needs ../shared/data/london_dev (34 neutral photos) and ../shared/data/3dsk_dev
(50 neutral photos), each with 189 manually placed points; reported per set.

The manual lip contours (FRL-189: cheilia 87 / 93, upper-lip top 88-92 and
bottom 94-98, lower-lip top 99-103 and bottom 104-108; image-left = the
subject's right) are measured by the same code as lipsym's own contours
(:func:`lipsym.measures._absolute.absolute_measures`, on the manual polylines),
in the same facial frame and with the same mm per pixel as lipsym's measurement
of that photo, so that the figures compare the points, not the scale or frame.

"raw" is MediaPipe without refinement (``AnalysisOptions(refine=False)``, the
CLI's ``--no-refine``; both use the same flip-averaged landmarks); "lipsym" is
the default pipeline; "points" is the default pipeline without the symmetric
border search (``Refinement.size_borders`` dropped: the refined points alone,
as before the search existed, :mod:`lipsym.refine._size`). For each measure: r, slope (lipsym on manual), mean
bias and MAE in mm (mm² for areas).
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np

from lipsym.analysis._photo import AnalysisOptions, analyze_landmarks
from lipsym.io import load_photo
from lipsym.landmarks._detector import Landmarker, LandmarkerOptions
from lipsym.measures._absolute import absolute_measures
from lipsym.measures._photo import measure_photo

REPO = Path(__file__).resolve().parents[1]
DATA = REPO.parent / "shared" / "data"
SETS = {"london_dev": ("neutral/{stem}.jpg", "*_03.frl189.json"), "3dsk_dev": ("{stem}.jpg", "*.frl189.json")}

#: Measures compared with the manual points.
COMPARED = ("intercommissural_width", "upper_vermilion_height_midline", "lower_vermilion_height_midline",
            "upper_vermilion_area", "lower_vermilion_area")
METHODS = {"raw": AnalysisOptions(refine=False), "lipsym": AnalysisOptions(), "points": AnalysisOptions()}

# FRL-189 lip contours, subject right → left (point 87 is the image-left = subject's right cheilion).
_CH_R, _CH_L = 87, 93
_OUTER_UPPER = [87, 88, 89, 90, 91, 92, 93]
_INNER_UPPER = [87, 94, 95, 96, 97, 98, 93]
_INNER_LOWER = [87, 99, 100, 101, 102, 103, 93]
_OUTER_LOWER = [87, 104, 105, 106, 107, 108, 93]


def manual_measures(points_px: np.ndarray, analysis, scale) -> dict[str, float]:
    """The absolute measures of the manual FRL-189 lip points, in ``analysis``'s frame and ``scale``.

    Parameters
    ----------
    points_px : ndarray, shape (189, 2)
        FRL-189 points, photo px.
    analysis : PhotoAnalysis
        lipsym's analysis of the same photo (its facial frame is used).
    scale : Scale
        The mm per pixel of lipsym's measurement of that photo.

    Returns
    -------
    dict of str to float
        The :data:`COMPARED` values (mm, mm²).
    """
    frame = analysis.frame
    f = frame.to_frame(np.asarray(points_px, dtype=float))
    # The FRL points have no subnasale: the philtrum length is not compared (labrale superius stands in).
    measured = absolute_measures(f[_OUTER_UPPER], f[_INNER_UPPER], f[_OUTER_LOWER], f[_INNER_LOWER],
                                 f[_CH_R], f[_CH_L], f[90], f[90], scale, frame.interpupillary_distance_px)
    return {m.key: m.value for m in measured if m.key in COMPARED}


def _faces(name: str, limit: int | None):
    image_pattern, gt_glob = SETS[name]
    for gt in sorted((DATA / name / "gt").glob(gt_glob))[:limit]:
        stem = gt.name.removesuffix(".frl189.json")
        yield stem, DATA / name / image_pattern.format(stem=stem), np.asarray(json.loads(gt.read_text())["points"])


def _stats(ours: np.ndarray, truth: np.ndarray) -> dict[str, float]:
    return {"r": float(np.corrcoef(ours, truth)[0, 1]), "slope": float(np.polyfit(truth, ours, 1)[0]),
            "bias": float(np.mean(ours - truth)), "mae": float(np.mean(np.abs(ours - truth))),
            "max": float(np.max(np.abs(ours - truth))), "manual_mean": float(np.mean(truth))}


def compare_set(name: str, landmarker: Landmarker, limit: int | None = None) -> dict:
    """Per method and measure: the agreement statistics of one data set."""
    ours = {m: {k: [] for k in COMPARED} for m in METHODS}
    manual = {m: {k: [] for k in COMPARED} for m in METHODS}
    n = 0
    for stem, image, points in _faces(name, limit):
        photo = load_photo(image)
        landmarks = landmarker.landmarks(photo)
        for method, options in METHODS.items():
            analysis = analyze_landmarks(photo, landmarks, options=options)
            if method == "points":
                analysis = replace(analysis, refinement=replace(analysis.refinement, size_borders=None))
            measures = measure_photo(analysis)
            truth = manual_measures(points, analysis, measures.scale)
            for k in COMPARED:
                ours[method][k].append(measures.scalars[k].value)
                manual[method][k].append(truth[k])
        n += 1
        print(f"  {name}: {stem} done", file=sys.stderr, flush=True)
    return {"faces": n, **{m: {k: _stats(np.asarray(ours[m][k]), np.asarray(manual[m][k])) for k in COMPARED}
                           for m in METHODS}}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--faces", type=int, default=None, help="at most N faces per set (default: all)")
    parser.add_argument("--out", type=Path, default=None, help="also write the figures as JSON")
    args = parser.parse_args()
    missing = [name for name in SETS if not (DATA / name / "gt").is_dir()]
    if missing:
        sys.exit(f"absolute_measures: {DATA} lacks {', '.join(missing)}; the benchmark needs the manual points")
    landmarker = Landmarker(LandmarkerOptions())
    try:
        result = {name: compare_set(name, landmarker, args.faces) for name in SETS}
    finally:
        landmarker.close()
    for name, res in result.items():
        print(f"\n{name} ({res['faces']} faces): lipsym / points without border search / raw MediaPipe "
              "against the manual points")
        print(f"{'measure':34s} {'manual mean':>11s} {'r':>17s} {'slope':>17s} {'bias':>20s} {'MAE':>17s}")
        for k in COMPARED:
            a, p, b = res["lipsym"][k], res["points"][k], res["raw"][k]
            cells = [f"{a[s]:{w}}/{p[s]:{w}}/{b[s]:{w}}" for s, w in
                     (("r", "5.3f"), ("slope", "5.2f"), ("bias", "6.2f"), ("mae", "5.2f"))]
            print(f"{k:34s} {a['manual_mean']:11.2f} " + " ".join(cells))
    if args.out:
        args.out.write_text(json.dumps(result, indent=2))
        print(f"\nwrote {args.out}")


if __name__ == "__main__":
    main()
