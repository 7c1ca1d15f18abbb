"""Analyse one item and write its JSON: the unit of work every executor runs.

Called in a worker process (local pool or dask) with that process's one
:class:`~lipsym.landmarks.Landmarker`. The JSON is written here, atomically,
before anything is reported back, so a completed result survives a parent
that is interrupted or killed.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import time
from typing import Any

from lipsym.batch._config import BatchConfig
from lipsym.batch._identity import result_identity
from lipsym.batch._layout import aside_path, item_json_path, read_batch_section
from lipsym.batch._outcome import Outcome, failed_outcome, peak_rss_mb
from lipsym.errors import LipsymError
from lipsym.io._collection import Item
from lipsym.io._photo import read_photo_bytes
from lipsym.io._outputs import write_atomic
from lipsym.landmarks._detector import Landmarker
from lipsym.pipeline._analyze import analyze_item
from lipsym.pipeline._item import ItemSpec


def process_item(item: Item, config: BatchConfig, landmarker: Landmarker) -> Outcome:
    """Analyse an item unless a matching result exists; write its JSON.

    Parameters
    ----------
    item : Item
    config : BatchConfig
    landmarker : Landmarker
        This process's landmarker (its model digest is part of the identity).

    Returns
    -------
    Outcome
        Never raises for a bad photo: every :class:`LipsymError` becomes an
        error outcome with a one-line reason.
    """
    start = time.perf_counter()
    try:
        # Read once: the bytes hashed for the identity are the bytes analysed.
        contents = [read_photo_bytes(path) for _, path in item.photos]
    except LipsymError as exc:
        return failed_outcome(item.name, _failed_file(item, exc), str(exc))
    digests = {expr: hashlib.sha256(data).hexdigest() for (expr, _), data in zip(item.photos, contents)}
    options = config.item_options(len(item.photos))
    identity = result_identity(digests, options.identity(), landmarker.model_sha256)
    target = item_json_path(config.output_dir, item.name)
    previous = read_batch_section(target)
    if previous is not None and previous["identity"] == identity:
        return _outcome(item, identity, previous, computed=False, start=start)
    result = analyze_item(ItemSpec(item.photos), landmarker, options, data=contents)
    doc = result.document()
    # Batch documents have always listed the settings by name (sorted).
    doc["settings"] = dict(sorted(doc["settings"].items()))
    doc["batch"] = {
        "item": item.name,
        "identity": identity,
        "patient": item.patient,
        "visit_date": None if item.visit_date is None else item.visit_date.isoformat(),
        "photo_sha256": digests,
        "csv_row": _json_row(result.csv_row) if result.ok else None,
        "errors": [{"file": e.file, "reason": e.reason} for e in result.errors],
    }
    _keep_other_photos_result(target, previous, digests)
    # Compact: json's C encoder is used only without indent (~5 ms per item saved).
    # Not fsynced (~1.5 ms an item): a result a power failure cuts short does
    # not parse, and the rerun recomputes it (layout.read_batch_section).
    write_atomic(target, json.dumps(doc, ensure_ascii=False, separators=(",", ":")) + "\n", overwrite=True,
                 durable=False, share=config.share)
    return _outcome(item, identity, doc["batch"], computed=True, start=start)


def _keep_other_photos_result(target, previous: dict[str, Any] | None, digests: dict[str, str]) -> None:
    """Move aside a result recorded for other photos, so that the new one never silently replaces it.

    Same photos with other settings (or another model, or lipsym version)
    are the same input analysed anew: that result is superseded and
    replaced. Other photo content under the same name (the photo was
    changed, or the folder now holds another source's results) is another
    input: its result is kept as ``<name>.<its photo hashes>.json``.
    """
    recorded = previous.get("photo_sha256") if previous is not None else None
    if isinstance(recorded, dict) and recorded and recorded != digests:
        os.replace(target, aside_path(target, recorded))


def _json_row(row: dict[str, Any]) -> dict[str, Any]:
    """A CSV row that survives JSON: non-finite floats kept as the text ``table.to_csv`` writes."""
    return {k: (f"{v:.10g}" if isinstance(v, float) and not math.isfinite(v) else v) for k, v in row.items()}


def _outcome(item: Item, identity: str, section: dict[str, Any], *, computed: bool, start: float) -> Outcome:
    errors = tuple((e["file"], e["reason"]) for e in section.get("errors") or ())
    row = section.get("csv_row")
    return Outcome(name=item.name, ok=row is not None and not errors, computed=computed, identity=identity,
                   row=row, errors=errors, saved=True, elapsed_s=time.perf_counter() - start,
                   worker_pid=os.getpid(), peak_rss_mb=peak_rss_mb())


def _failed_file(item: Item, exc: Exception) -> str:
    """The item's photo an error message names, else all of them."""
    for _, path in item.photos:
        if str(path) in str(exc) or path.name in str(exc):
            return str(path)
    return " + ".join(str(p) for _, p in item.photos)


def safely(process, item: Item, *args) -> Outcome:
    """Run ``process(item, *args)``; an unexpected exception fails the item, not the batch.

    An exception that is not a :class:`LipsymError` is a bug in lipsym (or
    an I/O failure writing the output); one such photo must not end a run of
    thousands, so it is reported as the item's error and not saved.
    """
    try:
        return process(item, *args)
    except LipsymError as exc:  # e.g. the output could not be written
        return failed_outcome(item.name, " + ".join(str(p) for _, p in item.photos), str(exc))
    except OSError as exc:
        files = " + ".join(str(p) for _, p in item.photos)
        return failed_outcome(item.name, files, f"{files}: cannot write its result ({exc.strerror or exc})")
    except Exception as exc:  # noqa: BLE001 - see docstring
        files = " + ".join(str(p) for _, p in item.photos)
        reason = f"{files}: internal error {type(exc).__name__}: {' '.join(str(exc).split())} (please report it)"
        return failed_outcome(item.name, files, reason)
