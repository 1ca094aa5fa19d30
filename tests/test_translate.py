"""Translators (Procrustes, LeastSquares, Affine) and inverse relative projection."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from relreps.translate import (
    Affine,
    LeastSquares,
    NotFittedError,
    Procrustes,
    inverse_relative_projection,
)


def orthogonal(d, seed):
    q, _ = np.linalg.qr(np.random.default_rng(seed).normal(size=(d, d)))
    return q


def unit(v):
    return v / np.linalg.norm(v, axis=1, keepdims=True)


@settings(max_examples=25, deadline=None)
@given(
    seed=st.integers(0, 10_000),
    d=st.integers(1, 12),
    scale=st.floats(0.1, 10.0),
    standardize=st.sampled_from(["global", "none"]),
)
def test_procrustes_recovers_planted_rotation(seed, d, scale, standardize):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(3 * d + 5, d))
    q = orthogonal(d, seed + 1)
    shift = rng.normal(size=d) if standardize == "global" else 0.0  # "none" fits no offset
    y = scale * x @ q + shift
    t = Procrustes(standardize=standardize).fit(x, y)
    new = rng.normal(size=(7, d))
    assert np.max(np.abs(t.transform(new) - (scale * new @ q + shift))) < 1e-5
    if standardize == "none":
        np.testing.assert_allclose(t.rotation_, q, atol=1e-8)
        assert t.scale_ == pytest.approx(scale)


@pytest.mark.parametrize("standardize", ["feature", "global", "none"])
@pytest.mark.parametrize("make", [Procrustes, LeastSquares, Affine, lambda: Procrustes(False)])
def test_inverse_transform_undoes_transform(standardize, make):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(40, 5)) * [1.0, 3.0, 0.5, 2.0, 1.0] + 4.0
    y = x @ rng.normal(size=(5, 5)) + 1.0
    t = make()
    t.standardize = standardize
    t.fit(x, y)
    new = rng.normal(size=(9, 5))
    np.testing.assert_allclose(t.inverse_transform(t.transform(new)), new, atol=1e-9)
    np.testing.assert_allclose(t.transform(t.inverse_transform(new)), new, atol=1e-9)


def test_procrustes_different_widths_zero_padding():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(50, 3))
    q = orthogonal(6, 2)
    y = np.c_[x, np.zeros((50, 3))] @ q  # X embedded in a wider space and rotated
    t = Procrustes(standardize="none", scale=False).fit(x, y)
    assert t.rotation_.shape == (6, 6) and t.n_features_out_ == 6
    np.testing.assert_allclose(t.transform(x[:4]), y[:4], atol=1e-10)
    np.testing.assert_allclose(t.inverse_transform(t.transform(x[:4])), x[:4], atol=1e-10)
    back = Procrustes(standardize="none", scale=False).fit(y, x)  # wide -> narrow
    assert back.transform(y[:4]).shape == (4, 3)
    np.testing.assert_allclose(back.transform(y[:4]), x[:4], atol=1e-10)


def test_least_squares_and_affine_match_lstsq():
    rng = np.random.default_rng(3)
    x = rng.normal(size=(60, 4))
    y = rng.normal(size=(60, 3))
    t = LeastSquares(standardize="none").fit(x, y)
    np.testing.assert_allclose(t.coef_, np.linalg.lstsq(x, y, rcond=None)[0], atol=1e-10)
    ridge = LeastSquares(ridge=2.0, standardize="none").fit(x, y)
    np.testing.assert_allclose(ridge.coef_, np.linalg.solve(x.T @ x + 2.0 * np.eye(4), x.T @ y))
    a = Affine(standardize="none").fit(x, y)
    full = np.linalg.lstsq(np.c_[x, np.ones(60)], y, rcond=None)[0]
    np.testing.assert_allclose(a.coef_, full[:-1], atol=1e-10)
    np.testing.assert_allclose(a.intercept_, full[-1], atol=1e-10)
    np.testing.assert_allclose(a.transform(x), np.c_[x, np.ones(60)] @ full, atol=1e-10)
    # Standardised least squares on centered anchors is affine in raw coordinates.
    s = LeastSquares().fit(x, y)
    np.testing.assert_allclose(s.transform(x), a.transform(x), atol=1e-10)
    ridge_affine = Affine(ridge=1.0, standardize="none").fit(x, y)
    design = np.c_[x, np.ones(60)]
    penalty = np.diag([1.0, 1.0, 1.0, 1.0, 0.0])
    expected = np.linalg.solve(design.T @ design + penalty, design.T @ y)
    np.testing.assert_allclose(ridge_affine.intercept_, expected[-1], atol=1e-10)


def test_feature_standardisation_floors_constant_dimensions():
    """The all-MiniLM-L6-v2 trap: features with std ~1e-33 must not be divided by ~0."""
    rng = np.random.default_rng(4)
    x = rng.normal(size=(100, 6)) * 0.05
    x[:, 2] = 0.3 + rng.normal(size=100) * 1e-33
    y = x @ orthogonal(6, 5)
    t = Procrustes().fit(x, y)
    assert float(t.x_scale_[2]) == pytest.approx(1e-6 * float(np.mean(np.std(x, axis=0))))
    out = t.transform(x)
    assert np.all(np.isfinite(out)) and np.max(np.abs(out)) < 10.0
    # Without the floor the constant column would dominate the standardised anchors.
    assert float(np.max(np.abs((x - t.x_mean_) / t.x_scale_)[:, 2])) < 1e-6
    lsq = LeastSquares().fit(x, y)
    assert np.all(np.isfinite(lsq.transform(x)))


def test_torch_and_float32():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(6)
    x = rng.normal(size=(30, 4))
    y = x @ orthogonal(4, 7)
    t = Procrustes(standardize="global").fit(torch.tensor(x), torch.tensor(y))
    out = t.transform(torch.tensor(x[:3]))
    assert isinstance(out, torch.Tensor)
    np.testing.assert_allclose(out.numpy(), y[:3], atol=1e-8)
    with pytest.raises(TypeError, match="same array library"):
        t.transform(x[:3])
    f = LeastSquares().fit(x.astype(np.float32), y.astype(np.float32))
    assert f.transform(x[:2].astype(np.float32)).dtype == np.float32
    i = Affine().fit(np.round(x * 10).astype(int), y)
    assert i.transform(np.round(x[:2] * 10).astype(int)).dtype == np.float64


def test_repr_and_fit_transform():
    assert repr(Procrustes()) == "Procrustes(scale=True, standardize='feature', min_scale=1e-06)"
    assert repr(LeastSquares(ridge=0.5)).startswith("LeastSquares(ridge=0.5")
    x = np.random.default_rng(8).normal(size=(20, 3))
    np.testing.assert_allclose(Affine().fit_transform(x, 2 * x), 2 * x, atol=1e-10)


def test_translator_errors():
    rng = np.random.default_rng(9)
    x, y = rng.normal(size=(20, 3)), rng.normal(size=(20, 4))
    for t in (Procrustes(), LeastSquares(), Affine()):
        with pytest.raises(NotFittedError, match="not fitted yet"):
            t.transform(x)
        with pytest.raises(NotFittedError, match="not fitted yet"):
            t.inverse_transform(y)
    t = Procrustes().fit(x, y)
    with pytest.raises(ValueError, match=r"Expected `x` to be an array with 3 features"):
        t.transform(y)
    with pytest.raises(ValueError, match=r"Expected `y` to be an array with 4 features"):
        t.inverse_transform(x)
    with pytest.raises(ValueError, match="`x_anchors` and `y_anchors` to have the same number"):
        Procrustes().fit(x, y[:5])
    with pytest.raises(ValueError, match="at least 2 rows"):
        Procrustes().fit(x[:1], y[:1])
    with pytest.raises(ValueError, match="Expected `standardize` to be one of"):
        Procrustes(standardize="minmax").fit(x, y)
    with pytest.raises(ValueError, match="Expected `min_scale`"):
        Procrustes(min_scale=0.0).fit(x, y)
    with pytest.raises(ValueError, match="Expected `ridge`"):
        LeastSquares(ridge=-1.0).fit(x, y)
    with pytest.raises(TypeError, match="Expected `scale` to be a bool"):
        Procrustes(scale=2).fit(x, y)
    with pytest.raises(ValueError, match="`y_anchors` to vary across anchors"):
        Procrustes().fit(x, np.ones((20, 4)))
    with pytest.raises(ValueError, match="`x_anchors` to vary across anchors"):
        Procrustes(standardize="global").fit(np.ones((20, 3)), y)
    bad = x.copy()
    bad[4, 0] = np.nan
    with pytest.raises(ValueError, match="`x_anchors` to contain only finite values, but row 4"):
        Affine().fit(bad, y)
    with pytest.raises(ValueError, match="`x` to contain only finite values"):
        t.transform(bad)


def test_inverse_relative_projection_recovers_direction_and_norm():
    rng = np.random.default_rng(10)
    anchors = rng.normal(size=(12, 5)) * 3.0
    x = rng.normal(size=(6, 5))
    rel = unit(x) @ unit(anchors).T
    back = inverse_relative_projection(rel, anchors)
    typical = np.linalg.norm(anchors, axis=1).mean()
    np.testing.assert_allclose(back, unit(x) * typical, atol=1e-10)
    np.testing.assert_allclose(inverse_relative_projection(rel, anchors, norm=2.0), 2 * unit(x))
    # Fewer anchors than dims: the direction is the projection onto the anchors' span.
    few = anchors[:3]
    rel_few = unit(x) @ unit(few).T
    got = inverse_relative_projection(rel_few, few, norm=1.0)
    basis, _ = np.linalg.qr(few.T)
    np.testing.assert_allclose(got, unit(unit(x) @ basis @ basis.T), atol=1e-10)
    zero = inverse_relative_projection(np.zeros((2, 12)), anchors)
    assert np.all(zero == 0.0)


def test_inverse_relative_projection_with_relreps_projection():
    relreps = pytest.importorskip("relreps")
    rng = np.random.default_rng(11)
    anchors = rng.normal(size=(20, 4))
    x = rng.normal(size=(5, 4))
    rel = relreps.relative_projection(x, anchors)  # the paper's cosine default
    back = inverse_relative_projection(rel, anchors, norm=1.0)
    np.testing.assert_allclose(back, unit(x), atol=1e-8)


def test_inverse_relative_projection_errors():
    anchors = np.random.default_rng(12).normal(size=(6, 3))
    with pytest.raises(ValueError, match="one column per row of `anchors_b`"):
        inverse_relative_projection(np.zeros((2, 5)), anchors)
    with pytest.raises(ValueError, match="every row is zero"):
        inverse_relative_projection(np.zeros((2, 6)), np.zeros((6, 3)))
    with pytest.raises(ValueError, match="Expected `norm`"):
        inverse_relative_projection(np.zeros((2, 6)), anchors, norm=-1.0)
    with pytest.raises(ValueError, match="`rel` to contain only finite values"):
        inverse_relative_projection(np.full((2, 6), np.nan), anchors)
