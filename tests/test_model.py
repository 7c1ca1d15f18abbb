"""The bundled model: found through importlib.resources, verified by sha256."""

import hashlib

import pytest

from lipsym.errors import ModelError
from lipsym.landmarks._model import EXPECTED_MODEL_SHA256, MODEL_ENV_VAR, load_model


def test_bundled_model_is_the_official_one():
    bundle = load_model()
    assert bundle.source == "bundled"
    assert bundle.sha256 == EXPECTED_MODEL_SHA256
    assert len(bundle.content) == 3_758_596
    assert hashlib.sha256(bundle.content).hexdigest() == EXPECTED_MODEL_SHA256


def test_wrong_model_is_refused(tmp_path):
    fake = tmp_path / "face_landmarker.task"
    fake.write_bytes(b"not a model")
    with pytest.raises(ModelError, match="sha256"):
        load_model(fake)


def test_env_var_overrides_and_is_verified(tmp_path, monkeypatch):
    copy = tmp_path / "copy.task"
    copy.write_bytes(load_model().content)
    monkeypatch.setenv(MODEL_ENV_VAR, str(copy))
    assert load_model().source == str(copy)
    copy.write_bytes(b"x" + load_model(copy, expected_sha256=None).content[1:])
    with pytest.raises(ModelError):
        load_model()


def test_missing_model_path(tmp_path):
    with pytest.raises(ModelError, match="cannot read"):
        load_model(tmp_path / "nope.task")


def test_other_model_accepted_only_when_asked(tmp_path):
    other = tmp_path / "other.task"
    other.write_bytes(b"abc")
    assert load_model(other, expected_sha256=None).sha256 == hashlib.sha256(b"abc").hexdigest()
