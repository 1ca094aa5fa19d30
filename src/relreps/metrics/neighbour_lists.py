"""Retrieval scores from neighbour lists computed once, at the largest k, for a subset of queries.

:func:`relreps.metrics.retrieval_scores` searches the spaces itself, for every sample and one
``k``. When several ``k`` are scored, the same neighbour lists serve several comparisons, or only
a sample of the items are queries while the whole space is searched, it is cheaper to search once
(:func:`relreps.metrics.knn` at ``k_max``) and score the lists at each ``k``: they are sorted best
first, so their first ``k`` columns are the k-neighbourhoods.

- :func:`retrieval_from_neighbours`: Jaccard@k and MRR@k from two neighbour lists.
- :func:`retrieval_at_ks`: the search and the scores at every ``k`` (and the paired cosine) of
  one source -> target pair.
- :func:`neighbourhood_agreement`: how alike two spaces' OWN k-neighbourhoods are, each searched
  within its space (the widths may differ).
- :func:`pairwise_retrieval`: :func:`retrieval_at_ks` for several ordered pairs of named spaces,
  in absolute or in relative coordinates (each space projected once on its own anchor rows).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Literal

import numpy as np

from relreps._validation import check_int, check_matrix, check_paired, check_same_features, fail

if TYPE_CHECKING:
    from relreps.metrics.retrieval import KnnMetric

__all__ = [
    "neighbourhood_agreement",
    "pairwise_retrieval",
    "retrieval_at_ks",
    "retrieval_from_neighbours",
]


def retrieval_from_neighbours(
    own: np.ndarray, retrieved: np.ndarray, queries: np.ndarray, k: int
) -> tuple[float, float]:
    """Jaccard@k and MRR@k from neighbour lists computed once at a larger k.

    The definitions are those of :func:`relreps.metrics.retrieval_scores`: Jaccard overlap of
    each query's own target neighbourhood and the one its source vector retrieves (the query
    itself counted in its own neighbourhood, as in the paper), and the reciprocal rank of the
    query itself among the ``k`` retrieved (0 when it is not among them).

    Args:
        own: (n_queries, k_max) integer neighbours of each query's TARGET vector in the target
            space, best first.
        retrieved: (n_queries, k_max) neighbours its SOURCE vector retrieves in the target space.
        queries: (n_queries,) the query items' rows in the searched space.
        k: neighbourhood size, in ``[1, k_max]``.

    Returns:
        ``(jaccard, mrr)``: the means over the queries, in [0, 1].

    Example:
        >>> own = np.array([[0, 1, 2], [1, 0, 2]])
        >>> got = np.array([[0, 2, 1], [2, 1, 0]])
        >>> retrieval_from_neighbours(own, got, np.array([0, 1]), 2)
        (0.3333333333333333, 0.75)
    """
    own, retrieved, queries = np.asarray(own), np.asarray(retrieved), np.asarray(queries)
    if own.ndim != 2 or own.shape != retrieved.shape or own.shape[0] != len(queries):
        raise fail("own/retrieved", "(n_queries, k_max) arrays", f"{own.shape}, {retrieved.shape}")
    if queries.ndim != 1 or own.shape[0] == 0:
        raise fail("queries", "a non-empty (n_queries,) array", f"shape {queries.shape}")
    for name, arr in (("own", own), ("retrieved", retrieved), ("queries", queries)):
        if not np.issubdtype(arr.dtype, np.integer):
            raise fail(name, "integer row indices", f"dtype {arr.dtype}", TypeError)
    k = check_int(k, "k", low=1, high=own.shape[1], hint="the neighbours computed")
    a, b = own[:, :k], retrieved[:, :k]
    inter = (a[:, :, None] == b[:, None, :]).sum(axis=(1, 2)).astype(np.float64)
    jaccard = float(np.mean(inter / (2 * k - inter)))
    hits = b == queries[:, None]
    mrr = float(np.mean((hits / np.arange(1, k + 1)[None, :]).sum(axis=1)))
    return jaccard, mrr


def _query_rows(queries: np.ndarray | None, n: int, name: str = "queries") -> np.ndarray:
    rows = np.arange(n) if queries is None else np.asarray(queries)
    if rows.ndim != 1 or not np.issubdtype(rows.dtype, np.integer) or len(rows) == 0:
        raise fail(name, f"a non-empty (n_{name},) integer array", f"{rows.dtype} {rows.shape}")
    if rows.min() < 0 or rows.max() >= n:
        raise fail(name, f"rows in [0, {n})", f"{rows.min()}..{rows.max()}")
    return rows


def _check_ks(ks: Sequence[int], n: int) -> int:
    if isinstance(ks, int) or not ks:
        raise fail("ks", "a non-empty sequence of neighbourhood sizes", repr(ks))
    return max(check_int(k, "ks", low=1, high=n) for k in ks)


def retrieval_at_ks(
    source: np.ndarray,
    target: np.ndarray,
    ks: Sequence[int],
    *,
    queries: np.ndarray | None = None,
    metric: KnnMetric = "cosine",
) -> dict[str, float]:
    """Jaccard@k and MRR@k of source -> target retrieval at every k, from one search at max(ks).

    Each query row's own k-neighbourhood is searched in ``target`` from its target vector, and
    the one its source vector retrieves from its source vector; the whole of ``target`` is always
    the searched index, only the query rows are a subset. At ``queries=None`` (every row) the
    scores equal :func:`relreps.metrics.retrieval_scores` at each k.

    Args:
        source: (n_samples, n_features) vectors used as queries.
        target: (n_samples, n_features) vectors searched; row i of both is sample i.
        ks: neighbourhood sizes, each in ``[1, n_samples]``.
        queries: (n_queries,) rows used as queries (default: every row).
        metric: kNN metric (``"cosine"``, ``"inner"``, ``"euclidean"``), see
            :func:`relreps.metrics.knn`.

    Returns:
        ``{"jaccard@k": ..., "mrr@k": ..., "cosine": ...}`` for each k in order; ``cosine`` is
        :func:`relreps.metrics.paired_cosine` over ALL rows (not only the queries).

    Example:
        >>> x = np.random.default_rng(0).normal(size=(60, 5))
        >>> retrieval_at_ks(x, 2.0 * x, (1, 5), queries=np.arange(0, 60, 3))
        {'jaccard@1': 1.0, 'mrr@1': 1.0, 'jaccard@5': 1.0, 'mrr@5': 1.0, 'cosine': 1.0}
    """
    from relreps.metrics.retrieval import knn, paired_cosine

    source = check_matrix(source, "source", min_rows=2)
    target = check_matrix(target, "target", min_rows=2)
    check_paired(source, "source", target, "target")
    check_same_features(source, "source", target, "target")
    k_max = _check_ks(ks, target.shape[0])
    rows = _query_rows(queries, source.shape[0])
    own = np.asarray(knn(target[rows], target, k_max, metric=metric).indices)
    retrieved = np.asarray(knn(source[rows], target, k_max, metric=metric).indices)
    scores = {}
    for k in ks:
        scores[f"jaccard@{k}"], scores[f"mrr@{k}"] = retrieval_from_neighbours(
            own, retrieved, rows, k
        )
    scores["cosine"] = paired_cosine(source, target)
    return scores


def neighbourhood_agreement(
    a: np.ndarray,
    b: np.ndarray,
    ks: Sequence[int],
    *,
    queries: np.ndarray | None = None,
    metric: KnnMetric = "cosine",
) -> dict[str, float]:
    """Mean Jaccard overlap of each query's k nearest rows in ``a`` and in ``b``, at every k.

    Each space is searched within itself (the query counts in its own neighbourhood, as in
    :func:`retrieval_at_ks`), so the widths may differ. It says how far two spaces agree on which
    items are close at all: retrieval across them, through any map, can hardly agree better.
    Unlike :func:`relreps.metrics.mutual_knn` (self excluded, overlap / k) this is the Jaccard
    index with the item itself included.

    Args:
        a: (n_samples, d_a) first space.
        b: (n_samples, d_b) second space; row i of both is sample i.
        ks: neighbourhood sizes, each in ``[1, n_samples]``.
        queries: (n_queries,) rows used as queries (default: every row).
        metric: kNN metric, see :func:`relreps.metrics.knn`.

    Returns:
        ``{"jaccard@k": ...}`` for each k in order, in [0, 1]; symmetric in ``a`` and ``b``.

    Example:
        >>> x = np.random.default_rng(0).normal(size=(40, 6))
        >>> neighbourhood_agreement(x, np.hstack([x, x]), (3, 5))
        {'jaccard@3': 1.0, 'jaccard@5': 1.0}
    """
    from relreps.metrics.retrieval import knn

    a = check_matrix(a, "a", min_rows=2)
    b = check_matrix(b, "b", min_rows=2)
    check_paired(a, "a", b, "b")
    k_max = _check_ks(ks, a.shape[0])
    rows = _query_rows(queries, a.shape[0])
    own_a = np.asarray(knn(a[rows], a, k_max, metric=metric).indices)
    own_b = np.asarray(knn(b[rows], b, k_max, metric=metric).indices)
    return {f"jaccard@{k}": retrieval_from_neighbours(own_a, own_b, rows, k)[0] for k in ks}


def pairwise_retrieval(
    spaces: Mapping[str, np.ndarray],
    pairs: Sequence[tuple[str, str]],
    ks: Sequence[int],
    *,
    anchors: np.ndarray | None = None,
    center: Literal["anchors"] | None = None,
    queries: np.ndarray | None = None,
    metric: KnnMetric = "cosine",
) -> dict[tuple[str, str], dict[str, float]]:
    """:func:`retrieval_at_ks` of every ``(source, target)`` pair of named spaces.

    With ``anchors`` the pairs are compared in relative coordinates: each space used by a pair is
    projected once (:func:`relreps.relative_projection`) on its OWN rows at ``anchors`` (parallel
    anchors: row i is the same item in every space), so spaces of different widths compare.
    Without, in absolute coordinates, which needs equal widths.

    Args:
        spaces: name -> (n_samples, d_name) vectors; row i of every space is item i.
        pairs: ordered (source name, target name) pairs; sources are the queries.
        ks: neighbourhood sizes, each in ``[1, n_samples]``.
        anchors: (n_anchors,) anchor rows, or None for absolute coordinates.
        center: ``"anchors"`` subtracts each space's anchor mean first (relative only).
        queries: (n_queries,) query rows (default: every row).
        metric: kNN metric of the search, see :func:`relreps.metrics.knn`.

    Returns:
        ``{(source, target): {"jaccard@k": ..., "mrr@k": ..., "cosine": ...}}`` in pair order.

    Raises:
        KeyError: a pair names a space not in ``spaces``.
        ValueError: no pairs, bad anchor rows, ``center`` without anchors, unequal widths in
            absolute coordinates, unpaired spaces.

    Example:
        >>> rng = np.random.default_rng(0)
        >>> x = rng.normal(size=(50, 6))
        >>> q = np.linalg.qr(rng.normal(size=(6, 6)))[0]
        >>> spaces = {"a": x, "b": 3 * x @ q}
        >>> pairwise_retrieval(spaces, [("a", "b")], (5,), anchors=np.arange(10))
        {('a', 'b'): {'jaccard@5': 1.0, 'mrr@5': 1.0, 'cosine': 1.0}}
        >>> pairwise_retrieval(spaces, [("a", "b")], (5,))[("a", "b")]["jaccard@5"] < 0.5
        True
    """
    if not pairs:
        raise fail("pairs", "at least one (source, target) pair", "none")
    for name in dict.fromkeys(n for pair in pairs for n in pair):
        if name not in spaces:
            raise KeyError(f"Expected pair names among the spaces {sorted(spaces)}, got {name!r}.")
    if center not in (None, "anchors"):
        raise fail("center", "None or 'anchors'", repr(center))
    if anchors is None and center is not None:
        raise fail("center", "None in absolute coordinates (no anchors)", repr(center))
    done: dict[str, np.ndarray] = {}

    def view(name: str) -> np.ndarray:
        if name not in done:
            x = spaces[name]
            if anchors is None:
                done[name] = x
            else:
                from relreps.projection import relative_projection

                rows = _query_rows(anchors, np.shape(x)[0], "anchors")
                done[name] = np.asarray(relative_projection(x, x[rows], center=center))
        return done[name]

    return {
        (source, target): retrieval_at_ks(
            view(source), view(target), ks, queries=queries, metric=metric
        )
        for source, target in pairs
    }
