"""``lipsym report PATIENT``: the report of a recorded visit, from the visit record (issue #16.2).

The three-visit record of London 010 with a planted 1.5 mm lift of the left
commissure (tests/test_visit_acceptance.py builds it). Page 1 must be the
summary: the photos, what changed since the baseline and the last visit,
the treatments with product, dose and sites, the settling call and a
signature line; no page of the PDF may be near-empty.
"""

from __future__ import annotations

import io
import shutil

import numpy as np
import pytest

from conftest import needs_shared
from test_report_checks import assert_not_blank, assert_png_clean, check_html, png_array
from test_visit_acceptance import PATIENT, scenario  # noqa: F401  (the fixture)
from lipsym.cli import main
from lipsym.errors import ConflictError
from lipsym.report._format import pm_se
from lipsym.report._overlay import ORANGE
from lipsym.visits._settling import compare_visits
from lipsym.visits._timeline import load_timeline
from lipsym.visits.store import Store

pytestmark = [needs_shared, pytest.mark.slow]


def _pages(pdf: bytes) -> list[str]:
    import pypdf

    return [" ".join((p.extract_text() or "").split()) for p in pypdf.PdfReader(io.BytesIO(pdf)).pages]


@pytest.fixture(scope="module")
def course_report(scenario, tmp_path_factory):  # noqa: F811
    import lipsym.report._visit_report as vr
    from lipsym.report._pdf import layout_pdf

    fills = []

    def spy(doc, images, footer):
        pdf, page_fills = layout_pdf(doc, images, footer)
        fills.append(page_fills)
        return pdf

    out = tmp_path_factory.mktemp("record_report") / "r"
    original = vr.render_pdf
    vr.render_pdf = spy
    try:
        assert main(["report", PATIENT, "--course", "--clinic", "Clinic <X>", "-o", str(out),
                     "--db", str(scenario["db"])]) == 0
    finally:
        vr.render_pdf = original
    return out, fills[0]


def test_page_one_is_the_summary(course_report, scenario):  # noqa: F811
    out, _ = course_report
    pages = _pages((out / "report.pdf").read_bytes())
    first = pages[0]
    for text in ("Summary", "Clinic <X>", "What changed", "since baseline", "since last visit", "Treatments given",
                 "Volbella", "0.3 mL", "commissure left", "Settling since the treatment", "Signature"):
        assert text in first, text
    assert "Comparison with the previous visit" not in first
    # the numbers are the stored measures' comparison, as `lipsym compare PATIENT` prints them
    with Store.open(scenario["db"]) as store:
        t = load_timeline(store, PATIENT)
    c = compare_visits(t.find("baseline"), t.find("follow-up"))["rest"]["commissure_height"]
    assert pm_se(c.change, c.standard_error) in first
    whole = " ".join(pages)
    for text in ("Course of treatment", "Treatment history", "Key asymmetries at every visit",
                 "Comparison with the previous visit"):
        assert text in whole, text


def test_no_page_is_near_empty(course_report):
    _, fills = course_report
    assert min(fills[:-1]) > 0.5, " ".join(f"{f:.2f}" for f in fills)


def test_figures_and_html(course_report, capfd):
    out, _ = course_report
    names = {p.name for p in out.iterdir()}
    assert {"plain.png", "track.png", "comparison_rest.png", "rest_smile.png"} <= names
    html = (out / "report.html").read_text(encoding="utf-8")
    check_html(html, min_images=len(names) - 2, min_tables=6)
    assert "Clinic &lt;X&gt;" in html
    for name in names - {"report.html", "report.pdf"}:
        assert_png_clean((out / name).read_bytes())
    # the clean before/after image has no annotation colours
    plain = png_array((out / "plain.png").read_bytes())
    assert (np.linalg.norm(plain.astype(float) - ORANGE_RGB, axis=-1) < 20).sum() < 50


ORANGE_RGB = tuple(int(ORANGE[i:i + 2], 16) for i in (1, 3, 5))


def test_progress_is_printed_while_it_builds(scenario, tmp_path, capfd):  # noqa: F811
    capfd.readouterr()
    assert main(["report", PATIENT, "--visit", "baseline", "-o", str(tmp_path / "b"),
                 "--db", str(scenario["db"])]) == 0
    err = capfd.readouterr().err
    assert err.count("report: ") >= 4 and "analysing the photos of 2024-03-01 baseline" in err
    assert "Summary" in _pages((tmp_path / "b" / "report.pdf").read_bytes())[0]


def test_compare_plain_is_a_clean_registered_pair(scenario, tmp_path):  # noqa: F811
    out = tmp_path / "plain.png"
    assert main(["compare", PATIENT, "--from", "baseline", "--to", "follow-up", "--plain", "-o", str(out),
                 "--db", str(scenario["db"])]) == 0
    png = out.read_bytes()
    assert_png_clean(png)
    rgb = assert_not_blank(png, min_size=(800, 300))
    assert (np.linalg.norm(rgb.astype(float) - ORANGE_RGB, axis=-1) < 20).sum() < 50


def test_a_changed_photo_is_refused(scenario, tmp_path):  # noqa: F811
    from lipsym.visits._record_report import record_report

    photo = scenario["root"] / "follow-up_rest.png"
    kept = tmp_path / "kept.png"
    shutil.copy(photo, kept)
    try:
        photo.write_bytes(photo.read_bytes() + b"\0")
        with Store.open(scenario["db"]) as store, pytest.raises(ConflictError):
            record_report(store, PATIENT)
    finally:
        shutil.copy(kept, photo)
