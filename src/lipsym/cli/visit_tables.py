"""Terminal tables of the visit record: measures by visit, changes, settling."""

from __future__ import annotations

from collections.abc import Mapping

from lipsym.comparison._compare import Z95, MeasureChange
from lipsym.measures import SidedMeasure
from lipsym.visits._settling import FollowUpSettling
from lipsym.visits._timeline import Timeline
from lipsym.cli.store_common import print_table

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


def _change_text(change: MeasureChange | None) -> str:
    if change is None:
        return "-"
    return (f"{change.change:+.2f} {change.unit} (SE {change.standard_error:.2f}, "
            f"MDC {change.minimal_detectable_change:.2f})")


def print_settling(settling: list[FollowUpSettling]) -> None:
    """One table per follow-up: each measure's change since the treatment and since the previous visit."""
    for s in settling:
        rows = [(ch.condition, ch.key, _change_text(ch.since_treatment),
                 ch.since_treatment.settling if ch.since_treatment else "-",
                 _change_text(ch.since_previous), ch.since_previous.settling if ch.since_previous else "-")
                for ch in s.changes]
        print()
        print_table(("condition", "measure", "since treatment", "settling", "since previous", "settling"), rows,
                    title=f"Settling at {s.follow_up.visit_date.isoformat()} {s.follow_up.kind} "
                          f"(treatment {s.treatment_visit.visit_date.isoformat()}): converging = toward "
                          "symmetry beyond the MDC95, diverging = away from it, stable = within noise")
