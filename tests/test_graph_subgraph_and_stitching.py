"""GraphDataset.adjacency / bfs_subgraph / node_features and nn.graph.stitching_accuracy."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("torch")
pytest.importorskip("scipy")

from relreps.datasets.graphs import GraphDataset, random_split_masks
from relreps.nn.graph import (
    AbsoluteGCN,
    RelativeGCN,
    SparseGraph,
    adjacency,
    fit_gcn,
    stitching_accuracy,
)


def _graph(n: int = 40, seed: int = 0, **extra) -> GraphDataset:
    rng = np.random.default_rng(seed)
    edges = np.stack([np.arange(1, n), rng.integers(0, np.arange(1, n))], axis=1)  # a tree
    edges = np.concatenate([edges, [[n - 1, n - 1], [1, 0]]])  # a self loop and a duplicate
    return GraphDataset(
        "g",
        tuple(f"n{i}" for i in range(n)),
        edges,
        rng.integers(0, 3, size=n),
        ("a", "b", "c"),
        masks=random_split_masks(n, seed=seed),
        **extra,
    )


def test_adjacency_matches_the_nn_adjacency_exactly():
    graph = _graph()
    ours, theirs = graph.adjacency(), adjacency(graph.edges, graph.n_nodes)
    assert ours.dtype == np.float32 and ours.shape == (40, 40)
    np.testing.assert_array_equal(ours.indptr, theirs.indptr)
    np.testing.assert_array_equal(ours.indices, theirs.indices)
    assert (ours != ours.T).nnz == 0 and ours.diagonal().sum() == 0


def test_bfs_subgraph_is_connected_and_keeps_node_data():
    from scipy.sparse.csgraph import breadth_first_order, connected_components

    texts = tuple(f"text {i}" for i in range(40))
    graph = _graph(texts=texts, features=np.arange(80.0).reshape(40, 2))
    sub = graph.bfs_subgraph(15, root=5)
    assert sub.n_nodes == 15 and sub.name == "g-bfs15"
    assert connected_components(sub.adjacency())[0] == 1
    kept = np.sort(breadth_first_order(graph.adjacency(), 5, directed=False)[0][:15])
    assert sub.node_ids == tuple(graph.node_ids[i] for i in kept)
    np.testing.assert_array_equal(sub.labels, graph.labels[kept])
    np.testing.assert_array_equal(sub.features, graph.features[kept])
    assert sub.texts == tuple(texts[i] for i in kept)
    for split, mask in graph.masks.items():
        np.testing.assert_array_equal(sub.masks[split], mask[kept])
    # every edge between kept nodes survives, renumbered
    pos = {int(k): i for i, k in enumerate(kept)}
    expected = {(pos[a], pos[b]) for a, b in graph.edges.tolist() if a in pos and b in pos}
    assert set(map(tuple, sub.edges.tolist())) == expected
    assert graph.bfs_subgraph(10_000).n_nodes == graph.n_nodes
    with pytest.raises(ValueError, match="max_nodes"):
        graph.bfs_subgraph(0)
    with pytest.raises(ValueError, match="root"):
        graph.bfs_subgraph(5, root=40)


def test_node_features_rows_are_l1_normalised():
    graph = _graph(4, features=np.array([[1.0, -3.0], [0.0, 0.0], [2.0, 2.0], [0.5, 0.0]]))
    x, words = graph.node_features(vocabulary=10)
    assert words is None and x.dtype == np.float32
    np.testing.assert_allclose(x.toarray(), [[0.25, -0.75], [0, 0], [0.5, 0.5], [1.0, 0.0]])
    texted = _graph(3, texts=("a red fox", "a red hen", "a hen"))
    x, words = texted.node_features(vocabulary=2, skip_top=1)
    assert words == ["hen", "red"]
    np.testing.assert_allclose(x.toarray(), [[0, 1], [0.5, 0.5], [1, 0]])
    with pytest.raises(ValueError, match="features or texts"):
        _graph(3).node_features(vocabulary=2)


def _trained(graph: GraphDataset, kind: type, seed: int, anchors: np.ndarray):
    x, _ = graph.with_features(np.eye(graph.n_nodes)).node_features(vocabulary=1)
    tensors = SparseGraph.build(graph.edges, x)
    options = {"n_anchors": anchors.size} if kind is RelativeGCN else {}
    model = kind(graph.n_nodes, 3, hidden=8, latent=8, seed=seed, **options)
    train = np.flatnonzero(graph.masks["train"])
    val = np.flatnonzero(graph.masks["val"])
    fit_gcn(model, tensors, graph.labels, train=train, val=val, anchors=anchors, epochs=5)
    return model, tensors


@pytest.mark.parametrize("kind", [AbsoluteGCN, RelativeGCN])
def test_stitching_accuracy_matches_a_loop_over_encoder_head_pairs(kind):
    from relreps.nn.graph import node_accuracy

    graph = _graph()
    anchors = np.arange(6)
    pairs = [_trained(graph, kind, seed, anchors) for seed in (0, 1, 2)]
    models, tensors = [m for m, _ in pairs], pairs[0][1]
    test = np.flatnonzero(graph.masks["test"])
    matrix = stitching_accuracy(models, tensors, graph.labels, nodes=test, anchors=anchors)
    assert matrix.shape == (3, 3) and matrix.dtype == np.float64
    import torch

    with torch.no_grad():
        for i, encoder in enumerate(models):
            z = encoder.embed(tensors)
            rep = encoder.encode(z[test], z[anchors])
            for j, head in enumerate(models):
                assert matrix[i, j] == node_accuracy(head.decode(rep), graph.labels[test])
        own = [node_accuracy(m(tensors, torch.from_numpy(test), torch.from_numpy(anchors)),
                             graph.labels[test]) for m in models]  # fmt: skip
    np.testing.assert_array_equal(np.diag(matrix), own)


def test_stitching_accuracy_errors():
    graph = _graph()
    model, tensors = _trained(graph, AbsoluteGCN, 0, np.arange(2))
    with pytest.raises(TypeError, match="models"):
        stitching_accuracy([], tensors, graph.labels, nodes=[0], anchors=[])
    with pytest.raises(TypeError, match="graph"):
        stitching_accuracy([model], "graph", graph.labels, nodes=[0], anchors=[])
    with pytest.raises(ValueError, match="labels"):
        stitching_accuracy([model], tensors, graph.labels[:3], nodes=[0], anchors=[])
    with pytest.raises(ValueError, match="nodes"):
        stitching_accuracy([model], tensors, graph.labels, nodes=[40], anchors=[])
    relative, _ = _trained(graph, RelativeGCN, 0, np.arange(2))
    with pytest.raises(ValueError, match="anchors"):
        stitching_accuracy([relative], tensors, graph.labels, nodes=[0], anchors=[])


def test_planetoid_names_and_load_planetoids_with_a_fake_loader():
    from types import SimpleNamespace

    import torch

    from relreps.datasets.graphs import load_planetoids, planetoid_names

    assert planetoid_names() == ()
    assert planetoid_names(("all",)) == ("Cora", "CiteSeer", "PubMed")
    assert planetoid_names(("citeseer", "", "Nope")) == ("CiteSeer", "Nope")
    with pytest.raises(TypeError, match="names"):
        planetoid_names("Cora")

    def loader(root, name):
        mask = torch.tensor([True, False, False])
        return SimpleNamespace(
            x=torch.eye(3), edge_index=torch.tensor([[0, 1], [1, 2]]), y=torch.tensor([0, 1, 1]),
            train_mask=mask, val_mask=~mask, test_mask=~mask,
        )  # fmt: skip

    graphs, skipped = load_planetoids(("Cora", "Nope"), loader=loader, root="unused")
    assert list(graphs) == ["Cora"] and graphs["Cora"].n_nodes == 3
    assert list(skipped) == ["Nope"] and skipped["Nope"].startswith("not run: ")
