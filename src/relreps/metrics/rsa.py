"""Representational similarity analysis (RSA; Kriegeskorte et al. 2008).

Each space gives a representational dissimilarity matrix (RDM): the dissimilarity of every pair
of samples. RSA is the correlation (Spearman by default, or Pearson) of the two RDMs' upper
triangles. Cost: ``O(n^2 (d_a + d_b))`` time and ``O(n^2)`` memory (two vectors of
``n (n - 1) / 2`` values, float64): about 80 MB at ``n = 3,000``. Subsample larger sets.

With the default Euclidean RDM the score is invariant to orthogonal maps, translation and global
scaling of either space; ``"correlation"`` (1 - Pearson correlation between rows) and
``"cosine"`` RDMs are also available.
"""

from __future__ import annotations

from typing import Literal

import numpy as np

from relreps._array import Array, to_numpy
from relreps._validation import check_choice, check_matrix, check_paired
from relreps.metrics.correlation import pearson

__all__ = ["rdm", "rsa"]

Dissimilarity = Literal["euclidean", "correlation", "cosine"]


def rdm(x: Array, *, dissimilarity: Dissimilarity = "euclidean") -> np.ndarray:
    """Condensed representational dissimilarity matrix: the upper triangle, row by row.

    Args:
        x: (n_samples, n_features) array (numpy, torch or any array-API array), n_samples >= 2.
        dissimilarity: ``"euclidean"``, ``"correlation"`` (1 - Pearson r between rows) or
            ``"cosine"`` (1 - cosine between rows).

    Returns:
        (n_samples * (n_samples - 1) / 2,) float64 numpy array, pairs (0,1), (0,2), ..., (1,2), ...

    Raises:
        ValueError: a zero row (cosine) or a constant row (correlation), which has no direction.

    Example:
        >>> import numpy as np
        >>> rdm(np.array([[0.0, 0.0], [3.0, 4.0], [0.0, 1.0]])).tolist()
        [5.0, 1.0, 4.242640687119285]
    """
    x = check_matrix(x, "x", min_rows=2)
    dissimilarity = check_choice(
        dissimilarity, "dissimilarity", ("euclidean", "correlation", "cosine")
    )
    v = np.asarray(to_numpy(x), dtype=np.float64)
    if dissimilarity != "euclidean":
        if dissimilarity == "correlation":
            v = v - v.mean(axis=1, keepdims=True)
        norms = np.sqrt(np.einsum("ij,ij->i", v, v))
        bad = np.flatnonzero(norms <= 1e-12 * max(1.0, float(norms.max())))
        if bad.size:
            what = "constant" if dissimilarity == "correlation" else "zero"
            raise ValueError(
                f"Expected `x` rows to have a direction for the {dissimilarity} dissimilarity, "
                f"but row {int(bad[0])} is {what} ({bad.size} such row(s))."
            )
        v = v / norms[:, None]
        full = 1.0 - v @ v.T
    else:
        sq = np.einsum("ij,ij->i", v, v)
        full = np.sqrt(np.clip(sq[:, None] + sq[None, :] - 2.0 * (v @ v.T), 0.0, None))
    return full[np.triu_indices(v.shape[0], k=1)]


def _average_ranks(values: np.ndarray) -> np.ndarray:
    """Ranks 1..m with ties given their average rank."""
    order = np.argsort(values, kind="stable")
    sorted_vals = values[order]
    run_start = np.r_[True, sorted_vals[1:] != sorted_vals[:-1]]
    run_id = np.cumsum(run_start) - 1
    starts = np.flatnonzero(run_start)
    ends = np.r_[starts[1:], values.size]
    avg = (starts + ends + 1) / 2.0  # mean of positions start+1 .. end
    ranks = np.empty(values.size)
    ranks[order] = avg[run_id]
    return ranks


def _correlation(u: np.ndarray, v: np.ndarray) -> float:
    r = pearson(u, v, min_points=2, tol=0.0)
    if r is None:
        raise ValueError(
            "Expected both dissimilarity matrices to vary, but one is constant (all samples "
            "equally far apart): their correlation is undefined."
        )
    return r


def rsa(
    a: Array,
    b: Array,
    *,
    method: Literal["spearman", "pearson"] = "spearman",
    dissimilarity: Dissimilarity = "euclidean",
) -> float:
    """Correlation of the representational dissimilarity matrices of two paired spaces.

    Args:
        a: (n_samples, d_a) first space.
        b: (n_samples, d_b) second space; row i of both is sample i (dims may differ).
        method: ``"spearman"`` (rank correlation, ties averaged) or ``"pearson"``.
        dissimilarity: RDM entries, see :func:`rdm`.

    Returns:
        Similarity in [-1, 1]; needs ``n_samples >= 3`` (at least 3 pairs).

    Example:
        >>> import numpy as np
        >>> x = np.random.default_rng(0).normal(size=(30, 5))
        >>> round(rsa(x, -2.0 * x + 1.0), 12)
        1.0
    """
    method = check_choice(method, "method", ("spearman", "pearson"))
    a = check_matrix(a, "a", min_rows=3)
    b = check_matrix(b, "b", min_rows=3)
    check_paired(a, "a", b, "b")
    da = rdm(a, dissimilarity=dissimilarity)
    db = rdm(b, dissimilarity=dissimilarity)
    if method == "spearman":
        da, db = _average_ranks(da), _average_ranks(db)
    return _correlation(da, db)
