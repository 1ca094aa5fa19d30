"""Exact k-nearest-neighbour search and the retrieval scores built on it.

:func:`knn` is exact and bounded in memory: queries are processed in blocks, each block's
similarities to the whole index are computed with one matrix product, and the top ``k`` of each
row are selected without sorting the row. Selection uses a *lower bound* on each row's k-th
largest score: the row is split into ``m`` interleaved groups, and the k-th largest group maximum
is a value that at least ``k`` entries reach. Every entry at or above that bound is a candidate
(usually about ``k`` of them); only the candidates are sorted, by score and then by index, so
ties are broken deterministically (lower index first) and no true neighbour can be missed.

Memory: ``O(n_queries * k + chunk_size * n_index)``; never ``n_queries x n_index``.

Scores (the paper's word-embedding experiment, BRIEF.md experiment 1):

- :func:`jaccard_at_k`: retrieval happens in the TARGET space. For sample ``i``, ``N_t(i)`` is the
  k-neighbourhood of its own target vector and ``N_s(i)`` the k-neighbourhood its source vector
  retrieves among the target vectors; the score is the mean of
  ``|N_t(i) & N_s(i)| / |N_t(i) | N_s(i)|``. The query itself is counted in its own neighbourhood
  (as in the paper: ``N_t(i)`` normally contains ``i`` at rank 1).
- :func:`mrr_at_k`: mean over samples of ``1 / rank`` of sample ``i`` itself among the ``k`` target
  vectors its source vector retrieves (rank 1 = first), 0 when it is not among them.
- :func:`mutual_knn`: mean of ``|N_a(i) & N_b(i)| / k`` with neighbourhoods computed within each
  space, the sample itself excluded (Platonic Representation Hypothesis, Huh et al. 2024).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Literal

import numpy as np
from array_api_compat import is_dask_array

from relreps._array import Array, is_numpy, namespace, to_numpy
from relreps._validation import (
    check_choice,
    check_float,
    check_int,
    check_matrix,
    check_paired,
    check_same_features,
    fail,
    renamed_keyword,
)
from relreps.metrics.knn_blocks import (
    AUTO_BACKEND,
    Neighbors,
    float_dtype,
    overlap_counts,
    search,
    unit_rows,
)

# Names other relreps modules imported before the kernel moved to knn_blocks.
_search = search
_overlap_counts = overlap_counts

__all__ = [
    "Neighbors",
    "RetrievalScores",
    "jaccard_at_k",
    "knn",
    "mrr_at_k",
    "mutual_knn",
    "paired_cosine",
    "retrieval_scores",
]

KnnMetric = Literal["cosine", "inner", "euclidean"]
KNN_METRICS: tuple[KnnMetric, ...] = ("cosine", "inner", "euclidean")

_EPS = 1e-12


@dataclass(frozen=True)
class RetrievalScores:
    """Jaccard@k and MRR@k of one source -> target retrieval (see :func:`retrieval_scores`)."""

    jaccard: float
    mrr: float
    k: int
    n_samples: int
    metric: str

    def to_dict(self) -> dict[str, Any]:
        """Plain-dict view (JSON-ready)."""
        return asdict(self)


def knn(
    queries: Array,
    index: Array,
    k: int,
    *,
    metric: KnnMetric = "cosine",
    exclude_self: bool = False,
    chunk_size: int | None = None,
    backend: Literal["auto", "blocked", "faiss"] = "auto",
    block_size: int | None = None,
) -> Neighbors:
    """Exact k nearest neighbours of each query among the rows of ``index``.

    Args:
        queries: (n_queries, n_features) array (numpy, torch or any array-API array).
        index: (n_index, n_features) array of the same library.
        k: neighbours per query, in ``[1, n_index]`` (``[1, n_index - 1]`` with ``exclude_self``).
        metric: ``"cosine"`` (rows L2-normalised, zero rows give similarity 0), ``"inner"``
            (dot product) or ``"euclidean"`` (distance).
        exclude_self: the queries ARE the index rows (row i of one is row i of the other): never
            return ``i`` as a neighbour of query ``i``.
        chunk_size: rows per block: numpy blocks both the queries and the index (default
            2048 rows for float32); other libraries block the queries (default: one block of
            scores near 64 MiB).
        backend: ``"auto"`` (default: the faster one, see
            :data:`relreps.metrics.knn_blocks.AUTO_BACKEND`), ``"blocked"`` (this module, any
            array library) or ``"faiss"`` (``IndexFlatIP`` / ``IndexFlatL2`` exact search;
            numpy float32 computation). Both are exact; they can differ only where two scores
            tie exactly at the k-th place (``"blocked"`` keeps the lower index) or differ by
            float rounding.
        block_size: deprecated alias of ``chunk_size`` (``DeprecationWarning``).

    Returns:
        :class:`Neighbors` ``(indices, scores)``, each (n_queries, k), best first; ties are
        ordered by lower index first. Arrays of the input's library (float dtype of the input,
        or the library's default float for integer input).

    Example:
        >>> import numpy as np
        >>> x = np.array([[1.0, 0.0], [0.9, 0.1], [0.0, 1.0]])
        >>> nn = knn(x, x, 2)
        >>> nn.indices.tolist()
        [[0, 1], [1, 0], [2, 1]]
        >>> knn(x, x, 1, exclude_self=True).indices.ravel().tolist()
        [1, 0, 1]
    """
    chunk_size = renamed_keyword(
        chunk_size, block_size, new="chunk_size", old="block_size", where="knn"
    )
    if is_dask_array(queries) or is_dask_array(index):  # lazy blockwise version
        from relreps.metrics import dask_ops

        return dask_ops.knn(queries, index, k, metric=metric, exclude_self=exclude_self,
                         chunk_size=chunk_size,
                         backend="blocked" if backend == "auto" else backend)  # fmt: skip
    queries = check_matrix(queries, "queries", shape_doc="(n_queries, n_features)")
    index = check_matrix(index, "index", shape_doc="(n_index, n_features)")
    xp = namespace(queries=queries, index=index)
    check_same_features(queries, "queries", index, "index")
    metric = check_choice(metric, "metric", KNN_METRICS)
    backend = check_choice(backend, "backend", ("auto", "blocked", "faiss"))
    if not isinstance(exclude_self, bool):
        raise fail("exclude_self", "a bool", repr(exclude_self), TypeError)
    n_queries, n_index = queries.shape[0], index.shape[0]
    if exclude_self and n_queries != n_index:
        raise ValueError(
            "Expected `queries` and `index` to have the same number of rows with "
            f"exclude_self=True (query i is index row i), but got {n_queries} and {n_index}."
        )
    high = n_index - 1 if exclude_self else n_index
    k = check_int(k, "k", low=1, high=high, hint="n_index" + (" - 1" if exclude_self else ""))
    if chunk_size is not None:
        chunk_size = check_int(chunk_size, "chunk_size", low=1)
    if backend == "faiss" or (backend == "auto" and AUTO_BACKEND == "faiss"):
        found = _knn_faiss(queries, index, k, metric, exclude_self, xp)
    else:
        found = search([queries], index, k, metric, exclude_self, chunk_size, xp)[0]
    return Neighbors(found.indices, found.scores, metric=metric)


def _knn_faiss(
    queries: Array, index: Array, k: int, metric: str, exclude_self: bool, xp: Any
) -> Neighbors:
    try:
        import faiss
    except ImportError as err:  # pragma: no cover - faiss is installed in the dev environment
        raise ImportError(
            "backend='faiss' needs the faiss package: pip install 'relreps[faiss]'."
        ) from err
    q = np.ascontiguousarray(to_numpy(queries), dtype=np.float32)
    x = np.ascontiguousarray(to_numpy(index), dtype=np.float32)
    if metric == "cosine":
        q = q / np.maximum(np.linalg.norm(q, axis=1, keepdims=True), _EPS)
        x = x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), _EPS)
    flat = faiss.IndexFlatL2(x.shape[1]) if metric == "euclidean" else faiss.IndexFlatIP(x.shape[1])
    flat.add(x)
    extra = 1 if exclude_self else 0
    values, ids = flat.search(q, k + extra)
    if exclude_self:
        keep = ids != np.arange(len(ids))[:, None]
        # If self was not returned (exact duplicates), drop the last column instead.
        keep[keep.all(axis=1), -1] = False
        ids = ids[keep].reshape(len(ids), k)
        values = values[keep].reshape(len(values), k)
    if metric == "euclidean":
        values = np.sqrt(np.maximum(values, 0.0))
        order = np.lexsort((ids, values), axis=1)
    else:
        order = np.lexsort((ids, -values), axis=1)
    ids = np.take_along_axis(ids, order, axis=1).astype(np.int64)
    values = np.take_along_axis(values, order, axis=1)
    if is_numpy(queries):
        return Neighbors(ids, values)
    device = getattr(queries, "device", None)
    return Neighbors(
        xp.asarray(ids, device=device),
        xp.asarray(values, dtype=float_dtype(xp, queries, index), device=device),
    )


def _check_pair(source: Array, target: Array, names: tuple[str, str], k: int) -> tuple[Any, int]:
    a_name, b_name = names
    source = check_matrix(source, a_name, min_rows=2)
    target = check_matrix(target, b_name, min_rows=2)
    check_paired(source, a_name, target, b_name)
    xp = namespace(**{a_name: source, b_name: target})
    n = source.shape[0]
    k = check_int(k, "k", low=1, high=n - 1, hint="n_samples - 1")
    return xp, k


def _jaccard(own: Array, retrieved: Array, xp: Any) -> float:
    inter = xp.astype(overlap_counts(own, retrieved, xp), xp.float64)
    union = own.shape[1] + retrieved.shape[1] - inter
    return float(xp.mean(inter / union))


def _mrr(retrieved: Array, xp: Any) -> float:
    n, k = retrieved.shape
    self_ids = xp.arange(n, dtype=retrieved.dtype)[:, None]
    hits = xp.astype(retrieved == self_ids, xp.float64)
    ranks = xp.arange(1, k + 1, dtype=xp.float64)
    return float(xp.mean(xp.sum(hits / ranks[None, :], axis=1)))


def retrieval_scores(
    source: Array,
    target: Array,
    k: int,
    *,
    metric: KnnMetric = "cosine",
    chunk_size: int | None = None,
) -> RetrievalScores:
    """Jaccard@k and MRR@k of retrieving each sample's target vector from its source vector.

    Both scores come from one pass over the target space (the module docstring gives the
    definitions; the query itself counts in its own target neighbourhood, as in the paper).

    Args:
        source: (n_samples, n_features) vectors used as queries.
        target: (n_samples, n_features) vectors searched; row i of both is sample i.
        k: neighbourhood size, in ``[1, n_samples - 1]``.
        metric: ``"cosine"`` (default), ``"inner"`` or ``"euclidean"``, see :func:`knn`.
        chunk_size: query rows per block (memory knob), see :func:`knn`.

    Returns:
        :class:`RetrievalScores` with ``jaccard`` and ``mrr`` in [0, 1].

    Example:
        >>> import numpy as np
        >>> x = np.random.default_rng(0).normal(size=(50, 8))
        >>> s = retrieval_scores(x, 3.0 * x, k=5)
        >>> (s.jaccard, s.mrr)
        (1.0, 1.0)
    """
    if is_dask_array(source) or is_dask_array(target):  # lazy blockwise version
        from relreps.metrics import dask_ops

        return dask_ops.retrieval_scores(source, target, k, metric=metric, chunk_size=chunk_size)
    xp, k = _check_pair(source, target, ("source", "target"), k)
    check_same_features(source, "source", target, "target")
    metric = check_choice(metric, "metric", KNN_METRICS)
    if chunk_size is not None:
        chunk_size = check_int(chunk_size, "chunk_size", low=1)
    own, retrieved = (
        nn.indices for nn in search([target, source], target, k, metric, False, chunk_size, xp)
    )
    n = source.shape[0]
    return RetrievalScores(_jaccard(own, retrieved, xp), _mrr(retrieved, xp), k, n, metric)


def jaccard_at_k(source: Array, target: Array, k: int, *, metric: KnnMetric = "cosine") -> float:
    """Mean Jaccard overlap of own and retrieved k-neighbourhoods in the target space.

    Args:
        source: (n_samples, n_features) query vectors.
        target: (n_samples, n_features) searched vectors; row i of both is sample i.
        k: neighbourhood size, in ``[1, n_samples - 1]``.
        metric: kNN metric (``"cosine"``, ``"inner"``, ``"euclidean"``).

    Returns:
        Similarity in [0, 1]; 1 when every retrieved neighbourhood equals the own one.

    Example:
        >>> import numpy as np
        >>> x = np.random.default_rng(0).normal(size=(40, 6))
        >>> jaccard_at_k(x, x, 5)
        1.0
    """
    if is_dask_array(source) or is_dask_array(target):  # lazy blockwise version
        from relreps.metrics import dask_ops

        return dask_ops.jaccard_at_k(source, target, k, metric=metric)
    xp, k = _check_pair(source, target, ("source", "target"), k)
    check_same_features(source, "source", target, "target")
    metric = check_choice(metric, "metric", KNN_METRICS)
    own, retrieved = (
        nn.indices for nn in search([target, source], target, k, metric, False, None, xp)
    )
    return _jaccard(own, retrieved, xp)


def mrr_at_k(source: Array, target: Array, k: int, *, metric: KnnMetric = "cosine") -> float:
    """Mean reciprocal rank of each sample's own target vector among its k retrieved ones.

    Args:
        source: (n_samples, n_features) query vectors.
        target: (n_samples, n_features) searched vectors; row i of both is sample i.
        k: number retrieved, in ``[1, n_samples - 1]``; a sample not retrieved scores 0.
        metric: kNN metric (``"cosine"``, ``"inner"``, ``"euclidean"``).

    Returns:
        Similarity in [0, 1].

    Example:
        >>> import numpy as np
        >>> x = np.random.default_rng(0).normal(size=(40, 6))
        >>> mrr_at_k(x, x, 5)
        1.0
    """
    if is_dask_array(source) or is_dask_array(target):  # lazy blockwise version
        from relreps.metrics import dask_ops

        return dask_ops.mrr_at_k(source, target, k, metric=metric)
    xp, k = _check_pair(source, target, ("source", "target"), k)
    check_same_features(source, "source", target, "target")
    return _mrr(knn(source, target, k, metric=metric).indices, xp)


def mutual_knn(a: Array, b: Array, k: int, *, metric: KnnMetric = "cosine") -> float:
    """Mean overlap ``|N_a(i) & N_b(i)| / k`` of k-NN sets computed within each space.

    The sample itself is excluded from its own neighbourhood. The score depends on ``k`` and on
    ``n_samples`` (chance level is about ``k / (n_samples - 1)``): report both, or compare with
    a permutation null (:func:`relreps.metrics.compare`).

    Args:
        a: (n_samples, d_a) first space.
        b: (n_samples, d_b) second space; row i of both is sample i (dims may differ).
        k: neighbourhood size, in ``[1, n_samples - 1]``.
        metric: kNN metric (``"cosine"``, ``"inner"``, ``"euclidean"``).

    Returns:
        Similarity in [0, 1], symmetric in ``a`` and ``b``.

    Example:
        >>> import numpy as np
        >>> x = np.random.default_rng(0).normal(size=(40, 6))
        >>> mutual_knn(x, x[:, :3], 5) <= 1.0
        True
    """
    xp, k = _check_pair(a, b, ("a", "b"), k)
    nn_a = knn(a, a, k, metric=metric, exclude_self=True).indices
    nn_b = knn(b, b, k, metric=metric, exclude_self=True).indices
    return float(xp.mean(xp.astype(overlap_counts(nn_a, nn_b, xp), xp.float64))) / k


def paired_cosine(
    a: Array, b: Array, *, center_rows: bool = False, flat_tol: float = 1e-3
) -> float:
    """Mean cosine similarity of paired rows, ``mean_i cos(a_i, b_i)``.

    Zero rows have cosine 0 with anything (no NaN). With ``center_rows`` each row's mean is
    subtracted first, so the score is the mean Pearson correlation of paired rows: a common offset
    (e.g. relative vectors of a non-negative latent space, whose similarities are all >= 0) no
    longer counts as agreement. A row whose centred norm is at most ``flat_tol`` times its norm
    (a near-constant row, e.g. cosines of 1 - 1e-6 to every anchor) has no direction left above
    rounding noise and counts as a zero row (cosine 0).

    Args:
        a: (n_samples, n_features) first space.
        b: (n_samples, n_features) second space; row i of both is sample i.
        center_rows: subtract each row's mean first (mean row-wise Pearson correlation).
        flat_tol: the near-constant row bound of ``center_rows`` (>= 0).

    Returns:
        Similarity in [-1, 1].

    Example:
        >>> import numpy as np
        >>> paired_cosine(np.array([[1.0, 0.0], [0.0, 2.0]]), np.array([[2.0, 0.0], [1.0, 0.0]]))
        0.5
        >>> a, b = np.array([[1.0, 2.0, 3.0]]), np.array([[5.0, 6.0, 7.0]])
        >>> round(paired_cosine(a, b), 3), round(paired_cosine(a, b, center_rows=True), 3)
        (0.968, 1.0)
    """
    a = check_matrix(a, "a")
    b = check_matrix(b, "b")
    check_paired(a, "a", b, "b")
    check_same_features(a, "a", b, "b")
    if not isinstance(center_rows, bool):
        raise fail("center_rows", "True or False", repr(center_rows), TypeError)
    flat_tol = check_float(flat_tol, "flat_tol", low=0.0)
    xp = namespace(a=a, b=b)
    dtype = float_dtype(xp, a, b)
    a, b = xp.astype(a, dtype), xp.astype(b, dtype)
    if center_rows:
        a, b = _centred_rows(a, flat_tol, xp), _centred_rows(b, flat_tol, xp)
    return float(xp.mean(xp.sum(unit_rows(a, xp) * unit_rows(b, xp), axis=1)))


def _centred_rows(x: Any, flat_tol: float, xp: Any) -> Any:
    """Rows minus their mean; rows whose spread is at most ``flat_tol`` of their norm -> 0."""
    centred = x - xp.mean(x, axis=1, keepdims=True)
    spread = xp.sqrt(xp.sum(centred * centred, axis=1))
    flat = spread <= flat_tol * xp.sqrt(xp.sum(x * x, axis=1))
    return xp.where(flat[:, None], xp.zeros_like(centred), centred)
