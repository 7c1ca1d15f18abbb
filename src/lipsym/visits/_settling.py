"""Change between visits, and how each follow-up settled after a treatment.

Works on a :class:`~lipsym.visits.Timeline`; every change is computed by
:func:`lipsym.comparison.compare_measures` (change ± SE, MDC95, detectable,
settling class), nothing is re-derived here.

Settling of a follow-up (a measured visit after a treated visit that is not
itself treated), per measure and condition:

- **since treatment**: change from the treated visit (its own photos; if it
  has none in that condition, the latest measured visit before it, e.g. the
  same-day baseline) to the follow-up;
- **since previous**: change from the previous visit measured in that
  condition to the follow-up.

Each change is classified as ``converging`` (|asymmetry| shrank by more than
the minimal detectable change: toward symmetry), ``diverging`` (grew by more
than the MDC: away from symmetry) or ``stable`` (within measurement noise).
Measurement statements, not advice.

The treatment's EFFECT on the size of the lips (:func:`treatment_effects`):
for the treated visit and each follow-up up to the next treatment, each
absolute lip measure's change (:func:`lipsym.comparison.compare_absolute`,
e.g. the upper vermilion height) since the pre-treatment visit (the latest
measured visit before the treated one: the effect at treatment, then what
remains of it at each follow-up), since the treatment (the settling: a
filler's swelling going down is a negative change) and since the previous
visit, each with its MDC95 between two captures.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from lipsym.comparison._absolute_change import KEY_ABSOLUTE, AbsoluteChange, compare_absolute
from lipsym.comparison._calibration import ClinicCalibration
from lipsym.comparison._capture import Capture, CaptureError, capture_from_dict
from lipsym.comparison._compare import KEY_MEASURES, MeasureChange, compare_measures
from lipsym.measures import ScalarMeasure
from lipsym.measures._absolute import ABSOLUTE_KEYS
from lipsym.visits.store import Visit
from lipsym.visits._timeline import Timeline, VisitMeasures

#: Conditions followed by default (the photo measures; ``dynamic`` on request).
PHOTO_CONDITIONS = ("rest", "smile")


def compare_visits(before: VisitMeasures, after: VisitMeasures, *, conditions: Iterable[str] = PHOTO_CONDITIONS,
                   keys: Iterable[str] | None = None,
                   calibration: ClinicCalibration | None = None) -> dict[str, dict[str, MeasureChange]]:
    """Change of each asymmetry from one visit to another.

    Parameters
    ----------
    before, after : VisitMeasures
    conditions : iterable of str
        Conditions to compare; those missing at either visit are left out.
    keys : iterable of str, optional
        Measures; default every measure both visits have, key measures first.
    calibration : ClinicCalibration, optional
        The clinic's re-capture calibration (:attr:`Timeline.calibration`):
        where it has enough data it replaces the model's between-capture SD.

    Returns
    -------
    dict of str to dict of str to MeasureChange
        Condition → key → change. A change between two visits is a change
        between two captures: its standard error includes the
        between-capture error of the two photos' pose, distance,
        resolution and expression (:func:`lipsym.comparison.between_capture_sd`)
        whenever their stored documents say how they were taken. A visit
        with replicate photos of a condition is compared by their robust
        mean, and their measured spread replaces the model's
        between-capture SD when it is larger
        (:func:`lipsym.comparison.compare_sided`).
    """
    out = {}
    for condition in conditions:
        b, a = before.sided.get(condition), after.sided.get(condition)
        if b and a:
            wanted = None if keys is None else [k for k in keys if k in b and k in a]
            out[condition] = compare_measures(b, a, wanted, captures=visit_captures(before, after, condition),
                                              replicates=(before.replicates.get(condition),
                                                          after.replicates.get(condition)),
                                              calibration=None if calibration is None
                                              else calibration.for_expression(condition))
    return out


def visit_absolute(vm: VisitMeasures, condition: str) -> dict[str, ScalarMeasure]:
    """The absolute lip measures of a visit's photo of one condition (empty when it has none).

    From the stored result document of the analysis the condition's measures
    come from (the latest photo when the visit holds replicates).
    """
    scalars = (vm.photos.get(condition) or {}).get("measures", {}).get("scalars", {})
    out = {}
    for key in ABSOLUTE_KEYS:
        d = scalars.get(key)
        if d and d.get("value") is not None and d.get("standard_error") is not None:
            out[key] = ScalarMeasure(key, d.get("unit", ""), float(d["value"]), float(d["standard_error"]),
                                     d.get("description", ""))
    return out


def compare_visits_absolute(before: VisitMeasures, after: VisitMeasures, *,
                            conditions: Iterable[str] = PHOTO_CONDITIONS,
                            keys: Iterable[str] | None = KEY_ABSOLUTE) -> dict[str, dict[str, AbsoluteChange]]:
    """Change of each absolute lip measure from one visit to another.

    Parameters
    ----------
    before, after : VisitMeasures
    conditions : iterable of str
        Photo conditions; those missing at either visit are left out.
    keys : iterable of str or None
        Measures (default :data:`lipsym.comparison.KEY_ABSOLUTE`); None: every absolute measure.

    Returns
    -------
    dict of str to dict of str to AbsoluteChange
        Condition → key → change, with the between-capture model and floors
        when the stored documents say how the photos were taken.
    """
    out = {}
    for condition in conditions:
        b, a = visit_absolute(before, condition), visit_absolute(after, condition)
        if b and a:
            changes = compare_absolute(b, a, keys, captures=visit_captures(before, after, condition))
            if changes:
                out[condition] = changes
    return out


def visit_captures(before: VisitMeasures, after: VisitMeasures, condition: str) -> tuple[Capture, Capture] | None:
    """How the two visits' photos of one condition were taken, or None when a document cannot say.

    The ``dynamic`` condition (rest → smile movement) has no single photo;
    it is compared with the within-photo error only.
    """
    try:
        return capture_from_dict(before.photos[condition]), capture_from_dict(after.photos[condition])
    except (KeyError, CaptureError):
        return None


@dataclass(frozen=True)
class SettlingChange:
    """One measure's settling at one follow-up.

    Attributes
    ----------
    condition : str
    key : str
    since_treatment : MeasureChange or None
        None when the measure is missing at the reference visit.
    since_previous : MeasureChange or None
    """

    condition: str
    key: str
    since_treatment: MeasureChange | None
    since_previous: MeasureChange | None


@dataclass(frozen=True)
class FollowUpSettling:
    """A follow-up visit and its changes since the treatment and since the previous visit.

    Attributes
    ----------
    follow_up : Visit
    treatment_visit : Visit
        The latest treated visit before the follow-up.
    references : dict of str to Visit
        Condition → the visit "since treatment" compares with.
    previous : dict of str to Visit
        Condition → the previous visit measured in that condition.
    changes : tuple of SettlingChange
    """

    follow_up: Visit
    treatment_visit: Visit
    references: dict[str, Visit]
    previous: dict[str, Visit]
    changes: tuple[SettlingChange, ...]


def _latest_measured(visits: Sequence[VisitMeasures], condition: str) -> VisitMeasures | None:
    return next((v for v in reversed(visits) if v.sided.get(condition)), None)


def follow_up_settling(timeline: Timeline, *, keys: Iterable[str] = KEY_MEASURES,
                       conditions: Iterable[str] = PHOTO_CONDITIONS) -> list[FollowUpSettling]:
    """Settling of every follow-up after a treatment (see module docstring).

    Parameters
    ----------
    timeline : Timeline
    keys : iterable of str
        Measures to follow (default :data:`lipsym.comparison.KEY_MEASURES`).
    conditions : iterable of str

    Returns
    -------
    list of FollowUpSettling
        In visit order.
    """
    keys, conditions = tuple(keys), tuple(conditions)
    visits = timeline.visits
    out = []
    treated_at: int | None = None
    for i, current in enumerate(visits):
        if current.treated:
            treated_at = i
            continue
        if treated_at is None or not current.sided:
            continue
        references, previous, changes = {}, {}, []
        for condition in conditions:
            if not current.sided.get(condition):
                continue
            ref = _latest_measured(visits[: treated_at + 1], condition)
            prev = _latest_measured(visits[:i], condition)
            cal = timeline.calibration
            since_ref = compare_visits(ref, current, conditions=[condition], keys=keys, calibration=cal) if ref else {}
            since_prev = (compare_visits(prev, current, conditions=[condition], keys=keys, calibration=cal)
                          if prev else {})
            if ref is not None:
                references[condition] = ref.visit
            if prev is not None:
                previous[condition] = prev.visit
            for key in keys:
                a = since_ref.get(condition, {}).get(key)
                b = since_prev.get(condition, {}).get(key)
                if a is not None or b is not None:
                    changes.append(SettlingChange(condition, key, a, b))
        out.append(FollowUpSettling(current.visit, visits[treated_at].visit, references, previous, tuple(changes)))
    return out


@dataclass(frozen=True)
class AbsoluteSettling:
    """One absolute measure's effect and settling at one visit after a treatment.

    Attributes
    ----------
    condition, key : str
    since_pre_treatment : AbsoluteChange or None
        The treatment's effect: change from the pre-treatment visit.
    since_treatment : AbsoluteChange or None
        Change from the treated visit (None at the treated visit itself).
    since_previous : AbsoluteChange or None
        Change from the previous visit measured in that condition.
    """

    condition: str
    key: str
    since_pre_treatment: AbsoluteChange | None
    since_treatment: AbsoluteChange | None
    since_previous: AbsoluteChange | None


@dataclass(frozen=True)
class TreatmentEffect:
    """The absolute lip measures at a visit after a treatment, against before it.

    Attributes
    ----------
    visit : Visit
        The treated visit itself or a follow-up (before the next treatment).
    treatment_visit : Visit
    pre_treatment : dict of str to Visit
        Condition → the latest measured visit before the treated one.
    changes : tuple of AbsoluteSettling
    """

    visit: Visit
    treatment_visit: Visit
    pre_treatment: dict[str, Visit]
    changes: tuple[AbsoluteSettling, ...]


def _with_absolute(visits: Sequence[VisitMeasures], condition: str) -> VisitMeasures | None:
    return next((v for v in reversed(visits) if visit_absolute(v, condition)), None)


def treatment_effects(timeline: Timeline, *, keys: Iterable[str] = KEY_ABSOLUTE,
                      conditions: Iterable[str] = PHOTO_CONDITIONS) -> list[TreatmentEffect]:
    """The treatment's effect on the absolute lip measures and its settling (module docstring).

    Parameters
    ----------
    timeline : Timeline
    keys : iterable of str
        Absolute measures (default :data:`lipsym.comparison.KEY_ABSOLUTE`).
    conditions : iterable of str

    Returns
    -------
    list of TreatmentEffect
        In visit order: the treated visit (when it has photos) and each
        measured follow-up; visits without a pre-treatment visit measured in
        any condition are left out.
    """
    keys, conditions = tuple(keys), tuple(conditions)
    visits = timeline.visits
    out = []
    treated_at: int | None = None
    for i, current in enumerate(visits):
        if current.treated:
            treated_at = i
        if treated_at is None:
            continue
        pre_visits, changes = {}, []
        for condition in conditions:
            if not visit_absolute(current, condition):
                continue
            pre = _with_absolute(visits[:treated_at], condition)
            ref = _with_absolute(visits[: treated_at + 1], condition) if i > treated_at else None
            prev = _with_absolute(visits[:i], condition)
            if pre is None:
                continue
            pre_visits[condition] = pre.visit
            diffs = [compare_visits_absolute(v, current, conditions=[condition], keys=keys).get(condition, {})
                     if v is not None else {} for v in (pre, ref, prev)]
            for key in keys:
                cells = [d.get(key) for d in diffs]
                if any(c is not None for c in cells):
                    changes.append(AbsoluteSettling(condition, key, *cells))
        if changes:
            out.append(TreatmentEffect(current.visit, visits[treated_at].visit, pre_visits, tuple(changes)))
    return out
