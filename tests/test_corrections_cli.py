"""``lipsym correct`` from a JSON file, and track / compare / report / export using and announcing it."""

from __future__ import annotations

import json

import pytest

from lipsym.cli import main
from lipsym.formats._envelope import SCHEMAS
from lipsym.visits.store import Store
from test_corrections_record import DATES, PATIENT, db, record  # noqa: F401  (fixtures)


def _run(capsys, *argv):
    capsys.readouterr()
    code = main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


def _points(capsys, db, condition="rest"):  # noqa: F811
    code, out, _ = _run(capsys, "correct", PATIENT, "--visit", DATES[1], "--condition", condition, "--list",
                        "--json", "--db", str(db))
    assert code == 0
    return json.loads(out)


def _moves_file(tmp_path, moves, name="moves.json"):
    path = tmp_path / name
    path.write_text(json.dumps({"schema": "lipsym.corrections", "schema_version": 1,
                                "moves": [{"point": p, "x_px": x, "y_px": y} for p, x, y in moves]}))
    return path


def test_list_names_every_point(db, capsys):  # noqa: F811
    doc = _points(capsys, db)
    assert (doc["schema"], doc["schema_version"]) == ("lipsym.correctable_points", SCHEMAS["lipsym.correctable_points"])
    assert doc["provenance"] == "automatic" and doc["condition"] == "rest"
    assert {"cheilion_right", "crista_philtri_left", "stomion", "mesh_037"} <= set(doc["points_px"])
    code, out, _ = _run(capsys, "correct", PATIENT, "--visit", DATES[1], "--condition", "smile", "--list",
                        "--db", str(db))
    assert code == 0 and "cheilion_left" in out and "correctable points" in out


def test_correct_from_a_file_records_a_manual_analysis_used_everywhere(db, capsys, tmp_path):  # noqa: F811
    pts = _points(capsys, db)["points_px"]
    (xr, yr), (xl, yl) = pts["cheilion_right"], pts["crista_philtri_left"]
    moves = _moves_file(tmp_path, [("cheilion_right", xr, yr + 10), ("crista_philtri_left", xl, yl - 3)])
    code, out, _ = _run(capsys, "correct", PATIENT, "--visit", DATES[1], "--condition", "rest", "--file", str(moves),
                        "--json", "--db", str(db))
    assert code == 0
    doc = json.loads(out)
    assert (doc["schema"], doc["provenance"]) == ("lipsym.correction", "manual")
    assert doc["moved_points"] == {"rest": ["cheilion_right", "crista_philtri_left"]}
    assert [m["displacement_px"] for m in doc["moves"]["rest"]] == [[0.0, 10.0], [0.0, -3.0]]
    height = doc["asymmetry_changes"]["rest"]["commissure_height"]
    assert height["after"] - height["before"] > 2  # the right corner went down 10 px (~2.7 mm)
    manual_id, automatic_id = doc["analysis_id"], doc["based_on"]
    with Store.open(db) as store:
        assert store.get_analysis(automatic_id).settings.get("provenance") is None  # kept, untouched

    # track: JSON and text say which visit is corrected, and use its numbers.
    code, out, _ = _run(capsys, "track", PATIENT, "--json", "--db", str(db))
    track = json.loads(out)
    first, second = track["visits"]
    assert first["provenance"] == "automatic" and second["provenance"] == "manual"
    assert second["points_moved"] == 2 and second["analyses"]["rest"]["analysis_id"] == manual_id
    assert second["corrections"]["rest"][0]["moved_points"] == {"rest": ["cheilion_right", "crista_philtri_left"]}
    change = (second["measures"]["rest"]["commissure_height"]["asymmetry"]
              - first["measures"]["rest"]["commissure_height"]["asymmetry"])
    assert change == pytest.approx(height["after"] - height["before"], abs=1e-6)
    code, out, err = _run(capsys, "track", PATIENT, "--db", str(db))
    assert code == 0 and "landmarks corrected manually (2 points moved" in out
    assert "different settings" not in err

    # compare PATIENT: the change is the corrected one, and it says so.
    code, out, _ = _run(capsys, "compare", PATIENT, "--from", DATES[0], "--to", DATES[1], "--json", "--db", str(db))
    comparison = json.loads(out)
    assert comparison["provenance"]["to"]["provenance"] == "manual"
    assert comparison["provenance"]["from"] == {"provenance": "automatic"}
    rest = {c["key"]: c for c in comparison["changes"]["rest"]}
    assert rest["commissure_height"]["change"] == pytest.approx(change, abs=1e-6)
    code, out, _ = _run(capsys, "compare", PATIENT, "--from", DATES[0], "--to", DATES[1], "--db", str(db))
    assert f"{DATES[1]} follow-up: landmarks corrected manually (2 points moved" in out

    # export: both analyses, each with its provenance; the research export says which rows are manual.
    code, out, _ = _run(capsys, "export", PATIENT, "--db", str(db))
    analyses = {a["id"]: a for v in json.loads(out)["visits"] for a in v["analyses"]}
    assert analyses[manual_id]["provenance"] == "manual" and analyses[manual_id]["based_on"] == automatic_id
    assert analyses[manual_id]["moved_points"] == {"rest": ["cheilion_right", "crista_philtri_left"]}
    assert analyses[automatic_id]["provenance"] == "automatic"
    assert analyses[automatic_id]["corrected_by"] == [manual_id]
    research = tmp_path / "research"
    assert _run(capsys, "export", "--research", str(research), "--db", str(db))[0] == 0
    import csv

    with open(research / "analyses.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert sorted(r["provenance"] for r in rows).count("manual") == 1
    manual_row = next(r for r in rows if r["provenance"] == "manual")
    assert manual_row["points_moved"] == "2" and manual_row["based_on_ref"]
    with open(research / "measures.csv", newline="") as f:
        assert {r["provenance"] for r in csv.DictReader(f)} == {"automatic", "manual"}


@pytest.mark.slow
def test_the_record_report_uses_and_announces_the_correction(db, capsys, tmp_path, landmarker):  # noqa: F811
    from lipsym.visits._record_report import record_report
    from lipsym.visits._timeline import load_timeline

    pts = _points(capsys, db)["points_px"]
    x, y = pts["cheilion_right"]
    moves = _moves_file(tmp_path, [("cheilion_right", x, y + 10)])
    assert _run(capsys, "correct", PATIENT, "--visit", DATES[1], "--condition", "rest", "--file", str(moves),
                "--db", str(db))[0] == 0
    with Store.open(db) as store:
        report = record_report(store, PATIENT, visit=DATES[1], landmarker=landmarker)
        timeline = load_timeline(store, PATIENT)
    assert f"{DATES[1]} follow-up: landmarks corrected manually (1 point moved" in report.html
    # The detail pages measure the corrected points, as the stored numbers do (the photos of the
    # two visits are the same pixels: the change is the correction's).
    stored = [vm.sided["rest"]["commissure_height"].asymmetry for vm in timeline.visits]
    shown = report.changes["rest"]["commissure_height"]
    assert shown.change == pytest.approx(stored[1] - stored[0], abs=1e-6) and shown.change > 2


def test_bad_corrections_are_one_line_and_an_exit_code(db, capsys, tmp_path):  # noqa: F811
    cases = [
        (tmp_path / "missing.json", 2, "cannot read the corrections file"),
        (_bad(tmp_path, "broken.json", "{moves: ["), 2, "not valid JSON"),
        (_bad(tmp_path, "other.json", json.dumps({"schema": "lipsym.analysis", "schema_version": 1})), 2,
         "not a corrections document"),
        (_moves_file(tmp_path, [("nose_tip", 1.0, 2.0)], "unknown.json"), 2, "unknown point 'nose_tip'"),
        (_moves_file(tmp_path, [("stomion", 1e6, 2.0)], "outside.json"), 2, "outside the photo"),
    ]
    for path, code, reason in cases:
        got, out, err = _run(capsys, "correct", PATIENT, "--visit", DATES[1], "--condition", "rest", "--file",
                             str(path), "--db", str(db))
        assert (got, out) == (code, ""), (path, err)
        assert err.count("\n") == 1 and err.startswith("lipsym: ") and reason in err, err
        if path.exists() and "outside" not in path.name:
            assert str(path) in err
    got, _, err = _run(capsys, "correct", "P404", "--visit", DATES[1], "--condition", "rest", "--list",
                       "--db", str(db))
    assert got == 7 and err.count("\n") == 1
    with Store.open(db) as store:  # nothing was recorded
        assert all(a.settings.get("provenance") is None
                   for v in store.list_visits(PATIENT) for a in store.list_analyses(v))


def _bad(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text)
    return path
