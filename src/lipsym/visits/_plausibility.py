"""Plausibility of what a user records: doses, visit dates, patient codes.

The store's validation (:mod:`lipsym.visits.store._validate`) refuses what
cannot be stored (an unknown unit, a malformed date). These checks refuse
what can be stored but is almost certainly a mistake: ``50 mL`` of lip
filler, a visit dated years ahead, a patient "code" that is a person's name
in a record that promises pseudonymous codes. A real case can fall outside
(a large-volume correction, a deliberate code), so each check returns a
one-line reason instead of raising, and the caller decides: the CLI refuses
unless ``--force`` is given.

Each function returns ``None`` when the value is plausible.
"""

from __future__ import annotations

import datetime as _dt
import math
import re

#: Plausible total dose of one treatment record, by (product type, unit): (low, high).
#: HA filler in the lips and perioral region: 0.1-2 mL a session is usual, staged corrections
#: rarely exceed 3-4 mL (a 1 mL syringe is the common unit). Neuromodulator (onabotulinumtoxinA
#: units): a lip flip is 4-10 U (docs/reference.md §1 gives 6-8 U as typical), perioral and lower-face
#: treatments (DAO, mentalis, orbicularis) add tens of units; 100 U covers a full-face session, and
#: abobotulinumtoxinA's larger unit (about 2.5x) stays under it for perioral doses.
DOSE_RANGES = {
    ("ha_filler", "mL"): (0.01, 5.0),
    ("neuromodulator", "U"): (0.5, 100.0),
}

#: Patient codes without a digit made of name-like words ("Jane Doe", "doe, jane", "Smith").
_NAME_WORD = re.compile(r"^[^\W\d_]{2,}$")
_SEPARATORS = re.compile(r"[\s,._-]+")


def dose_implausibility(product_type: str, dose_value: float, dose_unit: str) -> str | None:
    """Why a treatment's dose is implausible, or None.

    Parameters
    ----------
    product_type : str
        Canonical type (``ha_filler``, ``neuromodulator``, ``other``); other
        types have no range.
    dose_value : float
        Total dose of the record (or of one injection site).
    dose_unit : str
        Canonical unit (``mL`` or ``U``).

    Examples
    --------
    >>> dose_implausibility("ha_filler", 1.0, "mL") is None
    True
    >>> dose_implausibility("ha_filler", 50, "mL")
    'a ha_filler dose of 50 mL is outside 0.01-5 mL'
    >>> dose_implausibility("neuromodulator", 400, "U")
    'a neuromodulator dose of 400 U is outside 0.5-100 U'
    """
    if (product_type, dose_unit) not in DOSE_RANGES or not (
            isinstance(dose_value, (int, float)) and math.isfinite(dose_value) and dose_value > 0):
        # No range for this type, or no valid dose at all (a filler in U, a negative dose): the store refuses those.
        return None
    low, high = DOSE_RANGES[(product_type, dose_unit)]
    if low <= dose_value <= high:
        return None
    return f"a {product_type} dose of {dose_value:g} {dose_unit} is outside {low:g}-{high:g} {dose_unit}"


def visit_date_implausibility(visit_date: _dt.date | str, today: _dt.date | None = None) -> str | None:
    """Why a visit date is implausible (after today), or None.

    Parameters
    ----------
    visit_date : date or str (YYYY-MM-DD)
        A string that is not a date is left to the store's validation.
    today : date, optional
        Default: the local date. One day of grace allows for time zones.

    Examples
    --------
    >>> visit_date_implausibility("2031-01-02", today=_dt.date(2026, 1, 1))
    'visit date 2031-01-02 is in the future (today is 2026-01-01)'
    """
    if isinstance(visit_date, str):
        try:
            visit_date = _dt.date.fromisoformat(visit_date.strip())
        except ValueError:
            return None
    today = today or _dt.date.today()
    if visit_date <= today + _dt.timedelta(days=1):
        return None
    return f"visit date {visit_date.isoformat()} is in the future (today is {today.isoformat()})"


def patient_code_implausibility(identifier: str) -> str | None:
    """Why a patient identifier looks like a person's name, or None.

    The record keeps pseudonymous codes (``P001``, ``site2-017``). A code
    with no digit whose words are all letters (``Jane Doe``, ``doe,jane``)
    or one capitalised word (``Smith``) looks like a name. Codes with a
    digit, and all-capital or all-lower-case single words (``ABC``,
    ``control``), pass.

    Examples
    --------
    >>> patient_code_implausibility("P001") is None, patient_code_implausibility("ABC") is None
    (True, True)
    >>> patient_code_implausibility("Jane Doe")
    "patient code 'Jane Doe' looks like a person's name; the record keeps pseudonymous codes such as P001"
    """
    text = identifier.strip()
    if any(c.isdigit() for c in text):
        return None
    words = [w for w in _SEPARATORS.split(text) if w]
    name_like = bool(words) and all(_NAME_WORD.match(w) for w in words)
    if not name_like or (len(words) == 1 and not (text[0].isupper() and text[1:].islower())):
        return None
    return (f"patient code {identifier!r} looks like a person's name; "
            "the record keeps pseudonymous codes such as P001")
