"""Graph convolutional networks (GCNs) on torch sparse tensors, absolute and relative.

- :class:`SparseGraph` (with :func:`adjacency`, :func:`normalized_adjacency`,
  :func:`to_torch_sparse` and :func:`sparse_matmul`, defined in :mod:`relreps.nn.sparse_graph`
  and importable from here): the sparse tensors a GCN reads.
- :class:`AbsoluteGCN`, :class:`RelativeGCN`: two GCN layers (the encoder) and a LayerNorm +
  Linear head, with the ``embed`` / ``encode`` / ``decode`` split of the other relreps.nn models;
  the relative one reads its node embeddings through :class:`relreps.nn.RelativeProjection`.
- :func:`fit_gcn`: full-batch Adam on the training nodes, early stopping on validation accuracy.
- :func:`stitching_accuracy`: the encoder-by-head accuracy matrix of several trained GCNs.

:func:`relreps.nn.fit` trains on mini-batches of independent samples and stops on a validation
loss; a GCN needs the whole graph at every step (a node's embedding reads its neighbours) and the
split is given by node masks, so it has its own loop here.

Example:
    >>> import numpy as np
    >>> import scipy.sparse as sp
    >>> edges = np.array([[0, 1], [1, 2], [2, 3]])
    >>> graph = SparseGraph.build(edges, sp.identity(4, format="csr", dtype=np.float32))
    >>> model = AbsoluteGCN(4, 2, hidden=8, latent=4, seed=0)
    >>> tuple(model.embed(graph).shape)
    (4, 4)
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import torch
from torch import Tensor, nn
from torch.nn import functional as F

from relreps._validation import check_float, check_int, fail
from relreps.nn.networks import seeded
from relreps.nn.projection import RelativeProjection
from relreps.nn.sparse_graph import (
    SparseGraph,
    adjacency,
    normalized_adjacency,
    sparse_matmul,
    to_torch_sparse,
)
from relreps.projection_spec import ProjectionSpec

__all__ = [
    "GCN",
    "AbsoluteGCN",
    "GCNFit",
    "RelativeGCN",
    "SparseGraph",
    "adjacency",
    "fit_gcn",
    "node_accuracy",
    "normalized_adjacency",
    "sparse_matmul",
    "stitching_accuracy",
    "to_torch_sparse",
]

#: The head's initialisation seed is the encoder's plus this (one seed, one encoder for both kinds).
HEAD_SEED_OFFSET = 1_000_003


def _dropout(h: Tensor, p: float, training: bool) -> Tensor:
    """Inverted dropout from a uniform draw: 3x faster on CPU than ``bernoulli_``-based dropout."""
    if not training or p == 0.0:
        return h
    keep = torch.rand_like(h) >= p
    return h * keep * (1.0 / (1.0 - p))


# --- models ---------------------------------------------------------------------------------------


class GCN(nn.Module):
    """Two GCN layers: the encoder that :class:`AbsoluteGCN` and :class:`RelativeGCN` share.

    ``embed(graph) = A' relu(A' X W1 + b1) W2 + b2`` with ``A'`` the normalised adjacency, ``X``
    the features and dropout on the hidden layer (training mode only). Subclasses add the head
    (``encode`` / ``decode``); ``forward(graph, nodes, anchors) = decode(encode(z[nodes],
    z[anchors]))`` with ``z = embed(graph)``.

    Args:
        in_features: node feature width (>= 1).
        hidden: width of the first layer.
        latent: width of the node embeddings (the second layer).
        dropout: dropout probability on the hidden layer, in [0, 1).
        seed: initialisation seed of the two layers (global RNG state is kept).
    """

    def __init__(
        self,
        in_features: int,
        *,
        hidden: int = 64,
        latent: int = 64,
        dropout: float = 0.5,
        seed: int = 0,
    ) -> None:
        super().__init__()
        self.in_features = check_int(in_features, "in_features", low=1)
        self.hidden = check_int(hidden, "hidden", low=1)
        self.latent = check_int(latent, "latent", low=1)
        self.dropout = check_float(dropout, "dropout", low=0.0, high=1.0)
        if self.dropout == 1.0:
            raise fail("dropout", "a probability in [0, 1)", repr(dropout))
        self.seed = check_int(seed, "seed", low=0)
        with seeded(seed):  # same seed -> same encoder for the absolute and relative model
            self.layer1 = nn.Linear(in_features, hidden)
            self.layer2 = nn.Linear(hidden, latent)

    def embed(self, graph: SparseGraph) -> Tensor:
        """Node embeddings (n_nodes, latent) of every node of ``graph``."""
        if not isinstance(graph, SparseGraph):
            raise fail("graph", "a relreps.nn.SparseGraph", type(graph).__name__, TypeError)
        if graph.n_features != self.in_features:
            raise fail("graph", f"{self.in_features} node features", f"{graph.n_features} features")
        adj, x, x_t = graph.adjacency, graph.features, graph.features_t
        h = sparse_matmul(x, x_t, self.layer1.weight.t()) + self.layer1.bias
        h = torch.relu(sparse_matmul(adj, adj, h))
        h = _dropout(h, self.dropout, self.training)
        return sparse_matmul(adj, adj, self.layer2(h))

    def encode(self, z: Tensor, z_anchors: Tensor) -> Tensor:
        """What travels between models, from node embeddings ``z`` and anchors' ``z_anchors``."""
        raise NotImplementedError

    def decode(self, rep: Tensor) -> Tensor:
        """Class logits (n_nodes, n_classes) from :meth:`encode`'s output."""
        raise NotImplementedError

    def forward(self, graph: SparseGraph, nodes: Tensor, anchors: Tensor) -> Tensor:
        """Logits (len(nodes), n_classes) of ``nodes``, relative to the ``anchors`` nodes."""
        z = self.embed(graph)
        return self.decode(self.encode(z[nodes], z[anchors]))


class AbsoluteGCN(GCN):
    """A :class:`GCN` encoder and a LayerNorm + Linear head on the node embeddings.

    Args:
        in_features: node feature width.
        n_classes: number of classes.
        hidden, latent, dropout: see :class:`GCN`.
        seed: the encoder's seed; the head uses ``seed + HEAD_SEED_OFFSET``.

    Example:
        >>> import scipy.sparse as sp
        >>> graph = SparseGraph.build(np.array([[0, 1]]), sp.eye(2, format="csr"))
        >>> model = AbsoluteGCN(2, 3, hidden=4, latent=4).eval()
        >>> idx = torch.arange(2)
        >>> tuple(model(graph, idx, idx).shape)
        (2, 3)
    """

    def __init__(
        self,
        in_features: int,
        n_classes: int,
        *,
        hidden: int = 64,
        latent: int = 64,
        dropout: float = 0.5,
        seed: int = 0,
    ) -> None:
        super().__init__(in_features, hidden=hidden, latent=latent, dropout=dropout, seed=seed)
        self.n_classes = check_int(n_classes, "n_classes", low=1)
        with seeded(seed + HEAD_SEED_OFFSET):
            self.norm = nn.LayerNorm(latent)
            self.head = nn.Linear(latent, n_classes)

    def encode(self, z: Tensor, z_anchors: Tensor) -> Tensor:
        """The node embeddings ``z`` themselves (``z_anchors`` is not used)."""
        return z

    def decode(self, rep: Tensor) -> Tensor:
        return self.head(self.norm(rep))


class RelativeGCN(GCN):
    """A :class:`GCN` encoder whose head reads the nodes' similarities to anchor nodes.

    ``encode(z, z_anchors)`` is :meth:`RelativeProjection.relative` (cosine by default) of the
    node embeddings to the anchors' *current* embeddings; ``decode`` applies the projection's
    output normalisation (LayerNorm by default) and a Linear head. With ``anchor_grad=True`` (the
    default, as in the paper's graph models) the gradient flows through the anchors too.

    Args:
        in_features: node feature width.
        n_classes: number of classes.
        n_anchors: number of anchor nodes (the relative width).
        hidden, latent, dropout: see :class:`GCN`.
        seed: the encoder's seed; the head uses ``seed + HEAD_SEED_OFFSET``.
        spec: projection options (:class:`relreps.ProjectionSpec`; default cosine).
        output_norm: the projection's output normalisation.
        anchor_grad: let the gradient flow through the anchors' embeddings.

    Example:
        >>> import scipy.sparse as sp
        >>> graph = SparseGraph.build(np.array([[0, 1], [1, 2]]), sp.eye(3, format="csr"))
        >>> model = RelativeGCN(3, 2, n_anchors=2, hidden=4, latent=4).eval()
        >>> tuple(model(graph, torch.arange(3), torch.tensor([0, 2])).shape)
        (3, 2)
    """

    def __init__(
        self,
        in_features: int,
        n_classes: int,
        *,
        n_anchors: int,
        hidden: int = 64,
        latent: int = 64,
        dropout: float = 0.5,
        seed: int = 0,
        spec: ProjectionSpec | None = None,
        output_norm: str = "layernorm",
        anchor_grad: bool = True,
    ) -> None:
        super().__init__(in_features, hidden=hidden, latent=latent, dropout=dropout, seed=seed)
        self.n_classes = check_int(n_classes, "n_classes", low=1)
        self.n_anchors = check_int(n_anchors, "n_anchors", low=1)
        with seeded(seed + HEAD_SEED_OFFSET):
            self.projection = RelativeProjection(
                n_anchors, spec=spec, output_norm=output_norm, anchor_grad=anchor_grad
            )
            self.head = nn.Linear(self.projection.out_features, n_classes)

    def encode(self, z: Tensor, z_anchors: Tensor) -> Tensor:
        """The raw similarities (len(z), n_anchors) of ``z`` to ``z_anchors`` (n_anchors, d)."""
        return self.projection.relative(z, z_anchors)

    def decode(self, rep: Tensor) -> Tensor:
        return self.head(self.projection.normalize(rep))


# --- training -------------------------------------------------------------------------------------


def node_accuracy(logits: Tensor, labels: np.ndarray) -> float:
    """Accuracy in percent of ``logits`` (n_nodes, n_classes) against ``labels`` (n_nodes,).

    Example:
        >>> node_accuracy(torch.tensor([[0.0, 1.0], [1.0, 0.0]]), np.array([1, 1]))
        50.0
    """
    labels = np.asarray(labels)
    if logits.ndim != 2 or labels.shape != (logits.shape[0],):
        raise fail(
            "labels",
            f"shape ({logits.shape[0]},), one label per row of logits",
            f"shape {labels.shape}",
        )
    return float(100.0 * (logits.argmax(dim=1).numpy() == labels).mean())


def stitching_accuracy(
    models: Sequence[GCN], graph: SparseGraph, labels: Any, *, nodes: Any, anchors: Any
) -> np.ndarray:
    """Zero-shot stitching of GCNs: accuracy (%) of the encoder of model i with the head of j.

    Each model embeds the whole graph and encodes ``nodes`` (against the ``anchors``' embeddings
    of the same model, for relative models); every head then decodes every encoding.

    Args:
        models: n trained GCNs of one kind (all absolute or all relative), in eval mode.
        graph: the graph's tensors (n_nodes nodes).
        labels: (n_nodes,) integer classes.
        nodes: 1-D indices of the scored nodes (e.g. the test split).
        anchors: 1-D indices of the anchor nodes (ignored by absolute models).

    Returns:
        (n, n) float64 accuracies; rows are encoders, columns heads, the diagonal not stitched.

    Example:
        >>> import scipy.sparse as sp
        >>> graph = SparseGraph.build(np.array([[0, 1], [2, 3]]), sp.eye(4, format="csr"))
        >>> models = [AbsoluteGCN(4, 2, hidden=8, latent=8, seed=s).eval() for s in (0, 1)]
        >>> stitching_accuracy(models, graph, [0, 0, 1, 1], nodes=[0, 2], anchors=[]).shape
        (2, 2)
    """
    if not isinstance(graph, SparseGraph):
        raise fail("graph", "a relreps.nn.SparseGraph", type(graph).__name__, TypeError)
    if not models or not all(isinstance(m, GCN) for m in models):
        raise fail("models", "a non-empty sequence of relreps.nn GCNs", repr(models), TypeError)
    n = graph.n_nodes
    labels = np.asarray(labels)
    if labels.shape != (n,):
        raise fail("labels", f"({n},) classes, one per node", f"shape {labels.shape}")
    nodes_t = torch.from_numpy(_check_nodes(nodes, "nodes", n))
    relative = any(isinstance(m, RelativeGCN) for m in models)
    anchors_t = torch.from_numpy(_check_nodes(anchors, "anchors", n, allow_empty=not relative))
    y = labels[nodes_t.numpy()]
    with torch.no_grad():
        reps = []
        for model in models:
            z = model.embed(graph)
            reps.append(model.encode(z[nodes_t], z[anchors_t]))
        return np.array([[node_accuracy(m.decode(rep), y) for m in models] for rep in reps])


@dataclass(frozen=True)
class GCNFit:
    """What :func:`fit_gcn` did.

    Attributes:
        best_val_accuracy: the best validation accuracy (%), whose weights were kept.
        best_epoch: the 1-based epoch that reached it.
        epochs_run: epochs completed.
        seconds: wall-clock time.
        cpu_seconds: CPU time of this process.
    """

    best_val_accuracy: float
    best_epoch: int
    epochs_run: int
    seconds: float
    cpu_seconds: float

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _check_nodes(nodes: Any, name: str, n_nodes: int, *, allow_empty: bool = False) -> np.ndarray:
    idx = np.asarray(nodes)
    if idx.ndim != 1 or (idx.size == 0 and not allow_empty):
        raise fail(name, "a non-empty 1-D array of node indices", f"shape {idx.shape}")
    if idx.size and not np.issubdtype(idx.dtype, np.integer):
        raise fail(name, "integer node indices", f"dtype {idx.dtype}", TypeError)
    if idx.size and (idx.min() < 0 or idx.max() >= n_nodes):
        raise fail(name, f"node indices in [0, {n_nodes - 1}]", f"[{idx.min()}, {idx.max()}]")
    return idx.astype(np.int64, copy=False)


def fit_gcn(
    model: GCN,
    graph: SparseGraph,
    labels: Any,
    *,
    train: Any,
    val: Any,
    anchors: Any,
    epochs: int = 200,
    patience: int = 30,
    lr: float = 0.01,
    weight_decay: float = 5e-4,
    seed: int = 0,
) -> GCNFit:
    """Full-batch Adam on the ``train`` nodes; keeps the weights of the best validation accuracy.

    Every epoch embeds the whole graph, takes one cross-entropy step on the training nodes and
    scores the validation nodes in eval mode; training stops after ``patience`` epochs without a
    better validation accuracy. The dropout masks come from ``seed`` (the global torch RNG is
    forked and restored).

    Args:
        model: an :class:`AbsoluteGCN` or :class:`RelativeGCN` (or another :class:`GCN`).
        graph: the graph's tensors (n_nodes nodes).
        labels: (n_nodes,) integer classes.
        train: 1-D indices of the training nodes.
        val: 1-D indices of the validation nodes.
        anchors: 1-D indices of the anchor nodes (``model.n_anchors`` of them for a relative
            model; ignored by an absolute one).
        epochs: maximum number of epochs (>= 1).
        patience: epochs without a better validation accuracy before stopping (>= 1).
        lr: Adam learning rate (> 0).
        weight_decay: Adam weight decay (>= 0).
        seed: seeds the dropout masks.

    Returns:
        A :class:`GCNFit`; the model ends in eval mode with the best weights.

    Example:
        >>> import scipy.sparse as sp
        >>> graph = SparseGraph.build(np.array([[0, 1], [2, 3]]), sp.eye(4, format="csr"))
        >>> model = AbsoluteGCN(4, 2, hidden=8, latent=8)
        >>> labels = np.array([0, 0, 1, 1])
        >>> fit = fit_gcn(model, graph, labels, train=[0, 2], val=[1, 3], anchors=[0], epochs=5)
        >>> fit.epochs_run
        5
    """
    if not isinstance(model, GCN):
        raise fail("model", "a relreps.nn GCN model", type(model).__name__, TypeError)
    if not isinstance(graph, SparseGraph):
        raise fail("graph", "a relreps.nn.SparseGraph", type(graph).__name__, TypeError)
    n = graph.n_nodes
    labels = np.asarray(labels)
    if labels.shape != (n,) or not np.issubdtype(labels.dtype, np.integer):
        raise fail(
            "labels", f"({n},) integer classes, one per node", f"{labels.dtype} {labels.shape}"
        )
    labels = labels.astype(np.int64, copy=False)
    train_idx = _check_nodes(train, "train", n)
    val_idx = _check_nodes(val, "val", n)
    anchor_idx = _check_nodes(anchors, "anchors", n, allow_empty=not isinstance(model, RelativeGCN))
    if isinstance(model, RelativeGCN) and anchor_idx.size != model.n_anchors:
        raise fail("anchors", f"{model.n_anchors} anchor nodes", str(anchor_idx.size))
    epochs = check_int(epochs, "epochs", low=1)
    patience = check_int(patience, "patience", low=1)
    lr = check_float(lr, "lr", low=0.0, low_inclusive=False)
    weight_decay = check_float(weight_decay, "weight_decay", low=0.0)
    seed = check_int(seed, "seed", low=0)

    optimizer = torch.optim.Adam(model.parameters(), lr=lr, weight_decay=weight_decay)
    y = torch.from_numpy(labels)
    train_t, val_t = torch.from_numpy(train_idx), torch.from_numpy(val_idx)
    anchors_t = torch.from_numpy(anchor_idx)
    val_labels = labels[val_idx]
    best, best_state, best_epoch, epoch = -1.0, None, 0, 0
    start, cpu_start = time.perf_counter(), time.process_time()
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)  # dropout masks
        for epoch in range(1, epochs + 1):
            model.train()
            optimizer.zero_grad()
            z = model.embed(graph)
            logits = model.decode(model.encode(z[train_t], z[anchors_t]))  # anchors keep grad
            loss = F.cross_entropy(logits, y[train_t])
            loss.backward()
            optimizer.step()
            model.eval()
            with torch.no_grad():
                z = model.embed(graph)
                logits = model.decode(model.encode(z[val_t], z[anchors_t]))
            score = node_accuracy(logits, val_labels)
            if score > best:
                best, best_epoch = score, epoch
                best_state = {k: v.detach().clone() for k, v in model.state_dict().items()}
            elif epoch - best_epoch >= patience:
                break
    model.load_state_dict(best_state or model.state_dict())
    model.eval()
    return GCNFit(
        best_val_accuracy=best,
        best_epoch=best_epoch,
        epochs_run=epoch,
        seconds=time.perf_counter() - start,
        cpu_seconds=time.process_time() - cpu_start,
    )
