"""Same-person check: calibration figures on the development photos.

Usage::

    python benchmarks/same_person.py [--variants 2] [--cache points.npz] [--seed 0] [--write-model]

Needs ../shared/data (London and 3DSK development photos, the lisa and zoom
re-photographs) and dlib with its model (lipsym.landmarks._identity). Every
photo is analysed with the default pipeline; two distances of
:func:`lipsym.comparison.same_person` are computed - the identity
descriptors' (what decides) and the face geometry's (the fallback) - for

- different-person pairs: all cross pairs among London neutral (34 people),
  London smiling (34) and 3DSK neutral (50), rest against rest and smile
  against smile;
- same-person pairs: each London face at rest against its own smile, the
  real re-photographs invariance/lisa/lisa1-4 and invariance/zoom/{15,30,45,60}cm
  (all pairs within each set), a mirrored copy of every development photo,
  simulated re-captures of every development photo (rotation up to ±10°,
  scale 0.6-1.5, a perspective tilt up to 6 %, gamma 0.7-1.4, JPEG quality
  60; ``--variants`` per photo), a small-face copy of every development
  photo (shrunk until the face is 150-300 px wide, JPEG 80) and simulated
  head turns of its landmarks (±10° yaw and pitch; geometry only: the
  pixels do not change), each against the original.

Identity: the threshold (0.6) is dlib's, not fitted, so every pair is held
out; a second table shows what a threshold fitted by 5-fold
cross-validation by face would do (each fold's threshold the largest
same-person distance of the other folds' faces, lisa and zoom never used).

Geometry: the model (template and within-person covariance) is fitted on
the rest/smile pairs and the simulations; the threshold is the largest
held-out same-person distance of a 5-fold cross-validation by face. Two
tables: the held-out distances of the cross-validation, and the model fitted
on everything (``--write-model`` writes it to
src/lipsym/comparison/_same_person_model.py). Then the two combined (refused
when either refuses, held out), and the time of one descriptor against the
rest of the analysis. Each table gives the refusal rate of every
different-person set and the pass rate of every same-person set, and the
median, smallest and largest distance. ``--cache`` keeps the landmarks and
descriptors of every analysed photo, so that a second run does not analyse
again.
"""

from __future__ import annotations

import argparse
import itertools
import math
import sys
from pathlib import Path
from types import SimpleNamespace

import cv2
import numpy as np

REPO = Path(__file__).resolve().parents[1]
DATA = REPO.parent / "shared" / "data"
LONDON = DATA / "london_dev"
DSK = DATA / "3dsk_dev"
LISA = DATA / "invariance" / "lisa"
ZOOM = DATA / "invariance" / "zoom"
MODEL = REPO / "src" / "lipsym" / "comparison" / "_same_person_model.py"

#: Same-person pairs the within-person covariance is fitted on (one category each).
TRAIN = ("same: london rest vs own smile", "same: simulated re-captures", "same: simulated pose change")
#: Shrinkage of the within-person covariance towards its mean variance, and
#: the number of its largest axes kept (the rest share one variance). Chosen
#: by the 5-fold cross-validation below (refusal London rest / smile / 3DSK at
#: 100 % same-person pass): shrinkage 0.3: 78/77/70 %, 0.03: 89/89/82 %,
#: 0.01: 89/92/87 %, 0.003: 90/93/89 %; with 0.01, keeping all axes: 89/89/81 %
#: (the pooled variance of the small axes regularises). A Fisher discriminant
#: (between-person covariance of 84 people) did no better (76/73/69 %), nor
#: head turns seen in perspective from 25 cm-1 m (86/89/78 %) or 40 cm-1 m
#: (87/89/82 %) instead of orthographically.
SHRINKAGE = 0.01
AXES_KEPT = 20
#: Largest identity-descriptor distance of one person: the radius dlib's
#: network was trained to keep one identity's faces within (dlib-models
#: README), not fitted on these photos.
IDENTITY_THRESHOLD = 0.6


def development_photos() -> dict[str, list[Path]]:
    """Photo sets by name; London neutral and smiling share their face ids."""
    return {
        "london_rest": sorted((LONDON / "neutral").glob("*_03.jpg")),
        "london_smile": sorted((LONDON / "smiling").glob("*_08.jpg")),
        "3dsk_rest": sorted(DSK.glob("*.jpg")),
        "lisa": sorted(LISA.glob("lisa[1-4].jpg")),
        "zoom": [ZOOM / f"{d}cm.jpg" for d in (15, 30, 45, 60)],
    }


def recapture(bgr: np.ndarray, rng: np.random.Generator) -> bytes:
    """A simulated re-capture of a photo (rotated, rescaled, tilted, gamma), JPEG 60 bytes."""
    h, w = bgr.shape[:2]
    angle = float(rng.uniform(-10, 10))
    scale = float(rng.uniform(0.6, 1.5))
    gamma = float(rng.uniform(0.7, 1.4))
    # Perspective tilt: the top (or a side) edge shrinks by up to 6 %, as a
    # camera a little above (or beside) the face would see it.
    tilt = float(rng.uniform(-0.06, 0.06))
    src = np.float32([[0, 0], [w, 0], [w, h], [0, h]])
    dst = src.copy()
    if rng.random() < 0.5:  # vertical tilt: top edge shorter or longer
        dst[0, 0] += tilt * w / 2
        dst[1, 0] -= tilt * w / 2
    else:  # horizontal tilt: one side shorter
        dst[1, 1] += tilt * h / 2
        dst[2, 1] -= tilt * h / 2
    out = cv2.warpPerspective(bgr, cv2.getPerspectiveTransform(src, dst), (w, h), borderMode=cv2.BORDER_REPLICATE)
    rot = cv2.getRotationMatrix2D((w / 2, h / 2), angle, scale)
    size = (int(round(w * scale)), int(round(h * scale)))
    rot[:, 2] += (np.array(size) - np.array([w, h])) / 2
    out = cv2.warpAffine(out, rot, size, flags=cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR,
                         borderMode=cv2.BORDER_REPLICATE)
    lut = (255.0 * (np.arange(256) / 255.0) ** gamma).round().astype(np.uint8)
    out = cv2.LUT(out, lut)
    ok, buf = cv2.imencode(".jpg", out, [cv2.IMWRITE_JPEG_QUALITY, 60])
    assert ok
    return buf.tobytes()


def mirrored(bgr: np.ndarray) -> bytes:
    """The photo flipped left-right (a front-camera selfie), PNG bytes."""
    ok, buf = cv2.imencode(".png", cv2.flip(bgr, 1))
    assert ok
    return buf.tobytes()


def small_face(bgr: np.ndarray, points_px: np.ndarray, rng: np.random.Generator) -> bytes:
    """The photo shrunk so that the face is 150-300 px wide (below lipsym's 350 px flag), JPEG 80 bytes."""
    width_px = float(np.ptp(points_px[:, 0]))
    scale = min(1.0, float(rng.uniform(150, 300)) / width_px)
    h, w = bgr.shape[:2]
    out = cv2.resize(bgr, (max(1, round(w * scale)), max(1, round(h * scale))), interpolation=cv2.INTER_AREA)
    ok, buf = cv2.imencode(".jpg", out, [cv2.IMWRITE_JPEG_QUALITY, 80])
    assert ok
    return buf.tobytes()


def analyse_all(variants: int, seed: int, cache: Path | None) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """Analyse every photo and its copies: the (478, 3) landmarks and the identity descriptors by label.

    Labels are ``set/stem`` for originals, ``set/stem#mirror``,
    ``set/stem#sim<k>`` and ``set/stem#small`` for the copies; a copy without
    a usable face is left out. The cache keeps a descriptor under
    ``label@identity``; one missing from an older cache is computed from the
    cached landmarks on the decoded photo, as the analysis does.
    """
    from lipsym.analysis._photo import analyze_photo
    from lipsym.errors import LipsymError
    from lipsym.io._photo import load_photo
    from lipsym.landmarks._default import default_landmarker
    from lipsym.landmarks._identity import face_descriptor, unavailable_reason

    if unavailable_reason() is not None:
        sys.exit(f"same_person: {unavailable_reason()}")
    stored = dict(np.load(cache)) if cache is not None and cache.is_file() else {}
    rng = np.random.default_rng(seed)
    rng_small = np.random.default_rng(seed + 1)  # apart, so that the re-captures stay those of older caches
    landmarker = default_landmarker()
    points: dict[str, np.ndarray] = {}
    identity: dict[str, np.ndarray] = {}

    def analyse(key: str, path: Path, expression: str, data: bytes | None) -> None:
        if key not in stored:
            try:
                a = analyze_photo(path, landmarker, expression=expression, data=data)
            except LipsymError as exc:  # a re-capture without a usable face: no pair
                print(f"\n{key}: {exc}", file=sys.stderr)
                return
            stored[key] = np.asarray(a.points_px, dtype=np.float64)
            stored[f"{key}@identity"] = np.asarray(a.identity_descriptor, dtype=np.float64)
        elif f"{key}@identity" not in stored:
            photo = load_photo(path, data=data)
            stored[f"{key}@identity"] = np.asarray(
                face_descriptor(photo.rgb, photo.from_original_px(stored[key][:, :2])), dtype=np.float64)
        points[key], identity[key] = stored[key], stored[f"{key}@identity"]

    for name, paths in development_photos().items():
        for path in paths:
            label = f"{name}/{path.stem}"
            expression = "smile" if name == "london_smile" else "rest"
            analyse(label, path, expression, None)
            if name not in ("lisa", "zoom"):
                bgr = cv2.imread(str(path))
                copies = [(f"{label}#mirror", mirrored(bgr))] + [
                    (f"{label}#sim{k}", recapture(bgr, rng)) for k in range(variants)]
                if label in points:
                    copies.append((f"{label}#small", small_face(bgr, points[label], rng_small)))
                for key, data in copies:
                    analyse(key, path, expression, data)
            print(f"\r{len(points)} photos analysed", end="", file=sys.stderr, flush=True)
    print(file=sys.stderr)
    if cache is not None:
        np.savez_compressed(cache, **stored)
    return points, identity


def turned(points_px: np.ndarray, yaw_deg: float, pitch_deg: float) -> np.ndarray:
    """The landmarks of the head turned in 3-D (about its centroid), seen orthographically.

    A pose change between two captures, which the photo-space simulation
    above (rotation in the image plane, perspective tilt) does not produce.
    MediaPipe's z (same pixel scale as x) gives the depth.
    """
    p = points_px - points_px.mean(axis=0)
    y, x = math.radians(yaw_deg), math.radians(pitch_deg)
    yaw = np.array([[math.cos(y), 0, math.sin(y)], [0, 1, 0], [-math.sin(y), 0, math.cos(y)]])
    pitch = np.array([[1, 0, 0], [0, math.cos(x), -math.sin(x)], [0, math.sin(x), math.cos(x)]])
    return p @ (pitch @ yaw).T + points_px.mean(axis=0)


def with_pose_changes(points: dict[str, np.ndarray], per_photo: int, seed: int) -> dict[str, np.ndarray]:
    """Add ``set/stem#pose<k>``: each development photo's head turned by up to ±10° yaw and pitch."""
    rng = np.random.default_rng(seed)
    out = dict(points)
    for key in [k for k in points if "#" not in k and k.split("/")[0] not in ("lisa", "zoom")]:
        for k in range(per_photo):
            out[f"{key}#pose{k}"] = turned(points[key], *rng.uniform(-10, 10, size=2))
    return out


def pairs_of(points: dict[str, np.ndarray]) -> dict[str, list[tuple[str, str]]]:
    """Different-person and same-person pairs by set name."""
    originals = [k for k in points if "#" not in k]
    by_set: dict[str, list[str]] = {}
    for k in originals:
        by_set.setdefault(k.split("/")[0], []).append(k)
    out: dict[str, list[tuple[str, str]]] = {}
    for name in ("london_rest", "london_smile", "3dsk_rest"):
        out[f"different: {name}"] = list(itertools.combinations(by_set[name], 2))
    out["same: london rest vs own smile"] = [
        (r, r.replace("london_rest", "london_smile").replace("_03", "_08")) for r in by_set["london_rest"]]
    out["same: lisa (real re-photographs)"] = list(itertools.combinations(by_set["lisa"], 2))
    out["same: zoom (real, 15-60 cm)"] = list(itertools.combinations(by_set["zoom"], 2))
    out["same: mirrored photo"] = [(k.split("#")[0], k) for k in points if k.endswith("#mirror")]
    out["same: simulated re-captures"] = [(k.split("#")[0], k) for k in points if "#sim" in k]
    out["same: simulated small faces"] = [(k.split("#")[0], k) for k in points if k.endswith("#small")]
    out["same: simulated pose change"] = [(k.split("#")[0], k) for k in points if "#pose" in k]
    return out


def face_of(label: str) -> str:
    """The person a photo label shows (London neutral and smiling share an id)."""
    name, stem = label.split("#")[0].split("/")
    if name.startswith("london"):
        return "london " + stem.split("_")[0]
    return name if name in ("lisa", "zoom") else stem


def fit_model(stable: dict[str, np.ndarray], template_keys: list[str],
              train: dict[str, list[tuple[str, str]]]) -> SimpleNamespace:
    """Template and within-person covariance from same-person pairs.

    ``train`` maps a category to its pairs; each category weighs the same
    (the simulated re-captures outnumber the rest/smile pairs 7 to 1, and
    the expression's variation must not drown in detection noise).
    """
    from lipsym.comparison._same_person import aligned_shape

    template = stable[template_keys[0]] - stable[template_keys[0]].mean(axis=0)
    template /= np.linalg.norm(template)
    for _ in range(5):  # generalised Procrustes: the mean shape, aligned on itself
        template = np.mean([aligned_shape(stable[k], template) for k in template_keys], axis=0)
        template /= np.linalg.norm(template)
    covariances = []
    for pairs in train.values():
        d = np.array([aligned_shape(stable[a], template).ravel() - aligned_shape(stable[b], template).ravel()
                      for a, b in pairs])
        covariances.append(d.T @ d / len(d))
    within = np.mean(covariances, axis=0)
    within = (1 - SHRINKAGE) * within + SHRINKAGE * np.trace(within) / len(within) * np.eye(len(within))
    variances, axes = np.linalg.eigh(within)  # ascending
    return SimpleNamespace(TEMPLATE=template, AXES=axes[:, -AXES_KEPT:].T, AXIS_VARIANCES=variances[-AXES_KEPT:],
                           REST_VARIANCE=float(variances[:-AXES_KEPT].mean()))


def distances(stable, pairs, model) -> dict[str, dict]:
    return {name: {(a, b): geometry_distance(stable[a], stable[b], model=model) for a, b in prs}
            for name, prs in pairs.items()}


def cross_validate(stable, pairs, template_keys, folds: int = 5, seed: int = 0) -> dict[str, dict]:
    """Held-out distances: the model of each fold never saw the faces it is tested on.

    Same-person pairs are tested in the fold of their face (lisa and zoom,
    never fitted, under every fold's model); different-person pairs when
    both faces are in the fold. Returns set name → {(a, b) or (a, b, fold): distance}.
    """
    fold = folds_by_face(stable, folds, seed)
    held_out: dict[str, dict] = {name: {} for name in pairs}
    for f in range(folds):
        train = {name: [p for p in pairs[name] if fold[face_of(p[0])] != f] for name in TRAIN}
        model = fit_model(stable, [k for k in template_keys if fold[face_of(k)] != f], train)
        for name, prs in pairs.items():
            for a, b in prs:
                if name.startswith("same: lisa") or name.startswith("same: zoom"):
                    if f != fold[face_of(a)]:
                        held_out[name][(a, b, f)] = geometry_distance(stable[a], stable[b], model=model)
                elif f in (fold[face_of(a)], fold[face_of(b)]) and (
                        fold[face_of(a)] == fold[face_of(b)] or face_of(a) == face_of(b)):
                    held_out[name][(a, b)] = geometry_distance(stable[a], stable[b], model=model)
    return held_out


def folds_by_face(labels, folds: int, seed: int) -> dict[str, int]:
    """Fold of every face (5-fold cross-validation by face)."""
    faces = sorted({face_of(k) for k in labels})
    np.random.default_rng(seed).shuffle(faces)
    return {f: i % folds for i, f in enumerate(faces)}


def geometry_distance(a, b, model) -> float:
    from lipsym.comparison._same_person import geometry_distance as distance

    return distance(a, b, model=model)


def identity_distances(identity: dict[str, np.ndarray], pairs) -> dict[str, dict]:
    """Identity-descriptor distance of every pair with two photos (a simulated head turn has none of its own)."""
    from lipsym.comparison._same_person import identity_distance

    return {name: {(a, b): identity_distance(identity[a], identity[b]) for a, b in prs
                   if a in identity and b in identity}
            for name, prs in pairs.items() if name != "same: simulated pose change"}


def identity_cross_validated(d: dict[str, dict], folds: int = 5, seed: int = 0) -> tuple[dict[str, dict], list]:
    """Refusal with a threshold fitted on data: each fold's the largest same-person distance of the
    other folds' faces (lisa and zoom never used), tested on the fold's pairs."""
    fold = folds_by_face([a for prs in d.values() for a, _ in prs], folds, seed)
    outcome: dict[str, dict] = {name: {} for name in d}
    thresholds = []
    for f in range(folds):
        t = max(v for name, prs in d.items() if name.startswith("same") and " (real" not in name
                for (a, _), v in prs.items() if fold[face_of(a)] != f)
        thresholds.append(t)
        for name, prs in d.items():
            for (a, b), v in prs.items():
                if (" (real" in name and fold[face_of(a)] != f) or (
                        " (real" not in name and fold[face_of(a)] == f and fold[face_of(b)] == f):
                    outcome[name][(a, b, f)] = v - t  # > 0: refused
    return outcome, thresholds


def table(title: str, d: dict[str, dict], threshold: float) -> None:
    print(f"\n{title} (threshold {threshold:.3g})")
    print(f"{'pairs':40s} {'n':>5s} {'':>7s} {'rate':>6s} {'median':>7s} {'min':>7s} {'max':>7s}")
    for name, by_pair in d.items():
        v = np.array(list(by_pair.values()))
        if not len(v):
            continue
        different = name.startswith("different")
        ok = v > threshold if different else v <= threshold
        print(f"{name:40s} {len(v):5d} {'refused' if different else 'passed':>7s} {ok.mean():6.1%} "
              f"{np.median(v):7.2f} {v.min():7.2f} {v.max():7.2f}")


def write_model(model: SimpleNamespace, threshold: float, path: Path) -> None:
    def rows(a: np.ndarray) -> str:
        return "".join(f"    [{', '.join(f'{x:.6g}' for x in row)}],\n" for row in np.atleast_2d(a))

    path.write_text(f'''"""Calibration of the same-person check; written by benchmarks/same_person.py --write-model.

Fitted on the development photos in ../shared/data: the template is the mean
shape of the London neutral photos; the within-person covariance weighs
equally London rest against smile of the same face and simulated
re-captures of the London and 3DSK photos (shrinkage {SHRINKAGE} towards
its mean variance; its {AXES_KEPT} largest axes kept, one variance for the
rest). THRESHOLD is the largest held-out same-person distance of a 5-fold
cross-validation by face (real re-photographs lisa and zoom included),
rounded up to 0.1. IDENTITY_THRESHOLD is the largest Euclidean distance of
two identity descriptors (lipsym.landmarks._identity) accepted as one person:
the radius dlib's network was trained to keep one person's faces within,
not fitted here. Do not edit by hand.
"""

import numpy as np

IDENTITY_THRESHOLD = {IDENTITY_THRESHOLD}
THRESHOLD = {threshold:.1f}
REST_VARIANCE = {model.REST_VARIANCE:.6g}
AXIS_VARIANCES = np.array([{', '.join(f'{x:.6g}' for x in model.AXIS_VARIANCES)}])
TEMPLATE = np.array([
{rows(model.TEMPLATE)}])
AXES = np.array([
{rows(model.AXES)}])
for _a in (AXIS_VARIANCES, TEMPLATE, AXES):
    _a.flags.writeable = False
''')


def timing(n: int = 10) -> None:
    """Median time of one identity descriptor, against the analysis of the same photos without it (baseline)."""
    import time

    import lipsym.analysis._photo as analysis
    from lipsym.io._photo import load_photo
    from lipsym.landmarks._default import default_landmarker
    from lipsym.landmarks._identity import face_descriptor

    landmarker = default_landmarker()
    photos = development_photos()
    paths = photos["london_rest"][:n // 2] + photos["3dsk_rest"][:n - n // 2]
    descriptor_s, analysis_s = [], []
    analysis.face_descriptor = lambda rgb, points_px: None  # the baseline: the analysis without the descriptor
    try:
        for path in paths:
            t0 = time.perf_counter()
            a = analysis.analyze_photo(path, landmarker)
            analysis_s.append(time.perf_counter() - t0)
            photo = load_photo(path)
            t0 = time.perf_counter()
            face_descriptor(photo.rgb, photo.from_original_px(np.asarray(a.landmarks.points_px)[:, :2]))
            descriptor_s.append(time.perf_counter() - t0)
    finally:
        analysis.face_descriptor = face_descriptor
    print(f"\ntime per photo ({n} London and 3DSK photos, median): identity descriptor "
          f"{np.median(descriptor_s):.3f} s; the rest of the analysis {np.median(analysis_s):.3f} s")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--variants", type=int, default=2, help="simulated re-captures per photo (default 2)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--cache", type=Path,
                        help="npz file keeping the landmarks between runs (of the same --variants and --seed)")
    parser.add_argument("--write-model", action="store_true",
                        help="write the fitted model and threshold to src/lipsym/comparison/_same_person_model.py")
    args = parser.parse_args(argv)
    missing = [p for p in (LONDON, DSK, LISA, ZOOM) if not p.is_dir()]
    if missing:
        sys.exit(f"same_person: {missing[0]} is absent; the benchmark needs ../shared/data")

    from lipsym.comparison._same_person import stable_points_px

    landmarks, identity = analyse_all(args.variants, args.seed, args.cache)
    points = with_pose_changes(landmarks, args.variants, args.seed)
    stable = {k: stable_points_px(v) for k, v in points.items()}
    pairs = pairs_of(points)

    # What decides when dlib is installed: the identity descriptors.
    ident = identity_distances(identity, pairs)
    table("identity descriptors, dlib's threshold (not fitted: every pair is held out)", ident, IDENTITY_THRESHOLD)
    outcome, fitted = identity_cross_validated(ident, seed=args.seed)
    table(f"identity descriptors, threshold fitted per fold (largest same-person distance of the other "
          f"folds: {min(fitted):.3f}-{max(fitted):.3f}); value shown: distance - threshold", outcome, 0.0)

    # The fallback without dlib, and a second opinion: face geometry.
    template_keys = [k for k in stable if k.startswith("london_rest/") and "#" not in k]
    held_out = cross_validate(stable, pairs, template_keys, seed=args.seed)
    threshold = math.ceil(10 * max(max(v.values()) for k, v in held_out.items() if k.startswith("same"))) / 10
    table("face geometry, cross-validated, 5 folds by face", held_out, threshold)
    model = fit_model(stable, template_keys, {name: pairs[name] for name in TRAIN})
    table("face geometry, model fitted on all development pairs (lisa and zoom never fitted)",
          distances(stable, pairs, model), threshold)

    # Refusing when either says different (identity or held-out geometry),
    # as a ratio to each threshold: > 1 refused.
    either = {name: {key: max(geo / threshold, ident.get(name, {}).get(key[:2], 0.0) / IDENTITY_THRESHOLD)
                     for key, geo in by_pair.items()} for name, by_pair in held_out.items()}
    table("identity OR face geometry (held out); value shown: the larger of distance / threshold", either, 1.0)
    timing()
    if args.write_model:
        write_model(model, threshold, MODEL)
        print(f"\nwrote {MODEL.relative_to(REPO)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
