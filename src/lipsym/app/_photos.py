"""Photos in (upload, sniff, record, analyse with progress) and out (the browser's copy).

An upload is the file's bytes as the request body, one photo per request,
so each file gets its own progress and its own one-line reason. The bytes
are streamed to a private temporary file under the app's photo folder with
the size limit enforced while reading, identified by content with the
project's hardened header reader (:func:`lipsym.io.read_header`; the file
name the browser sent is shown back but never used as a path), renamed to
its SHA-256 and recorded for the visit. Photos are then analysed on the
analysis thread by the visit record's own :class:`~lipsym.visits.VisitAnalyzer`.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import uuid
from pathlib import Path
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from lipsym.errors import LipsymError
from lipsym.formats._envelope import plain
from lipsym.app._http import error_response, int_param
from lipsym.app._names import display_name, names_of, remember
from lipsym.app._state import AppState, BadRequest, Job, http_status
from lipsym.app._workspace import fresh_workspace

_EXPRESSIONS = ("rest", "smile")
#: Longest side of the copy sent to the browser, px: a 24 MP photo is sent at full size up to this;
#: the overlay is drawn in the original photo's pixels whatever the copy's size.
DISPLAY_MAX_SIDE_PX = 4096
#: Display copies kept per app (JPEG bytes, ~0.2-5 MB each).
DISPLAY_CACHE_SIZE = 12


def _private_dir(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    os.chmod(path, 0o700)
    return path


async def upload_photo(state: AppState, request: Request) -> Response:
    """``PUT /api/visits/{visit_id}/photos?expression=rest&name=IMG_1.HEIC``: record one photo."""
    from starlette.concurrency import run_in_threadpool

    expression = request.query_params.get("expression", "")
    if expression not in _EXPRESSIONS:
        return error_response(400, "expression must be rest or smile")
    shown = display_name(request.query_params.get("name"))
    limit = state.config.max_upload_bytes
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        return error_response(413, f"{shown}: larger than the {_mib(limit)} limit")
    folder = _private_dir(state.config.photo_dir)
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=".upload-")
    digest, size = hashlib.sha256(), 0
    try:
        with os.fdopen(fd, "wb") as out:
            async for chunk in request.stream():
                size += len(chunk)
                if size > limit:
                    return error_response(413, f"{shown}: larger than the {_mib(limit)} limit")
                digest.update(chunk)
                out.write(chunk)
        if size == 0:
            return error_response(400, f"{shown}: empty file")
        visit_id = int_param(request.path_params, "visit_id")
        try:
            photo = await run_in_threadpool(_record, state, Path(tmp), digest.hexdigest(), visit_id, expression)
        except LipsymError as exc:
            return error_response(http_status(exc), f"{shown}: {_reason(exc, tmp)}")
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    await run_in_threadpool(remember, state.config.photo_dir, photo.id, photo.sha256, shown)
    return JSONResponse({"photo": {**plain(photo), "path": None, "name": shown}}, status_code=201)


def _mib(n_bytes: int) -> str:
    return f"{n_bytes / 2**20:.3g} MiB"


def _reason(exc: LipsymError, tmp: str) -> str:
    """The error's one line, without the temporary file's name."""
    return str(exc).replace(str(tmp) + ": ", "").replace(str(tmp), "the file")


def _record(state: AppState, tmp: Path, sha256: str, visit_id: int, expression: str):
    from lipsym.io._header import read_header

    header = read_header(tmp)  # by content; refuses what lipsym cannot decode, with its reason
    if header.format not in _KNOWN:
        raise BadRequest(f"{header.format} is not a photo format lipsym measures")
    final = tmp.parent / f"{sha256}.{_KNOWN[header.format]}"
    if not final.exists():
        os.replace(tmp, final)
        os.chmod(final, 0o600)
    with state.store() as store:
        return store.add_photo(visit_id, final, expression)


_KNOWN = {"JPEG": "jpg", "PNG": "png", "TIFF": "tif", "WEBP": "webp", "BMP": "bmp", "HEIF": "heic", "MPO": "jpg"}


def start_analysis(state: AppState, params: dict, body: dict) -> dict[str, Any]:
    """``POST /api/visits/{visit_id}/analyze``: analyse the visit's pending photos on the analysis thread."""
    visit_id = int_param(params, "visit_id")
    with state.store() as store:
        store.get_visit(visit_id)
    job = Job(id=uuid.uuid4().hex, visit_id=visit_id)
    with state.lock:
        state.jobs[job.id] = job
    state.worker.submit(_run_job, state, job)
    return job.as_dict()


def _run_job(landmarker, state: AppState, job: Job) -> None:
    from lipsym.pipeline._analyze import analyze_item
    from lipsym.visits._analyzer import VisitAnalyzer

    analyzer = VisitAnalyzer(landmarker, state.worker.options)
    job.state = "running"
    try:
        with state.store() as store:
            pending = analyzer.pending(store, job.visit_id)
            job.total = len(pending)
            for item in pending:
                shown = names_of(state.config.photo_dir, [p for p in (item.rest, item.smile) if p])
                names = ", ".join(shown.values())
                try:
                    analyzer.check_photos(store, item)
                    result = analyze_item(item.item, landmarker, analyzer.options)
                    result.raise_error()
                    analysis, _ = analyzer.record(store, item, result.document(), result.specs(),
                                                  result.model_sha256)
                    job.analyses.append(analysis.id)
                    photos = {c: p for c, p in (("rest", item.rest), ("smile", item.smile)) if p is not None}
                    state.workspaces.put(fresh_workspace(analysis, photos, dict(zip(photos, result.analyses)),
                                                         analyzer.options))
                except LipsymError as exc:
                    reason = str(exc)
                    for p in (item.rest, item.smile):
                        if p is not None:
                            reason = reason.replace(p.path, shown[p.id])
                    job.failures.append({"photos": names, "reason": reason})
                job.done += 1
    except LipsymError as exc:
        job.failures.append({"photos": "", "reason": str(exc)})
    except Exception as exc:  # a bug: said on the page, never a job that silently stops
        job.failures.append({"photos": "", "reason": f"internal error ({type(exc).__name__}: {exc}); "
                                                     "please report it"})
        raise
    finally:
        job.state = "done"


def job_status(state: AppState, params: dict, body: dict) -> dict[str, Any]:
    with state.lock:
        job = state.jobs.get(params["job_id"])
    if job is None:
        from lipsym.errors import NotFoundError

        raise NotFoundError("no such job")
    return job.as_dict()


def photo_image(state: AppState, params: dict, body: dict) -> Response:
    """``GET /api/photos/{photo_id}/image``: the photo upright as JPEG, no metadata."""
    photo_id = int_param(params, "photo_id")
    with state.store() as store:
        photo = store.get_photo(photo_id)
    key = (photo.id, photo.sha256)
    with state.lock:
        data = state.images.get(key)
    if data is None:
        with state.store() as store:
            _check_one(store, photo)
        data = display_jpeg(photo.path)
        with state.lock:
            state.images[key] = data
            while len(state.images) > DISPLAY_CACHE_SIZE:
                state.images.popitem(last=False)
    return Response(data, media_type="image/jpeg")


def _check_one(store, photo) -> None:
    from lipsym.errors import ConflictError, PhotoNotFoundError

    status = store.verify_photo(photo)
    if status.state == "missing":
        raise PhotoNotFoundError(f"photo {photo.id}: the recorded file is missing")
    if status.state != "ok":
        raise ConflictError(f"photo {photo.id}: the file changed since it was recorded")


def display_jpeg(path: str) -> bytes:
    """The photo as the analysis saw it (upright, EXIF orientation applied), JPEG without metadata."""
    import cv2

    from lipsym.io._photo import load_photo

    rgb = load_photo(path).rgb
    h, w = rgb.shape[:2]
    if max(h, w) > DISPLAY_MAX_SIDE_PX:
        f = DISPLAY_MAX_SIDE_PX / max(h, w)
        rgb = cv2.resize(rgb, (round(w * f), round(h * f)), interpolation=cv2.INTER_AREA)
    ok, buf = cv2.imencode(".jpg", cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, 90])
    if not ok:
        raise BadRequest("the photo could not be encoded for display")
    return buf.tobytes()
