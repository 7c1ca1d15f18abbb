"""Two imports of one folder at the same moment: each counts only the rows it created (#15 item 8).

The analyses are replaced by a fast stand-in (the counting is the store's and
the importer's business, not MediaPipe's), so the race can be run several
times: both processes record the same jobs at the same moment, and the sum of
their reported counts must equal the rows in the database. The slow
end-to-end version with real photos is in tests/test_store_cli.py.
"""

from __future__ import annotations

import random
import sqlite3
import time
from pathlib import Path

import numpy as np
import pytest

from conftest import run_workers

N_VISITS = 6
RUNS = 5


def _make_folder(root: Path) -> None:
    import cv2

    rng = np.random.default_rng(0)
    for index in range(N_VISITS):
        folder = root / f"Q{index % 3}" / f"2024-0{1 + index // 3}-1{index % 3}"
        folder.mkdir(parents=True)
        for expression in ("rest", "smile"):
            pixels = rng.integers(0, 255, (48, 64, 3), dtype=np.uint8)  # distinct content per photo
            cv2.imwrite(str(folder / f"{expression}.png"), pixels)


def _import_worker(db_path: str, folder: str, same_result: bool, seed: int, barrier, results) -> None:
    """Run ``import_path`` with a stand-in analysis (in a spawned process)."""
    try:
        from lipsym.analysis._options import AnalysisOptions
        from lipsym.visits import _import
        from lipsym.visits._analyzer import VisitAnalyzer
        from lipsym.visits.store import MeasureSpec, Store

        rng = random.Random(seed)

        def fake_analyses(analyzer, items, jobs):
            for index, item in enumerate(items):
                time.sleep(rng.uniform(0, 0.01))  # both processes reach each job at about the same moment
                # Identical results take add_analysis' "identical existing" path;
                # differing ones its ConflictError path.
                document = {"item": item.label, "by": "any" if same_result else seed}
                yield index, (document, [MeasureSpec("commissure_height_asymmetry_mm", 0.1, "mm", "rest", 0.1)], None)

        _import._analyses = fake_analyses
        barrier.wait(timeout=60)
        with Store.open(db_path) as store:
            report = _import.import_path(store, folder, analyzer=VisitAnalyzer(None, AnalysisOptions()))
        results.put(("ok", report.photos_added, report.analyses_added, len(report.failures)))
    except BaseException as error:  # report to the parent instead of dying silently
        results.put(("error", f"{type(error).__name__}: {error}"))


@pytest.mark.parametrize("run", range(RUNS))
def test_two_concurrent_imports_count_only_their_own_rows(tmp_path: Path, run: int):
    folder = tmp_path / "photos"
    _make_folder(folder)
    db_path = tmp_path / "shared.sqlite3"
    outcomes, _ = run_workers(_import_worker, [(str(db_path), str(folder), run % 2 == 0, 100 * run + i)
                                            for i in range(2)])
    assert [o for o in outcomes if o[0] != "ok"] == [] and len(outcomes) == 2, outcomes
    conn = sqlite3.connect(db_path)
    try:
        photos = conn.execute("SELECT count(*) FROM photos").fetchone()[0]
        analyses = conn.execute("SELECT count(*) FROM analyses").fetchone()[0]
    finally:
        conn.close()
    assert (photos, analyses) == (2 * N_VISITS, N_VISITS)
    assert [o[3] for o in outcomes] == [0, 0]
    assert sum(o[1] for o in outcomes) == photos, outcomes
    assert sum(o[2] for o in outcomes) == analyses, outcomes
