"""Can a lip-border model fitted to the manual points predict where lipsym's outer border is wrong? (issue #14, point 2).

The upper hemi-vermilion area's disagreement with the manual polygons lies in the outer border's
height (``benchmarks/area_error_parts.py``). This asks whether the image, read across that
border, knows the height error, when a model is *fitted to the annotators' points* rather than
built from a colour or edge rule (docs/accuracy.md, "Hemi-vermilion area asymmetry against the
manual lip polygons", table of what was tried).

For every neutral photo of London and 3DSK, at 18 positions a side (0.10-0.95 of the half mouth
width, read on lipsym's outer contour of each lip), a profile of CIELab L*, a*, b* is sampled
along the facial frame's vertical, ±0.06 IPD about lipsym's border (49 samples, averaged over
three columns 0.008 IPD apart), normalised per face (each profile's mean removed, each channel
divided by the face's SD). The target is the manual border's height minus lipsym's at that
position, in IPD. Three models:

- ``side``: ridge regression from one side's profile (values and gradient) to its target;
- ``bilateral``: ridge without intercept from the left − right (mirrored) difference of the
  profiles to the left − right target (exactly antisymmetric, so mirroring negates it);
- ``template``: the mean gradient profile aligned on the manual border (a learned edge), located
  in each profile by correlation within ±0.015 IPD, sub-sample peak.

Each is fitted on one set and tested on the other, and by 5-fold cross-validation by face within
a set. Printed: the r of the predicted and manual *antisymmetric* targets over positions (what a
bilateral correction needs) and the hemi-vermilion area asymmetry's r / slope against the
manual polygons (spline contours, lipsym's frame, as ``area_error_parts.py``) after the
predicted antisymmetric correction, beside lipsym's own and the oracle that applies the manual
targets at the same 36 positions. Uses the cached detections of ``benchmarks/validate.py``;
about 30 s::

    python benchmarks/border_model.py [--cache DIR] [--lambdas 0.01,0.1,1]
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _validate_data import Manual, faces_of  # noqa: E402
from area_error_parts import LIPS, asymmetry  # noqa: E402
from validate import DEFAULT_CACHE, Methods  # noqa: E402

from lipsym.io import load_photo  # noqa: E402
from lipsym.measures._contours import dense_contour  # noqa: E402

#: Positions along each half of the lip, fractions of the half mouth width (both sides).
FRACTIONS = np.linspace(0.10, 0.95, 18)
#: Profile half-length (IPD), samples, and the columns averaged (IPD offsets along x).
HALF_IPD, SAMPLES, COLUMNS_IPD = 0.06, 49, (-0.008, 0.0, 0.008)
#: The template model's search, ± IPD.
SEARCH_IPD = 0.015
FOLDS = 5


@dataclass(frozen=True)
class LipSample:
    """One lip of one face: profiles (positions, samples, 3), targets (positions,) in IPD, contours."""

    profiles: np.ndarray
    targets_ipd: np.ndarray
    outer: np.ndarray
    inner: np.ndarray
    manual_outer: np.ndarray
    manual_inner: np.ndarray
    xs_px: np.ndarray
    ipd_px: float


def _height(curve: np.ndarray, x: np.ndarray) -> np.ndarray:
    order = np.argsort(curve[:, 0])
    return np.interp(x, curve[order, 0], curve[order, 1])


def load(methods: Methods, set_name: str) -> dict[str, list[LipSample]]:
    """Per lip, one :class:`LipSample` per annotated face of the set."""
    out: dict[str, list[LipSample]] = {lip: [] for lip in LIPS}
    steps = np.linspace(-HALF_IPD, HALF_IPD, SAMPLES)
    for face in faces_of(set_name):
        photo = load_photo(face.image)
        analysis = methods.analyze("lipsym", photo)
        frame, contours = analysis.frame, analysis.anatomy.contours
        manual = Manual.load(face.gt)
        ipd = frame.interpupillary_distance_px
        lab = cv2.cvtColor(np.asarray(photo.rgb, np.float32) / 255.0, cv2.COLOR_RGB2LAB)
        for lip, (outer_idx, inner_idx) in LIPS.items():
            outer = dense_contour(frame.to_frame(getattr(contours, f"outer_{lip}")))
            inner = dense_contour(frame.to_frame(getattr(contours, f"inner_{lip}")))
            m_outer = dense_contour(frame.to_frame(manual.points_px[list(outer_idx)]))
            m_inner = dense_contour(frame.to_frame(manual.points_px[list(inner_idx)]))
            half_width = 0.5 * (outer[:, 0].max() - outer[:, 0].min())
            xs = np.r_[-FRACTIONS[::-1], FRACTIONS] * half_width
            ys = _height(outer, xs)
            profiles = np.zeros((len(xs), SAMPLES, 3))
            for k, (x, y) in enumerate(zip(xs, ys)):
                for dx in COLUMNS_IPD:
                    pts = frame.to_photo(np.stack([np.full(SAMPLES, x + dx * ipd), y + steps * ipd], 1))
                    pts = pts.astype(np.float32)
                    profiles[k] += cv2.remap(lab, pts[:, :1], pts[:, 1:], cv2.INTER_LINEAR).reshape(SAMPLES, 3)
            profiles /= len(COLUMNS_IPD)
            out[lip].append(LipSample(profiles, (_height(m_outer, xs) - ys) / ipd, outer, inner,
                                      m_outer, m_inner, xs, ipd))
    return out


def _normalised(s: LipSample) -> np.ndarray:
    p = s.profiles - s.profiles.mean(axis=1, keepdims=True)
    return p / (p.reshape(-1, 3).std(axis=0) + 1e-9)


def _features(s: LipSample) -> np.ndarray:
    p = _normalised(s)
    return np.concatenate([p, np.diff(p, axis=1)], axis=1).reshape(len(p), -1)


def _mirror_difference(v: np.ndarray) -> np.ndarray:
    """Left − right at matching fractions (rows ordered right end → left end)."""
    n = len(v) // 2
    return v[n:] - v[:n][::-1]


def _ridge(x: np.ndarray, y: np.ndarray, lam: float, intercept: bool):
    mu_x = x.mean(axis=0) if intercept else np.zeros(x.shape[1])
    mu_y = y.mean() if intercept else 0.0
    xc = x - mu_x
    w = np.linalg.solve(xc.T @ xc + lam * len(x) * np.eye(x.shape[1]), xc.T @ (y - mu_y))
    return lambda z: (z - mu_x) @ w + mu_y


def fit_side(train: list[LipSample], lam: float):
    model = _ridge(np.concatenate([_features(s) for s in train]),
                   np.concatenate([s.targets_ipd for s in train]), lam, intercept=True)
    return lambda s: _mirror_difference(model(_features(s)))


def fit_bilateral(train: list[LipSample], lam: float):
    model = _ridge(np.concatenate([_mirror_difference(_features(s)) for s in train]),
                   np.concatenate([_mirror_difference(s.targets_ipd) for s in train]), lam, intercept=False)
    return lambda s: model(_mirror_difference(_features(s)))


def fit_template(train: list[LipSample], lam: float = 0.0):
    """The mean gradient profile aligned on the manual border; ``lam`` is unused."""
    grid = np.linspace(-HALF_IPD, HALF_IPD, SAMPLES)
    width = np.arange(-12, 13) * (grid[1] - grid[0])
    aligned = [np.stack([np.interp(t + width, grid, g[:, c]) for c in range(3)], axis=1)
               for s in train for g, t in zip(np.gradient(_normalised(s), axis=1), s.targets_ipd)]
    template = np.mean(aligned, axis=0)
    shifts = np.linspace(-SEARCH_IPD, SEARCH_IPD, 31)

    def locate(s: LipSample) -> np.ndarray:
        found = []
        for g in np.gradient(_normalised(s), axis=1):
            score = np.array([sum(np.interp(d + width, grid, g[:, c]) @ template[:, c] for c in range(3))
                              for d in shifts])
            j = int(np.argmax(score))
            step = 0.0
            if 0 < j < len(score) - 1:
                curvature = score[j - 1] - 2 * score[j] + score[j + 1]
                step = 0.5 * (score[j - 1] - score[j + 1]) / curvature if curvature < 0 else 0.0
            found.append(shifts[j] + step * (shifts[1] - shifts[0]))
        return _mirror_difference(np.asarray(found))

    return locate


MODELS = {"side": fit_side, "bilateral": fit_bilateral, "template": fit_template}


def corrected_area(s: LipSample, anti_ipd: np.ndarray) -> float:
    """Area asymmetry after moving the outer border by ± half the left − right correction."""
    half = 0.5 * anti_ipd * s.ipd_px
    shift = np.r_[-half[::-1], half]
    width = 0.5 * (s.outer[:, 0].max() - s.outer[:, 0].min())
    outer = s.outer.copy()
    outer[:, 1] += np.interp(outer[:, 0], np.r_[-width, s.xs_px, width], np.r_[0.0, shift, 0.0])
    return asymmetry(outer, s.inner, s.ipd_px)


def score(samples: list[LipSample], predictions: list[np.ndarray]) -> tuple[float, float, float]:
    """(r of the antisymmetric targets over positions, area r, area slope) against the manual polygons."""
    truth = np.array([asymmetry(s.manual_outer, s.manual_inner, s.ipd_px) for s in samples])
    area = np.array([corrected_area(s, p) for s, p in zip(samples, predictions)])
    target = np.concatenate([_mirror_difference(s.targets_ipd) for s in samples])
    r_position = float(np.corrcoef(target, np.concatenate(predictions))[0, 1]) if np.std(np.concatenate(predictions)) > 0 else float("nan")
    return r_position, float(np.corrcoef(truth, area)[0, 1]), float(np.cov(truth, area)[0, 1] / np.var(truth, ddof=1))


def cross_validated(samples: list[LipSample], fit, lam: float, seed: int = 0) -> list[np.ndarray]:
    order = np.random.default_rng(seed).permutation(len(samples))
    predictions: list[np.ndarray | None] = [None] * len(samples)
    for k in range(FOLDS):
        test = set(order[k::FOLDS].tolist())
        model = fit([s for i, s in enumerate(samples) if i not in test], lam)
        for i in test:
            predictions[i] = model(samples[i])
    return predictions  # type: ignore[return-value]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cache", type=Path, default=DEFAULT_CACHE, help="MediaPipe detection cache folder")
    parser.add_argument("--lambdas", default="0.01,0.1,1", help="ridge penalties (fraction of n)")
    args = parser.parse_args(argv)
    lambdas = [float(v) for v in args.lambdas.split(",")]
    methods = Methods(args.cache, names=("lipsym",))
    try:
        data = {name: load(methods, name) for name in ("london", "3dsk")}
    finally:
        methods.close()
    for lip in LIPS:
        for name, sets in data.items():
            samples = sets[lip]
            zero = [np.zeros(len(FRACTIONS)) for _ in samples]
            oracle = [_mirror_difference(s.targets_ipd) for s in samples]
            _, r0, k0 = score(samples, zero)
            _, r1, k1 = score(samples, oracle)
            print(f"{lip} {name} ({len(samples)} faces): lipsym area r {r0:.3f} slope {k0:.2f}; "
                  f"manual targets at these positions r {r1:.3f} slope {k1:.2f}", flush=True)
        for model_name, fit in MODELS.items():
            for lam in (lambdas if model_name != "template" else [0.0]):
                cells = []
                for train, test in (("london", "3dsk"), ("3dsk", "london")):
                    model = fit(data[train][lip], lam)
                    rp, ra, ka = score(data[test][lip], [model(s) for s in data[test][lip]])
                    cells.append(f"{train}→{test}: {rp:+.2f} / {ra:.3f} / {ka:.2f}")
                for name in ("london", "3dsk"):
                    rp, ra, ka = score(data[name][lip], cross_validated(data[name][lip], fit, lam))
                    cells.append(f"{name} 5-fold: {rp:+.2f} / {ra:.3f} / {ka:.2f}")
                label = model_name if model_name == "template" else f"{model_name} λ {lam:g}"
                print(f"  {lip} {label} (position r / area r / slope): " + " | ".join(cells), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
