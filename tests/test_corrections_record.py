"""Manual corrections in the visit record: saved as a new analysis, conflicts, used and announced downstream."""

from __future__ import annotations

import csv
import json

import pytest
from PIL import Image

from conftest import REPO
from lipsym.analysis import Corrections, PointMove, correctable_points
from lipsym.cli import main
from lipsym.errors import CorrectionConflictError, CorrectionError
from lipsym.measures import measure_pair
from lipsym.visits import (correct_visit, latest_manual, load_stored_analyses, load_timeline, manual_correction,
                           save_corrections)
from lipsym.visits.store import Store

PATIENT = "P094"
DATES = ("2026-01-10", "2026-02-10")
SAMPLES = {"rest": REPO / "sample_images" / "london_094_rest.jpg",
           "smile": REPO / "sample_images" / "london_094_smile.jpg"}


@pytest.fixture(scope="module")
def record(tmp_path_factory, landmarker):
    """Two visits of the same photos (the second re-encoded as PNG: same pixels, another file)."""
    root = tmp_path_factory.mktemp("corr_record")
    rows = [(PATIENT, DATES[0], e, str(p), "baseline") for e, p in SAMPLES.items()]
    for expression, path in SAMPLES.items():
        out = root / f"second_{expression}.png"
        Image.open(path).save(out)
        rows.append((PATIENT, DATES[1], expression, str(out), "follow-up"))
    manifest = root / "visits.csv"
    with open(manifest, "w", newline="") as f:
        csv.writer(f).writerows([("patient", "date", "expression", "path", "kind"), *rows])
    db = root / "record.sqlite3"
    assert main(["import", str(manifest), "--db", str(db)]) == 0
    return {"root": root, "db": db}


@pytest.fixture()
def db(record, tmp_path):
    """A fresh copy of the record for each test (corrections change it)."""
    copy = tmp_path / "record.sqlite3"
    with Store.open(record["db"]) as store:
        store.backup(copy)
    return copy


def _validator():
    import jsonschema
    from importlib import resources

    schema = json.loads(resources.files("lipsym.formats").joinpath("analysis.schema.json").read_text())
    return jsonschema.Draft202012Validator(schema)


def _pair_analysis(store, date):
    vm = load_timeline(store, PATIENT).find(date)
    return store.get_analysis(vm.analysis_ids["dynamic"])


def _move(analysis, name, dx, dy):
    x, y = correctable_points(analysis)[name]
    return PointMove(name, x + dx, y + dy)


def test_a_stored_analysis_is_reproduced_and_a_save_keeps_both_analyses(db, landmarker):
    with Store.open(db) as store:
        automatic = _pair_analysis(store, DATES[0])
        loaded = load_stored_analyses(store, automatic, landmarker=landmarker)
        assert loaded.latest_manual_id is None and loaded.rest.provenance == "automatic"
        moves = Corrections((_move(loaded.rest, "cheilion_right", 0, 10),))
        saved = save_corrections(store, loaded, {"rest": moves}, expected_latest_id=None)
        assert saved.id != automatic.id
        # The automatic analysis is still there, unchanged.
        assert store.get_analysis(automatic.id).result_json == automatic.result_json
        assert {a.id for a in store.list_analyses(automatic.visit_id)} >= {automatic.id, saved.id}
        manual = manual_correction(saved)
        assert manual.based_on == automatic.id and manual.moved_points == {"rest": ["cheilion_right"]}
        assert manual_correction(automatic) is None
        doc = saved.result
        entry = next(r for r in doc["results"] if r["expression"] == "rest")
        assert entry["provenance"] == "manual" and entry["corrections"][0]["point"] == "cheilion_right"
        assert entry["corrections"][0]["displacement_px"] == [0.0, 10.0]
        assert not list(_validator().iter_errors(doc))  # still a valid lipsym.analysis document
        # Stored measures are those of the corrected pair.
        stored = {(m.name, m.condition): m.value for m in store.get_measures(saved)}
        expected = measure_pair(loaded.rest.automatic if loaded.rest.automatic else loaded.rest, loaded.smile)
        before = stored[("commissure_height.asymmetry", "rest")]
        assert before != pytest.approx(expected.rest.sided["commissure_height"].asymmetry)
        # Loading the manual analysis applies its moves again to the re-analysed photos.
        again = load_stored_analyses(store, saved, landmarker=landmarker)
        assert again.rest.provenance == "manual" and again.latest_manual_id == saved.id
        m = measure_pair(again.rest, again.smile)
        assert m.rest.sided["commissure_height"].asymmetry == pytest.approx(before, abs=1e-9)


def test_two_editors_never_lose_a_save(db, landmarker):
    with Store.open(db) as store:
        automatic = _pair_analysis(store, DATES[0])
        tab_a = load_stored_analyses(store, automatic, landmarker=landmarker)
        tab_b = load_stored_analyses(store, automatic, landmarker=landmarker)
        a_moves = {"rest": Corrections((_move(tab_a.rest, "cheilion_left", 0, -5),))}
        first = save_corrections(store, tab_a, a_moves, expected_latest_id=tab_a.latest_manual_id)
        # The same request again (a retry) is the same save, not a conflict.
        assert save_corrections(store, tab_a, a_moves, expected_latest_id=tab_a.latest_manual_id).id == first.id
        with pytest.raises(CorrectionConflictError, match=rf"another correction of these photos was saved \(analysis #{first.id}") as info:
            save_corrections(store, tab_b, {"smile": Corrections((_move(tab_b.smile, "stomion", 2, 0),))},
                             expected_latest_id=tab_b.latest_manual_id)
        assert "\n" not in str(info.value) and "reload" in str(info.value)
        assert latest_manual(store, automatic).id == first.id
        # Tab B reloads the latest and saves on top of it: both saves' moves are kept.
        tab_b = load_stored_analyses(store, first, landmarker=landmarker)
        second = save_corrections(store, tab_b, {"smile": Corrections((_move(tab_b.smile, "stomion", 2, 0),))},
                                  expected_latest_id=tab_b.latest_manual_id)
        assert manual_correction(second).moved_points == {"rest": ["cheilion_left"], "smile": ["stomion"]}
        assert manual_correction(second).supersedes == first.id


def test_two_connections_never_lose_a_save(db, landmarker):
    """As two server processes (or a server and a script) would: each with its own connection."""
    with Store.open(db) as one, Store.open(db) as two:
        automatic = _pair_analysis(one, DATES[1])
        tab_a = load_stored_analyses(one, automatic, landmarker=landmarker)
        tab_b = load_stored_analyses(two, automatic.id, landmarker=landmarker)
        saved = save_corrections(one, tab_a, {"rest": Corrections((_move(tab_a.rest, "mesh_037", 0, -2),))},
                                 expected_latest_id=None)
        with pytest.raises(CorrectionConflictError):
            save_corrections(two, tab_b, {"rest": Corrections((_move(tab_b.rest, "mesh_267", 0, -2),))},
                             expected_latest_id=None)
        assert latest_manual(two, automatic).id == saved.id


def test_correct_visit_merges_moves_and_rejects_bad_ones(db, landmarker):
    with Store.open(db) as store:
        first = correct_visit(store, PATIENT, DATES[0], "rest",
                              Corrections((PointMove("cheilion_right", 600.0, 850.0),)), landmarker=landmarker)
        second = correct_visit(store, PATIENT, DATES[0], "rest",
                               Corrections((PointMove("crista_philtri_left", 700.0, 760.0),)), landmarker=landmarker)
        assert second.manual.moved_points == {"rest": ["cheilion_right", "crista_philtri_left"]}
        assert second.manual.supersedes == first.analysis.id
        with pytest.raises(CorrectionError, match="outside the photo"):
            correct_visit(store, PATIENT, DATES[0], "rest", Corrections((PointMove("stomion", -50.0, 1.0),)),
                          landmarker=landmarker)
        with pytest.raises(CorrectionError, match="condition must be rest or smile"):
            correct_visit(store, PATIENT, DATES[0], "dynamic", Corrections(), landmarker=landmarker)


def test_the_timeline_uses_and_announces_the_manual_analysis(db, landmarker):
    with Store.open(db) as store:
        before = load_timeline(store, PATIENT)
        outcome = correct_visit(store, PATIENT, DATES[1], "rest",
                                Corrections((_move(load_stored_analyses(store, _pair_analysis(store, DATES[1]),
                                                                        landmarker=landmarker).rest,
                                                   "cheilion_right", 0, 10),)), landmarker=landmarker)
        after = load_timeline(store, PATIENT)
    vm0, vm1 = before.find(DATES[1]), after.find(DATES[1])
    assert vm1.analysis_ids["rest"] == outcome.analysis.id and vm1.analysis_ids["dynamic"] == outcome.analysis.id
    assert vm1.sided["rest"]["commissure_height"].asymmetry > vm0.sided["rest"]["commissure_height"].asymmetry + 2
    assert vm1.provenance_line().startswith("landmarks corrected manually (1 point moved")
    assert vm1.provenance()["provenance"] == "manual" and after.find(DATES[0]).provenance_line() is None
    # The manual analysis's own settings hash differs, but the visits were measured alike.
    assert not after.mixed_settings
