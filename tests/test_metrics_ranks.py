"""partner_ranks, top_k_accuracy and mean_reciprocal_rank against brute force and their axioms."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from relreps.metrics import mean_reciprocal_rank, mrr_at_k, partner_ranks, top_k_accuracy


def _brute_force_ranks(q: np.ndarray, x: np.ndarray, metric: str) -> list[int]:
    """1 + the number of OTHER index rows scoring at least as well as the partner."""
    if metric == "cosine":
        q = q / np.linalg.norm(q, axis=1, keepdims=True)
        x = x / np.linalg.norm(x, axis=1, keepdims=True)
    if metric == "euclidean":
        scores = -np.linalg.norm(q[:, None, :] - x[None, :, :], axis=2)
    else:
        scores = q @ x.T
    n = len(q)
    return [1 + int(np.sum(np.delete(scores[i], i) >= scores[i, i])) for i in range(n)]


@pytest.mark.parametrize("metric", ["cosine", "inner", "euclidean"])
@pytest.mark.parametrize("chunk_size", [None, 1, 7, 64])
def test_partner_ranks_match_brute_force(metric: str, chunk_size: int | None) -> None:
    rng = np.random.default_rng(0)
    q = rng.normal(size=(53, 6))
    x = q + 0.8 * rng.normal(size=q.shape)  # partners nearby, not always first
    ranks = partner_ranks(q, x, metric=metric, chunk_size=chunk_size)
    assert ranks.dtype == np.int64 and ranks.shape == (53,)
    assert ranks.tolist() == _brute_force_ranks(q, x, metric)
    assert 1 < ranks.max() < 53  # the fixture exercises ranks other than 1


def test_ties_count_against_the_query() -> None:
    q = np.ones((4, 3))
    assert partner_ranks(q, np.ones((4, 3))).tolist() == [4, 4, 4, 4]
    # Zero rows score 0 with everything under cosine: a tie with every other zero row.
    assert partner_ranks(np.zeros((3, 2)), np.zeros((3, 2))).tolist() == [3, 3, 3]


@settings(max_examples=40, deadline=None)
@given(st.integers(2, 30), st.integers(1, 5), st.integers(0, 2**16), st.floats(0.1, 10.0))
def test_partner_ranks_properties(n: int, d: int, seed: int, scale: float) -> None:
    rng = np.random.default_rng(seed)
    q, x = rng.normal(size=(n, d)), rng.normal(size=(n, d))
    ranks = partner_ranks(q, x)
    assert ranks.min() >= 1 and ranks.max() <= n
    # Cosine ranks ignore the scale of either space.
    np.testing.assert_array_equal(partner_ranks(scale * q, x), ranks)
    np.testing.assert_array_equal(partner_ranks(q, scale * x), ranks)
    # Relabelling the pairs (the same permutation of queries and index) relabels the ranks.
    perm = rng.permutation(n)
    np.testing.assert_array_equal(partner_ranks(q[perm], x[perm]), ranks[perm])


@pytest.mark.parametrize("metric", ["cosine", "euclidean"])
def test_a_space_retrieving_itself_ranks_every_partner_first(metric: str) -> None:
    x = np.random.default_rng(5).normal(size=(50, 8))  # distinct directions, no near-ties
    assert partner_ranks(x, x, metric=metric).tolist() == [1] * 50


def test_scores_from_ranks() -> None:
    ranks = np.array([1, 1, 2, 10, 11], dtype=np.int64)
    assert top_k_accuracy(ranks, 1) == pytest.approx(0.4)
    assert top_k_accuracy(ranks, 10) == pytest.approx(0.8)
    assert top_k_accuracy(ranks, 11) == 1.0
    assert mean_reciprocal_rank(ranks) == pytest.approx((1 + 1 + 0.5 + 0.1 + 1 / 11) / 5)


def test_mrr_without_cut_off_bounds_mrr_at_k() -> None:
    """mrr_at_k is the uncut MRR with ranks beyond k scored 0 (no ties in continuous data)."""
    rng = np.random.default_rng(1)
    q = rng.normal(size=(80, 8))
    x = q + 0.5 * rng.normal(size=q.shape)
    full = mean_reciprocal_rank(partner_ranks(q, x))
    assert mrr_at_k(q, x, 5) <= full + 1e-12
    ranks = partner_ranks(q, x)
    cut = float(np.mean(np.where(ranks <= 5, 1.0 / ranks, 0.0)))
    assert mrr_at_k(q, x, 5) == pytest.approx(cut)


def test_partner_ranks_torch_input() -> None:
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(2)
    q, x = rng.normal(size=(20, 4)), rng.normal(size=(20, 4))
    got = partner_ranks(torch.from_numpy(q), torch.from_numpy(x))
    np.testing.assert_array_equal(got, partner_ranks(q, x))


def test_errors_name_the_argument() -> None:
    x = np.ones((4, 2))
    with pytest.raises(ValueError, match="`source`"):
        partner_ranks(np.ones((3, 2)), x)
    with pytest.raises(ValueError, match="same number of features"):
        partner_ranks(x, np.ones((4, 3)))
    with pytest.raises(ValueError, match="Expected `metric` to be one of"):
        partner_ranks(x, x, metric="manhattan")
    with pytest.raises(ValueError, match="Expected `chunk_size`"):
        partner_ranks(x, x, chunk_size=0)
    bad = x.copy()
    bad[1, 0] = np.inf
    with pytest.raises(ValueError, match="`target` to contain only finite values, but row 1"):
        partner_ranks(x, bad)
    with pytest.raises(ValueError, match="ranks >= 1"):
        top_k_accuracy(np.array([0, 1]), 1)
    with pytest.raises(TypeError, match="integer ranks"):
        mean_reciprocal_rank(np.array([1.0, 2.0]))
    with pytest.raises(ValueError, match="non-empty 1-D"):
        mean_reciprocal_rank(np.array([], dtype=np.int64))
    with pytest.raises(ValueError, match="Expected `k`"):
        top_k_accuracy(np.array([1, 2]), 0)
