"""Tests of lipsym.simulate: exact, smooth, fold-free image warps.

All images are synthetic (made here): checkerboards, Gaussian blobs, smooth
gradients and smooth textures. Coordinates: (x, y), pixel (i, j) centred at
(x, y) = (j, i).
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy import ndimage

from lipsym.errors import ConfigurationError, LipsymError
from lipsym.simulate._warp import WarpField, make_field, warp_image, warp_points

# --- synthetic images ------------------------------------------------------------


def _grid_xy(height: int, width: int) -> tuple[np.ndarray, np.ndarray]:
    """Pixel-centre coordinates x (columns) and y (rows), each (H, W)."""
    ys, xs = np.mgrid[0:height, 0:width]
    return xs.astype(float), ys.astype(float)


def _blob(height: int, width: int, centre_xy: tuple[float, float], sigma_px: float, peak: float = 200.0) -> np.ndarray:
    """Float64 isotropic Gaussian blob on a zero background."""
    xs, ys = _grid_xy(height, width)
    r2 = (xs - centre_xy[0]) ** 2 + (ys - centre_xy[1]) ** 2
    return peak * np.exp(-r2 / (2.0 * sigma_px**2))


def _checkerboard(height: int, width: int, square_px: int = 8, channels: int | None = 3) -> np.ndarray:
    """uint8 checkerboard with slightly different channels."""
    xs, ys = _grid_xy(height, width)
    board = (((xs // square_px) + (ys // square_px)) % 2).astype(np.uint8)
    grey = (40 + 170 * board).astype(np.uint8)
    if channels is None:
        return grey
    return np.stack([grey, (grey // 2 + 20), (255 - grey)][:channels] * (channels // 3 + 1), axis=-1)[..., :channels]


def _smooth_texture(height: int, width: int) -> np.ndarray:
    """uint8 RGB texture with no content finer than ~40 px (slopes < 20 levels/px)."""
    xs, ys = _grid_xy(height, width)
    base = 128 + 60 * np.sin(2 * np.pi * xs / 47.0) * np.cos(2 * np.pi * ys / 61.0) + 30 * np.sin(
        2 * np.pi * (xs + 2 * ys) / 83.0
    )
    rgb = np.stack([base, 255 - base, 0.5 * base + 40], axis=-1)
    return np.clip(np.rint(rgb), 0, 255).astype(np.uint8)


def _peak_xy(image: np.ndarray, half_window: int = 2) -> np.ndarray:
    """Sub-pixel peak of a blob: stationary point of a cubic fit to log intensity.

    A quadratic fit to log intensity is exact for a Gaussian under an affine
    map, but a warp also bends the blob (second-order terms of the field), and
    over a 5 x 5 window that biases a quadratic fit by up to ~0.1 px for the
    displacements used here. Fitting all cubic terms absorbs the bend; the
    residual bias is ~0.005 px (checked against analytically warped blobs).
    """
    i0, j0 = np.unravel_index(np.argmax(image), image.shape)
    rows = slice(i0 - half_window, i0 + half_window + 1)
    cols = slice(j0 - half_window, j0 + half_window + 1)
    dy, dx = np.mgrid[-half_window : half_window + 1, -half_window : half_window + 1]
    x, y = dx.ravel().astype(float), dy.ravel().astype(float)
    design = np.stack([np.ones_like(x), x, y, x * x, x * y, y * y, x**3, x * x * y, x * y * y, y**3], axis=1)
    c, *_ = np.linalg.lstsq(design, np.log(image[rows, cols].ravel()), rcond=None)
    u = np.zeros(2)
    for _ in range(20):  # Newton on the gradient of the fitted cubic
        ux, uy = u
        gradient = np.array(
            [
                c[1] + 2 * c[3] * ux + c[4] * uy + 3 * c[6] * ux * ux + 2 * c[7] * ux * uy + c[8] * uy * uy,
                c[2] + c[4] * ux + 2 * c[5] * uy + c[7] * ux * ux + 2 * c[8] * ux * uy + 3 * c[9] * uy * uy,
            ]
        )
        cross = c[4] + 2 * c[7] * ux + 2 * c[8] * uy
        hessian = np.array(
            [
                [2 * c[3] + 6 * c[6] * ux + 2 * c[7] * uy, cross],
                [cross, 2 * c[5] + 2 * c[8] * ux + 6 * c[9] * uy],
            ]
        )
        u = u - np.linalg.solve(hessian, gradient)
    return np.array([j0 + u[0], i0 + u[1]])


def _mirror_field(field: WarpField, width: int) -> WarpField:
    """The field of the horizontally flipped image (x -> W - 1 - x)."""
    flip_points = lambda pts: np.column_stack([width - 1 - pts[:, 0], pts[:, 1]])  # noqa: E731
    flip_vectors = lambda vec: np.column_stack([-vec[:, 0], vec[:, 1]])  # noqa: E731
    return make_field(
        flip_points(field.sources_px),
        flip_vectors(field.displacements_px),
        field.radius_px,
        flip_points(field.anchors_px),
        anchor_radius_px=field.anchor_radius_px,
    )


# --- exactness -------------------------------------------------------------------


def test_exact_at_sources_and_anchors_with_close_overlapping_points():
    sources = [[100.0, 100.0], [103.5, 101.0], [160.0, 90.0]]  # first two 3.6 px apart
    displacements = [[4.0, -7.0], [3.0, -6.0], [0.0, 2.5]]
    anchors = [[130.0, 100.0], [100.0, 140.0]]  # inside the sources' supports
    field = make_field(sources, displacements, [60.0, 50.0, 80.0], anchors)
    np.testing.assert_allclose(field.displacement_at(field.sources_px), displacements, rtol=0, atol=1e-9)
    np.testing.assert_allclose(field.displacement_at(field.anchors_px), 0.0, rtol=0, atol=1e-9)
    np.testing.assert_allclose(warp_points(anchors, field), anchors, rtol=0, atol=1e-9)
    np.testing.assert_allclose(warp_points(sources, field), np.add(sources, displacements), rtol=0, atol=1e-9)


def test_interpolation_is_not_a_plain_sum_of_bumps():
    # Two overlapping sources with the same displacement: a sum of bumps would
    # give nearly twice the displacement at each source.
    field = make_field([[50.0, 50.0], [60.0, 50.0]], [[0.0, -5.0], [0.0, -5.0]], 40.0)
    np.testing.assert_allclose(field.displacement_at([[50.0, 50.0], [60.0, 50.0]]), [[0, -5], [0, -5]], atol=1e-9)


def test_displacement_is_exactly_zero_outside_supports_and_shapes_follow_input():
    field = make_field([[50.0, 60.0]], [[3.0, -2.0]], 30.0)
    angles = np.linspace(0, 2 * np.pi, 50)
    ring = np.stack([50 + 30.0 * np.cos(angles), 60 + 30.0 * np.sin(angles)], axis=-1)
    far = ring * 1.0 + np.stack([np.cos(angles), np.sin(angles)], axis=-1) * 5.0
    assert np.all(field.displacement_at(far) == 0.0)
    assert np.all(warp_points(far, field) == far)
    grid = np.zeros((4, 5, 2)) + [50.0, 60.0]
    assert field.displacement_at(grid).shape == (4, 5, 2)
    assert warp_points(grid, field).shape == (4, 5, 2)
    assert field.jacobian_at(grid).shape == (4, 5, 2, 2)
    np.testing.assert_allclose(field.jacobian_at([50.0, 60.0]), 0.0, atol=1e-12)  # lone source: locally rigid


def test_anchor_outside_every_support_changes_nothing_and_default_anchor_radius():
    # An anchor farther than (source radius + anchor radius) decouples from
    # the system: its weight is exactly 0 and the field is the same.
    alone = make_field([[100.0, 100.0], [130.0, 100.0]], [[0.0, -6.0], [2.0, 1.0]], [40.0, 60.0])
    anchored = make_field([[100.0, 100.0], [130.0, 100.0]], [[0.0, -6.0], [2.0, 1.0]], [40.0, 60.0], [[400.0, 100.0]])
    assert anchored.anchor_radius_px == 60.0  # the largest source radius
    points = np.random.default_rng(5).uniform(0.0, 500.0, size=(200, 2))
    assert np.array_equal(alone.displacement_at(points), anchored.displacement_at(points))
    assert anchored.support_bbox_px() == alone.support_bbox_px()


# --- identity --------------------------------------------------------------------


def test_pixels_outside_support_are_bit_identical():
    image = np.random.default_rng(1).integers(0, 256, (300, 400, 3), dtype=np.uint8)
    field = make_field([[200.0, 150.0], [240.0, 160.0]], [[5.0, -8.0], [-2.0, 3.0]], [50.0, 40.0])
    out = warp_image(image, field)
    xs, ys = _grid_xy(300, 400)
    reach = np.full((300, 400), np.inf)
    for centre, radius in zip(field.sources_px, np.broadcast_to(field.radius_px, (2,))):
        reach = np.minimum(reach, np.hypot(xs - centre[0], ys - centre[1]) - radius)
    outside = reach > field.max_displacement_px
    assert outside.sum() > 0.8 * outside.size
    assert np.array_equal(out[outside], image[outside])
    assert not np.array_equal(out, image)


def test_zero_displacements_give_an_identical_image():
    image = _checkerboard(120, 160)
    field = make_field([[80.0, 60.0], [90.0, 60.0]], np.zeros((2, 2)), 40.0, [[20.0, 20.0]])
    assert field.is_identity
    assert field.support_bbox_px() is None
    out = warp_image(image, field)
    assert np.array_equal(out, image)
    assert out is not image


def test_roi_margin_only_costs_time():
    image = _smooth_texture(200, 220)
    field = make_field([[110.0, 100.0]], [[6.0, -9.0]], 45.0, [[150.0, 100.0]])
    assert np.array_equal(warp_image(image, field), warp_image(image, field, roi_margin_px=60.0))
    assert np.array_equal(warp_image(image, field), warp_image(image, field, roi_margin_px=0.0))


# --- geometry: content moves where predicted -------------------------------------------


def test_blob_at_source_moves_by_the_prescribed_displacement():
    centre = (120.0, 110.0)
    image = _blob(240, 240, centre, sigma_px=3.0)
    field = make_field([centre], [[0.0, -7.3]], 60.0)
    found = _peak_xy(warp_image(image, field))
    np.testing.assert_allclose(found, [120.0, 102.7], atol=0.05)
    # Sanity of the estimator: on the unwarped blob it is (near) exact.
    np.testing.assert_allclose(_peak_xy(image), centre, atol=1e-6)


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_blob_at_source_random_displacements(seed):
    rng = np.random.default_rng(seed)
    centre = tuple(rng.uniform(110.0, 130.0, size=2))
    displacement = rng.uniform(-12.0, 12.0, size=2)
    radius = rng.uniform(60.0, 90.0)
    image = _blob(240, 240, centre, sigma_px=3.0).astype(np.float32)
    field = make_field([centre], [displacement], radius)
    found = _peak_xy(warp_image(image, field).astype(float))
    np.testing.assert_allclose(found, np.add(centre, displacement), atol=0.05)


def test_warp_points_agrees_with_warp_image_off_source():
    # A small blob inside the support but not at a control point: there the
    # warp also stretches and shears it; its centre must land where
    # warp_points says.
    field = make_field([[100.0, 100.0], [140.0, 95.0]], [[3.0, -8.0], [-4.0, 2.0]], [55.0, 45.0], [[100.0, 150.0]])
    for start in ([118.0, 112.0], [92.5, 80.3], [115.2, 90.7]):
        image = _blob(220, 240, tuple(start), sigma_px=2.5)
        found = _peak_xy(warp_image(image, field))
        predicted = warp_points(np.array(start), field)
        assert np.linalg.norm(predicted - start) > 1.0  # it really moved
        np.testing.assert_allclose(found, predicted, atol=0.1)


def test_content_moves_forward_on_a_ramp():
    # J(p + d(p)) = I(p): sample the warped image at the forward positions.
    height, width = 220, 260
    xs, ys = _grid_xy(height, width)
    image = 0.6 * xs + 0.35 * ys + 5.0
    field = make_field([[130.0, 110.0], [165.0, 105.0]], [[5.0, -6.0], [-3.0, 4.0]], [60.0, 45.0], [[95.0, 110.0]])
    out = warp_image(image, field)
    starts = np.stack([xs[60:160:3, 70:200:3].ravel(), ys[60:160:3, 70:200:3].ravel()], axis=-1)
    ends = warp_points(starts, field)
    sampled = ndimage.map_coordinates(out, [ends[:, 1], ends[:, 0]], order=1)
    expected = 0.6 * starts[:, 0] + 0.35 * starts[:, 1] + 5.0
    np.testing.assert_allclose(sampled, expected, atol=0.05)


def test_strong_compression_still_inverts():
    # |grad d| reaches 0.7 here: the fixed-point iteration alone leaves ~100
    # pixels unconverged after 30 steps; the Newton finish must still put
    # content in the right place.
    centre = (100.0, 100.0)
    field = make_field([centre], [[0.0, -20.0]], 60.0)
    assert 0.2 < field.min_jacobian_det < 0.35
    image = _blob(200, 200, centre, sigma_px=3.0)
    np.testing.assert_allclose(_peak_xy(warp_image(image, field)), [100.0, 80.0], atol=0.05)


# --- symmetry ----------------------------------------------------------------------------


def test_mirror_symmetry():
    image = _smooth_texture(180, 240)
    width = image.shape[1]
    field = make_field(
        [[100.0, 90.0], [140.0, 80.0]], [[4.0, -6.0], [-2.5, 3.0]], [50.0, 40.0], [[70.0, 95.0]], anchor_radius_px=35.0
    )
    mirrored = warp_image(image[:, ::-1], _mirror_field(field, width))
    expected = warp_image(image, field)[:, ::-1]
    assert np.max(np.abs(mirrored.astype(int) - expected.astype(int))) <= 1


# --- validity ------------------------------------------------------------------------------


def test_fold_over_raises():
    with pytest.raises(ConfigurationError, match="folds over") as info:
        make_field([[100.0, 100.0]], [[0.0, -40.0]], 30.0)
    assert "\n" not in str(info.value)
    # Pushing a source hard towards a nearby anchor folds too.
    with pytest.raises(ConfigurationError, match="folds over"):
        make_field([[100.0, 100.0]], [[25.0, 0.0]], 80.0, [[108.0, 100.0]])


@pytest.mark.parametrize(
    "kwargs",
    [
        dict(sources_px=[[1.0, 2.0]], displacements_px=[[1.0, 1.0], [2.0, 2.0]], radius_px=10.0),
        dict(sources_px=[[1.0, 2.0]], displacements_px=[[1.0, 1.0]], radius_px=-5.0),
        dict(sources_px=[[1.0, 2.0]], displacements_px=[[1.0, 1.0]], radius_px=[10.0, 20.0]),
        dict(sources_px=[[np.nan, 2.0]], displacements_px=[[1.0, 1.0]], radius_px=10.0),
        dict(sources_px=[[1.0, 2.0, 3.0]], displacements_px=[[1.0, 1.0]], radius_px=10.0),
        dict(sources_px=[[1.0, 2.0], [1.0, 2.0]], displacements_px=[[1.0, 0.0], [0.0, 1.0]], radius_px=10.0),
        dict(sources_px=[[1.0, 2.0]], displacements_px=[[1.0, 0.0]], radius_px=10.0, anchors_px=[[1.0, 2.0]]),
        dict(sources_px=[[1.0, 2.0]], displacements_px=[[1.0, 0.0]], radius_px=10.0, anchor_radius_px=0.0),
    ],
)
def test_invalid_arguments_raise_configuration_error(kwargs):
    with pytest.raises(ConfigurationError):
        make_field(**kwargs)


def test_invalid_image_and_margin_raise_configuration_error():
    field = make_field([[10.0, 10.0]], [[1.0, 0.0]], 8.0)
    with pytest.raises(ConfigurationError):
        warp_image(np.zeros((4, 4, 3, 2), np.uint8), field)
    with pytest.raises(ConfigurationError):
        warp_image(np.zeros((20, 20), np.uint8), field, roi_margin_px=-1.0)
    with pytest.raises(ConfigurationError):
        warp_image(np.zeros((20, 20), np.complex128), field)
    assert issubclass(ConfigurationError, LipsymError)


def test_field_is_frozen_and_owns_its_arrays():
    sources = np.array([[50.0, 50.0]])
    field = make_field(sources, [[2.0, 0.0]], 20.0)
    sources[0, 0] = 0.0
    assert field.sources_px[0, 0] == 50.0
    with pytest.raises(ValueError):
        field.sources_px[0, 0] = 1.0
    with pytest.raises(AttributeError):
        field.radius_px = 3.0  # type: ignore[misc]


# --- no seams ----------------------------------------------------------------------------------


def test_no_seams_on_a_smooth_gradient():
    height, width = 260, 300
    xs, ys = _grid_xy(height, width)
    slope = np.array([0.5, 0.3])  # grey levels per px; the image stays in 10...238
    image = slope[0] * xs + slope[1] * ys + 10.0
    field = make_field([[150.0, 130.0], [185.0, 125.0]], [[6.0, -4.0], [-3.0, -5.0]], [90.0, 70.0], [[110.0, 135.0]])
    out = warp_image(image, field)

    # Bound of |grad d| over the plane -> bounds of the output's gradient.
    lipschitz = np.linalg.norm(field.jacobian_at(np.stack([xs, ys], axis=-1)), ord=2, axis=(-2, -1)).max()
    assert 0.02 < lipschitz < 0.5
    inner = (slice(5, height - 5), slice(5, width - 5))  # np.gradient is one-sided at the border
    gy, gx = np.gradient(out)
    magnitude = np.hypot(gx, gy)[inner]
    norm_in = np.linalg.norm(slope)
    tol = 0.03  # bicubic sampling positions are quantised to 1/32 px
    assert magnitude.min() >= norm_in / (1 + lipschitz) - tol
    assert magnitude.max() <= norm_in / (1 - lipschitz) + tol
    # A seam (at the support's edge, the ROI's edge, ...) would be a jump; the
    # second differences of a smooth warp of a ramp are tiny everywhere.
    assert np.abs(np.diff(out, n=2, axis=1)).max() < 0.1
    assert np.abs(np.diff(out, n=2, axis=0)).max() < 0.1

    # Same in uint8: the output's slope stays below 1 level/px, so rounded
    # first differences are in {-1, 0, 1} and second differences within +-2;
    # a seam would show as a larger jump.
    out8 = warp_image(np.rint(image).astype(np.uint8), field).astype(int)
    assert np.abs(np.diff(out8, n=2, axis=1)).max() <= 2
    assert np.abs(np.diff(out8, n=2, axis=0)).max() <= 2


def test_support_crossing_the_image_border():
    image = _checkerboard(100, 120)
    field = make_field([[3.0, 50.0]], [[-6.0, 4.0]], 30.0)  # content pushed out of the left edge
    out = warp_image(image, field)
    assert out.shape == image.shape
    assert not np.array_equal(out, image)
    assert np.array_equal(out[:, 45:], image[:, 45:])
    field_in = make_field([[2.0, 50.0]], [[8.0, 0.0]], 30.0)  # content pulled in from beyond the edge (reflected)
    assert warp_image(image, field_in).shape == image.shape


# --- dtypes, channels, input untouched ---------------------------------------------------------------


@pytest.mark.parametrize(
    "image",
    [
        _checkerboard(90, 110),
        _checkerboard(90, 110, channels=None),
        _checkerboard(90, 110, channels=1),
        _checkerboard(90, 110, channels=5),
        _checkerboard(90, 110).astype(np.uint16) * 250,
        _checkerboard(90, 110).astype(np.float32) / 255.0,
        _checkerboard(90, 110).astype(np.float64) / 255.0,
        _checkerboard(90, 110).astype(np.float16),
        _checkerboard(90, 110).astype(np.int32) - 100,
    ],
    ids=["u8-rgb", "u8-grey", "u8-1ch", "u8-5ch", "u16", "f32", "f64", "f16", "i32"],
)
def test_dtype_and_shape_preserved_and_input_not_modified(image):
    before = image.copy()
    field = make_field([[55.0, 45.0]], [[3.0, -4.5]], 30.0)
    out = warp_image(image, field)
    assert out.dtype == image.dtype
    assert out.shape == image.shape
    assert np.array_equal(image, before)
    assert not np.array_equal(out, image)
    # Channels are warped identically (the 5-channel image goes through cv2 in two calls).
    if image.ndim == 3 and image.shape[2] == 5:
        assert np.array_equal(out[..., 3], out[..., 0])


def test_non_contiguous_input():
    base = _smooth_texture(120, 140)
    field = make_field([[70.0, 60.0]], [[2.0, -3.0]], 30.0)
    assert np.array_equal(warp_image(base[:, ::-1], field), warp_image(np.ascontiguousarray(base[:, ::-1]), field))
