"""The app in a real browser: Debian's Chromium, headless, driven by Playwright.

Skipped with a reason where Chromium or Playwright is missing (a user's fresh
clone); ``.ci/run`` installs both, so CI runs these, and with ``CI=true`` a
missing one fails the run instead of skipping. Playwright's wheel carries
its driver; it launches /usr/bin/chromium, no browser is downloaded.
"""

from __future__ import annotations

import io
import os
import shutil
from urllib.parse import urlsplit

import pytest

from test_app_support import LiveApp, seed

CHROMIUM = os.environ.get("LIPSYM_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
#: Without the background-networking flags Chromium calls Google hosts on start; the app test
#: must see only the app's own requests.
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--disable-default-apps", "--disable-extensions",
                 "--metrics-recording-only", "--no-pings", "--disable-domain-reliability"]

#: In CI (``CI=true``, set by the CI runner) a missing browser is a failure, not a skip:
#: ``.ci/run`` installs both, and a silent skip would hide a broken install step.
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
if IN_CI:
    from playwright import sync_api
    assert os.path.exists(CHROMIUM), f"CI=true but no Chromium at {CHROMIUM}: .ci/run should have installed it"
else:
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (pip install '.[test]')")
pytestmark = [pytest.mark.skipif(not os.path.exists(CHROMIUM), reason=f"no Chromium at {CHROMIUM} "
                                 "(apt-get install chromium)"), pytest.mark.slow]


@pytest.fixture(scope="module")
def live(tmp_path_factory):
    import httpx

    app = LiveApp(tmp_path_factory.mktemp("browser") / "record.db")
    with httpx.Client(base_url=app.url) as http:
        seeded = seed(http, {"X-Lipsym-Token": app.token})
    yield app, seeded
    app.close()


@pytest.fixture(scope="module")
def browser():
    # Playwright gives the browser a fresh temporary profile of its own.
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield b
        b.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1400, "height": 1000}, device_scale_factor=1)
    pg = context.new_page()
    pg.requests = []
    pg.on("request", lambda r: pg.requests.append(r.url))
    pg.errors = []
    pg.on("pageerror", lambda e: pg.errors.append(str(e)))
    yield pg
    context.close()


def not_blank(png: bytes) -> float:
    """Standard deviation of the screenshot's grey levels (0 for a blank page)."""
    import numpy as np
    from PIL import Image

    grey = np.asarray(Image.open(io.BytesIO(png)).convert("L"), dtype=float)
    return float(grey.std())


def open_visit(page, live_app, seeded):
    page.goto(f"{live_app.url}/#/visit/{seeded['visit_id']}")
    page.wait_for_selector("svg.overlay circle[data-name='cheilion_left']", timeout=60000)


def test_patient_list_to_visit_view_draws_the_overlay_and_makes_no_external_request(live, page, tmp_path):
    app, seeded = live
    page.goto(app.url + "/")
    page.wait_for_selector(f"text={seeded['patient']}")
    page.click(f"a:text('{seeded['patient']}')")
    # The exact heading: "h1:text('Patient')" also matched the list's "Patients" before the patient page came.
    page.wait_for_selector(f"h1:text-is('Patient {seeded['patient']}')")
    assert page.locator("text=Key asymmetries over time").count() == 1
    page.click("a:text('2024-05-02')")
    page.wait_for_selector("svg.overlay circle[data-name='cheilion_left']", timeout=60000)
    # Both photos, each with the named points, four contours and the measures table.
    assert page.locator("svg.overlay").count() == 2
    assert page.locator("svg.overlay polyline.contour").count() == 8
    assert page.locator(".measures[data-expression='rest'] tr[data-key='commissure_height']").count() == 1
    assert page.locator(".measures[data-expression='dynamic']").count() == 1
    # How far each measure follows the manual points, marked as the PDF marks it, with the meaning on hover.
    rest = ".measures[data-expression='rest']"
    assert page.locator(f"{rest} tr[data-key='commissure_height'] .agreement").count() == 0
    assert page.locator(f"{rest} tr[data-key='bow_peak_height'] th").inner_text().endswith("†")
    mark = page.locator(f"{rest} tr[data-key='upper_vermilion_height_peak'] .agreement")
    assert mark.inner_text().strip() == "‡" and "does not follow" in mark.get_attribute("title")
    assert "‡ does not follow" in page.locator(f"{rest} .agreement-legend").inner_text()
    png = page.screenshot(path=os.environ.get("LIPSYM_SHOT", str(tmp_path / "visit.png")), full_page=True)
    assert not_blank(png) > 20
    assert page.errors == []
    hosts = {urlsplit(u).hostname for u in page.requests if not u.startswith(("data:", "blob:"))}
    assert hosts == {"127.0.0.1"}, page.requests


def editor_state(page, expression="rest"):
    """The page's own numbers: the photo's points (current and automatic), its view and the zoom."""
    return page.evaluate("""(expr) => {
        const ed = window.lipsymEditor;
        const ph = ed.view.photos.find((p) => p.expression === expr);
        const v = ed.viewers[ph.photo_id];
        return {photo_id: ph.photo_id, current: ed.current[ph.photo_id], auto: ed.auto[ph.photo_id],
                sided: ph.result.measures.sided, mm_per_px: ph.result.measures.scale_used.mm_per_px,
                frame: ph.result.frame, unit: v.unit(), undo: ed.undoStack.length};
    }""", expression)


def wait_settled(page):
    page.wait_for_function("() => window.lipsymEditor && window.lipsymEditor.settled && !window.lipsymEditor.inflight "
                           "&& !window.lipsymEditor.pending")


def test_arrow_keys_nudge_the_selected_point_and_undo_redo_walk_back(live, page):
    app, seeded = live
    open_visit(page, app, seeded)
    svg = page.locator("svg.overlay[data-expression='rest']")
    start = editor_state(page)["current"]["cheilion_right"]
    svg.locator("circle[data-name='cheilion_right']").click()
    page.keyboard.press("ArrowRight")
    page.keyboard.press("Shift+ArrowDown")
    page.keyboard.press("Shift+ArrowDown")
    wait_settled(page)
    moved = editor_state(page)["current"]["cheilion_right"]
    assert moved[0] - start[0] == pytest.approx(1.0, abs=1e-9)
    assert moved[1] - start[1] == pytest.approx(0.4, abs=1e-9)
    for _ in range(3):
        page.keyboard.press("Control+z")
    wait_settled(page)
    assert editor_state(page)["current"]["cheilion_right"] == pytest.approx(start, abs=1e-9)
    page.keyboard.press("Control+y")
    wait_settled(page)
    assert editor_state(page)["current"]["cheilion_right"][0] - start[0] == pytest.approx(1.0, abs=1e-9)
    page.click("text=Reset all to automatic")
    wait_settled(page)
    assert editor_state(page)["current"]["cheilion_right"] == pytest.approx(start, abs=1e-9)
    assert page.errors == []


def test_dragging_a_cheilion_changes_the_commissure_measure_and_saving_records_a_manual_analysis(live, page):
    """Drag the rest photo's left cheilion 12 screen px down; the height asymmetry follows; save."""
    import httpx
    import numpy as np

    app, seeded = live
    open_visit(page, app, seeded)
    before = editor_state(page)
    svg = page.locator("svg.overlay[data-expression='rest']")
    svg.locator("circle[data-name='cheilion_left']").scroll_into_view_if_needed()
    box = svg.locator("circle[data-name='cheilion_left']").bounding_box()
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    drag_screen_px = 12
    page.mouse.move(x, y)
    page.mouse.down()
    for i in range(1, 13):  # a real drag: the measures are re-computed while it moves
        page.mouse.move(x, y + drag_screen_px * i / 12)
    page.mouse.up()
    wait_settled(page)
    after = editor_state(page)
    moved_px = np.subtract(after["current"]["cheilion_left"], before["current"]["cheilion_left"])
    # The drag, converted by the page's zoom (image px per screen px), lands where the mouse went;
    # the point keeps the grab offset, so only the mouse's own 1/64 px rounding in Chromium remains.
    assert moved_px == pytest.approx([0.0, drag_screen_px * before["unit"]], abs=0.05 * before["unit"] + 1e-6)
    # The expected change: the move projected on the frame's y axis (up), times mm per px;
    # commissure height asymmetry is left − right, so moving the LEFT corner down lowers it.
    y_axis = np.array(before["frame"]["y_axis"])
    x_axis = np.subtract(before["current"]["pupil_left"], before["current"]["pupil_right"])
    x_axis /= np.linalg.norm(x_axis)
    exact_y = np.array([x_axis[1], -x_axis[0]]) * np.sign(np.dot([x_axis[1], -x_axis[0]], y_axis))
    expected = float(moved_px @ exact_y) * before["mm_per_px"]
    change = after["sided"]["commissure_height"]["asymmetry"] - before["sided"]["commissure_height"]["asymmetry"]
    # Points reach the page rounded to 1e-4 px: that is the only slack.
    assert change == pytest.approx(expected, abs=1e-4 * before["mm_per_px"])
    assert expected < -0.5  # a real change: 12 screen px is several image px
    shown = page.locator(".measures[data-expression='rest'] tr[data-key='commissure_height'] td.asym").inner_text()
    assert shown.replace("\u2212", "-") == f"{after['sided']['commissure_height']['asymmetry']:+.2f}"
    page.click("text=Save correction")
    page.wait_for_selector("text=saved as analysis")
    with httpx.Client(base_url=app.url) as http:
        analyses = http.get(f"/api/visits/{seeded['visit_id']}").json()["analyses"]
    manual = [a for a in analyses if a["provenance"] == "manual"]
    assert len(manual) == 1 and len(analyses) == 2
    with app.state.store() as store:
        record = store.get_analysis(manual[0]["id"])
    (move,) = record.result["results"][0]["corrections"]
    assert move["point"] == "cheilion_left"
    assert move["displacement_px"] == pytest.approx(list(moved_px), abs=1e-3)
    assert record.result["results"][0]["measures"]["sided"]["commissure_height"]["asymmetry"] == pytest.approx(
        after["sided"]["commissure_height"]["asymmetry"], abs=1e-9)
    # The page opens the saved analysis, marked as corrected.
    page.wait_for_selector("text=corrected manually")
    assert page.errors == []


def test_photos_dropped_on_a_visit_are_uploaded_and_analysed_and_a_bad_file_gets_its_reason(live, page):
    import base64

    import httpx

    from test_app_support import REST, SMILE

    app, seeded = live
    with httpx.Client(base_url=app.url) as http:
        visit = http.post(f"/api/patients/{seeded['patient']}/visits", json={"date": "2024-07-01", "kind": "follow-up"},
                          headers={"X-Lipsym-Token": app.token}).json()["id"]
    page.goto(f"{app.url}/#/visit/{visit}")
    page.wait_for_selector(".dropzone[data-expression='rest']")
    # The rest photo and a text file through the file picker...
    page.set_input_files("input[data-expression='rest']", files=[
        {"name": "rest.jpg", "mimeType": "image/jpeg", "buffer": REST.read_bytes()},
        {"name": "notes.txt", "mimeType": "text/plain", "buffer": b"this is not a photo"}])
    page.wait_for_selector("text=Drop the smile photo(s) too")
    assert page.locator(".uploads li:has-text('notes.txt') .error").inner_text().startswith("notes.txt: ")
    # ...and the smile photo dropped on its zone: the analysis starts, with progress, and the page opens it.
    page.evaluate("""([b64, name]) => {
        const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
        const dt = new DataTransfer();
        dt.items.add(new File([bytes], name, { type: "image/jpeg" }));
        const zone = document.querySelector(".dropzone[data-expression='smile']");
        zone.dispatchEvent(new DragEvent("drop", { dataTransfer: dt, bubbles: true, cancelable: true }));
    }""", [base64.b64encode(SMILE.read_bytes()).decode(), "smile.jpg"])
    page.wait_for_selector("text=analysis done: 1 recorded, 0 failed", timeout=60000)
    page.wait_for_selector("svg.overlay[data-expression='smile'] circle[data-name='cheilion_left']", timeout=60000)
    with httpx.Client(base_url=app.url) as http:
        shown = http.get(f"/api/visits/{visit}").json()
    assert sorted(p["expression"] for p in shown["photos"]) == ["rest", "smile"]
    assert [(a["rest_photo_id"] is not None, a["smile_photo_id"] is not None) for a in shown["analyses"]] == [(True, True)]
    assert page.errors == []


def drag(page, expression, name, dy_screen_px):
    svg = page.locator(f"svg.overlay[data-expression='{expression}']")
    point = svg.locator(f"circle[data-name='{name}']")
    point.scroll_into_view_if_needed()
    box = point.bounding_box()
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    page.mouse.move(x, y)
    page.mouse.down()
    for i in range(1, 7):
        page.mouse.move(x, y + dy_screen_px * i / 6)
    page.mouse.up()
    wait_settled(page)


def test_two_tabs_editing_one_visit_lose_neither_save(live, browser):
    app, seeded = live
    # Two windows rather than two tabs of one window: a hidden tab's timers are throttled to 1 Hz,
    # which only slows the test; the server sees the same two editors either way.
    contexts = [browser.new_context(viewport={"width": 1400, "height": 1000}) for _ in range(2)]
    tab_a, tab_b = (c.new_page() for c in contexts)
    for tab in (tab_a, tab_b):
        open_visit(tab, app, seeded)
    drag(tab_a, "rest", "cheilion_right", 8)
    drag(tab_b, "rest", "labrale_inferius", 6)
    tab_a.click("text=Save correction")
    tab_a.wait_for_selector("text=saved as analysis")
    tab_b.click("text=Save correction")
    conflict = tab_b.wait_for_selector(".conflict")
    assert "another correction of these photos was saved" in conflict.inner_text()
    tab_b.click("text=Load that correction and re-apply my moves")
    tab_b.wait_for_selector("text=re-applied your")
    wait_settled(tab_b)
    tab_b.click("text=Save correction")
    tab_b.wait_for_selector("text=saved as analysis")
    with app.state.store() as store:
        from lipsym.visits._provenance import latest_manual, manual_correction

        latest = latest_manual(store, store.get_analysis(seeded["analysis_id"]))
        moved = manual_correction(latest).moved_points["rest"]
    assert {"cheilion_right", "labrale_inferius"} <= set(moved)
    for c in contexts:
        c.close()


def test_zoom_and_pan_keep_the_points_on_the_image(live, page):
    """A point's place on the photo, as a fraction of the photo's on-screen box, survives zooming and panning."""
    app, seeded = live
    open_visit(page, app, seeded)
    svg = page.locator("svg.overlay[data-expression='rest']")
    svg.scroll_into_view_if_needed()

    def fraction(name):
        return page.evaluate("""(name) => {
            const svg = document.querySelector("svg.overlay[data-expression='rest']");
            const img = svg.querySelector("image").getBoundingClientRect();
            const c = svg.querySelector(`circle[data-name='${name}']`).getBoundingClientRect();
            return [(c.x + c.width / 2 - img.x) / img.width, (c.y + c.height / 2 - img.y) / img.height, img.width];
        }""", name)

    before = {n: fraction(n) for n in ("cheilion_left", "pupil_right", "labrale_superius")}
    box = svg.bounding_box()
    page.mouse.move(box["x"] + box["width"] * 0.6, box["y"] + box["height"] * 0.7)
    page.mouse.wheel(0, -400)  # zoom in about the pointer
    page.mouse.move(box["x"] + 20, box["y"] + 20)  # pan: drag the photo, not a point
    page.mouse.down()
    page.mouse.move(box["x"] + 80, box["y"] + 50, steps=5)
    page.mouse.up()
    after = {n: fraction(n) for n in before}
    assert after["cheilion_left"][2] > 1.5 * before["cheilion_left"][2]  # it did zoom
    for name in before:
        # The photo's on-screen box is ~1000-3000 px wide: 1e-3 of it is 1-3 screen px.
        assert after[name][:2] == pytest.approx(before[name][:2], abs=1e-3), name


def test_patient_visit_and_treatment_forms(live, page):
    app, _ = live
    page.goto(app.url + "/")
    page.click("summary:text('Add a patient')")
    page.fill("form input[name='identifier']", "Anna Schmidt")
    page.click("button:text('Add patient')")
    # The CLI's check: a name-like code is refused, with the reason next to the form.
    assert "looks like a person's name" in page.wait_for_selector(".form-status.error").inner_text()
    page.fill("form input[name='identifier']", "P555")
    page.fill("form input[name='birth_year']", "1984")
    page.click("button:text('Add patient')")
    page.wait_for_selector("h1:text('Patient P555')")
    page.click("summary:text('Add a visit')")
    page.fill("form input[name='date']", "2024-09-03")
    page.select_option("form select[name='kind']", "treatment")
    page.click("button:text('Add visit')")
    page.wait_for_selector("h1:text('2024-09-03 · treatment')")
    page.click("summary:text('Record a treatment')")
    page.fill("input[name='product_name']", "Botox")
    page.select_option("select[name='product_type']", "neuromodulator")
    page.fill("input[name='dose_value']", "4")
    page.select_option("select[name='dose_unit']", "U")
    page.click("button:text('+ site')")
    page.select_option(".site select[data-f='region']", "commissure")
    page.select_option(".site select[data-f='side']", "left")
    page.fill(".site input[data-f='dose_value']", "2")
    page.click("button:text('Record treatment')")
    page.wait_for_selector("text=Botox · neuromodulator · 4 U · commissure left (2)")
    # Editing the sites: the recorded one is shown, a site is added and the old one removed.
    item = page.locator("li[data-treatment]").first
    item.locator("summary:text('edit')").click()
    rows = item.locator(".site")
    assert rows.count() == 1 and rows.first.locator("select[data-f='region']").input_value() == "commissure"
    assert rows.first.locator("input[data-f='dose_value']").input_value() == "2"
    item.locator("button:text('+ site')").click()
    rows.nth(1).locator("select[data-f='region']").select_option("dao")
    rows.nth(1).locator("select[data-f='side']").select_option("right")
    assert rows.nth(1).locator("select[data-f='side'] option:checked").inner_text() == "patient's right"
    rows.first.locator("button:text('remove')").click()
    item.locator("button:text('Save treatment')").click()
    page.wait_for_selector("text=Botox · neuromodulator · 4 U · dao right")
    page.click("a:text('Patient P555')")
    page.wait_for_selector("text=Botox (neuromodulator) 4 U — dao right")
    assert page.errors == []


def test_before_after_switches_between_rest_and_smile(live, page):
    import httpx

    app, _ = live
    with httpx.Client(base_url=app.url) as http:
        first = seed(http, {"X-Lipsym-Token": app.token}, code="P095")
        second = seed(http, {"X-Lipsym-Token": app.token}, code="P095", date="2024-07-01", kind="follow-up")
    page.goto(f"{app.url}/#/compare/P095/{first['visit_id']}/{second['visit_id']}")
    stage = page.wait_for_selector(".stage[data-expression='rest']", timeout=60000)
    # A function, not a string: the page's Content-Security-Policy forbids eval.
    loaded = "(expr) => [...document.querySelectorAll('.stage img')].every((i) => i.complete && i.naturalWidth > 0 " \
             "&& i.src.includes('expression=' + expr))"
    page.wait_for_function(loaded, arg="rest", timeout=60000)
    rest_shot = stage.screenshot()
    page.click(".expression-choice button:text('Smile')")
    page.wait_for_selector(".stage[data-expression='smile']")
    page.wait_for_function(loaded, arg="smile", timeout=60000)
    assert page.get_attribute(".expression-choice button:text('Smile')", "aria-checked") == "true"
    assert stage.screenshot() != rest_shot and not_blank(stage.screenshot()) > 5
    link = page.locator("a:text('Download clean comparison image (smile)')")
    assert "expression=smile" in link.get_attribute("href") and "kind=plain" in link.get_attribute("href")
    with page.expect_download() as download:
        link.click()
    assert download.value.suggested_filename == "before-after-smile.png"
    assert page.errors == []
