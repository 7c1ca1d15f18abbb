"""The London development set gives the stored results (tests/reference_results.py).

A refactoring must not change a single result; a change meant to change
results regenerates the reference in the same commit.
"""

from __future__ import annotations

import pytest

import gzip
import json
import math

from conftest import needs_shared
from reference_results import REFERENCE, analyse_london

TOLERANCE = 1e-9


@needs_shared
@pytest.mark.slow
def test_london_results_match_the_reference():
    with gzip.open(REFERENCE, "rt") as f:
        expected = json.load(f)
    got = analyse_london()
    missing = sorted(set(expected) - set(got))
    assert not missing, f"{len(missing)} reference values missing, e.g. {missing[:5]}"
    differ = []
    for key, want in expected.items():
        have = got[key]
        if isinstance(want, float) and isinstance(have, (int, float)) and not isinstance(have, bool):
            if not math.isclose(have, want, rel_tol=0, abs_tol=TOLERANCE):
                differ.append((key, want, have))
        elif have != want:
            differ.append((key, want, have))
    assert not differ, f"{len(differ)} of {len(expected)} values differ, e.g. {differ[:5]}"
