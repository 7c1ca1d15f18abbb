"""A damaged visit-record database: refused with one line, diagnosed, salvaged, restored.

One test per class of damage (truncated file, damaged header, damaged page,
damaged write-ahead log), each through the CLI: a writing and a reading
command are refused (exit 7, one line naming the file, no traceback),
``db check`` names the problem, ``db backup`` copies what can be read and
says what it could not, ``db restore`` brings back a good backup.
"""

from __future__ import annotations

import shutil
import sqlite3
import struct
from pathlib import Path

import pytest

from lipsym.cli import main
from lipsym.visits.store import DamagedDatabaseError, Store, diagnose, inspect_file

N_PATIENTS = 30
PAGE_BYTES = 4096


def _fill(path: Path, photos: Path, identifiers) -> None:
    photos.mkdir(exist_ok=True)
    with Store.open(path) as store:
        for name in identifiers:
            visit = store.get_or_create_visit(store.get_or_create_patient(name), "2024-05-02", "baseline")
            photo_file = photos / f"{name}_rest.jpg"
            photo_file.write_bytes(name.encode() * 50)
            photo = store.add_photo(visit, photo_file, "rest")
            # ~3 kB results: one analysis per page, so a damaged page loses few rows.
            store.add_analysis(rest_photo=photo, settings={"k": 1}, result={"pad": "r" * 3000, "who": name},
                               measures=[{"name": "m_mm", "value": 1.0, "unit": "mm", "condition": "rest"}])


@pytest.fixture()
def healthy(tmp_path: Path) -> tuple[Path, Path]:
    """A closed database of N_PATIENTS patients, and a good backup of it."""
    db = tmp_path / "visits.sqlite3"
    _fill(db, tmp_path / "photos", [f"P{i:03d}" for i in range(N_PATIENTS)])
    backup = tmp_path / "good-backup.sqlite3"
    assert main(["db", "backup", str(backup), "--db", str(db)]) == 0
    return db, backup


def _truncate(db: Path) -> None:
    with open(db, "r+b") as stream:
        stream.truncate(db.stat().st_size // 2 + 1000)


def _break_header(db: Path) -> None:
    with open(db, "r+b") as stream:
        stream.write(b"not SQLite!!!!!!")


def _break_page(db: Path) -> None:
    """Overwrite one leaf page of the analyses table (a child of its root page)."""
    conn = sqlite3.connect(db)
    (root,) = conn.execute("SELECT rootpage FROM sqlite_master WHERE name = 'analyses'").fetchone()
    conn.close()
    data = bytearray(db.read_bytes())
    page = (root - 1) * PAGE_BYTES
    assert data[page] == 0x05  # an interior table page: the table spans several pages
    cell = struct.unpack(">H", data[page + 12:page + 14])[0]
    (child,) = struct.unpack(">I", data[page + cell:page + cell + 4])
    data[(child - 1) * PAGE_BYTES:child * PAGE_BYTES] = b"\xa5" * PAGE_BYTES
    db.write_bytes(bytes(data))


def _crash_image_with_damaged_wal(db: Path) -> None:
    """Replace ``db`` by the image of a crash with 5 commits in the log, the first frame damaged."""
    image = db.with_name("crash-image")
    image.mkdir()
    keeper = sqlite3.connect(db)  # held open, so that closing the store leaves its log
    keeper.execute("SELECT count(*) FROM patients").fetchone()
    _fill(db, db.parent / "photos", [f"Q{i:03d}" for i in range(5)])
    shutil.copyfile(db, image / "db")
    shutil.copyfile(f"{db}-wal", image / "wal")
    keeper.close()
    shutil.copyfile(image / "db", db)
    wal = bytearray((image / "wal").read_bytes())
    wal[32 + 24 + 200] ^= 0xFF  # a byte of the first frame's page
    Path(f"{db}-wal").write_bytes(bytes(wal))
    Path(f"{db}-shm").unlink(missing_ok=True)


DAMAGE = {
    # kind → (how, words of the one-line reason, words db check prints)
    "truncated": (_truncate, "truncated", "truncated"),
    "header": (_break_header, "header is damaged", "header is damaged"),
    "page": (_break_page, "analyses", "analyses"),
    "wal": (_crash_image_with_damaged_wal, "write-ahead log", "write-ahead log frame 1"),
}


def _one_line_refusal(capsys, argv: list[str], db: Path, words: str) -> None:
    assert main([*argv, "--db", str(db)]) == 7
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err, err
    assert str(db) in err and words in err and "damaged" in err, err


@pytest.mark.parametrize("kind", sorted(DAMAGE))
def test_damaged_database_is_refused_diagnosed_salvaged_restored(kind, healthy, tmp_path, capsys):
    db, good = healthy
    damage, reason_words, check_words = DAMAGE[kind]
    damage(db)
    damaged_bytes = db.read_bytes()
    wal_bytes = Path(f"{db}-wal").read_bytes() if Path(f"{db}-wal").exists() else None
    capsys.readouterr()

    # Refused, for writing and for reading, before anything is written.
    _one_line_refusal(capsys, ["patient", "add", "P999"], db, reason_words)
    _one_line_refusal(capsys, ["patient", "list"], db, reason_words)
    with pytest.raises(DamagedDatabaseError) as refused:
        Store.open(db)
    assert refused.value.problems and {p.kind for p in refused.value.problems} >= {kind}
    assert db.read_bytes() == damaged_bytes

    # db check names the problem (and still writes nothing).
    assert main(["db", "check", "--db", str(db)]) == 7
    out = capsys.readouterr().out
    assert check_words in out and "Traceback" not in out, out
    assert kind in {p.kind for p in diagnose(db)}
    assert db.read_bytes() == damaged_bytes
    if wal_bytes is not None:
        assert Path(f"{db}-wal").read_bytes() == wal_bytes

    # db backup copies what can be read, says what it could not, exits 7.
    salvaged = tmp_path / "salvaged.sqlite3"
    assert main(["db", "backup", str(salvaged), "--db", str(db)]) == 7
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err and "damaged:" in captured.err
    if kind == "header":
        # Only the constant format string was hit: every row comes back.
        assert "repaired in the copy" in captured.err and "not copied" not in captured.err
    else:
        assert "not copied" in captured.err, captured.err
    assert db.read_bytes() == damaged_bytes
    with Store.open(salvaged) as copy:  # a sound file (rows may refer to lost ones)
        kept = {p.identifier for p in copy.list_patients()}
    assert kept and kept <= {f"P{i:03d}" for i in range(N_PATIENTS)} | {f"Q{i:03d}" for i in range(5)}
    if kind == "header":
        assert len(kept) == N_PATIENTS
    if kind == "page":
        with Store.open(salvaged) as copy:
            analysed = sum(len(copy.list_analyses(v)) for p in copy.list_patients() for v in copy.list_visits(p))
        assert N_PATIENTS - 3 <= analysed < N_PATIENTS  # one page's worth lost, the rest copied

    # db restore: verifies the backup, replaces the database, keeps the old file.
    assert main(["db", "restore", str(good), "--db", str(db)]) == 0
    out = capsys.readouterr().out
    kept_as = Path(out.strip().splitlines()[-1].split(" kept as ")[1])
    assert kept_as.read_bytes() == damaged_bytes
    if wal_bytes is not None:
        assert Path(f"{kept_as}-wal").read_bytes() == wal_bytes and not Path(f"{db}-wal").exists()
    assert inspect_file(db) == []
    assert main(["patient", "list", "--db", str(db), "--json"]) == 0
    assert capsys.readouterr().out.count('"identifier"') == N_PATIENTS
    assert main(["patient", "add", "P999", "--db", str(db)]) == 0


def test_restore_refuses_a_damaged_backup(healthy, tmp_path, capsys):
    db, good = healthy
    _break_page(good)
    before = db.read_bytes()
    assert main(["db", "restore", str(good), "--db", str(db)]) == 7
    err = capsys.readouterr().err
    assert "not restored" in err and str(good) in err and err.count("\n") == 1
    assert db.read_bytes() == before and not list(tmp_path.glob("*.replaced-*"))


def test_a_wal_with_only_a_torn_tail_is_not_damage(healthy):
    """A crash in the middle of writing a transaction leaves a torn last frame: nothing committed is lost."""
    db, _ = healthy
    _crash_image_with_damaged_wal(db)
    wal = Path(f"{db}-wal")
    data = bytearray(wal.read_bytes())
    frame_bytes = 24 + PAGE_BYTES
    frames = (len(data) - 32) // frame_bytes
    # Undo the damage of frame 1, then tear the last frame instead.
    data[32 + 24 + 200] ^= 0xFF
    data[32 + (frames - 1) * frame_bytes + 24 + 10] ^= 0xFF
    wal.write_bytes(bytes(data))
    assert inspect_file(db) == []
    with Store.open(db) as store:  # SQLite drops the torn (last, uncommitted) transaction
        names = {p.identifier for p in store.list_patients()}
    assert {f"Q{i:03d}" for i in range(4)} <= names


def test_open_check_can_be_skipped(healthy):
    db, _ = healthy
    _break_page(db)
    with Store.open(db, check=False) as store:  # the page is not read by opening
        assert len(store.list_patients()) == N_PATIENTS


def test_damage_met_after_open_is_one_line_naming_the_file(healthy, capsys):
    db, _ = healthy
    _break_page(db)
    with Store.open(db, check=False) as store:  # as if the page went bad after the check
        with pytest.raises(DamagedDatabaseError, match="stopped") as caught:
            for patient in store.list_patients():
                for visit in store.list_visits(patient):
                    store.list_analyses(visit)
    message = str(caught.value)
    assert str(db) in message and "\n" not in message and "malformed" in message


def test_import_with_the_disk_full_counts_only_what_was_committed(tmp_path, capsys, monkeypatch):
    """Commits 1, 4, 7, ... fail as on a full disk (the patient transactions of D0, D2, D4 here):
    the report adds up to what is in the file."""
    import contextlib
    import json

    from conftest import SAMPLE
    from lipsym.visits.store import _store as store_module

    root = tmp_path / "photos"
    for i in range(6):
        folder = root / f"D{i}" / "2024-01-10"
        folder.mkdir(parents=True)
        shutil.copy(SAMPLE, folder / "rest.png")
    db = tmp_path / "full.sqlite3"
    Store.open(db).close()
    real = store_module.write_transaction
    commits = []

    @contextlib.contextmanager
    def disk_full_at_some_commits(conn):
        outermost = not conn.in_transaction
        with real(conn):
            yield conn
            if outermost:
                commits.append(1)
                if len(commits) % 3 == 1:
                    raise sqlite3.OperationalError("database or disk is full")

    monkeypatch.setattr(store_module, "write_transaction", disk_full_at_some_commits)
    capsys.readouterr()
    assert main(["import", str(root), "--no-analyze", "--json", "--db", str(db)]) == 1
    report = json.loads(capsys.readouterr().out)
    conn = sqlite3.connect(db)
    stored = {t: conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in ("patients", "visits", "photos")}
    conn.close()
    assert report["failures"] and stored["patients"] == 3
    assert (report["patients_added"], report["visits_added"], report["photos_added"]) == (
        stored["patients"], stored["visits"], stored["photos"])
    for what, reason in report["failures"]:
        assert "disk is full" in reason and str(db) in reason
        assert what in reason  # names the photo or the patient


def test_the_open_check_leaves_check_constraints_enforced(healthy):
    db, _ = healthy
    with Store.open(db) as store:
        assert store._conn.execute("PRAGMA ignore_check_constraints").fetchone()[0] == 0
        with pytest.raises(sqlite3.IntegrityError):
            store._conn.execute("UPDATE measures SET condition = 'sideways' WHERE id = 1")
