"""metrics.paired_cosine(center_rows=...) and metrics.correlation.pearson."""

from __future__ import annotations

import numpy as np
import pytest

from relreps.metrics import paired_cosine
from relreps.metrics.correlation import pearson


def test_paired_cosine_matches_a_row_by_row_loop(rng):
    a, b = rng.normal(size=(7, 5)), rng.normal(size=(7, 5))
    expected = np.mean(
        [x @ y / np.linalg.norm(x) / np.linalg.norm(y) for x, y in zip(a, b, strict=True)]
    )
    assert paired_cosine(a, b) == pytest.approx(expected)
    assert paired_cosine(a, 3.0 * a) == pytest.approx(1.0)
    assert paired_cosine(np.zeros((2, 3)), b[:2, :3]) == 0.0  # zero rows: no NaN


def test_paired_cosine_errors():
    with pytest.raises(ValueError, match="`b`"):
        paired_cosine(np.ones((2, 3)), np.ones((3, 3)))
    with pytest.raises(ValueError, match="`a`"):
        paired_cosine(np.ones(3), np.ones(3))
    with pytest.raises(TypeError, match="center_rows"):
        paired_cosine(np.ones((2, 3)), np.ones((2, 3)), center_rows=1)
    with pytest.raises(ValueError, match="flat_tol"):
        paired_cosine(np.ones((2, 3)), np.ones((2, 3)), center_rows=True, flat_tol=-1.0)


def test_row_centring_ignores_a_common_offset(rng):
    a, b = rng.normal(size=(6, 10)), rng.normal(size=(6, 10))
    shifted = a + 5.0  # same structure, large common offset
    assert paired_cosine(a, shifted) < 0.99
    assert paired_cosine(a, shifted, center_rows=True) == pytest.approx(1.0)
    expected = np.mean([np.corrcoef(x, y)[0, 1] for x, y in zip(a, b, strict=True)])
    assert paired_cosine(a, b, center_rows=True) == pytest.approx(expected)
    # float32 inputs give the same score up to float32 rounding
    centred32 = paired_cosine(a.astype(np.float32), b.astype(np.float32), center_rows=True)
    assert centred32 == pytest.approx(expected, abs=1e-5)


def test_centred_similarity_is_stable_under_projection_rounding(rng):
    # relative rows of a collapsed model (cosines 1 - 1e-6 to every anchor) and ordinary ones
    flat = 1.0 - 1e-6 * rng.random(size=(50, 40))
    spread = rng.uniform(0.2, 0.9, size=(50, 40))
    reference = rng.uniform(0.0, 1.0, size=(100, 40))
    rows = np.vstack([flat, spread])
    base = paired_cosine(rows, reference, center_rows=True)
    for _ in range(5):
        noisy = rows * (1.0 + 1e-7 * rng.standard_normal(rows.shape))
        assert abs(paired_cosine(noisy, reference, center_rows=True) - base) < 1e-5
    # the flat rows count as zero rows: the score is the ordinary rows' mean, halved
    ordinary = paired_cosine(spread, reference[50:], center_rows=True)
    assert base == pytest.approx(ordinary / 2, abs=1e-12)
    # without the tolerance the flat rows' rounding noise decides their score
    assert paired_cosine(rows, reference, center_rows=True, flat_tol=0.0) != pytest.approx(base)


def test_centred_similarity_keeps_rows_just_above_the_flat_tolerance(rng):
    tol = 1e-3
    direction = rng.normal(size=(3, 20))
    direction -= direction.mean(axis=1, keepdims=True)
    direction /= np.linalg.norm(direction, axis=1, keepdims=True)
    rows = 1.0 + 0.5 * direction  # spread well above the tolerance
    assert paired_cosine(rows, direction, center_rows=True, flat_tol=tol) == pytest.approx(1.0)
    barely = 1.0 + 2 * tol * np.sqrt(20) * direction
    assert paired_cosine(barely, direction, center_rows=True, flat_tol=tol) == pytest.approx(1.0)
    below = 1.0 + 0.5 * tol * np.sqrt(20) * direction
    assert paired_cosine(below, direction, center_rows=True, flat_tol=tol) == 0.0


def test_pearson_matches_numpy_and_is_undefined_when_degenerate(rng):
    x, y = rng.normal(size=20), rng.normal(size=20)
    assert pearson(x, y) == pytest.approx(np.corrcoef(x, y)[0, 1])
    assert pearson([1, 2], [3, 4]) is None  # too few points
    assert pearson([1, 2], [3, 4], min_points=2) == pytest.approx(1.0)
    assert pearson([1, 1, 1], [1, 2, 3]) is None  # constant


def test_pearson_errors():
    with pytest.raises(ValueError, match="`y`"):
        pearson([1, 2, 3], [1, 2])
    with pytest.raises(ValueError, match="finite"):
        pearson([1, 2, np.nan], [1, 2, 3])
    with pytest.raises(ValueError, match="min_points"):
        pearson([1, 2, 3], [1, 2, 3], min_points=1)
