"""Measures on real photos: mirror exactness, invariance, plausibility, ground truth, pairs."""

from __future__ import annotations

import csv
import io

import numpy as np
import pytest
from PIL import Image

from conftest import LONDON, london_ids, needs_shared
from lipsym.analysis._photo import analyze_photo
from lipsym.cli import main
from lipsym.measures import measure_pair, measure_photo

pytestmark = needs_shared


def _flip(src, tmp_path):
    out = tmp_path / f"{src.stem}_flipped.png"
    Image.open(src).transpose(Image.Transpose.FLIP_LEFT_RIGHT).save(out)
    return out


# 038: its commissures are judged weak from two starts (refine/_commissures.START_DISAGREEMENT_IPD).
@pytest.mark.parametrize("fid", ["004", "038", "042", "119"])
def test_mirroring_negates_every_signed_asymmetry(landmarker, tmp_path, fid):
    src = LONDON / "neutral" / f"{fid}_03.jpg"
    m = measure_photo(analyze_photo(src, landmarker))
    f = measure_photo(analyze_photo(_flip(src, tmp_path), landmarker))
    for key, s in m.sided.items():
        assert abs(s.asymmetry + f.sided[key].asymmetry) < 1e-6, key
        assert s.right == pytest.approx(f.sided[key].left, abs=1e-6) and s.left == pytest.approx(f.sided[key].right, abs=1e-6)
    assert m.scalars["lip_cant"].value == pytest.approx(-f.scalars["lip_cant"].value, abs=1e-9)
    for key in ("facial_asymmetry_index", "bow_width"):
        assert m.scalars[key].value == pytest.approx(f.scalars[key].value, abs=1e-6)
    assert m.composite.value == pytest.approx(f.composite.value, abs=1e-9)


def _transformed(src, tmp_path, angle, scale):
    import cv2

    img = np.asarray(Image.open(src).convert("RGB"))
    h, w = img.shape[:2]
    m = cv2.getRotationMatrix2D((w / 2, h / 2), angle, scale)
    out_w, out_h = int(w * scale), int(h * scale)
    m[:, 2] += [(out_w - w) / 2, (out_h - h) / 2]
    path = tmp_path / f"{angle}_{scale}.png"
    Image.fromarray(cv2.warpAffine(img, m, (out_w, out_h), flags=cv2.INTER_CUBIC,
                                   borderMode=cv2.BORDER_REFLECT)).save(path)
    return path


@pytest.mark.parametrize("angle,scale", [(10, 1.0), (-10, 1.0), (0, 2.0), (0, 0.7)])
@pytest.mark.slow
def test_mm_values_invariant_to_rotation_and_scale(landmarker, tmp_path, angle, scale):
    src = LONDON / "neutral" / "010_03.jpg"
    base = measure_photo(analyze_photo(src, landmarker))
    moved = measure_photo(analyze_photo(_transformed(src, tmp_path, angle, scale), landmarker))
    for key in ("commissure_height", "commissure_lateral", "bow_peak_height", "upper_vermilion_height_mid",
                "lower_vermilion_height_mid"):
        assert abs(moved.sided[key].asymmetry - base.sided[key].asymmetry) < 0.6, key
    assert moved.interpupillary_distance_mm == pytest.approx(base.interpupillary_distance_mm, rel=0.03)


@pytest.mark.slow
def test_values_are_plausible_on_every_london_photo(landmarker):
    for fid in london_ids():
        for kind, suffix, expr in (("neutral", "03", "rest"), ("smiling", "08", "smile")):
            m = measure_photo(analyze_photo(LONDON / kind / f"{fid}_{suffix}.jpg", landmarker, expression=expr))
            s = m.sided
            assert 50 < m.interpupillary_distance_mm < 75
            assert -95 < s["commissure_height"].right < -45 and 15 < s["commissure_lateral"].left < 45
            assert 2 < s["upper_vermilion_height_mid"].right < 15
            assert 5 < m.scalars["bow_width"].value < 25
            # 119 smiles with one corner clearly higher (about 6 mm once refined).
            assert abs(s["commissure_height"].asymmetry) < 8


@pytest.mark.slow
def test_rest_and_smile_agree_on_static_quantities(landmarker):
    """Each photo's own iris scale gives the same interpupillary distance in mm."""
    diffs = []
    for fid in london_ids():
        rest = measure_photo(analyze_photo(LONDON / "neutral" / f"{fid}_03.jpg", landmarker))
        smile = measure_photo(analyze_photo(LONDON / "smiling" / f"{fid}_08.jpg", landmarker, expression="smile"))
        diffs.append(smile.interpupillary_distance_mm / rest.interpupillary_distance_mm - 1)
    assert np.median(np.abs(diffs)) < 0.03 and np.max(np.abs(diffs)) < 0.08


def test_pair_uses_one_scale_and_reports_the_pattern(landmarker):
    rest = analyze_photo(LONDON / "neutral" / "004_03.jpg", landmarker)
    smile = analyze_photo(LONDON / "smiling" / "004_08.jpg", landmarker, expression="smile")
    p = measure_pair(rest, smile)
    assert p.smile.interpupillary_distance_mm == pytest.approx(p.rest.interpupillary_distance_mm, rel=1e-12)
    assert p.smile.scale.source == "iris_via_rest_ipd"
    lift = p.dynamic["cheilion_lift"]
    assert lift.right > 1 and lift.left > 1          # both corners rise in a smile
    assert 0 < p.dynamic["cheilion_movement"].ratio <= 1
    assert {s.structure for s in p.summary} == {"commissures", "cupids_bow"}


def _rows(path):
    return list(csv.DictReader(io.StringIO(path.read_text())))


@pytest.mark.slow
def test_cli_every_london_pair_gives_a_complete_row_and_flips_negate(tmp_path):
    """Acceptance of the measurement issue, on all 34 London pairs and their mirror images."""
    ids = london_ids()
    args, flipped_args = ["analyze"], ["analyze"]
    for fid in ids:
        rest, smile = LONDON / "neutral" / f"{fid}_03.jpg", LONDON / "smiling" / f"{fid}_08.jpg"
        args += ["--rest", str(rest), "--smile", str(smile)]
        flipped_args += ["--rest", str(_flip(rest, tmp_path)), "--smile", str(_flip(smile, tmp_path))]
    assert main(args + ["-o", str(tmp_path / "a.json"), "--csv", str(tmp_path / "a.csv")]) == 0
    assert main(flipped_args + ["-o", str(tmp_path / "b.json"), "--csv", str(tmp_path / "b.csv")]) == 0
    rows, frows = _rows(tmp_path / "a.csv"), _rows(tmp_path / "b.csv")
    assert len(rows) == len(frows) == len(ids) == 34
    for row, frow in zip(rows, frows):
        empty = [k for k, v in row.items() if v == "" and k not in ("rest_flags", "rest_warnings", "smile_flags",
                                                                    "smile_warnings")]
        assert not empty, empty
        asym = [k for k in row if "_asym_" in k and not k.endswith(("_se_mm", "_se_mm2", "_se_deg", "pct_ipd"))]
        assert len(asym) >= 30
        for k in asym:
            assert abs(float(row[k]) + float(frow[k])) < 1e-6, (row["rest_file"], k, row[k], frow[k])
