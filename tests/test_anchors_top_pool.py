"""select("top-N", ...): anchors drawn uniformly among the first N rows; top_pool parses N."""

from __future__ import annotations

import numpy as np
import pytest

from relreps import anchors
from relreps.anchors.strategies import STRATEGIES, select, top_pool


@pytest.mark.parametrize(
    ("name", "pool"),
    [
        ("top-1", 1),
        ("top-1000", 1000),
        ("top-0", None),
        ("top-", None),
        ("top-1.5", None),
        ("top--3", None),
        ("top-03", None),
        ("TOP-10", None),
        ("kmeans", None),
        (1000, None),
    ],
)
def test_top_pool_parses_only_positive_integers(name, pool) -> None:
    assert top_pool(name) == pool


def test_top_n_draws_from_the_head_of_the_rows(rng) -> None:
    x = rng.normal(size=(400, 5))
    idx = select("top-50", x, 20, seed=3)
    assert idx.dtype == np.int64 and idx.shape == (20,)
    assert len(set(idx.tolist())) == 20 and idx.max() < 50
    assert np.array_equal(idx, anchors.top_ranked(np.arange(400), 20, pool=50, seed=3))
    assert np.array_equal(idx, select("top-50", x, 20, seed=3))
    assert not np.array_equal(idx, select("top-50", x, 20, seed=4))
    # pool == k: exactly the first k rows; the vectors themselves play no part
    assert select("top-20", x, 20, seed=9).tolist() == list(range(20))
    assert np.array_equal(select("top-50", x * 0 + 1, 20, seed=3), idx)


def test_top_n_is_not_among_the_fixed_names() -> None:
    # the fixed names are what sweeps iterate over by default; top-N is opt-in
    assert not any(top_pool(s) for s in STRATEGIES)


@pytest.mark.parametrize(
    ("strategy", "k", "match"),
    [
        ("top-5", 6, "k=6 <= N <= 30"),
        ("top-31", 3, "N <= 30 candidates"),
        ("top-0", 3, "top-N"),
        ("top-x", 3, "one of"),
        ("top-5", 0, "`k`"),
    ],
)
def test_top_n_rejects_bad_pools(rng, strategy, k, match) -> None:
    with pytest.raises(ValueError, match=match):
        select(strategy, rng.normal(size=(30, 2)), k, seed=0)
