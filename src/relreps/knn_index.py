"""k-nearest neighbours at millions of points with FAISS: exact flat and approximate IVF / HNSW.

:func:`relreps.metrics.knn` is exact and library-agnostic; this module is for indexes too large
to scan for every query. :class:`FaissIndex` builds an index once and answers many searches:

- ``"flat"``: exact brute force (``IndexFlatIP`` / ``IndexFlatL2``);
- ``"ivf"``: inverted file (k-means cells, ``nlist`` of them; a query scans the ``nprobe``
  nearest cells): approximate, tuned by ``nprobe``;
- ``"hnsw"``: hierarchical navigable small-world graph (``m`` links per node): approximate,
  tuned by ``ef_search``.

Every result is a :class:`Neighbors` that says whether it is ``approximate``, with the method and
its parameters; :func:`recall_at_k` measures an approximate result against an exact one. Results
are ordered best first with ties to the lower index, like the exact kNN. Computation is float32
(FAISS's precision). Needs ``pip install 'relreps[faiss]'``.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from relreps._array import Array, to_numpy
from relreps._validation import check_choice, check_int, check_matrix, check_same_features, fail
from relreps.errors import NotFittedError
from relreps.neighbors import Neighbors

__all__ = ["FaissIndex", "Neighbors", "faiss_knn", "recall_at_k"]

METHODS = ("flat", "ivf", "hnsw")
METRICS = ("cosine", "inner", "euclidean")
_EPS = 1e-12


def _faiss() -> Any:
    try:
        import faiss
    except ImportError as err:  # pragma: no cover - faiss is installed in the dev environment
        raise ImportError(
            "FAISS indexes need the faiss package: pip install 'relreps[faiss]'."
        ) from err
    return faiss


def _float32_rows(x: Array, metric: str) -> np.ndarray:
    rows = np.ascontiguousarray(to_numpy(x), dtype=np.float32)
    if metric == "cosine":
        norms = np.linalg.norm(rows, axis=1, keepdims=True)
        rows = rows / np.maximum(norms, _EPS)
    return rows


class FaissIndex:
    """A FAISS index over the rows of ``index``: build once with :meth:`fit`, then :meth:`search`.

    Args:
        method: ``"flat"`` (exact), ``"ivf"`` or ``"hnsw"`` (approximate).
        metric: ``"cosine"`` (rows L2-normalised), ``"inner"`` or ``"euclidean"``.
        nlist: IVF cells; default ``4 * sqrt(n_index)``, at most ``n_index // 39`` (FAISS wants
            about 39 training points per cell).
        nprobe: IVF cells scanned per query (more = slower, higher recall); default 16. Read at
            each search (as ``ef_search``), so it can be changed on a fitted index.
        m: HNSW links per node (default 32).
        ef_construction: HNSW build-time beam width (default 64).
        ef_search: HNSW search beam width; default ``max(64, 2 * k)``.
        train_size: rows used to train the IVF k-means (default ``min(n_index, 64 * nlist)``),
            drawn with ``seed``.
        seed: seed of the training sample and of FAISS's k-means.

    Attributes:
        n_index_: rows indexed; ``n_features_in_``: their dimension.

    Example:
        >>> import numpy as np
        >>> x = np.random.default_rng(0).normal(size=(2000, 16)).astype(np.float32)
        >>> exact = FaissIndex("flat").fit(x).search(x[:50], 10)
        >>> approx = FaissIndex("ivf", nlist=16, nprobe=4).fit(x).search(x[:50], 10)
        >>> exact.approximate, approx.approximate
        (False, True)
        >>> recall_at_k(approx, exact) > 0.5
        True
    """

    def __init__(
        self,
        method: str = "flat",
        *,
        metric: str = "cosine",
        nlist: int | None = None,
        nprobe: int = 16,
        m: int = 32,
        ef_construction: int = 64,
        ef_search: int | None = None,
        train_size: int | None = None,
        seed: int = 0,
    ) -> None:
        self.method = check_choice(method, "method", METHODS)
        self.metric = check_choice(metric, "metric", METRICS)
        self.nlist = None if nlist is None else check_int(nlist, "nlist", low=1)
        self.nprobe = check_int(nprobe, "nprobe", low=1)
        self.m = check_int(m, "m", low=2)
        self.ef_construction = check_int(ef_construction, "ef_construction", low=1)
        self.ef_search = None if ef_search is None else check_int(ef_search, "ef_search", low=1)
        self.train_size = None if train_size is None else check_int(train_size, "train_size", low=1)
        self.seed = check_int(seed, "seed", low=0)

    def fit(self, index: Array) -> FaissIndex:
        """Build the index over the rows of ``index`` (n_index, n_features); returns self."""
        faiss = _faiss()
        index = check_matrix(index, "index", shape_doc="(n_index, n_features)")
        rows = _float32_rows(index, self.metric)
        n, d = rows.shape
        faiss_metric = faiss.METRIC_L2 if self.metric == "euclidean" else faiss.METRIC_INNER_PRODUCT
        self.params_: dict[str, Any] = {}
        if self.method == "flat":
            built = faiss.IndexFlat(d, faiss_metric)
            built.add(rows)
        elif self.method == "hnsw":
            built = faiss.IndexHNSWFlat(d, self.m, faiss_metric)
            built.hnsw.efConstruction = self.ef_construction
            built.add(rows)
            self.params_ = {"m": self.m, "ef_construction": self.ef_construction}
        else:
            built = self._fit_ivf(rows, faiss, faiss_metric)
        self._index = built
        self.n_index_ = n
        self.n_features_in_ = d
        return self

    def _fit_ivf(self, rows: np.ndarray, faiss: Any, faiss_metric: Any) -> Any:
        n, d = rows.shape
        default = max(1, min(int(4 * math.sqrt(n)), n // 39))
        nlist = self.nlist if self.nlist is not None else default
        if nlist > n:
            raise fail("nlist", f"at most n_index = {n} cells", str(nlist))
        quantizer = faiss.IndexFlat(d, faiss_metric)
        built = faiss.IndexIVFFlat(quantizer, d, nlist, faiss_metric)
        built.cp.seed = self.seed
        n_train = min(n, self.train_size or 64 * nlist)
        pick = np.random.default_rng(self.seed).choice(n, size=n_train, replace=False)
        built.train(rows[np.sort(pick)])
        built.add(rows)
        self._quantizer = quantizer  # the IVF index does not own it: keep it alive
        self.params_ = {"nlist": nlist, "train_size": n_train}
        return built

    def search(self, queries: Array, k: int) -> Neighbors:
        """The ``k`` nearest index rows of each query row (n_queries, n_features).

        Returns:
            :class:`Neighbors` with (n_queries, k) ``indices`` and ``scores``.
        """
        if not hasattr(self, "_index"):
            raise NotFittedError("This FaissIndex is not fitted yet: call fit(index) first.")
        queries = check_matrix(queries, "queries", shape_doc="(n_queries, n_features)")
        if queries.shape[1] != self.n_features_in_:
            raise ValueError(
                f"Expected `queries` to have {self.n_features_in_} features (as the index), but "
                f"got shape {tuple(queries.shape)}."
            )
        k = check_int(k, "k", low=1, high=self.n_index_, hint="n_index")
        params = dict(self.params_)
        # Search-time knobs are read at every search: set ``index.nprobe = 64`` and search again.
        if self.method == "ivf":
            nprobe = min(check_int(self.nprobe, "nprobe", low=1), params["nlist"])
            self._index.nprobe = nprobe
            params["nprobe"] = nprobe
        elif self.method == "hnsw":
            ef = self.ef_search if self.ef_search is not None else max(64, 2 * k)
            self._index.hnsw.efSearch = ef
            params["ef_search"] = ef
        values, ids = self._index.search(_float32_rows(queries, self.metric), k)
        if self.metric == "euclidean":
            values = np.sqrt(np.maximum(values, 0.0))
        # Missing results (-1) last; then best score; then lower index (deterministic ties).
        key = values if self.metric == "euclidean" else -values
        order = np.lexsort((ids, key, ids < 0), axis=1)
        ids = np.take_along_axis(ids, order, axis=1).astype(np.int64)
        values = np.take_along_axis(values, order, axis=1).astype(np.float32)
        return Neighbors(ids, values, self.method != "flat", self.method, self.metric, params)


def faiss_knn(
    queries: Array, index: Array, k: int, *, method: str = "flat", **options: Any
) -> Neighbors:
    """One-shot :class:`FaissIndex` ``(method, **options)`` fitted on ``index``, then searched.

    Args:
        queries: (n_queries, n_features) array.
        index: (n_index, n_features) array.
        k: neighbours per query, in ``[1, n_index]``.
        method: ``"flat"`` (exact), ``"ivf"`` or ``"hnsw"`` (approximate).
        **options: the other :class:`FaissIndex` arguments (``metric``, ``nprobe`` ...).

    Example:
        >>> import numpy as np
        >>> x = np.array([[1.0, 0.0], [0.9, 0.1], [0.0, 1.0]])
        >>> faiss_knn(x, x, 2).indices.tolist()
        [[0, 1], [1, 0], [2, 1]]
    """
    queries = check_matrix(queries, "queries", shape_doc="(n_queries, n_features)")
    index = check_matrix(index, "index", shape_doc="(n_index, n_features)")
    check_same_features(queries, "queries", index, "index")
    return FaissIndex(method, **options).fit(index).search(queries, k)


def recall_at_k(approx: Any, exact: Any) -> float:
    """Recall@k of approximate neighbours: mean over queries of ``|approx_i & exact_i| / k``.

    Args:
        approx: (n_queries, k) indices, or a result with an ``indices`` attribute
            (:class:`Neighbors`, :class:`relreps.metrics.Neighbors`).
        exact: the exact (n_queries, k) indices for the same queries (or such a result).

    Returns:
        Recall in [0, 1]; 1 when every exact neighbour was found.

    Example:
        >>> import numpy as np
        >>> recall_at_k(np.array([[0, 1], [2, 5]]), np.array([[1, 0], [2, 3]]))
        0.75
    """
    a = np.asarray(to_numpy(getattr(approx, "indices", approx)))
    e = np.asarray(to_numpy(getattr(exact, "indices", exact)))
    for name, arr in (("approx", a), ("exact", e)):
        if arr.ndim != 2 or arr.dtype.kind not in "iu":
            raise fail(name, "(n_queries, k) integer indices", f"shape {arr.shape} {arr.dtype}")
    if a.shape != e.shape:
        raise ValueError(
            f"Expected `approx` and `exact` to have the same shape (n_queries, k), but got "
            f"{a.shape} and {e.shape}."
        )
    hits = 0
    for start in range(0, a.shape[0], 8192):  # bounded (rows, k, k) comparison
        block_a, block_e = a[start : start + 8192], e[start : start + 8192]
        found = (block_a[:, :, None] == block_e[:, None, :]) & (block_e[:, None, :] >= 0)
        hits += int(found.any(axis=1).sum())
    return hits / e.size
