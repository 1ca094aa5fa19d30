"""relreps.nn.graph_zoo: node tasks, resumable GCN training, seed stitching and its summary."""

from __future__ import annotations

import itertools
import json
import math
from dataclasses import replace

import numpy as np
import pytest

pytest.importorskip("torch")
pytest.importorskip("scipy")
pytest.importorskip("safetensors")

from relreps.datasets.graphs import GraphDataset, random_split_masks
from relreps.nn.graph import AbsoluteGCN, RelativeGCN
from relreps.nn.graph_zoo import (
    GCNStitching,
    NodeTask,
    fit_or_load_gcn,
    seed_stitching,
    stitching_summary,
)


def two_cliques(n: int = 24, seed: int = 0) -> GraphDataset:
    """Two classes, each a chain of its own nodes plus one bridge; features are noisy labels."""
    labels = np.arange(n) % 2
    order = [np.flatnonzero(labels == c) for c in (0, 1)]
    edges = [(int(a), int(b)) for idx in order for a, b in itertools.pairwise(idx)]
    edges.append((int(order[0][0]), int(order[1][0])))
    rng = np.random.default_rng(seed)
    features = np.eye(2)[labels] + 0.3 * rng.random((n, 2))
    return GraphDataset(
        "cliques",
        tuple(map(str, range(n))),
        np.asarray(edges),
        labels,
        ("even", "odd"),
        features=features,
        masks=random_split_masks(n, train_fraction=0.5, val_fraction=0.25, seed=seed),
    )


def test_node_task_from_dataset():
    dataset = two_cliques()
    task = NodeTask.from_dataset(dataset, n_anchors=100, seed=0)
    assert task.graph.n_nodes == dataset.n_nodes and task.n_features == 2
    for split in ("train", "val", "test"):
        np.testing.assert_array_equal(getattr(task, split), np.flatnonzero(dataset.masks[split]))
    # at most the training nodes become anchors, all of them training nodes
    assert task.anchors.size == task.train.size and set(task.anchors) <= set(task.train)
    small = NodeTask.from_dataset(dataset, n_anchors=3, seed=1)
    assert small.anchors.size == 3 and set(small.anchors) <= set(small.train)
    test_labels = dataset.labels[task.test]
    expected = 100.0 * np.bincount(test_labels).max() / test_labels.size
    assert task.majority_accuracy() == pytest.approx(expected)


def test_node_task_errors():
    dataset = two_cliques()
    with pytest.raises(ValueError, match="features or texts"):
        NodeTask.from_dataset(replace(dataset, features=None), n_anchors=2, seed=0)
    masks = {**dataset.masks, "val": np.zeros(dataset.n_nodes, dtype=bool)}
    with pytest.raises(ValueError, match="'val' mask"):
        NodeTask.from_dataset(replace(dataset, masks=masks), n_anchors=2, seed=0)
    with pytest.raises(ValueError, match="n_anchors"):
        NodeTask.from_dataset(dataset, n_anchors=0, seed=0)


def test_stitching_summary():
    summary = stitching_summary([[90.0, 10.0], [30.0, 80.0]])
    assert summary == {
        "own_mean": 85.0,
        "own_std": 5.0,
        "stitched_mean": 20.0,
        "stitched_std": 10.0,
    }
    single = stitching_summary([[70.0]])
    assert single["own_mean"] == 70.0 and math.isnan(single["stitched_mean"])
    with pytest.raises(ValueError, match="square"):
        stitching_summary(np.zeros((2, 3)))


def test_fit_or_load_gcn_reloads_only_the_same_run(tmp_path):
    task = NodeTask.from_dataset(two_cliques(), n_anchors=4, seed=0)
    path = tmp_path / "m" / "relative.safetensors"

    def model(seed=0):
        return RelativeGCN(2, 2, n_anchors=4, hidden=8, latent=4, seed=seed)

    first = model()
    fit = fit_or_load_gcn(first, task, path, key="a", epochs=8, patience=8)
    assert path.exists() and json.loads(path.with_suffix(".json").read_text())["fit"]["epochs_run"]
    # reloaded: the same weights and facts, however the fresh model was initialised
    again = model(seed=5)
    assert fit_or_load_gcn(again, task, path, key="a", epochs=8, patience=8) == fit
    for name, value in first.state_dict().items():
        assert bool((again.state_dict()[name] == value).all()), name
    assert not again.training
    # another key or other options train again
    other = model(seed=5)
    refit = fit_or_load_gcn(other, task, path, key="b", epochs=3, patience=3)
    assert refit.epochs_run == 3
    # no path: a plain fit that writes nothing
    before = sorted(tmp_path.rglob("*"))
    assert fit_or_load_gcn(model(), task, None, epochs=2, patience=2).epochs_run == 2
    assert sorted(tmp_path.rglob("*")) == before
    with pytest.raises(TypeError, match="GCN"):
        fit_or_load_gcn(object(), task, path)  # type: ignore[arg-type]


@pytest.mark.slow
def test_seed_stitching_trains_both_kinds_and_resumes(tmp_path):
    task = NodeTask.from_dataset(two_cliques(40), n_anchors=6, seed=0)
    options = {"hidden": 16, "latent": 8, "epochs": 25, "patience": 25, "lr": 0.05}
    lines: list[str] = []
    out = seed_stitching(task, [0, 1], folder=tmp_path, key="k", log=lines.append, **options)
    assert isinstance(out, GCNStitching) and out.seeds == (0, 1) and len(lines) == 2
    assert list(out.fits) == [f"seed{s}/{k}" for s in (0, 1) for k in ("absolute", "relative")]
    assert isinstance(out.models["absolute"][0], AbsoluteGCN)
    assert isinstance(out.models["relative"][1], RelativeGCN)
    for kind, matrix in out.matrices.items():
        assert matrix.shape == (2, 2), kind
        assert out.summary()[kind] == stitching_summary(matrix)
    # the easy task is learnt by every seed's own encoder and head
    assert np.diag(out.matrices["relative"]).min() > 80
    resumed = seed_stitching(task, [0, 1], folder=tmp_path, key="k", **options)
    assert resumed.fits == out.fits
    np.testing.assert_array_equal(resumed.matrices["relative"], out.matrices["relative"])
    unsaved = seed_stitching(task, [0, 1], **options)
    np.testing.assert_array_equal(unsaved.matrices["absolute"], out.matrices["absolute"])


def test_seed_stitching_errors():
    task = NodeTask.from_dataset(two_cliques(), n_anchors=2, seed=0)
    with pytest.raises(ValueError, match="distinct"):
        seed_stitching(task, [1, 1])
    with pytest.raises(ValueError, match="distinct"):
        seed_stitching(task, [])
    with pytest.raises(TypeError, match="NodeTask"):
        seed_stitching("task", [0])  # type: ignore[arg-type]
