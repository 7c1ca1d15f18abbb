"""benchmarks/validate.py's yardstick: manual sides, the manual area asymmetry, the detection cache, acceptance."""

from __future__ import annotations

import math
import sys

import numpy as np
import pytest

from conftest import LONDON, REPO, needs_shared

sys.path.insert(0, str(REPO / "benchmarks"))

import _validate_agreement as agreement  # noqa: E402
import _validate_data as data  # noqa: E402
from lipsym.sides import Side  # noqa: E402


@needs_shared
def test_manual_points_are_on_the_subjects_sides():
    m = data.Manual.load(LONDON / "gt" / "001_03.frl189.json")
    # The subject's right cheilion is on the image left of an ordinary photo, and the frame's x runs to the left.
    assert m.point("cheilion", Side.RIGHT)[0] < m.point("cheilion", Side.LEFT)[0]
    assert m.frame.to_frame(m.point("cheilion", Side.RIGHT))[0] < 0 < m.frame.to_frame(m.point("cheilion", Side.LEFT))[0]
    # y is up: the mouth is below the pupils.
    assert m.frame.to_frame(m.point("cheilion", Side.LEFT))[1] < 0
    upper = m.contour(data.OUTER_UPPER)
    assert upper[0][0] < 0 < upper[-1][0]  # ordered subject right → left, as lipsym's contours


@needs_shared
def test_manual_area_asymmetry_negates_under_mirroring(tmp_path):
    """Mirroring the manual points (and swapping FRL's image sides) negates the truth exactly."""
    import json

    src = json.loads((LONDON / "gt" / "004_03.frl189.json").read_text())
    pts = np.asarray(src["points"], float)
    mirrored = pts.copy()
    mirrored[:, 0] = 1349 - mirrored[:, 0]
    # FRL's image-left / image-right partners of the points used.
    swap = {0: 1, 87: 93, 88: 92, 89: 91, 94: 98, 95: 97, 99: 103, 100: 102, 104: 108, 105: 107}
    swap.update({v: k for k, v in swap.items()})
    mirrored = mirrored[[swap.get(i, i) for i in range(len(pts))]]
    for name, p in (("a", pts), ("b", mirrored)):
        (tmp_path / f"{name}.json").write_text(json.dumps({"points": p.tolist()}))
    a = agreement.manual_truth(data.Manual.load(tmp_path / "a.json"), 0.1)
    b = agreement.manual_truth(data.Manual.load(tmp_path / "b.json"), 0.1)
    for k in ("commissure_height", "bow_peak_height", "upper_area", "lower_area", "upper_height_mid"):
        assert a[k] == pytest.approx(-b[k], abs=1e-9), k
    assert abs(a["upper_area"]) > 0


def test_detection_cache_round_trip_and_key(tmp_path):
    from lipsym.io import photo_from_array
    from lipsym.landmarks._detector import FaceLandmarks, HeadPose, LandmarkerOptions

    lm = data.CachedLandmarker(LandmarkerOptions(flip_average=True), tmp_path)
    marks = FaceLandmarks(points_px=np.arange(478 * 3, dtype=float).reshape(478, 3), blendshapes={"a": 0.5},
                          pose=HeadPose(1.0, 2.0, 3.0), n_faces=1, flip_averaged=True,
                          flip_disagreement_px=np.ones(478), detection_width_px=10, detection_height_px=12,
                          model_sha256=lm.model_sha256)
    photo = photo_from_array(np.zeros((40, 30, 3), np.uint8))
    path = tmp_path / f"{lm._key(photo)}.npz"
    data._write(path, marks)
    back = lm.landmarks(photo)  # a hit: no detector is built
    assert lm.hits == 1 and lm.misses == 0 and lm._landmarker is None
    assert np.array_equal(back.points_px, marks.points_px) and back.pose == marks.pose
    assert dict(back.blendshapes) == {"a": 0.5} and not back.points_px.flags.writeable
    other = photo_from_array(np.ones((40, 30, 3), np.uint8))
    assert lm._key(other) != lm._key(photo)  # other pixels, other key
    raw = data.CachedLandmarker(LandmarkerOptions(flip_average=False), tmp_path)
    assert raw._key(photo) != lm._key(photo)  # other options, other key


def test_acceptance_and_stats():
    s = agreement.stats([1.0, 2.0, 3.0, float("nan")], [1.0, 2.0, 3.5, 1.0])
    assert s["n"] == 3 and s["slope"] < 1 and math.isclose(s["mae"], 0.5 / 3)
    one = agreement.stats([1.5], [1.0])
    assert one["n"] == 1 and math.isnan(one["r"]) and one["mae"] == 0.5
    good = {"commissure_height": {"r": 0.97, "slope": 1.0, "mae": 0.4},
            "cheilion_error": {"median": 0.9, "p90": 2.0},
            "bow_peak_height": {"r": 0.7, "mae": 0.4, "mae_zero": 0.6},
            "upper_area": {"r": 0.95, "slope": 1.0}, "lower_area": {"r": 0.95, "slope": 0.85},
            "fallback_rate": 0.0, "fallback_n": 0, "n": 34}
    rows = {c: ok for c, _, ok in agreement.acceptance(good)}
    assert all(ok for c, ok in rows.items() if "lower hemi-vermilion area asym slope" not in c)
    assert not rows["lower hemi-vermilion area asym slope 0.9-1.1"]
    groups = {"white": dict(good, fallback_rate=0.05, fallback_n=1, n=20),
              "black": dict(good, fallback_rate=0.5, fallback_n=1, n=2)}
    (fallback,) = [(f, ok) for c, f, ok in agreement.acceptance(good, groups) if "fallback" in c]
    assert not fallback[1] and "black" in fallback[0]
