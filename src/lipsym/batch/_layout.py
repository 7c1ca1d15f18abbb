"""Where a batch puts its files, and reading back what an earlier run left.

::

    OUT/
      json/<item name>.json   one lipsym.analysis document per item (+ its "batch" section)
      results.csv             one row per analysed item, rebuilt from json/
      errors.csv              file,reason for every photo that could not be analysed
      .lock                   held while a batch writes to OUT
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

JSON_DIR = "json"
RESULTS_CSV = "results.csv"
ERRORS_CSV = "errors.csv"
LOCK_FILE = ".lock"


def item_json_path(output_dir: str | os.PathLike, name: str) -> Path:
    """The JSON file of the item named ``name`` (``Item.name``: a relative POSIX path).

    A pair ``P001/2024-05-02/pair`` → ``json/P001/2024-05-02/pair.json``; a
    photo ``misc/a.jpg`` → ``json/misc/a.jpg.json`` (the extension is kept,
    so ``a.jpg`` and ``a.png`` do not collide).
    """
    return Path(output_dir, JSON_DIR, *name.split("/")).with_name(name.rsplit("/", 1)[-1] + ".json")


def read_batch_section(path: str | os.PathLike) -> dict[str, Any] | None:
    """The ``batch`` section of an item's JSON, or None if absent or not a batch document.

    Files are written atomically, so a killed process leaves no partial file;
    they are not fsynced, so a power failure may leave one empty or cut
    short. Anything unreadable is treated as absent and the item is redone.
    """
    try:
        doc = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    section = doc.get("batch") if isinstance(doc, dict) else None
    return section if isinstance(section, dict) and isinstance(section.get("identity"), str) else None


def remove_stale_temporaries(output_dir: str | os.PathLike, *, older_than_s: float = 60.0) -> int:
    """Delete temporary files a killed writer left in ``json/`` (only while holding the lock).

    ``outputs.write_atomic`` writes ``.<name>.<random>.tmp`` next to the
    target and renames it; a process killed in between leaves the temporary.
    Recent ones are kept: a worker orphaned by a killed run may still be
    about to rename its file.

    Returns
    -------
    int
        Number of files removed.
    """
    removed = 0
    for folder, _, files in os.walk(Path(output_dir, JSON_DIR)):
        for name in files:
            if name.startswith(".") and name.endswith(".tmp"):
                path = os.path.join(folder, name)
                try:
                    if time.time() - os.stat(path).st_mtime > older_than_s:
                        os.unlink(path)
                        removed += 1
                except OSError:
                    pass
    return removed
