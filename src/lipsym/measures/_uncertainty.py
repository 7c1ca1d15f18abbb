"""Landmark standard errors of the measures, calibrated on lipsym's own benchmark.

Each sided measure's asymmetry carries a standard error with two parts:

- the landmark part: how much the asymmetry moves when the same face is
  photographed again with sub-pixel shifts, ±5 % rescaling and JPEG
  re-encoding. ``benchmarks/validate.py --write-calibration`` measures it on
  the London photos as the pooled within-face SD, relative to the
  interpupillary distance (IPD² for areas; degrees for angles), and stores it
  in ``lipsym/measures/uncertainty.json``. Relative to the IPD, it transfers to
  any photo resolution and face size;
- the scale part: the relative uncertainty of mm per pixel, which scales the
  asymmetry proportionally (added in :func:`lipsym.measures.sided`).

The landmark part is a lower bound of the error against a manual annotation
(it does not contain the model's systematic error on a given face) and the
right noise level for comparing two photos of the same face: see
docs/accuracy.md "Standard errors" for both figures.
"""

from __future__ import annotations

import json
from functools import lru_cache
from importlib import resources

from lipsym.errors import ModelError

CALIBRATION_FILE = "uncertainty.json"


@lru_cache(maxsize=1)
def _calibration() -> dict:
    try:
        text = resources.files("lipsym.measures").joinpath(CALIBRATION_FILE).read_text()
    except (FileNotFoundError, OSError) as exc:  # a broken installation, not a user error
        raise ModelError(f"lipsym's uncertainty calibration is missing ({CALIBRATION_FILE}): reinstall lipsym") from exc
    return json.loads(text)


def landmark_sd(key: str, ipd_px: float, power: int = 1) -> float:
    """Landmark standard error of a measure's asymmetry, in px**power (degrees for angles).

    Parameters
    ----------
    key : str
        Measure key, e.g. ``"commissure_height"``.
    ipd_px : float
        Interpupillary distance of the photo, px.
    power : {0, 1, 2}
        0 for angles (scale-free), 1 for lengths, 2 for areas.

    Returns
    -------
    float
        0.0 for a key the calibration does not know.
    """
    return _calibration()["sd_rel_ipd"].get(key, 0.0) * ipd_px ** power


def sensitivity_sd(key: str) -> float:
    """Relative SD of the measured size of an asymmetry (dimensionless).

    How much the recovered fraction of a planted asymmetry varies between
    faces (benchmarks/validate.py sensitivity, SD / planted at 2 mm): an
    asymmetry ``A`` carries an extra standard error ``|A| · sensitivity_sd``.
    0.0 for a key the benchmark does not plant.
    """
    return _calibration().get("sensitivity_rel_sd", {}).get(key, 0.0)


def weak_evidence_sd(key: str, ipd_px: float, power: int = 1) -> float:
    """Extra standard error of a measure's asymmetry when its refinement's image evidence was weak, px**power.

    The RMS difference from the manual points' asymmetry on the London
    faces whose evidence was weak (the Cupid's bow), or of MediaPipe's
    asymmetry on all London faces where the refinement falls back to it
    (the commissures' height): ``weak_evidence_sd_rel_ipd`` in
    ``uncertainty.json``, relative to the IPD. 0.0 for a key not calibrated.

    Parameters
    ----------
    key : str
        Measure key.
    ipd_px : float
        Interpupillary distance of the photo, px.
    power : {1, 2}
        1 for lengths, 2 for areas.
    """
    return _calibration().get("weak_evidence_sd_rel_ipd", {}).get(key, 0.0) * ipd_px ** power
