"""The app in a real browser: Debian's Chromium, headless, driven by Playwright.

Skipped with a reason where Chromium or Playwright is missing (a user's fresh
clone); ``.ci/run`` installs both, so CI runs these. Playwright's wheel carries
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
    page.wait_for_selector("h1:text('Patient')")
    assert page.locator("text=Key asymmetries over time").count() == 1
    page.click("a:text('2024-05-02')")
    page.wait_for_selector("svg.overlay circle[data-name='cheilion_left']", timeout=60000)
    # Both photos, each with the named points, four contours and the measures table.
    assert page.locator("svg.overlay").count() == 2
    assert page.locator("svg.overlay polyline.contour").count() == 8
    assert page.locator(".measures[data-expression='rest'] tr[data-key='commissure_height']").count() == 1
    assert page.locator(".measures[data-expression='dynamic']").count() == 1
    png = page.screenshot(path=os.environ.get("LIPSYM_SHOT", str(tmp_path / "visit.png")), full_page=True)
    assert not_blank(png) > 20
    assert page.errors == []
    hosts = {urlsplit(u).hostname for u in page.requests if not u.startswith(("data:", "blob:"))}
    assert hosts == {"127.0.0.1"}, page.requests
