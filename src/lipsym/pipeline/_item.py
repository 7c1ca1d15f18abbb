"""What is analysed as one unit: a photo alone, or a visit's rest/smile pair."""

from __future__ import annotations

import os
from dataclasses import dataclass

from lipsym.analysis._photo import EXPRESSIONS
from lipsym.errors import ConfigurationError

PhotoPath = str | os.PathLike


@dataclass(frozen=True)
class ItemSpec:
    """The photos analysed together, each with its expression.

    One photo is analysed alone; one ``rest`` and one ``smile`` photo are a
    pair (rest, smile and dynamic measures on one shared scale). The photos
    are a sequence rather than two slots so that a visit's replicate photos
    (several rest and several smile) can become one more kind of item, not a
    new entry point.

    Attributes
    ----------
    photos : tuple of (str, path-like)
        ``(expression, path)`` per photo: one entry, or ``("rest", r),
        ("smile", s)``. Paths are kept as given; outputs show ``str(path)``.

    Raises
    ------
    ConfigurationError
        An unknown expression, or photos that are neither one photo nor a
        rest/smile pair.

    Examples
    --------
    >>> ItemSpec.pair("rest.jpg", "smile.jpg").label
    'rest.jpg + smile.jpg'
    >>> ItemSpec.photo("selfie.jpg", "other").photos
    (('other', 'selfie.jpg'),)
    """

    photos: tuple[tuple[str, PhotoPath], ...]

    def __post_init__(self):
        object.__setattr__(self, "photos", tuple((e, p) for e, p in self.photos))
        for expression, _ in self.photos:
            if expression not in EXPRESSIONS:
                raise ConfigurationError(f"expression must be one of {', '.join(EXPRESSIONS)}, got {expression!r}")
        if len(self.photos) != 1 and self.expressions != ("rest", "smile"):
            raise ConfigurationError(f"an item is one photo or a rest/smile pair, got {self.expressions}")

    @classmethod
    def photo(cls, path: PhotoPath, expression: str = "rest") -> "ItemSpec":
        """One photo, analysed alone."""
        return cls(((expression, path),))

    @classmethod
    def pair(cls, rest: PhotoPath, smile: PhotoPath) -> "ItemSpec":
        """A rest/smile pair of one visit."""
        return cls((("rest", rest), ("smile", smile)))

    @property
    def expressions(self) -> tuple[str, ...]:
        return tuple(e for e, _ in self.photos)

    @property
    def paths(self) -> tuple[PhotoPath, ...]:
        return tuple(p for _, p in self.photos)

    @property
    def is_pair(self) -> bool:
        return len(self.photos) == 2

    @property
    def label(self) -> str:
        """The photo paths joined by ``" + "``, for messages."""
        return " + ".join(str(p) for p in self.paths)
