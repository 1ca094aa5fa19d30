"""Pearson's r between two series, undefined (None) instead of NaN when it cannot be told, and
the correlations of a measure with a score logged over the training of several models."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from relreps._validation import check_float, check_int, fail

__all__ = ["pearson", "training_correlations"]


def pearson(x: Any, y: Any, *, min_points: int = 3, tol: float = 1e-12) -> float | None:
    """Pearson's correlation of two paired series, computed in float64.

    Args:
        x: (n,) values.
        y: (n,) values paired with ``x``.
        min_points: fewer points than this give None (>= 2).
        tol: when ``sqrt(sum dx^2 * sum dy^2)`` is at most this (a constant series), None (>= 0).

    Returns:
        r in [-1, 1], or None when it is undefined.

    Raises:
        ValueError: ``x`` and ``y`` are not 1-D of the same length, or hold NaN / inf.

    Example:
        >>> round(pearson([1, 2, 3, 4], [2, 4, 5, 9]), 3)
        0.965
        >>> pearson([1, 1, 1], [1, 2, 3]) is None, pearson([1, 2], [2, 1]) is None
        (True, True)
    """
    xs, ys = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
    if xs.ndim != 1 or ys.shape != xs.shape:
        raise fail("y", f"a 1-D series paired with `x` (shape {xs.shape})", f"shape {ys.shape}")
    if not (np.isfinite(xs).all() and np.isfinite(ys).all()):
        raise fail("x", "finite values in `x` and `y`", "NaN or inf")
    min_points = check_int(min_points, "min_points", low=2)
    tol = check_float(tol, "tol", low=0.0)
    if xs.size < min_points:
        return None
    dx, dy = xs - xs.mean(), ys - ys.mean()
    denominator = math.sqrt(float(dx @ dx) * float(dy @ dy))
    if denominator <= tol:
        return None
    return float(dx @ dy) / denominator


def training_correlations(
    measure: Sequence[Sequence[float]], score: Sequence[Sequence[float]]
) -> dict[str, Any]:
    """How well a measure logged during training tracks a score, within and across models.

    Model ``i`` logged ``measure[i][t]`` and ``score[i][t]`` at its steps ``t`` (e.g. after every
    epoch, the last entry at the end of training); models may have different numbers of steps.
    Needs scipy (the Spearman rank correlation).

    Args:
        measure: one (n_steps_i,) series per model, e.g. a latent similarity to a reference.
        score: the paired (n_steps_i,) series, e.g. the validation accuracy.

    Returns:
        ``overall_pearson_final`` / ``overall_spearman_final``: across models, of the final
        entries (Pearson None, Spearman NaN when undefined: fewer than 3 models or a constant
        series); ``pooled_pearson_all_epochs``: over every (model, step); ``per_model_pearson_
        median`` / ``_mean`` / ``per_model_positive_fraction``: of each model's :func:`pearson`
        over its own steps, where defined (None when no model has one); ``per_model_defined``:
        how many models have one.

    Raises:
        ValueError: no models, ``measure`` and ``score`` not paired series by series, an empty
            series, or NaN / inf values.

    Example:
        >>> out = training_correlations([[0.1, 0.5, 0.6], [0.2, 0.3, 0.9], [0.0, 0.1, 0.2]],
        ...                             [[10, 50, 70], [20, 40, 80], [10, 12, 15]])
        >>> out["per_model_defined"], round(out["overall_pearson_final"], 3)
        (3, 0.956)
        >>> out["overall_spearman_final"], round(out["per_model_pearson_median"], 3)
        (1.0, 0.99)
    """
    from scipy.stats import spearmanr

    if len(measure) == 0 or len(score) != len(measure):
        raise fail("score", f"one series per model of `measure` ({len(measure)})", f"{len(score)}")
    if any(len(m) == 0 or len(m) != len(s) for m, s in zip(measure, score, strict=True)):
        raise fail("score", "non-empty series paired entry by entry with `measure`", "other")
    final_m = np.array([m[-1] for m in measure], dtype=np.float64)
    final_s = np.array([s[-1] for s in score], dtype=np.float64)
    found = (pearson(m, s) for m, s in zip(measure, score, strict=True))
    rs = np.array([r for r in found if r is not None], dtype=float)
    rho = math.nan
    if len(measure) > 2 and np.ptp(final_m) > 0 and np.ptp(final_s) > 0:
        rho = float(spearmanr(final_m, final_s).statistic)
    return {
        "overall_pearson_final": pearson(final_m, final_s),
        "overall_spearman_final": rho,
        "pooled_pearson_all_epochs": pearson(np.concatenate(measure), np.concatenate(score)),
        "per_model_pearson_median": float(np.median(rs)) if rs.size else None,
        "per_model_pearson_mean": float(rs.mean()) if rs.size else None,
        "per_model_positive_fraction": float((rs > 0).mean()) if rs.size else None,
        "per_model_defined": int(rs.size),
    }
