"""Cost of one manual correction step: apply the moves, measure the pair again.

This is what the correction app does on every drag (issue #17: a round trip
of at most 100 ms on a 2-core machine). The rest and smile photos are
analysed once (not timed as part of a step); then each step applies a
correction to the rest photo (:func:`lipsym.analysis.apply_corrections`)
and measures the pair (:func:`lipsym.measures.measure_pair`). Baseline, in
the same run: ``measure_pair`` alone on the automatic analyses, so the
figure shows what the correction itself adds.

Usage::

    python benchmarks/correction_speed.py [--repeats 200] [--rest R.jpg --smile S.jpg]
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

from lipsym.analysis import Corrections, PointMove, analyze_pair, apply_corrections, correctable_points
from lipsym.measures import measure_pair

SAMPLES = Path(__file__).resolve().parents[1] / "sample_images"


def _times_ms(step, repeats: int) -> list[float]:
    step()  # warm caches (imports, first allocations)
    out = []
    for _ in range(repeats):
        t = time.perf_counter()
        step()
        out.append((time.perf_counter() - t) * 1000.0)
    return out


def _summary(label: str, times_ms: list[float]) -> str:
    q = statistics.quantiles(times_ms, n=100)
    return (f"{label:<46} median {statistics.median(times_ms):6.2f} ms   p95 {q[94]:6.2f} ms   "
            f"max {max(times_ms):6.2f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=200)
    parser.add_argument("--rest", default=str(SAMPLES / "london_094_rest.jpg"))
    parser.add_argument("--smile", default=str(SAMPLES / "london_094_smile.jpg"))
    args = parser.parse_args()

    t = time.perf_counter()
    pair = analyze_pair(args.rest, args.smile)
    analyse_ms = (time.perf_counter() - t) * 1000.0
    pts = correctable_points(pair.rest)
    names = ("cheilion_right", "crista_philtri_left", "mesh_037", "pupil_left")
    drags = [Corrections(tuple(PointMove(n, pts[n][0] + 0.1 * k, pts[n][1] + 0.2 * k) for n in names))
             for k in range(args.repeats)]
    drag = iter(drags * 3)

    baseline = _times_ms(lambda: measure_pair(pair.rest, pair.smile), args.repeats)
    apply_only = _times_ms(lambda: apply_corrections(pair.rest, next(drag)), args.repeats)
    full = _times_ms(lambda: measure_pair(apply_corrections(pair.rest, next(drag)), pair.smile), args.repeats)

    print(f"photos: {Path(args.rest).name}, {Path(args.smile).name}; {args.repeats} repeats; "
          f"{len(pts)} correctable points; {len(names)} moved per step")
    print(f"{'analyse the pair once (model load, detection, refinement)':<46} {analyse_ms:8.1f} ms (not part of a step)")
    print(_summary("baseline: measure_pair alone", baseline))
    print(_summary("apply_corrections alone", apply_only))
    print(_summary("step: apply_corrections + measure_pair", full))


if __name__ == "__main__":
    main()
