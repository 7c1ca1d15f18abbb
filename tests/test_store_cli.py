"""The visit-record commands: patients, visits, treatments, import, analyze-pending, track, db, export.

Real photos (london_dev) where an analysis is needed; the sample image or
plain bytes where only the record is.
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import LONDON, SAMPLE, needs_shared
from lipsym.cli import main
from lipsym.visits.store import SCHEMA_VERSION, Store

PEOPLE = ("010", "013", "017")


def dump(db: Path) -> list[str]:
    """Every row of the database as SQL text (to prove a refused command changed nothing)."""
    conn = sqlite3.connect(db)
    try:
        return list(conn.iterdump())
    finally:
        conn.close()


def run_json(capsys, *argv) -> tuple[int, object]:
    capsys.readouterr()
    code = main([*argv, "--json"])
    out = capsys.readouterr().out
    return code, (json.loads(out) if out.strip() else None)


def link_visit(root: Path, patient: str, day: str, person: str) -> None:
    """PATIENT/DAY/rest.jpg + smile.jpg as symbolic links to a London person's photos (never copied)."""
    folder = root / patient / day
    folder.mkdir(parents=True, exist_ok=True)
    os.symlink(LONDON / "neutral" / f"{person}_03.jpg", folder / "rest.jpg")
    os.symlink(LONDON / "smiling" / f"{person}_08.jpg", folder / "smile.jpg")


def counts(db: Path) -> dict[str, int]:
    conn = sqlite3.connect(db)
    try:
        return {t: conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
                for t in ("patients", "visits", "photos", "analyses", "measures", "treatments")}
    finally:
        conn.close()


@pytest.fixture
def db(tmp_path) -> Path:
    path = tmp_path / "record.sqlite3"
    assert main(["patient", "add", "P001", "--birth-year", "1985", "--sex", "f", "--db", str(path)]) == 0
    assert main(["visit", "add", "P001", "2024-05-02", "--kind", "baseline", "--db", str(path)]) == 0
    return path


# --- patients, visits, treatments ---------------------------------------------------------------


def test_patient_visit_treatment_round_trip(db, capsys):
    d = ["--db", str(db)]
    assert main(["treatment", "add", "P001", "--visit", "2024-05-16", "--product", "Volbella", "--type",
                 "filler", "--dose", "0.6", "--unit", "ml", "--site", "upper_lip:left:0.4",
                 "--site", "commissure:right", "--lot", "L123", "--technique", "cannula", "--injector", "Dr A",
                 "--notes", "conservative", *d]) == 0
    code, doc = run_json(capsys, "patient", "show", "P001", *d)
    assert code == 0 and doc["patient"]["birth_year"] == 1985 and doc["patient"]["sex"] == "female"
    assert [(v["visit_date"], v["kind"]) for v in doc["visits"]] == [("2024-05-02", "baseline"),
                                                                     ("2024-05-16", "treatment")]
    (t,) = doc["visits"][1]["treatments"]
    assert (t["product_type"], t["dose_value"], t["dose_unit"], t["lot"], t["technique"]) == (
        "ha_filler", 0.6, "mL", "L123", "cannula")
    assert [(s["region"], s["side"], s["dose_value"]) for s in t["sites"]] == [
        ("upper_lip", "left", 0.4), ("commissure", "right", None)]
    # Treatment at an existing visit, named by kind; neuromodulator in units.
    assert main(["treatment", "add", "P001", "--visit", "baseline", "--product", "Botox", "--type",
                 "neuromodulator", "--dose", "6", "--unit", "units", "--site", "upper_lip:midline", *d]) == 0
    code, listed = run_json(capsys, "patient", "list", *d)
    assert code == 0 and listed["schema"] == "lipsym.patients"
    assert [(p["identifier"], p["visits"]) for p in listed["patients"]] == [("P001", 2)]
    capsys.readouterr()
    assert main(["patient", "show", "P001", *d]) == 0
    text = capsys.readouterr().out
    assert "Volbella 0.6 mL" in text and "Botox 6 U" in text and "treatment" in text


ERRORS = [
    # (argv, exit code, words the message must contain)
    (["visit", "add", "P999", "2024-06-01", "--kind", "follow-up"], 7, "P999"),
    (["visit", "add", "P001", "2024-02-30", "--kind", "follow-up"], 2, "2024-02-30"),
    (["visit", "add", "P001", "02/06/2024", "--kind", "follow-up"], 2, "YYYY-MM-DD"),
    (["visit", "add", "P001", "2024-06-01", "--kind", "checkup"], 2, "visit kind"),
    (["visit", "add", "P001", "2024-05-02", "--kind", "baseline"], 7, "already has"),
    (["patient", "add", "p001"], 7, "already exists"),
    (["patient", "add", "P002", "--birth-year", "1850"], 2, "birth year"),
    (["treatment", "add", "P999", "--visit", "2024-06-01", "--product", "X", "--type", "ha_filler",
      "--dose", "1", "--unit", "mL"], 7, "P999"),
    (["treatment", "add", "P001", "--visit", "2024-06-01", "--product", "X", "--type", "ha_filler",
      "--dose", "-0.5", "--unit", "mL"], 2, "positive"),
    (["treatment", "add", "P001", "--visit", "2024-06-01", "--product", "X", "--type", "ha_filler",
      "--dose", "1", "--unit", "cc"], 2, "dose unit"),
    (["treatment", "add", "P001", "--visit", "2024-06-01", "--product", "X", "--type", "neuromodulator",
      "--dose", "1", "--unit", "mL"], 2, "units"),
    (["treatment", "add", "P001", "--visit", "2024-06-01", "--product", "X", "--type", "ha_filler",
      "--dose", "1", "--unit", "mL", "--site", "upper_lip:top"], 2, "side"),
    (["treatment", "add", "P001", "--visit", "2024-06-01", "--product", "X", "--type", "ha_filler",
      "--dose", "1", "--unit", "mL", "--site", "upper_lip"], 2, "REGION:SIDE"),
    (["treatment", "add", "P001", "--visit", "2024-06-01", "--product", "X", "--type", "ha_filler",
      "--dose", "1", "--unit", "mL", "--site", "upper_lip:left:2"], 2, "more than the total"),
    (["treatment", "add", "P001", "--visit", "follow-up", "--product", "X", "--type", "ha_filler",
      "--dose", "1", "--unit", "mL"], 7, "no follow-up visit"),
    (["track", "P999"], 7, "P999"),
    (["compare", "P999", "--from", "first", "--to", "last"], 7, "P999"),
    (["compare", "P001", "--from", "baseline", "--to", "2024-09-09"], 7, "no visit on 2024-09-09"),
    (["compare", "P001", "--from", "soon", "--to", "baseline"], 2, "give a visit id"),
    (["compare", "P001", "--from", "baseline", "--to", "baseline"], 7, "are the same visit"),
    (["compare", "P001", "--from", "baseline"], 2, "--to"),
    (["export"], 2, "PATIENT"),
]


@pytest.mark.parametrize("argv,code,words", ERRORS, ids=[" ".join(e[0][:3]) + f" {i}" for i, e in enumerate(ERRORS)])
def test_invalid_input_one_line_exit_code_and_nothing_changed(db, capsys, argv, code, words):
    before = dump(db)
    capsys.readouterr()
    assert main([*argv, "--db", str(db)]) == code
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("lipsym: ") and words in err[0], err
    assert dump(db) == before


def test_user_errors_never_print_a_traceback(db):
    proc = subprocess.run([sys.executable, "-m", "lipsym", "treatment", "add", "P001", "--visit", "2024-13-01",
                           "--product", "X", "--type", "ha_filler", "--dose", "1", "--unit", "mL", "--db", str(db)],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert proc.stderr.strip().count("\n") == 0 and "2024-13-01" in proc.stderr


def test_read_commands_do_not_create_a_database(tmp_path, capsys):
    missing = tmp_path / "nothing.sqlite3"
    assert main(["patient", "list", "--db", str(missing)]) == 7
    assert "no such database" in capsys.readouterr().err
    assert not missing.exists()


def test_db_env_var_is_used(tmp_path, monkeypatch, capsys):
    path = tmp_path / "env.sqlite3"
    monkeypatch.setenv("LIPSYM_DB", str(path))
    assert main(["patient", "add", "E1"]) == 0
    assert path.is_file()
    code, listed = run_json(capsys, "patient", "list")
    assert [p["identifier"] for p in listed["patients"]] == ["E1"]


# --- db and export --------------------------------------------------------------------------------


def test_backup_check_and_exports(db, tmp_path, capsys):
    d = ["--db", str(db)]
    dest = tmp_path / "copy.sqlite3"
    assert main(["db", "backup", str(dest), *d]) == 0
    assert not Path(f"{dest}-wal").exists()
    with Store.open(dest, create=False) as copy:
        assert [p.identifier for p in copy.list_patients()] == ["P001"] and copy.check_integrity() == []
    assert main(["db", "backup", str(dest), *d]) == 7  # never overwritten unasked
    assert main(["db", "backup", str(dest), "--force", *d]) == 0
    assert main(["db", "check", *d]) == 0

    out = tmp_path / "p001.json"
    assert main(["export", "P001", "-o", str(out), *d]) == 0
    doc = json.loads(out.read_text())
    assert doc["format"] == "lipsym-patient-record" and doc["patient"]["identifier"] == "P001"
    assert out.stat().st_mode & 0o777 == 0o600  # health data: private, like the database
    assert main(["export", "P001", "-o", str(out), *d]) == 7
    assert main(["export", "P001", "-o", str(out), "--force", *d]) == 0
    assert main(["export", "P001", "--csv", str(tmp_path / "csv"), *d]) == 0
    assert (tmp_path / "csv" / "visits.csv").is_file()
    research = tmp_path / "research"
    assert main(["export", "--research", str(research), *d]) == 0
    patients_csv = (research / "patients.csv").read_text()
    assert "P001" not in patients_csv and "PS-" in patients_csv
    manifest = json.loads((research / "manifest.json").read_text())
    assert "NOT anonymised" in manifest["pseudonymisation"]


def test_backup_uses_the_sqlite_backup_api(db, tmp_path, monkeypatch):
    calls = []
    original = sqlite3.Connection.backup

    class Spy(sqlite3.Connection):
        def backup(self, target, *args, **kwargs):
            calls.append(target)
            return original(self, target, *args, **kwargs)

    real_connect = sqlite3.connect
    monkeypatch.setattr(sqlite3, "connect", lambda *a, **k: real_connect(*a, **{**k, "factory": Spy}))
    assert main(["db", "backup", str(tmp_path / "b.sqlite3"), "--db", str(db)]) == 0
    assert len(calls) == 1


def test_moved_and_modified_photos_are_detected(tmp_path, capsys):
    photos = tmp_path / "photos" / "P5" / "2024-01-01"
    photos.mkdir(parents=True)
    shutil.copy(SAMPLE, photos / "rest.png")
    db = tmp_path / "r.sqlite3"
    d = ["--db", str(db)]
    assert main(["import", str(tmp_path / "photos"), "--no-analyze", *d]) == 0
    code, statuses = run_json(capsys, "db", "verify", *d)
    assert code == 0 and [s["state"] for s in statuses] == ["ok"]
    elsewhere = tmp_path / "moved"
    elsewhere.mkdir()
    shutil.move(photos / "rest.png", elsewhere / "renamed.png")
    code, statuses = run_json(capsys, "db", "verify", "--search", str(elsewhere), *d)
    assert code == 1 and statuses[0]["state"] == "moved"
    assert statuses[0]["candidates"] == [str(elsewhere / "renamed.png")]
    (photos / "rest.png").write_bytes((elsewhere / "renamed.png").read_bytes() + b"edited")
    code, statuses = run_json(capsys, "db", "verify", *d)
    assert code == 1 and statuses[0]["state"] == "modified"
    # A modified photo is never analysed under its old record.
    before = dump(db)
    assert main(["analyze-pending", *d]) == 1
    assert "changed since it was recorded" in capsys.readouterr().err
    assert dump(db) == before


def test_import_of_a_missing_source_creates_nothing(tmp_path, capsys):
    db = tmp_path / "r.sqlite3"
    assert main(["import", str(tmp_path / "nope"), "--db", str(db)]) == 2
    assert "no such folder" in capsys.readouterr().err and not db.exists()


# --- import with analysis (real photos) -------------------------------------------------------------


@needs_shared
def test_import_folder_is_idempotent_and_analysed(tmp_path, capsys):
    root = tmp_path / "photos"
    link_visit(root, "A1", "2024-01-10", "010")
    link_visit(root, "A1", "2024-02-10", "013")  # any face will do for the record
    link_visit(root, "A2", "2024-01-11", "017")
    db = tmp_path / "r.sqlite3"
    code, report = run_json(capsys, "import", str(root), "--db", str(db))
    assert code == 0, report
    assert (report["patients_added"], report["visits_added"], report["photos_added"],
            report["analyses_added"], report["failures"]) == (2, 3, 6, 3, [])
    first = dump(db)
    code, report = run_json(capsys, "import", str(root), "--db", str(db))
    assert code == 0 and (report["photos_added"], report["photos_known"], report["analyses_added"]) == (0, 6, 0)
    assert dump(db) == first
    with Store.open(db) as store:
        kinds = [(v.visit_date.isoformat(), v.kind) for v in store.list_visits("A1")]
        assert kinds == [("2024-01-10", "baseline"), ("2024-02-10", "follow-up")]
        rows = store.measures_for_patient("A1", "commissure_height.asymmetry", condition="rest")
        assert len(rows) == 2 and all(r.unit == "mm" and r.standard_error > 0 for r in rows)
        # A later date imported on its own is a follow-up, an earlier one becomes... its own baseline only
        # if nothing earlier exists: here the record already has the baseline.
    link_visit(tmp_path / "later", "A1", "2024-03-10", "010")
    assert main(["import", str(tmp_path / "later"), "--no-analyze", "--db", str(db)]) == 0
    with Store.open(db) as store:
        assert store.list_visits("A1")[-1].kind == "follow-up"


@needs_shared
def test_no_analyze_then_analyze_pending(tmp_path, capsys):
    root = tmp_path / "photos"
    link_visit(root, "B1", "2024-01-10", "010")
    manifest = tmp_path / "m.csv"
    manifest.write_text("patient,date,expression,path,kind\n"
                        f"B2,2024-01-12,rest,{LONDON / 'neutral' / '013_03.jpg'},treatment\n")
    db = tmp_path / "r.sqlite3"
    code, report = run_json(capsys, "import", str(root), "--no-analyze", "--db", str(db))
    assert code == 0 and report["analyses_added"] == 0 and report["analyses_pending"] == 1
    code, report = run_json(capsys, "import", str(manifest), "--no-analyze", "--db", str(db))
    assert code == 0 and report["photos_added"] == 1
    assert counts(db)["analyses"] == 0
    code, report = run_json(capsys, "analyze-pending", "--db", str(db))
    assert code == 0 and report["analyses_added"] == 2
    code, report = run_json(capsys, "analyze-pending", "--db", str(db))
    assert code == 0 and report["analyses_added"] == 0
    with Store.open(db) as store:
        (visit,) = store.list_visits("B2")
        assert visit.kind == "treatment"  # the manifest's kind column
        (analysis,) = store.list_analyses(visit)
        assert analysis.rest_photo_id is not None and analysis.smile_photo_id is None
        assert {m.condition for m in store.get_measures(analysis)} == {"rest"}


@needs_shared
def test_other_settings_make_a_new_analysis_which_is_tracked(tmp_path, capsys):
    root = tmp_path / "photos"
    link_visit(root, "S1", "2024-01-10", "010")
    db = tmp_path / "r.sqlite3"
    d = ["--db", str(db)]
    assert main(["import", str(root), *d]) == 0
    code, doc = run_json(capsys, "track", "S1", *d)
    iris = doc["visits"][0]["measures"]["rest"]["commissure_height"]
    code, report = run_json(capsys, "analyze-pending", "--ipd-mm", "70", *d)
    assert code == 0 and report["analyses_added"] == 1
    code, report = run_json(capsys, "analyze-pending", "--ipd-mm", "70", *d)
    assert report["analyses_added"] == 0
    assert counts(db)["analyses"] == 2
    link_visit(tmp_path / "later", "S1", "2024-02-10", "010")
    assert main(["import", str(tmp_path / "later"), *d]) == 0
    capsys.readouterr()
    assert main(["track", "S1", "--json", *d]) == 0
    captured = capsys.readouterr()
    assert "different settings" in captured.err  # 2024-01-10 with --ipd-mm 70, 2024-02-10 with the iris
    doc = json.loads(captured.out)
    calibrated = doc["visits"][0]["measures"]["rest"]["commissure_height"]
    # Same landmarks, another scale: the latest analysis is the one tracked.
    assert calibrated["asymmetry"] != pytest.approx(iris["asymmetry"], rel=1e-3)
    assert calibrated["asymmetry"] / iris["asymmetry"] == pytest.approx(calibrated["left"] / iris["left"], rel=1e-6)


@needs_shared
def test_interrupted_import_resumes(tmp_path, capsys, monkeypatch):
    from lipsym.visits._analyzer import VisitAnalyzer

    root = tmp_path / "photos"
    for i, person in enumerate(PEOPLE):
        link_visit(root, f"C{i}", "2024-01-10", person)
    db = tmp_path / "r.sqlite3"
    real_record = VisitAnalyzer.record  # import stores each result through it, in this process
    done = []

    def interrupted(self, store, job, *result):
        if len(done) == 1:
            raise KeyboardInterrupt
        done.append(job)
        return real_record(self, store, job, *result)

    monkeypatch.setattr(VisitAnalyzer, "record", interrupted)
    assert main(["import", str(root), "--db", str(db)]) == 130
    assert counts(db)["analyses"] == 1
    monkeypatch.setattr(VisitAnalyzer, "record", real_record)
    code, report = run_json(capsys, "import", str(root), "--db", str(db))
    assert code == 0 and report["photos_added"] == 0 and report["analyses_added"] == 2
    c = counts(db)
    assert (c["patients"], c["visits"], c["photos"], c["analyses"]) == (3, 3, 6, 3)
    with Store.open(db) as store:
        assert store.check_integrity() == []


@needs_shared
def _children(pid: int) -> list[int]:
    """Child process ids of ``pid`` (Linux /proc), the process itself excluded."""
    found = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            found += [int(c) for c in (task / "children").read_text().split()]
        except OSError:
            pass
    return found


def test_import_killed_midway_resumes(tmp_path, capsys):
    """A crash (SIGKILL, no clean-up at all) in the middle of an import loses nothing committed."""
    root = tmp_path / "photos"
    people = ("010", "013", "017", "020", "024", "027")
    for i, person in enumerate(people):
        link_visit(root, f"K{i}", "2024-01-10", person)
    db = tmp_path / "r.sqlite3"
    proc = subprocess.Popen([sys.executable, "-m", "lipsym", "import", str(root), "--db", str(db)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    try:
        while time.monotonic() < deadline and proc.poll() is None:
            if db.exists():
                try:
                    if counts(db)["analyses"] >= 1:
                        break
                except sqlite3.OperationalError:
                    pass  # schema not created yet
            time.sleep(0.02)
    finally:
        workers = _children(proc.pid)
        proc.kill()
        proc.wait()
    # Its worker processes leave with it instead of idling forever.
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and any(Path(f"/proc/{pid}").exists() for pid in workers):
        time.sleep(0.1)
    assert not [pid for pid in workers if Path(f"/proc/{pid}").exists()], "orphaned import workers"
    with Store.open(db) as store:
        assert store.check_integrity() == []
    code, report = run_json(capsys, "import", str(root), "--db", str(db))
    assert code == 0, report
    c = counts(db)
    assert (c["patients"], c["visits"], c["photos"], c["analyses"]) == (6, 6, 12, 6)
    code, report = run_json(capsys, "import", str(root), "--db", str(db))
    assert (report["photos_added"], report["analyses_added"]) == (0, 0)


@needs_shared
def test_two_imports_at_once_record_every_photo_exactly_once(tmp_path):
    """Acceptance (b): two ``lipsym import`` processes, same database, overlapping folders."""
    first, second = tmp_path / "first", tmp_path / "second"
    link_visit(first, "D0", "2024-01-10", "010")
    link_visit(first, "D1", "2024-01-10", "013")
    link_visit(first, "D1", "2024-02-10", "017")
    link_visit(second, "D1", "2024-01-10", "013")   # the same visit, found through another folder
    link_visit(second, "D1", "2024-02-10", "017")
    link_visit(second, "D2", "2024-01-12", "020")
    db = tmp_path / "shared.sqlite3"
    procs = [subprocess.Popen([sys.executable, "-m", "lipsym", "import", str(folder), "--db", str(db), "--json"],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for folder in (first, second)]
    outs = [p.communicate(timeout=300) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outs
    c = counts(db)
    assert (c["patients"], c["visits"], c["photos"], c["analyses"]) == (3, 4, 8, 4)
    # Each import counts only the rows it created (#15: they used to count each other's analyses).
    reports = [json.loads(out) for out, _ in outs]
    for key, table in (("patients_added", "patients"), ("visits_added", "visits"),
                       ("photos_added", "photos"), ("analyses_added", "analyses")):
        assert sum(r[key] for r in reports) == c[table], (key, reports)
    conn = sqlite3.connect(db)
    try:
        assert conn.execute("SELECT count(DISTINCT sha256) FROM photos").fetchone()[0] == 8
        assert conn.execute("SELECT count(*) FROM (SELECT visit_id, rest_photo_id, smile_photo_id FROM analyses"
                            " GROUP BY 1, 2, 3 HAVING count(*) > 1)").fetchone()[0] == 0
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
        kinds = conn.execute("SELECT v.visit_date, v.kind FROM visits v JOIN patients p ON p.id = v.patient_id"
                             " WHERE p.identifier = 'D1' ORDER BY 1").fetchall()
        assert kinds == [("2024-01-10", "baseline"), ("2024-02-10", "follow-up")]
    finally:
        conn.close()


@needs_shared
def test_batch_recorded_visits_are_not_imported_again(tmp_path, capsys):
    """``lipsym batch --db`` and ``lipsym import`` file the same photos under the same records."""
    root = tmp_path / "photos"
    link_visit(root, "F1", "2024-01-10", "010")
    link_visit(root, "F1", "2024-02-10", "013")
    db = tmp_path / "r.sqlite3"
    assert main(["batch", str(root), "-o", str(tmp_path / "out"), "--db", str(db), "-j", "1", "-q"]) == 0
    before = dump(db)
    code, report = run_json(capsys, "import", str(root), "--db", str(db))
    assert code == 0 and (report["photos_known"], report["photos_added"], report["analyses_added"]) == (4, 0, 0)
    assert dump(db) == before
    code, doc = run_json(capsys, "track", "F1", "--db", str(db))
    assert [v["visit"]["kind"] for v in doc["visits"]] == ["baseline", "follow-up"]
    assert all("commissure_height" in v["measures"]["rest"] for v in doc["visits"])


@needs_shared
def test_track_writes_table_and_plot(tmp_path, capsys):
    root = tmp_path / "photos"
    link_visit(root, "T1", "2024-01-10", "010")
    link_visit(root, "T1", "2024-02-10", "010")
    db = tmp_path / "r.sqlite3"
    d = ["--db", str(db)]
    assert main(["import", str(root), *d]) == 0
    assert main(["treatment", "add", "T1", "--visit", "2024-01-20", "--product", "Botox", "--type",
                 "neuromodulator", "--dose", "6", "--unit", "U", "--site", "upper_lip:left",
                 "--technique", "lip flip", *d]) == 0
    plot = tmp_path / "t1.png"
    capsys.readouterr()
    assert main(["track", "T1", "-o", str(plot), *d]) == 0
    text = capsys.readouterr().out
    for words in ("commissure_height", "bow_peak_height", "upper_vermilion_height_mid",
                  "lower_vermilion_height_mid", "Botox 6 U", "Settling at 2024-02-10", "since treatment",
                  "since previous"):
        assert words in text, words
    assert plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert main(["track", "T1", "-o", str(plot), *d]) == 7  # not overwritten unasked
    # The same photos at both visits: every change is exactly zero and stable.
    code, doc = run_json(capsys, "track", "T1", *d)
    (s,) = doc["settling"]
    assert all(c["since_previous"]["change"] == 0 and c["since_previous"]["settling"] == "stable"
               for c in s["changes"])


def test_old_schema_database_opens_migrated_with_its_data(tmp_path, capsys):
    from test_store_migrations import build_v1_database, user_version

    db = tmp_path / "v1.sqlite3"
    build_v1_database(db)
    before = dump(db)
    capsys.readouterr()
    assert main(["patient", "show", "P001", "--json", "--db", str(db)]) == 0
    captured = capsys.readouterr()
    doc = json.loads(captured.out)
    assert [v["kind"] for v in doc["visits"]] == ["baseline", "treatment", "follow-up"]
    assert doc["visits"][1]["treatments"][0]["product_name"] == "Volbella"
    # The old file was kept, untouched, before the upgrade; only once.
    kept = tmp_path / "v1.sqlite3.schema1.bak"
    assert str(kept) in captured.err and captured.err.count("\n") == 1
    assert dump(kept) == before and user_version(kept) == 1
    with Store.open(db) as store:
        assert store.check_integrity() == [] and store.schema_version == SCHEMA_VERSION
    assert main(["patient", "list", "--db", str(db)]) == 0
    assert capsys.readouterr().err == ""


def test_backup_before_migration_only_for_older_lipsym_databases(tmp_path):
    from test_store_migrations import build_v1_database

    from lipsym.visits.store import backup_before_migration

    assert backup_before_migration(tmp_path / "absent.sqlite3") is None
    (tmp_path / "text.sqlite3").write_text("not a database")
    assert backup_before_migration(tmp_path / "text.sqlite3") is None
    with Store.open(tmp_path / "current.sqlite3"):
        pass
    assert backup_before_migration(tmp_path / "current.sqlite3") is None
    build_v1_database(tmp_path / "old.sqlite3")
    kept = backup_before_migration(tmp_path / "old.sqlite3")
    assert kept == tmp_path / "old.sqlite3.schema1.bak" and kept.is_file()
    assert backup_before_migration(tmp_path / "old.sqlite3") is None  # made once
    assert [p.name for p in tmp_path.glob("*.bak")] == ["old.sqlite3.schema1.bak"]
