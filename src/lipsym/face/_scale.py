"""Pixel-to-millimetre scale: from the iris, or from the user's calibration.

Default: the horizontal visible iris diameter (HVID) of adults is
11.71 ± 0.42 mm (Rüfer, Schröder & Erb, Cornea 2005;24:259-261, n = 390),
so mm/px = 11.7 / HVID_px with HVID_px measured between the horizontal iris
edge landmarks (469-471 right, 474-476 left). A population constant carries
about ±3.6 % per-person scale error; it is reported as the scale's relative
uncertainty and propagated to every mm value. A known interpupillary
distance or a direct mm/px calibration replaces it.

Scales are values: converting a measure makes a new number, nothing is
converted in place.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from lipsym.errors import ConfigurationError, MeasurementError

DEFAULT_IRIS_DIAMETER_MM = 11.7
#: Between-person SD of HVID / mean (0.42 / 11.71 mm, Rüfer et al. 2005).
IRIS_POPULATION_RELATIVE_SD = 0.42 / 11.71
IRIS_EDGES_RIGHT = (469, 471)
IRIS_EDGES_LEFT = (474, 476)

#: Adult horizontal visible iris diameters, mm: Rüfer et al. 2005 (11.71 ± 0.42 mm, n = 390) give
#: about 10.0-13.4 mm at ±4 SD; above ~13 mm is megalocornea. A value outside is almost always a
#: typo (``117`` for ``11.7``); a real eye outside needs ``force``. docs/reference.md §2.
PLAUSIBLE_IRIS_DIAMETER_MM = (10.0, 13.5)
#: Adult interpupillary distances, mm: mean about 63 mm, extremes about 50-80 mm (Dodgson,
#: Proc. SPIE 5291, 2004, n = 3976). Children's are smaller (about 40-55 mm): give ``force``.
PLAUSIBLE_IPD_MM = (50.0, 80.0)


@dataclass(frozen=True)
class Calibration:
    """A user's scale calibration; give exactly one of the two quantities.

    Attributes
    ----------
    interpupillary_distance_mm : float or None
        The subject's measured interpupillary distance.
    mm_per_px : float or None
        A direct scale (e.g. from a ruler in the photo).
    relative_uncertainty : float
        Relative standard uncertainty of the calibration (e.g. 0.01 for 1 %).
    """

    interpupillary_distance_mm: float | None = None
    mm_per_px: float | None = None
    relative_uncertainty: float = 0.01

    def __post_init__(self):
        given = [v for v in (self.interpupillary_distance_mm, self.mm_per_px) if v is not None]
        if len(given) != 1:
            raise ConfigurationError("calibration needs exactly one of interpupillary distance (mm) or mm per pixel")
        if not all(math.isfinite(v) and v > 0 for v in given):
            raise ConfigurationError(f"calibration value must be a positive number, got {given[0]}")
        if not (math.isfinite(self.relative_uncertainty) and 0 <= self.relative_uncertainty < 1):
            raise ConfigurationError("calibration relative uncertainty must be in [0, 1)")

    def implausibility(self) -> str | None:
        """Why the calibration is implausible for an adult face, or None.

        Only an interpupillary distance has a range (:data:`PLAUSIBLE_IPD_MM`);
        a direct mm/px depends on the camera and distance.
        """
        ipd = self.interpupillary_distance_mm
        return None if ipd is None else _outside(ipd, PLAUSIBLE_IPD_MM, "interpupillary distance", "adults")


@dataclass(frozen=True)
class Scale:
    """Millimetres per pixel of one photo (or of a rest/smile pair).

    Attributes
    ----------
    mm_per_px : float
    source : str
        ``"iris"``, ``"calibration_ipd"`` or ``"calibration_mm_per_px"``.
    relative_uncertainty : float
        Relative standard uncertainty of ``mm_per_px`` (e.g. 0.036).
    iris_diameter_px : float or None
        Mean horizontal iris diameter measured (iris source), photo pixels.
    reference_mm : float or None
        The reference length used (iris diameter or IPD, mm).
    """

    mm_per_px: float
    source: str
    relative_uncertainty: float
    iris_diameter_px: float | None = None
    reference_mm: float | None = None

    def mm(self, value_px: float | np.ndarray) -> float | np.ndarray:
        """Convert a length (px) to mm."""
        return value_px * self.mm_per_px

    def mm2(self, area_px2: float | np.ndarray) -> float | np.ndarray:
        """Convert an area (px²) to mm²."""
        return area_px2 * self.mm_per_px ** 2


def _outside(value_mm: float, bounds_mm: tuple[float, float], what: str, whose: str) -> str | None:
    low, high = bounds_mm
    if low <= value_mm <= high:
        return None
    return f"{what} {value_mm:g} mm is outside {low:g}-{high:g} mm ({whose}); a typo?"


def scale_implausibility(iris_diameter_mm: float, calibration: Calibration | None = None) -> str | None:
    """Why the scale inputs are implausible for an adult face, or None.

    The calibration, when given, replaces the iris diameter, so only it is
    checked then. The ranges (:data:`PLAUSIBLE_IRIS_DIAMETER_MM`,
    :data:`PLAUSIBLE_IPD_MM`) catch typos such as ``620`` for ``62.0``,
    which would otherwise scale every measure by ten; a caller that knows
    the value is right skips the check (``lipsym ... --force``).

    Parameters
    ----------
    iris_diameter_mm : float
        Assumed horizontal visible iris diameter.
    calibration : Calibration, optional

    Returns
    -------
    str or None
        One line naming the value, its range and whose range it is.

    Examples
    --------
    >>> scale_implausibility(11.7) is None
    True
    >>> scale_implausibility(11.7, Calibration(interpupillary_distance_mm=620))
    'interpupillary distance 620 mm is outside 50-80 mm (adults); a typo?'
    """
    if calibration is not None:
        return calibration.implausibility()
    return _outside(iris_diameter_mm, PLAUSIBLE_IRIS_DIAMETER_MM, "iris diameter", "adult horizontal iris")


def iris_diameters_px(points_px: np.ndarray) -> tuple[float, float]:
    """Horizontal iris diameters (right, left) of the subject, pixels.

    Parameters
    ----------
    points_px : ndarray, shape (478, 2 or 3)
    """
    pts = np.asarray(points_px, dtype=np.float64)[:, :2]
    right = float(np.linalg.norm(pts[IRIS_EDGES_RIGHT[0]] - pts[IRIS_EDGES_RIGHT[1]]))
    left = float(np.linalg.norm(pts[IRIS_EDGES_LEFT[0]] - pts[IRIS_EDGES_LEFT[1]]))
    return right, left


def check_iris_diameter_mm(iris_diameter_mm: float) -> None:
    """Refuse an iris diameter that is no length of an eye at all (not finite, <= 0, >= 30 mm).

    Raises
    ------
    ConfigurationError
    """
    if not (math.isfinite(iris_diameter_mm) and 0 < iris_diameter_mm < 30):
        # No --force can accept it (it is no eye's size), so the message says what a length must be.
        raise ConfigurationError(f"iris diameter {iris_diameter_mm:g} mm is not the size of an eye's iris "
                                 "(more than 0 and less than 30 mm; adults 10-13.5 mm)")


def scale_from_iris(points_px: np.ndarray, iris_diameter_mm: float = DEFAULT_IRIS_DIAMETER_MM,
                    iris_relative_sd: float = IRIS_POPULATION_RELATIVE_SD) -> Scale:
    """Scale from the mean horizontal iris diameter.

    The relative uncertainty combines the population spread of the iris
    diameter with the disagreement between the two eyes (a per-photo
    measurement error estimate: SE of a two-sample mean, |dR - dL| / 2).

    Parameters
    ----------
    points_px : ndarray, shape (478, 2 or 3)
    iris_diameter_mm : float
        Assumed horizontal visible iris diameter.
    iris_relative_sd : float
        Relative uncertainty of that diameter for this subject: the
        population spread by default; smaller when it was measured.
    """
    check_iris_diameter_mm(iris_diameter_mm)
    right, left = iris_diameters_px(points_px)
    mean = 0.5 * (right + left)
    if not mean > 0:
        raise MeasurementError("iris diameter is zero: the iris is not measurable")
    measurement_rel = abs(right - left) / 2 / mean
    return Scale(
        mm_per_px=iris_diameter_mm / mean,
        source="iris",
        relative_uncertainty=math.hypot(iris_relative_sd, measurement_rel),
        iris_diameter_px=mean,
        reference_mm=iris_diameter_mm,
    )


def scale_from_calibration(calibration: Calibration, interpupillary_distance_px: float) -> Scale:
    """Scale from a user calibration.

    Parameters
    ----------
    calibration : Calibration
    interpupillary_distance_px : float
        The photo's interpupillary distance (used with an IPD calibration).
    """
    if calibration.mm_per_px is not None:
        return Scale(calibration.mm_per_px, "calibration_mm_per_px", calibration.relative_uncertainty)
    return Scale(
        mm_per_px=calibration.interpupillary_distance_mm / interpupillary_distance_px,
        source="calibration_ipd",
        relative_uncertainty=calibration.relative_uncertainty,
        reference_mm=calibration.interpupillary_distance_mm,
    )
