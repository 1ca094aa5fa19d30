"""One entry point for the anchor strategies, and an encoder-free space to choose anchors in.

- :func:`select`: ``k`` anchors with a strategy named by a string (:data:`STRATEGIES`), for
  ablations and configs that try several.
- :func:`pca_coordinates`: the leading principal components of raw inputs (e.g. pixels), so a
  geometric strategy (k-means, farthest point) picks the same anchors whatever encoder is used.
"""

from __future__ import annotations

import numpy as np

from relreps._validation import check_choice, check_int, fail
from relreps.anchors.clustering import kmeans
from relreps.anchors.farthest import farthest_point
from relreps.anchors.selection import random, stratified

__all__ = ["STRATEGIES", "pca_coordinates", "select"]

STRATEGIES = ("random", "stratified", "kmeans", "farthest_point")
"""The strategy names :func:`select` takes."""


def select(
    strategy: str,
    candidates: object,
    k: int,
    *,
    seed: int,
    labels: object = None,
    metric: str = "cosine",
    max_iter: int = 300,
) -> np.ndarray:
    """Indices of ``k`` anchors among ``candidates`` with the strategy named ``strategy``.

    ``"random"`` is :func:`relreps.anchors.random`, ``"stratified"`` is
    :func:`relreps.anchors.stratified` over ``labels``, ``"kmeans"`` is
    :func:`relreps.anchors.kmeans` and ``"farthest_point"`` is
    :func:`relreps.anchors.farthest_point`, the last two in ``metric`` on ``candidates``.

    Args:
        strategy: one of :data:`STRATEGIES`.
        candidates: (n_candidates, d) points; only their number matters to ``"random"`` and
            ``"stratified"``.
        k: number of anchors.
        seed: seeds every strategy.
        labels: (n_candidates,) classes; required by ``"stratified"`` only.
        metric: ``"cosine"`` or ``"euclidean"``, for ``"kmeans"`` and ``"farthest_point"``.
        max_iter: Lloyd iterations of ``"kmeans"``.

    Returns:
        (k,) distinct int64 indices into ``candidates``.

    Example:
        >>> x = np.random.default_rng(0).normal(size=(50, 3))
        >>> [len(select(s, x, 7, seed=0, labels=np.arange(50) % 5)) for s in STRATEGIES]
        [7, 7, 7, 7]
    """
    strategy = check_choice(strategy, "strategy", STRATEGIES)
    if strategy == "random":
        return random(len(np.asarray(candidates)), k, seed=seed)
    if strategy == "stratified":
        if labels is None:
            raise fail("labels", "class labels for the stratified strategy", "None", TypeError)
        return stratified(labels, k, seed=seed)
    if strategy == "kmeans":
        return kmeans(candidates, k, seed=seed, metric=metric, max_iter=max_iter)
    return farthest_point(candidates, k, seed=seed, metric=metric)


def pca_coordinates(x: object, dims: int) -> np.ndarray:
    """The first ``dims`` principal-component coordinates of the flattened rows of ``x``.

    Args:
        x: (n, ...) inputs (images of any shape are flattened to (n, features)).
        dims: number of components (>= 1; capped at ``min(n, features)``).

    Returns:
        (n, min(dims, n, features)) float64 coordinates of the centred rows.

    Example:
        >>> pca_coordinates(np.random.default_rng(0).normal(size=(20, 1, 4, 4)), 3).shape
        (20, 3)
    """
    arr = np.asarray(x)
    if arr.ndim < 2 or arr.shape[0] < 1:
        raise fail("x", "an array of shape (n_samples, ...)", f"shape {arr.shape}")
    dims = check_int(dims, "dims", low=1)
    flat = arr.reshape(len(arr), -1).astype(np.float64)
    if not np.isfinite(flat).all():
        raise fail("x", "finite values", "NaN or inf")
    flat = flat - flat.mean(axis=0)
    _, _, vt = np.linalg.svd(flat, full_matrices=False)
    return flat @ vt[: min(dims, vt.shape[0])].T
