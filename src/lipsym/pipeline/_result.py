"""What analysing an item gives: analyses, measures, output sections, errors."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from lipsym.analysis._result import PhotoAnalysis
from lipsym.errors import LipsymError
from lipsym.formats._csv import error_columns, pair_columns, photo_columns
from lipsym.formats._json import document, error_to_dict, pair_to_dict, photo_to_dict
from lipsym.formats._store_rows import pair_specs, photo_specs
from lipsym.io._photo import Photo, load_photo
from lipsym.measures._pair import PairMeasures
from lipsym.measures._photo import PhotoMeasures
from lipsym.pipeline._item import ItemSpec


@dataclass(frozen=True)
class ItemError:
    """Why an item could not be analysed.

    Attributes
    ----------
    file : str
        The photo that failed, or the item's label (its photos joined by
        ``" + "``) when a step over several photos (the pair measures) failed.
    error : LipsymError
        Its message is one line and names the file.
    """

    file: str
    error: LipsymError

    @property
    def reason(self) -> str:
        """The one-line message."""
        return str(self.error)


@dataclass(frozen=True, eq=False)
class ItemResult:
    """One item analysed and measured, with its sections of the output formats.

    Attributes
    ----------
    item : ItemSpec
    analyses : tuple of PhotoAnalysis
        One per photo, in ``item.photos`` order; on failure, those analysed
        before it.
    decoded : tuple of Photo
        With ``analyze_item(..., keep_pixels=True)``: the decoded photo each
        analysis found its landmarks on (possibly at 1/``reduction`` size),
        whose pixels :meth:`rgb` reuses when ``reduction == 1``; else empty.
    measures : tuple of PhotoMeasures
        One per photo when the item succeeded; a pair's photos are measured
        on the pair's shared scale (``pair.rest``, ``pair.smile``).
    pair : PairMeasures or None
        The pair measures (rest, smile, dynamic) of a successful pair.
    errors : tuple of ItemError
        Empty on success. Analysis stops at the first photo that fails.
    model_sha256 : str
        The landmark model used.
    settings : dict
        ``AnalysisOptions.identity()`` of the options used.
    """

    item: ItemSpec
    analyses: tuple[PhotoAnalysis, ...]
    decoded: tuple[Photo, ...]
    measures: tuple[PhotoMeasures, ...] = ()
    pair: PairMeasures | None = None
    errors: tuple[ItemError, ...] = ()
    model_sha256: str | None = None
    settings: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.errors

    def raise_error(self) -> None:
        """Raise the first error, for callers that do not go on after a failure.

        Raises
        ------
        LipsymError
            The one that stopped the analysis (PhotoError, FaceError,
            MeasurementError, ...).
        """
        if self.errors:
            raise self.errors[0].error

    def rgb(self, index: int = 0) -> np.ndarray:
        """A photo's pixels at full size, for drawing.

        Parameters
        ----------
        index : int
            Which photo, in ``item.photos`` order.

        Returns
        -------
        ndarray, shape (H, W, 3), uint8
            ``load_photo(path).rgb``: the pixels the landmarks were found on
            when they were kept and decoded at full size, else decoded again.
        """
        if self.decoded and self.decoded[index].reduction == 1:
            return self.decoded[index].rgb
        return load_photo(self.item.paths[index]).rgb

    def results(self, *, include_landmarks: bool = False, errors_by_item: bool = False) -> list[dict[str, Any]]:
        """This item's entries in the document's ``results``.

        Parameters
        ----------
        include_landmarks : bool
            Include all 478 landmarks of each photo.
        errors_by_item : bool
            Name a failure by all of the item's photos (``item.label``), as
            ``lipsym analyze`` does for a pair, instead of by the photo that
            failed (:attr:`ItemError.file`), as a batch does.
        """
        if self.errors:
            return [error_to_dict(self.item.label if errors_by_item else e.file, e.error) for e in self.errors]
        return [photo_to_dict(a, m, include_landmarks=include_landmarks) for a, m in zip(self.analyses, self.measures)]

    def pairs(self) -> list[dict[str, Any]]:
        """This item's entries in the document's ``pairs`` (empty unless a measured pair)."""
        if self.pair is None:
            return []
        rest, smile = self.item.paths
        return [pair_to_dict(str(rest), str(smile), self.pair)]

    def document(self, *, include_landmarks: bool = False) -> dict[str, Any]:
        """The versioned analysis document of this item alone."""
        return document(self.results(include_landmarks=include_landmarks), self.pairs(),
                        model_sha256=self.model_sha256, settings=dict(self.settings))

    @property
    def csv_row(self) -> dict[str, Any]:
        """This item's row of the results CSV; on failure, the row ``lipsym analyze`` writes."""
        if self.errors:
            reason = self.errors[0].reason
            if self.item.is_pair:
                rest, smile = self.item.paths
                return {"rest_file": str(rest), "smile_file": str(smile), "status": "error", "error": reason}
            return error_columns(str(self.item.paths[0]), reason)
        if self.pair is not None:
            return pair_columns(*self.analyses, self.pair)
        return photo_columns(self.analyses[0], self.measures[0])

    def specs(self) -> list:
        """The measure rows a visit record stores (``MeasureSpec``; empty on failure)."""
        if self.errors:
            return []
        if self.pair is not None:
            return pair_specs(self.pair)
        return photo_specs(self.measures[0], self.analyses[0].expression)
