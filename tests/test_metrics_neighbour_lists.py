"""relreps.metrics.neighbour_lists: retrieval scores from neighbour lists, against the metrics."""

from __future__ import annotations

import numpy as np
import pytest

from relreps.metrics import knn, paired_cosine, retrieval_scores
from relreps.metrics.neighbour_lists import (
    neighbourhood_agreement,
    retrieval_at_ks,
    retrieval_from_neighbours,
)


def _pair(rng: np.random.Generator, n: int = 120, d: int = 6) -> tuple[np.ndarray, np.ndarray]:
    source = rng.normal(size=(n, d))
    target = source @ np.linalg.qr(rng.normal(size=(d, d)))[0] + 0.3 * rng.normal(size=(n, d))
    return source, target


def test_retrieval_from_neighbours_matches_retrieval_scores(rng):
    source, target = _pair(rng)
    own = np.asarray(knn(target, target, 10).indices)
    got = np.asarray(knn(source, target, 10).indices)
    for k in (1, 5, 10):
        jaccard, mrr = retrieval_from_neighbours(own, got, np.arange(120), k)
        reference = retrieval_scores(source, target, k)
        assert jaccard == pytest.approx(reference.jaccard)
        assert mrr == pytest.approx(reference.mrr)


def test_retrieval_from_neighbours_on_a_query_subset_is_the_subset_mean(rng):
    source, target = _pair(rng, 60, 4)
    own = np.asarray(knn(target, target, 5).indices)
    got = np.asarray(knn(source, target, 5).indices)
    everyone = np.arange(60)
    subset = np.array([3, 10, 42])
    full = [retrieval_from_neighbours(own[[i]], got[[i]], everyone[[i]], 5) for i in subset]
    jaccard, mrr = retrieval_from_neighbours(own[subset], got[subset], subset, 5)
    assert jaccard == pytest.approx(np.mean([f[0] for f in full]))
    assert mrr == pytest.approx(np.mean([f[1] for f in full]))


def test_retrieval_from_neighbours_rejects_bad_input():
    own = np.array([[0, 1], [1, 0]])
    with pytest.raises(ValueError, match="k"):
        retrieval_from_neighbours(own, own, np.arange(2), 3)
    with pytest.raises(ValueError, match="own/retrieved"):
        retrieval_from_neighbours(own, own[:1], np.arange(2), 1)
    with pytest.raises(ValueError, match="queries"):
        retrieval_from_neighbours(own, own, np.zeros((2, 1), dtype=int), 1)
    with pytest.raises(TypeError, match="integer"):
        retrieval_from_neighbours(own.astype(float), own, np.arange(2), 1)


def test_retrieval_at_ks_equals_the_metrics_and_scores_query_subsets(rng):
    source, target = _pair(rng)
    scores = retrieval_at_ks(source, target, (5, 10))
    assert list(scores) == ["jaccard@5", "mrr@5", "jaccard@10", "mrr@10", "cosine"]
    for k in (5, 10):
        reference = retrieval_scores(source, target, k)
        assert scores[f"jaccard@{k}"] == pytest.approx(reference.jaccard)
        assert scores[f"mrr@{k}"] == pytest.approx(reference.mrr)
    assert scores["cosine"] == pytest.approx(paired_cosine(source, target))
    subset = np.array([0, 7, 99])
    part = retrieval_at_ks(source, target, (5,), queries=subset)
    own = np.asarray(knn(target[subset], target, 5).indices)
    got = np.asarray(knn(source[subset], target, 5).indices)
    assert (part["jaccard@5"], part["mrr@5"]) == retrieval_from_neighbours(own, got, subset, 5)


def test_retrieval_at_ks_rejects_bad_input(rng):
    source, target = _pair(rng, 20, 3)
    with pytest.raises(ValueError, match="ks"):
        retrieval_at_ks(source, target, ())
    with pytest.raises(ValueError, match="ks"):
        retrieval_at_ks(source, target, (0,))
    with pytest.raises(ValueError, match="queries"):
        retrieval_at_ks(source, target, (2,), queries=np.array([0, 20]))
    with pytest.raises(ValueError, match="queries"):
        retrieval_at_ks(source, target, (2,), queries=np.array([], dtype=int))
    with pytest.raises(ValueError):
        retrieval_at_ks(source, target[:, :2], (2,))  # widths differ


def test_neighbourhood_agreement_compares_own_neighbourhoods_across_widths(rng):
    x = rng.normal(size=(80, 5))
    rotated = np.hstack([x, np.zeros((80, 3))]) @ np.linalg.qr(rng.normal(size=(8, 8)))[0]
    assert neighbourhood_agreement(x, 3.0 * rotated, (5, 10)) == {
        "jaccard@5": 1.0,
        "jaccard@10": 1.0,
    }
    noise = rng.normal(size=(80, 4))
    subset = np.array([1, 5, 9, 40])
    got = neighbourhood_agreement(x, noise, (5,), queries=subset)
    own_x = np.asarray(knn(x[subset], x, 5).indices)
    own_n = np.asarray(knn(noise[subset], noise, 5).indices)
    assert got["jaccard@5"] == retrieval_from_neighbours(own_x, own_n, subset, 5)[0] < 0.5
    assert got == neighbourhood_agreement(noise, x, (5,), queries=subset)  # symmetric
    with pytest.raises(ValueError, match="ks"):
        neighbourhood_agreement(x, noise, (81,))
    with pytest.raises(ValueError):
        neighbourhood_agreement(x, noise[:50], (5,))  # not paired
