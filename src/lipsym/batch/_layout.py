"""Where a batch puts its files, and reading back what an earlier run left.

::

    OUT/
      json/<item name>.json   one lipsym.analysis document per item (+ its "batch" section)
      json/<item name>.<photo hashes>.json   a result of other photos under that name, kept aside
      results.csv             one row per analysed item, rebuilt from json/
      errors.csv              file,reason for every photo that could not be analysed
      source.json             the INPUT (folder or manifest) whose results OUT holds
      .lock                   held while a batch writes to OUT
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

JSON_DIR = "json"
RESULTS_CSV = "results.csv"
ERRORS_CSV = "errors.csv"
SOURCE_FILE = "source.json"
LOCK_FILE = ".lock"

#: Longest result file name, in UTF-8 bytes. File systems allow 255; the
#: margin holds the photo-hash tag of a result kept aside (26 bytes) and
#: write_atomic's temporary name.
MAX_NAME_BYTES = 200
#: Hex digits of the hash that replaces the end of a longer name.
_NAME_HASH_HEX = 16
#: Hex digits of each photo's SHA-256 in the name of a result kept aside.
_TAG_HEX = 12


def bounded_name(name: str, suffix: str = ".json") -> str:
    """``name + suffix``, shortened to :data:`MAX_NAME_BYTES` with a hash of the full name.

    A photo may have a 255-byte name, so ``<photo name>.json`` may not fit
    in a file name. Longer names keep their first bytes (whole characters)
    followed by ``~`` and 16 hex digits of the SHA-256 of the full name, so
    distinct long names stay distinct.

    Examples
    --------
    >>> bounded_name("a.jpg")
    'a.jpg.json'
    >>> len(bounded_name("x" * 251 + ".jpg").encode())
    200
    """
    full = name + suffix
    if len(full.encode("utf-8")) <= MAX_NAME_BYTES:
        return full
    tag = "~" + hashlib.sha256(name.encode("utf-8")).hexdigest()[:_NAME_HASH_HEX]
    keep = MAX_NAME_BYTES - len((tag + suffix).encode("utf-8"))
    head = name.encode("utf-8")[:keep].decode("utf-8", errors="ignore")
    return head + tag + suffix


def item_json_path(output_dir: str | os.PathLike, name: str) -> Path:
    """The JSON file of the item named ``name`` (``Item.name``: a relative POSIX path).

    A pair ``P001/2024-05-02/pair`` → ``json/P001/2024-05-02/pair.json``; a
    photo ``misc/a.jpg`` → ``json/misc/a.jpg.json`` (the extension is kept,
    so ``a.jpg`` and ``a.png`` do not collide). Long names are bounded
    (:func:`bounded_name`).
    """
    *folders, last = name.split("/")
    return Path(output_dir, JSON_DIR, *folders, bounded_name(last))


def aside_path(path: str | os.PathLike, photo_sha256: Mapping[str, str]) -> Path:
    """Where a result of other photos than the current ones under the same name is kept.

    ``pair.json`` recorded for photos whose SHA-256 start ``ab12...`` (rest)
    and ``cd34...`` (smile) → ``pair.ab12....cd34....json`` (12 hex digits
    each, in the order of the expressions).
    """
    path = Path(path)
    tag = "-".join(photo_sha256[e][:_TAG_HEX] for e in sorted(photo_sha256))
    return path.with_name(f"{path.name.removesuffix('.json')}.{tag}.json")


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


def read_source(output_dir: str | os.PathLike) -> str | None:
    """The INPUT recorded in ``OUT/source.json`` (absolute path), or None if there is none readable."""
    try:
        recorded = json.loads(Path(output_dir, SOURCE_FILE).read_text(encoding="utf-8")).get("source")
    except (OSError, ValueError, AttributeError):
        return None
    return recorded if isinstance(recorded, str) else None


def source_text(source: str) -> str:
    """The content of ``source.json`` for an INPUT (absolute path, links resolved)."""
    return json.dumps({"schema": "lipsym.batch-source", "source": source}, ensure_ascii=False) + "\n"
