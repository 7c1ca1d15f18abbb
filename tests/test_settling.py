"""Settling after treatment, visit comparison, the timeline's visit references, stored-measure rows.

Pure tests on hand-made timelines: known asymmetries and standard errors,
so every classification is known in advance.
"""

from __future__ import annotations

import datetime as dt
from types import MappingProxyType, SimpleNamespace

import pytest

from lipsym.comparison._compare import compare_measures
from lipsym.visits._durations import HA_FILLER, LIP_FLIP, NEUROMODULATOR, typical_duration
from lipsym.errors import ConfigurationError, NotFoundError
from lipsym.measures import SidedMeasure
from lipsym.visits._settling import compare_visits, follow_up_settling
from lipsym.visits.store import MeasureRow, Patient, Treatment, TreatmentSite, Visit
from lipsym.formats._store_rows import photo_specs, sided_from_rows
from lipsym.visits._timeline import Timeline, VisitMeasures

SE_MM = 0.1  # per measurement → SE of a change 0.141 mm, MDC95 0.277 mm


def sided(key: str, asym: float, se: float = SE_MM) -> SidedMeasure:
    return SidedMeasure(key, "mm", 0.0, asym, asym, None, None, se, "")


def treatment(visit_id: int, product_type: str = "ha_filler", dose: float = 0.5, unit: str = "mL",
              regions=("upper_lip",), technique=None) -> Treatment:
    sites = tuple(TreatmentSite(i, 1, i, r, "left", None) for i, r in enumerate(regions))
    return Treatment(visit_id, visit_id, "Product", product_type, None, dose, unit, technique, None, None, "", sites)


def visit(vid: int, day: str, kind: str, commissure: float | None = None, treated: bool = False,
          smile: float | None = None) -> VisitMeasures:
    by_condition = {}
    if commissure is not None:
        by_condition["rest"] = MappingProxyType({"commissure_height": sided("commissure_height", commissure),
                                                 "bow_peak_height": sided("bow_peak_height", 0.5)})
    if smile is not None:
        by_condition["smile"] = MappingProxyType({"commissure_height": sided("commissure_height", smile)})
    return VisitMeasures(
        visit=Visit(vid, 1, dt.date.fromisoformat(day), kind, None, ""),
        sided=MappingProxyType(by_condition), analysis_ids=MappingProxyType({c: vid for c in by_condition}),
        treatments=(treatment(vid),) if treated else ())


def timeline(*visits: VisitMeasures) -> Timeline:
    return Timeline(Patient(1, "P001", None, None, None, ""), tuple(visits))


def test_follow_ups_after_treatment_are_classified_against_the_mdc():
    t = timeline(
        visit(1, "2024-01-01", "baseline", commissure=2.0),
        visit(2, "2024-01-01", "treatment", commissure=1.0, treated=True),
        visit(3, "2024-01-15", "follow-up", commissure=0.2),   # shrank 0.8 > MDC: converging
        visit(4, "2024-02-15", "follow-up", commissure=0.4),   # 0.2 since previous: stable
        visit(5, "2024-05-15", "follow-up", commissure=1.4),   # grew 1.0 since previous: diverging
    )
    result = follow_up_settling(t)
    assert [s.follow_up.id for s in result] == [3, 4, 5]
    assert all(s.treatment_visit.id == 2 for s in result)
    rest = [{c.key: c for c in s.changes if c.condition == "rest"}["commissure_height"] for s in result]
    assert [c.since_treatment.settling for c in rest] == ["converging", "converging", "diverging"]
    assert [c.since_previous.settling for c in rest] == ["converging", "stable", "diverging"]
    assert rest[1].since_previous.before == pytest.approx(0.2)
    assert rest[1].since_treatment.before == pytest.approx(1.0)
    assert rest[2].since_treatment.change == pytest.approx(0.4)
    assert not rest[1].since_previous.detectable
    assert result[1].references["rest"].id == 2 and result[1].previous["rest"].id == 3
    # An untouched measure stays stable.
    bow = [c for c in result[0].changes if c.key == "bow_peak_height"][0]
    assert bow.since_treatment.settling == "stable" and bow.since_treatment.change == 0


def test_treatment_visit_without_photos_is_referenced_by_the_last_measured_visit():
    t = timeline(
        visit(1, "2024-01-01", "baseline", commissure=2.0, smile=3.0),
        visit(2, "2024-01-02", "treatment", treated=True),
        visit(3, "2024-01-20", "follow-up", commissure=0.3),
    )
    (s,) = follow_up_settling(t)
    assert s.references == {"rest": t.visits[0].visit} and s.previous == {"rest": t.visits[0].visit}
    assert {c.condition for c in s.changes} == {"rest"}  # no smile photo at the follow-up
    c = {c.key: c for c in s.changes}["commissure_height"]
    assert c.since_treatment.settling == "converging" and c.since_treatment.change == pytest.approx(-1.7)


def test_no_settling_without_treatment_and_for_treated_or_unmeasured_visits():
    assert follow_up_settling(timeline(visit(1, "2024-01-01", "baseline", 1.0),
                                       visit(2, "2024-02-01", "follow-up", 0.5))) == []
    t = timeline(visit(1, "2024-01-01", "baseline", 1.0), visit(2, "2024-02-01", "follow-up", 0.5),
                 visit(3, "2024-03-01", "maintenance", 0.4, treated=True), visit(4, "2024-03-15", "follow-up"),
                 visit(5, "2024-04-01", "follow-up", 0.3))
    (s,) = follow_up_settling(t)
    assert s.follow_up.id == 5 and s.treatment_visit.id == 3


def test_compare_visits_uses_the_comparison_layer():
    a, b = visit(1, "2024-01-01", "baseline", 1.0, smile=2.0), visit(2, "2024-02-01", "follow-up", 0.1)
    changes = compare_visits(a, b)
    assert set(changes) == {"rest"}  # the follow-up has no smile photo
    assert changes["rest"] == compare_measures(a.sided["rest"], b.sided["rest"])
    assert list(compare_visits(a, b, keys=["bow_peak_height"])["rest"]) == ["bow_peak_height"]


def test_visit_references():
    t = timeline(visit(7, "2024-01-01", "baseline"), visit(8, "2024-01-01", "treatment", treated=True),
                 visit(9, "2024-02-01", "follow-up"), visit(10, "2024-03-01", "follow-up"))
    assert t.find("7").visit.id == 7 and t.find("#8").visit.id == 8 and t.find(9).visit.id == 9
    assert t.find("2024-01-01:treatment").visit.id == 8
    assert t.find("2024-03-01").visit.id == 10
    assert t.find("baseline").visit.id == 7 and t.find("Treatment").visit.id == 8
    assert t.find("first").visit.id == 7 and t.find("last").visit.id == 10
    with pytest.raises(ConfigurationError, match="matches 2 visits"):
        t.find("2024-01-01")
    with pytest.raises(ConfigurationError, match="matches 2 visits"):
        t.find("follow-up")
    with pytest.raises(NotFoundError, match="no visit on 2024-05-01"):
        t.find("2024-05-01")
    with pytest.raises(NotFoundError):
        t.find("11")
    with pytest.raises(ConfigurationError):
        t.find("2024-02-30")
    with pytest.raises(ConfigurationError):
        t.find("yesterday")


def test_typical_durations_are_reference_ranges_by_product():
    assert typical_duration(treatment(1, "ha_filler")) is HA_FILLER and HA_FILLER.max_days is None
    assert 170 < HA_FILLER.min_days < 190
    toxin = treatment(1, "neuromodulator", dose=20, unit="U", regions=("dao",))
    assert typical_duration(toxin) is NEUROMODULATOR
    assert typical_duration(treatment(1, "neuromodulator", dose=6, unit="U", regions=("upper_lip",))) is LIP_FLIP
    flip_named = treatment(1, "neuromodulator", dose=12, unit="U", regions=("dao",), technique="Lip flip")
    assert typical_duration(flip_named) is LIP_FLIP
    assert typical_duration(treatment(1, "other")) is None
    assert (LIP_FLIP.min_days, LIP_FLIP.max_days) < (NEUROMODULATOR.min_days, NEUROMODULATOR.max_days)


def test_stored_rows_rebuild_the_sided_measures():
    measures = SimpleNamespace(
        sided={"commissure_height": SidedMeasure("commissure_height", "mm", 10.0, 11.5, 1.5, 2.3, 0.87, 0.2, "d")},
        scalars={"bow_width": SimpleNamespace(key="bow_width", unit="mm", value=9.0, standard_error=0.1)},
        composite=SimpleNamespace(value=0.4, standard_error=0.05))
    specs = photo_specs(measures, "smile")
    assert {s.name for s in specs} == {"commissure_height.asymmetry", "commissure_height.right",
                                       "commissure_height.left", "bow_width", "composite"}
    rows = [MeasureRow(1, dt.date(2024, 1, 1), "baseline", 5, None, 3, "h", "0", s.name, s.value, s.unit,
                       s.standard_error, s.condition) for s in specs]
    rebuilt = sided_from_rows(rows)["smile"]["commissure_height"]
    assert (rebuilt.right, rebuilt.left, rebuilt.asymmetry, rebuilt.standard_error, rebuilt.unit) == (
        10.0, 11.5, 1.5, 0.2, "mm")
    assert set(sided_from_rows(rows)) == {"smile"}


def test_mixed_settings_are_noticed():
    a, b = visit(1, "2024-01-01", "baseline", 1.0), visit(2, "2024-02-01", "follow-up", 0.5)
    assert not timeline(a, b).mixed_settings  # no hashes recorded: nothing to tell apart
    same = [VisitMeasures(v.visit, v.sided, v.analysis_ids, v.treatments, MappingProxyType({"rest": "h1"}))
            for v in (a, b)]
    assert not timeline(*same).mixed_settings
    other = VisitMeasures(b.visit, b.sided, b.analysis_ids, b.treatments, MappingProxyType({"rest": "h2"}))
    assert timeline(same[0], other).mixed_settings
