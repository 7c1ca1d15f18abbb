"""The file names users dropped, kept for display after a restart (never used as paths).

An upload is stored under its SHA-256 (:mod:`lipsym.app._photos`), so the
visit record's path of an uploaded photo says nothing to the user, and the
record has no field for the name the browser sent. The app keeps that name,
sanitised, in ``names.json`` in its private photo folder (0600), keyed by
photo id together with the photo's SHA-256 so that a name is never shown for
another photo (a database rebuilt beside an old photo folder). A photo
recorded from the command line keeps its own file's base name, read from the
recorded path as text; no file is opened for it.
"""

from __future__ import annotations

import json
import os
import tempfile
import threading
import unicodedata
from pathlib import Path

#: Longest display name kept, characters.
MAX_NAME_CHARS = 120
_FILE = "names.json"
_lock = threading.Lock()


def display_name(sent: str | None) -> str:
    """The name the browser sent, as text to show: its last path part, no control characters, at most 120 chars."""
    text = str(sent or "").replace("\\", "/").rsplit("/", 1)[-1]
    text = "".join(c for c in text if unicodedata.category(c)[0] != "C").strip()
    return text[:MAX_NAME_CHARS] or "photo"


def _load(folder: Path) -> dict[str, dict[str, str]]:
    try:
        data = json.loads((folder / _FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}  # none yet, or unreadable: names are a convenience, the photos are unaffected
    return data if isinstance(data, dict) else {}


def remember(folder: Path, photo_id: int, sha256: str, name: str) -> None:
    """Keep ``name`` for photo ``photo_id`` (written atomically, private)."""
    with _lock:
        names = _load(folder)
        names[str(photo_id)] = {"sha256": sha256, "name": display_name(name)}
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=".names-")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as out:
                json.dump(names, out, ensure_ascii=False)
            os.chmod(tmp, 0o600)
            os.replace(tmp, folder / _FILE)
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)


def names_of(folder: Path, photos) -> dict[int, str]:
    """What to call each photo: the dropped name of an upload, else the recorded file's base name."""
    kept = _load(folder)
    uploads = os.path.realpath(folder)
    out = {}
    for p in photos:
        entry = kept.get(str(p.id))
        if isinstance(entry, dict) and entry.get("sha256") == p.sha256 and isinstance(entry.get("name"), str):
            out[p.id] = display_name(entry["name"])
        elif os.path.dirname(os.path.realpath(p.path)) != uploads:
            out[p.id] = display_name(Path(p.path).name)  # recorded from the command line: its own name
        else:
            out[p.id] = f"photo {p.id}"  # an upload from before names were kept
    return out
