"""``lipsym visit add``: record a visit of a patient."""

from __future__ import annotations

from lipsym.visits._documents import visit_document
from lipsym.visits._plausibility import visit_date_implausibility
from lipsym.cli.common import add_force_option, refuse_implausible
from lipsym.cli.store_common import add_db_option, add_json_option, open_store, print_json


def register(sub) -> None:
    p = sub.add_parser("visit", help="add a visit to a patient's record")
    actions = p.add_subparsers(dest="action", metavar="ACTION", required=True)
    add = actions.add_parser("add", help="add a visit", description="Add a visit (the patient must exist).")
    add.add_argument("patient", metavar="PATIENT")
    add.add_argument("date", metavar="YYYY-MM-DD")
    add.add_argument("--kind", required=True, metavar="KIND", help="baseline, treatment, follow-up or maintenance")
    add.add_argument("--notes")
    add_force_option(add, "accept a date in the future")
    add_db_option(add)
    add_json_option(add)
    add.set_defaults(run=run_add)


def run_add(args) -> int:
    refuse_implausible(visit_date_implausibility(args.date), args.patient, args.force)
    with open_store(args) as store:
        visit = store.add_visit(args.patient, args.date, args.kind, notes=args.notes)
    if args.json:
        print_json(visit_document(visit))
    else:
        print(f"added {visit.kind} visit {visit.id} of {args.patient} on {visit.visit_date.isoformat()}")
    return 0
