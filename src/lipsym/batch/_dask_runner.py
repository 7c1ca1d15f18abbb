"""Run items on a dask.distributed cluster (``lipsym batch --scheduler ADDRESS``).

The same :func:`~lipsym.batch.process_item` runs in each dask worker
process, with ONE landmarker per process, built on its first item and
cached at module level (MediaPipe graphs are not shared between threads:
the landmarker serialises its calls, so give workers one thread each,
``--nthreads 1``). Workers write the JSON files themselves, so the output
folder must be on a filesystem every worker and the client share.

dask is an optional dependency (``pip install 'lipsym[dask]'``), imported
only here and only when a scheduler is given.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING

from lipsym.errors import ConfigurationError, LipsymError

if TYPE_CHECKING:  # pragma: no cover
    from lipsym.io._collection import Item
    from lipsym.landmarks._detector import Landmarker, LandmarkerOptions
    from lipsym.batch._config import BatchConfig
    from lipsym.batch._outcome import Outcome

#: Tasks kept submitted per worker thread: enough to keep workers busy,
#: few enough that the scheduler does not hold a whole study at once.
TASKS_PER_THREAD = 4

_landmarkers: dict["LandmarkerOptions", "Landmarker"] = {}
_landmarkers_lock = threading.Lock()


class DaskUnavailableError(ConfigurationError):
    """``--scheduler`` was given but dask.distributed is not installed, or the scheduler is unreachable."""


def worker_landmarker(options: "LandmarkerOptions") -> "Landmarker":
    """This process's landmarker for ``options``, built on first use and then reused."""
    with _landmarkers_lock:
        landmarker = _landmarkers.get(options)
        if landmarker is None:
            from lipsym.landmarks._detector import Landmarker

            landmarker = _landmarkers[options] = Landmarker(options)
        return landmarker


def analyse_on_worker(item: "Item", config: "BatchConfig") -> "Outcome":
    """The dask task: one item, with this worker process's cached landmarker."""
    from lipsym.batch._work import process_item, safely

    return safely(process_item, item, config, worker_landmarker(config.analysis.landmarker))


def run_dask(items: Iterable["Item"], config: "BatchConfig", *, scheduler: str,
             connect_timeout_s: float = 30.0) -> Iterator["Outcome"]:
    """Analyse items on the cluster at ``scheduler``, yielding outcomes as they complete.

    Parameters
    ----------
    items : iterable of Item
    config : BatchConfig
        ``output_dir`` must be the same path on every worker.
    scheduler : str
        Address of a running dask scheduler, e.g. ``tcp://10.0.0.5:8786``.
    connect_timeout_s : float

    Raises
    ------
    DaskUnavailableError
        dask.distributed is not installed or the scheduler cannot be reached.
    ModelError
        A worker could not build its landmarker.
    """
    try:
        from distributed import Client, as_completed
    except ImportError:
        raise DaskUnavailableError("--scheduler needs dask.distributed: pip install 'lipsym[dask]'") from None
    try:
        client = Client(scheduler, timeout=connect_timeout_s, set_as_default=False)
    except Exception as exc:  # noqa: BLE001 - distributed raises OSError, TimeoutError, ValueError...
        reason = " ".join(str(exc).split()) or type(exc).__name__
        raise DaskUnavailableError(f"cannot reach the dask scheduler at {scheduler}: {reason}") from None
    from lipsym.batch._outcome import failed_outcome

    try:
        threads = max(1, sum(client.nthreads().values()))
        queue = iter(list(items))
        running = as_completed(loop=client.loop)
        submitted = {}

        def submit_next() -> bool:
            item = next(queue, None)
            if item is None:
                return False
            # pure=False: a rerun must run again (the output may have been deleted).
            future = client.submit(analyse_on_worker, item, config, pure=False, key=f"lipsym-item-{uuid.uuid4().hex}")
            submitted[future.key] = item
            running.add(future)
            return True

        for _ in range(TASKS_PER_THREAD * threads):
            if not submit_next():
                break
        for future in running:
            item = submitted.pop(future.key)
            try:
                yield future.result()
            except LipsymError:
                raise
            except Exception as exc:  # noqa: BLE001 - a lost worker (KilledWorker) fails the item only
                files = " + ".join(str(p) for _, p in item.photos)
                yield failed_outcome(item.name, files, f"{files}: dask task failed ({type(exc).__name__}: "
                                                       f"{' '.join(str(exc).split())})")
            finally:
                future.release()
            submit_next()
    finally:
        client.close()
