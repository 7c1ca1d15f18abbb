"""Locate and verify the Face Landmarker model bundle.

The bundle ships inside the wheel as ``lipsym/models/face_landmarker.task``
and is read through :mod:`importlib.resources`. Another copy can be named by
the ``model_path`` argument (CLI ``--model``) or the ``LIPSYM_MODEL``
environment variable. Whatever its origin, the bytes are checked against the
expected sha256 before use, so a study never mixes models silently
(docs/reference.md §7: other MediaPipe models move lip points by
1-2.6 % of the interpupillary distance). Nothing is ever downloaded.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from lipsym.errors import ModelError

MODEL_ENV_VAR = "LIPSYM_MODEL"
MODEL_FILENAME = "face_landmarker.task"
#: sha256 of the official float16 Face Landmarker bundle (3,758,596 bytes).
EXPECTED_MODEL_SHA256 = "64184e229b263107bc2b804c6625db1341ff2bb731874b0bcc2fe6544e0bc9ff"


@dataclass(frozen=True)
class ModelBundle:
    """A verified model bundle held in memory.

    Attributes
    ----------
    content : bytes
        The bundle's bytes, exactly as verified (handed to MediaPipe as a
        buffer so the file cannot change between check and use).
    sha256 : str
        Hex digest of ``content``.
    source : str
        Where it was read from: a path, or ``"bundled"``.
    """

    content: bytes
    sha256: str
    source: str


def _read_bundled() -> bytes:
    try:
        return resources.files("lipsym.models").joinpath(MODEL_FILENAME).read_bytes()
    except (FileNotFoundError, ModuleNotFoundError) as exc:
        raise ModelError(
            f"the bundled model {MODEL_FILENAME} is missing from this installation; "
            f"reinstall lipsym or set {MODEL_ENV_VAR}"
        ) from exc


def load_model(model_path: str | os.PathLike | None = None, *,
               expected_sha256: str | None = EXPECTED_MODEL_SHA256) -> ModelBundle:
    """Read and verify the model bundle.

    Parameters
    ----------
    model_path : path-like, optional
        Explicit bundle path. Falls back to ``$LIPSYM_MODEL``, then to the
        bundled copy.
    expected_sha256 : str or None
        Required digest; ``None`` accepts any file (its digest is still
        reported in every output).

    Raises
    ------
    ModelError
        The file is missing, unreadable or has another digest.
    """
    chosen = model_path if model_path is not None else os.environ.get(MODEL_ENV_VAR) or None
    if chosen is None:
        content, source = _read_bundled(), "bundled"
    else:
        path = Path(chosen).expanduser()
        try:
            content = path.read_bytes()
        except OSError as exc:
            raise ModelError(f"cannot read model file {path}: {exc.strerror or exc}") from exc
        source = str(path)
    digest = hashlib.sha256(content).hexdigest()
    if expected_sha256 is not None and digest != expected_sha256.lower():
        raise ModelError(
            f"model {source} has sha256 {digest[:16]}…, expected {expected_sha256[:16]}… "
            "(not the official float16 face_landmarker.task)"
        )
    return ModelBundle(content=content, sha256=digest, source=source)
