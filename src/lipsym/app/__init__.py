"""``lipsym serve``: a local web app over the visit record.

The app is a thin HTTP layer over the same library functions as the CLI
(:mod:`lipsym.visits`, :mod:`lipsym.report`, :mod:`lipsym.measures`); it holds
no measurement logic of its own. Its front end is static files shipped in
the wheel (``static/``): no CDN, no remote font, no build step. See
``docs/app.md``.

- :class:`AppConfig`: database, upload folder, host, port, limits;
- :func:`create_app`: the Starlette application (tests drive it in-process);
- :func:`serve`: run it with uvicorn on 127.0.0.1.
"""

from .._lazy import attach

__getattr__, __dir__, __all__ = attach(__name__, {
    "_config": ["AppConfig", "DEFAULT_PORT", "MAX_UPLOAD_BYTES"],
    "_server": ["create_app", "serve"],
})
