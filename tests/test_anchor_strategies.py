"""relreps.anchors.select (strategies by name) and pca_coordinates."""

from __future__ import annotations

import numpy as np
import pytest

from relreps import anchors
from relreps.anchors import STRATEGIES, pca_coordinates, select


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_select_gives_distinct_seeded_indices(strategy, rng):
    x = rng.normal(size=(80, 4))
    labels = np.arange(80) % 4
    idx = select(strategy, x, 12, seed=3, labels=labels, metric="euclidean")
    assert idx.shape == (12,) and idx.dtype == np.int64 and len(set(idx.tolist())) == 12
    assert np.array_equal(idx, select(strategy, x, 12, seed=3, labels=labels, metric="euclidean"))
    if strategy == "stratified":
        assert np.bincount(labels[idx]).tolist() == [3, 3, 3, 3]


def test_select_is_the_named_function(rng):
    x, labels = rng.normal(size=(60, 3)), np.arange(60) % 3
    assert np.array_equal(select("random", x, 5, seed=1), anchors.random(60, 5, seed=1))
    assert np.array_equal(
        select("stratified", x, 6, seed=1, labels=labels), anchors.stratified(labels, 6, seed=1)
    )
    assert np.array_equal(
        select("kmeans", x, 5, seed=2, metric="euclidean", max_iter=7),
        anchors.kmeans(x, 5, seed=2, metric="euclidean", max_iter=7),
    )
    assert np.array_equal(
        select("farthest_point", x, 5, seed=2), anchors.farthest_point(x, 5, seed=2)
    )


def test_select_errors(rng):
    x = rng.normal(size=(5, 2))
    with pytest.raises(ValueError, match="strategy"):
        select("best", x, 2, seed=0)
    with pytest.raises(TypeError, match="labels"):
        select("stratified", x, 2, seed=0)


def test_pca_coordinates_match_sklearn_up_to_sign(rng):
    from sklearn.decomposition import PCA

    x = rng.normal(size=(40, 1, 3, 5))
    ours = pca_coordinates(x, 4)
    theirs = PCA(4).fit_transform(x.reshape(40, -1))
    np.testing.assert_allclose(np.abs(ours), np.abs(theirs), atol=1e-8)
    assert pca_coordinates(x[:3], 10).shape == (3, 3)  # capped at the number of rows


def test_pca_coordinates_errors(rng):
    with pytest.raises(ValueError, match="dims"):
        pca_coordinates(rng.normal(size=(4, 2)), 0)
    with pytest.raises(ValueError, match="`x`"):
        pca_coordinates(np.ones(3), 1)
    with pytest.raises(ValueError, match="finite"):
        pca_coordinates(np.array([[np.nan, 1.0], [0.0, 1.0]]), 1)
