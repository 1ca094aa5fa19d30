"""Dask versions of the metrics: lazy, blockwise, the numpy code per block.

Reached through the public functions (the metrics dispatch ``dask.array`` inputs here) or
:mod:`relreps.distributed`, which also composes the pieces (:func:`check_retrieval_pair`,
:func:`jaccard_from_neighbors`, :func:`mrr_from_neighbors`) into one graph. Every function
validates what it can without reading the data (shapes, dtypes, options) and returns a lazy
result; NaN/Inf are found, and reported with their global row, when the blocks are computed.

- exact kNN: every (query block, index block) pair gives its local top ``k``; the candidates of
  each query block are merged with a tree reduction ordered by (score, lower index first), so the
  result is the numpy :func:`relreps.metrics.knn` result, ties included.
- Jaccard@k / MRR@k: the definitions of :mod:`relreps.metrics.retrieval` on top of that kNN.
- linear CKA: one pass accumulates, per block and summed over a tree, the raw sums and
  cross-products of the two spaces; the centring happens afterwards in feature space, so the data
  is read once. The rows are shifted by the first block's mean before the sums (exact algebra,
  and it keeps float64 accumulation away from catastrophic cancellation for off-centre data).

Importing this module imports dask; import it only for dask inputs.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import array_api_compat.numpy as np_xp
import dask
import dask.array as da
import numpy as np

from relreps._array import Array
from relreps._dask import as_dask, is_dask, raise_nonfinite, row_starts
from relreps._validation import (
    check_choice,
    check_int,
    check_matrix,
    check_paired,
    check_same_features,
    fail,
)
from relreps.metrics.knn_blocks import exact_distances, overlap_counts, top_k_rows, unit_rows
from relreps.metrics.retrieval import Neighbors, RetrievalScores

__all__ = [
    "check_retrieval_pair",
    "cka",
    "is_dask",
    "jaccard_at_k",
    "jaccard_from_neighbors",
    "knn",
    "mrr_at_k",
    "mrr_from_neighbors",
    "retrieval_scores",
]

KNN_METRICS = ("cosine", "inner", "euclidean")
# Index-block candidate lists merged per reduction step.
_SPLIT_EVERY = 8


# ----------------------------------------------------------------------------- exact kNN


def knn(
    queries: Array,
    index: Array,
    k: int,
    *,
    metric: str = "cosine",
    exclude_self: bool = False,
    chunk_size: int | None = None,
    backend: str = "blocked",
    split_every: int = _SPLIT_EVERY,
) -> Any:
    """Exact kNN for dask arrays: blockwise top-k, merged by a tree reduction.

    Same contract as :func:`relreps.metrics.knn` (ties: lower index first), lazily.

    Args:
        queries: (n_queries, n_features) dask (or numpy) array.
        index: (n_index, n_features) dask (or numpy) array.
        k: neighbours per query, in ``[1, n_index]`` (``[1, n_index - 1]`` with ``exclude_self``).
        metric: ``"cosine"``, ``"inner"`` or ``"euclidean"``.
        exclude_self: query ``i`` is index row ``i``: never return it as its own neighbour.
        chunk_size: query rows per block (default: the queries' row chunks).
        backend: only ``"blocked"`` for dask inputs.
        split_every: candidate lists merged per reduction step (>= 2).

    Returns:
        :class:`relreps.metrics.Neighbors` of lazy dask arrays ``indices`` (int64) and
        ``scores`` (similarities descending, Euclidean distances ascending), each (n_queries, k).

    Example:
        >>> import dask.array as da, numpy as np
        >>> x = da.from_array(np.array([[1.0, 0.0], [0.9, 0.1], [0.0, 1.0]]), chunks=(2, 2))
        >>> knn(x, x, 2).indices.compute().tolist()
        [[0, 1], [1, 0], [2, 1]]
    """
    metric = check_choice(metric, "metric", KNN_METRICS)
    check_choice(backend, "backend", ("blocked",))
    if not isinstance(exclude_self, bool):
        raise fail("exclude_self", "a bool", repr(exclude_self), TypeError)
    if chunk_size is not None:
        chunk_size = check_int(chunk_size, "chunk_size", low=1)
    split_every = check_int(split_every, "split_every", low=2)
    q = as_dask(queries, "queries", chunk_size)
    x = as_dask(index, "index")
    check_same_features(q, "queries", x, "index")
    n_queries, n_index = q.shape[0], x.shape[0]
    if exclude_self and n_queries != n_index:
        raise ValueError(
            "Expected `queries` and `index` to have the same number of rows with "
            f"exclude_self=True (query i is index row i), but got {n_queries} and {n_index}."
        )
    high = n_index - 1 if exclude_self else n_index
    k = check_int(k, "k", low=1, high=high, hint="n_index" + (" - 1" if exclude_self else ""))
    dtype = _float_dtype(q.dtype, x.dtype)

    q_blocks = q.to_delayed().ravel()
    x_blocks = x.to_delayed().ravel()
    q_starts, x_starts = row_starts(q.chunks[0]), row_starts(x.chunks[0])
    pair = dask.delayed(_pair_topk, pure=True)
    merge = dask.delayed(_merge_topk, pure=True)
    finish = dask.delayed(_finish_topk, pure=True, nout=2)
    idx_parts, val_parts = [], []
    for q_block, q_start, q_rows in zip(q_blocks, q_starts, q.chunks[0], strict=True):
        parts = [
            pair(q_block, x_block, q_start, x_start, k, metric, exclude_self, dtype)
            for x_block, x_start in zip(x_blocks, x_starts, strict=True)
        ]
        while len(parts) > 1:  # tree reduction: bounded fan-in, depth log(n_blocks)
            parts = [
                merge(parts[i : i + split_every], k) for i in range(0, len(parts), split_every)
            ]
        ids, scores = finish(parts[0], k, metric, dtype)
        idx_parts.append(da.from_delayed(ids, shape=(q_rows, k), dtype=np.int64))
        val_parts.append(da.from_delayed(scores, shape=(q_rows, k), dtype=dtype))
    return Neighbors(
        da.concatenate(idx_parts, axis=0), da.concatenate(val_parts, axis=0), metric=metric
    )


def _float_dtype(*dtypes: Any) -> np.dtype:
    floats = [np.dtype(d) for d in dtypes if np.dtype(d).kind == "f"]
    return np.result_type(*floats) if floats else np.dtype(np.float64)


def _pair_topk(
    q_block: np.ndarray,
    x_block: np.ndarray,
    q_start: int,
    x_start: int,
    k: int,
    metric: str,
    exclude_self: bool,
    dtype: np.dtype,
) -> tuple[np.ndarray, np.ndarray]:
    """Top-k candidates of one (query block, index block) pair: (global indices, ranking keys).

    Keys are the similarities, or minus the Euclidean distances (higher = closer): selected with
    ``2<q, x> - |x|^2`` and then recomputed from the differences, as the numpy kNN does.
    """
    raise_nonfinite(q_block, q_start, "queries")
    raise_nonfinite(x_block, x_start, "index")
    q = np.asarray(q_block, dtype=dtype)
    x = np.asarray(x_block, dtype=dtype)
    if metric == "cosine":
        q, x = unit_rows(q, np_xp), unit_rows(x, np_xp)
    keys = q @ x.T
    if metric == "euclidean":
        keys = 2 * keys - np.einsum("ij,ij->i", x, x)[None, :]
    if exclude_self:
        rows = np.arange(keys.shape[0])
        cols = rows + (q_start - x_start)
        inside = (cols >= 0) & (cols < keys.shape[1])
        keys[rows[inside], cols[inside]] = -np.inf
    local_k = min(k, keys.shape[1])
    ids, values = top_k_rows(keys, local_k, np_xp)
    if metric == "euclidean":
        ids, distances = exact_distances(q, x, ids, np_xp)
        values = -distances
    return np.asarray(ids) + x_start, np.asarray(values)


def _merge_topk(
    parts: Sequence[tuple[np.ndarray, np.ndarray]], k: int
) -> tuple[np.ndarray, np.ndarray]:
    """Best ``k`` of several candidate lists per row: higher key first, then lower index."""
    ids = np.concatenate([p[0] for p in parts], axis=1)
    keys = np.concatenate([p[1] for p in parts], axis=1)
    order = np.lexsort((ids, -keys), axis=1)[:, :k]
    return np.take_along_axis(ids, order, axis=1), np.take_along_axis(keys, order, axis=1)


def _finish_topk(
    merged: tuple[np.ndarray, np.ndarray], k: int, metric: str, dtype: np.dtype
) -> tuple[np.ndarray, np.ndarray]:
    ids, keys = _merge_topk([merged], k)
    if metric == "euclidean":
        keys = -keys  # back to distances, ascending
    return ids.astype(np.int64), keys.astype(dtype, copy=False)


# ----------------------------------------------------------------------------- Jaccard / MRR


def check_retrieval_pair(source: Array, target: Array, k: int) -> tuple[Any, Any, int]:
    """Checked (source, target, k) for Jaccard/MRR, as dask arrays with matching row blocks."""
    src = as_dask(source, "source")
    tgt = as_dask(target, "target")
    for arr, name in ((src, "source"), (tgt, "target")):
        check_matrix(arr, name, min_rows=2, finite=False)
    check_paired(src, "source", tgt, "target")
    check_same_features(src, "source", tgt, "target")
    k = check_int(k, "k", low=1, high=src.shape[0] - 1, hint="n_samples - 1")
    return src.rechunk({0: tgt.chunks[0]}), tgt, k


def _block_overlaps(own: np.ndarray, retrieved: np.ndarray) -> np.ndarray:
    return np.asarray(overlap_counts(own, retrieved, np_xp))


def jaccard_from_neighbors(own: Any, retrieved: Any, k: int) -> Any:
    """Lazy mean Jaccard of two (n_samples, k) neighbour-index arrays (own vs retrieved)."""
    retrieved = retrieved.rechunk(own.chunks)
    inter = da.map_blocks(_block_overlaps, own, retrieved, drop_axis=1, dtype=np.int64)
    inter = inter.astype(np.float64)
    return (inter / (2 * k - inter)).mean()


def mrr_from_neighbors(retrieved: Any) -> Any:
    """Lazy MRR of (n_samples, k) retrieved indices: row i's right answer is sample i."""
    n, k = retrieved.shape
    self_ids = da.arange(n, chunks=retrieved.chunks[0], dtype=np.int64)[:, None]
    hits = (retrieved == self_ids).astype(np.float64)
    return (hits / np.arange(1, k + 1, dtype=np.float64)[None, :]).sum(axis=1).mean()


def jaccard_at_k(source: Array, target: Array, k: int, *, metric: str = "cosine") -> Any:
    """Lazy Jaccard@k (definition of :func:`relreps.metrics.jaccard_at_k`) for dask inputs.

    Args:
        source: (n_samples, n_features) query vectors (dask or numpy).
        target: (n_samples, n_features) searched vectors; row i of both is sample i.
        k: neighbourhood size, in ``[1, n_samples - 1]``.
        metric: kNN metric (``"cosine"``, ``"inner"``, ``"euclidean"``).

    Returns:
        0-d lazy dask array (``float(result)`` or ``result.compute()`` evaluates it).

    Example:
        >>> import dask.array as da, numpy as np
        >>> x = da.from_array(np.random.default_rng(0).normal(size=(40, 6)), chunks=(16, 6))
        >>> float(jaccard_at_k(x, 2.0 * x, 5))
        1.0
    """
    src, tgt, k = check_retrieval_pair(source, target, k)
    own = knn(tgt, tgt, k, metric=metric).indices
    retrieved = knn(src, tgt, k, metric=metric).indices
    return jaccard_from_neighbors(own, retrieved, k)


def mrr_at_k(source: Array, target: Array, k: int, *, metric: str = "cosine") -> Any:
    """Lazy MRR@k (definition of :func:`relreps.metrics.mrr_at_k`) for dask inputs.

    Args:
        source: (n_samples, n_features) query vectors (dask or numpy).
        target: (n_samples, n_features) searched vectors; row i of both is sample i.
        k: number retrieved, in ``[1, n_samples - 1]``.
        metric: kNN metric (``"cosine"``, ``"inner"``, ``"euclidean"``).

    Returns:
        0-d lazy dask array.

    Example:
        >>> import dask.array as da, numpy as np
        >>> x = da.from_array(np.random.default_rng(0).normal(size=(40, 6)), chunks=(16, 6))
        >>> float(mrr_at_k(x, x, 5))
        1.0
    """
    src, tgt, k = check_retrieval_pair(source, target, k)
    return mrr_from_neighbors(knn(src, tgt, k, metric=metric).indices)


def retrieval_scores(
    source: Array, target: Array, k: int, *, metric: str = "cosine", chunk_size: int | None = None
) -> Any:
    """Jaccard@k and MRR@k in one computation (the retrieved kNN is shared by both).

    Args:
        source: (n_samples, n_features) query vectors (dask or numpy).
        target: (n_samples, n_features) searched vectors; row i of both is sample i.
        k: neighbourhood size, in ``[1, n_samples - 1]``.
        metric: kNN metric (``"cosine"``, ``"inner"``, ``"euclidean"``).
        chunk_size: query rows per block (default: the arrays' row chunks).

    Returns:
        :class:`relreps.metrics.RetrievalScores` (computed; runs on the current dask scheduler,
        e.g. a ``dask.distributed.Client`` when one is active).

    Example:
        >>> import dask.array as da, numpy as np
        >>> x = da.from_array(np.random.default_rng(0).normal(size=(50, 8)), chunks=(20, 8))
        >>> s = retrieval_scores(x, 3.0 * x, k=5)
        >>> (s.jaccard, s.mrr)
        (1.0, 1.0)
    """
    src, tgt, k = check_retrieval_pair(source, target, k)
    own = knn(tgt, tgt, k, metric=metric, chunk_size=chunk_size).indices
    retrieved = knn(src, tgt, k, metric=metric, chunk_size=chunk_size).indices
    jaccard, mrr = dask.compute(
        jaccard_from_neighbors(own, retrieved, k), mrr_from_neighbors(retrieved)
    )
    return RetrievalScores(float(jaccard), float(mrr), k, int(src.shape[0]), metric)


# ----------------------------------------------------------------------------- linear CKA

# Per-block sufficient statistics of the shifted rows u (space a) and v (space b), float64:
# n, sum u, sum v, U^T U, V^T V, V^T U, and for the debiased estimator the squared row norms
# p = |u|^2, q = |v|^2 through sum p, sum q, sum p^2, sum q^2, sum pq, sum p u, sum p v, sum q u,
# sum q v.
_Stats = dict[str, Any]


def cka(
    a: Array,
    b: Array,
    *,
    kernel: str = "linear",
    debiased: bool = False,
    sigma: float | None = None,
    chunk_size: int | None = None,
    split_every: int = _SPLIT_EVERY,
) -> Any:
    """Lazy linear CKA for dask inputs (same value as :func:`relreps.metrics.cka`).

    Reads each row once: per-block sums and cross-products are added up over a tree, then
    centred in feature space (``O((d_a + d_b)^2)`` memory, never ``n x n``).

    Args:
        a: (n_samples, d_a) dask (or numpy) array.
        b: (n_samples, d_b) dask (or numpy) array; row i of both is sample i.
        kernel: only ``"linear"`` (an RBF kernel needs all n x n pairs).
        debiased: the unbiased HSIC estimator (needs ``n_samples >= 4``).
        sigma: not used by the linear kernel; must be None.
        chunk_size: rows per block (default: ``a``'s row chunks).
        split_every: blocks summed per reduction step (>= 2).

    Returns:
        0-d lazy dask array; computing it raises the numpy version's ValueError for a constant
        space.

    Example:
        >>> import dask.array as da, numpy as np
        >>> x = np.random.default_rng(0).normal(size=(100, 5))
        >>> q, _ = np.linalg.qr(np.random.default_rng(1).normal(size=(5, 5)))
        >>> xd = da.from_array(x, chunks=(30, 5))
        >>> round(float(cka(xd, 2.0 * xd @ q + 1.0)), 12)
        1.0
    """
    check_choice(kernel, "kernel", ("linear",))
    if not isinstance(debiased, bool):
        raise fail("debiased", "a bool", repr(debiased), TypeError)
    if sigma is not None:
        raise fail("sigma", "None (the linear kernel has no bandwidth)", repr(sigma))
    if chunk_size is not None:
        chunk_size = check_int(chunk_size, "chunk_size", low=1)
    split_every = check_int(split_every, "split_every", low=2)
    min_rows = 4 if debiased else 2
    a_d = as_dask(a, "a", chunk_size)
    b_d = as_dask(b, "b")
    for arr, name in ((a_d, "a"), (b_d, "b")):
        check_matrix(arr, name, min_rows=min_rows, finite=False)
    check_paired(a_d, "a", b_d, "b")
    b_d = b_d.rechunk({0: a_d.chunks[0]})
    a_blocks, b_blocks = a_d.to_delayed().ravel(), b_d.to_delayed().ravel()
    starts = row_starts(a_d.chunks[0])
    # Shift: the first block's means (any shift is exact; this one avoids cancellation).
    shift = dask.delayed(_block_means, pure=True)(a_blocks[0], b_blocks[0])
    block_stats = dask.delayed(_cka_block_stats, pure=True)
    add = dask.delayed(_add_stats, pure=True)
    parts = [
        block_stats(ab, bb, shift, start, debiased)
        for ab, bb, start in zip(a_blocks, b_blocks, starts, strict=True)
    ]
    while len(parts) > 1:
        parts = [add(parts[i : i + split_every]) for i in range(0, len(parts), split_every)]
    value = dask.delayed(_cka_from_stats, pure=True)(parts[0], debiased)
    return da.from_delayed(value, shape=(), dtype=np.float64)


def _block_means(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    return (
        np.asarray(np.mean(a, axis=0, dtype=np.float64)),
        np.asarray(np.mean(b, axis=0, dtype=np.float64)),
    )


def _cka_block_stats(
    a: np.ndarray,
    b: np.ndarray,
    shift: tuple[np.ndarray, np.ndarray],
    start: int,
    debiased: bool,
) -> _Stats:
    raise_nonfinite(a, start, "a")
    raise_nonfinite(b, start, "b")
    u = np.asarray(a, dtype=np.float64) - shift[0]
    v = np.asarray(b, dtype=np.float64) - shift[1]
    stats: _Stats = {
        "n": u.shape[0],
        "su": u.sum(axis=0),
        "sv": v.sum(axis=0),
        "uu": u.T @ u,
        "vv": v.T @ v,
        "vu": v.T @ u,
    }
    if debiased:
        p = np.einsum("ij,ij->i", u, u)
        q = np.einsum("ij,ij->i", v, v)
        stats.update(
            sp=p.sum(), sq=q.sum(), spp=p @ p, sqq=q @ q, spq=p @ q,
            spu=p @ u, spv=p @ v, squ=q @ u, sqv=q @ v,
        )  # fmt: skip
    return stats


def _add_stats(parts: Sequence[_Stats]) -> _Stats:
    total = dict(parts[0])
    for part in parts[1:]:
        for key, value in part.items():
            total[key] = total[key] + value
    return total


def _diag_dot(
    n: int,
    s_pq: float,
    s_pv: np.ndarray,
    s_qu: np.ndarray,
    g_uv: np.ndarray,
    s_p: float,
    s_q: float,
    m_u: np.ndarray,
    m_v: np.ndarray,
) -> float:
    """``sum_i |u_i - m_u|^2 |v_i - m_v|^2`` from raw sums (``g_uv = sum_i u_i v_i^T``).

    Expanding ``(p_i - 2 u_i.m_u + |m_u|^2)(q_i - 2 v_i.m_v + |m_v|^2)`` and using
    ``sum_i u_i = n m_u``.
    """
    alpha, beta = float(m_u @ m_u), float(m_v @ m_v)
    return float(
        s_pq
        - 2.0 * (s_pv @ m_v)
        - 2.0 * (s_qu @ m_u)
        + 4.0 * (m_u @ g_uv @ m_v)
        + beta * s_p
        + alpha * s_q
        - 3.0 * n * alpha * beta
    )


def _hsic_from_moments(
    s_xy: float, sum_dx: float, sum_dy: float, dx_dy: float, n: int, debiased: bool
) -> float:
    """HSIC of centred linear kernels (row sums are 0), as ``relreps.metrics.cka._hsic``."""
    if not debiased:
        return s_xy / (n - 1) ** 2
    trace = s_xy - dx_dy
    value = trace + sum_dx * sum_dy / ((n - 1) * (n - 2)) - 2.0 / (n - 2) * dx_dy
    return value / (n * (n - 3))


def _cka_from_stats(stats: _Stats, debiased: bool) -> np.float64:
    n = int(stats["n"])
    m_u, m_v = stats["su"] / n, stats["sv"] / n
    # Centring in feature space: sum (u - m)(w - m')^T = U^T W - n m m'^T.
    g_aa = stats["uu"] - n * np.outer(m_u, m_u)
    g_bb = stats["vv"] - n * np.outer(m_v, m_v)
    g_ba = stats["vu"] - n * np.outer(m_v, m_u)
    s_kl, s_kk, s_ll = (float(np.sum(g * g)) for g in (g_ba, g_aa, g_bb))
    if debiased:
        sum_dk = float(stats["sp"] - n * (m_u @ m_u))
        sum_dl = float(stats["sq"] - n * (m_v @ m_v))
        s = stats
        dk_dl = _diag_dot(n, s["spq"], s["spv"], s["squ"], s["vu"].T, s["sp"], s["sq"], m_u, m_v)
        dk_dk = _diag_dot(n, s["spp"], s["spu"], s["spu"], s["uu"], s["sp"], s["sp"], m_u, m_u)
        dl_dl = _diag_dot(n, s["sqq"], s["sqv"], s["sqv"], s["vv"], s["sq"], s["sq"], m_v, m_v)
    else:
        sum_dk = sum_dl = dk_dl = dk_dk = dl_dl = 0.0
    num = _hsic_from_moments(s_kl, sum_dk, sum_dl, dk_dl, n, debiased)
    den_a = _hsic_from_moments(s_kk, sum_dk, sum_dk, dk_dk, n, debiased)
    den_b = _hsic_from_moments(s_ll, sum_dl, sum_dl, dl_dl, n, debiased)
    for name, value in (("a", den_a), ("b", den_b)):
        if not value > 0.0:
            raise ValueError(
                f"Expected `{name}` to vary across samples, but its HSIC with itself is "
                f"{value:.3g}: the space is constant (or, debiased, too small to estimate); "
                "CKA is undefined."
            )
    return np.float64(num / math.sqrt(den_a * den_b))
