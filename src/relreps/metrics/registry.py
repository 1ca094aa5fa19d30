"""What each comparison metric is: similarity or distance, range, symmetry, invariances.

Every metric of :mod:`relreps.metrics` that compares two paired spaces ``a`` (n, d_a) and ``b``
(n, d_b) has a :class:`MetricInfo` here. The declarations are checked by the test suite.

Invariance names (shared with :mod:`relreps.similarity`): a metric is invariant to a group when
applying any of its transformations to ONE of the spaces, ``a`` or ``b`` alone, leaves the value
unchanged:

- ``"orthogonal"``: ``x -> x @ Q`` with ``Q`` orthogonal (rotation/reflection);
- ``"scaling"``: ``x -> c * x``, ``c > 0``;
- ``"translation"``: ``x -> x + v``;
- ``"permutation"``: any permutation of the features;
- ``"linear"``: any invertible linear map ``x -> x @ M``.

Example:
    >>> from relreps.metrics import metric_info, list_metrics
    >>> info = metric_info("cka")
    >>> (info.kind, info.value_range, info.symmetric)
    ('similarity', (0.0, 1.0), True)
    >>> sorted(info.invariances)
    ['orthogonal', 'permutation', 'scaling', 'translation']
    >>> [m.name for m in list_metrics(invariant_to="linear")]
    ['cca']
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from relreps._array import Array
from relreps._validation import check_choice, fail
from relreps.metrics.cca import cca, pwcca, svcca
from relreps.metrics.cka import cka
from relreps.metrics.procrustes import procrustes_distance
from relreps.metrics.retrieval import jaccard_at_k, mrr_at_k, mutual_knn, paired_cosine
from relreps.metrics.rsa import rsa

__all__ = ["INVARIANCES", "MetricInfo", "list_metrics", "metric_info"]

INVARIANCES = frozenset({"orthogonal", "scaling", "translation", "permutation", "linear"})

_RIGID = frozenset({"orthogonal", "scaling", "translation", "permutation"})


@dataclass(frozen=True)
class MetricInfo:
    """Declared properties of one metric.

    Attributes:
        name: registry key (also the key in :func:`relreps.metrics.compare` reports).
        kind: ``"similarity"`` (higher = more alike) or ``"distance"`` (lower = more alike).
        value_range: closed interval of possible values.
        symmetric: ``f(a, b) == f(b, a)``.
        invariances: subset of :data:`INVARIANCES` (see the module docstring).
        equal_dims: needs ``d_a == d_b`` (the two spaces are compared coordinate-wise or
            searched in one another).
        uses_k: depends on the neighbourhood size ``k``.
        cost: time complexity for n samples of dimension d.
        description: one line.
        compute: ``compute(a, b, k) -> float`` (``k`` ignored when ``uses_k`` is False).
    """

    name: str
    kind: Literal["similarity", "distance"]
    value_range: tuple[float, float]
    symmetric: bool
    invariances: frozenset[str]
    equal_dims: bool
    uses_k: bool
    cost: str
    description: str
    compute: Callable[[Array, Array, int], float]

    def to_dict(self) -> dict[str, Any]:
        """Plain-dict view of the declarations (without ``compute``)."""
        return {
            "name": self.name,
            "kind": self.kind,
            "value_range": list(self.value_range),
            "symmetric": self.symmetric,
            "invariances": sorted(self.invariances),
            "equal_dims": self.equal_dims,
            "uses_k": self.uses_k,
            "cost": self.cost,
            "description": self.description,
        }


def _entry(
    name: str,
    kind: Literal["similarity", "distance"],
    value_range: tuple[float, float],
    symmetric: bool,
    invariances: frozenset[str] | set[str],
    compute: Callable[[Array, Array, int], float],
    *,
    equal_dims: bool = False,
    uses_k: bool = False,
    cost: str,
    description: str,
) -> MetricInfo:
    return MetricInfo(
        name, kind, value_range, symmetric, frozenset(invariances), equal_dims, uses_k, cost,
        description, compute,
    )  # fmt: skip


_REGISTRY: dict[str, MetricInfo] = {
    m.name: m
    for m in (
        _entry(
            "jaccard", "similarity", (0.0, 1.0), False, {"scaling"},
            lambda a, b, k: jaccard_at_k(a, b, k),
            equal_dims=True, uses_k=True, cost="O(n^2 d)",
            description="Jaccard@k of own vs retrieved neighbourhoods in b (a's rows query b)",
        ),
        _entry(
            "mrr", "similarity", (0.0, 1.0), False, {"scaling"},
            lambda a, b, k: mrr_at_k(a, b, k),
            equal_dims=True, uses_k=True, cost="O(n^2 d)",
            description="MRR@k of each sample's own b row among the k its a row retrieves in b",
        ),
        _entry(
            "paired_cosine", "similarity", (-1.0, 1.0), True, {"scaling"},
            lambda a, b, k: paired_cosine(a, b),
            equal_dims=True, cost="O(n d)", description="mean cosine of paired rows",
        ),
        _entry(
            "mutual_knn", "similarity", (0.0, 1.0), True, {"orthogonal", "scaling", "permutation"},
            lambda a, b, k: mutual_knn(a, b, k),
            uses_k=True, cost="O(n^2 d)", description="mean overlap of within-space k-NN sets",
        ),
        _entry(
            "cka", "similarity", (0.0, 1.0), True, _RIGID, lambda a, b, k: cka(a, b),
            cost="O(n d^2)", description="linear centered kernel alignment",
        ),
        _entry(
            "cka_debiased", "similarity", (-1.0, 1.0), True, _RIGID,
            lambda a, b, k: cka(a, b, debiased=True),
            cost="O(n d^2)", description="linear CKA with the unbiased HSIC estimator",
        ),
        _entry(
            "cka_rbf", "similarity", (0.0, 1.0), True, _RIGID,
            lambda a, b, k: cka(a, b, kernel="rbf"),
            cost="O(n^2 d)", description="RBF-kernel CKA, median-distance bandwidth per space",
        ),
        _entry(
            "cca", "similarity", (0.0, 1.0), True, _RIGID | {"linear"}, lambda a, b, k: cca(a, b),
            cost="O(n d^2 + d^3)", description="mean canonical correlation",
        ),
        _entry(
            "svcca", "similarity", (0.0, 1.0), True, _RIGID, lambda a, b, k: svcca(a, b),
            cost="O(n d^2 + d^3)", description="mean CCA of the top-99%-variance directions",
        ),
        _entry(
            "pwcca", "similarity", (0.0, 1.0), False, {"scaling", "translation", "permutation"},
            lambda a, b, k: pwcca(a, b),
            cost="O(n d^2 + d^3)", description="CCA weighted by a's projection onto its variates",
        ),
        _entry(
            "procrustes", "distance", (0.0, math.sqrt(2.0)), True, _RIGID,
            lambda a, b, k: procrustes_distance(a, b),
            cost="O(n d^2 + d^3)", description="orthogonal Procrustes distance, unit-norm spaces",
        ),
        _entry(
            "rsa", "similarity", (-1.0, 1.0), True, _RIGID, lambda a, b, k: rsa(a, b),
            cost="O(n^2 d)", description="Spearman correlation of Euclidean RDMs",
        ),
    )
}  # fmt: skip


def metric_info(name: str) -> MetricInfo:
    """The declared properties of one metric.

    Args:
        name: a registry key, see :func:`list_metrics`.

    Returns:
        Its :class:`MetricInfo`.

    Example:
        >>> metric_info("procrustes").kind
        'distance'
    """
    return _REGISTRY[check_choice(name, "name", _REGISTRY)]


def list_metrics(
    *,
    kind: Literal["similarity", "distance"] | None = None,
    invariant_to: str | None = None,
    symmetric: bool | None = None,
) -> tuple[MetricInfo, ...]:
    """Registered metrics, optionally filtered by their declarations.

    Args:
        kind: keep only similarities or only distances.
        invariant_to: keep only metrics declaring this invariance (one of :data:`INVARIANCES`).
        symmetric: keep only symmetric (True) or asymmetric (False) metrics.

    Returns:
        The matching :class:`MetricInfo` entries, in registry order.

    Example:
        >>> [m.name for m in list_metrics(kind="distance")]
        ['procrustes']
    """
    if kind is not None:
        check_choice(kind, "kind", ("similarity", "distance"))
    if invariant_to is not None:
        check_choice(invariant_to, "invariant_to", sorted(INVARIANCES))
    if symmetric is not None and not isinstance(symmetric, bool):
        raise fail("symmetric", "a bool or None", repr(symmetric), TypeError)
    return tuple(
        m
        for m in _REGISTRY.values()
        if (kind is None or m.kind == kind)
        and (invariant_to is None or invariant_to in m.invariances)
        and (symmetric is None or m.symmetric == symmetric)
    )
