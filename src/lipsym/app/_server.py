"""The Starlette application and ``serve`` (uvicorn on 127.0.0.1)."""

from __future__ import annotations

import contextlib
import html
import webbrowser
from importlib import resources

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from lipsym import __version__
from lipsym.app import _photos, _records, _views
from lipsym.app._config import AppConfig
from lipsym.app._http import api
from lipsym.app._security import SecurityMiddleware
from lipsym.app._state import AppState


def _static_dir() -> str:
    return str(resources.files("lipsym.app") / "static")


def create_app(config: AppConfig, *, state: AppState | None = None) -> Starlette:
    """The app over ``config.db_path``; every request passes :class:`SecurityMiddleware` first.

    Parameters
    ----------
    config : AppConfig
    state : AppState, optional
        Shared state (tests pass one to reach the session token and the worker).
    """
    state = state or AppState(config)
    index = (resources.files("lipsym.app") / "static" / "index.html").read_text(encoding="utf-8")
    page = index.replace("{{TOKEN}}", html.escape(state.token)).replace("{{VERSION}}", html.escape(__version__))

    async def home(request: Request) -> Response:
        return HTMLResponse(page)

    async def ping(request: Request) -> Response:
        return JSONResponse({"ok": True})

    async def upload(request: Request) -> Response:
        return await _photos.upload_photo(state, request)

    def route(path, handler, methods=("GET",)):
        return Route(path, api(state, handler), methods=list(methods))

    routes = [
        Route("/", home),
        Route("/api/ping", ping, methods=["GET", "POST"]),
        route("/api/patients", _records.list_patients),
        route("/api/patients", _records.add_patient, ("POST",)),
        route("/api/patients/{code}", _records.show_patient),
        route("/api/patients/{code}", _records.edit_patient, ("PATCH",)),
        route("/api/patients/{code}/visits", _records.add_visit, ("POST",)),
        route("/api/patients/{code}/compare", _views.comparison),
        route("/api/visits/{visit_id}", _records.show_visit),
        route("/api/visits/{visit_id}", _records.edit_visit, ("PATCH",)),
        route("/api/visits/{visit_id}", _records.delete_visit, ("DELETE",)),
        route("/api/visits/{visit_id}/treatments", _records.add_treatment, ("POST",)),
        Route("/api/visits/{visit_id}/photos", upload, methods=["PUT"]),
        route("/api/visits/{visit_id}/analyze", _photos.start_analysis, ("POST",)),
        route("/api/visits/{visit_id}/report", _views.make_report, ("POST",)),
        route("/api/treatments/{treatment_id}", _records.edit_treatment, ("PATCH",)),
        route("/api/treatments/{treatment_id}", _records.delete_treatment, ("DELETE",)),
        route("/api/jobs/{job_id}", _photos.job_status),
        route("/api/photos/{photo_id}/image", _photos.photo_image),
        route("/api/analyses/{analysis_id}", _views.analysis_view),
        route("/api/analyses/{analysis_id}/preview", _views.preview, ("POST",)),
        route("/api/analyses/{analysis_id}/corrections", _views.save, ("POST",)),
        route("/api/compare-image", _views.comparison_image),
        route("/api/reports/{key}/{name}", _views.report_file),
        Mount("/static", app=StaticFiles(directory=_static_dir()), name="static"),
    ]
    @contextlib.asynccontextmanager
    async def lifespan(app):
        yield
        state.worker.close()

    app = Starlette(routes=routes, lifespan=lifespan)
    guarded = SecurityMiddleware(app, allowed_hosts=config.allowed_hosts, token=state.token)
    guarded.lipsym = state  # tests reach the session token and the worker through it
    return guarded


def serve(config: AppConfig, *, open_browser: bool = False) -> None:
    """Run the app until interrupted (uvicorn, one process, access log off: URLs name patients)."""
    import uvicorn

    app = create_app(config)
    url = f"http://{'[' + config.host + ']' if ':' in config.host else config.host}:{config.port}/"
    if open_browser:
        import threading

        threading.Timer(1.0, webbrowser.open, args=(url,)).start()
    print(f"lipsym: serving {config.db_path} at {url} (Ctrl+C stops)", flush=True)
    if config.host not in ("127.0.0.1", "localhost", "::1"):
        print(f"lipsym: warning: {config.host} is not this machine's loopback address: other machines may reach "
              "the app; requests must name that address as their host", flush=True)
    uvicorn.run(app, host=config.host, port=config.port, log_level="warning", access_log=False,
                server_header=False, date_header=False)
