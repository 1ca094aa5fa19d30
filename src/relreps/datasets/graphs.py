"""Node classification graphs: the WordNet noun taxonomy (offline) and PyG Planetoid (online).

The WordNet graph has one node per synset, an edge from each hyponym to its hypernym and the
synset's supersense as node label; node features come from encoding the node ``texts`` (glosses)
with any encoder. Planetoid (Cora, CiteSeer, PubMed) is read through PyTorch Geometric, which
downloads the raw files on first use.
"""

from __future__ import annotations

import os
import re
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from relreps._validation import check_choice, check_float, check_int, check_matrix, fail
from relreps.datasets.base import DataNotFoundError, data_dir
from relreps.datasets.wordnet import (
    _FIRST_LEXFILE,
    _N_CLASSES,
    LEXNAMES,
    _definition,
    read_wordnet,
)

__all__ = [
    "GraphDataset",
    "bag_of_words",
    "load_planetoid",
    "load_planetoids",
    "planetoid_names",
    "random_split_masks",
    "wordnet_graph",
]

PathLike = str | os.PathLike[str]
PLANETOID_NAMES = ("Cora", "CiteSeer", "PubMed")
_TOKEN = re.compile(r"[a-z]+")


@dataclass(frozen=True, eq=False)
class GraphDataset:
    """A graph with labelled nodes, optional node features/texts and split masks.

    Attributes:
        name: dataset name.
        node_ids: ``n_nodes`` stable string ids.
        edges: ``(n_edges, 2)`` int64 directed edges ``(source, target)`` between node indices.
        labels: ``(n_nodes,)`` int64 class indices into ``class_names``.
        class_names: the name of each class.
        features: ``(n_nodes, n_features)`` float array, or ``None`` (encode ``texts`` to get one).
        texts: ``n_nodes`` node descriptions, or ``None``.
        masks: split name -> ``(n_nodes,)`` bool mask (``"train"``, ``"val"``, ``"test"``).
        source: where the graph was read from.

    Example:
        >>> g = GraphDataset("toy", ("a", "b"), np.array([[0, 1]]), np.array([0, 1]), ("x", "y"))
        >>> g.n_nodes, g.edge_index().tolist(), g.undirected_edges().shape
        (2, [[0], [1]], (2, 2))
    """

    name: str
    node_ids: tuple[str, ...]
    edges: np.ndarray
    labels: np.ndarray
    class_names: tuple[str, ...]
    features: np.ndarray | None = None
    texts: tuple[str, ...] | None = None
    masks: dict[str, np.ndarray] = field(default_factory=dict)
    source: str = ""

    def __post_init__(self) -> None:
        n = len(self.node_ids)
        labels = np.asarray(self.labels)
        if labels.shape != (n,) or labels.dtype.kind not in "iu":
            raise fail("labels", f"a ({n},) integer array", f"{labels.dtype} shape {labels.shape}")
        edges = np.asarray(self.edges)
        if edges.ndim != 2 or edges.shape[1] != 2 or edges.dtype.kind not in "iu":
            raise fail("edges", "an (n_edges, 2) integer array", f"shape {edges.shape}")
        if edges.size and (edges.min() < 0 or edges.max() >= n):
            raise fail("edges", f"node indices in [0, {n - 1}]", f"[{edges.min()}, {edges.max()}]")
        if self.features is not None:
            feats = check_matrix(self.features, "features")
            if feats.shape[0] != n:
                raise fail("features", f"{n} rows (one per node)", f"shape {feats.shape}")
        if self.texts is not None and len(self.texts) != n:
            raise fail("texts", f"{n} strings (one per node)", f"{len(self.texts)}")
        for split, mask in self.masks.items():
            if np.asarray(mask).shape != (n,) or np.asarray(mask).dtype != bool:
                raise fail(f"masks[{split!r}]", f"a ({n},) bool array", f"{np.asarray(mask).shape}")
        object.__setattr__(self, "labels", labels.astype(np.int64, copy=False))
        object.__setattr__(self, "edges", edges.astype(np.int64, copy=False))

    def __repr__(self) -> str:
        return (
            f"GraphDataset(name={self.name!r}, n_nodes={self.n_nodes}, "
            f"n_edges={self.edges.shape[0]}, n_classes={len(self.class_names)}, "
            f"splits={sorted(self.masks)})"
        )

    @property
    def n_nodes(self) -> int:
        """Number of nodes."""
        return len(self.node_ids)

    def edge_index(self) -> np.ndarray:
        """Edges as a ``(2, n_edges)`` array, the PyTorch Geometric layout."""
        return np.ascontiguousarray(self.edges.T)

    def undirected_edges(self) -> np.ndarray:
        """``(n_undirected * 2, 2)`` edges with both directions, each once, sorted."""
        both = np.concatenate([self.edges, self.edges[:, ::-1]])
        return np.unique(both, axis=0)

    def adjacency(self) -> Any:
        """The symmetric 0/1 adjacency without self loops: a float32 scipy CSR (n_nodes, n_nodes).

        Example:
            >>> g = GraphDataset("t", ("a", "b", "c"), np.array([[0, 1], [1, 0], [2, 2]]),
            ...                  np.zeros(3, dtype=int), ("x",))
            >>> g.adjacency().toarray().tolist()
            [[0.0, 1.0, 0.0], [1.0, 0.0, 0.0], [0.0, 0.0, 0.0]]
        """
        import scipy.sparse as sp

        e = self.undirected_edges()
        e = e[e[:, 0] != e[:, 1]]
        n = self.n_nodes
        return sp.csr_matrix((np.ones(len(e), dtype=np.float32), (e[:, 0], e[:, 1])), shape=(n, n))

    def bfs_subgraph(self, max_nodes: int, *, root: int = 0) -> GraphDataset:
        """The first ``max_nodes`` nodes of a breadth-first search from ``root`` and their edges.

        The subgraph is connected (every kept node was reached from ``root``); node ids, labels,
        features, texts and masks are restricted to the kept nodes, in their original order.

        Args:
            max_nodes: number of nodes to keep (>= 1); a larger number keeps the whole component.
            root: the start node, in ``[0, n_nodes)``.

        Returns:
            A GraphDataset named ``"{name}-bfs{n}"`` with ``n <= max_nodes`` nodes.

        Example:
            >>> g = GraphDataset("t", tuple("abcd"), np.array([[0, 1], [1, 2], [2, 3]]),
            ...                  np.zeros(4, dtype=int), ("x",))
            >>> sub = g.bfs_subgraph(3, root=3)
            >>> sub.node_ids, sub.edges.tolist()
            (('b', 'c', 'd'), [[0, 1], [1, 2]])
        """
        from scipy.sparse.csgraph import breadth_first_order

        max_nodes = check_int(max_nodes, "max_nodes", low=1)
        root = check_int(root, "root", low=0, high=self.n_nodes - 1)
        order = breadth_first_order(self.adjacency(), root, directed=False)[0]
        keep = np.sort(order[:max_nodes])
        new_index = np.full(self.n_nodes, -1, dtype=np.int64)
        new_index[keep] = np.arange(keep.size)
        edges = new_index[self.edges]
        return replace(
            self,
            name=f"{self.name}-bfs{keep.size}",
            node_ids=tuple(self.node_ids[i] for i in keep),
            edges=edges[(edges >= 0).all(axis=1)],
            labels=self.labels[keep],
            features=None if self.features is None else self.features[keep],
            texts=None if self.texts is None else tuple(self.texts[i] for i in keep),
            masks={k: v[keep] for k, v in self.masks.items()},
        )

    def node_features(self, *, vocabulary: int, skip_top: int = 0) -> tuple[Any, list[str] | None]:
        """Sparse node features with rows L1-normalised, as Planetoid's features are.

        The graph's own ``features`` when it has them (words: None), else the binary
        :func:`bag_of_words` of its ``texts``.

        Args:
            vocabulary: bag-of-words width (most frequent words), used only for texts.
            skip_top: most frequent words dropped as stop words, used only for texts.

        Returns:
            ``(features, words)``: a float32 scipy CSR (n_nodes, n_features) and the words of its
            columns (None for given features).

        Raises:
            ValueError: the graph has neither features nor texts.

        Example:
            >>> g = GraphDataset("t", ("a", "b"), np.array([[0, 1]]), np.array([0, 1]), ("x", "y"),
            ...                  texts=("red fox", "red hen"))
            >>> x, words = g.node_features(vocabulary=5)
            >>> words, x.toarray().tolist()
            (['fox', 'hen', 'red'], [[0.5, 0.0, 0.5], [0.0, 0.5, 0.5]])
        """
        import scipy.sparse as sp

        if self.features is not None:
            x = sp.csr_matrix(np.asarray(self.features, dtype=np.float32))
            sums = np.asarray(abs(x).sum(axis=1)).ravel()
            return (sp.diags(1.0 / np.maximum(sums, 1e-12)).astype(np.float32) @ x).tocsr(), None
        if self.texts is None:
            raise fail("graph", "a graph with features or texts", repr(self))
        return bag_of_words(self.texts, vocabulary=vocabulary, skip_top=skip_top)

    def with_features(self, features: Any) -> GraphDataset:
        """A copy with ``features`` ``(n_nodes, n_features)`` (e.g. encoded node texts)."""
        return replace(self, features=np.asarray(check_matrix(features, "features")))

    def to_dict(self) -> dict[str, Any]:
        """Metadata as plain JSON types."""
        return {
            "name": self.name,
            "n_nodes": self.n_nodes,
            "n_edges": int(self.edges.shape[0]),
            "class_names": list(self.class_names),
            "n_features": None if self.features is None else int(self.features.shape[1]),
            "splits": {k: int(v.sum()) for k, v in self.masks.items()},
            "source": self.source,
        }


def random_split_masks(
    n_nodes: int, *, train_fraction: float = 0.6, val_fraction: float = 0.2, seed: int = 0
) -> dict[str, np.ndarray]:
    """Disjoint random train/val/test node masks covering every node.

    Example:
        >>> m = random_split_masks(10, train_fraction=0.5, val_fraction=0.2, seed=0)
        >>> [int(m[k].sum()) for k in ("train", "val", "test")]
        [5, 2, 3]
    """
    n_nodes = check_int(n_nodes, "n_nodes", low=1)
    train_fraction = check_float(train_fraction, "train_fraction", low=0.0, high=1.0)
    val_fraction = check_float(val_fraction, "val_fraction", low=0.0, high=1.0 - train_fraction)
    seed = check_int(seed, "seed", low=0)
    order = np.random.default_rng(seed).permutation(n_nodes)
    n_train = round(train_fraction * n_nodes)
    n_val = round(val_fraction * n_nodes)
    masks = {}
    for name, chosen in (
        ("train", order[:n_train]),
        ("val", order[n_train : n_train + n_val]),
        ("test", order[n_train + n_val :]),
    ):
        mask = np.zeros(n_nodes, dtype=bool)
        mask[chosen] = True
        masks[name] = mask
    return masks


def wordnet_graph(
    pos: str = "noun",
    *,
    path: PathLike | None = None,
    seed: int = 0,
    train_fraction: float = 0.6,
    val_fraction: float = 0.2,
) -> GraphDataset:
    """The WordNet taxonomy: synsets as nodes, hyponym -> hypernym edges, supersense labels.

    Args:
        pos: ``"noun"`` (82,115 nodes, 84,427 edges, 26 classes) or ``"verb"``.
        path: ``data.noun`` / ``data.verb`` or its folder (default: cache dir, then
            ``/usr/share/wordnet`` from the Debian package ``wordnet-base``).
        seed: seed of the random train/val/test node split.
        train_fraction: fraction of nodes in the train mask.
        val_fraction: fraction in the validation mask (the rest is test).

    Returns:
        A :class:`GraphDataset` whose ``texts`` are the glosses (definitions) and ``features`` is
        ``None``.

    Example (reads the real data, so it is not a doctest)::

        g = wordnet_graph()
        g.n_nodes, g.edges.shape
        # -> (82115, (84427, 2))
    """
    check_choice(pos, "pos", list(_FIRST_LEXFILE))
    synsets = read_wordnet(pos, path=path)
    first = _FIRST_LEXFILE[pos]
    return GraphDataset(
        name=f"wordnet-{pos}-graph",
        node_ids=synsets.ids(),
        edges=synsets.hypernym_edges,
        labels=synsets.lexfiles - first,
        class_names=LEXNAMES[first : first + _N_CLASSES[pos]],
        texts=tuple(_definition(g) for g in synsets.glosses),
        masks=random_split_masks(
            len(synsets), train_fraction=train_fraction, val_fraction=val_fraction, seed=seed
        ),
        source=synsets.source,
    )


def bag_of_words(texts: Any, *, vocabulary: int, skip_top: int = 0) -> tuple[Any, list[str]]:
    """Binary bag-of-words of ``texts`` over their most frequent words, rows L1-normalised.

    Words are lowercase alphabetic tokens counted once per text (document frequency); the
    ``skip_top`` most frequent ones are dropped as stop words, the next ``vocabulary`` kept.

    Args:
        texts: sequence of strings (n_texts).
        vocabulary: number of words kept (>= 1).
        skip_top: number of most frequent words dropped first (>= 0).

    Returns:
        ``(features, words)``: a scipy CSR float32 matrix (n_texts, n_words) and the words.

    Example:
        >>> x, words = bag_of_words(["a red fox", "a red hen", "a hen"], vocabulary=2, skip_top=1)
        >>> words, x.toarray().tolist()
        (['hen', 'red'], [[0.0, 1.0], [0.5, 0.5], [1.0, 0.0]])
    """
    import scipy.sparse as sp

    vocabulary = check_int(vocabulary, "vocabulary", low=1)
    skip_top = check_int(skip_top, "skip_top", low=0)
    if isinstance(texts, str) or not all(isinstance(t, str) for t in texts):
        raise fail("texts", "a sequence of strings", type(texts).__name__, TypeError)
    tokenised = [set(_TOKEN.findall(t.lower())) for t in texts]
    counts = Counter(w for words in tokenised for w in words)
    ranked = sorted(counts, key=lambda w: (-counts[w], w))
    words = sorted(ranked[skip_top : skip_top + vocabulary])
    column = {w: j for j, w in enumerate(words)}
    rows, cols = [], []
    for i, toks in enumerate(tokenised):
        for w in toks:
            if w in column:
                rows.append(i)
                cols.append(column[w])
    x = sp.csr_matrix(
        (np.ones(len(rows), dtype=np.float32), (rows, cols)), shape=(len(tokenised), len(words))
    )
    sums = np.asarray(x.sum(axis=1)).ravel()
    x = sp.diags(1.0 / np.maximum(sums, 1.0)).astype(np.float32) @ x
    return x.tocsr(), words


def _numpy(value: Any) -> np.ndarray:
    """A torch tensor (or array-like) as a numpy array."""
    if hasattr(value, "detach"):
        value = value.detach().cpu().numpy()
    return np.asarray(value)


def _pyg_planetoid(root: str, name: str) -> Any:
    try:
        from torch_geometric.datasets import Planetoid
    except ImportError as err:
        raise ImportError(
            "load_planetoid needs PyTorch Geometric: pip install torch_geometric "
            "(see https://pytorch-geometric.readthedocs.io/en/latest/install/installation.html)"
        ) from err
    return Planetoid(root=root, name=name)[0]


def load_planetoid(
    name: str,
    *,
    root: PathLike | None = None,
    loader: Callable[[str, str], Any] | None = None,
) -> GraphDataset:
    """Cora, CiteSeer or PubMed with the public Planetoid split, via PyTorch Geometric.

    Args:
        name: ``"Cora"``, ``"CiteSeer"`` or ``"PubMed"``.
        root: folder PyG downloads into (default ``$RELREPS_DATA_DIR/planetoid``).
        loader: ``loader(root, name)`` returning an object with ``x``, ``edge_index``, ``y``,
            ``train_mask``, ``val_mask`` and ``test_mask`` (default: PyG's ``Planetoid``).

    Returns:
        A :class:`GraphDataset` with bag-of-words ``features`` and the three split masks.

    Raises:
        ImportError: torch_geometric is not installed (and no ``loader`` was given).
        DataNotFoundError: the raw files could not be downloaded.

    Example (reads the real data, so it is not a doctest)::

        load_planetoid("Cora").features.shape
        # -> (2708, 1433)
    """
    check_choice(name, "name", list(PLANETOID_NAMES))
    folder = str(root) if root is not None else str(data_dir() / "planetoid")
    load = loader if loader is not None else _pyg_planetoid
    try:
        data = load(folder, name)
    except OSError as err:  # offline: PyG's download raises URLError (an OSError)
        raise DataNotFoundError(
            f"Could not load Planetoid {name} into {folder}: PyTorch Geometric downloads it from "
            f"https://github.com/kimiyoung/planetoid on first use and that failed ({err}). Run "
            "once online, or copy a PyG Planetoid folder there."
        ) from err
    labels = _numpy(data.y).astype(np.int64)
    n_classes = int(labels.max()) + 1 if labels.size else 0
    return GraphDataset(
        name=name.lower(),
        node_ids=tuple(f"{name.lower()}:{i}" for i in range(labels.shape[0])),
        edges=_numpy(data.edge_index).T.astype(np.int64),
        labels=labels,
        class_names=tuple(str(c) for c in range(n_classes)),
        features=_numpy(data.x).astype(np.float32),
        masks={
            split: _numpy(getattr(data, f"{split}_mask")).astype(bool)
            for split in ("train", "val", "test")
        },
        source=folder,
    )


def planetoid_names(names: Sequence[str] = (), *, all_when_empty: bool = False) -> tuple[str, ...]:
    """The Planetoid set names meant by user-typed ``names`` (e.g. a ``--planetoid`` option).

    Names are matched in any case and stripped (blanks dropped); ``("all",)`` means every set,
    and so does an empty ``names`` when ``all_when_empty``. Unknown names are kept as typed, so
    :func:`load_planetoids` can say why they were not loaded.

    Example:
        >>> planetoid_names(("cora", " PubMed")), planetoid_names(all_when_empty=True)
        (('Cora', 'PubMed'), ('Cora', 'CiteSeer', 'PubMed'))
    """
    if isinstance(names, str):
        raise fail("names", "a sequence of names", repr(names), TypeError)
    wanted = [w.strip() for w in names if w.strip()]
    if wanted == ["all"] or (not wanted and all_when_empty):
        return PLANETOID_NAMES
    by_lower = {n.lower(): n for n in PLANETOID_NAMES}
    return tuple(by_lower.get(w.lower(), w) for w in wanted)


def load_planetoids(
    names: Sequence[str], **options: Any
) -> tuple[dict[str, GraphDataset], dict[str, str]]:
    """Load each of ``names`` with :func:`load_planetoid`, keeping why any could not be loaded.

    Args:
        names: Planetoid set names (see :func:`planetoid_names`).
        **options: passed to :func:`load_planetoid` (``root``, ``loader``).

    Returns:
        ``(graphs, skipped)``: name -> GraphDataset for those loaded, and name -> ``"not run:
        <reason>"`` for those that were not (PyTorch Geometric missing, offline, unknown name).

    Example:
        >>> load_planetoids(["Nope"])[1]["Nope"].startswith("not run: Expected `name`")
        True
    """
    graphs, skipped = {}, {}
    for name in names:
        try:
            graphs[name] = load_planetoid(name, **options)
        except (ImportError, DataNotFoundError, ValueError) as err:
            skipped[name] = f"not run: {err}"
    return graphs, skipped
