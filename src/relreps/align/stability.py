"""Is the fitted map reproducible? The restart-stability check of an alignment.

The structural score (:mod:`relreps.align.consistency`) asks whether matched items are arranged
alike. On class-clustered spaces a wrong map keeps that arrangement: one that sends each cluster
to *some* cluster, or matches items within the right cluster at random, scored 0.87-0.94 on the
Fashion-MNIST zoo with held-out top-1 0.02-0.09 (docs/alignment.md). Such maps are not forced by
the data: they depend on which rows the alignment saw and where it started. A right map is.

So an alignment that passes its structural check is **run again** on an independent random
subsample (:func:`restart_rows`: each space keeps a seeded random ``fraction`` of its rows,
drawn independently for X and Y, plus the rows of the given pairs; the restart uses its own
seed for every sample), and the two fitted maps are compared on X rows (:func:`map_agreement`):

- ``agreement``: the share of ``n_rows`` sampled X rows, anchors of neither run where enough
  such rows exist, whose nearest neighbour among ALL rows of Y (cosine, centred on Y's mean)
  is the same row under both maps;
- ``null``: the same share with the second map's neighbours permuted across the sampled rows
  (what two unrelated maps with these neighbour frequencies agree on; hubs raise it).

It passes when ``agreement >= threshold`` (default :data:`DEFAULT_AGREEMENT` = 0.3) and
``agreement - null >= margin`` (default :data:`DEFAULT_STABILITY_MARGIN` = 0.1). Two maps that
both pass the structural check and disagree mean the data do not determine the map: failed.
When the restart's own map fails the structural check (the restart found no alignment: a GW
guess on 90% of each space can miss where the full one did not, e.g. a GloVe copy with noise as
large as the signal), the restart is **inconclusive** (``conclusive=False``) and the first run's
structural verdict stands. The pass mark
sits between what was measured (docs/alignment.md: the experiment's quick run, and GloVe-EN vs
fastText-FR): right maps agreed on 0.78-0.99 of the rows, the wrong maps that passed the
structural check on 0.02-0.16, permutation nulls 0.000-0.017.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from relreps._validation import check_float, check_int

__all__ = [
    "DEFAULT_AGREEMENT",
    "DEFAULT_STABILITY_MARGIN",
    "RESTART_FRACTION",
    "STABILITY_ROWS",
    "Stability",
    "judge_stability",
    "map_agreement",
    "restart_rows",
    "restart_seed",
]

#: Pass mark of the agreement of the two maps (module docstring).
DEFAULT_AGREEMENT = 0.3
#: Least lead of the agreement over its permutation null.
DEFAULT_STABILITY_MARGIN = 0.1
#: Share of each space's rows the restart sees.
RESTART_FRACTION = 0.9
#: X rows on which the two maps are compared.
STABILITY_ROWS = 1000
# The restart's seed stream, apart from the first run's (whose seed is the caller's).
_RESTART_STREAM = 0x72657374
_EPS = 1e-12
_BLOCK = 1024
_MIN_HELD_OUT = 50


@dataclass(frozen=True)
class Stability:
    """The restart stability of one alignment.

    Attributes:
        agreement: share of compared X rows whose nearest Y row is the same under both maps.
        threshold: the pass mark of ``agreement``.
        null_agreement: the agreement with the second map's neighbours permuted across rows.
        margin: how far above ``null_agreement`` the agreement must be.
        passed: ``agreement >= threshold`` and ``agreement - null_agreement >= margin``.
        n_rows: X rows compared.
        held_out: True when the compared rows were anchors of neither run.
        fraction: share of each space's rows the restart saw.
        restart_method: what the restart ran (the first run's winning method).
        seconds: time of the restart and the comparison.
        restart_score: the structural score of the restart's own map.
        conclusive: False when the restart's map failed its own structural check: the restart
            found no alignment at all, which says nothing about the first map, and the
            structural verdict stands (``passed`` is True).
    """

    agreement: float
    threshold: float
    null_agreement: float
    margin: float
    passed: bool
    n_rows: int
    held_out: bool
    fraction: float
    restart_method: str
    seconds: float
    restart_score: float = float("nan")
    conclusive: bool = True

    def to_dict(self) -> dict[str, Any]:
        """Plain-dict view (JSON-ready)."""
        return asdict(self)


def restart_seed(seed: int) -> int:
    """The seed of the restart of an alignment run with ``seed`` (its own stream)."""
    return int(
        np.random.default_rng([check_int(seed, "seed", low=0), _RESTART_STREAM]).integers(2**31)
    )


def restart_rows(
    n_x: int, n_y: int, fixed: Any, *, fraction: float = RESTART_FRACTION, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """Rows of X and of Y the restart sees: independent seeded random subsets.

    Args:
        n_x: rows of X.
        n_y: rows of Y.
        fixed: (m, 2) int given pairs; their rows are always kept.
        fraction: share of each space's rows drawn, in (0, 1].
        seed: seed of the draws.

    Returns:
        ``(rows_x, rows_y)``: sorted int64 row indices (at least 3 rows each).

    Example:
        >>> rx, ry = restart_rows(100, 50, [[0, 0], [99, 49]], fraction=0.5, seed=1)
        >>> rx.size, ry.size, bool(0 in rx and 99 in rx and 49 in ry)
        (51, 26, True)
    """
    n_x = check_int(n_x, "n_x", low=3)
    n_y = check_int(n_y, "n_y", low=3)
    fraction = check_float(fraction, "fraction", low=0.0, high=1.0, low_inclusive=False)
    pairs = np.asarray(fixed, dtype=np.int64).reshape(-1, 2)
    rng = np.random.default_rng(check_int(seed, "seed", low=0))
    out = []
    for n, given in ((n_x, pairs[:, 0]), (n_y, pairs[:, 1])):
        keep = np.zeros(n, dtype=bool)
        keep[rng.permutation(n)[: max(3, round(fraction * n))]] = True
        keep[given] = True
        out.append(np.flatnonzero(keep).astype(np.int64))
    return out[0], out[1]


def _nearest(queries: np.ndarray, y_columns: np.ndarray) -> np.ndarray:
    q = queries / np.maximum(np.linalg.norm(queries, axis=1, keepdims=True), _EPS)
    q = q.astype(np.float32)
    out = np.empty(q.shape[0], dtype=np.int64)
    for start in range(0, q.shape[0], _BLOCK):
        out[start : start + _BLOCK] = np.argmax(q[start : start + _BLOCK] @ y_columns, axis=1)
    return out


def map_agreement(
    x: Any,
    first: Any,
    second: Any,
    y_columns: np.ndarray,
    y_mean: np.ndarray,
    *,
    exclude: Any = (),
    n_rows: int = STABILITY_ROWS,
    seed: int = 0,
) -> tuple[float, float, int, bool]:
    """Agreement of two maps X -> Y on sampled X rows, and its permutation null.

    Args:
        x: (n_x, d_x) space X.
        first: a fitted map (``transform``: (n, d_x) -> (n, d_y)).
        second: another fitted map.
        y_columns: Y centred on ``y_mean``, unit rows, as (d_y, n_y) float32 columns.
        y_mean: (d_y,) mean of Y.
        exclude: X rows not to compare on (anchors of either run) when at least 50 others exist.
        n_rows: X rows compared (a seeded sample).
        seed: seed of the sample and of the null's permutation.

    Returns:
        ``(agreement, null_agreement, n_compared, held_out)``.

    Example:
        >>> import numpy as np
        >>> from relreps.align.check import _mean, _unit_columns_of
        >>> from relreps.translate import Procrustes
        >>> rng = np.random.default_rng(0)
        >>> x = rng.normal(size=(500, 8))
        >>> t = Procrustes().fit(x, x)
        >>> a, null, n, held = map_agreement(x, t, t, _unit_columns_of(x, _mean(x)), _mean(x))
        >>> a, bool(null < 0.1), n, held
        (1.0, True, 500, True)
    """
    n_rows = check_int(n_rows, "n_rows", low=3)
    rng = np.random.default_rng(check_int(seed, "seed", low=0))
    n_x = int(x.shape[0])
    candidates = np.setdiff1d(np.arange(n_x), np.asarray(exclude, dtype=np.int64).ravel())
    held_out = candidates.size >= _MIN_HELD_OUT
    if not held_out:
        candidates = np.arange(n_x)
    rows = np.sort(rng.permutation(candidates)[: min(n_rows, candidates.size)])
    xs = np.asarray(x[rows], dtype=np.float64)
    a = _nearest(np.asarray(first.transform(xs), dtype=np.float64) - y_mean, y_columns)
    b = _nearest(np.asarray(second.transform(xs), dtype=np.float64) - y_mean, y_columns)
    null = float(np.mean(a == b[rng.permutation(rows.size)]))
    return float(np.mean(a == b)), null, int(rows.size), bool(held_out)


def judge_stability(
    agreement: float,
    null: float,
    *,
    threshold: float,
    margin: float = DEFAULT_STABILITY_MARGIN,
    n_rows: int,
    held_out: bool,
    fraction: float,
    restart_method: str,
    seconds: float,
    restart_score: float = float("nan"),
    conclusive: bool = True,
) -> Stability:
    """The :class:`Stability` of a measured agreement (pass rule of the module docstring)."""
    agrees = bool(agreement >= threshold and agreement - null >= margin)
    return Stability(float(agreement), float(threshold), float(null), float(margin),
                     agrees or not conclusive, int(n_rows), bool(held_out), float(fraction),
                     restart_method, round(float(seconds), 3), float(restart_score),
                     bool(conclusive))  # fmt: skip
