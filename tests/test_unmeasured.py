"""Issue #14 item 7: where MediaPipe's points exist there is no MeasurementError; a turned head is
measured as far as it can be, and what cannot be measured is left empty (null) and flagged."""

from __future__ import annotations

import dataclasses
import json
import math
from importlib import resources

import jsonschema
import numpy as np
import pytest

from conftest import REPO, SHARED_DATA, needs_shared
from lipsym.analysis._photo import AnalysisOptions, analyze_landmarks
from lipsym.comparison import compare_measures
from lipsym.errors import MeasurementError
from lipsym.formats._csv import photo_columns, to_csv
from lipsym.formats._json import document, photo_to_dict
from lipsym.formats._store_rows import document_specs, photo_specs
from lipsym.io import load_photo
from lipsym.measures import measure_photo
from lipsym.measures._contours import dense_contour
from lipsym.measures._unmeasured import UNAVAILABLE_FLAG
from lipsym.measures._vermilion import vermilion_measures
from lipsym.report._format import plain, signed
from lipsym.simulate._recapture import rotate_landmarks

REST = REPO / "sample_images" / "london_094_rest.jpg"


@pytest.fixture(scope="module")
def rest(landmarker):
    photo = load_photo(REST)
    return photo, landmarker.landmarks(photo)


def _turned(photo, marks, yaw_deg: float, refine: bool = False):
    """The photo analysed with its landmarks turned by ``yaw_deg`` (the head turned; 3-D rotation)."""
    pose = dataclasses.replace(marks.pose, yaw_deg=marks.pose.yaw_deg + yaw_deg)
    turned = dataclasses.replace(marks, points_px=rotate_landmarks(marks.points_px, yaw_deg, 0.0), pose=pose)
    return analyze_landmarks(photo, turned, options=AnalysisOptions(refine=refine))


@pytest.mark.parametrize("yaw", [60.0, -60.0, 80.0])
def test_a_turned_head_is_measured_as_far_as_it_can_be_and_flagged(rest, yaw):
    photo, marks = rest
    for refine in (False, True):
        a = _turned(photo, marks, yaw, refine)
        m = measure_photo(a)  # no MeasurementError
        assert m.unmeasured, "the contours of a head turned this far do not reach the midline or mid-hemilip"
        for key in m.unmeasured:
            v = m.sided.get(key) or m.scalars[key]
            assert math.isnan(v.asymmetry if key in m.sided else v.value)
        # What exists is measured: the corners, the bow, the areas.
        for key in ("commissure_height", "commissure_lateral", "bow_peak_height", "upper_hemi_vermilion_area"):
            assert key not in m.unmeasured and math.isfinite(m.sided[key].asymmetry)
        (flag,) = [f for f in m.flags if f.code == UNAVAILABLE_FLAG]
        assert flag.value == len(m.unmeasured) and all(k in flag.message for k in m.unmeasured)
        assert "turned" in flag.message
        assert any(f.code == "head_turned" for f in a.flags)


def test_outputs_carry_the_missing_measures_as_null(rest):
    photo, marks = rest
    a = _turned(photo, marks, 60.0)
    m = measure_photo(a)
    missing = next(k for k in m.unmeasured if k in m.sided)
    entry = photo_to_dict(a, m)
    text = json.dumps(entry, allow_nan=False)  # no NaN in the JSON
    assert json.loads(text)["measures"]["sided"][missing]["asymmetry"] is None
    assert UNAVAILABLE_FLAG in [f["code"] for f in entry["flags"]]
    schema = json.loads(resources.files("lipsym.formats").joinpath("analysis.schema.json").read_text())
    doc = document([entry], [], model_sha256=marks.model_sha256, settings=AnalysisOptions().identity())
    jsonschema.Draft202012Validator(schema).validate(json.loads(json.dumps(doc, allow_nan=False)))
    # CSV: an empty cell, never "nan"; the flag in the flags column.
    cols = photo_columns(a, m)
    assert all(not (isinstance(v, float) and math.isnan(v)) for v in cols.values())
    assert UNAVAILABLE_FLAG in cols["flags"] and ",nan" not in to_csv([cols]).lower()
    # The visit record's rows: none for the missing measure, from the objects and from the document alike.
    names = {s.name for s in photo_specs(m, "rest")}
    assert f"{missing}.asymmetry" not in names and "commissure_height.asymmetry" in names
    assert all(math.isfinite(s.value) for s in photo_specs(m, "rest"))
    assert {s.name for s in document_specs(doc)} == names
    # A comparison leaves it out (its change is unknown, not "stable").
    assert missing not in compare_measures(m, m) and "commissure_height" in compare_measures(m, m)
    assert signed(float("nan")) == "–" and plain(float("nan")) == "–"


@pytest.mark.parametrize("yaw", [89.0, -90.0])
def test_a_head_in_profile_is_not_refined_and_costs_no_more_than_a_frontal_one(rest, yaw):
    """A profile puts the pupils nearly on each other: every length scaled by the IPD explodes.

    Before the limits (refine/_lips.MAX_LIP_EXTENT_IPD, face/_content.MAX_WORK_SIDE_PX) these
    landmarks asked for a mouth grid of 100 M samples and a 3.6 GB skin crop; a London face at
    90° ran out of memory (73 GB asked). Now the refinement is not attempted, and says why.
    """
    import tracemalloc

    photo, marks = rest
    tracemalloc.start()
    try:
        a = _turned(photo, marks, yaw, refine=True)
        measure_photo(a)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 100e6, peak
    assert all(not p.used and "head turned too far" in p.reason for p in a.refinement.pairs)
    codes = {f.code for f in a.flags}
    assert {"head_turned", "refinement_fallback", "weak_evidence_commissures", "weak_evidence_cupids_bow"} <= codes


def test_a_frontal_photo_has_nothing_unmeasured(rest):
    photo, marks = rest
    m = measure_photo(analyze_landmarks(photo, marks))
    assert not m.unmeasured and not m.flags


def test_the_low_level_measures_still_raise_when_asked_to(rest):
    photo, marks = rest
    a = _turned(photo, marks, 80.0)
    fr, c = a.frame, a.anatomy.contours
    ou, ol, iu, il = (dense_contour(fr.to_frame(x)) for x in (c.outer_upper, c.outer_lower, c.inner_upper,
                                                                c.inner_lower))
    f = {k: fr.to_frame(v) for k, v in a.anatomy.points_px.items()}
    args = (ou, iu, ol, il, f["cheilion_right"], f["cheilion_left"], f["crista_philtri_right"],
            f["crista_philtri_left"], a.scale, fr.interpupillary_distance_px)
    with pytest.raises(MeasurementError):
        vermilion_measures(*args)
    unmeasured: dict[str, str] = {}
    out = vermilion_measures(*args, unmeasured)
    assert unmeasured and len(out) == 6


@needs_shared
def test_the_45_degree_portrait_is_measured_with_a_flag(landmarker):
    path = SHARED_DATA / "portraits" / "pyfeat_m7_disgust_45deg.jpg"
    photo = load_photo(path)
    a = analyze_landmarks(photo, landmarker.landmarks(photo))
    m = measure_photo(a)
    assert any(f.code == "head_turned" for f in a.flags)
    assert np.isfinite(m.sided["commissure_height"].asymmetry)
