"""A problem found in a database file (see :mod:`._integrity`)."""

from __future__ import annotations

import dataclasses


@dataclasses.dataclass(frozen=True)
class Damage:
    """One problem found in a database file.

    Attributes
    ----------
    kind : {"header", "truncated", "wal", "page", "reference"}
    detail : str
        One line, naming the file.
    """

    kind: str
    detail: str

    def __str__(self) -> str:
        return self.detail
