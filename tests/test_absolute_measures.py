"""Absolute lip measures: known answers on drawn lips, mirror symmetry, a real photo against its manual points."""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest

from conftest import LONDON, REPO, london_gt, needs_shared
from lipsym.face._scale import Scale
from lipsym.formats._naming import csv_column
from lipsym.measures._absolute import ABSOLUTE_KEYS, absolute_measures
from lipsym.measures._registry import measure_info
from lipsym.measures._vermilion import vermilion_measures

HALF_MM = Scale(mm_per_px=0.5, source="test", relative_uncertainty=0.0)

# Drawn lips in frame px (x to the subject's left, y up), subject right → left. The corners are
# unequal (20 and 24 px from the midline) so that mirroring has sides to swap.
CH_R, CH_L = np.array([-20.0, 0.0]), np.array([24.0, 0.0])
OUTER_UPPER = np.array([CH_R, [-10, 6], [0, 5], [12, 6], CH_L])
CONTACT = np.array([CH_R, [0, 0], CH_L])  # closed lips: one inner contour for both
OUTER_LOWER = np.array([CH_R, [0, -9], CH_L])
SUBNASALE, LABRALE_SUPERIUS = np.array([0.0, 20.0]), np.array([0.0, 5.0])
IPD_PX = 124.0


def _measure(outer_upper, inner, outer_lower, ch_r, ch_l, scale=HALF_MM):
    m = absolute_measures(outer_upper, inner, outer_lower, inner, ch_r, ch_l, SUBNASALE, LABRALE_SUPERIUS,
                          scale, IPD_PX)
    return {x.key: x for x in m}


def _mirror(curve):
    """The same curve on the mirrored face, still ordered subject right → left."""
    return (curve * [-1.0, 1.0])[::-1]


def test_known_lip_gives_known_sizes():
    m = _measure(OUTER_UPPER, CONTACT, OUTER_LOWER, CH_R, CH_L)
    assert tuple(m) == ABSOLUTE_KEYS
    expected_px = {
        "intercommissural_width": 44.0,
        "upper_vermilion_height_midline": 5.0,
        "lower_vermilion_height_midline": 9.0,
        "upper_vermilion_height_mid_mean": 6.0,   # 6 at x = -10 and at x = 12
        "lower_vermilion_height_mid_mean": 4.5,   # the lower border halfway down at both mid-hemilips
        "philtrum_length": 15.0,
    }
    for key, px in expected_px.items():
        assert m[key].value == pytest.approx(0.5 * px), key
        assert m[key].unit == "mm"
    # Trapezoids under the upper border (30 + 55 + 66 + 36 px²), a triangle for the lower (44 · 9 / 2).
    assert m["upper_vermilion_area"].value == pytest.approx(0.25 * 187.0)
    assert m["lower_vermilion_area"].value == pytest.approx(0.25 * 198.0)
    assert m["upper_vermilion_area"].unit == "mm2"
    assert m["upper_lower_vermilion_ratio"].value == pytest.approx(5.0 / 9.0)
    assert m["upper_lower_vermilion_ratio"].unit == "1"


def test_areas_are_the_sum_of_the_hemi_areas():
    m = _measure(OUTER_UPPER, CONTACT, OUTER_LOWER, CH_R, CH_L)
    sided = {s.key: s for s in vermilion_measures(OUTER_UPPER, CONTACT, OUTER_LOWER, CONTACT, CH_R, CH_L,
                                                   CH_R, CH_L, HALF_MM, IPD_PX)}
    for lip in ("upper", "lower"):
        hemi = sided[f"{lip}_hemi_vermilion_area"]
        assert m[f"{lip}_vermilion_area"].value == pytest.approx(hemi.right + hemi.left, abs=1e-9)
        mid = sided[f"{lip}_vermilion_height_mid"]
        assert m[f"{lip}_vermilion_height_mid_mean"].value == pytest.approx(0.5 * (mid.right + mid.left), abs=1e-12)


def test_mirroring_keeps_absolute_measures_and_swaps_the_sides():
    mirrored = [_mirror(c) for c in (OUTER_UPPER, CONTACT, OUTER_LOWER)]
    ch_r, ch_l = CH_L * [-1.0, 1.0], CH_R * [-1.0, 1.0]
    a = _measure(OUTER_UPPER, CONTACT, OUTER_LOWER, CH_R, CH_L)
    b = _measure(*mirrored, ch_r, ch_l)
    for key in ABSOLUTE_KEYS:
        assert b[key].value == pytest.approx(a[key].value, abs=1e-9), key
    sa = {s.key: s for s in vermilion_measures(OUTER_UPPER, CONTACT, OUTER_LOWER, CONTACT, CH_R, CH_L,
                                                CH_R, CH_L, HALF_MM, IPD_PX)}
    sb = {s.key: s for s in vermilion_measures(mirrored[0], mirrored[1], mirrored[2], mirrored[1], ch_r, ch_l,
                                                ch_r, ch_l, HALF_MM, IPD_PX)}
    for key in ("upper_vermilion_height_mid", "lower_vermilion_height_mid", "upper_hemi_vermilion_area"):
        assert sb[key].right == pytest.approx(sa[key].left, abs=1e-9)
        assert sb[key].left == pytest.approx(sa[key].right, abs=1e-9)


def test_standard_error_carries_the_scale_and_the_landmark_noise():
    rel = 0.036
    m = _measure(OUTER_UPPER, CONTACT, OUTER_LOWER, CH_R, CH_L,
                 Scale(mm_per_px=0.5, source="test", relative_uncertainty=rel))
    for key in ABSOLUTE_KEYS:
        power = {"mm": 1, "mm2": 2, "1": 0}[m[key].unit]
        # at least the scale part, and more (the calibrated landmark part is > 0 for every key)
        assert m[key].standard_error > power * rel * m[key].value, key
        assert m[key].standard_error < power * rel * m[key].value + 0.1 * m[key].value, key
    # A ratio of lengths does not depend on the scale: its SE is the landmark part alone.
    unscaled = _measure(OUTER_UPPER, CONTACT, OUTER_LOWER, CH_R, CH_L)
    assert m["upper_lower_vermilion_ratio"].standard_error == pytest.approx(
        unscaled["upper_lower_vermilion_ratio"].standard_error)


def test_ratio_has_unitless_csv_columns():
    assert measure_info("upper_lower_vermilion_ratio").kind == "scalar"
    assert csv_column("upper_lower_vermilion_ratio", "value") == "upper_lower_vermilion_ratio"
    assert csv_column("upper_lower_vermilion_ratio", "standard_error") == "upper_lower_vermilion_ratio_se"
    assert csv_column("upper_vermilion_area", "value") == "upper_vermilion_area_mm2"


def _benchmark():
    spec = importlib.util.spec_from_file_location("absolute_measures_benchmark",
                                                  REPO / "benchmarks" / "absolute_measures.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


#: |lipsym − manual| allowed on London 001, mm (mm² for areas): the error measured on that photo
#: with a margin, with the size border search (−1.80, +0.01, −0.78, +16.6, −32.7; without it −1.80,
#: +0.31, −0.36, +19.3, −15.0: on this face the search shrinks the lower lip below the manual one,
#: while over 34 faces it brings the lower area nearer); the 34-face MAE is 1.10, 0.38, 0.84, 21.6 and
#: 24.8 (docs/accuracy.md, "Absolute lip measures").
TOLERANCE = {"intercommissural_width": 2.5, "upper_vermilion_height_midline": 1.0,
             "lower_vermilion_height_midline": 1.0, "upper_vermilion_area": 35.0, "lower_vermilion_area": 40.0}


@needs_shared
def test_real_photo_agrees_with_its_manual_points(landmarker):
    from lipsym.analysis._photo import analyze_landmarks
    from lipsym.io import load_photo
    from lipsym.measures._photo import measure_photo

    bench = _benchmark()
    photo = load_photo(LONDON / "neutral" / "001_03.jpg")
    analysis = analyze_landmarks(photo, landmarker.landmarks(photo))
    measures = measure_photo(analysis)
    manual = bench.manual_measures(np.asarray(london_gt("001")["points"]), analysis, measures.scale)
    for key, tol in TOLERANCE.items():
        assert abs(measures.scalars[key].value - manual[key]) < tol, (key, measures.scalars[key].value, manual[key])
        assert measures.scalars[key].standard_error > 0
    assert 0.3 < measures.scalars["upper_lower_vermilion_ratio"].value < 1.2
    assert 8.0 < measures.scalars["philtrum_length"].value < 25.0
