"""Terminal tables of the visit record: measures by visit, changes, settling."""

from __future__ import annotations

from collections.abc import Mapping

from lipsym.comparison._compare import MeasureChange
from lipsym.measures._registry import unit_label
from lipsym.report._before_after import detectable_text
from lipsym.report._format import PM_LABEL, PM_NOTE, pm_se, signed
from lipsym.measures import SidedMeasure
from lipsym.visits._settling import FollowUpSettling
from lipsym.visits._timeline import Timeline
from lipsym.cli.store_common import print_table

# The MDC95 is 1.96 × the change's SE: the table says whether it is exceeded instead of repeating it.
CHANGE_HEADERS = ("condition", "measure", "before", "after", f"change {PM_LABEL}", "detectable (> MDC95)",
                  "settling")


def value_text(m: SidedMeasure | None) -> str:
    """``+1.23 ± 0.20 mm``: asymmetry with its standard error."""
    return "-" if m is None else f"{pm_se(m.asymmetry, m.standard_error)} {unit_label(m.unit)}"


def change_cells(condition: str, change: MeasureChange) -> tuple:
    return (condition, change.key, signed(change.before), signed(change.after),
            f"{pm_se(change.change, change.standard_error)} {unit_label(change.unit)}", detectable_text(change),
            change.settling)


def print_changes(changes: Mapping[str, Mapping[str, MeasureChange]], title: str) -> None:
    print_table(CHANGE_HEADERS, [change_cells(c, mc) for c, by_key in changes.items() for mc in by_key.values()],
                title=title)
    print(PM_NOTE)


def print_timeline(timeline: Timeline, keys: list[str], conditions: tuple[str, ...]) -> None:
    """One row per measure and condition, one column per visit (visits are few, measures many)."""
    headers = ("measure", "condition") + tuple(f"{vm.visit.visit_date.isoformat()} {vm.visit.kind}"
                                              for vm in timeline.visits)
    rows = [("treatment", "", *("; ".join(f"{t.product_name} {t.dose_value:g} {t.dose_unit}" for t in vm.treatments)
                                or "-" for vm in timeline.visits))]
    for key in keys:
        for c in conditions:
            rows.append((key, c, *(value_text(vm.sided.get(c, {}).get(key)) for vm in timeline.visits)))
    rows.append(("analysis", "", *(", ".join(f"{c} #{i}" for c, i in vm.analysis_ids.items()) or "-"
                                   for vm in timeline.visits)))
    if any(vm.corrections for vm in timeline.visits):
        rows.append(("landmarks", "", *(_landmarks_text(vm) for vm in timeline.visits)))
    print_table(headers, rows, title=f"Patient {timeline.patient.identifier}: asymmetry left − right "
                                     f"(subject's sides) {PM_LABEL}")


def _landmarks_text(vm) -> str:
    """``corrected manually (2 points moved)``, ``automatic``, or ``-`` for a visit without analyses."""
    if not vm.analysis_ids:
        return "-"
    n = vm.manual_points
    return f"corrected manually ({n} point{'s' if n != 1 else ''} moved)" if vm.corrections else "automatic"


def _change_text(change: MeasureChange | None) -> str:
    if change is None:
        return "-"
    return f"{pm_se(change.change, change.standard_error)} {unit_label(change.unit)} ({detectable_text(change)})"


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
