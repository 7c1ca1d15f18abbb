"""Replicate photos per visit (issue #13): their robust mean, their spread, and the change's SE.

Pure tests on hand-made measures and a store with hand-made analyses; the
import of a real replicate folder (re-encoded copies of one London photo)
is slow and needs the shared photos.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import math
import statistics
from pathlib import Path

import pytest

from conftest import LONDON, needs_shared
from lipsym.cli import main
from lipsym.comparison._capture import Capture
from lipsym.comparison._capture_model import between_capture_sd, change_se_floor
from lipsym.comparison._compare import Z95, compare_sided
from lipsym.comparison._replicates import aggregate_replicates, robust_mean
from lipsym.io._collection import discover
from lipsym.measures import SidedMeasure
from lipsym.visits._analyzer import visit_jobs
from lipsym.visits._settling import compare_visits
from lipsym.visits._timeline import load_timeline
from lipsym.visits.store import MeasureSpec, Store

KEY = "commissure_height"


def sided(asym: float, se: float = 0.1, key: str = KEY) -> SidedMeasure:
    return SidedMeasure(key, "mm", 1.0, 1.0 + asym, asym, None, None, se, "")


def capture(expression: str = "rest") -> Capture:
    return Capture(expression=expression, yaw_deg=0.0, pitch_deg=0.0, roll_deg=0.0, ipd_px=300.0,
                   mm_per_px=0.2, mouth_width_ipd=0.8, lip_gap_ipd=0.0)


# --- aggregation ---------------------------------------------------------------------------------


def test_three_replicates_give_the_median_and_their_sd():
    values = [1.0, 1.3, 4.0]  # one outlying capture does not pull the median
    r = aggregate_replicates([{KEY: sided(v, se)} for v, se in zip(values, (0.1, 0.3, 0.2))])[KEY]
    assert r.n == 3 and r.asymmetries == tuple(values)
    assert r.measure.asymmetry == 1.3 and r.measure.left == 2.3 and r.measure.right == 1.0
    assert r.sd == pytest.approx(statistics.stdev(values))
    assert r.standard_error_of_mean == pytest.approx(statistics.stdev(values) / math.sqrt(3))
    assert r.measure.standard_error == 0.2  # the median of the one-photo SEs, not reduced by averaging


def test_two_replicates_give_the_mean_one_gives_itself():
    assert robust_mean([1.0, 2.0]) == 1.5 and robust_mean([1.0, 2.0, 10.0]) == 2.0 and robust_mean([3.0]) == 3.0
    one = aggregate_replicates([{KEY: sided(0.7)}])[KEY]
    assert one.n == 1 and one.measure.asymmetry == 0.7 and math.isnan(one.sd)
    with pytest.raises(ValueError):
        robust_mean([])
    with pytest.raises(ValueError):
        aggregate_replicates([{KEY: sided(1.0)}, {KEY: SidedMeasure(KEY, "deg", 0, 0, 0, None, None, 0, "")}])


# --- the change's standard error -----------------------------------------------------------------


def test_a_large_replicate_spread_widens_the_change_se():
    before = aggregate_replicates([{KEY: sided(v)} for v in (0.0, 1.5, 3.0)])[KEY]
    after = aggregate_replicates([{KEY: sided(v)} for v in (1.0, 2.5, 4.0)])[KEY]
    caps = (capture(), capture())
    model = between_capture_sd(KEY, "mm", *caps)
    measured = math.sqrt(before.sd ** 2 / 3 + after.sd ** 2 / 3)
    assert measured > model
    c = compare_sided(before.measure, after.measure, caps, (before, after))
    assert c.standard_error == pytest.approx(max(math.hypot(math.hypot(0.1, 0.1), measured),
                                                 change_se_floor("mm", *caps)))
    assert c.minimal_detectable_change == pytest.approx(Z95 * c.standard_error)
    assert (c.before_replicates, c.after_replicates, c.replicate_se) == (3, 3, pytest.approx(measured))
    assert c.before_replicate_sd == pytest.approx(1.5) and c.change == pytest.approx(1.0)
    assert c.standard_error > compare_sided(before.measure, after.measure, caps).standard_error


def test_tight_replicates_keep_the_model_se():
    before = aggregate_replicates([{KEY: sided(v)} for v in (1.0, 1.01, 1.02)])[KEY]
    after = aggregate_replicates([{KEY: sided(v)} for v in (2.0, 2.01, 2.02)])[KEY]
    caps = (capture(), capture())
    plain = compare_sided(before.measure, after.measure, caps)
    c = compare_sided(before.measure, after.measure, caps, (before, after))
    assert c.standard_error == plain.standard_error and c.replicate_se < 0.02
    assert plain.before_replicates == 1 and plain.replicate_se is None and plain.before_replicate_sd is None


# --- the visit record: timeline, jobs, discovery ----------------------------------------------------


def _spec(value: float, condition: str = "rest") -> list[MeasureSpec]:
    return [MeasureSpec(f"{KEY}.asymmetry", value, "mm", condition, standard_error=0.1)]


def test_a_visit_with_three_rest_photos_tracks_their_median_and_sd(tmp_path: Path):
    with Store.open(tmp_path / "r.sqlite3") as store:
        patient = store.add_patient("P001")
        base = store.add_visit(patient, "2024-01-01", "baseline")
        follow = store.add_visit(patient, "2024-02-01", "follow-up")
        photos = []
        for i, value in enumerate((1.0, 1.3, 4.0)):
            (tmp_path / f"rest{i}.jpg").write_bytes(b"rest-%d" % i)
            photo = store.add_photo(base, tmp_path / f"rest{i}.jpg", "rest")
            photos.append(photo)
            store.add_analysis(rest_photo=photo, settings={"s": 1}, result={}, measures=_spec(value))
        (tmp_path / "later.jpg").write_bytes(b"later")
        later = store.add_photo(follow, tmp_path / "later.jpg", "rest")
        store.add_analysis(rest_photo=later, settings={"s": 1}, result={}, measures=_spec(3.0))
        timeline = load_timeline(store, "P001")
        first, second = timeline.visits
        r = first.replicates["rest"][KEY]
        assert first.sided["rest"][KEY].asymmetry == 1.3 and r.n == 3
        assert r.sd == pytest.approx(statistics.stdev([1.0, 1.3, 4.0]))
        assert len(first.replicate_analysis_ids["rest"]) == 3 and not second.replicates
        change = compare_visits(first, second)["rest"][KEY]
        assert change.change == pytest.approx(1.7) and change.before_replicates == 3
        assert change.standard_error == pytest.approx(math.hypot(math.hypot(0.1, 0.1), r.sd / math.sqrt(3)))
        # A re-analysis of one photo (other settings) supersedes that photo's earlier analysis only.
        store.add_analysis(rest_photo=photos[2], settings={"s": 2}, result={}, measures=_spec(1.2))
        again = load_timeline(store, "P001").visits[0]
        assert again.sided["rest"][KEY].asymmetry == 1.2 and again.replicates["rest"][KEY].n == 3


def test_visit_jobs_pair_replicates_in_order(tmp_path: Path):
    with Store.open(tmp_path / "r.sqlite3") as store:
        visit = store.add_visit(store.add_patient("P001"), "2024-01-01", "baseline")
        for name, expression in (("r1", "rest"), ("s1", "smile"), ("r2", "rest"), ("s2", "smile"), ("r3", "rest")):
            (tmp_path / name).write_bytes(name.encode())
            store.add_photo(visit, tmp_path / name, expression)
        jobs = visit_jobs(store.list_photos(visit))
    names = [(j.rest and Path(j.rest.path).name, j.smile and Path(j.smile.path).name) for j in jobs]
    assert names == [("r1", "s1"), ("r2", "s2"), ("r3", None)]


def test_discovery_pairs_numbered_replicates(tmp_path: Path):
    for name in ("rest1.jpg", "rest2.jpg", "rest_3.jpg", "Smile1.jpg", "smile2.png", "restoration.jpg"):
        path = tmp_path / "P001" / "2024-05-02" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"x")
    c = discover(tmp_path)
    items = {i.name: i for i in c.items}
    assert set(items) == {"P001/2024-05-02/pair1", "P001/2024-05-02/pair2", "P001/2024-05-02/rest_3.jpg",
                          "P001/2024-05-02/restoration.jpg"}
    assert (items["P001/2024-05-02/pair1"].rest.name, items["P001/2024-05-02/pair1"].smile.name) == \
        ("rest1.jpg", "Smile1.jpg")
    assert items["P001/2024-05-02/rest_3.jpg"].rest is not None
    assert items["P001/2024-05-02/restoration.jpg"].other is not None and c.problems == ()


def _replicate(source: Path, target: Path, scale: float, quality: int) -> None:
    """A planted re-capture: the same photo resized and re-encoded (never a copy of the file)."""
    from PIL import Image

    with Image.open(source) as im:
        w, h = im.size
        out = im.convert("RGB").resize((round(w * scale), round(h * scale)), Image.LANCZOS)
        buf = io.BytesIO()
        out.save(buf, "JPEG", quality=quality)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(buf.getvalue())


@pytest.mark.slow
@needs_shared
def test_import_records_and_analyses_every_replicate(tmp_path: Path, capsys):
    folder = tmp_path / "photos" / "R1" / "2024-01-10"
    for i, (scale, quality) in enumerate(((1.0, 95), (0.92, 90), (0.85, 85)), start=1):
        _replicate(LONDON / "neutral" / "010_03.jpg", folder / f"rest{i}.jpg", scale, quality)
    _replicate(LONDON / "smiling" / "010_08.jpg", folder / "smile.jpg", 1.0, 95)
    db = tmp_path / "r.sqlite3"
    capsys.readouterr()
    assert main(["import", str(tmp_path / "photos"), "--db", str(db), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert (report["photos_added"], report["analyses_added"], report["failures"]) == (4, 3, [])
    with Store.open(db) as store:
        (vm,) = load_timeline(store, "R1").visits
        rest = vm.replicates["rest"][KEY]
        assert rest.n == 3 and len(vm.replicate_analysis_ids["rest"]) == 3
        assert rest.measure.asymmetry == statistics.median(rest.asymmetries)
        assert 0 < rest.sd < 1.0  # re-encodings of one photo: a small, measured spread
        assert "smile" not in vm.replicates and vm.visit.visit_date == dt.date(2024, 1, 10)
    # A later visit with one photo each: compare PATIENT --json shows the replicates and their SE.
    later = tmp_path / "later" / "R1" / "2024-02-10"
    _replicate(LONDON / "neutral" / "010_03.jpg", later / "rest.jpg", 0.95, 92)
    _replicate(LONDON / "smiling" / "010_08.jpg", later / "smile.jpg", 0.95, 92)
    assert main(["import", str(tmp_path / "later"), "--db", str(db), "--json"]) == 0
    capsys.readouterr()
    assert main(["compare", "R1", "--from", "first", "--to", "last", "--db", str(db), "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["replicates"] == {"from": {"rest": 3, "smile": 1, "dynamic": 1},
                                 "to": {"rest": 1, "smile": 1, "dynamic": 1}}
    change = next(c for c in doc["changes"]["rest"] if c["key"] == KEY)
    assert (change["before_replicates"], change["after_replicates"], change["after_replicate_sd"]) == (3, 1, None)
    assert change["before_replicate_sd"] == pytest.approx(rest.sd)
    assert change["replicate_se"] == pytest.approx(rest.sd / math.sqrt(3))
    smile = next(c for c in doc["changes"]["smile"] if c["key"] == KEY)
    assert smile["before_replicates"] == 1 and smile["replicate_se"] is None


# --- lipsym analyze --replicates ----------------------------------------------------------------------


def test_analyze_without_replicates_still_wants_pairs(capsys):
    assert main(["analyze", "--rest", "a.jpg", "--rest", "b.jpg", "--smile", "c.jpg"]) != 0
    assert "--replicates" in capsys.readouterr().err


@pytest.mark.slow
@needs_shared
def test_analyze_replicates_mode_gives_mean_sd_and_n(tmp_path: Path, capsys):
    rests = [tmp_path / f"rest{i}.jpg" for i in (1, 2, 3)]
    for path, (scale, quality) in zip(rests, ((1.0, 95), (0.92, 90), (0.85, 85))):
        _replicate(LONDON / "neutral" / "010_03.jpg", path, scale, quality)
    smile = tmp_path / "smile1.jpg"
    _replicate(LONDON / "smiling" / "010_08.jpg", smile, 1.0, 95)
    out = tmp_path / "out.json"
    # Rest photos as --rest and as a rest-named PHOTO: counts differ from the smiles'.
    argv = ["analyze", "--replicates", str(rests[2]), "--rest", str(rests[0]), "--rest", str(rests[1]),
            "--smile", str(smile), "-o", str(out)]
    assert main(argv) == 0
    doc = json.loads(out.read_text())
    assert len(doc["pairs"]) == 1 and len(doc["results"]) == 4
    rest = doc["replicates"]["rest"][KEY]
    assert rest["n"] == 3 and rest["asymmetry"] == pytest.approx(statistics.median(rest["asymmetries"]))
    assert rest["sd"] == pytest.approx(statistics.stdev(rest["asymmetries"]))
    assert doc["replicates"]["smile"][KEY]["n"] == 1 and doc["replicates"]["smile"][KEY]["sd"] is None
    assert doc["replicates"]["dynamic"]
    jsonschema = pytest.importorskip("jsonschema")
    schema = json.loads((Path(__file__).parents[1] / "src/lipsym/formats/analysis.schema.json").read_text())
    jsonschema.validate(doc, schema)
