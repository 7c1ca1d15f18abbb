"""The commissures' height registration (SymmetricGrid.register_height) on a synthetic mouth corner.

Issue #13: the 2-D corner registration's peak slid along the oral fissure
and, at some photo scales, hit the search border, so the pair fell back to
MediaPipe's height. The height registration must read a raised corner's
height, change continuously as the landmarks move by fractions of a sample,
and be negated exactly on the mirrored image.
"""

from __future__ import annotations

import numpy as np
import pytest

from lipsym.refine._registration import SymmetricGrid

IPD_PX = 200.0
CORNER_X = 40.0


def _corner_grid(lift_px: float) -> SymmetricGrid:
    """A dark fissure along y = 0 ending at |x| = CORNER_X, its left half raised by ``lift_px`` (frame px)."""
    u = np.arange(-70.0, 71.0)
    v = np.arange(40.0, -41.0, -1.0)
    x, y = np.meshgrid(u, v)
    y = y - np.where(x > 0, lift_px, 0.0)
    fade = 1.0 / (1.0 + np.exp((np.abs(x) - CORNER_X) / 2.0))
    lum = 200.0 - 100.0 * fade * np.exp(-0.5 * (y / 2.0) ** 2)
    red = 60.0 / (1.0 + np.exp((np.abs(y) - 8.0) / 1.5)) / (1.0 + np.exp((np.abs(x) - CORNER_X - 4.0) / 3.0))
    feats = np.ascontiguousarray(np.stack([lum, red], axis=-1).astype(np.float32))
    return SymmetricGrid(feats, u, v, 1.0, 11, 10, IPD_PX)


@pytest.mark.parametrize("lift_px", [0.0, 1.3, 3.0])
def test_a_raised_corner_reads_its_height_and_no_lateral_residual(lift_px):
    grid = _corner_grid(lift_px)
    residual, peak, reason, evidence = grid.register_height(np.array([CORNER_X, 0.0]), np.array([-CORNER_X, 0.0]))
    assert reason == "", reason
    assert residual[0] == 0.0
    assert abs(residual[1] - lift_px) < 0.15, residual
    assert peak > 0.9 and evidence.disagreement_ipd < 0.001, (peak, evidence)


def test_the_height_is_continuous_as_the_landmarks_move_by_fractions_of_a_sample():
    grid = _corner_grid(2.0)
    heights = []
    for dx in np.linspace(-1.5, 1.5, 31):
        residual, _, reason, _ = grid.register_height(np.array([CORNER_X + dx, 0.3]), np.array([-CORNER_X - dx, 0.1]))
        assert reason == "", (dx, reason)
        heights.append(residual[1])
    assert np.max(np.abs(np.diff(heights))) < 0.1, np.round(heights, 3)
    assert np.all(np.abs(np.asarray(heights) - 1.8) < 0.3), np.round(heights, 3)


def test_the_mirrored_image_negates_the_height():
    grid = _corner_grid(2.0)
    mirrored = SymmetricGrid(np.ascontiguousarray(grid.feats[:, ::-1]), grid.u, grid.v, 1.0, 11, 10, IPD_PX)
    f_l, f_r = np.array([CORNER_X + 0.37, 0.2]), np.array([-CORNER_X + 0.61, -0.4])
    got = grid.register_height(f_l, f_r)[0]
    back = mirrored.register_height(f_r * [-1.0, 1.0], f_l * [-1.0, 1.0])[0]
    assert got[1] != 0.0
    np.testing.assert_allclose(back, -got, atol=1e-9)


def test_a_small_face_is_sampled_between_its_pixels_and_the_step_is_continuous():
    """Issue #13: lengths counted in samples must keep their size in the face at any photo scale."""
    from lipsym.refine._grid import MAX_IPD_SAMPLES, MIN_IPD_SAMPLES, sampling_step_px

    ipds = np.linspace(40.0, 600.0, 2001)
    steps = np.array([sampling_step_px(i) for i in ipds])
    per_ipd = ipds / steps
    assert np.all(per_ipd >= MIN_IPD_SAMPLES - 1e-9) and np.all(per_ipd <= MAX_IPD_SAMPLES + 1e-9)
    assert sampling_step_px(60.0) == pytest.approx(60.0 / MIN_IPD_SAMPLES)
    assert sampling_step_px(200.0) == 1.0  # the London faces: one sample per pixel, as before
    assert np.max(np.abs(np.diff(steps))) < 0.01
