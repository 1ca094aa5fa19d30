"""relative_projection: reference values, declared invariances, backends, chunking, errors."""

from __future__ import annotations

import pickle
import subprocess
import sys
import warnings

import array_api_strict
import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.spatial.distance import cdist
from sklearn.metrics.pairwise import cosine_similarity

import relreps
from relreps import RelativeProjector, relative_projection

DTYPES = [np.float32, np.float64]
TOL = {np.float32: dict(rtol=1e-4, atol=1e-5), np.float64: dict(rtol=1e-10, atol=1e-10)}


def _reference(name: str, x: np.ndarray, a: np.ndarray) -> np.ndarray:
    x64, a64 = x.astype(np.float64), a.astype(np.float64)
    if name == "cosine":
        return cosine_similarity(x64, a64)
    if name == "inner":
        return x64 @ a64.T / np.sqrt(x.shape[1])
    if name == "angular":
        return 1 - np.arccos(np.clip(cosine_similarity(x64, a64), -1, 1)) / np.pi
    if name == "euclidean":
        return cdist(x64, a64)
    if name == "l1":
        return cdist(x64, a64, "cityblock")
    if name == "linf":
        return cdist(x64, a64, "chebyshev")
    if name == "rbf":
        da = cdist(a64, a64)
        sigma = np.median(da[np.triu_indices(len(a64), 1)])
        return np.exp(-cdist(x64, a64, "sqeuclidean") / (2 * sigma**2))
    if name == "basis_change":
        coef, *_ = np.linalg.lstsq(a64.T, x64.T, rcond=None)
        return coef.T
    raise KeyError(name)


BUILTINS = ["cosine", "inner", "angular", "euclidean", "l1", "linf", "rbf", "basis_change"]


@pytest.mark.parametrize("name", BUILTINS)
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("library", ["numpy", "torch"])
def test_matches_reference(name, dtype, library, rng):
    x = rng.normal(size=(40, 6)).astype(dtype)
    a = rng.normal(size=(9, 6)).astype(dtype)  # 9 >= 6 anchors span the space for basis_change
    xi, ai = (torch.from_numpy(x), torch.from_numpy(a)) if library == "torch" else (x, a)
    got = relative_projection(xi, ai, similarity=name)
    assert type(got) is type(xi)
    got = got.numpy() if library == "torch" else got
    assert got.dtype == dtype
    np.testing.assert_allclose(got, _reference(name, x, a), **TOL[dtype])


def test_registry_metadata_is_complete():
    names = [s.name for s in relreps.similarities()]
    assert names[: len(BUILTINS)] == BUILTINS
    for s in relreps.similarities():
        assert s.kind in ("similarity", "distance", "coordinates")
        assert s.invariances <= relreps.INVARIANCES
        assert s.value_range[0] <= s.value_range[1]
    assert relreps.get_similarity("euclidean").kind == "distance"
    assert relreps.get_similarity("cosine").higher_is_closer


# --- declared invariances, read from the registry ------------------------------------------------


def _orthogonal(d: int, rng: np.random.Generator) -> np.ndarray:
    q, r = np.linalg.qr(rng.normal(size=(d, d)))
    return q * np.sign(np.diag(r))


TRANSFORMS = {
    "orthogonal": lambda z, rng, d: z @ _orthogonal(d, rng),
    "scaling": lambda z, rng, d: z * 3.7,
    "translation": lambda z, rng, d: z + rng.normal(size=d) * 5,
    "permutation": lambda z, rng, d: z[:, rng.permutation(d)],
    "linear": lambda z, rng, d: z @ (rng.normal(size=(d, d)) + 3 * np.eye(d)),
}


def _apply_same(transform, x, a, seed):
    """Apply one random transformation (same draw) to samples and anchors."""
    d = x.shape[1]
    stacked = transform(np.vstack([x, a]), np.random.default_rng(seed), d)
    return stacked[: len(x)], stacked[len(x) :]


@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), name=st.sampled_from(BUILTINS))
def test_declared_invariances_hold(seed, name):
    rng = np.random.default_rng(seed)
    x, a = rng.normal(size=(20, 5)), rng.normal(size=(8, 5))
    base = relative_projection(x, a, similarity=name)
    for invariance in relreps.get_similarity(name).invariances:
        xt, at = _apply_same(TRANSFORMS[invariance], x, a, seed)
        got = relative_projection(xt, at, similarity=name)
        np.testing.assert_allclose(got, base, rtol=1e-7, atol=1e-8, err_msg=invariance)


@pytest.mark.parametrize("name", BUILTINS)
def test_undeclared_invariances_fail(name, rng):
    """A declaration that is too small is caught as well as one that is too large."""
    x, a = rng.normal(size=(20, 5)), rng.normal(size=(8, 5))
    base = relative_projection(x, a, similarity=name)
    for invariance in relreps.INVARIANCES - relreps.get_similarity(name).invariances:
        xt, at = _apply_same(TRANSFORMS[invariance], x, a, 7)
        got = relative_projection(xt, at, similarity=name)
        assert not np.allclose(got, base, atol=1e-6), invariance


@settings(max_examples=10, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), name=st.sampled_from(BUILTINS))
def test_center_anchors_adds_translation_invariance(seed, name):
    rng = np.random.default_rng(seed)
    x, a = rng.normal(size=(15, 4)), rng.normal(size=(6, 4))
    shift = rng.normal(size=4) * 10
    base = relative_projection(x, a, similarity=name, center="anchors")
    got = relative_projection(x + shift, a + shift, similarity=name, center="anchors")
    np.testing.assert_allclose(got, base, rtol=1e-6, atol=1e-7)


def test_center_vector_equals_manual_shift(rng):
    x, a, c = rng.normal(size=(10, 4)), rng.normal(size=(5, 4)), rng.normal(size=4)
    np.testing.assert_allclose(
        relative_projection(x, a, center=c), relative_projection(x - c, a - c), rtol=1e-12
    )
    np.testing.assert_allclose(
        relative_projection(x, a, center="anchors"),
        relative_projection(x - a.mean(0), a - a.mean(0)),
        rtol=1e-12,
    )


# --- product of invariances and sparsification -------------------------------------------------


def test_product_of_invariances(rng):
    x, a = rng.normal(size=(30, 5)), rng.normal(size=(7, 5))
    names = ["cosine", "euclidean", "l1", "linf"]
    concat = relative_projection(x, a, similarity=names)
    assert concat.shape == (30, 28)
    blocks = []
    for name in names:
        on_anchors = _reference(name, a, a)[~np.eye(len(a), dtype=bool)]  # distinct anchors
        sign = -1.0 if relreps.get_similarity(name).kind == "distance" else 1.0
        block = _reference(name, x, a)
        blocks.append(sign * (block - on_anchors.mean()) / on_anchors.std())
    np.testing.assert_allclose(concat, np.hstack(blocks), rtol=1e-9, atol=1e-9)
    summed = relative_projection(x, a, similarity=names, aggregate="sum")
    np.testing.assert_allclose(summed, sum(blocks), rtol=1e-9, atol=1e-9)
    mean = relative_projection(x, a, similarity=names, aggregate="mean")
    np.testing.assert_allclose(mean, sum(blocks) / 4, rtol=1e-9, atol=1e-9)


def test_product_gains_scale_invariance_from_standardisation(rng):
    """cosine+euclidean: euclidean alone is not scale invariant, the standardised product is."""
    x, a = rng.normal(size=(20, 5)), rng.normal(size=(7, 5))
    q = _orthogonal(5, rng)
    names = ["cosine", "euclidean"]
    base = relative_projection(x, a, similarity=names, aggregate="mean")
    got = relative_projection(4.0 * x @ q, 4.0 * a @ q, similarity=names, aggregate="mean")
    np.testing.assert_allclose(got, base, rtol=1e-9, atol=1e-9)


def test_topk_and_power(rng):
    x, a = rng.normal(size=(12, 4)), rng.normal(size=(8, 4))
    dense = relative_projection(x, a)
    sparse = relative_projection(x, a, topk=3)
    assert ((sparse != 0).sum(axis=1) == 3).all()
    kept = np.argsort(-dense, axis=1, kind="stable")[:, :3]
    np.testing.assert_allclose(
        np.take_along_axis(sparse, kept, 1), np.take_along_axis(dense, kept, 1)
    )
    powered = relative_projection(x, a, topk=3, power=2.0)
    expected = np.where(sparse != 0, np.sign(sparse) * np.abs(sparse) ** 2, 0)
    expected /= np.linalg.norm(expected, axis=1, keepdims=True)
    np.testing.assert_allclose(powered, expected, rtol=1e-12)
    distances = relative_projection(x, a, similarity="euclidean", topk=2)
    nearest = np.argsort(_reference("euclidean", x, a), axis=1)[:, :2]
    assert (np.sort(np.nonzero(distances)[1].reshape(12, 2), 1) == np.sort(nearest, 1)).all()


def test_topk_ties_prefer_lower_index():
    x = np.array([[1.0, 0.0]])
    a = np.array([[1.0, 0.0], [2.0, 0.0], [0.0, 1.0]])  # first two tie at cosine 1
    assert relative_projection(x, a, topk=1).tolist() == [[1.0, 0.0, 0.0]]


# --- backends, dtypes, chunking, out= -----------------------------------------------------------


def test_array_api_strict(rng):
    x, a = rng.normal(size=(10, 4)), rng.normal(size=(5, 4))
    for name in BUILTINS:
        got = relative_projection(
            array_api_strict.asarray(x), array_api_strict.asarray(a), similarity=name
        )
        assert type(got).__module__.startswith("array_api_strict")
        np.testing.assert_allclose(np.asarray(got), _reference(name, x, a), rtol=1e-9, atol=1e-12)
    got = relative_projection(
        array_api_strict.asarray(x),
        array_api_strict.asarray(a),
        center="anchors",
        topk=2,
        chunk_size=3,
    )
    np.testing.assert_allclose(
        np.asarray(got), relative_projection(x, a, center="anchors", topk=2), rtol=1e-12
    )


def test_integer_input_promoted(rng):
    x = rng.integers(-5, 5, size=(6, 3))
    a = rng.integers(1, 5, size=(2, 3))
    assert relative_projection(x, a).dtype == np.float64
    assert relative_projection(torch.from_numpy(x), torch.from_numpy(a)).dtype == torch.float32


def test_torch_keeps_device_and_dtype_and_grad(rng):
    x = torch.tensor(rng.normal(size=(6, 4)), dtype=torch.float64, requires_grad=True)
    a = torch.tensor(rng.normal(size=(3, 4)), dtype=torch.float64)
    rel = relative_projection(x, a, chunk_size=4)
    assert rel.dtype == torch.float64 and rel.device == x.device
    assert torch.autograd.gradcheck(lambda z: relative_projection(z, a), (x,))
    assert torch.autograd.gradcheck(
        lambda z: relative_projection(z, a, similarity=["cosine", "euclidean"], topk=2, power=2.0),
        (x,),
    )


@pytest.mark.parametrize("n_anchors", [2, 5])  # fewer / more anchors than features
def test_cosine_under_autograd_matches_numpy_and_has_finite_gradients(rng, n_anchors):
    # With more anchors than features the autograd path scales x instead of the result.
    x_np = rng.normal(size=(6, 3))
    x_np[2] = 0.0  # a zero vector maps to zeros and must not poison the gradient
    a_np = rng.normal(size=(n_anchors, 3))
    x = torch.tensor(x_np, requires_grad=True)
    a = torch.tensor(a_np, requires_grad=True)
    rel = relative_projection(x, a)
    np.testing.assert_allclose(rel.detach().numpy(), relative_projection(x_np, a_np), atol=1e-12)
    rel.sum().backward()
    assert torch.isfinite(x.grad).all() and torch.isfinite(a.grad).all()
    nonzero = torch.tensor(np.delete(x_np, 2, axis=0), requires_grad=True)
    assert torch.autograd.gradcheck(lambda z, b: relative_projection(z, b), (nonzero, a))


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_torch_cuda(rng):
    x = torch.tensor(rng.normal(size=(6, 4)), device="cuda")
    a = torch.tensor(rng.normal(size=(3, 4)), device="cuda")
    assert relative_projection(x, a).device == x.device


@pytest.mark.parametrize("name", ["cosine", "inner", "euclidean", "l1", "basis_change"])
@pytest.mark.parametrize("chunk", [1, 7, 1000])
def test_chunked_equals_unchunked(name, chunk, rng):
    x, a = rng.normal(size=(50, 6)), rng.normal(size=(8, 6))
    np.testing.assert_allclose(
        relative_projection(x, a, similarity=name, chunk_size=chunk),
        relative_projection(x, a, similarity=name),
        rtol=1e-12,
        atol=1e-12,
    )


def test_out_memmap_streams_to_disk(tmp_path, rng):
    x = rng.normal(size=(103, 6)).astype(np.float32)
    a = rng.normal(size=(5, 6)).astype(np.float32)
    out = np.lib.format.open_memmap(
        tmp_path / "rel.npy", mode="w+", dtype=np.float32, shape=(103, 5)
    )
    result = relative_projection(x, a, chunk_size=10, out=out)
    assert result is out
    out.flush()
    np.testing.assert_allclose(np.load(tmp_path / "rel.npy"), relative_projection(x, a), rtol=1e-6)
    torch_out = torch.empty(103, 5)
    relative_projection(torch.from_numpy(x), torch.from_numpy(a), out=torch_out, chunk_size=9)
    np.testing.assert_allclose(torch_out.numpy(), relative_projection(x, a), rtol=1e-5, atol=1e-6)


def test_zero_vectors_give_zero_not_nan():
    x = np.array([[0.0, 0.0], [1.0, 0.0]])
    a = np.array([[0.0, 0.0], [0.0, 2.0]])
    rel = relative_projection(x, a)
    assert np.isfinite(rel).all() and (rel == 0).all()
    assert np.isfinite(relative_projection(x, a, similarity="angular")).all()


def test_near_equal_vectors_float32_stay_in_range(rng):
    x = rng.normal(size=(200, 64)).astype(np.float32)
    rel = relative_projection(x, x + np.float32(1e-7))
    assert rel.max() <= 1.0 + 1e-6 and rel.min() >= -1.0 - 1e-6
    assert np.isfinite(relative_projection(x, x, similarity="angular")).all()
    assert relative_projection(x, x, similarity="euclidean").min() >= 0


# --- the estimator ------------------------------------------------------------------------------


def test_projector_matches_function_and_pickles(rng):
    x, a = rng.normal(size=(10, 4)), rng.normal(size=(6, 4))
    projector = RelativeProjector(similarity="rbf", center="anchors").fit(a)
    expected = relative_projection(x, a, similarity="rbf", center="anchors")
    np.testing.assert_allclose(projector.transform(x), expected, rtol=1e-12)
    np.testing.assert_allclose(projector.center_, a.mean(0))
    clone = pickle.loads(pickle.dumps(projector))
    np.testing.assert_allclose(clone.transform(x), expected, rtol=1e-12)
    np.testing.assert_allclose(
        projector.fit_transform(a), relative_projection(a, a, similarity="rbf", center="anchors")
    )
    assert projector.get_params()["similarity"] == "rbf"
    assert projector.set_params(topk=2).topk == 2
    assert "RelativeProjector(similarity='rbf'" in repr(projector)
    f32 = projector.fit(a).transform(x.astype(np.float32))
    assert f32.dtype == np.float32


def test_projector_errors(rng):
    with pytest.raises(relreps.NotFittedError, match="not fitted yet"):
        RelativeProjector().transform(np.ones((2, 2)))
    with pytest.raises(ValueError, match="Expected `params` to be names among"):
        RelativeProjector().set_params(bogus=1)
    projector = RelativeProjector().fit(rng.normal(size=(3, 4)))
    with pytest.raises(ValueError, match=r"Expected `x` to have 4 features .* got shape \(2, 5\)"):
        projector.transform(np.ones((2, 5)))


# --- bad input ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("x", "anchors", "kwargs", "error", "match"),
    [
        (np.ones(3), np.ones((2, 3)), {}, ValueError, r"`x` to be a 2-D array .* got shape \(3,\)"),
        (np.ones((2, 3)), np.ones((2, 3, 1)), {}, ValueError, r"`anchors` to be a 2-D array"),
        (
            np.ones((2, 3)),
            np.ones((2, 4)),
            {},
            ValueError,
            r"same number of features.*\(2, 3\).*\(2, 4\)",
        ),
        (
            np.ones((2, 3)),
            np.ones((0, 3)),
            {},
            ValueError,
            r"`anchors` to be an array with at least 1 row",
        ),
        (np.ones((2, 0)), np.ones((2, 0)), {}, ValueError, r"at least 1 feature"),
        (
            np.ones((2, 3)),
            np.ones((2, 3)),
            {"similarity": "cosinus"},
            ValueError,
            r"`similarity` to be one of \['angular'",
        ),
        (np.ones((2, 3)), np.ones((2, 3)), {"similarity": []}, ValueError, r"non-empty list"),
        (np.ones((2, 3)), np.ones((2, 3)), {"similarity": ["l1", "l1"]}, ValueError, r"distinct"),
        (
            np.ones((2, 3)),
            np.ones((2, 3)),
            {"topk": 0},
            ValueError,
            r"`topk` to be an int in \[1, inf\]",  # the spec's check (before the anchors)
        ),
        (
            np.ones((2, 3)),
            np.ones((2, 3)),
            {"topk": 3},
            ValueError,
            r"`topk` to be an int in \[1, 2\]",
        ),
        (np.ones((2, 3)), np.ones((2, 3)), {"topk": 1.5}, TypeError, r"`topk` to be an int"),
        (np.ones((2, 3)), np.ones((2, 3)), {"power": -1.0}, ValueError, r"`power`"),
        (
            np.ones((2, 3)),
            np.ones((2, 3)),
            {"aggregate": "max"},
            ValueError,
            r"`aggregate` to be one of",
        ),
        (
            np.ones((2, 3)),
            np.ones((2, 3)),
            {"center": "mean"},
            ValueError,
            r"`center` to be one of \['anchors'\]",
        ),
        (
            np.ones((2, 3)),
            np.ones((2, 3)),
            {"center": np.ones(4)},
            ValueError,
            r"`center` .* shape \(3,\)",
        ),
        (
            np.ones((2, 3)),
            np.ones((2, 3)),
            {"center": np.array([0, np.nan, 0])},
            ValueError,
            r"`center` to contain only finite",
        ),
        (
            np.ones((2, 3)),
            np.ones((2, 3)),
            {"chunk_size": 0},
            ValueError,
            r"`chunk_size` to be an int in \[1, inf\]",
        ),
        (
            np.ones((2, 3)),
            np.ones((2, 3)),
            {"out": np.empty((2, 3))},
            ValueError,
            r"`out` to be an array of shape \(2, 2\)",
        ),
        (
            np.ones((2, 3)),
            np.ones((2, 3)),
            {"out": np.empty((2, 2), np.float32)},
            TypeError,
            r"`out` to be an array of dtype float64",
        ),
        (
            np.ones((2, 3)),
            np.ones((1, 3)),
            {"similarity": "rbf"},
            ValueError,
            r"at least 2 anchors",
        ),
        (np.ones((2, 3)), np.ones((2, 3)), {"similarity": "rbf"}, ValueError, r"median is 0"),
        (
            np.ones((2, 3)),
            np.ones((2, 3)),
            {"similarity": "rbf", "topk": None},
            ValueError,
            r"median is 0",
        ),
        ([["a", "b"]], np.ones((2, 2)), {}, TypeError, r"`x` to be a numeric array"),
        (
            np.ones((2, 2), dtype=complex),
            np.ones((2, 2)),
            {},
            TypeError,
            r"`x` to be a real numeric array",
        ),
    ],
)
def test_errors(x, anchors, kwargs, error, match):
    with pytest.raises(error, match=match):
        relative_projection(x, anchors, **kwargs)


def test_rbf_bandwidth_validated():
    rbf = relreps.get_similarity("rbf")
    with pytest.raises(ValueError, match=r"`bandwidth` to be a finite number in \(0.0, inf\]"):
        relative_projection(np.ones((2, 3)), np.eye(3), similarity=rbf.with_params(bandwidth=0.0))
    got = relative_projection(
        np.zeros((1, 3)), np.eye(3), similarity=rbf.with_params(bandwidth=1.0)
    )
    np.testing.assert_allclose(got, np.exp(-0.5) * np.ones((1, 3)))


def test_nan_and_inf_name_the_first_bad_row():
    x = np.ones((30, 3))
    x[17, 1] = np.nan
    x[21, 0] = np.inf
    with pytest.raises(ValueError, match=r"`x` to contain only finite values, but row 17"):
        relative_projection(x, np.ones((2, 3)))
    with pytest.raises(ValueError, match=r"row 17"):
        relative_projection(x, np.ones((2, 3)), chunk_size=5, similarity="l1")
    anchors = np.ones((4, 3))
    anchors[2, 2] = -np.inf
    with pytest.raises(ValueError, match=r"`anchors` to contain only finite values, but row 2"):
        relative_projection(np.ones((2, 3)), anchors)


def test_overflowing_norm_is_explained():
    x = np.full((2, 3), 1e30, dtype=np.float32)
    with pytest.raises(ValueError, match=r"row 0 is so large that its squared norm overflows"):
        relative_projection(x, np.ones((2, 3), np.float32))


def test_mixed_libraries_and_devices():
    with pytest.raises(
        TypeError, match=r"same array library.*`x` is numpy.ndarray.*`anchors` is torch.Tensor"
    ):
        relative_projection(np.ones((2, 3)), torch.ones(2, 3))
    with pytest.raises(TypeError, match=r"same array library"):
        relative_projection(np.ones((2, 3)), np.ones((2, 3)), out=torch.empty(2, 2))


def test_basis_change_warns_on_rank_deficiency(rng):
    with pytest.warns(RuntimeWarning, match=r"span only 3 of 5 feature dimensions"):
        relative_projection(
            rng.normal(size=(4, 5)), rng.normal(size=(3, 5)), similarity="basis_change"
        )
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        relative_projection(
            rng.normal(size=(4, 5)), rng.normal(size=(6, 5)), similarity="basis_change"
        )


def test_register_similarity_errors():
    cosine = relreps.get_similarity("cosine")
    with pytest.raises(ValueError, match="already registered"):
        relreps.register_similarity(cosine)
    with pytest.raises(TypeError, match=r"a relreps\.Similarity"):
        relreps.register_similarity("cosine")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"`invariances` to be a subset"):
        relreps.Similarity("x", "similarity", (0, 1), frozenset({"magic"}), lambda x, a: x)
    with pytest.raises(ValueError, match=r"`kind` to be"):
        relreps.Similarity("x", "closeness", (0, 1), frozenset(), lambda x, a: x)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"`value_range`"):
        relreps.Similarity("x", "similarity", (1, 0), frozenset(), lambda x, a: x)


def test_import_is_light_and_offline():
    """`import relreps` must not import heavy libraries, open files or use the network."""
    code = (
        "import sys, socket, builtins\n"
        "opened = []\n"
        "real_open = builtins.open\n"
        "def spy(file, *a, **k):\n"
        "    opened.append(str(file)); return real_open(file, *a, **k)\n"
        "builtins.open = spy\n"
        "def no_net(*a, **k): raise RuntimeError('network used at import')\n"
        "socket.socket.connect = no_net\n"
        "import relreps\n"
        "heavy = [m for m in ('torch', 'sklearn', 'scipy', 'matplotlib', 'transformers', "
        "'sentence_transformers', 'faiss', 'dask', 'pandas', 'onnxruntime') if m in sys.modules]\n"
        "print(heavy, opened)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[] []"


def test_product_gradient_reaches_anchors_through_block_statistics(rng):
    x = torch.tensor(rng.normal(size=(5, 3)))
    anchors = torch.tensor(rng.normal(size=(4, 3)), requires_grad=True)
    for names in (["cosine", "inner"], ["cosine", "euclidean", "l1", "linf"]):
        assert torch.autograd.gradcheck(
            lambda a, names=names: relative_projection(x, a, similarity=names, aggregate="sum"),
            (anchors,),
        )
