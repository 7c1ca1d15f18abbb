"""Several processes writing the same records into one store at once."""

from __future__ import annotations

import random
import sqlite3
from pathlib import Path

from conftest import run_workers
from lipsym.visits.store import MeasureSpec, Store

N_WORKERS = 4
N_PHOTOS = 40
SETTINGS = {"calibration": "iris", "iris_diameter_mm": 11.7}


def photo_name(index: int) -> str:
    return f"photo_{index:02d}.jpg"


def import_worker(db_path: str, photo_dir: str, seed: int, barrier, results) -> None:
    """Add every photo and its analysis, in a worker-specific order (runs in a spawned process)."""
    try:
        barrier.wait(timeout=60)  # start together: maximise contention
        # Every worker opens the not-yet-existing database: creation and
        # migration race too.
        with Store.open(db_path) as store:
            order = list(range(N_PHOTOS))
            random.Random(seed).shuffle(order)
            photo_ids = {}
            for index in order:
                patient = store.get_or_create_patient(f"P{index % 3:03d}")
                visit = store.get_or_create_visit(patient, f"2024-05-{1 + index % 2:02d}", "baseline")
                expression = "rest" if index % 2 == 0 else "smile"
                photo = store.add_photo(visit, Path(photo_dir) / photo_name(index), expression)
                store.add_analysis(
                    **{f"{expression}_photo": photo},
                    settings=SETTINGS,
                    result={"photo": index, "asymmetry_mm": index / 10},
                    measures=[
                        MeasureSpec("commissure_height_asymmetry_mm", index / 10, "mm", expression, 0.1),
                        MeasureSpec("vermilion_ratio", 1 + index / 100, "1", expression),
                    ],
                )
                photo_ids[index] = photo.id
        results.put(("ok", photo_ids))
    except BaseException as error:  # report to the parent instead of dying silently
        results.put(("error", f"{type(error).__name__}: {error}"))


def test_concurrent_writers_record_each_photo_exactly_once(tmp_path: Path):
    photo_dir = tmp_path / "photos"
    photo_dir.mkdir()
    for index in range(N_PHOTOS):
        (photo_dir / photo_name(index)).write_bytes(f"distinct photo content {index}".encode() * 50)
    db_path = tmp_path / "shared.sqlite3"

    outcomes, exitcodes = run_workers(import_worker, [(str(db_path), str(photo_dir), seed) for seed in range(N_WORKERS)])
    assert [o for o in outcomes if o[0] != "ok"] == []
    assert len(outcomes) == N_WORKERS
    assert exitcodes == [0] * N_WORKERS
    # Every worker got the same record for the same photo.
    first = outcomes[0][1]
    assert all(o[1] == first for o in outcomes)

    conn = sqlite3.connect(db_path)
    try:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
        assert conn.execute("SELECT count(*) FROM patients").fetchone()[0] == 3
        assert conn.execute("SELECT count(*) FROM visits").fetchone()[0] == 6
        assert conn.execute("SELECT count(*), count(DISTINCT sha256) FROM photos").fetchone() == (N_PHOTOS, N_PHOTOS)
        assert sorted(r[0] for r in conn.execute("SELECT path FROM photos")) == sorted(
            str(photo_dir / photo_name(i)) for i in range(N_PHOTOS))
        assert conn.execute("SELECT count(*) FROM analyses").fetchone()[0] == N_PHOTOS
        assert conn.execute("SELECT count(*) FROM measures").fetchone()[0] == 2 * N_PHOTOS
        assert conn.execute("SELECT count(*) FROM meta WHERE key = 'pseudonym_key'").fetchone()[0] == 1
    finally:
        conn.close()
    with Store.open(db_path) as store:
        assert store.check_integrity() == []
        rows = store.measures_for_patient("P000", "commissure_height_asymmetry_mm")
        assert sorted(r.value for r in rows) == sorted(i / 10 for i in range(N_PHOTOS) if i % 3 == 0)
