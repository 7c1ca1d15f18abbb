"""Run items on this machine: in-process (one job) or in worker processes.

Why not ``multiprocessing.Pool.imap_unordered``: a Pool whose worker is
killed (SIGKILL, out-of-memory killer) silently loses the task and the
iterator then waits forever. ``concurrent.futures`` notices the death but
breaks every pending future, so the photo that killed the worker cannot be
told from the innocent ones queued behind it. This small pool keeps, for each
worker, the items sent to it in order; a dead worker's first unanswered item
is the one it was working on. That item is retried once in a fresh worker,
then reported; the others are simply sent again.

Each worker is started with the ``spawn`` method (MediaPipe is not fork-safe
once a landmarker exists) and builds ONE :class:`~lipsym.landmarks.Landmarker`
that it keeps for all its items. The parent never builds one when
``jobs > 1``. Results come back in completion order. Workers ignore Ctrl-C
(the parent decides) and exit when the parent goes away.

This module imports nothing heavy at top level: spawned workers import it
first and ignore SIGINT before loading MediaPipe.
"""

from __future__ import annotations

import collections
import multiprocessing
import multiprocessing.connection
import os
import signal
import threading
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from lipsym.errors import LipsymError

if TYPE_CHECKING:  # pragma: no cover
    from lipsym.io._collection import Item
    from lipsym.batch._config import BatchConfig
    from lipsym.batch._outcome import Outcome

#: Items queued in each worker beyond the one it works on, so it never waits
#: for the parent between items.
PREFETCH = 1
#: How many times an item is tried when its worker dies under it.
ATTEMPTS = 2
#: Seconds workers get to exit by themselves when the run ends.
STOP_GRACE_S = 1.0


class WorkerStartError(LipsymError):
    """Worker processes die before analysing anything (see the message for why)."""


def default_jobs() -> int:
    """The CPUs this process may run on."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


def run_local(items: Iterable["Item"], config: "BatchConfig", *, jobs: int = 1) -> Iterator["Outcome"]:
    """Analyse items, yielding each :class:`~lipsym.batch.Outcome` as it completes.

    Parameters
    ----------
    items : iterable of Item
    config : BatchConfig
    jobs : int
        1 runs in this process; more starts that many worker processes.

    Raises
    ------
    ModelError and other LipsymError
        A worker could not build its landmarker (raised in the parent).
    WorkerStartError
        Workers keep dying without finishing any item.

    Notes
    -----
    Closing the generator (or an exception such as KeyboardInterrupt while
    it runs) stops the workers; items they had finished are already written.
    """
    if jobs <= 1:
        yield from _run_in_process(items, config)
    else:
        yield from _Pool(config, jobs).run(list(items))


def _run_in_process(items: Iterable["Item"], config: "BatchConfig") -> Iterator["Outcome"]:
    from lipsym.landmarks._detector import Landmarker
    from lipsym.batch._work import process_item, safely

    with Landmarker(config.analysis.landmarker) as landmarker:
        for item in items:
            yield safely(process_item, item, config, landmarker)


def _worker_main(conn: multiprocessing.connection.Connection, config: "BatchConfig") -> None:
    """A worker's life: build one landmarker, then analyse what arrives until told to stop."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        from lipsym.landmarks._detector import Landmarker
        from lipsym.batch._work import process_item, safely

        landmarker = Landmarker(config.analysis.landmarker)
    except LipsymError as exc:
        _send(conn, ("fatal", exc))
        return
    except Exception as exc:  # noqa: BLE001 - reported as one line by the parent, not as a worker traceback
        _send(conn, ("fatal", WorkerStartError(f"a batch worker could not start: {type(exc).__name__}: "
                                               f"{' '.join(str(exc).split())}")))
        return
    if not _send(conn, ("ready",)):
        return
    while True:
        try:
            message = conn.recv()
        except (EOFError, OSError):  # the parent is gone
            return
        if message is None:
            return
        index, item = message
        if not _send(conn, ("done", index, safely(process_item, item, config, landmarker))):
            return


def _send(conn, message) -> bool:
    try:
        conn.send(message)
        return True
    except (OSError, EOFError):  # the parent is gone: nothing to report to
        return False


@dataclass
class _Worker:
    process: Any
    conn: multiprocessing.connection.Connection
    assigned: collections.deque = field(default_factory=collections.deque)  # item indices, in sending order
    ready: bool = False  # its landmarker is built: a death from now on is blamed on its item


class _Pool:
    def __init__(self, config: "BatchConfig", jobs: int):
        self.config = config
        self.jobs = jobs
        self.context = multiprocessing.get_context("spawn")
        self.workers: list[_Worker] = []
        self.failed_starts = 0

    def _start_worker(self) -> _Worker:
        parent_end, child_end = self.context.Pipe(duplex=True)
        process = self.context.Process(target=_worker_main, args=(child_end, self.config),
                                       name="lipsym-batch-worker", daemon=True)
        # A child that ignores SIGINT from birth cannot die of Ctrl-C while
        # still importing (Python keeps an inherited SIG_IGN). Only the main
        # thread may change signal handlers.
        in_main_thread = threading.current_thread() is threading.main_thread()
        previous = signal.signal(signal.SIGINT, signal.SIG_IGN) if in_main_thread else None
        try:
            process.start()
        finally:
            if in_main_thread:
                signal.signal(signal.SIGINT, previous)
        child_end.close()
        worker = _Worker(process, parent_end)
        self.workers.append(worker)
        return worker

    def run(self, items: list["Item"]) -> Iterator["Outcome"]:
        pending = collections.deque(range(len(items)))
        attempts = collections.Counter()
        try:
            for _ in range(min(self.jobs, len(items))):
                self._start_worker()
            while pending or any(w.assigned for w in self.workers):
                for worker in self.workers:
                    while pending and len(worker.assigned) <= PREFETCH:
                        index = pending.popleft()
                        if not _send(worker.conn, (index, items[index])):
                            pending.appendleft(index)
                            break
                        worker.assigned.append(index)
                waitables = [w.conn for w in self.workers] + [w.process.sentinel for w in self.workers]
                ready = set(multiprocessing.connection.wait(waitables))
                for worker in list(self.workers):
                    if worker.conn in ready:
                        outcome = self._receive(worker)
                        if outcome is not None:
                            yield outcome
                    if worker.process.sentinel in ready or not worker.process.is_alive():
                        yield from self._drain(worker)
                        dead = self._bury(worker)
                        requeue = list(worker.assigned)
                        if dead is not None:
                            attempts[dead] += 1
                            if attempts[dead] >= ATTEMPTS:
                                requeue.remove(dead)
                                yield self._given_up(items[dead], worker.process)
                        pending.extendleft(reversed(requeue))
                        if pending or any(w.assigned for w in self.workers):
                            self._start_worker()
        finally:
            self._stop()

    def _receive(self, worker: _Worker) -> "Outcome | None":
        """Handle the worker's next message; return its outcome if it was one."""
        try:
            message = worker.conn.recv()
        except (EOFError, OSError):  # it died; its sentinel says so next
            return None
        return self._handle(worker, message)

    def _drain(self, worker: _Worker) -> Iterator["Outcome"]:
        """Results a dead worker sent before it died."""
        while True:
            try:
                if not worker.conn.poll():
                    return
                message = worker.conn.recv()
            except (EOFError, OSError):
                return
            outcome = self._handle(worker, message)
            if outcome is not None:
                yield outcome

    @staticmethod
    def _handle(worker: _Worker, message) -> "Outcome | None":
        if message[0] == "fatal":
            raise message[1]
        if message[0] == "ready":
            worker.ready = True
            return None
        _, index, outcome = message
        worker.assigned.remove(index)
        return outcome

    def _bury(self, worker: _Worker) -> int | None:
        """Forget a dead worker; return the item it died on (None if it died starting up).

        Raises
        ------
        WorkerStartError
            Workers keep dying before their landmarker is built (a broken
            installation): no item is to blame, so none is charged.
        """
        worker.process.join(timeout=5)
        worker.conn.close()
        self.workers.remove(worker)
        if not worker.ready:
            self.failed_starts += 1
            if self.failed_starts > self.jobs + 2:
                raise WorkerStartError(f"lipsym batch worker processes die while starting "
                                       f"({_how_it_died(worker.process)}); try --jobs 1 to see why")
            return None
        return worker.assigned[0] if worker.assigned else None

    @staticmethod
    def _given_up(item: "Item", process) -> "Outcome":
        from lipsym.batch._outcome import failed_outcome

        files = " + ".join(str(p) for _, p in item.photos)
        return failed_outcome(item.name, files, f"{files}: the worker process died while analysing it "
                                                f"({_how_it_died(process)}), {ATTEMPTS} times")

    def _stop(self) -> None:
        """Ask workers to exit; stop the ones that do not within a second.

        Every finished item is already on disk, so a worker still starting up
        (or busy after an interrupt) loses nothing that was reported.
        """
        for worker in self.workers:
            _send(worker.conn, None)
        deadline = time.monotonic() + STOP_GRACE_S
        for worker in self.workers:
            worker.process.join(timeout=max(0.0, deadline - time.monotonic()))
            if worker.process.is_alive():
                worker.process.terminate()
                worker.process.join(timeout=5)
            worker.conn.close()
        self.workers = []


def _how_it_died(process) -> str:
    code = process.exitcode
    if code is not None and code < 0:
        try:
            return f"killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"killed by signal {-code}"
    return f"exit status {code}"
