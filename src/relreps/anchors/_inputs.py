"""Validated inputs shared by the anchor selection functions (k, seed, metric, points, labels)."""

from __future__ import annotations

import numpy as np

from relreps._array import to_numpy
from relreps._validation import check_choice, check_int, check_matrix, fail

METRICS = ("cosine", "euclidean")


def check_k(k: object, n_candidates: int) -> int:
    """``k`` must pick between 1 and all of the candidates."""
    return check_int(k, "k", low=1, high=n_candidates, hint="at most the number of candidates")


def check_seed(seed: object) -> int:
    """Seeds are explicit non-negative ints: nothing reads global random state."""
    return check_int(seed, "seed", low=0)


def check_metric(metric: object) -> str:
    return check_choice(metric, "metric", METRICS)


def check_points(x: object, name: str = "x") -> np.ndarray:
    """A finite 2-D numpy float array (float32 and float64 kept, other dtypes widened).

    Torch tensors are copied to the host; float32/float64 numpy arrays are returned without a copy.
    The finiteness check runs in row chunks, so it needs no (n_samples, n_features) temporary.
    """
    arr = to_numpy(check_matrix(x, name, finite=False))
    if arr.dtype not in (np.float32, np.float64):
        arr = arr.astype(np.float32 if arr.dtype == np.float16 else np.float64)
    step = default_chunk_rows(arr.shape[1])
    bad = [
        lo + np.flatnonzero(~np.isfinite(arr[lo : lo + step]).all(axis=1))
        for lo in range(0, arr.shape[0], step)
    ]
    bad_rows = np.concatenate(bad) if bad else np.empty(0, dtype=np.int64)
    if bad_rows.size:
        raise ValueError(
            f"Expected `{name}` to contain only finite values, but row {int(bad_rows[0])} holds "
            f"NaN or Inf ({bad_rows.size} bad row{'s' if bad_rows.size != 1 else ''} in all)."
        )
    return arr


def check_labels(labels: object, name: str = "labels", n_samples: int | None = None) -> np.ndarray:
    """A non-empty 1-D array of class labels (ints, strings or finite floats) as numpy.

    Raises:
        ValueError: when ``labels`` is not 1-D, is empty, holds NaN/Inf or its length differs
            from ``n_samples``.
        TypeError: when the labels cannot be compared to one another.
    """
    if hasattr(labels, "detach") or hasattr(labels, "__dlpack__"):
        arr = to_numpy(labels)
    else:
        arr = np.asarray(labels)
    if arr.ndim != 1:
        raise fail(name, "a 1-D array of class labels", f"shape {arr.shape}")
    if arr.size == 0:
        raise fail(name, "a non-empty 1-D array of class labels", "an empty array")
    if n_samples is not None and arr.shape[0] != n_samples:
        raise fail(name, f"one label per sample ({n_samples} labels)", f"{arr.shape[0]} labels")
    if arr.dtype.kind == "f" and not np.isfinite(arr).all():
        bad = int(np.flatnonzero(~np.isfinite(arr))[0])
        raise fail(name, "finite class labels", f"NaN or Inf at position {bad}")
    if arr.dtype.kind not in "biufUSO":
        raise fail(name, "class labels (ints or strings)", f"dtype {arr.dtype}", TypeError)
    return arr


def encode_labels(labels: np.ndarray, name: str = "labels") -> tuple[np.ndarray, np.ndarray]:
    """Sorted distinct classes and each sample's class id (position in that sorted list)."""
    try:
        classes, ids = np.unique(labels, return_inverse=True)
    except TypeError as err:
        raise fail(name, "mutually comparable class labels", f"{err}", TypeError) from err
    return classes, ids.reshape(-1).astype(np.int64)


def class_label(value: object) -> object:
    """A numpy scalar label as the plain Python value (str, int, float, bool)."""
    item = getattr(value, "item", None)
    return item() if callable(item) else value


def default_chunk_rows(*widths: int) -> int:
    """Rows per chunk so that one (rows, max(widths)) float64 buffer stays near 8 MiB."""
    return max(1, (1 << 20) // max(1, *widths))


def check_indices(
    indices: object, name: str, n_samples: int | None = None, *, distinct: bool = True
) -> np.ndarray:
    """Non-negative int64 indices (below ``n_samples`` when given), shape (m,), m >= 1.

    With ``distinct=True`` (the default) a repeated index is an error naming it.
    """
    arr = to_numpy(indices) if hasattr(indices, "__dlpack__") else np.asarray(indices)
    if arr.ndim != 1 or arr.size == 0:
        raise fail(name, "a non-empty 1-D array of integer indices", f"shape {arr.shape}")
    if arr.dtype.kind not in "iu":
        raise fail(name, "an array of integer indices", f"dtype {arr.dtype}", TypeError)
    arr = arr.astype(np.int64)
    high = f"[0, {n_samples})" if n_samples is not None else "[0, inf)"
    low_bad = arr < 0
    high_bad = arr >= n_samples if n_samples is not None else np.zeros_like(low_bad)
    if low_bad.any() or high_bad.any():
        pos = int(np.flatnonzero(low_bad | high_bad)[0])
        raise fail(name, f"indices in {high}", f"{int(arr[pos])} at position {pos}")
    if not distinct:
        return arr
    uniq, counts = np.unique(arr, return_counts=True)
    if uniq.shape[0] != arr.shape[0]:
        dup = int(uniq[counts > 1][0])
        where = np.flatnonzero(arr == dup)[:2].tolist()
        raise fail(name, "distinct indices", f"{dup} repeated at positions {where}")
    return arr
