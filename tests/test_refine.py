"""Refinement of the lip landmarks and the planted-asymmetry simulator.

The refinement must recover a planted asymmetry that MediaPipe's symmetric
prior shrinks, invent none on a symmetric face, and fall back (flagged) where
the image shows nothing to register. Mirror exactness of the whole pipeline,
refinement included, is tested in test_measures_real.py.
"""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from conftest import LONDON, needs_shared
from lipsym.analysis._photo import AnalysisOptions, analyze_landmarks, analyze_photo
from lipsym.io import load_photo, photo_from_array
from lipsym.measures import measure_photo
from lipsym.simulate._simulate import Plant, parse_plant, plant
from lipsym.simulate._warp import warp_points
from lipsym.errors import ConfigurationError
from lipsym.sides import Side

pytestmark = needs_shared


def _analyse(rgb, landmarker, refine=True):
    photo = photo_from_array(rgb)
    return analyze_landmarks(photo, landmarker.landmarks(photo), options=AnalysisOptions(refine=refine))


def _planted_change(landmarker, rgb, base, p: Plant, key: str) -> dict[bool, float]:
    """Measured change of the asymmetry ``key`` (mm, towards the planted side) without and with refinement."""
    warped = plant(rgb, base, [p]).rgb
    sign = 1.0 if p.side is Side.LEFT else -1.0
    got = {}
    for refine in (False, True):
        before = measure_photo(_analyse(rgb, landmarker, refine)).sided[key].asymmetry
        after = measure_photo(_analyse(warped, landmarker, refine)).sided[key].asymmetry
        got[refine] = sign * (after - before)
    return got


@pytest.mark.parametrize("fid,side", [("119", Side.LEFT), ("010", Side.RIGHT), ("042", Side.LEFT)])
def test_refinement_recovers_a_planted_commissure_lift_that_mediapipe_shrinks(landmarker, fid, side):
    rgb = load_photo(LONDON / "neutral" / f"{fid}_03.jpg").rgb
    base = _analyse(rgb, landmarker)
    # Faces whose commissure pair is refined at baseline, so that the measured
    # change is the plant's alone, not a change of method.
    assert base.refinement.commissure_used
    got = _planted_change(landmarker, rgb, base, Plant("commissure", side, up_mm=2.0), "commissure_height")
    assert got[False] < 1.4, got           # MediaPipe alone: pulled toward symmetry
    assert 1.5 < got[True] < 2.5, got      # refined: the planted 2 mm within 25 % on any one face


@pytest.mark.parametrize("fid,side", [("001", Side.LEFT), ("102", Side.RIGHT)])
def test_refinement_recovers_a_planted_bow_lift_that_mediapipe_ignores(landmarker, fid, side):
    """3 mm: beyond the contour search of the other pairs; on 102 the other side's bow
    then sank below labrale superius when the peak was the refined border's highest point."""
    rgb = load_photo(LONDON / "neutral" / f"{fid}_03.jpg").rgb
    got = _planted_change(landmarker, rgb, _analyse(rgb, landmarker), Plant("bow_peak", side, up_mm=3.0),
                          "bow_peak_height")
    assert got[False] < 0.5, got          # MediaPipe alone barely moves
    assert 2.7 < got[True] < 3.3, got     # refined: the planted 3 mm within 10 %


def test_bow_plant_moves_a_disc_around_the_peak_by_the_full_amount(landmarker):
    """Where the image's own peak lies is uncertain by ~0.5 mm (MediaPipe vs manual): all of it moves."""
    rgb = load_photo(LONDON / "neutral" / "004_03.jpg").rgb
    a = _analyse(rgb, landmarker)
    sim = plant(rgb, a, [Plant("bow_peak", Side.RIGHT, up_mm=2.0)])
    peak = a.frame.to_frame(sim.reference_before_px["crista_philtri_right"])
    r = 0.015 * a.frame.interpupillary_distance_px
    around = np.array([peak + r * np.array([np.cos(t), np.sin(t)]) for t in np.linspace(0, 2 * np.pi, 12)])
    moved = a.frame.to_frame(warp_points(a.frame.to_photo(around), sim.field))
    rise_mm = (moved[:, 1] - around[:, 1]) * a.scale.mm_per_px
    assert np.all(np.abs(rise_mm - 2.0) < 0.06), rise_mm


def test_fissure_ends_that_do_not_register_give_way_to_mediapipes_corners(landmarker, monkeypatch):
    """A fissure followed along a crease on one side only ends where the other side has no mirror image.

    Simulated by moving the left fissure end 0.1 IPD further out: the
    commissures are then registered at MediaPipe's corners instead of falling
    back to MediaPipe's height (which recovers only half of a real lift).
    """
    import lipsym.refine._commissures as commissures

    real = commissures._commissures_from_fissure

    def one_sided_crease(lum, u, v, points_px, frame):
        right, left, height = real(lum, u, v, points_px, frame)
        return right, left + 0.1 * frame.interpupillary_distance_px * frame.x_axis, height

    rgb = load_photo(LONDON / "neutral" / "010_03.jpg").rgb
    honest = _analyse(rgb, landmarker).refinement.pairs[0]
    assert (honest.used, honest.method) == (True, "registration+fissure"), honest
    monkeypatch.setattr(commissures, "_commissures_from_fissure", one_sided_crease)
    base = _analyse(rgb, landmarker)
    first = base.refinement.pairs[0]
    assert (first.used, first.method) == (True, "registration"), first
    before = measure_photo(base).sided["commissure_height"].asymmetry
    warped = plant(rgb, base, [Plant("commissure", Side.RIGHT, up_mm=2.0)]).rgb
    after = _analyse(warped, landmarker)
    assert after.refinement.pairs[0].used
    change = -(measure_photo(after).sided["commissure_height"].asymmetry - before)
    assert 1.5 < change < 2.5, change


def test_pupil_refinement_recovers_a_raised_eye_that_mediapipe_halves(landmarker):
    """The pupils set the frame's axis; MediaPipe pulls their relative height toward symmetry too."""
    from lipsym.face._frame import PUPIL_LEFT, PUPIL_RIGHT

    rgb = load_photo(LONDON / "neutral" / "010_03.jpg").rgb
    base = {refine: _analyse(rgb, landmarker, refine) for refine in (False, True)}
    centre = base[True].points_px[PUPIL_LEFT, :2]
    sigma = 0.15 * base[True].frame.interpupillary_distance_px
    yy, xx = np.mgrid[0:rgb.shape[0], 0:rgb.shape[1]].astype(np.float32)
    weight = np.exp(-((xx - centre[0]) ** 2 + (yy - centre[1]) ** 2) / (2 * sigma ** 2)).astype(np.float32)
    lift_px = 3.0
    raised = cv2.remap(rgb, xx, yy + lift_px * weight, cv2.INTER_CUBIC, borderMode=cv2.BORDER_REFLECT)

    def left_above_right_px(a):
        return a.points_px[PUPIL_RIGHT, 1] - a.points_px[PUPIL_LEFT, 1]

    got = {refine: left_above_right_px(_analyse(raised, landmarker, refine)) - left_above_right_px(base[refine])
           for refine in (False, True)}
    assert got[False] < 0.75 * lift_px, got
    assert 0.8 * lift_px < got[True] < 1.2 * lift_px, got


def test_symmetric_face_gets_no_invented_asymmetry(landmarker):
    """A face made exactly symmetric (right half mirrored onto the left) stays symmetric."""
    rgb = load_photo(LONDON / "neutral" / "010_03.jpg").rgb
    a = analyze_photo(LONDON / "neutral" / "010_03.jpg", landmarker)
    cx = int(round(a.frame.origin_px[0]))
    # Rotate upright about the pupil midpoint first so the mirror axis is the facial midline.
    m = cv2.getRotationMatrix2D(tuple(a.frame.origin_px), -a.frame.ipl_angle_deg, 1.0)
    upright = cv2.warpAffine(rgb, m, rgb.shape[1::-1], flags=cv2.INTER_CUBIC, borderMode=cv2.BORDER_REFLECT)
    half = upright[:, : cx + 1]
    sym = np.ascontiguousarray(np.concatenate([half, half[:, -2::-1]], axis=1))
    s = _analyse(sym, landmarker)
    assert s.refinement.fallback_fraction < 0.5
    for p in s.refinement.pairs:
        assert np.all(np.abs(p.residual_frame_px) < 0.05), (p.right, p.left, p.residual_frame_px)
    for key, v in measure_photo(s).sided.items():
        limit = 0.05 if v.unit in ("mm", "deg") else 0.5
        assert abs(v.asymmetry) < limit, (key, v.asymmetry)


def test_blurred_mouth_falls_back_with_a_flag(landmarker):
    rgb = load_photo(LONDON / "neutral" / "010_03.jpg").rgb.copy()
    a = _analyse(rgb, landmarker)
    x, y = a.anatomy.points_px["stomion"].astype(int)
    r = int(0.45 * a.frame.interpupillary_distance_px)
    region = rgb[y - r:y + r, x - r:x + r]
    rgb[y - r:y + r, x - r:x + r] = region.mean(axis=(0, 1)).astype(np.uint8)
    flat = _analyse(rgb, landmarker)
    assert not flat.refinement.commissure_used
    assert flat.refinement.fallback_fraction > 0.5
    assert all(p.reason for p in flat.refinement.pairs if not p.used)
    assert "refinement_fallback" in {f.code for f in flat.flags}
    # Fallen-back pairs keep MediaPipe's points exactly.
    for p in flat.refinement.pairs:
        if not p.used and p.method == "registration":
            assert np.array_equal(flat.points_px[p.left], flat.landmarks.points_px[p.left])


@pytest.mark.parametrize("structure,up,out", [("commissure", 1.5, 0.0), ("commissure", 0.0, 2.0),
                                              ("bow_peak", 1.0, 0.0), ("upper_vermilion", 1.0, 0.0),
                                              ("lower_vermilion", -0.8, 0.0)])
def test_simulator_moves_exactly_what_it_says(landmarker, structure, up, out):
    rgb = load_photo(LONDON / "neutral" / "004_03.jpg").rgb
    a = _analyse(rgb, landmarker)
    sim = plant(rgb, a, [Plant(structure, Side.LEFT, up_mm=up, out_mm=out)])
    px_per_mm = 1 / a.scale.mm_per_px
    moved = [k for k in sim.reference_before_px if "inner" not in k]
    assert len(moved) == 1
    d = a.frame.to_frame(sim.reference_after_px[moved[0]]) - a.frame.to_frame(sim.reference_before_px[moved[0]])
    grow = up if structure != "lower_vermilion" else -up
    assert d == pytest.approx([out * px_per_mm, grow * px_per_mm], abs=1e-6)
    for k, v in sim.reference_before_px.items():
        if "inner" in k:  # the lip contact line is held
            assert np.allclose(sim.reference_after_px[k], v, atol=1e-6)
    # Eyes (frame and scale) are bit-identical; only the lips changed.
    changed = np.argwhere(np.any(sim.rgb != rgb, axis=-1))
    assert changed.size and changed[:, 0].min() > a.anatomy.points_px["subnasale"][1] - 0.15 * a.frame.interpupillary_distance_px
    for name in ("pupil_right", "pupil_left", "endocanthion_left"):
        x, y = a.anatomy.points_px[name].astype(int)
        assert np.array_equal(sim.rgb[y - 20:y + 20, x - 20:x + 20], rgb[y - 20:y + 20, x - 20:x + 20])


def test_plant_parsing_and_limits():
    assert parse_plant("commissure:left:1.5") == Plant("commissure", Side.LEFT, 1.5)
    assert parse_plant("commissure:RIGHT:0:2") == Plant("commissure", Side.RIGHT, 0.0, 2.0)
    for bad in ("commissure:up:1", "nose:left:1", "commissure:left", "commissure:left:x", "bow_peak:left:1:1",
                "commissure:left:9"):
        with pytest.raises(ConfigurationError):
            parse_plant(bad)


def test_simulate_command_writes_a_clean_png_and_the_reference_points(tmp_path):
    import json

    from PIL import Image

    from lipsym.cli import main

    out, ref = tmp_path / "sim.png", tmp_path / "sim.json"
    src = LONDON / "neutral" / "010_03.jpg"
    assert main(["simulate", str(src), "--plant", "commissure:left:1.5", "--plant", "bow_peak:right:1",
                 "-o", str(out), "--json", str(ref)]) == 0
    doc = json.loads(ref.read_text())
    assert {p["structure"] for p in doc["plants"]} == {"commissure", "bow_peak"}
    assert set(doc["reference_after_px"]) == {"cheilion_left", "crista_philtri_right"}
    with Image.open(out) as im:
        assert im.size == Image.open(src).size and not im.info.get("exif") and not im.getexif()
    assert main(["simulate", str(src), "--plant", "commissure:left:1.5", "-o", str(out)]) == 7  # never overwritten
    assert main(["simulate", str(src), "--plant", "nose:left:1", "-o", str(tmp_path / "x.png")]) == 2


def test_a_fissure_whose_first_columns_leave_the_samples_is_not_followed():
    """A strongly turned head puts the inner corner's row outside the resampled patch: no fissure, no traceback.

    (Seen on London 105 with its landmarks turned 50°: ``np.convolve`` of no samples raised ValueError.)
    """
    from lipsym.refine._fissure import fissure_end

    u, v = np.arange(0.0, 40.0), np.arange(20.0, -20.0, -1.0)
    lum = np.full((v.size, u.size), 128.0)
    # The corners lie far below the patch: every column's row is out of range.
    point, reason = fissure_end(lum, u, v, np.array([30.0, -500.0]), np.array([5.0, -480.0]), ipd_px=60.0)
    assert point is None and "too short" in reason


@pytest.mark.parametrize("name", ["neutral/010_03.jpg", "smiling/042_08.jpg"])
def test_pupil_registration_reads_only_the_columns_it_resamples(landmarker, monkeypatch, name):
    """refine_pupils leaves the columns between the pupils unsampled: filled with NaN, nothing changes."""
    import lipsym.refine._pupils as pupils_module
    from lipsym.face._frame import frame_from_landmarks
    from lipsym.refine._registration import SymmetricGrid

    photo = load_photo(LONDON / name)
    points = np.array(landmarker.landmarks(photo).points_px)
    frame = frame_from_landmarks(points)
    expected_pts, expected = pupils_module.refine_pupils(photo.rgb, points, frame)
    skipped = []

    def grid_with_nan_gaps(feats, *args):
        feats = feats.copy()
        gap = ~feats.any(axis=(0, 2))  # the columns left unsampled (0)
        feats[:, gap] = np.nan
        skipped.append(int(gap.sum()))
        return SymmetricGrid(feats, *args)

    monkeypatch.setattr(pupils_module, "SymmetricGrid", grid_with_nan_gaps)
    got_pts, got = pupils_module.refine_pupils(photo.rgb, points, frame)
    assert skipped[0] > 0 and got.used and got.reason == expected.reason
    assert np.array_equal(got.residual_frame_px, expected.residual_frame_px)
    assert np.array_equal(got_pts, expected_pts)
