"""How much one space's embeddings share a direction: the mean cosine between distinct rows."""

from __future__ import annotations

from typing import Any

import numpy as np

from relreps._array import to_numpy
from relreps._validation import check_int, check_matrix

__all__ = ["mean_pairwise_cosine"]


def mean_pairwise_cosine(x: Any, n: int | None = 600) -> float:
    """Mean cosine over the distinct ordered pairs of the first ``n`` rows of ``x``.

    Near 1 when the embeddings nearly share one direction (then cosines to anchors carry little
    signal), near 0 for isotropic ones. Zero rows count as cosine 0.

    Args:
        x: (n_samples, dim) embeddings, numpy or any array-API array.
        n: rows used (the first ``n``; None for all), at least 2 are needed.

    Example:
        >>> round(mean_pairwise_cosine(np.eye(3)), 3), mean_pairwise_cosine(np.ones((4, 2)))
        (0.0, 1.0)
    """
    z = np.asarray(to_numpy(check_matrix(x, "x", shape_doc="(n_samples, dim)", min_rows=2)))
    if n is not None:
        z = z[: check_int(n, "n", low=2)]
    z = z.astype(np.float64)
    z = z / np.maximum(np.linalg.norm(z, axis=1, keepdims=True), 1e-12)
    c = z @ z.T
    m = len(z)
    return float((c.sum() - np.trace(c)) / (m * (m - 1)))
