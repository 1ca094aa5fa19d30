"""relreps.metrics.anchored.relative_matches: the partners retrieved by relative cosine."""

from __future__ import annotations

import numpy as np
import pytest

from relreps.metrics.anchored import anchored_retrieval, relative_matches


def _pair(n: int = 50, seed: int = 0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 6))
    q, _ = np.linalg.qr(rng.normal(size=(6, 6)))
    return x, 2.0 * x @ q


def test_rotated_partner_is_the_first_match_and_agrees_with_top1():
    x, y = _pair()
    anchors, held = np.arange(12), np.arange(12, 50)
    matches = relative_matches(x, y, anchors, held, k=4)
    assert matches.shape == (38, 4) and (matches[:, 0] == np.arange(38)).all()
    assert all(len(set(row)) == 4 for row in matches.tolist())
    noisy = y + np.random.default_rng(1).normal(scale=1.5, size=y.shape)
    first = relative_matches(x, noisy, anchors, held, k=1)[:, 0]
    top1 = anchored_retrieval(x, noisy, anchors, held, methods=("relative",))
    assert np.mean(first == np.arange(38)) == pytest.approx(top1["forward"]["relative"]["top1"])
    assert 0.0 < np.mean(first == np.arange(38)) < 1.0  # the noise makes some queries miss


def test_queries_are_the_first_held_rows_and_matches_are_sorted_by_cosine():
    x, y = _pair()
    anchors, held = np.arange(10), np.arange(49, 9, -1)
    few = relative_matches(x, y, anchors, held, k=3, n_queries=5)
    assert few.shape == (5, 3)
    np.testing.assert_array_equal(few, relative_matches(x, y, anchors, held, k=3)[:5])


def test_bad_inputs():
    x, y = _pair()
    with pytest.raises(ValueError, match="disjoint"):
        relative_matches(x, y, np.arange(10), np.arange(5, 20))
    with pytest.raises(ValueError, match="`k`"):
        relative_matches(x, y, np.arange(10), np.arange(10, 20), k=11)
    with pytest.raises(ValueError, match="n_queries"):
        relative_matches(x, y, np.arange(10), np.arange(10, 20), n_queries=0)
    with pytest.raises(ValueError, match="target"):
        relative_matches(x, y[:40], np.arange(10), np.arange(10, 20))
