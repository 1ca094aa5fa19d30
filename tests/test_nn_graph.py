"""relreps.nn.graph: sparse helpers, the normalised adjacency, absolute/relative GCNs, fit_gcn."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")
sp = pytest.importorskip("scipy.sparse")

from relreps.nn import (  # noqa: E402
    AbsoluteGCN,
    GCNFit,
    RelativeGCN,
    SparseGraph,
    fit_gcn,
    normalized_adjacency,
)
from relreps.nn.graph import adjacency, node_accuracy, sparse_matmul, to_torch_sparse  # noqa: E402


@pytest.fixture(autouse=True)
def _one_thread():
    """Tiny models run fastest on one thread, and a shared CI machine does not oversubscribe."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def two_communities(n_per_class: int = 20, seed: int = 0):
    """Two dense communities joined by one edge; features are noisy one-hot class indicators."""
    rng = np.random.default_rng(seed)
    labels = np.repeat([0, 1], n_per_class)
    edges = []
    for c in (0, 1):
        members = np.flatnonzero(labels == c)
        for i in members:
            for j in rng.choice(members, size=3, replace=False):
                if i != j:
                    edges.append((int(i), int(j)))
    edges.append((0, n_per_class))
    n = labels.size
    x = np.zeros((n, 6), dtype=np.float32)
    x[np.arange(n), labels] = 1.0
    x[np.arange(n), 2 + rng.integers(0, 4, size=n)] = 1.0
    flip = rng.random(n) < 0.3  # some nodes carry the other class's indicator: neighbours help
    x[flip, labels[flip]] = 0.0
    x[flip, 1 - labels[flip]] = 1.0
    return np.asarray(edges, dtype=np.int64), sp.csr_matrix(x), labels


def test_normalized_adjacency_matches_the_dense_numpy_formula():
    edges, _, _ = two_communities(8)
    n = 16
    got = normalized_adjacency(edges, n).to_dense().numpy()
    a = np.zeros((n, n))
    a[edges[:, 0], edges[:, 1]] = 1.0
    a = np.maximum(a, a.T)
    np.fill_diagonal(a, 0.0)
    a_hat = a + np.eye(n)
    d_inv_sqrt = np.diag(1.0 / np.sqrt(a_hat.sum(axis=1)))
    np.testing.assert_allclose(got, d_inv_sqrt @ a_hat @ d_inv_sqrt, atol=1e-6)
    np.testing.assert_allclose(got, got.T)


def test_adjacency_drops_self_loops_direction_and_duplicates():
    a = adjacency(np.array([[0, 1], [1, 0], [0, 1], [2, 2]]), 4)
    assert a.shape == (4, 4) and a.nnz == 2
    np.testing.assert_array_equal(a.toarray()[:2, :2], [[0, 1], [1, 0]])
    # an isolated node still has degree 1 (its self loop) in the normalised adjacency
    assert normalized_adjacency(np.zeros((0, 2), dtype=np.int64), 2).to_dense().tolist() == [
        [1.0, 0.0],
        [0.0, 1.0],
    ]


@pytest.mark.parametrize(
    ("edges", "n_nodes", "error", "match"),
    [
        (np.array([0, 1]), 3, ValueError, r"shape \(n_edges, 2\)"),
        (np.array([[0, 3]]), 3, ValueError, r"node indices in \[0, 2\]"),
        (np.array([[-1, 0]]), 3, ValueError, "node indices"),
        (np.array([[0.0, 1.0]]), 3, TypeError, "integer"),
        (np.array([[0, 1]]), 0, ValueError, "n_nodes"),
    ],
)
def test_adjacency_errors(edges, n_nodes, error, match):
    with pytest.raises(error, match=match):
        normalized_adjacency(edges, n_nodes)


def test_to_torch_sparse_round_trips_and_does_not_touch_its_input():
    m = sp.random(5, 4, density=0.5, format="csr", random_state=0, dtype=np.float32)
    t = to_torch_sparse(m)
    assert t.layout == torch.sparse_csr and t.dtype == torch.float32 and tuple(t.shape) == (5, 4)
    np.testing.assert_array_equal(t.to_dense().numpy(), m.toarray())
    np.testing.assert_array_equal(to_torch_sparse(m.tocoo()).to_dense().numpy(), m.toarray())
    with pytest.raises(TypeError, match="scipy sparse"):
        to_torch_sparse(m.toarray())


def test_sparse_matmul_forward_and_backward_match_dense():
    m = sp.random(6, 4, density=0.5, format="csr", random_state=1, dtype=np.float32)
    a, a_t = to_torch_sparse(m), to_torch_sparse(m.T)
    dense = torch.randn(4, 3, generator=torch.Generator().manual_seed(0), requires_grad=True)
    out = sparse_matmul(a, a_t, dense)
    ref = torch.from_numpy(m.toarray()) @ dense.detach()
    torch.testing.assert_close(out, ref)
    grad = torch.randn(6, 3, generator=torch.Generator().manual_seed(1))
    out.backward(grad)
    torch.testing.assert_close(dense.grad, torch.from_numpy(m.toarray()).T @ grad)
    with pytest.raises(ValueError, match="dense"):
        sparse_matmul(a, a_t, torch.ones(5, 3))
    with pytest.raises(ValueError, match="transpose"):
        sparse_matmul(a, a, torch.ones(4, 3))
    with pytest.raises(TypeError, match=r"torch\.Tensor"):
        sparse_matmul(a, a_t, np.ones((4, 3)))


def test_sparse_graph_shapes_and_errors():
    edges, x, _ = two_communities(5)
    graph = SparseGraph.build(edges, x)
    assert (graph.n_nodes, graph.n_features) == (10, 6)
    assert tuple(graph.features_t.shape) == (6, 10)
    with pytest.raises(TypeError, match="scipy sparse"):
        SparseGraph.build(edges, x.toarray())
    with pytest.raises(ValueError, match="features"):
        SparseGraph(graph.adjacency, to_torch_sparse(x[:4]), to_torch_sparse(x[:4].T))
    with pytest.raises(ValueError, match="features_t"):
        SparseGraph(graph.adjacency, graph.features, graph.features)


def test_models_shapes_and_shared_encoder():
    edges, x, _ = two_communities(5)
    graph = SparseGraph.build(edges, x)
    absolute = AbsoluteGCN(6, 2, hidden=8, latent=4, seed=3).eval()
    relative = RelativeGCN(6, 2, n_anchors=3, hidden=8, latent=4, seed=3).eval()
    nodes, anchors = torch.arange(10), torch.tensor([0, 4, 7])
    assert tuple(absolute.embed(graph).shape) == (10, 4)
    assert tuple(absolute(graph, nodes, anchors).shape) == (10, 2)
    rel = relative.encode(relative.embed(graph), relative.embed(graph)[anchors])
    assert tuple(rel.shape) == (10, 3)
    assert tuple(relative(graph, nodes, anchors).shape) == (10, 2)
    # one seed, one encoder: the absolute and relative model embed identically
    torch.testing.assert_close(absolute.embed(graph), relative.embed(graph))
    assert set(relative.state_dict()) >= {"layer1.weight", "layer2.weight", "head.weight"}


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"in_features": 0, "n_classes": 2}, ValueError, "in_features"),
        ({"in_features": 3, "n_classes": 0}, ValueError, "n_classes"),
        ({"in_features": 3, "n_classes": 2, "dropout": 1.0}, ValueError, "dropout"),
        ({"in_features": 3, "n_classes": 2, "hidden": 2.5}, TypeError, "hidden"),
    ],
)
def test_model_errors(kwargs, error, match):
    with pytest.raises(error, match=match):
        AbsoluteGCN(**kwargs)


def test_embed_rejects_the_wrong_graph():
    edges, x, _ = two_communities(5)
    model = AbsoluteGCN(5, 2)
    with pytest.raises(ValueError, match="5 node features"):
        model.embed(SparseGraph.build(edges, x))
    with pytest.raises(TypeError, match="SparseGraph"):
        model.embed(x)


@pytest.mark.parametrize("relative", [False, True])
def test_fit_gcn_learns_a_two_community_graph(relative):
    edges, x, labels = two_communities()
    graph = SparseGraph.build(edges, x)
    rng = np.random.default_rng(0)
    order = rng.permutation(labels.size)
    train, val, test = order[:16], order[16:26], order[26:]
    anchors = train[:6]
    kwargs = {"hidden": 16, "latent": 8, "dropout": 0.1, "seed": 0}
    model = RelativeGCN(6, 2, n_anchors=6, **kwargs) if relative else AbsoluteGCN(6, 2, **kwargs)
    before = torch.get_rng_state()
    fitted = fit_gcn(
        model, graph, labels, train=train, val=val, anchors=anchors, epochs=60, patience=60, lr=0.05
    )
    assert torch.equal(before, torch.get_rng_state())  # the global RNG is untouched
    assert isinstance(fitted, GCNFit) and fitted.epochs_run == 60
    assert set(fitted.to_dict()) == {
        "best_val_accuracy",
        "best_epoch",
        "epochs_run",
        "seconds",
        "cpu_seconds",
    }
    assert not model.training
    with torch.no_grad():
        logits = model(graph, torch.from_numpy(test), torch.from_numpy(anchors))
    assert node_accuracy(logits, labels[test]) >= 90.0
    assert fitted.best_val_accuracy >= 90.0


def test_fit_gcn_is_deterministic_and_stops_early():
    edges, x, labels = two_communities()
    graph = SparseGraph.build(edges, x)
    idx = np.arange(labels.size)
    runs = []
    for _ in range(2):
        model = AbsoluteGCN(6, 2, hidden=8, latent=4, seed=1)
        fit = fit_gcn(
            model, graph, labels, train=idx[::2], val=idx[1::2], anchors=[0], epochs=300, patience=2
        )
        runs.append((fit.best_val_accuracy, fit.epochs_run, model.head.weight.detach().clone()))
    assert runs[0][:2] == runs[1][:2] and torch.equal(runs[0][2], runs[1][2])
    assert runs[0][1] < 300


@pytest.mark.parametrize(
    ("change", "error", "match"),
    [
        ({"labels": np.zeros(3, dtype=np.int64)}, ValueError, "labels"),
        ({"labels": np.zeros(40)}, ValueError, "integer classes"),
        ({"train": []}, ValueError, "train"),
        ({"val": [0, 99]}, ValueError, "val"),
        ({"anchors": [0, 1]}, ValueError, "3 anchor nodes"),
        ({"epochs": 0}, ValueError, "epochs"),
        ({"lr": 0.0}, ValueError, "lr"),
        ({"model": "gcn"}, TypeError, "GCN"),
        ({"graph": "graph"}, TypeError, "SparseGraph"),
    ],
)
def test_fit_gcn_errors(change, error, match):
    edges, x, labels = two_communities()
    args = {
        "model": RelativeGCN(6, 2, n_anchors=3, hidden=4, latent=4),
        "graph": SparseGraph.build(edges, x),
        "labels": labels,
        "train": [0, 1, 2],
        "val": [3, 4],
        "anchors": [0, 1, 2],
        "epochs": 2,
        "lr": 0.01,
        **change,
    }
    model, graph, labels = args.pop("model"), args.pop("graph"), args.pop("labels")
    with pytest.raises(error, match=match):
        fit_gcn(model, graph, labels, **args)


def test_node_accuracy_checks_its_labels():
    assert node_accuracy(torch.tensor([[0.0, 1.0]]), np.array([1])) == 100.0
    with pytest.raises(ValueError, match="labels"):
        node_accuracy(torch.tensor([[0.0, 1.0]]), np.array([1, 0]))
