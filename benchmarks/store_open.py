"""Cost of the damage check on every :meth:`lipsym.visits.store.Store.open`.

Builds a database of realistic size (by default 100 patients x 5 visits x 4
photos, each photo analysed alone and in 2 rest/smile pairs per visit, ~20 kB
result documents, 60 measures per analysis), then times ``Store.open``
with and without the check (``check=False``), and the parts of the check.
The file is in the OS page cache after the first open (as it is for a
clinic opening its store repeatedly); a cold read from disk costs more in
both cases.

Usage::

    python benchmarks/store_open.py [--patients 100] [--repeats 15] [--keep PATH]
"""

from __future__ import annotations

import argparse
import json
import random
import sqlite3
import statistics
import tempfile
import time
from pathlib import Path

from lipsym.visits.store import Store, inspect_file
from lipsym.visits.store._integrity import check_pages

VISITS_PER_PATIENT = 5
PHOTOS_PER_VISIT = 4
MEASURES_PER_ANALYSIS = 60
RESULT_VALUES = 600  # ~20 kB of JSON per analysis
PAGE_BYTES = 4096  # SQLite's default page size


def build(path: Path, patients: int, seed: int = 0) -> None:
    """A store of the given size, written with bulk SQL (the Store API would hash photo files)."""
    rng = random.Random(seed)
    Store.open(path).close()  # schema, current version
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("BEGIN")
    now = "2026-01-01T00:00:00.000Z"
    photo_id = analysis_id = 0
    for p in range(1, patients + 1):
        conn.execute("INSERT INTO patients (id, identifier, birth_year, sex, created_at) VALUES (?, ?, 1970, 'female', ?)",
                     (p, f"P{p:04d}", now))
        for v in range(VISITS_PER_PATIENT):
            visit_id = (p - 1) * VISITS_PER_PATIENT + v + 1
            conn.execute("INSERT INTO visits (id, patient_id, visit_date, kind, created_at) VALUES (?, ?, ?, ?, ?)",
                         (visit_id, p, f"2024-{v + 1:02d}-01", "baseline" if v == 0 else "follow-up", now))
            photos = []
            for k in range(PHOTOS_PER_VISIT):
                photo_id += 1
                photos.append((photo_id, "rest" if k % 2 == 0 else "smile"))
                conn.execute("INSERT INTO photos (id, visit_id, path, sha256, size_bytes, expression, width_px,"
                             " height_px, created_at) VALUES (?, ?, ?, ?, 4000000, ?, 3000, 4000, ?)",
                             (photo_id, visit_id, f"/photos/P{p:04d}/{v}/{k}.jpg", f"{rng.getrandbits(256):064x}",
                              photos[-1][1], now))
            slots = [(pid, None) if e == "rest" else (None, pid) for pid, e in photos]
            slots += [(photos[0][0], photos[1][0]), (photos[2][0], photos[3][0])]
            for rest, smile in slots:
                analysis_id += 1
                result = json.dumps({"values": [round(rng.gauss(0, 1), 6) for _ in range(RESULT_VALUES)]},
                                    separators=(",", ":"))
                conn.execute("INSERT INTO analyses (id, visit_id, rest_photo_id, smile_photo_id, lipsym_version,"
                             " settings_json, settings_hash, result_json, created_at)"
                             " VALUES (?, ?, ?, ?, '0.1.0', '{}', ?, ?, ?)",
                             (analysis_id, visit_id, rest, smile, "0" * 64, result, now))
                condition = "pair" if rest and smile else ("rest" if rest else "smile")
                conn.executemany("INSERT INTO measures (analysis_id, name, value, unit, standard_error, condition)"
                                 " VALUES (?, ?, ?, 'mm', 0.1, ?)",
                                 [(analysis_id, f"measure_{m:02d}_mm", rng.gauss(0, 1), condition)
                                  for m in range(MEASURES_PER_ANALYSIS)])
    conn.execute("COMMIT")
    conn.close()


def timed_ms(operation, repeats: int) -> float:
    """Median wall time of ``operation()`` in milliseconds."""
    samples = []
    for _ in range(repeats):
        start = time.perf_counter()
        operation()
        samples.append((time.perf_counter() - start) * 1000)
    return statistics.median(samples)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--patients", type=int, default=100)
    parser.add_argument("--repeats", type=int, default=15)
    parser.add_argument("--keep", type=Path, help="build the database here and keep it")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = args.keep or Path(tmp) / "visits.sqlite3"
        build(path, args.patients)
        conn = sqlite3.connect(path)
        counts = {t: conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
                  for t in ("patients", "visits", "photos", "analyses", "measures")}
        conn.close()
        print(f"database: {path.stat().st_size / 1e6:.1f} MB, " + ", ".join(f"{n} {t}" for t, n in counts.items()))
        Store.open(path).close()  # warm the page cache for both variants alike
        without = timed_ms(lambda: Store.open(path, check=False).close(), args.repeats)
        with_check = timed_ms(lambda: Store.open(path).close(), args.repeats)
        files = timed_ms(lambda: inspect_file(path), args.repeats)
        conn = sqlite3.connect(path)
        quick = timed_ms(lambda: check_pages(conn, path), args.repeats)
        full = timed_ms(lambda: check_pages(conn, path, full=True), max(3, args.repeats // 5))
        conn.close()
        # A log left by a process still using the database (or by a crash).
        keeper = sqlite3.connect(path, isolation_level=None)
        keeper.execute("PRAGMA wal_autocheckpoint = 0")
        keeper.execute("UPDATE measures SET value = value + 1 WHERE id % 7 = 0")
        wal_frames = (Path(f"{path}-wal").stat().st_size - 32) // (24 + PAGE_BYTES)
        with_wal = timed_ms(lambda: inspect_file(path), args.repeats)
        keeper.close()
    print(f"Store.open without check: {without:8.1f} ms (median of {args.repeats})")
    print(f"Store.open with check:    {with_check:8.1f} ms  (+{with_check - without:.1f} ms)")
    print(f"  file checks (header, length, WAL): {files:.2f} ms")
    print(f"  the same with a {wal_frames}-frame WAL:   {with_wal:.1f} ms")
    print(f"  PRAGMA quick_check:                {quick:.1f} ms")
    print(f"  PRAGMA integrity_check (db check): {full:.1f} ms")


if __name__ == "__main__":
    main()
