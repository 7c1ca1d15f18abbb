"""``lipsym export``: one patient's record (JSON or CSV), or the pseudonymised research export."""

from __future__ import annotations

import contextlib
import json

from lipsym.errors import ConfigurationError
from lipsym.io._outputs import sharing_outputs
from lipsym.cli.common import check_outputs
from lipsym.cli.store_common import add_db_option, open_store


def register(sub) -> None:
    p = sub.add_parser(
        "export", help="export a patient's record (JSON/CSV) or a pseudonymised research export",
        description="lipsym export PATIENT [-o FILE.json | --csv DIR]; lipsym export --research DIR. The research "
                    "export replaces patient codes by keyed pseudonyms and drops notes, paths and dates "
                    "(days since the first visit instead): pseudonymised, NOT anonymised.")
    p.add_argument("patient", nargs="?", metavar="PATIENT")
    p.add_argument("-o", "--output", metavar="FILE", help="JSON file (default: stdout)")
    p.add_argument("--csv", metavar="DIR", help="write one CSV per table into DIR instead of JSON")
    p.add_argument("--research", metavar="DIR", help="pseudonymised export of ALL patients into DIR")
    p.add_argument("--keep-dates", action="store_true", help="research export: keep calendar dates")
    p.add_argument("--force", action="store_true", help="overwrite existing files")
    p.add_argument("--share", action="store_true",
                   help="files follow the umask (e.g. 0644) instead of being private to you (0600, folders "
                        "0700); also LIPSYM_SHARE_OUTPUTS=1")
    add_db_option(p)
    p.set_defaults(run=run)


def run(args) -> int:
    with sharing_outputs(True) if args.share else contextlib.nullcontext():
        return _export(args)


def _export(args) -> int:
    if (args.patient is None) == (args.research is None):
        raise ConfigurationError("give a PATIENT to export, or --research DIR (not both)")
    if args.research is None and args.csv is None:
        check_outputs([args.output], args.force)
    with open_store(args) as store:
        if args.research is not None:
            written = store.research_export(args.research, keep_dates=args.keep_dates, overwrite=args.force)
            print(f"research export of {store.path}: {len(written)} files in {args.research}")
        elif args.csv is not None:
            written = store.export_patient_csv(args.patient, args.csv, overwrite=args.force)
            print(f"exported {args.patient}: {len(written)} CSV files in {args.csv}")
        elif args.output in (None, "-"):
            print(json.dumps(store.export_patient(args.patient), indent=2, ensure_ascii=False))
        else:
            # Through the store: the file is private to the user, like the database.
            store.export_patient_json(args.patient, args.output, overwrite=args.force)
    return 0
