"""The one k-nearest-neighbour result type, shared by the exact and the FAISS searches.

It sits in the core layer so that :func:`relreps.metrics.knn` (exact, blocked, dask) and
:class:`relreps.knn_index.FaissIndex` (exact or approximate) return the same type although
neither component may import the other.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = ["Neighbors"]


@dataclass(frozen=True, eq=False)
class Neighbors:
    """The ``k`` nearest index rows of each query row, best first.

    It unpacks as ``indices, scores = neighbors``, so the exact search reads like a pair; the
    other fields say how the neighbours were found.

    Attributes:
        indices: (n_queries, k) integer rows of the index, best first (-1 where an approximate
            search found fewer than ``k``).
        scores: (n_queries, k) similarities (``"cosine"``, ``"inner"``; descending) or Euclidean
            distances (``"euclidean"``; ascending).
        approximate: True when the search may miss true neighbours (FAISS ``"ivf"`` and
            ``"hnsw"``); measure such results with :func:`relreps.knn_index.recall_at_k`.
        method: how they were searched: ``"exact"`` (relreps' blocked kernel or its dask
            version), or FAISS's ``"flat"``, ``"ivf"``, ``"hnsw"``.
        metric: ``"cosine"``, ``"inner"`` or ``"euclidean"``; None when not recorded.
        params: the method's parameters (FAISS: ``nlist``, ``nprobe``, ``m``, ``ef_search`` ...).

    Example:
        >>> import numpy as np
        >>> nn = Neighbors(np.array([[0, 1]]), np.array([[1.0, 0.5]]), metric="cosine")
        >>> idx, scores = nn
        >>> idx.tolist(), nn.approximate, nn.method
        ([[0, 1]], False, 'exact')
    """

    indices: Any
    scores: Any
    approximate: bool = False
    method: str = "exact"
    metric: str | None = None
    params: Mapping[str, Any] = field(default_factory=dict)

    def __iter__(self) -> Iterator[Any]:
        return iter((self.indices, self.scores))

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready (the arrays as nested lists).

        Example:
            >>> import numpy as np
            >>> Neighbors(np.array([[1]]), np.array([[0.5]]), metric="inner").to_dict()["indices"]
            [[1]]
        """
        return {
            "indices": self.indices.tolist(),
            "scores": self.scores.tolist(),
            "approximate": self.approximate,
            "method": self.method,
            "metric": self.metric,
            "params": dict(self.params),
        }
