"""What every worker needs to know to analyse an item the way the batch was asked to."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lipsym.analysis._options import AnalysisOptions
from lipsym.landmarks._options import LandmarkerOptions


@dataclass(frozen=True)
class BatchConfig:
    """How to analyse items and where results go; picklable, sent to each worker once.

    Attributes
    ----------
    output_dir : Path
        The batch's output folder (docs/batch.md). Workers write each item's
        JSON there themselves, so a result survives whatever happens to the
        parent process afterwards.
    analysis : AnalysisOptions
    landmarker : LandmarkerOptions
    settings : tuple of (str, value)
        The options that change results (``cli.common.settings_of``), as
        sorted pairs so the config stays immutable; see :attr:`settings_dict`.
    """

    output_dir: Path
    analysis: AnalysisOptions = AnalysisOptions()
    landmarker: LandmarkerOptions = LandmarkerOptions()
    settings: tuple[tuple[str, Any], ...] = field(default=())

    @staticmethod
    def make(output_dir, analysis: AnalysisOptions, landmarker: LandmarkerOptions,
             settings: dict[str, Any]) -> "BatchConfig":
        """Build a config from a settings dict (as ``settings_of`` returns)."""
        return BatchConfig(Path(output_dir), analysis, landmarker, tuple(sorted(settings.items())))

    @property
    def settings_dict(self) -> dict[str, Any]:
        """The settings as the output documents record them."""
        return dict(self.settings)
