"""The stitching grid over embeddings: heads per (space, seed), every (encoder, head) cell scored.

Finished cells are stored by :class:`_Cache` (one JSON file per cell, keyed by a hash of everything
the cell depends on), so a rerun skips them and an interrupted run resumes.
"""

from __future__ import annotations

import json
import math
import os
import re
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from relreps._array import Array, to_numpy
from relreps._io import atomic_write_text
from relreps._validation import check_choice, check_int, fail
from relreps.projection_spec import UNSET, ProjectionSpec, Unset
from relreps.stitching.heads import HeadFactory, MLPHeadFactory
from relreps.stitching.result import StitchingResult, UndefinedCell, _json_float
from relreps.stitching.scores import SCORERS, _Scorer
from relreps.stitching.spaces import (
    Space,
    _as_spaces,
    _check_spaces,
    _digest,
    _prepare_space,
    _Prepared,
)

METHODS = ("absolute", "relative", "translation")
_CACHE_VERSION = 1


# --- cache ----------------------------------------------------------------------------------------


class _Cache:
    """One JSON file per finished cell, named by a readable prefix and a content hash."""

    def __init__(self, folder: str | os.PathLike[str] | None) -> None:
        self.folder = None if folder is None else Path(folder)
        if self.folder is not None:
            self.folder.mkdir(parents=True, exist_ok=True)

    def _path(self, key: str, label: str) -> Path:
        if self.folder is None:
            raise RuntimeError("this stitching cache is disabled (no folder)")
        safe = re.sub(r"[^A-Za-z0-9_.-]+", "_", label)[:80]
        return self.folder / f"{safe}-{key[:20]}.json"

    def get(self, key: str, label: str) -> tuple[float, str] | None:
        if self.folder is None:
            return None
        path = self._path(key, label)
        try:
            data = json.loads(path.read_text())
        except (FileNotFoundError, json.JSONDecodeError):
            return None
        if not isinstance(data, dict) or data.get("key") != key:
            return None
        value = data.get("score")
        return (math.nan if value is None else float(value)), str(data.get("reason", ""))

    def put(self, key: str, label: str, value: float, reason: str, meta: dict[str, Any]) -> None:
        if self.folder is None:
            return
        path = self._path(key, label)
        payload = {"key": key, "score": _json_float(value), "reason": reason, **meta}
        atomic_write_text(path, json.dumps(payload))


# --- the engine -----------------------------------------------------------------------------------


def _relative(x: np.ndarray, anchors: np.ndarray, spec: ProjectionSpec) -> np.ndarray:
    from relreps.projection import relative_projection

    return np.asarray(relative_projection(x, anchors, spec=spec))


def _grid_spec(
    spec: ProjectionSpec | None,
    similarity: Any,
    center: str | Unset | None,
    projection_options: Mapping[str, Any] | None,
) -> tuple[ProjectionSpec, dict[str, Any]]:
    """The grid's ProjectionSpec, and the options its cache key is made of.

    The key holds similarity and center always and the other options when they differ from
    their defaults (so the keys of earlier runs stay valid); ``chunk_size`` never: it changes
    how the relative vectors are computed, not what they are.
    """
    extra = dict(projection_options or {})
    if "out" in extra:
        raise fail(
            "projection_options",
            "options of a relreps.ProjectionSpec (`out` has no meaning in a grid: every space's "
            "relative vectors are computed and kept by the grid)",
            f"keys {sorted(extra)}",
            TypeError,
        )
    resolved = ProjectionSpec.resolve(spec, similarity=similarity, center=center, **extra)
    key = {"similarity": resolved.similarity, "center": resolved.center}
    key.update(
        (name, value)
        for name, value in resolved.non_defaults().items()
        if name not in ("similarity", "center", "chunk_size")
    )
    return resolved, key


def _head_identity(head: Any) -> Any:
    if hasattr(head, "__dataclass_fields__"):
        return repr(head)
    return getattr(head, "__qualname__", None) or type(head).__qualname__


def _translation(methods: tuple[str, ...]) -> tuple[tuple[str, ...], Any, dict[str, str]]:
    """``(methods, translator class or None, skipped)``: "translation" is dropped, with the
    reason in ``skipped``, when the translate module cannot be imported."""
    if "translation" not in methods:
        return methods, None, {}
    try:
        from relreps.translate import Procrustes
    except ImportError as err:
        why = f"relreps.translate.Procrustes is not available ({err})"
        return tuple(m for m in methods if m != "translation"), None, {"translation": why}
    return methods, Procrustes, {}


def stitching_grid(
    spaces: Sequence[Space] | Mapping[str, Space | Callable[[Any], Array]],
    y_train: Any,
    y_test: Any,
    *,
    scoring: str = "accuracy",
    seeds: Sequence[int] = (0,),
    head: HeadFactory | None = None,
    methods: Sequence[str] = ("absolute", "relative", "translation"),
    spec: ProjectionSpec | None = None,
    similarity: Any = UNSET,
    center: str | Unset | None = UNSET,
    projection_options: Mapping[str, Any] | None = None,
    items: tuple[Any, Any, Any] | None = None,
    cache_dir: str | os.PathLike[str] | None = None,
    cache_tag: str = "",
    progress: bool | None = None,
) -> StitchingResult:
    """Train absolute and relative heads per (space, seed) and score every (encoder, head) pair.

    Args:
        spaces: the encoders' spaces: a sequence of :class:`Space`, or a mapping name -> Space or
            callable encoder (callables need ``items``).
        y_train: (n_train,) labels (int classes) or (n_train, n_targets) regression targets (mse).
        y_test: (n_test,) or (n_test, n_targets), the same kind.
        scoring: one of :data:`SCORERS`: ``accuracy``, ``f1_weighted`` (x100), ``f1_macro`` (x100),
            ``mse``, ``mae`` (ordinal class labels).
        seeds: head seeds; every (space, seed) gets its own heads.
        head: ``factory(in_features, n_outputs, seed) -> Head`` (fit/predict); the default is
            :class:`MLPHeadFactory` (regression variant for ``mse``). One factory serves both
            methods, so the heads have matched capacity.
        methods: any of ``"absolute"``, ``"relative"``, ``"translation"``.
        spec: the relative representation's options, a :class:`relreps.ProjectionSpec`
            (default ``ProjectionSpec()``: the paper's cosine); ``similarity``, ``center`` and
            ``projection_options`` are a convenience for the same options (each must agree with
            ``spec`` when both are given). Its ``chunk_size`` bounds the projection's memory.
        similarity: similarity of the relative representation (see ``relreps.similarities()``).
        center: ``None`` or ``"anchors"`` (anchor-mean centring, for anisotropic encoders).
        projection_options: other :class:`relreps.ProjectionSpec` options by name (aggregate,
            topk, power, chunk_size); ``out`` is refused.
        items: ``(train_items, test_items, anchor_items)`` for callable encoders.
        cache_dir: folder for finished cells (resumable); None disables caching.
        cache_tag: mixed into every cache key; change it when a custom head factory changes.
        progress: tqdm bar over the heads; None = only when stderr is a terminal.

    Returns:
        A :class:`StitchingResult`.

    Raises:
        ValueError: unknown scoring or method, NaN embeddings, empty sets, spaces with different
            anchor counts or anchor identities, labels that do not match the rows, bad
            projection options or options that contradict ``spec``.
        TypeError: spaces or labels of the wrong type, unknown projection options or ``out``.

    Example:
        >>> import numpy as np
        >>> from sklearn.linear_model import LogisticRegression
        >>> rng = np.random.default_rng(0)
        >>> x = rng.normal(size=(120, 5)); y = (x[:, 0] > 0).astype(int)
        >>> q, _ = np.linalg.qr(rng.normal(size=(5, 5)))
        >>> z = x @ q  # the same data seen by a rotated encoder
        >>> spaces = [Space("a", x[:80], x[80:], x[:20]), Space("b", z[:80], z[80:], z[:20])]
        >>> logreg = lambda d, k, seed: LogisticRegression(random_state=seed)
        >>> result = stitching_grid(spaces, y[:80], y[80:], head=logreg, methods=["relative"])
        >>> rel = result.pair_mean("relative")
        >>> bool(np.allclose(rel, rel[0, 0]))
        True
    """
    start = time.perf_counter()
    check_choice(scoring, "scoring", list(SCORERS))
    scorer = SCORERS[scoring]
    methods = _check_methods(methods)
    seeds = _check_seeds(seeds)
    y_tr, y_te = (
        _check_targets(y_train, "y_train", scorer),
        _check_targets(y_test, "y_test", scorer),
    )
    prepared = [_prepare_space(s) for s in _as_spaces(spaces, items)]
    _check_spaces(prepared, y_tr.shape[0], y_te.shape[0])
    projection, key_options = _grid_spec(spec, similarity, center, projection_options)
    classes, n_outputs, y_fit = _fit_targets(y_tr, scorer)
    factory = _head_factory(head, scorer)
    methods, translator, skipped = _translation(methods)

    cache = _Cache(cache_dir)
    run_key = _digest(
        _CACHE_VERSION, scoring, cache_tag, _head_identity(factory), key_options, y_fit, y_te
    )
    bar = _bar(progress, len(prepared) * len(seeds))
    run = _Run(
        factory=factory,
        n_outputs=n_outputs,
        y_fit=y_fit,
        y_test=y_te,
        scorer=scorer,
        translator=translator,
        decode_labels=_label_decoder(classes),
        rel_of=_RelativeMemo(projection),
        cache=cache,
        run_key=run_key,
    )
    scores, reasons, n_cached = _score_grid(run, prepared, seeds, methods, bar)
    undefined = tuple(
        UndefinedCell(m, prepared[i].name, prepared[j].name, r)
        for (m, i, j), r in sorted(reasons.items())
    )
    return StitchingResult(
        names=tuple(p.name for p in prepared),
        seeds=seeds,
        scoring=scoring,
        higher_is_better=scorer.higher_is_better,
        scores=scores,
        undefined=undefined,
        skipped_methods=skipped,
        n_cached=n_cached,
        seconds=time.perf_counter() - start,
    )


def _fit_targets(y_tr: np.ndarray, scorer: _Scorer) -> tuple[np.ndarray | None, int, np.ndarray]:
    """``(classes, n_outputs, y_fit)``: class labels become indices into ``classes``; regression
    targets pass through (``classes`` None, one output per target column)."""
    if scorer.needs_classes:
        classes = np.unique(y_tr)
        if classes.size < 2:
            raise fail("y_train", "labels of at least 2 classes", f"{classes.size} class")
        return classes, int(classes.size), np.searchsorted(classes, y_tr)
    return None, int(y_tr.reshape(len(y_tr), -1).shape[1]), y_tr


def _head_factory(head: HeadFactory | None, scorer: _Scorer) -> Any:
    """The given head factory, or the default MLP head for the scoring's kind of target."""
    if head is None:
        return MLPHeadFactory(classification=scorer.needs_classes)
    if not callable(head):
        raise fail(
            "head",
            "a callable (in_features, n_outputs, seed) -> head",
            type(head).__name__,
            TypeError,
        )
    return head


def _label_decoder(classes: np.ndarray | None) -> Callable[[Any], np.ndarray]:
    """Map a head's predictions back to labels: class indices (clipped) to ``classes``."""

    def decode_labels(pred: Any) -> np.ndarray:
        out = np.asarray(to_numpy(pred))
        if classes is None:
            return out
        return classes[np.clip(out.astype(np.int64).reshape(-1), 0, classes.size - 1)]

    return decode_labels


class _RelativeMemo:
    """Each space's relative train/test vectors, computed on first use and kept for the run."""

    def __init__(self, projection: ProjectionSpec) -> None:
        self.projection = projection
        self.train: dict[str, np.ndarray] = {}
        self.test: dict[str, np.ndarray] = {}

    def __call__(self, space: _Prepared, split: str) -> np.ndarray:
        store = self.train if split == "train" else self.test
        if space.name not in store:
            store[space.name] = _relative(getattr(space, split), space.anchors, self.projection)
        return store[space.name]


@dataclass(frozen=True)
class _Run:
    """What every cell of one grid run shares: heads' inputs, scoring, translation and cache."""

    factory: Any
    n_outputs: int
    y_fit: np.ndarray
    y_test: np.ndarray
    scorer: _Scorer
    translator: Any
    decode_labels: Callable[[Any], np.ndarray]
    rel_of: Callable[[_Prepared, str], np.ndarray]
    cache: _Cache
    run_key: str


def _score_grid(
    run: _Run,
    prepared: list[_Prepared],
    seeds: tuple[int, ...],
    methods: tuple[str, ...],
    bar: Any,
) -> tuple[dict[str, np.ndarray], dict[tuple[str, int, int], str], int]:
    """``(scores, reasons, n_cached)`` over every (decoder, seed, method, encoder), in that order.

    ``scores[method]`` is (n_encoders, n_decoders, n_seeds); ``reasons`` holds the last non-empty
    reason per (method, encoder, decoder). One bar step per (decoder, seed).
    """
    n, n_seeds = len(prepared), len(seeds)
    scores = {m: np.full((n, n, n_seeds), np.nan) for m in methods}
    reasons: dict[tuple[str, int, int], str] = {}
    n_cached = 0
    try:
        for j, dec in enumerate(prepared):
            for s, seed in enumerate(seeds):
                heads = _Heads(run.factory, run.n_outputs, run.y_fit, dec, seed, run.rel_of)
                for method in methods:
                    for i, enc in enumerate(prepared):
                        value, reason, cached = _cached_cell(
                            run, method, seed, enc, dec, i == j, heads
                        )
                        n_cached += cached
                        scores[method][i, j, s] = value
                        if reason:
                            reasons[(method, i, j)] = reason
                if bar is not None:
                    bar.update(1)
    finally:
        if bar is not None:
            bar.close()
    return scores, reasons, n_cached


def _cached_cell(
    run: _Run, method: str, seed: int, enc: _Prepared, dec: _Prepared, same: bool, heads: _Heads
) -> tuple[float, str, bool]:
    """``(value, reason, cached)`` of one cell: from the cache, else scored and stored."""
    key = _digest(run.run_key, method, seed, dec.fingerprint, enc.fingerprint)
    label = f"{method}-{dec.name}-s{seed}-{enc.name}"
    hit = run.cache.get(key, label)
    if hit is not None:
        return hit[0], hit[1], True
    value, reason = _cell(
        method,
        enc,
        dec,
        same,
        heads.get,
        run.rel_of,
        run.translator,
        run.decode_labels,
        run.scorer,
        run.y_test,
    )
    meta = {"method": method, "encoder": enc.name, "decoder": dec.name, "seed": seed}
    run.cache.put(key, label, value, reason, meta)
    return value, reason, False


class _Heads:
    """The absolute and relative heads of one (decoder space, seed), trained on first use."""

    def __init__(
        self,
        factory: Any,
        n_outputs: int,
        y_fit: np.ndarray,
        space: _Prepared,
        seed: int,
        rel_of: Callable[[_Prepared, str], np.ndarray],
    ) -> None:
        self.factory, self.n_outputs, self.y_fit = factory, n_outputs, y_fit
        self.space, self.seed, self.rel_of = space, seed, rel_of
        self.trained: dict[str, Any] = {}

    def get(self, kind: str) -> Any:
        if kind not in self.trained:
            x = self.rel_of(self.space, "train") if kind == "relative" else self.space.train
            head = self.factory(x.shape[1], self.n_outputs, self.seed)
            fitted = head.fit(x, self.y_fit)
            self.trained[kind] = head if fitted is None else fitted
        return self.trained[kind]


def _cell(
    method: str,
    enc: _Prepared,
    dec: _Prepared,
    same: bool,
    head_for: Callable[[str], Any],
    rel_of: Callable[[_Prepared, str], np.ndarray],
    translator: Any,
    decode_labels: Callable[[Any], np.ndarray],
    spec: _Scorer,
    y_test: np.ndarray,
) -> tuple[float, str]:
    """Score one (method, encoder, decoder) cell, or return NaN and the reason it is undefined."""
    if method == "relative":
        x = rel_of(enc, "test")
        return spec.fn(y_test, decode_labels(head_for("relative").predict(x))), ""
    d_enc, d_dec = enc.train.shape[1], dec.train.shape[1]
    if method == "absolute":
        if d_enc != d_dec:
            return math.nan, (
                f"absolute stitching is not defined: {enc.name!r} embeds into {d_enc} dimensions "
                f"but the head of {dec.name!r} reads {d_dec}"
            )
        return spec.fn(y_test, decode_labels(head_for("absolute").predict(enc.test))), ""
    # translation: identity on the diagonal, Procrustes on the anchors elsewhere
    x = (
        enc.test
        if same
        else np.asarray(translator().fit(enc.anchors, dec.anchors).transform(enc.test))
    )
    return spec.fn(y_test, decode_labels(head_for("absolute").predict(x))), ""


# --- argument checks ------------------------------------------------------------------------------


def _check_methods(methods: Sequence[str]) -> tuple[str, ...]:
    if isinstance(methods, str) or not isinstance(methods, Sequence) or not methods:
        raise fail(
            "methods", f"a non-empty list drawn from {list(METHODS)}", repr(methods), TypeError
        )
    for i, m in enumerate(methods):
        check_choice(m, f"methods[{i}]", METHODS)
    return tuple(dict.fromkeys(methods))


def _check_seeds(seeds: Sequence[int]) -> tuple[int, ...]:
    if isinstance(seeds, int) or not isinstance(seeds, Sequence) or len(seeds) == 0:
        raise fail("seeds", "a non-empty sequence of ints", repr(seeds), TypeError)
    out = tuple(check_int(s, f"seeds[{i}]", low=0) for i, s in enumerate(seeds))
    if len(set(out)) != len(out):
        raise fail("seeds", "distinct seeds", repr(list(out)))
    return out


def _check_targets(y: Any, name: str, spec: _Scorer) -> np.ndarray:
    arr = np.asarray(to_numpy(y)) if not isinstance(y, list | tuple) else np.asarray(y)
    if arr.ndim == 0 or arr.shape[0] == 0:
        raise fail(name, "a non-empty array with one target per sample", f"shape {arr.shape}")
    if spec.needs_classes:
        if arr.ndim != 1 or arr.dtype.kind not in "iub":
            raise fail(
                name,
                f"a 1-D array of integer class labels (scoring {spec.name!r})",
                f"dtype {arr.dtype} and shape {arr.shape}",
            )
    else:
        if arr.dtype.kind not in "iubf":
            raise fail(name, "numeric regression targets", f"dtype {arr.dtype}", TypeError)
        if not np.all(np.isfinite(arr)):
            raise fail(name, "finite targets", "NaN or Inf")
    return arr


def _bar(progress: bool | None, total: int) -> Any:
    enabled = sys.stderr.isatty() if progress is None else progress
    if not enabled:
        return None
    try:
        from tqdm.auto import tqdm
    except ImportError:
        return None
    return tqdm(total=total, desc="stitching heads", leave=False, file=sys.stderr)
