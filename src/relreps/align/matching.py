"""Match the rows of two sets of vectors that live in one common space.

Two matchers, both returning :class:`Matches` (pairs with confidences):

- :func:`mutual_matches`: mutual nearest neighbours under CSLS (cross-domain similarity local
  scaling, Conneau et al. 2018). For ``a_i`` and ``b_j``::

      csls(i, j) = 2 cos(a_i, b_j) - r_b(a_i) - r_a(b_j)

  where ``r_b(a_i)`` is the mean cosine of ``a_i`` to its ``k`` nearest rows of ``b`` (and
  ``r_a(b_j)`` the same the other way). The correction penalises *hubs* (rows that are near
  everything), the main failure of plain nearest neighbours in high dimension. ``(i, j)`` is
  kept when ``j`` is ``i``'s best CSLS match and ``i`` is ``j``'s. The search is exact and
  blocked (:func:`relreps.metrics.knn` on augmented vectors), never an ``n_a x n_b`` matrix.
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


def mutual_matches(a: Any, b: Any, *, k: int = 10, block_size: int | None = None) -> Matches:
    """Mutual nearest neighbours of ``a`` and ``b`` under CSLS (module docstring).

    Args:
        a: (n_a, n_features) vectors.
        b: (n_b, n_features) vectors in the same space (e.g. ``a`` translated into ``b``'s
            space, or both relative to parallel anchors).
        k: neighbourhood of the hubness correction, clipped to the set sizes; ``k >= 1``.
        block_size: query rows per block of the exact search (memory knob).

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
    from relreps.metrics import knn

    a_np, b_np = _inputs(a, b)
    k = min(check_int(k, "k", low=1), a_np.shape[0], b_np.shape[0])
    ua, ub = _unit(a_np), _unit(b_np)
    r_b_of_a = np.mean(to_numpy(knn(ua, ub, k, metric="inner", block_size=block_size).scores), 1)
    r_a_of_b = np.mean(to_numpy(knn(ub, ua, k, metric="inner", block_size=block_size).scores), 1)
    ones_a = np.ones((ua.shape[0], 1), dtype=ua.dtype)
    ones_b = np.ones((ub.shape[0], 1), dtype=ub.dtype)
    # <[2u_a, -1], [u_b, r_a(b)]> = 2 cos - r_a(b_j): the CSLS ranking of row i (r_b(a_i) is a
    # constant of the row).
    n_fwd = min(2, ub.shape[0])
    fwd = knn(
        np.hstack([2.0 * ua, -ones_a]),
        np.hstack([ub, r_a_of_b[:, None].astype(ub.dtype)]),
        n_fwd,
        metric="inner",
        block_size=block_size,
    )
    bwd = knn(
        np.hstack([2.0 * ub, -ones_b]),
        np.hstack([ua, r_b_of_a[:, None].astype(ua.dtype)]),
        1,
        metric="inner",
        block_size=block_size,
    )
    f_idx, f_val = to_numpy(fwd.indices), to_numpy(fwd.scores).astype(np.float64)
    b_idx = to_numpy(bwd.indices)[:, 0]
    best = f_idx[:, 0]
    x_rows = np.flatnonzero(b_idx[best] == np.arange(a_np.shape[0]))
    y_rows = best[x_rows]
    scores = f_val[x_rows, 0] - r_b_of_a[x_rows]
    margins = (f_val[x_rows, 0] - f_val[x_rows, 1]) if n_fwd == 2 else np.zeros(x_rows.size)
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
