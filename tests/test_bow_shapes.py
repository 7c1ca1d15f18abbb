"""Planted Cupid's bow lifts of other shapes and widths (lipsym.simulate._bow_shapes)."""

from __future__ import annotations

import numpy as np
import pytest

from conftest import LONDON, needs_shared
from lipsym.errors import ConfigurationError
from lipsym.sides import Side
from lipsym.simulate._bow_shapes import BOW_SHAPES, profile
from lipsym.simulate._simulate import Plant

SHAPED = [s for s in BOW_SHAPES if s != "plateau"]


@pytest.mark.parametrize("shape", SHAPED)
def test_profiles_lift_the_peak_fully_and_leave_the_midline(shape):
    gap, lateral = 0.1, 0.25
    assert profile(shape, np.array([0.0]), gap, lateral)[0] == pytest.approx(1.0)
    u = np.linspace(-gap, lateral, 400)
    g = profile(shape, u, gap, lateral)
    assert np.all((g >= 0) & (g <= 1 + 1e-12))
    assert np.all(g[u <= -0.75 * gap] == 0)  # nothing reaches labrale superius


def test_widths_differ():
    u = np.array([0.02])
    narrow, wide = profile("gauss_narrow", u, 0.1, 0.25)[0], profile("gauss_wide", u, 0.1, 0.25)[0]
    assert narrow < 0.3 < 0.7 < wide
    lat, med = profile("skew_lateral", np.array([0.02, -0.02]), 0.1, 0.25)
    assert lat > 0.8 and med < 0.2


def test_shape_only_for_the_bow():
    assert Plant("bow_peak", Side.LEFT, 1.0, shape="gauss_wide").shape == "gauss_wide"
    with pytest.raises(ConfigurationError):
        Plant("commissure", Side.LEFT, 1.0, shape="gauss_wide")
    with pytest.raises(ConfigurationError):
        Plant("bow_peak", Side.LEFT, 1.0, shape="square")


@needs_shared
@pytest.mark.parametrize("shape", SHAPED)
def test_shaped_plant_lifts_the_peak_by_the_amount_and_holds_the_rest(landmarker, shape):
    from lipsym.analysis._photo import AnalysisOptions, analyze_landmarks
    from lipsym.io import load_photo
    from lipsym.simulate._simulate import plant
    from lipsym.simulate._warp import warp_points

    photo = load_photo(LONDON / "neutral" / "004_03.jpg")
    a = analyze_landmarks(photo, landmarker.landmarks(photo), options=AnalysisOptions(refine=False))
    sim = plant(photo.rgb, a, [Plant("bow_peak", Side.RIGHT, up_mm=2.0, shape=shape)])
    fr = a.frame
    before = fr.to_frame(sim.reference_before_px["crista_philtri_right"])
    after = fr.to_frame(sim.reference_after_px["crista_philtri_right"])
    assert (after - before) * a.scale.mm_per_px == pytest.approx([0.0, 2.0], abs=1e-6)
    held = [a.anatomy.points_px[k] for k in ("labrale_superius", "crista_philtri_left", "subnasale")]
    assert np.allclose(warp_points(np.array(held), sim.field), held, atol=1e-6)
    for name in ("pupil_right", "pupil_left"):
        x, y = a.anatomy.points_px[name].astype(int)
        assert np.array_equal(sim.rgb[y - 20:y + 20, x - 20:x + 20], photo.rgb[y - 20:y + 20, x - 20:x + 20])
