"""The self-consistency check of a fitted map, searched against ALL rows of Y.

The refinement (:mod:`relreps.align.refine`) matches a sample of X rows against a sample of Y
rows. Drawn independently, the two samples share few partners when Y is large (5,000 of 100,000
X rows against 20,000 of 100,000 Y rows: about 20% of the X rows have their partner in the Y
sample), so the last round's matches are mostly near neighbours rather than partners and their
score falls although the map may be right. The check therefore scores the fitted map itself:

1. a seeded sample of ``n_rows`` X rows is translated into Y and centred on Y's mean;
2. it is matched by mutual CSLS (:mod:`relreps.align.matching`) against **every** row of Y
   (centred the same way), in row blocks: memory is one ``(d_y, n_y)`` float32 copy of Y plus
   two ``block x n_y`` score buffers, never an ``n_rows x n_y`` or ``n_y x n_y`` matrix;
3. the score is :func:`relreps.align.matched_structure` of those matches.

The random-map null (:func:`null_against_all`) uses the same protocol with the translation
replaced by a seeded random orthogonal map of the centred X rows, so score and null see the
same candidate set; it depends on the spaces only, so one alignment computes it once
(:class:`AllRowsCheck`) however many candidates it scores.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from relreps._validation import check_float, check_int
from relreps.align.consistency import DEFAULT_MARGIN, Consistency, matched_structure
from relreps.align.matching import Matches

__all__ = ["DEFAULT_CHECK_ROWS", "AllRowsCheck", "null_against_all", "translated_matches"]

#: X rows translated and searched against all of Y by the check (module docstring).
DEFAULT_CHECK_ROWS = 1500
_EPS = 1e-12
_CHUNK = 65536
# A stream of its own: a plain ``default_rng(seed)`` draws the same first matrix as a caller's
# rotation built from that seed, and the "random" map would then be the true one.
_NULL_STREAM = 0x6E756C6C


def _mean(v: Any) -> np.ndarray:
    total = np.zeros(v.shape[1], dtype=np.float64)
    for start in range(0, v.shape[0], _CHUNK):
        total += np.asarray(v[start : start + _CHUNK], dtype=np.float64).sum(axis=0)
    return total / v.shape[0]


def _unit_columns_of(v: Any, mean: np.ndarray) -> np.ndarray:
    """(d, n) float32: the rows of ``v`` centred on ``mean``, unit length, as columns."""
    out = np.empty((v.shape[1], v.shape[0]), dtype=np.float32)
    for start in range(0, v.shape[0], _CHUNK):
        block = np.asarray(v[start : start + _CHUNK], dtype=np.float64) - mean
        block /= np.maximum(np.linalg.norm(block, axis=1, keepdims=True), _EPS)
        out[:, start : start + block.shape[0]] = block.T
    return out


def _sample_rows(n: int, size: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return np.sort(rng.permutation(n)[: min(size, n)]).astype(np.int64)


def _match_all(queries: np.ndarray, y_columns: np.ndarray, rows: np.ndarray, k: int) -> Matches:
    """Mutual CSLS matches of centred ``queries`` (rows ``rows`` of X) against all of Y."""
    from relreps.align.matching import _mutual_csls

    q = queries / np.maximum(np.linalg.norm(queries, axis=1, keepdims=True), _EPS)
    k = min(k, q.shape[0], y_columns.shape[1])
    # y_columns.T is a view whose transpose is C-contiguous: the search makes no copy of Y.
    x_rows, y_rows, scores, margins = _mutual_csls(q.astype(np.float32), y_columns.T, k, None)
    order = np.lexsort((x_rows, -scores))
    return Matches(rows[x_rows[order]], y_rows[order].astype(np.int64), scores[order],
                   margins[order], int(rows.size), int(y_columns.shape[1]), "csls")  # fmt: skip


def translated_matches(
    x: Any, y: Any, translator: Any, *, n_rows: int = DEFAULT_CHECK_ROWS, k: int = 10,
    seed: int = 0,
) -> Matches:  # fmt: skip
    """Mutual CSLS matches of a sample of translated X rows against every row of Y.

    Args:
        x: (n_x, d_x) space X (numpy array or memmap).
        y: (n_y, d_y) space Y.
        translator: fitted map from X to Y (``transform``: (n, d_x) -> (n, d_y)).
        n_rows: X rows sampled (seeded), at most ``n_x``.
        k: CSLS neighbourhood.
        seed: seed of the sample.

    Returns:
        :class:`~relreps.align.Matches` in global row indices, most confident first;
        ``match_rate`` is the share of the sampled X rows that found a mutual match.

    Example:
        >>> import numpy as np
        >>> from relreps.translate import Procrustes
        >>> rng = np.random.default_rng(0)
        >>> x = rng.normal(size=(3000, 16))
        >>> q, _ = np.linalg.qr(rng.normal(size=(16, 16)))
        >>> t = Procrustes().fit(x[:100], x[:100] @ q)
        >>> m = translated_matches(x, x @ q, t, n_rows=500)
        >>> len(m), bool(np.all(m.x_rows == m.y_rows))
        (500, True)
    """
    n_rows = check_int(n_rows, "n_rows", low=3)
    k = check_int(k, "k", low=1)
    rows = _sample_rows(int(x.shape[0]), n_rows, check_int(seed, "seed", low=0))
    y_mean = _mean(y)
    mapped = np.asarray(translator.transform(np.asarray(x[rows], dtype=np.float64)))
    return _match_all(np.asarray(mapped, dtype=np.float64) - y_mean,
                      _unit_columns_of(y, y_mean), rows, k)  # fmt: skip


def _random_map(xs: np.ndarray, d_y: int, rng: np.random.Generator) -> np.ndarray:
    width = max(xs.shape[1], d_y)
    q, _ = np.linalg.qr(rng.normal(size=(width, width)))
    padded = np.hstack([xs, np.zeros((xs.shape[0], width - xs.shape[1]))])
    return (padded @ q)[:, :d_y]


def null_against_all(
    x: Any, y: Any, *, n_rows: int = DEFAULT_CHECK_ROWS, k: int = 10, seed: int = 0,
    y_columns: np.ndarray | None = None,
) -> float:  # fmt: skip
    """The check's score under a seeded random orthogonal map: what chance alignment reaches.

    The sampled X rows, centred on X's mean (zero-padded to the wider width), are multiplied by
    a random orthogonal matrix and matched against all of Y exactly as
    :func:`translated_matches` does; the result is :func:`matched_structure` of the matches
    (0.0 when fewer than 3 are found).

    Args:
        x: (n_x, d_x) space X.
        y: (n_y, d_y) space Y.
        n_rows: X rows sampled.
        k: CSLS neighbourhood.
        seed: seed of the sample and of the random map.
        y_columns: Y already centred and unit-normalised as (d_y, n_y) float32 columns (reuse).

    Example:
        >>> import numpy as np
        >>> rng = np.random.default_rng(0)
        >>> x, y = rng.normal(size=(2000, 40)), rng.normal(size=(2000, 40))
        >>> bool(null_against_all(x, y, n_rows=500) < 0.5)
        True
    """
    n_rows = check_int(n_rows, "n_rows", low=3)
    seed = check_int(seed, "seed", low=0)
    rows = _sample_rows(int(x.shape[0]), n_rows, seed)
    columns = _unit_columns_of(y, _mean(y)) if y_columns is None else y_columns
    xs = np.asarray(x[rows], dtype=np.float64) - _mean(x)
    mapped = _random_map(xs, int(y.shape[1]), np.random.default_rng([seed, _NULL_STREAM]))
    found = _match_all(mapped, columns, rows, check_int(k, "k", low=1))
    if len(found) < 3:
        return 0.0
    return matched_structure(x, y, found.pairs, seed=seed)


@dataclass
class AllRowsCheck:
    """The check of every candidate map of one alignment, sharing Y's prepared copy and the null.

    Attributes:
        x, y: the two spaces.
        threshold: pass mark of the score.
        margin: least lead over the null.
        n_rows: X rows searched against all of Y.
        seed: seed of the sample and of the null's random map.

    Example:
        >>> import numpy as np
        >>> from relreps.translate import Procrustes
        >>> rng = np.random.default_rng(0)
        >>> x = rng.normal(size=(2000, 30)) * np.linspace(3.0, 0.5, 30)
        >>> q, _ = np.linalg.qr(rng.normal(size=(30, 30)))
        >>> check = AllRowsCheck(x, x @ q, threshold=0.5, n_rows=400)
        >>> check(Procrustes().fit(x[:50], x[:50] @ q)).passed
        True
    """

    x: Any
    y: Any
    threshold: float
    margin: float = DEFAULT_MARGIN
    n_rows: int = DEFAULT_CHECK_ROWS
    seed: int = 0
    _columns: np.ndarray | None = field(default=None, init=False, repr=False)
    _y_mean: np.ndarray | None = field(default=None, init=False, repr=False)
    _null: float | None = field(default=None, init=False, repr=False)

    def __post_init__(self) -> None:
        self.threshold = check_float(self.threshold, "threshold", low=-1.0, high=1.0)
        self.margin = check_float(self.margin, "margin", low=0.0, high=2.0)
        self.n_rows = check_int(self.n_rows, "n_rows", low=3)
        self.seed = check_int(self.seed, "seed", low=0)

    def _prepared(self) -> np.ndarray:
        if self._columns is None:
            self._columns = _unit_columns_of(self.y, self.y_mean)
        return self._columns

    @property
    def y_mean(self) -> np.ndarray:
        """The mean row of Y (computed once)."""
        if self._y_mean is None:
            self._y_mean = _mean(self.y)
        return self._y_mean

    def agreement(
        self, first: Any, second: Any, *, exclude: Any = (), n_rows: int, seed: int
    ) -> tuple[float, float, int, bool]:
        """:func:`relreps.align.stability.map_agreement` of two maps, on this check's Y copy."""
        from relreps.align.stability import map_agreement

        return map_agreement(self.x, first, second, self._prepared(), self.y_mean,
                             exclude=exclude, n_rows=n_rows, seed=seed)  # fmt: skip

    @property
    def null(self) -> float:
        """The random-map null of these spaces (computed once)."""
        if self._null is None:
            self._null = null_against_all(self.x, self.y, n_rows=self.n_rows, seed=self.seed,
                                          y_columns=self._prepared())  # fmt: skip
        return self._null

    def matches(
        self, translator: Any, *, n_rows: int | None = None, seed: int | None = None
    ) -> Matches:
        """The mutual matches of the sampled X rows, translated, against all of Y.

        ``n_rows`` and ``seed`` default to the check's own (another sample for the polish).
        """
        rows = _sample_rows(
            int(self.x.shape[0]),
            self.n_rows if n_rows is None else check_int(n_rows, "n_rows", low=3),
            self.seed if seed is None else check_int(seed, "seed", low=0),
        )
        mapped = np.asarray(translator.transform(np.asarray(self.x[rows], dtype=np.float64)))
        return _match_all(np.asarray(mapped, dtype=np.float64) - self.y_mean,
                          self._prepared(), rows, 10)  # fmt: skip

    def __call__(self, translator: Any) -> Consistency:
        """Score ``translator`` (a fitted map X -> Y): :class:`Consistency`."""
        found = self.matches(translator)
        score = matched_structure(self.x, self.y, found.pairs, seed=self.seed) if len(
            found
        ) >= 3 else 0.0  # fmt: skip
        null = self.null
        passed = bool(score >= self.threshold and score - null >= self.margin)
        return Consistency(float(score), self.threshold, float(null), self.margin, passed,
                           min(len(found), 800), float(found.match_rate))  # fmt: skip
