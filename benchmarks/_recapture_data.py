"""What the two re-capture benchmarks share: the photos, the face list, one landmarker per worker.

``recapture.py`` (asymmetries) and ``recapture_absolute.py`` (lip sizes) use
the same development faces, the same real re-photographs and the same
worker-side detector; they differ in what they measure and fit.
"""

from __future__ import annotations

import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DATA = REPO.parent / "shared" / "data"
LONDON = DATA / "london_dev"
DSK = DATA / "3dsk_dev"
#: Real re-photographs of unchanged people: never fitted, the check.
REAL = {"lisa": [DATA / "invariance" / "lisa" / f"lisa{i}.jpg" for i in range(1, 5)],
        "zoom": [DATA / "invariance" / "zoom" / f"{d}cm.jpg" for d in (15, 30, 45, 60)]}

_LANDMARKER = None


def check_data(benchmark: str) -> None:
    """Exit with a one-line reason when ../shared/data is absent."""
    missing = [p for p in (LONDON / "neutral", LONDON / "smiling", DSK, *REAL["lisa"], *REAL["zoom"]) if not p.exists()]
    if missing:
        sys.exit(f"{benchmark}: {missing[0]} is absent; the benchmark needs ../shared/data")


def faces(n: int | None = None) -> list[tuple[str, str, Path]]:
    """(set, expression, photo) of the first ``n`` faces of each set (all when None)."""
    london = sorted((LONDON / "neutral").glob("*_03.jpg"))[:n]
    smiling = sorted((LONDON / "smiling").glob("*_08.jpg"))[:n]
    dsk = sorted(DSK.glob("*.jpg"))[:n]
    return ([("london", "rest", p) for p in london] + [("london", "smile", p) for p in smiling]
            + [("3dsk", "rest", p) for p in dsk])


def landmarker():
    """One Face Landmarker per worker process."""
    global _LANDMARKER
    if _LANDMARKER is None:
        from lipsym.landmarks._default import default_landmarker
        _LANDMARKER = default_landmarker()
    return _LANDMARKER


def capture(d: dict):
    """A stored capture dict back as :class:`lipsym.comparison.Capture`."""
    from lipsym.comparison._capture import Capture
    return Capture(**d)


def unchanged(rows: list[dict], set_: str, expression: str | None = None) -> list[dict]:
    """The unchanged pairs of one set (and expression)."""
    return [r for r in rows if r["kind"] == "unchanged" and r["set"] == set_
            and (expression is None or r["expression"] == expression)]


def collect_rows(cache: Path, first_rows, simulate, face_list, n_recaptures: int, workers: int,
                 seed: int) -> list[dict]:
    """Rows of every analysed pair, from ``cache`` when it exists, else analysed and cached as JSON lines.

    ``first_rows()`` gives the rows analysed in this process (the real
    re-photographs); ``simulate(job)`` gives one face's rows in a spawned
    worker, ``job = (index, set, expression, path, n_recaptures, seed)``.
    The cache is written to ``.partial`` first, so an interrupted run leaves
    no cache that looks complete.
    """
    import json
    import multiprocessing

    if cache.exists():
        return [json.loads(line) for line in cache.read_text().splitlines() if line.strip()]
    jobs = [(i, s, e, str(p), n_recaptures, seed) for i, (s, e, p) in enumerate(face_list)]
    rows = first_rows()
    tmp = cache.with_suffix(".partial")
    with tmp.open("w") as out:
        for r in rows:
            out.write(json.dumps(r) + "\n")
        ctx = multiprocessing.get_context("spawn")
        with ctx.Pool(workers) as pool:
            for k, face_rows in enumerate(pool.imap_unordered(simulate, jobs), 1):
                for r in face_rows:
                    out.write(json.dumps(r) + "\n")
                out.flush()
                rows += face_rows
                print(f"  {k}/{len(jobs)} faces", file=sys.stderr, flush=True)
    tmp.rename(cache)
    return rows
