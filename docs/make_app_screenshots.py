"""Regenerate the screenshots of docs/app.md with the app itself, in headless Chromium.

Run: python docs/make_app_screenshots.py   (needs the test extras and Debian's chromium)

Starts ``lipsym serve`` on a new temporary record and a free loopback port,
records patient P094 with two visits of the bundled London 094 photos
(``sample_images/``, CC BY 4.0) through the app's API, moves the left cheilion
of the follow-up visit's rest photo by 3 px in the page and saves it, and
writes docs/figures/app_*.png.
"""

from __future__ import annotations

import re
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
from playwright.sync_api import sync_playwright

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
OUT = HERE / "figures"
PHOTOS = {"rest": REPO / "sample_images" / "london_094_rest.jpg",
          "smile": REPO / "sample_images" / "london_094_smile.jpg"}
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _visit(http, h, date: str, kind: str) -> tuple[int, int]:
    visit = http.post("/api/patients/P094/visits", json={"date": date, "kind": kind}, headers=h).json()["id"]
    for expression, path in PHOTOS.items():
        http.put(f"/api/visits/{visit}/photos", params={"expression": expression, "name": path.name},
                 content=path.read_bytes(), headers=h).raise_for_status()
    job = http.post(f"/api/visits/{visit}/analyze", headers=h).json()
    while job["state"] != "done":
        time.sleep(0.2)
        job = http.get(f"/api/jobs/{job['id']}").json()
    return visit, job["analyses"][0]


def main() -> int:
    work = Path(tempfile.mkdtemp(prefix="lipsym-shots-"))
    port = _port()
    url = f"http://127.0.0.1:{port}"
    server = subprocess.Popen([sys.executable, "-m", "lipsym", "serve", "--db", str(work / "record.db"),
                               "--port", str(port)], stdout=subprocess.DEVNULL)
    try:
        with httpx.Client(base_url=url, timeout=120) as http:
            for _ in range(200):
                try:
                    token = re.search(r'name="lipsym-token" content="([^"]+)"', http.get("/").text).group(1)
                    break
                except httpx.TransportError:
                    time.sleep(0.1)
            h = {"X-Lipsym-Token": token}
            http.post("/api/patients", json={"identifier": "P094", "birth_year": 1990, "sex": "female"}, headers=h)
            for code in ("P101", "P117"):
                http.post("/api/patients", json={"identifier": code}, headers=h)
            v0, _ = _visit(http, h, "2024-05-02", "baseline")
            http.post(f"/api/visits/{v0}/treatments", headers=h, json={
                "product_name": "Volbella", "product_type": "ha_filler", "dose_value": 0.6, "dose_unit": "mL",
                "sites": [{"region": "upper_lip", "side": "right", "dose_value": 0.4},
                          {"region": "commissure", "side": "right", "dose_value": 0.2}]}).raise_for_status()
            v1, a1 = _visit(http, h, "2024-06-13", "follow-up")
        OUT.mkdir(exist_ok=True)
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": 1400, "height": 900})
            page.goto(f"{url}/#/visit/{v1}/{a1}")
            page.wait_for_selector("svg.overlay circle[data-name='cheilion_left']")
            page.wait_for_timeout(300)
            page.screenshot(path=str(OUT / "app_visit.png"), full_page=False)
            # A correction: the rest photo's left cheilion dragged 3 image px down, then zoomed in.
            svg = page.locator("svg.overlay[data-expression='rest']")
            unit = page.evaluate("() => Object.values(window.lipsymEditor.viewers)[0].unit()")
            svg.locator("circle[data-name='cheilion_left']").scroll_into_view_if_needed()
            box = svg.locator("circle[data-name='cheilion_left']").bounding_box()
            x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
            page.mouse.move(x, y)
            page.mouse.down()
            for i in range(1, 11):
                page.mouse.move(x, y + 3 / unit * i / 10)
            page.mouse.up()
            page.wait_for_function("() => window.lipsymEditor.settled && !window.lipsymEditor.inflight")
            page.evaluate("""() => {  // zoom the rest photo onto the mouth, as a user would to place a point
                const v = Object.values(window.lipsymEditor.viewers)[0], p = v.points;
                const w = 2.0 * (p.cheilion_left[0] - p.cheilion_right[0]);
                const cx = (p.cheilion_left[0] + p.cheilion_right[0]) / 2, cy = p.stomion[1];
                v.setView(cx - w / 2, cy - w / 2, w, w);
            }""")
            svg.screenshot(path=str(OUT / "app_correction.png"))
            page.locator(".measures-panel").screenshot(path=str(OUT / "app_measures.png"))
            page.click("text=Save correction")
            page.wait_for_selector("text=saved as analysis")
            page.goto(url + "/#/patient/P094")
            page.wait_for_selector("text=Key asymmetries over time")
            page.screenshot(path=str(OUT / "app_patient.png"), full_page=True)
            page.goto(f"{url}/#/compare/P094/{v0}/{v1}")
            page.wait_for_selector("img[alt='after, rest, registered']")
            page.wait_for_timeout(500)
            page.screenshot(path=str(OUT / "app_compare.png"), full_page=True)
            browser.close()
    finally:
        server.terminate()
        server.wait(timeout=30)
    print("wrote", ", ".join(sorted(str(p.relative_to(REPO)) for p in OUT.glob("app_*.png"))))
    return 0


if __name__ == "__main__":
    sys.exit(main())
