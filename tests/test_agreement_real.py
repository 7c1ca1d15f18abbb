"""Agreement with the manual FRL-189 points on both development sets (issue #14), London and 3DSK separately.

A regression guard for the figures of docs/accuracy.md ("Validation on London and 3DSK"): every
figure is printed per set, and each must stay within a tolerance of the value measured on main at
6d8d810 (3 December 2026). The tolerances cover MediaPipe's numerics differing between CPUs
(docs/accuracy.md "Reproducibility across machines": on a second machine 3DSK's commissure r moved
by 0.001, its cheilion median by 0.04 and its bow MAE by 0.001 % IPD) and are well inside what a
broken refinement costs: raw MediaPipe's figures (the ``RAW`` column of the same section) fail
every commissure and bow guard on both sets.

The issue's acceptance points themselves are printed, not asserted: several are missed on purpose
(docs/accuracy.md says why), and the London ones met today are met by margins (0.007 % IPD for the
commissure MAE) that a CPU's numerics could cross. The fallback rate is asserted (≤ 10 % of every
skin-tone group; 3DSK has no labels and is one group).
"""

from __future__ import annotations

import math
import sys

import pytest

from conftest import REPO, needs_shared

sys.path.insert(0, str(REPO / "benchmarks"))

import _validate_agreement as agreement  # noqa: E402
from _validate_data import THREEDSK, faces_of  # noqa: E402

#: Measured on main at 6d8d810 with ``benchmarks/validate.py --set all --parts agreement`` (lipsym).
MEASURED = {
    "london": {"commissure": (0.960, 0.997, 0.493), "cheilion": (0.93, 2.30), "bow": (0.729, 0.492),
               "upper_area": (0.878, 1.012), "lower_area": (0.930, 0.876)},
    "3dsk": {"commissure": (0.944, 1.071, 0.472), "cheilion": (1.72, 4.03), "bow": (0.677, 0.458),
             "upper_area": (0.822, 0.898), "lower_area": (0.939, 0.848)},
}
#: The other sided measures with a manual reference (r, MAE; % IPD, the smile angle in degrees), measured on
#: main at 4820ce7 (tenth session). Not guarded: the vermilion heights at the bow peaks, which do not follow
#: the manual reference (r about 0.3, docs/accuracy.md), so a guard there would guard noise.
OTHER = {
    "london": {"commissure_lateral": (0.913, 1.414), "commissure_excursion": (0.922, 1.381),
               "smile_angle": (0.934, 0.765), "endocanthion_cheilion": (0.907, 0.727),
               "upper_height_mid": (0.666, 0.906), "lower_height_mid": (0.833, 0.825), "bow_peak_offset": (0.907, 2.052)},
    "3dsk": {"commissure_lateral": (0.918, 1.470), "commissure_excursion": (0.928, 1.381),
             "smile_angle": (0.839, 0.925), "endocanthion_cheilion": (0.787, 0.897),
             "upper_height_mid": (0.643, 0.926), "lower_height_mid": (0.789, 0.964), "bow_peak_offset": (0.932, 1.671)},
}
#: How far a figure may move the wrong way before the guard fails.
R_TOL, SLOPE_TOL, MAE_TOL = 0.01, 0.03, 0.02  # r; |slope − 1|; MAE, % IPD
CHEILION_TOL = (0.08, 0.2)  # median, p90, % IPD


def _sets() -> list:
    marks = [pytest.mark.skipif(not THREEDSK.is_dir(), reason=f"3DSK photos not present ({THREEDSK} is absent)")]
    return ["london", pytest.param("3dsk", marks=marks)]


class _Lipsym:
    """The default pipeline on the session's landmarker, as benchmarks/_validate_agreement.measure_face calls it."""

    names = ("lipsym",)

    def __init__(self, landmarker):
        self._landmarker = landmarker

    def analyze(self, name, photo):
        from lipsym.analysis._photo import analyze_landmarks

        return analyze_landmarks(photo, self._landmarker.landmarks(photo))


@pytest.fixture(scope="module")
def summaries(landmarker):
    """Each set's lipsym summary (benchmarks/_validate_agreement.summarise) and its summaries by skin tone, computed once."""
    from lipsym.io import load_photo

    method, cache = _Lipsym(landmarker), {}

    def summary(set_name: str) -> dict:
        if set_name not in cache:
            records = [agreement.measure_face(face, method, load_photo(face.image))["lipsym"]
                       for face in faces_of(set_name)]
            cache[set_name] = agreement.summarise(records), agreement.by_group(records, "skin")
        return cache[set_name]

    return summary


@needs_shared
@pytest.mark.slow
@pytest.mark.parametrize("set_name", _sets())
def test_agreement_with_the_manual_points_does_not_regress(summaries, set_name):
    s, by_skin = summaries(set_name)
    c, e, b = s["commissure_height"], s["cheilion_error"], s["bow_peak_height"]
    print(f"\n{set_name} ({s['n']} faces): commissure height asym r {c['r']:.3f} slope {c['slope']:.3f} "
          f"MAE {c['mae']:.3f} % IPD; cheilion error median {e['median']:.2f} p90 {e['p90']:.2f} % IPD; "
          f"bow r {b['r']:.3f} MAE {b['mae']:.3f} (0.85 × answering zero {0.85 * b['mae_zero']:.3f}); "
          f"upper area r {s['upper_area']['r']:.3f} slope {s['upper_area']['slope']:.3f}; "
          f"lower area r {s['lower_area']['r']:.3f} slope {s['lower_area']['slope']:.3f}; "
          f"fallback {s['fallback_n']}/{s['n']}")
    for criterion, figure, met in agreement.acceptance(s, by_skin):
        print(f"  {'MET   ' if met else 'MISSED'} {criterion:45s} {figure}")

    assert not s["failed"], s["failed"]
    want = MEASURED[set_name]
    r0, slope0, mae0 = want["commissure"]
    assert c["r"] >= r0 - R_TOL
    assert abs(c["slope"] - 1) <= abs(slope0 - 1) + SLOPE_TOL
    assert c["mae"] <= mae0 + MAE_TOL
    assert e["median"] <= want["cheilion"][0] + CHEILION_TOL[0]
    assert e["p90"] <= want["cheilion"][1] + CHEILION_TOL[1]
    assert b["r"] >= want["bow"][0] - R_TOL
    assert b["mae"] <= want["bow"][1] + MAE_TOL
    for lip in ("upper_area", "lower_area"):
        r_lip, slope_lip = want[lip]
        assert s[lip]["r"] >= r_lip - R_TOL, lip
        assert abs(s[lip]["slope"] - 1) <= abs(slope_lip - 1) + SLOPE_TOL, lip
    assert all(g["fallback_rate"] <= 0.10 for g in by_skin.values()), {k: g["fallback_n"] for k, g in by_skin.items()}
    for key, (r_key, mae_key) in OTHER[set_name].items():
        print(f"  {key:24s} r {s[key]['r']:.3f} MAE {s[key]['mae']:.3f}")
        assert s[key]["r"] >= r_key - R_TOL and s[key]["mae"] <= mae_key + MAE_TOL, (key, s[key]["r"], s[key]["mae"])
    assert math.isfinite(c["r"]) and s["n"] == len(faces_of(set_name))


@needs_shared
@pytest.mark.slow
@pytest.mark.skipif(not THREEDSK.is_dir(),
                    reason=f"3DSK photos not present ({THREEDSK} is absent): a tier is of both sets")
def test_each_measures_agreement_tier_is_the_one_its_r_earns(summaries):
    """The registry's tier (``agreement``, shown in JSON, report and app) against the lower set's r measured here.

    Within ``R_TOL`` of a tier's bound either tier is accepted: another CPU's numerics may cross it.
    """
    from lipsym.measures._registry import REGISTRY, agreement_tier

    (london, _), (threedsk, _) = summaries("london"), summaries("3dsk")
    checked = set()
    for name, (key, _unit) in agreement.MEASURES.items():
        r = min(london[name]["r"], threedsk[name]["r"])
        allowed = {agreement_tier(r - R_TOL), agreement_tier(r + R_TOL)}
        print(f"  {key:36s} r {r:.3f} → {sorted(allowed)}; registry {REGISTRY[key].agreement}")
        assert REGISTRY[key].agreement in allowed, (key, r, REGISTRY[key].agreement)
        checked.add(key)
    # Every sided measure's tier is measured here, or is that of a measure with the same asymmetry.
    from lipsym.report._format import SAME_ASYMMETRY_AS

    sided = {k for k, m in REGISTRY.items() if m.kind == "sided"}
    assert sided - checked == set(SAME_ASYMMETRY_AS), sided - checked
