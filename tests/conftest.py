"""Shared fixtures: the real photos in ../shared/data and one landmarker per session."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO.parent / "shared" / "data"
LONDON = SHARED_DATA / "london_dev"
SAMPLE = REPO / "sample_images" / "astronaut.png"

needs_shared = pytest.mark.skipif(
    not LONDON.is_dir(), reason=f"real test photos not present ({SHARED_DATA} is absent on this machine)"
)


def london_ids() -> list[str]:
    if not LONDON.is_dir():
        return []
    return sorted(p.name.split("_")[0] for p in (LONDON / "neutral").glob("*_03.jpg"))


def london_gt(face_id: str) -> dict:
    """Manual FRL-189 points of a London neutral photo. NB: FRL left/right are IMAGE sides."""
    return json.loads((LONDON / "gt" / f"{face_id}_03.frl189.json").read_text())


def gt_subject_points(face_id: str) -> dict[str, np.ndarray]:
    """Ground-truth points renamed to the SUBJECT's sides."""
    pts = np.asarray(london_gt(face_id)["points"], dtype=float)
    return {
        "pupil_right": pts[0], "pupil_left": pts[1],            # image-left pupil = subject's right
        "cheilion_right": pts[87], "cheilion_left": pts[93],
        "endocanthion_right": pts[22], "endocanthion_left": pts[23],
    }


@pytest.fixture(scope="session")
def landmarker():
    from lipsym.landmarks._detector import Landmarker

    with Landmarker() as lm:
        yield lm


@pytest.fixture(scope="session")
def raw_landmarker():
    from lipsym.landmarks._detector import Landmarker, LandmarkerOptions

    with Landmarker(LandmarkerOptions(flip_average=False)) as lm:
        yield lm


def run_workers(target, args_per_worker, *, timeout_s: float = 120.0) -> list:
    """Start one spawned process per args tuple, all released together, and collect what each reports.

    ``target(*args, barrier, results)`` must put one outcome tuple on
    ``results`` (``("ok", ...)`` or ``("error", reason)``) and wait on
    ``barrier`` before the part that races. Returns the outcomes in the
    order they arrived (fewer than the workers if one died); every worker
    is joined, and killed if it hangs.
    """
    import multiprocessing
    import queue

    ctx = multiprocessing.get_context("spawn")
    barrier = ctx.Barrier(len(args_per_worker))
    results = ctx.Queue()
    workers = [ctx.Process(target=target, args=(*args, barrier, results)) for args in args_per_worker]
    for worker in workers:
        worker.start()
    outcomes = []
    try:
        for _ in workers:
            outcomes.append(results.get(timeout=timeout_s))
    except queue.Empty:
        pass
    finally:
        for worker in workers:
            worker.join(timeout=30)
            if worker.is_alive():
                worker.kill()
    return outcomes, [worker.exitcode for worker in workers]
