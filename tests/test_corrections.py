"""Manual landmark corrections (analysis layer): moves, frame, anatomy, measures, documents, errors."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image

from conftest import REPO
from lipsym.analysis import (CORRECTABLE_POINTS, Corrections, PointMove, analyze_photo, apply_corrections,
                             correctable_points)
from lipsym.errors import CorrectionError, LipsymError
from lipsym.face._scale import Calibration
from lipsym.formats._envelope import envelope
from lipsym.analysis._options import AnalysisOptions
from lipsym.measures import measure_pair, measure_photo

REST = REPO / "sample_images" / "london_094_rest.jpg"
SMILE = REPO / "sample_images" / "london_094_smile.jpg"


@pytest.fixture(scope="module")
def rest(landmarker):
    return analyze_photo(REST, landmarker)


@pytest.fixture(scope="module")
def smile(landmarker):
    return analyze_photo(SMILE, landmarker, expression="smile")


def _moved(analysis, name, dx, dy):
    x, y = correctable_points(analysis)[name]
    return Corrections((PointMove(name, x + dx, y + dy),))


def test_correctable_points_name_every_point_in_photo_px(rest):
    pts = correctable_points(rest)
    assert list(pts) == list(CORRECTABLE_POINTS)
    for name in ("pupil_right", "pupil_left", "cheilion_right", "cheilion_left", "crista_philtri_right",
                 "crista_philtri_left", "labrale_superius", "labrale_inferius", "stomion", "mesh_037", "mesh_013"):
        assert name in pts
    # Named points are the anatomy's (the bow peaks are derived, not a vertex); mesh points are vertices.
    assert pts["crista_philtri_left"] == tuple(rest.anatomy.points_px["crista_philtri_left"])
    assert pts["mesh_037"] == tuple(rest.points_px[37, :2])
    # 4 contours of 11 vertices share 2 corners each (61/291, 78/308); 4 of them are named points.
    assert sum(n.startswith("mesh_") for n in pts) == 44 - 4 - 4
    assert all(-0.5 <= x <= rest.width_px and -0.5 <= y <= rest.height_px for x, y in pts.values())


def test_moving_the_right_cheilion_down_changes_the_height_asymmetry_by_its_projection(rest):
    d_px = 10.0
    corrected = apply_corrections(rest, _moved(rest, "cheilion_right", 0.0, d_px))
    before = measure_photo(rest).sided["commissure_height"]
    after = measure_photo(corrected).sided["commissure_height"]
    # Image "down" (0, d) on the frame's up axis, in mm; the right corner goes down so left − right grows.
    expected = -(np.array([0.0, d_px]) @ corrected.frame.y_axis) * rest.scale.mm_per_px
    assert expected > 0
    assert after.asymmetry - before.asymmetry == pytest.approx(expected, abs=1e-9)
    assert after.left == pytest.approx(before.left, abs=1e-12)
    assert corrected.provenance == "manual" and rest.provenance == "automatic"
    (move,) = corrected.corrections
    assert move.name == "cheilion_right" and move.displacement_px == (0.0, d_px)
    assert move.displacement_frame_mm[1] == pytest.approx(-expected, abs=1e-9)
    assert move.distance_mm == pytest.approx(d_px * rest.scale.mm_per_px)
    assert corrected.automatic is rest
    # The automatic analysis is untouched.
    assert measure_photo(rest).sided["commissure_height"].asymmetry == before.asymmetry


def test_an_empty_correction_gives_identical_measures(rest, smile):
    same = apply_corrections(rest, Corrections())
    assert same.provenance == "manual" and same.corrections == ()
    a, b = measure_pair(rest, smile), measure_pair(same, smile)
    for part in ("rest", "smile"):
        for key, m in getattr(a, part).sided.items():
            assert getattr(b, part).sided[key] == m, key
        assert getattr(b, part).scalars == getattr(a, part).scalars
    assert dict(b.dynamic) == dict(a.dynamic)


def test_a_moved_bow_peak_is_measured_exactly_where_it_was_put(rest):
    corrected = apply_corrections(rest, _moved(rest, "crista_philtri_right", 0.0, -6.0))
    target = np.array(correctable_points(corrected)["crista_philtri_right"])
    assert target == pytest.approx(np.array(correctable_points(rest)["crista_philtri_right"]) + [0, -6])
    m = measure_photo(corrected).sided["bow_peak_height"]
    assert m.right == pytest.approx(corrected.frame.to_frame(target)[1] * rest.scale.mm_per_px, abs=1e-9)
    # The other peak is derived again from the unchanged border: the same place.
    assert corrected.anatomy.points_px["crista_philtri_left"] == pytest.approx(rest.anatomy.points_px["crista_philtri_left"])


def test_a_moved_border_vertex_moves_the_derived_peak_and_the_contour(rest):
    corrected = apply_corrections(rest, _moved(rest, "mesh_037", 0.0, -5.0))
    assert corrected.anatomy.contours.outer_upper[4] == pytest.approx(rest.points_px[37, :2] + [0, -5])
    assert not np.allclose(corrected.anatomy.points_px["crista_philtri_right"],
                           rest.anatomy.points_px["crista_philtri_right"])
    assert measure_photo(corrected).sided["upper_vermilion_height_mid"] != measure_photo(rest).sided["upper_vermilion_height_mid"]


def test_moved_pupils_move_the_frame_and_an_ipd_calibrated_scale(landmarker, rest):
    corrected = apply_corrections(rest, _moved(rest, "pupil_left", 0.0, -8.0))
    assert corrected.frame.ipl_angle_deg != rest.frame.ipl_angle_deg
    assert corrected.scale == rest.scale  # the iris scale does not depend on the pupils
    calibrated = analyze_photo(REST, landmarker, options=AnalysisOptions(calibration=Calibration(interpupillary_distance_mm=62.0)))
    moved = apply_corrections(calibrated, _moved(calibrated, "pupil_left", 20.0, 0.0))
    assert measure_photo(moved).interpupillary_distance_mm == pytest.approx(62.0)
    assert moved.scale.mm_per_px < calibrated.scale.mm_per_px


def test_correcting_a_corrected_analysis_merges_the_moves(rest):
    first = apply_corrections(rest, _moved(rest, "cheilion_right", 0.0, 4.0))
    x, y = correctable_points(rest)["cheilion_left"]
    again = apply_corrections(first, Corrections((PointMove("cheilion_left", x, y + 2),)))
    at_once = apply_corrections(rest, Corrections(_moved(rest, "cheilion_right", 0.0, 4.0).moves
                                                  + (PointMove("cheilion_left", x, y + 2),)))
    assert [m.name for m in again.corrections] == ["cheilion_right", "cheilion_left"]
    assert again.automatic is rest
    assert measure_photo(again).sided == measure_photo(at_once).sided
    # A later move of the same point replaces the earlier one (from the automatic position).
    # Putting a point back where the automatic analysis had it undoes its move.
    back = apply_corrections(first, Corrections((PointMove("cheilion_right", *correctable_points(rest)["cheilion_right"]),)))
    assert back.corrections == () and back.provenance == "manual"
    assert measure_photo(back).sided == measure_photo(rest).sided


def _flip(src, tmp_path):
    out = tmp_path / f"{src.stem}_flipped.png"
    Image.open(src).transpose(Image.Transpose.FLIP_LEFT_RIGHT).save(out)
    return out


def test_mirroring_still_negates_every_asymmetry_after_corrections(landmarker, rest, tmp_path):
    flipped = analyze_photo(_flip(REST, tmp_path), landmarker)
    w = rest.width_px
    pts, fpts = correctable_points(rest), correctable_points(flipped)
    # The same correction on the mirror image: the subject's sides swap, x mirrors (centres at integers).
    moves = [("cheilion_right", "cheilion_left", 3.0, 7.0), ("crista_philtri_left", "crista_philtri_right", -2.0, -4.0),
             ("pupil_right", "pupil_left", 0.0, 3.0)]
    a_moves, f_moves = [], []
    for name, mirror_name, dx, dy in moves:
        x, y = pts[name]
        a_moves.append(PointMove(name, x + dx, y + dy))
        f_moves.append(PointMove(mirror_name, (w - 1) - (x + dx), y + dy))
        assert fpts[mirror_name] == pytest.approx(((w - 1) - x, y), abs=1e-6)
    m = measure_photo(apply_corrections(rest, Corrections(tuple(a_moves))))
    f = measure_photo(apply_corrections(flipped, Corrections(tuple(f_moves))))
    assert m.sided["commissure_height"].asymmetry != pytest.approx(measure_photo(rest).sided["commissure_height"].asymmetry)
    for key, s in m.sided.items():
        assert s.asymmetry == pytest.approx(-f.sided[key].asymmetry, abs=1e-6), key
        assert s.right == pytest.approx(f.sided[key].left, abs=1e-6)
    assert m.scalars["lip_cant"].value == pytest.approx(-f.scalars["lip_cant"].value, abs=1e-6)
    assert m.composite.value == pytest.approx(f.composite.value, abs=1e-6)


def test_unknown_points_and_points_outside_the_photo_are_refused(rest):
    with pytest.raises(CorrectionError, match="unknown point 'chin'"):
        PointMove("chin", 1.0, 2.0)
    with pytest.raises(CorrectionError, match="unknown point 'mesh_001'"):
        PointMove("mesh_001", 1.0, 2.0)  # a vertex, but not of a lip contour
    with pytest.raises(CorrectionError, match="finite"):
        PointMove("stomion", float("nan"), 2.0)
    with pytest.raises(CorrectionError, match="moved twice"):
        Corrections((PointMove("stomion", 1, 2), PointMove("stomion", 3, 4)))
    with pytest.raises(CorrectionError, match="outside the photo"):
        apply_corrections(rest, Corrections((PointMove("stomion", rest.width_px + 5.0, 10.0),)))
    with pytest.raises(CorrectionError, match="outside the photo"):
        apply_corrections(rest, Corrections((PointMove("mesh_037", 10.0, -3.0),)))
    assert issubclass(CorrectionError, LipsymError) and CorrectionError.exit_code == 2


def test_the_corrections_document_round_trips_and_refuses_malformed_files():
    c = Corrections((PointMove("cheilion_right", 410.0, 622.5), PointMove("mesh_037", 1, 2)))
    doc = c.to_dict()
    assert (doc["schema"], doc["schema_version"]) == ("lipsym.corrections", 1)
    assert doc == envelope("lipsym.corrections", {"moves": doc["moves"]})
    assert doc["moves"][0] == {"point": "cheilion_right", "x_px": 410.0, "y_px": 622.5}
    assert Corrections.from_json(json.dumps(doc)) == c
    bad = [
        ("{not json", "not valid JSON"),
        ("[]", "must be a JSON object"),
        (json.dumps({**doc, "schema": "lipsym.analysis"}), "not a corrections document"),
        (json.dumps({**doc, "schema_version": 2}), "schema_version 2"),
        (json.dumps({**doc, "extra": 1}), "unknown field"),
        (json.dumps({**doc, "moves": {"a": 1}}), "needs 'moves'"),
        (json.dumps({**doc, "moves": [{"point": "stomion", "x_px": 1}]}), "move 1 must be"),
        (json.dumps({**doc, "moves": [{"point": "stomion", "x_px": "1", "y_px": 2}]}), "must be a number"),
        (json.dumps({**doc, "moves": [{"point": "nose", "x_px": 1, "y_px": 2}]}), "unknown point"),
    ]
    for text, reason in bad:
        with pytest.raises(CorrectionError, match=reason) as info:
            Corrections.from_json(text)
        assert "\n" not in str(info.value)
