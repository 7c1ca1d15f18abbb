"""Throughput of ``lipsym batch`` against the floor set by decoding and face detection.

Usage::

    python benchmarks/batch_throughput.py [--limit N] [--sets london,24mp] [--json FILE]

Builds, in a temporary folder,

- ``london``: the london_dev photos (``../shared/data/london_dev/neutral/*.jpg``
  and ``smiling/*.jpg``, 68 photos of 1350 x 1350 px);
- ``24mp``: 24-megapixel JPEGs made from them: each photo upscaled so the
  face (landmarks 234-454) is about 1650 px wide, extended by reflection
  to 6000 x 4000 px, with signal-dependent sensor noise (shot + read noise,
  luminance and chroma), saved at JPEG quality 92. 1650 rather than exactly
  1600 px: lipsym wants an 800-px face, so a face measured at 1590 px is
  decoded at 1/2, found too small, and decoded and detected again at full
  size (by design of ``detect_at_adequate_resolution``); at exactly 1600 px
  about half the photos straddle that threshold. ``--face-width-px 1600``
  measures that case; the number of photos decoded twice is printed;

then measures, in the same run and on the same files,

- the FLOOR: in this process, each photo decoded at the resolution lipsym
  ends up using (``lipsym.io.choose_reduction`` / ``load_photo``, including the
  finer re-decode ``analysis.detect_at_adequate_resolution`` chooses) plus
  two face detections (``Landmarker.detect_faces`` on the photo and on its
  mirror image), and nothing else; the reduction of each photo is found
  before timing;
- the floor run by 1 and by 2 separate processes at once: how far this
  machine itself scales this work to two processes (the ceiling for the
  2-worker speedup);
- ``lipsym batch`` run as a command (``python -m lipsym batch DIR -o OUT -q``)
  with ``--jobs 1`` and ``--jobs 2`` into fresh output folders: the wall time,
  the time from launch to the first result file, the steady throughput
  (items finished after the first one / time from the first to the last,
  from the result files' modification times), the per-photo latency of the
  one-worker run (intervals between its successive results), and the peak
  resident memory (VmHWM) of each worker process, sampled with psutil if it
  is installed (else from /proc).

Prints the figures with the acceptance targets and writes them to a JSON
file. The figures are only meaningful on an otherwise idle machine.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import cv2
import numpy as np

from lipsym.io import choose_reduction, load_photo, read_header
from lipsym.landmarks._detector import Landmarker, LandmarkerOptions

REPO = Path(__file__).resolve().parents[1]
DEFAULT_DATA = REPO.parent / "shared" / "data" / "london_dev"
TARGETS = {"ratio_24mp": 0.80, "ratio_london": 0.65, "speedup_2v1": 1.8, "peak_rss_mb_24mp": 600.0,
           "first_result_s": 1.5}
SIZE_24MP = (6000, 4000)
FACE_WIDTH_24MP_PX = 1650.0
JPEG_QUALITY = 92


# --- building the photo sets ---------------------------------------------------


def london_photos(data: Path, limit: int | None) -> list[Path]:
    photos = sorted((data / "neutral").glob("*.jpg")) + sorted((data / "smiling").glob("*.jpg"))
    if not photos:
        sys.exit(f"no photos in {data}/neutral or {data}/smiling (use --data)")
    return photos[:limit] if limit else photos


def copy_set(photos: list[Path], folder: Path) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    out = []
    for p in photos:
        target = folder / f"{p.parent.name}_{p.name}"
        shutil.copyfile(p, target)
        out.append(target)
    return out


def make_24mp(photos: list[Path], folder: Path, landmarker: Landmarker, face_width_px: float = FACE_WIDTH_24MP_PX,
              seed: int = 0) -> list[Path]:
    """Upscaled, reflected, noisy 6000 x 4000 JPEGs with a face about ``face_width_px`` wide.

    A folder kept from an earlier run (``--keep``) with one JPEG per photo is reused as it is.
    """
    kept = sorted(folder.glob("*.jpg")) if folder.is_dir() else []
    if len(kept) == len(photos):
        return kept
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    width, height = SIZE_24MP
    out = []
    for p in photos:
        photo = load_photo(p)
        faces = landmarker.detect_faces(np.ascontiguousarray(photo.rgb))
        if not faces:
            print(f"  (no face in {p.name}; skipped)")
            continue
        scale = face_width_px / faces[0].face_width_px
        big = cv2.resize(np.asarray(photo.rgb), None, fx=scale, fy=scale, interpolation=cv2.INTER_CUBIC)
        centre_x, centre_y = (np.asarray(faces[0].points_px[1, :2]) * scale).astype(int)  # nose tip
        canvas = _reflect_to(big, width, height, centre_x, centre_y)
        _add_sensor_noise(canvas, rng)
        target = folder / f"{p.parent.name}_{p.stem}_24mp.jpg"
        cv2.imwrite(str(target), cv2.cvtColor(canvas, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY])
        out.append(target)
    return out


def _reflect_to(image: np.ndarray, width: int, height: int, centre_x: int, centre_y: int) -> np.ndarray:
    """``image`` centred on (centre_x, centre_y) in a width x height canvas, borders reflected."""
    h, w = image.shape[:2]
    left, top = width // 2 - centre_x, height // 2 - centre_y
    padded = cv2.copyMakeBorder(image, max(top, 0), max(height - h - top, 0), max(left, 0),
                                max(width - w - left, 0), cv2.BORDER_REFLECT_101)
    y0, x0 = max(-top, 0), max(-left, 0)
    return np.ascontiguousarray(padded[y0:y0 + height, x0:x0 + width])


def _add_sensor_noise(rgb: np.ndarray, rng: np.random.Generator, gain: float = 0.06, read_dn: float = 1.6,
                      chroma: float = 0.5) -> None:
    """Shot (variance ∝ signal) + read noise, mostly luminance, in place, in row bands to bound memory."""
    for y in range(0, rgb.shape[0], 500):
        band = rgb[y:y + 500].astype(np.float32)
        sigma = np.sqrt(gain * band.mean(axis=2, keepdims=True) + read_dn ** 2)
        luma = rng.standard_normal(band.shape[:2] + (1,), dtype=np.float32)
        colour = rng.standard_normal(band.shape, dtype=np.float32)
        band += sigma * (luma + chroma * colour) / np.sqrt(1.0 + chroma ** 2)
        rgb[y:y + 500] = np.clip(band + 0.5, 0, 255).astype(np.uint8)


# --- the floor -----------------------------------------------------------------------


def reductions_used(path: Path, landmarker: Landmarker) -> tuple[int, int]:
    """(first, final) reduction lipsym decodes this photo at (``detect_at_adequate_resolution``)."""
    from lipsym.analysis._photo import detect_at_adequate_resolution

    header = read_header(path)
    first = choose_reduction(header.width_px, header.height_px)
    photo, _ = detect_at_adequate_resolution(path, landmarker)
    return first, photo.reduction


def floor(paths: list[Path], landmarker: Landmarker) -> dict:
    """Decode at the final resolution + two face detections, per photo, nothing else."""
    used = {p: reductions_used(p, landmarker) for p in paths}
    reductions = {p: final for p, (_, final) in used.items()}
    elapsed = _floor_pass(paths, landmarker, reductions)
    return {"photos": len(paths), "seconds": elapsed, "photos_per_s": len(paths) / elapsed,
            "reductions": sorted(set(reductions.values())), "reduction_of": {str(p): r for p, r in reductions.items()},
            "decoded_twice_by_lipsym": sum(first != final for first, final in used.values())}


def _floor_pass(paths: list[Path], landmarker: Landmarker, reductions: dict) -> float:
    start = time.perf_counter()
    for p in paths:
        rgb = load_photo(p, reduction=reductions[p]).rgb
        landmarker.detect_faces(rgb)
        landmarker.detect_faces(cv2.flip(rgb, 1))  # the fastest mirror image, as lipsym makes it
    return time.perf_counter() - start


def floor_in_processes(paths: list[Path], reductions: dict, work: Path, processes: int) -> dict:
    """The floor run by ``processes`` separate processes at once, each over the whole set.

    Tells how far this machine itself lets two processes scale on this work
    (two vCPUs may share a core, caches and memory bandwidth), the ceiling for
    lipsym's 2-worker speedup. Each process loads its landmarker, warms up,
    and starts timing at the same wall-clock moment.
    """
    plan = work / "floor-plan.json"
    plan.write_text(json.dumps({"paths": [str(p) for p in paths],
                                "reductions": {str(p): r for p, r in reductions.items()}}))
    start_at = time.time() + 6.0
    procs = [subprocess.Popen([sys.executable, __file__, "--floor-child", str(plan), str(start_at)],
                              stdout=subprocess.PIPE, text=True) for _ in range(processes)]
    seconds = [float(json.loads(proc.communicate()[0])["seconds"]) for proc in procs]
    return {"processes": processes, "seconds": seconds, "photos_per_s": processes * len(paths) / max(seconds)}


def _floor_child(plan_file: str, start_at: str) -> int:
    plan = json.loads(Path(plan_file).read_text())
    paths = [Path(p) for p in plan["paths"]]
    reductions = {Path(p): r for p, r in plan["reductions"].items()}
    with Landmarker(LandmarkerOptions()) as landmarker:
        _floor_pass(paths[:1], landmarker, reductions)  # warm-up
        time.sleep(max(0.0, float(start_at) - time.time()))
        print(json.dumps({"seconds": _floor_pass(paths, landmarker, reductions)}))
    return 0


def interleaved(paths: list[Path], landmarker: Landmarker, work: Path, reductions: dict) -> dict:
    """Floor and lipsym's per-item work, alternated photo by photo in this process.

    The batch runs above are minutes apart from the floor; on a shared machine
    whose speed drifts by 10-20 % over minutes, alternating the two on each
    photo measures their ratio with the drift cancelled. lipsym's work here is
    exactly what a batch worker does per item (``batch.work.process_item``:
    hash, decode, flip-averaged landmarks, refinement, measures, JSON write).
    """
    from lipsym.batch._config import BatchConfig
    from lipsym.batch._work import process_item
    from lipsym.io._collection import discover

    items = {i.other: i for i in discover(paths[0].parent).items}
    config = BatchConfig(output_dir=work / "interleaved-out")
    floor_s = lipsym_s = 0.0
    for p in paths:
        t0 = time.perf_counter()
        rgb = load_photo(p, reduction=reductions[p]).rgb
        landmarker.detect_faces(rgb)
        landmarker.detect_faces(cv2.flip(rgb, 1))
        t1 = time.perf_counter()
        process_item(items[p], config, landmarker)
        t2 = time.perf_counter()
        floor_s += t1 - t0
        lipsym_s += t2 - t1
    shutil.rmtree(work / "interleaved-out", ignore_errors=True)
    return {"floor_ms_per_photo": 1e3 * floor_s / len(paths), "lipsym_ms_per_photo": 1e3 * lipsym_s / len(paths),
            "ratio": floor_s / lipsym_s}


# --- lipsym batch as a command --------------------------------------------------------


class _MemorySampler(threading.Thread):
    """Peak resident memory (VmHWM, MiB) of a process and of each of its children, sampled."""

    def __init__(self, pid: int, interval_s: float = 0.05):
        super().__init__(daemon=True)
        self.pid, self.interval_s = pid, interval_s
        self.peaks: dict[int, float] = {}
        self.stop = threading.Event()

    def run(self) -> None:
        while not self.stop.is_set():
            for pid in [self.pid] + [c for c in _children(self.pid) if _is_worker(c)]:
                peak = _vm_hwm_mb(pid)
                if peak is not None:
                    self.peaks[pid] = max(self.peaks.get(pid, 0.0), peak)
            self.stop.wait(self.interval_s)


def _children(pid: int) -> list[int]:
    try:
        import psutil

        return [c.pid for c in psutil.Process(pid).children(recursive=True)]
    except ImportError:
        try:
            return [int(x) for x in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
        except OSError:
            return []
    except Exception:  # noqa: BLE001 - the process ended between samples
        return []


def _is_worker(pid: int) -> bool:
    """A multiprocessing worker (not the resource tracker or a helper a library runs)."""
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False
    return b"spawn_main" in cmdline


def _vm_hwm_mb(pid: int) -> float | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024.0
    except (OSError, ValueError):
        return None
    return None


def run_batch_command(folder: Path, out: Path, jobs: int, extra: tuple[str, ...] = ()) -> dict:
    """Run ``lipsym batch`` (with ``extra`` options) and time it from launch; results from the output files."""
    cmd = [sys.executable, "-m", "lipsym", "batch", str(folder), "-o", str(out), "--jobs", str(jobs), "-q", *extra]
    launched = time.time()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    sampler = _MemorySampler(proc.pid)
    sampler.start()
    first = None
    while proc.poll() is None:
        if first is None and any((out / "json").rglob("*.json")):
            first = time.time()
        time.sleep(0.005)
    wall = time.time() - launched
    sampler.stop.set()
    sampler.join()
    stderr = proc.stderr.read()
    if proc.returncode not in (0, 1):
        sys.exit(f"lipsym batch failed ({proc.returncode}): {stderr}")
    done = sorted(p.stat().st_mtime for p in (out / "json").rglob("*.json"))
    n = len(done)
    steady = (n - 1) / (done[-1] - done[0]) if n > 1 and done[-1] > done[0] else float("nan")
    intervals = np.diff(done) if n > 1 else np.array([])
    workers = {pid: peak for pid, peak in sampler.peaks.items() if pid != proc.pid} if jobs > 1 else \
        {proc.pid: sampler.peaks.get(proc.pid, float("nan"))}
    errors = max(0, len((out / "errors.csv").read_text().splitlines()) - 1)
    return {"jobs": jobs, "items": n, "errors": errors, "wall_s": wall, "end_to_end_photos_per_s": n / wall,
            "first_result_s": (first or done[0]) - launched, "steady_photos_per_s": steady,
            "latency_median_s": float(np.median(intervals)) if len(intervals) else float("nan"),
            "latency_p90_s": float(np.percentile(intervals, 90)) if len(intervals) else float("nan"),
            "peak_rss_mb_per_worker": sorted(workers.values()),
            "memory_sampler": "psutil" if _has_psutil() else "/proc"}


def _has_psutil() -> bool:
    try:
        import psutil  # noqa: F401
        return True
    except ImportError:
        return False


# --- report ------------------------------------------------------------------------------


def measure_set(name: str, paths: list[Path], landmarker: Landmarker, work: Path) -> dict:
    print(f"\n[{name}] {len(paths)} photos, {sum(p.stat().st_size for p in paths) / 1e6:.1f} MB")
    # The floor is measured before and after the batch runs and averaged:
    # on a shared machine one measurement alone can be off by 10 %.
    fl = floor(paths, landmarker)
    print(f"  floor (decode at reduction {fl['reductions']} + 2 detections): {fl['photos_per_s']:.2f} photos/s; "
          f"{fl['decoded_twice_by_lipsym']} photo(s) that lipsym decodes twice")
    runs = {}
    for jobs in (1, 2):
        shutil.rmtree(work / f"{name}-out-j{jobs}", ignore_errors=True)
        r = run_batch_command(paths[0].parent, work / f"{name}-out-j{jobs}", jobs)
        runs[jobs] = r
        print(f"  batch --jobs {jobs}: steady {r['steady_photos_per_s']:.2f} photos/s "
              f"(end to end {r['end_to_end_photos_per_s']:.2f}), first result {r['first_result_s']:.2f} s "
              f"after launch, wall {r['wall_s']:.1f} s, peak RSS per worker "
              f"{', '.join(f'{m:.0f}' for m in r['peak_rss_mb_per_worker'])} MiB, errors {r['errors']}")
    # What a research batch that compares nothing saves by skipping the identity descriptor
    # (--no-face-descriptor), one worker, in the same run as the default one above.
    shutil.rmtree(work / f"{name}-out-nodesc", ignore_errors=True)
    nodesc = run_batch_command(paths[0].parent, work / f"{name}-out-nodesc", 1, ("--no-face-descriptor",))
    print(f"  batch --jobs 1 --no-face-descriptor: steady {nodesc['steady_photos_per_s']:.2f} photos/s, "
          f"{nodesc['steady_photos_per_s'] / runs[1]['steady_photos_per_s']:.2f}x the default --jobs 1; "
          f"per-photo latency median {nodesc['latency_median_s'] * 1000:.0f} ms "
          f"(default {runs[1]['latency_median_s'] * 1000:.0f} ms)")
    after = floor(paths, landmarker)
    fl = {**fl, "photos_per_s_before": fl["photos_per_s"], "photos_per_s_after": after["photos_per_s"],
          "photos_per_s": 0.5 * (fl["photos_per_s"] + after["photos_per_s"])}
    print(f"  floor again after the batch runs: {after['photos_per_s']:.2f} photos/s; mean {fl['photos_per_s']:.2f}")
    inter = interleaved(paths, landmarker, work, {Path(p): r for p, r in fl["reduction_of"].items()})
    print(f"  interleaved in one process, photo by photo: floor {inter['floor_ms_per_photo']:.0f} ms, lipsym's "
          f"batch item {inter['lipsym_ms_per_photo']:.0f} ms per photo: ratio {inter['ratio']:.2f}")
    reduction_of = {Path(p): r for p, r in fl["reduction_of"].items()}
    scaling = {n: floor_in_processes(paths, reduction_of, work, n) for n in (1, 2)}
    floor_scaling = scaling[2]["photos_per_s"] / scaling[1]["photos_per_s"]
    print(f"  the floor in 1 and 2 processes at once: {scaling[1]['photos_per_s']:.2f} and "
          f"{scaling[2]['photos_per_s']:.2f} photos/s: this machine scales the floor itself {floor_scaling:.2f}x")
    one, two = runs[1], runs[2]
    figures = {
        "floor_in_processes": {str(n): v for n, v in scaling.items()},
        "floor_speedup_2_vs_1": floor_scaling,
        "interleaved": inter,
        "photos": len(paths),
        "floor": fl,
        "batch": {str(k): v for k, v in runs.items()},
        "batch_no_face_descriptor_1_worker": nodesc,
        "ratio_to_floor_1_worker": one["steady_photos_per_s"] / fl["photos_per_s"],
        "ratio_to_floor_2_workers_per_worker": two["steady_photos_per_s"] / (2 * fl["photos_per_s"]),
        "speedup_2_vs_1": two["steady_photos_per_s"] / one["steady_photos_per_s"],
        "latency_median_s": one["latency_median_s"],
    }
    print(f"  ratio to floor: 1 worker {figures['ratio_to_floor_1_worker']:.2f}, "
          f"2 workers (vs 2 x floor) {figures['ratio_to_floor_2_workers_per_worker']:.2f}; "
          f"2-vs-1 speedup {figures['speedup_2_vs_1']:.2f}x; per-photo latency median "
          f"{one['latency_median_s'] * 1000:.0f} ms (p90 {one['latency_p90_s'] * 1000:.0f} ms)")
    return figures


def verdicts(figures: dict) -> dict:
    checks = {}
    if "24mp" in figures:
        f = figures["24mp"]
        checks["24mp throughput >= 80 % of floor"] = f["ratio_to_floor_1_worker"] >= TARGETS["ratio_24mp"]
        checks["24mp peak RSS per worker <= 600 MB"] = max(
            m for r in f["batch"].values() for m in r["peak_rss_mb_per_worker"]) * 1.048576 <= TARGETS[
            "peak_rss_mb_24mp"]
    if "london" in figures:
        checks["london throughput >= 65 % of floor"] = figures["london"]["ratio_to_floor_1_worker"] >= TARGETS[
            "ratio_london"]
    for name, f in figures.items():
        checks[f"{name}: 2 workers >= 1.8 x 1 worker (the floor itself scales {f['floor_speedup_2_vs_1']:.2f}x "
               f"here)"] = f["speedup_2_vs_1"] >= TARGETS["speedup_2v1"]
        checks[f"{name}: first result <= 1.5 s"] = min(r["first_result_s"] for r in f["batch"].values()) <= TARGETS[
            "first_result_s"]
    return checks


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["--floor-child"]:
        return _floor_child(*argv[1:3])
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="london_dev folder (default %(default)s)")
    parser.add_argument("--limit", type=int, default=None, help="use only the first N photos (a quick check)")
    parser.add_argument("--sets", default="london,24mp", help="comma-separated: london, 24mp")
    parser.add_argument("--json", type=Path, default=Path("batch_throughput.json"), help="figures file to write")
    parser.add_argument("--face-width-px", type=float, default=FACE_WIDTH_24MP_PX,
                        help="face width of the 24-MP photos (default %(default)s)")
    parser.add_argument("--keep", type=Path, default=None, help="build the photos in this folder and keep them")
    args = parser.parse_args(argv)
    sets = [s.strip() for s in args.sets.split(",") if s.strip()]
    work = Path(tempfile.mkdtemp(prefix="lipsym-batch-bench-")) if args.keep is None else args.keep
    print(f"lipsym batch throughput; {os.cpu_count()} CPUs ({len(os.sched_getaffinity(0))} available), "
          f"load average {os.getloadavg()[0]:.2f}; photos in {work}")
    figures = {}
    try:
        with Landmarker(LandmarkerOptions()) as landmarker:
            landmarker.detect_faces(np.zeros((256, 256, 3), np.uint8))  # warm-up
            sources = london_photos(args.data, args.limit)
            london = copy_set(sources, work / "london")
            if "london" in sets:
                figures["london"] = measure_set("london", london, landmarker, work)
            if "24mp" in sets:
                t = time.perf_counter()
                big = make_24mp(london, work / "24mp", landmarker, args.face_width_px)
                print(f"\n(built {len(big)} 24-MP JPEGs in {time.perf_counter() - t:.0f} s)")
                figures["24mp"] = measure_set("24mp", big, landmarker, work)
    finally:
        if args.keep is None:
            shutil.rmtree(work, ignore_errors=True)
    checks = verdicts(figures)
    print("\nTargets:")
    for check, ok in checks.items():
        print(f"  [{'PASS' if ok else 'FAIL'}] {check}")
    result = {"machine": {"cpus_available": len(os.sched_getaffinity(0)), "load_average_1min": os.getloadavg()[0]},
              "limit": args.limit, "targets": TARGETS, "figures": figures, "checks": checks}
    args.json.write_text(json.dumps(result, indent=2, default=float) + "\n")
    print(f"\nfigures written to {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
