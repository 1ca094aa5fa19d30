"""Greedy farthest-point sampling: each new anchor is the sample farthest from those chosen."""

from __future__ import annotations

from contextlib import AbstractContextManager, nullcontext
from typing import Any

import numpy as np

from relreps._validation import fail
from relreps.anchors._geometry import RowSpace
from relreps.anchors._inputs import check_k, check_metric, check_points, check_seed

__all__ = ["farthest_point"]

# Rows per block of the lazy update (see farthest_point): small enough to stay in cache, large
# enough that the per-block Python work is negligible.
_BLOCK_ROWS = 1024


def _single_threaded_blas() -> AbstractContextManager[Any]:
    """Run BLAS on one thread when threadpoolctl is installed (it comes with scikit-learn).

    The lazy updates are many small matrix products: threads gain little on them and, on a busy
    machine, lose a lot waiting for one another. Without threadpoolctl nothing changes.
    """
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        return nullcontext()
    return threadpool_limits(limits=1, user_api="blas")


def farthest_point(x: object, k: int, *, seed: int, metric: str = "cosine") -> np.ndarray:
    """Greedy farthest-point (max-min) anchors: spread out, covering the space's extremes.

    The first anchor is a seeded uniform draw; each next one is the sample whose distance to its
    nearest chosen anchor is largest (ties go to the lowest index). O(n_samples * n_features * k)
    time and O(n_samples + k * n_features) memory beyond ``x`` (float32/float64 ``x`` is not
    copied).

    Rows are processed in blocks that remember which anchors they have already seen. Distances
    only shrink as anchors are added, so a block's last maximum bounds its current one: blocks
    are brought up to date (one small matrix product for all their pending anchors) only while
    they could still hold the farthest sample. The result is the plain greedy one; the laziness
    turns k memory-bound passes over ``x`` into fewer, cache-friendly ones (BLAS runs on one
    thread here when threadpoolctl is installed: see ``_single_threaded_blas``).

    Args:
        x: candidates, shape (n_samples, n_features), numpy or torch (read on the host).
            float32 input is processed in float32 (about twice as fast as float64).
        k: number of anchors, in ``[1, n_samples]``.
        seed: non-negative int choosing the first anchor.
        metric: ``"cosine"`` (distances between L2-normalised rows; zero rows count as one
            point) or ``"euclidean"``.

    Returns:
        int64 array of shape (k,): distinct indices into ``x``, in the order they were chosen.

    Raises:
        ValueError: when ``x`` holds fewer than ``k`` distinct points (under ``metric``,
            at the working float precision); the message gives how many it holds.

    Example:
        >>> import numpy as np
        >>> x = np.array([[0.0, 0.0], [1.0, 0.0], [0.9, 0.1], [5.0, 5.0]])
        >>> idx = farthest_point(x, 3, seed=0, metric="euclidean")
        >>> sorted(idx.tolist()) in ([0, 1, 3], [0, 2, 3])
        True
    """
    metric = check_metric(metric)
    points = check_points(x)
    n = points.shape[0]
    k = check_k(k, n)
    rng = np.random.default_rng(check_seed(seed))
    space = RowSpace(points, metric)
    with _single_threaded_blas():
        return _greedy(space, k, rng)


def _greedy(space: RowSpace, k: int, rng: np.random.Generator) -> np.ndarray:
    """The greedy farthest-point order (k,), with rows brought up to date block by block."""
    n = space.n
    starts = np.arange(0, n, _BLOCK_ROWS)
    stops = np.minimum(starts + _BLOCK_ROWS, n)
    nearest = np.full(n, np.inf, dtype=space.dtype)  # squared distance to the nearest anchor
    bound = np.full(starts.shape[0], np.inf)  # upper bound of `nearest` in each block
    seen = np.zeros(starts.shape[0], dtype=np.int64)  # anchors already applied to each block
    anchors = np.empty((k, space.d), dtype=space.dtype)
    anchors_sq = np.empty(k, dtype=space.dtype)
    chosen = np.empty(k, dtype=np.int64)
    current = int(rng.integers(n))
    for j in range(k):
        chosen[j] = current
        anchors[j] = space.rows(np.array([current]))[0]
        anchors_sq[j] = anchors[j] @ anchors[j]
        nearest[current] = -np.inf  # chosen rows never come back, even among duplicates
        if j == k - 1:
            break
        best_value, best_index = -np.inf, -1
        for b in np.argsort(-bound, kind="stable"):
            if bound[b] < best_value:
                break  # blocks are in decreasing bound order: none further can win
            lo, hi = int(starts[b]), int(stops[b])
            fresh = space.sq_distances(
                lo, hi, anchors[seen[b] : j + 1], anchors_sq[seen[b] : j + 1]
            )
            np.minimum(nearest[lo:hi], fresh.min(axis=1), out=nearest[lo:hi])
            seen[b] = j + 1
            i = lo + int(np.argmax(nearest[lo:hi]))
            bound[b] = nearest[i]
            if nearest[i] > best_value or (nearest[i] == best_value and i < best_index):
                best_value, best_index = float(nearest[i]), i
        if best_value <= space.duplicate_tol:
            raise fail(
                "x",
                f"an array holding at least k={k} distinct points under the {space.metric} metric",
                f"only {j + 1} distinct point{'s' if j else ''} among its {n} rows",
            )
        current = best_index
    return chosen
