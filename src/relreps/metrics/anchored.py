"""Partner retrieval between two paired spaces through parallel anchors, per anchor draw.

Row ``i`` of ``source`` and ``target`` is the same item in two spaces (a word and its translation,
a phrase embedded by two models). Some rows serve as parallel anchors; every other (held-out)
source row ranks every held-out target row, and the rank of its true partner is summarised as
top-k accuracy and MRR (:func:`relreps.metrics.partner_ranks`), in both directions, for four ways
to compare the spaces:

- ``absolute``: raw cosine (only when the widths agree);
- ``relative``: cosine between relative vectors (cosine to each side's own anchors);
- ``relative-centred``: the same after subtracting the anchor mean (for anisotropic spaces);
- ``translation``: a Procrustes map fitted on the anchors (:class:`relreps.translate.Procrustes`),
  then raw cosine in the other space (backward: the inverse map).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from relreps._array import Array, to_numpy
from relreps._validation import check_choice, check_int, check_matrix, check_paired, fail
from relreps.metrics.ranks import mean_reciprocal_rank, partner_ranks, top_k_accuracy

__all__ = [
    "RETRIEVAL_METHODS",
    "anchor_draw_retrieval",
    "anchored_retrieval",
    "chance_summary",
    "rank_summary",
    "relative_matches",
    "retrieval_rows",
]

#: The ways :func:`anchored_retrieval` compares two spaces, in table order.
RETRIEVAL_METHODS = ("absolute", "relative", "relative-centred", "translation")
_SCORES = ("top1", "top10", "mrr")


def rank_summary(ranks: Any) -> dict[str, float]:
    """``{"top1", "top10", "mrr"}`` of partner ranks (see :func:`partner_ranks`).

    Example:
        >>> rank_summary(np.array([1, 2, 20]))
        {'top1': 0.3333333333333333, 'top10': 0.6666666666666666, 'mrr': 0.5166666666666667}
    """
    return {
        "top1": top_k_accuracy(ranks, 1),
        "top10": top_k_accuracy(ranks, 10),
        "mrr": mean_reciprocal_rank(ranks),
    }


def chance_summary(n_candidates: int) -> dict[str, float]:
    """The expected :func:`rank_summary` of a uniformly random ranking of ``n_candidates``.

    Example:
        >>> chance_summary(4)
        {'top1': 0.25, 'top10': 1.0, 'mrr': 0.5208333333333333}
    """
    n = check_int(n_candidates, "n_candidates", low=1)
    harmonic = float(np.sum(1.0 / np.arange(1, n + 1)))
    return {"top1": 1.0 / n, "top10": min(10, n) / n, "mrr": harmonic / n}


def _paired_split(
    source: Array, target: Array, anchors: Any, held: Any
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Checked paired spaces as numpy, with disjoint anchor and held-out row indices."""
    xs, xt = check_matrix(source, "source"), check_matrix(target, "target")
    check_paired(xs, "source", xt, "target")
    xs, xt = np.asarray(to_numpy(xs)), np.asarray(to_numpy(xt))
    a, h = _rows(anchors, "anchors", len(xs)), _rows(held, "held", len(xs))
    if np.intersect1d(a, h).size:
        raise fail("held", "rows disjoint from `anchors`", "rows in both")
    return xs, xt, a, h


def anchored_retrieval(
    source: Array,
    target: Array,
    anchors: Any,
    held: Any,
    *,
    methods: Sequence[str] = RETRIEVAL_METHODS,
    directions: tuple[str, str] = ("forward", "backward"),
) -> dict[str, dict[str, dict[str, float]]]:
    """Retrieve each held-out row's partner, both directions, with every method of ``methods``.

    Args:
        source: (n_items, d_s) vectors; row i is the partner of ``target`` row i.
        target: (n_items, d_t) vectors.
        anchors: (n_anchors,) row indices used as parallel anchors (at least 2).
        held: (n_held,) row indices (disjoint from ``anchors``, at least 2): queries and candidates.
        methods: among :data:`RETRIEVAL_METHODS`; ``absolute`` is left out when d_s != d_t.
        directions: the keys of the two directions (source -> target first).

    Returns:
        ``{direction: {method: rank_summary}}``.

    Raises:
        ValueError: unpaired spaces, NaN/Inf, out-of-range or overlapping indices, an unknown
            method.

    Example:
        >>> rng = np.random.default_rng(0)
        >>> x = rng.normal(size=(40, 5))
        >>> q, _ = np.linalg.qr(rng.normal(size=(5, 5)))
        >>> out = anchored_retrieval(x, 2 * x @ q, np.arange(10), np.arange(10, 40))
        >>> out["forward"]["relative"]["top1"], out["backward"]["relative"]["mrr"]
        (1.0, 1.0)
        >>> out["forward"]["absolute"]["top1"] < 0.1 < 0.8 < out["forward"]["translation"]["top1"]
        True
    """
    from relreps.projection import relative_projection
    from relreps.translate import Procrustes

    xs, xt, a, h = _paired_split(source, target, anchors, held)
    methods = [check_choice(m, "methods", RETRIEVAL_METHODS) for m in methods]
    views: dict[str, tuple[Any, Any]] = {}
    if "absolute" in methods and xs.shape[1] == xt.shape[1]:
        views["absolute"] = (xs[h], xt[h])
    for method, center in (("relative", None), ("relative-centred", "anchors")):
        if method in methods:
            views[method] = (
                relative_projection(xs[h], xs[a], center=center),
                relative_projection(xt[h], xt[a], center=center),
            )
    back = None
    if "translation" in methods:
        translator = Procrustes().fit(xs[a], xt[a])
        views["translation"] = (np.asarray(translator.transform(xs[h])), xt[h])
        back = (np.asarray(translator.inverse_transform(xt[h])), xs[h])
    forward, backward = directions
    out: dict[str, dict[str, dict[str, float]]] = {forward: {}, backward: {}}
    for method in (m for m in RETRIEVAL_METHODS if m in views):
        one, other = views[method]
        out[forward][method] = rank_summary(partner_ranks(one, other))
        reverse = back if method == "translation" and back is not None else (other, one)
        out[backward][method] = rank_summary(partner_ranks(*reverse))
    return out


def anchor_draw_retrieval(
    source: Array,
    target: Array,
    n_anchors: int,
    seeds: Sequence[int],
    *,
    names: tuple[str, str] = ("source", "target"),
    directions: tuple[str, str] = ("forward", "backward"),
) -> dict[str, Any]:
    """:func:`anchored_retrieval` over random anchor draws, with the mean, std and chance level.

    Seed ``s`` permutes the rows with ``numpy.random.default_rng(s)``: the first ``n_anchors``
    are the anchors, the rest the held-out queries and candidates.

    Args:
        source, target: (n_items, d_s) and (n_items, d_t) paired vectors.
        n_anchors: anchors per draw, in ``[2, n_items - 2]``.
        seeds: one draw per seed.
        names: the two spaces' names (in the reason ``absolute`` is undefined).
        directions: the keys of the two directions.

    Returns:
        ``{"n_candidates", "chance": chance summary, "per_seed": [{"seed", direction: {method:
        summary}}], "mean" / "std": {direction: {method: {score: value}}} (population std over
        draws), "undefined": {method: reason}}``.

    Example:
        >>> x = np.random.default_rng(0).normal(size=(30, 4))
        >>> out = anchor_draw_retrieval(x, x[:, :3], 8, [0, 1])
        >>> out["n_candidates"], sorted(out["undefined"]), len(out["per_seed"])
        (22, ['absolute'], 2)
    """
    from relreps.results import mean_std

    n = check_matrix(source, "source").shape[0]
    if not 2 <= n_anchors <= n - 2:
        raise ValueError(
            f"Expected `n_anchors` in [2, {n - 2}] (leaving held-out pairs), but got {n_anchors}."
        )
    if not seeds:
        raise fail("seeds", "at least one seed", "none")
    undefined: dict[str, str] = {}
    d_s, d_t = np.shape(source)[1], np.shape(target)[1]
    if d_s != d_t:
        undefined["absolute"] = (
            f"{names[0]} has {d_s} dimensions and {names[1]} {d_t}: raw vectors cannot be compared"
        )
    per_seed: list[dict[str, Any]] = []
    for seed in seeds:
        order = np.random.default_rng(seed).permutation(n)
        draw = anchored_retrieval(
            source, target, order[:n_anchors], order[n_anchors:], directions=directions
        )
        per_seed.append({"seed": seed, **draw})
    mean: dict[str, Any] = {d: {} for d in directions}
    std: dict[str, Any] = {d: {} for d in directions}
    for d in directions:
        for method in per_seed[0][d]:
            stats = {k: mean_std([c[d][method][k] for c in per_seed]) for k in _SCORES}
            mean[d][method] = {k: m for k, (m, _) in stats.items()}
            std[d][method] = {k: s for k, (_, s) in stats.items()}
    return {
        "n_candidates": n - n_anchors,
        "chance": chance_summary(n - n_anchors),
        "per_seed": per_seed,
        "mean": mean,
        "std": std,
        "undefined": undefined,
    }


def retrieval_rows(
    block: Mapping[str, Any],
    labels: Mapping[str, str] | None = None,
    *,
    methods: Sequence[str] = RETRIEVAL_METHODS,
    digits: int = 3,
    chance: bool = True,
) -> list[tuple[Any, ...]]:
    """Table rows of an :func:`anchor_draw_retrieval` result, one per direction and method.

    Args:
        block: the result of :func:`anchor_draw_retrieval`.
        labels: method -> the row's label (default: the method's name).
        methods: the methods to list, per direction (an undefined one gets empty cells).
        digits: decimals of the ``"mean ± std"`` cells.
        chance: end with the chance row (``digits + 1`` decimals, direction ``"both"``).

    Returns:
        ``(direction, label, top-1, top-10, MRR)`` rows: ``"mean ± std"`` over the draws, None
        (a dash) where the method is undefined.

    Example:
        >>> x = np.random.default_rng(0).normal(size=(30, 4))
        >>> rows = retrieval_rows(anchor_draw_retrieval(x, x[:, :3], 8, [0, 1]))
        >>> rows[0]
        ('forward', 'absolute', None, None, None)
        >>> rows[1][:3], rows[-1]
        (('forward', 'relative', '0.705 ± 0.068'), ('both', 'chance', '0.0455', '0.4545', '0.1678'))
    """
    from relreps.results import mean_std_text

    check_int(digits, "digits", low=0)
    for method in methods:
        check_choice(method, "methods", RETRIEVAL_METHODS)
    names = dict(labels or {})
    rows: list[tuple[Any, ...]] = []
    for direction in block["mean"]:
        for method in methods:
            label = names.get(method, method)
            if method in block["undefined"]:
                rows.append((direction, label, None, None, None))
                continue
            m, s = block["mean"][direction][method], block["std"][direction][method]
            rows.append((direction, label, *(mean_std_text(m[k], s[k], digits) for k in _SCORES)))
    if chance:
        rows.append(("both", "chance", *(f"{block['chance'][k]:.{digits + 1}f}" for k in _SCORES)))
    return rows


def relative_matches(
    source: Array,
    target: Array,
    anchors: Any,
    held: Any,
    *,
    k: int = 3,
    n_queries: int | None = None,
) -> np.ndarray:
    """The ``k`` held-out target rows nearest each held-out source row, by relative cosine.

    The examples behind :func:`anchored_retrieval`'s ``relative`` scores: the first ``n_queries``
    rows of ``held`` (in ``source``) rank every ``held`` row (in ``target``) by cosine between
    relative vectors (cosine to each side's own ``anchors``).

    Args:
        source: (n_items, d_s) vectors; row i is the partner of ``target`` row i.
        target: (n_items, d_t) vectors.
        anchors: (n_anchors,) row indices used as parallel anchors (at least 2).
        held: (n_held,) row indices, disjoint from ``anchors``: candidates, and queries first.
        k: matches per query, in ``[1, n_held]``.
        n_queries: how many of ``held`` query (default: all of them).

    Returns:
        (n_queries, k) positions in ``held`` (not row indices), best match first.

    Example:
        >>> x = np.random.default_rng(0).normal(size=(20, 4))
        >>> matches = relative_matches(x, 5 * x[:, ::-1], np.arange(6), np.arange(6, 20), k=2)
        >>> matches.shape, bool((matches[:, 0] == np.arange(14)).all())
        ((14, 2), True)
    """
    from relreps.projection import relative_projection

    xs, xt, a, h = _paired_split(source, target, anchors, held)
    k = check_int(k, "k", low=1, high=len(h))
    n_queries = (
        len(h) if n_queries is None else check_int(n_queries, "n_queries", low=1, high=len(h))
    )
    one = np.asarray(relative_projection(xs[h], xs[a]))
    other = np.asarray(relative_projection(xt[h], xt[a]))
    one = one / np.maximum(np.linalg.norm(one, axis=1, keepdims=True), 1e-12)
    other = other / np.maximum(np.linalg.norm(other, axis=1, keepdims=True), 1e-12)
    return np.argsort(-(one[:n_queries] @ other.T), axis=1)[:, :k]


def _rows(idx: Any, name: str, n: int) -> np.ndarray:
    arr = np.asarray(idx)
    if arr.ndim != 1 or arr.size < 2 or not np.issubdtype(arr.dtype, np.integer):
        raise fail(name, "a 1-D array of at least 2 row indices", f"{arr.dtype} shape {arr.shape}")
    if arr.min() < 0 or arr.max() >= n:
        raise fail(name, f"row indices in [0, {n})", f"[{arr.min()}, {arr.max()}]")
    return arr
