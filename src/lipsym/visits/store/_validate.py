"""Argument checks shared by the store modules.

Every check raises :class:`~lipsym.errors.ConfigurationError` with a one-line
message naming the argument and the accepted values. They run before any
write, so an invalid call never starts a transaction; the schema's CHECK
constraints are a second line of defence, not the user-facing one.

The vocabularies that may grow (visit kinds, product types, regions) are
checked here only, not in the schema, so extending them needs no table
rebuild.
"""

from __future__ import annotations

import datetime as _dt
import math
import numbers
import re
from collections.abc import Mapping
from typing import Any

from lipsym.errors import ConfigurationError
from lipsym.sides import Side

VISIT_KINDS = ("baseline", "treatment", "follow-up", "maintenance")
EXPRESSIONS = ("rest", "smile", "other")
CONDITIONS = ("rest", "smile", "dynamic", "pair")
PRODUCT_TYPES = ("ha_filler", "neuromodulator", "other")
DOSE_UNITS = ("mL", "U")
#: Injection sides: the subject's sides (:class:`lipsym.sides.Side`) or the midline.
SIDES = (*(side.value for side in Side), "midline")
SEXES = ("female", "male", "other")
REGIONS = (
    "upper_lip",
    "lower_lip",
    "vermilion_border",
    "commissure",
    "cupids_bow",
    "philtrum",
    "dao",
    "mentalis",
    "orbicularis_oris",
    "other",
)

# Spellings people actually type; mapped to the canonical value.
_VISIT_KIND_ALIASES = {"followup": "follow-up", "follow_up": "follow-up"}
_DOSE_UNIT_ALIASES = {"ml": "mL", "u": "U", "units": "U", "unit": "U", "iu": "U"}
_SEX_ALIASES = {"f": "female", "m": "male"}
_REGION_ALIASES = {"cupid's_bow": "cupids_bow", "cupid_bow": "cupids_bow"}
_PRODUCT_TYPE_ALIASES = {"filler": "ha_filler", "ha": "ha_filler", "toxin": "neuromodulator"}

_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_SHA256 = re.compile(r"^[0-9a-f]{64}$")

MAX_IDENTIFIER_CHARS = 64
MAX_TEXT_CHARS = 10_000
MIN_YEAR = 1900
MAX_YEAR = 2200


def choice(value: Any, allowed: tuple[str, ...], what: str, aliases: Mapping[str, str] | None = None) -> str:
    """Return the canonical spelling of ``value`` among ``allowed``.

    Matching ignores case, surrounding blanks, and treats spaces and hyphens
    like underscores where the canonical values do (``"Upper lip"`` is
    ``upper_lip``).
    """
    if not isinstance(value, str):
        raise ConfigurationError(f"{what} must be one of: {', '.join(allowed)} (got {value!r})")
    key = value.strip().lower()
    by_key = {a.lower(): a for a in allowed}
    for candidate in (key, key.replace(" ", "_").replace("-", "_"), key.replace(" ", "-").replace("_", "-")):
        if candidate in by_key:
            return by_key[candidate]
        if aliases and candidate in aliases:
            return aliases[candidate]
    raise ConfigurationError(f"{what} must be one of: {', '.join(allowed)} (got {value!r})")


def visit_kind(value: Any) -> str:
    return choice(value, VISIT_KINDS, "visit kind", _VISIT_KIND_ALIASES)


def expression(value: Any) -> str:
    return choice(value, EXPRESSIONS, "expression")


def condition(value: Any) -> str:
    return choice(value, CONDITIONS, "measure condition")


def product_type(value: Any) -> str:
    return choice(value, PRODUCT_TYPES, "product type", _PRODUCT_TYPE_ALIASES)


def dose_unit(value: Any) -> str:
    return choice(value, DOSE_UNITS, "dose unit", _DOSE_UNIT_ALIASES)


def side(value: Any) -> str:
    return choice(value, SIDES, "injection side")


def region(value: Any) -> str:
    return choice(value, REGIONS, "injection region", _REGION_ALIASES)


def sex(value: Any) -> str | None:
    if value is None:
        return None
    return choice(value, SEXES, "sex", _SEX_ALIASES)


def iso_date(value: Any, what: str) -> _dt.date:
    """Return ``value`` (a date or a ``YYYY-MM-DD`` string) as a date.

    Only the extended calendar form is accepted: ``date.fromisoformat`` on
    Python 3.11 also takes ``20240131`` or week dates, which are too easy to
    mistype into a valid but wrong date.
    """
    if isinstance(value, _dt.datetime):
        # A datetime is a date subclass; taking its date silently would hide
        # a time-zone question (which day is it, where?). Make the caller say.
        raise ConfigurationError(f"{what} must be a date, not a datetime (got {value!r}); pass value.date()")
    if isinstance(value, _dt.date):
        day = value
    elif isinstance(value, str) and _ISO_DATE.match(value.strip()):
        try:
            day = _dt.date.fromisoformat(value.strip())
        except ValueError:
            raise ConfigurationError(f"{what} {value!r} is not a valid calendar date") from None
    else:
        raise ConfigurationError(f"{what} must be a date in the form YYYY-MM-DD (got {value!r})")
    if not MIN_YEAR <= day.year <= MAX_YEAR:
        raise ConfigurationError(f"{what} {day.isoformat()} is outside {MIN_YEAR}-{MAX_YEAR}")
    return day


def optional_date(value: Any, what: str) -> _dt.date | None:
    return None if value is None else iso_date(value, what)


def identifier(value: Any) -> str:
    """Return a patient identifier, stripped; reject empty, long or control characters."""
    if not isinstance(value, str):
        raise ConfigurationError(f"patient identifier must be a string (got {value!r})")
    text = value.strip()
    if not text:
        raise ConfigurationError("patient identifier must not be empty")
    if len(text) > MAX_IDENTIFIER_CHARS:
        raise ConfigurationError(f"patient identifier is longer than {MAX_IDENTIFIER_CHARS} characters")
    if any(not ch.isprintable() for ch in text):
        raise ConfigurationError(f"patient identifier {text!r} contains control characters")
    return text


def optional_text(value: Any, what: str, max_chars: int = MAX_TEXT_CHARS) -> str | None:
    """Return ``value`` stripped, or None for None or blank text."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise ConfigurationError(f"{what} must be text (got {type(value).__name__})")
    text = value.strip()
    if len(text) > max_chars:
        raise ConfigurationError(f"{what} is longer than {max_chars} characters")
    return text or None


def required_text(value: Any, what: str, max_chars: int = 200) -> str:
    text = optional_text(value, what, max_chars)
    if text is None:
        raise ConfigurationError(f"{what} must not be empty")
    return text


def finite_number(value: Any, what: str) -> float:
    # bool is an int subclass; True as a dose is always a bug.
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ConfigurationError(f"{what} must be a number (got {value!r})")
    number = float(value)
    if not math.isfinite(number):
        raise ConfigurationError(f"{what} must be finite (got {value!r})")
    return number


def positive_number(value: Any, what: str) -> float:
    number = finite_number(value, what)
    if number <= 0:
        raise ConfigurationError(f"{what} must be positive (got {value!r})")
    return number


def optional_non_negative(value: Any, what: str) -> float | None:
    if value is None:
        return None
    number = finite_number(value, what)
    if number < 0:
        raise ConfigurationError(f"{what} must not be negative (got {value!r})")
    return number


def optional_positive_int(value: Any, what: str) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value <= 0:
        raise ConfigurationError(f"{what} must be a positive integer (got {value!r})")
    return int(value)


def birth_year(value: Any) -> int | None:
    if value is None:
        return None
    this_year = _dt.date.today().year
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or not MIN_YEAR <= value <= this_year:
        raise ConfigurationError(f"birth year must be an integer in {MIN_YEAR}-{this_year} (got {value!r})")
    return int(value)


def sha256_hex(value: Any, what: str) -> str:
    if not isinstance(value, str) or not _SHA256.match(value.strip().lower()):
        raise ConfigurationError(f"{what} must be 64 hexadecimal digits (got {value!r})")
    return value.strip().lower()


def optional_sha256_hex(value: Any, what: str) -> str | None:
    return None if value is None else sha256_hex(value, what)
