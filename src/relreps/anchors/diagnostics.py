"""How good is an anchor set? Coverage, conditioning, class balance and duplicates."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from relreps._array import namespace, to_numpy
from relreps._validation import check_float, check_int, check_same_features, fail
from relreps.anchors._geometry import RowSpace
from relreps.anchors._inputs import (
    check_indices,
    check_labels,
    check_metric,
    check_points,
    class_label,
    default_chunk_rows,
    encode_labels,
)

__all__ = ["AnchorDiagnostics", "Coverage", "diagnose"]

_SHOWN_PAIRS = 5


@dataclass(frozen=True)
class Coverage:
    """Distribution over the samples of their closeness to the nearest anchor.

    ``measure`` says what the numbers are: ``"cosine similarity"`` (higher is closer) or
    ``"euclidean distance"`` (lower is closer).
    """

    measure: str
    mean: float
    min: float
    p05: float
    p25: float
    median: float
    p75: float
    p95: float
    max: float

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class AnchorDiagnostics:
    """Diagnostics of an anchor set (see :func:`diagnose`); ``print()`` it for a summary.

    Attributes:
        n_samples, n_anchors, n_features: sizes of ``x`` and of the anchor matrix.
        metric: ``"cosine"`` or ``"euclidean"``.
        coverage: each sample's closeness to its nearest anchor, summarised.
        rank: numerical rank of the anchor matrix (rows L2-normalised for cosine).
        condition_number: largest over smallest of its ``min(n_anchors, n_features)`` singular
            values (``inf`` when rank-deficient).
        class_counts: ``{class label: anchors}`` over every class of ``labels``; ``None``
            without labels.
        duplicate_pairs: pairs ``(i, j)``, ``i < j``, of anchor positions holding the same
            point (cosine similarity >= 1 - tol, or distance <= tol * largest anchor norm).
        zero_anchors: positions of all-zero anchors (cosine similarity 0 to everything).
    """

    n_samples: int
    n_anchors: int
    n_features: int
    metric: str
    coverage: Coverage
    rank: int
    condition_number: float
    class_counts: dict[Any, int] | None
    duplicate_pairs: tuple[tuple[int, int], ...]
    zero_anchors: tuple[int, ...]

    @property
    def problems(self) -> tuple[str, ...]:
        """Plain-language warnings: rank deficiency, duplicates, zero anchors, empty classes."""
        found = []
        full_rank = min(self.n_anchors, self.n_features)
        if self.rank < full_rank:
            found.append(f"anchor matrix is rank-deficient ({self.rank} < {full_rank})")
        if self.duplicate_pairs:
            found.append(f"{len(self.duplicate_pairs)} duplicate anchor pair(s)")
        if self.zero_anchors:
            found.append(f"{len(self.zero_anchors)} all-zero anchor(s)")
        if self.class_counts is not None:
            empty = [c for c, m in self.class_counts.items() if m == 0]
            if empty:
                found.append(f"{len(empty)} class(es) without anchors: {empty[:_SHOWN_PAIRS]}")
        return tuple(found)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict (an infinite condition number becomes ``None``)."""
        counts = self.class_counts
        return {
            "n_samples": self.n_samples,
            "n_anchors": self.n_anchors,
            "n_features": self.n_features,
            "metric": self.metric,
            "coverage": self.coverage.to_dict(),
            "rank": self.rank,
            "condition_number": (
                self.condition_number if math.isfinite(self.condition_number) else None
            ),
            "class_counts": None if counts is None else [[c, m] for c, m in counts.items()],
            "duplicate_pairs": [list(p) for p in self.duplicate_pairs],
            "zero_anchors": list(self.zero_anchors),
            "problems": list(self.problems),
        }

    def __str__(self) -> str:
        c = self.coverage
        lines = [
            f"{self.n_anchors} anchors over {self.n_samples} samples "
            f"({self.n_features} features, {self.metric})",
            f"coverage ({c.measure} to the nearest anchor): mean {c.mean:.4g}, "
            f"min {c.min:.4g}, 5% {c.p05:.4g}, median {c.median:.4g}, 95% {c.p95:.4g}, "
            f"max {c.max:.4g}",
            f"rank {self.rank} of {min(self.n_anchors, self.n_features)}, "
            f"condition number {self.condition_number:.4g}",
        ]
        if self.class_counts is not None:
            values = list(self.class_counts.values())
            lines.append(
                f"classes: {len(values)}, anchors per class min {min(values)} max {max(values)}"
            )
        if self.duplicate_pairs:
            shown = ", ".join(map(str, self.duplicate_pairs[:_SHOWN_PAIRS]))
            more = "" if len(self.duplicate_pairs) <= _SHOWN_PAIRS else ", ..."
            lines.append(f"duplicate anchor pairs: {shown}{more}")
        lines.append("problems: " + ("; ".join(self.problems) or "none"))
        return "\n".join(lines)


def diagnose(
    x: object,
    anchors: object,
    *,
    labels: object = None,
    metric: str = "cosine",
    duplicate_tol: float = 1e-6,
    chunk_size: int | None = None,
) -> AnchorDiagnostics:
    """Inspect an anchor set: coverage, rank and conditioning, class balance, duplicates.

    Args:
        x: the samples, shape (n_samples, n_features), numpy or torch.
        anchors: either integer indices into ``x``, shape (n_anchors,) (repeats allowed and
            reported as duplicates), or the anchor matrix itself, (n_anchors, n_features).
        labels: class of each sample, shape (n_samples,); needs ``anchors`` as indices.
        metric: ``"cosine"`` (coverage is the cosine similarity to the nearest anchor) or
            ``"euclidean"`` (coverage is the distance to the nearest anchor).
        duplicate_tol: closeness under which two anchors are the same point, in ``[0, 1)``.
        chunk_size: rows of ``x`` per block (default: about 8 MiB per block).

    Returns:
        :class:`AnchorDiagnostics`, printable, with ``to_dict()``.

    Example:
        >>> import numpy as np
        >>> x = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0], [2.0, 0.0]])
        >>> report = diagnose(x, [0, 1, 3], labels=["a", "b", "b", "a"])
        >>> report.rank, report.duplicate_pairs, report.class_counts
        (2, ((0, 2),), {'a': 2, 'b': 1})
        >>> round(report.coverage.min, 4)  # sample 2 is at 45 degrees from every anchor
        0.7071
    """
    metric = check_metric(metric)
    points = check_points(x)
    n, d = points.shape
    tol = check_float(duplicate_tol, "duplicate_tol", low=0.0, high=1.0)
    if tol >= 1.0:
        raise fail("duplicate_tol", "a finite number in [0.0, 1.0)", repr(duplicate_tol))
    chunk = (
        default_chunk_rows(d, 1)
        if chunk_size is None
        else check_int(chunk_size, "chunk_size", low=1)
    )
    index, matrix = _anchor_rows(points, x, anchors)
    if labels is not None and index is None:
        raise fail(
            "anchors",
            "indices into `x` when `labels` is given (labels are per sample of `x`)",
            f"an anchor matrix of shape {matrix.shape}",
        )
    counts = None
    if labels is not None and index is not None:
        lab = check_labels(labels, n_samples=n)
        classes, ids = encode_labels(lab)
        per_class = np.bincount(ids[index], minlength=classes.shape[0])
        counts = {class_label(c): int(m) for c, m in zip(classes, per_class, strict=True)}

    anchor_space = RowSpace(matrix, metric)
    z = anchor_space.rows(np.arange(matrix.shape[0])).astype(np.float64)
    singular = np.linalg.svd(z, compute_uv=False)
    rank_tol = singular.max(initial=0.0) * max(z.shape) * np.finfo(matrix.dtype).eps
    rank = int((singular > rank_tol).sum())
    smallest = singular[-1] if singular.size else 0.0
    condition = float(singular[0] / smallest) if rank == min(z.shape) and smallest > 0 else math.inf

    return AnchorDiagnostics(
        n_samples=n,
        n_anchors=matrix.shape[0],
        n_features=d,
        metric=metric,
        coverage=_coverage(RowSpace(points, metric), z.astype(points.dtype), chunk),
        rank=rank,
        condition_number=condition,
        class_counts=counts,
        duplicate_pairs=_duplicate_pairs(z, metric, tol),
        zero_anchors=(
            tuple(int(i) for i in np.flatnonzero(anchor_space.sq_norms == 0))
            if metric == "cosine"
            else ()
        ),
    )


def _anchor_rows(
    points: np.ndarray, x: object, anchors: object
) -> tuple[np.ndarray | None, np.ndarray]:
    """(indices or None, anchor matrix in the dtype of ``points``)."""
    arr = anchors if hasattr(anchors, "__dlpack__") else np.asarray(anchors)
    if getattr(arr, "ndim", None) == 1:
        index = check_indices(arr, "anchors", points.shape[0], distinct=False)
        return index, points[index]
    if getattr(arr, "ndim", None) == 2 and hasattr(x, "__dlpack__"):
        namespace(x=x, anchors=arr)  # same array library, or a clear TypeError
    matrix = check_points(arr, "anchors")
    check_same_features(points, "x", matrix, "anchors")
    return None, np.asarray(to_numpy(matrix), dtype=points.dtype)


def _coverage(space: RowSpace, z: np.ndarray, chunk: int) -> Coverage:
    """Per-sample closeness to the nearest anchor, summarised."""
    nearest = np.empty(space.n, dtype=np.float64)
    z_sq = np.einsum("ij,ij->i", z, z)
    for lo in range(0, space.n, chunk):
        hi = min(lo + chunk, space.n)
        if space.metric == "cosine":
            # Unit rows (zero rows stay zero): the dot product is the cosine, 0 for zero rows.
            sims = space.x[lo:hi] @ z.T
            if space.weights is not None:
                sims *= space.weights[lo:hi, None]
            nearest[lo:hi] = sims.max(axis=1)
        else:
            nearest[lo:hi] = np.sqrt(space.sq_distances(lo, hi, z, z_sq).min(axis=1))
    if space.metric == "cosine":
        np.clip(nearest, -1.0, 1.0, out=nearest)
        measure = "cosine similarity"
    else:
        measure = "euclidean distance"
    q = np.quantile(nearest, [0.0, 0.05, 0.25, 0.5, 0.75, 0.95, 1.0])
    return Coverage(measure, float(nearest.mean()), *(float(v) for v in q))


def _duplicate_pairs(z: np.ndarray, metric: str, tol: float) -> tuple[tuple[int, int], ...]:
    """Pairs of anchors that are the same point, from their (n_anchors, n_anchors) geometry."""
    sq = np.einsum("ij,ij->i", z, z)
    dist_sq = np.maximum(sq[:, None] + sq[None, :] - 2.0 * (z @ z.T), 0.0)
    if metric == "cosine":
        # Unit rows: cos >= 1 - tol  <=>  ||a - b||^2 <= 2 tol; zero rows are never matched.
        close = (dist_sq <= 2.0 * tol) & (sq[:, None] > 0) & (sq[None, :] > 0)
    else:
        close = np.sqrt(dist_sq) <= tol * math.sqrt(float(sq.max(initial=0.0)))
    i, j = np.nonzero(np.triu(close, k=1))
    return tuple((int(a), int(b)) for a, b in zip(i, j, strict=True))
