"""The symmetric border search for the size measures (refine/_size.py): only the absolute measures use it."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from conftest import LONDON, needs_shared
from lipsym.face._scale import Scale
from lipsym.measures._absolute import absolute_measures
from lipsym.refine._size import STRIP_FRACTIONS, SizeBorders

#: Lowest median recovery (measured ÷ planted growth of the mid-hemilip mean height) accepted
#: for a symmetric 2 mm growth of each lip on the three London photos tested below. With the
#: border search: upper 0.53-0.54, lower 0.51-0.87 (median 0.73); the refined points alone:
#: upper 0.35-0.46, lower 0.18-0.26; the lower lip with the first near-border weight (0.02 IPD,
#: now 0.045) 0.34-0.44 (benchmarks/size_sensitivity.py; over 10 London faces the medians are
#: 0.59 upper and 0.66 lower, docs/accuracy.md, "Sensitivity to a symmetric growth").
MIN_RECOVERY = {"upper": 0.5, "lower": 0.6}


def _borders(upper: float, lower: float) -> SizeBorders:
    k = len(STRIP_FRACTIONS)
    return SizeBorders(np.array(STRIP_FRACTIONS), np.full(k, upper), np.full(k, lower),
                       np.ones(k, bool), np.ones(k, bool))


def test_shift_tapers_to_zero_at_the_cheilion_and_is_symmetric():
    b = _borders(0.01, -0.02)
    assert b.shift_at("upper", np.array([0.0, 0.75]))[0] == pytest.approx(0.01)
    assert b.shift_at("upper", np.array([1.0, 1.2])) == pytest.approx([0.0, 0.0])
    x = np.array([-0.5, 0.5])
    assert b.shift_at("lower", x)[0] == b.shift_at("lower", x)[1] == pytest.approx(-0.02)


def test_shifts_grow_the_absolute_measures_by_the_shift():
    # Drawn lips (frame px), a border shift of 1 % IPD up (upper) and down (lower) at every strip.
    ch_r, ch_l = np.array([-20.0, 0.0]), np.array([20.0, 0.0])
    x = np.linspace(-20, 20, 81)
    outer_upper = np.c_[x, 6 * (1 - (x / 20) ** 2)]
    outer_lower = np.c_[x, -9 * (1 - (x / 20) ** 2)]
    contact = np.c_[x, np.zeros_like(x)]
    scale, ipd = Scale(mm_per_px=0.5, source="test", relative_uncertainty=0.0), 100.0
    args = (outer_upper, contact, outer_lower, contact, ch_r, ch_l, np.array([0.0, 20.0]), np.array([0.0, 6.0]),
            scale, ipd)
    before = {m.key: m.value for m in absolute_measures(*args)}
    after = {m.key: m.value for m in absolute_measures(*args, size_borders=_borders(0.01, -0.01))}
    # 1 % of a 100 px IPD = 1 px = 0.5 mm, at the midline and at mid-hemilip (x fraction 0.5 < 0.75).
    for key in ("upper_vermilion_height_midline", "lower_vermilion_height_midline",
                "upper_vermilion_height_mid_mean", "lower_vermilion_height_mid_mean"):
        assert after[key] - before[key] == pytest.approx(0.5), key
    assert after["philtrum_length"] - before["philtrum_length"] == pytest.approx(-0.5)
    assert after["upper_vermilion_area"] > before["upper_vermilion_area"]
    assert after["intercommissural_width"] == before["intercommissural_width"]


@needs_shared
@pytest.mark.slow
def test_a_symmetric_growth_is_recovered_and_the_sided_measures_do_not_move(landmarker):
    from lipsym.analysis._options import AnalysisOptions
    from lipsym.analysis._photo import analyze_landmarks
    from lipsym.io import load_photo, photo_from_array
    from lipsym.measures import measure_photo
    from lipsym.sides import Side
    from lipsym.simulate import Plant, plant

    ratios = {lip: [] for lip in MIN_RECOVERY}
    without = {lip: [] for lip in MIN_RECOVERY}
    for face in ("001", "004", "007"):
        photo = load_photo(LONDON / "neutral" / f"{face}_03.jpg")
        analysis = analyze_landmarks(photo, landmarker.landmarks(photo))
        before = measure_photo(analysis)
        points_only = measure_photo(replace(analysis, refinement=replace(analysis.refinement, size_borders=None)))
        # The search changes the size measures only: every sided measure is the refined points' own.
        assert {k: (m.right, m.left) for k, m in before.sided.items()} == \
               {k: (m.right, m.left) for k, m in points_only.sided.items()}
        raw = analyze_landmarks(photo, landmarker.landmarks(photo), options=AnalysisOptions(refine=False))
        for lip in MIN_RECOVERY:
            grown = photo_from_array(plant(photo.rgb, raw, [Plant(f"{lip}_vermilion", s, up_mm=2.0)
                                                            for s in (Side.RIGHT, Side.LEFT)]).rgb)
            after_analysis = analyze_landmarks(grown, landmarker.landmarks(grown))
            after = measure_photo(after_analysis)
            after_points = measure_photo(replace(after_analysis,
                                                 refinement=replace(after_analysis.refinement, size_borders=None)))
            key = f"{lip}_vermilion_height_mid_mean"
            ratios[lip].append((after.scalars[key].value - before.scalars[key].value) / 2.0)
            without[lip].append((after_points.scalars[key].value - points_only.scalars[key].value) / 2.0)
    for lip, least in MIN_RECOVERY.items():
        assert np.median(ratios[lip]) >= least, (lip, ratios[lip])
        # The search, not the plant alone, makes the difference.
        assert np.median(ratios[lip]) >= np.median(without[lip]) + 0.05, (lip, ratios[lip], without[lip])


@needs_shared
@pytest.mark.slow
def test_a_mirrored_photo_gives_the_same_size_measures(landmarker):
    # The search pairs each strip with its mirror strip and shifts both sides alike, so a
    # mirrored photo must give the same shifts and the same absolute measures (1e-16 in
    # practice: the flip-averaged landmarks mirror exactly). A search that read one side
    # only, or shifted the sides apart, would fail here.
    from lipsym.analysis._photo import analyze_landmarks
    from lipsym.io import load_photo, photo_from_array
    from lipsym.measures import measure_photo
    from lipsym.measures._absolute import ABSOLUTE_KEYS

    photo = load_photo(LONDON / "neutral" / "001_03.jpg")
    mirrored = photo_from_array(np.ascontiguousarray(photo.rgb[:, ::-1]))
    a = analyze_landmarks(photo, landmarker.landmarks(photo))
    b = analyze_landmarks(mirrored, landmarker.landmarks(mirrored))
    sa, sb = a.refinement.size_borders, b.refinement.size_borders
    # Not a trivial pass: the search moved the borders on this photo.
    assert np.any(np.abs(sa.upper_shift_ipd) > 1e-4) and np.any(np.abs(sa.lower_shift_ipd) > 1e-4)
    np.testing.assert_allclose(sb.upper_shift_ipd, sa.upper_shift_ipd, rtol=0, atol=1e-9)
    np.testing.assert_allclose(sb.lower_shift_ipd, sa.lower_shift_ipd, rtol=0, atol=1e-9)
    ma, mb = measure_photo(a), measure_photo(b)
    for key in ABSOLUTE_KEYS:
        assert mb.scalars[key].value == pytest.approx(ma.scalars[key].value, rel=0, abs=1e-6), key


def test_a_small_photo_whose_grid_is_coarser_than_a_strip_is_searched_symmetrically(landmarker):
    # astronaut.png (512 × 512): the mouth grid's columns lie farther apart than a strip is
    # wide; the nearest mirror pair of columns stands for the strip (this used to raise).
    from conftest import SAMPLE
    from lipsym.analysis._photo import analyze_landmarks
    from lipsym.io import load_photo, photo_from_array

    photo = load_photo(SAMPLE)
    mirrored = photo_from_array(np.ascontiguousarray(photo.rgb[:, ::-1]))
    a = analyze_landmarks(photo, landmarker.landmarks(photo)).refinement.size_borders
    b = analyze_landmarks(mirrored, landmarker.landmarks(mirrored)).refinement.size_borders
    assert np.all(np.isfinite(a.upper_shift_ipd)) and np.all(np.isfinite(a.lower_shift_ipd))
    np.testing.assert_allclose(b.upper_shift_ipd, a.upper_shift_ipd, rtol=0, atol=1e-9)
    np.testing.assert_allclose(b.lower_shift_ipd, a.lower_shift_ipd, rtol=0, atol=1e-9)
