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

    @property
    def outward_x(self) -> int:
        """Sign of the facial frame's x pointing away from the midline on this side.

        The frame's x axis runs towards the subject's left, so outward is +1
        on the left and −1 on the right.

        Examples
        --------
        >>> Side.LEFT.outward_x, Side.RIGHT.outward_x
        (1, -1)
        """
        return 1 if self is Side.LEFT else -1


#: Sign convention of every signed asymmetry in lipsym.
ASYMMETRY_SIGN = "left_minus_right"
