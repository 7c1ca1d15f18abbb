"""The ``lipsym track`` figure: each key asymmetry across a patient's visits.

One panel per measure of the registry that a visit has
(:func:`lipsym.report._format.table_keys`, so new measures appear without
edits); rest and smile as two series with ± SE bars (the one convention of
every output); a grey band of the first visit's value ± the MDC95 of a change
from it (inside it a change is noise) and the settling call at each follow-up;
treatments as vertical lines on the time axis (one label per day), each
followed by the typical duration of its product type shaded within the
plotted dates and labelled as a literature reference range, never as a
measurement.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Iterable

import math
import statistics
import textwrap

from lipsym.measures._registry import display_name, unit_label
from lipsym.report._format import PM_LABEL, table_keys
from lipsym.visits._durations import SOURCE, typical_duration
from lipsym.visits._settling import compare_visits, follow_up_settling
from lipsym.report._overlay import BLUE, GREEN, ORANGE, VERMILLION, figure_png, new_figure
from lipsym.visits._timeline import Timeline

_SERIES = {"rest": BLUE, "smile": ORANGE}


def _series(timeline: Timeline, condition: str, key: str):
    dates, values, errors = [], [], []
    for vm in timeline.visits:
        m = vm.sided.get(condition, {}).get(key)
        if m is not None:
            dates.append(vm.visit.visit_date)
            values.append(m.asymmetry)
            errors.append(m.standard_error)
    return dates, values, errors


def plotted_keys(timeline: Timeline, keys: Iterable[str] | None = None) -> list[str]:
    """The measures of ``keys`` (default: the registry's, :func:`table_keys`) that at least one visit has."""
    present = {k for vm in timeline.visits for c, by_key in vm.sided.items() if c != "dynamic" for k in by_key}
    return table_keys(present) if keys is None else [k for k in keys if k in present]


def track_png(timeline: Timeline, keys: Iterable[str] | None = None, *, dpi: int = 120) -> bytes:
    """:func:`track_figure` as PNG bytes (no metadata)."""
    return figure_png(track_figure(timeline, keys, dpi=dpi))


def _first_visit_mdc(timeline: Timeline, condition: str, key: str) -> float:  # NaN: no change measurable
    """Median MDC95 of the changes from the first visit measured in ``condition`` to each later one.

    Each comes from :func:`lipsym.visits.compare_visits` (two captures, the
    clinic calibration, the floors), so the band agrees with the tables.
    """
    measured = [vm for vm in timeline.visits if key in vm.sided.get(condition, {})]
    first, later = measured[0], measured[1:]
    changes = [compare_visits(first, vm, conditions=[condition], keys=[key],
                              calibration=timeline.calibration).get(condition, {}).get(key) for vm in later]
    mdcs = [c.minimal_detectable_change for c in changes if c is not None]
    return float(statistics.median(mdcs)) if mdcs else math.nan


def track_figure(timeline: Timeline, keys: Iterable[str] | None = None, *, dpi: int = 120):
    """The asymmetries across visits as a matplotlib Figure.

    Parameters
    ----------
    timeline : Timeline
    keys : iterable of str, optional
        Measures to plot (default every registered one a visit has; those no visit has are skipped).
    dpi : int

    Returns
    -------
    matplotlib.figure.Figure
    """
    keys = plotted_keys(timeline, keys)
    n = max(len(keys), 1)
    fig = new_figure(9.0, 1.5 * n + 1.8, dpi=dpi)
    axes = fig.subplots(n, 1, sharex=True, squeeze=False)[:, 0]
    treatments = [(vm.visit.visit_date, t) for vm in timeline.visits for t in vm.treatments]
    # The time axis spans the visits with something to plot: an empty visit (a typo dated 2030, a visit whose
    # photos are not analysed yet) would squeeze the others into a corner (issue #16).
    dates = ([vm.visit.visit_date for vm in timeline.visits if vm.sided or vm.treatments]
             or [vm.visit.visit_date for vm in timeline.visits] or [_dt.date.today()])
    settled = {(s.follow_up.visit_date, c.condition, c.key): c.since_treatment.settling
               for s in follow_up_settling(timeline, keys=keys) for c in s.changes if c.since_treatment is not None}
    for ax, key in zip(axes, keys):
        unit = "mm"
        for condition, colour in _SERIES.items():
            d, v, e = _series(timeline, condition, key)
            if not d:
                continue
            unit = next(vm.sided[condition][key].unit for vm in timeline.visits
                        if key in vm.sided.get(condition, {}))
            ax.fill_between(d, [a - b for a, b in zip(v, e)], [a + b for a, b in zip(v, e)],
                            color=colour, alpha=0.18, linewidth=0)
            ax.errorbar(d, v, yerr=e, color=colour, marker="o", ms=4, capsize=3, lw=1.3, label=condition)
            if condition == "rest" and len(d) > 1:
                # A change from the first visit within ± MDC95 is noise: the MDC of a change between
                # two captures, as the tables print it (the median over the later visits).
                mdc = _first_visit_mdc(timeline, condition, key)
                if math.isfinite(mdc):
                    ax.axhspan(v[0] - mdc, v[0] + mdc, color="0.5", alpha=0.15, lw=0,
                               label="first visit ± MDC95")
            for day, value in zip(d, v):
                call = settled.get((day, condition, key))
                if call is not None and call != "stable":
                    ax.annotate(call, (day, value), xytext=(4, 4), textcoords="offset points", fontsize=6,
                                color=colour)
        ax.axhline(0.0, color="0.4", lw=0.8)
        ax.set_ylabel("\n".join(textwrap.wrap(display_name(key), 20)) + f"\n({unit_label(unit)}, L − R)",
                      fontsize=6.5)
        ax.tick_params(labelsize=7)
        for i, (day, treatment) in enumerate(treatments):
            ax.axvline(day, color=VERMILLION, lw=1.2, ls="--")
            ref = typical_duration(treatment)
            if ref is None:
                continue
            # Shaded only within the plotted dates: a year-long filler range would squeeze the visits.
            start = day + _dt.timedelta(days=ref.min_days)
            ax.axvspan(day, start, color=GREEN, alpha=0.08, lw=0)
            if ref.max_days is not None:
                ax.axvspan(start, day + _dt.timedelta(days=ref.max_days), color=GREEN, alpha=0.04, lw=0,
                           hatch="//")
    top = axes[0]
    by_day: dict = {}
    for day, treatment in treatments:  # one label per day: same-day treatments would print on top of each other
        ref = typical_duration(treatment)
        text = f"{treatment.product_name} {treatment.dose_value:g} {treatment.dose_unit}"
        if ref is not None:
            text += f" (typical {ref.label}: {ref.text}, reference)"
        by_day.setdefault(day, []).append(text)
    for day, texts in by_day.items():
        top.annotate("\n".join(texts), xy=(day, 1.0), xycoords=("data", "axes fraction"), xytext=(3, 3),
                     textcoords="offset points", fontsize=6.5, color=VERMILLION, va="bottom")
    if keys:
        # Outside the panels: inside, the legend hid the last visit's points.
        handles, labels = axes[0].get_legend_handles_labels()
        fig.legend(handles, labels, fontsize=7, loc="upper right", ncol=3, frameon=False)
    else:
        axes[0].text(0.5, 0.5, "no analysed photos yet", transform=axes[0].transAxes, ha="center", color="0.4")
    pad = max((max(dates) - min(dates)).days * 0.08, 5)
    axes[-1].set_xlim(min(dates) - _dt.timedelta(days=pad), max(dates) + _dt.timedelta(days=pad))
    fig.autofmt_xdate()
    fig.suptitle(f"Patient {timeline.patient.identifier}: lip asymmetry by visit (left − right, subject's sides)",
                 fontsize=10)
    fig.text(0.01, 0.005, f"Bars: {PM_LABEL} of each measurement; grey band: the first visit's value ± the MDC95 of "
             "a change from it (noise within). Dashed red: treatment; labels: settling since the treatment.\n"
             "Green shading: typical duration of the product type (hatched: the upper end of the range), a literature "
             f"REFERENCE range ({SOURCE}), not measured for this patient.", fontsize=6.5, color="0.25")
    fig.tight_layout(rect=(0, 1.0 / fig.get_figheight(), 1, 1 - 0.9 / fig.get_figheight()))
    return fig
