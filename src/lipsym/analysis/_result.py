"""What the analysis of one photo returns, importable without OpenCV or MediaPipe.

The measures layer works on :class:`PhotoAnalysis`; defining it apart from
the code that builds it keeps ``import lipsym.measures`` light.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:  # annotations only
    from lipsym.face._anatomy import Anatomy
    from lipsym.face._frame import FacialFrame
    from lipsym.face._quality import QualityFlag
    from lipsym.face._scale import Scale
    from lipsym.landmarks._detector import FaceLandmarks
    from lipsym.refine._result import Refinement
    from lipsym.analysis._corrections import AppliedMove


@dataclass(frozen=True)
class PhotoAnalysis:
    """Everything lipsym knows about one photo before measuring.

    Attributes
    ----------
    path : Path or None
    width_px, height_px : int
        Original photo size after EXIF orientation; every ``_px`` coordinate
        is in this photo's pixels.
    orientation : int
        EXIF orientation applied (1 = none).
    detection_reduction : int
        The photo was decoded at 1/``detection_reduction`` size for detection.
    expression : {"rest", "smile", "other"}
    mirrored : bool
    landmarks : FaceLandmarks
        MediaPipe's landmarks with subject sides (already swapped for a
        mirrored photo), before refinement.
    frame : FacialFrame
    anatomy : Anatomy
        Named points and lip contours, from the refined landmarks when
        ``refinement`` is not None.
    scale : Scale
    flags : tuple of QualityFlag
    warnings : tuple of str
    refinement : Refinement or None
        What the image-evidence refinement changed (None when disabled);
        its ``points_px`` are in ORIGINAL photo pixels.
    provenance : {"automatic", "manual"}
        ``"manual"`` when a user moved points
        (:func:`lipsym.analysis.apply_corrections`); no detection ran again.
    corrections : tuple of AppliedMove
        The points moved by hand, with their displacements (empty when automatic).
    corrected_points_px : ndarray, shape (478, 3), float, read-only, or None
        The landmarks after the manual moves (None when automatic).
    automatic : PhotoAnalysis or None
        The automatic analysis the corrections were applied to (None when automatic).
    """

    path: Path | None
    width_px: int
    height_px: int
    orientation: int
    detection_reduction: int
    expression: str
    mirrored: bool
    landmarks: FaceLandmarks
    frame: FacialFrame
    anatomy: Anatomy
    scale: Scale
    flags: tuple[QualityFlag, ...] = ()
    warnings: tuple[str, ...] = field(default=())
    refinement: Refinement | None = None
    provenance: str = "automatic"
    corrections: tuple[AppliedMove, ...] = ()
    corrected_points_px: np.ndarray | None = None
    automatic: PhotoAnalysis | None = None

    @property
    def points_px(self) -> np.ndarray:
        """The (478, 3) landmarks measured on, original px.

        Moved by hand where corrected, else refined where refinement ran, else MediaPipe's.
        """
        if self.corrected_points_px is not None:
            return self.corrected_points_px
        return self.landmarks.points_px if self.refinement is None else self.refinement.points_px
