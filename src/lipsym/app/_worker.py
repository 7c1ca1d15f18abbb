"""One background thread that runs every slow job (analysis, report, comparison image).

MediaPipe's landmarker is built once, lazily, and used only from this thread;
on a 2-core machine a second analysis thread would only slow the first.
Requests that need a slow result wait on its future in Starlette's thread
pool, so the event loop keeps answering (progress polls, the page).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, TypeVar

from lipsym.analysis._options import AnalysisOptions

T = TypeVar("T")


class Worker:
    """The app's analysis thread and its landmarker.

    Parameters
    ----------
    options : AnalysisOptions
        The analysis settings the app records analyses under (the CLI's defaults).
    """

    def __init__(self, options: AnalysisOptions = AnalysisOptions()):
        self.options = options
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="lipsym-analysis")
        self._landmarker = None
        self._lock = threading.Lock()

    def submit(self, fn: Callable[..., T], *args: Any) -> Future[T]:
        """Run ``fn(landmarker, *args)`` on the analysis thread."""
        return self._executor.submit(lambda: fn(self._get_landmarker(), *args))

    def _get_landmarker(self):
        with self._lock:
            if self._landmarker is None:
                from lipsym.landmarks._detector import Landmarker

                self._landmarker = Landmarker(self.options.landmarker)
            return self._landmarker

    def close(self) -> None:
        """Finish queued work and release the landmarker."""
        self._executor.shutdown(wait=True, cancel_futures=True)
        if self._landmarker is not None:
            self._landmarker.close()
            self._landmarker = None
