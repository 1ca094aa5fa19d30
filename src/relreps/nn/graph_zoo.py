"""Seeds of absolute and relative GCNs on one node-classification task, trained once, stitched.

- :class:`NodeTask`: what the GCNs of :mod:`relreps.nn.graph` read of a labelled graph (its
  :class:`~relreps.nn.graph.SparseGraph`, labels, split indices and anchor nodes), built from a
  :class:`relreps.datasets.GraphDataset`.
- :func:`fit_or_load_gcn`: :func:`~relreps.nn.graph.fit_gcn`, saving the best weights and what
  the fit did; a rerun with the same options reloads them (an interrupted run resumes).
- :func:`seed_stitching`: ``n`` seeds of :class:`~relreps.nn.graph.AbsoluteGCN` and
  :class:`~relreps.nn.graph.RelativeGCN` (one seed, one encoder initialisation for both kinds),
  then :func:`~relreps.nn.graph.stitching_accuracy` per kind: the encoder of seed i with the
  head of seed j.
- :func:`stitching_summary`: mean and std of a stitching matrix's diagonal (not stitched) and
  off-diagonal (stitched) cells.

Example:
    >>> from relreps.datasets.graphs import GraphDataset, random_split_masks
    >>> edges = np.array([[i, i + 1] for i in range(19)])
    >>> dataset = GraphDataset("path", tuple(map(str, range(20))), edges, np.arange(20) // 10,
    ...                        ("a", "b"), features=np.eye(20), masks=random_split_masks(20))
    >>> task = NodeTask.from_dataset(dataset, n_anchors=4, seed=0)
    >>> out = seed_stitching(task, [0, 1], hidden=8, latent=4, epochs=3)
    >>> out.matrices["relative"].shape, sorted(out.fits)[:2]
    ((2, 2), ['seed0/absolute', 'seed0/relative'])
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from relreps._io import atomic_write_bytes, atomic_write_text
from relreps._validation import check_int, fail
from relreps.nn.graph import (
    GCN,
    AbsoluteGCN,
    GCNFit,
    RelativeGCN,
    SparseGraph,
    fit_gcn,
    stitching_accuracy,
)

__all__ = ["GCNStitching", "NodeTask", "fit_or_load_gcn", "seed_stitching", "stitching_summary"]

KINDS = ("absolute", "relative")
"""The GCN kinds :func:`seed_stitching` trains, in its order."""


@dataclass(frozen=True, eq=False)
class NodeTask:
    """A node-classification task as a GCN reads it.

    Attributes:
        name: the graph's name.
        graph: the propagation matrix and node features (``n_nodes`` nodes).
        labels: (n_nodes,) int64 classes.
        train, val, test: 1-D int64 node indices of the splits.
        anchors: 1-D int64 indices of the anchor nodes (a subset of ``train``).
        n_classes: number of classes.
    """

    name: str
    graph: SparseGraph
    labels: np.ndarray
    train: np.ndarray
    val: np.ndarray
    test: np.ndarray
    anchors: np.ndarray
    n_classes: int

    n_features = property(lambda self: self.graph.n_features, doc="Node feature width.")

    @classmethod
    def from_dataset(
        cls, dataset: Any, *, n_anchors: int, seed: int, vocabulary: int = 2000, skip_top: int = 0
    ) -> NodeTask:
        """The task of a :class:`relreps.datasets.GraphDataset` with train/val/test masks.

        The features are ``dataset.node_features(vocabulary=..., skip_top=...)`` (its own
        features, or the bag of words of its texts; rows L1-normalised); the anchors are
        ``min(n_anchors, n_train)`` training nodes drawn by :func:`relreps.anchors.random`.

        Raises:
            ValueError: a split mask is missing or empty, or the graph has neither features
                nor texts.
        """
        from relreps.anchors import random as random_anchors

        n_anchors = check_int(n_anchors, "n_anchors", low=1)
        masks = getattr(dataset, "masks", None) or {}
        splits = {}
        for split in ("train", "val", "test"):
            if split not in masks or not np.any(masks[split]):
                raise fail("dataset", f"a graph with a non-empty {split!r} mask", repr(dataset))
            splits[split] = np.flatnonzero(masks[split])
        features, _ = dataset.node_features(vocabulary=vocabulary, skip_top=skip_top)
        train = splits["train"]
        chosen = random_anchors(train.size, min(n_anchors, train.size), seed=seed)
        return cls(
            name=dataset.name,
            graph=SparseGraph.build(dataset.edges, features),
            labels=np.asarray(dataset.labels, dtype=np.int64),
            **splits,
            anchors=train[chosen],
            n_classes=len(dataset.class_names),
        )

    def majority_accuracy(self) -> float:
        """Test accuracy (%) of always predicting the test split's most frequent class."""
        counts = np.bincount(self.labels[self.test], minlength=self.n_classes)
        return float(100.0 * counts.max() / counts.sum())


def fit_or_load_gcn(
    model: GCN,
    task: NodeTask,
    path: str | os.PathLike[str] | None,
    *,
    key: str = "",
    epochs: int = 200,
    patience: int = 30,
    lr: float = 0.01,
    weight_decay: float = 5e-4,
    seed: int = 0,
) -> GCNFit:
    """:func:`~relreps.nn.graph.fit_gcn` on ``task``, saved to ``path``; reloaded on a rerun.

    The weights go to ``path`` (safetensors) and the :class:`GCNFit` with ``key`` and the
    options to ``path`` with the suffix ``.json``. When both exist and the saved key and options
    are this call's, the weights are loaded into ``model`` instead of training it.

    Args:
        model: an untrained GCN for ``task`` (its seed decides the initialisation).
        task: the graph, labels, splits and anchors.
        path: the weights file (``.safetensors``); folders are created. None: train, save nothing.
        key: what else identifies the run (the data, the model's sizes); a different key
            retrains.
        epochs, patience, lr, weight_decay, seed: see :func:`~relreps.nn.graph.fit_gcn`.

    Returns:
        What the fit did (the saved one when reloaded); ``model`` ends in eval mode.
    """
    if not isinstance(model, GCN):
        raise fail("model", "a relreps.nn GCN model", type(model).__name__, TypeError)
    options: dict[str, Any] = {"epochs": epochs, "patience": patience, "lr": lr}
    options["weight_decay"] = weight_decay
    stamp = {"key": key, "model": type(model).__name__, "seed": seed, **options}
    if path is not None:
        from safetensors.torch import load_file

        path, sidecar = Path(path), Path(path).with_suffix(".json")
        saved = json.loads(sidecar.read_text()) if path.exists() and sidecar.exists() else {}
        if saved.get("stamp") == stamp:
            model.load_state_dict(load_file(str(path)))
            model.eval()
            return GCNFit(**saved["fit"])
    fit = fit_gcn(
        model, task.graph, task.labels, train=task.train, val=task.val, anchors=task.anchors,
        **options, seed=seed,
    )  # fmt: skip
    if path is not None:
        from safetensors.torch import save

        atomic_write_bytes(path, save({k: v.contiguous() for k, v in model.state_dict().items()}))
        atomic_write_text(sidecar, json.dumps({"stamp": stamp, "fit": fit.to_dict()}))
    return fit


def stitching_summary(matrix: Any) -> dict[str, float]:
    """Mean and population std of the diagonal (own) and off-diagonal (stitched) cells.

    Args:
        matrix: (n, n) scores, rows encoders and columns heads (:func:`stitching_accuracy`).

    Returns:
        ``{"own_mean", "own_std", "stitched_mean", "stitched_std"}``; NaN where the matrix has no
        such (finite) cells, e.g. the stitched ones of a 1 x 1 matrix.

    Example:
        >>> stitching_summary(np.array([[90.0, 10.0], [30.0, 80.0]]))
        {'own_mean': 85.0, 'own_std': 5.0, 'stitched_mean': 20.0, 'stitched_std': 10.0}
    """
    from relreps.results import mean_std

    m = np.asarray(matrix, dtype=np.float64)
    if m.ndim != 2 or m.shape[0] != m.shape[1] or m.shape[0] == 0:
        raise fail("matrix", "a non-empty square (n, n) array", f"shape {m.shape}")
    own_mean, own_std = mean_std(np.diag(m))
    stitched_mean, stitched_std = mean_std(m[~np.eye(len(m), dtype=bool)])
    return {
        "own_mean": own_mean,
        "own_std": own_std,
        "stitched_mean": stitched_mean,
        "stitched_std": stitched_std,
    }


@dataclass(frozen=True)
class GCNStitching:
    """What :func:`seed_stitching` trained and measured.

    Attributes:
        seeds: the seeds, in order.
        models: kind (``"absolute"``, ``"relative"``) -> one trained GCN per seed.
        fits: ``"seed{s}/{kind}"`` -> what the training did.
        matrices: kind -> (n_seeds, n_seeds) test accuracies (%), rows encoders, columns heads.
    """

    seeds: tuple[int, ...]
    models: dict[str, list[GCN]]
    fits: dict[str, GCNFit]
    matrices: dict[str, np.ndarray]

    def summary(self) -> dict[str, dict[str, float]]:
        """kind -> :func:`stitching_summary` of its matrix."""
        return {kind: stitching_summary(m) for kind, m in self.matrices.items()}

    def to_dict(self) -> dict[str, Any]:
        """JSON-able: ``training`` (each fit's ``to_dict()``), ``matrices`` (nested lists) and
        ``summary`` (:meth:`summary`); the models are left out."""
        return {
            "training": {key: fit.to_dict() for key, fit in self.fits.items()},
            "matrices": {kind: m.tolist() for kind, m in self.matrices.items()},
            "summary": self.summary(),
        }


def seed_stitching(
    task: NodeTask,
    seeds: Sequence[int],
    *,
    folder: str | os.PathLike[str] | None = None,
    key: str = "",
    hidden: int = 64,
    latent: int = 64,
    dropout: float = 0.5,
    epochs: int = 200,
    patience: int = 30,
    lr: float = 0.01,
    weight_decay: float = 5e-4,
    log: Callable[[str], None] | None = None,
) -> GCNStitching:
    """Train an absolute and a relative GCN per seed, then stitch the seeds on the test nodes.

    Seed ``s`` initialises both kinds' encoders alike and seeds their dropout; the relative
    model reads the task's anchors. Stitching feeds the encoder of seed i to the head of seed j
    (:func:`~relreps.nn.graph.stitching_accuracy`), zero-shot.

    Args:
        task: the graph, labels, splits and anchors.
        seeds: one model of each kind per seed (non-negative, distinct).
        folder: where :func:`fit_or_load_gcn` saves each model (``{kind}-seed{s}.safetensors``);
            None trains without saving.
        key: identifies the run for reloading (see :func:`fit_or_load_gcn`).
        hidden, latent, dropout: the models' sizes (see :class:`~relreps.nn.graph.GCN`).
        epochs, patience, lr, weight_decay: see :func:`~relreps.nn.graph.fit_gcn`.
        log: called with one line per trained seed.

    Returns:
        A :class:`GCNStitching` (models, fits, matrices).
    """
    if not isinstance(task, NodeTask):
        raise fail("task", "a relreps NodeTask", type(task).__name__, TypeError)
    seeds = tuple(check_int(s, "seeds", low=0) for s in seeds)
    if not seeds or len(set(seeds)) != len(seeds):
        raise fail("seeds", "a non-empty sequence of distinct seeds", repr(seeds))
    sizes: dict[str, Any] = {"hidden": hidden, "latent": latent, "dropout": dropout}
    options: dict[str, Any] = {"epochs": epochs, "patience": patience, "lr": lr}
    options["weight_decay"] = weight_decay
    models: dict[str, list[GCN]] = {kind: [] for kind in KINDS}
    fits = {}
    for seed in seeds:
        for kind in KINDS:
            n, k = task.n_features, task.n_classes
            model: GCN = (
                RelativeGCN(n, k, n_anchors=task.anchors.size, **sizes, seed=seed)
                if kind == "relative"
                else AbsoluteGCN(n, k, **sizes, seed=seed)
            )
            path = None if folder is None else Path(folder) / f"{kind}-seed{seed}.safetensors"
            fits[f"seed{seed}/{kind}"] = fit_or_load_gcn(
                model, task, path, key=key, **options, seed=seed
            )
            models[kind].append(model)
        if log is not None:
            log(f"  {task.name}: seed {seed} trained (absolute + relative)")
    graph, labels, test, anchors = task.graph, task.labels, task.test, task.anchors
    matrices = {
        kind: stitching_accuracy(trained, graph, labels, nodes=test, anchors=anchors)
        for kind, trained in models.items()
    }
    return GCNStitching(seeds, models, fits, matrices)
