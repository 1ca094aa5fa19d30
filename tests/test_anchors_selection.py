"""Anchor selection: random, stratified, top_ranked, k-means, farthest-point, take, joint_space."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from relreps import anchors
from relreps.anchors._geometry import RowSpace
from relreps.anchors.clustering import (
    _fit_centroids,
    _kmeans_plusplus,
    _lloyd,
    _nearest_members,
)


def unit_rows(x: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    return np.divide(x, norms, out=np.zeros_like(x), where=norms > 0)


def brute_force_fps(x: np.ndarray, k: int, first: int, metric: str) -> list[int]:
    """Textbook greedy max-min sampling with explicit differences (no expansion tricks)."""
    z = unit_rows(x) if metric == "cosine" else x.astype(np.float64)
    chosen = [first]
    nearest = ((z - z[first]) ** 2).sum(axis=1)
    for _ in range(k - 1):
        nearest[chosen] = -1.0
        nxt = int(np.argmax(nearest))
        chosen.append(nxt)
        nearest = np.minimum(nearest, ((z - z[nxt]) ** 2).sum(axis=1))
    return chosen


def blobs(rng: np.random.Generator, n_blobs: int, per_blob: int, d: int) -> np.ndarray:
    centres = rng.normal(size=(n_blobs, d)) * 20.0
    return np.concatenate([c + rng.normal(size=(per_blob, d)) for c in centres])


# -- random --------------------------------------------------------------------------------------


def test_random_is_seeded_distinct_and_in_range() -> None:
    a = anchors.random(1000, 50, seed=3)
    assert a.dtype == np.int64 and a.shape == (50,)
    assert len(set(a.tolist())) == 50 and a.min() >= 0 and a.max() < 1000
    assert np.array_equal(a, anchors.random(1000, 50, seed=3))
    assert not np.array_equal(a, anchors.random(1000, 50, seed=4))
    assert sorted(anchors.random(5, 5, seed=0).tolist()) == [0, 1, 2, 3, 4]


@pytest.mark.parametrize(
    ("args", "kwargs", "error", "match"),
    [
        ((10, 0), {"seed": 0}, ValueError, r"Expected `k` to be an int in \[1, 10\]"),
        ((10, 11), {"seed": 0}, ValueError, r"Expected `k` to be an int in \[1, 10\].*got 11"),
        ((0, 1), {"seed": 0}, ValueError, r"Expected `n_samples` to be an int in \[1, inf\]"),
        ((10, 2.0), {"seed": 0}, TypeError, r"Expected `k` to be an int"),
        ((10, True), {"seed": 0}, TypeError, r"Expected `k` to be an int"),
        ((10, 2), {"seed": -1}, ValueError, r"Expected `seed` to be an int in \[0, inf\]"),
        ((10, 2), {"seed": None}, TypeError, r"Expected `seed` to be an int"),
    ],
)
def test_random_rejects_bad_input(args, kwargs, error, match) -> None:
    with pytest.raises(error, match=match):
        anchors.random(*args, **kwargs)


# -- stratified ----------------------------------------------------------------------------------


def test_stratified_exact_balance_when_possible(rng) -> None:
    labels = rng.integers(0, 10, size=2000)
    idx, counts = anchors.stratified(labels, 100, seed=0, return_counts=True)
    assert idx.dtype == np.int64 and len(set(idx.tolist())) == 100
    assert counts == {c: 10 for c in range(10)}
    assert np.bincount(labels[idx], minlength=10).tolist() == [10] * 10


def test_stratified_differs_by_at_most_one_and_is_seeded(rng) -> None:
    labels = rng.integers(0, 7, size=700)
    idx, counts = anchors.stratified(labels, 40, seed=1, return_counts=True)
    assert max(counts.values()) - min(counts.values()) == 1 and sum(counts.values()) == 40
    assert np.array_equal(idx, anchors.stratified(labels, 40, seed=1))
    other = anchors.stratified(labels, 40, seed=2)
    assert not np.array_equal(np.sort(idx), np.sort(other))


@settings(max_examples=60, deadline=None)
@given(
    sizes=st.lists(st.integers(1, 12), min_size=1, max_size=6),
    fraction=st.floats(0.0, 1.0),
    seed=st.integers(0, 2**32 - 1),
)
def test_stratified_is_a_round_robin(sizes, fraction, seed) -> None:
    labels = np.repeat(np.arange(len(sizes)), sizes)
    k = max(1, round(fraction * labels.size))
    idx, counts = anchors.stratified(labels, k, seed=seed, return_counts=True)
    got = np.array([counts[c] for c in range(len(sizes))])
    assert got.sum() == k == len(set(idx.tolist()))
    # Every class got as many rounds as the busiest one, minus at most one, unless used up.
    assert np.all(got >= np.minimum(sizes, got.max() - 1)) and np.all(got <= sizes)


def test_stratified_exhausts_small_classes_and_fills_from_others() -> None:
    labels = np.array([0] * 50 + [1] * 2 + [2] * 50)
    idx, counts = anchors.stratified(labels, 30, seed=0, return_counts=True)
    assert counts == {0: 14, 1: 2, 2: 14}
    assert sorted(np.flatnonzero(labels == 1).tolist()) == sorted(
        i for i in idx.tolist() if labels[i] == 1
    )


def test_stratified_round_robin_order_and_string_and_torch_labels() -> None:
    labels = ["b", "a", "c", "a", "b", "c", "a", "b", "c"]
    idx, counts = anchors.stratified(labels, 6, seed=5, return_counts=True)
    first_round = {labels[i] for i in idx[:3]}
    assert first_round == {"a", "b", "c"} and counts == {"a": 2, "b": 2, "c": 2}
    torch_labels = torch.tensor([0, 1, 1, 0, 2, 2])
    assert np.array_equal(
        anchors.stratified(torch_labels, 3, seed=0),
        anchors.stratified([0, 1, 1, 0, 2, 2], 3, seed=0),
    )


def test_stratified_counts_include_classes_without_anchors() -> None:
    _, counts = anchors.stratified(np.repeat(np.arange(5), 3), 2, seed=0, return_counts=True)
    assert sorted(counts) == [0, 1, 2, 3, 4] and sorted(counts.values()) == [0, 0, 0, 1, 1]


@pytest.mark.parametrize(
    ("labels", "k", "error", "match"),
    [
        ([], 1, ValueError, r"Expected `labels` to be a non-empty 1-D array.*empty array"),
        ([[0, 1]], 1, ValueError, r"Expected `labels` to be a 1-D array.*shape \(1, 2\)"),
        ([0.0, np.nan], 1, ValueError, r"finite class labels.*position 1"),
        ([0, 1, 1], 4, ValueError, r"Expected `k` to be an int in \[1, 3\]"),
        ([0, 1, 1], 0, ValueError, r"Expected `k` to be an int in \[1, 3\]"),
        (np.array([1 + 2j]), 1, TypeError, r"class labels"),
    ],
)
def test_stratified_rejects_bad_input(labels, k, error, match) -> None:
    with pytest.raises(error, match=match):
        anchors.stratified(labels, k, seed=0)


def test_class_counts_and_its_errors() -> None:
    assert anchors.class_counts([3, 1, 3, 2], np.array([0, 2])) == {1: 0, 2: 0, 3: 2}
    with pytest.raises(ValueError, match=r"Expected `indices` to be indices in \[0, 4\).*7"):
        anchors.class_counts([3, 1, 3, 2], [7])
    with pytest.raises(ValueError, match=r"Expected `indices` to be distinct.*1 repeated"):
        anchors.class_counts([3, 1, 3, 2], [1, 1])
    with pytest.raises(TypeError, match=r"Expected `indices` to be an array of integer"):
        anchors.class_counts([3, 1, 3, 2], [0.5])
    with pytest.raises(ValueError, match=r"Expected `indices` to be a non-empty 1-D"):
        anchors.class_counts([3, 1], [])


# -- top_ranked ----------------------------------------------------------------------------------


def test_top_ranked_stays_in_pool(rng) -> None:
    order = rng.permutation(10_000)
    idx = anchors.top_ranked(order, 300, pool=1000, seed=0)
    assert idx.dtype == np.int64 and len(set(idx.tolist())) == 300
    assert set(idx.tolist()) <= set(order[:1000].tolist())
    positions = [int(np.flatnonzero(order == i)[0]) for i in idx[:20]]
    assert positions == sorted(positions)  # returned in ranking order
    assert np.array_equal(idx, anchors.top_ranked(order, 300, pool=1000, seed=0))
    assert not np.array_equal(idx, anchors.top_ranked(order, 300, pool=1000, seed=1))
    assert anchors.top_ranked(order, 5, pool=5, seed=9).tolist() == order[:5].tolist()


@pytest.mark.parametrize(
    ("order", "k", "pool", "error", "match"),
    [
        ([0, 1, 2], 2, 1, ValueError, r"Expected `pool` to be an int in \[2, 3\]"),
        ([0, 1, 2], 2, 4, ValueError, r"Expected `pool` to be an int in \[2, 3\]"),
        ([0, 1, 1], 1, 2, ValueError, r"Expected `order` to be distinct indices.*1 repeated"),
        ([0, -1], 1, 2, ValueError, r"Expected `order` to be indices in \[0, inf\).*-1"),
        ([0.0, 1.0], 1, 2, TypeError, r"Expected `order` to be an array of integer"),
        ([0, 1], 3, 2, ValueError, r"Expected `k` to be an int in \[1, 2\]"),
    ],
)
def test_top_ranked_rejects_bad_input(order, k, pool, error, match) -> None:
    with pytest.raises(error, match=match):
        anchors.top_ranked(order, k, pool=pool, seed=0)


# -- farthest point ------------------------------------------------------------------------------


@pytest.mark.parametrize("metric", ["cosine", "euclidean"])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_farthest_point_equals_brute_force(rng, metric, seed) -> None:
    x = rng.normal(size=(300, 6))
    idx = anchors.farthest_point(x, 25, seed=seed, metric=metric)
    assert idx.tolist() == brute_force_fps(x, 25, int(idx[0]), metric)
    assert idx[0] == int(np.random.default_rng(seed).integers(300))


@pytest.mark.parametrize("metric", ["cosine", "euclidean"])
def test_farthest_point_many_blocks_and_float32_equal_brute_force(rng, metric) -> None:
    x = rng.normal(size=(5000, 5)).astype(np.float32)  # more rows than one lazy block
    idx = anchors.farthest_point(x, 40, seed=7, metric=metric)
    assert idx.tolist() == brute_force_fps(x.astype(np.float64), 40, int(idx[0]), metric)


def test_farthest_point_is_seeded_and_accepts_torch(rng) -> None:
    x = rng.normal(size=(200, 4))
    a = anchors.farthest_point(x, 10, seed=0)
    assert np.array_equal(a, anchors.farthest_point(torch.from_numpy(x), 10, seed=0))
    assert not np.array_equal(a, anchors.farthest_point(x, 10, seed=1))


def test_farthest_point_cosine_ignores_row_scale(rng) -> None:
    x = rng.normal(size=(400, 8))
    scaled = x * rng.uniform(0.1, 10.0, size=(400, 1))
    assert np.array_equal(
        anchors.farthest_point(x, 30, seed=2), anchors.farthest_point(scaled, 30, seed=2)
    )


def test_farthest_point_zero_rows_make_no_nan() -> None:
    x = np.array([[0.0, 0.0], [0.0, 0.0], [1.0, 0.0], [0.0, 1.0]])
    idx = anchors.farthest_point(x, 3, seed=0)
    assert len(set(idx.tolist())) == 3
    assert sum(i in (0, 1) for i in idx.tolist()) == 1  # zero rows are one point
    with pytest.raises(ValueError, match=r"only 3 distinct points among its 4 rows"):
        anchors.farthest_point(x, 4, seed=0)


@pytest.mark.parametrize("metric", ["cosine", "euclidean"])
def test_farthest_point_reports_distinct_point_count(rng, metric) -> None:
    base = rng.normal(size=(3, 4))
    x = np.concatenate([base, base, 2.0 * base if metric == "cosine" else base])
    assert len(set(anchors.farthest_point(x, 3, seed=0, metric=metric).tolist())) == 3
    with pytest.raises(
        ValueError,
        match=rf"at least k=4 distinct points under the {metric} metric.*only 3 distinct points "
        r"among its 9 rows",
    ):
        anchors.farthest_point(x, 4, seed=0, metric=metric)


@pytest.mark.parametrize("select", [anchors.farthest_point, anchors.kmeans])
def test_point_selectors_reject_bad_input(select) -> None:
    x = np.ones((4, 2))
    with pytest.raises(
        ValueError, match=r"Expected `metric` to be one of \['cosine', 'euclidean'\]"
    ):
        select(x, 2, seed=0, metric="manhattan")
    with pytest.raises(ValueError, match=r"Expected `k` to be an int in \[1, 4\].*got 5"):
        select(x, 5, seed=0)
    bad = np.ones((4, 2))
    bad[2, 1] = np.nan
    with pytest.raises(ValueError, match=r"Expected `x` to contain only finite values.*row 2"):
        select(bad, 2, seed=0)
    with pytest.raises(ValueError, match=r"Expected `x` to be a 2-D array"):
        select(np.ones(4), 2, seed=0)
    with pytest.raises(ValueError, match=r"Expected `seed` to be an int"):
        select(x, 2, seed=-3)


# -- k-means -------------------------------------------------------------------------------------


@pytest.mark.parametrize("metric", ["cosine", "euclidean"])
def test_kmeans_anchors_are_distinct_members_nearest_their_centroids(rng, metric) -> None:
    x = blobs(rng, 12, 40, 5)
    idx = anchors.kmeans(x, 12, seed=0, metric=metric)
    assert idx.dtype == np.int64 and idx.shape == (12,) and len(set(idx.tolist())) == 12
    space = RowSpace(x, metric)
    centroids = _fit_centroids(space, 12, seed=0, max_iter=300, tol=1e-4, chunk=10_000)
    z = unit_rows(x) if metric == "cosine" else x
    dist = ((z[:, None, :] - centroids[None, :, :]) ** 2).sum(axis=2)
    assert idx.tolist() == np.argmin(dist, axis=0).tolist()
    assert sorted(i // 40 for i in idx.tolist()) == list(range(12))  # one anchor per blob


@pytest.mark.parametrize("metric", ["cosine", "euclidean"])
def test_lloyd_matches_scikit_learn_from_the_same_seeds(rng, metric) -> None:
    sklearn_cluster = pytest.importorskip("sklearn.cluster")
    x = rng.normal(size=(600, 4)) + rng.integers(0, 3, size=(600, 1))
    space = RowSpace(x, metric)
    seeds = space.rows(_kmeans_plusplus(space, 7, np.random.default_rng(0)))
    ours = _lloyd(space, seeds, max_iter=300, tol=1e-4, chunk=97)
    data = unit_rows(x) if metric == "cosine" else x
    ref = sklearn_cluster.KMeans(7, init=seeds, n_init=1, tol=1e-4, algorithm="lloyd").fit(data)
    np.testing.assert_allclose(ours, ref.cluster_centers_, atol=1e-8)


def test_kmeans_is_seeded_chunk_invariant_and_accepts_torch(rng) -> None:
    x = rng.normal(size=(500, 6))
    a = anchors.kmeans(x, 20, seed=0)
    assert np.array_equal(a, anchors.kmeans(x, 20, seed=0, chunk_size=33))
    assert np.array_equal(a, anchors.kmeans(torch.from_numpy(x), 20, seed=0))
    assert not np.array_equal(a, anchors.kmeans(x, 20, seed=1))
    f32 = anchors.kmeans(x.astype(np.float32), 20, seed=0)
    assert f32.dtype == np.int64 and len(set(f32.tolist())) == 20


def test_kmeans_cosine_ignores_row_scale(rng) -> None:
    x = rng.normal(size=(300, 5))
    scaled = x * rng.uniform(0.5, 4.0, size=(300, 1))
    assert np.array_equal(anchors.kmeans(x, 9, seed=4), anchors.kmeans(scaled, 9, seed=4))


def test_kmeans_k_equals_distinct_points_and_reports_fewer(rng) -> None:
    base = rng.normal(size=(5, 3))
    x = np.concatenate([base, base, base])
    idx = anchors.kmeans(x, 5, seed=0, metric="euclidean")
    assert sorted({i % 5 for i in idx.tolist()}) == [0, 1, 2, 3, 4]  # never two copies
    with pytest.raises(ValueError, match=r"at least k=6 distinct points.*only 5 distinct points"):
        anchors.kmeans(x, 6, seed=0, metric="euclidean")


def test_nearest_members_resolve_collisions_deterministically() -> None:
    x = np.array([[0.0], [1.0], [1.0], [2.0], [3.5], [10.0]])
    space = RowSpace(x, "euclidean")
    centroids = np.array([[0.9], [1.2], [1.1]])
    # Row 2 copies row 1: centroid 0 takes row 1, then the copy is skipped; with one candidate
    # per centroid the others fall back to a full search.
    assert _nearest_members(space, centroids, chunk=4, candidates=1).tolist() == [1, 3, 0]
    assert _nearest_members(space, centroids, chunk=2).tolist() == [1, 3, 0]


def test_kmeans_rejects_bad_options() -> None:
    x = np.eye(4)
    with pytest.raises(ValueError, match=r"Expected `max_iter` to be an int in \[1, inf\]"):
        anchors.kmeans(x, 2, seed=0, max_iter=0)
    with pytest.raises(ValueError, match=r"Expected `tol` to be a finite number in \[0.0, inf\]"):
        anchors.kmeans(x, 2, seed=0, tol=-1.0)
    with pytest.raises(ValueError, match=r"Expected `chunk_size` to be an int in \[1, inf\]"):
        anchors.kmeans(x, 2, seed=0, chunk_size=0)


# -- several spaces ------------------------------------------------------------------------------


def test_take_applies_indices_to_every_space(rng) -> None:
    a = rng.normal(size=(10, 3))
    b = torch.from_numpy(rng.normal(size=(10, 5))).float()
    idx = anchors.random(10, 4, seed=0)
    anchors_a, anchors_b = anchors.take(idx, a, b)
    np.testing.assert_array_equal(anchors_a, a[idx])
    assert isinstance(anchors_b, torch.Tensor) and anchors_b.dtype == torch.float32
    torch.testing.assert_close(anchors_b, b[torch.from_numpy(idx)])


def test_take_rejects_bad_input(rng) -> None:
    a = rng.normal(size=(10, 3))
    with pytest.raises(ValueError, match=r"Expected `indices` to be indices in \[0, 10\).*12"):
        anchors.take([1, 12], a)
    with pytest.raises(ValueError, match=r"same number of rows.*`spaces\[1\]` has shape \(9, 3\)"):
        anchors.take([1], a, a[:9])
    with pytest.raises(TypeError, match=r"Expected `spaces` to be at least one"):
        anchors.take([1])


def test_joint_space_cosine_is_mean_of_cosines(rng) -> None:
    a, b = rng.normal(size=(50, 4)), rng.normal(size=(50, 7))
    joint = anchors.joint_space(a, torch.from_numpy(b))
    expected = (unit_rows(a) @ unit_rows(a).T + unit_rows(b) @ unit_rows(b).T) / 2
    np.testing.assert_allclose(joint @ joint.T, expected, atol=1e-12)
    assert anchors.joint_space(a.astype(np.float32), b.astype(np.float32)).dtype == np.float32


def test_joint_space_euclidean_weighs_spaces_equally(rng) -> None:
    a, b = rng.normal(size=(60, 3)) * 1000.0 + 5.0, rng.normal(size=(60, 9))
    joint = anchors.joint_space(a, b, metric="euclidean")
    for block in (joint[:, :3], joint[:, 3:]):
        np.testing.assert_allclose(block.mean(axis=0), 0.0, atol=1e-12)
        np.testing.assert_allclose((block**2).sum(axis=1).mean(), 0.5)
    idx = anchors.kmeans(joint, 5, seed=0, metric="euclidean")  # usable by every selector
    assert len(set(idx.tolist())) == 5


def test_joint_space_rejects_bad_input(rng) -> None:
    a = rng.normal(size=(10, 3))
    with pytest.raises(ValueError, match=r"same number of rows"):
        anchors.joint_space(a, a[:4])
    with pytest.raises(TypeError, match=r"Expected `spaces` to be at least one"):
        anchors.joint_space()
    with pytest.raises(ValueError, match=r"Expected `metric` to be one of"):
        anchors.joint_space(a, metric="dot")


def test_importing_anchors_stays_light() -> None:
    code = (
        "import sys, relreps.anchors; "
        "print(sorted(m for m in ('torch', 'sklearn', 'scipy') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_lloyd_reseeds_empty_clusters_on_the_farthest_row() -> None:
    x = np.array([[0.0], [1.0], [10.0], [11.0]])
    space = RowSpace(x, "euclidean")
    start = np.array([[0.5], [100.0]])  # the second centroid attracts no row
    centroids = _lloyd(space, start, max_iter=10, tol=0.0, chunk=3)
    np.testing.assert_allclose(np.sort(centroids[:, 0]), [0.5, 10.5])


def test_unusual_dtypes_and_uncomparable_labels(rng) -> None:
    x = rng.normal(size=(50, 3))
    assert np.array_equal(
        anchors.farthest_point(x.astype(np.float16), 5, seed=0),
        anchors.farthest_point(x.astype(np.float16).astype(np.float32), 5, seed=0),
    )
    ints = rng.integers(-5, 5, size=(50, 3))
    assert np.array_equal(
        anchors.kmeans(ints, 4, seed=0, metric="euclidean"),
        anchors.kmeans(ints.astype(np.float64), 4, seed=0, metric="euclidean"),
    )
    with pytest.raises(TypeError, match=r"Expected `labels` to be mutually comparable"):
        anchors.stratified(np.array([1, None], dtype=object), 1, seed=0)
