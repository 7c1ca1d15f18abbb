"""The benign re-processings a photo's measures are expected to survive.

The calibration of lipsym's standard errors (``benchmarks/validate.py``,
repeatability) and the fuzz benchmark's noise level for one photo
(``benchmarks/fuzz_measured.py``) both use these: two sub-pixel shifts, a
±5 % rescale and two JPEG re-encodings, what photographing the same face
again changes at the least.
"""

from __future__ import annotations

import io

import cv2
import numpy as np
from PIL import Image


def perturbations(rgb: np.ndarray) -> dict[str, np.ndarray]:
    """Six re-processed versions of ``rgb`` (shape (h, w, 3), uint8), by name."""
    h, w = rgb.shape[:2]
    out = {}
    for name, (dx, dy) in {"shift_0.5_0": (0.5, 0.0), "shift_0.25_0.5": (0.25, 0.5)}.items():
        m = np.float32([[1, 0, dx], [0, 1, dy]])
        out[name] = cv2.warpAffine(rgb, m, (w, h), flags=cv2.INTER_CUBIC, borderMode=cv2.BORDER_REFLECT)
    for f in (0.95, 1.05):
        out[f"scale_{f}"] = cv2.resize(rgb, (round(w * f), round(h * f)),
                                       interpolation=cv2.INTER_AREA if f < 1 else cv2.INTER_CUBIC)
    for q in (90, 75):
        buf = io.BytesIO()
        Image.fromarray(rgb).save(buf, format="JPEG", quality=q)
        out[f"jpeg_{q}"] = np.asarray(Image.open(io.BytesIO(buf.getvalue())).convert("RGB"))
    return out
