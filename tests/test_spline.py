"""lipsym's natural cubic spline equals SciPy's (which it replaces for import time)."""

import numpy as np
import pytest
from scipy.interpolate import CubicSpline

from lipsym.face._spline import NaturalCubicSpline


@pytest.mark.parametrize("n", [2, 3, 5, 11])
def test_matches_scipy_natural_cubic_spline(n):
    rng = np.random.default_rng(n)
    for _ in range(20):
        t = np.cumsum(rng.uniform(0.1, 3.0, n))
        y = rng.normal(size=(n, 2)) * 10
        s = np.linspace(t[0] - 0.5, t[-1] + 0.5, 257)
        assert np.allclose(NaturalCubicSpline(t, y)(s), CubicSpline(t, y, bc_type="natural")(s), atol=1e-9)


def test_interpolates_and_rejects_bad_knots():
    t, y = np.array([0.0, 1.0, 3.0]), np.array([[0.0, 1.0], [2.0, -1.0], [0.5, 0.5]])
    assert np.allclose(NaturalCubicSpline(t, y)(t), y)
    with pytest.raises(ValueError):
        NaturalCubicSpline(np.array([0.0, 0.0, 1.0]), y)
