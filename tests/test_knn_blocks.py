"""The blocked exact kNN kernel (relreps.metrics.knn_blocks) against a brute-force argsort.

Odd shapes on purpose: ``n`` not a multiple of the block, ``k`` larger than the last block's
remainder (and than a whole block), the worker-thread path forced on small inputs, and exact
ties (integer-valued data, whose inner products are exact in float32), where the lower index
must win.
"""

from __future__ import annotations

import numpy as np
import pytest

from relreps.metrics import knn, knn_blocks, retrieval_scores
from relreps.metrics.knn_blocks import search


def argsort_reference(q, x, k, metric="cosine", exclude_self=False):
    """(indices, scores) from a full float64 score matrix, sorted by (score desc, index asc)."""
    q = np.asarray(q, dtype=np.float64)
    x = np.asarray(x, dtype=np.float64)
    if metric == "cosine":
        q = q / np.maximum(np.linalg.norm(q, axis=1, keepdims=True), 1e-12)
        x = x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)
    if metric == "euclidean":
        s = -np.sqrt(((q[:, None, :] - x[None, :, :]) ** 2).sum(-1))
    else:
        s = q @ x.T
    if exclude_self:
        np.fill_diagonal(s, -np.inf)
    # argsort on the index first, then a stable argsort on -score: ties keep the lower index.
    by_index = np.broadcast_to(np.arange(s.shape[1]), s.shape)
    order = np.take_along_axis(by_index, np.argsort(-s, axis=1, kind="stable"), axis=1)[:, :k]
    vals = np.take_along_axis(s, order, axis=1)
    return order, (-vals if metric == "euclidean" else vals)


@pytest.fixture(params=[False, True], ids=["calling-thread", "worker-threads"])
def threaded(request, monkeypatch):
    """Run each test both in the calling thread and with the worker-thread scheme forced."""
    if request.param:
        monkeypatch.setattr(knn_blocks, "_THREADED_MIN_SCORES", 0)
        monkeypatch.setattr(knn_blocks, "_threads", lambda n_scores: 2)
    return request.param


# n = 23 rows in blocks of 8: blocks of 8, 8, 7; k = 10 is above the remainder 7 and a block.
ODD_SHAPES = [(23, 8, 10), (23, 8, 3), (37, 16, 9), (50, 7, 12), (5, 2, 4), (64, 64, 10)]


@pytest.mark.parametrize(("n", "block", "k"), ODD_SHAPES)
@pytest.mark.parametrize("metric", ["cosine", "inner", "euclidean"])
def test_search_matches_argsort_on_odd_shapes(rng, threaded, n, block, k, metric):
    x = rng.normal(size=(n, 6)).astype(np.float32)
    q = rng.normal(size=(n + 3, 6)).astype(np.float32)
    nn_q, nn_x = knn_blocks.search([q, x], x, k, metric, False, block, np)
    for queries, nn in ((q, nn_q), (x, nn_x)):
        ref_idx, ref_val = argsort_reference(queries, x, k, metric)
        np.testing.assert_array_equal(nn.indices, ref_idx)
        np.testing.assert_allclose(nn.scores, ref_val, rtol=1e-5, atol=1e-5)
        assert nn.indices.dtype == np.int64 and nn.scores.dtype == np.float32


@pytest.mark.parametrize(("n", "block", "k"), ODD_SHAPES)
def test_exclude_self_matches_argsort(rng, threaded, n, block, k):
    x = rng.normal(size=(n, 5))
    k = min(k, n - 1)
    for metric in ("cosine", "inner", "euclidean"):
        nn = knn(x, x, k, metric=metric, exclude_self=True, chunk_size=block)
        ref_idx, ref_val = argsort_reference(x, x, k, metric, exclude_self=True)
        np.testing.assert_array_equal(nn.indices, ref_idx)
        np.testing.assert_allclose(nn.scores, ref_val, rtol=1e-9, atol=1e-9)


@pytest.mark.parametrize(("n", "block"), [(40, 8), (41, 6), (29, 32)])
def test_exact_ties_go_to_the_lower_index(rng, threaded, n, block):
    # Integer data with many repeated rows: inner products are exact, ties are everywhere.
    x = rng.integers(-1, 2, size=(n, 3)).astype(np.float32)
    k = 7
    for queries in (x, x[::-1].copy()):
        nn = search([queries], x, k, "inner", False, block, np)[0]
        ref_idx, ref_val = argsort_reference(queries, x, k, "inner")
        np.testing.assert_array_equal(nn.indices, ref_idx)
        np.testing.assert_array_equal(nn.scores, ref_val.astype(np.float32))
    nn = knn(x, x, k, metric="inner", exclude_self=True, chunk_size=block)
    np.testing.assert_array_equal(nn.indices, argsort_reference(x, x, k, "inner", True)[0])


def test_retrieval_scores_blocks_do_not_change_the_scores(rng, threaded):
    target = rng.normal(size=(61, 8)).astype(np.float32)
    source = target + 0.5 * rng.normal(size=target.shape).astype(np.float32)
    ref = retrieval_scores(source, target, 10)
    for block in (1, 3, 9, 60, 61, 4096):
        assert retrieval_scores(source, target, 10, chunk_size=block) == ref


def test_n_below_k_plus_one_is_an_error(rng):
    x = rng.normal(size=(10, 4)).astype(np.float32)
    with pytest.raises(ValueError, match=r"Expected `k` to be an int in \[1, 9\]"):
        retrieval_scores(x, x, 10, chunk_size=3)
    with pytest.raises(ValueError, match=r"Expected `k` to be an int in \[1, 9\]"):
        knn(x, x, 10, exclude_self=True, chunk_size=3)
    with pytest.raises(ValueError, match=r"Expected `k` to be an int in \[1, 10\]"):
        knn(x, x, 11, chunk_size=3)


def test_auto_backend_is_the_blocked_kernel(rng):
    x = rng.normal(size=(300, 12)).astype(np.float32)
    auto = knn(x[:40], x, 5)
    blocked = knn(x[:40], x, 5, backend="blocked")
    np.testing.assert_array_equal(auto.indices, blocked.indices)
    np.testing.assert_array_equal(auto.scores, blocked.scores)
    with pytest.raises(ValueError, match="Expected `backend` to be one of"):
        knn(x, x, 2, backend="fast")


def test_exact_and_faiss_searches_return_the_one_neighbors_type() -> None:
    pytest.importorskip("faiss")
    from relreps.knn_index import faiss_knn
    from relreps.neighbors import Neighbors

    x = np.random.default_rng(0).normal(size=(50, 8))
    exact = knn(x[:5], x, 3, metric="euclidean")
    flat = faiss_knn(x[:5], x, 3, metric="euclidean")
    assert isinstance(exact, Neighbors) and isinstance(flat, Neighbors)
    assert (exact.method, exact.metric, exact.approximate) == ("exact", "euclidean", False)
    assert (flat.method, flat.metric, flat.approximate) == ("flat", "euclidean", False)
    idx, dist = exact  # unpacks as a pair, as before
    np.testing.assert_array_equal(idx, flat.indices)
    np.testing.assert_allclose(dist, flat.scores, rtol=1e-5)
