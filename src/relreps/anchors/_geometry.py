"""Rows of ``x`` as a metric sees them, with squared distances that never copy ``x``.

For ``metric="cosine"`` a row is its direction ``z_i = x_i / ||x_i||`` (zero rows stay zero);
for ``metric="euclidean"`` it is ``z_i = x_i``. Every selection method then works with squared
Euclidean distances between the ``z`` rows: on unit vectors ``||z_i - z_j||^2 = 2 - 2 cos``, so
"farthest" and "nearest" mean the same thing under both readings. The normalisation is folded
into per-row weights, so memory stays O(n_samples) beyond ``x`` itself.
"""

from __future__ import annotations

import numpy as np

# Squared distances at or below this many float eps (relative to the largest squared norm) are
# rounding noise: such rows count as the same point.
_DUPLICATE_EPS = 100


class RowSpace:
    """The rows of ``x`` (n_samples, n_features) under ``metric``; ``x`` is read, never copied."""

    def __init__(self, x: np.ndarray, metric: str) -> None:
        self.x = x
        self.metric = metric
        self.dtype = x.dtype
        self.n, self.d = x.shape
        if metric == "cosine":
            norms = np.sqrt(np.einsum("ij,ij->i", x, x))
            nonzero = norms > 0
            self.weights: np.ndarray | None = np.divide(
                1.0, norms, out=np.zeros_like(norms), where=nonzero
            )
            self.sq_norms = nonzero.astype(x.dtype)
        else:
            self.weights = None
            self.sq_norms = np.einsum("ij,ij->i", x, x)
        scale = float(self.sq_norms.max()) if self.n else 0.0
        eps = float(np.finfo(x.dtype).eps)
        self.duplicate_tol = _DUPLICATE_EPS * eps * max(scale, float(np.finfo(x.dtype).tiny))

    def rows(self, index: np.ndarray) -> np.ndarray:
        """The ``z`` rows at ``index`` (m,) -> (m, n_features), a copy in ``x``'s dtype."""
        z = self.x[index].astype(self.dtype, copy=False)  # fancy indexing already copied
        if self.weights is not None:
            z *= self.weights[index][:, None]
        return z

    def sq_distances(
        self, lo: int, hi: int, points: np.ndarray, points_sq: np.ndarray
    ) -> np.ndarray:
        """Squared distances of rows ``lo:hi`` to ``points`` (m, d) in z-space -> (hi - lo, m).

        ``points_sq`` holds the squared norms of ``points``; results are clipped at 0.
        """
        out = self.x[lo:hi] @ points.T
        if self.weights is not None:
            out *= self.weights[lo:hi, None]
        out *= -2.0
        out += points_sq
        out += self.sq_norms[lo:hi, None]
        np.maximum(out, 0.0, out=out)
        return out
