"""Re-capture simulator, between-capture error model and capture-consistency checks (issue #13)."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest

from conftest import SAMPLE, SHARED_DATA, needs_shared
from lipsym.comparison._capture import Capture, CaptureError, capture_from_analysis, capture_from_dict
from lipsym.comparison._capture_checks import capture_warnings
from lipsym.comparison._capture_model import (
    COEFFICIENTS, LITERATURE_MDC_MM, between_capture_sd, between_capture_terms, change_se_floor, perspective_change,
)
from lipsym.comparison._compare import KEY_MEASURES, Z95, compare_measures, compare_sided
from lipsym.measures._values import SidedMeasure
from lipsym.simulate._recapture import (
    CLOSE_RANGE_FACE_WIDTHS, SMALLEST_FACE_WIDTH_PX, SOURCE_DISTANCE_FACE_WIDTHS, RecaptureParams, camera_homography,
    perspective_landmarks, recapture_points, rotate_landmarks, sample_params,
)

W, H = 400, 300
REST = Capture("rest", 1.0, -2.0, 0.5, ipd_px=200.0, mm_per_px=0.31, mouth_width_ipd=0.8, lip_gap_ipd=0.0,
               face_width_px=400.0)


def _face(seed: int = 0) -> np.ndarray:
    """A fake 478-point face: a disc in x, y with a dome in z (nearer = negative), width ~200 px."""
    rng = np.random.default_rng(seed)
    xy = rng.uniform(-100, 100, (478, 2))
    z = -0.5 * np.sqrt(np.clip(100 ** 2 - (xy ** 2).sum(1), 0, None))
    pts = np.c_[xy + [W / 2, H / 2], z]
    pts[234, :2], pts[454, :2] = [W / 2 - 100, H / 2], [W / 2 + 100, H / 2]
    return pts


def _sided(key="commissure_height", asym=0.5, se=0.05, unit="mm") -> SidedMeasure:
    return SidedMeasure(key, unit, 10.0, 10.0 + asym, asym, None, None, se, "")


# --- simulator geometry -------------------------------------------------------------


def test_yaw_moves_near_points_right_and_far_points_less():
    pts = _face()
    moved = rotate_landmarks(pts, yaw_deg=5.0, pitch_deg=0.0)
    dx = moved[:, 0] - pts[:, 0]
    near, far = pts[:, 2] <= np.percentile(pts[:, 2], 10), pts[:, 2] >= np.percentile(pts[:, 2], 90)
    assert dx[near].mean() > dx[far].mean() + 1.0
    np.testing.assert_allclose(moved[:, 1], pts[:, 1], atol=1e-9)  # yaw does not move points vertically


def test_pitch_moves_near_points_vertically_only():
    pts = _face()
    moved = rotate_landmarks(pts, yaw_deg=0.0, pitch_deg=4.0)
    np.testing.assert_allclose(moved[:, 0], pts[:, 0], atol=1e-9)
    dy = moved[:, 1] - pts[:, 1]
    near = pts[:, 2] < np.percentile(pts[:, 2], 10)
    assert dy[near].mean() > 1.0  # nearer points down: positive pitch as lipsym's pose reads it


def test_camera_farther_shrinks_near_points_and_keeps_the_centroid_depth():
    pts = _face()
    pts[:, 2] = 0.0  # depths -30, 0, +30, 0 px...: centroid depth 0, some points level with it
    pts[:476, 2] = np.tile([-30.0, 0.0, 30.0, 0.0], 119)
    c = np.array([(W - 1) / 2, (H - 1) / 2])
    farther = perspective_landmarks(pts, 2.0, W, H)
    r0, r1 = np.linalg.norm(pts[:, :2] - c, axis=1), np.linalg.norm(farther - c, axis=1)
    near, level = pts[:, 2] < -20, np.abs(pts[:, 2]) < 1e-9
    assert np.all(r1[near] < r0[near]) and level.any()
    np.testing.assert_allclose(r1[level], r0[level], atol=1e-9)
    np.testing.assert_allclose(perspective_landmarks(pts, 1.0, W, H), pts[:, :2], atol=1e-9)


def test_camera_roll_scale_and_downscale_map_points_as_asked():
    pts = _face()
    p = RecaptureParams(roll_deg=10.0, scale=1.2, downscale=0.5)
    out = recapture_points(pts, p, W, H)
    c = np.array([(W - 1) / 2, (H - 1) / 2])
    before, after = pts[[234, 454], :2] - c, (out[[234, 454]] + 0.5) / 0.5 - 0.5 - c
    # Distance from the centre grows by the scale, and the image-right point rises by the roll.
    np.testing.assert_allclose(np.linalg.norm(after, axis=1), 1.2 * np.linalg.norm(before, axis=1), rtol=1e-9)
    v = after[1] - after[0]
    assert math.degrees(math.atan2(-v[1], v[0])) == pytest.approx(10.0, abs=1e-9)


def test_identity_params_keep_every_point():
    pts = _face()
    np.testing.assert_allclose(recapture_points(pts, RecaptureParams(), W, H), pts[:, :2], atol=1e-9)
    np.testing.assert_allclose(camera_homography(RecaptureParams(), W, H), np.eye(3), atol=1e-12)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_mirrored_photo_and_params_give_the_mirrored_recapture(seed):
    pts = _face(seed)
    params = sample_params(np.random.default_rng(seed), strength=1.5)
    params = dataclasses.replace(params, downscale=1.0)
    mirror = pts.copy()
    mirror[:, 0] = W - 1 - pts[:, 0]
    direct = recapture_points(pts, params, W, H)
    mirrored = recapture_points(mirror, params.mirrored(), W, H)
    np.testing.assert_allclose(mirrored[:, 0], W - 1 - direct[:, 0], atol=1e-9)
    np.testing.assert_allclose(mirrored[:, 1], direct[:, 1], atol=1e-9)


def test_mirrored_capture_negates_yaw_and_roll_and_keeps_the_model():
    m = REST.mirrored()
    assert (m.yaw_deg, m.pitch_deg, m.roll_deg) == (-1.0, -2.0, -0.5)
    other = dataclasses.replace(REST, yaw_deg=6.0, roll_deg=-3.0)
    assert between_capture_sd("commissure_height", "mm", m, other.mirrored()) == pytest.approx(
        between_capture_sd("commissure_height", "mm", REST, other))


def test_sample_params_are_plausible():
    rng = np.random.default_rng(0)
    ps = [sample_params(rng) for _ in range(200)]
    assert max(abs(p.yaw_deg) for p in ps) <= 7.0
    assert 1.5 < np.std([p.yaw_deg for p in ps]) < 3.5
    assert all(0.3 <= p.downscale <= 1.0 and 70 <= p.jpeg_quality <= 95 for p in ps)


def test_sample_params_cover_close_range_cameras_and_small_faces():
    rng = np.random.default_rng(1)
    ps = [sample_params(rng, face_width_px=750.0) for _ in range(600)]
    close_lo, close_hi = (d / SOURCE_DISTANCE_FACE_WIDTHS for d in CLOSE_RANGE_FACE_WIDTHS)
    close = [p for p in ps if p.distance_ratio < 0.5]
    assert 0.18 < len(close) / len(ps) < 0.32  # a quarter of the re-captures
    assert all(close_lo - 1e-12 <= p.distance_ratio <= close_hi + 1e-12 for p in close)
    assert min(p.distance_ratio for p in close) < 0.3  # reaches a phone at ~15 cm
    widths = np.array([750.0 * p.downscale for p in ps if p.downscale < 1.0])
    assert 0.25 < len(widths) / len(ps) < 0.42
    assert widths.min() >= SMALLEST_FACE_WIDTH_PX - 1e-9
    assert np.mean(widths < 350.0) > 0.4  # small faces (lisa2: 185 px) are well represented
    assert all(sample_params(rng, close_range=False).distance_ratio >= 0.5 for _ in range(50))
    assert all(sample_params(rng, close_range=True).distance_ratio <= close_hi + 1e-12 for _ in range(50))


def test_a_closer_camera_enlarges_the_eyes_relative_to_the_face_outline():
    pts = _face()
    pts[:, 2] = 0.0
    pts[[468, 473], :2] = [[W / 2 - 50, H / 2], [W / 2 + 50, H / 2]]
    pts[[468, 473], 2] = -90.0  # the eyes 0.45 face widths in front of the outline (MediaPipe's depths)

    def index(xy):
        return math.log(np.linalg.norm(xy[468] - xy[473]) / np.linalg.norm(xy[234] - xy[454]))

    before = index(pts[:, :2])
    near, far = (index(perspective_landmarks(pts, r, W, H)) for r in (0.3, 2.0))
    assert far < before < near
    assert near - before > 0.15  # a camera at 1.2 face widths: strong perspective


@pytest.mark.slow
def test_rendered_recapture_moves_the_detected_landmarks_and_pose_as_asked(landmarker):
    from lipsym.analysis._photo import analyze_landmarks
    from lipsym.io import load_photo, photo_from_array
    from lipsym.simulate._recapture import recapture

    photo = load_photo(SAMPLE)
    a = analyze_landmarks(photo, landmarker.landmarks(photo))
    for params in (RecaptureParams(yaw_deg=5.0), RecaptureParams(roll_deg=8.0, scale=0.9, downscale=0.8,
                                                                  jpeg_quality=85)):
        r = recapture(photo.rgb, a, params)
        b = analyze_landmarks(photo_from_array(r.rgb), landmarker.landmarks(photo_from_array(r.rgb)))
        err = np.linalg.norm(b.landmarks.points_px[:, :2] - r.points_px, axis=1)
        assert np.median(err) < 0.01 * a.frame.interpupillary_distance_px * 2.5
        assert b.landmarks.pose.yaw_deg - a.landmarks.pose.yaw_deg == pytest.approx(params.yaw_deg, abs=2.5)
        assert b.landmarks.pose.roll_deg - a.landmarks.pose.roll_deg == pytest.approx(params.roll_deg, abs=1.5)


@pytest.mark.slow
@needs_shared
def test_a_rendered_close_range_recapture_reads_back_a_stronger_perspective(landmarker):
    from lipsym.analysis._photo import analyze_landmarks
    from lipsym.io import load_photo, photo_from_array
    from lipsym.simulate._recapture import recapture

    # A centred frontal face, as the simulator's pinhole on the photo centre assumes (the sample
    # photo's face sits near the top, pitched 15°: at close range its warp folds over).
    photo = load_photo(SHARED_DATA / "london_dev" / "neutral" / "001_03.jpg")
    a = analyze_landmarks(photo, landmarker.landmarks(photo))
    before = capture_from_analysis(a).perspective_index
    for ratio in (0.3, 0.45):  # a camera at 1.2 and 1.8 face widths (≈ 17 and 25 cm) instead of 4
        r = recapture(photo.rgb, a, RecaptureParams(distance_ratio=ratio))
        after = photo_from_array(r.rgb)
        b = analyze_landmarks(after, landmarker.landmarks(after))
        # MediaPipe follows a part of the geometric change (about +0.2): the zoom set's 15 cm photo reads +0.05.
        assert capture_from_analysis(b).perspective_index - before > 0.02, ratio


# --- error model --------------------------------------------------------------------


def test_perspective_index_and_its_change():
    assert REST.perspective_index == pytest.approx(math.log(200.0 / 400.0))
    assert dataclasses.replace(REST, face_width_px=None).perspective_index is None
    closer = dataclasses.replace(REST, ipd_px=300.0, face_width_px=570.0)  # zoomed AND closer
    assert perspective_change(REST, closer) == pytest.approx(abs(math.log(300 / 570) - math.log(0.5)))
    assert perspective_change(closer, REST) == perspective_change(REST, closer)
    zoomed = dataclasses.replace(REST, ipd_px=300.0, face_width_px=600.0)  # zoom alone: no perspective change
    assert perspective_change(REST, zoomed) == pytest.approx(0.0, abs=1e-12)
    assert perspective_change(REST, dataclasses.replace(closer, face_width_px=None)) == 0.0


def test_between_capture_sd_grows_with_a_perspective_change():
    closer = dataclasses.replace(REST, face_width_px=REST.face_width_px * math.exp(-0.06))
    assert any(c.perspective > 0 for c in COEFFICIENTS.values())
    for key, c in COEFFICIENTS.items():
        unit = c.unit
        terms = between_capture_terms(key, unit, REST, closer)
        assert terms["perspective"] == pytest.approx(
            0.06 * c.perspective * REST.ipd_mm ** {"mm": 1, "mm2": 2, "deg": 0}[unit])
        assert between_capture_sd(key, unit, REST, closer) >= between_capture_sd(key, unit, REST, REST)


def test_between_capture_sd_grows_with_pose_distance_and_resolution():
    def turned(d):
        return dataclasses.replace(REST, yaw_deg=REST.yaw_deg + d, pitch_deg=REST.pitch_deg - d,
                                   roll_deg=REST.roll_deg + d)

    small = dataclasses.replace(REST, ipd_px=60.0, mm_per_px=REST.ipd_mm / 60.0)  # same face, fewer pixels
    farther = dataclasses.replace(REST, ipd_px=120.0, mm_per_px=REST.ipd_mm / 120.0)
    grew = []
    for key in KEY_MEASURES:
        unit = "mm2" if key.endswith("area") else "mm"
        sd = [between_capture_sd(key, unit, REST, turned(d)) for d in (0.0, 3.0, 10.0)]
        assert sd[0] <= sd[1] <= sd[2] and sd[2] > sd[0], key
        # A fitted term may be 0 for a measure (the data showed no effect): never below, and above for some.
        grew.append(between_capture_sd(key, unit, REST, farther) > sd[0])
        assert between_capture_sd(key, unit, REST, farther) >= sd[0], key
        assert between_capture_sd(key, unit, small, small) >= sd[0], key
    assert sum(grew) >= len(KEY_MEASURES) // 2


def test_change_never_below_the_literature_or_pixel_floor():
    for expression in ("rest", "smile"):
        c = dataclasses.replace(REST, expression=expression)
        ch = compare_sided(_sided(se=0.01), _sided(asym=0.6, se=0.01), (c, c))
        assert ch.standard_error >= LITERATURE_MDC_MM[expression] / Z95 - 1e-12
        assert ch.minimal_detectable_change >= LITERATURE_MDC_MM[expression] - 1e-9
    # 1 mm per pixel (a 320 px wide photo): the pixel floor rules.
    coarse = dataclasses.replace(REST, ipd_px=63.0, mm_per_px=1.0)
    floor = math.sqrt((1.0 + 1.0) / 6.0)
    assert change_se_floor("mm", coarse, coarse) == pytest.approx(floor)
    assert compare_sided(_sided(), _sided(asym=0.7), (coarse, coarse)).standard_error >= floor
    assert change_se_floor("deg", coarse, coarse) == 0.0


def test_compare_without_captures_is_the_one_photo_figure():
    ch = compare_sided(_sided(se=0.03), _sided(asym=0.2, se=0.04))
    assert ch.standard_error == pytest.approx(0.05)
    assert ch.minimal_detectable_change == pytest.approx(Z95 * 0.05)
    assert ch.detectable
    with_caps = compare_sided(_sided(se=0.03), _sided(asym=0.2, se=0.04), (REST, REST))
    assert with_caps.standard_error > ch.standard_error and not with_caps.detectable
    both = compare_measures({"commissure_height": _sided()}, {"commissure_height": _sided(asym=2.0)},
                            captures=(REST, REST))
    assert both["commissure_height"].detectable


# --- capture warnings ---------------------------------------------------------------


def test_capture_warnings_name_each_difference():
    assert capture_warnings(REST, REST) == ()
    # Farther (IPD 200 → 120 px) and, by the face's own proportions, a stronger perspective (+0.06).
    other = dataclasses.replace(REST, yaw_deg=9.0, ipd_px=120.0, mouth_width_ipd=0.9, lip_gap_ipd=0.05,
                                lips_parted=True, face_width_px=120.0 / (0.5 * math.exp(0.06)))
    codes = {w.code: w for w in capture_warnings(REST, other)}
    assert set(codes) == {"pose_differs", "distance_differs", "perspective_differs", "smile_differs",
                          "lips_parted_differs"}
    assert codes["distance_differs"].difference == pytest.approx(200 / 120)
    assert codes["perspective_differs"].difference == pytest.approx(0.06)
    assert "nearer in the after photo" in codes["perspective_differs"].message
    # Zoom alone (both lengths scale alike) is a distance warning, not a perspective one.
    zoomed = dataclasses.replace(REST, ipd_px=120.0, face_width_px=240.0)
    assert [w.code for w in capture_warnings(REST, zoomed)] == ["distance_differs"]
    # A document without the face width: no perspective warning (nothing to compare).
    unknown = dataclasses.replace(other, face_width_px=None)
    assert "perspective_differs" not in {w.code for w in capture_warnings(REST, unknown)}
    for w in codes.values():
        assert w.widens_mdc_mm >= 0.0 and "\n" not in w.message and w.difference > w.limit or \
            w.code == "lips_parted_differs"
    with pytest.raises(dataclasses.FrozenInstanceError):
        codes["pose_differs"].limit = 1.0


# --- captures from analyses and stored documents ---------------------------------------


@pytest.mark.slow
def test_capture_from_a_stored_document_matches_the_analysis(landmarker):
    from lipsym.analysis._photo import analyze_landmarks
    from lipsym.formats._json import photo_to_dict
    from lipsym.io import load_photo
    from lipsym.measures._photo import measure_photo

    photo = load_photo(SAMPLE)
    a = analyze_landmarks(photo, landmarker.landmarks(photo), expression="smile")
    m = measure_photo(a)
    live = capture_from_analysis(a, m)
    stored = capture_from_dict(photo_to_dict(a, m, include_landmarks=True))
    for f in ("yaw_deg", "pitch_deg", "roll_deg", "ipd_px", "mm_per_px", "mouth_width_ipd", "lip_gap_ipd",
              "face_width_px"):
        assert getattr(stored, f) == pytest.approx(getattr(live, f), abs=1e-3), f
    assert stored.expression == live.expression == "smile"
    assert live.face_width_px > live.ipd_px > 0
    no_marks = capture_from_dict(photo_to_dict(a, m))  # the face width from the stable points
    assert no_marks.lip_gap_ipd is None and no_marks.mouth_width_ipd == pytest.approx(live.mouth_width_ipd, abs=1e-3)
    assert no_marks.face_width_px == pytest.approx(live.face_width_px, abs=1e-2)
    bare = photo_to_dict(a, m)
    del bare["stable_points_px"]
    assert capture_from_dict(bare).face_width_px is None
    with pytest.raises(CaptureError):
        capture_from_dict({"file": "x.jpg", "status": "error"})


def _lisa_changes(first: int, second: int):
    from lipsym.analysis._photo import analyze_photo
    from lipsym.measures._photo import measure_photo

    photos = [analyze_photo(SHARED_DATA / "invariance" / "lisa" / f"lisa{i}.jpg") for i in (first, second)]
    measures = [measure_photo(a) for a in photos]
    caps = tuple(capture_from_analysis(a, m) for a, m in zip(photos, measures))
    old = compare_measures(*measures, keys=KEY_MEASURES)
    new = compare_measures(*measures, keys=KEY_MEASURES, captures=caps)
    return [k for k, c in old.items() if c.detectable], [k for k, c in new.items() if c.detectable]


@pytest.mark.slow
@needs_shared
def test_a_real_lisa_pair_gives_no_detectable_key_measure():
    old, new = _lisa_changes(1, 4)
    assert old  # one photo's SE called changes in an unchanged person
    assert not new


@pytest.mark.slow
@needs_shared
def test_the_issues_lisa_pair_gives_no_detectable_key_measure():
    # Was a strict xfail: lisa2 is a 185 px wide face (below the 350 px face_too_small limit) with a
    # narrower mouth, and its commissure height +1.15 mm exceeded the MDC 1.06 mm. The model refit on
    # simulated re-captures that include small faces and close-range cameras (never on lisa) gives
    # MDC 1.38 mm (docs/accuracy.md, Change between two captures). Another random draw of the same
    # simulation gave 1.24 mm: the margin is not wide.
    old, new = _lisa_changes(2, 4)
    assert "commissure_height" in old
    assert not new


# --- keystone correction of the commissure height (issue #13) ---------------------------


def _heights(h_r: float, h_l: float) -> SidedMeasure:
    return SidedMeasure("commissure_height", "mm", h_r, h_l, h_l - h_r, None, None, 0.05, "")


def _near(cap: Capture, yaw_deg: float, d_index: float) -> Capture:
    """The capture with the camera nearer (the perspective index larger by ``d_index``) and turned."""
    width = cap.ipd_px / math.exp(cap.perspective_index + d_index)
    return dataclasses.replace(cap, yaw_deg=yaw_deg, face_width_px=width)


def test_keystone_correction_follows_the_nearer_photos_yaw_and_the_perspective_change():
    from lipsym.comparison._capture_model import KEYSTONE_PER_YAW_PERSPECTIVE, keystone_correction

    far = dataclasses.replace(REST, yaw_deg=0.0)
    near = _near(far, 4.0, 0.08)
    h = (-70.0, -70.0)
    got = keystone_correction("commissure_height", h, h, far, near)
    lever = REST.mouth_width_ipd * -70.0 / REST.ipd_mm
    expected = lever * KEYSTONE_PER_YAW_PERSPECTIVE * math.sin(math.radians(4.0)) * 0.08 * REST.ipd_mm
    assert got == pytest.approx(expected, rel=1e-9)
    assert abs(got) > 0.3  # a close, turned camera: a few tenths of a mm on the corners
    # The same pair the other way round: the nearer photo is still the turned one; the change reverses.
    assert keystone_correction("commissure_height", h, h, near, far) == pytest.approx(-got, rel=1e-9)
    # The yaw of the farther photo does not enter; the sign follows the nearer photo's turn.
    assert keystone_correction("commissure_height", h, h, dataclasses.replace(far, yaw_deg=6.0), near) == \
        pytest.approx(got, rel=1e-9)
    assert keystone_correction("commissure_height", h, h, far, _near(far, -4.0, 0.08)) == pytest.approx(-got)


def test_keystone_correction_is_zero_without_a_turn_a_perspective_change_or_a_face_width():
    from lipsym.comparison._capture_model import keystone_correction

    far = dataclasses.replace(REST, yaw_deg=0.0)
    h = (-70.0, -70.0)
    assert keystone_correction("commissure_height", h, h, far, _near(far, 0.0, 0.08)) == 0.0
    assert keystone_correction("commissure_height", h, h, far, dataclasses.replace(far, yaw_deg=5.0)) == 0.0
    assert keystone_correction("lower_vermilion_height_mid", h, h, far, _near(far, 4.0, 0.08)) == 0.0
    no_width = dataclasses.replace(far, face_width_px=None)  # a stored document without points
    assert keystone_correction("commissure_height", h, h, no_width, _near(far, 4.0, 0.08)) == 0.0


def test_compare_sided_reports_the_change_less_the_keystone_correction():
    far = dataclasses.replace(REST, yaw_deg=0.0)
    near = _near(far, 5.0, 0.1)
    before, after = _heights(-70.0, -70.0), _heights(-70.5, -69.0)
    plain = compare_sided(before, after)
    assert plain.keystone_correction == 0.0 and plain.change == pytest.approx(1.5)
    with_caps = compare_sided(before, after, (far, near))
    assert with_caps.keystone_correction != 0.0
    assert with_caps.change == pytest.approx(1.5 - with_caps.keystone_correction)
    assert with_caps.detectable == (abs(with_caps.change) > with_caps.minimal_detectable_change)
    same = compare_sided(before, before, (near, near))
    assert same.keystone_correction == 0.0 and same.change == 0.0


def test_settling_agrees_with_the_keystone_corrected_change():
    """A change explained by the camera's keystone alone is neither converging nor diverging."""
    import dataclasses

    from lipsym.comparison import _compare

    before, after = _sided(asym=1.0), _sided(asym=2.0)
    real = _compare.keystone_correction
    try:
        _compare.keystone_correction = lambda *a, **k: 1.0  # the whole +1.0 mm is the camera's
        change = _compare.compare_sided(before, after, captures=(REST, REST))
    finally:
        _compare.keystone_correction = real
    assert change.change == pytest.approx(0.0)
    assert change.settling == "stable"
    assert dataclasses.asdict(change)["keystone_correction"] == 1.0
