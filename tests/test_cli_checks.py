"""The CLI defects a new user hit (issues #15, #16): plausibility, output safety, terminal output, progress."""

from __future__ import annotations

import datetime as _dt
import json
import os
import subprocess
import sys

import pytest
from PIL import Image

from conftest import LONDON, REPO, SAMPLE, needs_shared
from lipsym.cli import main
from lipsym.cli.analyze_table import document_tables
from lipsym.face._scale import Calibration, scale_implausibility
from lipsym.io._collection import read_manifest
from lipsym.visits._plausibility import dose_implausibility, patient_code_implausibility, visit_date_implausibility


def _no_analysis(monkeypatch):
    """Fail the test if a landmarker is built: the command had to stop before any photo was analysed."""
    def refuse(*args, **kwargs):
        raise AssertionError("a photo was analysed before the arguments were checked")
    monkeypatch.setattr("lipsym.cli.analyze.Landmarker", refuse)


def _one_line(capsys) -> str:
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("lipsym: "), err
    return err[0]


# --- plausibility -----------------------------------------------------------------------------------


def test_plausibility_ranges_of_the_library():
    assert scale_implausibility(11.7) is None
    assert scale_implausibility(11.7, Calibration(interpupillary_distance_mm=62)) is None
    assert "interpupillary" in scale_implausibility(11.7, Calibration(interpupillary_distance_mm=620))
    assert "iris" in scale_implausibility(117) and scale_implausibility(13.5) is None
    assert scale_implausibility(117, Calibration(mm_per_px=0.1)) is None  # the calibration replaces the iris
    assert dose_implausibility("ha_filler", 50, "mL") and dose_implausibility("ha_filler", 1, "mL") is None
    assert dose_implausibility("neuromodulator", 8, "U") is None and dose_implausibility("neuromodulator", 400, "U")
    assert dose_implausibility("other", 1e6, "U") is None
    today = _dt.date(2026, 6, 1)
    assert visit_date_implausibility("2029-06-01", today) and visit_date_implausibility(today, today) is None
    assert visit_date_implausibility("2026-06-02", today) is None  # a day of grace for time zones
    for name in ("Jane Doe", "doe, jane", "Smith", "jean-luc_picard"):
        assert patient_code_implausibility(name), name
    for code in ("P001", "ABC", "control", "site2-017", "K-12"):
        assert patient_code_implausibility(code) is None, code


@pytest.mark.parametrize("argv,words", [
    (["--ipd-mm", "620"], "--ipd-mm: interpupillary distance 620 mm"),
    (["--iris-mm", "117"], "iris diameter 117 mm is not the size of an eye's iris (more than 0 and less than 30 mm"),
    (["--iris-mm", "15"], "--iris-mm: iris diameter 15 mm"),
    (["--ipd-mm", "-5"], "positive"),
])
def test_implausible_scale_is_refused_before_any_photo_is_read(monkeypatch, capsys, tmp_path, argv, words):
    _no_analysis(monkeypatch)
    assert main(["analyze", str(SAMPLE), *argv, "-o", str(tmp_path / "a.json")]) == 2
    assert words in _one_line(capsys)
    assert not (tmp_path / "a.json").exists()


def test_force_accepts_an_implausible_ipd(tmp_path, capsys):
    out = tmp_path / "a.json"
    assert main(["analyze", str(SAMPLE), "--ipd-mm", "45", "-o", str(out)]) == 2
    assert "--force" in _one_line(capsys)
    assert main(["analyze", str(SAMPLE), "--ipd-mm", "45", "--force", "-o", str(out)]) == 0
    assert json.loads(out.read_text())["results"][0]["measures"]["interpupillary_distance_mm"] == pytest.approx(45)


@pytest.fixture
def db(tmp_path):
    path = tmp_path / "r.sqlite3"
    assert main(["patient", "add", "P001", "--db", str(path)]) == 0
    assert main(["visit", "add", "P001", "2024-05-02", "--kind", "baseline", "--db", str(path)]) == 0
    return path


@pytest.mark.parametrize("argv,words", [
    (["patient", "add", "Jane Doe"], "Jane Doe: patient code 'Jane Doe' looks like a person's name"),
    (["visit", "add", "P001", (_dt.date.today() + _dt.timedelta(days=800)).isoformat(), "--kind", "follow-up"],
     "P001: visit date"),
    (["treatment", "add", "P001", "--visit", "2024-05-02", "--product", "X", "--type", "ha_filler", "--dose", "50",
      "--unit", "mL"], "P001: a ha_filler dose of 50 mL is outside"),
    (["treatment", "add", "P001", "--visit", "2024-05-02", "--product", "X", "--type", "neuromodulator",
      "--dose", "8", "--unit", "U", "--site", "upper_lip:left:0.01"], "neuromodulator dose of 0.01 U"),
])
def test_implausible_records_need_force(db, capsys, argv, words):
    d = ["--db", str(db)]
    capsys.readouterr()
    assert main([*argv, *d]) == 2
    line = _one_line(capsys)
    assert words in line and "--force" in line
    assert main([*argv, *d, "--force"]) == 0


def test_import_refuses_name_like_patient_folders_before_creating_anything(tmp_path, capsys):
    visit = tmp_path / "photos" / "Jane Doe" / "2024-01-10"
    visit.mkdir(parents=True)
    os.symlink(SAMPLE, visit / "rest.png")
    db = tmp_path / "r.sqlite3"
    assert main(["import", str(tmp_path / "photos"), "--no-analyze", "--db", str(db)]) == 2
    assert "Jane Doe: patient code" in _one_line(capsys) and not db.exists()
    assert main(["import", str(tmp_path / "photos"), "--no-analyze", "--force", "--db", str(db)]) == 0


# --- output safety ----------------------------------------------------------------------------------


def test_existing_csv_is_refused_before_any_work(tmp_path, monkeypatch, capsys):
    existing = tmp_path / "existing.csv"
    existing.write_text("precious")
    _no_analysis(monkeypatch)
    assert main(["analyze", str(SAMPLE), "-o", str(tmp_path / "new.json"), "--csv", str(existing)]) == 7
    line = _one_line(capsys)
    assert line == f"lipsym: {existing}: exists; not overwriting it (use --force to replace it)"
    assert not (tmp_path / "new.json").exists() and existing.read_text() == "precious"


def test_overwrite_messages_name_the_cli_flag():
    # The library's own messages may be read by CLI users: they name --force, never a keyword argument.
    hits = subprocess.run(["grep", "-rn", "pass overwrite=True", str(REPO / "src" / "lipsym" / "cli"),
                           str(REPO / "src" / "lipsym" / "io")], capture_output=True, text=True).stdout
    assert hits == ""


def test_simulate_refuses_a_non_png_name(tmp_path, capsys):
    assert main(["simulate", str(SAMPLE), "--plant", "commissure:left:1", "-o", str(tmp_path / "x.jpg")]) == 2
    assert "x.jpg: the simulated photo is written as PNG" in _one_line(capsys)
    assert not (tmp_path / "x.jpg").exists()


# --- analyze: stdout, CSV, table, overlays, expressions --------------------------------------------------


def test_csv_dash_goes_to_stdout(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(["analyze", str(SAMPLE), "--csv", "-"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("file,expression,status") and not (tmp_path / "-").exists()
    assert main(["analyze", str(SAMPLE), "--csv", "-", "--json"]) == 2


def test_pipe_gets_json_terminal_gets_a_table(capsys, monkeypatch):
    assert main(["analyze", str(SAMPLE)]) == 0  # capsys' stdout is not a terminal: JSON, as `> out.json` needs
    doc = json.loads(capsys.readouterr().out)
    monkeypatch.setattr(sys.stdout, "isatty", lambda: True)
    assert main(["analyze", str(SAMPLE)]) == 0
    table = capsys.readouterr().out
    assert table == document_tables(doc)
    assert "commissure height" in table and "asymmetry ± SE" in table and "flag: head pitched" in table
    # The report's agreement marks, explained below the tables: none on a close measure.
    assert "Cupid's bow peak height †" in table and "commissure height †" not in table
    assert "† follows manual reference points only in part" in table
    assert main(["analyze", str(SAMPLE), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["schema"] == "lipsym.analysis"


def test_pair_table_and_errors_in_the_table(tmp_path):
    bad = tmp_path / "bad.jpg"
    bad.write_text("not a photo")
    out = tmp_path / "a.json"
    assert main(["analyze", str(bad), "--rest", str(SAMPLE), "--smile", str(SAMPLE), "-o", str(out)]) == 1
    table = document_tables(json.loads(out.read_text()))
    assert f"{bad}: error:" in table and "rest → smile" in table and "cheilion lift" in table.lower()


def test_overlay_pngs_carry_no_metadata(tmp_path):
    folder = tmp_path / "ov"
    assert main(["analyze", str(SAMPLE), "--overlay", str(folder), "-o", str(tmp_path / "a.json")]) == 0
    (png,) = folder.iterdir()
    assert png.name == "astronaut_rest.png"
    with Image.open(png) as im:
        assert im.format == "PNG" and "exif" not in im.info and not im.getexif()
    assert main(["analyze", str(SAMPLE), "--overlay", str(folder), "-o", str(tmp_path / "b.json")]) == 7


def test_expression_follows_rest_and_smile_file_names(tmp_path, capsys):
    rest, smile = tmp_path / "rest.png", tmp_path / "Smile_2.png"
    os.symlink(SAMPLE, rest)
    os.symlink(SAMPLE, smile)
    out = tmp_path / "a.json"
    assert main(["analyze", str(rest), str(smile), "-o", str(out)]) == 0
    assert [r["expression"] for r in json.loads(out.read_text())["results"]] == ["rest", "smile"]
    assert "--rest R --smile S" in _one_line(capsys)
    assert main(["analyze", str(smile), "--expression", "rest", "-o", str(out), "--force"]) == 0
    assert json.loads(out.read_text())["results"][0]["expression"] == "rest"


# --- compare, exit codes, help text -------------------------------------------------------------------


def test_compare_with_one_argument_names_the_patient_mode(capsys):
    assert main(["compare", "P001"]) == 2
    line = _one_line(capsys)
    assert "P001: one argument" in line and "--from VISIT --to VISIT" in line


def test_patient_mode_compare_errors_are_store_errors(db, capsys):
    assert main(["compare", "P999", "--from", "first", "--to", "last", "--db", str(db)]) == 7
    assert main(["compare", "P001", "--from", "2020-01-01", "--to", "last", "--db", str(db)]) == 7


def test_help_texts_have_no_doubled_percent(capsys):
    for command in ("analyze", "batch", "import", "compare", "simulate", "report", "track"):
        with pytest.raises(SystemExit):
            main([command, "--help"])
        out = capsys.readouterr().out
        assert "%%" not in out, command
    with pytest.raises(SystemExit):
        main(["compare", "--help"])
    assert "95 % interval" in capsys.readouterr().out


# --- manifests, import progress, benchmark exit code ---------------------------------------------------


def test_semicolon_manifest(tmp_path):
    os.symlink(SAMPLE, tmp_path / "a.png")
    manifest = tmp_path / "m.csv"
    manifest.write_text("patient;date;expression;path\nP001;2024-01-10;rest;a.png\n")
    (item,) = read_manifest(manifest).items
    assert item.patient == "P001" and item.visit_date == _dt.date(2024, 1, 10)


def test_validation_benchmark_fails_without_its_data(tmp_path):
    (tmp_path / "neutral").mkdir()
    for data in (tmp_path, tmp_path / "absent"):
        proc = subprocess.run([sys.executable, str(REPO / "benchmarks" / "validate.py")], capture_output=True,
                              text=True, timeout=120, env={**os.environ, "LIPSYM_LONDON_DEV": str(data)})
        assert proc.returncode != 0 and proc.stderr.strip().count("\n") == 0 and "London photos" in proc.stderr


@needs_shared
def test_parallel_import_matches_serial_and_shows_progress(tmp_path):
    root = tmp_path / "photos"
    for i, person in enumerate(("010", "013", "017")):
        folder = root / f"C{i}" / "2024-01-10"
        folder.mkdir(parents=True)
        os.symlink(LONDON / "neutral" / f"{person}_03.jpg", folder / "rest.jpg")
        os.symlink(LONDON / "smiling" / f"{person}_08.jpg", folder / "smile.jpg")
    docs = {}
    for jobs in ("1", "2"):
        db = tmp_path / f"{jobs}.sqlite3"
        proc = subprocess.run([sys.executable, "-m", "lipsym", "import", str(root), "--db", str(db), "-j", jobs,
                               "--json"], capture_output=True, text=True, timeout=300)
        assert proc.returncode == 0, proc.stderr
        assert json.loads(proc.stdout)["analyses_added"] == 3
        assert "lipsym import: 3/3 items" in proc.stderr
        export = subprocess.run([sys.executable, "-m", "lipsym", "export", "C1", "--db", str(db)],
                                capture_output=True, text=True, timeout=120)
        docs[jobs] = [v["analyses"] for v in json.loads(export.stdout)["visits"]]
    assert all(a["measures"] for visit in docs["1"] for a in visit)
    assert _measures(docs["1"]) == _measures(docs["2"])


def _measures(analyses) -> list:
    """The stored measures without their row ids, which follow the order in which workers finish."""
    return sorted(json.dumps([{k: v for k, v in m.items() if k not in ("id", "analysis_id")} for m in a["measures"]],
                             sort_keys=True) for visit in analyses for a in visit)
