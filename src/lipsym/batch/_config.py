"""What every worker needs to know to analyse an item the way the batch was asked to."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from lipsym.analysis._options import AnalysisOptions
from lipsym.io._outputs import outputs_shared


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
        Including the landmarker options each worker builds its landmarker
        from; ``analysis.identity()`` is part of every result's identity.
    share : bool, optional
        Outputs follow the umask instead of being private (0600 files, 0700
        folders); default :func:`lipsym.io.outputs_shared`.
    """

    output_dir: Path
    analysis: AnalysisOptions = AnalysisOptions()
    share: bool | None = None

    def __post_init__(self):
        object.__setattr__(self, "output_dir", Path(self.output_dir))
        # Decided here, in the command's process: workers (possibly on other machines) write the files.
        object.__setattr__(self, "share", outputs_shared() if self.share is None else bool(self.share))
