"""Terminal tables of the visit record: measures by visit, changes, settling."""

from __future__ import annotations

from collections.abc import Mapping

from ..comparison import Z95, MeasureChange
from ..measures import SidedMeasure
from ..settling import FollowUpSettling
from ..timeline import Timeline
from .store_common import print_table

CHANGE_HEADERS = ("condition", "measure", "before", "after", "change", "SE", "MDC95", "detectable", "settling")


def value_text(m: SidedMeasure | None) -> str:
    """``+1.23 ±0.40 mm``: asymmetry with its 95 % half-interval."""
    return "-" if m is None else f"{m.asymmetry:+.2f} ±{Z95 * m.standard_error:.2f} {m.unit}"


def change_cells(condition: str, change: MeasureChange) -> tuple:
    return (condition, change.key, f"{change.before:+.2f}", f"{change.after:+.2f}",
            f"{change.change:+.2f} {change.unit}", f"{change.standard_error:.2f}",
            f"{change.minimal_detectable_change:.2f}", "yes" if change.detectable else "no (noise)",
            change.settling)


def print_changes(changes: Mapping[str, Mapping[str, MeasureChange]], title: str) -> None:
    print_table(CHANGE_HEADERS, [change_cells(c, mc) for c, by_key in changes.items() for mc in by_key.values()],
                title=title)


def print_timeline(timeline: Timeline, keys: list[str], conditions: tuple[str, ...]) -> None:
    """One row per measure and condition, one column per visit (visits are few, measures many)."""
    headers = ("measure", "condition") + tuple(f"{vm.visit.visit_date.isoformat()} {vm.visit.kind}"
                                              for vm in timeline.visits)
    rows = [("treatment", "", *("; ".join(f"{t.product_name} {t.dose_value:g} {t.dose_unit}" for t in vm.treatments)
                                or "-" for vm in timeline.visits))]
    for key in keys:
        for c in conditions:
            rows.append((key, c, *(value_text(vm.sided.get(c, {}).get(key)) for vm in timeline.visits)))
    print_table(headers, rows, title=f"Patient {timeline.patient.identifier}: asymmetry left − right "
                                     "(subject's sides) ±1.96·SE")


def print_settling(settling: list[FollowUpSettling]) -> None:
    for s in settling:
        rows = []
        for ch in s.changes:
            for label, mc in (("since treatment", ch.since_treatment), ("since previous", ch.since_previous)):
                if mc is not None:
                    rows.append((label, *change_cells(ch.condition, mc)))
        print()
        print_table(("from",) + CHANGE_HEADERS, rows,
                    title=f"Settling at {s.follow_up.visit_date.isoformat()} {s.follow_up.kind} "
                          f"(treatment {s.treatment_visit.visit_date.isoformat()}): converging = toward "
                          "symmetry beyond the MDC, diverging = away, stable = within noise")
