"""Issue #15: batch outputs keyed by source, bounded names, CSV injection, private outputs, one-line errors."""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
import stat
import subprocess
from pathlib import Path

import pytest
from PIL import Image, ImageOps

from conftest import LONDON, SAMPLE, needs_shared
from lipsym.batch._layout import MAX_NAME_BYTES, aside_path, item_json_path
from lipsym.batch._progress import Progress
from lipsym.cli import main
from lipsym.errors import OutputError
from lipsym.formats._csv import escape_cell, to_csv
from lipsym.io._outputs import SHARE_ENV, make_output_dir, sharing_outputs, write_atomic


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def _rows(path: Path) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8"))))


def _one_error_line(err: str) -> str:
    assert "Traceback" not in err
    lines = [ln for ln in err.splitlines() if ln.startswith("lipsym: ")]
    assert len(lines) == 1, err
    return lines[0]


@pytest.fixture
def umask022():
    previous = os.umask(0o022)
    yield
    os.umask(previous)


# --- CSV injection ---------------------------------------------------------------------------------


def test_escape_cell_escapes_formula_text_and_keeps_numbers():
    for text in ("=1+2", "+SUM(A1)", "-2+3", "@cmd", "\tx", "\rx", "=HYPERLINK(\"http://x\")"):
        assert escape_cell(text) == "'" + text
    for value in ("-1.5", "+2", "-1e-3", "-inf", "nan", "P001", "", "a=b", -1.5, -3, None):
        assert escape_cell(value) == value
    text = to_csv([{"item": "=1+2/a.jpg", "patient": "@x", "asym_mm": -1.25, "note": "-"}])
    assert _rows_of(text) == [{"item": "'=1+2/a.jpg", "patient": "'@x", "asym_mm": "-1.25", "note": "'-"}]
    assert to_csv([{"=col": 1}]).splitlines()[0] == "'=col"


def _rows_of(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def test_store_exports_escape_formulas_and_are_private(tmp_path, umask022, capsys):
    db = tmp_path / "record.sqlite3"
    d = ["--db", str(db)]
    assert main(["patient", "add", "=1+2", "--birth-year", "1985", "--sex", "f", *d]) == 0
    assert main(["visit", "add", "=1+2", "2024-05-02", "--kind", "baseline", *d]) == 0
    assert main(["treatment", "add", "=1+2", "--visit", "2024-05-02", "--product", "=HYPERLINK(1)", "--type",
                 "filler", "--dose", "0.6", "--unit", "ml", *d]) == 0
    out = tmp_path / "deep" / "csv"
    assert main(["export", "=1+2", "--csv", str(out), *d]) == 0
    assert _rows(out / "patients.csv")[0]["identifier"] == "'=1+2"
    assert _rows(out / "treatments.csv")[0]["product_name"] == "'=HYPERLINK(1)"
    assert _rows(out / "treatments.csv")[0]["dose_value"] == "0.6"
    assert {_mode(p) for p in out.iterdir()} == {0o600} and _mode(out) == _mode(out.parent) == 0o700
    research = tmp_path / "research"
    assert main(["export", "--research", str(research), *d]) == 0
    assert _rows(research / "treatments.csv")[0]["product_name"] == "'=HYPERLINK(1)"
    assert {_mode(p) for p in research.iterdir()} == {0o600}
    # --share: the files follow the umask
    shared = tmp_path / "shared"
    assert main(["export", "=1+2", "--csv", str(shared), "--share", *d]) == 0
    assert {_mode(p) for p in shared.iterdir()} == {0o644} and _mode(shared) == 0o755
    capsys.readouterr()

    # Every "exists" message names the command's flag, not the library's argument.
    for argv in (["export", "=1+2", "--csv", str(out)], ["export", "--research", str(research)],
                 ["db", "backup", str(tmp_path / "b.sqlite3")], ["db", "backup", str(tmp_path / "b.sqlite3")]):
        code = main([*argv, *d])
        err = capsys.readouterr().err
        if code == 0:  # the first backup
            continue
        line = _one_error_line(err)
        assert code == 7 and "--force" in line and "overwrite=True" not in line, line
    from lipsym.visits.store import Store

    with Store.open(db) as store:
        target = tmp_path / "p.json"
        store.export_patient_json("=1+2", target, overwrite=False)
        assert _mode(target) == 0o600
        with pytest.raises(Exception, match="--force"):
            store.export_patient_json("=1+2", target, overwrite=False)


# --- private outputs ---------------------------------------------------------------------------------


def test_write_atomic_and_make_output_dir_are_private_unless_shared(tmp_path, umask022, monkeypatch):
    monkeypatch.delenv(SHARE_ENV, raising=False)
    f = write_atomic(tmp_path / "a" / "b" / "f.json", "{}")
    assert _mode(f) == 0o600 and _mode(tmp_path / "a") == _mode(tmp_path / "a" / "b") == 0o700
    with sharing_outputs():
        g = write_atomic(tmp_path / "s" / "g.json", "{}")
    assert _mode(g) == 0o644 and _mode(tmp_path / "s") == 0o755
    monkeypatch.setenv(SHARE_ENV, "1")
    assert _mode(write_atomic(tmp_path / "h.json", "{}")) == 0o644
    assert _mode(write_atomic(tmp_path / "i.json", "{}", share=False)) == 0o600
    (tmp_path / "file").write_text("x")
    with pytest.raises(OutputError, match="file/sub: cannot create the folder"):
        make_output_dir(tmp_path / "file" / "sub")
    # a 255-byte name: the temporary file's name is bounded too
    long = tmp_path / ("x" * 250 + ".json")
    assert write_atomic(long, "{}").read_text() == "{}"


@needs_shared
@pytest.mark.slow
def test_every_output_kind_is_private_under_umask_022(tmp_path, umask022, monkeypatch, capsys):
    monkeypatch.delenv(SHARE_ENV, raising=False)
    rest, smile = LONDON / "neutral" / "010_03.jpg", LONDON / "smiling" / "010_08.jpg"
    a = tmp_path / "analyze"
    assert main(["analyze", str(rest), "-o", str(a / "r.json"), "--csv", str(a / "r.csv"),
                 "--overlay", str(a / "overlay")]) == 0
    rep = tmp_path / "report"
    assert main(["report", "--rest", str(rest), "--smile", str(smile), "-o", str(rep)]) == 0
    cmp_png = tmp_path / "cmp" / "c.png"
    assert main(["compare", str(rest), str(smile), "-o", str(cmp_png)]) == 0
    sim = tmp_path / "sim" / "s.png"
    assert main(["simulate", str(rest), "--plant", "commissure:left:1.5", "-o", str(sim)]) == 0
    files = [p for p in tmp_path.rglob("*") if p.is_file()]
    kinds = {p.suffix for p in files}
    assert {".json", ".csv", ".png", ".html", ".pdf"} <= kinds, kinds
    assert {str(p.relative_to(tmp_path)): _mode(p) for p in files if _mode(p) != 0o600} == {}
    folders = [p for p in tmp_path.rglob("*") if p.is_dir()]
    assert {str(p.relative_to(tmp_path)): _mode(p) for p in folders if _mode(p) != 0o700} == {}
    assert "Traceback" not in capsys.readouterr().err


# --- batch -------------------------------------------------------------------------------------------


def _read_only(folder: Path):
    """Make a folder unwritable, also for root (immutable attribute); skip where neither works."""
    folder.mkdir(parents=True, exist_ok=True)
    if os.geteuid() != 0:
        folder.chmod(0o555)
        return lambda: folder.chmod(0o755)
    if shutil.which("chattr") is None or subprocess.run(["chattr", "+i", str(folder)],
                                                        capture_output=True).returncode != 0:
        pytest.skip("running as root without chattr: no way to make a folder read-only")
    return lambda: subprocess.run(["chattr", "-i", str(folder)], check=True)


def test_batch_into_an_unwritable_output_is_one_line_exit_8(tmp_path, capsys):
    src = tmp_path / "in"
    src.mkdir()
    Image.open(SAMPLE).convert("RGB").save(src / "a.jpg")
    blocker = tmp_path / "file"
    blocker.write_text("x")
    for out, reason in ((blocker / "sub", "cannot create the folder (Not a directory)"),
                        (blocker, "exists and is not a folder")):
        assert main(["batch", str(src), "-o", str(out), "--jobs", "1"]) == 8
        assert _one_error_line(capsys.readouterr().err) == f"lipsym: {out}: {reason}"
    ro = tmp_path / "ro"
    undo = _read_only(ro)
    try:
        for out in (ro, ro / "sub"):
            assert main(["batch", str(src), "-o", str(out), "--jobs", "1"]) == 8
            line = _one_error_line(capsys.readouterr().err)
            assert line.startswith(f"lipsym: {out}: cannot "), line
    finally:
        undo()


def test_batch_outputs_are_keyed_by_source_and_long_names_fit(tmp_path, umask022, monkeypatch, capsys):
    monkeypatch.delenv(SHARE_ENV, raising=False)
    face = Image.open(SAMPLE).convert("RGB")
    a, b = tmp_path / "A", tmp_path / "B"
    long_name = "x" * 251 + ".jpg"
    assert len(long_name.encode()) == 255
    for folder, image in ((a, face), (b, ImageOps.mirror(face))):
        (folder / "=1+2").mkdir(parents=True)
        image.save(folder / "=1+2" / "face.png")
    face.save(a / long_name, quality=90)
    out = tmp_path / "out"

    assert main(["batch", str(a), "-o", str(out), "--jobs", "1", "--quiet"]) == 0
    rows = _rows(out / "results.csv")
    assert [r["item"] for r in rows] == ["'=1+2/face.png", long_name]  # escaped against formula injection
    long_json = item_json_path(out, long_name)
    assert long_json.is_file() and len(long_json.name.encode()) == MAX_NAME_BYTES
    assert json.loads(long_json.read_text())["batch"]["item"] == long_name
    # private: folders 0700, files 0600
    assert {_mode(p) for p in out.rglob("*") if p.is_dir()} | {_mode(out)} == {0o700}
    assert {_mode(p) for p in out.rglob("*") if p.is_file()} == {0o600}
    a_result = item_json_path(out, "=1+2/face.png").read_bytes()

    # Another source with the same relative names: refused, nothing replaced.
    assert main(["batch", str(b), "-o", str(out), "--jobs", "1", "--quiet"]) == 7
    line = _one_error_line(capsys.readouterr().err)
    assert line.startswith(f"lipsym: {out}: holds the results of {a.resolve()}") and "--force" in line
    assert item_json_path(out, "=1+2/face.png").read_bytes() == a_result

    # --force: B's result under the name, A's kept under a name with its photo's hash.
    assert main(["batch", str(b), "-o", str(out), "--jobs", "1", "--quiet", "--force"]) == 0
    a_digests = json.loads(a_result)["batch"]["photo_sha256"]
    assert aside_path(item_json_path(out, "=1+2/face.png"), a_digests).read_bytes() == a_result
    b_doc = json.loads(item_json_path(out, "=1+2/face.png").read_text())
    assert b_doc["batch"]["photo_sha256"] != a_digests
    assert json.loads((out / "source.json").read_text())["source"] == str(b.resolve())
    # resuming B reuses its result; the long-named file of A is still there, out of B's tables
    assert main(["batch", str(b), "-o", str(out), "--jobs", "1"]) == 0
    assert "1 reused" in capsys.readouterr().err
    assert long_json.is_file() and [r["item"] for r in _rows(out / "results.csv")] == ["'=1+2/face.png"]

    # --share: new outputs follow the umask
    shared = tmp_path / "shared"
    assert main(["batch", str(b), "-o", str(shared), "--jobs", "1", "--quiet", "--share"]) == 0
    assert {_mode(p) for p in shared.rglob("*") if p.is_dir()} | {_mode(shared)} == {0o755}
    assert {_mode(p) for p in shared.rglob("*") if p.is_file()} == {0o644}


def test_progress_label():
    stream = io.StringIO()
    progress = Progress(1, label="lipsym import", stream=stream, interval_s=0)
    progress.update(computed=True, ok=True)
    assert stream.getvalue().startswith("lipsym import: 1/1 items")
    assert Progress(1).status().startswith("lipsym batch: ")
