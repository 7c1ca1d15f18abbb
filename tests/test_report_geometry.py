"""Report geometry: similarity fitting, the facial-frame canvas, registration on stable landmarks."""

from __future__ import annotations

import math

import cv2
import numpy as np
import pytest

from conftest import LONDON, SAMPLE, needs_shared
from lipsym.analysis._photo import analyze_landmarks, analyze_photo
from lipsym.io import load_photo, photo_from_array
from lipsym.report._align import STABLE_LANDMARKS, Similarity, fit_similarity, frame_view, register_stable


def _similarity(angle_deg: float, scale: float, t, reflect: bool = False) -> Similarity:
    c, s = math.cos(math.radians(angle_deg)), math.sin(math.radians(angle_deg))
    a = scale * np.array([[c, -s], [s, c]]) @ (np.diag([-1.0, 1.0]) if reflect else np.eye(2))
    return Similarity(np.hstack([a, np.asarray(t, float)[:, None]]))


def test_fit_similarity_recovers_a_known_transform():
    rng = np.random.default_rng(1)
    src = rng.uniform(0, 500, size=(12, 2))
    truth = _similarity(7.5, 1.23, (40.0, -12.0))
    fitted = fit_similarity(src, truth.apply(src))
    np.testing.assert_allclose(fitted.matrix, truth.matrix, atol=1e-9)
    assert fitted.scale == pytest.approx(1.23) and fitted.rotation_deg == pytest.approx(7.5)


def test_fit_similarity_reflection_only_when_allowed():
    rng = np.random.default_rng(2)
    src = rng.uniform(0, 500, size=(12, 2))
    mirrored = _similarity(3.0, 0.9, (5.0, 5.0), reflect=True)
    assert np.linalg.det(fit_similarity(src, mirrored.apply(src)).matrix[:, :2]) > 0
    fitted = fit_similarity(src, mirrored.apply(src), allow_reflection=True)
    np.testing.assert_allclose(fitted.matrix, mirrored.matrix, atol=1e-9)


def test_similarity_composition():
    a, b = _similarity(10, 2.0, (1, 2)), _similarity(-4, 0.5, (3, -7))
    p = np.array([[3.0, 4.0], [-1.0, 8.0]])
    np.testing.assert_allclose(a.then(b).apply(p), b.apply(a.apply(p)), atol=1e-12)


def test_frame_view_puts_the_interpupillary_line_horizontal_at_the_requested_scale(landmarker):
    a = analyze_photo(SAMPLE, landmarker, expression="smile")
    px_per_mm, box = 8.0, (-40.0, 40.0, -90.0, 20.0)
    view = frame_view(a, a.scale.mm_per_px, box, px_per_mm)
    pr, pl = view.photo_to_view.apply(a.anatomy.points_px["pupil_right"]), \
        view.photo_to_view.apply(a.anatomy.points_px["pupil_left"])
    assert pr[1] == pytest.approx(pl[1], abs=1e-9) == pytest.approx(20.0 * px_per_mm)
    ipd_mm = a.frame.interpupillary_distance_px * a.scale.mm_per_px
    assert pl[0] - pr[0] == pytest.approx(ipd_mm * px_per_mm)  # subject's left on the right
    assert view.size_px == (640, 880)
    # frame mm and photo px agree on the canvas
    ch = a.anatomy.points_px["cheilion_left"]
    np.testing.assert_allclose(view.mm_to_view(a.frame.to_frame(ch) * a.scale.mm_per_px),
                               view.photo_to_view.apply(ch), atol=1e-9)


@needs_shared
def test_registration_on_stable_landmarks_recovers_a_camera_change(landmarker):
    """A rotated, scaled, shifted copy of a photo registers back onto the original."""
    path = LONDON / "neutral" / "010_03.jpg"
    before = analyze_photo(path, landmarker)
    truth = _similarity(4.0, 0.8, (120.0, 60.0))
    rgb = load_photo(path).rgb
    moved = cv2.warpAffine(rgb, truth.matrix, (rgb.shape[1], rgb.shape[0]), flags=cv2.INTER_LINEAR,
                           borderMode=cv2.BORDER_REPLICATE)
    photo = photo_from_array(moved)
    after = analyze_landmarks(photo, landmarker.landmarks(photo))
    reg = register_stable(after, before)
    assert reg.landmarks == STABLE_LANDMARKS
    assert reg.after_to_before.scale == pytest.approx(1 / 0.8, rel=0.01)
    assert reg.after_to_before.rotation_deg == pytest.approx(-4.0, abs=0.3)
    # the registered after landmarks land on the before ones (eyes and nose), well under a millimetre
    assert reg.rms_residual_mm < 0.5
    inverse = Similarity(np.linalg.inv(np.vstack([truth.matrix, [0.0, 0.0, 1.0]]))[:2])
    lips = after.landmarks.points_px[[61, 291, 0, 17], :2]  # away from the landmarks it was fitted on
    np.testing.assert_allclose(reg.after_to_before.apply(lips), inverse.apply(lips), atol=2.0)
