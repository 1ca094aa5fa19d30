"""k-means anchors: cluster the candidates, then take the real sample nearest each centroid."""

from __future__ import annotations

import math

import numpy as np

from relreps._validation import check_float, check_int, fail
from relreps.anchors._geometry import RowSpace
from relreps.anchors._inputs import (
    check_k,
    check_metric,
    check_points,
    check_seed,
    default_chunk_rows,
)

__all__ = ["kmeans"]

# Nearest samples kept per centroid; the rare centroid whose candidates are all taken by closer
# centroids falls back to a full search.
_CANDIDATES_PER_CENTROID = 8


def kmeans(
    x: object,
    k: int,
    *,
    seed: int,
    metric: str = "cosine",
    max_iter: int = 300,
    tol: float = 1e-4,
    chunk_size: int | None = None,
) -> np.ndarray:
    """k-means anchors: the real sample nearest each of ``k`` cluster centroids.

    Greedy k-means++ seeding (``2 + ln k`` candidates per step) then Lloyd iterations until the
    assignments stop changing or the centroids move less than ``tol`` times the mean feature
    variance (the usual criterion). Each centroid then takes its nearest sample; when two
    centroids want the same sample, the closer pair wins and the other centroid takes its next
    nearest, so the ``k`` indices are distinct and no two anchors are the same point. All
    distance work is done in row chunks: memory stays O(chunk_size * (k + n_features)) plus
    O(n_samples * log k) beyond ``x`` (float32/float64 ``x`` is not copied, even for cosine).

    Args:
        x: candidates, shape (n_samples, n_features), numpy or torch (read on the host);
            float32 stays float32.
        k: number of anchors (clusters), in ``[1, n_samples]``.
        seed: non-negative int driving the k-means++ seeding.
        metric: ``"cosine"`` clusters the L2-normalised rows; ``"euclidean"`` the rows as given.
        max_iter: maximum number of Lloyd iterations, >= 1.
        tol: relative tolerance on the centroid shift, >= 0.
        chunk_size: rows per distance block (default: about 8 MiB of float64 per block).

    Returns:
        int64 array of shape (k,): distinct indices into ``x``; entry j is the anchor of
        centroid j.

    Raises:
        ValueError: when ``x`` holds fewer than ``k`` distinct points (under ``metric``, at the
            working float precision); the message gives how many it holds.

    Example:
        >>> import numpy as np
        >>> rng = np.random.default_rng(0)
        >>> x = np.concatenate([rng.normal(c, 0.1, (20, 2)) for c in (-5.0, 0.0, 5.0)])
        >>> idx = kmeans(x, 3, seed=0, metric="euclidean")
        >>> sorted(int(i) // 20 for i in idx)  # one anchor per blob
        [0, 1, 2]
    """
    metric = check_metric(metric)
    points = check_points(x)
    n, d = points.shape
    k = check_k(k, n)
    seed = check_seed(seed)
    max_iter = check_int(max_iter, "max_iter", low=1)
    tol = check_float(tol, "tol", low=0.0)
    chunk = (
        default_chunk_rows(k, d)
        if chunk_size is None
        else check_int(chunk_size, "chunk_size", low=1)
    )
    space = RowSpace(points, metric)
    centroids = _fit_centroids(space, k, seed=seed, max_iter=max_iter, tol=tol, chunk=chunk)
    return _nearest_members(space, centroids, chunk=chunk)


def _fit_centroids(
    space: RowSpace, k: int, *, seed: int, max_iter: int, tol: float, chunk: int
) -> np.ndarray:
    """k-means++ seeding then Lloyd iterations -> centroids (k, n_features) in z-space."""
    rng = np.random.default_rng(seed)
    seeds = _kmeans_plusplus(space, k, rng)
    return _lloyd(space, space.rows(seeds), max_iter=max_iter, tol=tol, chunk=chunk)


def _kmeans_plusplus(space: RowSpace, k: int, rng: np.random.Generator) -> np.ndarray:
    """Greedy k-means++: each step draws a few candidates with probability proportional to their
    squared distance to the chosen seeds and keeps the one that lowers the total most.

    Returns the seed row indices (k,). Raises when fewer than ``k`` distinct points exist.
    """
    n = space.n
    trials = 2 + int(math.log(k))
    chosen = np.empty(k, dtype=np.int64)
    chosen[0] = rng.integers(n)
    first = space.rows(chosen[:1])
    closest = space.sq_distances(0, n, first, np.einsum("ij,ij->i", first, first))[:, 0]
    for j in range(1, k):
        # Rows within rounding noise of a seed are that seed: never draw them again.
        weights = np.where(closest > space.duplicate_tol, closest, 0.0)
        cumulative = np.cumsum(weights, dtype=np.float64)
        if cumulative[-1] <= 0.0:
            raise fail(
                "x",
                f"an array holding at least k={k} distinct points under the {space.metric} metric",
                f"only {j} distinct point{'s' if j != 1 else ''} among its {n} rows",
            )
        draws = rng.random(trials) * cumulative[-1]
        candidates = np.minimum(np.searchsorted(cumulative, draws, side="right"), n - 1)
        z = space.rows(candidates)
        dist = space.sq_distances(0, n, z, np.einsum("ij,ij->i", z, z))
        np.minimum(dist, closest[:, None], out=dist)
        best = int(np.argmin(dist.sum(axis=0, dtype=np.float64)))
        chosen[j] = candidates[best]
        closest = np.ascontiguousarray(dist[:, best])
    return chosen


def _lloyd(
    space: RowSpace, centroids: np.ndarray, *, max_iter: int, tol: float, chunk: int
) -> np.ndarray:
    """Lloyd iterations from ``centroids`` (k, d); stops when assignments repeat or the total
    squared centroid shift is at most ``tol`` times the mean feature variance."""
    threshold = tol * _mean_feature_variance(space, chunk)
    labels = np.full(space.n, -1, dtype=np.int64)
    for _ in range(max_iter):
        new_labels, sums, counts = _assign(space, centroids, chunk)
        new_centroids = (sums / np.maximum(counts, 1)[:, None]).astype(space.dtype)
        empty = np.flatnonzero(counts == 0)
        if empty.size:
            _reseed_empty(space, centroids, new_centroids, empty, chunk)
        shift = float(((new_centroids.astype(np.float64) - centroids) ** 2).sum())
        centroids = new_centroids
        if np.array_equal(new_labels, labels):
            break
        labels = new_labels
        if shift <= threshold:
            break
    return centroids


def _assign(
    space: RowSpace, centroids: np.ndarray, chunk: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Nearest centroid of every row, and each cluster's float64 sum of z rows and size."""
    k = centroids.shape[0]
    centroids_sq = np.einsum("ij,ij->i", centroids, centroids)
    labels = np.empty(space.n, dtype=np.int64)
    sums = np.zeros((k, space.d), dtype=np.float64)
    counts = np.zeros(k, dtype=np.int64)
    for lo in range(0, space.n, chunk):
        hi = min(lo + chunk, space.n)
        block = space.sq_distances(lo, hi, centroids, centroids_sq)
        block_labels = np.argmin(block, axis=1)
        labels[lo:hi] = block_labels
        order = np.argsort(block_labels, kind="stable")
        present, starts = np.unique(block_labels[order], return_index=True)
        rows = space.rows(lo + order)
        # Per-chunk sums in the data dtype (few rows each), accumulated in float64.
        sums[present] += np.add.reduceat(rows, starts, axis=0)
        counts += np.bincount(block_labels, minlength=k)
    return labels, sums, counts


def _reseed_empty(
    space: RowSpace, old: np.ndarray, new: np.ndarray, empty: np.ndarray, chunk: int
) -> None:
    """Move each empty cluster's centroid onto one of the rows farthest from their centroid."""
    old_sq = np.einsum("ij,ij->i", old, old)
    worst = np.empty(space.n, dtype=np.float64)
    for lo in range(0, space.n, chunk):
        hi = min(lo + chunk, space.n)
        worst[lo:hi] = space.sq_distances(lo, hi, old, old_sq).min(axis=1)
    farthest = np.argsort(-worst, kind="stable")[: empty.size]
    new[empty] = space.rows(farthest)


def _mean_feature_variance(space: RowSpace, chunk: int) -> float:
    total = np.zeros(space.d, dtype=np.float64)
    total_sq = np.zeros(space.d, dtype=np.float64)
    for lo in range(0, space.n, chunk):
        rows = space.rows(np.arange(lo, min(lo + chunk, space.n))).astype(np.float64)
        total += rows.sum(axis=0)
        total_sq += np.einsum("ij,ij->j", rows, rows)
    mean = total / space.n
    return float(np.mean(np.maximum(total_sq / space.n - mean**2, 0.0)))


def _nearest_members(
    space: RowSpace,
    centroids: np.ndarray,
    *,
    chunk: int,
    candidates: int = _CANDIDATES_PER_CENTROID,
) -> np.ndarray:
    """Distinct rows nearest the centroids (k, d) -> (k,) int64 row indices.

    Pairs (centroid, row) are granted in increasing distance (ties: lower centroid, then lower
    row); a row that is taken, or that is the same point as a taken row, is skipped.
    """
    k = centroids.shape[0]
    m = min(candidates, space.n)
    near_d, near_i = _top_candidates(space, centroids, m, chunk)
    owner = np.repeat(np.arange(k)[None, :], m, axis=0).ravel()
    rows, dists = near_i.ravel(), near_d.ravel()
    anchors = np.full(k, -1, dtype=np.int64)
    picked = np.empty((k, space.d), dtype=space.dtype)
    taken: set[int] = set()
    n_picked = 0
    for pos in np.lexsort((rows, owner, dists)):
        c, r = int(owner[pos]), int(rows[pos])
        if anchors[c] >= 0 or r in taken:
            continue
        z = space.rows(np.array([r]))[0]
        if (
            n_picked
            and float(((picked[:n_picked] - z) ** 2).sum(axis=1).min()) <= space.duplicate_tol
        ):
            taken.add(r)  # same point as an anchor already granted
            continue
        anchors[c], picked[n_picked] = r, z
        taken.add(r)
        n_picked += 1
    for left in np.flatnonzero(anchors < 0):
        r = _nearest_free_row(space, centroids[left], picked[:n_picked], taken, chunk)
        anchors[left], picked[n_picked] = r, space.rows(np.array([r]))[0]
        taken.add(r)
        n_picked += 1
    return anchors


def _top_candidates(
    space: RowSpace, centroids: np.ndarray, m: int, chunk: int
) -> tuple[np.ndarray, np.ndarray]:
    """The ``m`` nearest rows of each centroid: distances and indices, both (m, k), sorted."""
    k = centroids.shape[0]
    centroids_sq = np.einsum("ij,ij->i", centroids, centroids)
    best_d = np.full((m, k), np.inf)
    best_i = np.full((m, k), -1, dtype=np.int64)
    for lo in range(0, space.n, chunk):
        hi = min(lo + chunk, space.n)
        block = space.sq_distances(lo, hi, centroids, centroids_sq)
        take = min(m, hi - lo)
        part = np.argpartition(block, take - 1, axis=0)[:take]
        all_d = np.concatenate([best_d, np.take_along_axis(block, part, axis=0)])
        all_i = np.concatenate([best_i, part + lo])
        keep = np.argsort(all_d, axis=0, kind="stable")[:m]
        best_d = np.take_along_axis(all_d, keep, axis=0)
        best_i = np.take_along_axis(all_i, keep, axis=0)
    return best_d, best_i


def _nearest_free_row(
    space: RowSpace, centroid: np.ndarray, picked: np.ndarray, taken: set[int], chunk: int
) -> int:
    """Full search: the row nearest ``centroid`` that is neither taken nor a copy of a pick."""
    target = centroid[None, :]
    target_sq = np.einsum("ij,ij->i", target, target)
    picked_sq = np.einsum("ij,ij->i", picked, picked)
    dist = np.empty(space.n, dtype=np.float64)
    for lo in range(0, space.n, chunk):
        hi = min(lo + chunk, space.n)
        dist[lo:hi] = space.sq_distances(lo, hi, target, target_sq)[:, 0]
        if picked.shape[0]:
            copies = space.sq_distances(lo, hi, picked, picked_sq).min(axis=1)
            dist[lo:hi][copies <= space.duplicate_tol] = np.inf
    dist[list(taken)] = np.inf
    # k-means++ found k distinct points, so a free row always exists.
    return int(np.argmin(dist))
