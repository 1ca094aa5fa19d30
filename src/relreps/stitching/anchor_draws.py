"""A stitching grid whose anchors are redrawn per seed, with relative variants side by side.

:func:`stitching_grid` takes one anchor set per space. Here every head seed also draws its own
class-stratified anchors from the training rows (the same rows in every space: parallel anchors),
and each relative variant (anchor centring, a product of similarities, ...) is scored as a method
of its own, so one :class:`StitchingResult` holds every method over every (anchor draw, seed).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from typing import Any

import numpy as np

from relreps._validation import check_int, fail
from relreps.projection_spec import ProjectionSpec
from relreps.stitching.grid import METHODS, stitching_grid
from relreps.stitching.heads import HeadFactory
from relreps.stitching.result import StitchingResult, UndefinedCell
from relreps.stitching.spaces import Space

__all__ = ["anchor_draw_grid"]


def anchor_draw_grid(
    embeddings: Mapping[str, Sequence[Any]],
    y_train: Any,
    y_test: Any,
    *,
    n_anchors: int,
    seeds: Sequence[int],
    methods: Sequence[str] = METHODS,
    variants: Mapping[str, ProjectionSpec] | None = None,
    scoring: str = "accuracy",
    head: HeadFactory | None = None,
    cache_dir: str | os.PathLike[str] | None = None,
    cache_tag: str = "",
    log: Callable[[str], None] | None = None,
) -> StitchingResult:
    """Every (encoder, head) pair for every method, each seed with its own anchor draw.

    Seed ``s`` draws ``min(n_anchors, n_train)`` class-stratified anchors from the training rows
    (:func:`relreps.anchors.stratified` with ``seed=s``; anchor ids ``"train:<row>"``) and trains
    the heads of every space with that seed. Per seed, one :func:`stitching_grid` scores the
    grid's own methods (``absolute``, ``relative``, ``translation``) and one relative-only grid
    scores each other variant; the seeds are then stacked along the seed axis.

    Args:
        embeddings: space name -> (train (n_train, d), test (n_test, d)) embeddings; row i is the
            same item in every space (widths may differ).
        y_train: (n_train,) integer class labels (the anchors are stratified by them).
        y_test: (n_test,) integer class labels.
        n_anchors: anchors per draw (at most ``n_train`` are drawn).
        seeds: distinct non-negative seeds, one anchor draw and one set of heads each.
        methods: the methods of the result, in its order: names among ``absolute``,
            ``relative``, ``translation`` and the keys of ``variants``.
        variants: relative method name -> its :class:`relreps.ProjectionSpec`. The key
            ``relative`` sets the plain relative method's spec (default ``ProjectionSpec()``);
            any other key is a relative method of its own. Keys not in ``methods`` are not run.
        scoring: a scoring of :data:`relreps.stitching.SCORERS` for class labels
            (``accuracy``, ``f1_weighted``, ``f1_macro``).
        head: the head factory of every grid (default: :class:`MLPHeadFactory`).
        cache_dir: folder for finished cells (resumable); None disables caching.
        cache_tag: mixed into every cache key (change it when a custom head factory changes).
        log: called with one status line per finished seed, or None.

    Returns:
        A :class:`StitchingResult` with ``methods`` in the given order (a method that could not
        run, such as translation without its module, is left out and named in
        ``skipped_methods``), ``seeds`` as given, scores of shape (n_spaces, n_spaces, n_seeds),
        the undefined cells (first seed's order) and ``n_cached`` / ``seconds`` summed over the
        grids.

    Raises:
        ValueError: no spaces, a space that is not a (train, test) pair or whose training rows
            do not match ``y_train``, bad ``n_anchors``, repeated or negative seeds, unknown
            methods, or what :func:`stitching_grid` refuses.
        TypeError: seeds or methods that are not sequences, variants that are not
            ProjectionSpecs.

    Example:
        >>> from sklearn.linear_model import LogisticRegression
        >>> rng = np.random.default_rng(0)
        >>> x = rng.normal(size=(120, 5)); y = (x[:, 0] > 0).astype(int)
        >>> q, _ = np.linalg.qr(rng.normal(size=(5, 5)))
        >>> spaces = {"a": (x[:80], x[80:]), "b": (x[:80] @ q, x[80:] @ q)}
        >>> logreg = lambda d, k, seed: LogisticRegression(random_state=seed)
        >>> result = anchor_draw_grid(spaces, y[:80], y[80:], n_anchors=10, seeds=[0, 1],
        ...     methods=["relative", "centred"], head=logreg,
        ...     variants={"centred": ProjectionSpec(center="anchors")})
        >>> result.methods, result.scores["centred"].shape
        (('relative', 'centred'), (2, 2, 2))
    """
    from relreps.anchors import stratified

    labels = np.asarray(y_train)
    seeds, methods, specs = _check(embeddings, len(labels), n_anchors, seeds, methods, variants)
    per_method: dict[str, list[np.ndarray]] = {m: [] for m in methods}
    undefined: dict[tuple[str, str, str], UndefinedCell] = {}
    skipped: dict[str, str] = {}
    names: tuple[str, ...] = ()
    higher_is_better, n_cached, seconds = True, 0, 0.0
    for seed in seeds:
        anchor_idx = stratified(labels, min(n_anchors, len(labels)), seed=seed)
        ids = [f"train:{int(i)}" for i in anchor_idx]
        spaces = [
            Space(name, train, test, np.asarray(train)[anchor_idx], ids)
            for name, (train, test) in embeddings.items()
        ]
        for label, spec, grid_methods in _runs(methods, specs):
            result = stitching_grid(
                spaces,
                y_train,
                y_test,
                scoring=scoring,
                seeds=(seed,),
                head=head,
                methods=grid_methods,
                spec=spec,
                cache_dir=cache_dir,
                cache_tag=cache_tag,
                progress=False,
            )
            names, higher_is_better = result.names, result.higher_is_better
            for method in result.methods:
                per_method[label or method].append(result.scores[method])
            skipped.update(result.skipped_methods)
            for cell in result.undefined:
                cell = cell if label is None else replace(cell, method=label)
                undefined[(cell.method, cell.encoder, cell.decoder)] = cell
            n_cached += result.n_cached
            seconds += result.seconds
        if log is not None:
            log(f"  seed {seed}: grids done")
    return StitchingResult(
        names=names,
        seeds=seeds,
        scoring=scoring,
        higher_is_better=higher_is_better,
        scores={m: np.concatenate(v, axis=2) for m, v in per_method.items() if v},
        undefined=tuple(undefined.values()),
        skipped_methods=skipped,
        n_cached=n_cached,
        seconds=seconds,
    )


def _runs(
    methods: tuple[str, ...], specs: Mapping[str, ProjectionSpec]
) -> list[tuple[str | None, ProjectionSpec, list[str]]]:
    """One seed's grids: (variant label or None for the grid's own methods, spec, methods)."""
    runs: list[tuple[str | None, ProjectionSpec, list[str]]] = []
    own = [m for m in METHODS if m in methods]
    if own:
        runs.append((None, specs.get("relative", ProjectionSpec()), own))
    runs += [(m, specs[m], ["relative"]) for m in methods if m not in METHODS]
    return runs


def _check(
    embeddings: Any,
    n_train: int,
    n_anchors: Any,
    seeds: Any,
    methods: Any,
    variants: Mapping[str, ProjectionSpec] | None,
) -> tuple[tuple[int, ...], tuple[str, ...], dict[str, ProjectionSpec]]:
    if not isinstance(embeddings, Mapping) or not embeddings:
        raise fail("embeddings", "a non-empty mapping name -> (train, test)", repr(embeddings))
    for name, pair in embeddings.items():
        if not isinstance(pair, tuple | list) or len(pair) != 2:
            raise fail(f"embeddings[{name!r}]", "a (train, test) pair", type(pair).__name__)
        if len(pair[0]) != n_train:
            where = f"embeddings[{name!r}] train"
            raise fail(where, f"{n_train} rows (one per y_train label)", f"{len(pair[0])} rows")
    check_int(n_anchors, "n_anchors", low=1)
    if isinstance(seeds, int) or not isinstance(seeds, Sequence) or len(seeds) == 0:
        raise fail("seeds", "a non-empty sequence of ints", repr(seeds), TypeError)
    out_seeds = tuple(check_int(s, f"seeds[{i}]", low=0) for i, s in enumerate(seeds))
    if len(set(out_seeds)) != len(out_seeds):
        raise fail("seeds", "distinct seeds", repr(list(out_seeds)))
    specs = dict(variants or {})
    for label, spec in specs.items():
        if not isinstance(spec, ProjectionSpec):
            raise fail(f"variants[{label!r}]", "a ProjectionSpec", type(spec).__name__, TypeError)
    known = list(dict.fromkeys([*METHODS, *specs]))
    if isinstance(methods, str) or not isinstance(methods, Sequence) or not methods:
        raise fail("methods", f"a non-empty list drawn from {known}", repr(methods), TypeError)
    for method in methods:
        if method not in known:
            raise fail("methods", f"names among {known}", repr(method))
    return out_seeds, tuple(dict.fromkeys(methods)), specs
