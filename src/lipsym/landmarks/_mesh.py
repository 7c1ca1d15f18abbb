"""The canonical face mesh inside the Face Landmarker bundle, and its mirror pairing.

The bundle ``face_landmarker.task`` is a zip archive; its member
``geometry_pipeline_metadata_landmarks.binarypb`` is a serialised
``GeometryPipelineMetadata`` protocol buffer (mediapipe/modules/face_geometry/
protos) whose ``canonical_mesh`` holds the 468 vertices of the canonical face
in centimetres, with x < 0 on the subject's right. This module parses just
enough of the protobuf wire format to read those vertices, so lipsym needs no
protobuf dependency.

The mirror pairing maps each of the 478 landmarks to its left/right partner
(itself on the midline). It is derived once from the canonical mesh by
:func:`derive_mirror_pairs` and committed as ``lipsym/landmarks/mirror_pairs.json``;
:func:`mirror_pairs` loads the committed copy.
"""

from __future__ import annotations

import functools
import io
import json
import struct
import zipfile
from importlib import resources

import numpy as np

from lipsym.errors import ModelError

METADATA_MEMBER = "geometry_pipeline_metadata_landmarks.binarypb"
N_MESH_VERTICES = 468
N_LANDMARKS = 478

# The 10 iris landmarks are not part of the canonical mesh. Their order within
# each iris is centre, then four edge points going round; the two irises are
# numbered in opposite directions, hence this fixed pairing (docs/reference.md §3).
IRIS_PAIRS = ((468, 473), (469, 476), (470, 475), (471, 474), (472, 477))

# Mesh3d.VertexType VERTEX_PT: x, y, z, u, v per vertex.
_VERTEX_PT_STRIDE = 5


def _read_varint(buf: bytes, pos: int) -> tuple[int, int]:
    value = shift = 0
    while True:
        byte = buf[pos]
        pos += 1
        value |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return value, pos
        shift += 7


def _fields(buf: bytes):
    """Yield (field_number, wire_type, value) of one protobuf message.

    value is an int for varints and fixed-size types, bytes for length-delimited.
    """
    pos = 0
    while pos < len(buf):
        key, pos = _read_varint(buf, pos)
        number, wire = key >> 3, key & 7
        if wire == 0:
            value, pos = _read_varint(buf, pos)
        elif wire == 1:
            value, pos = buf[pos : pos + 8], pos + 8
        elif wire == 2:
            length, pos = _read_varint(buf, pos)
            value, pos = buf[pos : pos + length], pos + length
        elif wire == 5:
            value, pos = buf[pos : pos + 4], pos + 4
        else:
            raise ModelError(f"unsupported protobuf wire type {wire} in the canonical mesh")
        yield number, wire, value


def canonical_vertices_cm(bundle: bytes) -> np.ndarray:
    """Read the canonical face mesh from a Face Landmarker bundle.

    Parameters
    ----------
    bundle : bytes
        Content of ``face_landmarker.task``.

    Returns
    -------
    vertices_cm : ndarray, shape (468, 3), float64
        x, y, z of each mesh vertex in centimetres; x < 0 is the subject's
        right, y up, z towards the camera.
    """
    try:
        with zipfile.ZipFile(io.BytesIO(bundle)) as archive:
            metadata = archive.read(METADATA_MEMBER)
    except (zipfile.BadZipFile, KeyError) as exc:
        raise ModelError(f"model bundle has no readable {METADATA_MEMBER}: {exc}") from exc
    mesh = next((v for n, w, v in _fields(metadata) if n == 1 and w == 2), None)
    if mesh is None:
        raise ModelError("model bundle metadata holds no canonical mesh")
    floats: list[float] = []
    for number, wire, value in _fields(mesh):
        if number != 3:
            continue
        if wire == 2:  # packed repeated float
            floats.extend(struct.unpack(f"<{len(value) // 4}f", value))
        else:
            floats.append(struct.unpack("<f", value)[0])
    data = np.asarray(floats, dtype=np.float64).reshape(-1, _VERTEX_PT_STRIDE)
    if data.shape[0] != N_MESH_VERTICES:
        raise ModelError(f"canonical mesh has {data.shape[0]} vertices, expected {N_MESH_VERTICES}")
    return data[:, :3]


def derive_mirror_pairs(vertices_cm: np.ndarray, tol_cm: float = 1e-3) -> np.ndarray:
    """Pair every landmark with its mirror image across the canonical midline.

    Parameters
    ----------
    vertices_cm : ndarray, shape (468, 3)
        Canonical mesh vertices (x = 0 is the midline).
    tol_cm : float
        Largest accepted distance between a mirrored vertex and its partner.

    Returns
    -------
    partner : ndarray, shape (478,), int
        ``partner[i]`` is the index of the landmark mirroring landmark ``i``
        (``partner[i] == i`` on the midline). Iris landmarks 468-477 use
        :data:`IRIS_PAIRS`.
    """
    mirrored = vertices_cm * np.array([-1.0, 1.0, 1.0])
    dist = np.linalg.norm(mirrored[:, None, :] - vertices_cm[None, :, :], axis=2)
    partner_mesh = dist.argmin(axis=1)
    residual = dist[np.arange(len(vertices_cm)), partner_mesh]
    if residual.max() > tol_cm:
        raise ModelError(f"canonical mesh is not mirror-symmetric (residual {residual.max():.2g} cm)")
    partner = np.concatenate([partner_mesh, np.arange(N_MESH_VERTICES, N_LANDMARKS)])
    for a, b in IRIS_PAIRS:
        partner[a], partner[b] = b, a
    return partner


@functools.lru_cache(maxsize=1)
def mirror_pairs() -> np.ndarray:
    """The committed mirror pairing of the 478 landmarks.

    Returns
    -------
    partner : ndarray, shape (478,), int, read-only
        See :func:`derive_mirror_pairs`.
    """
    text = resources.files("lipsym.landmarks").joinpath("mirror_pairs.json").read_text()
    partner = np.asarray(json.loads(text)["partner"], dtype=np.intp)
    partner.flags.writeable = False
    return partner
