"""balanced_split: disjoint, class-balanced, deterministic; errors name the argument."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from relreps.datasets import balanced_split


def test_balanced_split_properties():
    labels = np.repeat(np.arange(5), [50, 3, 20, 20, 7])
    train, test = balanced_split(labels, 30, 10, seed=3)
    assert np.intersect1d(train, test).size == 0
    assert set(labels[test]) == set(range(5))  # every class, even the 3-item one, is tested
    counts = np.bincount(labels[train], minlength=5)
    assert counts[1] == 2 and counts[4] == 5  # small classes used up, the others balanced
    assert counts[[0, 2, 3]].max() - counts[[0, 2, 3]].min() <= 1
    again = balanced_split(labels, 30, 10, seed=3)
    assert all(np.array_equal(x, y) for x, y in zip((train, test), again, strict=True))


@settings(max_examples=30, deadline=None)
@given(st.lists(st.integers(2, 30), min_size=1, max_size=6), st.integers(0, 2**16))
def test_split_is_disjoint_sorted_and_sized(sizes: list[int], seed: int) -> None:
    labels = np.repeat(np.arange(len(sizes)), sizes)
    in_test = sum(max(1, round(n / 3)) for n in sizes)
    n_train, n_test = len(labels) - in_test, in_test  # the whole of both pools
    train, test = balanced_split(labels, n_train, n_test, seed=seed)
    assert train.size == n_train and test.size == n_test
    assert np.intersect1d(train, test).size == 0
    assert np.all(np.diff(train) > 0) and np.all(np.diff(test) > 0)
    assert set(labels[test]) == set(range(len(sizes)))  # every class is tested


def test_errors_name_the_argument():
    with pytest.raises(ValueError, match="`n_test` to be at most"):
        balanced_split(np.repeat(np.arange(2), 6), 4, 100, seed=0)
    with pytest.raises(ValueError, match="n_train"):
        balanced_split(np.zeros(4, dtype=int), 0, 1, seed=0)
    with pytest.raises(ValueError, match="test_share"):
        balanced_split(np.zeros(4, dtype=int), 1, 1, seed=0, test_share=0.0)
