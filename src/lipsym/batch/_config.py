"""What every worker needs to know to analyse an item the way the batch was asked to."""

from __future__ import annotations

from dataclasses import dataclass, replace
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
    single_photo_descriptors : bool
        Compute the identity descriptor for items of one photo too. Off by
        default: nothing in a batch compares a lone photo, and the descriptor
        is most of an analysis after detection (``benchmarks/batch_throughput.py``);
        a rest/smile pair always gets it (its same-person check). On when the
        results go into a visit record (``--db``), whose visits are compared later.
    """

    output_dir: Path
    analysis: AnalysisOptions = AnalysisOptions()
    share: bool | None = None
    single_photo_descriptors: bool = False

    def item_options(self, n_photos: int) -> AnalysisOptions:
        """The analysis options of an item of ``n_photos`` photos (see ``single_photo_descriptors``)."""
        if n_photos == 1 and not self.single_photo_descriptors and self.analysis.face_descriptor:
            return replace(self.analysis, face_descriptor=False)
        return self.analysis

    def __post_init__(self):
        object.__setattr__(self, "output_dir", Path(self.output_dir))
        # Decided here, in the command's process: workers (possibly on other machines) write the files.
        object.__setattr__(self, "share", outputs_shared() if self.share is None else bool(self.share))
