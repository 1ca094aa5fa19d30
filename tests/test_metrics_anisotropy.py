"""relreps.metrics.anisotropy.mean_pairwise_cosine against a loop, and its input checks."""

from __future__ import annotations

import numpy as np
import pytest

from relreps.metrics.anisotropy import mean_pairwise_cosine


def test_mean_pairwise_cosine_against_a_loop(rng):
    x = rng.normal(size=(30, 5)) + 2.0
    z = x / np.linalg.norm(x, axis=1, keepdims=True)
    pairs = [z[i] @ z[j] for i in range(30) for j in range(30) if i != j]
    assert mean_pairwise_cosine(x) == pytest.approx(np.mean(pairs))
    assert mean_pairwise_cosine(np.tile(x[:1], (4, 1))) == pytest.approx(1.0)
    assert mean_pairwise_cosine(x, n=10) == pytest.approx(mean_pairwise_cosine(x[:10]))
    assert mean_pairwise_cosine(x, n=None) == pytest.approx(mean_pairwise_cosine(x))
    assert mean_pairwise_cosine(np.vstack([-x[:1], x[:1]])) == pytest.approx(-1.0)


def test_mean_pairwise_cosine_rejects_bad_input():
    with pytest.raises(ValueError, match="x"):
        mean_pairwise_cosine(np.ones((1, 3)))
    with pytest.raises(ValueError, match="x"):
        mean_pairwise_cosine(np.ones(5))
    with pytest.raises(ValueError, match="n"):
        mean_pairwise_cosine(np.ones((5, 2)), n=1)
