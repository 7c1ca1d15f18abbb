"""Which photos to analyse, and how they pair up: from a folder tree or a manifest CSV.

A *collection* is the list of :class:`Item` s a batch (or an import) works
through: one item is either a visit's rest/smile pair or a single photo. It
is built by :func:`discover`, which accepts

a folder
    Searched recursively. The documented convention (docs/batch.md) is
    ``PATIENT/YYYY-MM-DD/rest.<ext>`` and ``smile.<ext>``: a folder whose
    name is a date is a *visit folder*, and the folder above it names the
    patient. In a visit folder, ``rest`` and ``smile`` (any case, any
    supported extension) form a pair; replicates are numbered (``rest1``,
    ``rest2``, ``rest_3``; ``smile1`` ...) and pair up in number order, the
    i-th rest with the i-th smile; any other photo there is analysed
    alone with expression ``other``; a rest or smile photo without its
    partner is analysed alone with its own expression. Photos anywhere else
    in the tree are analysed alone (expression ``other``, no patient, no date).
    A photo is a file with a photo extension, or any other (non-hidden)
    file whose content starts with a photo format's or GIF's signature: a
    ``smile.gif``, a ``rest.jpe`` or an extension-less ``rest`` is found by
    what it is (#14), and notes, CSVs or JSON beside the photos are left
    alone. A file whose first bytes cannot be read to tell is reported as a
    problem and skipped.

a manifest CSV
    Columns ``patient,date,expression,path`` (header required, any order,
    extra columns ignored); ``path`` may be relative to the CSV's folder;
    ``expression`` is ``rest``, ``smile`` or ``other``. Rows sharing a
    patient and date form one visit and pair up as in a visit folder. Rows
    with neither patient nor date are single photos.

Problems that concern one photo (an impossible date, a missing file, two
files of one rest photo in one visit, ``rest.jpg`` and ``rest.png``) do not stop discovery: they are returned as
:class:`Problem` s with a one-line reason, and the other items are kept.
Only an unusable input (no such folder, a CSV without the required columns)
raises a :class:`CollectionError`.

Every item has a :attr:`Item.name`: a relative POSIX path, unique within the
collection and stable across runs (it depends on file names only), which
batch uses to name its output files.
"""

from __future__ import annotations

import csv
import datetime as _dt
import os
import re
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from lipsym.errors import ConfigurationError

#: Photo file extensions (lower case, with the dot); matching is case-insensitive.
IMAGE_EXTENSIONS = frozenset({".jpg", ".jpeg", ".png", ".tif", ".tiff", ".webp", ".bmp", ".heic", ".heif"})
#: Columns a manifest must have.
MANIFEST_COLUMNS = ("patient", "date", "expression", "path")
#: Name given to a visit's pair item, below ``PATIENT/DATE/``.
PAIR_NAME = "pair"

_EXPRESSIONS = ("rest", "smile", "other")
# Anything shaped like a date is meant as one: an impossible date is reported, not silently ignored.
_DATE_SHAPE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
#: A rest or smile photo's file stem, with its optional replicate number (``rest``, ``rest2``, ``smile_3``).
_ROLE_STEM = re.compile(r"^(rest|smile)(?:[ _-]?(\d+))?$")


class CollectionError(ConfigurationError):
    """The input cannot be read as a collection (no such folder, malformed manifest)."""


@dataclass(frozen=True)
class Problem:
    """A photo (or manifest row) left out of the collection, with a one-line reason.

    Attributes
    ----------
    file : str
        The photo's path as found or given (or ``manifest.csv:LINE``).
    reason : str
        One line, naming the file.
    """

    file: str
    reason: str


@dataclass(frozen=True)
class Item:
    """One unit of work: a visit's rest/smile pair, or one photo alone.

    Exactly one of these holds: ``rest`` and ``smile`` are both set (a pair)
    and ``other`` is None; or exactly one of ``rest``, ``smile``, ``other``
    is set (a single photo analysed with that expression).

    Attributes
    ----------
    name : str
        Relative POSIX path, unique in its collection and stable across runs,
        e.g. ``"P001/2024-05-02/pair"`` or ``"misc/photo.jpg"``.
    patient : str or None
        Patient identifier (folder name or manifest column); None when unknown.
    visit_date : datetime.date or None
    rest, smile, other : Path or None
        Photo files (as found under the input folder or resolved from the
        manifest).
    """

    name: str
    patient: str | None = None
    visit_date: _dt.date | None = None
    rest: Path | None = None
    smile: Path | None = None
    other: Path | None = None

    def __post_init__(self) -> None:
        slots = (self.rest is not None, self.smile is not None, self.other is not None)
        if slots not in {(True, True, False), (True, False, False), (False, True, False), (False, False, True)}:
            raise ConfigurationError(f"item {self.name!r}: give rest and smile, or exactly one photo")
        _check_name(self.name)

    @property
    def is_pair(self) -> bool:
        """True for a rest/smile pair."""
        return self.rest is not None and self.smile is not None

    @property
    def photos(self) -> tuple[tuple[str, Path], ...]:
        """``(expression, path)`` of each photo: ``(("rest", r), ("smile", s))`` or one entry."""
        return tuple((expr, path) for expr, path in
                     (("rest", self.rest), ("smile", self.smile), ("other", self.other)) if path is not None)


@dataclass(frozen=True)
class Collection:
    """What :func:`discover` found.

    Attributes
    ----------
    items : tuple of Item
        In a stable order (by name).
    problems : tuple of Problem
        Photos or rows left out, each with its reason.
    source : Path
        The folder or manifest discovered from.
    """

    items: tuple[Item, ...]
    problems: tuple[Problem, ...]
    source: Path

    @property
    def n_photos(self) -> int:
        """Number of photo files in the items."""
        return sum(len(item.photos) for item in self.items)


def discover(source: str | os.PathLike) -> Collection:
    """Collect the items to analyse from a folder tree or a manifest CSV.

    Parameters
    ----------
    source : path-like
        A folder (searched recursively, see the module notes) or a ``.csv``
        manifest.

    Returns
    -------
    Collection

    Raises
    ------
    CollectionError
        ``source`` does not exist, is neither a folder nor a ``.csv`` file,
        or the manifest is malformed.
    """
    path = Path(source)
    if path.is_dir():
        return discover_folder(path)
    if path.is_file() and path.suffix.lower() == ".csv":
        return read_manifest(path)
    if not path.exists():
        raise CollectionError(f"{path}: no such folder or manifest")
    raise CollectionError(f"{path}: give a folder of photos or a manifest .csv (patient,date,expression,path)")


def is_photo_file(path: str | os.PathLike) -> bool:
    """True if the name has a supported photo extension (case-insensitive) and is not hidden."""
    name = os.path.basename(path)
    return not name.startswith(".") and os.path.splitext(name)[1].lower() in IMAGE_EXTENSIONS


#: Signatures accepted for a file without a photo extension: the photo
#: formats' (:func:`lipsym.io._sniff._photo_format`) and GIF's. Other Pillow
#: formats are not sniffed here, as some have weak signatures (a text file
#: starting ``P0`` passes Pillow's PPM check).
_GIF_SIGNATURES = (b"GIF87a", b"GIF89a")


def _sniffs_as_photo(path: Path, problems: list[Problem]) -> bool:
    """Whether a file without a photo extension holds a photo, by its first bytes.

    Unreadable files are added to ``problems`` (we cannot tell) and skipped.
    """
    from lipsym.io._sniff import _photo_format

    try:
        with path.open("rb") as fp:
            prefix = fp.read(32)
    except OSError as exc:
        problems.append(Problem(str(path), f"{path}: cannot read it to tell whether it is a photo "
                                           f"({exc.strerror or exc}); skipped"))
        return False
    return prefix.startswith(_GIF_SIGNATURES) or _photo_format(prefix) is not None


def discover_folder(root: str | os.PathLike) -> Collection:
    """Collect items from a folder tree following ``PATIENT/YYYY-MM-DD/{rest,smile}.<ext>``.

    Hidden files and folders (name starting with ``.``) are skipped, and
    symbolic links to folders are not followed (no cycles).

    Parameters
    ----------
    root : path-like
        The folder; item names are paths relative to it.

    Raises
    ------
    CollectionError
        ``root`` is not a readable folder.
    """
    root = Path(root)
    if not root.is_dir():
        raise CollectionError(f"{root}: not a folder")
    walk_errors: list[OSError] = []
    items: list[Item] = []
    problems: list[Problem] = []
    for folder, dirs, files in os.walk(root, onerror=walk_errors.append):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        folder = Path(folder)
        photos = sorted(f for f in files if is_photo_file(f)
                        or (not f.startswith(".") and (folder / f).is_file() and _sniffs_as_photo(folder / f, problems)))
        if not photos:
            continue
        rel = PurePosixPath(*folder.relative_to(root).parts)
        found, lost = _folder_items(folder, rel, root, photos)
        items.extend(found)
        problems.extend(lost)
    if walk_errors and not items:
        raise CollectionError(f"{root}: cannot read folder ({walk_errors[0].strerror or walk_errors[0]})")
    problems.extend(Problem(str(e.filename), f"{e.filename}: cannot read folder ({e.strerror or e})")
                    for e in walk_errors)
    return Collection(tuple(sorted(items, key=lambda i: i.name)), tuple(problems), root)


def _folder_items(folder: Path, rel: PurePosixPath, root: Path,
                  photos: list[str]) -> tuple[list[Item], list[Problem]]:
    """Items of one folder's photos: a visit folder pairs them, any other folder does not."""
    if not rel.parts or not _DATE_SHAPE.match(rel.name):
        return [Item(name=str(rel / f), **{_role_of(f): folder / f}) for f in photos], []
    patient = rel.parent.name if len(rel.parts) > 1 else root.resolve().name
    try:
        day = _dt.date.fromisoformat(rel.name)
    except ValueError:
        reason = f"visit folder {rel.name!r} is not a valid date (YYYY-MM-DD)"
        return [], [Problem(str(folder / f), f"{folder / f}: {reason}") for f in photos]
    return _visit_items(str(rel), patient, day, [(_role_of(f), folder / f) for f in photos])


def _role_of(filename: str) -> str:
    m = _ROLE_STEM.match(os.path.splitext(filename)[0].lower())
    return m.group(1) if m else "other"


def _replicate_order(path: Path) -> tuple[int, str]:
    """Sort key of a replicate: its number (none = 0), then its name."""
    m = _ROLE_STEM.match(path.stem.lower())
    return (int(m.group(2)) if m and m.group(2) else 0, path.name.lower())


def _visit_items(prefix: str, patient: str, day: _dt.date,
                 photos: list[tuple[str, Path]]) -> tuple[list[Item], list[Problem]]:
    """Pair a visit's photos: the i-th rest with the i-th smile (replicate order); the rest alone.

    One pair keeps the name ``pair``; replicate pairs are ``pair1``,
    ``pair2``, ... Two files with one stem (``rest.jpg``, ``rest.png``) are
    the same photo twice: both are refused.

    Parameters
    ----------
    prefix : str
        Name prefix of the visit's items (``PATIENT/DATE``).
    photos : list of (role, path)
        role in {"rest", "smile", "other"}.
    """
    items: list[Item] = []
    problems: list[Problem] = []
    by_role: dict[str, list[Path]] = {"rest": [], "smile": [], "other": []}
    for role, path in photos:
        by_role[role].append(path)
    for role in ("rest", "smile"):
        stems: dict[str, list[Path]] = {}
        for p in by_role[role]:
            stems.setdefault(p.stem.lower(), []).append(p)
        for same in (paths for paths in stems.values() if len(paths) > 1):
            names = ", ".join(p.name for p in same)
            problems.extend(Problem(str(p), f"{p}: visit {prefix} has several {role} photos of one name ({names}); "
                                    "keep one") for p in same)
        by_role[role] = sorted((paths[0] for paths in stems.values() if len(paths) == 1), key=_replicate_order)
    rest, smile = by_role["rest"], by_role["smile"]
    visit = {"patient": patient, "visit_date": day}
    paired = min(len(rest), len(smile))
    for i in range(paired):
        name = PAIR_NAME if paired == 1 else f"{PAIR_NAME}{i + 1}"
        items.append(Item(name=f"{prefix}/{name}", rest=rest[i], smile=smile[i], **visit))
    items.extend(Item(name=f"{prefix}/{p.name}", **{role: p}, **visit)
                 for role, paths in (("rest", rest[paired:]), ("smile", smile[paired:])) for p in paths)
    seen: set[str] = set()
    for p in by_role["other"]:
        name = f"{prefix}/{p.name}"
        if name in seen:
            problems.append(Problem(str(p), f"{p}: another photo of visit {prefix} has the same file name"))
            continue
        seen.add(name)
        items.append(Item(name=name, other=p, **visit))
    return items, problems


def read_manifest(path: str | os.PathLike) -> Collection:
    """Collect items from a manifest CSV with columns ``patient,date,expression,path``.

    Parameters
    ----------
    path : path-like
        UTF-8 CSV (a spreadsheet's byte-order mark is accepted). ``path``
        values may be absolute or relative to the CSV's folder.

    Raises
    ------
    CollectionError
        The file cannot be read, is not UTF-8 CSV, or lacks a required column.
    """
    manifest = Path(path)
    try:
        text = manifest.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise CollectionError(f"{manifest}: cannot read manifest ({exc.strerror or exc})") from exc
    except UnicodeDecodeError:
        raise CollectionError(f"{manifest}: not a UTF-8 text file; save the manifest as UTF-8 CSV") from None
    try:
        rows = list(csv.reader(text.splitlines(), delimiter=manifest_delimiter(text)))
    except csv.Error as exc:
        raise CollectionError(f"{manifest}: not a valid CSV ({exc})") from None
    if not rows:
        raise CollectionError(f"{manifest}: empty manifest; expected a header {','.join(MANIFEST_COLUMNS)}")
    header = [h.strip().lower() for h in rows[0]]
    missing = [c for c in MANIFEST_COLUMNS if c not in header]
    if missing:
        raise CollectionError(f"{manifest}: missing column(s) {', '.join(missing)}; "
                              f"expected a header {','.join(MANIFEST_COLUMNS)}")
    column = {c: header.index(c) for c in MANIFEST_COLUMNS}
    base = manifest.parent
    visits: dict[tuple[str, _dt.date], list[tuple[str, Path]]] = {}
    items: list[Item] = []
    problems: list[Problem] = []
    for line, row in enumerate(rows[1:], start=2):
        if not any(cell.strip() for cell in row):
            continue
        where = f"{manifest}:{line}"
        cells = {c: (row[i].strip() if i < len(row) else "") for c, i in column.items()}
        parsed = _manifest_row(cells, base, where)
        if isinstance(parsed, Problem):
            problems.append(parsed)
            continue
        patient, day, expression, photo = parsed
        if patient is None:
            items.append(Item(name=_loose_name(photo, base), **{expression: photo}))
        else:
            visits.setdefault((patient, day), []).append((expression, photo))
    for (patient, day), photos in visits.items():
        found, lost = _visit_items(f"{patient}/{day.isoformat()}", patient, day, photos)
        items.extend(found)
        problems.extend(lost)
    items, clashes = _unique_names(items)
    return Collection(tuple(sorted(items, key=lambda i: i.name)), tuple(problems + clashes), manifest)


def manifest_delimiter(text: str) -> str:
    """The manifest's separator: ``;`` or a tab when its header has more of it than commas, else ``,``.

    Spreadsheets in locales with a decimal comma save "CSV" with semicolons.

    Examples
    --------
    >>> manifest_delimiter("patient;date;expression;path"), manifest_delimiter("patient,date")
    (';', ',')
    """
    header = text.split("\n", 1)[0]
    return max((",", ";", "\t"), key=header.count) if header else ","


def _manifest_row(cells: dict[str, str], base: Path,
                  where: str) -> tuple[str | None, _dt.date | None, str, Path] | Problem:
    """Validate one manifest row: (patient, date, expression, resolved path) or a Problem."""
    if not cells["path"]:
        return Problem(where, f"{where}: empty path")
    photo = Path(cells["path"]).expanduser()
    photo = photo if photo.is_absolute() else base / photo
    shown = f"{where} ({cells['path']})"
    expression = cells["expression"].lower() or "other"
    if expression not in _EXPRESSIONS:
        return Problem(str(photo), f"{shown}: expression must be rest, smile or other, got {cells['expression']!r}")
    patient, date_text = cells["patient"] or None, cells["date"]
    if (patient is None) != (not date_text):
        return Problem(str(photo), f"{shown}: give both patient and date, or neither")
    day = None
    if date_text:
        try:
            day = _dt.date.fromisoformat(date_text)
        except ValueError:
            return Problem(str(photo), f"{shown}: date {date_text!r} is not a valid date (YYYY-MM-DD)")
    if patient is not None and (patient in (".", "..") or "/" in patient or "\\" in patient):
        return Problem(str(photo), f"{shown}: patient {patient!r} may not contain / or \\ or be . or ..")
    if not photo.is_file():
        return Problem(str(photo), f"{shown}: no such photo file")
    return patient, day, expression, photo


def _loose_name(photo: Path, base: Path) -> str:
    """Name of a photo without patient/date: its path below the manifest's folder, else its absolute path."""
    try:
        parts = photo.relative_to(base).parts
    except ValueError:
        parts = ("..",)
    if ".." in parts:
        parts = ("_absolute", *photo.resolve().parts[1:])
    return str(PurePosixPath(*parts))


def _unique_names(items: list[Item]) -> tuple[list[Item], list[Problem]]:
    """Keep the first item of each name; report the others (a manifest can name a photo twice)."""
    kept: dict[str, Item] = {}
    problems = []
    for item in items:
        if item.name in kept:
            files = ", ".join(str(p) for _, p in item.photos)
            problems.append(Problem(files, f"{files}: listed twice in the manifest (as {item.name})"))
        else:
            kept[item.name] = item
    return list(kept.values()), problems


def _check_name(name: str) -> None:
    parts = PurePosixPath(name).parts
    if not parts or name.startswith("/") or any(p in (".", "..") for p in parts) or "\\" in name:
        raise ConfigurationError(f"item name {name!r} must be a relative path without . or ..")
