"""How every report, table and plot prints a measured value and its uncertainty.

One convention everywhere (issue #13.6): a value prints as
``value ± SE`` (its standard error), and every table, figure and document
says so; the 95 % interval (± 1.96·SE) appears only as the minimal
detectable change (MDC95) a change is tested against, in its own words
("detectable").
"""

from __future__ import annotations

from lipsym.measures._registry import AGREEMENT_TIERS, REGISTRY, display_name, measures_of_kind

#: What ``±`` means, said in each table header and figure key.
PM_LABEL = "± SE"
#: The sentence that states the convention in notes and footnotes.
PM_NOTE = ("± is one standard error (SE); a change is detectable when it exceeds the minimal detectable change "
           "MDC95 = 1.96 × its SE.")


def signed(value: float | None, digits: int = 2) -> str:
    """``+1.23`` / ``−0.40`` style with an explicit sign; never ``-0.00`` (a rounded zero prints ``+0.00``).

    None or NaN (a measure that could not be computed) prints ``–``.
    """
    if value is None or value != value:
        return "–"
    text = f"{value:+.{digits}f}"
    return "+" + text[1:] if text.startswith("-") and float(text) == 0.0 else text


def plain(value: float | None, digits: int = 2) -> str:
    """Unsigned value; never ``-0.00``; None or NaN prints ``–``."""
    if value is None or value != value:
        return "–"
    text = f"{value:.{digits}f}"
    return text[1:] if text.startswith("-") and float(text) == 0.0 else text


def effect_text(change, unit: str = "", digits: int = 2) -> str:
    """``+1.20 ± 0.41 mm (+19 %)``: an absolute measure's change with its SE and percent change.

    ``change`` is a :class:`lipsym.comparison.AbsoluteChange` (or anything
    with ``change``, ``standard_error`` and ``percent_change``); ``unit`` is
    the printed unit label.
    """
    pct = "" if change.percent_change is None else f" ({signed(change.percent_change, 1)} %)"
    return f"{pm_se(change.change, change.standard_error, digits)}{' ' + unit if unit else ''}{pct}"


def pm_se(value: float, standard_error: float, digits: int = 2) -> str:
    """``+1.23 ± 0.40``: a signed value with its standard error."""
    return f"{signed(value, digits)} ± {plain(standard_error, digits)}"


#: Marks after a measure's name in a photo's measure table: how closely its asymmetry follows manual
#: reference points (:data:`lipsym.measures._registry.AGREEMENT_TIERS`); a close one carries none.
AGREEMENT_MARKS = {"partial": "†", "none": "‡"}


def marked_name(key: str) -> str:
    """A measure's display name with its :data:`AGREEMENT_MARKS` mark, if any."""
    info = REGISTRY.get(key)
    mark = AGREEMENT_MARKS.get(info.agreement) if info is not None else None
    return f"{display_name(key)} {mark}" if mark else display_name(key)


def agreement_note() -> str:
    """The sentence that explains :data:`AGREEMENT_MARKS`, under a table that uses them."""
    marks = "; ".join(f"{mark} {AGREEMENT_TIERS[tier]}" for tier, mark in AGREEMENT_MARKS.items())
    return f"{marks} (docs/measures.md, \"How far to trust each asymmetry\")."


#: Measures whose asymmetry always equals another's, so tables show only the other: labrale superius lies
#: on the midline, so each peak's height above it differs from its height relative to the interpupillary
#: line by the same amount on both sides, which cancels in left − right (docs/measures.md).
SAME_ASYMMETRY_AS = {"bow_peak_height_above_labrale_superius": "bow_peak_height"}


def table_keys(available, kind: str = "sided") -> list[str]:
    """The measures a table or plot shows, in the registry's order with the key measures first.

    Taken from the measure registry (:mod:`lipsym.measures._registry`), so a
    newly registered measure appears without edits here; measures listed in
    :data:`SAME_ASYMMETRY_AS` are left out.

    Parameters
    ----------
    available : iterable of str
        The keys present (e.g. ``PhotoMeasures.sided``).
    kind : str
        Registry kind (``"sided"`` or ``"dynamic"``).
    """
    from lipsym.comparison._compare import KEY_MEASURES

    have = set(available)
    ordered = [k for k in KEY_MEASURES if kind == "sided"] + [m.key for m in measures_of_kind(kind)]
    ordered += sorted(have - set(ordered))  # measures the registry does not know yet still show
    seen, out = set(), []
    for k in ordered:
        if k in have and k not in seen and k not in SAME_ASYMMETRY_AS:
            seen.add(k)
            out.append(k)
    return out
