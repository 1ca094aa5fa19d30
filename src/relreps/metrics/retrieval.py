"""Exact k-nearest-neighbour search and the retrieval scores built on it.

:func:`knn` is exact and bounded in memory: queries are processed in blocks, each block's
similarities to the whole index are computed with one matrix product, and the top ``k`` of each
row are selected without sorting the row. Selection uses a *lower bound* on each row's k-th
largest score: the row is split into ``m`` interleaved groups, and the k-th largest group maximum
is a value that at least ``k`` entries reach. Every entry at or above that bound is a candidate
(usually about ``k`` of them); only the candidates are sorted, by score and then by index, so
ties are broken deterministically (lower index first) and no true neighbour can be missed.

Memory: ``O(n_queries * k + block_size * n_index)``; never ``n_queries x n_index``.

Scores (the paper's word-embedding experiment, BRIEF.md experiment 1):

- :func:`jaccard_at_k`: retrieval happens in the TARGET space. For sample ``i``, ``N_t(i)`` is the
  k-neighbourhood of its own target vector and ``N_s(i)`` the k-neighbourhood its source vector
  retrieves among the target vectors; the score is the mean of
  ``|N_t(i) & N_s(i)| / |N_t(i) | N_s(i)|``. The query itself is counted in its own neighbourhood
  (as in the paper: ``N_t(i)`` normally contains ``i`` at rank 1).
- :func:`mrr_at_k`: mean over samples of ``1 / rank`` of sample ``i`` itself among the ``k`` target
  vectors its source vector retrieves (rank 1 = first), 0 when it is not among them.
- :func:`mutual_knn`: mean of ``|N_a(i) & N_b(i)| / k`` with neighbourhoods computed within each
  space, the sample itself excluded (Platonic Representation Hypothesis, Huh et al. 2024).
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from typing import Any, Literal, NamedTuple

import numpy as np
from array_api_compat import is_dask_array

from relreps._array import (
    Array,
    default_float,
    device_of,
    is_floating,
    is_numpy,
    namespace,
    row_norms,
    to_numpy,
)
from relreps._validation import (
    check_choice,
    check_int,
    check_matrix,
    check_paired,
    check_same_features,
    fail,
)

__all__ = [
    "Neighbors",
    "RetrievalScores",
    "jaccard_at_k",
    "knn",
    "mrr_at_k",
    "mutual_knn",
    "paired_cosine",
    "retrieval_scores",
]

KnnMetric = Literal["cosine", "inner", "euclidean"]
KNN_METRICS = ("cosine", "inner", "euclidean")

# Bytes of one block of scores (block_size x n_index); small enough to stay near the caches.
_BLOCK_BYTES = 64 * 2**20
_EPS = 1e-12
# Below this many scores the selection runs in the calling thread (a pool costs more).
_THREADED_MIN_SCORES = 2**22


class Neighbors(NamedTuple):
    """Result of :func:`knn`.

    Attributes:
        indices: (n_queries, k) integer rows of the index, best first.
        scores: (n_queries, k) similarities (``cosine``, ``inner``; descending) or Euclidean
            distances (``euclidean``; ascending).
    """

    indices: Array
    scores: Array


@dataclass(frozen=True)
class RetrievalScores:
    """Jaccard@k and MRR@k of one source -> target retrieval (see :func:`retrieval_scores`)."""

    jaccard: float
    mrr: float
    k: int
    n_samples: int
    metric: str

    def to_dict(self) -> dict[str, Any]:
        """Plain-dict view (JSON-ready)."""
        return asdict(self)


def knn(
    queries: Array,
    index: Array,
    k: int,
    *,
    metric: KnnMetric = "cosine",
    exclude_self: bool = False,
    block_size: int | None = None,
    backend: Literal["blocked", "faiss"] = "blocked",
) -> Neighbors:
    """Exact k nearest neighbours of each query among the rows of ``index``.

    Args:
        queries: (n_queries, n_features) array (numpy, torch or any array-API array).
        index: (n_index, n_features) array of the same library.
        k: neighbours per query, in ``[1, n_index]`` (``[1, n_index - 1]`` with ``exclude_self``).
        metric: ``"cosine"`` (rows L2-normalised, zero rows give similarity 0), ``"inner"``
            (dot product) or ``"euclidean"`` (distance).
        exclude_self: the queries ARE the index rows (row i of one is row i of the other): never
            return ``i`` as a neighbour of query ``i``.
        block_size: query rows per block; default keeps one block of scores near 64 MiB.
        backend: ``"blocked"`` (this module, any array library) or ``"faiss"`` (``IndexFlatIP`` /
            ``IndexFlatL2`` exact search; numpy float32 computation). Both are exact; they can
            differ only where two scores tie exactly at the k-th place (``"blocked"`` keeps the
            lower index) or differ by float rounding.

    Returns:
        :class:`Neighbors` ``(indices, scores)``, each (n_queries, k), best first; ties are
        ordered by lower index first. Arrays of the input's library (float dtype of the input,
        or the library's default float for integer input).

    Example:
        >>> import numpy as np
        >>> x = np.array([[1.0, 0.0], [0.9, 0.1], [0.0, 1.0]])
        >>> nn = knn(x, x, 2)
        >>> nn.indices.tolist()
        [[0, 1], [1, 0], [2, 1]]
        >>> knn(x, x, 1, exclude_self=True).indices.ravel().tolist()
        [1, 0, 1]
    """
    if is_dask_array(queries) or is_dask_array(index):  # lazy blockwise version
        from relreps import _dask

        return _dask.knn(queries, index, k, metric=metric, exclude_self=exclude_self,
                         block_size=block_size, backend=backend)  # fmt: skip
    queries = check_matrix(queries, "queries", shape_doc="(n_queries, n_features)")
    index = check_matrix(index, "index", shape_doc="(n_index, n_features)")
    xp = namespace(queries=queries, index=index)
    check_same_features(queries, "queries", index, "index")
    metric = check_choice(metric, "metric", KNN_METRICS)  # type: ignore[assignment]
    backend = check_choice(backend, "backend", ("blocked", "faiss"))  # type: ignore[assignment]
    if not isinstance(exclude_self, bool):
        raise fail("exclude_self", "a bool", repr(exclude_self), TypeError)
    n_queries, n_index = queries.shape[0], index.shape[0]
    if exclude_self and n_queries != n_index:
        raise ValueError(
            "Expected `queries` and `index` to have the same number of rows with "
            f"exclude_self=True (query i is index row i), but got {n_queries} and {n_index}."
        )
    high = n_index - 1 if exclude_self else n_index
    k = check_int(k, "k", low=1, high=high, hint="n_index" + (" - 1" if exclude_self else ""))
    if block_size is not None:
        block_size = check_int(block_size, "block_size", low=1)
    if backend == "faiss":
        return _knn_faiss(queries, index, k, metric, exclude_self, xp)

    return _search([queries], index, k, metric, exclude_self, block_size, xp)[0]


def _search(
    query_sets: list[Array],
    index: Array,
    k: int,
    metric: str,
    exclude_self: bool,
    block_size: int | None,
    xp: Any,
) -> list[Neighbors]:
    """Blocked exact kNN of several query sets against one (validated) index.

    The index is prepared once; queries are normalised block by block, so no full copy of them
    is made.
    """
    dtype = _float_dtype(xp, *query_sets, index)
    x = xp.astype(index, dtype, copy=False)
    n_index = x.shape[0]
    bias = None  # added to every score row: -|x|^2 turns 2<q,x> into a Euclidean ranking
    if metric == "cosine":
        x = _unit_rows(x, xp)
    elif metric == "euclidean":
        bias = -_squared_norms(x, xp)
    if block_size is None:
        itemsize = 8 if dtype == xp.float64 else 4
        block_size = max(16, min(1024, _BLOCK_BYTES // max(1, itemsize * n_index)))
    step = block_size
    x_t = xp.permute_dims(x, (1, 0)) if not is_numpy(x) else x.T
    results = []
    for queries in query_sets:
        q = xp.astype(queries, dtype, copy=False)

        def select(block: Array, start: int, q: Array = q) -> tuple[Array, Array]:
            if exclude_self:
                block = _mask_self(block, start, xp)
            idx, val = _top_k_rows(block, k, xp)
            if metric == "euclidean":
                idx, val = _exact_distances(q[start : start + block.shape[0], ...], x, idx, xp)
            return idx, val

        def products(q: Array = q) -> Iterator[tuple[Array, int]]:
            for start in range(0, q.shape[0], step):
                rows = q[start : min(start + step, q.shape[0]), ...]
                if metric == "cosine":
                    rows = _unit_rows(rows, xp)
                block = xp.matmul(rows, x_t)
                if bias is not None:
                    block = 2 * block + bias[None, :]
                yield block, start

        threads = _selection_threads(q, n_index)
        if threads > 1:
            parts = _select_threaded(products(), select, threads)
        else:
            parts = [select(block, start) for block, start in products()]
        results.append(
            Neighbors(
                xp.concat([p[0] for p in parts], axis=0), xp.concat([p[1] for p in parts], axis=0)
            )
        )
    return results


def _selection_threads(q: Array, n_index: int) -> int:
    """Threads for the top-k selection: numpy drops the GIL in its loops; others run serially.

    Up to 8, at most the CPU count, and at most ``OMP_NUM_THREADS`` when that is set.
    """
    if not is_numpy(q) or q.shape[0] * n_index < _THREADED_MIN_SCORES:
        return 1
    limit = min(8, os.cpu_count() or 1)
    env = os.environ.get("OMP_NUM_THREADS", "")
    if env.isdigit() and int(env) > 0:
        limit = min(limit, int(env))
    return limit


def _select_threaded(
    blocks: Iterator[tuple[Array, int]],
    select: Callable[[Array, int], tuple[Array, Array]],
    threads: int,
) -> list[tuple[Array, Array]]:
    """Select top-k on row slices of each block in parallel (numpy's loops drop the GIL)."""
    out: list[tuple[Array, Array]] = []
    with ThreadPoolExecutor(max_workers=threads) as pool:
        pending: list[Any] = []
        for block, start in blocks:  # the next product is computed while these run
            out.extend(f.result() for f in pending)
            rows = block.shape[0]
            step = -(-rows // threads)
            pending = [
                pool.submit(select, block[lo : lo + step], start + lo)
                for lo in range(0, rows, step)
            ]
        out.extend(f.result() for f in pending)
    return out


def _squared_norms(x: Array, xp: Any) -> Array:
    if is_numpy(x):
        return np.einsum("ij,ij->i", x, x)
    return xp.sum(x * x, axis=1)


def _exact_distances(q: Array, x: Array, idx: Array, xp: Any) -> tuple[Array, Array]:
    """Distances of the selected neighbours from the differences (no cancellation), re-sorted.

    The expansion ``|q|^2 - 2<q,x> + |x|^2`` used for the search loses precision for close
    points; recomputing the k distances per query is cheap and exact to rounding.
    """
    n_rows, k = idx.shape
    neighbours = xp.reshape(xp.take(x, xp.reshape(idx, (-1,)), axis=0), (n_rows, k, x.shape[1]))
    diff = neighbours - q[:, None, :]
    dist = xp.sqrt(xp.sum(diff * diff, axis=2))
    if is_numpy(dist):
        order = np.lexsort((idx, dist), axis=1)
        return np.take_along_axis(idx, order, axis=1), np.take_along_axis(dist, order, axis=1)
    order = xp.argsort(idx, axis=1, stable=True)
    idx, dist = xp.take_along_axis(idx, order, axis=1), xp.take_along_axis(dist, order, axis=1)
    order = xp.argsort(dist, axis=1, stable=True)
    return xp.take_along_axis(idx, order, axis=1), xp.take_along_axis(dist, order, axis=1)


def _float_dtype(xp: Any, *arrays: Array) -> Any:
    dtypes = [a.dtype for a in arrays if is_floating(xp, a.dtype)]
    if not dtypes:
        return default_float(xp)
    return xp.result_type(*dtypes)


def _unit_rows(x: Array, xp: Any) -> Array:
    norms = row_norms(x, xp)
    return x / xp.maximum(norms, xp.asarray(_EPS, dtype=norms.dtype))[:, None]


def _mask_self(block: Array, start: int, xp: Any) -> Array:
    """Set score (r, start + r) to -inf for each row r of the block."""
    n_rows = block.shape[0]
    if is_numpy(block) or type(block).__module__.startswith("torch"):
        rows = np.arange(n_rows) if is_numpy(block) else xp.arange(n_rows, device=block.device)
        block[rows, rows + start] = -math.inf
        return block
    cols = xp.arange(block.shape[1])[None, :]
    rows = xp.arange(start, start + n_rows)[:, None]
    return xp.where(cols == rows, xp.asarray(-math.inf, dtype=block.dtype), block)


def _top_k_rows(block: Array, k: int, xp: Any) -> tuple[Array, Array]:
    """Top ``k`` (largest) entries of each row: (indices, values), ties to the lower index."""
    rows, cols, vals = _candidates(block, k, xp)
    n_rows = block.shape[0]
    if is_numpy(block):
        order = np.lexsort((cols, -vals, rows))
    else:
        # Three stable sorts, last key first: (row, -value, col).
        order = xp.argsort(cols, stable=True)
        order = xp.take(order, xp.argsort(-xp.take(vals, order), stable=True))
        order = xp.take(order, xp.argsort(xp.take(rows, order), stable=True))
    rows = xp.take(rows, order)
    cols = xp.take(cols, order)
    vals = xp.take(vals, order)
    row_ids = xp.arange(n_rows, dtype=rows.dtype, device=device_of(rows))
    starts = np.searchsorted(rows, row_ids) if is_numpy(rows) else xp.searchsorted(rows, row_ids)
    offsets = xp.arange(k, dtype=starts.dtype, device=device_of(starts))
    pick = xp.reshape(starts[:, None] + offsets[None, :], (-1,))
    out_idx = xp.reshape(xp.take(cols, pick), (n_rows, k))
    out_val = xp.reshape(xp.take(vals, pick), (n_rows, k))
    return xp.astype(out_idx, xp.int64), out_val


def _n_groups(k: int, n_cols: int) -> int:
    """Groups for the lower bound: many groups keep rescans short; 0 = sort the row instead."""
    n_groups = max(64 * k, 1024)
    while n_groups > 16 * k and n_cols < 8 * n_groups:
        n_groups //= 2
    return n_groups if n_cols >= 8 * n_groups else 0


def _candidates(block: Array, k: int, xp: Any) -> tuple[Array, Array, Array]:
    """(row, col, value) of every entry at or above a per-row lower bound of the k-th largest.

    Each row has at least ``k`` candidates, and all its top ``k`` (ties included) are among them.
    """
    n_rows, n_cols = block.shape
    flat = xp.reshape(block, (-1,))
    n_groups = _n_groups(k, n_cols)
    if n_groups == 0:
        threshold = xp.sort(block, axis=1)[:, n_cols - k]
        rows, cols = xp.nonzero(block >= threshold[:, None])
        return rows, cols, xp.take(flat, rows * n_cols + cols)
    # Interleaved groups (columns j, j + m, j + 2m, ...), so that neighbours stored next to each
    # other (sorted or clustered data) fall into different groups. The k-th largest group maximum
    # is reached by >= k entries, so it bounds the k-th largest entry from below; only the few
    # groups whose maximum reaches it are scanned again.
    per_group = n_cols // n_groups
    main = per_group * n_groups
    groups = xp.reshape(block[:, :main], (n_rows, per_group, n_groups))
    group_max = xp.max(groups, axis=1)
    if is_numpy(group_max):
        threshold = np.partition(group_max, n_groups - k, axis=1)[:, n_groups - k]
    else:
        threshold = xp.sort(group_max, axis=1)[:, n_groups - k]
    g_rows, g_ids = xp.nonzero(group_max >= threshold[:, None])
    if is_numpy(groups):
        member_vals = groups[g_rows, :, g_ids]  # (n_hit_groups, per_group)
    else:
        steps = xp.arange(per_group, dtype=g_rows.dtype, device=device_of(g_rows)) * n_groups
        starts = g_rows * n_cols + g_ids
        member_vals = xp.take(flat, xp.reshape(starts[:, None] + steps[None, :], (-1,)))
        member_vals = xp.reshape(member_vals, (starts.shape[0], per_group))
    hit_g, hit_t = xp.nonzero(member_vals >= xp.take(threshold, g_rows)[:, None])
    rows = xp.take(g_rows, hit_g)
    cols = xp.take(g_ids, hit_g) + hit_t * n_groups
    vals = (
        member_vals[hit_g, hit_t]
        if is_numpy(member_vals)
        else xp.take(xp.reshape(member_vals, (-1,)), hit_g * per_group + hit_t)
    )
    if main < n_cols:  # the few trailing columns that belong to no group
        tail_rows, tail_cols = xp.nonzero(block[:, main:] >= threshold[:, None])
        tail_cols = tail_cols + main
        rows = xp.concat([rows, tail_rows])
        cols = xp.concat([cols, tail_cols])
        vals = xp.concat([vals, xp.take(flat, tail_rows * n_cols + tail_cols)])
    return rows, cols, vals


def _knn_faiss(
    queries: Array, index: Array, k: int, metric: str, exclude_self: bool, xp: Any
) -> Neighbors:
    try:
        import faiss
    except ImportError as err:  # pragma: no cover - faiss is installed in the dev environment
        raise ImportError(
            "backend='faiss' needs the faiss package: pip install 'relreps[faiss]'."
        ) from err
    q = np.ascontiguousarray(to_numpy(queries), dtype=np.float32)
    x = np.ascontiguousarray(to_numpy(index), dtype=np.float32)
    if metric == "cosine":
        q = q / np.maximum(np.linalg.norm(q, axis=1, keepdims=True), _EPS)
        x = x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), _EPS)
    flat = faiss.IndexFlatL2(x.shape[1]) if metric == "euclidean" else faiss.IndexFlatIP(x.shape[1])
    flat.add(x)
    extra = 1 if exclude_self else 0
    values, ids = flat.search(q, k + extra)
    if exclude_self:
        keep = ids != np.arange(len(ids))[:, None]
        # If self was not returned (exact duplicates), drop the last column instead.
        keep[keep.all(axis=1), -1] = False
        ids = ids[keep].reshape(len(ids), k)
        values = values[keep].reshape(len(values), k)
    if metric == "euclidean":
        values = np.sqrt(np.maximum(values, 0.0))
        order = np.lexsort((ids, values), axis=1)
    else:
        order = np.lexsort((ids, -values), axis=1)
    ids = np.take_along_axis(ids, order, axis=1).astype(np.int64)
    values = np.take_along_axis(values, order, axis=1)
    if is_numpy(queries):
        return Neighbors(ids, values)
    device = getattr(queries, "device", None)
    return Neighbors(
        xp.asarray(ids, device=device),
        xp.asarray(values, dtype=_float_dtype(xp, queries, index), device=device),
    )


def _check_pair(source: Array, target: Array, names: tuple[str, str], k: int) -> tuple[Any, int]:
    a_name, b_name = names
    source = check_matrix(source, a_name, min_rows=2)
    target = check_matrix(target, b_name, min_rows=2)
    check_paired(source, a_name, target, b_name)
    xp = namespace(**{a_name: source, b_name: target})
    n = source.shape[0]
    k = check_int(k, "k", low=1, high=n - 1, hint="n_samples - 1")
    return xp, k


def _overlap_counts(a: Array, b: Array, xp: Any, rows_per_chunk: int = 8192) -> Array:
    """|a[i] & b[i]| for each row of two (n, k) integer arrays with distinct entries per row."""
    counts = []
    for start in range(0, a.shape[0], rows_per_chunk):
        stop = min(start + rows_per_chunk, a.shape[0])
        aa, bb = a[start:stop, ...], b[start:stop, ...]
        hits = aa[:, :, None] == bb[:, None, :]
        counts.append(xp.sum(xp.astype(hits, xp.int64), axis=(1, 2)))
    return xp.concat(counts, axis=0)


def _jaccard(own: Array, retrieved: Array, xp: Any) -> float:
    inter = xp.astype(_overlap_counts(own, retrieved, xp), xp.float64)
    union = own.shape[1] + retrieved.shape[1] - inter
    return float(xp.mean(inter / union))


def _mrr(retrieved: Array, xp: Any) -> float:
    n, k = retrieved.shape
    self_ids = xp.arange(n, dtype=retrieved.dtype)[:, None]
    hits = xp.astype(retrieved == self_ids, xp.float64)
    ranks = xp.arange(1, k + 1, dtype=xp.float64)
    return float(xp.mean(xp.sum(hits / ranks[None, :], axis=1)))


def retrieval_scores(
    source: Array,
    target: Array,
    k: int,
    *,
    metric: KnnMetric = "cosine",
    block_size: int | None = None,
) -> RetrievalScores:
    """Jaccard@k and MRR@k of retrieving each sample's target vector from its source vector.

    Both scores come from one pass over the target space (the module docstring gives the
    definitions; the query itself counts in its own target neighbourhood, as in the paper).

    Args:
        source: (n_samples, n_features) vectors used as queries.
        target: (n_samples, n_features) vectors searched; row i of both is sample i.
        k: neighbourhood size, in ``[1, n_samples - 1]``.
        metric: ``"cosine"`` (default), ``"inner"`` or ``"euclidean"``, see :func:`knn`.
        block_size: query rows per block (memory knob), see :func:`knn`.

    Returns:
        :class:`RetrievalScores` with ``jaccard`` and ``mrr`` in [0, 1].

    Example:
        >>> import numpy as np
        >>> x = np.random.default_rng(0).normal(size=(50, 8))
        >>> s = retrieval_scores(x, 3.0 * x, k=5)
        >>> (s.jaccard, s.mrr)
        (1.0, 1.0)
    """
    if is_dask_array(source) or is_dask_array(target):  # lazy blockwise version
        from relreps import _dask

        return _dask.retrieval_scores(source, target, k, metric=metric, block_size=block_size)
    xp, k = _check_pair(source, target, ("source", "target"), k)
    check_same_features(source, "source", target, "target")
    metric = check_choice(metric, "metric", KNN_METRICS)  # type: ignore[assignment]
    if block_size is not None:
        block_size = check_int(block_size, "block_size", low=1)
    own, retrieved = (
        nn.indices for nn in _search([target, source], target, k, metric, False, block_size, xp)
    )
    n = source.shape[0]
    return RetrievalScores(_jaccard(own, retrieved, xp), _mrr(retrieved, xp), k, n, metric)


def jaccard_at_k(source: Array, target: Array, k: int, *, metric: KnnMetric = "cosine") -> float:
    """Mean Jaccard overlap of own and retrieved k-neighbourhoods in the target space.

    Args:
        source: (n_samples, n_features) query vectors.
        target: (n_samples, n_features) searched vectors; row i of both is sample i.
        k: neighbourhood size, in ``[1, n_samples - 1]``.
        metric: kNN metric (``"cosine"``, ``"inner"``, ``"euclidean"``).

    Returns:
        Similarity in [0, 1]; 1 when every retrieved neighbourhood equals the own one.

    Example:
        >>> import numpy as np
        >>> x = np.random.default_rng(0).normal(size=(40, 6))
        >>> jaccard_at_k(x, x, 5)
        1.0
    """
    if is_dask_array(source) or is_dask_array(target):  # lazy blockwise version
        from relreps import _dask

        return _dask.jaccard_at_k(source, target, k, metric=metric)
    xp, k = _check_pair(source, target, ("source", "target"), k)
    check_same_features(source, "source", target, "target")
    metric = check_choice(metric, "metric", KNN_METRICS)  # type: ignore[assignment]
    own, retrieved = (
        nn.indices for nn in _search([target, source], target, k, metric, False, None, xp)
    )
    return _jaccard(own, retrieved, xp)


def mrr_at_k(source: Array, target: Array, k: int, *, metric: KnnMetric = "cosine") -> float:
    """Mean reciprocal rank of each sample's own target vector among its k retrieved ones.

    Args:
        source: (n_samples, n_features) query vectors.
        target: (n_samples, n_features) searched vectors; row i of both is sample i.
        k: number retrieved, in ``[1, n_samples - 1]``; a sample not retrieved scores 0.
        metric: kNN metric (``"cosine"``, ``"inner"``, ``"euclidean"``).

    Returns:
        Similarity in [0, 1].

    Example:
        >>> import numpy as np
        >>> x = np.random.default_rng(0).normal(size=(40, 6))
        >>> mrr_at_k(x, x, 5)
        1.0
    """
    if is_dask_array(source) or is_dask_array(target):  # lazy blockwise version
        from relreps import _dask

        return _dask.mrr_at_k(source, target, k, metric=metric)
    xp, k = _check_pair(source, target, ("source", "target"), k)
    check_same_features(source, "source", target, "target")
    return _mrr(knn(source, target, k, metric=metric).indices, xp)


def mutual_knn(a: Array, b: Array, k: int, *, metric: KnnMetric = "cosine") -> float:
    """Mean overlap ``|N_a(i) & N_b(i)| / k`` of k-NN sets computed within each space.

    The sample itself is excluded from its own neighbourhood. The score depends on ``k`` and on
    ``n_samples`` (chance level is about ``k / (n_samples - 1)``): report both, or compare with
    a permutation null (:func:`relreps.metrics.compare`).

    Args:
        a: (n_samples, d_a) first space.
        b: (n_samples, d_b) second space; row i of both is sample i (dims may differ).
        k: neighbourhood size, in ``[1, n_samples - 1]``.
        metric: kNN metric (``"cosine"``, ``"inner"``, ``"euclidean"``).

    Returns:
        Similarity in [0, 1], symmetric in ``a`` and ``b``.

    Example:
        >>> import numpy as np
        >>> x = np.random.default_rng(0).normal(size=(40, 6))
        >>> mutual_knn(x, x[:, :3], 5) <= 1.0
        True
    """
    xp, k = _check_pair(a, b, ("a", "b"), k)
    nn_a = knn(a, a, k, metric=metric, exclude_self=True).indices
    nn_b = knn(b, b, k, metric=metric, exclude_self=True).indices
    return float(xp.mean(xp.astype(_overlap_counts(nn_a, nn_b, xp), xp.float64))) / k


def paired_cosine(a: Array, b: Array) -> float:
    """Mean cosine similarity of paired rows, ``mean_i cos(a_i, b_i)``.

    Zero rows have cosine 0 with anything (no NaN).

    Args:
        a: (n_samples, n_features) first space.
        b: (n_samples, n_features) second space; row i of both is sample i.

    Returns:
        Similarity in [-1, 1].

    Example:
        >>> import numpy as np
        >>> paired_cosine(np.array([[1.0, 0.0], [0.0, 2.0]]), np.array([[2.0, 0.0], [1.0, 0.0]]))
        0.5
    """
    a = check_matrix(a, "a")
    b = check_matrix(b, "b")
    check_paired(a, "a", b, "b")
    check_same_features(a, "a", b, "b")
    xp = namespace(a=a, b=b)
    dtype = _float_dtype(xp, a, b)
    ua = _unit_rows(xp.astype(a, dtype), xp)
    ub = _unit_rows(xp.astype(b, dtype), xp)
    return float(xp.mean(xp.sum(ua * ub, axis=1)))
