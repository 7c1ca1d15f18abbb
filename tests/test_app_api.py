"""The app's HTTP API, in-process: security checks, records, uploads, the analysis view."""

from __future__ import annotations

import io
import stat

import pytest

from test_app_support import REST, SMILE, in_process, seed

pytest.importorskip("starlette")


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    """One record with a patient whose visit is analysed (reused by the module's tests)."""
    client, state, headers = in_process(tmp_path_factory.mktemp("app") / "record.db")
    seeded = seed(client, headers)
    yield client, state, headers, seeded
    state.worker.close()


# --- security -----------------------------------------------------------------------------------

def test_the_page_carries_the_session_token_and_strict_headers(app):
    client, state, _, _ = app
    r = client.get("/")
    assert r.status_code == 200 and state.token in r.text
    csp = r.headers["content-security-policy"]
    assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert r.headers["x-content-type-options"] == "nosniff"
    # No remote resource in the page or its scripts and styles: everything is served by the app.
    from importlib import resources

    static = resources.files("lipsym.app") / "static"
    texts = [r.text] + [p.read_text() for p in (static / "js").iterdir()] + [(static / "app.css").read_text()]
    for text in texts:
        assert "http://" not in text.replace("http://www.w3.org/2000/svg", "") and "https://" not in text


@pytest.mark.parametrize("host", ["evil.example", "evil.example:8765", "127.0.0.1.evil.example", "192.168.1.20"])
def test_a_foreign_host_header_is_refused(app, host):
    client, *_ = app
    r = client.get("/api/patients", headers={"host": host})
    assert r.status_code == 403 and "not this machine" in r.json()["error"]


def test_state_changing_requests_need_the_token(app):
    client, _, headers, _ = app
    assert client.post("/api/patients", json={"identifier": "P777"}).status_code == 403
    assert client.post("/api/patients", json={"identifier": "P777"},
                       headers={"X-Lipsym-Token": "guess"}).status_code == 403
    assert client.get("/api/patients?q=P777").json()["patients"] == []


def test_a_cross_site_request_is_refused_even_with_the_token(app):
    client, _, headers, _ = app
    for extra in ({"origin": "http://evil.example"}, {"origin": "null"}, {"sec-fetch-site": "cross-site"}):
        r = client.post("/api/patients", json={"identifier": "P778"}, headers={**headers, **extra})
        assert r.status_code == 403, extra
    r = client.post("/api/patients", json={"identifier": "P778"}, headers={**headers, "origin": "http://testserver"})
    assert r.status_code == 200


# --- records ------------------------------------------------------------------------------------

def test_patients_are_searched_by_code(app):
    client, _, headers, _ = app
    client.post("/api/patients", json={"identifier": "Q100"}, headers=headers)
    codes = [p["identifier"] for p in client.get("/api/patients?q=q1").json()["patients"]]
    assert codes == ["Q100"]


def test_the_cli_validation_applies(app):
    client, _, headers, seeded = app
    r = client.post("/api/patients", json={"identifier": "Maria Garcia"}, headers=headers)
    assert r.status_code == 400 and "looks like a person's name" in r.json()["error"]
    assert client.post("/api/patients", json={"identifier": "Maria Garcia", "force": True},
                       headers=headers).status_code == 200
    r = client.post(f"/api/patients/{seeded['patient']}/visits", json={"date": "2999-01-01", "kind": "baseline"},
                    headers=headers)
    assert r.status_code == 400 and "future" in r.json()["error"]
    r = client.post(f"/api/patients/{seeded['patient']}/visits", json={"date": "2024-13-40", "kind": "baseline"},
                    headers=headers)
    assert r.status_code == 400
    r = client.post(f"/api/patients/{seeded['patient']}/visits", json={"date": "2024-06-01", "kind": "party"},
                    headers=headers)
    assert r.status_code == 400 and "kind" in r.json()["error"]
    assert client.get("/api/patients/NOPE").status_code == 404


def test_treatments_are_recorded_with_sites_and_checked_doses(app):
    client, _, headers, seeded = app
    vid = seeded["visit_id"]
    body = {"product_name": "Juvederm Volbella", "product_type": "ha_filler", "dose_value": 0.5, "dose_unit": "mL",
            "sites": [{"region": "upper_lip", "side": "left", "dose_value": 0.3},
                      {"region": "commissure", "side": "right"}]}
    r = client.post(f"/api/visits/{vid}/treatments", json=body, headers=headers)
    assert r.status_code == 200, r.text
    t = r.json()
    assert [(s["region"], s["side"]) for s in t["sites"]] == [("upper_lip", "left"), ("commissure", "right")]
    r = client.post(f"/api/visits/{vid}/treatments", json={**body, "dose_value": 40.0}, headers=headers)
    assert r.status_code == 400 and "accept" in r.json()["error"]
    r = client.patch(f"/api/treatments/{t['id']}", json={"dose_value": 0.6}, headers=headers)
    assert r.json()["dose_value"] == 0.6
    shown = client.get(f"/api/visits/{vid}").json()["treatments"]
    assert [x["product_name"] for x in shown] == ["Juvederm Volbella"]
    assert client.delete(f"/api/treatments/{t['id']}", headers=headers).status_code == 200
    assert client.get(f"/api/visits/{vid}").json()["treatments"] == []


def test_treatment_sites_are_edited_with_the_cli_validation(app):
    """``PATCH sites`` replaces the recorded sites (as ``treatment edit --site``), [] removes them (``--no-sites``)."""
    from lipsym.cli.treatment import parse_site
    from lipsym.visits.store import _validate as validate

    client, _, headers, seeded = app
    vid = seeded["visit_id"]
    shown = client.get(f"/api/visits/{vid}").json()
    # The page offers exactly the record's regions and (patient's) sides.
    assert shown["site_choices"] == {"regions": list(validate.REGIONS), "sides": list(validate.SIDES)}
    t = client.post(f"/api/visits/{vid}/treatments", headers=headers, json={
        "product_name": "Botox", "product_type": "neuromodulator", "dose_value": 4.0, "dose_unit": "U",
        "sites": [{"region": "commissure", "side": "left", "dose_value": 2.0}]}).json()
    url = f"/api/treatments/{t['id']}"
    r = client.patch(url, headers=headers, json={"sites": [{"region": "dao", "side": "right", "dose_value": 2.5},
                                                           {"region": "upper_lip", "side": "midline"}]})
    assert r.status_code == 200, r.text
    expected = [parse_site("dao:right:2.5"), parse_site("upper_lip:midline")]
    assert [(s["region"], s["side"], s["dose_value"]) for s in r.json()["sites"]] == \
        [(s.region, s.side, s.dose_value) for s in expected]
    # What the store refuses for the CLI it refuses here, and the record is unchanged.
    for site, reason in (({"region": "dao", "side": "both"}, "injection side"),
                         ({"region": "chin_dimple", "side": "left"}, "injection region"),
                         ({"region": "dao"}, "side is required"),
                         ({"region": "dao", "side": "left", "dose_value": "two"}, "dose_value")):
        r = client.patch(url, headers=headers, json={"sites": [site]})
        assert r.status_code == 400 and reason in r.json()["error"], (site, r.text)
    # An implausible dose at one site needs 'accept', as --force.
    r = client.patch(url, headers=headers, json={"sites": [{"region": "dao", "side": "left", "dose_value": 900.0}]})
    assert r.status_code == 400 and "accept" in r.json()["error"]
    kept = next(x for x in client.get(f"/api/visits/{vid}").json()["treatments"] if x["id"] == t["id"])
    assert [(s["region"], s["side"]) for s in kept["sites"]] == [("dao", "right"), ("upper_lip", "midline")]
    # Other fields alone leave the sites alone.
    assert len(client.patch(url, headers=headers, json={"lot": "C1234"}).json()["sites"]) == 2
    r = client.patch(url, headers=headers, json={"sites": [{"region": "dao", "side": "left", "dose_value": 900.0}],
                                                 "dose_value": 900.0, "force": True})
    assert r.status_code == 200 and r.json()["sites"][0]["dose_value"] == 900.0, r.text
    # An empty list removes them (the dose stays implausible, so still with 'accept', as the CLI).
    assert client.patch(url, headers=headers, json={"sites": [], "force": True}).json()["sites"] == []
    assert client.delete(url, headers=headers).status_code == 200


def test_the_patient_page_has_the_timeline_measures_and_settling(app):
    client, _, _, seeded = app
    page = client.get(f"/api/patients/{seeded['patient']}").json()
    assert page["history"]["visits"][0]["analyses"] == 1
    m = page["track"]["visits"][0]["measures"]["rest"]["commissure_height"]
    assert m["standard_error"] > 0 and m["asymmetry"] is not None
    assert "settling" in page["track"]


def test_the_patient_page_has_the_treatments_effect_on_lip_size(app):
    """A baseline, then a treatment visit (same photos): the effect is there, zero and not detectable."""
    client, _, headers, _ = app
    seed(client, headers, code="P095", date="2024-01-10", kind="baseline")
    treated = seed(client, headers, code="P095", date="2024-02-10", kind="treatment")
    body = {"product_name": "Juvederm Volbella", "product_type": "ha_filler", "dose_value": 0.5, "dose_unit": "mL"}
    assert client.post(f"/api/visits/{treated['visit_id']}/treatments", json=body, headers=headers).status_code == 200
    page = client.get("/api/patients/P095").json()
    (effect,) = page["track"]["treatment_effect"]
    change = next(c for c in effect["changes"]
                  if (c["condition"], c["key"]) == ("rest", "upper_vermilion_height_midline"))["since_pre_treatment"]
    assert change["change"] == 0.0 and not change["detectable"] and change["minimal_detectable_change"] >= 0.8
    assert page["names"]["upper_vermilion_height_midline"]["unit"] == "mm"
    assert "a lower bound" in page["size_effect_caveat"]  # the page says the size effect is under-read


# --- photos -------------------------------------------------------------------------------------

def test_a_bad_file_gets_its_one_line_reason_and_the_others_carry_on(app):
    import time

    client, _, headers, seeded = app
    vid = client.post(f"/api/patients/{seeded['patient']}/visits", json={"date": "2024-03-01", "kind": "baseline"},
                      headers=headers).json()["id"]
    r = client.put(f"/api/visits/{vid}/photos", params={"expression": "rest", "name": "notes.txt"},
                   content=b"not a photo at all", headers=headers)
    assert r.status_code == 422 and r.json()["error"].startswith("notes.txt: ") and "\n" not in r.json()["error"]
    r = client.put(f"/api/visits/{vid}/photos", params={"expression": "frown", "name": "x.jpg"},
                   content=REST.read_bytes(), headers=headers)
    assert r.status_code == 400
    assert client.get(f"/api/visits/{vid}").json()["photos"] == []
    # A photo whose header reads but whose data is cut: recorded, then its analysis fails with its reason
    # (with the rest photo it is paired with, as `lipsym import` does).
    ok = client.put(f"/api/visits/{vid}/photos", params={"expression": "smile", "name": "smile.jpg"},
                    content=SMILE.read_bytes(), headers=headers)
    cut = client.put(f"/api/visits/{vid}/photos", params={"expression": "rest", "name": "cut.jpg"},
                     content=REST.read_bytes()[:60000], headers=headers)
    assert ok.status_code == 201
    if cut.status_code == 201:
        job = client.post(f"/api/visits/{vid}/analyze", headers=headers).json()
        while job["state"] != "done":
            time.sleep(0.1)
            job = client.get(f"/api/jobs/{job['id']}").json()
        assert len(job["failures"]) == 1 and "cut.jpg" in job["failures"][0]["photos"]
        assert "\n" not in job["failures"][0]["reason"] and "lipsym-photos" not in job["failures"][0]["reason"]
    else:
        assert cut.status_code == 422 and cut.json()["error"].startswith("cut.jpg: ")
    client.delete(f"/api/visits/{vid}", headers=headers)


def test_uploads_over_the_limit_are_refused(tmp_path):
    from starlette.testclient import TestClient

    from lipsym.app import AppConfig, create_app
    from lipsym.app._state import AppState

    config = AppConfig.for_database(tmp_path / "r.db", extra_hosts=("testserver",), max_upload_bytes=1000)
    state = AppState(config)
    client = TestClient(create_app(config, state=state))
    h = {"X-Lipsym-Token": state.token}
    client.post("/api/patients", json={"identifier": "P1"}, headers=h)
    vid = client.post("/api/patients/P1/visits", json={"date": "2024-01-02", "kind": "baseline"}, headers=h).json()["id"]
    r = client.put(f"/api/visits/{vid}/photos", params={"expression": "rest", "name": "big.jpg"},
                   content=REST.read_bytes(), headers=h)
    assert r.status_code == 413 and "limit" in r.json()["error"]

    def chunks():  # no Content-Length: the limit is enforced while reading
        yield REST.read_bytes()[:800]
        yield REST.read_bytes()[800:1600]
    r = client.put(f"/api/visits/{vid}/photos", params={"expression": "rest", "name": "big.jpg"},
                   content=chunks(), headers=h)
    assert r.status_code == 413
    assert not [p for p in config.photo_dir.iterdir() if not p.name.startswith(".")]


def test_uploaded_photos_are_private_and_named_by_content(app):
    client, state, _, seeded = app
    folder = state.config.photo_dir
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    files = sorted(p for p in folder.iterdir() if not p.name.startswith("."))
    import hashlib
    assert hashlib.sha256(REST.read_bytes()).hexdigest() + ".jpg" in {p.name for p in files}
    for p in files:
        assert stat.S_IMODE(p.stat().st_mode) == 0o600
    # The client never sees or names a path.
    photos = client.get(f"/api/visits/{seeded['visit_id']}").json()["photos"]
    assert all(p["path"] is None for p in photos)


def test_the_display_copy_is_a_jpeg_without_metadata(app):
    client, _, _, seeded = app
    view = client.get(f"/api/analyses/{seeded['analysis_id']}").json()
    r = client.get(view["photos"][0]["image"])
    assert r.headers["content-type"] == "image/jpeg"
    from PIL import Image

    im = Image.open(io.BytesIO(r.content))
    assert im.size == (view["photos"][0]["result"]["width_px"], view["photos"][0]["result"]["height_px"])
    assert not im.getexif()


# --- the analysis view --------------------------------------------------------------------------

def test_the_view_shows_what_the_record_holds(app):
    """The measures the app draws are the stored ones: one library, no second copy."""
    client, state, _, seeded = app
    view = client.get(f"/api/analyses/{seeded['analysis_id']}").json()
    assert [p["expression"] for p in view["photos"]] == ["rest", "smile"]
    with state.store() as store:
        stored = store.get_analysis(seeded["analysis_id"]).result
    for shown, kept in zip(view["photos"], stored["results"]):
        assert shown["result"]["measures"]["sided"] == kept["measures"]["sided"]
        assert shown["result"]["points_px"] == kept["points_px"]
        assert set(shown["overlay"]["contours"]) == {"outer_upper", "outer_lower", "inner_upper", "inner_lower"}
        assert len(shown["overlay"]["contours"]["outer_upper"]) == 11
    assert view["pair"]["dynamic"] == stored["pairs"][0]["dynamic"]
    assert view["names"]["commissure_height"]["unit"] == "mm"
    # The report's agreement marks, from the registry: none for a close measure.
    assert "mark" not in view["names"]["commissure_height"]
    assert view["names"]["bow_peak_height"]["mark"] == "†"
    assert view["names"]["upper_vermilion_height_peak"]["agreement"].startswith("does not follow")


def test_the_before_after_comparison(app):
    client, _, headers, seeded = app
    later = seed(client, headers, code=seeded["patient"], date="2024-06-10", kind="follow-up")
    cmp = client.get(f"/api/patients/{seeded['patient']}/compare",
                     params={"from": str(seeded["visit_id"]), "to": str(later["visit_id"])}).json()
    rest = {c["key"]: c for c in cmp["comparison"]["changes"]["rest"]}
    # The same photos twice: no change, and an honest MDC above zero.
    assert abs(rest["commissure_height"]["change"]) < 1e-9
    assert rest["commissure_height"]["minimal_detectable_change"] > 0
    a, b = cmp["analyses"]["from"]["rest"], cmp["analyses"]["to"]["rest"]
    before = client.get("/api/compare-image", params={"before": a, "after": b, "kind": "before"})
    after = client.get("/api/compare-image", params={"before": a, "after": b, "kind": "after"})
    assert before.headers["content-type"] == "image/jpeg" and before.content == after.content
    plain = client.get("/api/compare-image", params={"before": a, "after": b, "kind": "plain"})
    assert plain.content[:8] == b"\x89PNG\r\n\x1a\n"
    # Smile: the visits' smile photos, registered the same way, and their own clean image.
    sa, sb = cmp["analyses"]["from"]["smile"], cmp["analyses"]["to"]["smile"]
    smile = {kind: client.get("/api/compare-image", params={"before": sa, "after": sb, "kind": kind,
                                                            "expression": "smile"}) for kind in ("before", "after", "plain")}
    assert all(r.status_code == 200 for r in smile.values()), {k: r.text for k, r in smile.items()}
    assert smile["before"].content == smile["after"].content != before.content
    assert smile["plain"].content[:8] == b"\x89PNG\r\n\x1a\n" and smile["plain"].content != plain.content
    assert "before-after-smile.png" in smile["plain"].headers["content-disposition"]
    r = client.get("/api/compare-image", params={"before": sa, "after": sb, "kind": "after", "expression": "frown"})
    assert r.status_code == 400 and "rest or smile" in r.json()["error"]


def test_photo_names_survive_a_restart_and_are_never_paths(app, tmp_path):
    """The dropped file's name is kept (sanitised) beside the uploads; a CLI-recorded photo shows its base name."""
    import json

    from test_app_support import in_process

    client, state, headers, seeded = app
    vid = seeded["visit_id"]
    r = client.put(f"/api/visits/{vid}/photos", params={"expression": "smile", "name": "C:\\Users\\dr\\IMG_0042\x07.PNG"},
                   content=_png_bytes(), headers=headers)
    assert r.status_code == 201 and r.json()["photo"]["name"] == "IMG_0042.PNG"
    uploaded_id = r.json()["photo"]["id"]
    # A photo recorded from the command line, by its own path.
    own = tmp_path / "patient94 smile 2.png"
    own.write_bytes(_png_bytes(90))
    with state.store() as store:
        cli_photo = store.add_photo(vid, own, "smile")
    assert cli_photo.id != uploaded_id
    # A fresh app over the same record (a restart): the names come back from disk, not from memory.
    again, again_state, _ = in_process(state.config.db_path)
    try:
        photos = {p["id"]: p for p in again.get(f"/api/visits/{vid}").json()["photos"]}
    finally:
        again_state.worker.close()
    assert photos[uploaded_id]["name"] == "IMG_0042.PNG"
    assert photos[cli_photo.id]["name"] == "patient94 smile 2.png"
    assert sorted(p["name"] for p in photos.values() if p["id"] not in (uploaded_id, cli_photo.id)) == \
        sorted([REST.name, SMILE.name])
    assert all(p["path"] is None for p in photos.values())
    kept = state.config.photo_dir / "names.json"
    assert stat.S_IMODE(kept.stat().st_mode) == 0o600
    assert json.loads(kept.read_text())[str(uploaded_id)]["name"] == "IMG_0042.PNG"
    # A name kept for another photo (same id, other content) is not shown for this one.
    entries = json.loads(kept.read_text())
    entries[str(uploaded_id)]["sha256"] = "0" * 64
    kept.write_text(json.dumps(entries))
    assert next(p for p in client.get(f"/api/visits/{vid}").json()["photos"]
                if p["id"] == uploaded_id)["name"] == f"photo {uploaded_id}"
    with state.store() as store:
        store.delete_photo(uploaded_id)
        store.delete_photo(cli_photo.id)


def _png_bytes(grey: int = 128) -> bytes:
    """A small uniform PNG (a valid photo file to record; it is not analysed)."""
    import numpy as np
    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(np.full((64, 48, 3), grey, np.uint8)).save(buf, format="PNG")
    return buf.getvalue()


@pytest.mark.slow
def test_heic_and_24_megapixel_photos_upload_and_analyse(app, tmp_path):
    """A phone's HEIC and a 24 MP camera JPEG: recorded by content and analysed like any photo."""
    import time

    import numpy as np
    import pillow_heif
    from PIL import Image

    client, _, headers, seeded = app
    rest = Image.open(REST).convert("RGB")
    heic = io.BytesIO()
    pillow_heif.from_pillow(rest).save(heic, quality=90)
    # 24 MP (6000 × 4000): the sample face, enlarged 2.9× onto a grey canvas, like a face in a camera frame.
    smile = Image.open(SMILE).convert("RGB").resize((3915, 3915), Image.LANCZOS)
    canvas = Image.new("RGB", (6000, 4000), (128, 128, 128))
    canvas.paste(smile, (1040, 42))
    big = io.BytesIO()
    canvas.save(big, format="JPEG", quality=88)
    assert canvas.size[0] * canvas.size[1] == 24_000_000
    vid = client.post(f"/api/patients/{seeded['patient']}/visits", json={"date": "2024-08-01", "kind": "follow-up"},
                      headers=headers).json()["id"]
    for expression, name, data in (("rest", "IMG_0001.HEIC", heic.getvalue()), ("smile", "DSC_0002.JPG", big.getvalue())):
        r = client.put(f"/api/visits/{vid}/photos", params={"expression": expression, "name": name},
                       content=data, headers=headers)
        assert r.status_code == 201, r.text
    job = client.post(f"/api/visits/{vid}/analyze", headers=headers).json()
    while job["state"] != "done":
        time.sleep(0.2)
        job = client.get(f"/api/jobs/{job['id']}").json()
    assert job["failures"] == [] and len(job["analyses"]) == 1
    view = client.get(f"/api/analyses/{job['analyses'][0]}").json()
    assert [p["result"]["width_px"] for p in view["photos"]] == [1350, 6000]
    # The same face: the HEIC rest photo measures as the JPEG did (lossy re-encoding aside).
    first = client.get(f"/api/analyses/{seeded['analysis_id']}").json()
    ipd = [p["result"]["measures"]["interpupillary_distance_mm"] for p in (first["photos"][0], view["photos"][0])]
    assert ipd[1] == pytest.approx(ipd[0], rel=0.02)
    image = client.get(view["photos"][1]["image"])
    assert Image.open(io.BytesIO(image.content)).size == (4096, 2731)  # the display copy is capped at 4096 px
    assert np.isfinite(view["photos"][1]["result"]["measures"]["sided"]["commissure_height"]["asymmetry"])


@pytest.mark.slow
def test_the_visit_report_is_made_and_downloaded(app):
    client, _, headers, seeded = app
    r = client.post(f"/api/visits/{seeded['visit_id']}/report", headers=headers)
    assert r.status_code == 200, r.text
    links = r.json()
    html = client.get(links["html"])
    assert html.headers["content-type"].startswith("text/html") and "<html" in html.text.lower()
    assert "attachment" in html.headers["content-disposition"]
    pdf = client.get(links["pdf"])
    assert pdf.content[:5] == b"%PDF-"
    assert client.get("/api/reports/nope/report.pdf").status_code == 404


def test_the_serve_command_checks_its_port(capsys):
    from lipsym.cli import main

    assert main(["serve", "--port", "70000", "--db", "unused.db"]) == 2
    assert "--port must be between 1 and 65535" in capsys.readouterr().err
