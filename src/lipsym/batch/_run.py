"""Run a whole batch: lock the output folder, analyse, rebuild the tables whatever happens."""

from __future__ import annotations

import contextlib
import dataclasses
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from lipsym.io._collection import Collection
from lipsym.io._outputs import make_output_dir, output_file_mode, write_atomic
from lipsym.errors import ConflictError, OutputError
from lipsym.batch._config import BatchConfig
from lipsym.batch._layout import LOCK_FILE, SOURCE_FILE, read_source, remove_stale_temporaries, source_text
from lipsym.batch._tables import Tables, rebuild_tables
from lipsym.batch._outcome import Outcome


@dataclass(frozen=True)
class BatchReport:
    """What a run did.

    Attributes
    ----------
    outcomes : tuple of Outcome
        This run's outcomes, in completion order (fewer than the items when
        interrupted), without their rows (results.csv has them).
    tables : Tables
        The rebuilt results.csv and errors.csv.
    """

    outcomes: tuple[Outcome, ...]
    tables: Tables

    @property
    def computed(self) -> set[str]:
        """Names of the items analysed (or failed) in this run."""
        return {o.name for o in self.outcomes if o.computed}

    @property
    def reused(self) -> set[str]:
        """Names of the items whose earlier result was reused."""
        return {o.name for o in self.outcomes if not o.computed and o.saved}

    @property
    def failed(self) -> set[str]:
        """Names of the items with an error."""
        return {o.name for o in self.outcomes if not o.ok}


def run_batch(collection: Collection, config: BatchConfig, *, jobs: int = 1, scheduler: str | None = None,
              scheduler_timeout_s: float = 30.0, on_outcome: Callable[[Outcome], None] | None = None,
              other_source: bool = False) -> BatchReport:
    """Analyse a collection into ``config.output_dir``; resumable, safe to interrupt.

    Items whose JSON already holds a result with the same identity are
    reused; the others are analysed and their JSON written atomically by the
    worker. results.csv and errors.csv are rebuilt from the JSON files at the
    end, also when the run is interrupted (KeyboardInterrupt propagates
    after the rebuild).

    Parameters
    ----------
    collection : Collection
    config : BatchConfig
    jobs : int
        Worker processes on this machine (1: in this process).
    scheduler : str, optional
        A dask scheduler address; ``jobs`` is then ignored.
    scheduler_timeout_s : float
        How long to try reaching the scheduler.
    on_outcome : callable, optional
        Called in this process with each outcome as it arrives.
    other_source : bool
        Accept an output folder that holds the results of another INPUT
        (``--force``); OUT then records this one. Results of other photos
        under the same item names are kept aside, never replaced.

    Raises
    ------
    ConflictError
        Another batch is writing to the same output folder, or it holds the
        results of another INPUT and ``other_source`` is False.
    OutputError
        The output folder cannot be created or written to.
    ModelError
        The model could not be loaded.
    """
    output_dir = Path(config.output_dir)
    if output_dir.exists() and not output_dir.is_dir():
        raise OutputError(f"{output_dir}: exists and is not a folder")
    make_output_dir(output_dir, share=config.share)
    outcomes: dict[str, Outcome] = {}
    with _exclusive(output_dir, config.share):
        _claim(output_dir, collection, config, other_source)
        remove_stale_temporaries(output_dir)
        try:
            if collection.items:
                for outcome in _executor(collection, config, jobs, scheduler, scheduler_timeout_s):
                    if on_outcome is not None:
                        on_outcome(outcome)
                    # Rows are read back from the JSON files at the end: holding
                    # every row (~300 columns per pair) would grow with the study.
                    outcomes[outcome.name] = dataclasses.replace(outcome, row=None)
        finally:
            tables = rebuild_tables(output_dir, collection, outcomes=outcomes, share=config.share)
    return BatchReport(tuple(outcomes.values()), tables)


def _claim(output_dir: Path, collection: Collection, config: BatchConfig, other_source: bool) -> None:
    """Record INPUT in ``OUT/source.json``; refuse an OUT holding another INPUT's results unless asked.

    Item names are relative to INPUT, so two INPUTs can have items of the
    same name: a batch of B into A's folder would otherwise present B's
    tables next to A's results as if they were one study.
    """
    current = str(Path(collection.source).resolve())
    recorded = read_source(output_dir)
    if recorded == current:
        return
    if recorded is not None and not other_source:
        raise ConflictError(f"{output_dir}: holds the results of {recorded}, not of {current}; choose another "
                            "output folder, or use --force to add these (results of other photos under the "
                            "same names are kept, renamed with their photos' hashes)")
    write_atomic(output_dir / SOURCE_FILE, source_text(current), overwrite=True, share=config.share)


def _executor(collection: Collection, config: BatchConfig, jobs: int, scheduler: str | None,
              timeout_s: float) -> Iterator[Outcome]:
    if scheduler:
        from lipsym.batch._dask_runner import run_dask

        return run_dask(collection.items, config, scheduler=scheduler, connect_timeout_s=timeout_s)
    from lipsym.batch._local import run_local

    return run_local(collection.items, config, jobs=jobs)


@contextlib.contextmanager
def _exclusive(output_dir: Path, share: bool):
    """Hold ``OUT/.lock`` so that two batches never write the same tables at once."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows: no advisory locks, run one batch per folder
        yield
        return
    try:
        fd = os.open(output_dir / LOCK_FILE, os.O_RDWR | os.O_CREAT, output_file_mode(share))
    except OSError as exc:  # a read-only folder: one line, before any work
        raise OutputError(f"{output_dir}: cannot write to this folder ({exc.strerror or exc})") from None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise ConflictError(f"{output_dir}: another lipsym batch is writing to this folder") from None
        yield
    finally:
        os.close(fd)
