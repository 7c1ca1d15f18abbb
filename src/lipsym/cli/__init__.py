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
import sys

from .. import __version__
from ..errors import LipsymError
from . import analyze, batch, compare, report, simulate
from . import db, export, import_photos, patient, track, treatment, visit

_COMMANDS = (analyze, batch, import_photos, patient, visit, treatment, track, db, export, compare, report, simulate)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="lipsym",
        description="Measure lip asymmetry (commissures, Cupid's bow, vermilion) from face photos, in mm.",
    )
    parser.add_argument("--version", action="version", version=f"lipsym {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for command in _COMMANDS:
        command.register(sub)
    return parser




def main(argv: list[str] | None = None) -> int:
    """Run the CLI; returns the exit code."""
    parser = build_parser()
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
