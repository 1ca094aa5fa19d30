"""Graphs as torch sparse tensors, the inputs of the GCNs of :mod:`relreps.nn.graph`.

- :func:`adjacency` / :func:`normalized_adjacency`: the graph's symmetric 0/1 adjacency and the
  GCN propagation matrix ``D^-1/2 (A + I) D^-1/2`` (scipy / torch sparse CSR).
- :func:`to_torch_sparse`, :func:`sparse_matmul`: scipy -> torch sparse CSR, and a sparse-dense
  product whose backward uses a precomputed transpose.
- :class:`SparseGraph`: the three sparse tensors a GCN reads (adjacency, features, transposed
  features).

Example:
    >>> import numpy as np
    >>> import scipy.sparse as sp
    >>> edges = np.array([[0, 1], [1, 2], [2, 3]])
    >>> graph = SparseGraph.build(edges, sp.identity(4, format="csr", dtype=np.float32))
    >>> tuple(graph.adjacency.shape), tuple(graph.features.shape)
    ((4, 4), (4, 4))
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch import Tensor

from relreps._validation import check_int, fail

__all__ = ["SparseGraph", "adjacency", "normalized_adjacency", "sparse_matmul", "to_torch_sparse"]


# --- sparse matrices ------------------------------------------------------------------------------


def _check_edges(edges: Any, n_nodes: Any) -> tuple[np.ndarray, int]:
    n_nodes = check_int(n_nodes, "n_nodes", low=1)
    e = np.asarray(edges)
    if e.ndim != 2 or e.shape[1] != 2:
        raise fail("edges", "an integer array of shape (n_edges, 2)", f"shape {e.shape}")
    if e.size and not np.issubdtype(e.dtype, np.integer):
        raise fail("edges", "integer node indices", f"dtype {e.dtype}", TypeError)
    if e.size and (e.min() < 0 or e.max() >= n_nodes):
        raise fail(
            "edges",
            f"node indices in [0, {n_nodes - 1}] (n_nodes={n_nodes})",
            f"indices in [{e.min()}, {e.max()}]",
        )
    return e.astype(np.int64, copy=False), n_nodes


def adjacency(edges: Any, n_nodes: int) -> Any:
    """The symmetric 0/1 adjacency of a graph, without self loops.

    Args:
        edges: (n_edges, 2) integer node indices; direction and duplicates are ignored.
        n_nodes: number of nodes (>= 1).

    Returns:
        A float32 scipy CSR matrix of shape (n_nodes, n_nodes).

    Example:
        >>> adjacency(np.array([[0, 1], [1, 0], [2, 2]]), 3).toarray().tolist()
        [[0.0, 1.0, 0.0], [1.0, 0.0, 0.0], [0.0, 0.0, 0.0]]
    """
    import scipy.sparse as sp

    e, n = _check_edges(edges, n_nodes)
    a = sp.coo_matrix((np.ones(len(e), dtype=np.float32), (e[:, 0], e[:, 1])), shape=(n, n))
    a = ((a + a.T) > 0).astype(np.float32).tocsr()
    a.setdiag(0)
    a.eliminate_zeros()
    return a


def normalized_adjacency(edges: Any, n_nodes: int) -> Tensor:
    """The GCN propagation matrix ``D^-1/2 (A + I) D^-1/2`` as a torch sparse CSR tensor.

    ``A`` is :func:`adjacency` (symmetric, 0/1) and ``D`` the degree matrix of ``A + I``, so the
    result is symmetric (its own transpose) and every node has degree >= 1.

    Args:
        edges: (n_edges, 2) integer node indices; direction and duplicates are ignored.
        n_nodes: number of nodes (>= 1).

    Returns:
        A float32 sparse CSR tensor of shape (n_nodes, n_nodes).

    Example:
        >>> normalized_adjacency(np.array([[0, 1]]), 2).to_dense()
        tensor([[0.5000, 0.5000],
                [0.5000, 0.5000]])
    """
    import scipy.sparse as sp

    a = adjacency(edges, n_nodes) + sp.identity(n_nodes, dtype=np.float32, format="csr")
    d = np.asarray(a.sum(axis=1)).ravel()
    scale = sp.diags(1.0 / np.sqrt(d)).astype(np.float32)
    return to_torch_sparse((scale @ a @ scale).tocoo())


def to_torch_sparse(m: Any) -> Tensor:
    """A scipy sparse matrix as a float32 torch sparse CSR tensor (indices sorted).

    CSR because on CPU its product with a dense matrix is about 3x faster than COO's.

    Args:
        m: a 2-D scipy sparse matrix or array (any format), shape (n_rows, n_cols).

    Returns:
        A float32 sparse CSR tensor of shape (n_rows, n_cols).

    Example:
        >>> import scipy.sparse as sp
        >>> to_torch_sparse(sp.eye(2, format="coo")).to_dense()
        tensor([[1., 0.],
                [0., 1.]])
    """
    import scipy.sparse as sp

    if not sp.issparse(m):
        raise fail("m", "a scipy sparse matrix", type(m).__name__, TypeError)
    csr = m.tocsr(copy=True)
    csr.sort_indices()
    with warnings.catch_warnings():  # "CSR support is in beta": the products used here are not
        warnings.simplefilter("ignore", UserWarning)
        return torch.sparse_csr_tensor(
            torch.from_numpy(csr.indptr.astype(np.int64)),
            torch.from_numpy(csr.indices.astype(np.int64)),
            torch.from_numpy(csr.data.astype(np.float32)),
            size=csr.shape,
            check_invariants=True,
        )


class _SparseMatmul(torch.autograd.Function):
    @staticmethod
    def forward(ctx: Any, a: Tensor, a_t: Tensor, dense: Tensor) -> Tensor:
        ctx.a_t = a_t
        return a @ dense

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> Any:
        return None, None, ctx.a_t @ grad


def sparse_matmul(a: Tensor, a_t: Tensor, dense: Tensor) -> Tensor:
    """``a @ dense`` for a constant sparse ``a``, with ``a_t`` (its transpose) for the backward.

    torch's own backward of a CSR product rebuilds the transpose on every call, which makes it
    about 5x slower than the forward; with the precomputed transpose both directions are one CSR
    product. No gradient flows to ``a``.

    Args:
        a: (n, m) sparse tensor.
        a_t: (m, n) its transpose (``a`` itself when ``a`` is symmetric).
        dense: (m, k) dense tensor.

    Returns:
        The (n, k) dense product.

    Example:
        >>> a = to_torch_sparse(__import__("scipy.sparse").sparse.eye(2, format="csr"))
        >>> x = torch.ones(2, 3, requires_grad=True)
        >>> sparse_matmul(a, a, x).sum().backward()
        >>> x.grad.tolist()
        [[1.0, 1.0, 1.0], [1.0, 1.0, 1.0]]
    """
    for name, t in (("a", a), ("a_t", a_t), ("dense", dense)):
        if not isinstance(t, Tensor):
            raise fail(name, "a torch.Tensor", type(t).__name__, TypeError)
    if dense.ndim != 2 or a.ndim != 2 or a.shape[1] != dense.shape[0]:
        raise fail(
            "dense",
            f"a 2-D tensor of shape ({a.shape[1] if a.ndim == 2 else '?'}, k)",
            f"shape {tuple(dense.shape)}",
        )
    if tuple(a_t.shape) != (a.shape[1], a.shape[0]):
        raise fail(
            "a_t", f"the transpose of a, shape {(a.shape[1], a.shape[0])}", str(tuple(a_t.shape))
        )
    return _SparseMatmul.apply(a, a_t, dense)


@dataclass(frozen=True, eq=False)
class SparseGraph:
    """What a GCN reads: the propagation matrix and the node features, as sparse CSR tensors.

    Attributes:
        adjacency: (n_nodes, n_nodes) ``D^-1/2 (A + I) D^-1/2`` (:func:`normalized_adjacency`),
            symmetric, so it is its own transpose.
        features: (n_nodes, n_features) node features.
        features_t: (n_features, n_nodes) their transpose (for the backward of the first layer).
    """

    adjacency: Tensor
    features: Tensor
    features_t: Tensor

    def __post_init__(self) -> None:
        n, m = tuple(self.adjacency.shape), tuple(self.features.shape)
        if len(n) != 2 or n[0] != n[1]:
            raise fail("adjacency", "a square (n_nodes, n_nodes) tensor", f"shape {n}")
        if len(m) != 2 or m[0] != n[0]:
            raise fail("features", f"a tensor of shape ({n[0]}, n_features)", f"shape {m}")
        if tuple(self.features_t.shape) != (m[1], m[0]):
            raise fail(
                "features_t",
                f"the transpose of features, shape {(m[1], m[0])}",
                f"shape {tuple(self.features_t.shape)}",
            )

    n_nodes = property(lambda self: int(self.adjacency.shape[0]), doc="Number of nodes.")
    n_features = property(lambda self: int(self.features.shape[1]), doc="Feature width.")

    @classmethod
    def build(cls, edges: Any, features: Any) -> SparseGraph:
        """The tensors of a graph from its edges and a scipy sparse feature matrix.

        Args:
            edges: (n_edges, 2) integer node indices (undirected: direction is ignored).
            features: (n_nodes, n_features) scipy sparse matrix; ``n_nodes`` is its row count.
        """
        import scipy.sparse as sp

        if not sp.issparse(features):
            raise fail("features", "a scipy sparse matrix", type(features).__name__, TypeError)
        n_nodes = int(features.shape[0])
        return cls(
            normalized_adjacency(edges, n_nodes),
            to_torch_sparse(features),
            to_torch_sparse(features.T),
        )
