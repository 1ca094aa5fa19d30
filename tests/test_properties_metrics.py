"""Property-based tests of the comparison metrics' axioms and of the metric registry's declarations.

CKA lies in [0, 1], is symmetric and invariant to orthogonal maps and isotropic scaling; Jaccard@k
and MRR@k lie in [0, 1] and are 1 for identical spaces; the Procrustes distance is a metric (zero
for rotated copies, symmetric, triangle inequality); mutual kNN is a multiple of 1 / (n k) in
[0, 1]; RSA is symmetric; and every :func:`relreps.metrics.list_metrics` entry keeps the range,
symmetry and invariances it declares on drawn spaces and drawn transformations.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from relreps.metrics import (
    canonical_correlations,
    cca,
    cka,
    jaccard_at_k,
    list_metrics,
    mrr_at_k,
    mutual_knn,
    procrustes_distance,
    retrieval_scores,
    rsa,
)

SETTINGS = settings(max_examples=30, deadline=None)
SEEDS = st.integers(0, 2**32 - 1)
SCALES = st.floats(0.05, 20.0)
CKA_VARIANTS = [
    {"kernel": "linear"},
    {"kernel": "linear", "debiased": True},
    {"kernel": "rbf"},
    {"kernel": "rbf", "debiased": True},
]


def _orthogonal(d: int, seed: int) -> np.ndarray:
    q, r = np.linalg.qr(np.random.default_rng(seed).normal(size=(d, d)))
    return q * np.sign(np.diag(r))


@st.composite
def pairs(draw: st.DrawFn, *, equal_dims: bool = False) -> tuple[np.ndarray, np.ndarray, int]:
    """(a, b, seed): paired spaces, b a noisy linear image of a (related, not identical)."""
    seed = draw(st.integers(0, 2**32 - 1))
    n = draw(st.integers(12, 60))
    d_a = draw(st.integers(2, 6))
    d_b = d_a if equal_dims else draw(st.integers(2, 6))
    noise = draw(st.floats(0.05, 3.0))
    rng = np.random.default_rng(seed)
    a = rng.normal(size=(n, d_a))
    b = a @ rng.normal(size=(d_a, d_b)) + noise * rng.normal(size=(n, d_b))
    return a, b, seed


def _rigid(d: int, seed: int, scale: float, shift: float) -> Callable[[np.ndarray], np.ndarray]:
    q = _orthogonal(d, seed)
    return lambda z: scale * z @ q + shift


# ---------------------------------------------------------------- CKA


@SETTINGS
@given(pair=pairs(), variant=st.sampled_from(CKA_VARIANTS))
def test_cka_is_symmetric_and_in_range(pair, variant):
    a, b, _ = pair
    value = cka(a, b, **variant)
    low = -1.0 if variant.get("debiased") else 0.0
    assert low - 1e-12 <= value <= 1.0 + 1e-12
    assert cka(b, a, **variant) == pytest.approx(value, abs=1e-10)


@SETTINGS
@given(
    pair=pairs(),
    variant=st.sampled_from(CKA_VARIANTS),
    scale=SCALES,
    shift=st.floats(-20.0, 20.0),
    data=st.data(),
)
def test_cka_invariant_to_orthogonal_maps_and_isotropic_scaling(pair, variant, scale, shift, data):
    a, b, seed = pair
    base = cka(a, b, **variant)
    move = _rigid(b.shape[1], data.draw(SEEDS), scale, shift)
    assert cka(a, move(b), **variant) == pytest.approx(base, abs=1e-9)
    assert cka(move(b), a, **variant) == pytest.approx(base, abs=1e-9)
    assert cka(a, _rigid(a.shape[1], seed, scale, shift)(a), **variant) == pytest.approx(1.0)


# ---------------------------------------------------------------- retrieval


@SETTINGS
@given(
    pair=pairs(equal_dims=True),
    k=st.integers(1, 10),
    metric=st.sampled_from(["cosine", "euclidean", "inner"]),
)
def test_jaccard_and_mrr_lie_in_unit_interval(pair, k, metric):
    a, b, _ = pair
    k = min(k, len(a) - 1)
    scores = retrieval_scores(a, b, k, metric=metric)
    assert 0.0 <= scores.jaccard <= 1.0 and 0.0 <= scores.mrr <= 1.0
    assert jaccard_at_k(a, b, k, metric=metric) == pytest.approx(scores.jaccard)
    assert mrr_at_k(a, b, k, metric=metric) == pytest.approx(scores.mrr)
    assert scores.mrr * len(a) * math.lcm(*range(1, k + 1)) == pytest.approx(
        round(scores.mrr * len(a) * math.lcm(*range(1, k + 1)))
    )  # a mean of 1/rank values


@SETTINGS
@given(
    pair=pairs(),
    k=st.integers(1, 10),
    metric=st.sampled_from(["cosine", "euclidean"]),
    scale=SCALES,
    data=st.data(),
)
def test_identical_and_rigidly_moved_identical_spaces_score_one(pair, k, metric, scale, data):
    """Both sides moved by the same rotation and scale keep every neighbourhood."""
    a, _, _ = pair
    k = min(k, len(a) - 1)
    moved = scale * a @ _orthogonal(a.shape[1], data.draw(SEEDS))
    for x in (a, moved):
        assert jaccard_at_k(x, x, k, metric=metric) == 1.0
        assert mrr_at_k(x, x, k, metric=metric) == 1.0
    noise = 0.3 * np.random.default_rng(0).normal(size=a.shape)
    before = retrieval_scores(a, a + noise, k, metric=metric)
    after = retrieval_scores(moved, moved + scale * noise @ _orthogonal(a.shape[1], 0), k)
    assert 0.0 <= before.jaccard <= 1.0 and 0.0 <= after.mrr <= 1.0


@SETTINGS
@given(pair=pairs(), k=st.integers(1, 10), scale=SCALES, data=st.data())
def test_mutual_knn_bounds_symmetry_and_invariance(pair, k, scale, data):
    a, b, _ = pair
    n = len(a)
    k = min(k, n - 1)
    value = mutual_knn(a, b, k)
    assert 0.0 <= value <= 1.0
    assert value * n * k == pytest.approx(round(value * n * k), abs=1e-9)  # counts over n * k
    assert mutual_knn(b, a, k) == value
    assert mutual_knn(a, a, k) == 1.0
    moved = scale * b @ _orthogonal(b.shape[1], data.draw(SEEDS))
    assert mutual_knn(a, moved, k) == pytest.approx(value, abs=1e-12)
    if k == n - 1:
        assert value == 1.0  # every other sample is a neighbour in both spaces


# ---------------------------------------------------------------- Procrustes


@SETTINGS
@given(
    pair=pairs(),
    kind=st.sampled_from(["euclidean", "angular"]),
    scale=SCALES,
    shift=st.floats(-20.0, 20.0),
    data=st.data(),
)
def test_procrustes_distance_zero_for_rigid_copies_and_symmetric(pair, kind, scale, shift, data):
    a, b, _ = pair
    high = math.sqrt(2.0) if kind == "euclidean" else math.pi / 2
    value = procrustes_distance(a, b, kind=kind)
    assert 0.0 <= value <= high + 1e-12
    assert procrustes_distance(b, a, kind=kind) == pytest.approx(value, abs=1e-9)
    moved = _rigid(a.shape[1], data.draw(SEEDS), scale, shift)(a)
    assert procrustes_distance(a, moved, kind=kind) == pytest.approx(0.0, abs=1e-6)
    wider = np.hstack([moved, np.zeros((len(a), 2))]) @ _orthogonal(a.shape[1] + 2, 1)
    assert procrustes_distance(a, wider, kind=kind) == pytest.approx(0.0, abs=1e-6)


@SETTINGS
@given(
    seed=SEEDS,
    n=st.integers(5, 40),
    dims=st.tuples(st.integers(1, 5), st.integers(1, 5), st.integers(1, 5)),
    kind=st.sampled_from(["euclidean", "angular"]),
)
def test_procrustes_distance_triangle_inequality(seed, n, dims, kind):
    rng = np.random.default_rng(seed)
    a, b, c = (rng.normal(size=(n, d)) for d in dims)
    b = b + 0.5 * np.resize(a, b.shape)  # related spaces as well as unrelated ones
    ab, bc, ac = (procrustes_distance(u, v, kind=kind) for u, v in ((a, b), (b, c), (a, c)))
    assert ac <= ab + bc + 1e-9


# ---------------------------------------------------------------- RSA and CCA


@SETTINGS
@given(
    pair=pairs(),
    method=st.sampled_from(["spearman", "pearson"]),
    dissimilarity=st.sampled_from(["euclidean", "correlation", "cosine"]),
)
def test_rsa_is_symmetric_and_in_range(pair, method, dissimilarity):
    a, b, _ = pair
    value = rsa(a, b, method=method, dissimilarity=dissimilarity)
    assert -1.0 - 1e-12 <= value <= 1.0 + 1e-12
    assert rsa(b, a, method=method, dissimilarity=dissimilarity) == pytest.approx(value, abs=1e-12)
    assert rsa(a, a, method=method, dissimilarity=dissimilarity) == pytest.approx(1.0)


@SETTINGS
@given(pair=pairs(), scale=SCALES, shift=st.floats(-20.0, 20.0), data=st.data())
def test_rsa_of_a_rigid_copy_is_one(pair, scale, shift, data):
    a, b, _ = pair
    moved = _rigid(a.shape[1], data.draw(SEEDS), scale, shift)(a)
    assert rsa(a, moved) == pytest.approx(1.0)
    assert rsa(a, moved, method="pearson") == pytest.approx(1.0)
    assert rsa(a, _rigid(b.shape[1], 3, scale, shift)(b)) == pytest.approx(rsa(a, b), abs=1e-9)


@SETTINGS
@given(pair=pairs(), data=st.data())
def test_canonical_correlations_sorted_in_unit_interval_and_linear_invariant(pair, data):
    a, b, _ = pair
    rho = canonical_correlations(a, b)
    assert rho.shape == (min(a.shape[1], b.shape[1]),)
    assert np.all(rho >= -1e-12) and np.all(rho <= 1.0 + 1e-12)
    assert np.all(np.diff(rho) <= 1e-12)
    np.testing.assert_allclose(canonical_correlations(b, a), rho, atol=1e-9)
    rng = np.random.default_rng(data.draw(SEEDS))
    m = (
        _orthogonal(b.shape[1], 1)
        * rng.uniform(0.3, 3.0, size=b.shape[1])
        @ _orthogonal(b.shape[1], 2)
    )
    assert cca(a, b @ m + 4.0) == pytest.approx(float(rho.mean()), abs=1e-8)


# ---------------------------------------------------------------- registry declarations


def _transform(name: str, d: int, data: st.DataObject) -> Callable[[np.ndarray], np.ndarray]:
    if name == "orthogonal":
        q = _orthogonal(d, data.draw(SEEDS))
        return lambda z: z @ q
    if name == "scaling":
        c = data.draw(SCALES)
        return lambda z: c * z
    if name == "translation":
        v = np.asarray(data.draw(st.lists(st.floats(-10.0, 10.0), min_size=d, max_size=d)))
        return lambda z: z + v
    if name == "permutation":
        perm = np.asarray(data.draw(st.permutations(range(d))))
        return lambda z: z[:, perm]
    if name == "linear":
        rng = np.random.default_rng(data.draw(SEEDS))
        m = _orthogonal(d, 1) * rng.uniform(0.3, 3.0, size=d) @ _orthogonal(d, 2)
        return lambda z: z @ m
    raise KeyError(name)


@settings(max_examples=50, deadline=None)  # one metric per example: ~4 draws each
@given(
    pair=pairs(equal_dims=True),
    info=st.sampled_from(list_metrics()),
    k=st.integers(1, 8),
    data=st.data(),
)
def test_every_metric_keeps_its_declared_range_symmetry_and_invariances(pair, info, k, data):
    """Each declared invariance holds for a transformation of ONE space, either one."""
    a, b, _ = pair
    k = min(k, len(a) - 1)
    value = info.compute(a, b, k)
    low, high = info.value_range
    assert low - 1e-9 <= value <= high + 1e-9, (info.name, value)
    if info.symmetric:
        assert info.compute(b, a, k) == pytest.approx(value, abs=1e-9), info.name
    for name in sorted(info.invariances):
        t = _transform(name, a.shape[1], data)
        for moved in (info.compute(t(a), b, k), info.compute(a, t(b), k)):
            assert moved == pytest.approx(value, abs=1e-7), (info.name, name, value, moved)
