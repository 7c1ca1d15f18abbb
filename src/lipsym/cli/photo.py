"""``lipsym photo edit|delete|restore``: correct the photos recorded for a visit.

A photo's expression decides how it is analysed (rest or smile): analyses
made before a correction of it are stale, and the command says which, so
that they can be redone (``lipsym analyze-pending`` analyses what has no
analysis; delete the stale analyses' photo pair first, or re-import).
"""

from __future__ import annotations

import sys

from lipsym.cli.store_common import (
    add_edit_parser,
    add_removal_actions,
    change_document,
    given,
    open_store,
    print_json,
    id_target,
)


def register(sub) -> None:
    p = sub.add_parser("photo", help="correct, delete and restore recorded photos")
    actions = p.add_subparsers(dest="action", metavar="ACTION", required=True)
    edit = add_edit_parser(actions, "photo", _TARGET, run_edit)
    edit.add_argument("--expression", metavar="EXPRESSION", help="rest, smile or other")
    edit.add_argument("--path", metavar="FILE", help="where the photo is now (must have the recorded content)")
    add_removal_actions(actions, "photo", "photos", _TARGET, _LOCATE,
                        lambda photo: f"photo {photo.id} ({photo.expression}, {photo.path})")


_TARGET, _LOCATE = id_target("photo")


def run_edit(args) -> int:
    changes = given(args, expression="expression", path="path")
    with open_store(args) as store:
        before = store.get_photo(args.photo_id)
        photo = store.edit_photo(before, **changes)
        stale = ([a.id for a in store.analyses_of_photo(photo)]
                 if photo.expression != before.expression else [])
    if args.json:
        print_json(change_document("photos", photo.id, "edit", 1, record=photo, stale_analyses=stale))
    else:
        print(f"photo {photo.id} is now: {photo.expression}, {photo.path}")
    if stale:
        print(f"lipsym: warning: analyses {', '.join(map(str, stale))} were made when photo {photo.id} was"
              f" {before.expression!r}; they are stale: delete and re-import the photo, or re-analyse it",
              file=sys.stderr)
    return 0
