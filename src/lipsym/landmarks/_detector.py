"""Face landmarks from MediaPipe Face Landmarker, flip-averaged.

This is the only module that imports mediapipe. Following the Tasks API
(options → task → frozen result), :class:`Landmarker` holds one MediaPipe
landmarker in IMAGE mode, built once per process, and returns frozen
:class:`FaceLandmarks`.

Flip-averaging (default). MediaPipe is not mirror-consistent: detecting on
the mirrored photo and mapping back moves lip points by 1.1-2.3 % of the
interpupillary distance, and the resulting asymmetry bias is face-specific
(docs/reference.md §7). lipsym therefore detects on the photo and on its
mirror image, maps the mirror's landmarks back through the left/right pairing
of the 478 points (:func:`lipsym.landmarks.mirror_pairs`) and averages.
By construction the result for a mirrored photo is then exactly the mirror
of the result for the photo, so no side is favoured.

Coordinates. MediaPipe returns x normalised by the image width and y by its
height. They are converted to pixels at once, with pixel centres at integer
coordinates (x_px = x_norm * width - 0.5), then mapped to the ORIGINAL,
orientation-corrected photo's pixels. z is scaled by the width, as MediaPipe
documents ("roughly the same scale as x").
"""

from __future__ import annotations

import atexit
import contextlib
import math
import os
import sys
import threading
from dataclasses import dataclass
from types import MappingProxyType
from typing import Mapping

import numpy as np

from lipsym.landmarks._mesh import N_LANDMARKS, mirror_pairs
from lipsym.errors import MultipleFacesError, NoFaceError
from lipsym.io._photo import Photo
from lipsym.landmarks._model import load_model
from lipsym.landmarks._options import LandmarkerOptions

# MediaPipe's native code logs to stderr through glog/absl; a CLI's output
# must stay readable, so ask it to log warnings and errors only.
os.environ.setdefault("GLOG_minloglevel", "2")

# Landmarks whose extreme positions bound the face for "which face is largest".
_FACE_OVAL_SIDES = (234, 454)
_PUPILS = (468, 473)
#: A face whose interpupillary line is tilted more than this is detected again
#: on a copy of the photo rotated upright. MediaPipe's lip points depend on
#: the face's in-plane angle, but the refinement that follows (pupils, then
#: lips, in the facial frame) absorbs moderate tilts: on the 34 London
#: neutral photos rotated by ±4 / ±7 / ±10 / ±20°, re-detecting upright
#: every face tilted beyond 3° against never gave a median cheilion error of
#: 0.95 / 0.94 / 0.96 / 0.94 against 0.85 / 0.90 / 0.83 / 1.13 % IPD and a
#: commissure height asymmetry MAE against the manual points of 0.53 / 0.56 /
#: 0.50 / 0.52 against 0.50 / 0.53 / 0.51 / 0.51 % IPD. It pays only for
#: large tilts, and it costs two more detections (10 % of the London photos
#: are tilted beyond 3°).
DEROTATE_ABOVE_DEG = 10.0
#: The square resampled upright around a tilted face: its side in face widths
#: (the face oval, 234-454; the whole head with a margin for the detector),
#: and the largest face width it is resampled at, px.
UPRIGHT_CROP_FACE_WIDTHS = 2.2
UPRIGHT_FACE_WIDTH_PX = 384.0




@dataclass(frozen=True)
class HeadPose:
    """Head rotation from MediaPipe's facial transformation matrix, degrees.

    Signs (camera looking at the subject, non-mirrored photo): ``yaw_deg`` > 0
    when the face turns towards the image right (the subject's left);
    ``pitch_deg`` > 0 when the chin lifts; ``roll_deg`` > 0 when the head tilts
    so that the subject's left eye is higher in the image.
    """

    yaw_deg: float
    pitch_deg: float
    roll_deg: float


@dataclass(frozen=True)
class FaceDetection:
    """One face found in one image, in that image's pixel coordinates.

    Attributes
    ----------
    points_px : ndarray, shape (478, 3), float64
        x, y (pixels, centres at integers, y down) and z (pixels, towards the
        camera negative, MediaPipe's convention) of each landmark.
    blendshapes : mapping of str to float
        MediaPipe's 52 blendshape scores in [0, 1] (ARKit names; their
        Left/Right are the subject's).
    pose : HeadPose
    face_width_px : float
        Distance between the face-oval side landmarks 234 and 454.
    """

    points_px: np.ndarray
    blendshapes: Mapping[str, float]
    pose: HeadPose
    face_width_px: float


@dataclass(frozen=True)
class FaceLandmarks:
    """Landmarks of the analysed face of one photo.

    Attributes
    ----------
    points_px : ndarray, shape (478, 3), float64, read-only
        Landmarks in the ORIGINAL orientation-corrected photo's pixels
        (x, y; z in the same pixel scale). Flip-averaged unless disabled.
    blendshapes : mapping of str to float
        Blendshape scores (flip-averaged with Left/Right swapped for the mirror).
    pose : HeadPose
    n_faces : int
        Number of faces MediaPipe found; the largest is the one analysed.
    flip_averaged : bool
    flip_disagreement_px : ndarray, shape (478,), float64, or None
        Distance between the direct and the mirror-mapped detection of each
        landmark, original pixels: a per-photo reliability signal.
    detection_width_px, detection_height_px : int
        Size of the image the detector saw.
    model_sha256 : str
    """

    points_px: np.ndarray
    blendshapes: Mapping[str, float]
    pose: HeadPose
    n_faces: int
    flip_averaged: bool
    flip_disagreement_px: np.ndarray | None
    detection_width_px: int
    detection_height_px: int
    model_sha256: str

    def mirrored_sides(self) -> "FaceLandmarks":
        """The same landmarks with subject sides swapped (for mirrored selfies).

        A mirrored photo shows the subject's right on the image right; MediaPipe
        labels by image side, so every landmark takes its partner's position.
        """
        partner = mirror_pairs()
        disagreement = None if self.flip_disagreement_px is None else self.flip_disagreement_px[partner]
        return FaceLandmarks(
            points_px=_frozen(self.points_px[partner]),
            blendshapes=MappingProxyType(_swap_side_names(self.blendshapes)),
            pose=HeadPose(-self.pose.yaw_deg, self.pose.pitch_deg, -self.pose.roll_deg),
            n_faces=self.n_faces,
            flip_averaged=self.flip_averaged,
            flip_disagreement_px=disagreement,
            detection_width_px=self.detection_width_px,
            detection_height_px=self.detection_height_px,
            model_sha256=self.model_sha256,
        )


def _frozen(array: np.ndarray) -> np.ndarray:
    array = np.ascontiguousarray(array, dtype=np.float64)
    array.flags.writeable = False
    return array


def _swap_side_names(scores: Mapping[str, float]) -> dict[str, float]:
    def swap(name: str) -> str:
        if name.endswith("Left"):
            return name[:-4] + "Right"
        if name.endswith("Right"):
            return name[:-5] + "Left"
        return name

    return {swap(k): v for k, v in scores.items()}


def pose_from_matrix(matrix: np.ndarray) -> HeadPose:
    """Head pose from MediaPipe's 4×4 facial transformation matrix.

    The matrix maps the canonical face (x towards the subject's left, y up,
    z towards the camera) into camera space. Its rotation is decomposed as
    R = Rz(roll) · Ry(yaw) · Rx(pitch).

    Parameters
    ----------
    matrix : ndarray, shape (4, 4)

    Returns
    -------
    HeadPose
        Angles in degrees, signs as documented on :class:`HeadPose`.
    """
    r = np.asarray(matrix, dtype=np.float64)[:3, :3]
    # Remove any scale MediaPipe folds into the rotation block.
    u, _, vt = np.linalg.svd(r)
    r = u @ vt
    yaw = math.degrees(math.asin(max(-1.0, min(1.0, -r[2, 0]))))
    pitch = math.degrees(math.atan2(r[2, 1], r[2, 2]))
    roll = math.degrees(math.atan2(r[1, 0], r[0, 0]))
    return HeadPose(yaw_deg=yaw, pitch_deg=pitch, roll_deg=roll)


def _close_before_executor_shutdown(close) -> None:
    """Arrange for ``close`` to run at exit while MediaPipe can still run it.

    MediaPipe dispatches native calls through a concurrent.futures executor,
    which Python shuts down (via threading's exit hooks) BEFORE ordinary
    atexit handlers; a landmarker closed later, or by its finaliser, prints a
    traceback at every exit. threading's hooks run last-registered first, so
    a hook registered now runs before the executor's.
    """
    register = getattr(threading, "_register_atexit", None)
    try:
        if register is not None:
            register(close)
            return
    except RuntimeError:  # already shutting down
        return
    atexit.register(close)


@contextlib.contextmanager
def _without_sounddevice():
    """Import MediaPipe without its audio dependency's library search.

    MediaPipe's package imports its audio tasks, whose ``sounddevice`` looks
    for PortAudio with :func:`ctypes.util.find_library`: that spawns
    ``ldconfig``, ``gcc`` and ``ld`` at every start of every process (about
    0.25 s here). lipsym uses no audio, and MediaPipe's audio module accepts
    a missing ``sounddevice`` (it catches the ImportError), so the name is
    hidden for the import and released afterwards for any later user.
    """
    if "sounddevice" in sys.modules:
        yield
        return
    sys.modules["sounddevice"] = None  # makes ``import sounddevice`` raise ImportError
    try:
        yield
    finally:
        if "sounddevice" in sys.modules and sys.modules["sounddevice"] is None:
            del sys.modules["sounddevice"]


@contextlib.contextmanager
def _quiet_stderr():
    """Silence native stderr (TFLite's start-up chatter) for a CLI's sake."""
    try:
        fd = os.dup(2)
    except OSError:  # no stderr at all: nothing to silence
        yield
        return
    try:
        with open(os.devnull, "wb") as devnull:
            os.dup2(devnull.fileno(), 2)
            yield
    finally:
        os.dup2(fd, 2)
        os.close(fd)


class Landmarker:
    """A reusable MediaPipe Face Landmarker (IMAGE mode), one per process.

    Use as a context manager, or call :meth:`close`. Not thread-safe: a lock
    serialises calls, since MediaPipe graphs must not run concurrently.

    Parameters
    ----------
    options : LandmarkerOptions, optional
    """

    def __init__(self, options: LandmarkerOptions | None = None):
        with _without_sounddevice():
            from mediapipe.tasks.python.core import base_options as mp_base
            from mediapipe.tasks.python.vision import face_landmarker as mp_fl

        self.options = options or LandmarkerOptions()
        bundle = load_model(self.options.model_path, expected_sha256=self.options.expected_model_sha256)
        self.model_sha256 = bundle.sha256
        self.model_source = bundle.source
        mp_options = mp_fl.FaceLandmarkerOptions(
            base_options=mp_base.BaseOptions(model_asset_buffer=bundle.content),
            num_faces=self.options.max_faces,
            min_face_detection_confidence=self.options.min_detection_confidence,
            min_face_presence_confidence=self.options.min_presence_confidence,
            output_face_blendshapes=True,
            output_facial_transformation_matrixes=True,
        )
        with _quiet_stderr():
            self._task = mp_fl.FaceLandmarker.create_from_options(mp_options)
        self._lock = threading.Lock()
        _close_before_executor_shutdown(self.close)

    def close(self) -> None:
        """Release the native landmarker (idempotent)."""
        task, self._task = getattr(self, "_task", None), None
        if task is not None:
            task.close()

    def __enter__(self) -> "Landmarker":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # -- detection ----------------------------------------------------------

    def detect_faces(self, rgb: np.ndarray) -> list[FaceDetection]:
        """Every face in an RGB image, largest first.

        Parameters
        ----------
        rgb : ndarray, shape (h, w, 3), uint8

        Returns
        -------
        list of FaceDetection
            In ``rgb``'s pixel coordinates; empty when there is no face.
        """
        import mediapipe as mp

        if self._task is None:
            raise RuntimeError("Landmarker is closed")
        height, width = rgb.shape[:2]
        image = mp.Image(image_format=mp.ImageFormat.SRGB, data=np.ascontiguousarray(rgb))
        with self._lock:
            result = self._task.detect(image)
        faces = []
        for i, marks in enumerate(result.face_landmarks):
            norm = np.array([(m.x, m.y, m.z) for m in marks], dtype=np.float64)
            points = np.column_stack(
                [norm[:, 0] * width - 0.5, norm[:, 1] * height - 0.5, norm[:, 2] * width]
            )
            scores = {c.category_name: float(c.score) for c in result.face_blendshapes[i]}
            pose = pose_from_matrix(result.facial_transformation_matrixes[i])
            a, b = _FACE_OVAL_SIDES
            faces.append(FaceDetection(
                points_px=points,
                blendshapes=MappingProxyType(scores),
                pose=pose,
                face_width_px=float(np.linalg.norm(points[a, :2] - points[b, :2])),
            ))
        faces.sort(key=lambda f: -f.face_width_px)
        return faces

    def _detect_upright(self, rgb: np.ndarray) -> list[FaceDetection]:
        """Faces of an image, the largest detected again upright if it is tilted.

        A deterministic function of the pixels alone, so that flip-averaging
        stays exactly mirror-symmetric whatever happens inside.
        """
        import cv2

        faces = self.detect_faces(rgb)
        if not faces:
            return faces
        largest = faces[0]
        right, left = largest.points_px[_PUPILS[0], :2], largest.points_px[_PUPILS[1], :2]
        angle_deg = math.degrees(math.atan2(left[1] - right[1], left[0] - right[0]))
        if abs(angle_deg) <= DEROTATE_ABOVE_DEG:
            return faces
        # Only a square around the face is resampled, and no finer than the
        # model can use (it reads the face through a 256 px crop): on a 24 MP
        # photo the whole image cost ~70 ms a warp plus a slower detection,
        # several times what the face's square costs.
        centre = 0.5 * (right + left)
        zoom = min(1.0, UPRIGHT_FACE_WIDTH_PX / largest.face_width_px)
        forward = cv2.getRotationMatrix2D(tuple(float(v) for v in centre), angle_deg, zoom)
        side = int(math.ceil(UPRIGHT_CROP_FACE_WIDTHS * largest.face_width_px * zoom))
        # The eyes' midpoint a quarter face width above the square's centre.
        forward[:, 2] += np.array([0.5 * side, 0.5 * side - 0.25 * largest.face_width_px * zoom]) - centre
        upright = cv2.warpAffine(rgb, forward, (side, side), flags=cv2.INTER_LINEAR if zoom < 1 else cv2.INTER_CUBIC,
                                 borderMode=cv2.BORDER_REFLECT)
        again = self.detect_faces(upright)
        if not again:
            return faces
        inverse = cv2.invertAffineTransform(forward)
        mapped = []
        for face in again:
            pts = face.points_px.copy()
            pts[:, :2] = pts[:, :2] @ inverse[:, :2].T + inverse[:, 2]
            mapped.append(pts)
        best = min(mapped, key=lambda pts: float(np.mean(np.linalg.norm(pts[:, :2] - largest.points_px[:, :2], axis=1))))
        if np.mean(np.linalg.norm(best[:, :2] - largest.points_px[:, :2], axis=1)) > 0.25 * largest.face_width_px:
            return faces
        upright_face = FaceDetection(points_px=best, blendshapes=largest.blendshapes, pose=largest.pose,
                                     face_width_px=largest.face_width_px)
        return [upright_face] + faces[1:]

    def landmarks(self, photo: Photo, *, allow_multiple_faces: bool = True) -> FaceLandmarks:
        """Landmarks of the largest face of a photo, in original pixels.

        Parameters
        ----------
        photo : Photo
            As returned by :func:`lipsym.io.load_photo`.
        allow_multiple_faces : bool
            When False, a photo with several faces raises MultipleFacesError.

        Raises
        ------
        NoFaceError, MultipleFacesError
        """
        name = photo.path.name if photo.path is not None else "image"
        faces = self._detect_upright(photo.rgb)
        if not faces:
            raise NoFaceError(f"{name}: no face found")
        height, width = photo.rgb.shape[:2]
        n_faces = len(faces)
        if not self.options.flip_average:
            direct = faces[0]
            points, scores, pose, disagreement = direct.points_px, direct.blendshapes, direct.pose, None
        else:
            import cv2

            # cv2.flip: numpy's copy of a column-reversed view costs ~20 ms on a 2 MP photo, this ~2 ms.
            mirror_faces = self._detect_upright(cv2.flip(np.ascontiguousarray(photo.rgb), 1))
            n_faces = max(n_faces, len(mirror_faces))
            pairs = _match_mirror_faces(faces, mirror_faces, width)
            if not pairs:
                raise NoFaceError(f"{name}: face found in the photo but not in its mirror image")
            direct, mirrored, back = pairs[0]
            points = 0.5 * (direct.points_px + back)
            back_scores = _swap_side_names(mirrored.blendshapes)
            scores = {k: 0.5 * (v + back_scores[k]) for k, v in direct.blendshapes.items()}
            pose = HeadPose(
                yaw_deg=0.5 * (direct.pose.yaw_deg - mirrored.pose.yaw_deg),
                pitch_deg=0.5 * (direct.pose.pitch_deg + mirrored.pose.pitch_deg),
                roll_deg=0.5 * (direct.pose.roll_deg - mirrored.pose.roll_deg),
            )
            disagreement = np.linalg.norm(
                photo.to_original_px(direct.points_px[:, :2]) - photo.to_original_px(back[:, :2]), axis=1
            )
        if n_faces > 1 and not allow_multiple_faces:
            raise MultipleFacesError(f"{name}: {n_faces} faces found, expected one")
        original = np.column_stack([photo.to_original_px(points[:, :2]), points[:, 2] * photo.scale_to_original[0]])
        return FaceLandmarks(
            points_px=_frozen(original),
            blendshapes=MappingProxyType(dict(scores)),
            pose=pose,
            n_faces=n_faces,
            flip_averaged=self.options.flip_average,
            flip_disagreement_px=None if disagreement is None else _frozen(disagreement),
            detection_width_px=width,
            detection_height_px=height,
            model_sha256=self.model_sha256,
        )


def _match_mirror_faces(faces: list[FaceDetection], mirror_faces: list[FaceDetection],
                        width_px: int) -> list[tuple[FaceDetection, FaceDetection, np.ndarray]]:
    """Pair each face with its own detection in the mirror image, largest pair first.

    Pairs are formed greedily by the smallest mean landmark distance, and the
    pairs are ranked by their averaged face width. Both rules are symmetric in
    photo and mirror, so a mirrored group photo analyses the same person.
    A face with no counterpart closer than a quarter of its width is dropped.

    Returns
    -------
    list of (direct, mirrored, mirrored_points_mapped_back)
    """
    backs = [unmirror_points(m.points_px, width_px) for m in mirror_faces]
    candidates = []
    for i, face in enumerate(faces):
        for j, back in enumerate(backs):
            dist = float(np.mean(np.linalg.norm(face.points_px[:, :2] - back[:, :2], axis=1)))
            if dist < 0.25 * face.face_width_px:
                candidates.append((dist, i, j))
    used_i, used_j, pairs = set(), set(), []
    for _, i, j in sorted(candidates):
        if i not in used_i and j not in used_j:
            used_i.add(i)
            used_j.add(j)
            pairs.append((faces[i], mirror_faces[j], backs[j]))
    pairs.sort(key=lambda p: -(p[0].face_width_px + p[1].face_width_px))
    return pairs


def unmirror_points(points_px: np.ndarray, width_px: int) -> np.ndarray:
    """Map landmarks detected on a horizontally mirrored image back onto the photo.

    Parameters
    ----------
    points_px : ndarray, shape (478, 3)
        Landmarks found on the mirrored image (pixel centres at integers).
    width_px : int
        Image width.

    Returns
    -------
    ndarray, shape (478, 3)
        Row ``i`` is the mirror's landmark ``partner[i]`` with x reflected
        (x → width − 1 − x), i.e. landmark ``i`` of the photo as the mirror saw it.
    """
    partner = mirror_pairs()
    if points_px.shape[0] != N_LANDMARKS:
        raise ValueError(f"expected {N_LANDMARKS} landmarks, got {points_px.shape[0]}")
    back = points_px[partner].copy()
    back[:, 0] = (width_px - 1) - back[:, 0]
    return back
