"""Manual landmark corrections: a user moves points, the measures follow.

A clinician who sees a wrong point (a cheilion placed in a shadow, a bow peak
on a highlight) drags it to where it belongs. :func:`apply_corrections` makes
a NEW frozen :class:`PhotoAnalysis` with the points moved, the facial frame
and the named anatomy rebuilt from them, and provenance ``"manual"``; no
detection runs again and the photo is not read, so it is fast enough to run on
every drag (``benchmarks/correction_speed.py``). The measures then come from
:func:`lipsym.measures.measure_photo` / :func:`lipsym.measures.measure_pair`
unchanged. The automatic analysis is never modified.

Correctable points and their stable names (:data:`CORRECTABLE_POINTS`), all
in the photo's ORIGINAL pixels (x right, y down, pixel centres at integers),
sides always the SUBJECT's:

- ``pupil_right``, ``pupil_left``: MediaPipe vertices 468 / 473. Moving one
  moves the facial frame (axis, origin, interpupillary distance) and, with an
  interpupillary-distance calibration, the scale.
- ``cheilion_right``, ``cheilion_left`` (61 / 291), ``labrale_superius`` (0),
  ``labrale_inferius`` (17): vertices shared with the lip contours, so the
  contours move with them.
- ``crista_philtri_right``, ``crista_philtri_left`` (Cupid's bow peaks) and
  ``stomion``: DERIVED points (the peaks from a spline through the upper
  vermilion border, the stomion the midpoint of vertices 13 and 14). A move
  overrides the derived point itself and the measures use exactly that
  position; an unmoved peak is derived again from the (possibly moved) border.
- ``mesh_NNN``: every other vertex of the four lip contours
  (:data:`lipsym.face._anatomy.OUTER_UPPER` etc.), by its MediaPipe index,
  three digits (``mesh_037``, ``mesh_267``, ``mesh_013``).

A :class:`Corrections` document lists absolute target positions, one per
point; applying corrections to an already corrected analysis starts again
from its automatic analysis with the earlier moves, the new ones replacing
earlier moves of the same point, so the result never depends on the order of
drags. Quality flags and warnings are those of the automatic analysis (they
describe the photo and the detection); the iris scale is unchanged (the iris
edges are not correctable).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, replace
from types import MappingProxyType
from typing import Any

import numpy as np

from lipsym.analysis._result import PhotoAnalysis
from lipsym.errors import CorrectionError
from lipsym.face._anatomy import (FIXED_POINTS, INNER_LOWER, INNER_UPPER, OUTER_LOWER, OUTER_UPPER, Anatomy,
                                  anatomy_from_landmarks)
from lipsym.face._frame import frame_from_landmarks
from lipsym.face._scale import Scale

#: A point within this distance of its automatic position is not moved, px (far below any
#: drag: a thousandth of a pixel; positions printed to 4 decimals read back within it).
UNMOVED_PX = 1e-3
#: Schema name of the corrections document (:data:`lipsym.formats.SCHEMAS`).
CORRECTIONS_SCHEMA = "lipsym.corrections"
CORRECTIONS_SCHEMA_VERSION = 1

#: Named points that are one MediaPipe vertex: name → index.
VERTEX_POINTS: Mapping[str, int] = MappingProxyType({
    name: FIXED_POINTS[name] for name in
    ("pupil_right", "pupil_left", "cheilion_right", "cheilion_left", "labrale_superius", "labrale_inferius")
})
#: Named points computed from others (overridden, not moved as a vertex).
DERIVED_POINTS = ("crista_philtri_right", "crista_philtri_left", "stomion")


def _contour_vertices() -> tuple[int, ...]:
    named = set(VERTEX_POINTS.values())
    out: list[int] = []
    for i in OUTER_UPPER + OUTER_LOWER + INNER_UPPER + INNER_LOWER:
        if i not in named and i not in out:
            out.append(i)
    return tuple(out)


#: Lip contour vertices correctable as ``mesh_NNN`` (those not already a named point).
CONTOUR_VERTICES = _contour_vertices()


def mesh_name(index: int) -> str:
    """The correctable name of a lip contour vertex, e.g. ``mesh_037``."""
    return f"mesh_{index:03d}"


#: Every correctable point's name → MediaPipe vertex index (None for a derived point).
CORRECTABLE_POINTS: Mapping[str, int | None] = MappingProxyType({
    **{n: i for n, i in VERTEX_POINTS.items()},
    **{n: None for n in DERIVED_POINTS},
    **{mesh_name(i): i for i in CONTOUR_VERTICES},
})


def _finite(value: Any, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise CorrectionError(f"{what} must be a number, got {value!r}")
    value = float(value)
    if not math.isfinite(value):
        raise CorrectionError(f"{what} must be a finite number, got {value}")
    return value


@dataclass(frozen=True)
class PointMove:
    """Where the user put one point.

    Attributes
    ----------
    name : str
        A name of :data:`CORRECTABLE_POINTS`.
    x_px, y_px : float
        The point's new position, original photo pixels (x right, y down).

    Raises
    ------
    CorrectionError
        Unknown name or a coordinate that is not a finite number.
    """

    name: str
    x_px: float
    y_px: float

    def __post_init__(self):
        if not isinstance(self.name, str) or self.name not in CORRECTABLE_POINTS:
            raise CorrectionError(f"unknown point {self.name!r}: not a correctable point "
                                  "(pupils, cheilions, crista_philtri, labrales, stomion or mesh_NNN of a lip contour)")
        object.__setattr__(self, "x_px", _finite(self.x_px, f"x_px of {self.name}"))
        object.__setattr__(self, "y_px", _finite(self.y_px, f"y_px of {self.name}"))


@dataclass(frozen=True)
class Corrections:
    """The points a user moved on one photo.

    Attributes
    ----------
    moves : tuple of PointMove
        At most one move per point.

    Raises
    ------
    CorrectionError
        A point is moved twice.

    Examples
    --------
    >>> c = Corrections((PointMove("cheilion_right", 410.0, 622.5),))
    >>> Corrections.from_dict(c.to_dict()) == c
    True
    """

    moves: tuple[PointMove, ...] = ()

    def __post_init__(self):
        moves = tuple(self.moves)
        if not all(isinstance(m, PointMove) for m in moves):
            raise CorrectionError("corrections must be PointMove values")
        names = [m.name for m in moves]
        twice = sorted({n for n in names if names.count(n) > 1})
        if twice:
            raise CorrectionError(f"point {twice[0]!r} is moved twice; give one position per point")
        object.__setattr__(self, "moves", moves)

    def __len__(self) -> int:
        return len(self.moves)

    def merged(self, later: Corrections) -> Corrections:
        """These moves with ``later``'s added, a later move of a point replacing this one."""
        again = {m.name for m in later.moves}
        return Corrections(tuple(m for m in self.moves if m.name not in again) + later.moves)

    def to_dict(self) -> dict[str, Any]:
        """The versioned JSON document (schema ``lipsym.corrections``).

        The envelope is :func:`lipsym.formats.envelope`'s, written here
        because the formats layer sits above this one (a test checks the two agree).
        """
        from lipsym import __version__

        return {"schema": CORRECTIONS_SCHEMA, "schema_version": CORRECTIONS_SCHEMA_VERSION,
                "lipsym_version": __version__,
                "moves": [{"point": m.name, "x_px": m.x_px, "y_px": m.y_px} for m in self.moves]}

    @classmethod
    def from_dict(cls, document: Any) -> Corrections:
        """Read a corrections document (see :meth:`to_dict` and docs/corrections.md).

        Raises
        ------
        CorrectionError
            Not a ``lipsym.corrections`` document of a version this lipsym
            reads, or a malformed move; the message is one line.
        """
        if not isinstance(document, Mapping):
            raise CorrectionError("a corrections document must be a JSON object")
        if document.get("schema") != CORRECTIONS_SCHEMA:
            raise CorrectionError(f"not a corrections document: schema must be {CORRECTIONS_SCHEMA!r}, "
                                  f"got {document.get('schema')!r}")
        version = document.get("schema_version")
        if isinstance(version, bool) or not isinstance(version, int) or not 1 <= version <= CORRECTIONS_SCHEMA_VERSION:
            raise CorrectionError(f"corrections schema_version {version!r} is not one this lipsym reads "
                                  f"(1 to {CORRECTIONS_SCHEMA_VERSION})")
        unknown = set(document) - {"schema", "schema_version", "lipsym_version", "moves"}
        if unknown:
            raise CorrectionError(f"corrections document has unknown field(s): {', '.join(sorted(unknown))}")
        moves = document.get("moves")
        if not isinstance(moves, list):
            raise CorrectionError("corrections document needs 'moves', a list of {point, x_px, y_px}")
        out = []
        for k, move in enumerate(moves):
            if not isinstance(move, Mapping) or set(move) != {"point", "x_px", "y_px"}:
                raise CorrectionError(f"move {k + 1} must be an object with exactly point, x_px and y_px")
            out.append(PointMove(move["point"], move["x_px"], move["y_px"]))
        return cls(tuple(out))

    @classmethod
    def from_json(cls, text: str | bytes) -> Corrections:
        """Read a corrections document from JSON text (:meth:`from_dict`).

        Raises
        ------
        CorrectionError
            Not valid JSON, or see :meth:`from_dict`.
        """
        import json

        try:
            document = json.loads(text)
        except (ValueError, UnicodeDecodeError) as error:
            raise CorrectionError(f"corrections file is not valid JSON ({error})") from None
        return cls.from_dict(document)


def read_corrections(path) -> Corrections:
    """Read a corrections file (JSON, :meth:`Corrections.from_dict`).

    Raises
    ------
    CorrectionError
        The file cannot be read, is not JSON or not a corrections document;
        the one-line message names the file.
    """
    import os

    name = os.fspath(path)
    try:
        with open(name, "rb") as stream:
            text = stream.read((1 << 20) + 1)
    except OSError as error:
        raise CorrectionError(f"{name}: cannot read the corrections file ({error.strerror or error})") from None
    if len(text) > 1 << 20:
        raise CorrectionError(f"{name}: a corrections file larger than 1 MiB is not one")
    try:
        return Corrections.from_json(text)
    except CorrectionError as error:
        raise CorrectionError(f"{name}: {error}") from None


@dataclass(frozen=True)
class AppliedMove:
    """One point moved by hand, and how far.

    Attributes
    ----------
    name : str
    from_px, to_px : tuple of float
        (x, y) in the automatic analysis and after the move, original photo px.
    displacement_px : tuple of float
        ``to_px - from_px`` in the photo (x right, y down), px.
    displacement_frame_mm : tuple of float
        The same displacement in the automatic analysis's facial frame, mm:
        (towards the subject's left, up).
    distance_mm : float
    """

    name: str
    from_px: tuple[float, float]
    to_px: tuple[float, float]
    displacement_px: tuple[float, float]
    displacement_frame_mm: tuple[float, float]
    distance_mm: float

    def to_dict(self) -> dict[str, Any]:
        """As JSON values (the store and ``--json`` outputs record this)."""
        return {"point": self.name, "from_px": list(self.from_px), "to_px": list(self.to_px),
                "displacement_px": list(self.displacement_px),
                "displacement_frame_mm": list(self.displacement_frame_mm), "distance_mm": self.distance_mm}


def correctable_points(analysis: PhotoAnalysis) -> dict[str, tuple[float, float]]:
    """Every correctable point of an analysis and where it is.

    Parameters
    ----------
    analysis : PhotoAnalysis
        Automatic or already corrected.

    Returns
    -------
    dict of str to (float, float)
        Name (:data:`CORRECTABLE_POINTS`, in its order) → (x, y) in
        ORIGINAL photo pixels, as the measures use them.
    """
    named, pts = analysis.anatomy.points_px, analysis.points_px
    out = {}
    for name, index in CORRECTABLE_POINTS.items():
        p = named[name] if name in named else pts[index, :2]
        out[name] = (float(p[0]), float(p[1]))
    return out


def _check_inside(move: PointMove, analysis: PhotoAnalysis) -> None:
    # Pixel centres are at integers, so the photo spans [-0.5, size - 0.5].
    w, h = analysis.width_px, analysis.height_px
    if not (-0.5 <= move.x_px <= w - 0.5 and -0.5 <= move.y_px <= h - 0.5):
        raise CorrectionError(f"point {move.name} at ({move.x_px:g}, {move.y_px:g}) px is outside the photo "
                              f"({w} × {h} px)")


def _scale_after(scale: Scale, ipd_px: float) -> Scale:
    # An interpupillary-distance calibration follows the moved pupils; the
    # iris and a direct mm/px calibration do not depend on them.
    if scale.source == "calibration_ipd" and scale.reference_mm is not None:
        return replace(scale, mm_per_px=scale.reference_mm / ipd_px)
    return scale


def _corrections_of(analysis: PhotoAnalysis) -> Corrections:
    return Corrections(tuple(PointMove(m.name, *m.to_px) for m in analysis.corrections))


def apply_corrections(analysis: PhotoAnalysis, corrections: Corrections) -> PhotoAnalysis:
    """A new analysis with the given points moved by hand.

    Parameters
    ----------
    analysis : PhotoAnalysis
        The automatic analysis, or a corrected one (its automatic analysis is
        corrected again with its moves and these, these replacing earlier
        moves of the same point).
    corrections : Corrections

    Returns
    -------
    PhotoAnalysis
        Provenance ``"manual"`` (even with no moves), ``corrections`` the
        moves with their displacements (a point put back within
        :data:`UNMOVED_PX` of its automatic position is left out: that
        undoes its move), the frame rebuilt from the moved
        points (so moved pupils move the frame), the anatomy rebuilt (bow
        peaks derived again from a moved border unless moved themselves),
        ``automatic`` the analysis before any correction. No detection, no
        photo access.

    Raises
    ------
    CorrectionError
        A point outside the photo.
    MeasurementError
        The pupils were moved onto each other.
    """
    if not isinstance(corrections, Corrections):
        raise CorrectionError(f"corrections must be a Corrections value, got {type(corrections).__name__}")
    base = analysis.automatic if analysis.automatic is not None else analysis
    wanted = _corrections_of(analysis).merged(corrections) if analysis.automatic is not None else corrections
    for move in wanted.moves:
        _check_inside(move, base)
    before = correctable_points(base)
    # A point put back where the automatic analysis had it is not a move (that is how a move is undone).
    wanted = Corrections(tuple(m for m in wanted.moves
                               if math.hypot(m.x_px - before[m.name][0], m.y_px - before[m.name][1]) > UNMOVED_PX))
    points = np.array(base.points_px, dtype=np.float64)
    derived = {}
    for move in wanted.moves:
        index = CORRECTABLE_POINTS[move.name]
        if index is None:
            derived[move.name] = np.array([move.x_px, move.y_px])
        else:
            points[index, :2] = (move.x_px, move.y_px)
    points.flags.writeable = False
    frame = frame_from_landmarks(points)
    # As analyze_landmarks does: refined points locate the bow peak along MediaPipe's border.
    reference = None if base.refinement is None else base.landmarks.points_px
    anatomy = anatomy_from_landmarks(points, frame, bow_reference_px=reference)
    if derived:
        named = dict(anatomy.points_px)
        for name, xy in derived.items():
            xy.flags.writeable = False
            named[name] = xy
        anatomy = Anatomy(points_px=MappingProxyType(named), contours=anatomy.contours)
    scale = _scale_after(base.scale, frame.interpupillary_distance_px)
    applied = tuple(_applied(m, before[m.name], base, scale) for m in wanted.moves)
    return replace(base, frame=frame, anatomy=anatomy, scale=scale, provenance="manual", corrections=applied,
                   corrected_points_px=points, automatic=base)


def _applied(move: PointMove, from_xy: tuple[float, float], base: PhotoAnalysis, scale: Scale) -> AppliedMove:
    d = np.array([move.x_px - from_xy[0], move.y_px - from_xy[1]])
    frame = base.frame
    d_frame_mm = np.array([d @ frame.x_axis, d @ frame.y_axis]) * scale.mm_per_px
    return AppliedMove(
        name=move.name,
        from_px=from_xy,
        to_px=(move.x_px, move.y_px),
        displacement_px=(float(d[0]), float(d[1])),
        displacement_frame_mm=(float(d_frame_mm[0]), float(d_frame_mm[1])),
        distance_mm=float(np.hypot(*d) * scale.mm_per_px),
    )
