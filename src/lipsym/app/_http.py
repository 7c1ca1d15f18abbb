"""How a sync handler becomes a Starlette endpoint: JSON in, JSON out, one-line errors."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from lipsym.errors import LipsymError
from lipsym.formats._envelope import plain
from lipsym.app._state import AppState, BadRequest, http_status

#: Largest JSON body accepted (forms and corrections are a few kB).
MAX_JSON_BYTES = 1024 * 1024


def error_response(status: int, message: str) -> JSONResponse:
    """``{"error": "one line"}``: what the page shows next to the form or file."""
    return JSONResponse({"error": message.splitlines()[0] if message else "error"}, status_code=status)


async def json_body(request: Request) -> dict[str, Any]:
    """The request's JSON object (empty for no body); refuses more than :data:`MAX_JSON_BYTES`."""
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_JSON_BYTES:
            raise BadRequest("request body too large")
        chunks.append(chunk)
    raw = b"".join(chunks)
    if not raw:
        return {}
    try:
        body = json.loads(raw)
    except ValueError:
        raise BadRequest("request body is not JSON") from None
    if not isinstance(body, dict):
        raise BadRequest("request body must be a JSON object")
    return body


def api(state: AppState, handler: Callable[..., Any], *, status: int = 200) -> Callable:
    """An endpoint running ``handler(state, params, body)`` in the thread pool.

    ``params`` are the path parameters merged with the query string; ``body``
    is the JSON object sent (POST/PUT/PATCH). The handler returns a plain
    JSON-able value or a :class:`Response`; a :class:`LipsymError` becomes
    its one-line message with the matching status (404 not found, 409
    conflict, 422 unusable photo, 400 otherwise).
    """
    async def endpoint(request: Request) -> Response:
        try:
            body = await json_body(request) if request.method in ("POST", "PUT", "PATCH") else {}
            params = {**request.query_params, **request.path_params}
            result = await run_in_threadpool(handler, state, params, body)
        except LipsymError as exc:
            return error_response(http_status(exc), str(exc))
        if isinstance(result, Response):
            return result
        return JSONResponse(plain(result), status_code=status)

    return endpoint


def int_param(params: dict[str, Any], name: str) -> int:
    """A path or query parameter that must be a whole number."""
    try:
        return int(params[name])
    except (KeyError, ValueError):
        raise BadRequest(f"{name} must be a whole number") from None
