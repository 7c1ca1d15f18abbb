"""The ``lipsym track`` figure: each key asymmetry across a patient's visits.

One panel per measure; rest and smile as two series with ±1.96·SE bands
(the 95 % interval of each measurement); treatments as vertical lines on
the time axis, each followed by the typical duration of its product type
shaded and labelled as a literature reference range (:mod:`lipsym.visits`),
never as a measurement.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Iterable

from lipsym.comparison._compare import KEY_MEASURES, Z95
from lipsym.visits._durations import SOURCE, typical_duration
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
            errors.append(Z95 * m.standard_error)
    return dates, values, errors


def plotted_keys(timeline: Timeline, keys: Iterable[str] = KEY_MEASURES) -> list[str]:
    """The measures of ``keys`` that at least one visit has."""
    present = {k for vm in timeline.visits for by_key in vm.sided.values() for k in by_key}
    return [k for k in keys if k in present]


def track_png(timeline: Timeline, keys: Iterable[str] = KEY_MEASURES, *, dpi: int = 120) -> bytes:
    """PNG of the key asymmetries across visits.

    Parameters
    ----------
    timeline : Timeline
    keys : iterable of str
        Measures to plot (those no visit has are skipped).
    dpi : int

    Returns
    -------
    bytes
        PNG, no metadata.
    """
    keys = plotted_keys(timeline, keys)
    n = max(len(keys), 1)
    fig = new_figure(9.0, 1.9 * n + 1.4, dpi=dpi)
    axes = fig.subplots(n, 1, sharex=True, squeeze=False)[:, 0]
    treatments = [(vm.visit.visit_date, t) for vm in timeline.visits for t in vm.treatments]
    dates = [vm.visit.visit_date for vm in timeline.visits] or [_dt.date.today()]
    span_end = max(dates)
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
        ax.axhline(0.0, color="0.4", lw=0.8)
        ax.set_ylabel(f"{key.replace('_', ' ')}\n({unit}, L − R)", fontsize=8)
        ax.tick_params(labelsize=7)
        for i, (day, treatment) in enumerate(treatments):
            ax.axvline(day, color=VERMILLION, lw=1.2, ls="--")
            ref = typical_duration(treatment)
            if ref is None:
                continue
            start = day + _dt.timedelta(days=ref.min_days)
            ax.axvspan(day, start, color=GREEN, alpha=0.08, lw=0)
            if ref.max_days is not None:
                ax.axvspan(start, day + _dt.timedelta(days=ref.max_days), color=GREEN, alpha=0.04, lw=0,
                           hatch="//")
            span_end = max(span_end, start)
    top = axes[0]
    for day, treatment in treatments:
        ref = typical_duration(treatment)
        text = f"{treatment.product_name} {treatment.dose_value:g} {treatment.dose_unit}"
        if ref is not None:
            text += f"\ntypical {ref.label}: {ref.text} (reference)"
        top.annotate(text, xy=(day, 1.0), xycoords=("data", "axes fraction"), xytext=(3, 3),
                     textcoords="offset points", fontsize=6.5, color=VERMILLION, va="bottom")
    if keys:
        axes[0].legend(fontsize=7, loc="upper right")
    else:
        axes[0].text(0.5, 0.5, "no analysed photos yet", transform=axes[0].transAxes, ha="center", color="0.4")
    first = min(dates) - _dt.timedelta(days=7)
    axes[-1].set_xlim(first, span_end + _dt.timedelta(days=7))
    fig.autofmt_xdate()
    fig.suptitle(f"Patient {timeline.patient.identifier}: lip asymmetry by visit (left − right, subject's sides)",
                 fontsize=10)
    fig.text(0.01, 0.005, "Bands and bars: ±1.96·SE of each measurement. Dashed red: treatment.\n"
             "Green shading: typical duration of the product type (hatched: the upper end of the range), a literature "
             f"REFERENCE range ({SOURCE}), not measured for this patient.", fontsize=6.5, color="0.25")
    fig.tight_layout(rect=(0, 0.04, 1, 0.95))
    return figure_png(fig)
