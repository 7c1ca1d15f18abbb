"""Schema migrations of the visit-record store, on populated databases."""

from __future__ import annotations

import datetime as dt
import sqlite3
from pathlib import Path

import pytest

from lipsym.errors import StoreError
from lipsym.visits.store import SCHEMA_VERSION, Store, backup_database
from lipsym.visits.store import _schema as schema
from lipsym.visits.store._db import connect

SHA = [f"{i:064x}" for i in range(1, 10)]


def build_v1_database(path: Path) -> None:
    """A schema-1 database with data in every table, written with v1's SQL only."""
    conn = connect(path)
    schema.migrate(conn, target=1)
    ts = "2024-01-01T09:00:00.000Z"
    conn.execute("BEGIN IMMEDIATE")
    conn.executemany(
        "INSERT INTO patients (id, identifier, birth_year, sex, created_at) VALUES (?, ?, ?, ?, ?)",
        [(1, "P001", 1980, "female", ts), (2, "P002", None, None, ts), (3, "P003", 1999, "male", ts)],
    )
    conn.executemany(
        "INSERT INTO visits (id, patient_id, visit_date, kind, notes, created_at) VALUES (?, ?, ?, ?, ?, ?)",
        [
            (1, 1, "2024-01-10", "baseline", "before filler", ts),
            (2, 1, "2024-01-10", "treatment", None, ts),
            (3, 1, "2024-01-24", "follow-up", None, ts),
            (4, 2, "2024-02-01", "baseline", None, ts),
        ],
    )
    conn.executemany(
        "INSERT INTO photos (id, visit_id, path, sha256, size_bytes, expression, capture_date, width_px, height_px,"
        " created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            (1, 1, "/photos/p001/rest.jpg", SHA[0], 1000, "rest", "2024-01-10", 4000, 3000, ts),
            (2, 1, "/photos/p001/smile.jpg", SHA[1], 1001, "smile", None, None, None, ts),
            (3, 3, "/photos/p001/fu_rest.jpg", SHA[2], 1002, "rest", None, None, None, ts),
            (4, 4, "/photos/p002/rest.jpg", SHA[3], 1003, "rest", None, None, None, ts),
        ],
    )
    conn.executemany(
        "INSERT INTO analyses (id, visit_id, rest_photo_id, smile_photo_id, lipsym_version, model_sha256,"
        " settings_json, settings_hash, result_json, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            (1, 1, 1, 2, "0.0.9", SHA[8], '{"a":1}', SHA[4], '{"r":1}', ts),
            (2, 3, 3, None, "0.0.9", None, '{"a":1}', SHA[4], '{"r":2}', ts),
            (3, 4, 4, None, "0.0.9", None, '{"a":1}', SHA[4], '{"r":3}', ts),
        ],
    )
    conn.executemany(
        "INSERT INTO measures (analysis_id, name, value, unit, standard_error, condition) VALUES (?, ?, ?, ?, ?, ?)",
        [
            (1, "commissure_height_asymmetry_mm", 1.5, "mm", 0.2, "rest"),
            (1, "commissure_height_asymmetry_mm", 2.5, "mm", 0.3, "smile"),
            (1, "smile_excursion_asymmetry_mm", 1.0, "mm", None, "dynamic"),
            (2, "commissure_height_asymmetry_mm", 0.5, "mm", 0.2, "rest"),
            (3, "commissure_height_asymmetry_mm", 0.9, "mm", 0.2, "rest"),
        ],
    )
    conn.execute(
        "INSERT INTO treatments (id, visit_id, product_name, product_type, lot, dose_value, dose_unit, technique,"
        " injector, notes, created_at) VALUES (1, 2, 'Volbella', 'ha_filler', 'L1', 1.0, 'mL', 'needle', 'Dr A', NULL, ?)",
        (ts,),
    )
    conn.executemany(
        "INSERT INTO treatment_sites (treatment_id, position, region, side, dose_value) VALUES (?, ?, ?, ?, ?)",
        [(1, 0, "upper_lip", "right", 0.4), (1, 1, "upper_lip", "left", 0.6)],
    )
    conn.execute("COMMIT")
    conn.close()


def snapshot(path: Path) -> dict[str, list[tuple]]:
    """Rows of every table, restricted to the columns that existed in schema 1."""
    v1_columns = {}
    probe = sqlite3.connect(":memory:")
    probe.isolation_level = None
    schema.migrate(probe, target=1)
    for (table,) in probe.execute("SELECT name FROM sqlite_master WHERE type = 'table'"):
        v1_columns[table] = [row[1] for row in probe.execute(f"PRAGMA table_info({table})")]
    probe.close()
    conn = sqlite3.connect(path)
    try:
        return {
            table: conn.execute(f"SELECT {', '.join(cols)} FROM {table} ORDER BY {cols[0]}").fetchall()
            for table, cols in v1_columns.items()
        }
    finally:
        conn.close()


def user_version(path: Path) -> int:
    conn = sqlite3.connect(path)
    try:
        return conn.execute("PRAGMA user_version").fetchone()[0]
    finally:
        conn.close()


def test_migration_steps_are_numbered_from_one():
    assert [m.version for m in schema.MIGRATIONS] == list(range(1, SCHEMA_VERSION + 1))
    assert SCHEMA_VERSION >= 2


def test_populated_v1_database_migrates_to_latest_keeping_all_data(tmp_path: Path):
    db = tmp_path / "v1.sqlite3"
    build_v1_database(db)
    assert user_version(db) == 1
    before = snapshot(db)
    assert sum(len(rows) for rows in before.values()) > 20

    with Store.open(db) as store:
        assert store.schema_version == SCHEMA_VERSION
        assert snapshot(db) == before  # every v1 row and column intact (incl. the pseudonym key)
        assert store.check_integrity() == []
        conn = store._conn
        # What v2 added is there and usable.
        assert "notes" in [row[1] for row in conn.execute("PRAGMA table_info(patients)")]
        assert conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'measures_by_name'").fetchone()
        plan = " ".join(
            str(row[-1]) for row in conn.execute(
                "EXPLAIN QUERY PLAN SELECT * FROM measures WHERE name = 'commissure_height_asymmetry_mm'")
        )
        assert "measures_by_name" in plan
        patient = store.get_patient("P001")
        assert (patient.birth_year, patient.sex, patient.notes) == (1980, "female", None)
        # Old data reads through the current API.
        rows = store.measures_for_patient("P001", "commissure_height_asymmetry_mm")
        assert [(r.visit_date, r.condition, r.value) for r in rows] == [
            (dt.date(2024, 1, 10), "rest", 1.5), (dt.date(2024, 1, 10), "smile", 2.5), (dt.date(2024, 1, 24), "rest", 0.5)]
        (history,) = store.treatments_for_patient("P001")
        assert [s.dose_value for s in history.treatment.sites] == [0.4, 0.6]
        assert store.find_photo_by_hash(SHA[3])[0].path == "/photos/p002/rest.jpg"
        # ... and new data can go next to it.
        added = store.add_patient("P004", notes="added after migration")
        assert added.notes == "added after migration"
        export = store.export_patient("P001")
        assert [a["result"] for v in export["visits"] for a in v["analyses"]] == [{"r": 1}, {"r": 2}]

    with Store.open(db) as again:  # reopening migrates nothing more
        assert again.schema_version == SCHEMA_VERSION
        assert len(again.list_patients()) == 4


def test_open_without_migrate_refuses_old_database_and_changes_nothing(tmp_path: Path):
    db = tmp_path / "v1.sqlite3"
    build_v1_database(db)
    before = snapshot(db)
    with pytest.raises(StoreError, match="migrate=True"):
        Store.open(db, migrate=False)
    assert user_version(db) == 1 and snapshot(db) == before
    # The intended upgrade path: copy the old file, then migrate.
    copy = backup_database(db, tmp_path / "v1-before-upgrade.sqlite3")
    with Store.open(db) as store:
        assert store.schema_version == SCHEMA_VERSION
    assert user_version(copy) == 1 and snapshot(copy) == before


def test_failed_migration_step_leaves_database_untouched(tmp_path: Path):
    db = tmp_path / "latest.sqlite3"
    build_v1_database(db)
    Store.open(db).close()
    before = snapshot(db)

    def broken_step(conn: sqlite3.Connection) -> None:
        conn.execute("CREATE TABLE half_done (x INTEGER)")
        conn.execute("UPDATE patients SET birth_year = 1900")
        raise RuntimeError("step 3 failed halfway")

    steps = schema.MIGRATIONS + (schema.Migration(SCHEMA_VERSION + 1, "broken", broken_step),)
    conn = connect(db)
    with pytest.raises(RuntimeError):
        schema.migrate(conn, migrations=steps)
    assert schema.schema_version(conn) == SCHEMA_VERSION
    assert conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'half_done'").fetchone() is None
    conn.close()
    assert snapshot(db) == before


def test_migration_that_breaks_foreign_keys_is_refused(tmp_path: Path):
    db = tmp_path / "latest.sqlite3"
    build_v1_database(db)
    Store.open(db).close()
    before = snapshot(db)

    def orphaning_step(conn: sqlite3.Connection) -> None:
        conn.execute("PRAGMA defer_foreign_keys = ON")
        conn.execute("DELETE FROM patients WHERE identifier = 'P002'")  # P002 has a visit

    steps = schema.MIGRATIONS + (schema.Migration(SCHEMA_VERSION + 1, "orphans visits", orphaning_step),)
    conn = connect(db)
    with pytest.raises(StoreError, match="foreign key"):
        schema.migrate(conn, migrations=steps)
    assert schema.schema_version(conn) == SCHEMA_VERSION
    conn.close()
    assert snapshot(db) == before
