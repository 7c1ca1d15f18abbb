"""Request checks every route passes: DNS rebinding, cross-site requests, CSRF, headers.

A local web app is reachable by any page the user's browser opens, so:

- the ``Host`` header must name this machine (``127.0.0.1``, ``localhost``,
  ``[::1]`` or the bind address): a DNS-rebinding page reaches 127.0.0.1
  under its own host name and is refused;
- a request carrying ``Origin`` (or ``Sec-Fetch-Site: cross-site``) from
  another origin is refused;
- every state-changing request (POST, PUT, PATCH, DELETE) carries the
  session's secret in ``X-Lipsym-Token``. The secret is made at start-up and
  written only into the app's own page, which another origin cannot read;
  a custom header also cannot be sent cross-site without a CORS preflight,
  which the app never grants;
- responses forbid framing, sniffing and loading anything from elsewhere
  (Content-Security-Policy ``default-src 'self'``).
"""

from __future__ import annotations

import hmac
import json
from urllib.parse import urlsplit

TOKEN_HEADER = "x-lipsym-token"
_UNSAFE = frozenset({"POST", "PUT", "PATCH", "DELETE"})
_CSP = ("default-src 'self'; img-src 'self' blob: data:; style-src 'self'; script-src 'self'; "
        "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "
        "frame-ancestors 'none'")
_HEADERS = [(b"content-security-policy", _CSP.encode()), (b"x-content-type-options", b"nosniff"),
            (b"x-frame-options", b"DENY"), (b"referrer-policy", b"no-referrer"),
            (b"cross-origin-opener-policy", b"same-origin"), (b"cross-origin-resource-policy", b"same-origin"),
            (b"cache-control", b"no-store")]


def host_name(value: str) -> str:
    """The host part of a ``Host`` header (``[::1]:8765`` → ``[::1]``, ``localhost:80`` → ``localhost``)."""
    value = value.strip().lower()
    if value.startswith("["):
        return value[: value.find("]") + 1] if "]" in value else value
    return value.rsplit(":", 1)[0] if value.count(":") == 1 else value


def refusal(scope_headers: dict[bytes, bytes], method: str, allowed_hosts: frozenset[str], token: str) -> str | None:
    """Why a request must be refused, or None.

    Parameters
    ----------
    scope_headers : dict of bytes to bytes
        Lower-case header names → values.
    method : str
    allowed_hosts : frozenset of str
        Lower-case host names without port.
    token : str
        The session secret state-changing requests must carry.
    """
    host = scope_headers.get(b"host", b"").decode("latin-1")
    if host_name(host) not in allowed_hosts:
        return f"host {host!r} is not this machine (DNS rebinding?)"
    origin = scope_headers.get(b"origin", b"").decode("latin-1")
    if origin and origin != "null":
        parts = urlsplit(origin)
        if parts.scheme not in ("http", "https") or host_name(parts.netloc) not in allowed_hosts \
                or parts.netloc.lower() != host.lower():
            return f"cross-origin request from {origin!r}"
    elif origin == "null":
        return "request from an opaque origin"
    if scope_headers.get(b"sec-fetch-site", b"") == b"cross-site":
        return "cross-site request"
    if method in _UNSAFE:
        sent = scope_headers.get(TOKEN_HEADER.encode(), b"").decode("latin-1")
        if not hmac.compare_digest(sent.encode(), token.encode()):
            return "missing or wrong session token (reload the page)"
    return None


class SecurityMiddleware:
    """ASGI middleware applying :func:`refusal` and the security headers to every HTTP request."""

    def __init__(self, app, *, allowed_hosts: frozenset[str], token: str):
        self.app = app
        self.allowed_hosts = frozenset(h.lower() for h in allowed_hosts)
        self.token = token

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        headers = dict(scope.get("headers") or [])
        reason = refusal(headers, scope["method"], self.allowed_hosts, self.token)
        if reason is not None:
            body = json.dumps({"error": reason}).encode()
            await send({"type": "http.response.start", "status": 403,
                        "headers": [(b"content-type", b"application/json"),
                                    (b"content-length", str(len(body)).encode()), *_HEADERS]})
            await send({"type": "http.response.body", "body": body})
            return

        async def send_with_headers(message):
            if message["type"] == "http.response.start":
                names = {k.lower() for k, _ in message.get("headers", [])}
                message = {**message, "headers": [*message.get("headers", []),
                                                  *[(k, v) for k, v in _HEADERS if k not in names]]}
            await send(message)

        await self.app(scope, receive, send_with_headers)
