"""The registry of measures: one entry per measure lipsym produces.

Each measure's key, kind, unit, display name, definition, sign meaning and
reference band is written here once. The measure modules take their units
and descriptions from it; the JSON document, the CSV columns, the store's
measure rows, the report tables and the band texts are generated from it
(:mod:`lipsym.formats`, :mod:`lipsym.report`). Adding a measure means adding
its entry here; a test checks that the registry and the outputs agree.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

#: Kinds of measure: ``sided`` (right, left and their asymmetry, per photo),
#: ``scalar`` (one number per photo), ``composite`` (the composite score) and
#: ``dynamic`` (a sided rest → smile movement of a pair).
KINDS = ("sided", "scalar", "composite", "dynamic")

#: Units as printed in tables and texts (the key is the unit as stored).
UNIT_LABELS: Mapping[str, str] = MappingProxyType({"mm2": "mm²", "deg": "°"})

#: Registry key of the composite score (also its store row name).
COMPOSITE_KEY = "composite"

#: How the composite score is computed (written in the JSON beside its value).
COMPOSITE_FORMULA = "sqrt(mean((asymmetry_i / threshold_i)^2))"

#: Length units, whose asymmetry is also given as % of the interpupillary distance.
_LENGTH_UNIT = "mm"


@dataclass(frozen=True)
class MeasureInfo:
    """What one measure is: its names, unit and meaning.

    Attributes
    ----------
    key : str
        Stable name, e.g. ``"commissure_height"``; the JSON key, the stem of
        its CSV columns and store rows.
    kind : {"sided", "scalar", "composite", "dynamic"}
    unit : str
        ``"mm"``, ``"mm2"``, ``"deg"`` or ``"1"`` (dimensionless).
    display_name : str
        The measure in words, for tables and reports.
    definition : str
        What is measured (per side for sided measures).
    sign : str or None
        What a positive value (sided: a positive left − right asymmetry)
        means; None when the value is a magnitude.
    band : str or None
        Name of the reference band that places its asymmetry
        (:mod:`lipsym.measures._bands`), or None.
    has_ratio : bool
        A min/max ratio of the sides is reported (positive quantities).
    agreement : str or None
        How closely its asymmetry follows manual reference points
        (:data:`AGREEMENT_TIERS`), or None when it was not compared with
        any (scalars, movements).
    """

    key: str
    kind: str
    unit: str
    display_name: str
    definition: str
    sign: str | None = None
    band: str | None = None
    has_ratio: bool = False
    agreement: str | None = None

    @property
    def is_sided(self) -> bool:
        """Right, left and asymmetry (a photo's sided measure or a pair's movement)."""
        return self.kind in ("sided", "dynamic")

    @property
    def has_pct_ipd(self) -> bool:
        """The asymmetry is also given as % of the interpupillary distance (sided lengths)."""
        return self.is_sided and self.unit == _LENGTH_UNIT

    @property
    def description(self) -> str:
        """Definition and sign meaning in one sentence, as written in the JSON."""
        if self.sign is None:
            return self.definition
        return f"{self.definition}; {'asymmetry > 0' if self.is_sided else '> 0'}: {self.sign}"


#: How closely a sided measure's asymmetry (left − right) follows the manual FRL-189 points of the
#: two development sets, London (34 faces) and 3DSK (50): tier → what it means for a reader. The
#: tier is set by the lower of the two sets' r (lipsym on the manual value; docs/measures.md "How far
#: to trust each asymmetry"), and tests/test_agreement_real.py checks it against the r it measures.
#: The bounds (:data:`AGREEMENT_BOUNDS`) are round labels, not chosen on data.
AGREEMENT_TIERS: Mapping[str, str] = MappingProxyType({
    "close": "follows manual reference points closely on both development sets (r ≥ 0.9)",
    "partial": "follows manual reference points only in part (r 0.6-0.9 on a development set)",
    "none": "does not follow manual reference points (r below 0.6): not for decisions",
})
#: Lower bounds of r for "close" and "partial" (below: "none").
AGREEMENT_BOUNDS = (0.9, 0.6)


def agreement_tier(r: float) -> str:
    """The :data:`AGREEMENT_TIERS` key of a correlation with the manual reference (the lower set's)."""
    close, partial = AGREEMENT_BOUNDS
    return "close" if r >= close else "partial" if r >= partial else "none"


def _sided(key, unit, display_name, definition, sign, agreement, *, band=None, ratio=True) -> MeasureInfo:
    return MeasureInfo(key, "sided", unit, display_name, definition, sign, band, ratio, agreement)


def _scalar(key, unit, display_name, definition, sign=None) -> MeasureInfo:
    return MeasureInfo(key, "scalar", unit, display_name, definition, sign)


#: Rest → smile movement: tracked point stem → its name in words.
MOVING_POINTS: Mapping[str, str] = MappingProxyType({"cheilion": "cheilion", "crista_philtri": "crista philtri"})
#: Movement components: key suffix → what is measured.
MOVEMENT_COMPONENTS: Mapping[str, str] = MappingProxyType({
    "movement": "distance moved", "lift": "upward movement", "outward": "movement away from the midline"})


def _dynamic() -> list[MeasureInfo]:
    # Only the magnitude has a ratio: the lift and outward components are signed.
    return [MeasureInfo(f"{stem}_{suffix}", "dynamic", "mm", f"{words} {suffix}",
                        f"{what} of the {words} from rest to smile", "the left moves more", None,
                        suffix == "movement")
            for stem, words in MOVING_POINTS.items() for suffix, what in MOVEMENT_COMPONENTS.items()]


_VERMILION_FULLER = "left is fuller"

_ENTRIES = [
    # commissures (lipsym.measures._commissures)
    _sided("commissure_height", "mm", "commissure height",
           "height of each cheilion relative to the interpupillary line (negative = below)",
           "the subject's left corner is higher", "close", band="commissure_height", ratio=False),
    _sided("commissure_lateral", "mm", "commissure lateral",
           "horizontal distance of each cheilion from the facial midline",
           "the left corner is further from the midline", "close"),
    _sided("commissure_excursion", "mm", "commissure excursion",
           "distance from the lower-lip midline point to each cheilion (Emotrics CE)",
           "the left excursion is longer", "close"),
    _sided("smile_angle", "deg", "smile angle",
           "90° + asin(height of the cheilion above the lower-lip midline point / CE)",
           "the left corner is turned up more", "partial", ratio=False),
    _sided("endocanthion_cheilion", "mm", "endocanthion cheilion",
           "distance from the inner eye corner to the mouth corner on each side; "
           "its |asymmetry| is the Facial Asymmetry Index (Malm 2018)", "the left distance is longer", "partial"),
    # Cupid's bow (lipsym.measures._cupids_bow)
    # Its asymmetry is bow_peak_height's (labrale superius lies on the midline and cancels), hence its tier.
    _sided("bow_peak_height_above_labrale_superius", "mm", "Cupid's bow peak height above labrale superius",
           "height of each Cupid's bow peak above labrale superius", "the left peak rises more", "partial",
           band="upper_lip_vertical", ratio=False),
    _sided("bow_peak_offset", "mm", "Cupid's bow peak offset",
           "horizontal distance of each Cupid's bow peak from the facial midline", "the left peak is further out",
           "close"),
    _sided("bow_peak_height", "mm", "Cupid's bow peak height",
           "height of each Cupid's bow peak relative to the interpupillary line (negative = below)",
           "the left peak is higher", "partial", band="upper_lip_vertical", ratio=False),
    # vermilion (lipsym.measures._vermilion)
    _sided("upper_vermilion_height_mid", "mm", "upper vermilion height (mid-hemilip)",
           "upper vermilion height halfway between midline and cheilion", _VERMILION_FULLER, "partial",
           band="upper_lip_vertical"),
    _sided("lower_vermilion_height_mid", "mm", "lower vermilion height (mid-hemilip)",
           "lower vermilion height halfway between midline and cheilion", _VERMILION_FULLER, "partial"),
    _sided("upper_vermilion_height_peak", "mm", "upper vermilion height peak",
           # No band: the reference range would lend a reading that does not follow the manual points
           # (docs/measures.md) a meaning it has not earned.
           "upper vermilion height below each Cupid's bow peak", _VERMILION_FULLER, "none"),
    _sided("lower_vermilion_height_peak", "mm", "lower vermilion height peak",
           "lower vermilion height below each Cupid's bow peak", _VERMILION_FULLER, "none"),
    _sided("upper_hemi_vermilion_area", "mm2", "upper hemi vermilion area",
           "upper vermilion area on each side of the midline", "left is larger", "partial"),
    _sided("lower_hemi_vermilion_area", "mm2", "lower hemi vermilion area",
           "lower vermilion area on each side of the midline", "left is larger", "close"),
    # scalars
    _scalar("lip_cant", "deg", "lip cant",
            "angle of the cheilion-to-cheilion line against the interpupillary line",
            "the subject's left corner is higher"),
    _scalar("facial_asymmetry_index", "mm", "facial asymmetry index",
            "|d(endocanthion_R, cheilion_R) − d(endocanthion_L, cheilion_L)| (Malm et al. 2018)"),
    _scalar("bow_width", "mm", "bow width", "distance between the two Cupid's bow peaks"),
    # absolute lip measures (lipsym.measures._absolute): the size of the lips, not their asymmetry
    _scalar("intercommissural_width", "mm", "intercommissural width",
            "distance from cheilion to cheilion (mouth width)"),
    _scalar("upper_vermilion_height_midline", "mm", "upper vermilion height (midline)",
            "upper vermilion height where the lip contours cross the facial midline (labrale superius to the "
            "upper lip's inner contour), along the frame's vertical"),
    _scalar("lower_vermilion_height_midline", "mm", "lower vermilion height (midline)",
            "lower vermilion height where the lip contours cross the facial midline (the lower lip's inner "
            "contour to labrale inferius), along the frame's vertical"),
    _scalar("upper_vermilion_height_mid_mean", "mm", "upper vermilion height (mid-hemilip, mean)",
            "mean of the right and left upper vermilion heights at mid-hemilip "
            "(the sides are upper_vermilion_height_mid)"),
    _scalar("lower_vermilion_height_mid_mean", "mm", "lower vermilion height (mid-hemilip, mean)",
            "mean of the right and left lower vermilion heights at mid-hemilip "
            "(the sides are lower_vermilion_height_mid)"),
    _scalar("upper_lower_vermilion_ratio", "1", "upper:lower vermilion ratio",
            "upper over lower vermilion height at the midline (> 1: the upper lip is the taller)"),
    _scalar("philtrum_length", "mm", "philtrum length", "distance from subnasale to labrale superius"),
    _scalar("upper_vermilion_area", "mm2", "upper vermilion area",
            "area of the upper vermilion (sum of the hemi-areas, upper_hemi_vermilion_area)"),
    _scalar("lower_vermilion_area", "mm2", "lower vermilion area",
            "area of the lower vermilion (sum of the hemi-areas, lower_hemi_vermilion_area)"),
    MeasureInfo(COMPOSITE_KEY, "composite", "1", "composite asymmetry score",
                f"{COMPOSITE_FORMULA} over the composite's components (lipsym.measures._composite); "
                "0 = symmetric, 1 = on average at the noticeable thresholds"),
    *_dynamic(),
]

#: Every measure lipsym produces, by key, in output order (read-only).
REGISTRY: Mapping[str, MeasureInfo] = MappingProxyType({m.key: m for m in _ENTRIES})


def measure_info(key: str) -> MeasureInfo:
    """The registry entry of a measure.

    Raises
    ------
    KeyError
        ``key`` is not a measure lipsym produces.
    """
    return REGISTRY[key]


def measures_of_kind(kind: str) -> tuple[MeasureInfo, ...]:
    """The registered measures of one kind, in registry order."""
    if kind not in KINDS:
        raise ValueError(f"unknown measure kind {kind!r}; expected one of {KINDS}")
    return tuple(m for m in REGISTRY.values() if m.kind == kind)


def scale_power(unit: str) -> int:
    """How a value in ``unit`` scales with the photo's mm per px: 1 for lengths, 2 for areas, 0 otherwise.

    Examples
    --------
    >>> scale_power("mm"), scale_power("mm2"), scale_power("deg")
    (1, 2, 0)
    """
    return {"mm": 1, "mm2": 2}.get(unit, 0)


def unit_label(unit: str) -> str:
    """A unit as printed ('mm2' → 'mm²', 'deg' → '°')."""
    return UNIT_LABELS.get(unit, unit)


def display_name(key: str) -> str:
    """A measure's name in words; an unregistered key (e.g. from an older record) with its underscores spaced."""
    info = REGISTRY.get(key)
    return info.display_name if info is not None else key.replace("_", " ")
