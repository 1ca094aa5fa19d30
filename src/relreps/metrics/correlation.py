"""Pearson's r between two series, undefined (None) instead of NaN when it cannot be told."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from relreps._validation import check_float, check_int, fail

__all__ = ["pearson"]


def pearson(x: Any, y: Any, *, min_points: int = 3, tol: float = 1e-12) -> float | None:
    """Pearson's correlation of two paired series, computed in float64.

    Args:
        x: (n,) values.
        y: (n,) values paired with ``x``.
        min_points: fewer points than this give None (>= 2).
        tol: when ``sqrt(sum dx^2 * sum dy^2)`` is at most this (a constant series), None (>= 0).

    Returns:
        r in [-1, 1], or None when it is undefined.

    Raises:
        ValueError: ``x`` and ``y`` are not 1-D of the same length, or hold NaN / inf.

    Example:
        >>> round(pearson([1, 2, 3, 4], [2, 4, 5, 9]), 3)
        0.965
        >>> pearson([1, 1, 1], [1, 2, 3]) is None, pearson([1, 2], [2, 1]) is None
        (True, True)
    """
    xs, ys = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
    if xs.ndim != 1 or ys.shape != xs.shape:
        raise fail("y", f"a 1-D series paired with `x` (shape {xs.shape})", f"shape {ys.shape}")
    if not (np.isfinite(xs).all() and np.isfinite(ys).all()):
        raise fail("x", "finite values in `x` and `y`", "NaN or inf")
    min_points = check_int(min_points, "min_points", low=2)
    tol = check_float(tol, "tol", low=0.0)
    if xs.size < min_points:
        return None
    dx, dy = xs - xs.mean(), ys - ys.mean()
    denominator = math.sqrt(float(dx @ dx) * float(dy @ dy))
    if denominator <= tol:
        return None
    return float(dx @ dy) / denominator
