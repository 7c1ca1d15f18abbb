"""Typical duration of effect of lip treatments: REFERENCE ranges, not measurements.

Shown on ``lipsym track`` so that a follow-up can be read against the
expected course of the product, and always labelled as literature
reference ranges, never as something lipsym measured for this patient.

Source: docs/reference.md §1 — hyaluronic-acid filler lasts about
6 months or more; neuromodulators 3-4 months; a "lip flip" (a small
neuromodulator dose, typically 6-8 units, in the upper lip) 2-3 months.
"""

from __future__ import annotations

from dataclasses import dataclass

from lipsym.visits.store import Treatment

SOURCE = "docs/reference.md §1"

_DAYS_PER_MONTH = 30.44
#: Largest total dose (U) still read as a lip flip when the sites are in the upper lip.
LIP_FLIP_MAX_DOSE_U = 8.0
_LIP_FLIP_REGIONS = frozenset({"upper_lip", "vermilion_border", "orbicularis_oris", "cupids_bow"})


@dataclass(frozen=True)
class TypicalDuration:
    """Expected duration of effect of a kind of treatment (reference range).

    Attributes
    ----------
    label : str
        ``"HA filler"``, ``"neuromodulator"`` or ``"lip flip"``.
    min_days : float
    max_days : float or None
        None: open-ended ("or more").
    text : str
        The range as the source states it.
    """

    label: str
    min_days: float
    max_days: float | None
    text: str


HA_FILLER = TypicalDuration("HA filler", 6 * _DAYS_PER_MONTH, None, "about 6 months or more")
NEUROMODULATOR = TypicalDuration("neuromodulator", 3 * _DAYS_PER_MONTH, 4 * _DAYS_PER_MONTH, "3-4 months")
LIP_FLIP = TypicalDuration("lip flip", 2 * _DAYS_PER_MONTH, 3 * _DAYS_PER_MONTH, "2-3 months")


def is_lip_flip(treatment: Treatment) -> bool:
    """A neuromodulator named a lip flip, or a small dose (≤ 8 U) injected only in the upper lip."""
    if treatment.product_type != "neuromodulator":
        return False
    words = " ".join(t or "" for t in (treatment.technique, treatment.notes, treatment.product_name)).lower()
    if "lip flip" in words or "lip-flip" in words:
        return True
    regions = {s.region for s in treatment.sites}
    return bool(regions) and regions <= _LIP_FLIP_REGIONS and treatment.dose_value <= LIP_FLIP_MAX_DOSE_U


def typical_duration(treatment: Treatment) -> TypicalDuration | None:
    """The reference duration of a treatment's product type, or None (type ``other``)."""
    if treatment.product_type == "ha_filler":
        return HA_FILLER
    if treatment.product_type == "neuromodulator":
        return LIP_FLIP if is_lip_flip(treatment) else NEUROMODULATOR
    return None
