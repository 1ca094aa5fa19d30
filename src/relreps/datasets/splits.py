"""Class-balanced train / test splits drawn from disjoint parts of every class."""

from __future__ import annotations

import numpy as np

from relreps._validation import check_float, check_int
from relreps.anchors import stratified

__all__ = ["balanced_split"]


def balanced_split(
    labels: np.ndarray, n_train: int, n_test: int, *, seed: int, test_share: float = 1 / 3
) -> tuple[np.ndarray, np.ndarray]:
    """Class-balanced train and test indices drawn from disjoint parts of every class.

    Every class is shuffled and cut: its first ``test_share`` goes to the test pool, the rest to
    the training pool (so small classes appear in both); each pool is then drawn class-stratified
    (round robin, :func:`relreps.anchors.stratified`).

    Args:
        labels: (n_items,) int class labels.
        n_train: training items wanted (at most the training pool).
        n_test: test items wanted (at most the test pool).
        seed: seed of the shuffle and the draws.
        test_share: share of each class reserved for the test pool, in (0, 1).

    Returns:
        ``(train_idx, test_idx)``, sorted int64 arrays with no common index.

    Raises:
        ValueError: a size below 1 or above its pool, ``test_share`` outside (0, 1).

    Example:
        >>> import numpy as np
        >>> labels = np.array([0] * 30 + [1] * 6)
        >>> tr, te = balanced_split(labels, 10, 4, seed=0)
        >>> np.bincount(labels[tr]).tolist(), np.bincount(labels[te]).tolist()
        ([6, 4], [2, 2])
        >>> bool(np.intersect1d(tr, te).size == 0)
        True
    """
    labels = np.asarray(labels)
    check_int(n_train, "n_train", low=1)
    check_int(n_test, "n_test", low=1)
    check_float(test_share, "test_share", low=0.0, high=1.0, low_inclusive=False)
    rng = np.random.default_rng(seed)
    in_test = np.zeros(labels.shape[0], dtype=bool)
    for c in np.unique(labels):
        members = rng.permutation(np.flatnonzero(labels == c))
        in_test[members[: max(1, round(test_share * members.size))]] = True
    pools = np.flatnonzero(~in_test), np.flatnonzero(in_test)
    out = []
    for pool, n, name in ((pools[0], n_train, "n_train"), (pools[1], n_test, "n_test")):
        if n > pool.size:
            raise ValueError(
                f"Expected `{name}` to be at most {pool.size} (the items of its pool), but got {n}."
            )
        out.append(np.sort(pool[stratified(labels[pool], n, seed=seed)]))
    return out[0], out[1]
