"""Shared by the app's tests: the app on a temporary record, in-process or live on a loopback port.

The live server (uvicorn in a thread on 127.0.0.1, a free port) is what the
browser tests drive; the in-process client is Starlette's. Both share one
:class:`lipsym.app._state.AppState`, so tests can reach the session token.
"""

from __future__ import annotations

import socket
import threading
import time
from pathlib import Path

import pytest

pytest.importorskip("starlette", reason="the app's server packages are not installed (pip install '.[app]')")

from lipsym.app import AppConfig, create_app  # noqa: E402
from lipsym.app._state import AppState  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
REST = ROOT / "sample_images" / "london_094_rest.jpg"
SMILE = ROOT / "sample_images" / "london_094_smile.jpg"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class LiveApp:
    """``lipsym serve`` in this process: uvicorn on 127.0.0.1 in a background thread."""

    def __init__(self, db_path: Path):
        import uvicorn

        self.port = free_port()
        self.config = AppConfig.for_database(db_path, port=self.port)
        self.state = AppState(self.config)
        self.app = create_app(self.config, state=self.state)
        self.server = uvicorn.Server(uvicorn.Config(self.app, host="127.0.0.1", port=self.port, log_level="warning",
                                                    access_log=False, lifespan="on"))
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("the app did not start")
            time.sleep(0.05)
        self.url = f"http://127.0.0.1:{self.port}"

    @property
    def token(self) -> str:
        return self.state.token

    def close(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=30)


def in_process(db_path: Path):
    """(TestClient, AppState, token header) over a record at ``db_path``."""
    from starlette.testclient import TestClient

    config = AppConfig.for_database(db_path, extra_hosts=("testserver",))
    state = AppState(config)
    client = TestClient(create_app(config, state=state), base_url="http://testserver")
    return client, state, {"X-Lipsym-Token": state.token}


def seed(http, headers, code: str = "P094", date: str = "2024-05-02", kind: str = "baseline") -> dict:
    """A patient with one visit whose rest and smile photos are uploaded and analysed through the API.

    ``http`` is a Starlette TestClient or an httpx.Client on the live app.
    Returns the visit id and the automatic analysis id.
    """
    if http.get(f"/api/patients/{code}").status_code == 404:
        assert http.post("/api/patients", json={"identifier": code}, headers=headers).status_code == 200
    visit = http.post(f"/api/patients/{code}/visits", json={"date": date, "kind": kind}, headers=headers).json()
    for expression, path in (("rest", REST), ("smile", SMILE)):
        r = http.put(f"/api/visits/{visit['id']}/photos", params={"expression": expression, "name": path.name},
                     content=path.read_bytes(), headers=headers)
        assert r.status_code == 201, r.text
    job = http.post(f"/api/visits/{visit['id']}/analyze", headers=headers).json()
    deadline = time.monotonic() + 120
    while job["state"] != "done":
        assert time.monotonic() < deadline, job
        time.sleep(0.2)
        job = http.get(f"/api/jobs/{job['id']}").json()
    assert not job["failures"] and len(job["analyses"]) == 1, job
    return {"visit_id": visit["id"], "analysis_id": job["analyses"][0], "patient": code}


@pytest.mark.slow
def test_the_live_server_answers_on_loopback_and_refuses_a_foreign_host(tmp_path):
    import httpx

    live = LiveApp(tmp_path / "record.db")
    try:
        assert httpx.get(live.url + "/api/ping").json() == {"ok": True}
        r = httpx.get(live.url + "/api/ping", headers={"Host": "attacker.example:80"})
        assert r.status_code == 403 and "rebinding" in r.json()["error"]
    finally:
        live.close()
    assert not live.thread.is_alive()
