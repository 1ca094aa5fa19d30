"""Shared steps of every alignment: input checks, and turning a refinement into an Alignment.

:func:`align_pairs` is the plain case: every pair is known, the translator is fitted on them.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import numpy as np

from relreps._validation import check_matrix, check_same_features
from relreps.align.check import AllRowsCheck
from relreps.align.consistency import DEFAULT_THRESHOLD, Consistency, self_consistency
from relreps.align.pairs import check_pairs
from relreps.align.refine import Refined
from relreps.align.result import Alignment
from relreps.align.translators import translator_factory

__all__ = ["align_pairs", "check_spaces"]


def check_spaces(x: Any, y: Any, *, min_rows: int = 3, same_width: bool = False) -> tuple[Any, Any]:
    """Validate the two spaces of an alignment (2-D, finite, enough rows).

    Memory-mapped numpy arrays stay memory-mapped.

    Raises:
        ValueError: not 2-D, fewer than ``min_rows`` rows, a NaN/Inf row (named), or
            different widths when ``same_width``.

    Example:
        >>> import numpy as np
        >>> check_spaces(np.ones((2, 3)), np.ones((5, 3)))
        Traceback (most recent call last):
        ...
        ValueError: Expected `x` to be an array with at least 3 rows, but got shape (2, 3).
    """
    x = check_matrix(x, "x", shape_doc="(n_x, d_x)", min_rows=min_rows)
    y = check_matrix(y, "y", shape_doc="(n_y, d_y)", min_rows=min_rows)
    if same_width:
        check_same_features(x, "x", y, "y")
    return x, y


def _rows(v: Any, index: np.ndarray) -> np.ndarray:
    return np.asarray(v[index], dtype=np.float64)


def align_pairs(
    x: Any,
    y: Any,
    pairs: Any,
    *,
    translator: str = "procrustes",
    threshold: float = DEFAULT_THRESHOLD,
) -> Alignment:
    """Fit a translator from X to Y on known pairs.

    Args:
        x: (n_x, d_x) space X.
        y: (n_y, d_y) space Y.
        pairs: (n_pairs, 2) int rows ``(i, j)``: row ``i`` of X is row ``j`` of Y (>= 3).
        translator: ``"procrustes"`` (default), ``"least-squares"`` or ``"affine"``.
        threshold: pass mark of the self-consistency score, reported for information (known
            pairs are trusted: the status is ``"ok"``).

    Returns:
        :class:`~relreps.align.Alignment` with ``method="pairs"``.

    Example:
        >>> import numpy as np
        >>> rng = np.random.default_rng(0)
        >>> x = rng.normal(size=(100, 5))
        >>> q, _ = np.linalg.qr(rng.normal(size=(5, 5)))
        >>> pairs = np.stack([np.arange(100), np.arange(100)], axis=1)
        >>> a = align_pairs(x, x @ q, pairs)
        >>> a.status, bool(np.allclose(a.transform(x), x @ q, atol=1e-6))
        ('ok', True)
    """
    start = time.perf_counter()
    x, y = check_spaces(x, y)
    pairs = check_pairs(pairs, x.shape[0], y.shape[0], min_pairs=3)
    make = translator_factory(translator)
    fitted = make().fit(_rows(x, pairs[:, 0]), _rows(y, pairs[:, 1]))
    check = self_consistency(x, y, pairs, threshold=threshold)
    n = pairs.shape[0]
    return Alignment(
        "pairs", "ok", fitted, pairs, np.full(n, np.nan), np.ones(n, dtype=bool), check, (),
        int(x.shape[0]), int(y.shape[0]), int(x.shape[1]), int(y.shape[1]),
        {"seconds": round(time.perf_counter() - start, 3)}, {"translator": translator},
    )  # fmt: skip


def finish(
    x: Any,
    y: Any,
    refined: Refined,
    method: str,
    *,
    consistency: Consistency,
    diagnostics: dict[str, Any],
    settings: dict[str, Any],
) -> Alignment:
    """The :class:`Alignment` of a refinement; no translator when the check failed."""
    status = "ok" if consistency.passed else "failed"
    return Alignment(
        method, status, refined.translator if consistency.passed else None, refined.pairs,
        refined.scores, refined.fixed, consistency, refined.rounds,
        int(x.shape[0]), int(y.shape[0]), int(x.shape[1]), int(y.shape[1]), diagnostics, settings,
    )  # fmt: skip


def score_refined(
    check: AllRowsCheck, refined: Refined, *, make_translator: Any = None, polish_rows: int = 0,
    seed: int = 0,
) -> tuple[Refined, Consistency]:  # fmt: skip
    """Self-consistency of a refinement's fitted map, its sampled X rows searched against all
    of Y (:mod:`relreps.align.check`); a passing map is then polished (:func:`polish_refined`)
    and the polished one kept when it passes the check too.

    Returns:
        ``(refinement, consistency)``: the one kept and its check.
    """
    first = check(refined.translator)
    if not first.passed or polish_rows == 0 or make_translator is None:
        return refined, first
    polished = polish_refined(check, refined, make_translator, n_rows=polish_rows, seed=seed)
    if polished is refined:
        return refined, first
    second = check(polished.translator)
    return (polished, second) if second.passed else (refined, first)


def polish_refined(
    check: AllRowsCheck, refined: Refined, make_translator: Any, *, n_rows: int, seed: int
) -> Refined:
    """Refit a refinement's map on partners found among ALL rows of Y (one more round).

    The refinement matches samples, and at large sizes most of its anchors are near neighbours
    rather than partners (44% right for MiniLM-L6 vs L3 at 100,000 rows, docs/alignment.md). Here
    ``n_rows`` X rows (seeded, a sample of their own) are translated and matched by mutual CSLS
    against every row of Y; the map is refitted on those matches plus the fixed (given) pairs.
    Returns ``refined`` unchanged when ``n_rows`` is 0 or fewer than 3 new matches are found.
    """
    if n_rows == 0:
        return refined
    found = check.matches(refined.translator, n_rows=n_rows, seed=seed + 1)
    fixed = refined.pairs[refined.fixed]
    keep = ~np.isin(found.x_rows, fixed[:, 0]) & ~np.isin(found.y_rows, fixed[:, 1])
    if int(keep.sum()) < 3:
        return refined
    found = found.take(np.flatnonzero(keep))
    pairs = np.concatenate([fixed, found.pairs])
    translator = make_translator().fit(_rows(check.x, pairs[:, 0]), _rows(check.y, pairs[:, 1]))
    return Refined(
        pairs, np.concatenate([np.full(fixed.shape[0], np.nan), found.scores]),
        np.arange(pairs.shape[0]) < fixed.shape[0], refined.rounds, translator, found,
    )  # fmt: skip


def check_stability(
    check: AllRowsCheck,
    refined: Refined,
    consistency: Consistency,
    rerun: Callable[[Any, Any, np.ndarray, int], Refined],
    *,
    method: str,
    make_translator: Any,
    polish_rows: int,
    threshold: float,
    seed: int,
) -> Consistency:
    """Run an alignment that passed its structural check again, and compare the two maps.

    ``rerun(x_sub, y_sub, fixed_sub, seed)`` repeats the winning procedure on the restart's
    subsample (:func:`relreps.align.stability.restart_rows`, its own seed; ``fixed_sub`` are the
    given pairs in subsample rows) and returns its :class:`~relreps.align.refine.Refined` in
    subsample rows. The restart's map is polished like the first one (``polish_rows``), then
    both are compared by :meth:`AllRowsCheck.agreement` on X rows that are anchors of neither;
    the restart's map is scored by the same structural check (inconclusive when it fails).

    Returns:
        ``consistency`` with ``stability`` set and ``passed`` also requiring it; unchanged
        (stability None) when the structural check already failed.
    """
    from relreps.align.stability import (
        RESTART_FRACTION,
        STABILITY_ROWS,
        judge_stability,
        restart_rows,
        restart_seed,
    )

    if not consistency.passed:
        return consistency
    start = time.perf_counter()
    x, y = check.x, check.y
    fixed = refined.pairs[refined.fixed]
    second_seed = restart_seed(seed)
    rx, ry = restart_rows(int(x.shape[0]), int(y.shape[0]), fixed, fraction=RESTART_FRACTION,
                          seed=second_seed)  # fmt: skip
    where_x = np.full(int(x.shape[0]), -1, dtype=np.int64)
    where_y = np.full(int(y.shape[0]), -1, dtype=np.int64)
    where_x[rx], where_y[ry] = np.arange(rx.size), np.arange(ry.size)
    fixed_sub = np.stack([where_x[fixed[:, 0]], where_y[fixed[:, 1]]], axis=1)
    other = rerun(np.asarray(x[rx]), np.asarray(y[ry]), fixed_sub, second_seed)
    pairs = np.stack([rx[other.pairs[:, 0]], ry[other.pairs[:, 1]]], axis=1)
    restarted = Refined(pairs, other.scores, other.fixed, other.rounds, other.translator,
                        other.matches)  # fmt: skip
    restarted = polish_refined(check, restarted, make_translator, n_rows=polish_rows,
                               seed=second_seed)  # fmt: skip
    exclude = np.union1d(refined.pairs[:, 0], restarted.pairs[:, 0])
    agreement, null, n_rows, held_out = check.agreement(
        refined.translator, restarted.translator, exclude=exclude, n_rows=STABILITY_ROWS,
        seed=second_seed,
    )  # fmt: skip
    own = check(restarted.translator)
    seconds = time.perf_counter() - start
    stability = judge_stability(agreement, null, threshold=threshold, n_rows=n_rows,
                                held_out=held_out, fraction=RESTART_FRACTION,
                                restart_method=method, seconds=seconds,
                                restart_score=own.score, conclusive=own.passed)  # fmt: skip
    return replace(consistency, passed=stability.passed, stability=stability)
