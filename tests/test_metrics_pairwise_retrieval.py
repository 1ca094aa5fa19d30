"""relreps.metrics.neighbour_lists.pairwise_retrieval: several pairs, absolute or relative."""

from __future__ import annotations

import numpy as np
import pytest

from relreps.metrics.neighbour_lists import pairwise_retrieval, retrieval_at_ks
from relreps.projection import relative_projection


def _spaces(rng: np.random.Generator) -> dict[str, np.ndarray]:
    x = rng.normal(size=(80, 6))
    rotation = np.linalg.qr(rng.normal(size=(6, 6)))[0]
    embed = np.linalg.qr(rng.normal(size=(9, 9)))[0][:6]  # isometric into 9 dimensions
    return {"a": x, "b": 2.0 * x @ rotation + 0.05 * rng.normal(size=x.shape), "c": x @ embed}


def test_relative_pairs_equal_retrieval_at_ks_on_projected_spaces(rng):
    spaces = _spaces(rng)
    anchors = rng.choice(80, 12, replace=False)
    queries = np.arange(0, 80, 2)
    pairs = [("a", "b"), ("c", "a"), ("b", "c")]
    got = pairwise_retrieval(
        spaces, pairs, (1, 5), anchors=anchors, center="anchors", queries=queries
    )
    assert list(got) == pairs
    for source, target in pairs:
        rel = {
            n: np.asarray(relative_projection(x, x[anchors], center="anchors"))
            for n, x in spaces.items()
        }
        expected = retrieval_at_ks(rel[source], rel[target], (1, 5), queries=queries)
        assert got[source, target] == expected
    assert got["c", "a"]["mrr@1"] == pytest.approx(1.0)  # an isometry: the same geometry


def test_absolute_pairs_and_the_relative_advantage(rng):
    spaces = _spaces(rng)
    absolute = pairwise_retrieval(spaces, [("a", "b")], (5,))
    relative = pairwise_retrieval(spaces, [("a", "b")], (5,), anchors=np.arange(20))
    assert absolute["a", "b"] == retrieval_at_ks(spaces["a"], spaces["b"], (5,))
    assert relative["a", "b"]["jaccard@5"] > 0.8 > 0.3 > absolute["a", "b"]["jaccard@5"]


def test_pairwise_retrieval_rejects_bad_input(rng):
    spaces = _spaces(rng)
    with pytest.raises(ValueError, match="pairs"):
        pairwise_retrieval(spaces, [], (5,))
    with pytest.raises(KeyError, match="'z'"):
        pairwise_retrieval(spaces, [("a", "z")], (5,))
    with pytest.raises(ValueError, match="center"):
        pairwise_retrieval(spaces, [("a", "b")], (5,), center="anchors")
    with pytest.raises(ValueError, match="center"):
        pairwise_retrieval(spaces, [("a", "b")], (5,), anchors=np.arange(5), center="mean")
    with pytest.raises(ValueError, match="anchors"):
        pairwise_retrieval(spaces, [("a", "b")], (5,), anchors=np.array([0, 80]))
    with pytest.raises(ValueError, match="features"):
        pairwise_retrieval(spaces, [("a", "c")], (5,))  # absolute: widths differ
