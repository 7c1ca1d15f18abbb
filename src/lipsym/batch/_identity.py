"""A result's identity: what was analysed (photo bytes) and how (settings, lipsym, model).

Two runs give the same identity exactly when they would compute the same
result, so a batch can reuse an output whose recorded identity matches and
must redo one whose photo content or settings changed.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any

from lipsym import __version__

#: Bump when the batch output changes in a way the other inputs do not capture.
IDENTITY_VERSION = 1


def result_identity(photo_sha256: Mapping[str, str], settings: Mapping[str, Any], model_sha256: str,
                    *, lipsym_version: str = __version__) -> str:
    """SHA-256 (hex) naming one result.

    Parameters
    ----------
    photo_sha256 : mapping of str to str
        Expression (``rest``, ``smile``, ``other``) → SHA-256 of the photo's
        bytes. The expression is part of the identity: it changes flags and
        reference bands.
    settings : mapping
        The options that change results (``AnalysisOptions.identity()``).
    model_sha256 : str
        The landmark model actually used.
    lipsym_version : str

    Returns
    -------
    str
        64 hex digits.
    """
    canonical = json.dumps({"v": IDENTITY_VERSION, "photos": dict(photo_sha256), "settings": dict(settings),
                            "model_sha256": model_sha256, "lipsym_version": lipsym_version},
                           sort_keys=True, separators=(",", ":"), allow_nan=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()
