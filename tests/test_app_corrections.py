"""Manual landmark correction through the app's API: live preview, save, conflicts, and what follows."""

from __future__ import annotations

import numpy as np
import pytest

from test_app_support import in_process, seed

pytest.importorskip("starlette")


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    client, state, headers = in_process(tmp_path_factory.mktemp("corr") / "record.db")
    seeded = seed(client, headers)
    yield client, state, headers, seeded
    state.worker.close()


def _sided(view, expression, key="commissure_height"):
    photo = next(p for p in view["photos"] if p["expression"] == expression)
    return photo["result"]["measures"]["sided"][key]


def frame_y_axis(photo_view) -> np.ndarray:
    """The facial frame's y axis (up), as a unit vector in image coordinates.

    The frame's x axis runs from the right pupil to the left; y is perpendicular,
    pointing from the mouth to the eyes. Built from the pupils (4 decimals of a
    pixel over an IPD of ~220 px: ~1e-6 rad) rather than from the document's
    axes, which are rounded to 4 decimals (1e-4 rad: 4e-5 mm on a 4 px move).
    """
    pts = photo_view["overlay"]["points"]
    x_axis = np.subtract(pts["pupil_left"], pts["pupil_right"])
    x_axis /= np.linalg.norm(x_axis)
    y_axis = np.array([x_axis[1], -x_axis[0]])
    return y_axis if np.dot(y_axis, photo_view["result"]["frame"]["y_axis"]) > 0 else -y_axis


def expected_height_change_mm(photo_view, move_px, scale_mm_per_px):
    """Commissure height is the cheilion's frame y (up) in mm: the move projected on the frame's y axis."""
    return float(np.dot(move_px, frame_y_axis(photo_view))) * scale_mm_per_px


def test_a_preview_moves_the_commissure_measure_by_the_projected_drag(app):
    client, _, headers, s = app
    view = client.get(f"/api/analyses/{s['analysis_id']}").json()
    rest = view["photos"][0]
    x, y = rest["overlay"]["points"]["cheilion_left"]
    move = np.array([1.5, 4.0])  # image px: right and down
    moved = client.post(f"/api/analyses/{s['analysis_id']}/preview", headers=headers, json={"moves": [
        {"photo_id": rest["photo_id"], "name": "cheilion_left", "x_px": x + move[0], "y_px": y + move[1]}]})
    assert moved.status_code == 200, moved.text
    after = moved.json()
    mm_per_px = rest["result"]["measures"]["scale_used"]["mm_per_px"]
    want = expected_height_change_mm(rest, move, mm_per_px)
    before_m, after_m = _sided(view, "rest"), _sided(after, "rest")
    # The page gets and sends points to 4 decimals of a pixel, so the move is known to 1e-4 px.
    tol = 1e-4 * mm_per_px
    # Left − right: only the left value moves; the frame (pupils) and the scale (iris) do not.
    assert after_m["left"] - before_m["left"] == pytest.approx(want, abs=tol)
    assert after_m["asymmetry"] - before_m["asymmetry"] == pytest.approx(want, abs=tol)
    assert after_m["right"] == pytest.approx(before_m["right"], abs=1e-9)
    assert after["photos"][0]["overlay"]["points"]["cheilion_left"] == pytest.approx([x + move[0], y + move[1]], abs=1e-3)
    # The smile photo is untouched; the preview stored nothing.
    assert _sided(after, "smile") == _sided(view, "smile")
    assert len(client.get(f"/api/visits/{s['visit_id']}").json()["analyses"]) == 1


@pytest.mark.parametrize("move, reason", [
    ({"name": "nose_tip", "x_px": 1.0, "y_px": 1.0}, "unknown point"),
    ({"name": "cheilion_left", "x_px": -50.0, "y_px": 10.0}, "outside the photo"),
    ({"name": "cheilion_left", "x_px": "left", "y_px": 10.0}, "number"),
])
def test_bad_moves_get_a_one_line_reason(app, move, reason):
    client, _, headers, s = app
    photo_id = client.get(f"/api/analyses/{s['analysis_id']}").json()["photos"][0]["photo_id"]
    r = client.post(f"/api/analyses/{s['analysis_id']}/preview", headers=headers,
                    json={"moves": [{"photo_id": photo_id, **move}]})
    assert r.status_code == 400 and reason in r.json()["error"] and "\n" not in r.json()["error"]


def test_saving_records_a_manual_analysis_and_the_record_uses_it(app):
    client, state, headers, s = app
    view = client.get(f"/api/analyses/{s['analysis_id']}").json()
    assert view["base"] is None and view["provenance"] == "automatic"
    rest, smile = view["photos"]
    x, y = rest["overlay"]["points"]["cheilion_right"]
    sx, sy = smile["overlay"]["points"]["stomion"]
    moves = [{"photo_id": rest["photo_id"], "name": "cheilion_right", "x_px": x, "y_px": y - 3.0},
             {"photo_id": smile["photo_id"], "name": "stomion", "x_px": sx + 1.0, "y_px": sy}]
    preview = client.post(f"/api/analyses/{s['analysis_id']}/preview", headers=headers, json={"moves": moves}).json()
    saved = client.post(f"/api/analyses/{s['analysis_id']}/corrections", headers=headers,
                        json={"moves": moves, "base": None})
    assert saved.status_code == 200, saved.text
    new = saved.json()
    assert new["based_on"] == s["analysis_id"] and new["moved"] == {"rest": ["cheilion_right"], "smile": ["stomion"]}
    with state.store() as store:
        automatic, manual = store.get_analysis(s["analysis_id"]), store.get_analysis(new["analysis_id"])
        from lipsym.visits._timeline import load_timeline

        timeline = load_timeline(store, s["patient"])
    assert "provenance" not in automatic.settings  # the automatic analysis is never overwritten
    assert manual.settings["provenance"] == "manual"
    entry = manual.result["results"][0]
    assert entry["provenance"] == "manual"
    (moved,) = entry["corrections"]
    assert moved["point"] == "cheilion_right" and moved["displacement_px"] == pytest.approx([0.0, -3.0], abs=1e-3)
    # What was previewed is what was saved, and what track/compare/report read.
    assert entry["measures"]["sided"]["commissure_height"] == _sided(preview, "rest")
    vm = timeline.find(str(s["visit_id"]))
    assert vm.analysis_ids["rest"] == new["analysis_id"]
    assert vm.sided["rest"]["commissure_height"].asymmetry == pytest.approx(_sided(preview, "rest")["asymmetry"],
                                                                          abs=1e-9)
    # The manual analysis opens with its moves, and says what it is.
    opened = client.get(f"/api/analyses/{new['analysis_id']}").json()
    assert opened["provenance"] == "manual" and "corrected manually" in opened["provenance_note"]
    assert opened["base"] == new["analysis_id"]
    assert opened["photos"][0]["overlay"]["moved"] == ["cheilion_right"]
    assert opened["photos"][0]["overlay"]["points"]["cheilion_right"] == pytest.approx([x, y - 3.0], abs=1e-3)
    assert opened["photos"][0]["overlay"]["auto_points"]["cheilion_right"] == pytest.approx([x, y], abs=1e-3)
    page = client.get(f"/api/patients/{s['patient']}").json()
    assert page["track"]["visits"][0]["analyses"]["rest"]["analysis_id"] == new["analysis_id"]


def test_two_tabs_saving_lose_neither_save(app):
    """Both tabs loaded the same analysis; the second save is refused with a clear message, nothing is lost."""
    client, state, headers, s = app
    tab_a = client.get(f"/api/analyses/{s['analysis_id']}").json()
    tab_b = client.get(f"/api/analyses/{s['analysis_id']}").json()
    rest = tab_a["photos"][0]
    pid = rest["photo_id"]
    x, y = rest["overlay"]["auto_points"]["labrale_inferius"]
    a = client.post(f"/api/analyses/{s['analysis_id']}/corrections", headers=headers, json={
        "moves": [{"photo_id": pid, "name": "labrale_inferius", "x_px": x, "y_px": y + 2}], "base": tab_a["base"]})
    assert a.status_code == 200
    b = client.post(f"/api/analyses/{s['analysis_id']}/corrections", headers=headers, json={
        "moves": [{"photo_id": pid, "name": "labrale_superius", "x_px": x, "y_px": y - 30}], "base": tab_b["base"]})
    assert b.status_code == 409
    body = b.json()
    assert "another correction" in body["error"] and body["latest_analysis_id"] == a.json()["analysis_id"]
    # Tab B loads A's save and re-applies its own move on top: both moves are kept.
    latest = client.get(f"/api/analyses/{body['latest_analysis_id']}").json()
    moves = [{"photo_id": pid, "name": n, "x_px": p[0], "y_px": p[1]}
             for n, p in latest["photos"][0]["overlay"]["points"].items()
             if n in latest["photos"][0]["overlay"]["moved"]]
    moves.append({"photo_id": pid, "name": "labrale_superius", "x_px": x, "y_px": y - 30})
    c = client.post(f"/api/analyses/{body['latest_analysis_id']}/corrections", headers=headers,
                    json={"moves": moves, "base": latest["base"]})
    assert c.status_code == 200, c.text
    assert set(c.json()["moved"]["rest"]) >= {"labrale_inferius", "labrale_superius"}
