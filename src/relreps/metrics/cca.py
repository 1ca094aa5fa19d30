"""Canonical correlation analysis and its two summaries used to compare networks.

- :func:`canonical_correlations` / :func:`cca`: correlations between the best-aligned pairs of
  linear projections of ``a`` and ``b`` (Hotelling), and their mean.
- :func:`svcca` (Raghu et al. 2017): keep the top singular directions of each space (``keep`` of
  the variance), then CCA; robust to noise directions and to ``n < d``.
- :func:`pwcca` (Morcos et al. 2018): CCA correlations weighted by how much of ``a`` each
  canonical variate accounts for; not symmetric.

Everything is computed from the three feature Gram matrices of the centered inputs
(``O(n (d_a + d_b)^2)``), then ``O(d^3)`` eigen/singular value problems in float64.

Rank: CCA needs each space to have full column rank after centering, hence ``n_samples - 1 >
n_features``. Otherwise every correlation is trivially 1 and the function refuses, explaining
how to proceed: pass ``regularization > 0`` (ridge CCA: ``C + r * mean_eigenvalue(C) * I``), or
use :func:`svcca`, which keeps only directions that carry variance.
"""

from __future__ import annotations

import numbers

import numpy as np

from relreps._array import Array, namespace, to_numpy
from relreps._validation import check_float, check_int, check_matrix, check_paired, fail
from relreps.metrics.cka import feature_grams

__all__ = ["canonical_correlations", "cca", "pwcca", "svcca"]

# Eigenvalues of a covariance below this fraction of the largest count as zero (condition
# number of the data above ~1e5): CCA on such directions only fits rounding noise.
_RANK_TOL = 1e-10


def _grams(a: Array, b: Array) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
    a = check_matrix(a, "a", min_rows=2)
    b = check_matrix(b, "b", min_rows=2)
    check_paired(a, "a", b, "b")
    xp = namespace(a=a, b=b)
    g_aa, g_bb, g_ba, _, _ = feature_grams(a, b, xp)
    host = [np.asarray(to_numpy(g), dtype=np.float64) for g in (g_aa, g_bb, g_ba)]
    return host[0], host[1], host[2].T, a.shape[0]


def _whitener(cov: np.ndarray, reg: float, name: str, n: int) -> tuple[np.ndarray, np.ndarray]:
    """(inverse square root of the (regularised) covariance, its eigenvalues)."""
    d = cov.shape[0]
    if reg > 0.0:
        cov = cov + reg * (np.trace(cov) / d) * np.eye(d)
    eigvals, eigvecs = np.linalg.eigh(cov)
    top = float(eigvals[-1])
    if top <= 0.0:
        raise ValueError(
            f"Expected `{name}` to vary across samples, but it is constant after centering; "
            "canonical correlations are undefined."
        )
    if reg == 0.0:
        rank = int(np.sum(eigvals > _RANK_TOL * top))
        if d >= n - 1 or rank < d:
            reason = (
                f"only {n} samples for {d} features (needs n_samples - 1 > n_features)"
                if d >= n - 1
                else f"rank {rank} < {d} features (collinear or constant features)"
            )
            raise ValueError(
                f"Expected `{name}` to have full column rank after centering, but it has "
                f"{reason}: every canonical correlation would be trivially 1. Pass "
                "`regularization` > 0 (ridge CCA) or use svcca(), which keeps only directions "
                "that carry variance."
            )
    inv_sqrt = (eigvecs / np.sqrt(np.maximum(eigvals, _RANK_TOL * top))) @ eigvecs.T
    return inv_sqrt, eigvals


def _cca_from_grams(
    c_aa: np.ndarray, c_bb: np.ndarray, c_ab: np.ndarray, reg: float, n: int
) -> tuple[np.ndarray, np.ndarray]:
    """(canonical correlations, descending; coefficients (d_a, m) of a's canonical variates)."""
    w_a, _ = _whitener(c_aa, reg, "a", n)
    w_b, _ = _whitener(c_bb, reg, "b", n)
    u, rho, _ = np.linalg.svd(w_a @ c_ab @ w_b, full_matrices=False)
    return np.clip(rho, 0.0, 1.0), w_a @ u


def _check_reg(regularization: float) -> float:
    return check_float(regularization, "regularization", low=0.0)


def canonical_correlations(a: Array, b: Array, *, regularization: float = 0.0) -> np.ndarray:
    """All canonical correlations between two paired spaces, largest first.

    Args:
        a: (n_samples, d_a) first space (numpy, torch or any array-API array).
        b: (n_samples, d_b) second space; row i of both is sample i.
        regularization: ridge strength ``r >= 0`` relative to each covariance's mean
            eigenvalue; needed when a space is rank-deficient or ``n_samples - 1 <= d``.

    Returns:
        (min(d_a, d_b),) float64 numpy array of correlations in [0, 1].

    Raises:
        ValueError: rank-deficient or constant input without regularisation, or bad shapes.

    Example:
        >>> import numpy as np
        >>> x = np.random.default_rng(0).normal(size=(200, 3))
        >>> np.round(canonical_correlations(x, x @ np.diag([1.0, 2.0, -3.0]) + 5.0), 10)
        array([1., 1., 1.])
    """
    reg = _check_reg(regularization)
    c_aa, c_bb, c_ab, n = _grams(a, b)
    return _cca_from_grams(c_aa, c_bb, c_ab, reg, n)[0]


def cca(a: Array, b: Array, *, regularization: float = 0.0) -> float:
    """Mean canonical correlation (similarity in [0, 1]; invariant to invertible linear maps).

    Args:
        a: (n_samples, d_a) first space.
        b: (n_samples, d_b) second space; row i of both is sample i.
        regularization: ridge strength (see :func:`canonical_correlations`).

    Returns:
        The mean of the ``min(d_a, d_b)`` canonical correlations.

    Example:
        >>> import numpy as np
        >>> rng = np.random.default_rng(0)
        >>> x = rng.normal(size=(500, 4))
        >>> round(cca(x, x @ rng.normal(size=(4, 4))), 8)
        1.0
    """
    return float(np.mean(canonical_correlations(a, b, regularization=regularization)))


def _top_directions(cov: np.ndarray, keep: float | int, name: str) -> np.ndarray:
    """(d, r) eigenvectors scaled by 1/sqrt(eigenvalue) for the kept top-variance directions."""
    eigvals, eigvecs = np.linalg.eigh(cov)
    eigvals, eigvecs = eigvals[::-1], eigvecs[:, ::-1]
    top = float(eigvals[0])
    if top <= 0.0:
        raise ValueError(
            f"Expected `{name}` to vary across samples, but it is constant after centering."
        )
    usable = int(np.sum(eigvals > _RANK_TOL * top))
    if isinstance(keep, numbers.Integral):
        if keep > usable:
            raise ValueError(
                f"Expected `keep` to be at most the rank of `{name}` ({usable}), but got {keep}."
            )
        r = int(keep)
    else:
        share = np.cumsum(eigvals[:usable]) / np.sum(eigvals[:usable])
        r = int(np.searchsorted(share, keep - 1e-12) + 1)
        r = min(r, usable)
    return eigvecs[:, :r] / np.sqrt(eigvals[:r])


def svcca(a: Array, b: Array, *, keep: float | int = 0.99) -> float:
    """SVCCA: mean canonical correlation of the top singular directions of each space.

    Args:
        a: (n_samples, d_a) first space.
        b: (n_samples, d_b) second space; row i of both is sample i.
        keep: a float in (0, 1] keeps the fewest top directions explaining that share of each
            space's variance; an int keeps that many directions.

    Returns:
        Similarity in [0, 1] (symmetric; invariant to orthogonal maps, scaling, translation).

    Raises:
        ValueError: when the kept directions leave no degrees of freedom
            (``n_samples - 1 <= kept``), for a constant space, or bad ``keep``.

    Example:
        >>> import numpy as np
        >>> x = np.random.default_rng(0).normal(size=(300, 6))
        >>> round(svcca(x, 3.0 * x[:, ::-1] + 1.0), 8)
        1.0
    """
    if isinstance(keep, bool) or not isinstance(keep, numbers.Real):
        raise fail("keep", "a float in (0, 1] or an int >= 1", repr(keep), TypeError)
    if isinstance(keep, numbers.Integral):
        keep = check_int(keep, "keep", low=1)
    else:
        keep = check_float(keep, "keep", low=0.0, high=1.0, low_inclusive=False)
    c_aa, c_bb, c_ab, n = _grams(a, b)
    p_a = _top_directions(c_aa, keep, "a")
    p_b = _top_directions(c_bb, keep, "b")
    kept = max(p_a.shape[1], p_b.shape[1])
    if kept >= n - 1:
        raise ValueError(
            f"Expected more samples than kept directions, but {n} samples and {kept} kept "
            "directions leave no degrees of freedom (every correlation would be 1). Lower `keep` "
            "or add samples."
        )
    # In the whitened top-direction coordinates both covariances are the identity.
    rho = np.linalg.svd(p_a.T @ c_ab @ p_b, compute_uv=False)
    return float(np.mean(np.clip(rho, 0.0, 1.0)))


def pwcca(a: Array, b: Array, *, regularization: float = 0.0) -> float:
    """Projection-weighted CCA (Morcos et al. 2018): correlations weighted by ``a``'s variates.

    Weight of canonical variate ``h_i = a_c w_i`` (unit variance): ``sum_j |<h_i, a_c[:, j]>|``,
    normalised to sum to 1. The weights come from ``a`` only, so ``pwcca(a, b) != pwcca(b, a)``.

    Args:
        a: (n_samples, d_a) the space whose variates weight the correlations.
        b: (n_samples, d_b) second space; row i of both is sample i.
        regularization: ridge strength (see :func:`canonical_correlations`).

    Returns:
        Similarity in [0, 1].

    Example:
        >>> import numpy as np
        >>> x = np.random.default_rng(0).normal(size=(300, 4))
        >>> round(pwcca(x, x @ np.diag([1.0, -2.0, 0.5, 3.0])), 8)
        1.0
    """
    reg = _check_reg(regularization)
    c_aa, c_bb, c_ab, n = _grams(a, b)
    rho, coef = _cca_from_grams(c_aa, c_bb, c_ab, reg, n)
    weights = np.abs(c_aa @ coef).sum(axis=0)
    return float(weights @ rho / weights.sum())
