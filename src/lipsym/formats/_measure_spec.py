"""A queryable measure row: what the store keeps beside each result document.

Defined here, below the store, so that :mod:`lipsym.formats` can build and
read rows without importing :mod:`lipsym.visits` (the store re-exports
:class:`MeasureSpec`). Row names: :func:`lipsym.formats.store_row_name`.
"""

from __future__ import annotations

import dataclasses
from typing import Protocol


@dataclasses.dataclass(frozen=True)
class MeasureSpec:
    """A measure to store with a new analysis (input only).

    Attributes
    ----------
    name : str
        E.g. ``"commissure_height.asymmetry"`` (:func:`lipsym.formats.store_row_name`).
    value : float
        Finite; a measure that could not be computed is left out, not NaN.
    unit : str
        E.g. ``"mm"``, ``"deg"``, ``"1"``.
    condition : {"rest", "smile", "dynamic", "pair"}
    standard_error : float or None
        In ``unit``.
    """

    name: str
    value: float
    unit: str
    condition: str
    standard_error: float | None = None


class MeasureRowLike(Protocol):
    """Any stored measure row: a :class:`MeasureSpec`, or the store's ``Measure`` / ``MeasureRow``."""

    @property
    def name(self) -> str: ...

    @property
    def value(self) -> float: ...

    @property
    def unit(self) -> str: ...

    @property
    def standard_error(self) -> float | None: ...

    @property
    def condition(self) -> str: ...
