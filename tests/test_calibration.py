"""Clinic calibration (issue #13, point 3): the clinic's own re-capture SD from replicate photos.

Hand-made measures in a real store: the pooled SD, its interval, where it is
stored, and that later comparisons use it (and still keep the floors).
"""

from __future__ import annotations

import json
import math
import statistics
from pathlib import Path

import pytest

from lipsym.cli import main
from lipsym.comparison import (MIN_DEGREES_OF_FREEDOM, CalibratedSD, ClinicCalibration, aggregate_sided, pooled_sd)
from lipsym.comparison._calibration import chi2_quantile
from lipsym.comparison._capture import Capture
from lipsym.comparison._capture_model import between_capture_sd, change_se_floor
from lipsym.comparison._compare import compare_sided
from lipsym.errors import StoreError
from lipsym.measures import SidedMeasure
from lipsym.visits import calibrate_clinic, load_clinic_calibration
from lipsym.visits._settling import compare_visits
from lipsym.visits._timeline import load_timeline
from lipsym.visits.store import MeasureSpec, Store, write_meta

KEY = "commissure_height"


def sided(asym: float, se: float = 0.1) -> SidedMeasure:
    return SidedMeasure(KEY, "mm", 1.0, 1.0 + asym, asym, None, None, se, "")


def capture() -> Capture:
    return Capture(expression="rest", yaw_deg=0.0, pitch_deg=0.0, roll_deg=0.0, ipd_px=300.0,
                   mm_per_px=0.2, mouth_width_ipd=0.8, lip_gap_ipd=0.0)


def calibrated(sd: float, df: int) -> CalibratedSD:
    return CalibratedSD(KEY, "mm", "rest", sd, sd * 0.7, sd * 1.7, df, df, 2 * df)


# --- the estimate ------------------------------------------------------------------------------------


def test_pooled_sd_weights_each_visit_by_its_degrees_of_freedom():
    visits = [(0.0, 0.3, 0.9), (1.0, 1.1), (2.0, 2.4, 2.2, 2.8), (5.0,)]  # the single photo adds nothing
    groups = [aggregate_sided([sided(v) for v in values]) for values in visits]
    c = pooled_sd(KEY, "rest", groups)
    df = 2 + 1 + 3
    expected = math.sqrt(sum((len(v) - 1) * statistics.variance(v) for v in visits if len(v) > 1) / df)
    assert (c.degrees_of_freedom, c.visits, c.photos) == (df, 3, 9)
    assert c.sd == pytest.approx(expected) and c.ci_low < c.sd < c.ci_high
    assert not c.used and pooled_sd(KEY, "rest", groups[3:]) is None


def test_the_interval_matches_the_exact_chi_square_interval():
    stats = pytest.importorskip("scipy.stats")
    for df in (MIN_DEGREES_OF_FREEDOM, 20, 40, 200):
        for p, z in ((0.975, 1.959963984540054), (0.025, -1.959963984540054)):
            assert chi2_quantile(df, z) == pytest.approx(stats.chi2.ppf(p, df), rel=0.01)
    # Below the minimum the approximation errs on the wide side of the interval.
    for df in (2, 3, 5):
        assert chi2_quantile(df, -1.959963984540054) <= stats.chi2.ppf(0.025, df)


def test_the_document_round_trips_and_refuses_another_version():
    c = ClinicCalibration({("rest", KEY): calibrated(0.3, 12)}, "2026-12-02T10:00:00+00:00", "0.1.0")
    doc = json.loads(json.dumps(c.to_dict()))
    assert doc["measures"][0]["used"] is True and doc["min_degrees_of_freedom"] == MIN_DEGREES_OF_FREEDOM
    back = ClinicCalibration.from_dict(doc)
    assert back.measures == c.measures and back.for_expression("rest")[KEY].sd == 0.3
    assert back.for_expression("smile") == {}
    with pytest.raises(ValueError):
        ClinicCalibration.from_dict({**doc, "version": 99})


# --- its use in a change -----------------------------------------------------------------------------


def test_a_used_calibration_replaces_the_model_and_keeps_the_floor():
    caps = (capture(), capture())
    before, after = sided(0.0), sided(1.0)
    model = compare_sided(before, after, caps)
    assert model.between_source == "model"
    big = compare_sided(before, after, caps, calibration=calibrated(1.0, 20))
    assert big.between_source == "clinic"
    assert big.standard_error == pytest.approx(max(math.hypot(math.hypot(0.1, 0.1), math.sqrt(2) * 1.0),
                                                   change_se_floor("mm", *caps)))
    assert big.standard_error > model.standard_error
    tiny = compare_sided(before, after, caps, calibration=calibrated(0.001, 20))
    assert tiny.standard_error == pytest.approx(change_se_floor("mm", *caps))  # never below the floor
    unused = compare_sided(before, after, caps, calibration=calibrated(1.0, MIN_DEGREES_OF_FREEDOM - 1))
    assert unused.between_source == "model" and unused.standard_error == model.standard_error
    assert between_capture_sd(KEY, "mm", *caps) > 0


def test_replicates_larger_than_the_calibration_win():
    caps = (capture(), capture())
    b = aggregate_sided([sided(v) for v in (0.0, 2.0, 4.0)])
    a = aggregate_sided([sided(v) for v in (1.0, 3.0, 5.0)])
    c = compare_sided(b.measure, a.measure, caps, (b, a), calibrated(0.2, 20))
    assert c.between_source == "replicates" and c.replicate_se == pytest.approx(math.sqrt(2 * 4 / 3))
    small = compare_sided(b.measure, a.measure, caps, (b, a), calibrated(5.0, 20))
    assert small.between_source == "clinic"
    # Visit values that are means of three photos: the clinic SD of a change shrinks by sqrt(1/3 + 1/3).
    assert small.standard_error == pytest.approx(max(math.hypot(math.hypot(0.1, 0.1), 5.0 * math.sqrt(2 / 3)),
                                                     change_se_floor("mm", *caps)))


# --- the record --------------------------------------------------------------------------------------


def _record(tmp_path: Path, patients: int = 6) -> Path:
    """``patients`` patients, each a baseline of three rest photos and a follow-up of one."""
    db = tmp_path / "clinic.sqlite3"
    with Store.open(db) as store:
        for p in range(patients):
            patient = store.add_patient(f"P{p:03d}")
            base = store.add_visit(patient, "2024-01-01", "baseline")
            follow = store.add_visit(patient, "2024-02-01", "follow-up")
            for visit, values in ((base, (p * 0.1, p * 0.1 + 0.2, p * 0.1 + 0.6)), (follow, (1.0,))):
                for i, value in enumerate(values):
                    path = tmp_path / f"{patient.identifier}_{visit.id}_{i}.jpg"
                    path.write_bytes(b"photo %d %d %d" % (p, visit.id, i))
                    photo = store.add_photo(visit, path, "rest")
                    store.add_analysis(rest_photo=photo, settings={"s": 1}, result={},
                                       measures=[MeasureSpec(f"{KEY}.asymmetry", value, "mm", "rest",
                                                             standard_error=0.1)])
    return db


def test_calibrate_pools_the_record_stores_it_and_comparisons_use_it(tmp_path: Path):
    db = _record(tmp_path)
    with Store.open(db) as store:
        assert load_clinic_calibration(store) is None
        before = compare_visits(*load_timeline(store, "P000").visits)["rest"][KEY]
        c = calibrate_clinic(store)
        stored = load_clinic_calibration(store)
        timeline = load_timeline(store, "P000")
        after = compare_visits(*timeline.visits, calibration=timeline.calibration)["rest"][KEY]
    sd = statistics.stdev([0.0, 0.2, 0.6])  # every patient's three photos spread alike
    est = c.measures[("rest", KEY)]
    assert (est.degrees_of_freedom, est.visits, est.photos, est.used) == (12, 6, 18, True)
    assert est.sd == pytest.approx(sd) and stored.measures == c.measures
    assert before.between_source == "replicates" and after.between_source == "clinic"
    # The clinic SD of a change of a three-photo mean and a single photo:
    assert after.standard_error == pytest.approx(math.hypot(math.hypot(0.1, 0.1), sd * math.sqrt(1 / 3 + 1)))


def test_too_few_replicates_are_stored_but_not_used(tmp_path: Path):
    db = _record(tmp_path, patients=2)  # 4 degrees of freedom
    with Store.open(db) as store:
        c = calibrate_clinic(store)
        timeline = load_timeline(store, "P000")
        change = compare_visits(*timeline.visits, calibration=timeline.calibration)["rest"][KEY]
    assert not c.measures[("rest", KEY)].used and change.between_source == "replicates"


def test_cli_calibrate_prints_stores_and_dry_runs(tmp_path: Path, capsys):
    db = _record(tmp_path)
    assert main(["calibrate", "--db", str(db), "--dry-run", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["schema"] == "lipsym.clinic_calibration" and doc["saved"] is False
    with Store.open(db) as store:
        assert load_clinic_calibration(store) is None
    assert main(["calibrate", "--db", str(db)]) == 0
    out = capsys.readouterr()
    assert "commissure height (mm)" in out.out and "yes" in out.out and "stored in the record" in out.err
    assert main(["compare", "P000", "--from", "2024-01-01", "--to", "2024-02-01", "--db", str(db), "--json"]) == 0
    change = json.loads(capsys.readouterr().out)["changes"]["rest"][0]
    assert (change["key"], change["between_source"]) == (KEY, "clinic")


def test_an_empty_record_says_there_is_nothing_to_calibrate(tmp_path: Path, capsys):
    db = tmp_path / "empty.sqlite3"
    Store.open(db).close()
    assert main(["calibrate", "--db", str(db)]) == 0
    assert "nothing to calibrate" in capsys.readouterr().err


def test_a_damaged_calibration_document_is_a_one_line_error(tmp_path: Path, capsys):
    db = _record(tmp_path, patients=1)
    with Store.open(db) as store:
        write_meta(store, "clinic_calibration", "{not json")
        with pytest.raises(StoreError, match="calibrate"):
            load_clinic_calibration(store)
        with pytest.raises(ValueError):
            write_meta(store, "pseudonym_key", "x")
    assert main(["track", "P000", "--db", str(db)]) != 0
    err = capsys.readouterr().err
    assert err.startswith("lipsym: ") and "Traceback" not in err
