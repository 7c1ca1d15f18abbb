"""``lipsym treatment add|edit|delete|restore``: products injected at a visit."""

from __future__ import annotations

from lipsym.errors import ConfigurationError
from lipsym.visits._documents import treatment_document
from lipsym.visits.store import SiteSpec
from lipsym.visits._timeline import load_timeline
from lipsym.visits.store import _validate as validate
from lipsym.visits._plausibility import dose_implausibility, visit_date_implausibility
from lipsym.cli.common import add_force_option, refuse_implausible
from lipsym.cli.store_common import (
    add_db_option,
    add_edit_parser,
    add_json_option,
    add_removal_actions,
    given,
    open_store,
    print_json,
    id_target,
)


def register(sub) -> None:
    p = sub.add_parser("treatment", help="record a treatment (product, dose, injection sites)")
    actions = p.add_subparsers(dest="action", metavar="ACTION", required=True)
    add = actions.add_parser(
        "add", help="record a product injected at a visit",
        description="Record a product injected at a visit. --visit names the visit (id, YYYY-MM-DD, "
                    "YYYY-MM-DD:KIND, or a kind the patient has once); a date with no visit yet gets a new "
                    "'treatment' visit. Sides are the PATIENT's.")
    add.add_argument("patient", metavar="PATIENT")
    add.add_argument("--visit", required=True, metavar="VISIT")
    add.add_argument("--product", required=True, metavar="NAME", help="product name")
    add.add_argument("--type", required=True, dest="product_type", metavar="TYPE",
                     help="ha_filler, neuromodulator or other")
    add.add_argument("--dose", required=True, type=float, metavar="AMOUNT", help="total dose")
    add.add_argument("--unit", required=True, metavar="UNIT", help="mL (fillers) or U (neuromodulators)")
    add.add_argument("--site", action="append", default=[], metavar="REGION:SIDE[:DOSE]",
                     help="injection site, e.g. upper_lip:left or commissure:right:0.2 (repeatable)")
    add.add_argument("--lot")
    add.add_argument("--technique")
    add.add_argument("--injector")
    add.add_argument("--notes")
    add_force_option(add, "accept a dose outside the plausible range of its product type, or a future date")
    add_db_option(add)
    add_json_option(add)
    add.set_defaults(run=run_add)
    edit = add_edit_parser(actions, "treatment", _TARGET, run_edit)
    edit.add_argument("--product", metavar="NAME", help="product name")
    edit.add_argument("--type", dest="product_type", metavar="TYPE", help="ha_filler, neuromodulator or other")
    edit.add_argument("--dose", type=float, metavar="AMOUNT", help="total dose")
    edit.add_argument("--unit", metavar="UNIT", help="mL (fillers) or U (neuromodulators)")
    edit.add_argument("--site", action="append", metavar="REGION:SIDE[:DOSE]",
                      help="injection site (repeatable; the sites given replace all recorded ones)")
    edit.add_argument("--no-sites", action="store_true", help="remove all recorded injection sites")
    for name in ("lot", "technique", "injector", "notes"):
        edit.add_argument(f"--{name}")
    add_force_option(edit, "accept a dose outside the plausible range of its product type")
    add_removal_actions(actions, "treatment", "treatments", _TARGET, _LOCATE,
                        lambda t: f"treatment {t.id} ({t.product_name} {t.dose_value:g} {t.dose_unit})")


_TARGET, _LOCATE = id_target("treatment")


def parse_site(text: str) -> SiteSpec:
    """``REGION:SIDE[:DOSE]`` → SiteSpec (region and side are checked by the store)."""
    parts = text.split(":")
    if len(parts) not in (2, 3) or not all(p.strip() for p in parts):
        raise ConfigurationError(f"site {text!r}: expected REGION:SIDE[:DOSE], e.g. upper_lip:left")
    dose = None
    if len(parts) == 3:
        try:
            dose = float(parts[2])
        except ValueError:
            raise ConfigurationError(f"site {text!r}: dose {parts[2]!r} is not a number") from None
    return SiteSpec(region=parts[0], side=parts[1], dose_value=dose)


def run_add(args) -> int:
    sites = [parse_site(s) for s in args.site]
    _check_plausible(args, sites)
    details = dict(product_name=args.product, product_type=args.product_type, dose_value=args.dose,
                   dose_unit=args.unit, sites=sites, lot=args.lot, technique=args.technique,
                   injector=args.injector, notes=args.notes)
    with open_store(args) as store:
        with store.transaction():
            # One transaction: a visit created for the treatment is undone if
            # the treatment is refused.
            visit = _visit_for(store, args.patient, args.visit)
            treatment = store.add_treatment(visit, **details)
    if args.json:
        print_json(treatment_document(treatment))
    else:
        print(f"recorded {treatment.product_name} {treatment.dose_value:g} {treatment.dose_unit} "
              f"at visit {visit.id} ({visit.visit_date.isoformat()} {visit.kind}) of {args.patient}")
    return 0


def run_edit(args) -> int:
    changes = given(args, product_name="product", product_type="product_type", dose_value="dose",
                    dose_unit="unit", lot="lot", technique="technique", injector="injector", notes="notes")
    if args.site is not None or args.no_sites:
        changes["sites"] = [parse_site(s) for s in args.site or ()]
    with open_store(args) as store:
        current = store.get_treatment(args.treatment_id)
        _check_edit_plausible(args, current, changes)
        treatment = store.edit_treatment(current, **changes)
    if args.json:
        print_json(treatment_document(treatment))
    else:
        sites = ", ".join(f"{s.region}:{s.side}" + (f":{s.dose_value:g}" if s.dose_value is not None else "")
                          for s in treatment.sites) or "no sites"
        print(f"treatment {treatment.id} is now: {treatment.product_name} ({treatment.product_type})"
              f" {treatment.dose_value:g} {treatment.dose_unit}, {sites}")
    return 0


def _check_edit_plausible(args, current, changes) -> None:
    """Refuse an implausible corrected dose unless --force (the store checks the rest)."""
    try:
        kind = validate.product_type(changes.get("product_type", current.product_type))
        unit = validate.dose_unit(changes.get("dose_unit", current.dose_unit))
    except ConfigurationError:
        return
    doses = [changes.get("dose_value", current.dose_value)]
    doses += [s.dose_value for s in changes.get("sites", current.sites) if s.dose_value is not None]
    for dose in doses:
        refuse_implausible(dose_implausibility(kind, dose, unit), f"treatment {current.id}", args.force)


def _check_plausible(args, sites) -> None:
    """Refuse an implausible dose or future visit date (before the store is opened) unless --force."""
    # The store's spellings ("filler", "ml") are made canonical first; invalid ones are the store's to refuse.
    try:
        kind, unit = validate.product_type(args.product_type), validate.dose_unit(args.unit)
    except ConfigurationError:
        return
    problems = [dose_implausibility(kind, args.dose, unit), visit_date_implausibility(args.visit)]
    problems += [dose_implausibility(kind, s.dose_value, unit) for s in sites if s.dose_value is not None]
    for problem in problems:
        refuse_implausible(problem, args.patient, args.force)


def _visit_for(store, patient: str, ref: str):
    timeline = load_timeline(store, patient)
    is_plain_date = len(ref) == 10 and ref[:4].isdigit() and ref[4] == "-"
    if is_plain_date and not any(v.visit.visit_date.isoformat() == ref for v in timeline.visits):
        return store.add_visit(patient, ref, "treatment")
    return timeline.find(ref).visit
