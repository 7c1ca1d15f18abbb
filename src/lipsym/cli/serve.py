"""``lipsym serve``: the local web app over the visit record (docs/app.md)."""

from __future__ import annotations

from lipsym.errors import ConfigurationError
from lipsym.cli.store_common import add_db_option


def register(sub) -> None:
    from lipsym.app._config import DEFAULT_PORT

    p = sub.add_parser("serve", help="start the local web app (patients, visits, photos, landmark correction)",
                       description="Start the local web app over the visit record: patients, visits and treatments, "
                                   "photo upload, the overlay and measures, manual landmark correction, before/after "
                                   "and reports. It binds 127.0.0.1 (this machine only) and makes no request off it.")
    add_db_option(p)
    p.add_argument("--host", default="127.0.0.1", help="address to bind (default %(default)s: this machine only)")
    p.add_argument("--port", type=int, default=DEFAULT_PORT, metavar="N", help="TCP port (default %(default)s)")
    p.add_argument("--open", action="store_true", help="open the app in the default web browser")
    p.set_defaults(run=run)


def run(args) -> int:
    from lipsym.app._config import AppConfig
    from lipsym.visits.store import resolve_db_path

    if not 0 < args.port < 65536:
        raise ConfigurationError(f"--port must be between 1 and 65535, got {args.port}")
    try:
        from lipsym.app._server import serve
    except ImportError as exc:  # the app's server packages are missing
        raise ConfigurationError(f"the web app needs its packages: pip install 'lipsym[app]' ({exc})") from None
    serve(AppConfig.for_database(resolve_db_path(args.db), host=args.host, port=args.port), open_browser=args.open)
    return 0
