"""The committed left/right pairing of the 478 landmarks."""

import numpy as np

from lipsym.landmarks._mesh import IRIS_PAIRS, canonical_vertices_cm, derive_mirror_pairs, mirror_pairs
from lipsym.face._frame import MIDLINE_VERTICES
from lipsym.landmarks._model import load_model


def test_pairing_is_an_involution():
    p = mirror_pairs()
    assert p.shape == (478,)
    assert np.array_equal(p[p], np.arange(478))


def test_committed_pairing_matches_the_bundled_canonical_mesh():
    vertices = canonical_vertices_cm(load_model().content)
    assert vertices.shape == (468, 3)
    assert np.array_equal(derive_mirror_pairs(vertices), mirror_pairs())
    # Mirroring x → −x maps every vertex exactly onto its partner.
    p = mirror_pairs()[:468]
    assert np.abs(vertices * [-1, 1, 1] - vertices[p]).max() < 1e-6


def test_midline_and_known_pairs():
    p = mirror_pairs()
    midline = set(np.nonzero(p[:468] == np.arange(468))[0].tolist())
    assert midline == set(MIDLINE_VERTICES)
    for a, b in [(61, 291), (78, 308), (37, 267), (39, 269), (133, 362), (33, 263), (469, 476)] + list(IRIS_PAIRS):
        assert p[a] == b and p[b] == a
    # The canonical model puts the subject's right at x < 0.
    v = canonical_vertices_cm(load_model().content)
    assert v[61, 0] < 0 < v[291, 0]


def test_iris_pairing_is_consistent_with_real_detections(landmarker):
    """On a real face the mirror of the right iris's edges lands on the left iris's."""
    from conftest import LONDON
    import pytest

    if not LONDON.is_dir():
        pytest.skip("real photos absent")
    from lipsym.io import load_photo

    photo = load_photo(LONDON / "neutral" / "001_03.jpg")
    faces = landmarker.detect_faces(photo.rgb)
    mirrored = landmarker.detect_faces(np.ascontiguousarray(photo.rgb[:, ::-1]))
    from lipsym.landmarks._detector import unmirror_points

    back = unmirror_points(mirrored[0].points_px, photo.rgb.shape[1])
    ipd = np.linalg.norm(faces[0].points_px[468, :2] - faces[0].points_px[473, :2])
    err = np.linalg.norm(back[468:, :2] - faces[0].points_px[468:, :2], axis=1) / ipd
    assert err.max() < 0.05
