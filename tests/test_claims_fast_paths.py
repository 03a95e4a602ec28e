"""The claims engine's fast paths give the same figures as the straightforward code they replaced.

Each fast version is compared with its reference (kept beside it, private) on small random
organisations: same inputs, same numbers to round-off (1e-9). The references are the code the
engine ran before (the previous release), whose own tests fix their meaning.
"""

from __future__ import annotations

import numpy as np
import pytest

from analytics.claims import checks


def _lee_problem(rng, n=400, cells=4, sign=1.0):
    specs = []
    for k in range(cells):
        trt = rng.random(n) < 0.3
        ctrl = ~trt & (rng.random(n) < 0.8)
        dy = np.where(trt | ctrl, rng.normal(0.2 * k, 1.0, n), np.nan)  # NaN outside the cell
        gap = sign * (0.15 + 0.03 * k)
        if k == cells - 1:
            gap = 0.0  # a cell with no gap: untrimmed difference
        meta = {"response_gap": gap, "response_gap_se": 0.01, "response_treated": 0.7,
                "response_comparison": 0.8, "response_influence": None}
        specs.append((meta, dy, trt, ctrl))
    a = [0.4, 0.0, 0.35, 0.25]  # the second cell has no weight: skipped by both
    return specs, a, rng.uniform(0.2, 3.0, n)


@pytest.mark.parametrize("sign", [1.0, -1.0])  # treated answered more (trim them) / comparison did
def test_lee_bounds_equal_the_reference(sign):
    rng = np.random.default_rng(7)
    specs, a, w = _lee_problem(rng, sign=sign)
    fast = checks.lee_bounds(specs, a, w, n_boot=50)
    ref = checks._lee_bounds_reference(specs, a, w, n_boot=50)
    assert not np.isnan(fast[2])  # the bounds were computed (material gap)
    np.testing.assert_allclose(fast, ref, rtol=1e-9, atol=1e-12)
