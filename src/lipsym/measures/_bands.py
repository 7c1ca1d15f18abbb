"""Reference bands from the literature, worded as reference ranges.

A band places a measured asymmetry among published perception and
normal-variation figures. It is decision support, not a diagnosis.

Sources:
- Lip cant / commissure height difference at rest: 0-1 mm rated normal;
  above 1-2 mm experts notice; above 3 mm laypeople and experts rate it
  unacceptable (perception studies summarised in docs/reference.md,
  "Reference bands").
- Upper-lip vertical asymmetry above 2.5 mm affects smile aesthetics
  (Batwa et al. 2013).
- Healthy social smiles: commissure L−R −0.56 mm, limits of agreement
  −3.85 to +2.71 mm (3D, Angle Orthod 87:96).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from lipsym.measures._registry import REGISTRY, unit_label


@dataclass(frozen=True)
class Band:
    """Where a value falls among reference ranges.

    Attributes
    ----------
    label : str
        Short machine-readable label.
    text : str
        One sentence for people, worded as a reference range.
    source : str
    """

    label: str
    text: str
    source: str


_CANT_SOURCE = "lip cant perception studies (docs/reference.md, Reference bands)"
_BATWA = "Batwa et al. 2013"
_SMILE_SOURCE = "3D social smile, Angle Orthod 87:96"


def commissure_height_band(asymmetry_mm: float, expression: str, mm: str = "mm") -> Band:
    """Band of a commissure height asymmetry (mm) at rest or in smile; ``mm`` is the unit as printed."""
    a = abs(asymmetry_mm)
    if expression == "smile":
        where = "within" if -3.85 <= asymmetry_mm <= 2.71 else "outside"
        return Band(f"{where}_healthy_smile_range",
                    f"{round(asymmetry_mm, 1) or 0.0:+.1f} {mm} lies {where} the limits of agreement of healthy smiles "
                    f"(−3.85 to +2.71 {mm})", _SMILE_SOURCE)
    if a <= 1.0:
        return Band("normal_variation", f"{a:.1f} {mm}: within 0-1 {mm}, the range rated normal", _CANT_SOURCE)
    if a <= 2.0:
        return Band("expert_noticeable", f"{a:.1f} {mm}: within 1-2 {mm}, where experts begin to notice",
                    _CANT_SOURCE)
    if a <= 3.0:
        return Band("noticeable", f"{a:.1f} {mm}: within 2-3 {mm}, commonly noticed", _CANT_SOURCE)
    return Band("rated_unacceptable", f"{a:.1f} {mm}: above 3 {mm}, rated unacceptable by laypeople and experts",
                _CANT_SOURCE)


def upper_lip_vertical_band(asymmetry_mm: float, expression: str = "rest", mm: str = "mm") -> Band:
    """Band of an upper-lip vertical asymmetry (Cupid's bow, upper vermilion), mm, at any expression."""
    a = abs(asymmetry_mm)
    where = "at or below" if a <= 2.5 else "above"
    return Band("below_aesthetic_threshold" if a <= 2.5 else "above_aesthetic_threshold",
                f"{a:.1f} {mm}: {where} 2.5 {mm}, the level reported to affect smile aesthetics", _BATWA)


#: Band name (:attr:`lipsym.measures._registry.MeasureInfo.band`) → band of an asymmetry at an expression.
BANDS: dict[str, Callable[[float, str, str], Band]] = {
    "commissure_height": commissure_height_band,
    "upper_lip_vertical": upper_lip_vertical_band,
}


def band_for(key: str, asymmetry: float, expression: str) -> Band | None:
    """The band of a sided measure's asymmetry, or None when its registry entry names none."""
    info = REGISTRY.get(key)
    if info is None or info.band is None:
        return None
    return BANDS[info.band](asymmetry, expression, unit_label(info.unit))
