"""One landmarker per process for callers that do not manage their own."""

from __future__ import annotations

import functools

from lipsym.landmarks._detector import Landmarker


@functools.lru_cache(maxsize=1)
def default_landmarker() -> Landmarker:
    """The process's shared :class:`Landmarker` with default options.

    Loading the model takes about a second; library functions that take an
    optional ``landmarker`` use this one when none is given, so a script's
    second photo does not pay for it again. It lives until the process ends.
    """
    return Landmarker()
