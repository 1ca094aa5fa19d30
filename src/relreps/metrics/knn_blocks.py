"""Exact blocked k-nearest-neighbour search: the kernel behind :func:`relreps.metrics.knn`.

Package-internal API, documented here for :mod:`relreps.metrics` (its dask versions included) and
:mod:`relreps.distributed` (no promise of stability outside relreps):

- :func:`search`: exact top-``k`` of several query sets against one index, blocked in memory;
- :func:`top_k_rows`: top-``k`` of each row of one block of scores (any array library;
  :mod:`relreps.metrics._top_k`, re-exported here);
- :func:`unit_rows`, :func:`exact_distances`, :func:`float_dtype`, :func:`overlap_counts`: the
  shared pieces (normalisation, exact Euclidean re-ranking, result dtype, neighbourhood overlap).

Every result is ordered by score (best first) and, on exact ties, by the lower index.

**numpy kernel** (float32 or float64 throughout). Both the queries and the index are cut into
blocks of ``block`` rows (default 2048 x 2048 scores, 16 MiB in float32: the block stays in the
last-level cache and one matrix product per block keeps both BLAS threads busy). Per query row a
running top-``k`` and its ``k``-th score (the *threshold*) are kept. For each block:

1. one matrix product into a reused buffer (no allocation);
2. one comparison pass ``scores >= threshold`` and one scan for the hits (usually a few per row,
   and fewer as the threshold rises);
3. the hits are merged into the running top-``k`` of the rows they belong to (partial selection,
   never a sort of the row).

The first block a query row meets gives its threshold from a lower bound (the ``k``-th largest
maximum over interleaved column groups, a value at least ``k`` entries reach), so even that block
yields only about ``k`` hits per row. When the queries ARE the index (``knn(x, x)`` and the
own-neighbourhood pass of the retrieval scores) and the score is symmetric (cosine, inner), only
the blocks on and above the diagonal are computed: each off-diagonal block serves its query rows
and, read by columns, the rows of the mirrored block, which halves the products.

Threads: for large searches (``_THREADED_MIN_SCORES``) the blocks are spread over worker threads
(up to 8, at most the CPU count and ``OMP_NUM_THREADS``), each running a single-threaded BLAS
product and its own selection, so no core waits on the serial selection passes (BLAS is held to
one thread with threadpoolctl for the duration; without threadpoolctl the search runs in the
calling thread with BLAS's threads).

Memory: ``O((n_queries + n_index) * k + threads * block**2)`` plus one prepared copy of the index
(normalised for cosine); never ``n_queries x n_index``.

Other array libraries (torch, array-api-strict) use :func:`top_k_rows` on query blocks of the
full index width.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np

from relreps._array import Array, default_float, is_floating, is_numpy, row_norms
from relreps._cosine_blocks import single_threaded_blas, worker_threads
from relreps.metrics._top_k import top_k_rows
from relreps.neighbors import Neighbors

__all__ = [
    "AUTO_BACKEND",
    "Neighbors",
    "exact_distances",
    "float_dtype",
    "overlap_counts",
    "search",
    "top_k_rows",
    "unit_rows",
]

# What ``knn(..., backend="auto")`` runs. Measured with benchmarks/bench_metrics.py on the 2-core
# development machine, 2026-12-07, one process, both on all cores (FAISS 1.15 with its OpenMP
# threads), d = 300, k = 10, float32: Jaccard@10 + MRR@10 in 0.83x / 0.75x / 0.65x FAISS
# IndexFlatIP's time at n = 20k / 50k / 100k; one search of n queries in 0.86x / 0.82x / 0.93x.
AUTO_BACKEND = "blocked"

# numpy kernel: rows per block side for float32 (2048 x 2048 scores = 16 MiB); float64 keeps
# the same bytes. Measured on the 2-core machine (benchmarks/bench_metrics.py --blocks 1024 4096:
# 1024 is 0.87x at n = 20k but 1.07x at 50k, 4096 is 1.00x and 1.12x, with more memory).
NUMPY_BLOCK_F32 = 2048
NUMPY_BLOCK_F64 = 1448
# Other libraries: bytes of one block of scores (block rows x n_index).
_BLOCK_BYTES = 64 * 2**20
_EPS = 1e-12
_NO_INDEX = np.iinfo(np.int64).max  # placeholder index of an empty top-k slot (sorts last)
# Below this many scores the search runs in the calling thread with BLAS's own threads.
_THREADED_MIN_SCORES = 2**24


def search(
    query_sets: list[Array],
    index: Array,
    k: int,
    metric: str,
    exclude_self: bool,
    chunk_size: int | None,
    xp: Any,
) -> list[Neighbors]:
    """Exact kNN of several (validated) query sets against one (validated) index.

    Args:
        query_sets: arrays (n_queries_s, n_features) of one library; a set that IS ``index``
            (the same object) is searched with the symmetric scheme (cosine, inner).
        index: (n_index, n_features) array.
        k: neighbours per query, ``1 <= k <= n_index`` (``- 1`` with ``exclude_self``).
        metric: ``"cosine"``, ``"inner"`` or ``"euclidean"``.
        exclude_self: query ``i`` is index row ``i``: never return ``i`` for it.
        chunk_size: rows per block (queries and index for numpy; queries otherwise); ``None``
            for the default.
        xp: the array namespace of the inputs.

    Returns:
        One :class:`Neighbors` per query set, (n_queries_s, k) each, best first, ties to the
        lower index; scores in the computation dtype (similarities, or distances ascending).

    Example:
        >>> import numpy as np
        >>> from relreps._array import namespace
        >>> x = np.array([[1.0, 0.0], [0.9, 0.1], [0.0, 1.0]])
        >>> search([x], x, 2, "cosine", False, None, namespace(x=x))[0].indices.tolist()
        [[0, 1], [1, 0], [2, 1]]
    """
    if is_numpy(index) and all(is_numpy(q) for q in query_sets):
        return _search_numpy(query_sets, index, k, metric, exclude_self, chunk_size)
    return _search_generic(query_sets, index, k, metric, exclude_self, chunk_size, xp)


# ----------------------------------------------------------------------------- numpy kernel


class _RunningTopK:
    """Best ``k`` (score, index) of each query row so far, and the ``k``-th score per row."""

    def __init__(self, n_rows: int, k: int, dtype: np.dtype) -> None:
        self.k = k
        self.scores = np.full((n_rows, k), -np.inf, dtype=dtype)
        self.indices = np.full((n_rows, k), _NO_INDEX, dtype=np.int64)
        self.threshold = np.full(n_rows, -np.inf, dtype=dtype)

    def merge(
        self, first: int, rows: np.ndarray, cols: np.ndarray, vals: np.ndarray, in_order: bool
    ) -> None:
        """Merge hits ``(first + rows, cols, vals)``; ``rows`` ascending (block-local ids).

        ``in_order``: every hit's index is above the row's kept ones and a row's hits come in
        ascending index, so laying them after the kept entries and sorting by score alone,
        stably, already breaks ties by index (a cheaper sort than score-then-index).
        """
        k = self.k
        counts = np.bincount(rows)
        touched = np.flatnonzero(counts)
        counts = counts[touched]
        width = k + int(counts.max())
        # Slot of each hit in its row: k + its rank among the row's hits.
        slot = np.arange(rows.size) - np.repeat(np.cumsum(counts) - counts, counts) + k
        local = np.repeat(np.arange(touched.size), counts)
        ids = touched + first
        scores = np.full((touched.size, width), -np.inf, dtype=self.scores.dtype)
        indices = np.full((touched.size, width), _NO_INDEX, dtype=np.int64)
        scores[:, :k] = self.scores[ids]
        indices[:, :k] = self.indices[ids]
        scores[local, slot] = vals
        indices[local, slot] = cols
        if in_order:
            order = np.argsort(-scores, axis=1, kind="stable")[:, :k]
        else:
            order = np.lexsort((indices, -scores), axis=1)[:, :k]
        best = np.take_along_axis(scores, order, axis=1)
        self.scores[ids] = best
        self.indices[ids] = np.take_along_axis(indices, order, axis=1)
        self.threshold[ids] = best[:, k - 1]


def _lower_bound(scores: np.ndarray, k: int) -> np.ndarray:
    """Per row, a value at least ``k`` entries reach (so at most the ``k``-th largest).

    The ``k``-th largest maximum over interleaved column groups (columns ``j, j + g, ...``, so
    that neighbours stored side by side fall into different groups); ``-inf`` when the block
    is too narrow for enough groups.
    """
    n_rows, n_cols = scores.shape
    groups = 1
    while groups < 32 * k and 16 * groups <= n_cols:
        groups *= 2
    if groups < 2 * k:
        return np.full(n_rows, -np.inf, dtype=scores.dtype)
    per_group = n_cols // groups
    maxima = scores[:, : per_group * groups].reshape(n_rows, per_group, groups).max(axis=1)
    return np.partition(maxima, groups - k, axis=1)[:, groups - k]


def _hits(
    scores: np.ndarray, threshold: np.ndarray, mask: np.ndarray, by_columns: bool
) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """(query row, other position, score) of every entry at or above its query's threshold.

    ``by_columns``: the queries are the columns of ``scores`` (the mirrored block); the hits
    come back ordered by query row all the same.
    """
    n_cols = scores.shape[1]
    bound = threshold[None, :] if by_columns else threshold[:, None]
    np.greater_equal(scores, bound, out=mask)
    flat = np.flatnonzero(mask)
    if flat.size == 0:
        return None
    rows, cols = np.divmod(flat, n_cols)
    vals = scores.reshape(-1)[flat]
    if by_columns:
        order = np.argsort(cols, kind="stable")
        return cols[order], rows[order], vals[order]
    return rows, cols, vals


def _search_numpy(
    query_sets: list[Array],
    index: np.ndarray,
    k: int,
    metric: str,
    exclude_self: bool,
    chunk_size: int | None,
) -> list[Neighbors]:
    dtype = float_dtype(np, *query_sets, index)
    x = np.asarray(index, dtype=dtype)
    if chunk_size is None:
        chunk_size = NUMPY_BLOCK_F32 if dtype == np.float32 else NUMPY_BLOCK_F64
    bias = None
    if metric == "cosine":
        db = unit_rows(x, np)
    elif metric == "euclidean":
        # Rank by 2<q, x> - |x|^2 (= -|q - x|^2 + |q|^2): products with 2x (exact) plus a bias.
        db = 2 * x
        bias = -np.einsum("ij,ij->i", x, x)
    else:
        db = np.ascontiguousarray(x)
    threads = _threads(sum(len(q) for q in query_sets) * len(db))
    scratch = _Scratch(min(chunk_size, max(len(q) for q in query_sets)) * chunk_size, dtype)
    results = []
    with single_threaded_blas(threads) as threads:
        for queries in query_sets:
            symmetric = queries is index and metric != "euclidean"
            top = _RunningTopK(len(queries), k, dtype)
            if symmetric:
                _fill_symmetric(top, db, chunk_size, exclude_self, scratch, threads)
            else:
                q = np.asarray(queries, dtype=dtype)
                _fill(top, q, db, bias, metric, chunk_size, exclude_self, scratch, threads)
            idx, val = top.indices, top.scores
            if metric == "euclidean":
                q = np.asarray(queries, dtype=dtype)
                parts = [
                    exact_distances(q[s : s + chunk_size], x, idx[s : s + chunk_size], np)
                    for s in range(0, len(q), chunk_size)
                ]
                idx = np.concatenate([p[0] for p in parts])
                val = np.concatenate([p[1] for p in parts])
            results.append(Neighbors(idx, val))
    return results


def _threads(n_scores: int) -> int:
    """Worker threads: up to 8, at most the CPU count and ``OMP_NUM_THREADS`` when set; one
    below ``_THREADED_MIN_SCORES`` scores (the pool and the BLAS switch cost more)."""
    return 1 if n_scores < _THREADED_MIN_SCORES else worker_threads()


class _Scratch(threading.local):
    """Per-thread score and mask buffers, reused across blocks (no per-block allocation)."""

    def __init__(self, size: int, dtype: np.dtype) -> None:
        self.size, self.dtype = size, dtype
        self.scores: np.ndarray | None = None
        self.mask: np.ndarray | None = None

    def block(self, n_rows: int, n_cols: int) -> tuple[np.ndarray, np.ndarray]:
        if self.scores is None or self.mask is None:
            self.scores = np.empty(self.size, dtype=self.dtype)
            self.mask = np.empty(self.size, dtype=bool)
        n = n_rows * n_cols
        return (
            self.scores[:n].reshape(n_rows, n_cols),
            self.mask[:n].reshape(n_rows, n_cols),
        )


def _run(tasks: list[Any], fn: Callable[[Any], None], threads: int) -> None:
    if threads == 1 or len(tasks) == 1:
        for task in tasks:
            fn(task)
        return
    with ThreadPoolExecutor(max_workers=threads) as pool:
        for done in pool.map(fn, tasks):  # re-raises a worker's error
            del done


def _fill(
    top: _RunningTopK,
    q: np.ndarray,
    db: np.ndarray,
    bias: np.ndarray | None,
    metric: str,
    block: int,
    exclude_self: bool,
    scratch: _Scratch,
    threads: int,
) -> None:
    """Query blocks x index blocks, in index order; query blocks spread over the workers."""
    n_index = len(db)
    db_t = db.T

    def query_block(q0: int) -> None:
        rows = q[q0 : q0 + block]
        if metric == "cosine":
            rows = unit_rows(rows, np)
        n_rows = len(rows)
        for x0 in range(0, n_index, block):
            n_cols = min(block, n_index - x0)
            scores, mask = scratch.block(n_rows, n_cols)
            np.matmul(rows, db_t[:, x0 : x0 + n_cols], out=scores)
            if bias is not None:
                scores += bias[x0 : x0 + n_cols]
            if exclude_self:
                _mask_diagonal(scores, q0 - x0)
            _take(top, q0, scores, x0, mask, first=x0 == 0, in_order=True)

    _run(list(range(0, len(q), block)), query_block, threads)


def _fill_symmetric(
    top: _RunningTopK,
    db: np.ndarray,
    block: int,
    exclude_self: bool,
    scratch: _Scratch,
    threads: int,
) -> None:
    """Blocks on and above the diagonal of ``db @ db.T``; the diagonal ones first.

    Workers share row blocks here, so each row block's top-k is merged under its own lock; a
    threshold read without the lock can only be stale (lower), which admits extra hits and
    never drops one.
    """
    n = len(db)
    starts = list(range(0, n, block))
    locks = {s: threading.Lock() for s in starts}

    def diagonal(s: int) -> None:  # each row block meets its diagonal block first
        rows = db[s : s + block]
        scores, mask = scratch.block(len(rows), len(rows))
        np.matmul(rows, rows.T, out=scores)
        if exclude_self:
            _mask_diagonal(scores, 0)
        _take(top, s, scores, s, mask, first=True, in_order=True)

    def off_diagonal(pair: tuple[int, int]) -> None:
        s, t = pair
        rows, cols = db[s : s + block], db[t : t + block]
        scores, mask = scratch.block(len(rows), len(cols))
        np.matmul(rows, cols.T, out=scores)
        hits = _hits(scores, top.threshold[s : s + len(rows)], mask, by_columns=False)
        if hits is not None:
            with locks[s]:
                top.merge(s, hits[0], hits[1] + t, hits[2], in_order=False)
        hits = _hits(scores, top.threshold[t : t + len(cols)], mask, by_columns=True)
        if hits is not None:
            with locks[t]:
                top.merge(t, hits[0], hits[1] + s, hits[2], in_order=False)

    _run(starts, diagonal, threads)
    _run([(s, t) for s in starts for t in starts if t > s], off_diagonal, threads)


def _take(
    top: _RunningTopK,
    q0: int,
    scores: np.ndarray,
    x0: int,
    mask: np.ndarray,
    first: bool,
    in_order: bool,
) -> None:
    """Merge the hits of one block (rows = queries ``q0 + r``, cols = index ``x0 + c``)."""
    threshold = top.threshold[q0 : q0 + scores.shape[0]]
    if first:
        threshold = np.maximum(threshold, _lower_bound(scores, top.k))
    hits = _hits(scores, threshold, mask, by_columns=False)
    if hits is not None:
        top.merge(q0, hits[0], hits[1] + x0, hits[2], in_order)


def _mask_diagonal(scores: np.ndarray, offset: int) -> None:
    """Set ``scores[r, r + offset]`` to -inf where that column exists (query = index row)."""
    rows = np.arange(scores.shape[0])
    cols = rows + offset
    inside = (cols >= 0) & (cols < scores.shape[1])
    scores[rows[inside], cols[inside]] = -math.inf


# ----------------------------------------------------------------------------- any array library


def _search_generic(
    query_sets: list[Array],
    index: Array,
    k: int,
    metric: str,
    exclude_self: bool,
    chunk_size: int | None,
    xp: Any,
) -> list[Neighbors]:
    """:func:`search` for any array library: query blocks against the whole index.

    The index is prepared once; queries are normalised block by block, so no full copy of them
    is made.
    """
    dtype = float_dtype(xp, *query_sets, index)
    x = xp.astype(index, dtype, copy=False)
    n_index = x.shape[0]
    bias = None  # added to every score row: -|x|^2 turns 2<q,x> into a Euclidean ranking
    if metric == "cosine":
        x = unit_rows(x, xp)
    elif metric == "euclidean":
        bias = -_squared_norms(x, xp)
    if chunk_size is None:
        itemsize = 8 if dtype == xp.float64 else 4
        chunk_size = max(16, min(1024, _BLOCK_BYTES // max(1, itemsize * n_index)))
    step = chunk_size
    x_t = xp.permute_dims(x, (1, 0)) if not is_numpy(x) else x.T
    results = []
    for queries in query_sets:
        q = xp.astype(queries, dtype, copy=False)

        def select(block: Array, start: int, q: Array = q) -> tuple[Array, Array]:
            if exclude_self:
                block = _mask_self(block, start, xp)
            idx, val = top_k_rows(block, k, xp)
            if metric == "euclidean":
                idx, val = exact_distances(q[start : start + block.shape[0], ...], x, idx, xp)
            return idx, val

        def products(q: Array = q) -> Iterator[tuple[Array, int]]:
            for start in range(0, q.shape[0], step):
                rows = q[start : min(start + step, q.shape[0]), ...]
                if metric == "cosine":
                    rows = unit_rows(rows, xp)
                block = xp.matmul(rows, x_t)
                if bias is not None:
                    block = 2 * block + bias[None, :]
                yield block, start

        parts = [select(block, start) for block, start in products()]
        results.append(
            Neighbors(
                xp.concat([p[0] for p in parts], axis=0), xp.concat([p[1] for p in parts], axis=0)
            )
        )
    return results


def _squared_norms(x: Array, xp: Any) -> Array:
    if is_numpy(x):
        return np.einsum("ij,ij->i", x, x)
    return xp.sum(x * x, axis=1)


def exact_distances(q: Array, x: Array, idx: Array, xp: Any) -> tuple[Array, Array]:
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


def float_dtype(xp: Any, *arrays: Array) -> Any:
    """Result float dtype of the arrays' float dtypes; the library default when none is float."""
    dtypes = [a.dtype for a in arrays if is_floating(xp, a.dtype)]
    if not dtypes:
        return default_float(xp)
    return xp.result_type(*dtypes)


def unit_rows(x: Array, xp: Any) -> Array:
    """(n, d) rows divided by their L2 norms (a new array); zero rows stay zero."""
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


def overlap_counts(a: Array, b: Array, xp: Any, rows_per_chunk: int = 8192) -> Array:
    """``|a[i] & b[i]|`` for each row of two (n, k) integer arrays, distinct entries per row.

    Returns an (n,) int64 array; rows are compared in chunks of ``rows_per_chunk``.
    """
    counts = []
    for start in range(0, a.shape[0], rows_per_chunk):
        stop = min(start + rows_per_chunk, a.shape[0])
        aa, bb = a[start:stop, ...], b[start:stop, ...]
        hits = aa[:, :, None] == bb[:, None, :]
        counts.append(xp.sum(xp.astype(hits, xp.int64), axis=(1, 2)))
    return xp.concat(counts, axis=0)
