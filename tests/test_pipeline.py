"""lipsym.pipeline: one item analysed the same way for every caller; AnalysisOptions.identity()."""

from __future__ import annotations

import doctest

import numpy as np
import pytest

from conftest import SAMPLE
from lipsym.analysis import _options
from lipsym.analysis._options import AnalysisOptions
from lipsym.cli import build_parser
from lipsym.cli.common import analysis_options
from lipsym.errors import ConfigurationError, LipsymError, NotAnImageError
from lipsym.face._scale import Calibration
from lipsym.io import load_photo
from lipsym.landmarks._options import LandmarkerOptions
from lipsym.pipeline import _analyze, _item
from lipsym.pipeline._analyze import analyze_item
from lipsym.pipeline._item import ItemSpec


@pytest.mark.parametrize("module", [_item, _options])
def test_docstring_examples_run(module):
    assert doctest.testmod(module, raise_on_error=True).attempted > 0


def test_analyze_item_examples_run(landmarker):
    assert doctest.testmod(_analyze, raise_on_error=True).attempted > 0


def _identity(*argv: str) -> dict:
    return analysis_options(build_parser().parse_args(["analyze", "P", *argv])).identity()


DEFAULT = {"mirrored": False, "iris_mm": 11.7, "ipd_mm": None, "mm_per_px": None, "calibration_uncertainty": 0.01,
           "flip_average": True, "single_face": False, "refine": True}


@pytest.mark.parametrize("argv, changed", [
    ((), {}),
    (("--mirrored", "--iris-mm", "12"), {"mirrored": True, "iris_mm": 12.0}),
    (("--ipd-mm", "63", "--calibration-uncertainty", "0.02"), {"ipd_mm": 63.0, "calibration_uncertainty": 0.02}),
    (("--mm-per-px", "0.1"), {"mm_per_px": 0.1}),
    (("--single-face", "--no-flip-average", "--no-refine"),
     {"single_face": True, "flip_average": False, "refine": False}),
])
def test_identity_is_the_settings_documents_and_stores_have_always_recorded(argv, changed):
    # Visit records look analyses up by this dict and batches cache by it:
    # keys, values and order are those of the former cli.common.settings_of.
    identity = _identity(*argv)
    assert identity == {**DEFAULT, **changed}
    assert list(identity) == list(DEFAULT)


def test_identity_needs_no_command_line():
    options = AnalysisOptions(calibration=Calibration(interpupillary_distance_mm=60.0, relative_uncertainty=0.03),
                              allow_multiple_faces=False, landmarker=LandmarkerOptions(flip_average=False))
    assert options.identity() == {**DEFAULT, "ipd_mm": 60.0, "calibration_uncertainty": 0.03,
                                  "single_face": True, "flip_average": False}


@pytest.mark.parametrize("photos", [
    (("rest", "a.jpg"), ("rest", "b.jpg")),
    (("smile", "a.jpg"), ("rest", "b.jpg")),
    (("rest", "a.jpg"), ("smile", "b.jpg"), ("smile", "c.jpg")),
    (("frown", "a.jpg"),),
    (),
])
def test_item_is_one_photo_or_a_rest_smile_pair(photos):
    with pytest.raises(ConfigurationError):
        ItemSpec(photos)


def test_photo_item(landmarker, tmp_path):
    result = analyze_item(ItemSpec.photo(SAMPLE, "smile"), landmarker)
    assert result.ok and result.pair is None and len(result.analyses) == len(result.measures) == 1
    assert result.analyses[0].expression == "smile"
    assert [r["status"] for r in result.results()] == ["ok"] and result.pairs() == []
    assert result.csv_row["file"] == str(SAMPLE)
    assert {s.condition for s in result.specs()} == {"smile"}
    assert result.document()["settings"] == AnalysisOptions().identity()
    assert result.model_sha256 == landmarker.model_sha256
    assert result.decoded == () and np.array_equal(result.rgb(0), load_photo(SAMPLE).rgb)
    # The analysis decoded the 512 px photo at full size: drawing can reuse those pixels.
    kept = analyze_item(ItemSpec.photo(SAMPLE, "smile"), landmarker, keep_pixels=True)
    assert kept.decoded[0].reduction == 1 and kept.rgb(0) is kept.decoded[0].rgb
    assert np.array_equal(kept.rgb(0), load_photo(SAMPLE).rgb)
    # Given the bytes, the path only names the photo.
    moved = tmp_path / "elsewhere.png"
    given = analyze_item(ItemSpec.photo(moved, "smile"), landmarker, data=[SAMPLE.read_bytes()])
    assert given.ok and np.array_equal(given.analyses[0].points_px, result.analyses[0].points_px)
    assert given.csv_row == {**result.csv_row, "file": str(moved)}


def test_a_failed_photo_is_captured_and_named(landmarker, tmp_path):
    bad = tmp_path / "bad.jpg"
    bad.write_text("not a photo")
    alone = analyze_item(ItemSpec.photo(bad), landmarker)
    assert not alone.ok and alone.analyses == () and alone.measures == () and alone.specs() == []
    (error,) = alone.errors
    assert isinstance(error.error, NotAnImageError) and isinstance(error.error, LipsymError)
    assert error.file == str(bad) and "\n" not in error.reason and str(bad) in error.reason
    assert alone.csv_row == {"file": str(bad), "status": "error", "error": error.reason}
    with pytest.raises(NotAnImageError):
        alone.raise_error()

    pair = analyze_item(ItemSpec.pair(SAMPLE, bad), landmarker)
    assert len(pair.analyses) == 1 and pair.pair is None and pair.pairs() == []
    assert pair.errors[0].file == str(bad)
    assert pair.results()[0]["file"] == str(bad)  # batch: the photo that failed
    assert pair.results(errors_by_item=True)[0]["file"] == f"{SAMPLE} + {bad}"  # lipsym analyze: the pair
    assert pair.csv_row == {"rest_file": str(SAMPLE), "smile_file": str(bad), "status": "error",
                            "error": pair.errors[0].reason}


def test_landmarker_must_match_the_options(raw_landmarker):
    with pytest.raises(ConfigurationError, match="flip-average"):
        analyze_item(ItemSpec.photo(SAMPLE), raw_landmarker, AnalysisOptions())
    options = AnalysisOptions(landmarker=LandmarkerOptions(flip_average=False))
    assert analyze_item(ItemSpec.photo(SAMPLE), raw_landmarker, options).document()["settings"]["flip_average"] is False


def test_data_must_match_the_photos(landmarker):
    with pytest.raises(ConfigurationError):
        analyze_item(ItemSpec.photo(SAMPLE), landmarker, data=[b"", b""])
