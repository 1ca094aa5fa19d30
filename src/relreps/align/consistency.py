"""Does an alignment hold together? The self-consistency score and its threshold.

A fitted map always produces matches: any rotation sends every X row *somewhere* in Y, and its
mutual nearest neighbours look like pairs. What separates a real alignment from a map between
unrelated spaces is whether the matched items are arranged alike **within** each space. The score
is the representational similarity of the matches (:func:`relreps.metrics.rsa`, Spearman, cosine
dissimilarities, each space centred on its own mean): for ``n_pairs`` matched pairs ``(i, j)``,
the rank correlation between the similarities among the ``x_i`` in X and among the ``y_j`` in Y.

- Near 1: the matched items have the same neighbourhood structure (two Word2Vec seeds: 0.98).
- Near 0: unrelated structure (two independent Gaussian clouds: 0.09-0.26 after the best map
  the refinement finds; anisotropic clouds and a Gaussian with GloVe's covariance reach 0.33-0.41,
  as the map aligns their dominant directions).

``threshold`` (default :data:`DEFAULT_THRESHOLD` = 0.5) sits above every null measured in
docs/alignment.md. In few dimensions any two clouds of points match well under *some* rotation
(two 6-d Gaussian clouds score 0.93), so the score is also compared with a **null**: the same
matching under a random orthogonal map (:func:`null_structure`). An alignment passes when its
score is at least ``threshold`` AND exceeds the null by at least ``margin`` (default
:data:`DEFAULT_MARGIN` = 0.1); otherwise it is reported as failed.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from relreps._validation import check_float, check_int
from relreps.align.stability import Stability

__all__ = [
    "DEFAULT_MARGIN",
    "DEFAULT_THRESHOLD",
    "Consistency",
    "matched_structure",
    "null_structure",
    "self_consistency",
]

#: The score below which an alignment is reported as failed (module docstring).
DEFAULT_THRESHOLD = 0.5
#: How far above the random-map null the score must be (module docstring).
DEFAULT_MARGIN = 0.1
_EPS = 1e-12


@dataclass(frozen=True)
class Consistency:
    """The self-consistency of one alignment.

    Attributes:
        score: Spearman correlation of within-space similarities over matched pairs, in [-1, 1].
        threshold: the pass mark.
        null_score: the score of matches under a random orthogonal map.
        margin: how far above ``null_score`` the score must be.
        passed: ``score >= threshold`` and ``score - null_score >= margin``.
        n_pairs: matched pairs the score was computed on.
        match_rate: share of sampled X rows that found a mutual match.
        stability: the restart-stability check (:mod:`relreps.align.stability`) of a found
            alignment that passed the structural test, else None; ``passed`` then also requires
            ``stability.passed``.
    """

    score: float
    threshold: float
    null_score: float
    margin: float
    passed: bool
    n_pairs: int
    match_rate: float
    stability: Stability | None = None

    def to_dict(self) -> dict[str, Any]:
        """Plain-dict view (JSON-ready)."""
        return asdict(self)


def matched_structure(x: Any, y: Any, pairs: Any, *, n_pairs: int = 800, seed: int = 0) -> float:
    """Rank correlation of the similarity structure of matched rows (module docstring).

    Args:
        x: (n_x, d_x) space X.
        y: (n_y, d_y) space Y.
        pairs: (n_matches, 2) int rows ``(i, j)`` matched across the spaces (>= 3).
        n_pairs: at most this many pairs are used (a seeded random subset).
        seed: seed of the subset.

    Returns:
        Similarity in [-1, 1].

    Example:
        >>> import numpy as np
        >>> rng = np.random.default_rng(0)
        >>> x = rng.normal(size=(200, 6))
        >>> pairs = np.stack([np.arange(200), np.arange(200)], axis=1)
        >>> round(matched_structure(x, 2.0 * x + 1.0, pairs), 6)
        1.0
    """
    from relreps.align.pairs import check_pairs
    from relreps.metrics import rsa

    pairs = check_pairs(pairs, int(x.shape[0]), int(y.shape[0]), min_pairs=3)
    n_pairs = check_int(n_pairs, "n_pairs", low=3)
    chosen = pairs
    if pairs.shape[0] > n_pairs:
        rows = np.random.default_rng(check_int(seed, "seed", low=0)).permutation(pairs.shape[0])
        chosen = pairs[np.sort(rows[:n_pairs])]
    xc = np.asarray(x[chosen[:, 0]], dtype=np.float64)
    yc = np.asarray(y[chosen[:, 1]], dtype=np.float64)
    x_mean = _mean(x)
    y_mean = _mean(y)
    return float(rsa(xc - x_mean, yc - y_mean, dissimilarity="cosine"))


def _mean(v: Any, chunk: int = 65536) -> np.ndarray:
    total = np.zeros(v.shape[1], dtype=np.float64)
    for start in range(0, v.shape[0], chunk):
        total += np.asarray(v[start : start + chunk], dtype=np.float64).sum(axis=0)
    return total / v.shape[0]


def null_structure(x: Any, y: Any, *, n_rows: int = 3000, seed: int = 0) -> float:
    """The score of matches under a random orthogonal map: what chance alignment reaches.

    Both spaces are centred and scaled to unit RMS norm, X (zero-padded to the wider width) is
    multiplied by a seeded random orthogonal matrix, and samples of ``n_rows`` rows per side are
    matched by mutual CSLS (:func:`relreps.align.mutual_matches`); the result is the
    :func:`matched_structure` of those matches.

    Example:
        >>> import numpy as np
        >>> rng = np.random.default_rng(0)
        >>> x, y = rng.normal(size=(500, 40)), rng.normal(size=(500, 40))
        >>> bool(null_structure(x, y) < 0.5)
        True
    """
    from relreps.align.matching import mutual_matches

    n_rows = check_int(n_rows, "n_rows", low=3)
    rng = np.random.default_rng(check_int(seed, "seed", low=0))
    sx = np.sort(rng.permutation(int(x.shape[0]))[:n_rows])
    sy = np.sort(rng.permutation(int(y.shape[0]))[:n_rows])
    xs = np.asarray(x[sx], dtype=np.float64) - _mean(x)
    ys = np.asarray(y[sy], dtype=np.float64) - _mean(y)
    width = max(xs.shape[1], ys.shape[1])
    q, _ = np.linalg.qr(rng.normal(size=(width, width)))
    padded = np.hstack([xs, np.zeros((xs.shape[0], width - xs.shape[1]))])
    mapped = (padded @ q)[:, : ys.shape[1]]
    mapped /= max(float(np.sqrt(np.mean(np.sum(mapped**2, axis=1)))), _EPS)
    ys /= max(float(np.sqrt(np.mean(np.sum(ys**2, axis=1)))), _EPS)
    found = mutual_matches(mapped, ys)
    if len(found) < 3:
        return 0.0
    pairs = np.stack([sx[found.x_rows], sy[found.y_rows]], axis=1)
    return matched_structure(x, y, pairs, seed=int(rng.integers(2**31)))


def self_consistency(
    x: Any,
    y: Any,
    pairs: Any,
    *,
    match_rate: float = float("nan"),
    threshold: float = DEFAULT_THRESHOLD,
    margin: float = DEFAULT_MARGIN,
    n_pairs: int = 800,
    seed: int = 0,
) -> Consistency:
    """Score an alignment's matches; compare the score with ``threshold`` and with the null.

    Args:
        x: (n_x, d_x) space X.
        y: (n_y, d_y) space Y.
        pairs: (n_matches, 2) int rows matched by the alignment (>= 3).
        match_rate: share of sampled X rows that found a mutual match (reported only).
        threshold: pass mark in [-1, 1].
        margin: least lead over :func:`null_structure`, in [0, 2].
        n_pairs: pairs used for the score (see :func:`matched_structure`).
        seed: seed of the subset.

    Returns:
        :class:`Consistency`.

    Example:
        >>> import numpy as np
        >>> rng = np.random.default_rng(0)
        >>> x, y = rng.normal(size=(300, 20)), rng.normal(size=(300, 20))
        >>> pairs = np.stack([np.arange(300), np.arange(300)], axis=1)
        >>> self_consistency(x, x[:, ::-1], pairs).passed, self_consistency(x, y, pairs).passed
        (True, False)
    """
    threshold = check_float(threshold, "threshold", low=-1.0, high=1.0)
    margin = check_float(margin, "margin", low=0.0, high=2.0)
    score = matched_structure(x, y, pairs, n_pairs=n_pairs, seed=seed)
    null = null_structure(x, y, seed=seed)
    n_used = min(int(np.asarray(pairs).shape[0]), n_pairs)
    passed = bool(score >= threshold and score - null >= margin)
    return Consistency(
        float(score), threshold, float(null), margin, passed, n_used, float(match_rate)
    )
