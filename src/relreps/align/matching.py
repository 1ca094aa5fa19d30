"""Match the rows of two sets of vectors that live in one common space.

Two matchers, both returning :class:`Matches` (pairs with confidences):

- :func:`mutual_matches`: mutual nearest neighbours under CSLS (cross-domain similarity local
  scaling, Conneau et al. 2018). For ``a_i`` and ``b_j``::

      csls(i, j) = 2 cos(a_i, b_j) - r_b(a_i) - r_a(b_j)

  where ``r_b(a_i)`` is the mean cosine of ``a_i`` to its ``k`` nearest rows of ``b`` (and
  ``r_a(b_j)`` the same the other way). The correction penalises *hubs* (rows that are near
  everything), the main failure of plain nearest neighbours in high dimension. ``(i, j)`` is
  kept when ``j`` is ``i``'s best CSLS match and ``i`` is ``j``'s. The search is exact and
  blocked, never an ``n_a x n_b`` matrix: two passes over row blocks of the cosines, the first
  for both hubness terms, the second for both directions' best matches (half the matrix
  products of four separate nearest-neighbour searches).
- :func:`ot_matches`: the entropic optimal-transport plan between the two sets (POT's
  Sinkhorn, uniform weights, cost ``1 - cos``); ``(i, j)`` is kept when the plan's largest
  entry of row ``i`` is in column ``j`` and vice versa. The plan is dense, so this matcher is
  for samples (``max_rows``).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np

from relreps._array import to_numpy
from relreps._validation import check_float, check_int, check_matrix, check_same_features, fail

__all__ = ["Matches", "mutual_matches", "ot_matches"]

_EPS = 1e-12


@dataclass(frozen=True, eq=False)
class Matches:
    """Matched rows of two sets, most confident first.

    Attributes:
        x_rows: (n_matches,) int64 rows of the first set.
        y_rows: (n_matches,) int64 rows of the second set.
        scores: (n_matches,) float64 confidence of each match, higher = surer (CSLS score for
            :func:`mutual_matches`, the plan's mass times ``n_a`` for :func:`ot_matches`).
        margins: (n_matches,) float64 best minus second-best score of the row of ``x_rows``
            (>= 0; large = unambiguous).
        n_x, n_y: sizes of the two sets that were matched.
        method: ``"csls"`` or ``"ot"``.
    """

    x_rows: np.ndarray
    y_rows: np.ndarray
    scores: np.ndarray
    margins: np.ndarray
    n_x: int
    n_y: int
    method: str

    def __len__(self) -> int:
        return int(self.x_rows.shape[0])

    @property
    def pairs(self) -> np.ndarray:
        """(n_matches, 2) int64 array of ``(x_row, y_row)``."""
        return np.stack([self.x_rows, self.y_rows], axis=1)

    @property
    def match_rate(self) -> float:
        """Share of the smaller set that found a mutual match."""
        return len(self) / max(1, min(self.n_x, self.n_y))

    def take(self, rows: np.ndarray) -> Matches:
        """The matches at positions ``rows`` (order kept)."""
        return Matches(
            self.x_rows[rows],
            self.y_rows[rows],
            self.scores[rows],
            self.margins[rows],
            self.n_x,
            self.n_y,
            self.method,
        )


def _unit(x: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    return x / np.maximum(norms, _EPS)


def _inputs(a: Any, b: Any) -> tuple[np.ndarray, np.ndarray]:
    a = check_matrix(a, "a", shape_doc="(n_a, n_features)")
    b = check_matrix(b, "b", shape_doc="(n_b, n_features)")
    check_same_features(a, "a", b, "b")
    # float32: the scores only rank candidates, and the search runs twice as fast.
    return to_numpy(a).astype(np.float32, copy=False), to_numpy(b).astype(np.float32, copy=False)


def _sorted(matches: Matches) -> Matches:
    order = np.lexsort((matches.x_rows, -matches.scores))
    return matches.take(order)


#: Score entries per block of :func:`_mutual_csls` (float32: 64 MB per buffer).
_BLOCK_ENTRIES = 1 << 24


def _top_mean(values: np.ndarray, k: int, axis: int) -> np.ndarray:
    """Mean of the ``k`` largest entries along ``axis`` (float32, as the scores)."""
    n = values.shape[axis]
    top = values if k == n else np.partition(values, n - k, axis=axis)
    top = top[:, n - k :] if axis == 1 else top[n - k :]
    return np.mean(top, axis=axis)


def _mutual_csls(
    ua: np.ndarray, ub: np.ndarray, k: int, chunk_size: int | None
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Mutual CSLS matches of unit rows: two passes over row blocks of ``ua @ ub.T``.

    Pass 1 gathers ``r_b(a_i)`` (mean of row ``i``'s ``k`` best cosines) and ``r_a(b_j)`` (the
    same per column, kept as a running top-``k`` of each column); pass 2 recomputes each block
    once and takes every row's two best ``2 cos - r_a(b_j)`` (its CSLS ranking: ``r_b(a_i)``
    is a constant of the row) and every column's best ``2 cos - r_b(a_i)``. Ties go to the
    lower index, as in :func:`relreps.metrics.knn`. Memory: two blocks of
    ``chunk_size x n_b`` scores; the full ``n_a x n_b`` matrix is never held.
    """
    n_a, n_b = ua.shape[0], ub.shape[0]
    block = chunk_size or max(1, _BLOCK_ENTRIES // max(1, n_b))
    ub_t = np.ascontiguousarray(ub.T)
    scores = np.empty((min(block, n_a), n_b), dtype=np.float32)
    r_b_of_a = np.empty(n_a, dtype=np.float32)
    col_top = np.full((0, n_b), -np.inf, dtype=np.float32)
    for start in range(0, n_a, block):
        s = np.matmul(ua[start : start + block], ub_t, out=scores[: min(block, n_a - start)])
        r_b_of_a[start : start + s.shape[0]] = _top_mean(s, k, axis=1)
        part = s if s.shape[0] <= k else np.partition(s, s.shape[0] - k, axis=0)[-k:]
        col_top = np.concatenate([col_top, part])
        if col_top.shape[0] > k:
            col_top = np.partition(col_top, col_top.shape[0] - k, axis=0)[-k:]
    r_a_of_b = np.mean(col_top, axis=0)
    best = np.empty(n_a, dtype=np.int64)
    first = np.empty(n_a, dtype=np.float32)
    second = np.full(n_a, -np.inf, dtype=np.float32)
    col_best = np.zeros(n_b, dtype=np.int64)
    col_value = np.full(n_b, -np.inf, dtype=np.float32)
    other = np.empty_like(scores)
    for start in range(0, n_a, block):
        rows = slice(start, start + min(block, n_a - start))
        s = np.matmul(ua[rows], ub_t, out=scores[: rows.stop - start])
        s *= 2.0
        back = np.subtract(s, r_b_of_a[rows, None], out=other[: s.shape[0]])
        top_i = np.argmax(back, axis=0)
        top_v = back[top_i, np.arange(n_b)]
        better = top_v > col_value  # strict: an earlier (lower) row keeps a tie
        col_best[better], col_value[better] = top_i[better] + start, top_v[better]
        s -= r_a_of_b
        j = np.argmax(s, axis=1)
        here = np.arange(s.shape[0])
        best[rows], first[rows] = j, s[here, j]
        if n_b > 1:
            s[here, j] = -np.inf
            second[rows] = np.max(s, axis=1)
    x_rows = np.flatnonzero(col_best[best] == np.arange(n_a))
    y_rows = best[x_rows]
    top = first[x_rows].astype(np.float64)
    scores_out = top - r_b_of_a[x_rows].astype(np.float64)
    margins = top - second[x_rows].astype(np.float64) if n_b > 1 else np.zeros(x_rows.size)
    return x_rows, y_rows, scores_out, margins


def mutual_matches(a: Any, b: Any, *, k: int = 10, chunk_size: int | None = None) -> Matches:
    """Mutual nearest neighbours of ``a`` and ``b`` under CSLS (module docstring).

    Args:
        a: (n_a, n_features) vectors.
        b: (n_b, n_features) vectors in the same space (e.g. ``a`` translated into ``b``'s
            space, or both relative to parallel anchors).
        k: neighbourhood of the hubness correction, clipped to the set sizes; ``k >= 1``.
        chunk_size: query rows per block of the exact search (memory knob).

    Returns:
        :class:`Matches`, sorted by decreasing CSLS score (ties: lower ``x_row`` first).

    Example:
        >>> import numpy as np
        >>> rng = np.random.default_rng(0)
        >>> b = rng.normal(size=(50, 8))
        >>> m = mutual_matches(b[::-1] + 0.01 * rng.normal(size=(50, 8)), b)
        >>> len(m), bool(np.all(m.y_rows == 49 - m.x_rows))
        (50, True)
    """
    a_np, b_np = _inputs(a, b)
    k = min(check_int(k, "k", low=1), a_np.shape[0], b_np.shape[0])
    if chunk_size is not None:
        check_int(chunk_size, "chunk_size", low=1)
    x_rows, y_rows, scores, margins = _mutual_csls(_unit(a_np), _unit(b_np), k, chunk_size)
    return _sorted(
        Matches(
            x_rows.astype(np.int64),
            y_rows.astype(np.int64),
            scores.astype(np.float64),
            margins.astype(np.float64),
            int(a_np.shape[0]),
            int(b_np.shape[0]),
            "csls",
        )
    )


def ot_matches(
    a: Any, b: Any, *, reg: float = 0.02, max_rows: int = 5000, max_iter: int = 200
) -> Matches:
    """Mutual argmax matches of the entropic optimal-transport plan between ``a`` and ``b``.

    Uniform weights on both sets, cost ``1 - cos(a_i, b_j)`` divided by its maximum, POT's
    log-domain Sinkhorn with entropic regularisation ``reg``. The plan is a dense
    ``n_a x n_b`` matrix, hence ``max_rows``.

    Args:
        a: (n_a, n_features) vectors, ``n_a <= max_rows``.
        b: (n_b, n_features) vectors in the same space, ``n_b <= max_rows``.
        reg: entropic regularisation (> 0; smaller = sharper plan, slower convergence).
        max_rows: largest set accepted (memory ``8 n_a n_b`` bytes).
        max_iter: most Sinkhorn iterations (the argmax matches settle long before the plan
            converges to high precision).

    Returns:
        :class:`Matches` sorted by decreasing score; the score is the plan's mass on the pair
        times ``n_a`` (1.0 = the whole mass of row ``i`` sits on ``j``).

    Raises:
        ImportError: POT is not installed (``pip install 'relreps[align]'``).

    Example:
        >>> import numpy as np
        >>> rng = np.random.default_rng(0)
        >>> b = rng.normal(size=(40, 6))
        >>> m = ot_matches(b[::-1], b)
        >>> len(m), bool(np.all(m.y_rows == 39 - m.x_rows))
        (40, True)
    """
    ot = _pot()
    a_np, b_np = _inputs(a, b)
    reg = check_float(reg, "reg", low=0.0, low_inclusive=False)
    max_rows = check_int(max_rows, "max_rows", low=1)
    max_iter = check_int(max_iter, "max_iter", low=1)
    for name, arr in (("a", a_np), ("b", b_np)):
        if arr.shape[0] > max_rows:
            raise fail(
                name,
                f"at most max_rows={max_rows} rows (the plan is dense); sample it first",
                f"{arr.shape[0]} rows",
            )
    cost = 1.0 - (_unit(a_np) @ _unit(b_np).T).astype(np.float64)
    cost /= max(float(cost.max()), _EPS)
    n_a, n_b = cost.shape
    with warnings.catch_warnings():  # an unconverged plan is still a ranking of matches
        warnings.simplefilter("ignore", UserWarning)
        plan = ot.sinkhorn(
            np.full(n_a, 1.0 / n_a), np.full(n_b, 1.0 / n_b), cost, reg,
            method="sinkhorn_log", numItermax=max_iter,
        )  # fmt: skip
    plan = np.asarray(plan, dtype=np.float64)
    best = np.argmax(plan, axis=1)
    back = np.argmax(plan, axis=0)
    x_rows = np.flatnonzero(back[best] == np.arange(n_a))
    y_rows = best[x_rows]
    top2 = np.sort(plan[x_rows], axis=1)[:, -2:] if n_b > 1 else plan[x_rows][:, :1]
    scores = plan[x_rows, y_rows] * n_a
    margins = (top2[:, -1] - top2[:, 0]) * n_a if n_b > 1 else np.zeros(x_rows.size)
    return _sorted(
        Matches(x_rows.astype(np.int64), y_rows.astype(np.int64), scores, margins, n_a, n_b, "ot")
    )


def _pot() -> Any:
    try:
        import ot
    except ImportError as err:
        raise ImportError(
            "optimal transport needs POT: pip install 'relreps[align]' (or: pip install pot)"
        ) from err
    return ot
