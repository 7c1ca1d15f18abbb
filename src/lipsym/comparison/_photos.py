"""Compare two captures of one face: same person, how they were taken, what changed.

The one place where a before/after comparison of two photos (two files, or
two recorded visits' photos) is decided: the photos must plausibly show the
same person, each change's standard error includes the between-capture error
of how the two photos were taken, and the differences worth a warning are
named. The CLI, the report and the visit record call it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from lipsym.analysis._result import PhotoAnalysis
from lipsym.comparison._capture import Capture, CaptureError, capture_from_analysis, capture_from_dict
from lipsym.comparison._capture_checks import CaptureWarning, capture_warnings
from lipsym.comparison._compare import MeasureChange, compare_measures
from lipsym.comparison._same_person import SamePersonCheck, require_same_person
from lipsym.errors import MeasurementError
from lipsym.measures._photo import PhotoMeasures
from lipsym.measures._values import SidedMeasure


@dataclass(frozen=True)
class CaptureComparison:
    """The change between two photos of one face, taken on different occasions.

    Attributes
    ----------
    changes : dict of str to MeasureChange
        Measure key → change (left − right asymmetry, after − before), with
        the between-capture error in its SE when both captures are known.
    warnings : tuple of CaptureWarning
        Named differences between how the two photos were taken.
    same_person : SamePersonCheck or None
        None when a stored document predates the check (no stable points).
    captures_known : bool
        False when a photo's capture could not be read (old record): the
        SE is then the within-photo error only, and says less than it should.
    """

    changes: dict[str, MeasureChange]
    warnings: tuple[CaptureWarning, ...]
    same_person: SamePersonCheck | None
    captures_known: bool


Photo = PhotoAnalysis | Mapping[str, Any]
Measures = PhotoMeasures | Mapping[str, SidedMeasure]


def _capture(photo: Photo, measures: Measures) -> Capture:
    if isinstance(photo, PhotoAnalysis):
        return capture_from_analysis(photo, measures if isinstance(measures, PhotoMeasures) else None)
    return capture_from_dict(photo)


def compare_captures(before: Photo, after: Photo, before_measures: Measures, after_measures: Measures, *,
                     keys: Iterable[str] | None = None, allow_different_person: bool = False) -> CaptureComparison:
    """Compare two photos of one face as two captures.

    Parameters
    ----------
    before, after : PhotoAnalysis or mapping
        The analyses, or the photos' entries of stored result documents.
    before_measures, after_measures : PhotoMeasures or mapping of str to SidedMeasure
    keys : iterable of str, optional
        Measures to compare (default: every sided measure both have).
    allow_different_person : bool
        Compare even when the photos do not look like the same person.

    Returns
    -------
    CaptureComparison

    Raises
    ------
    DifferentPersonError
        The photos do not plausibly show the same person (one line naming
        both), unless ``allow_different_person``.
    """
    try:
        check = require_same_person(before, after, allow=allow_different_person)
    except MeasurementError:  # a stored document without the points the check needs
        check = None
    try:
        captures = (_capture(before, before_measures), _capture(after, after_measures))
    except CaptureError:
        captures = None
    changes = compare_measures(before_measures, after_measures, keys, captures=captures)
    warnings = () if captures is None else capture_warnings(*captures)
    return CaptureComparison(changes, warnings, check, captures is not None)
