"""The ``lipsym`` command: a thin layer over the library.

Every :class:`~lipsym.errors.LipsymError` becomes one line on stderr and an
exit code; a traceback means a bug in lipsym, never a user error.

Exit codes (docs/cli.md):
    0  everything asked for was done (quality flags do not change this)
    1  some photos could not be analysed (their reasons are in the output)
    2  invalid arguments or options
    3  a photo could not be read (single-photo commands)
    4  no usable face (single-photo commands)
    5  the model file is missing or not the expected one
    6  a measure could not be computed
    7  the visit store refused the operation, or an output file exists
    8  an output file could not be written
  130  interrupted
"""

from __future__ import annotations

import argparse
import importlib
import sys

from lipsym import __version__
from lipsym.errors import LipsymError

#: Command name → module of lipsym.cli, in the order ``lipsym --help`` lists them.
_COMMANDS = {"analyze": "analyze", "batch": "batch", "import": "import_photos", "patient": "patient",
             "visit": "visit", "treatment": "treatment", "photo": "photo", "track": "track", "calibrate": "calibrate", "db": "db", "export": "export",
             "compare": "compare", "report": "report", "correct": "correct", "simulate": "simulate",
             "analyze-pending": "import_photos"}


def build_parser(argv: list[str] | None = None) -> argparse.ArgumentParser:
    """The argument parser; given ``argv`` naming a command, only that command's module is imported.

    Each command module imports what its command needs (NumPy, OpenCV,
    MediaPipe, the store): importing all of them took ~0.6 s, on the way to
    the first result of a batch, whose workers only start after it.
    """
    parser = argparse.ArgumentParser(
        prog="lipsym",
        description="Measure lip asymmetry (commissures, Cupid's bow, vermilion) from face photos, in mm.",
    )
    parser.add_argument("--version", action="version", version=f"lipsym {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    first = next((a for a in argv or () if not a.startswith("-")), None)
    modules = [_COMMANDS[first]] if first in _COMMANDS else list(dict.fromkeys(_COMMANDS.values()))
    for module in modules:
        importlib.import_module(f"{__name__}.{module}").register(sub)
    return parser




def main(argv: list[str] | None = None) -> int:
    """Run the CLI; returns the exit code."""
    argv = sys.argv[1:] if argv is None else list(argv)
    parser = build_parser(argv)
    args = parser.parse_args(argv)
    try:
        return int(args.run(args) or 0)
    except LipsymError as exc:
        print(f"lipsym: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("lipsym: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
