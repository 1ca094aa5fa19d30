"""One entry point for the anchor strategies, and an encoder-free space to choose anchors in.

- :func:`select`: ``k`` anchors with a strategy named by a string (:data:`STRATEGIES`, or
  ``"top-N"`` for the head of a ranking, see :func:`top_pool`), for ablations and configs that
  try several.
- :func:`pca_coordinates`: the leading principal components of raw inputs (e.g. pixels), so a
  geometric strategy (k-means, farthest point) picks the same anchors whatever encoder is used.
"""

from __future__ import annotations

import re

import numpy as np

from relreps._validation import check_int, fail
from relreps.anchors.clustering import kmeans
from relreps.anchors.farthest import farthest_point
from relreps.anchors.selection import random, stratified, top_ranked

__all__ = ["STRATEGIES", "pca_coordinates", "select", "top_pool"]

STRATEGIES = ("random", "stratified", "kmeans", "farthest_point")
"""The fixed strategy names :func:`select` takes (and ``"top-N"``, see :func:`top_pool`)."""


def top_pool(strategy: object) -> int | None:
    """The ``N`` of a ``"top-N"`` strategy name (``N`` a positive integer), else ``None``.

    ``select("top-N", candidates, k, seed=...)`` draws the ``k`` anchors uniformly among the
    first ``N`` candidates, taken as ranked best first (e.g. a vocabulary sorted by word
    frequency: the paper's top-1000/5000/10000 anchors); use it to tell which such strategies
    fit a candidate set.

    Example:
        >>> top_pool("top-1000"), top_pool("kmeans"), top_pool("top-0")
        (1000, None, None)
    """
    if not isinstance(strategy, str):
        return None
    found = re.fullmatch(r"top-([1-9][0-9]*)", strategy)
    return int(found.group(1)) if found else None


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
    ``"top-N"`` is :func:`relreps.anchors.top_ranked` with ``pool=N`` over the candidates' row
    order (rows ranked best first, e.g. most frequent word first).

    Args:
        strategy: one of :data:`STRATEGIES`, or ``"top-N"`` with ``k <= N <= n_candidates``.
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
        >>> bool((select("top-10", x, 7, seed=0) < 10).all())
        True
    """
    pool = top_pool(strategy)
    if pool is not None:
        n_candidates = len(np.asarray(candidates))
        k = check_int(k, "k", low=1)
        if not k <= pool <= n_candidates:
            expected = f"'top-N' with k={k} <= N <= {n_candidates} candidates"
            raise fail("strategy", expected, repr(strategy))
        return top_ranked(np.arange(n_candidates), k, pool=pool, seed=seed)
    if not isinstance(strategy, str) or strategy not in STRATEGIES:
        raise fail("strategy", f"one of {list(STRATEGIES)} or 'top-N'", repr(strategy))
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
