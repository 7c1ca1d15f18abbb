"""Same-person check: different people refused, re-captures of one person accepted."""

from __future__ import annotations

import itertools
import json

import cv2
import numpy as np
import pytest

from conftest import LONDON, SAMPLE, SHARED_DATA, needs_shared
from lipsym.comparison._same_person import (
    STABLE_POINTS, SamePersonCheck, geometry_distance, identity_descriptor, require_same_person, same_person,
    stable_points_px,
)
from lipsym.errors import DifferentPersonError, LipsymError, MeasurementError

LISA = SHARED_DATA / "invariance" / "lisa"


@pytest.fixture(scope="module")
def analyse(landmarker):
    """Analyse a photo once per module (the same photo appears in several tests)."""
    from lipsym.analysis._options import AnalysisOptions
    from lipsym.analysis._photo import analyze_photo

    cache = {}

    def run(path, expression="rest", mirrored=False):
        key = (str(path), expression, mirrored)
        if key not in cache:
            cache[key] = analyze_photo(path, landmarker, expression=expression,
                                       options=AnalysisOptions(mirrored=mirrored))
        return cache[key]
    return run


@pytest.fixture(scope="module")
def astronaut_mirror(tmp_path_factory):
    path = tmp_path_factory.mktemp("mirror") / "astronaut_mirrored.png"
    cv2.imwrite(str(path), cv2.flip(cv2.imread(str(SAMPLE)), 1))
    return path


def _other_face(analysis) -> dict:
    """A stored document of the same photo with a different face: eyes 15 % wider apart, nose 15 % longer."""
    from lipsym.formats._json import photo_to_dict

    points = np.array(analysis.points_px, dtype=np.float64)
    centre = points[[468, 473], :2].mean(axis=0)
    right_half = points[:, 0] < centre[0]  # each half of the face moves out, eyes and brows with it
    points[:, 0] += np.where(right_half, -1, 1) * 0.075 * abs(points[473, 0] - points[468, 0])
    nose = [1, 2, 4, 5, 19, 94, 98, 64, 48, 129, 219, 102, 49, 327, 294, 278, 358, 439, 331, 279]
    points[nose, 1] += 0.15 * (points[nose, 1] - centre[1])
    doc = photo_to_dict(analysis)
    doc["file"] = "someone_else.jpg"
    doc["identity_descriptor"] = None  # as analysed without dlib: the geometry decides
    doc["stable_points_px"] = {str(i): [float(points[i, 0]), float(points[i, 1])] for i in STABLE_POINTS}
    return doc


def test_a_photo_and_itself_are_one_person(analyse):
    a = analyse(SAMPLE)
    check = same_person(a, a)
    assert isinstance(check, SamePersonCheck)
    assert check.passed and check.distance == pytest.approx(0, abs=1e-9)
    assert check.threshold > 0 and "\n" not in check.reason


@pytest.mark.parametrize("mirrored", [False, True])
def test_a_mirrored_photo_of_the_same_person_is_accepted(analyse, astronaut_mirror, mirrored):
    a, m = analyse(SAMPLE), analyse(astronaut_mirror, mirrored=mirrored)
    check = same_person(a, m)
    assert check.passed and check.method == "identity" and check.warning is None
    # The descriptor is not mirror-invariant, but a mirror image stays well
    # inside one person (development photos: 0.08-0.19).
    assert check.distance < 0.25
    # Flip-averaging makes the mirror's landmarks the exact mirror image.
    assert geometry_distance(a.points_px, m.points_px) < 1.0


def test_a_different_face_is_refused_and_allow_overrides(analyse):
    a, other = analyse(SAMPLE), _other_face(analyse(SAMPLE))
    check = same_person(a, other)
    assert not check.passed and check.distance > check.threshold and check.method == "geometry"
    assert "analyse it again" in check.warning and "\n" not in check.warning
    with pytest.raises(DifferentPersonError) as err:
        require_same_person(a, other)
    message = str(err.value)
    assert "\n" not in message and str(SAMPLE) in message and "someone_else.jpg" in message
    assert err.value.exit_code == 9 and isinstance(err.value, LipsymError)
    overridden = require_same_person(a, other, allow=True)
    assert overridden == check  # the result is still there, e.g. for a warning


def test_exit_code_is_its_own():
    import lipsym.errors as errors

    others = {c.exit_code for c in vars(errors).values()
              if isinstance(c, type) and issubclass(c, LipsymError) and c is not DifferentPersonError}
    assert DifferentPersonError.exit_code not in others


def test_stored_analysis_gives_the_same_distance(analyse, astronaut_mirror):
    """A stored document (stable_points_px, or landmarks_px) checks like the analysis itself."""
    from lipsym.formats._json import photo_to_dict

    a, m = analyse(SAMPLE), analyse(astronaut_mirror)
    stored = json.loads(json.dumps(photo_to_dict(m)))
    assert set(stored["stable_points_px"]) == {str(i) for i in STABLE_POINTS}
    direct = same_person(a, m).distance
    # The descriptor is stored to 1e-6.
    assert same_person(a, stored).distance == pytest.approx(direct, abs=1e-4)
    np.testing.assert_allclose(identity_descriptor(stored), m.identity_descriptor, atol=1e-6)
    geometry = geometry_distance(a.points_px, m.points_px)
    # Points are stored to 1e-4 px: a few thousandths of a distance whose threshold is ~20.
    assert geometry_distance(stable_points_px(a), stable_points_px(stored)) == pytest.approx(geometry, abs=1e-2)
    full = json.loads(json.dumps(photo_to_dict(m, include_landmarks=True)))
    del full["stable_points_px"], full["identity_descriptor"]
    check = same_person(full, a)
    assert check.method == "geometry" and check.distance == pytest.approx(geometry, abs=0.1)  # to 1e-3 px
    np.testing.assert_allclose(stable_points_px(stored), stable_points_px(m), atol=1e-4)


def test_a_stored_analysis_without_the_points_is_refused_with_a_reason(analyse):
    from lipsym.formats._json import photo_to_dict

    doc = photo_to_dict(analyse(SAMPLE))
    del doc["stable_points_px"], doc["identity_descriptor"]
    with pytest.raises(MeasurementError, match="analyse the photo again"):
        same_person(doc, analyse(SAMPLE))


def test_every_analysis_has_an_identity_descriptor(analyse):
    from lipsym.formats._json import photo_to_dict
    from lipsym.landmarks._identity import IDENTITY_MODEL

    a = analyse(SAMPLE)
    assert a.identity_descriptor.shape == (128,) and np.isfinite(a.identity_descriptor).all()
    assert not a.identity_descriptor.flags.writeable
    stored = photo_to_dict(a)["identity_descriptor"]
    assert stored["model"] == IDENTITY_MODEL and len(stored["vector"]) == 128
    # A descriptor of another model is not compared.
    assert identity_descriptor({"identity_descriptor": {**stored, "model": "other"}}) is None


def test_without_dlib_the_geometry_decides_with_a_warning(analyse, landmarker, monkeypatch):
    """dlib or its model absent at run time: no descriptor, the geometry checks, one warning line."""
    import warnings

    from lipsym.analysis._photo import analyze_photo
    from lipsym.comparison import _same_person
    from lipsym.landmarks import _identity

    def absent():
        raise _identity.IdentityUnavailable("dlib is not installed (pip install dlib-bin)")

    monkeypatch.setattr(_identity, "_model", absent)
    _same_person._warn_once.cache_clear()
    a = analyze_photo(SAMPLE, landmarker)
    assert a.identity_descriptor is None
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        check = same_person(a, analyse(SAMPLE))
    assert check.passed and check.method == "geometry" and check.distance == pytest.approx(0, abs=1e-6)
    assert "dlib is not installed" in check.warning and "\n" not in check.warning
    assert len(caught) == 1 and "geometry only" in str(caught[0].message)
    _same_person._warn_once.cache_clear()


def test_identity_model_is_verified_and_loaded_lazily():
    import subprocess
    import sys

    code = ("import sys, lipsym, lipsym.formats, lipsym.comparison._same_person; "
            "print('dlib' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
    from lipsym.landmarks._identity import EXPECTED_MODEL_SHA256, identity_available

    assert identity_available() and len(EXPECTED_MODEL_SHA256) == 64


def test_geometry_distance_is_symmetric_and_scale_free(analyse):
    points = np.array(analyse(SAMPLE).points_px)
    other = np.array([[float(c) for c in xy] for xy in _other_face(analyse(SAMPLE))["stable_points_px"].values()])
    moved = 2.5 * points[:, :2] @ np.array([[0.96, -0.28], [0.28, 0.96]]) + [40.0, -7.0]
    assert geometry_distance(points, moved) == pytest.approx(0, abs=1e-6)
    assert geometry_distance(points, other) == pytest.approx(geometry_distance(other, points), rel=1e-6)


@needs_shared
def test_two_london_people_are_refused(analyse):
    # Issue #13 names London 004 vs 014; 014 is not among the development
    # photos, 013 (the next face) stands in for it.
    check = same_person(analyse(LONDON / "neutral" / "004_03.jpg"), analyse(LONDON / "neutral" / "013_03.jpg"))
    assert not check.passed and check.method == "identity"
    with pytest.raises(DifferentPersonError, match="004_03.jpg and .*013_03.jpg"):
        require_same_person(analyse(LONDON / "neutral" / "004_03.jpg"), analyse(LONDON / "neutral" / "013_03.jpg"))


@needs_shared
def test_rest_and_smile_of_one_london_face_are_accepted(analyse):
    check = same_person(analyse(LONDON / "neutral" / "004_03.jpg"),
                        analyse(LONDON / "smiling" / "004_08.jpg", expression="smile"))
    assert check.passed, check.reason


@needs_shared
def test_lisa_re_photographs_are_accepted(analyse):
    photos = [analyse(LISA / f"lisa{i}.jpg") for i in range(1, 5)]
    for a, b in itertools.combinations(photos, 2):
        assert same_person(a, b).passed, same_person(a, b).reason


@needs_shared
def test_a_pair_of_two_people_is_refused_by_the_item_analysis_unless_allowed(landmarker):
    """A rest photo of one person with a smile photo of another gives no 'movement' (issue #13)."""
    from lipsym.analysis._options import AnalysisOptions
    from lipsym.pipeline import ItemSpec, analyze_item

    item = ItemSpec.pair(LONDON / "neutral" / "004_03.jpg", LONDON / "smiling" / "013_08.jpg")
    refused = analyze_item(item, landmarker)
    assert not refused.ok and refused.pair is None
    (error,) = refused.errors
    assert isinstance(error.error, DifferentPersonError) and "\n" not in error.reason
    assert "004_03.jpg" in error.reason and "013_08.jpg" in error.reason
    allowed = analyze_item(item, landmarker, AnalysisOptions(allow_different_person=True))
    assert allowed.ok and allowed.pair is not None
    same = analyze_item(ItemSpec.pair(LONDON / "neutral" / "004_03.jpg", LONDON / "smiling" / "004_08.jpg"),
                        landmarker)
    assert same.ok


@needs_shared
@pytest.mark.slow
def test_compare_refuses_two_people_with_exit_9_and_names_capture_differences(tmp_path):
    import subprocess
    import sys

    def compare(*extra):
        out = tmp_path / f"c{len(extra)}.png"
        return subprocess.run([sys.executable, "-m", "lipsym", "compare", str(LONDON / "neutral" / "004_03.jpg"),
                               str(LONDON / "neutral" / "013_03.jpg"), "-o", str(out), "--json", *extra],
                              capture_output=True, text=True)

    refused = compare()
    assert refused.returncode == 9, refused.stderr
    line, = refused.stderr.strip().splitlines()
    assert line.startswith("lipsym: ") and "004_03.jpg" in line and "013_03.jpg" in line
    assert not (tmp_path / "c0.png").exists()            # refused before anything was written
    allowed = compare("--allow-different-person")
    assert allowed.returncode == 0, allowed.stderr
    doc = json.loads(allowed.stdout)
    assert doc["schema"] == "lipsym.photo_comparison" and isinstance(doc["capture_warnings"], list)
    change = next(c for c in doc["changes"]["rest"] if c["key"] == "commissure_height")
    assert change["minimal_detectable_change"] >= 0.8 - 1e-9   # two captures: never below the 3-D test-retest MDC


@needs_shared
def test_stored_documents_are_checked_by_their_identity_descriptors(analyse):
    """A stored visit (no pixels) decides as the analyses do: two London people refused, one face passed."""
    from lipsym.formats._json import photo_to_dict

    def stored(path, expression="rest"):
        return json.loads(json.dumps(photo_to_dict(analyse(path, expression))))

    a, b = stored(LONDON / "neutral" / "004_03.jpg"), stored(LONDON / "neutral" / "013_03.jpg")
    smile = stored(LONDON / "smiling" / "004_08.jpg", "smile")
    refused, passed = same_person(a, b), same_person(a, smile)
    assert refused.method == passed.method == "identity"
    assert not refused.passed and passed.passed
    direct = same_person(analyse(LONDON / "neutral" / "004_03.jpg"), analyse(LONDON / "neutral" / "013_03.jpg"))
    assert refused.distance == pytest.approx(direct.distance, abs=1e-4)


def test_the_descriptor_can_be_skipped_and_the_geometry_then_decides(analyse, landmarker):
    """``face_descriptor=False`` (CLI ``--no-face-descriptor``): no descriptor, a recorded setting, the geometry checks."""
    from lipsym.analysis._options import AnalysisOptions
    from lipsym.analysis._photo import analyze_photo
    from lipsym.formats._json import photo_to_dict

    off = AnalysisOptions(face_descriptor=False)
    a = analyze_photo(SAMPLE, landmarker, options=off)
    assert a.identity_descriptor is None and photo_to_dict(a).get("identity_descriptor") is None
    # Same measures as the default run: the option adds or drops a field, nothing else.
    on = analyse(SAMPLE)
    for name, xy in on.anatomy.points_px.items():
        np.testing.assert_array_equal(a.anatomy.points_px[name], xy, err_msg=name)
    # Recorded only when off: every identity written before the option keeps its keys.
    assert "face_descriptor" not in AnalysisOptions().identity()
    assert off.identity()["face_descriptor"] is False
    check = same_person(a, on)
    assert check.passed and check.method == "geometry" and "--no-face-descriptor" in check.warning


def test_cli_no_face_descriptor_writes_documents_without_it_and_records_the_setting(tmp_path):
    from lipsym.cli import main

    out = tmp_path / "a.json"
    assert main(["analyze", str(SAMPLE), "--no-face-descriptor", "-o", str(out)]) == 0
    doc = json.loads(out.read_text())
    (result,) = doc["results"]
    assert result["status"] == "ok" and result["identity_descriptor"] is None
    assert doc["settings"]["face_descriptor"] is False
