"""The subject's sides.

In an ordinary (non-mirrored) photo the subject's RIGHT side is on the IMAGE
LEFT. Every ``Side`` in lipsym means the subject's side; image sides never
appear in the API.
"""

from __future__ import annotations

import enum


class Side(str, enum.Enum):
    """A side of the subject's face (never an image side)."""

    RIGHT = "right"
    LEFT = "left"

    @property
    def other(self) -> "Side":
        """The opposite side."""
        return Side.LEFT if self is Side.RIGHT else Side.RIGHT


#: Sign convention of every signed asymmetry in lipsym.
ASYMMETRY_SIGN = "left_minus_right"
