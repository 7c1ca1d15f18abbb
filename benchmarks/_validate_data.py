"""Data sets, manual ground truth and a detection cache for benchmarks/validate.py.

Two development sets with the same FRL-189 manual points (../shared/README.md):

- ``london``: 34 people, 1350 × 1350, neutral photos annotated (``gt/NNN_03.frl189.json``),
  the same people smiling (no manual points); ``london_info.csv`` gives ``face_eth``.
- ``3dsk``: 50 people, 1350 × 1800, neutral (``gt/NAME.frl189.json``); no ethnicity labels.

The FRL-189 files name IMAGE sides (point 87 is the image-left mouth corner); every
photo here is an ordinary, non-mirrored photo, so the image left is the subject's
:attr:`~lipsym.sides.Side.RIGHT`. :class:`Manual` converts once, to subject sides.

The cache keeps only MediaPipe's output (:class:`~lipsym.landmarks.FaceLandmarks`),
keyed by the sha256 of the decoded pixels the detector saw, the model's sha256,
the landmarker options and the sha256 of the landmark module's source: the
refinement and the measures always run anew, so a changed refinement can never be
served stale results.
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType

import numpy as np

from lipsym.face._frame import FacialFrame
from lipsym.io._photo import Photo
from lipsym.landmarks._detector import FaceLandmarks, HeadPose, Landmarker, LandmarkerOptions
from lipsym.sides import Side

REPO = Path(__file__).resolve().parents[1]
DATA = REPO.parent / "shared" / "data"
#: $LIPSYM_LONDON_DEV / $LIPSYM_3DSK_DEV override the data folders (tests point them at empty ones).
LONDON = Path(os.environ.get("LIPSYM_LONDON_DEV") or DATA / "london_dev")
THREEDSK = Path(os.environ.get("LIPSYM_3DSK_DEV") or DATA / "3dsk_dev")
LABELS = REPO / "benchmarks" / "labels"

#: Ordinary photos: the image's left is the subject's right.
IMAGE_LEFT = Side.RIGHT
IMAGE_RIGHT = IMAGE_LEFT.other

# FRL-189 indices in image-left → image-right order (= subject right → left here).
_PUPILS = (0, 1)
_CHEILIA = (87, 93)
_CRISTAE = (89, 91)
_ENDOCANTHIA = (22, 23)
OUTER_UPPER = (87, 88, 89, 90, 91, 92, 93)
INNER_UPPER = (87, 94, 95, 96, 97, 98, 93)
INNER_LOWER = (87, 99, 100, 101, 102, 103, 93)
OUTER_LOWER = (87, 104, 105, 106, 107, 108, 93)


@dataclass(frozen=True)
class Face:
    """One annotated (or smiling, unannotated) photo of a development set.

    Attributes
    ----------
    set : {"london", "3dsk"}
    id : str
    image : Path
    gt : Path or None
        The FRL-189 file; None for London's smiling photos.
    groups : mapping of str to str
        Breakdown labels: ``skin`` (London ``face_eth``; "unlabelled" on 3DSK),
        ``beard`` ("beard", "stubble", "none" or "unlabelled"), ``sex``.
    """

    set: str
    id: str
    image: Path
    gt: Path | None
    groups: dict = field(default_factory=dict)


def _beards() -> dict[tuple[str, str], str]:
    path = LABELS / "beards.csv"
    if not path.is_file():
        return {}
    rows = [r for r in csv.DictReader(line for line in path.read_text().splitlines() if not line.startswith("#"))]
    return {(r["set"], r["face_id"]): r["facial_hair"] for r in rows}


def london_faces(smiling: bool = False) -> list[Face]:
    """The London faces, neutral (annotated) or smiling, sorted by id."""
    info = {}
    if (LONDON / "london_info.csv").is_file():
        info = {r["face_id"]: r for r in csv.DictReader((LONDON / "london_info.csv").open())}
    beards = _beards()
    folder, suffix = ("smiling", "_08") if smiling else ("neutral", "_03")
    out = []
    for image in sorted((LONDON / folder).glob(f"*{suffix}.jpg")):
        fid = image.name.split("_")[0]
        gt = LONDON / "gt" / f"{fid}_03.frl189.json"
        row = info.get(fid, {})
        out.append(Face("london", fid, image, None if smiling or not gt.is_file() else gt,
                        {"skin": row.get("face_eth", "unlabelled"), "sex": row.get("face_gender", "unlabelled"),
                         "beard": beards.get(("london", fid), "unlabelled")}))
    return out


def threedsk_faces() -> list[Face]:
    """The 3DSK faces (neutral, annotated), sorted by name; no skin-tone labels exist."""
    beards = _beards()
    out = []
    for gt in sorted((THREEDSK / "gt").glob("*.frl189.json")):
        stem = gt.name.removesuffix(".frl189.json")
        out.append(Face("3dsk", stem, THREEDSK / f"{stem}.jpg", gt,
                        {"skin": "unlabelled", "sex": stem.split("_")[0],
                         "beard": beards.get(("3dsk", stem), "unlabelled")}))
    return out


def faces_of(name: str) -> list[Face]:
    """The annotated faces of a set ("london" or "3dsk")."""
    return london_faces() if name == "london" else threedsk_faces()


@dataclass(frozen=True)
class Manual:
    """A face's FRL-189 manual points, on the subject's sides, and their facial frame.

    The frame is lipsym's definition (:class:`lipsym.face.FacialFrame`) built
    on the MANUAL pupils: origin at their midpoint, x towards the subject's
    left, y up; the facial midline is x = 0.

    Attributes
    ----------
    points_px : ndarray, shape (189, 2)
        Photo px as annotated.
    frame : FacialFrame
    """

    points_px: np.ndarray
    frame: FacialFrame

    @classmethod
    def load(cls, path: Path) -> "Manual":
        return cls.from_points(np.asarray(json.loads(path.read_text())["points"], dtype=np.float64))

    @classmethod
    def from_points(cls, points_px: np.ndarray) -> "Manual":
        """From an FRL-189 array of points, shape (189, 2 or more), photo px (e.g. perturbed ones)."""
        pts = np.asarray(points_px, dtype=np.float64)[:, :2]
        right, left = cls._sided(pts, _PUPILS)
        ipd = float(np.linalg.norm(left - right))
        x = (left - right) / ipd
        y = np.array([x[1], -x[0]])  # image y runs down: this is "up" for an upright face
        frame = FacialFrame(origin_px=0.5 * (left + right), x_axis=x, y_axis=y, interpupillary_distance_px=ipd,
                            ipl_angle_deg=float(np.degrees(np.arctan2(-x[1], x[0]))),
                            soft_tissue_midline_angle_deg=0.0)
        return cls(pts, frame)

    @staticmethod
    def _sided(pts: np.ndarray, pair: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
        """(subject right, subject left) of an FRL (image-left, image-right) index pair."""
        by_side = {IMAGE_LEFT: pts[pair[0]], IMAGE_RIGHT: pts[pair[1]]}
        return by_side[Side.RIGHT], by_side[Side.LEFT]

    @property
    def ipd_px(self) -> float:
        return self.frame.interpupillary_distance_px

    def point(self, name: str, side: Side) -> np.ndarray:
        """``"cheilion"``, ``"crista_philtri"``, ``"pupil"`` or ``"endocanthion"`` of a subject side, photo px."""
        pair = {"cheilion": _CHEILIA, "crista_philtri": _CRISTAE, "pupil": _PUPILS, "endocanthion": _ENDOCANTHIA}[name]
        right, left = self._sided(self.points_px, pair)
        return left if side is Side.LEFT else right

    def contour(self, indices: tuple[int, ...]) -> np.ndarray:
        """A lip contour in frame px, ordered subject right → left (as lipsym's contours)."""
        idx = list(indices) if IMAGE_LEFT is Side.RIGHT else list(indices)[::-1]
        return self.frame.to_frame(self.points_px[idx])


# -- detection cache -----------------------------------------------------------------------------------


def _source_digest() -> str:
    """sha256 of the landmark layer's source: a change to detection invalidates the cache."""
    import lipsym.landmarks as pkg

    h = hashlib.sha256()
    folder = Path(pkg.__file__).parent
    for f in sorted(folder.glob("*.py")) + sorted(folder.glob("*.json")):
        h.update(f.name.encode())
        h.update(f.read_bytes())
    return h.hexdigest()


class CachedLandmarker:
    """A :class:`Landmarker` whose results are kept on disk between runs.

    Only the detector's output is cached, keyed by the decoded pixels (and
    their mapping to the original photo), the model digest, the options and
    the landmark layer's source digest.

    Parameters
    ----------
    options : LandmarkerOptions
    cache_dir : Path or None
        None disables the cache.
    """

    def __init__(self, options: LandmarkerOptions, cache_dir: Path | None):
        self.options = options
        self._landmarker: Landmarker | None = None
        self.cache_dir = cache_dir
        self.hits = self.misses = 0
        from lipsym.landmarks._model import load_model

        self.model_sha256 = load_model(options.model_path, expected_sha256=options.expected_model_sha256).sha256
        self._salt = json.dumps([self.model_sha256, _source_digest(), repr(options)]).encode()
        if cache_dir is not None:
            cache_dir.mkdir(parents=True, exist_ok=True, mode=0o700)

    def _key(self, photo: Photo) -> str:
        h = hashlib.sha256(self._salt)
        h.update(repr((photo.rgb.shape, photo.original_width_px, photo.original_height_px, photo.reduction,
                       photo.grid_offset_px)).encode())
        h.update(np.ascontiguousarray(photo.rgb).data)
        return h.hexdigest()

    def landmarks(self, photo: Photo) -> FaceLandmarks:
        path = None if self.cache_dir is None else self.cache_dir / f"{self._key(photo)}.npz"
        if path is not None and path.is_file():
            self.hits += 1
            return _read(path)
        self.misses += 1
        if self._landmarker is None:
            self._landmarker = Landmarker(self.options)
        marks = self._landmarker.landmarks(photo)
        if path is not None:
            _write(path, marks)
        return marks

    def close(self) -> None:
        if self._landmarker is not None:
            self._landmarker.close()


def _write(path: Path, m: FaceLandmarks) -> None:
    meta = {"blendshapes": dict(m.blendshapes), "pose": [m.pose.yaw_deg, m.pose.pitch_deg, m.pose.roll_deg],
            "n_faces": m.n_faces, "flip_averaged": m.flip_averaged, "detection": [m.detection_width_px,
                                                                                  m.detection_height_px],
            "model_sha256": m.model_sha256}
    arrays = {"points_px": np.asarray(m.points_px), "meta": np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8)}
    if m.flip_disagreement_px is not None:
        arrays["flip_disagreement_px"] = np.asarray(m.flip_disagreement_px)
    tmp = path.with_suffix(".tmp.npz")
    np.savez(tmp, **arrays)
    os.replace(tmp, path)


def _frozen(a: np.ndarray) -> np.ndarray:
    a = np.ascontiguousarray(a, dtype=np.float64)
    a.flags.writeable = False
    return a


def _read(path: Path) -> FaceLandmarks:
    with np.load(path) as z:
        meta = json.loads(bytes(z["meta"]).decode())
        dis = _frozen(z["flip_disagreement_px"]) if "flip_disagreement_px" in z.files else None
        return FaceLandmarks(points_px=_frozen(z["points_px"]), blendshapes=MappingProxyType(meta["blendshapes"]),
                             pose=HeadPose(*meta["pose"]), n_faces=meta["n_faces"],
                             flip_averaged=meta["flip_averaged"], flip_disagreement_px=dis,
                             detection_width_px=meta["detection"][0], detection_height_px=meta["detection"][1],
                             model_sha256=meta["model_sha256"])
