"""A visit report built from the visit record (``lipsym report PATIENT``).

The numbers come from the stored measures (:func:`load_timeline`), so the
report says what ``lipsym compare PATIENT`` and ``lipsym track`` say; the
figures are drawn from the recorded photos, checked against their SHA-256
first (:func:`lipsym.visits._documents.recorded_photo_paths`) and analysed
again with the given options to draw on them.

Page 1 is the summary a clinician reads: the photos without marks, what
changed since the baseline and since the last visit (detectable or not), the
treatments given with product, dose and sites, the settling call, and the
treatment's effect on the size of the lips in one sentence (upper vermilion
height and area: change since before the treatment and since it, with
MDC95). The detail of the visit report follows, then the "Size of the lips"
table (vermilion heights and areas, mouth width, rest and smile); ``course=True`` adds every visit, the
track plot and the treatment history.
"""

from __future__ import annotations

from collections.abc import Callable

from lipsym.analysis._options import AnalysisOptions
from lipsym.comparison._absolute_change import KEY_ABSOLUTE, SIZE_EFFECT_CAVEAT, AbsoluteChange
from lipsym.comparison._compare import KEY_MEASURES, MeasureChange
from lipsym.landmarks._detector import Landmarker
from lipsym.measures._registry import display_name, unit_label
from lipsym.report._before_after import detectable_text, plain_comparison_png
from lipsym.report._blocks import Bullets, Image, Paragraph, Section, Table
from lipsym.report._content import SIGNATURE, ReportHeader, flag_notice
from lipsym.report._format import PM_LABEL, PM_NOTE, effect_text, plain, pm_se, signed, table_keys
from lipsym.report._photos import ReportVisit, load_visit
from lipsym.report._visit_report import VisitReport, _silent, build_report
from lipsym.visits._corrections import corrected_report_visit, drawn_correction
from lipsym.visits._documents import recorded_photo_paths
from lipsym.visits._settling import (PHOTO_CONDITIONS, FollowUpSettling, TreatmentEffect, compare_visits,
                                    compare_visits_absolute, follow_up_settling, treatment_effects, visit_absolute)
from lipsym.visits._timeline import Timeline, VisitMeasures, load_timeline
from lipsym.visits._track_plot import track_png
from lipsym.visits.store import Store


def treatment_rows(timeline: Timeline, visits: tuple[VisitMeasures, ...] | None = None) -> tuple[tuple[str, ...], ...]:
    """One row per treatment: date, product and type, dose, sites, lot."""
    rows = []
    for vm in visits if visits is not None else timeline.visits:
        for t in vm.treatments:
            sites = ", ".join(f"{s.region.replace('_', ' ')} {s.side}"
                              + (f" ({s.dose_value:g} {t.dose_unit})" if s.dose_value is not None else "")
                              for s in t.sites) or "–"
            rows.append((vm.visit.visit_date.isoformat(), f"{t.product_name} ({t.product_type.replace('_', ' ')})",
                         f"{t.dose_value:g} {t.dose_unit}", sites, t.lot or "–"))
    return tuple(rows)


_TREATMENT_HEADER = ("date", "product (type)", "dose", "sites (patient's side)", "lot")
_TREATMENT_WIDTHS = (0.14, 0.3, 0.1, 0.34, 0.12)


def _side_change(before: VisitMeasures, after: VisitMeasures, condition: str, key: str) -> str:
    """The change of each side's own value: the treatment's effect beside the asymmetry."""
    b, a = before.sided.get(condition, {}).get(key), after.sided.get(condition, {}).get(key)
    if b is None or a is None or b.right is None or a.right is None:
        return "–"
    return f"{signed(a.right - b.right)}\u00a0/\u00a0{signed(a.left - b.left)}"  # one line


def _change_cell(c: MeasureChange | None) -> tuple[str, str]:
    if c is None:
        return "–", "–"
    return pm_se(c.change, c.standard_error), detectable_text(c)


def _settling_of(settling: list[FollowUpSettling], vm: VisitMeasures) -> FollowUpSettling | None:
    return next((s for s in settling if s.follow_up.id == vm.visit.id), None)


def summary_rows(timeline: Timeline, current: VisitMeasures, baseline: VisitMeasures | None,
                 previous: VisitMeasures | None, settled: FollowUpSettling | None) -> tuple[tuple[str, ...], ...]:
    """Key measures: value now, change since baseline (with each side's change), since the last visit, settling."""
    cal = timeline.calibration
    since_base = compare_visits(baseline, current, keys=KEY_MEASURES, calibration=cal) if baseline is not None else {}
    since_prev = compare_visits(previous, current, keys=KEY_MEASURES, calibration=cal) if previous is not None else {}
    settle = {(c.condition, c.key): c.since_treatment.settling for c in (settled.changes if settled else ())
              if c.since_treatment is not None}
    rows = []
    for condition in PHOTO_CONDITIONS:
        for key in KEY_MEASURES:
            m = current.sided.get(condition, {}).get(key)
            if m is None:
                continue
            base = since_base.get(condition, {}).get(key)
            rows.append((condition, f"{display_name(key)} ({unit_label(m.unit)})", pm_se(m.asymmetry, m.standard_error),
                         *_change_cell(base),
                         _side_change(baseline, current, condition, key) if baseline is not None else "–",
                         *_change_cell(since_prev.get(condition, {}).get(key)),
                         settle.get((condition, key), "–")))
    return tuple(rows)


SUMMARY_HEADER = ("", "measure", f"now {PM_LABEL}", f"since baseline {PM_LABEL}", "detectable",
                  "right / left since baseline", f"since last visit {PM_LABEL}", "detectable", "settling")
_SUMMARY_WIDTHS = (0.05, 0.27, 0.105, 0.105, 0.085, 0.115, 0.105, 0.085, 0.08)


def _effect_cell(c: AbsoluteChange | None) -> str:
    """``+1.20 ± 0.41 (+19 %), MDC95 0.80: yes``."""
    if c is None:
        return "–"
    return f"{effect_text(c)}, MDC95\u00a0{plain(c.minimal_detectable_change)}: {detectable_text(c)}"


def _effect_of(effects: list[TreatmentEffect], vm: VisitMeasures) -> TreatmentEffect | None:
    return next((e for e in effects if e.visit.id == vm.visit.id), None)


def effect_table(current: VisitMeasures, baseline: VisitMeasures | None, previous: VisitMeasures | None,
                 effect: TreatmentEffect | None) -> Table | None:
    """The size of the lips now, and the treatment's effect (or the change since baseline) with MDC95.

    After a treatment: change since before the treatment and since the
    treatment (the settling); otherwise since the baseline and since the
    last visit. Every photo condition and key absolute measure
    (:data:`lipsym.comparison.KEY_ABSOLUTE`), after the summary. None when
    the visit has no absolute measures.
    """
    if effect is not None:
        cells = {(c.condition, c.key): (c.since_pre_treatment, c.since_treatment) for c in effect.changes}
        pre = ", ".join(sorted({v.visit_date.isoformat() for v in effect.pre_treatment.values()}))
        spans = (f"effect since {pre}", f"since treatment {effect.treatment_visit.visit_date.isoformat()}")
        caption = (f"Treatment effect on the size of the lips (change {PM_LABEL}, % of before; MDC95 between "
                   f"two captures; {SIZE_EFFECT_CAVEAT})")
    else:
        base = compare_visits_absolute(baseline, current) if baseline is not None else {}
        prev = compare_visits_absolute(previous, current) if previous is not None else {}
        cells = {(c, k): (base.get(c, {}).get(k), prev.get(c, {}).get(k))
                 for c in PHOTO_CONDITIONS for k in KEY_ABSOLUTE}
        spans = ("since baseline", "since last visit")
        caption = (f"Size of the lips (change {PM_LABEL}, % of before; MDC95 between two captures; "
                   f"{SIZE_EFFECT_CAVEAT})")
    rows = []
    for condition in PHOTO_CONDITIONS:
        now = visit_absolute(current, condition)
        for key in KEY_ABSOLUTE:
            if key in now:
                m = now[key]
                row = [condition, f"{display_name(key)} ({unit_label(m.unit)})",
                       f"{plain(m.value)} ± {plain(m.standard_error)}"]
                for c in cells.get((condition, key), (None, None)):
                    row += (["–"] * 4 if c is None else
                            [pm_se(c.change, c.standard_error),
                             "–" if c.percent_change is None else f"{signed(c.percent_change, 1)} %",
                             plain(c.minimal_detectable_change), detectable_text(c)])
                rows.append(tuple(row))
    if not rows:
        return None
    header = ("", "measure", f"now {PM_LABEL}", f"{spans[0]} {PM_LABEL}", "%", "MDC95", "detectable",
              f"{spans[1]} {PM_LABEL}", "%", "MDC95", "detectable")
    return Table(header, tuple(rows), caption,
                 (0.05, 0.2, 0.1, 0.12, 0.06, 0.055, 0.08, 0.12, 0.06, 0.055, 0.08))


def effect_line(current: VisitMeasures, baseline: VisitMeasures | None,
                effect: TreatmentEffect | None) -> str | None:
    """One sentence for the summary: the upper vermilion height and area now and their change since
    before the treatment (else since baseline) and since the treatment, with MDC95 and the call."""
    condition = next((c for c in PHOTO_CONDITIONS if visit_absolute(current, c)), None)
    if condition is None:
        return None
    if effect is not None:
        cells = {c.key: (c.since_pre_treatment, c.since_treatment) for c in effect.changes
                 if c.condition == condition}
        pre = ", ".join(sorted({v.visit_date.isoformat() for v in effect.pre_treatment.values()}))
        spans = (f"since before the treatment ({pre})",
                 f"since the treatment ({effect.treatment_visit.visit_date.isoformat()})")
        lead = "Treatment effect on the size of the lips"
    elif baseline is not None:
        base = compare_visits_absolute(baseline, current, conditions=[condition]).get(condition, {})
        cells = {k: (c, None) for k, c in base.items()}
        spans, lead = ("since baseline", ""), "Size of the lips"
    else:
        return None
    now = visit_absolute(current, condition)
    parts = []
    for key in ("upper_vermilion_height_midline", "upper_vermilion_area"):
        if key not in now or key not in cells:
            continue
        text = f"{display_name(key)} {plain(now[key].value)} {unit_label(now[key].unit)}"
        for span, c in zip(spans, cells[key]):
            if c is not None:
                text += (f", {span} {effect_text(c, unit_label(c.unit))} "
                         f"(MDC95 {plain(c.minimal_detectable_change)}: {detectable_text(c)})")
        parts.append(text)
    return f"{lead} ({condition}): " + "; ".join(parts) + f" ({SIZE_EFFECT_CAVEAT})." if parts else None


def _visit_photos(store: Store, vm: VisitMeasures, landmarker: Landmarker, options: AnalysisOptions) -> ReportVisit:
    rest, smile = recorded_photo_paths(store, vm)
    # Drawn with the landmarks the clinician corrected, when the visit's analysis is manual.
    return corrected_report_visit(load_visit(rest, smile, landmarker, options=options),
                                  drawn_correction(store, vm.analysis_ids))


def course_sections(timeline: Timeline, settling: list[FollowUpSettling], track: bytes | None,
                    effects: list[TreatmentEffect] = ()) -> tuple[Section, ...]:
    """Every visit's key asymmetries, the track plot, the treatment's effect at each visit after it
    (size of the lips) and the treatment history."""
    keys = [k for k in table_keys({k for vm in timeline.visits for by in vm.sided.values() for k in by})
            if k in KEY_MEASURES]
    rows = []
    for vm in timeline.visits:
        for condition in PHOTO_CONDITIONS:
            by_key = vm.sided.get(condition, {})
            if by_key:
                rows.append((vm.label, condition, *(pm_se(by_key[k].asymmetry, by_key[k].standard_error)
                                                    if k in by_key else "–" for k in keys)))
    header = ("visit", "", *(f"{display_name(k)} ({unit_label(timeline_unit(timeline, k))})" for k in keys))
    blocks: list = [Table(header, tuple(rows), f"Key asymmetries at every visit (left − right, subject's sides, "
                                               f"{PM_LABEL})", (0.17, 0.07) + (0.76 / max(len(keys), 1),) * len(keys))]
    if track is not None:
        blocks.append(Image("track.png", "The key asymmetries across visits, treatments on the time axis.", 1.0))
    effect_rows = tuple((e.visit.visit_date.isoformat() + " " + e.visit.kind, c.condition, display_name(c.key),
                         _effect_cell(c.since_pre_treatment), _effect_cell(c.since_treatment))
                        for e in effects for c in e.changes)
    if effect_rows:
        blocks.append(Table(("visit", "", "measure", "effect: since before the treatment", "since the treatment"),
                            effect_rows, f"Treatment effect on the size of the lips and its settling: change "
                                         f"{PM_LABEL} (% of before), MDC95 between two captures, detectable; "
                                         f"{SIZE_EFFECT_CAVEAT}",
                            (0.16, 0.06, 0.22, 0.28, 0.28)))
    blocks.append(Table(_TREATMENT_HEADER, treatment_rows(timeline) or (("–",) * 5,), "Treatment history",
                        _TREATMENT_WIDTHS))
    calls = [f"{s.follow_up.visit_date.isoformat()} (treatment {s.treatment_visit.visit_date.isoformat()}): "
             f"{display_name(c.key)} {c.condition} {c.since_treatment.settling}"
             for s in settling for c in s.changes if c.since_treatment is not None and c.since_treatment.detectable]
    blocks.append(Paragraph("Detectable changes since each treatment:" if calls else
                            "No follow-up changed beyond the MDC95 since its treatment."))
    if calls:
        blocks.append(Bullets(tuple(calls)))
    return (Section("Course of treatment", tuple(blocks)),)


def timeline_unit(timeline: Timeline, key: str) -> str:
    """The stored unit of a measure (the first visit that has it)."""
    return next(by[key].unit for vm in timeline.visits for by in vm.sided.values() if key in by)


def record_report(store: Store, patient: str, *, visit: str = "last", course: bool = False, clinic: str = "",
                  landmarker: Landmarker | None = None, options: AnalysisOptions = AnalysisOptions(),
                  progress: Callable[[str], None] = _silent) -> VisitReport:
    """The report of one recorded visit of a patient, from the store.

    Parameters
    ----------
    store : Store
    patient : str
        Patient identifier.
    visit : str
        Visit reference (:meth:`Timeline.find`): ``last`` (default), a date, ``DATE:KIND``, an id.
    course : bool
        Add every visit, the track plot and the treatment history.
    clinic : str
        Printed in the title line.
    landmarker : Landmarker, optional
        Used to draw the recorded photos (one is opened when not given).
    options : AnalysisOptions
        For drawing only; the numbers are the stored measures.
    progress : callable
        Called with a short message as each step starts.

    Raises
    ------
    NotFoundError
        No such patient or visit.
    ConfigurationError
        The visit has no analysed photos.
    PhotoNotFoundError, ConflictError
        A recorded photo is missing or changed since it was recorded.
    """
    timeline = load_timeline(store, patient)
    current = timeline.find(visit)
    index = timeline.visits.index(current)
    measured = [vm for vm in timeline.visits[:index] if vm.sided]
    baseline = measured[0] if measured else None
    previous = measured[-1] if measured else None
    settling = follow_up_settling(timeline)
    effects = treatment_effects(timeline)
    if landmarker is None:
        with Landmarker(options.landmarker) as own:
            return record_report(store, patient, visit=visit, course=course, clinic=clinic, landmarker=own,
                                 options=options, progress=progress)
    progress(f"analysing the photos of {current.label}")
    this = _visit_photos(store, current, landmarker, options)
    before = None
    if previous is not None:
        progress(f"analysing the photos of {previous.label}")
        before = _visit_photos(store, previous, landmarker, options)
    base = before if baseline is previous else None
    if baseline is not None and base is None:
        progress(f"analysing the photos of {baseline.label}")
        base = _visit_photos(store, baseline, landmarker, options)
    figures: dict[str, bytes] = {}
    if base is not None:
        progress("drawing the before/after photos")
        figures["plain"] = plain_comparison_png(base.rest, this.rest, labels=(f"baseline {baseline.label}",
                                                                             f"this visit {current.label}"))
    if course:
        progress("drawing the track plot")
        # The key measures only: every registered measure makes a plot a page tall
        # that leaves the page before it half empty (`lipsym track` draws them all).
        figures["track"] = track_png(timeline, KEY_MEASURES)
    header = ReportHeader(patient=timeline.patient.identifier, visit_date=current.label,
                          previous_visit_date=previous.label if previous else "", clinic=clinic)
    summary = _summary(timeline, current, baseline, previous, settling, header, figures,
                       tuple(v for v in (this, before) if v is not None), effects)
    sizes = effect_table(current, baseline, previous, _effect_of(effects, current))
    appendix = ((Section("Size of the lips", (sizes,)),) if sizes is not None else ()) + (
        course_sections(timeline, settling, figures.get("track"), effects) if course else ())
    return build_report(this, header, before, summary=summary, appendix=appendix, extra_figures=figures,
                        progress=progress)


def _summary(timeline: Timeline, current: VisitMeasures, baseline: VisitMeasures | None,
             previous: VisitMeasures | None, settling: list[FollowUpSettling], header: ReportHeader,
             figures, photos: tuple[ReportVisit, ...], effects: list[TreatmentEffect] = ()) -> Section:
    ids = [("patient", header.patient), ("visit", current.label),
           ("baseline", baseline.label if baseline else "this visit"),
           ("last visit before", previous.label if previous else "–"),
           ("analyses used", ", ".join(f"{c} #{i}" for c, i in current.analysis_ids.items()) or "–")]
    # Two label/value pairs per row: the summary must fit one page.
    ids += [("", "")] * (len(ids) % 2)
    blocks: list = [Table(("", "", "", ""), tuple((*ids[i], *ids[i + 1]) for i in range(0, len(ids), 2)),
                          col_widths=(0.15, 0.35, 0.15, 0.35))]
    if "plain" in figures:
        blocks.append(Image("plain.png", "The photos without marks, registered on the eyes and nose, one mm scale.",
                            0.36))
    settled = _settling_of(settling, current)
    blocks.append(Table(SUMMARY_HEADER, summary_rows(timeline, current, baseline, previous, settled),
                        "What changed (left − right asymmetry, subject's sides)", _SUMMARY_WIDTHS))
    given = treatment_rows(timeline, tuple(vm for vm in timeline.visits[:timeline.visits.index(current) + 1]
                                           if baseline is None or vm.visit.visit_date >= baseline.visit.visit_date))
    blocks.append(Table(_TREATMENT_HEADER, given or (("none recorded", "", "", "", ""),), "Treatments given",
                        _TREATMENT_WIDTHS))
    if settled is not None:
        calls = [f"{display_name(c.key)} ({c.condition}): {c.since_treatment.settling}" for c in settled.changes
                 if c.since_treatment is not None and c.since_treatment.detectable]
        blocks.append(Paragraph(f"Settling since the treatment of {settled.treatment_visit.visit_date.isoformat()}: "
                                + ("; ".join(calls) if calls else "no change beyond the MDC95 (stable).")))
    # The treatment's effect on the size of the lips, beside the asymmetry's settling (one
    # sentence: the summary must fit one page; the table follows in "Size of the lips").
    if (line := effect_line(current, baseline, _effect_of(list(effects), current))) is not None:
        blocks.append(Paragraph(line))
    shown = {vm.visit.id: vm for vm in (current, previous, baseline) if vm is not None}
    blocks += [Paragraph(f"{vm.label}: {line}.") for vm in shown.values() if (line := vm.provenance_line())]
    blocks += flag_notice(photos)
    # The decision-support statement is in every page's footer; the summary must fit one page.
    blocks += [Paragraph(PM_NOTE, "note"), Paragraph(SIGNATURE)]
    return Section("Summary", tuple(blocks))

