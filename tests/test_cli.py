"""The CLI: JSON document contract, one-line reasons, exit codes, no overwrite."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from conftest import LONDON, SAMPLE, needs_shared
from lipsym.cli import main

REQUIRED_POINTS = {"pupil_right", "pupil_left", "cheilion_right", "cheilion_left", "crista_philtri_right",
                   "crista_philtri_left", "labrale_superius", "labrale_inferius", "stomion", "subnasale",
                   "endocanthion_right", "endocanthion_left"}


def _bad_inputs(tmp_path):
    text = tmp_path / "notes.jpg"
    text.write_text("this is a text file renamed .jpg\n")
    truncated = tmp_path / "truncated.jpg"
    full = tmp_path / "full.jpg"
    Image.open(SAMPLE).convert("RGB").save(full, quality=90)
    data = full.read_bytes()
    truncated.write_bytes(data[: len(data) // 2])
    wall = tmp_path / "wall.png"
    Image.fromarray(np.full((400, 400, 3), 128, np.uint8)).save(wall)
    return {"text": text, "truncated": truncated, "noface": wall}


def test_document_contract(tmp_path):
    out = tmp_path / "out.json"
    assert main(["analyze", str(SAMPLE), "-o", str(out), "--all-landmarks"]) == 0
    doc = json.loads(out.read_text())
    assert doc["schema"] == "lipsym.analysis" and doc["schema_version"] == 1
    (r,) = doc["results"]
    assert r["status"] == "ok" and r["width_px"] == 512 and r["orientation_applied"] == 1
    assert REQUIRED_POINTS <= set(r["points_px"])
    assert len(r["landmarks_px"]) == 478 and len(r["landmarks_px"][0]) == 3
    assert set(r["pose"]) == {"yaw_deg", "pitch_deg", "roll_deg"}
    assert r["scale"]["source"] == "iris" and 0 < r["scale"]["relative_uncertainty"] < 0.1
    assert doc["model_sha256"] == "64184e229b263107bc2b804c6625db1341ff2bb731874b0bcc2fe6544e0bc9ff"
    assert "face_too_small" in {f["code"] for f in r["flags"]}
    m = r["measures"]["sided"]["commissure_height"]
    assert m["unit"] == "mm" and m["asymmetry"] == pytest.approx(m["left"] - m["right"], abs=1e-6)


def test_bad_photos_get_one_line_reasons_and_the_rest_is_analysed(tmp_path):
    bad = _bad_inputs(tmp_path)
    out = tmp_path / "out.json"
    proc = subprocess.run([sys.executable, "-m", "lipsym", "analyze", str(bad["text"]), str(SAMPLE),
                           str(bad["truncated"]), str(bad["noface"]), str(tmp_path / "missing.jpg"), "-o", str(out)],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 1
    assert "Traceback" not in proc.stderr
    lines = [ln for ln in proc.stderr.splitlines() if ln.startswith("lipsym:")]
    assert len(lines) == 4, proc.stderr
    for name in ("notes.jpg", "truncated.jpg", "wall.png", "missing.jpg"):
        assert sum(name in ln for ln in lines) == 1, (name, lines)
    doc = json.loads(out.read_text())
    status = {r["file"].rsplit("/", 1)[-1]: r for r in doc["results"]}
    assert status["astronaut.png"]["status"] == "ok"
    assert status["notes.jpg"]["error"]["type"] == "NotAnImageError"
    assert status["truncated.jpg"]["error"]["type"] == "TruncatedPhotoError"
    assert status["wall.png"]["error"]["type"] == "NoFaceError"
    assert status["missing.jpg"]["error"]["type"] == "PhotoNotFoundError"


def test_single_bad_photo_exit_codes(tmp_path, capsys):
    bad = _bad_inputs(tmp_path)
    assert main(["analyze", str(bad["text"]), "-o", str(tmp_path / "a.json")]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "notes.jpg" in err[0]


def test_usage_errors(tmp_path, capsys):
    assert main(["analyze", "--rest", str(SAMPLE)]) == 2
    assert main(["analyze"]) == 2
    assert main(["analyze", str(SAMPLE), "--ipd-mm", "-3"]) == 2
    assert "positive" in capsys.readouterr().err


def test_existing_output_is_not_overwritten(tmp_path, capsys):
    out = tmp_path / "out.json"
    out.write_text("precious")
    assert main(["analyze", str(SAMPLE), "-o", str(out)]) == 7
    assert out.read_text() == "precious"
    assert "--force" in capsys.readouterr().err
    assert main(["analyze", str(SAMPLE), "-o", str(out), "--force"]) == 0
    assert json.loads(out.read_text())["schema"] == "lipsym.analysis"


def test_wrong_model_is_a_clear_error(tmp_path, capsys, monkeypatch):
    fake = tmp_path / "m.task"
    fake.write_bytes(b"nope")
    monkeypatch.setenv("LIPSYM_MODEL", str(fake))
    assert main(["analyze", str(SAMPLE)]) == 5
    assert "sha256" in capsys.readouterr().err


def test_calibration_scales_mm_exactly(tmp_path):
    outs = []
    for ipd in ("60", "66"):
        out = tmp_path / f"{ipd}.json"
        assert main(["analyze", str(SAMPLE), "--ipd-mm", ipd, "-o", str(out)]) == 0
        outs.append(json.loads(out.read_text())["results"][0]["measures"]["sided"])
    for key, m in outs[0].items():
        if m["unit"] == "mm":
            assert outs[1][key]["right"] == pytest.approx(m["right"] * 66 / 60, rel=1e-7, abs=1e-8), key
            assert outs[1][key]["asymmetry"] == pytest.approx(m["asymmetry"] * 66 / 60, rel=1e-7, abs=1e-8)
        elif m["unit"] == "mm2":
            assert outs[1][key]["left"] == pytest.approx(m["left"] * (66 / 60) ** 2, rel=1e-7)


@needs_shared
def test_turned_head_and_group_photo_via_cli(tmp_path):
    portraits = LONDON.parent / "portraits"
    out = tmp_path / "p.json"
    assert main(["analyze", str(portraits / "pyfeat_m7_disgust_45deg.jpg"), str(portraits / "pyfeat_multi_face.jpg"),
                 "-o", str(out)]) == 0
    turned, group = json.loads(out.read_text())["results"]
    assert "head_turned" in {f["code"] for f in turned["flags"]}
    assert group["faces_found"] >= 2 and any("faces found" in w for w in group["warnings"])
    assert main(["analyze", str(portraits / "pyfeat_multi_face.jpg"), "--single-face",
                 "-o", str(tmp_path / "q.json")]) == 1


def test_unwritable_output_is_a_one_line_error(tmp_path, capsys):
    blocker = tmp_path / "a_file"
    blocker.write_text("x")
    code = main(["analyze", str(SAMPLE), "-o", str(blocker / "out.json")])
    err = capsys.readouterr().err
    assert code == 8 and err.count("\n") == 1 and "cannot write" in err and "Traceback" not in err
