"""Compare two paired spaces with several metrics at once, with an optional permutation null.

kNN-based scores depend on ``k`` and on ``n`` (chance level of mutual kNN is about ``k / n``), and
even CKA has a positive floor for unrelated spaces when ``n`` is small relative to ``d``. The
permutation null answers "how large is this score for spaces that share no pairing?": the rows
of ``b`` are shuffled ``n_permutations`` times (seeded), each metric is recomputed, and the
p-value is ``(1 + #{null at least as extreme}) / (1 + n_permutations)`` (one-sided: larger for
similarities, smaller for distances).

For the kNN metrics the null reuses the neighbour lists of the unshuffled spaces (shuffling the
rows of ``b`` only relabels its neighbours), so permutations cost ``O(n k^2)`` each instead of a
new search; the other metrics are recomputed on the shuffled ``b``.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from relreps._array import Array, namespace, to_numpy
from relreps._validation import check_int, check_matrix, check_paired, fail
from relreps.metrics.registry import MetricInfo, metric_info
from relreps.metrics.retrieval import _jaccard, _overlap_counts, _search, knn

__all__ = ["ComparisonReport", "MetricScore", "compare"]

DEFAULT_METRICS = ("jaccard", "mrr", "paired_cosine", "mutual_knn", "cka", "procrustes")
_KNN_METRICS = ("jaccard", "mrr", "mutual_knn")


@dataclass(frozen=True)
class MetricScore:
    """One metric's value, with its permutation null when one was drawn.

    Attributes:
        name: registry key (see :func:`relreps.metrics.metric_info`).
        kind: ``"similarity"`` or ``"distance"``.
        value: the metric on the paired spaces.
        null: values with the rows of ``b`` shuffled (empty without permutations).
        null_mean: mean of ``null`` (None without permutations).
        null_std: standard deviation of ``null`` (None without permutations).
        p_value: one-sided permutation p-value (None without permutations).
    """

    name: str
    kind: str
    value: float
    null: tuple[float, ...] = ()
    null_mean: float | None = None
    null_std: float | None = None
    p_value: float | None = None

    def to_dict(self) -> dict[str, Any]:
        """Plain-dict view (JSON-ready)."""
        return {
            "name": self.name,
            "kind": self.kind,
            "value": self.value,
            "null": list(self.null),
            "null_mean": self.null_mean,
            "null_std": self.null_std,
            "p_value": self.p_value,
        }


@dataclass(frozen=True)
class ComparisonReport:
    """Scores of every requested metric for one pair of spaces.

    Index it by metric name: ``report["cka"].value``.
    """

    scores: tuple[MetricScore, ...]
    n_samples: int
    dims: tuple[int, int]
    k: int
    n_permutations: int
    seed: int

    def __getitem__(self, name: str) -> MetricScore:
        for score in self.scores:
            if score.name == name:
                return score
        raise KeyError(f"No metric {name!r} in this report; it has {list(self.names)}.")

    def __iter__(self) -> Iterator[MetricScore]:
        return iter(self.scores)

    @property
    def names(self) -> tuple[str, ...]:
        """Metric names, in report order."""
        return tuple(s.name for s in self.scores)

    def to_dict(self) -> dict[str, Any]:
        """Plain-dict view (JSON-ready)."""
        return {
            "scores": [s.to_dict() for s in self.scores],
            "n_samples": self.n_samples,
            "dims": list(self.dims),
            "k": self.k,
            "n_permutations": self.n_permutations,
            "seed": self.seed,
        }


def compare(
    a: Array,
    b: Array,
    *,
    metrics: Sequence[str] | None = None,
    k: int = 10,
    n_permutations: int = 0,
    seed: int = 0,
) -> ComparisonReport:
    """Score how alike two paired spaces are with several metrics.

    Args:
        a: (n_samples, d_a) first space (for Jaccard/MRR: the source whose rows query ``b``).
        b: (n_samples, d_b) second space; row i of both is sample i.
        metrics: registry names (see :func:`relreps.metrics.list_metrics`). Default:
            ``jaccard, mrr, paired_cosine`` (only when ``d_a == d_b``), ``mutual_knn``, ``cka``,
            ``procrustes``.
        k: neighbourhood size of the kNN metrics (which use cosine similarity), in
            ``[1, n_samples - 1]``.
        n_permutations: shuffles of ``b``'s rows drawn for the null (0 = none).
        seed: seed of the shuffles.

    Returns:
        A :class:`ComparisonReport`.

    Raises:
        ValueError: unknown metric names, a metric needing equal dims on spaces of different
            dims, or any input error of the metrics themselves.

    Example:
        >>> import numpy as np
        >>> rng = np.random.default_rng(0)
        >>> x = rng.normal(size=(200, 8))
        >>> report = compare(x, 2.0 * x, metrics=["cka", "mutual_knn"], k=5, n_permutations=20)
        >>> round(report["cka"].value, 6), report["cka"].p_value
        (1.0, 0.047619047619047616)
    """
    a = check_matrix(a, "a", min_rows=2)
    b = check_matrix(b, "b", min_rows=2)
    check_paired(a, "a", b, "b")
    xp = namespace(a=a, b=b)
    n = a.shape[0]
    k = check_int(k, "k", low=1, high=n - 1, hint="n_samples - 1")
    n_permutations = check_int(n_permutations, "n_permutations", low=0)
    seed = check_int(seed, "seed", low=0)
    same_dims = a.shape[1] == b.shape[1]
    infos = _resolve(metrics, same_dims, a.shape[1], b.shape[1])

    rng = np.random.default_rng(seed)
    perms = [rng.permutation(n) for _ in range(n_permutations)]
    cache = _NeighbourCache(a, b, k, xp, {i.name for i in infos})
    scores = []
    for info in infos:
        if info.name in _KNN_METRICS:
            value = cache.score(info.name, None)
            null = [cache.score(info.name, p) for p in perms]
        else:
            value = info.compute(a, b, k)
            null = [info.compute(a, _take_rows(b, p, xp), k) for p in perms]
        scores.append(_score(info, value, null))
    return ComparisonReport(tuple(scores), n, (a.shape[1], b.shape[1]), k, n_permutations, seed)


def _resolve(
    metrics: Sequence[str] | None, same_dims: bool, d_a: int, d_b: int
) -> list[MetricInfo]:
    if metrics is None:
        names = [m for m in DEFAULT_METRICS if same_dims or not metric_info(m).equal_dims]
    else:
        if isinstance(metrics, str) or not isinstance(metrics, Sequence):
            raise fail("metrics", "a sequence of metric names", repr(metrics), TypeError)
        names = list(metrics)
        if not names:
            raise fail("metrics", "a non-empty sequence of metric names", "an empty one")
    infos = [metric_info(name) for name in names]
    for info in infos:
        if info.equal_dims and not same_dims:
            raise ValueError(
                f"Expected `a` and `b` to have the same number of features for metric "
                f"{info.name!r}, but they have {d_a} and {d_b}."
            )
    return infos


def _take_rows(x: Array, perm: np.ndarray, xp: Any) -> Array:
    if isinstance(x, np.ndarray):
        return x[perm]
    index = xp.asarray(perm, device=getattr(x, "device", None))
    return xp.take(x, index, axis=0)


def _score(info: MetricInfo, value: float, null: list[float]) -> MetricScore:
    if not null:
        return MetricScore(info.name, info.kind, float(value))
    arr = np.asarray(null, dtype=np.float64)
    # A small tolerance counts null values equal to the observed one up to rounding as extreme.
    tol = 1e-12 * max(1.0, abs(value))
    extreme = arr >= value - tol if info.kind == "similarity" else arr <= value + tol
    p_value = (1.0 + float(extreme.sum())) / (1.0 + arr.size)
    return MetricScore(
        info.name, info.kind, float(value), tuple(float(v) for v in arr),
        float(arr.mean()), float(arr.std()), p_value,
    )  # fmt: skip


class _NeighbourCache:
    """Neighbour lists computed once; scores for any shuffle of ``b``'s rows by relabelling.

    With ``b' = b[perm]``: the b-neighbours of row i of ``b'`` are ``inv[N_b(perm[i])]`` and the
    rows of ``b'`` that ``a_i`` retrieves are ``inv[R(i)]`` (``inv`` = inverse permutation).
    """

    def __init__(self, a: Array, b: Array, k: int, xp: Any, wanted: set[str]) -> None:
        self.k = k
        self.n = a.shape[0]
        empty = np.zeros((0, k), dtype=np.int64)
        self.own_b = self.retrieved = self.nn_a = self.nn_b = empty
        if wanted & {"jaccard", "mrr"}:
            own, retrieved = _search([b, a], b, k, "cosine", False, None, xp)
            self.own_b, self.retrieved = to_numpy(own.indices), to_numpy(retrieved.indices)
        if "mutual_knn" in wanted:
            self.nn_a = to_numpy(knn(a, a, k, exclude_self=True).indices)
            self.nn_b = to_numpy(knn(b, b, k, exclude_self=True).indices)

    def score(self, name: str, perm: np.ndarray | None) -> float:
        xp = namespace(x=np.zeros(1))
        ident = np.arange(self.n)
        p = ident if perm is None else perm
        if name == "jaccard":
            # |inv[N_b(p_i)] & inv[R(i)]| = |N_b(p_i) & R(i)|: compare without relabelling.
            return _jaccard(self.own_b[p], self.retrieved, xp)
        if name == "mrr":
            # Sample i of b' is row p_i of b: find p_i among R(i).
            return _mrr_of(self.retrieved, p)
        inv = np.empty_like(p)
        inv[p] = ident
        counts = _overlap_counts(self.nn_a, inv[self.nn_b[p]], xp)
        return float(np.mean(counts)) / self.k


def _mrr_of(retrieved: np.ndarray, targets: np.ndarray) -> float:
    """Mean of 1 / rank of ``targets[i]`` among ``retrieved[i]`` (0 when absent)."""
    hits = retrieved == targets[:, None]
    ranks = np.arange(1, retrieved.shape[1] + 1, dtype=np.float64)
    return float(np.mean((hits / ranks).sum(axis=1)))
