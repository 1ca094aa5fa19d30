"""The similarity registry: what a relative representation measures between samples and anchors.

Each entry is a :class:`Similarity` that declares what it returns (a similarity, where higher means
closer; a distance, where lower means closer; or coordinates), its value range, and the
transformations of the latent space it is invariant to. The invariances are *declarations the tests
read*: each one is checked by applying the transformation to both ``x`` and the anchors.

Invariance names:

- ``"orthogonal"``: any rotation/reflection ``x -> x @ Q`` with ``Q`` orthogonal.
- ``"scaling"``: any global positive rescale ``x -> c * x``.
- ``"translation"``: any shift ``x -> x + v``. Every similarity gains it with ``center="anchors"``.
- ``"permutation"``: any permutation of the features (implied by ``"orthogonal"``).
- ``"linear"``: any invertible linear map ``x -> x @ M`` (basis_change, when the anchors span the
  space).

Example:
    >>> import relreps
    >>> [s.name for s in relreps.similarities()][:3]
    ['cosine', 'inner', 'angular']
    >>> sorted(relreps.get_similarity("cosine").invariances)
    ['orthogonal', 'permutation', 'scaling']
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from types import MappingProxyType
from typing import Any, Literal

from relreps._array import Array, is_numpy, namespace, row_norms, to_numpy
from relreps._validation import check_float, fail

__all__ = [
    "INVARIANCES",
    "Similarity",
    "get_similarity",
    "register_similarity",
    "similarities",
]

INVARIANCES = frozenset({"orthogonal", "scaling", "translation", "permutation", "linear"})

Kind = Literal["similarity", "distance", "coordinates"]

# Elementwise distances (l1, linf) build (rows, anchors, features) temporaries; this bounds them.
_ELEMENTWISE_BUDGET_BYTES = 32 * 2**20


@dataclass(frozen=True)
class Similarity:
    """One registry entry.

    Attributes:
        name: registry key.
        kind: ``"similarity"`` (higher = closer), ``"distance"`` (lower = closer) or
            ``"coordinates"`` (neither: coefficients in the anchor basis).
        value_range: the closed interval the values lie in (``math.inf`` for unbounded).
        invariances: subset of :data:`INVARIANCES` that hold for the default parameters.
        compute: ``compute(x, state) -> (n_samples, n_anchors)``, where ``state`` is what
            ``prepare`` returned. It must allocate its result (callers may modify it in place).
        prepare: ``prepare(anchors, params) -> state``, run once per anchor set.
        homogeneous: True when scaling both inputs by ``c`` scales the values by ``c**p`` for a
            fixed ``p``; standardising such a block on anchor statistics adds scale invariance.
        description: one line for listings.
        params: keyword parameters handed to ``prepare`` (set with :meth:`with_params`).
    """

    name: str
    kind: Kind
    value_range: tuple[float, float]
    invariances: frozenset[str]
    compute: Callable[[Array, Any], Array]
    prepare: Callable[[Array, Mapping[str, Any]], Any] = field(default=lambda a, p: a)
    homogeneous: bool = False
    description: str = ""
    params: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name:
            raise fail("name", "a non-empty string", repr(self.name))
        if self.kind not in ("similarity", "distance", "coordinates"):
            raise fail("kind", "'similarity', 'distance' or 'coordinates'", repr(self.kind))
        unknown = set(self.invariances) - INVARIANCES
        if unknown:
            raise fail("invariances", f"a subset of {sorted(INVARIANCES)}", repr(sorted(unknown)))
        low, high = self.value_range
        if not low <= high:
            raise fail("value_range", "an interval (low, high) with low <= high", repr((low, high)))
        object.__setattr__(self, "invariances", _close_invariances(frozenset(self.invariances)))

    @property
    def higher_is_closer(self) -> bool:
        """True for similarities, False for distances (coordinates have no order)."""
        return self.kind == "similarity"

    def with_params(self, **params: Any) -> Similarity:
        """A copy with parameters for ``prepare`` (e.g. ``get_similarity("rbf").with_params(
        bandwidth=2.0)``)."""
        merged = {**self.params, **params}
        return replace(self, params=MappingProxyType(merged))

    def __repr__(self) -> str:
        lo, hi = self.value_range
        params = f", params={dict(self.params)}" if self.params else ""
        return (
            f"Similarity(name={self.name!r}, kind={self.kind!r}, value_range=({lo}, {hi}), "
            f"invariances={sorted(self.invariances)}{params})"
        )


_REGISTRY: dict[str, Similarity] = {}

# Groups that contain others: a permutation of features is an orthogonal map, and an invertible
# linear map covers orthogonal maps and rescaling. Declarations are closed under these.
_IMPLIED = {
    "orthogonal": frozenset({"permutation"}),
    "linear": frozenset({"orthogonal", "scaling", "permutation"}),
}


def _close_invariances(declared: frozenset[str]) -> frozenset[str]:
    closed = set(declared)
    for group, implied in _IMPLIED.items():
        if group in closed:
            closed |= implied
    return frozenset(closed)


def register_similarity(similarity: Similarity, *, overwrite: bool = False) -> Similarity:
    """Add a similarity to the registry so its name works everywhere.

    Args:
        similarity: the entry to add.
        overwrite: replace an existing entry of the same name instead of raising.

    Returns:
        The registered entry.

    Example:
        >>> import numpy as np
        >>> import relreps
        >>> neg_sq = relreps.Similarity(
        ...     name="neg_sq_euclidean", kind="similarity", value_range=(-np.inf, 0.0),
        ...     invariances={"orthogonal", "translation"},
        ...     compute=lambda x, a: -((x[:, None, :] - a[None, :, :]) ** 2).sum(-1))
        >>> _ = relreps.register_similarity(neg_sq, overwrite=True)
        >>> relreps.relative_projection(np.eye(2), np.eye(2), similarity="neg_sq_euclidean")
        array([[-0., -2.],
               [-2., -0.]])
    """
    if not isinstance(similarity, Similarity):
        raise fail("similarity", "a relreps.Similarity", type(similarity).__name__, TypeError)
    if similarity.name in _REGISTRY and not overwrite:
        raise ValueError(
            f"A similarity named {similarity.name!r} is already registered; "
            "pass overwrite=True to replace it."
        )
    _REGISTRY[similarity.name] = similarity
    return similarity


def similarities() -> tuple[Similarity, ...]:
    """Every registered similarity, in registration order (built-ins first)."""
    return tuple(_REGISTRY.values())


def get_similarity(similarity: str | Similarity) -> Similarity:
    """Resolve a name (or pass through an entry).

    Raises:
        ValueError: for an unknown name, listing the valid ones.
    """
    if isinstance(similarity, Similarity):
        return similarity
    if isinstance(similarity, str) and similarity in _REGISTRY:
        return _REGISTRY[similarity]
    raise fail(
        "similarity", f"one of {sorted(_REGISTRY)} or a relreps.Similarity", repr(similarity)
    )


# --- helpers shared by the built-ins -------------------------------------------------------------


def _safe(norms: Array, xp: Any) -> Array:
    """Norms with zeros replaced by one, so zero vectors map to zero instead of NaN."""
    return xp.where(norms == 0, xp.ones_like(norms), norms)


def _inplace_ok(x: Array) -> bool:
    """In-place updates save a full-size temporary, but must not break torch autograd."""
    return not bool(getattr(x, "requires_grad", False))


def _divide_rows(values: Array, norms: Array) -> Array:
    if _inplace_ok(values):
        values /= norms[:, None]
        return values
    return values / norms[:, None]


def _normalised_anchors(anchors: Array) -> Array:
    xp = namespace(anchors=anchors)
    return anchors / _safe(row_norms(anchors, xp), xp)[:, None]


def _cosine(x: Array, anchors_unit: Array) -> Array:
    xp = namespace(x=x)
    norms = _safe(row_norms(x, xp), xp)
    if not (_inplace_ok(x) and _inplace_ok(anchors_unit)) and anchors_unit.shape[0] > x.shape[1]:
        # Under autograd the division cannot be in place; dividing the narrower side (x rather
        # than the n x K result) saves a full-size temporary and its backward.
        return (x / norms[:, None]) @ anchors_unit.T
    return _divide_rows(x @ anchors_unit.T, norms)


def _inner(x: Array, anchors: Array) -> Array:
    scaled = x @ anchors.T
    factor = 1.0 / math.sqrt(x.shape[1])
    if _inplace_ok(scaled):
        scaled *= factor
        return scaled
    return scaled * factor


def _angular(x: Array, anchors_unit: Array) -> Array:
    xp = namespace(x=x)
    cos = xp.clip(_cosine(x, anchors_unit), -1.0, 1.0)
    return 1.0 - xp.acos(cos) / math.pi


@dataclass(frozen=True)
class _Shifted:
    """Anchors re-centred on their mean (distances are translation invariant, and the smaller
    magnitudes keep the |x|^2 - 2 x.a + |a|^2 expansion accurate)."""

    anchors: Array
    mean: Array
    sq_norms: Array


def _prepare_shifted(anchors: Array, params: Mapping[str, Any]) -> _Shifted:
    xp = namespace(anchors=anchors)
    mean = xp.mean(anchors, axis=0)
    shifted = anchors - mean
    return _Shifted(shifted, mean, xp.sum(shifted * shifted, axis=1))


def _squared_euclidean(x: Array, state: _Shifted) -> Array:
    xp = namespace(x=x)
    xc = x - state.mean
    sq = xp.sum(xc * xc, axis=1)[:, None] + state.sq_norms[None, :] - 2.0 * (xc @ state.anchors.T)
    return xp.clip(sq, 0.0, None)


def _euclidean(x: Array, state: _Shifted) -> Array:
    xp = namespace(x=x)
    sq = _squared_euclidean(x, state)
    if _inplace_ok(sq):
        return xp.sqrt(sq)
    # Under autograd, sqrt at 0 has an infinite derivative that turns masked-out entries into NaN
    # gradients; route zeros around it (the subgradient 0 is used there).
    positive = sq > 0
    root = xp.sqrt(xp.where(positive, sq, xp.ones_like(sq)))
    return xp.where(positive, root, xp.zeros_like(sq))


def _elementwise(x: Array, anchors: Array, reduce: Callable[[Array], Array]) -> Array:
    """``reduce(|x_i - a_j|)`` over features, in row blocks that bound the 3-D temporary."""
    xp = namespace(x=x)
    n, d = x.shape
    k = anchors.shape[0]
    itemsize = 8 if x.dtype == xp.float64 else 4
    rows = max(1, _ELEMENTWISE_BUDGET_BYTES // max(1, k * d * itemsize))
    if n <= rows:
        return reduce(xp.abs(x[:, None, :] - anchors[None, :, :]))
    blocks = [
        reduce(xp.abs(x[s : s + rows, None, :] - anchors[None, :, :])) for s in range(0, n, rows)
    ]
    return xp.concat(blocks, axis=0)


def _l1(x: Array, anchors: Array) -> Array:
    xp = namespace(x=x)
    return _elementwise(x, anchors, lambda t: xp.sum(t, axis=2))


def _linf(x: Array, anchors: Array) -> Array:
    xp = namespace(x=x)
    return _elementwise(x, anchors, lambda t: xp.max(t, axis=2))


@dataclass(frozen=True)
class _RbfState:
    shifted: _Shifted
    two_sigma_sq: float


def _prepare_rbf(anchors: Array, params: Mapping[str, Any]) -> _RbfState:
    shifted = _prepare_shifted(anchors, params)
    bandwidth = params.get("bandwidth")
    if bandwidth is None:
        sigma = _median_anchor_distance(anchors, shifted)
    else:
        sigma = check_float(bandwidth, "bandwidth", low=0.0, low_inclusive=False)
    return _RbfState(shifted, 2.0 * sigma * sigma)


def _median_anchor_distance(anchors: Array, shifted: _Shifted) -> float:
    """Median distance between distinct anchors: the bandwidth that makes the kernel scale-free."""
    k = anchors.shape[0]
    if k < 2:
        raise ValueError(
            "Expected at least 2 anchors for the rbf similarity's default bandwidth (the median "
            f"distance between anchors), but got {k}; pass bandwidth=... explicitly."
        )
    distances = to_numpy(_euclidean(anchors, shifted))
    import numpy as np  # numpy is a core dependency; the median is a tiny K x K reduction

    upper = distances[np.triu_indices(k, 1)]
    sigma = float(np.median(upper))
    if sigma <= 0.0:
        raise ValueError(
            "The rbf similarity's default bandwidth is the median distance between anchors, but "
            "the anchors are (mostly) identical so that median is 0; pass bandwidth=... explicitly "
            "or choose distinct anchors."
        )
    return sigma


def _rbf(x: Array, state: _RbfState) -> Array:
    xp = namespace(x=x)
    return xp.exp(-_squared_euclidean(x, state.shifted) / state.two_sigma_sq)


def _prepare_basis(anchors: Array, params: Mapping[str, Any]) -> Array:
    """The (n_features, n_anchors) pseudo-inverse of the anchor matrix transposed, computed once."""
    xp = namespace(anchors=anchors)
    k, d = anchors.shape
    rtol = params.get("rtol")
    pinv = xp.linalg.pinv(anchors.T) if rtol is None else xp.linalg.pinv(anchors.T, rtol=rtol)
    rank = int(xp.linalg.matrix_rank(anchors)) if not is_numpy(anchors) else _np_rank(anchors)
    if rank < d:
        warnings.warn(
            f"basis_change: the {k} anchors span only {rank} of {d} feature dimensions, so the "
            "coordinates are least-squares projections onto that subspace; they are invariant to "
            "invertible linear maps only for samples inside the span. Use at least n_features "
            "linearly independent anchors for full invariance.",
            RuntimeWarning,
            stacklevel=4,
        )
    return pinv.T


def _np_rank(anchors: Array) -> int:
    import numpy as np

    return int(np.linalg.matrix_rank(anchors))


def _basis_change(x: Array, pinv_t: Array) -> Array:
    return x @ pinv_t


_BUILTINS = (
    Similarity(
        "cosine",
        "similarity",
        (-1.0, 1.0),
        frozenset({"orthogonal", "scaling"}),
        _cosine,
        lambda a, p: _normalised_anchors(a),
        homogeneous=True,
        description="cosine of the angle to each anchor (the paper's choice)",
    ),
    Similarity(
        "inner",
        "similarity",
        (-math.inf, math.inf),
        frozenset({"orthogonal"}),
        _inner,
        homogeneous=True,
        description="dot product scaled by 1/sqrt(n_features)",
    ),
    Similarity(
        "angular",
        "similarity",
        (0.0, 1.0),
        frozenset({"orthogonal", "scaling"}),
        _angular,
        lambda a, p: _normalised_anchors(a),
        homogeneous=True,
        description="1 - angle/pi: 1 for the same direction, 0 for opposite ones",
    ),
    Similarity(
        "euclidean",
        "distance",
        (0.0, math.inf),
        frozenset({"orthogonal", "translation"}),
        _euclidean,
        _prepare_shifted,
        homogeneous=True,
        description="Euclidean (L2) distance to each anchor",
    ),
    Similarity(
        "l1",
        "distance",
        (0.0, math.inf),
        frozenset({"translation", "permutation"}),
        _l1,
        homogeneous=True,
        description="Manhattan (L1) distance to each anchor",
    ),
    Similarity(
        "linf",
        "distance",
        (0.0, math.inf),
        frozenset({"translation", "permutation"}),
        _linf,
        homogeneous=True,
        description="Chebyshev (L-infinity) distance to each anchor",
    ),
    Similarity(
        "rbf",
        "similarity",
        (0.0, 1.0),
        frozenset({"orthogonal", "translation", "scaling"}),
        _rbf,
        _prepare_rbf,
        homogeneous=True,
        description="Gaussian kernel; bandwidth = median anchor distance unless given "
        "(scale invariance holds for that default)",
    ),
    Similarity(
        "basis_change",
        "coordinates",
        (-math.inf, math.inf),
        frozenset({"linear", "orthogonal", "scaling", "permutation"}),
        _basis_change,
        _prepare_basis,
        homogeneous=True,
        description="least-squares coordinates of x in the anchor basis (invariant to invertible "
        "linear maps when the anchors span the space)",
    ),
)

for _entry in _BUILTINS:
    register_similarity(_entry)
