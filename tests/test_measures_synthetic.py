"""Measures on geometry placed by hand in a known frame: exact known answers."""

from __future__ import annotations

import math

import numpy as np
import pytest

from lipsym.face._anatomy import cupids_bow_peak
from lipsym.face._frame import frame_from_landmarks
from lipsym.measures._commissures import commissure_measures, commissure_scalars
from lipsym.measures._contours import clip_half_plane, dense_contour, height_at, polygon_area_px2
from lipsym.measures._cupids_bow import cupids_bow_measures
from lipsym.measures._vermilion import vermilion_measures
from lipsym.face._scale import Calibration, Scale, scale_from_calibration, scale_from_iris
from lipsym.sides import Side

UNIT = Scale(mm_per_px=1.0, source="test", relative_uncertainty=0.0)


def _landmarks_in_frame(frame_mm: dict[int, tuple[float, float]], angle_deg=0.0, px_per_mm=10.0, offset=(500, 400)):
    """Landmarks (478, 3) placed at frame positions (mm; x to subject's left, y up),
    drawn into a photo rotated by angle_deg, scaled and translated."""
    pts = np.zeros((478, 3))
    a = math.radians(angle_deg)
    for i, (x, y) in frame_mm.items():
        # frame → image: subject's left is image right, up is −y in the image
        u, v = x * px_per_mm, -y * px_per_mm
        pts[i, 0] = offset[0] + u * math.cos(a) - v * math.sin(a)
        pts[i, 1] = offset[1] + u * math.sin(a) + v * math.cos(a)
    return pts


BASE = {468: (-31.0, 0.0), 473: (31.0, 0.0), 13: (0, -72.0), 14: (0, -73.0)}
MIDLINE = {i: (0.0, -10.0 * k) for k, i in enumerate((10, 151, 9, 8, 168, 6, 197, 195, 5, 4, 1, 19, 94, 2, 164,
                                                       0, 11, 12, 15, 16, 17, 18, 200, 199, 175, 152))}


@pytest.mark.parametrize("angle", [0.0, 17.0, -10.0])
def test_frame_recovers_planted_coordinates(angle):
    pts = _landmarks_in_frame({**MIDLINE, **BASE, 61: (-25, -70), 291: (24, -68)}, angle_deg=angle)
    frame = frame_from_landmarks(pts)
    assert frame.interpupillary_distance_px == pytest.approx(620.0)
    f = frame.to_frame(pts[[61, 291]]) / 10.0
    assert np.allclose(f, [[-25, -70], [24, -68]], atol=1e-9)
    assert frame.ipl_angle_deg == pytest.approx(-angle, abs=1e-9)
    assert abs(frame.soft_tissue_midline_angle_deg) < 1e-6
    assert np.allclose(frame.to_photo(frame.to_frame(pts[:, :2])), pts[:, :2])


def test_commissure_measures_known_answers():
    ch_r, ch_l = np.array([-25.0, -70.0]), np.array([26.0, -68.0])
    en_r, en_l = np.array([-15.0, -2.0]), np.array([15.0, -2.0])
    lower_mid = np.array([0.0, -78.0])
    sided = commissure_measures(ch_r, ch_l, en_r, en_l, lower_mid, UNIT, ipd_px=62.0)
    s = {m.key: m for m in sided}
    scalars = commissure_scalars(ch_r, ch_l, s["commissure_height"], s["endocanthion_cheilion"], UNIT)
    assert s["commissure_height"].asymmetry == pytest.approx(2.0)
    assert s["commissure_height"].asymmetry_pct_ipd == pytest.approx(200 / 62)
    assert s["commissure_lateral"].right == pytest.approx(25) and s["commissure_lateral"].left == pytest.approx(26)
    assert s["commissure_excursion"].right == pytest.approx(math.hypot(25, 8))
    assert s["commissure_excursion"].left == pytest.approx(math.hypot(26, 10))
    assert s["smile_angle"].right == pytest.approx(90 + math.degrees(math.asin(8 / math.hypot(25, 8))))
    fai = abs(math.hypot(10, 68) - math.hypot(11, 66))
    c = {m.key: m for m in scalars}
    assert c["facial_asymmetry_index"].value == pytest.approx(fai)
    assert c["lip_cant"].value == pytest.approx(math.degrees(math.atan2(2, 51)))


def test_cupids_bow_measures_known_answers():
    sided, scalars = cupids_bow_measures(np.array([-6.0, -59.0]), np.array([5.0, -59.5]), np.array([0.0, -60.5]),
                                         UNIT, ipd_px=62.0)
    s = {m.key: m for m in sided}
    assert s["bow_peak_height_above_labrale_superius"].right == pytest.approx(1.5)
    assert s["bow_peak_height_above_labrale_superius"].asymmetry == pytest.approx(-0.5)
    assert s["bow_peak_offset"].asymmetry == pytest.approx(-1.0)
    assert scalars[0].value == pytest.approx(math.hypot(11, 0.5))


def test_cupids_bow_peak_is_the_highest_point_not_a_vertex():
    # Upper border as a smooth function with maxima at x = ±6.5 (not on a vertex).
    xs = np.array([-25, -20, -14, -9, -4, 0, 4, 9, 14, 20, 25], dtype=float)

    def border(x):
        return -60 + 1.5 * np.exp(-((np.abs(x) - 6.5) / 4.0) ** 2) - 0.004 * x ** 2

    pts = _landmarks_in_frame({**BASE, **MIDLINE, **{i: (x, border(x)) for i, x in
                                                    zip((61, 185, 40, 39, 37, 0, 267, 269, 270, 409, 291), xs)}})
    frame = frame_from_landmarks(pts)
    outer = pts[[61, 185, 40, 39, 37, 0, 267, 269, 270, 409, 291], :2]
    peak_r = frame.to_frame(cupids_bow_peak(outer, frame, Side.RIGHT)) / 10
    peak_l = frame.to_frame(cupids_bow_peak(outer, frame, Side.LEFT)) / 10
    assert peak_r[0] == pytest.approx(-peak_l[0], abs=1e-9) and peak_r[1] == pytest.approx(peak_l[1], abs=1e-9)
    assert abs(peak_l[0] - 6.3) < 1.0 and peak_l[1] > border(4.0)


def test_cupids_bow_peak_stays_where_the_reference_contour_peaks():
    """A refined contour whose left side was lowered below labrale superius keeps its peak in place.

    Refinement corrects the left - right asymmetry of the landmarks around
    MediaPipe's symmetric part; a large correction can lower one side's bow
    below labrale superius, and its highest point then jumps to the midline.
    Located on MediaPipe's contour, the peak stays at the same place along
    the border and takes the refined border's height there.
    """
    xs = np.array([-25, -20, -14, -9, -4, 0, 4, 9, 14, 20, 25], dtype=float)

    def border(x):
        return -60 + 1.5 * np.exp(-((np.abs(x) - 6.5) / 4.0) ** 2) - 0.004 * x ** 2

    idx = (61, 185, 40, 39, 37, 0, 267, 269, 270, 409, 291)
    ref = _landmarks_in_frame({**BASE, **MIDLINE, **{i: (x, border(x)) for i, x in zip(idx, xs)}})
    lowered = {i: (x, border(x) - (2.0 if x > 0 else 0.0)) for i, x in zip(idx, xs)}
    pts = _landmarks_in_frame({**BASE, **MIDLINE, **lowered})
    frame = frame_from_landmarks(pts)
    outer, outer_ref = pts[list(idx), :2], ref[list(idx), :2]
    alone = frame.to_frame(cupids_bow_peak(outer, frame, Side.LEFT)) / 10
    kept = frame.to_frame(cupids_bow_peak(outer, frame, Side.LEFT, outer_ref)) / 10
    where = frame.to_frame(cupids_bow_peak(outer_ref, frame, Side.LEFT)) / 10
    assert alone[0] < 1.0                                  # the lowered side's highest point is at the midline
    assert kept[0] == pytest.approx(where[0], abs=0.3)      # located where the reference peaks
    # At the lowered border's height (its spline dips a little further next to the step at the midline).
    assert where[1] - 2.4 < kept[1] < where[1] - 1.9
    # Mirror: the mirrored contours (reversed order, x negated) give the mirrored peak.
    m = np.array([-1.0, 1.0])
    mirrored = frame.to_photo(frame.to_frame(outer)[::-1] * m)
    mirrored_ref = frame.to_photo(frame.to_frame(outer_ref)[::-1] * m)
    kept_r = frame.to_frame(cupids_bow_peak(mirrored, frame, Side.RIGHT, mirrored_ref)) / 10
    assert kept_r == pytest.approx(kept * m, abs=1e-9)


def test_contour_geometry():
    line = dense_contour(np.array([[-20.0, -60.0], [-10, -60], [0, -60], [12, -60], [20, -60]]))
    assert np.allclose(line[:, 1], -60)
    assert height_at(line, 7.3) == pytest.approx(-60)
    square = np.array([[-2.0, 0], [3, 0], [3, 4], [-2, 4]])
    assert polygon_area_px2(square) == 20
    assert polygon_area_px2(clip_half_plane(square, keep_negative_x=True)) == pytest.approx(8)
    assert polygon_area_px2(clip_half_plane(square, keep_negative_x=False)) == pytest.approx(12)


def test_vermilion_rectangular_lips():
    x = np.linspace(-25, 25, 201)
    outer_upper = np.column_stack([x, np.full_like(x, -60.0)])
    inner_upper = np.column_stack([x, np.where(x < 0, -65.0, -66.0)])   # left upper lip 1 mm fuller
    inner_lower = np.column_stack([x, np.full_like(x, -66.0)])
    outer_lower = np.column_stack([x, np.full_like(x, -74.0)])
    out = {m.key: m for m in vermilion_measures(outer_upper, inner_upper, outer_lower, inner_lower,
                                                np.array([-25.0, -66]), np.array([25.0, -66]),
                                                np.array([-6.0, -60]), np.array([6.0, -60]), UNIT, ipd_px=62)}
    assert out["upper_vermilion_height_mid"].right == pytest.approx(5)
    assert out["upper_vermilion_height_mid"].left == pytest.approx(6)
    assert out["upper_vermilion_height_mid"].asymmetry == pytest.approx(1)
    assert out["lower_vermilion_height_peak"].right == pytest.approx(8)
    assert out["upper_hemi_vermilion_area"].right == pytest.approx(125, rel=1e-3)
    assert out["upper_hemi_vermilion_area"].left == pytest.approx(150, rel=2e-3)
    assert out["upper_hemi_vermilion_area"].unit == "mm2"


def test_scale_from_iris_and_calibration():
    pts = np.zeros((478, 3))
    pts[469, 0], pts[471, 0] = 100, 130      # right iris 30 px
    pts[474, 0], pts[476, 0] = 300, 332      # left iris 32 px
    s = scale_from_iris(pts)
    assert s.mm_per_px == pytest.approx(11.7 / 31)
    assert s.relative_uncertainty == pytest.approx(math.hypot(0.42 / 11.71, 1 / 31))
    c = scale_from_calibration(Calibration(interpupillary_distance_mm=62.0), 620.0)
    assert c.mm_per_px == pytest.approx(0.1) and c.source == "calibration_ipd"
    with pytest.raises(Exception):
        Calibration(interpupillary_distance_mm=62, mm_per_px=0.1)
