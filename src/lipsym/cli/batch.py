"""``lipsym batch``: a folder tree or manifest of photos → one JSON per item, results.csv, errors.csv."""

from __future__ import annotations

import contextlib
import json
import signal
import sys

from lipsym.batch._config import BatchConfig
from lipsym.batch._layout import item_json_path
from lipsym.batch._progress import Progress
from lipsym.batch._run import run_batch
from lipsym.io._collection import discover
from lipsym.errors import LipsymError
from lipsym.cli.common import add_analysis_options, add_force_option, add_worker_options, analysis_options, worker_count


def register(sub) -> None:
    p = sub.add_parser(
        "batch", help="analyse a folder tree or a manifest of photos, in parallel and resumably",
        description="Analyse every photo of INPUT: a folder (PATIENT/YYYY-MM-DD/rest.jpg + smile.jpg pair up; "
                    "other photos are analysed alone) or a manifest CSV with columns patient,date,expression,path. "
                    "Writes OUT/json/<item>.json (the lipsym analyze document), OUT/results.csv and "
                    "OUT/errors.csv. Rerunning reuses results whose photos and settings are unchanged. "
                    "See docs/batch.md.")
    p.add_argument("input", metavar="INPUT", help="folder of photos, or manifest .csv")
    p.add_argument("-o", "--output", required=True, metavar="OUT", help="output folder (created if needed)")
    p.add_argument("--scheduler", metavar="ADDRESS",
                   help="run on a dask.distributed cluster (e.g. tcp://host:8786); OUT must be shared with its workers")
    p.add_argument("--scheduler-timeout", type=float, default=30.0, metavar="S",
                   help="seconds to try reaching the scheduler (default %(default)s)")
    p.add_argument("--db", metavar="PATH", help="also record patients, visits, photos and analyses in this visit store")
    add_worker_options(p)
    p.add_argument("--progress-every", type=float, default=10.0, metavar="S",
                   help="seconds between progress lines when stderr is not a terminal (default %(default)s)")
    add_analysis_options(p)
    add_force_option(p, help="accept implausible values, and an OUT holding another INPUT's results (other "
                             "photos' results are then kept under names with their hashes, never replaced)")
    p.add_argument("--share", action="store_true",
                   help="outputs follow the umask (e.g. 0644) instead of being private to you (0600 files, "
                        "0700 folders); also LIPSYM_SHARE_OUTPUTS=1")
    p.set_defaults(run=run)


def run(args) -> int:
    jobs = worker_count(args)
    config = BatchConfig(args.output, analysis_options(args), share=True if args.share else None,
                         single_photo_descriptors=args.db is not None)
    collection = discover(args.input)
    progress = Progress(len(collection.items), quiet=args.quiet, interval_s=args.progress_every)
    for problem in collection.problems:
        progress.message(f"lipsym: {problem.reason}")
    with contextlib.ExitStack() as stack:
        recorder = None
        if args.db is not None:
            from lipsym.batch._record import StoreRecorder  # the store only when asked: it delays the workers' start
            from lipsym.visits.store import Store

            recorder = StoreRecorder(stack.enter_context(Store.open(args.db)), collection)
        report, store_failures = _run(args, collection, config, jobs, progress, recorder)
    tables = report.tables
    if not args.quiet:
        print(f"lipsym batch: {len(collection.items)} items: {len(report.computed)} analysed, "
              f"{len(report.reused)} reused, {tables.n_errors} errors; "
              f"{tables.results_csv}, {tables.errors_csv}", file=sys.stderr)
    return 1 if tables.n_errors or store_failures else 0


def _run(args, collection, config, jobs, progress, recorder):
    """Run the batch, reporting each outcome as it arrives; (report, items the store refused)."""
    by_name = {item.name: item for item in collection.items}
    store_failures = 0

    def on_outcome(outcome) -> None:
        nonlocal store_failures
        for _, reason in outcome.errors:
            progress.message(f"lipsym: {reason}")
        if recorder is not None and outcome.saved:
            try:
                doc = json.loads(item_json_path(args.output, outcome.name).read_text(encoding="utf-8"))
                recorder.record(by_name[outcome.name], doc)
            except (LipsymError, OSError, ValueError) as exc:
                store_failures += 1
                progress.message(f"lipsym: {outcome.name}: not recorded in the store: {exc}")
        progress.update(computed=outcome.computed, ok=outcome.ok, saved=outcome.saved)

    previous_term = signal.signal(signal.SIGTERM, _interrupt)
    try:
        report = run_batch(collection, config, jobs=jobs, scheduler=args.scheduler,
                           scheduler_timeout_s=args.scheduler_timeout, on_outcome=on_outcome,
                           other_source=args.force)
    finally:
        signal.signal(signal.SIGTERM, previous_term)
        progress.finish()
    return report, store_failures


def _interrupt(signum, frame):
    # SIGTERM (a scheduler's kill, `kill PID`) ends the run like Ctrl-C: tables rebuilt, exit 130.
    raise KeyboardInterrupt
