"""Where each query's true partner ranks among all candidates, and the scores read from it.

Paired retrieval (a word and its translation, a sentence and its paraphrase): row ``i`` of
``target`` is the true partner of ``source`` row ``i``. :func:`partner_ranks` gives the partner's
rank among all ``n`` target rows (1 = retrieved first), exactly and in bounded memory;
:func:`top_k_accuracy` and :func:`mean_reciprocal_rank` summarise the ranks. Unlike
:func:`relreps.metrics.mrr_at_k` there is no cut-off: every rank counts (``1 / rank`` for a
partner at any position).

Ties count against the query: a target row scoring exactly as well as the partner ranks ahead of
it, so a degenerate space (all rows equal) gives rank ``n``, not 1.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from relreps._array import Array, to_numpy
from relreps._validation import (
    check_choice,
    check_int,
    check_matrix,
    check_paired,
    check_same_features,
    fail,
)
from relreps.metrics.retrieval import KNN_METRICS, KnnMetric

__all__ = ["mean_reciprocal_rank", "partner_ranks", "top_k_accuracy"]

# Query rows per block of scores: (1024, n_index) float64, 8 MiB per 1,000 index rows.
DEFAULT_CHUNK_ROWS = 1024
_EPS = 1e-12


def partner_ranks(
    source: Array,
    target: Array,
    *,
    metric: KnnMetric = "cosine",
    chunk_size: int | None = None,
) -> np.ndarray:
    """Rank of each source row's true partner (row ``i`` of ``target``) among all target rows.

    Args:
        source: (n_samples, n_features) query vectors (numpy, torch or any array-API array).
        target: (n_samples, n_features) searched vectors; row i is the partner of source row i.
        metric: ``"cosine"`` (default; rows L2-normalised, zero rows score 0), ``"inner"``
            (dot product) or ``"euclidean"`` (distance, smaller is better).
        chunk_size: query rows per block of scores (memory ``O(chunk_size * n_samples)``;
            default 1024).

    Returns:
        (n_samples,) int64 numpy array of ranks in ``[1, n_samples]``; a target row scoring
        equal to the partner counts ahead of it. Scores are computed in float64.

    Raises:
        ValueError: different numbers of rows or features, NaN/Inf, an unknown metric or a
            ``chunk_size`` below 1.

    Example:
        >>> q = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
        >>> partner_ranks(q, np.array([[1.0, 0.1], [1.0, 0.0], [1.0, 0.9]])).tolist()
        [2, 3, 1]
    """
    source = check_matrix(source, "source")
    target = check_matrix(target, "target")
    check_paired(source, "source", target, "target")
    check_same_features(source, "source", target, "target")
    metric = check_choice(metric, "metric", KNN_METRICS)
    rows = DEFAULT_CHUNK_ROWS
    if chunk_size is not None:
        rows = check_int(chunk_size, "chunk_size", low=1)
    q = np.asarray(to_numpy(source), dtype=np.float64)
    x = np.asarray(to_numpy(target), dtype=np.float64)
    if metric == "cosine":
        q = q / np.maximum(np.linalg.norm(q, axis=1, keepdims=True), _EPS)
        x = x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), _EPS)
    # Euclidean: rank by ||x||^2 - 2 q.x (the query's own norm is the same for its whole row).
    bias = np.einsum("ij,ij->i", x, x) if metric == "euclidean" else None
    ranks = np.empty(q.shape[0], dtype=np.int64)
    for start in range(0, q.shape[0], rows):
        block = q[start : start + rows] @ x.T
        if bias is not None:
            block = 2.0 * block - bias[None, :]  # larger is nearer
        own = block[np.arange(block.shape[0]), np.arange(start, start + block.shape[0])]
        # The partner counts itself, so the best possible rank is 1.
        ranks[start : start + block.shape[0]] = (block >= own[:, None]).sum(axis=1)
    return ranks


def _check_ranks(ranks: Any) -> np.ndarray:
    arr = np.asarray(ranks)
    if arr.ndim != 1 or arr.size == 0:
        raise fail("ranks", "a non-empty 1-D array of ranks", f"shape {arr.shape}")
    if not np.issubdtype(arr.dtype, np.integer):
        raise fail("ranks", "integer ranks (see partner_ranks)", f"dtype {arr.dtype}", TypeError)
    if arr.min() < 1:
        raise fail("ranks", "ranks >= 1 (1 = retrieved first)", f"a minimum of {arr.min()}")
    return arr


def top_k_accuracy(ranks: Any, k: int) -> float:
    """Share of queries whose partner ranks in the top ``k``.

    Args:
        ranks: (n_samples,) integer ranks >= 1, as returned by :func:`partner_ranks`.
        k: cut-off, >= 1.

    Returns:
        A float in [0, 1].

    Example:
        >>> top_k_accuracy(np.array([1, 2, 5, 1]), 1), top_k_accuracy(np.array([1, 2, 5, 1]), 2)
        (0.5, 0.75)
    """
    arr = _check_ranks(ranks)
    k = check_int(k, "k", low=1)
    return float(np.mean(arr <= k))


def mean_reciprocal_rank(ranks: Any) -> float:
    """Mean of ``1 / rank`` over the queries (no cut-off).

    Args:
        ranks: (n_samples,) integer ranks >= 1, as returned by :func:`partner_ranks`.

    Returns:
        A float in (0, 1]; 1 when every partner ranks first.

    Example:
        >>> mean_reciprocal_rank(np.array([1, 2, 4]))
        0.5833333333333334
    """
    return float(np.mean(1.0 / _check_ranks(ranks)))
