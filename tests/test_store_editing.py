"""Corrections of the visit record: edit, soft delete, restore, purge, and the history of every change."""

from __future__ import annotations

import datetime as dt
import multiprocessing
import sqlite3
from pathlib import Path

import pytest

from lipsym.errors import ConfigurationError, ConflictError, NotFoundError
from lipsym.visits._timeline import load_timeline
from lipsym.visits.store import SCHEMA_VERSION, Store
from lipsym.visits.store import _schema as schema
from lipsym.visits.store._db import connect

MEASURE = {"name": "commissure_height.asymmetry", "value": 1.0, "unit": "mm", "standard_error": 0.1,
           "condition": "rest"}


def photo_file(folder: Path, name: str, seed: int) -> Path:
    path = folder / name
    path.write_bytes(bytes([seed]) * 100 + name.encode())
    return path


@pytest.fixture
def store(tmp_path) -> Store:
    with Store.open(tmp_path / "r.sqlite3") as opened:
        patient = opened.add_patient("P001", birth_year=1980)
        for i, day in enumerate(("2024-01-10", "2024-02-10")):
            visit = opened.add_visit(patient, day, "baseline" if i == 0 else "follow-up")
            photo = opened.add_photo(visit, photo_file(tmp_path, f"rest{i}.jpg", i), "rest")
            opened.add_analysis(rest_photo=photo, settings={"s": 1}, result={"r": i},
                                measures=[dict(MEASURE, value=1.0 + i)])
            opened.add_treatment(visit, product_name="Volbella", product_type="ha_filler", dose_value=0.5,
                                 dose_unit="mL", sites=[{"region": "upper_lip", "side": "left"}])
        yield opened


def rows(store: Store, table: str) -> int:
    return store._conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]


def test_every_addition_is_in_the_history(store):
    assert [(h.table_name, h.action) for h in store.history()] == [
        ("patients", "insert"), ("visits", "insert"), ("photos", "insert"), ("treatments", "insert"),
        ("visits", "insert"), ("photos", "insert"), ("treatments", "insert")]
    first = store.history()[0]
    assert first.before is None and first.after["identifier"] == "P001" and first.changed_at.endswith("Z")


def test_edits_change_only_what_is_given_and_keep_before_and_after(store):
    patient = store.edit_patient("P001", identifier="P002", notes="typo fixed")
    assert (patient.identifier, patient.birth_year, patient.notes) == ("P002", 1980, "typo fixed")
    with pytest.raises(NotFoundError):
        store.get_patient("P001")
    visit = store.list_visits("P002")[1]
    edited = store.edit_visit(visit, visit_date="2024-02-11", notes="moved")
    assert (edited.visit_date, edited.kind, edited.notes) == (dt.date(2024, 2, 11), "follow-up", "moved")
    treatment = store.list_treatments(visit)[0]
    changed = store.edit_treatment(treatment.id, dose_value=0.8, sites=[{"region": "lower_lip", "side": "right"}])
    assert changed.dose_value == 0.8 and [(s.region, s.side) for s in changed.sites] == [("lower_lip", "right")]
    assert changed.product_name == "Volbella"
    photo = store.list_photos(visit)[0]
    assert store.edit_photo(photo, expression="smile").expression == "smile"
    assert [a.id for a in store.analyses_of_photo(photo)] == [2]  # stale: made when it was "rest"
    edits = [h for h in store.history() if h.action == "edit"]
    assert [(h.table_name, h.row_id) for h in edits] == [("patients", 1), ("visits", 2), ("treatments", 2),
                                                         ("photos", 2)]
    assert (edits[0].before["identifier"], edits[0].after["identifier"]) == ("P001", "P002")
    assert edits[2].before["sites"][0]["region"] == "upper_lip" and edits[2].after["dose_value"] == 0.8
    # Editing to the same values records nothing.
    store.edit_patient("P002", notes="typo fixed")
    assert len([h for h in store.history() if h.action == "edit"]) == 4


def test_edits_are_validated_and_refuse_clashes(store):
    store.add_patient("P009")
    before = store.history()
    with pytest.raises(ConflictError):
        store.edit_patient("P001", identifier="p009")  # codes are unique case-insensitively
    with pytest.raises(ConfigurationError):
        store.edit_patient("P001", sex="unknown")
    with pytest.raises(ConflictError):
        store.edit_visit(store.list_visits("P001")[1], visit_date="2024-01-10", kind="baseline")
    with pytest.raises(ConfigurationError):
        store.edit_treatment(1, dose_unit="U")  # a filler in units
    with pytest.raises(ConfigurationError):
        store.edit_treatment(1, colour="red")
    with pytest.raises(ConflictError):
        store.edit_photo(1, path=store.get_photo(2).path)  # another file's content
    assert store.history() == before


def test_delete_hides_everything_below_and_restore_brings_it_back(store):
    snapshot = store.export_patient("P001")
    assert store.delete_patient("P001") == 9  # patient, 2 visits, 2 photos, 2 analyses, 2 treatments
    assert store.list_patients() == []
    with pytest.raises(NotFoundError, match="no patient"):
        store.get_patient("P001")
    with pytest.raises(NotFoundError, match="deleted"):
        store.get_visit(1)
    assert store.research_export(store.path.parent / "research")["patients"].read_text().count("\n") == 1
    assert rows(store, "visits") == 2  # nothing lost
    with pytest.raises(ConflictError, match="deleted"):
        store.add_patient("P001")
    assert store.restore_patient("P001") == 9
    again = store.export_patient("P001")
    assert [v["id"] for v in again["visits"]] == [v["id"] for v in snapshot["visits"]]
    assert again["visits"] == snapshot["visits"] and again["patient"] == snapshot["patient"]


def test_a_row_deleted_on_its_own_stays_deleted_when_its_parent_is_restored(store, monkeypatch):
    # Both deletes at the same instant: the cascade must still tell them apart.
    import lipsym.visits.store._changes as changes

    frozen = changes._dt.datetime(2025, 1, 1, tzinfo=changes._dt.timezone.utc)
    monkeypatch.setattr(changes._dt, "datetime", type("Frozen", (changes._dt.datetime,),
                                                      {"now": classmethod(lambda cls, tz=None: frozen)}))
    store.delete_photo(1)
    assert store.list_analyses(1) == []  # its analysis went with it
    store.delete_visit(1)
    with pytest.raises(ConflictError, match="restore the visit first"):
        store.restore_photo(1)
    store.restore_visit(1)
    assert store.list_photos(1) == [] and len(store.list_treatments(1)) == 1
    store.restore_photo(1)
    assert [p.id for p in store.list_photos(1)] == [1] and [a.id for a in store.list_analyses(1)] == [1]
    with pytest.raises(ConflictError, match="not deleted"):
        store.restore_photo(1)
    store.delete_treatment(1)
    with pytest.raises(ConflictError, match="already deleted"):
        store.delete_treatment(1)


def test_timeline_measures_and_exports_ignore_deleted_rows(store):
    store.delete_visit(2)
    timeline = load_timeline(store, "P001")
    assert [vm.visit.id for vm in timeline.visits] == [1]
    assert [r.visit_id for r in store.measures_for_patient("P001")] == [1]
    assert [t.visit.id for t in store.treatments_for_patient("P001")] == [1]
    assert [v["id"] for v in store.export_patient("P001")["visits"]] == [1]
    store.restore_visit(2)
    store.delete_treatment(2)
    assert [t.visit.id for t in store.treatments_for_patient("P001")] == [1]
    store.delete_photo(2)  # its analysis goes: the visit has no measures left
    assert [r.visit_id for r in store.measures_for_patient("P001")] == [1]


def test_last_is_the_last_visit_with_analysed_photos(store):
    store.add_visit("P001", "2030-01-01", "follow-up")  # the empty visit of issue #16
    timeline = load_timeline(store, "P001")
    assert timeline.find("last").visit.visit_date == dt.date(2024, 2, 10)
    assert timeline.find("2030-01-01").visit.visit_date == dt.date(2030, 1, 1)
    store.delete_visit(3)
    assert [vm.visit.id for vm in load_timeline(store, "P001").visits] == [1, 2]


def test_purge_removes_rows_for_good_and_keeps_their_history(store):
    with pytest.raises(ConflictError, match="delete it before purging"):
        store.purge_visit(2)
    store.delete_visit(2)
    counts = {t: rows(store, t) for t in ("visits", "photos", "analyses", "measures", "treatments", "treatment_sites")}
    assert store.purge_visit(2) == 4
    after = {t: rows(store, t) for t in counts}
    assert after == {t: n - 1 for t, n in counts.items()}
    purged = [h for h in store.history() if h.action == "purge"]
    assert sorted(h.table_name for h in purged) == ["analyses", "photos", "treatments", "visits"]
    assert all(h.after is None and h.before["id"] == 2 for h in purged)
    with pytest.raises(NotFoundError):
        store.restore_visit(2)
    assert store.check_integrity() == []
    # A purged patient frees its code.
    store.delete_patient("P001")
    assert store.purge_patient("P001") == 5
    store.add_patient("P001")
    # SQLite may give the freed id to the new row: the history tells the two apart by their actions.
    assert [h.action for h in store.history("patients", 1)][-3:] == ["delete", "purge", "insert"]
    assert rows(store, "measures") == 0 and rows(store, "treatment_sites") == 0


def test_history_filters_and_relocation_is_recorded(store, tmp_path):
    moved = tmp_path / "moved"
    moved.mkdir()
    new = moved / "rest0.jpg"
    Path(store.get_photo(1).path).rename(new)
    store.relocate_photo(1, new)
    (entry,) = [h for h in store.history("photos", 1) if h.action == "edit"]
    assert (Path(entry.before["path"]).parent, entry.after["path"]) == (tmp_path, str(new))
    assert {h.table_name for h in store.history("visits")} == {"visits"}
    with pytest.raises(ConfigurationError):
        store.history("measures")


def test_a_failed_change_leaves_no_history(store):
    before = store.history()
    with pytest.raises(ConflictError):
        with store.transaction():
            store.delete_visit(2)
            store.edit_patient("P001", identifier="P001")  # fine
            store.add_patient("P001")  # refused: undoes the whole block
    assert store.history() == before and len(store.list_visits("P001")) == 2


def _edit_notes(path: str, worker: int, n: int) -> None:
    with Store.open(path) as store:
        for i in range(n):
            store.edit_patient("P001", notes=f"worker {worker} edit {i}")


def test_concurrent_edits_each_leave_one_history_row(store):
    store.close()
    context = multiprocessing.get_context("spawn")
    workers = [context.Process(target=_edit_notes, args=(str(store.path), w, 10)) for w in range(2)]
    for w in workers:
        w.start()
    for w in workers:
        w.join(120)
        assert w.exitcode == 0
    with Store.open(store.path) as reopened:
        edits = reopened.history("patients", 1)[1:]
        assert len(edits) == 20 and all(h.action == "edit" for h in edits)
        # The edits form one chain: each one's before is the previous one's after.
        assert all(a.after == b.before for a, b in zip(edits, edits[1:]))


def test_schema_2_database_migrates_to_soft_delete_and_history(tmp_path):
    db = tmp_path / "v2.sqlite3"
    conn = connect(db)
    schema.migrate(conn, target=2)
    conn.execute("BEGIN IMMEDIATE")
    conn.execute("INSERT INTO patients (id, identifier, created_at, notes) VALUES (1, 'P001', 'x', 'old')")
    conn.execute("INSERT INTO visits (id, patient_id, visit_date, kind, created_at)"
                 " VALUES (1, 1, '2024-01-10', 'baseline', 'x')")
    conn.execute("COMMIT")
    conn.close()
    with Store.open(db) as store:
        assert store.schema_version == SCHEMA_VERSION == 3
        assert store.get_patient("P001").notes == "old" and len(store.list_visits("P001")) == 1
        assert store.history() == []  # rows from before the history have none
        store.delete_visit(1)
        assert [h.action for h in store.history()] == ["delete"]
        assert store.check_integrity() == []
    plain = sqlite3.connect(db)
    assert plain.execute("SELECT deleted_at IS NOT NULL FROM visits").fetchone() == (1,)
