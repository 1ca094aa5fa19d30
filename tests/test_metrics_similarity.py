"""CKA, CCA family, Procrustes and RSA against references; the registry's declarations."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from relreps.metrics import (
    INVARIANCES,
    canonical_correlations,
    cca,
    cka,
    hsic,
    list_metrics,
    metric_info,
    procrustes_distance,
    pwcca,
    rdm,
    rsa,
    svcca,
)

# ---------------------------------------------------------------- references (plain numpy)


def ref_hsic(k, l, debiased):
    n = k.shape[0]
    if not debiased:
        h = np.eye(n) - 1.0 / n
        return np.trace(k @ h @ l @ h) / (n - 1) ** 2
    k, l = k.copy(), l.copy()
    np.fill_diagonal(k, 0.0)
    np.fill_diagonal(l, 0.0)
    one = np.ones(n)
    return (
        np.trace(k @ l)
        + one @ k @ one * (one @ l @ one) / ((n - 1) * (n - 2))
        - 2.0 / (n - 2) * one @ k @ l @ one
    ) / (n * (n - 3))


def ref_cka(x, y, debiased=False, sigma=None):
    if sigma is None:
        k, l = x @ x.T, y @ y.T
    else:
        sq = lambda v: ((v[:, None, :] - v[None, :, :]) ** 2).sum(-1)  # noqa: E731
        k, l = np.exp(-sq(x) / (2 * sigma**2)), np.exp(-sq(y) / (2 * sigma**2))
    return ref_hsic(k, l, debiased) / np.sqrt(ref_hsic(k, k, debiased) * ref_hsic(l, l, debiased))


def ref_canonical(x, y):
    """CCA from an SVD of the whitened covariances (QR whitening)."""
    qa, _ = np.linalg.qr(x - x.mean(0))
    qb, _ = np.linalg.qr(y - y.mean(0))
    return np.linalg.svd(qa.T @ qb, compute_uv=False)


def orthogonal(d, seed):
    q, _ = np.linalg.qr(np.random.default_rng(seed).normal(size=(d, d)))
    return q


@pytest.fixture
def pair():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(80, 6))
    y = np.c_[x[:, :3] @ rng.normal(size=(3, 3)), rng.normal(size=(80, 2))]
    return x, y + 0.3 * rng.normal(size=y.shape)


# ---------------------------------------------------------------- CKA


@pytest.mark.parametrize("debiased", [False, True])
def test_linear_cka_matches_explicit_centering(pair, debiased):
    x, y = pair
    assert cka(x, y, debiased=debiased) == pytest.approx(ref_cka(x, y, debiased), rel=1e-10)
    assert hsic(x, y, debiased=debiased) == pytest.approx(
        ref_hsic(x @ x.T, y @ y.T, debiased), rel=1e-10
    )


@pytest.mark.parametrize("debiased", [False, True])
def test_linear_cka_sample_space_path(debiased):
    rng = np.random.default_rng(1)
    x, y = rng.normal(size=(12, 40)), rng.normal(size=(12, 30))  # n < d: n x n path
    assert cka(x, y, debiased=debiased, chunk_size=5) == pytest.approx(
        ref_cka(x, y, debiased), rel=1e-9
    )


@pytest.mark.parametrize("debiased", [False, True])
def test_rbf_cka_matches_reference(pair, debiased):
    x, y = pair
    got = cka(x, y, kernel="rbf", sigma=2.5, debiased=debiased, chunk_size=7)
    assert got == pytest.approx(ref_cka(x, y, debiased, sigma=2.5), rel=1e-9)


def test_rbf_median_heuristic_per_space(pair):
    x, y = pair
    d2 = lambda v: ((v[:, None, :] - v[None, :, :]) ** 2).sum(-1)  # noqa: E731
    iu = np.triu_indices(len(x), 1)
    sx, sy = np.sqrt(np.median(d2(x)[iu])), np.sqrt(np.median(d2(y)[iu]))
    k = np.exp(-d2(x) / (2 * sx**2))
    l = np.exp(-d2(y) / (2 * sy**2))
    ref = ref_hsic(k, l, False) / np.sqrt(ref_hsic(k, k, False) * ref_hsic(l, l, False))
    assert cka(x, y, kernel="rbf") == pytest.approx(ref, rel=1e-9)


@settings(max_examples=20, deadline=None)
@given(seed=st.integers(0, 10_000), scale=st.floats(0.01, 100.0), shift=st.floats(-50, 50))
def test_cka_invariances(seed, scale, shift):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(40, 5))
    y = rng.normal(size=(40, 4)) + x[:, :4]
    base = cka(x, y)
    moved = scale * y @ orthogonal(4, seed) + shift
    assert cka(x, moved) == pytest.approx(base, abs=1e-9)
    assert cka(x, x) == pytest.approx(1.0)
    assert cka(x, y, debiased=True) == pytest.approx(cka(x, moved, debiased=True), abs=1e-9)


def test_cka_torch_float32_and_strict():
    torch = pytest.importorskip("torch")
    strict = pytest.importorskip("array_api_strict")
    rng = np.random.default_rng(3)
    x, y = rng.normal(size=(60, 5)), rng.normal(size=(60, 3))
    ref = ref_cka(x, y)
    t = cka(torch.tensor(x, dtype=torch.float32), torch.tensor(y, dtype=torch.float32))
    assert t == pytest.approx(ref, abs=1e-5)  # float32 products, float64 accumulation
    assert cka(strict.asarray(x), strict.asarray(y)) == pytest.approx(ref, rel=1e-10)
    assert cka(strict.asarray(x), strict.asarray(y), kernel="rbf", sigma=2.0) == pytest.approx(
        ref_cka(x, y, sigma=2.0), rel=1e-9
    )


def test_cka_errors(pair):
    x, y = pair
    with pytest.raises(ValueError, match="`a` and `b` to have the same number of rows"):
        cka(x, y[:10])
    with pytest.raises(ValueError, match="Expected `b` to vary across samples"):
        cka(x, np.ones((80, 3)))
    with pytest.raises(ValueError, match="at least 4 rows"):
        cka(x[:3], y[:3], debiased=True)
    with pytest.raises(ValueError, match="at least 2 rows"):
        cka(x[:1], y[:1])
    with pytest.raises(ValueError, match="Expected `kernel` to be one of"):
        cka(x, y, kernel="poly")
    with pytest.raises(ValueError, match="Expected `sigma`"):
        cka(x, y, kernel="rbf", sigma=0.0)
    with pytest.raises(TypeError, match="Expected `debiased` to be a bool"):
        cka(x, y, debiased="yes")
    with pytest.raises(ValueError, match="median pairwise distance is 0"):
        cka(np.ones((5, 2)), y[:5], kernel="rbf")
    with pytest.raises(ValueError, match="Expected `chunk_size`"):
        cka(x, y, kernel="rbf", chunk_size=0)
    bad = x.copy()
    bad[2, 2] = np.nan
    with pytest.raises(ValueError, match="`a` to contain only finite values, but row 2"):
        cka(bad, y)


# ---------------------------------------------------------------- CCA family


def test_canonical_correlations_match_qr_reference(pair):
    x, y = pair
    np.testing.assert_allclose(canonical_correlations(x, y), ref_canonical(x, y), atol=1e-10)
    assert cca(x, y) == pytest.approx(ref_canonical(x, y).mean())


def test_cca_invariant_to_invertible_linear_maps(pair):
    x, y = pair
    m = np.random.default_rng(5).normal(size=(6, 6))
    assert cca(x @ m + 4.0, y) == pytest.approx(cca(x, y), abs=1e-9)
    assert cca(x, x @ m) == pytest.approx(1.0)


def test_cca_rank_deficient_refused_or_regularised(pair):
    x, y = pair
    dup = np.c_[x, x[:, 0]]
    with pytest.raises(ValueError, match=r"rank 6 < 7 features .* Pass `regularization` > 0"):
        cca(dup, y)
    with pytest.raises(ValueError, match=r"only 5 samples for 6 features"):
        cca(x[:5], y[:5])
    with pytest.raises(ValueError, match="Expected `b` to vary across samples"):
        cca(x, np.ones((80, 2)))
    value = cca(dup, y, regularization=1e-3)
    assert 0.0 <= value <= 1.0 and value == pytest.approx(cca(x, y), abs=0.01)
    wide = cca(x[:5], y[:5], regularization=0.1)  # n < d works with a ridge
    assert 0.0 <= wide <= 1.0
    with pytest.raises(ValueError, match="Expected `regularization`"):
        cca(x, y, regularization=-1.0)


def test_svcca_keeps_top_directions(pair):
    x, y = pair
    # keep=all directions of full-rank spaces is plain CCA.
    assert svcca(x, y, keep=1.0) == pytest.approx(cca(x, y))
    rng = np.random.default_rng(2)
    u, _ = np.linalg.qr(rng.normal(size=(80, 6)))
    spectrum = u * np.array([10.0, 8.0, 6.0, 1e-3, 1e-3, 1e-3])
    # 3 directions carry > 99.99% of the variance: svcca equals CCA of those 3 directions.
    assert svcca(spectrum, y, keep=0.9999) == pytest.approx(
        np.mean(ref_canonical(u[:, :3], y)[:3]), abs=1e-9
    )
    top = lambda v, r: np.linalg.svd(v - v.mean(0), full_matrices=False)[0][:, :r]  # noqa: E731
    assert svcca(x, y, keep=3) == pytest.approx(np.mean(ref_canonical(top(x, 3), top(y, 3))))
    assert svcca(x, 2.0 * x @ orthogonal(6, 1) + 1.0) == pytest.approx(1.0)
    assert 0.0 <= svcca(rng.normal(size=(10, 50)), rng.normal(size=(10, 40)), keep=3) <= 1.0


def test_svcca_errors(pair):
    x, y = pair
    with pytest.raises(ValueError, match=r"Expected `keep` to be a finite number in \(0.0, 1.0\]"):
        svcca(x, y, keep=1.5)
    with pytest.raises(TypeError, match="Expected `keep` to be a float in"):
        svcca(x, y, keep="all")
    with pytest.raises(ValueError, match=r"at most the rank of `a` \(6\)"):
        svcca(x, y, keep=7)
    with pytest.raises(ValueError, match="no degrees of freedom"):
        svcca(x[:6], y[:6], keep=1.0)


def test_pwcca_reference_and_asymmetry(pair):
    x, y = pair
    xc, yc = x - x.mean(0), y - y.mean(0)
    qa, _ = np.linalg.qr(xc)
    qb, _ = np.linalg.qr(yc)
    u, rho, _ = np.linalg.svd(qa.T @ qb, full_matrices=False)
    variates = qa @ u  # unit-norm canonical variates of x
    weights = np.abs(variates.T @ xc).sum(axis=1)
    assert pwcca(x, y) == pytest.approx(float(weights @ rho / weights.sum()), rel=1e-9)
    assert pwcca(x, y) != pytest.approx(pwcca(y, x))
    assert pwcca(x, x @ np.diag([1.0, -2.0, 3.0, 0.5, 1.0, 4.0])) == pytest.approx(1.0)


# ---------------------------------------------------------------- Procrustes


def test_procrustes_matches_scipy(pair):
    scipy_linalg = pytest.importorskip("scipy.linalg")
    x, y = pair
    y = y[:, :4] if y.shape[1] > 4 else y
    a = (x - x.mean(0)) / np.linalg.norm(x - x.mean(0))
    b = (y - y.mean(0)) / np.linalg.norm(y - y.mean(0))
    b_pad = np.c_[b, np.zeros((len(b), a.shape[1] - b.shape[1]))]
    r, _ = scipy_linalg.orthogonal_procrustes(b_pad, a)
    expected = np.linalg.norm(a - b_pad @ r)
    assert procrustes_distance(x, y) == pytest.approx(expected, rel=1e-9)
    assert procrustes_distance(y, x) == pytest.approx(expected, rel=1e-9)
    nuclear = 1.0 - expected**2 / 2.0
    assert procrustes_distance(x, y, kind="angular") == pytest.approx(math.acos(nuclear))


@settings(max_examples=20, deadline=None)
@given(seed=st.integers(0, 10_000), scale=st.floats(0.01, 100.0), shift=st.floats(-50, 50))
def test_procrustes_invariances(seed, scale, shift):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(30, 4))
    y = rng.normal(size=(30, 4))
    assert procrustes_distance(x, scale * x @ orthogonal(4, seed) + shift) == pytest.approx(
        0.0, abs=1e-6
    )
    moved = scale * y @ orthogonal(4, seed + 1) + shift
    assert procrustes_distance(x, moved) == pytest.approx(procrustes_distance(x, y), abs=1e-9)


def test_procrustes_errors(pair):
    x, y = pair
    with pytest.raises(ValueError, match="Expected `a` to vary across samples"):
        procrustes_distance(np.zeros((80, 2)), y)
    with pytest.raises(ValueError, match="same number of rows"):
        procrustes_distance(x, y[:3])
    with pytest.raises(ValueError, match="Expected `kind` to be one of"):
        procrustes_distance(x, y, kind="cosine")


# ---------------------------------------------------------------- RSA


@pytest.mark.parametrize("dissimilarity", ["euclidean", "correlation", "cosine"])
def test_rsa_matches_scipy(pair, dissimilarity):
    spatial = pytest.importorskip("scipy.spatial.distance")
    stats = pytest.importorskip("scipy.stats")
    x, y = pair
    dx, dy = spatial.pdist(x, dissimilarity), spatial.pdist(y, dissimilarity)
    np.testing.assert_allclose(rdm(x, dissimilarity=dissimilarity), dx, atol=1e-9)
    got = rsa(x, y, dissimilarity=dissimilarity)
    assert got == pytest.approx(stats.spearmanr(dx, dy)[0], rel=1e-9)
    got = rsa(x, y, method="pearson", dissimilarity=dissimilarity)
    assert got == pytest.approx(stats.pearsonr(dx, dy)[0], rel=1e-9)


def test_rsa_ties_and_errors(pair):
    x, y = pair
    grid = np.array([[0.0, 0.0], [1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])  # many tied distances
    stats = pytest.importorskip("scipy.stats")
    from scipy.spatial.distance import pdist

    assert rsa(grid, grid * [1.0, 2.0]) == pytest.approx(
        stats.spearmanr(pdist(grid), pdist(grid * [1.0, 2.0]))[0]
    )
    with pytest.raises(ValueError, match="at least 3 rows"):
        rsa(x[:2], y[:2])
    with pytest.raises(ValueError, match="row 1 is constant"):
        rdm(np.array([[1.0, 2.0], [3.0, 3.0], [0.0, 1.0]]), dissimilarity="correlation")
    with pytest.raises(ValueError, match="row 0 is zero"):
        rdm(np.array([[0.0, 0.0], [3.0, 3.0]]), dissimilarity="cosine")
    with pytest.raises(ValueError, match="one is constant"):
        rsa(np.eye(3), y[:3])
    with pytest.raises(ValueError, match="Expected `method` to be one of"):
        rsa(x, y, method="kendall")
    with pytest.raises(ValueError, match="Expected `dissimilarity` to be one of"):
        rdm(x, dissimilarity="l1")


# ---------------------------------------------------------------- registry declarations


def _transforms(name, d, rng):
    m = rng.normal(size=(d, d)) + 3.0 * np.eye(d)
    return {
        "orthogonal": lambda v: v @ orthogonal(d, 7),
        "scaling": lambda v: 3.7 * v,
        "translation": lambda v: v + rng.normal(size=d) * 5.0,
        "permutation": lambda v: v[:, rng.permutation(d)],
        "linear": lambda v: v @ m,
    }[name]


@pytest.mark.parametrize("info", list_metrics(), ids=lambda m: m.name)
def test_registry_declarations_hold(info):
    rng = np.random.default_rng(11)
    x = rng.normal(size=(60, 5))
    y = x @ rng.normal(size=(5, 5)) + 0.8 * rng.normal(size=(60, 5))
    value = info.compute(x, y, 5)
    low, high = info.value_range
    assert low - 1e-12 <= value <= high + 1e-12
    if info.symmetric:
        assert info.compute(y, x, 5) == pytest.approx(value, abs=1e-9)
    for name in sorted(INVARIANCES):
        t = _transforms(name, 5, rng)
        moved = [info.compute(t(x), y, 5), info.compute(x, t(y), 5)]
        held = all(v == pytest.approx(value, abs=1e-7) for v in moved)
        assert held == (name in info.invariances), (info.name, name, value, moved)
    assert info.to_dict()["name"] == info.name


def test_registry_queries():
    assert metric_info("procrustes").kind == "distance"
    assert [m.name for m in list_metrics(symmetric=False)] == ["jaccard", "mrr", "pwcca"]
    assert all("orthogonal" in m.invariances for m in list_metrics(invariant_to="orthogonal"))
    assert {m.name for m in list_metrics(kind="similarity")} >= {"cka", "rsa", "mutual_knn"}
    with pytest.raises(ValueError, match="Expected `name` to be one of"):
        metric_info("nope")
    with pytest.raises(ValueError, match="Expected `invariant_to` to be one of"):
        list_metrics(invariant_to="affine")
    with pytest.raises(ValueError, match="Expected `kind` to be one of"):
        list_metrics(kind="score")
    with pytest.raises(TypeError, match="Expected `symmetric` to be a bool"):
        list_metrics(symmetric="yes")


def test_cka_block_size_is_a_deprecated_alias_of_chunk_size() -> None:
    rng = np.random.default_rng(4)
    x, y = rng.normal(size=(40, 6)), rng.normal(size=(40, 3))
    expected = cka(x, y, kernel="rbf", chunk_size=9)
    with pytest.warns(DeprecationWarning, match=r"cka\(\): `block_size` is deprecated"):
        assert cka(x, y, kernel="rbf", block_size=9) == expected
    with pytest.raises(TypeError, match="only one of `chunk_size` and its deprecated alias"):
        cka(x, y, chunk_size=9, block_size=9)
