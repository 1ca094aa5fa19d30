"""Metrics of a stitching grid, by name: classification scores and regression errors.

:data:`SCORERS` maps each name to its function, its direction and whether it reads class labels
(heads classify) or regression targets; :func:`score` evaluates one by name.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from relreps._array import to_numpy
from relreps._validation import check_choice, fail


def _labels_pair(y_true: Any, y_pred: Any) -> tuple[np.ndarray, np.ndarray]:
    t = np.asarray(to_numpy(y_true)).reshape(-1)
    p = np.asarray(to_numpy(y_pred)).reshape(-1)
    if t.shape != p.shape:
        raise fail("y_pred", f"{t.size} predictions (one per label)", f"{p.size}")
    if t.size == 0:
        raise fail("y_true", "a non-empty array of labels", "an empty array")
    return t, p


def accuracy(y_true: Any, y_pred: Any) -> float:
    """Share of equal labels, in [0, 1].

    Example:
        >>> accuracy([0, 1, 1, 2], [0, 1, 0, 2])
        0.75
    """
    t, p = _labels_pair(y_true, y_pred)
    return float(np.mean(t == p))


def f1_score(y_true: Any, y_pred: Any, *, average: str = "weighted") -> float:
    """F1 over the classes present in ``y_true`` or ``y_pred``, in [0, 1].

    ``"macro"`` averages the per-class F1 equally; ``"weighted"`` weights it by each class's count
    in ``y_true`` (scikit-learn's definitions; a class with no prediction and no support scores 0).

    Example:
        >>> round(f1_score([0, 0, 1, 1], [0, 1, 1, 1], average="macro"), 4)
        0.7333
    """
    check_choice(average, "average", ["weighted", "macro"])
    t, p = _labels_pair(y_true, y_pred)
    classes, t_idx = np.unique(np.concatenate([t, p]), return_inverse=True)
    t_idx, p_idx = t_idx[: t.size], t_idx[t.size :]
    k = classes.size
    tp = np.bincount(t_idx[t_idx == p_idx], minlength=k).astype(np.float64)
    support = np.bincount(t_idx, minlength=k).astype(np.float64)
    predicted = np.bincount(p_idx, minlength=k).astype(np.float64)
    denom = support + predicted  # F1 = 2 tp / (2 tp + fp + fn) = 2 tp / (support + predicted)
    f1 = np.divide(2.0 * tp, denom, out=np.zeros(k), where=denom > 0)
    if average == "macro":
        return float(f1.mean())
    return float(np.sum(f1 * support) / support.sum())


def majority_f1(labels: Any) -> float:
    """Weighted F1 x100 of always predicting the most frequent class: the chance line of a table.

    The majority class, a share ``p`` of the rows, has precision ``p`` and recall 1, so its F1 is
    ``2p / (p + 1)``; every other class scores 0, and the support weights give ``p * 2p / (p + 1)``.

    Args:
        labels: (n,) non-negative integer class labels.

    Example:
        >>> round(majority_f1([0, 0, 0, 1]), 2)
        64.29
    """
    y = np.asarray(to_numpy(labels)).reshape(-1)
    if y.size == 0:
        raise fail("labels", "a non-empty array of class labels", "an empty array")
    if not np.issubdtype(y.dtype, np.integer) or y.min() < 0:
        raise fail("labels", "non-negative integer class labels", f"dtype {y.dtype}")
    counts = np.bincount(y)
    share = counts.max() / counts.sum()
    return float(100.0 * share * (2 * share / (share + 1.0)))


def mean_squared_error(y_true: Any, y_pred: Any) -> float:
    """Mean of squared differences over every element.

    Example:
        >>> mean_squared_error([[0.0, 1.0]], [[1.0, 1.0]])
        0.5
    """
    t = np.asarray(to_numpy(y_true), dtype=np.float64)
    p = np.asarray(to_numpy(y_pred), dtype=np.float64).reshape(t.shape)
    return float(np.mean((t - p) ** 2))


def mean_absolute_error(y_true: Any, y_pred: Any) -> float:
    """Mean absolute difference (for ordinal labels: how many classes off, on average).

    Example:
        >>> mean_absolute_error([1, 2, 5], [1, 4, 4])
        1.0
    """
    t = np.asarray(to_numpy(y_true), dtype=np.float64)
    p = np.asarray(to_numpy(y_pred), dtype=np.float64).reshape(t.shape)
    return float(np.mean(np.abs(t - p)))


@dataclass(frozen=True)
class _Scorer:
    name: str
    fn: Callable[[Any, Any], float]
    higher_is_better: bool
    needs_classes: bool  # labels are classes (heads classify) rather than regression targets
    description: str


SCORERS: Mapping[str, _Scorer] = {
    m.name: m
    for m in (
        _Scorer("accuracy", accuracy, True, True, "share of correct labels, in [0, 1]"),
        _Scorer(
            "f1_weighted",
            lambda t, p: 100.0 * f1_score(t, p, average="weighted"),
            True,
            True,
            "support-weighted F1 x100 (the paper's stitching tables)",
        ),
        _Scorer(
            "f1_macro",
            lambda t, p: 100.0 * f1_score(t, p, average="macro"),
            True,
            True,
            "unweighted mean of per-class F1 x100",
        ),
        _Scorer("mse", mean_squared_error, False, False, "mean squared error (reconstruction)"),
        _Scorer(
            "mae", mean_absolute_error, False, True, "mean absolute error of ordinal class labels"
        ),
    )
}


def score(scoring: str, y_true: Any, y_pred: Any) -> float:
    """Evaluate a scoring by name (see :data:`SCORERS`).

    Example:
        >>> score("f1_weighted", [0, 1], [0, 1])
        100.0
    """
    return SCORERS[check_choice(scoring, "scoring", list(SCORERS))].fn(y_true, y_pred)
