"""Index-based anchor selection: uniform, class-stratified and top-of-a-ranking.

Every function returns int64 indices into the candidate set, so the same indices pick the
corresponding anchors in every space that shares the samples (see :func:`relreps.anchors.take`).
"""

from __future__ import annotations

from typing import Literal, overload

import numpy as np

from relreps._validation import check_int
from relreps.anchors._inputs import (
    check_indices,
    check_k,
    check_labels,
    check_seed,
    class_label,
    encode_labels,
)

__all__ = ["class_counts", "random", "stratified", "top_ranked"]


def random(n_samples: int, k: int, *, seed: int) -> np.ndarray:
    """Pick ``k`` of ``n_samples`` candidates uniformly at random, without replacement.

    Args:
        n_samples: number of candidates (rows of every space the anchors come from).
        k: number of anchors, in ``[1, n_samples]``.
        seed: non-negative int; the same seed gives the same anchors.

    Returns:
        int64 array of shape (k,): distinct indices in ``[0, n_samples)``, in drawing order.

    Example:
        >>> idx = random(10, 3, seed=0)
        >>> idx.shape, idx.dtype.name, len(set(idx.tolist()))
        ((3,), 'int64', 3)
        >>> bool((idx == random(10, 3, seed=0)).all())
        True
    """
    n = check_int(n_samples, "n_samples", low=1)
    k = check_k(k, n)
    rng = np.random.default_rng(check_seed(seed))
    return rng.choice(n, size=k, replace=False).astype(np.int64)


@overload
def stratified(
    labels: object, k: int, *, seed: int, return_counts: Literal[False] = ...
) -> np.ndarray: ...
@overload
def stratified(
    labels: object, k: int, *, seed: int, return_counts: Literal[True]
) -> tuple[np.ndarray, dict[object, int]]: ...
def stratified(
    labels: object, k: int, *, seed: int, return_counts: bool = False
) -> np.ndarray | tuple[np.ndarray, dict[object, int]]:
    """Class-balanced anchors: round robin over the classes, each class in a seeded shuffle.

    Round ``r`` takes the ``r``-th sample of every class that still has one, with the classes
    visited in a seeded order, until ``k`` anchors are taken. The counts are therefore as even as
    ``k`` allows: they differ by at most one, except that a class with too few samples is used
    up and the remaining anchors come from the other classes. This is the paper's default for
    images.

    Args:
        labels: class label of each candidate, shape (n_samples,) (ints or strings).
        k: number of anchors, in ``[1, n_samples]``.
        seed: non-negative int; the same seed gives the same anchors.
        return_counts: also return the number of anchors per class.

    Returns:
        int64 indices of shape (k,), in round-robin order; with ``return_counts=True`` also a
        dict ``{class label: count}`` over every class in ``labels`` (sorted, zeros included).

    Example:
        >>> labels = [0, 0, 0, 1, 1, 1, 2]
        >>> idx, counts = stratified(labels, 5, seed=0, return_counts=True)
        >>> counts
        {0: 2, 1: 2, 2: 1}
        >>> sorted(labels[i] for i in idx)
        [0, 0, 1, 1, 2]
    """
    lab = check_labels(labels)
    n = lab.shape[0]
    k = check_k(k, n)
    rng = np.random.default_rng(check_seed(seed))
    classes, ids = encode_labels(lab)
    n_classes = classes.shape[0]

    shuffled = rng.permutation(n)
    class_turn = np.empty(n_classes, dtype=np.int64)
    class_turn[rng.permutation(n_classes)] = np.arange(n_classes)

    # Rank of each shuffled sample inside its class: its round in the round robin.
    shuffled_ids = ids[shuffled]
    grouped = np.argsort(shuffled_ids, kind="stable")
    sizes = np.bincount(shuffled_ids, minlength=n_classes)
    starts = np.cumsum(sizes) - sizes
    rank = np.empty(n, dtype=np.int64)
    rank[grouped] = np.arange(n) - np.repeat(starts, sizes)

    order = np.lexsort((class_turn[shuffled_ids], rank))
    indices = shuffled[order[:k]].astype(np.int64)
    if not return_counts:
        return indices
    counts = np.bincount(ids[indices], minlength=n_classes)
    return indices, {class_label(c): int(m) for c, m in zip(classes, counts, strict=True)}


def class_counts(labels: object, indices: object) -> dict[object, int]:
    """Number of anchors per class: ``{class label: count}`` over every class in ``labels``.

    Args:
        labels: class label of each candidate, shape (n_samples,).
        indices: anchor indices into the candidates, shape (n_anchors,).

    Returns:
        dict from each class (sorted, plain Python values) to its number of anchors; classes
        without anchors map to 0.

    Example:
        >>> class_counts(["cat", "dog", "dog", "eel"], [1, 2, 0])
        {'cat': 1, 'dog': 2, 'eel': 0}
    """
    lab = check_labels(labels)
    idx = check_indices(indices, "indices", lab.shape[0])
    classes, ids = encode_labels(lab)
    counts = np.bincount(ids[idx], minlength=classes.shape[0])
    return {class_label(c): int(m) for c, m in zip(classes, counts, strict=True)}


def top_ranked(order: object, k: int, *, pool: int, seed: int) -> np.ndarray:
    """Sample ``k`` anchors uniformly among the first ``pool`` items of a ranking.

    The paper's top-1000/5000/10000 word strategies: ``order`` ranks the candidates (e.g. by
    word frequency, most frequent first) and the anchors are drawn from its head.

    Args:
        order: candidate indices, best first, shape (n_ranked,): distinct non-negative ints,
            e.g. ``np.argsort(-frequency)`` or ``np.arange(n)`` for a vocabulary already sorted.
        k: number of anchors, in ``[1, pool]``.
        pool: how many of the top-ranked items to draw from, in ``[k, n_ranked]``.
        seed: non-negative int; the same seed gives the same anchors.

    Returns:
        int64 array of shape (k,): items of ``order[:pool]``, in ranking order (``pool == k``
        returns ``order[:k]``).

    Example:
        >>> top_ranked([5, 3, 9, 0, 7, 1], 2, pool=3, seed=0).tolist() in ([5, 3], [5, 9], [3, 9])
        True
        >>> top_ranked([5, 3, 9, 0], 2, pool=2, seed=1).tolist()
        [5, 3]
    """
    ranking = check_indices(order, "order")
    n_ranked = ranking.shape[0]
    k = check_k(k, n_ranked)
    pool = check_int(pool, "pool", low=k, high=n_ranked, hint="from k to the length of `order`")
    rng = np.random.default_rng(check_seed(seed))
    picked = np.sort(rng.choice(pool, size=k, replace=False))
    return ranking[picked]
