"""How many anchors, and which ones: one stitching grid per (anchor strategy, count, seed).

:func:`anchor_sweep` chooses anchors with every strategy of :func:`relreps.anchors.select` and
every count among shared candidate coordinates (row i is the same item in every space, e.g. a
pixel PCA, so no encoder decides the choice), trains relative heads per space on the
similarities to those anchors (:func:`~relreps.stitching.stitching_grid`) and keeps each grid's
own vs stitched split (:func:`relreps.stitching.pairs.own_and_stitched`): the heads on their own
space and zero-shot on every other. An absolute grid per seed on the same spaces is the
reference. :func:`saturation_count` says from how many anchors a score curve is near its best.

Example:
    >>> from sklearn.linear_model import LogisticRegression
    >>> rng = np.random.default_rng(0)
    >>> x = rng.normal(size=(100, 4)); y = (x[:, 0] > 0).astype(int)
    >>> q, _ = np.linalg.qr(rng.normal(size=(4, 4)))
    >>> spaces = {"a": (x[:80], x[80:]), "b": (x[:80] @ q, x[80:] @ q)}
    >>> logreg = lambda d, k, seed: LogisticRegression(random_state=seed)
    >>> sweep = anchor_sweep(spaces, y[:80], y[80:], x[:80], counts=(2, 8),
    ...                      strategies=("random", "kmeans"), head=logreg)
    >>> sorted(sweep.scores)
    [('kmeans', 2), ('kmeans', 8), ('random', 2), ('random', 8)]
    >>> sorted(sweep.mean("kmeans", 8))
    ['own', 'own_std', 'stitched', 'stitched_std']
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from relreps._validation import check_choice, check_int, fail
from relreps.anchors import STRATEGIES, select
from relreps.stitching.grid import stitching_grid
from relreps.stitching.heads import HeadFactory
from relreps.stitching.pairs import own_and_stitched
from relreps.stitching.spaces import Space

__all__ = ["AnchorSweep", "anchor_sweep", "saturation_count"]


@dataclass(frozen=True)
class AnchorSweep:
    """What :func:`anchor_sweep` measured.

    Attributes:
        strategies: the anchor strategies, in order.
        counts: the numbers of anchors (capped at the number of candidates), increasing.
        seeds: the seeds (one anchor draw and one set of heads each).
        scores: ``(strategy, count)`` -> one summary per seed
            (:func:`relreps.stitching.pairs.own_and_stitched` of its grid).
        absolute: one summary of the absolute heads per seed.
    """

    strategies: tuple[str, ...]
    counts: tuple[int, ...]
    seeds: tuple[int, ...]
    scores: dict[tuple[str, int], tuple[dict[str, float], ...]]
    absolute: tuple[dict[str, float], ...]

    def mean(self, strategy: str, count: int) -> dict[str, float]:
        """The mean over seeds of each summary value of one (strategy, count) cell."""
        if (strategy, count) not in self.scores:
            raise fail("(strategy, count)", f"one of {sorted(self.scores)}", f"{(strategy, count)}")
        return _mean(self.scores[strategy, count])

    def absolute_mean(self) -> dict[str, float]:
        """The mean over seeds of the absolute heads' summary values."""
        return _mean(self.absolute)

    def curve(self, key: str, strategy: str | None = None) -> list[float]:
        """One value per count (:attr:`counts`): ``mean(strategy, count)[key]``, or with no
        ``strategy`` the mean of that value over the :attr:`strategies`.

        Args:
            key: ``"own"``, ``"own_std"``, ``"stitched"`` or ``"stitched_std"``.
            strategy: one of :attr:`strategies`; None averages over all of them.
        """
        check_choice(key, "key", tuple(self.absolute[0]))
        if strategy is not None:
            return [self.mean(strategy, k)[key] for k in self.counts]
        per_strategy = [self.curve(key, s) for s in self.strategies]
        return [float(np.mean(values)) for values in zip(*per_strategy, strict=True)]

    def to_dict(self) -> dict[str, dict[str, Any]]:
        """JSON-able cells: ``"strategy|count"`` -> ``strategy``, ``n_anchors``, the means over
        seeds (:meth:`mean`) and ``repetitions`` (the summary of each seed)."""
        return {
            f"{s}|{k}": {
                "strategy": s,
                "n_anchors": k,
                **self.mean(s, k),
                "repetitions": list(reps),
            }
            for (s, k), reps in self.scores.items()
        }


def _mean(summaries: Sequence[dict[str, float]]) -> dict[str, float]:
    return {key: float(np.mean([s[key] for s in summaries])) for key in summaries[0]}


def anchor_sweep(
    spaces: Mapping[str, tuple[Any, Any]],
    y_train: Any,
    y_test: Any,
    candidates: Any,
    *,
    counts: Sequence[int],
    strategies: Sequence[str] = STRATEGIES,
    seeds: Sequence[int] = (0,),
    scoring: str = "accuracy",
    head: HeadFactory | None = None,
    metric: str = "cosine",
    max_iter: int = 300,
    cache_dir: str | os.PathLike[str] | None = None,
    log: Callable[[str], None] | None = None,
) -> AnchorSweep:
    """Stitching grids of relative heads for every anchor strategy, count and seed.

    For each seed, absolute heads are trained first (the reference); then, per strategy, count
    and seed, ``count`` anchors are chosen among the training items by
    ``select(strategy, candidates, count, seed=seed, labels=y_train, metric=metric,
    max_iter=max_iter)`` and the relative heads of every space read the similarities to those
    same items (heads seeded by the seed too).

    Args:
        spaces: name -> ``(train, test)`` embeddings, (n_train, d) and (n_test, d) (the width
            may differ between spaces); row i is the same item in every space.
        y_train: (n_train,) labels; the stratified strategy draws by them.
        y_test: (n_test,) labels.
        candidates: (n_train, k) coordinates of the training items in which the geometric
            strategies (k-means, farthest point) choose; only their number matters to the others.
        counts: numbers of anchors (>= 1); capped at ``n_train``, deduplicated and sorted.
        strategies: names of :data:`relreps.anchors.STRATEGIES`.
        seeds: anchor draws and head seeds.
        scoring: the grid's scoring (see :data:`~relreps.stitching.SCORERS`).
        head: the head factory of :func:`~relreps.stitching.stitching_grid`.
        metric: ``"cosine"`` or ``"euclidean"``, for the geometric strategies.
        max_iter: k-means iterations.
        cache_dir: the grids' cell cache (resumable); None disables it.
        log: called with one line per strategy (own/stitched means by count).

    Returns:
        An :class:`AnchorSweep`.
    """
    if not isinstance(spaces, Mapping) or not spaces:
        raise fail("spaces", "a non-empty mapping name -> (train, test)", repr(spaces), TypeError)
    y_train = np.asarray(y_train)
    n_train = len(y_train)
    if len(np.asarray(candidates)) != n_train:
        raise fail("candidates", f"{n_train} rows (one per training item)", "another number")
    strategies = tuple(check_choice(s, "strategies", STRATEGIES) for s in strategies)
    counts = tuple(sorted({min(check_int(c, "counts", low=1), n_train) for c in counts}))
    seeds = tuple(check_int(s, "seeds", low=0) for s in seeds)
    if not strategies or not counts or not seeds or len(set(seeds)) != len(seeds):
        raise fail("strategies, counts, seeds", "non-empty (distinct seeds)", "an empty one")

    def grid(idx: np.ndarray, method: str, seed: int) -> dict[str, float]:
        ids = [int(i) for i in idx]
        chosen = [
            Space(name, train, test, np.asarray(train)[idx], anchor_ids=ids)
            for name, (train, test) in spaces.items()
        ]
        options: dict[str, Any] = {"seeds": [seed], "head": head, "cache_dir": cache_dir}
        result = stitching_grid(
            chosen, y_train, y_test, scoring=scoring, methods=(method,), **options
        )
        # one seed per grid: its pair means are its cells
        return own_and_stitched(result.pair_mean(method))

    def relative(strategy: str, k: int, seed: int) -> dict[str, float]:
        options = {"labels": y_train, "metric": metric, "max_iter": max_iter}
        return grid(select(strategy, candidates, k, seed=seed, **options), "relative", seed)

    # absolute heads ignore the anchors: the first item is a placeholder
    absolute = tuple(grid(np.arange(1), "absolute", seed) for seed in seeds)
    scores = {}
    for strategy in strategies:
        for k in counts:
            scores[strategy, k] = tuple(relative(strategy, k, seed) for seed in seeds)
        if log is not None:
            means = {k: _mean(scores[strategy, k]) for k in counts}
            shown = (f"{k}: {m['own']:.1f}/{m['stitched']:.1f}" for k, m in means.items())
            log(f"  {strategy} (anchors: own/stitched): " + ", ".join(shown))
    return AnchorSweep(strategies, counts, seeds, scores, absolute)


def saturation_count(counts: Sequence[int], scores: Sequence[float], tolerance: float) -> int:
    """The smallest count whose score is within ``tolerance`` of the best score.

    Args:
        counts: increasing numbers of anchors (e.g. :attr:`AnchorSweep.counts`).
        scores: the score (higher is better) at each count; NaN scores never qualify.
        tolerance: how far below the best score still counts as saturated (>= 0).

    Example:
        >>> saturation_count((1, 10, 100, 1000), [20.0, 70.0, 79.0, 80.0], 2.0)
        100
    """
    values = np.asarray(scores, dtype=np.float64)
    if len(counts) == 0 or values.shape != (len(counts),) or not np.isfinite(values).any():
        raise fail("scores", f"{len(counts)} scores, one per count, some finite", repr(scores))
    if not tolerance >= 0:
        raise fail("tolerance", "a number >= 0", repr(tolerance))
    best = float(np.nanmax(values))
    return next(int(c) for c, s in zip(counts, values, strict=True) if s >= best - tolerance)
