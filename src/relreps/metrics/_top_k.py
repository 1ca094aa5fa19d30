"""Top ``k`` of each row of one block of scores, for any array library (numpy, torch, array API).

The selection of :mod:`relreps.metrics.knn_blocks`' generic search and of the dask kNN
(:mod:`relreps.metrics.dask_ops`), imported from ``knn_blocks``. A per-row lower bound of the
``k``-th largest entry (the ``k``-th largest maximum over interleaved column groups) keeps the
candidates to a few per row and only they are sorted; a block too narrow for enough groups sorts
its rows for the threshold instead.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from relreps._array import Array, device_of, is_numpy

__all__ = ["top_k_rows"]


def top_k_rows(block: Array, k: int, xp: Any) -> tuple[Array, Array]:
    """Top ``k`` (largest) entries of each row: (indices, values), ties to the lower index.

    ``block`` is (n_rows, n_cols) with ``1 <= k <= n_cols``; both results are (n_rows, k), best
    first: int64 column indices and the values, in ``block``'s library and dtype.

    Example:
        >>> import numpy as np
        >>> from relreps._array import namespace
        >>> block = np.array([[0.1, 0.9, 0.9, 0.3], [1.0, 0.0, 0.5, 0.5]])
        >>> idx, val = top_k_rows(block, 2, namespace(block=block))
        >>> idx.tolist(), val.tolist()
        ([[1, 2], [0, 2]], [[0.9, 0.9], [1.0, 0.5]])
    """
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
