"""Property-based tests of RelativeProjector and relative_projection: round trips and agreements.

The estimator is a thin shell around the function: for any drawn options, fitting then
transforming equals the function; its parameters round-trip through get_params/set_params, a
scikit-learn clone and pickling (the estimator's persistence); chunk_size and out= change how the
result is computed, never what it is (beyond float rounding); numpy and torch agree.
"""

from __future__ import annotations

import pickle
from typing import Any

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from relreps import RelativeProjector, relative_projection

SETTINGS = settings(max_examples=30, deadline=None)
NAMES = ("cosine", "inner", "angular", "euclidean", "l1", "linf", "rbf", "basis_change")


@st.composite
def problems(draw: st.DrawFn) -> tuple[np.ndarray, np.ndarray]:
    """(x, anchors) of one space, the anchors spanning it (basis_change is then well posed).

    At least 2 features: with one, every similarity is a function of one coordinate, so values
    tie exactly in real arithmetic and ``topk`` would be decided by rounding.
    """
    seed = draw(st.integers(0, 2**32 - 1))
    d = draw(st.integers(2, 6))
    k = d + 1 + draw(st.integers(0, 5))
    n = draw(st.integers(1, 40))
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, d)), rng.normal(size=(k, d))


@st.composite
def options(draw: st.DrawFn, n_anchors: int) -> dict[str, Any]:
    """Projection options valid for ``n_anchors`` anchors."""
    names = draw(st.lists(st.sampled_from(NAMES), min_size=1, max_size=3, unique=True))
    similarity: str | list[str] = names[0] if len(names) == 1 else names
    aggregate = draw(st.sampled_from(["concat", "sum", "mean"]))
    n_columns = n_anchors * len(names) if len(names) > 1 and aggregate == "concat" else n_anchors
    return {
        "similarity": similarity,
        "center": draw(st.sampled_from([None, "anchors"])),
        "aggregate": aggregate,
        "topk": draw(st.none() | st.integers(1, n_columns)),
        "power": draw(st.none() | st.floats(0.25, 3.0)),
    }


def _close(got: Any, expected: Any, **tol: float) -> None:
    np.testing.assert_allclose(np.asarray(got), np.asarray(expected), **(tol or {"rtol": 1e-12}))


@SETTINGS
@given(problem=problems(), data=st.data())
def test_projector_equals_the_function(problem, data):
    x, a = problem
    opts = data.draw(options(len(a)))
    projector = RelativeProjector(**opts).fit(a)
    _close(projector.transform(x), relative_projection(x, a, **opts), rtol=1e-12, atol=1e-12)
    _close(projector.fit_transform(a), relative_projection(a, a, **opts), rtol=1e-12, atol=1e-12)
    assert projector.n_anchors_ == len(a) and projector.n_features_in_ == a.shape[1]
    if opts["center"] == "anchors":
        _close(projector.center_, a.mean(axis=0))
    else:
        assert projector.center_ is None


@SETTINGS
@given(problem=problems(), data=st.data())
def test_get_params_set_params_round_trip(problem, data):
    x, a = problem
    opts = data.draw(options(len(a)))
    chunk = data.draw(st.none() | st.integers(1, 50))
    projector = RelativeProjector(**opts, chunk_size=chunk)
    params = projector.get_params()
    assert params == {**opts, "chunk_size": chunk, "spec": None}
    rebuilt = RelativeProjector().set_params(**params)
    assert rebuilt.get_params() == params
    assert repr(rebuilt) == repr(projector)
    _close(rebuilt.fit(a).transform(x), projector.fit(a).transform(x), rtol=0, atol=0)


@SETTINGS
@given(problem=problems(), data=st.data())
def test_sklearn_clone_and_pickle_round_trip(problem, data):
    base = pytest.importorskip("sklearn.base")
    x, a = problem
    opts = data.draw(options(len(a)))
    projector = RelativeProjector(**opts).fit(a)
    expected = projector.transform(x)
    cloned = base.clone(projector)
    assert cloned.get_params() == projector.get_params()
    assert not hasattr(cloned, "anchors_")  # a clone is unfitted
    _close(cloned.fit(a).transform(x), expected, rtol=0, atol=0)
    restored = pickle.loads(pickle.dumps(projector))
    assert restored.get_params() == projector.get_params()
    _close(restored.anchors_, a, rtol=0, atol=0)
    _close(restored.transform(x), expected, rtol=0, atol=0)


@SETTINGS
@given(
    problem=problems(),
    data=st.data(),
    dtype=st.sampled_from([np.float32, np.float64]),
)
def test_chunk_size_never_changes_the_result(problem, data, dtype):
    x, a = problem
    x, a = x.astype(dtype), a.astype(dtype)
    opts = data.draw(options(len(a)))
    chunk = data.draw(st.integers(1, len(x) + 3))
    whole = relative_projection(x, a, **opts)
    chunked = relative_projection(x, a, **opts, chunk_size=chunk)
    assert chunked.dtype == whole.dtype == dtype
    tol = {"rtol": 1e-4, "atol": 1e-5} if dtype == np.float32 else {"rtol": 1e-12, "atol": 1e-12}
    _close(chunked, whole, **tol)
    projector = RelativeProjector(**opts, chunk_size=chunk).fit(a)
    _close(projector.transform(x), whole, **tol)


@SETTINGS
@given(problem=problems(), data=st.data())
def test_out_buffer_equals_the_returned_result(problem, data):
    x, a = problem
    opts = data.draw(options(len(a)))
    whole = relative_projection(x, a, **opts)
    out = np.full_like(whole, np.nan)
    chunk = data.draw(st.none() | st.integers(1, len(x) + 3))
    result = relative_projection(x, a, **opts, chunk_size=chunk, out=out)
    assert result is out
    _close(out, whole, rtol=1e-12, atol=1e-12)


@SETTINGS
@given(problem=problems(), data=st.data())
def test_rows_are_projected_independently(problem, data):
    """Splitting or permuting the samples splits or permutes the result rows."""
    x, a = problem
    opts = data.draw(options(len(a)))
    whole = relative_projection(x, a, **opts)
    cut = data.draw(st.integers(0, len(x)))
    parts = [relative_projection(part, a, **opts) for part in (x[:cut], x[cut:]) if len(part)]
    _close(np.vstack(parts), whole, rtol=1e-12, atol=1e-12)
    perm = np.asarray(data.draw(st.permutations(range(len(x)))))
    _close(relative_projection(x[perm], a, **opts), whole[perm], rtol=1e-12, atol=1e-12)


@SETTINGS
@given(problem=problems(), name=st.sampled_from(NAMES), data=st.data())
def test_permuting_anchors_permutes_columns(problem, name, data):
    x, a = problem
    perm = np.asarray(data.draw(st.permutations(range(len(a)))))
    center = data.draw(st.sampled_from([None, "anchors"]))
    base = relative_projection(x, a, similarity=name, center=center)
    got = relative_projection(x, a[perm], similarity=name, center=center)
    _close(got, base[:, perm], rtol=1e-9, atol=1e-9)


@SETTINGS
@given(problem=problems(), data=st.data(), grad=st.booleans())
def test_numpy_and_torch_agree(problem, data, grad):
    x, a = problem
    opts = data.draw(options(len(a)))
    expected = relative_projection(x, a, **opts)
    xt = torch.tensor(x, dtype=torch.float64, requires_grad=grad)
    got = relative_projection(xt, torch.from_numpy(a), **opts)
    assert isinstance(got, torch.Tensor) and got.dtype == torch.float64
    _close(got.detach().numpy(), expected, rtol=1e-9, atol=1e-9)
    fitted = RelativeProjector(**opts).fit(torch.from_numpy(a)).transform(xt)
    _close(fitted.detach().numpy(), expected, rtol=1e-9, atol=1e-9)
