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
from reference_results import analyse_london, fingerprint, reference_for

TOLERANCE = 1e-9


@needs_shared
@pytest.mark.slow
def test_london_results_match_the_reference():
    # MediaPipe's numerics depend on the CPU (tests/reference_results.py): this machine's own reference.
    machine = fingerprint()
    path = reference_for(machine)
    if not path.exists():
        pytest.skip(f"no reference results for this CPU's MediaPipe numerics (fingerprint {machine}): "
                    "python tests/reference_results.py --write")
    with gzip.open(path, "rt") as f:
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
    assert not differ, (f"{len(differ)} of {len(expected)} values differ from {path.name} (this machine's MediaPipe "
                        f"fingerprint: {machine}), e.g. {differ[:5]}")
