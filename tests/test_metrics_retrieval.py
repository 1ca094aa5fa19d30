"""kNN search and retrieval scores against brute force, plus their properties and errors."""

from __future__ import annotations

import os

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from relreps.metrics import (
    jaccard_at_k,
    knn,
    mrr_at_k,
    mutual_knn,
    paired_cosine,
    retrieval_scores,
)


def brute_knn(q, x, k, metric="cosine", exclude_self=False):
    """Full score matrix, sorted by (score desc, index asc)."""
    q = np.asarray(q, dtype=np.float64)
    x = np.asarray(x, dtype=np.float64)
    if metric == "cosine":
        q = q / np.maximum(np.linalg.norm(q, axis=1, keepdims=True), 1e-12)
        x = x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)
        s = q @ x.T
    elif metric == "inner":
        s = q @ x.T
    else:
        s = -np.sqrt(((q[:, None, :] - x[None, :, :]) ** 2).sum(-1))
    if exclude_self:
        np.fill_diagonal(s, -np.inf)
    cols = np.broadcast_to(np.arange(s.shape[1]), s.shape)
    order = np.lexsort((cols, -s), axis=1)[:, :k]
    vals = np.take_along_axis(s, order, axis=1)
    return order, (-vals if metric == "euclidean" else vals)


def brute_jaccard_mrr(source, target, k):
    own, _ = brute_knn(target, target, k)
    ret, _ = brute_knn(source, target, k)
    jac = [len(set(o) & set(r)) / len(set(o) | set(r)) for o, r in zip(own, ret, strict=True)]
    rr = []
    for i, r in enumerate(ret):
        hit = np.flatnonzero(r == i)
        rr.append(1.0 / (hit[0] + 1) if hit.size else 0.0)
    return float(np.mean(jac)), float(np.mean(rr))


@pytest.fixture
def rng():
    return np.random.default_rng(0)


@pytest.mark.parametrize("metric", ["cosine", "inner", "euclidean"])
@pytest.mark.parametrize(("n_index", "k"), [(30, 1), (30, 7), (3000, 5), (1100, 1)])
def test_knn_matches_brute_force(rng, metric, n_index, k):
    x = rng.normal(size=(n_index, 6))
    q = rng.normal(size=(40, 6))
    idx, val = knn(q, x, k, metric=metric, chunk_size=16)
    ref_idx, ref_val = brute_knn(q, x, k, metric)
    np.testing.assert_array_equal(idx, ref_idx)
    np.testing.assert_allclose(val, ref_val, atol=1e-9)
    assert idx.dtype == np.int64


@pytest.mark.parametrize("metric", ["cosine", "inner", "euclidean"])
@pytest.mark.parametrize("block", [7, 37, 256, 5000])
def test_knn_numpy_blocks_match_brute_force(rng, metric, block):
    """Queries and index both blocked (partial last blocks), self-search symmetric or not."""
    x = rng.normal(size=(1200, 6))
    idx, val = knn(x[:100], x, 9, metric=metric, chunk_size=block)
    ref_idx, ref_val = brute_knn(x[:100], x, 9, metric)
    np.testing.assert_array_equal(idx, ref_idx)
    np.testing.assert_allclose(val, ref_val, atol=1e-9)
    for exclude_self in (False, True):
        idx, val = knn(x, x, 3, metric=metric, exclude_self=exclude_self, chunk_size=block)
        ref_idx, ref_val = brute_knn(x, x, 3, metric, exclude_self=exclude_self)
        np.testing.assert_array_equal(idx, ref_idx)
        np.testing.assert_allclose(val, ref_val, atol=1e-9)


@pytest.mark.parametrize("metric", ["cosine", "inner", "euclidean"])
def test_knn_worker_threads_match_brute_force(rng, metric, monkeypatch):
    """Query blocks (and mirrored blocks, under per-block locks) spread over 3 workers."""
    from relreps.metrics import knn_blocks

    monkeypatch.setattr(knn_blocks, "_THREADED_MIN_SCORES", 0)
    monkeypatch.setattr(os, "cpu_count", lambda: 3)  # read by worker_threads()
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)  # CI may pin it to 1
    assert knn_blocks._threads(1) == 3
    x = rng.normal(size=(1300, 6))
    idx, val = knn(x[:400], x, 9, metric=metric, chunk_size=64)
    ref_idx, ref_val = brute_knn(x[:400], x, 9, metric)
    np.testing.assert_array_equal(idx, ref_idx)
    np.testing.assert_allclose(val, ref_val, atol=1e-9)
    for exclude_self in (False, True):
        idx, _ = knn(x, x, 4, metric=metric, exclude_self=exclude_self, chunk_size=100)
        ref = brute_knn(x, x, 4, metric, exclude_self=exclude_self)[0]
        np.testing.assert_array_equal(idx, ref)


def test_knn_symmetric_self_search_float32_matches_float64(rng):
    """The mirrored-block scheme (queries ARE the index) against an unrelated float64 search."""
    x = rng.normal(size=(3000, 16)).astype(np.float32)
    idx, val = knn(x, x, 10, chunk_size=512)
    ref_idx, ref_val = brute_knn(x.astype(np.float64), x.astype(np.float64), 10, "cosine")
    assert idx.dtype == np.int64 and val.dtype == np.float32
    assert np.mean(np.all(idx == ref_idx, axis=1)) > 0.99  # float32 rounding may swap near-ties
    np.testing.assert_allclose(val, ref_val, atol=1e-5)
    # ... and against the general (non-mirrored) path on a copy of the same data
    idx_copy, val_copy = knn(x, x.copy(), 10, chunk_size=512)
    assert np.mean(np.all(idx == idx_copy, axis=1)) > 0.999
    np.testing.assert_allclose(val, val_copy, atol=1e-6)


def test_knn_torch_generic_path_matches_numpy(rng):
    torch = pytest.importorskip("torch")
    x = rng.normal(size=(700, 5))
    idx, val = knn(torch.from_numpy(x[:50]), torch.from_numpy(x), 6, chunk_size=16)
    ref_idx, ref_val = knn(x[:50], x, 6)
    np.testing.assert_array_equal(idx.numpy(), ref_idx)
    np.testing.assert_allclose(val.numpy(), ref_val, atol=1e-12)


@pytest.mark.parametrize("metric", ["cosine", "inner", "euclidean"])
def test_knn_exclude_self_matches_brute_force(rng, metric):
    x = rng.normal(size=(1200, 5))  # wide enough for the grouped bound (128 groups)
    idx, _ = knn(x, x, 4, metric=metric, exclude_self=True, chunk_size=500)
    ref_idx, _ = brute_knn(x, x, 4, metric, exclude_self=True)
    np.testing.assert_array_equal(idx, ref_idx)
    assert not np.any(idx == np.arange(len(x))[:, None])


@settings(max_examples=40, deadline=None)
@given(
    data=st.data(),
    n=st.integers(2, 300),
    d=st.integers(1, 4),
    metric=st.sampled_from(["inner", "euclidean"]),
)
def test_knn_ties_lower_index_first(data, n, d, metric):
    """Small integer data is full of exact ties: the order must be (score, index)."""
    seed = data.draw(st.integers(0, 10_000))
    x = np.random.default_rng(seed).integers(-2, 3, size=(n, d)).astype(np.float64)
    k = data.draw(st.integers(1, n))
    idx, val = knn(x, x, k, metric=metric, chunk_size=data.draw(st.integers(1, 64)))
    ref_idx, ref_val = brute_knn(x, x, k, metric)
    np.testing.assert_array_equal(idx, ref_idx)
    np.testing.assert_allclose(val, ref_val, atol=1e-9)


def test_knn_clustered_rows_stored_together(rng):
    """Neighbours stored next to each other (sorted clusters) must not be missed."""
    centers = rng.normal(size=(20, 8)) * 10
    x = np.repeat(centers, 150, axis=0) + rng.normal(size=(3000, 8)) * 0.01
    idx, _ = knn(x[:50], x, 10)
    np.testing.assert_array_equal(idx, brute_knn(x[:50], x, 10)[0])


def test_knn_duplicate_rows_tie_to_lower_index():
    x = np.tile(np.array([[1.0, 2.0]]), (5, 1))
    idx, val = knn(x, x, 3)
    assert idx.tolist() == [[0, 1, 2]] * 5
    np.testing.assert_allclose(val, 1.0)
    idx, _ = knn(x, x, 2, exclude_self=True)
    assert idx[0].tolist() == [1, 2] and idx[1].tolist() == [0, 2]


def test_knn_zero_rows_cosine_no_nan():
    x = np.array([[0.0, 0.0], [1.0, 0.0], [0.0, 1.0]])
    _, val = knn(x, x, 3)
    assert np.all(np.isfinite(val))
    assert val[0].tolist() == [0.0, 0.0, 0.0]


def test_knn_faiss_backend_matches_blocked(rng):
    pytest.importorskip("faiss")
    x = rng.normal(size=(500, 16)).astype(np.float32)
    q = rng.normal(size=(60, 16)).astype(np.float32)
    for metric in ("cosine", "inner", "euclidean"):
        a = knn(q, x, 8, metric=metric)
        b = knn(q, x, 8, metric=metric, backend="faiss")
        np.testing.assert_array_equal(a.indices, b.indices)
        np.testing.assert_allclose(a.scores, b.scores, rtol=1e-4, atol=1e-4)
    a = knn(x, x, 5, exclude_self=True)
    b = knn(x, x, 5, exclude_self=True, backend="faiss")
    np.testing.assert_array_equal(a.indices, b.indices)


def test_knn_torch_and_array_api_strict(rng):
    torch = pytest.importorskip("torch")
    strict = pytest.importorskip("array_api_strict")
    x = rng.normal(size=(400, 5))
    ref = brute_knn(x[:30], x, 6)[0]
    t_idx, t_val = knn(torch.tensor(x[:30], dtype=torch.float32), torch.tensor(x), 6)
    assert isinstance(t_idx, torch.Tensor) and t_val.dtype == torch.float64
    np.testing.assert_array_equal(t_idx.numpy(), ref)
    t_idx, _ = knn(torch.tensor(x), torch.tensor(x), 6, exclude_self=True, chunk_size=64)
    np.testing.assert_array_equal(t_idx.numpy(), brute_knn(x, x, 6, exclude_self=True)[0])
    s_idx, _ = knn(strict.asarray(x[:30]), strict.asarray(x), 6, metric="euclidean")
    np.testing.assert_array_equal(np.asarray(s_idx), brute_knn(x[:30], x, 6, "euclidean")[0])
    s_idx, _ = knn(strict.asarray(x), strict.asarray(x), 2, exclude_self=True)
    np.testing.assert_array_equal(np.asarray(s_idx), brute_knn(x, x, 2, exclude_self=True)[0])


def test_knn_integer_input_and_float32_kept(rng):
    x = rng.integers(0, 10, size=(20, 3))
    _, val = knn(x, x, 2)
    assert val.dtype == np.float64
    _, val32 = knn(x.astype(np.float32), x.astype(np.float32), 2)
    assert val32.dtype == np.float32


def test_knn_errors(rng):
    x = rng.normal(size=(10, 3))
    with pytest.raises(ValueError, match=r"Expected `k` to be an int in \[1, 10\]"):
        knn(x, x, 11)
    with pytest.raises(ValueError, match=r"Expected `k` to be an int in \[1, 9\]"):
        knn(x, x, 10, exclude_self=True)
    with pytest.raises(TypeError, match="Expected `k`"):
        knn(x, x, 2.5)
    with pytest.raises(ValueError, match="same number of features"):
        knn(x, x[:, :2], 2)
    with pytest.raises(ValueError, match="same number of rows with exclude_self"):
        knn(x[:5], x, 2, exclude_self=True)
    with pytest.raises(ValueError, match="Expected `metric` to be one of"):
        knn(x, x, 2, metric="manhattan")
    with pytest.raises(ValueError, match="Expected `backend` to be one of"):
        knn(x, x, 2, backend="annoy")
    with pytest.raises(TypeError, match="Expected `exclude_self` to be a bool"):
        knn(x, x, 2, exclude_self=1)
    with pytest.raises(ValueError, match="Expected `chunk_size`"):
        knn(x, x, 2, chunk_size=0)
    bad = x.copy()
    bad[3, 1] = np.nan
    with pytest.raises(ValueError, match="`queries` to contain only finite values, but row 3"):
        knn(bad, x, 2)
    with pytest.raises(ValueError, match="2-D array"):
        knn(x[0], x, 2)


@pytest.mark.parametrize("k", [1, 3, 8])
def test_jaccard_mrr_match_brute_force(rng, k):
    target = rng.normal(size=(80, 5))
    source = target + 0.7 * rng.normal(size=target.shape)
    jac, mrr = brute_jaccard_mrr(source, target, k)
    scores = retrieval_scores(source, target, k)
    assert scores.jaccard == pytest.approx(jac) and scores.mrr == pytest.approx(mrr)
    assert jaccard_at_k(source, target, k) == pytest.approx(jac)
    assert mrr_at_k(source, target, k) == pytest.approx(mrr)
    assert scores.to_dict()["k"] == k and scores.n_samples == 80


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 10_000), n=st.integers(3, 60), k=st.integers(1, 10))
def test_identical_spaces_score_one(seed, n, k):
    x = np.random.default_rng(seed).normal(size=(n, 4))
    k = min(k, n - 1)
    assert jaccard_at_k(x, x, k) == 1.0
    assert mrr_at_k(x, 5.0 * x, k) == 1.0  # cosine: scaling the source changes nothing
    assert mutual_knn(x, x, k) == 1.0


def test_query_counted_in_its_own_neighbourhood(rng):
    """k=1: each target's own neighbourhood is itself, so Jaccard@1 equals accuracy@1."""
    target = rng.normal(size=(50, 4))
    source = target + rng.normal(size=target.shape)
    retrieved, _ = brute_knn(source, target, 1)
    accuracy = float(np.mean(retrieved[:, 0] == np.arange(50)))
    assert jaccard_at_k(source, target, 1) == pytest.approx(accuracy)
    assert mrr_at_k(source, target, 1) == pytest.approx(accuracy)


def test_mrr_zero_when_never_retrieved():
    target = np.array([[1.0, 0.0], [0.0, 1.0], [-1.0, 0.0], [0.0, -1.0]])
    source = -target  # each source points at the opposite target
    assert mrr_at_k(source, target, 1) == 0.0


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 10_000), n=st.integers(3, 50), k=st.integers(1, 6))
def test_mutual_knn_symmetric_and_matches_reference(seed, n, k):
    rng = np.random.default_rng(seed)
    a = rng.normal(size=(n, 3))
    b = rng.normal(size=(n, 5))
    k = min(k, n - 1)
    na, _ = brute_knn(a, a, k, exclude_self=True)
    nb, _ = brute_knn(b, b, k, exclude_self=True)
    ref = np.mean([len(set(x) & set(y)) / k for x, y in zip(na, nb, strict=True)])
    assert mutual_knn(a, b, k) == pytest.approx(ref)
    assert mutual_knn(a, b, k) == mutual_knn(b, a, k)


def test_paired_cosine_reference_and_zero_rows(rng):
    a = rng.normal(size=(20, 4))
    b = rng.normal(size=(20, 4))
    ref = np.mean((a * b).sum(1) / np.linalg.norm(a, axis=1) / np.linalg.norm(b, axis=1))
    assert paired_cosine(a, b) == pytest.approx(ref)
    assert paired_cosine(np.zeros((3, 2)), np.ones((3, 2))) == 0.0
    assert paired_cosine(a, 3.0 * a) == pytest.approx(1.0)


def test_retrieval_errors(rng):
    a = rng.normal(size=(10, 3))
    with pytest.raises(ValueError, match="`source` and `target` to have the same number of rows"):
        jaccard_at_k(a, a[:8], 2)
    with pytest.raises(ValueError, match=r"`source` has shape \(10, 3\) and `target` has shape"):
        mrr_at_k(a, a[:8], 2)
    with pytest.raises(ValueError, match=r"Expected `k` to be an int in \[1, 9\]"):
        jaccard_at_k(a, a, 10)
    with pytest.raises(ValueError, match="at least 2 rows"):
        retrieval_scores(a[:1], a[:1], 1)
    with pytest.raises(ValueError, match="same number of features"):
        jaccard_at_k(a, a[:, :2], 2)
    with pytest.raises(ValueError, match="`a` and `b` to have the same number of rows"):
        mutual_knn(a, a[:5], 2)
    with pytest.raises(ValueError, match=r"Expected `k` to be an int in \[1, 9\]"):
        mutual_knn(a, a, 10)
    with pytest.raises(ValueError, match="same number of features"):
        paired_cosine(a, a[:, :2])
    with pytest.raises(ValueError, match="same number of rows"):
        paired_cosine(a, a[:4])
    bad = a.copy()
    bad[0, 0] = np.inf
    with pytest.raises(ValueError, match="`b` to contain only finite values"):
        mutual_knn(a, bad, 2)


def test_knn_block_size_is_a_deprecated_alias_of_chunk_size() -> None:
    x = np.random.default_rng(3).normal(size=(60, 5))
    expected = knn(x, x, 4, chunk_size=7)
    with pytest.warns(DeprecationWarning, match=r"knn\(\): `block_size` is deprecated") as caught:
        got = knn(x, x, 4, block_size=7)
    assert caught[0].filename == __file__  # the warning points at the caller
    np.testing.assert_array_equal(got.indices, expected.indices)
    np.testing.assert_array_equal(got.scores, expected.scores)
    with pytest.warns(DeprecationWarning), pytest.raises(ValueError, match="`chunk_size`"):
        knn(x, x, 4, block_size=0)  # the alias is validated as the new name
    with pytest.raises(TypeError, match="only one of `chunk_size` and its deprecated alias"):
        knn(x, x, 4, chunk_size=7, block_size=7)
