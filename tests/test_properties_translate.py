"""Property-based tests of relreps.translate: known maps are recovered, inverses undo transforms.

Planted maps (orthogonal embeddings, invertible and rectangular linear maps, affine maps) are
drawn with bounded condition numbers, so a failure is the estimator's and not ill-conditioning.
"""

from __future__ import annotations

import itertools

import numpy as np
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from relreps.translate import Affine, LeastSquares, Procrustes, inverse_relative_projection

SETTINGS = settings(max_examples=30, deadline=None)
STANDARDIZE = st.sampled_from(["feature", "global", "none"])
SEEDS = st.integers(0, 2**32 - 1)


def _orthonormal_rows(rows: int, cols: int, rng: np.random.Generator) -> np.ndarray:
    """(rows, cols), orthonormal rows (rows <= cols): an isometric embedding R^rows -> R^cols."""
    q, r = np.linalg.qr(rng.normal(size=(cols, cols)))
    return (q * np.sign(np.diag(r)))[:rows]


def _well_conditioned(rows: int, cols: int, rng: np.random.Generator) -> np.ndarray:
    """A full-rank (rows, cols) matrix with singular values in [0.3, 3]."""
    u = _orthonormal_rows(min(rows, cols), rows, rng).T  # (rows, r)
    v = _orthonormal_rows(min(rows, cols), cols, rng)  # (r, cols)
    return (u * rng.uniform(0.3, 3.0, size=min(rows, cols))) @ v


def _anchors(rng: np.random.Generator, n: int, d: int) -> np.ndarray:
    """Anchors with different per-feature spreads and offsets (feature standardisation matters)."""
    return rng.normal(size=(n, d)) * rng.uniform(0.5, 3.0, size=d) + rng.normal(size=d) * 3.0


@SETTINGS
@given(
    seed=SEEDS,
    d_x=st.integers(1, 6),
    extra=st.integers(0, 4),
    scale=st.floats(0.1, 10.0),
)
def test_procrustes_recovers_an_isometric_embedding_into_a_wider_space(seed, d_x, extra, scale):
    rng = np.random.default_rng(seed)
    d_y = d_x + extra
    embed = _orthonormal_rows(d_x, d_y, rng)
    shift = rng.normal(size=d_y)
    x = rng.normal(size=(3 * d_y + 5, d_x))
    t = Procrustes(standardize="global").fit(x, scale * x @ embed + shift)
    new = rng.normal(size=(6, d_x))
    np.testing.assert_allclose(t.transform(new), scale * new @ embed + shift, atol=1e-8)
    np.testing.assert_allclose(t.inverse_transform(scale * new @ embed + shift), new, atol=1e-8)


@SETTINGS
@given(
    seed=SEEDS,
    d_x=st.integers(1, 6),
    d_y=st.integers(1, 6),
    standardize=STANDARDIZE,
    scale=st.booleans(),
)
def test_procrustes_map_is_orthogonal_for_any_data(seed, d_x, d_y, standardize, scale):
    rng = np.random.default_rng(seed)
    n = max(d_x, d_y) + 3
    t = Procrustes(scale, standardize=standardize).fit(_anchors(rng, n, d_x), _anchors(rng, n, d_y))
    r = t.rotation_
    assert r.shape == (max(d_x, d_y),) * 2
    np.testing.assert_allclose(r.T @ r, np.eye(r.shape[0]), atol=1e-10)
    np.testing.assert_allclose(r @ r.T, np.eye(r.shape[0]), atol=1e-10)
    assert t.scale_ > 0 and (scale or t.scale_ == 1.0)


@SETTINGS
@given(seed=SEEDS, d=st.integers(1, 6), other=SEEDS)
def test_procrustes_rotation_is_optimal(seed, d, other):
    """No orthogonal map fits the anchors better than the fitted one."""
    rng = np.random.default_rng(seed)
    x, y = rng.normal(size=(d + 4, d)), rng.normal(size=(d + 4, d))
    t = Procrustes(False, standardize="none").fit(x, y)
    best = np.linalg.norm(x @ t.rotation_ - y)
    for q in (np.eye(d), _orthonormal_rows(d, d, np.random.default_rng(other))):
        assert best <= np.linalg.norm(x @ q - y) + 1e-9


@SETTINGS
@given(seed=SEEDS, d_x=st.integers(1, 5), extra=st.integers(0, 3))
def test_unscaled_procrustes_without_standardisation_is_an_isometry(seed, d_x, extra):
    rng = np.random.default_rng(seed)
    d_y = d_x + extra
    t = Procrustes(False, standardize="none").fit(_anchors(rng, 12, d_x), _anchors(rng, 12, d_y))
    v = rng.normal(size=(8, d_x))
    out = t.transform(v)

    def gram_distances(z: np.ndarray) -> np.ndarray:
        return np.linalg.norm(z[:, None, :] - z[None, :, :], axis=-1)

    np.testing.assert_allclose(gram_distances(out), gram_distances(v), atol=1e-10)
    np.testing.assert_allclose(np.linalg.norm(out, axis=1), np.linalg.norm(v, axis=1), atol=1e-10)


@SETTINGS
@given(
    seed=SEEDS,
    d=st.integers(1, 6),
    standardize=STANDARDIZE,
    kind=st.sampled_from(["procrustes", "procrustes_unscaled", "least_squares", "affine"]),
    ridge=st.sampled_from([0.0, 0.1, 3.0]),
)
def test_inverse_transform_undoes_transform_for_equal_widths(seed, d, standardize, kind, ridge):
    rng = np.random.default_rng(seed)
    make = {
        "procrustes": lambda: Procrustes(standardize=standardize),
        "procrustes_unscaled": lambda: Procrustes(False, standardize=standardize),
        "least_squares": lambda: LeastSquares(ridge, standardize=standardize),
        "affine": lambda: Affine(ridge, standardize=standardize),
    }[kind]
    x = _anchors(rng, 3 * d + 4, d)
    y = x @ _well_conditioned(d, d, rng) + 0.3 * rng.normal(size=(len(x), d))
    t = make().fit(x, y)
    v = rng.normal(size=(7, d)) * 2.0
    np.testing.assert_allclose(t.inverse_transform(t.transform(v)), v, rtol=1e-8, atol=1e-8)
    w = rng.normal(size=(7, d)) * 2.0
    np.testing.assert_allclose(t.transform(t.inverse_transform(w)), w, rtol=1e-8, atol=1e-8)


@SETTINGS
@given(
    seed=SEEDS,
    d_x=st.integers(1, 5),
    extra=st.integers(0, 3),
    standardize=STANDARDIZE,
    cls=st.sampled_from([LeastSquares, Affine]),
)
def test_least_squares_inverse_is_a_left_inverse_into_wider_spaces(
    seed, d_x, extra, standardize, cls
):
    """``d_y >= d_x``: a full-column-rank map is undone by its pseudo-inverse."""
    rng = np.random.default_rng(seed)
    x = _anchors(rng, 3 * (d_x + extra) + 4, d_x)
    y = x @ _well_conditioned(d_x, d_x + extra, rng) + 0.2 * rng.normal(size=(len(x), d_x + extra))
    t = cls(standardize=standardize).fit(x, y)
    v = rng.normal(size=(5, d_x))
    np.testing.assert_allclose(t.inverse_transform(t.transform(v)), v, rtol=1e-8, atol=1e-8)


@SETTINGS
@given(
    seed=SEEDS,
    d_x=st.integers(1, 6),
    d_y=st.integers(1, 6),
    standardize=st.sampled_from(["feature", "global"]),
    cls=st.sampled_from([LeastSquares, Affine]),
)
def test_least_squares_recovers_a_planted_affine_map(seed, d_x, d_y, standardize, cls):
    """Standardisation centres both sides, so even LeastSquares recovers ``x M + c`` exactly."""
    rng = np.random.default_rng(seed)
    m = _well_conditioned(d_x, d_y, rng)
    c = rng.normal(size=d_y) * 4.0
    x = _anchors(rng, 2 * d_x + 5, d_x)
    t = cls(standardize=standardize).fit(x, x @ m + c)
    new = rng.normal(size=(6, d_x)) * 3.0
    np.testing.assert_allclose(t.transform(new), new @ m + c, rtol=1e-8, atol=1e-8)


@SETTINGS
@given(seed=SEEDS, d_x=st.integers(1, 6), d_y=st.integers(1, 6), biased=st.booleans())
def test_raw_coordinates_recover_coefficients_and_intercept(seed, d_x, d_y, biased):
    rng = np.random.default_rng(seed)
    m = _well_conditioned(d_x, d_y, rng)
    b = rng.normal(size=d_y) * 2.0 if biased else np.zeros(d_y)
    x = _anchors(rng, 2 * d_x + 5, d_x)
    affine = Affine(standardize="none").fit(x, x @ m + b)
    np.testing.assert_allclose(affine.coef_, m, atol=1e-8)
    np.testing.assert_allclose(affine.intercept_, b, atol=1e-8)
    if not biased:
        linear = LeastSquares(standardize="none").fit(x, x @ m)
        np.testing.assert_allclose(linear.coef_, m, atol=1e-8)


@SETTINGS
@given(seed=SEEDS, d=st.integers(1, 5), ridges=st.lists(st.floats(0.0, 100.0), min_size=2))
def test_ridge_shrinks_the_map(seed, d, ridges):
    rng = np.random.default_rng(seed)
    x, y = rng.normal(size=(3 * d + 3, d)), rng.normal(size=(3 * d + 3, d))
    norms = [np.linalg.norm(LeastSquares(r).fit(x, y).coef_) for r in sorted(ridges)]
    assert all(later <= earlier + 1e-9 for earlier, later in itertools.pairwise(norms))


@SETTINGS
@given(
    seed=SEEDS,
    d=st.integers(1, 5),
    standardize=STANDARDIZE,
    cls=st.sampled_from([Procrustes, LeastSquares, Affine]),
)
def test_anchor_order_does_not_matter(seed, d, standardize, cls):
    rng = np.random.default_rng(seed)
    x = _anchors(rng, 2 * d + 4, d)
    y = x @ _well_conditioned(d, d, rng) + 0.5 * rng.normal(size=(len(x), d))
    perm = rng.permutation(len(x))
    v = rng.normal(size=(5, d))
    a = cls(standardize=standardize).fit(x, y).transform(v)
    b = cls(standardize=standardize).fit(x[perm], y[perm]).transform(v)
    np.testing.assert_allclose(a, b, rtol=1e-8, atol=1e-8)


@SETTINGS
@given(
    seed=SEEDS,
    d_x=st.integers(1, 5),
    d_y=st.integers(1, 5),
    standardize=STANDARDIZE,
    cls=st.sampled_from([Procrustes, LeastSquares, Affine]),
)
def test_numpy_and_torch_translators_agree(seed, d_x, d_y, standardize, cls):
    rng = np.random.default_rng(seed)
    n = 2 * max(d_x, d_y) + 4
    x, y = _anchors(rng, n, d_x), _anchors(rng, n, d_y)
    v = rng.normal(size=(5, d_x))
    expected = cls(standardize=standardize).fit(x, y).transform(v)
    fitted = cls(standardize=standardize).fit(torch.from_numpy(x), torch.from_numpy(y))
    got = fitted.transform(torch.from_numpy(v))
    assert isinstance(got, torch.Tensor)
    np.testing.assert_allclose(got.numpy(), expected, rtol=1e-7, atol=1e-8)


@SETTINGS
@given(seed=SEEDS, d=st.integers(1, 6), extra=st.integers(0, 6), norm=st.floats(0.1, 10.0))
def test_inverse_relative_projection_recovers_directions(seed, d, extra, norm):
    rng = np.random.default_rng(seed)
    anchors = _anchors(rng, d + extra, d)
    x = rng.normal(size=(6, d))
    unit = x / np.linalg.norm(x, axis=1, keepdims=True)
    rel = unit @ (anchors / np.linalg.norm(anchors, axis=1, keepdims=True)).T
    back = inverse_relative_projection(rel, anchors, norm=norm)
    np.testing.assert_allclose(back, norm * unit, rtol=1e-7, atol=1e-7)
