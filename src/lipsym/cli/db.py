"""``lipsym db backup|check|verify``: look after the visit-record database."""

from __future__ import annotations

from lipsym.visits.store import to_json_dict
from lipsym.cli.store_common import add_db_option, add_json_option, open_store, print_json, print_table


def register(sub) -> None:
    p = sub.add_parser("db", help="back up and check the visit-record database")
    actions = p.add_subparsers(dest="action", metavar="ACTION", required=True)
    backup = actions.add_parser("backup", help="consistent copy with SQLite's backup API (safe while others write)")
    backup.add_argument("dest", metavar="DEST", help="file to create")
    backup.add_argument("--force", action="store_true", help="replace an existing DEST")
    backup.set_defaults(run=run_backup)
    check = actions.add_parser("check", help="SQLite integrity and foreign-key checks")
    check.set_defaults(run=run_check)
    verify = actions.add_parser("verify", help="are the recorded photos still there, unchanged (by sha256)?")
    verify.add_argument("--search", action="append", default=[], metavar="DIR",
                        help="look for missing or changed photos' content here (repeatable)")
    verify.set_defaults(run=run_verify)
    for q in (backup, check, verify):
        add_db_option(q)
    for q in (backup, check, verify):
        add_json_option(q)


def run_backup(args) -> int:
    with open_store(args) as store:
        dest = store.backup(args.dest, overwrite=args.force)
    if args.json:
        print_json({"database": str(store.path), "backup": str(dest)})
    else:
        print(f"backed up {store.path} to {dest}")
    return 0


def run_check(args) -> int:
    with open_store(args) as store:
        problems = store.check_integrity()
    if args.json:
        print_json({"database": str(store.path), "problems": problems})
    else:
        print("\n".join(problems) if problems else f"{store.path}: ok")
    return 7 if problems else 0


def run_verify(args) -> int:
    with open_store(args) as store:
        statuses = [store.verify_photo(photo, search_dirs=args.search)
                    for patient in store.list_patients() for visit in store.list_visits(patient)
                    for photo in store.list_photos(visit)]
    if args.json:
        print_json([to_json_dict(s) for s in statuses])
    else:
        print_table(("photo", "state", "path", "found at"),
                    [(s.photo.id, s.state, s.photo.path, ", ".join(s.candidates)) for s in statuses])
    # Not an error of lipsym, but scripts need to notice.
    return 0 if all(s.ok for s in statuses) else 1
