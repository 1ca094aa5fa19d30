"""Centered kernel alignment (CKA; Kornblith et al. 2019) and its debiased estimator.

``CKA(K, L) = HSIC(K, L) / sqrt(HSIC(K, K) * HSIC(L, L))`` for the Gram matrices ``K`` of ``a``
and ``L`` of ``b``. Two HSIC estimators:

- biased: ``tr(K H L H)`` with ``H`` the centering matrix (the common CKA);
- debiased (Song et al. 2012; Nguyen et al. 2021): the unbiased U-statistic, with ``K`` and ``L``
  given zero diagonals; removes the upward bias of CKA when ``n`` is small relative to the
  dimension. Needs ``n >= 4``; can be slightly negative for unrelated spaces.

Costs (never an ``n x n`` centering matrix):

- linear kernel: computed from the feature-space Gram matrices ``a^T a``, ``b^T b``, ``b^T a`` of
  the centered features, ``O(n (d_a + d_b)^2)`` time and ``O((d_a + d_b)^2)`` memory; when ``n`` is
  smaller than the dimensions the ``n x n`` Gram matrices are used instead (cheaper there).
- RBF kernel: ``O(n^2 (d_a + d_b))`` time, unavoidable for a non-linear kernel, computed in row
  blocks so memory stays ``O(chunk_size * n)``.

The centering identities used: with column-centered features ``x``, ``H K H = x x^T`` for the linear
kernel, and in general ``tr(K H L H) = sum(K * L) - 2/n (K 1).(L 1) + (1'K1)(1'L1)/n^2``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
from array_api_compat import is_dask_array

from relreps._array import (
    Array,
    default_float,
    device_of,
    is_floating,
    namespace,
    row_norms,
    to_numpy,
)
from relreps._validation import (
    check_choice,
    check_float,
    check_int,
    check_matrix,
    check_paired,
    renamed_keyword,
)

__all__ = ["cka", "hsic"]

Kernel = Literal["linear", "rbf"]

_FEATURE_BLOCK_ROWS = 16384
_KERNEL_BLOCK_BYTES = 32 * 2**20
_MEDIAN_ROWS = 2000


@dataclass(frozen=True)
class _KernelStats:
    """Sufficient statistics of one Gram matrix pair for both HSIC estimators (float64)."""

    s_kl: float  # sum(K * L)
    s_kk: float
    s_ll: float
    r_k: np.ndarray  # K @ 1
    r_l: np.ndarray
    d_k: np.ndarray  # diag(K)
    d_l: np.ndarray


def cka(
    a: Array,
    b: Array,
    *,
    kernel: Kernel = "linear",
    debiased: bool = False,
    sigma: float | None = None,
    chunk_size: int | None = None,
    block_size: int | None = None,
) -> float:
    """Centered kernel alignment between two paired spaces.

    Args:
        a: (n_samples, d_a) first space (numpy, torch or any array-API array).
        b: (n_samples, d_b) second space; row i of both is sample i (dims may differ).
        kernel: ``"linear"`` or ``"rbf"`` (``exp(-|x - y|^2 / (2 sigma^2))``).
        debiased: use the unbiased HSIC estimator (needs ``n_samples >= 4``).
        sigma: RBF bandwidth used for both spaces; default: per space, the square root of the
            median squared pairwise distance (over at most 2,000 evenly spaced rows, exact below).
        chunk_size: rows per block (memory knob; RBF and small-``n`` linear paths).
        block_size: deprecated alias of ``chunk_size`` (``DeprecationWarning``).

    Returns:
        Similarity, 1 for spaces equal up to an orthogonal map, scaling and translation (linear);
        in [0, 1] for the biased estimator.

    Raises:
        ValueError: different ``n_samples``, fewer than 2 (4 when debiased) samples, NaN/Inf, or
            a space with zero variance (CKA is undefined for a constant space).

    Example:
        >>> import numpy as np
        >>> x = np.random.default_rng(0).normal(size=(100, 5))
        >>> q, _ = np.linalg.qr(np.random.default_rng(1).normal(size=(5, 5)))
        >>> round(cka(x, 2.0 * x @ q + 1.0), 12)
        1.0
        >>> round(cka(x, x, kernel="rbf", debiased=True), 12)
        1.0
    """
    chunk_size = renamed_keyword(
        chunk_size, block_size, new="chunk_size", old="block_size", where="cka"
    )
    if is_dask_array(a) or is_dask_array(b):  # lazy blockwise version (linear kernel)
        from relreps.metrics import dask_ops

        return dask_ops.cka(a, b, kernel=kernel, debiased=debiased, sigma=sigma,
                         chunk_size=chunk_size)  # fmt: skip
    kernel = check_choice(kernel, "kernel", ("linear", "rbf"))
    if not isinstance(debiased, bool):
        raise TypeError(f"Expected `debiased` to be a bool, but got {debiased!r}.")
    stats = _stats(a, b, kernel, debiased, sigma, chunk_size)
    n = stats.r_k.shape[0]
    num = _hsic(stats.s_kl, stats.r_k, stats.r_l, stats.d_k, stats.d_l, n, debiased)
    den_a = _hsic(stats.s_kk, stats.r_k, stats.r_k, stats.d_k, stats.d_k, n, debiased)
    den_b = _hsic(stats.s_ll, stats.r_l, stats.r_l, stats.d_l, stats.d_l, n, debiased)
    for name, value in (("a", den_a), ("b", den_b)):
        if not value > 0.0:
            raise ValueError(
                f"Expected `{name}` to vary across samples, but its HSIC with itself is "
                f"{value:.3g}: the space is constant (or, debiased, too small to estimate); "
                "CKA is undefined."
            )
    return float(num / math.sqrt(den_a * den_b))


def hsic(
    a: Array,
    b: Array,
    *,
    kernel: Kernel = "linear",
    debiased: bool = False,
    sigma: float | None = None,
    chunk_size: int | None = None,
) -> float:
    """Hilbert-Schmidt independence criterion between two paired spaces.

    The biased estimator is ``tr(K H L H) / (n - 1)^2``; the debiased one is the U-statistic of
    Song et al. (2012). Arguments as in :func:`cka`.

    Returns:
        The HSIC estimate (not normalised; depends on the scale of the inputs).

    Example:
        >>> import numpy as np
        >>> x = np.arange(8.0).reshape(4, 2)
        >>> round(hsic(x, x), 6)  # ||x_c^T x_c||_F^2 / (n - 1)^2
        177.777778
    """
    kernel = check_choice(kernel, "kernel", ("linear", "rbf"))
    stats = _stats(a, b, kernel, debiased, sigma, chunk_size)
    n = stats.r_k.shape[0]
    return _hsic(stats.s_kl, stats.r_k, stats.r_l, stats.d_k, stats.d_l, n, debiased)


def _hsic(
    s_kl: float,
    r_k: np.ndarray,
    r_l: np.ndarray,
    d_k: np.ndarray,
    d_l: np.ndarray,
    n: int,
    debiased: bool,
) -> float:
    if not debiased:
        value = s_kl - 2.0 / n * float(r_k @ r_l) + float(r_k.sum()) * float(r_l.sum()) / n**2
        return value / (n - 1) ** 2
    # Zero-diagonal matrices K~, L~ from the full-matrix statistics.
    trace = s_kl - float(d_k @ d_l)
    sum_k = float(r_k.sum() - d_k.sum())
    sum_l = float(r_l.sum() - d_l.sum())
    cross = float((r_k - d_k) @ (r_l - d_l))
    value = trace + sum_k * sum_l / ((n - 1) * (n - 2)) - 2.0 / (n - 2) * cross
    return value / (n * (n - 3))


def _stats(
    a: Array,
    b: Array,
    kernel: str,
    debiased: bool,
    sigma: float | None,
    chunk_size: int | None,
) -> _KernelStats:
    if not isinstance(debiased, bool):
        raise TypeError(f"Expected `debiased` to be a bool, but got {debiased!r}.")
    min_rows = 4 if debiased else 2
    a = check_matrix(a, "a", min_rows=min_rows)
    b = check_matrix(b, "b", min_rows=min_rows)
    check_paired(a, "a", b, "b")
    xp = namespace(a=a, b=b)
    if sigma is not None:
        sigma = check_float(sigma, "sigma", low=0.0, low_inclusive=False)
    if chunk_size is not None:
        chunk_size = check_int(chunk_size, "chunk_size", low=1)
    dtype = _work_dtype(xp, a, b)
    n, d_a, d_b = a.shape[0], a.shape[1], b.shape[1]
    if kernel == "linear" and n * (d_a + d_b) >= d_a * d_a + d_b * d_b + d_a * d_b:
        return _linear_feature_stats(a, b, xp, chunk_size)
    a_c = _centered(a, xp, dtype)
    b_c = _centered(b, xp, dtype)
    if kernel == "linear":
        return _blocked_stats(a_c, b_c, xp, _linear_rows, _linear_rows, chunk_size)
    gamma_a = _rbf_gamma(a_c, xp, sigma, "a")
    gamma_b = _rbf_gamma(b_c, xp, sigma, "b")
    return _blocked_stats(
        a_c, b_c, xp, _rbf_rows_fn(gamma_a, xp), _rbf_rows_fn(gamma_b, xp), chunk_size
    )


def _work_dtype(xp: Any, a: Array, b: Array) -> Any:
    """float32 inputs stay float32 in the matrix products (accumulated in float64)."""
    floats = [x.dtype for x in (a, b) if is_floating(xp, x.dtype)]
    if floats and all(dt == xp.float32 for dt in floats) and len(floats) == 2:
        return xp.float32
    return xp.float64 if hasattr(xp, "float64") else default_float(xp)


def _column_mean(x: Array, xp: Any, dtype: Any) -> Array:
    """Column means of ``x`` in ``dtype``, accumulated in float64 block by block."""
    total = None
    for start in range(0, x.shape[0], _FEATURE_BLOCK_ROWS):
        stop = min(start + _FEATURE_BLOCK_ROWS, x.shape[0])
        part = xp.sum(x[start:stop, ...], axis=0, dtype=xp.float64)
        total = part if total is None else total + part
    return xp.astype(total / x.shape[0], dtype)


def _centered(x: Array, xp: Any, dtype: Any) -> Array:
    return xp.astype(x, dtype, copy=False) - _column_mean(x, xp, dtype)[None, :]


def _to_host64(x: Array) -> np.ndarray:
    return np.asarray(to_numpy(x), dtype=np.float64)


def feature_grams(
    a: Array, b: Array, xp: Any, chunk_size: int | None = None
) -> tuple[Array, Array, Array, np.ndarray, np.ndarray]:
    """Gram matrices of the column-centered features, without a centered copy of the input.

    Returns ``(a_c^T a_c, b_c^T b_c, b_c^T a_c)`` (float64 arrays of ``xp``) and the squared row
    norms of ``a_c`` and ``b_c`` (float64 numpy). Products run in float32 for float32 inputs and
    are accumulated in float64, one block of rows at a time.
    """
    dtype = _work_dtype(xp, a, b)
    rows = chunk_size or _FEATURE_BLOCK_ROWS
    n = a.shape[0]
    mean_a = _column_mean(a, xp, dtype)
    mean_b = _column_mean(b, xp, dtype)
    g_aa = g_bb = g_ba = None
    d_k, d_l = [], []
    for start in range(0, n, rows):
        stop = min(start + rows, n)
        xa = xp.astype(a[start:stop, ...], dtype, copy=False) - mean_a[None, :]
        xb = xp.astype(b[start:stop, ...], dtype, copy=False) - mean_b[None, :]
        # ``x.T @ x`` lets numpy call the symmetric rank-k update (half the work of a product).
        parts = (
            xp.astype(xp.matmul(xp.matrix_transpose(xa), xa), xp.float64),
            xp.astype(xp.matmul(xp.matrix_transpose(xb), xb), xp.float64),
            xp.astype(xp.matmul(xp.matrix_transpose(xb), xa), xp.float64),
        )
        if g_aa is None:
            g_aa, g_bb, g_ba = parts
        else:
            g_aa, g_bb, g_ba = g_aa + parts[0], g_bb + parts[1], g_ba + parts[2]
        d_k.append(_to_host64(row_norms(xa, xp)) ** 2)
        d_l.append(_to_host64(row_norms(xb, xp)) ** 2)
    return g_aa, g_bb, g_ba, np.concatenate(d_k), np.concatenate(d_l)


def _linear_feature_stats(a: Array, b: Array, xp: Any, chunk_size: int | None) -> _KernelStats:
    """Linear-kernel statistics from the d x d feature Gram matrices of centered features."""
    g_aa, g_bb, g_ba, d_k, d_l = feature_grams(a, b, xp, chunk_size)
    zeros = np.zeros(a.shape[0])  # K 1 = x (x^T 1) = 0 for centered features
    return _KernelStats(
        s_kl=float(xp.sum(g_ba * g_ba)),
        s_kk=float(xp.sum(g_aa * g_aa)),
        s_ll=float(xp.sum(g_bb * g_bb)),
        r_k=zeros,
        r_l=zeros,
        d_k=d_k,
        d_l=d_l,
    )


def _linear_rows(x: Array, start: int, stop: int, sq_norms: Array, xp: Any) -> Array:
    return xp.matmul(x[start:stop, ...], xp.matrix_transpose(x))


def _rbf_rows_fn(gamma: float, xp: Any) -> Any:
    def rows(x: Array, start: int, stop: int, sq_norms: Array, xp: Any) -> Array:
        inner = xp.matmul(x[start:stop, ...], xp.matrix_transpose(x))
        sq = xp.clip(sq_norms[start:stop, None] + sq_norms[None, :] - 2.0 * inner, min=0.0)
        return xp.exp(-gamma * sq)

    return rows


def _blocked_stats(
    a_c: Array, b_c: Array, xp: Any, rows_a: Any, rows_b: Any, chunk_size: int | None
) -> _KernelStats:
    """Statistics of n x n Gram matrices computed ``chunk_size`` rows at a time."""
    n = a_c.shape[0]
    block = chunk_size or max(1, _KERNEL_BLOCK_BYTES // (8 * n))
    sq_a = row_norms(a_c, xp) ** 2
    sq_b = row_norms(b_c, xp) ** 2
    s_kl = s_kk = s_ll = 0.0
    r_k, r_l, d_k, d_l = [], [], [], []
    for start in range(0, n, block):
        stop = min(start + block, n)
        k_rows = xp.astype(rows_a(a_c, start, stop, sq_a, xp), xp.float64)
        l_rows = xp.astype(rows_b(b_c, start, stop, sq_b, xp), xp.float64)
        s_kl += float(xp.sum(k_rows * l_rows))
        s_kk += float(xp.sum(k_rows * k_rows))
        s_ll += float(xp.sum(l_rows * l_rows))
        r_k.append(_to_host64(xp.sum(k_rows, axis=1)))
        r_l.append(_to_host64(xp.sum(l_rows, axis=1)))
        # Flat positions of the diagonal entries (i, i) that fall in this block of rows.
        diag = xp.arange(stop - start, device=device_of(k_rows)) * (n + 1) + start
        d_k.append(_to_host64(xp.take(xp.reshape(k_rows, (-1,)), diag)))
        d_l.append(_to_host64(xp.take(xp.reshape(l_rows, (-1,)), diag)))
    return _KernelStats(
        s_kl, s_kk, s_ll, np.concatenate(r_k), np.concatenate(r_l), np.concatenate(d_k),
        np.concatenate(d_l),
    )  # fmt: skip


def _rbf_gamma(x_c: Array, xp: Any, sigma: float | None, name: str) -> float:
    """``1 / (2 sigma^2)``; sigma from the median heuristic when not given."""
    if sigma is None:
        sigma = _median_distance(x_c, xp)
        if sigma == 0.0:
            raise ValueError(
                f"Expected `{name}` to have distinct rows for the RBF median heuristic, but the "
                "median pairwise distance is 0; pass `sigma` explicitly."
            )
    return 1.0 / (2.0 * sigma * sigma)


def _median_distance(x_c: Array, xp: Any) -> float:
    """sqrt of the median squared distance between distinct rows (evenly spaced subset)."""
    n = x_c.shape[0]
    picks = np.unique(np.linspace(0, n - 1, num=min(n, _MEDIAN_ROWS)).round().astype(np.int64))
    sub = _to_host64(x_c)[picks] if n > _MEDIAN_ROWS else _to_host64(x_c)
    sq = np.einsum("ij,ij->i", sub, sub)
    dist = np.clip(sq[:, None] + sq[None, :] - 2.0 * sub @ sub.T, 0.0, None)
    upper = dist[np.triu_indices(sub.shape[0], k=1)]
    return math.sqrt(float(np.median(upper)))
