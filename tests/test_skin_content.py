"""Garbage on the face is refused, an ordinary face is not (lipsym.face._content, issue #15)."""

from pathlib import Path

import cv2
import numpy as np
import pytest

from lipsym.analysis import analyze_photo
from lipsym.errors import CorruptPhotoError
from lipsym.face._content import MAX_CHROMA_PER_LIGHTNESS, MAX_OUTLIER_SHARE, MAX_ROUGHNESS, MAX_SEAM, skin_content

REPO = Path(__file__).resolve().parents[1]
SAMPLE = REPO / "sample_images" / "london_094_rest.jpg"


@pytest.fixture(scope="module")
def face(landmarker):
    """The sample's pixels and its landmarks (decoded px)."""
    from lipsym.io import load_photo
    photo = load_photo(SAMPLE)
    marks = landmarker.landmarks(photo)
    return photo.rgb, photo.from_original_px(np.asarray(marks.points_px)[:, :2])


def _encode(rgb: np.ndarray, ext: str = ".png") -> bytes:
    ok, data = cv2.imencode(ext, cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))
    assert ok
    return data.tobytes()


def _cheek_box(points: np.ndarray) -> tuple[int, int, int, int]:
    """A box over the image-left cheek (between the eye, the nose and the mouth corner)."""
    x0, x1 = sorted((int(points[61, 0]), int(points[234, 0])))
    y0, y1 = int(points[33, 1]) + 20, int(points[61, 1])
    return x0, y0, x1, y1


def test_intact_face_passes_with_margin(face):
    content = skin_content(*face)
    share, roughness, seam = content.outlier_share, content.roughness, content.seam
    assert share < MAX_OUTLIER_SHARE / 10
    assert roughness < MAX_ROUGHNESS / 1.5
    assert seam < MAX_SEAM / 3


@pytest.mark.parametrize("render", ["noise", "blue_cast", "green_cast", "sharpened", "low_quality"])
def test_ordinary_degradations_are_not_garbage(face, render):
    rgb, points = face
    rng = np.random.default_rng(3)
    f = rgb.astype(np.float32)
    out = {"noise": lambda: f + rng.normal(0, 12, f.shape),
           "blue_cast": lambda: f * (0.75, 1.0, 1.35),
           "green_cast": lambda: f * (0.8, 1.3, 0.8),
           "sharpened": lambda: cv2.addWeighted(f, 2.0, cv2.GaussianBlur(f, (0, 0), 2), -1.0, 0),
           "low_quality": lambda: cv2.imdecode(np.frombuffer(_encode(rgb[:, :, ::-1].copy(), ".jpg"), np.uint8), 1)
           [:, :, ::-1].astype(np.float32)}[render]()
    content = skin_content(np.clip(out, 0, 255).astype(np.uint8), points)
    assert content.outlier_share <= MAX_OUTLIER_SHARE and content.roughness <= MAX_ROUGHNESS
    assert content.seam <= MAX_SEAM / 2


def test_coloured_blocks_on_a_cheek_are_refused(face, landmarker, tmp_path):
    """Saturated 8-px blocks over one cheek, as a damaged HEIC or WebP decodes: never measured."""
    rgb, points = face
    x0, y0, x1, y1 = _cheek_box(points)
    damaged = rgb.copy()
    rng = np.random.default_rng(0)
    blocks = rng.integers(0, 256, ((y1 - y0) // 8 + 1, (x1 - x0) // 8 + 1, 3), dtype=np.uint8)
    damaged[y0:y1, x0:x1] = np.kron(blocks, np.ones((8, 8, 1), np.uint8))[: y1 - y0, : x1 - x0]
    path = tmp_path / "damaged.png"
    path.write_bytes(_encode(damaged))
    with pytest.raises(CorruptPhotoError, match=r"^damaged\.png: .*damaged") as info:
        analyze_photo(path, landmarker)
    assert "\n" not in str(info.value)


def test_a_cyan_cheek_is_refused(face, landmarker, tmp_path):
    """A smooth region recoloured far from skin (HEVC garbage is often smooth): refused by colour."""
    rgb, points = face
    x0, y0, x1, y1 = _cheek_box(points)
    damaged = rgb.copy()
    damaged[y0:y1, x0:x1] = (damaged[y0:y1, x0:x1] * np.array([0.1, 1.1, 1.6])).clip(0, 255).astype(np.uint8)
    content = skin_content(damaged, points)
    assert content.outlier_share > MAX_OUTLIER_SHARE and content.roughness <= MAX_ROUGHNESS  # the colour rule, not the texture one
    path = tmp_path / "cyan.png"
    path.write_bytes(_encode(damaged))
    with pytest.raises(CorruptPhotoError, match="colours far from the rest"):
        analyze_photo(path, landmarker)


def test_a_face_dark_but_still_saturated_is_refused_and_a_dim_photo_is_not(face, landmarker, tmp_path):
    """A damaged JPEG's luminance (DC values, benchmarks/fuzz_measured.py seed 0 case 206) leaves
    the colour and takes the light: a dark red face that no exposure of skin gives."""
    rgb, points = face
    lab = cv2.cvtColor(rgb.astype(np.float32) / 255, cv2.COLOR_RGB2Lab)
    lab[:, :, 0] *= 0.08
    dark_red = (cv2.cvtColor(lab, cv2.COLOR_Lab2RGB) * 255).clip(0, 255).round().astype(np.uint8)
    assert skin_content(dark_red, points).chroma_per_lightness > MAX_CHROMA_PER_LIGHTNESS
    path = tmp_path / "dark.png"
    path.write_bytes(_encode(dark_red))
    with pytest.raises(CorruptPhotoError, match=r"^dark\.png: .*times as saturated as it is light"):
        analyze_photo(path, landmarker)
    # Under-exposed by three stops, in the camera's encoding: darker and more muted together.
    dim = (rgb.astype(np.float32) * 0.125 ** (1 / 2.2)).round().astype(np.uint8)
    assert skin_content(dim, points).chroma_per_lightness < MAX_CHROMA_PER_LIGHTNESS / 2


@pytest.mark.parametrize("offset", [(-60, -60, -60), (30, 0, -25)])
def test_a_colour_step_across_the_face_is_refused(face, landmarker, tmp_path, offset):
    """Everything below a 16-px row offset by one constant, as a damaged JPEG block value
    decodes (benchmarks/fuzz_measured.py): skin colour and texture stay plausible, the seam does not."""
    rgb, points = face
    row = (int(points[1, 1]) // 16) * 16  # the nose tip's block row: across both cheeks
    damaged = rgb.astype(np.int16)
    damaged[row:] += np.array(offset, np.int16)
    damaged = damaged.clip(0, 255).astype(np.uint8)
    content = skin_content(damaged, points)
    assert content.outlier_share <= MAX_OUTLIER_SHARE and content.roughness <= MAX_ROUGHNESS
    assert content.seam > MAX_SEAM
    path = tmp_path / "step.png"
    path.write_bytes(_encode(damaged))
    with pytest.raises(CorruptPhotoError, match=r"^step\.png: .*jumps by \d+ CIELAB units"):
        analyze_photo(path, landmarker)


def test_a_thin_dark_line_across_the_face_is_not_a_seam(face):
    """A glasses rim or a crease across both cheeks: a line, not a step in colour."""
    rgb, points = face
    row = int(points[1, 1])
    lined = rgb.copy()
    lined[row:row + 6] = (40, 30, 30)
    assert skin_content(lined, points).seam < 0.7 * MAX_SEAM


def test_intact_sample_is_analysed(landmarker):
    analysis = analyze_photo(SAMPLE, landmarker)
    assert analysis.width_px == 1350
