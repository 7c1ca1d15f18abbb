"""``lipsym patient|visit|treatment|photo edit|delete|restore``, ``db history`` and ``db verify --relink``."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from conftest import needs_shared
from lipsym.cli import main
from lipsym.formats._envelope import SCHEMAS
from lipsym.visits.store import Store
from test_store_cli import dump, link_visit, run_json


@pytest.fixture
def db(tmp_path) -> Path:
    path = tmp_path / "record.sqlite3"
    d = ["--db", str(path)]
    assert main(["patient", "add", "P001", "--birth-year", "1985", *d]) == 0
    assert main(["visit", "add", "P001", "2024-05-02", "--kind", "baseline", *d]) == 0
    assert main(["treatment", "add", "P001", "--visit", "baseline", "--product", "Botox", "--type",
                 "neuromodulator", "--dose", "6", "--unit", "U", "--site", "upper_lip:midline", *d]) == 0
    photo = tmp_path / "rest.jpg"
    photo.write_bytes(b"not really a jpeg, enough for the record")
    with Store.open(path) as store:
        store.add_photo(store.list_visits("P001")[0], photo, "rest")
    return path


def test_edit_commands_correct_the_record(db, capsys):
    d = ["--db", str(db)]
    code, doc = run_json(capsys, "patient", "edit", "P001", "--code", "P002", "--sex", "female", *d)
    assert code == 0 and doc["schema"] == "lipsym.patient" and (doc["identifier"], doc["sex"]) == ("P002", "female")
    code, doc = run_json(capsys, "visit", "edit", "P002", "baseline", "--date", "2024-05-03", "--notes", "x", *d)
    assert code == 0 and doc["schema"] == "lipsym.visit" and doc["visit_date"] == "2024-05-03"
    code, doc = run_json(capsys, "treatment", "edit", "1", "--dose", "8", "--site", "upper_lip:left",
                         "--site", "upper_lip:right", *d)
    assert code == 0 and doc["schema"] == "lipsym.treatment" and doc["dose_value"] == 8
    assert [s["side"] for s in doc["sites"]] == ["left", "right"]
    code, doc = run_json(capsys, "photo", "edit", "1", "--expression", "smile", *d)
    assert code == 0 and (doc["schema"], doc["schema_version"]) == ("lipsym.record_change", SCHEMAS["lipsym.record_change"])
    assert doc["record"]["expression"] == "smile" and doc["stale_analyses"] == []
    code, doc = run_json(capsys, "patient", "edit", "P002", "--notes", "", *d)  # '' clears
    assert code == 0 and doc["notes"] is None
    code, doc = run_json(capsys, "db", "history", "--table", "patients", *d)
    assert code == 0 and doc["schema"] == "lipsym.history"
    assert [c["action"] for c in doc["changes"]] == ["insert", "edit"]  # clearing notes that were None: no change
    capsys.readouterr()
    assert main(["db", "history", *d]) == 0
    out = capsys.readouterr().out
    assert "identifier: 'P001' -> 'P002'" in out and "expression: 'rest' -> 'smile'" in out


EDIT_ERRORS = [
    # (argv, exit code, words of the one-line message)
    (["patient", "edit", "P001", "--code", "Jane Doe"], 2, "--force"),
    (["patient", "edit", "P999", "--notes", "x"], 7, "P999"),
    (["visit", "edit", "P001", "baseline", "--date", "2099-01-01"], 2, "future"),
    (["visit", "edit", "P001", "2023-01-01", "--kind", "follow-up"], 7, "no visit"),
    (["treatment", "edit", "1", "--dose", "400"], 2, "outside"),
    (["treatment", "edit", "9", "--dose", "4"], 7, "no treatment"),
    (["photo", "edit", "1", "--expression", "frown"], 2, "expression"),
    (["photo", "delete", "1", "--purge"], 2, "--yes"),
    (["treatment", "restore", "1"], 7, "not deleted"),
    (["db", "history", "--id", "1"], 2, "--table"),
    (["db", "history", "--table", "measures"], 2, "measures"),
    (["db", "verify", "--relink"], 2, "--search"),
]


@pytest.mark.parametrize("argv, code, words", EDIT_ERRORS)
def test_refused_changes_are_one_line_and_change_nothing(db, capsys, argv, code, words):
    before = dump(db)
    capsys.readouterr()
    assert main([*argv, "--db", str(db)]) == code
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and words in err, err
    assert dump(db) == before


def test_delete_restore_and_purge(db, capsys, monkeypatch):
    d = ["--db", str(db)]
    code, doc = run_json(capsys, "patient", "delete", "P001", *d)
    assert code == 0 and (doc["action"], doc["rows"]) == ("delete", 4)  # patient, visit, photo, treatment
    code, listed = run_json(capsys, "patient", "list", *d)
    assert listed["patients"] == []
    assert main(["patient", "show", "P001", *d]) == 7
    code, doc = run_json(capsys, "patient", "restore", "P001", *d)
    assert code == 0 and doc["rows"] == 4
    assert main(["visit", "delete", "P001", "baseline", *d]) == 0
    assert main(["visit", "restore", "P001", "1", *d]) == 0  # a deleted visit is named by its id
    # --purge on a terminal asks; "n" changes nothing.
    monkeypatch.setattr("sys.stdin.isatty", lambda: True)
    monkeypatch.setattr("builtins.input", lambda prompt: "n")
    before = dump(db)
    assert main(["treatment", "delete", "1", "--purge", *d]) == 1
    assert dump(db) == before
    monkeypatch.setattr("builtins.input", lambda prompt: "y")
    assert main(["treatment", "delete", "1", "--purge", *d]) == 0
    conn = sqlite3.connect(db)
    assert conn.execute("SELECT count(*) FROM treatments").fetchone() == (0,)
    assert conn.execute("SELECT count(*) FROM treatment_sites").fetchone() == (0,)
    conn.close()
    code, doc = run_json(capsys, "db", "history", "--table", "treatments", "--id", "1", *d)
    # Hidden and restored with its patient, then with its visit, then purged.
    assert [c["action"] for c in doc["changes"]] == ["insert", "delete", "restore", "delete", "restore",
                                                     "delete", "purge"]
    assert doc["changes"][-1]["before"]["product_name"] == "Botox"
    # An already deleted row is purged with --yes, off a terminal.
    monkeypatch.setattr("sys.stdin.isatty", lambda: False)
    assert main(["photo", "delete", "1", *d]) == 0
    code, doc = run_json(capsys, "photo", "delete", "1", "--purge", "--yes", *d)
    assert code == 0 and (doc["action"], doc["rows"]) == ("purge", 1)


def test_verify_relink_records_moved_photos(db, tmp_path, capsys):
    d = ["--db", str(db)]
    moved = tmp_path / "moved"
    moved.mkdir()
    (tmp_path / "rest.jpg").rename(moved / "renamed.jpg")
    assert main(["db", "verify", "--search", str(moved), *d]) == 1  # found, not recorded
    code, doc = run_json(capsys, "db", "verify", "--search", str(moved), "--relink", *d)
    assert code == 0 and doc[0]["relinked_to"] == str(moved / "renamed.jpg")
    assert main(["db", "verify", *d]) == 0
    code, doc = run_json(capsys, "db", "history", "--table", "photos", *d)
    assert doc["changes"][-1]["after"]["path"] == str(moved / "renamed.jpg")


@needs_shared
def test_compare_track_and_export_ignore_deleted_and_empty_visits(tmp_path, capsys):
    root = tmp_path / "photos"
    link_visit(root, "E1", "2024-01-10", "010")
    link_visit(root, "E1", "2024-02-10", "013")
    db = tmp_path / "r.sqlite3"
    d = ["--db", str(db)]
    assert main(["import", str(root), *d]) == 0
    # Issue #16: an empty visit dated 2030 no longer breaks --to last.
    assert main(["visit", "add", "E1", "2030-01-01", "--kind", "follow-up", "--force", *d]) == 0
    code, doc = run_json(capsys, "compare", "E1", "--from", "baseline", "--to", "last",
                         "--allow-different-person", *d)
    assert code == 0 and "2024-02-10" in json.dumps(doc["to"]), doc["to"]
    code, doc = run_json(capsys, "track", "E1", *d)
    assert [v["visit"]["visit_date"] for v in doc["visits"]][-1] == "2030-01-01"
    # The report's default visit is "last": the last analysed one, not the empty visit.
    assert main(["report", "E1", "-o", str(tmp_path / "report"), "--allow-different-person", *d]) == 0
    assert main(["visit", "delete", "E1", "2030-01-01", *d]) == 0
    assert main(["visit", "delete", "E1", "2024-02-10", *d]) == 0
    code, doc = run_json(capsys, "track", "E1", *d)
    assert [v["visit"]["visit_date"] for v in doc["visits"]] == ["2024-01-10"]
    assert main(["compare", "E1", "--from", "baseline", "--to", "2024-02-10", *d]) == 7
    out = tmp_path / "e1.json"
    assert main(["export", "E1", "-o", str(out), *d]) == 0
    assert [v["visit_date"] for v in json.loads(out.read_text())["visits"]] == ["2024-01-10"]


def test_a_deleted_visit_is_restored_by_its_date(db, capsys):
    d = ["--db", str(db)]
    conn = sqlite3.connect(db)
    (day, kind), = conn.execute("SELECT visit_date, kind FROM visits").fetchall()
    conn.close()
    assert main(["visit", "delete", "P001", day, *d]) == 0
    capsys.readouterr()
    assert main(["visit", "restore", "P001", "1999-01-01", *d]) == 7  # no such visit, deleted or not
    assert "1999-01-01" in capsys.readouterr().err
    assert main(["visit", "restore", "P001", f"{day}:{kind}", *d]) == 0
    assert main(["visit", "delete", "P001", day, *d]) == 0
    assert main(["visit", "restore", "P001", day, *d]) == 0
    code, doc = run_json(capsys, "db", "history", "--table", "visits", "--id", "1", *d)
    assert [c["action"] for c in doc["changes"]][-4:] == ["delete", "restore", "delete", "restore"]
