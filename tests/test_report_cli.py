"""``lipsym compare`` and ``lipsym report``: outputs, no overwrite, one-line errors, no input metadata."""

from __future__ import annotations

import subprocess
import sys

import pytest
from PIL import Image

from conftest import LONDON, needs_shared
from test_report_checks import assert_not_blank, assert_png_clean, check_html, check_pdf, no_secret_anywhere
from lipsym.analysis._photo import analyze_photo
from lipsym.cli import main
from lipsym.io import load_photo
from lipsym.sides import Side
from lipsym.simulate._simulate import Plant, plant

SECRET = "lipsym-privacy-probe-7f3a"


def _jpeg_with_gps(src, dst) -> None:
    """A copy of a photo whose EXIF carries a GPS position, a description and a camera serial."""
    with Image.open(src) as im:
        exif = Image.Exif()
        exif[0x010E] = SECRET            # ImageDescription
        exif[0x0131] = SECRET + "-software"
        gps = exif.get_ifd(0x8825)
        gps[1], gps[2] = "N", (51.0, 30.0, 26.0)   # GPSLatitudeRef, GPSLatitude
        gps[3], gps[4] = "W", (0.0, 7.0, 39.0)     # GPSLongitudeRef, GPSLongitude
        im.convert("RGB").save(dst, quality=95, exif=exif)
    with Image.open(dst) as check:
        assert check.getexif().get_ifd(0x8825), "test photo should carry GPS"


@pytest.fixture(scope="module")
def photos(tmp_path_factory, landmarker):
    """London 010: rest with GPS EXIF, smile, and a simulated 'after' rest photo (left commissure +1.5 mm)."""
    if not LONDON.is_dir():
        pytest.skip(f"real test photos not present ({LONDON} is absent on this machine)")
    d = tmp_path_factory.mktemp("photos")
    rest, smile = d / "rest_gps.jpg", LONDON / "smiling" / "010_08.jpg"
    _jpeg_with_gps(LONDON / "neutral" / "010_03.jpg", rest)
    a = analyze_photo(rest, landmarker)
    after = d / "after.png"
    Image.fromarray(plant(load_photo(rest).rgb, a, [Plant("commissure", Side.LEFT, up_mm=1.5)]).rgb).save(after)
    return {"rest": rest, "smile": smile, "after": after}


@needs_shared
@pytest.mark.slow
def test_compare_two_photos(photos, tmp_path, capsys):
    out = tmp_path / "cmp.png"
    assert main(["compare", str(photos["rest"]), str(photos["after"]), "-o", str(out), "--title", "010"]) == 0
    png = out.read_bytes()
    assert_png_clean(png)
    assert_not_blank(png, min_size=(1500, 1200))
    printed = capsys.readouterr().out
    assert "commissure height: +" in printed and "MDC95" in printed
    no_secret_anywhere(tmp_path, [SECRET.encode()])
    # no overwrite without --force: the store's ConflictError exit code, one line
    assert main(["compare", str(photos["rest"]), str(photos["after"]), "-o", str(out)]) == 7
    assert out.read_bytes() == png
    assert capsys.readouterr().err.count("\n") == 1


@needs_shared
@pytest.mark.slow
def test_compare_rest_smile_visits(photos, tmp_path):
    out = tmp_path / "visits.png"
    assert main(["compare", "--before-rest", str(photos["rest"]), "--before-smile", str(photos["smile"]),
                 "--after-rest", str(photos["after"]), "--after-smile", str(photos["smile"]), "-o", str(out)]) == 0
    rgb = assert_not_blank(out.read_bytes(), min_size=(1500, 2000))  # two rows: rest and smile
    assert rgb.shape[0] > 1.3 * rgb.shape[1]


@pytest.mark.parametrize("argv, message", [
    (["compare", "a.jpg", "-o", "x.png"], "two photos"),
    (["compare", "a.jpg", "b.jpg"], "-o FILE.png"),
    (["compare", "a.jpg", "b.jpg", "-o", "x.jpg"], "PNG"),
    (["compare", "--before-rest", "a.jpg", "-o", "x.png"], "nothing to compare"),
    (["compare", "--before-rest", "a.jpg", "--after-rest", "b.jpg", "--before-smile", "c.jpg", "-o", "x.png"],
     "both --before-smile and --after-smile"),
    (["compare", "a.jpg", "b.jpg", "--before-rest", "c.jpg", "-o", "x.png"], "not both"),
    (["report", "--rest", "a.jpg", "--before-smile", "b.jpg", "-o", "d"], "--before-rest"),
    (["report", "--rest", "a.jpg", "--before-rest", "b.jpg", "--before-smile", "c.jpg", "-o", "d"], "--smile"),
    (["report", "--rest", "a.jpg", "-o", "file.txt"], "not a directory"),
])
def test_argument_errors_are_one_line(argv, message, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "file.txt").write_text("not a directory")
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1 and "Traceback" not in err


def test_patient_mode_is_routed_to_the_store(capsys, tmp_path, monkeypatch):
    """``compare PATIENT --from --to`` is the visit store's form; its arguments are checked first."""
    monkeypatch.chdir(tmp_path)
    assert main(["compare", "P1", "P2", "--from", "2026-01-01", "--to", "2026-02-01"]) == 2
    assert "exactly one PATIENT" in capsys.readouterr().err


def test_missing_photo_is_a_one_line_error(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "lipsym", "compare", str(tmp_path / "no.jpg"),
                           str(tmp_path / "no2.jpg"), "-o", str(tmp_path / "c.png")],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 3 and "Traceback" not in proc.stderr
    assert proc.stderr.count("\n") == 1 and not (tmp_path / "c.png").exists()


@needs_shared
@pytest.mark.slow
def test_report_command_writes_a_private_self_contained_report(photos, tmp_path, capsys):
    out = tmp_path / "visit"
    argv = ["report", "--rest", str(photos["after"]), "--smile", str(photos["smile"]),
            "--before-rest", str(photos["rest"]), "-o", str(out), "--patient", "P-010", "--visit-date", "2026-11-23",
            "--before-date", "2026-05-04", "--note", "simulated follow-up",
            "--photo-credit", "Face Research Lab London Set, CC BY 4.0"]
    assert main(argv) == 0
    names = {p.name for p in out.iterdir()}
    assert names == {"report.html", "report.pdf", "rest_face.png", "rest_lips.png", "smile_face.png",
                     "smile_lips.png", "rest_smile.png", "comparison_rest.png", "plain.png"}
    html = (out / "report.html").read_text(encoding="utf-8")
    check_html(html, min_images=6, min_tables=5)
    for text in ("P-010", "2026-11-23", "2026-05-04", "simulated follow-up", "rest_gps.jpg"):
        assert text in html
    check_pdf((out / "report.pdf").read_bytes(), min_pages=5,
              expected=["P-010", "not a diagnosis or treatment advice", "Comparison with the previous visit"])
    # the input's EXIF (GPS, description, software) reaches none of the outputs
    no_secret_anywhere(out, [SECRET.encode()])
    # never overwritten without --force; with --force it is
    stamp = (out / "report.pdf").read_bytes()
    capsys.readouterr()
    assert main(argv) == 7
    assert "exists" in capsys.readouterr().err
    assert (out / "report.pdf").read_bytes() == stamp
    assert main(argv + ["--force"]) == 0
