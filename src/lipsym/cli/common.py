"""Options shared by several commands, and how they become library objects."""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Iterable
from pathlib import Path

from lipsym.analysis._options import AnalysisOptions
from lipsym.landmarks._options import LandmarkerOptions
from lipsym.landmarks._model import EXPECTED_MODEL_SHA256
from lipsym.io._outputs import write_atomic
from lipsym.errors import ConfigurationError, ConflictError, OutputError
from lipsym.face._scale import DEFAULT_IRIS_DIAMETER_MM, Calibration, check_iris_diameter_mm, scale_implausibility

#: What ``--force`` does on commands that write no files of their own.
FORCE_HELP = "accept values outside the plausible ranges (docs/cli.md)"


def add_force_option(p: argparse.ArgumentParser, help: str = FORCE_HELP) -> None:
    """``--force``: accept implausible values (and, where the command writes files, replace them)."""
    p.add_argument("--force", action="store_true", help=help)


def add_worker_options(p: argparse.ArgumentParser, what: str = "worker processes") -> None:
    """``--jobs`` and ``--quiet`` of the commands that analyse many photos (batch, import, analyze-pending)."""
    p.add_argument("--jobs", "-j", type=int, default=None, metavar="N",
                   help=f"{what}, each with its own landmarker (default: the CPUs this process may use)")
    p.add_argument("--quiet", "-q", action="store_true", help="no progress output (errors are still printed)")


def worker_count(args) -> int:
    """``--jobs``, or the CPUs this process may use.

    Raises
    ------
    ConfigurationError
        Fewer than one.
    """
    from lipsym.batch._local import default_jobs

    jobs = default_jobs() if args.jobs is None else args.jobs
    if jobs < 1:
        raise ConfigurationError(f"--jobs must be at least 1, got {jobs}")
    return jobs


def refuse_implausible(problem: str | None, what: str, force: bool) -> None:
    """Raise the one-line error for an implausible value unless ``--force`` was given.

    Parameters
    ----------
    problem : str or None
        From a library plausibility check; None means plausible.
    what : str
        The file or patient the value belongs to, or the option that gave it.
    """
    if problem is not None and not force:
        raise ConfigurationError(f"{what}: {problem} (use --force if it is right)")


def add_analysis_options(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("analysis")
    g.add_argument("--mirrored", action="store_true",
                   help="photos are mirrored (front-camera selfies): the subject's right is on the image right")
    g.add_argument("--iris-mm", type=float, default=DEFAULT_IRIS_DIAMETER_MM, metavar="MM",
                   help="horizontal iris diameter assumed for the scale (default %(default)s mm)")
    cal = g.add_mutually_exclusive_group()
    cal.add_argument("--ipd-mm", type=float, metavar="MM", help="calibrate the scale with the subject's known IPD")
    cal.add_argument("--mm-per-px", type=float, metavar="S", help="calibrate the scale directly")
    g.add_argument("--calibration-uncertainty", type=float, default=0.01, metavar="REL",
                   help="relative uncertainty of --ipd-mm / --mm-per-px (default %(default)s)")
    g.add_argument("--single-face", action="store_true",
                   help="fail on photos with several faces instead of analysing the largest")
    g.add_argument("--no-flip-average", action="store_true",
                   help="use MediaPipe's raw landmarks (biased; for comparison only)")
    g.add_argument("--no-refine", action="store_true",
                   help="keep MediaPipe's lip points (no image-evidence refinement; shrinks asymmetry, for comparison)")
    g.add_argument("--model", metavar="PATH", help="model bundle to use (default: $LIPSYM_MODEL or bundled)")
    g.add_argument("--allow-other-model", action="store_true",
                   help="accept a model whose sha256 is not the official bundle's (it is recorded)")
    g.add_argument("--no-face-descriptor", action="store_true",
                   help="skip the identity descriptor (about 0.15-0.4 s a photo): the same-person check then "
                        "uses face geometry only, which refuses fewer different people (docs/accuracy.md)")
    g.add_argument("--allow-different-person", action="store_true",
                   help="measure a rest/smile pair even if the photos do not look like the same person "
                        "(refused by default, exit 9)")


def analysis_options(args) -> AnalysisOptions:
    """The analysis (and landmarker) options the command line asks for; ``.identity()`` records them."""
    check_iris_diameter_mm(args.iris_mm)
    calibration = None
    if args.ipd_mm is not None or args.mm_per_px is not None:
        calibration = Calibration(interpupillary_distance_mm=args.ipd_mm, mm_per_px=args.mm_per_px,
                                  relative_uncertainty=args.calibration_uncertainty)
    option = "--ipd-mm" if args.ipd_mm is not None else "--mm-per-px" if calibration else "--iris-mm"
    # Checked before any photo is read: a typo such as --ipd-mm 620 would scale every measure tenfold.
    refuse_implausible(scale_implausibility(args.iris_mm, calibration), option, getattr(args, "force", False))
    return AnalysisOptions(mirrored=args.mirrored, iris_diameter_mm=args.iris_mm, calibration=calibration,
                           allow_multiple_faces=not args.single_face, refine=not args.no_refine,
                           allow_different_person=getattr(args, "allow_different_person", False),
                           face_descriptor=not getattr(args, "no_face_descriptor", False),
                           landmarker=landmarker_options(args))


def landmarker_options(args) -> LandmarkerOptions:
    return LandmarkerOptions(model_path=args.model,
                             expected_model_sha256=None if args.allow_other_model else EXPECTED_MODEL_SHA256,
                             flip_average=not args.no_flip_average)


def emit_json(doc: dict, output: str | None, force: bool) -> None:
    text = json.dumps(doc, indent=2, ensure_ascii=False) + "\n"
    if output in (None, "-"):
        sys.stdout.write(text)
    else:
        write_atomic(output, text, overwrite=force)


def check_outputs(paths: Iterable[str | os.PathLike | None], force: bool) -> None:
    """Refuse, before any work starts, output files that exist (without ``--force``) or cannot be written.

    ``None`` and ``-`` (stdout) are skipped. A file that cannot be written
    is one whose nearest existing folder is a file or not writable.

    Raises
    ------
    ConflictError
        A file exists and ``force`` is False (exit 7).
    OutputError
        A file cannot be written there (exit 8).
    """
    for path in paths:
        if path is None or str(path) == "-":
            continue
        path = Path(path)
        if path.is_dir():
            raise OutputError(f"{path}: is a folder; give a file name")
        if path.exists() and not force:
            raise ConflictError(f"{path}: exists; not overwriting it (use --force to replace it)")
        folder = path.parent
        while not folder.exists() and folder != folder.parent:
            folder = folder.parent
        if not folder.is_dir() or not os.access(folder, os.W_OK | os.X_OK):
            raise OutputError(f"{path}: cannot write ({folder} is not a writable folder)")
