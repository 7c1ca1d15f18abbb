"""``lipsym batch``: same documents as analyze, bad photos, resume, kills, dask, store, progress."""

from __future__ import annotations

import csv
import io
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageOps

from conftest import LONDON, SAMPLE, needs_shared
from lipsym.batch._config import BatchConfig
from lipsym.batch._layout import aside_path, item_json_path
from lipsym.batch._progress import Progress
from lipsym.batch._run import run_batch
from lipsym.cli import build_parser, main
from lipsym.cli.common import analysis_options
from lipsym.io._collection import discover

REPO = Path(__file__).resolve().parents[1]


def _save(image: Image.Image, path: Path, **kw) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    image.save(path, **kw)
    return path


def _face(i: int = 0) -> Image.Image:
    """The sample face, mirrored for odd i (a different, still valid photo)."""
    base = Image.open(SAMPLE).convert("RGB")
    return ImageOps.mirror(base) if i % 2 else base


def _variants(folder: Path, n: int) -> list[Path]:
    """n photos with distinct bytes (JPEG quality differs)."""
    return [_save(_face(i), folder / f"face{i:02d}.jpg", quality=70 + i) for i in range(n)]


def _config(out: Path, *options: str) -> BatchConfig:
    args = build_parser().parse_args(["batch", "IN", "-o", str(out), *options])
    return BatchConfig(args.output, analysis_options(args))


def _csv(path: Path) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(path.read_text())))


def _filled(row: dict[str, str]) -> dict[str, str]:
    """A CSV row without empty cells and batch's identification columns (the tables' unions differ)."""
    return {k: v for k, v in row.items() if v and k not in ("item", "patient", "visit_date")}


def _snapshot(out: Path) -> dict[str, tuple[int, bytes]]:
    return {str(p.relative_to(out)): (p.stat().st_mtime_ns, p.read_bytes()) for p in (out / "json").rglob("*.json")}


def test_documents_and_rows_are_analyze_s_and_a_bad_photo_does_not_stop_the_batch(tmp_path, capsys):
    src = tmp_path / "in"
    rest = _save(_face(0), src / "P001/2024-05-02/rest.png")
    smile = _save(_face(1), src / "P001/2024-05-02/smile.png")
    (src / "misc").mkdir()
    (src / "misc/bad.jpg").write_text("a text file named .jpg\n")
    _save(Image.fromarray(np.full((300, 300, 3), 128, np.uint8)), src / "misc/wall.png")
    single = _save(_face(0), src / "misc/ok.jpg", quality=90)
    out = tmp_path / "out"
    assert main(["batch", str(src), "-o", str(out), "--jobs", "1"]) == 1
    err = capsys.readouterr().err
    assert "Traceback" not in err
    assert [ln for ln in err.splitlines() if ln.startswith("lipsym: ")] == [
        f"lipsym: {src / 'misc/bad.jpg'} is not a photo in a supported format "
        "(JPEG, PNG, TIFF, WebP, BMP or HEIC/HEIF)",
        "lipsym: wall.png: no face found"]
    errors = _csv(out / "errors.csv")
    assert [(Path(e["file"]).name, e["reason"].count("\n")) for e in errors] == [("bad.jpg", 0), ("wall.png", 0)]
    rows = _csv(out / "results.csv")
    assert [r["item"] for r in rows] == ["P001/2024-05-02/pair", "misc/ok.jpg"]
    assert rows[0]["patient"] == "P001" and rows[0]["visit_date"] == "2024-05-02"

    # The same photos through lipsym analyze give the same document and the same CSV row.
    ref_json, ref_csv = tmp_path / "ref.json", tmp_path / "ref.csv"
    assert main(["analyze", str(single), "--expression", "other", "--rest", str(rest), "--smile", str(smile),
                 "-o", str(ref_json), "--csv", str(ref_csv)]) == 0
    ref, ref_rows = json.loads(ref_json.read_text()), _csv(ref_csv)
    pair_doc = json.loads(item_json_path(out, "P001/2024-05-02/pair").read_text())
    single_doc = json.loads(item_json_path(out, "misc/ok.jpg").read_text())
    assert set(pair_doc) - {"batch"} == set(ref)
    assert pair_doc["schema"] == "lipsym.analysis" and pair_doc["settings"] == ref["settings"]
    assert pair_doc["results"] == ref["results"][1:] and pair_doc["pairs"] == ref["pairs"]
    # A lone photo skips the identity descriptor in a batch (nothing compares it; docs/batch.md);
    # the pair above kept it (its results equal analyze's, descriptors included).
    lone = single_doc["results"][0]
    assert lone["identity_descriptor"] is None and single_doc["settings"]["face_descriptor"] is False
    assert ref["results"][0]["identity_descriptor"] is not None
    assert {**lone, "identity_descriptor": ref["results"][0]["identity_descriptor"]} == ref["results"][0]
    assert _filled(rows[1]) == _filled(ref_rows[0]) and _filled(rows[0]) == _filled(ref_rows[1])
    bad_doc = json.loads(item_json_path(out, "misc/bad.jpg").read_text())
    assert bad_doc["results"][0]["status"] == "error" and bad_doc["results"][0]["error"]["type"] == "NotAnImageError"


def test_resume_reuses_done_items_and_redoes_changed_photos_and_settings(tmp_path):
    src = tmp_path / "in"
    photos = _variants(src, 3)
    out = tmp_path / "out"
    names = {p.name for p in photos}
    first = run_batch(discover(src), _config(out), jobs=1)
    assert first.computed == names and first.reused == set() and first.failed == set()
    before = _snapshot(out)

    again = run_batch(discover(src), _config(out), jobs=1)
    assert again.computed == set() and again.reused == names
    assert _snapshot(out) == before                                   # nothing rewritten

    old_result = item_json_path(out, photos[1].name).read_bytes()
    _save(_face(0), photos[1], quality=95)                            # new content, same name
    changed = run_batch(discover(src), _config(out), jobs=1)
    assert changed.computed == {photos[1].name} and changed.reused == names - {photos[1].name}
    # the other photo's result is kept, under a name with its photo's hash, never replaced silently
    old_digests = json.loads(old_result)["batch"]["photo_sha256"]
    assert aside_path(item_json_path(out, photos[1].name), old_digests).read_bytes() == old_result

    other_settings = run_batch(discover(src), _config(out, "--iris-mm", "12"), jobs=1)
    assert other_settings.computed == names
    rows = _csv(out / "results.csv")
    assert sorted(r["item"] for r in rows) == sorted(names) and len(rows) == 3
    assert all(float(r["scale_rel_uncertainty"]) > 0 for r in rows)
    assert json.loads(item_json_path(out, photos[0].name).read_text())["settings"]["iris_mm"] == 12.0


def test_a_killed_worker_loses_nothing(tmp_path):
    src = tmp_path / "in"
    photos = _variants(src, 6)
    out = tmp_path / "out"
    killed = []

    def kill_first_worker(outcome):
        if not killed:
            killed.append(outcome.worker_pid)
            os.kill(outcome.worker_pid, signal.SIGKILL)

    report = run_batch(discover(src), _config(out), jobs=2, on_outcome=kill_first_worker)
    assert killed and killed[0] != os.getpid()
    assert sorted(o.name for o in report.outcomes) == sorted(p.name for p in photos)   # each once
    assert report.failed == set() and report.tables.n_results == 6 and report.tables.n_errors == 0
    assert len({o.worker_pid for o in report.outcomes}) >= 2


def test_sigkill_midway_then_rerun_completes_without_duplicates_or_redone_work(tmp_path):
    src = tmp_path / "in"
    photos = _variants(src, 10)
    out = tmp_path / "out"
    cmd = [sys.executable, "-m", "lipsym", "batch", str(src), "-o", str(out), "--jobs", "2"]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)
    try:
        deadline = time.monotonic() + 120
        while not any((out / "json").rglob("*.json")):
            assert proc.poll() is None and time.monotonic() < deadline, proc.stderr.read()
            time.sleep(0.01)
    finally:
        os.killpg(proc.pid, signal.SIGKILL)           # the CLI and its workers, at once
        proc.wait()
    done = _snapshot(out)
    assert 1 <= len(done) < len(photos)
    for name, (_, data) in done.items():
        assert json.loads(data)["results"][0]["status"] == "ok", name   # complete, parseable

    rerun = subprocess.run(cmd, capture_output=True, text=True, timeout=180)
    assert rerun.returncode == 0, rerun.stderr
    assert "Traceback" not in rerun.stderr
    assert f"{len(photos) - len(done)} analysed, {len(done)} reused, 0 errors" in rerun.stderr
    after = _snapshot(out)
    assert {k: after[k] for k in done} == done                         # completed work not redone
    rows = _csv(out / "results.csv")
    assert sorted(r["item"] for r in rows) == sorted(p.name for p in photos)   # none lost, none twice
    assert _csv(out / "errors.csv") == []


def test_ctrl_c_rebuilds_consistent_tables_and_exits_130(tmp_path):
    src = tmp_path / "in"
    # Enough photos that a loaded machine, which can pause this test process
    # for a second, still interrupts the batch midway (10 were sometimes done).
    photos = _variants(src, 30)
    out = tmp_path / "out"
    # The batch gets SIGINT's default disposition, as in a terminal: a test run started in the
    # background of a non-interactive shell inherits SIGINT ignored, and the batch then never
    # sees the Ctrl-C (it finished all 30 and exited 0; 3 December 2026).
    proc = subprocess.Popen([sys.executable, "-m", "lipsym", "batch", str(src), "-o", str(out), "--jobs", "2"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, start_new_session=True,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    deadline = time.monotonic() + 120
    while not any((out / "json").rglob("*.json")):
        assert proc.poll() is None and time.monotonic() < deadline, proc.stderr.read()
        time.sleep(0.01)
    os.killpg(proc.pid, signal.SIGINT)                  # what Ctrl-C in a terminal sends
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert "Traceback" not in err and err.rstrip().endswith("lipsym: interrupted")
    rows = _csv(out / "results.csv")
    on_disk = sorted(str(p.relative_to(out / "json"))[:-len(".json")] for p in (out / "json").rglob("*.json"))
    assert sorted(r["item"] for r in rows) == on_disk and 1 <= len(rows) < len(photos)


def _landmarkers_built() -> int:
    from lipsym.batch import _dask_runner as dask_runner

    return len(dask_runner._landmarkers)


def test_dask_local_cluster_gives_identical_results(tmp_path):
    distributed = pytest.importorskip("distributed", reason="dask.distributed not installed (pip install 'lipsym[dask]')")
    src = tmp_path / "in"
    _save(_face(0), src / "P001/2024-05-02/rest.png")
    _save(_face(1), src / "P001/2024-05-02/smile.png")
    _variants(src / "misc", 2)
    collection = discover(src)
    local = run_batch(collection, _config(tmp_path / "local"), jobs=1)
    with distributed.LocalCluster(n_workers=1, processes=True, threads_per_worker=1, dashboard_address=None) as cl:
        remote = run_batch(collection, _config(tmp_path / "dask"), scheduler=cl.scheduler_address)
        with distributed.Client(cl) as client:          # one landmarker per worker process, reused
            assert list(client.run(_landmarkers_built).values()) == [1]
    assert remote.computed == local.computed == {i.name for i in collection.items}
    assert len({o.worker_pid for o in remote.outcomes} - {os.getpid()}) == 1   # ran in the dask worker
    for item in collection.items:
        a = json.loads(item_json_path(tmp_path / "local", item.name).read_text())
        b = json.loads(item_json_path(tmp_path / "dask", item.name).read_text())
        assert a["results"] == b["results"] and a["pairs"] == b["pairs"] and a["batch"] == b["batch"]
    assert (tmp_path / "local/results.csv").read_text() == (tmp_path / "dask/results.csv").read_text()


def test_scheduler_without_dask_or_unreachable_is_a_one_line_error(tmp_path, capsys):
    _variants(tmp_path / "in", 1)
    code = main(["batch", str(tmp_path / "in"), "-o", str(tmp_path / "out"), "--scheduler", "tcp://127.0.0.1:9",
                 "--scheduler-timeout", "1", "-q"])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and err[0].startswith("lipsym: ")
    assert "dask" in err[0]


def test_manifest_batch_records_into_the_visit_store(tmp_path):
    from lipsym.visits.store import Store

    rest = _save(_face(0), tmp_path / "photos/r.png")
    smile = _save(_face(1), tmp_path / "photos/s.png")
    manifest = tmp_path / "m.csv"
    manifest.write_text("patient,date,expression,path\nP001,2024-05-02,rest,photos/r.png\n"
                        "P001,2024-05-02,smile,photos/s.png\n")
    db = tmp_path / "visits.sqlite"
    for _ in range(2):                                             # the rerun records nothing twice
        assert main(["batch", str(manifest), "-o", str(tmp_path / "out"), "--db", str(db), "-j", "1", "-q"]) == 0
    with Store.open(db) as store:
        (visit,) = store.list_visits("P001")
        assert str(visit.visit_date) == "2024-05-02" and visit.kind == "baseline"
        assert {p.expression for p in store.list_photos(visit)} == {"rest", "smile"}
        (analysis,) = store.list_analyses(visit)
        measures = {(m.name, m.condition): m for m in store.get_measures(analysis)}
    assert {condition for _, condition in measures} == {"rest", "smile", "dynamic"}
    doc = json.loads(item_json_path(tmp_path / "out", "P001/2024-05-02/pair").read_text())
    expected = doc["results"][0]["measures"]["sided"]["commissure_height"]["asymmetry"]
    assert measures["commissure_height.asymmetry", "rest"].value == pytest.approx(expected)
    assert rest.exists() and smile.exists()


def test_progress_plain_lines_every_interval_and_nothing_when_quiet():
    now = [0.0]
    stream = io.StringIO()
    progress = Progress(4, stream=stream, interval_s=10.0, clock=lambda: now[0])
    for t in (1.0, 5.0, 12.0, 13.0):
        now[0] = t
        progress.update(computed=True, ok=True)
    lines = stream.getvalue().splitlines()
    assert len(lines) == 2 and lines[0].startswith("lipsym batch: 3/4 items") and "ETA" in lines[0]
    assert lines[1].startswith("lipsym batch: 4/4 items")
    quiet = io.StringIO()
    progress = Progress(2, stream=quiet, quiet=True, interval_s=0.0)
    progress.update(computed=True, ok=True)
    progress.finish()
    assert quiet.getvalue() == ""


def test_progress_rate_of_a_burst_is_not_absurd():
    """Two parallel workers finishing a microsecond apart once read '56808.50 items/s'."""
    now = [0.0]
    stream = io.StringIO()
    progress = Progress(3, stream=stream, interval_s=0.0, clock=lambda: now[0])
    for t in (4.0, 4.000001):
        now[0] = t
        progress.update(computed=True, ok=True)
    assert "0.50 items/s" in stream.getvalue().splitlines()[-1]  # 2 items in 4 s from the start
    now[0] = 8.0
    progress.update(computed=True, ok=True)
    assert "0.50 items/s" in stream.getvalue().splitlines()[-1]  # steady: 2 more items in 4 s


@needs_shared
def test_london_pair_through_the_folder_convention(tmp_path):
    src = tmp_path / "in/F001/2023-01-01"
    src.mkdir(parents=True)
    (src / "rest.jpg").write_bytes((LONDON / "neutral/001_03.jpg").read_bytes())
    (src / "smile.jpg").write_bytes((LONDON / "smiling/001_08.jpg").read_bytes())
    report = run_batch(discover(tmp_path / "in"), _config(tmp_path / "out"), jobs=1)
    assert report.computed == {"F001/2023-01-01/pair"} and report.failed == set()
    (row,) = _csv(tmp_path / "out/results.csv")
    assert row["rest_status"] == "ok" and row["smile_status"] == "ok" and row["patient"] == "F001"


def test_a_lone_photo_skips_the_descriptor_unless_the_results_go_into_a_visit_record(tmp_path):
    from lipsym.analysis._options import AnalysisOptions
    from lipsym.batch._config import BatchConfig

    plain = BatchConfig(tmp_path)
    assert plain.item_options(1).face_descriptor is False and plain.item_options(2).face_descriptor is True
    recorded = BatchConfig(tmp_path, single_photo_descriptors=True)
    assert recorded.item_options(1).face_descriptor is True
    off = BatchConfig(tmp_path, AnalysisOptions(face_descriptor=False), single_photo_descriptors=True)
    assert off.item_options(2).face_descriptor is False  # --no-face-descriptor: pairs too
