"""Reports on real London pairs: overlays, rest/smile panel, before/after comparison, HTML and PDF.

Acceptance (issue 5): for three London people, the "after" photo is the neutral
photo with the subject's left commissure raised 1.5 mm by the simulator; the
comparison image and the report show the change, and the reported change of
``commissure_height`` contains the planted 1.5 mm within its stated
uncertainty.
"""

from __future__ import annotations

import numpy as np
import pytest

from conftest import LONDON, SAMPLE, needs_shared
from test_report_checks import assert_not_blank, assert_png_clean, check_html, check_pdf, colour_near, png_array
from lipsym import __version__
from lipsym.analysis._photo import analyze_landmarks, analyze_photo
from lipsym.comparison._compare import Z95
from lipsym.report._format import pm_se
from lipsym.errors import ConfigurationError, ConflictError
from lipsym.io import load_photo, photo_from_array
from lipsym.measures import measure_photo
from lipsym.report._overlay import BLUE, GREEN, ORANGE, SKY, VERMILLION, draw_overlay, face_box, lip_box
from lipsym.report import (
    ReportHeader,
    ReportPhoto,
    build_report,
    comparison_png,
    load_visit,
    rest_smile_png,
    visit_from_analyses,
    write_report,
)
from lipsym.sides import Side
from lipsym.simulate._simulate import Plant, plant

PEOPLE = ("004", "010", "042")
PLANTED_MM = 1.5
CREDIT = "Face Research Lab London Set, DeBruine & Jones 2017, CC BY 4.0"


def _simulated_after(before: ReportPhoto, landmarker) -> ReportPhoto:
    rgb = plant(load_photo(LONDON / "neutral" / before.label).rgb, before.analysis,
                [Plant("commissure", Side.LEFT, up_mm=PLANTED_MM)]).rgb
    photo = photo_from_array(rgb)
    a = analyze_landmarks(photo, landmarker.landmarks(photo), expression="rest")
    return ReportPhoto(rgb, a, measure_photo(a), "simulated after")


@pytest.fixture(scope="module")
def cases(landmarker):
    """Per person: (previous visit, this visit with the simulated rest photo, report).

    004 gets the full report (rest + smile on both visits); 010 and 042 rest only
    (it keeps the test time down).
    """
    if not LONDON.is_dir():
        pytest.skip(f"real test photos not present ({LONDON} is absent on this machine)")
    out = {}
    for pid in PEOPLE:
        smile_path = LONDON / "smiling" / f"{pid}_08.jpg" if pid == "004" else None
        previous = load_visit(LONDON / "neutral" / f"{pid}_03.jpg", smile_path, landmarker)
        after = _simulated_after(previous.rest, landmarker)
        if previous.smile is None:
            visit = visit_from_analyses(after.rgb, after.analysis, rest_label=after.label)
        else:
            visit = visit_from_analyses(after.rgb, after.analysis, previous.smile.rgb, previous.smile.analysis,
                                        rest_label=after.label, smile_label=previous.smile.label)
        header = ReportHeader(patient=f"London {pid}", visit_date="2026-11-23", previous_visit_date="2026-05-04",
                              note="simulated <after> & test", photo_credit=CREDIT)
        out[pid] = (previous, visit, build_report(visit, header, previous))
    return out


def _lip_png_xy(a, png_width_px: int, xy):
    x0, y0, x1, _ = lip_box(a)
    s = png_width_px / (x1 - x0)
    return (np.asarray(xy) - [x0, y0]) * s


@needs_shared
@pytest.mark.slow
def test_lip_overlay_draws_the_points_in_their_colours(cases):
    previous, _, _ = cases["010"]
    p = previous.rest
    png = draw_overlay(p.rgb, p.analysis, p.measures, view="lips")
    assert_png_clean(png)
    rgb = assert_not_blank(png)
    pts = p.analysis.anatomy.points_px
    for name, colour in (("cheilion_right", VERMILLION), ("cheilion_left", VERMILLION),
                         ("crista_philtri_right", GREEN), ("crista_philtri_left", GREEN),
                         ("labrale_inferius", BLUE), ("stomion", BLUE)):
        assert colour_near(rgb, _lip_png_xy(p.analysis, rgb.shape[1], pts[name]), colour), name
    # the vermilion border between cheilion and labrale inferius (outer lower contour vertex 91) is orange
    v91 = p.analysis.landmarks.points_px[91, :2]
    assert colour_near(rgb, _lip_png_xy(p.analysis, rgb.shape[1], v91), ORANGE, radius=8)
    # and an unannotated corner of the photo is not
    assert not colour_near(rgb, (5, rgb.shape[0] - 5), ORANGE, radius=4)


@needs_shared
def test_face_overlay_shows_the_frame_lines_and_all_landmarks_layer(cases):
    previous, _, _ = cases["042"]
    p = previous.rest
    plain = draw_overlay(p.rgb, p.analysis, p.measures, view="face", width_in=5)
    layered = draw_overlay(p.rgb, p.analysis, p.measures, view="face", width_in=5, all_landmarks=True)
    rgb = assert_not_blank(plain)
    x0, y0, x1, _ = face_box(p.analysis)
    s = rgb.shape[1] / (x1 - x0)
    pr, pl = p.analysis.anatomy.points_px["pupil_right"], p.analysis.anatomy.points_px["pupil_left"]
    # the interpupillary line (dashed sky blue) runs through the pupils: look beside them, outward
    for q in (pr + 0.25 * (pr - pl), pl + 0.25 * (pl - pr)):
        assert colour_near(rgb, (q - [x0, y0]) * s, SKY, radius=10), q
    # the all-landmarks layer adds yellow dots
    def yellow(a):
        return int((np.linalg.norm(a.astype(float) - [240, 228, 66], axis=-1) < 40).sum())

    assert yellow(assert_not_blank(layered)) > yellow(rgb) + 300


@needs_shared
def test_overlay_shows_quality_flags_on_the_image(landmarker):
    turned = LONDON.parent / "portraits" / "pyfeat_m7_disgust_45deg.jpg"
    a = analyze_photo(turned, landmarker)
    assert a.flags
    rgb = png_array(draw_overlay(load_photo(turned).rgb, a, measure_photo(a), view="lips"))
    # the flag box (Okabe-Ito yellow) is in the top-left corner
    assert colour_near(rgb, (20, 20), "#F0E442", radius=15)


def test_overlay_rejects_an_unknown_view(landmarker):
    a = analyze_photo(SAMPLE, landmarker, expression="smile")
    with pytest.raises(ConfigurationError):
        draw_overlay(load_photo(SAMPLE).rgb, a, view="profile")


@needs_shared
@pytest.mark.slow
def test_rest_smile_panel(cases):
    previous, _, _ = cases["004"]
    png = rest_smile_png(previous)
    assert_png_clean(png)
    rgb = assert_not_blank(png, min_size=(1500, 1200))
    # rest contours (blue) and smile contours (orange) are both drawn in the movement view
    assert (np.linalg.norm(rgb.astype(float) - [0, 114, 178], axis=-1) < 30).sum() > 200
    assert (np.linalg.norm(rgb.astype(float) - [230, 159, 0], axis=-1) < 30).sum() > 200


@needs_shared
def test_rest_smile_panel_needs_a_smile(cases):
    _, visit, _ = cases["010"]
    with pytest.raises(ConfigurationError):
        rest_smile_png(visit)


@needs_shared
@pytest.mark.parametrize("pid", PEOPLE)
@pytest.mark.slow
def test_acceptance_comparison_and_report_show_the_change(cases, pid):
    previous, visit, report = cases[pid]
    c = report.changes["rest"]["commissure_height"]
    shown = pm_se(c.change, c.standard_error)  # the one '± SE' convention of every output
    assert c.change > 0.5  # the left commissure went up: the asymmetry (left − right) grew
    # the comparison image
    png = report.figures["comparison_rest.png"]
    assert_png_clean(png)
    assert_not_blank(png, min_size=(1000, 500))  # 7 in (the printed width) at 150 dpi, one row, no text
    assert_not_blank(comparison_png(previous.rest, visit.rest), min_size=(1500, 1200))
    # the HTML and the PDF state the change with its interval
    n_photos = len(visit.photos)
    pngs = check_html(report.html, min_images=2 * n_photos + 2 + (n_photos == 2), min_tables=3 + n_photos)
    assert len(pngs) == len(report.figures)
    assert shown in report.html
    for text in (f"London {pid}", "2026-11-23", "not a diagnosis", __version__, "simulated &lt;after&gt; &amp; test",
                 previous.rest.analysis.landmarks.model_sha256, CREDIT.replace("&", "&amp;")):
        assert text in report.html, text
    check_pdf(report.pdf, min_pages=4, expected=[shown, f"London {pid}", "not a diagnosis or treatment advice",
                                                "Comparison with the previous visit", "commissure height"])


@needs_shared
@pytest.mark.parametrize("pid", PEOPLE)
def test_acceptance_planted_change_within_its_uncertainty(cases, pid):
    _, _, report = cases[pid]
    c = report.changes["rest"]["commissure_height"]
    assert c.contains(PLANTED_MM), f"measured {c.change:+.2f} ± {Z95 * c.standard_error:.2f} mm, planted {PLANTED_MM}"


@needs_shared
def test_full_report_has_every_section(cases):
    previous, visit, report = cases["004"]
    assert set(report.figures) == {"rest_face.png", "rest_lips.png", "smile_face.png", "smile_lips.png",
                                   "rest_smile.png", "comparison_rest.png", "comparison_smile.png", "plain.png"}
    assert set(report.changes) == {"rest", "smile"}
    html = report.html
    for text in ("Quality flags and warnings", "Static and dynamic asymmetry", "Measures", "reference band",
                 "Scale and uncertainty", "relative uncertainty", "MediaPipe", "Face Landmarker model sha256",
                 "Comparison with the previous visit", visit.pair.summary[0].text,
                 visit.rest.measures.bands["commissure_height"].text):
        assert text in html, text
    check_pdf(report.pdf, min_pages=6, expected=["Static and dynamic asymmetry", "Scale and uncertainty",
                                                visit.pair.summary[0].text, "reference band"])


@needs_shared
def test_measure_tables_mark_how_far_each_measure_follows_the_manual_points(cases):
    from lipsym.measures._registry import AGREEMENT_TIERS
    from lipsym.report._content import measures_table

    _, visit, report = cases["004"]
    rows = {row[0]: row for row in measures_table(visit.rest.measures, "rest").rows}
    # close: no mark; partial: †; none: ‡, and a measure that does not follow carries no band.
    assert "commissure height" in rows and "lower hemi vermilion area" in rows
    assert "Cupid's bow peak height †" in rows and "upper hemi vermilion area †" in rows
    assert rows["upper vermilion height peak ‡"][-1] == "" and rows["lower vermilion height peak ‡"][-1] == ""
    # Every close measure shown is listed under its bare name, every other one with its mark.
    from lipsym.measures._registry import REGISTRY
    from lipsym.report._format import SAME_ASYMMETRY_AS

    for key in set(visit.rest.measures.sided) - set(SAME_ASYMMETRY_AS):
        info = REGISTRY[key]
        mark = {"close": "", "partial": " †", "none": " ‡"}[info.agreement]
        assert f"{info.display_name}{mark}" in rows, key
    for text in ("Cupid&#x27;s bow peak height †", "upper vermilion height peak ‡", AGREEMENT_TIERS["none"],
                 "How far to trust each asymmetry"):
        assert text in report.html, text
    check_pdf(report.pdf, min_pages=6, expected=[AGREEMENT_TIERS["partial"][:40]])


@needs_shared
def test_write_report_never_overwrites_unasked(cases, tmp_path):
    _, _, report = cases["010"]
    written = write_report(report, tmp_path / "r")
    assert {p.name for p in written} == {"report.html", "report.pdf", *report.figures}
    before = {p.name: p.read_bytes() for p in written}
    (tmp_path / "r" / "report.html").write_text("mine")
    with pytest.raises(ConflictError):
        write_report(report, tmp_path / "r")
    assert (tmp_path / "r" / "report.html").read_text() == "mine"
    assert (tmp_path / "r" / "report.pdf").read_bytes() == before["report.pdf"]
    write_report(report, tmp_path / "r", overwrite=True)
    assert (tmp_path / "r" / "report.html").read_bytes() == before["report.html"]


def test_full_face_overlay_keeps_the_photo_resolution():
    """Issue #16.7: full-face overlays were 600 px wide whatever the photo; now they follow its pixels."""
    from lipsym.report._overlay import MAX_DPI, overlay_dpi

    assert overlay_dpi(3000.0, 3.4) == MAX_DPI  # 24 MP photo: face box ~3000 px → 1360 px wide overlay
    assert overlay_dpi(1000.0, 3.4) == 294  # one photo pixel per output pixel
    assert overlay_dpi(300.0, 3.4) == 150  # a small photo is not drawn below print resolution


@needs_shared
def test_report_face_overlay_width_follows_the_photo(cases):
    _, visit, report = cases["010"]
    x0, _, x1, _ = face_box(visit.rest.analysis)
    from lipsym.report._overlay import overlay_dpi
    from lipsym.report._visit_report import FACE_WIDTH_IN

    width = png_array(report.figures["rest_face.png"]).shape[1]
    assert width == pytest.approx(overlay_dpi(x1 - x0, FACE_WIDTH_IN) * FACE_WIDTH_IN, abs=2)
