"""Key/value facts about one database file (the ``meta`` table).

Used for what belongs to the whole record rather than to one patient: the
pseudonymisation key (written at creation, :mod:`._export`) and the clinic's
re-capture calibration (:func:`lipsym.visits.calibrate_clinic`). Values are
text; callers store JSON when they need structure.
"""

from __future__ import annotations

from lipsym.visits.store._db import write_transaction
from lipsym.visits.store._store import Store

#: Keys lipsym itself manages; :func:`write_meta` refuses them so that a
#: caller cannot replace the pseudonymisation key by accident.
PROTECTED_KEYS = frozenset({"pseudonym_key"})


def read_meta(store: Store, key: str) -> str | None:
    """The value stored under ``key``, or None."""
    row = store._conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
    return None if row is None else str(row[0])


def write_meta(store: Store, key: str, value: str) -> None:
    """Store ``value`` under ``key`` (replacing the previous value), in one transaction.

    Raises
    ------
    ValueError
        ``key`` is one lipsym protects (:data:`PROTECTED_KEYS`).
    """
    if key in PROTECTED_KEYS:
        raise ValueError(f"meta key {key!r} is managed by lipsym and cannot be written")
    with write_transaction(store._conn):
        store._conn.execute("INSERT INTO meta (key, value) VALUES (?, ?) "
                            "ON CONFLICT (key) DO UPDATE SET value = excluded.value", (key, value))
