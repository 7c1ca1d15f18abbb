"""What became of one batch item: the record a worker sends back to the parent.

Kept apart from :mod:`lipsym.batch` so that the parent process, which
only collects outcomes, does not import the analysis (OpenCV, MediaPipe,
the measures) before its workers start.
"""

from __future__ import annotations

import os
import resource
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Outcome:
    """What became of one item.

    Attributes
    ----------
    name : str
        ``Item.name``.
    ok : bool
        The item was analysed (its row is in ``row``).
    computed : bool
        Analysed (or failed) in this run; False when an earlier run's output
        with the same identity was reused, or nothing could be done.
    identity : str or None
        The result identity (None when a photo could not even be read).
    row : dict or None
        The ``results.csv`` row (``table.photo_columns`` / ``pair_columns``).
    errors : tuple of (file, reason)
        One-line reasons; empty when ``ok``.
    saved : bool
        The outcome is recorded in the item's JSON (so a rerun reuses it). A
        photo that could not be read, or a worker that died, is not saved:
        a rerun tries again.
    elapsed_s : float
        Wall time spent on the item in the worker.
    worker_pid : int
    peak_rss_mb : float
        The worker process's peak resident memory so far, MiB.
    """

    name: str
    ok: bool
    computed: bool
    identity: str | None
    row: dict[str, Any] | None
    errors: tuple[tuple[str, str], ...]
    saved: bool
    elapsed_s: float = 0.0
    worker_pid: int = 0
    peak_rss_mb: float = 0.0


def peak_rss_mb() -> float:
    """This process's peak resident set size, MiB (Linux reports KiB, macOS bytes)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024.0 * 1024.0) if os.uname().sysname == "Darwin" else peak / 1024.0


def failed_outcome(name: str, file: str, reason: str) -> Outcome:
    """An outcome for an item nothing could be done for (not saved: a rerun retries it)."""
    return Outcome(name=name, ok=False, computed=False, identity=None, row=None, errors=((file, reason),),
                   saved=False, worker_pid=os.getpid(), peak_rss_mb=peak_rss_mb())
