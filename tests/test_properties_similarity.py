"""Property-based tests of the similarity registry: every declaration is read and checked.

Each entry of :func:`relreps.similarities` declares invariances, a kind, a value range and whether
it is homogeneous. The tests below draw random spaces and random transformations (hypothesis) and
check every entry against what it declares, so a new registry entry is tested as soon as it is
registered. Data are drawn from a seed (well-conditioned Gaussian samples), the transformations'
parameters are drawn directly: hypothesis then searches the transformation, not float edge cases.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import relreps
from relreps import Similarity, relative_projection

Transform = Callable[[np.ndarray], np.ndarray]

SETTINGS = settings(max_examples=30, deadline=None)
BUILTIN_NAMES = ("cosine", "inner", "angular", "euclidean", "l1", "linf", "rbf", "basis_change")


def _orthogonal(d: int, seed: int) -> np.ndarray:
    q, r = np.linalg.qr(np.random.default_rng(seed).normal(size=(d, d)))
    return q * np.sign(np.diag(r))


@st.composite
def spaces(draw: st.DrawFn) -> tuple[np.ndarray, np.ndarray, int]:
    """(x, anchors, seed): samples and anchors of one space; the anchors span it (k >= d)."""
    seed = draw(st.integers(0, 2**32 - 1))
    d = draw(st.integers(2, 6))
    k = d + draw(st.integers(0, 5))
    n = draw(st.integers(1, 25))
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, d)), rng.normal(size=(k, d)), seed


@st.composite
def transforms(draw: st.DrawFn, name: str, d: int) -> Transform:
    """A random, clearly non-trivial member of the invariance group ``name`` acting on R^d."""
    if name == "orthogonal":
        q = _orthogonal(d, draw(st.integers(0, 2**32 - 1)))
        return lambda z: z @ q
    if name == "scaling":
        c = draw(st.one_of(st.floats(0.05, 0.8), st.floats(1.25, 20.0)))
        return lambda z: c * z
    if name == "translation":
        v = np.asarray(draw(st.lists(st.floats(-10, 10), min_size=d, max_size=d)))
        assume(np.linalg.norm(v) >= 1.0)
        return lambda z: z + v
    if name == "permutation":
        perm = np.asarray(draw(st.permutations(range(d))))
        assume(not np.array_equal(perm, np.arange(d)))
        return lambda z: z[:, perm]
    if name == "linear":
        # Q1 diag(s) Q2 with condition number in [4, 25]: invertible, anisotropic, never orthogonal.
        seed = draw(st.integers(0, 2**32 - 1))
        rng = np.random.default_rng(seed)
        s = rng.uniform(0.2, 5.0, size=d)
        s[0], s[-1] = rng.uniform(0.2, 0.5), rng.uniform(2.0, 5.0)
        m = (_orthogonal(d, seed) * s) @ _orthogonal(d, seed + 1)
        return lambda z: z @ m
    raise KeyError(name)


def _both(t: Transform, x: np.ndarray, a: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The same transformation (one draw) applied to the samples and the anchors."""
    stacked = t(np.vstack([x, a]))
    return stacked[: len(x)], stacked[len(x) :]


def _assert_close(got: np.ndarray, base: np.ndarray, what: str) -> None:
    scale = max(1.0, float(np.max(np.abs(base))))
    np.testing.assert_allclose(got, base, rtol=1e-6, atol=1e-7 * scale, err_msg=what)


def _declaring(invariance: str) -> list[Similarity]:
    return [s for s in relreps.similarities() if invariance in s.invariances]


def _check_declared(invariance: str, space: tuple, data: st.DataObject) -> None:
    x, a, _ = space
    entries = _declaring(invariance)
    assert entries, f"no registry entry declares {invariance!r}"
    t = data.draw(transforms(invariance, x.shape[1]))
    xt, at = _both(t, x, a)
    for sim in entries:
        base = relative_projection(x, a, similarity=sim)
        got = relative_projection(xt, at, similarity=sim)
        _assert_close(got, base, f"{sim.name} declares {invariance!r}")


@SETTINGS
@given(space=spaces(), data=st.data())
def test_declared_orthogonal_invariance_holds(space, data):
    _check_declared("orthogonal", space, data)


@SETTINGS
@given(space=spaces(), data=st.data())
def test_declared_scaling_invariance_holds(space, data):
    _check_declared("scaling", space, data)


@SETTINGS
@given(space=spaces(), data=st.data())
def test_declared_translation_invariance_holds(space, data):
    _check_declared("translation", space, data)


@SETTINGS
@given(space=spaces(), data=st.data())
def test_declared_permutation_invariance_holds(space, data):
    _check_declared("permutation", space, data)


@SETTINGS
@given(space=spaces(), data=st.data())
def test_declared_linear_invariance_holds(space, data):
    _check_declared("linear", space, data)


@SETTINGS
@given(space=spaces(), data=st.data())
def test_undeclared_invariances_fail_on_generic_draws(space, data):
    """A declaration that is too small is caught too: what is not declared does not hold."""
    x, a, _ = space
    for sim in relreps.similarities():
        base = relative_projection(x, a, similarity=sim)
        for invariance in sorted(relreps.INVARIANCES - sim.invariances):
            t = data.draw(transforms(invariance, x.shape[1]))
            got = relative_projection(*_both(t, x, a), similarity=sim)
            assert not np.allclose(got, base, rtol=1e-6, atol=1e-6), (sim.name, invariance)


@SETTINGS
@given(space=spaces(), data=st.data())
def test_center_anchors_keeps_declared_invariances_and_adds_translation(space, data):
    x, a, _ = space
    # Centred, k anchors span at most k - 1 dimensions: basis_change's linear invariance then
    # needs k > d (with k == d it warns, as documented, and the coordinates are projections).
    assume(a.shape[0] > x.shape[1])
    for sim in relreps.similarities():
        base = relative_projection(x, a, similarity=sim, center="anchors")
        for invariance in sorted(sim.invariances | {"translation"}):
            t = data.draw(transforms(invariance, x.shape[1]))
            got = relative_projection(*_both(t, x, a), similarity=sim, center="anchors")
            _assert_close(got, base, f"{sim.name} + center='anchors' under {invariance!r}")


@SETTINGS
@given(space=spaces(), shift=st.floats(-20.0, 20.0), scale=st.floats(0.01, 100.0))
def test_values_lie_in_the_declared_range(space, shift, scale):
    x, a, _ = space
    x, a = scale * x + shift, scale * a + shift
    for sim in relreps.similarities():
        rel = relative_projection(x, a, similarity=sim)
        low, high = sim.value_range
        assert np.all(np.isfinite(rel)), sim.name
        assert low - 1e-9 <= rel.min() <= rel.max() <= high + 1e-9, (sim.name, low, high)


@SETTINGS
@given(space=spaces())
def test_each_anchor_is_closest_to_itself(space):
    """Distances are 0 from an anchor to itself; bounded similarities reach their maximum there."""
    _, a, _ = space
    for sim in relreps.similarities():
        low, high = sim.value_range
        if sim.kind == "distance":
            expected = low
        elif sim.kind == "similarity" and np.isfinite(high):
            expected = high
        else:
            continue
        rel = relative_projection(a, a, similarity=sim)
        np.testing.assert_allclose(np.diag(rel), expected, atol=1e-6, err_msg=sim.name)
        best = rel.min(axis=1) if sim.kind == "distance" else rel.max(axis=1)
        np.testing.assert_allclose(best, expected, atol=1e-6, err_msg=sim.name)


@SETTINGS
@given(space=spaces(), c1=st.floats(0.1, 10.0), c2=st.floats(0.1, 10.0))
def test_homogeneous_entries_scale_by_a_fixed_power(space, c1, c2):
    """``homogeneous=True`` means ``sim(c x, c a) = c**p sim(x, a)`` for one exponent ``p``."""
    assume(abs(np.log(c1)) > 0.05 and abs(np.log(c2)) > 0.05)
    x, a, _ = space
    for sim in relreps.similarities():
        if not sim.homogeneous:
            continue
        base = relative_projection(x, a, similarity=sim)
        norm = np.linalg.norm(base)
        assume(norm > 1e-6)
        first = relative_projection(c1 * x, c1 * a, similarity=sim)
        p = np.log(np.linalg.norm(first) / norm) / np.log(c1)
        _assert_close(first, c1**p * base, f"{sim.name} at c={c1}")
        second = relative_projection(c2 * x, c2 * a, similarity=sim)
        _assert_close(second, c2**p * base, f"{sim.name}: one exponent p={p:.6g} for all c")


@SETTINGS
@given(space=spaces())
def test_basis_change_coordinates_reconstruct_the_samples(space):
    """Coordinates in a spanning anchor basis rebuild x exactly: ``rel @ anchors == x``."""
    x, a, _ = space
    rel = relative_projection(x, a, similarity="basis_change")
    np.testing.assert_allclose(rel @ a, x, rtol=1e-8, atol=1e-8)


@SETTINGS
@given(
    space=spaces(),
    names=st.lists(st.sampled_from(BUILTIN_NAMES), min_size=2, max_size=3, unique=True),
    aggregate=st.sampled_from(["concat", "sum", "mean"]),
    data=st.data(),
)
def test_product_keeps_the_common_invariances(space, names, aggregate, data):
    """A list of similarities is invariant to what all of its members are (block statistics are
    computed on the anchors, which move with the samples)."""
    x, a, _ = space
    common = frozenset.intersection(*(relreps.get_similarity(n).invariances for n in names))
    base = relative_projection(x, a, similarity=names, aggregate=aggregate)
    for invariance in sorted(common):
        t = data.draw(transforms(invariance, x.shape[1]))
        got = relative_projection(*_both(t, x, a), similarity=names, aggregate=aggregate)
        _assert_close(got, base, f"{names} ({aggregate}) under {invariance!r}")


@settings(max_examples=50, deadline=None)
@given(declared=st.sets(st.sampled_from(sorted(relreps.INVARIANCES))))
def test_declarations_are_closed_under_implied_groups(declared):
    sim = Similarity("prop_closure", "similarity", (0.0, 1.0), frozenset(declared), lambda x, a: x)
    assert frozenset(declared) <= sim.invariances <= relreps.INVARIANCES
    for entry in (sim, *relreps.similarities()):
        if "orthogonal" in entry.invariances:
            assert "permutation" in entry.invariances, entry.name
        if "linear" in entry.invariances:
            assert {"orthogonal", "scaling", "permutation"} <= entry.invariances, entry.name
    assert sim.invariances - frozenset(declared) <= {"orthogonal", "scaling", "permutation"}


def test_every_builtin_is_listed():
    names = [s.name for s in relreps.similarities()]
    assert names[: len(BUILTIN_NAMES)] == list(BUILTIN_NAMES)
    with pytest.raises(ValueError):
        relreps.get_similarity("no-such-similarity")
