"""Flip-averaged landmarks, the frame and the named points on real photos."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from conftest import LONDON, SAMPLE, gt_subject_points, london_ids, needs_shared
from lipsym.analysis._photo import AnalysisOptions, analyze_photo
from lipsym.face._anatomy import POINT_NAMES
from lipsym.errors import MultipleFacesError, NoFaceError

PORTRAITS = LONDON.parent / "portraits"


def _frame_points(analysis) -> dict[str, np.ndarray]:
    """Named points in frame coordinates, as a fraction of the IPD."""
    f = analysis.frame
    return {k: f.to_frame(v) / f.interpupillary_distance_px for k, v in analysis.anatomy.points_px.items()}


def _swap(name: str) -> str:
    return name.replace("_right", "_TMP").replace("_left", "_right").replace("_TMP", "_left")


def test_sample_photo_analyses(landmarker):
    a = analyze_photo(SAMPLE, landmarker)
    assert set(a.anatomy.points_px) == set(POINT_NAMES)
    assert a.landmarks.points_px.shape == (478, 3)
    # Subject's right pupil is on the image left in an ordinary photo.
    assert a.anatomy.points_px["pupil_right"][0] < a.anatomy.points_px["pupil_left"][0]
    assert 50 < a.frame.interpupillary_distance_px * a.scale.mm_per_px < 75


@needs_shared
def test_flipped_photo_gives_the_same_points_with_sides_swapped(landmarker, tmp_path):
    src = LONDON / "neutral" / "004_03.jpg"
    flipped = tmp_path / "flipped.png"
    Image.open(src).transpose(Image.Transpose.FLIP_LEFT_RIGHT).save(flipped)
    a, b = analyze_photo(src, landmarker), analyze_photo(flipped, landmarker)
    width = a.width_px
    for name, p in a.anatomy.points_px.items():
        q = b.anatomy.points_px[_swap(name)]
        assert np.allclose([width - 1 - q[0], q[1]], p, atol=1e-6), name
    partner_pts = b.landmarks.points_px
    from lipsym.landmarks._mesh import mirror_pairs

    back = partner_pts[mirror_pairs()].copy()
    back[:, 0] = width - 1 - back[:, 0]
    assert np.abs(back[:, :2] - a.landmarks.points_px[:, :2]).max() < 1e-6
    assert a.landmarks.pose.yaw_deg == pytest.approx(-b.landmarks.pose.yaw_deg, abs=1e-9)


@needs_shared
def test_mirrored_option_swaps_sides(landmarker):
    src = LONDON / "neutral" / "004_03.jpg"
    a = analyze_photo(src, landmarker)
    m = analyze_photo(src, landmarker, options=AnalysisOptions(mirrored=True))
    for name, p in a.anatomy.points_px.items():
        assert np.allclose(m.anatomy.points_px[_swap(name)], p, atol=1e-9), name
    fa, fm = _frame_points(a), _frame_points(m)
    assert np.allclose(fm["cheilion_left"], fa["cheilion_right"] * [-1, 1], atol=1e-9)


def _transformed(src, tmp_path, angle_deg=0.0, scale=1.0, shift=(0, 0)):
    import cv2

    img = np.asarray(Image.open(src).convert("RGB"))
    h, w = img.shape[:2]
    out_w, out_h = int(round(w * scale)) + 2 * abs(shift[0]), int(round(h * scale)) + 2 * abs(shift[1])
    m = cv2.getRotationMatrix2D((w / 2, h / 2), angle_deg, scale)
    m[:, 2] += [(out_w - w) / 2 + shift[0], (out_h - h) / 2 + shift[1]]
    warped = cv2.warpAffine(img, m, (out_w, out_h), flags=cv2.INTER_CUBIC, borderMode=cv2.BORDER_REFLECT)
    path = tmp_path / f"t_{angle_deg}_{scale}_{shift[0]}.png"
    Image.fromarray(warped).save(path)
    return path


@needs_shared
@pytest.mark.parametrize("angle,scale,shift", [(10, 1, (0, 0)), (-10, 1, (0, 0)), (0, 0.5, (0, 0)),
                                               (0, 2, (0, 0)), (0, 1, (37, -23))])
@pytest.mark.slow
def test_frame_coordinates_invariant_to_similarity_transforms(landmarker, tmp_path, angle, scale, shift):
    """Rotation ±10°, scale ×0.5/×2 and translation: frame-relative points move
    by no more than the noise floor (lip-measures.md: 0.15-0.5 % IPD for
    sub-pixel shifts; ×0.5 also halves the face, which costs precision)."""
    src = LONDON / "neutral" / "010_03.jpg"
    base = _frame_points(analyze_photo(src, landmarker))
    moved = _frame_points(analyze_photo(_transformed(src, tmp_path, angle, scale, shift), landmarker))
    errors = {k: float(np.linalg.norm(moved[k] - base[k])) for k in base}
    limit = 0.02 if scale == 0.5 else 0.012
    assert max(errors.values()) < limit, errors


@needs_shared
def test_exif_rotated_copy_gives_the_same_result(landmarker, tmp_path):
    src = LONDON / "neutral" / "013_03.jpg"
    upright = Image.open(src)
    # Store the pixels rotated and an EXIF tag saying how to undo it (6 = rotate 90° CW to view).
    stored = upright.transpose(Image.Transpose.ROTATE_90)
    exif = Image.Exif()
    exif[0x0112] = 6
    rotated = tmp_path / "exif6.jpg"
    stored.save(rotated, quality=98, exif=exif.tobytes())
    plain = tmp_path / "plain.jpg"
    upright.save(plain, quality=98)
    a, b = analyze_photo(plain, landmarker), analyze_photo(rotated, landmarker)
    assert b.orientation == 6 and (b.width_px, b.height_px) == (a.width_px, a.height_px)
    for name, p in a.anatomy.points_px.items():
        assert np.linalg.norm(b.anatomy.points_px[name] - p) < 0.005 * a.frame.interpupillary_distance_px, name


@needs_shared
@pytest.mark.slow
def test_named_points_agree_with_manual_ground_truth(landmarker):
    """Acceptance: median cheilion error ≤ 2 % IPD on the 34 London neutral photos."""
    cheilion, pupil, endocanthion = [], [], []
    for fid in london_ids():
        a = analyze_photo(LONDON / "neutral" / f"{fid}_03.jpg", landmarker)
        gt = gt_subject_points(fid)
        ipd = np.linalg.norm(gt["pupil_left"] - gt["pupil_right"])
        err = {k: np.linalg.norm(a.anatomy.points_px[k] - gt[k]) / ipd * 100 for k in gt}
        cheilion += [err["cheilion_right"], err["cheilion_left"]]
        pupil += [err["pupil_right"], err["pupil_left"]]
        endocanthion += [err["endocanthion_right"], err["endocanthion_left"]]
    assert len(cheilion) == 2 * 34
    assert np.median(cheilion) <= 2.0
    assert np.median(pupil) <= 2.0
    assert np.median(endocanthion) <= 3.0


@needs_shared
def test_turned_head_is_flagged(landmarker):
    a = analyze_photo(PORTRAITS / "pyfeat_m7_disgust_45deg.jpg", landmarker)
    assert "head_turned" in {f.code for f in a.flags}


@needs_shared
def test_group_photo_warns_or_fails_on_request(landmarker):
    a = analyze_photo(PORTRAITS / "pyfeat_multi_face.jpg", landmarker)
    assert a.landmarks.n_faces >= 2 and any("faces found" in w for w in a.warnings)
    with pytest.raises(MultipleFacesError):
        analyze_photo(PORTRAITS / "pyfeat_multi_face.jpg", landmarker,
                      options=AnalysisOptions(allow_multiple_faces=False))


@needs_shared
@pytest.mark.slow
def test_london_photos_are_within_limits(landmarker):
    """Studio photos with closed lips at rest raise no capture flags (thresholds are not trigger-happy).

    The per-measure ``weak_evidence_*`` flags judge the image evidence of one
    measure, not the capture: they are tested against the measures' errors
    (tests/test_refine_evidence.py, benchmarks/validate.py).
    """
    flagged = {}
    for fid in london_ids():
        a = analyze_photo(LONDON / "neutral" / f"{fid}_03.jpg", landmarker)
        codes = [f.code for f in a.flags if not f.code.startswith("weak_evidence_")]
        if codes:
            flagged[fid] = codes
    assert len(flagged) <= 2, flagged


def test_no_face_raises(landmarker, tmp_path):
    blank = tmp_path / "wall.png"
    rng = np.random.default_rng(0)
    Image.fromarray((rng.random((300, 400, 3)) * 40 + 100).astype(np.uint8)).save(blank)
    with pytest.raises(NoFaceError, match="wall.png"):
        analyze_photo(blank, landmarker)


def test_closed_eyes_flagged(landmarker, tmp_path):
    """A face whose eyes are painted over with skin colour: iris not measurable."""
    from lipsym.face._quality import MIN_EYE_OPENNESS, eye_openness

    a = analyze_photo(SAMPLE, landmarker)
    assert min(eye_openness(a.landmarks.points_px).values()) > MIN_EYE_OPENNESS


@needs_shared
@pytest.mark.parametrize("angle", [20, -20])
def test_a_strongly_tilted_face_is_detected_again_upright(landmarker, tmp_path, monkeypatch, angle):
    """Beyond DEROTATE_ABOVE_DEG the face is re-detected on an upright square around it
    (photo and mirror image: four detections), and its frame-relative points agree with
    the untilted photo's as closely as for the ±10° tilts that need no re-detection."""
    src = LONDON / "neutral" / "010_03.jpg"
    base = _frame_points(analyze_photo(src, landmarker))
    calls = []
    real = type(landmarker).detect_faces
    monkeypatch.setattr(type(landmarker), "detect_faces", lambda self, rgb: calls.append(rgb.shape) or real(self, rgb))
    moved = _frame_points(analyze_photo(_transformed(src, tmp_path, angle), landmarker))
    assert len(calls) == 4, calls
    errors = {k: float(np.linalg.norm(moved[k] - base[k])) for k in base}
    assert max(errors.values()) < 0.012, errors


def test_starting_a_landmarker_spawns_no_compiler_or_linker():
    """MediaPipe's audio dependency searches for PortAudio with ldconfig, gcc and ld; lipsym must not."""
    code = r"""
import subprocess
spawned = []
real = subprocess.Popen.__init__
def spy(self, args, *a, **k):
    spawned.append(args if isinstance(args, str) else " ".join(map(str, args)))
    return real(self, args, *a, **k)
subprocess.Popen.__init__ = spy
from lipsym.landmarks import Landmarker
with Landmarker():
    pass
import sys
assert "sounddevice" not in sys.modules or sys.modules["sounddevice"] is not None
print(spawned)
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]", out
