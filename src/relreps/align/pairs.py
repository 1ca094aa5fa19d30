"""Known pairs of rows between two spaces: validation and splitting.

A *pair* ``(i, j)`` says that row ``i`` of space X and row ``j`` of space Y are the same item
(a word and its translation, one text embedded by two models). Pairs are stored as an integer
array of shape (n_pairs, 2): column 0 indexes X, column 1 indexes Y.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from relreps._array import to_numpy
from relreps._validation import check_float, check_int, fail

__all__ = ["check_pairs", "split_pairs"]


def check_pairs(
    pairs: Any, n_x: int, n_y: int, *, name: str = "pairs", min_pairs: int = 1
) -> np.ndarray:
    """Validate known pairs of rows; return them as an int64 array of shape (n_pairs, 2).

    Args:
        pairs: (n_pairs, 2) integer array-like; ``pairs[k] = (i, j)`` pairs row ``i`` of X with
            row ``j`` of Y.
        n_x: rows of X (column 0 must lie in ``[0, n_x - 1]``).
        n_y: rows of Y (column 1 must lie in ``[0, n_y - 1]``).
        name: the argument's name in error messages.
        min_pairs: fewest pairs accepted.

    Returns:
        (n_pairs, 2) int64 array, in the given order.

    Raises:
        TypeError: non-integer values.
        ValueError: wrong shape, too few pairs, an index out of range, a row of X or of Y used
            twice (each naming the offending pair).

    Example:
        >>> check_pairs([[0, 1], [2, 0]], 3, 2).tolist()
        [[0, 1], [2, 0]]
        >>> check_pairs([[0, 1], [0, 0]], 3, 2)  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        ValueError: Expected `pairs` to use each row of X at most once, but got row 0 in pairs ...
    """
    n_x = check_int(n_x, "n_x", low=1)
    n_y = check_int(n_y, "n_y", low=1)
    min_pairs = check_int(min_pairs, "min_pairs", low=1)
    try:
        arr = to_numpy(pairs) if not isinstance(pairs, list | tuple) else np.asarray(pairs)
    except (TypeError, ValueError) as err:
        raise fail(
            name, "an integer array of shape (n_pairs, 2)", repr(type(pairs)), TypeError
        ) from err
    if arr.ndim != 2 or arr.shape[1] != 2:
        raise fail(name, "an integer array of shape (n_pairs, 2)", f"shape {arr.shape}")
    if arr.shape[0] and arr.dtype.kind not in "iu":
        if arr.dtype.kind == "f" and np.all(np.isfinite(arr)) and np.all(arr == np.round(arr)):
            arr = arr.astype(np.int64)
        else:
            raise fail(name, "integer row indices", f"dtype {arr.dtype}", TypeError)
    if arr.shape[0] < min_pairs:
        raise fail(name, f"at least {min_pairs} pairs", f"{arr.shape[0]}")
    arr = arr.astype(np.int64, copy=True)
    for col, (n, side) in enumerate(((n_x, "X"), (n_y, "Y"))):
        bad = np.flatnonzero((arr[:, col] < 0) | (arr[:, col] >= n))
        if bad.size:
            k = int(bad[0])
            raise fail(
                name,
                f"row indices of {side} in [0, {n - 1}] in column {col}",
                f"{int(arr[k, col])} in pair {k}",
            )
        _, first, counts = np.unique(arr[:, col], return_index=True, return_counts=True)
        if np.any(counts > 1):
            repeated = int(arr[first[np.flatnonzero(counts > 1)[0]], col])
            where = np.flatnonzero(arr[:, col] == repeated)[:2]
            raise ValueError(
                f"Expected `{name}` to use each row of {side} at most once, but got row "
                f"{repeated} in pairs {int(where[0])} and {int(where[1])}."
            )
    return arr


def split_pairs(
    pairs: Any, n_fit: int | None = None, *, fraction: float | None = None, seed: int
) -> tuple[np.ndarray, np.ndarray]:
    """Split validated pairs into a fitting part and a held-out part, at random (seeded).

    Args:
        pairs: (n_pairs, 2) int pairs (see :func:`check_pairs`).
        n_fit: pairs in the fitting part, in ``[1, n_pairs]``; or
        fraction: the share of pairs in the fitting part, in (0, 1].
        seed: seed of the shuffle.

    Returns:
        ``(fit, held_out)``, two (n, 2) int64 arrays with no pair in common.

    Example:
        >>> fit, held = split_pairs([[0, 0], [1, 1], [2, 2], [3, 3]], 3, seed=0)
        >>> fit.shape, held.shape
        ((3, 2), (1, 2))
    """
    arr = np.asarray(pairs, dtype=np.int64)
    if arr.ndim != 2 or arr.shape[1] != 2:
        raise fail("pairs", "an integer array of shape (n_pairs, 2)", f"shape {arr.shape}")
    if (n_fit is None) == (fraction is None):
        raise fail(
            "n_fit/fraction", "exactly one of the two", f"n_fit={n_fit}, fraction={fraction}"
        )
    if fraction is not None:
        fraction = check_float(fraction, "fraction", low=0.0, high=1.0, low_inclusive=False)
        n_fit = max(1, round(fraction * arr.shape[0]))
    n_fit = check_int(n_fit, "n_fit", low=1, high=arr.shape[0], hint="n_pairs")
    order = np.random.default_rng(check_int(seed, "seed", low=0)).permutation(arr.shape[0])
    return arr[order[:n_fit]], arr[order[n_fit:]]
