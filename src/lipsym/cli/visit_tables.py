"""Terminal tables of the visit record: measures by visit, changes, settling."""

from __future__ import annotations

from collections.abc import Mapping

from lipsym.comparison._absolute_change import SIZE_EFFECT_CAVEAT, AbsoluteChange
from lipsym.comparison._compare import MeasureChange
from lipsym.measures._registry import display_name, unit_label
from lipsym.report._before_after import detectable_text
from lipsym.report._format import PM_LABEL, PM_NOTE, effect_text, pm_se, plain, signed
from lipsym.measures import SidedMeasure
from lipsym.visits._settling import PHOTO_CONDITIONS, FollowUpSettling, TreatmentEffect, visit_absolute
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


# --- the size of the lips: absolute measures and the treatment's effect ---------------

ABSOLUTE_HEADERS = ("condition", "measure", "before", "after", f"change {PM_LABEL} (%)", "MDC95",
                    "detectable (> MDC95)")


def _measure_label(key: str, unit: str) -> str:
    label = unit_label(unit)
    return f"{display_name(key)}" + (f", {label}" if label and label != "1" else "")


def absolute_change_cells(condition: str, c: AbsoluteChange) -> tuple:
    return (condition, _measure_label(c.key, c.unit), plain(c.before), plain(c.after), effect_text(c),
            plain(c.minimal_detectable_change), detectable_text(c))


def print_absolute_changes(changes: Mapping[str, Mapping[str, AbsoluteChange]], title: str) -> None:
    """The change of each absolute lip measure (the size of the lips) between two visits."""
    rows = [absolute_change_cells(c, ch) for c, by_key in changes.items() for ch in by_key.values()]
    if rows:
        print()
        print_table(ABSOLUTE_HEADERS, rows, title=title)


def print_absolute_timeline(timeline: Timeline, keys) -> None:
    """The key absolute lip measures at each visit, value ± SE (one-photo SE)."""
    rows = []
    for key in keys:
        for c in PHOTO_CONDITIONS:
            values = [visit_absolute(vm, c).get(key) for vm in timeline.visits]
            if any(v is not None for v in values):
                unit = next(v.unit for v in values if v is not None)
                rows.append((_measure_label(key, unit), c, *("-" if v is None else f"{plain(v.value)} ± "
                                                             f"{plain(v.standard_error)}" for v in values)))
    if rows:
        print()
        headers = ("measure", "condition") + tuple(f"{vm.visit.visit_date.isoformat()} {vm.visit.kind}"
                                                  for vm in timeline.visits)
        print_table(headers, rows, title=f"Patient {timeline.patient.identifier}: size of the lips {PM_LABEL}")


def _effect_cell(c: AbsoluteChange | None) -> str:
    if c is None:
        return "-"
    return f"{effect_text(c, unit_label(c.unit))}, MDC95 {plain(c.minimal_detectable_change)}: {detectable_text(c)}"


def print_treatment_effects(effects: list[TreatmentEffect]) -> None:
    """One table per visit after a treatment: each absolute measure's change since before the
    treatment (the effect), since the treatment (the settling) and since the previous visit."""
    for e in effects:
        rows = [(ch.condition, display_name(ch.key), _effect_cell(ch.since_pre_treatment),
                 _effect_cell(ch.since_treatment), _effect_cell(ch.since_previous)) for ch in e.changes]
        pre = ", ".join(sorted({v.visit_date.isoformat() for v in e.pre_treatment.values()}))
        print()
        print_table(("condition", "measure", "effect (since before treatment)", "since treatment",
                     "since previous"), rows,
                    title=f"Treatment effect at {e.visit.visit_date.isoformat()} {e.visit.kind} "
                          f"(treatment {e.treatment_visit.visit_date.isoformat()}, before it {pre}): "
                          f"change {PM_LABEL} (%), MDC95 between two captures")
    if effects:
        print(f"Note: {SIZE_EFFECT_CAVEAT} (docs/accuracy.md).")
