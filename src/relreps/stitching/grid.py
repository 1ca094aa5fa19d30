"""The zero-shot stitching engine: every (encoder, head) pair, absolute vs relative.

Give it several *spaces* (one per encoder: train, test and anchor embeddings of the SAME items,
from anywhere: numpy, torch, precomputed or computed by a callable), the labels, a head factory and
seeds. For each space and seed it trains an absolute head (on the embeddings) and a relative head
(on their cosine similarities to the space's own anchors), then scores every head on every space's
test set:

- ``relative``: space i's test set, projected on space i's anchors, read by the head trained on
  space j's relative representation. Always defined (same anchors, any widths).
- ``absolute``: space i's test embeddings read by space j's absolute head. Only defined for equal
  widths; other cells are NaN with a reason.
- ``translation`` (optional): space i's test embeddings mapped into space j by a Procrustes
  translation fitted on the two anchor sets (:class:`relreps.translate.Procrustes`), then read by
  space j's absolute head.

The result holds the full (encoder, decoder, seed) score arrays, per-pair mean +- std over seeds,
and the paper's summary rows (absolute / relative x not stitched / stitched). With ``cache_dir``
every finished cell is stored as a small JSON file (atomic write) keyed by a hash of everything it
depends on, so a rerun skips it and an interrupted run resumes.

Are vectors normalised before stitching? The engine feeds the relative heads the RAW similarities
(cosine already divides by both norms); the default head then applies LayerNorm to them as its
first layer. Absolute embeddings are not normalised by the engine; the default head applies the same
LayerNorm to them (matched capacity).
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import re
import sys
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from relreps._array import Array, to_numpy
from relreps._validation import check_choice, check_int, check_matrix, fail

__all__ = [
    "METHODS",
    "METRICS",
    "Head",
    "HeadFactory",
    "MLPHeadFactory",
    "Space",
    "StitchingResult",
    "SummaryRow",
    "UndefinedCell",
    "accuracy",
    "anchor_keys",
    "f1_score",
    "mean_absolute_error",
    "mean_squared_error",
    "score",
    "stitching_grid",
    "stitching_grid_models",
]

METHODS = ("absolute", "relative", "translation")
_CACHE_VERSION = 1


# --- metrics --------------------------------------------------------------------------------------


def _labels_pair(y_true: Any, y_pred: Any) -> tuple[np.ndarray, np.ndarray]:
    t = np.asarray(to_numpy(y_true)).reshape(-1)
    p = np.asarray(to_numpy(y_pred)).reshape(-1)
    if t.shape != p.shape:
        raise fail("y_pred", f"{t.size} predictions (one per label)", f"{p.size}")
    if t.size == 0:
        raise fail("y_true", "a non-empty array of labels", "an empty array")
    return t, p


def accuracy(y_true: Any, y_pred: Any) -> float:
    """Share of equal labels, in [0, 1].

    Example:
        >>> accuracy([0, 1, 1, 2], [0, 1, 0, 2])
        0.75
    """
    t, p = _labels_pair(y_true, y_pred)
    return float(np.mean(t == p))


def f1_score(y_true: Any, y_pred: Any, *, average: str = "weighted") -> float:
    """F1 over the classes present in ``y_true`` or ``y_pred``, in [0, 1].

    ``"macro"`` averages the per-class F1 equally; ``"weighted"`` weights it by each class's count
    in ``y_true`` (scikit-learn's definitions; a class with no prediction and no support scores 0).

    Example:
        >>> round(f1_score([0, 0, 1, 1], [0, 1, 1, 1], average="macro"), 4)
        0.7333
    """
    check_choice(average, "average", ["weighted", "macro"])
    t, p = _labels_pair(y_true, y_pred)
    classes, t_idx = np.unique(np.concatenate([t, p]), return_inverse=True)
    t_idx, p_idx = t_idx[: t.size], t_idx[t.size :]
    k = classes.size
    tp = np.bincount(t_idx[t_idx == p_idx], minlength=k).astype(np.float64)
    support = np.bincount(t_idx, minlength=k).astype(np.float64)
    predicted = np.bincount(p_idx, minlength=k).astype(np.float64)
    denom = support + predicted  # F1 = 2 tp / (2 tp + fp + fn) = 2 tp / (support + predicted)
    f1 = np.divide(2.0 * tp, denom, out=np.zeros(k), where=denom > 0)
    if average == "macro":
        return float(f1.mean())
    return float(np.sum(f1 * support) / support.sum())


def mean_squared_error(y_true: Any, y_pred: Any) -> float:
    """Mean of squared differences over every element.

    Example:
        >>> mean_squared_error([[0.0, 1.0]], [[1.0, 1.0]])
        0.5
    """
    t = np.asarray(to_numpy(y_true), dtype=np.float64)
    p = np.asarray(to_numpy(y_pred), dtype=np.float64).reshape(t.shape)
    return float(np.mean((t - p) ** 2))


def mean_absolute_error(y_true: Any, y_pred: Any) -> float:
    """Mean absolute difference (for ordinal labels: how many classes off, on average).

    Example:
        >>> mean_absolute_error([1, 2, 5], [1, 4, 4])
        1.0
    """
    t = np.asarray(to_numpy(y_true), dtype=np.float64)
    p = np.asarray(to_numpy(y_pred), dtype=np.float64).reshape(t.shape)
    return float(np.mean(np.abs(t - p)))


@dataclass(frozen=True)
class _Metric:
    name: str
    fn: Callable[[Any, Any], float]
    higher_is_better: bool
    needs_classes: bool  # labels are classes (heads classify) rather than regression targets
    description: str


METRICS: Mapping[str, _Metric] = {
    m.name: m
    for m in (
        _Metric("accuracy", accuracy, True, True, "share of correct labels, in [0, 1]"),
        _Metric(
            "f1_weighted",
            lambda t, p: 100.0 * f1_score(t, p, average="weighted"),
            True,
            True,
            "support-weighted F1 x100 (the paper's stitching tables)",
        ),
        _Metric(
            "f1_macro",
            lambda t, p: 100.0 * f1_score(t, p, average="macro"),
            True,
            True,
            "unweighted mean of per-class F1 x100",
        ),
        _Metric("mse", mean_squared_error, False, False, "mean squared error (reconstruction)"),
        _Metric(
            "mae", mean_absolute_error, False, True, "mean absolute error of ordinal class labels"
        ),
    )
}


def score(metric: str, y_true: Any, y_pred: Any) -> float:
    """Evaluate a metric by name (see :data:`METRICS`).

    Example:
        >>> score("f1_weighted", [0, 1], [0, 1])
        100.0
    """
    return METRICS[check_choice(metric, "metric", list(METRICS))].fn(y_true, y_pred)


# --- heads ----------------------------------------------------------------------------------------


class Head(Protocol):
    """What the engine trains: scikit-learn style ``fit(x, y)`` and ``predict(x)``."""

    def fit(self, x: np.ndarray, y: np.ndarray) -> Any: ...

    def predict(self, x: np.ndarray) -> Any: ...


HeadFactory = Callable[[int, int, int], Head]
"""``factory(in_features, n_outputs, seed) -> Head``; n_outputs = classes or target width."""


@dataclass(frozen=True)
class MLPHeadFactory:
    """The default head: :class:`relreps.nn.MLPHead` (LayerNorm, hidden ReLU layers, linear output)
    trained with :func:`relreps.nn.fit` (Adam, early stopping). Classification heads minimise
    cross-entropy and predict class labels; regression heads minimise MSE.

    The same factory builds the absolute and the relative heads: matched capacity.
    """

    hidden: tuple[int, ...] = (128,)
    input_norm: str = "layernorm"
    epochs: int = 40
    batch_size: int = 256
    lr: float = 1e-3
    weight_decay: float = 0.0
    patience: int = 4
    val_fraction: float = 0.1
    classification: bool = True

    def __call__(self, in_features: int, n_outputs: int, seed: int) -> Head:
        return _TorchHead(self, in_features, n_outputs, seed)


class _TorchHead:
    def __init__(self, spec: MLPHeadFactory, in_features: int, n_outputs: int, seed: int) -> None:
        try:
            import torch  # noqa: F401
        except ImportError as err:  # pragma: no cover - depends on the environment
            raise ImportError(
                "The default stitching head needs torch: pip install 'relreps[torch]', or pass "
                "head=<a factory of scikit-learn style estimators>."
            ) from err
        from relreps.nn import MLPHead

        self.spec = spec
        self.seed = seed
        self.module = MLPHead(
            in_features, n_outputs, hidden=spec.hidden, input_norm=spec.input_norm, seed=seed
        )

    def fit(self, x: np.ndarray, y: np.ndarray) -> _TorchHead:
        import torch
        from torch.nn import functional as F

        from relreps.nn import TrainConfig, fit

        spec = self.spec
        xt = torch.from_numpy(np.ascontiguousarray(x, dtype=np.float32))
        if spec.classification:
            yt = torch.from_numpy(np.asarray(y, dtype=np.int64))

            def loss(m: Any, xb: Any, yb: Any, g: Any) -> Any:
                return F.cross_entropy(m(xb), yb)
        else:
            yt = torch.from_numpy(np.asarray(y, dtype=np.float32).reshape(len(y), -1))

            def loss(m: Any, xb: Any, yb: Any, g: Any) -> Any:
                return F.mse_loss(m(xb), yb)

        config = TrainConfig(
            epochs=spec.epochs,
            batch_size=spec.batch_size,
            lr=spec.lr,
            weight_decay=spec.weight_decay,
            patience=spec.patience,
            val_fraction=spec.val_fraction,
            seed=self.seed,
            progress=False,
        )
        fit(self.module, xt, yt, config=config, loss_fn=loss)
        return self

    def predict(self, x: np.ndarray) -> np.ndarray:
        import torch

        self.module.eval()
        with torch.no_grad():
            out = self.module(torch.from_numpy(np.ascontiguousarray(x, dtype=np.float32)))
        out_np = out.numpy()
        return out_np.argmax(axis=1) if self.spec.classification else out_np


# --- spaces ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Space:
    """One encoder's view of the data: row i of ``train``/``test`` is the same item in every space,
    and row k of ``anchors`` is the same anchor item (parallel anchors).

    Attributes:
        name: the encoder's name (used in tables and cache files).
        train: (n_train, n_features) embeddings of the training items.
        test: (n_test, n_features) embeddings of the test items.
        anchors: (n_anchors, n_features) embeddings of the anchor items.
        anchor_ids: optional anchor identities (keys, or an object with ``to_dict()``), compared
            across spaces.
    """

    name: str
    train: Array
    test: Array
    anchors: Array
    anchor_ids: Any = None

    @classmethod
    def from_encoder(
        cls,
        name: str,
        encode: Callable[[Any], Array],
        *,
        train: Any,
        test: Any,
        anchors: Any,
        anchor_ids: Any = None,
    ) -> Space:
        """Embed the three item sets with ``encode(items) -> (n, n_features)`` array.

        Example:
            >>> import numpy as np
            >>> space = Space.from_encoder("double", lambda v: 2.0 * np.asarray(v),
            ...     train=np.ones((4, 3)), test=np.ones((2, 3)), anchors=np.eye(3))
            >>> space.train.shape, space.anchors.shape
            ((4, 3), (3, 3))
        """
        if not callable(encode):
            raise fail("encode", "a callable items -> embeddings", type(encode).__name__, TypeError)
        return cls(name, encode(train), encode(test), encode(anchors), anchor_ids)


@dataclass(frozen=True)
class _Prepared:
    name: str
    train: np.ndarray
    test: np.ndarray
    anchors: np.ndarray
    anchor_ids: list[Any] | None
    fingerprint: str


def anchor_keys(anchor_ids: Any, *, name: str = "anchor_ids") -> list[str | int] | None:
    """Anchor identities as a JSON-able list of distinct str/int keys (None stays None).

    Accepts a sequence (or numpy array) of keys, or an object with ``to_dict()``:
    a ``relreps.anchors.ParallelAnchors`` gives the keys of its FIRST domain (the pivot: anchor j
    is the same item in every domain, so the pivot keys name it), and a dict holding a flat list
    under ``"keys"``, ``"ids"``, ``"anchor_ids"`` or ``"identities"`` gives that list.

    Example:
        >>> anchor_keys(["cat", "dog", 3])
        ['cat', 'dog', 3]
        >>> from relreps.anchors import ParallelAnchors
        >>> pairs = ParallelAnchors.from_pairs({"cat": "chat", "dog": "chien"})  # domains a, b
        >>> anchor_keys(pairs)
        ['cat', 'dog']
    """
    if anchor_ids is None:
        return None
    if hasattr(anchor_ids, "to_dict"):
        data = anchor_ids.to_dict()
        if isinstance(data, Mapping):
            domains = data.get("domains")
            per_domain = data.get("keys")
            if isinstance(per_domain, Mapping) and isinstance(domains, list) and domains:
                return anchor_keys(list(per_domain[domains[0]]), name=name)
            for field in ("keys", "ids", "anchor_ids", "identities"):
                if field in data:
                    return anchor_keys(list(data[field]), name=name)
        raise fail(
            name,
            "an object whose to_dict() holds 'keys' (a list, or one list per domain)",
            f"{type(anchor_ids).__name__} with {data!r}"[:200],
            TypeError,
        )
    if isinstance(anchor_ids, str | bytes) or not (
        isinstance(anchor_ids, Sequence) or hasattr(anchor_ids, "tolist")
    ):
        raise fail(
            name, "a sequence of str/int keys or a ParallelAnchors", repr(anchor_ids), TypeError
        )
    keys: list[str | int] = []
    items = anchor_ids.tolist() if hasattr(anchor_ids, "tolist") else anchor_ids
    for i, key in enumerate(items):
        if hasattr(key, "item") and not isinstance(key, str):
            key = key.item()
        if isinstance(key, bool) or not isinstance(key, str | int):
            raise fail(f"{name}[{i}]", "a str or int key", repr(key), TypeError)
        keys.append(key)
    if len(set(keys)) != len(keys):
        raise fail(name, "distinct keys", f"{len(keys) - len(set(keys))} duplicate(s)")
    return keys


def _digest(*parts: Any) -> str:
    h = hashlib.sha256()
    for part in parts:
        if isinstance(part, np.ndarray):
            arr = np.ascontiguousarray(part)
            h.update(f"{arr.dtype.str}{arr.shape}".encode())
            h.update(arr.data)
        else:
            h.update(json.dumps(part, sort_keys=True, default=repr).encode())
        h.update(b"\x00")
    return h.hexdigest()


def _prepare_space(space: Space) -> _Prepared:
    base = f"spaces[{space.name!r}]"
    arrays = []
    for split in ("train", "test", "anchors"):
        shape_doc = "(n_anchors, n_features)" if split == "anchors" else f"(n_{split}, n_features)"
        arr = check_matrix(getattr(space, split), f"{base}.{split}", shape_doc=shape_doc)
        arr = np.asarray(to_numpy(arr))
        arrays.append(arr.astype(np.float32) if arr.dtype != np.float64 else arr)
    train, test, anchors = arrays
    for split, arr in (("test", test), ("anchors", anchors)):
        if arr.shape[1] != train.shape[1]:
            raise ValueError(
                f"Expected `{base}.{split}` to have the {train.shape[1]} features of "
                f"`{base}.train`, but got shape {arr.shape}."
            )
    ids = anchor_keys(space.anchor_ids, name=f"{base}.anchor_ids")
    if ids is not None and len(ids) != anchors.shape[0]:
        raise ValueError(
            f"Expected `{base}.anchor_ids` to name its {anchors.shape[0]} anchors, but got "
            f"{len(ids)} keys."
        )
    return _Prepared(
        space.name, train, test, anchors, ids, _digest(train, test, anchors, ids or [])
    )


def _as_spaces(spaces: Any, items: Any) -> list[Space]:
    if isinstance(spaces, Mapping):
        out = []
        for name, value in spaces.items():
            if isinstance(value, Space):
                out.append(value if value.name == name else Space(name, *_fields(value)))
            elif callable(value):
                if items is None:
                    raise fail(
                        "items",
                        "(train_items, test_items, anchor_items) to embed the callable encoders",
                        "None",
                        TypeError,
                    )
                train, test, anchors = items
                out.append(Space.from_encoder(name, value, train=train, test=test, anchors=anchors))
            else:
                raise fail(
                    f"spaces[{name!r}]",
                    "a Space or a callable encoder",
                    type(value).__name__,
                    TypeError,
                )
        spaces = out
    if isinstance(spaces, Space) or not isinstance(spaces, Sequence):
        raise fail(
            "spaces",
            "a sequence of Space or a mapping name -> Space/callable",
            repr(type(spaces)),
            TypeError,
        )
    for i, s in enumerate(spaces):
        if not isinstance(s, Space):
            raise fail(f"spaces[{i}]", "a relreps.stitching.Space", type(s).__name__, TypeError)
    return list(spaces)


def _fields(space: Space) -> tuple[Any, Any, Any, Any]:
    return space.train, space.test, space.anchors, space.anchor_ids


def _check_spaces(prepared: list[_Prepared], n_train: int, n_test: int) -> None:
    if len(prepared) < 1:
        raise fail("spaces", "at least one space", "none")
    names = [p.name for p in prepared]
    if len(set(names)) != len(names) or not all(isinstance(n, str) and n for n in names):
        raise fail("spaces", "spaces with distinct non-empty names", repr(names))
    first = prepared[0]
    for p in prepared:
        if p.train.shape[0] != n_train:
            raise ValueError(
                f"Expected `spaces[{p.name!r}].train` to have one row per label in `y_train` "
                f"({n_train}), but got {p.train.shape[0]} rows."
            )
        if p.test.shape[0] != n_test:
            raise ValueError(
                f"Expected `spaces[{p.name!r}].test` to have one row per label in `y_test` "
                f"({n_test}), but got {p.test.shape[0]} rows."
            )
        if p.anchors.shape[0] != first.anchors.shape[0]:
            raise ValueError(
                f"Expected every space to embed the same anchors, but {first.name!r} has "
                f"{first.anchors.shape[0]} anchors and {p.name!r} has {p.anchors.shape[0]}."
            )
    with_ids = [p for p in prepared if p.anchor_ids is not None]
    for p in with_ids[1:]:
        ref = with_ids[0]
        if p.anchor_ids != ref.anchor_ids:
            where = next(
                i
                for i, (a, b) in enumerate(
                    zip(ref.anchor_ids or [], p.anchor_ids or [], strict=False)
                )
                if a != b
            )
            raise ValueError(
                f"Expected every space to embed the same anchor items, but anchor {where} is "
                f"{(ref.anchor_ids or [])[where]!r} in {ref.name!r} and "
                f"{(p.anchor_ids or [])[where]!r} in {p.name!r}."
            )


# --- results --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class UndefinedCell:
    """A (method, encoder, decoder) cell that has no score, and why."""

    method: str
    encoder: str
    decoder: str
    reason: str

    def to_dict(self) -> dict[str, str]:
        return {
            "method": self.method,
            "encoder": self.encoder,
            "decoder": self.decoder,
            "reason": self.reason,
        }


@dataclass(frozen=True)
class SummaryRow:
    """One row of the paper's tables: mean +- std over all cells of a kind (and seeds).

    ``stitched=False`` gathers the diagonal (encoder == decoder), ``True`` the rest; undefined
    (NaN) cells are left out and counted in ``n_undefined``.
    """

    method: str
    stitched: bool
    mean: float
    std: float
    n_cells: int
    n_undefined: int

    @property
    def label(self) -> str:
        return f"{self.method}, {'stitched' if self.stitched else 'not stitched'}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "method": self.method,
            "stitched": self.stitched,
            "mean": _json_float(self.mean),
            "std": _json_float(self.std),
            "n_cells": self.n_cells,
            "n_undefined": self.n_undefined,
        }


def _json_float(v: float) -> float | None:
    return None if math.isnan(v) else float(v)


@dataclass(frozen=True)
class StitchingResult:
    """Every score of a stitching grid.

    Attributes:
        names: the spaces, in order (rows = encoder, columns = decoder in every matrix).
        seeds: the head seeds.
        metric: the metric name; ``higher_is_better`` says its direction.
        scores: method -> array (n_encoders, n_decoders, n_seeds); NaN where undefined.
        undefined: the undefined cells with their reasons (one entry per encoder/decoder pair).
        skipped_methods: method -> why it was not run (e.g. translation module missing).
        n_cached: cells read from the cache instead of computed.
        seconds: wall-clock time of the run.
    """

    names: tuple[str, ...]
    seeds: tuple[int, ...]
    metric: str
    higher_is_better: bool
    scores: Mapping[str, np.ndarray]
    undefined: tuple[UndefinedCell, ...] = ()
    skipped_methods: Mapping[str, str] = field(default_factory=dict)
    n_cached: int = 0
    seconds: float = 0.0

    @property
    def methods(self) -> tuple[str, ...]:
        return tuple(self.scores)

    def _get(self, method: str) -> np.ndarray:
        if method not in self.scores:
            reason = self.skipped_methods.get(method, "it was not requested")
            raise fail("method", f"one of {list(self.scores)}", f"{method!r} ({reason})")
        return self.scores[method]

    def pair_mean(self, method: str) -> np.ndarray:
        """(n_encoders, n_decoders) mean over seeds (NaN where undefined)."""
        return _nan_reduce(self._get(method), np.mean)

    def pair_std(self, method: str) -> np.ndarray:
        """(n_encoders, n_decoders) population standard deviation over seeds."""
        return _nan_reduce(self._get(method), np.std)

    def summary(self) -> tuple[SummaryRow, ...]:
        """The paper's rows: per method, not stitched (diagonal), then stitched (off-diagonal)."""
        rows = []
        n = len(self.names)
        diagonal = np.eye(n, dtype=bool)
        for method, values in self.scores.items():
            for stitched in (False, True):
                mask = ~diagonal if stitched else diagonal
                cells = values[mask].reshape(-1)
                defined = cells[~np.isnan(cells)]
                mean = float(defined.mean()) if defined.size else math.nan
                std = float(defined.std()) if defined.size else math.nan
                rows.append(
                    SummaryRow(
                        method,
                        stitched,
                        mean,
                        std,
                        int(defined.size),
                        int(cells.size - defined.size),
                    )
                )
        return tuple(rows)

    def format_summary(self, *, digits: int = 2) -> str:
        """The summary rows as a plain-text table."""
        lines = [f"{'':<28} {self.metric:>18}  cells"]
        for row in self.summary():
            value = (
                "n/a" if math.isnan(row.mean) else f"{row.mean:.{digits}f} ± {row.std:.{digits}f}"
            )
            extra = f" ({row.n_undefined} undefined)" if row.n_undefined else ""
            lines.append(f"{row.label:<28} {value:>18}  {row.n_cells}{extra}")
        return "\n".join(lines)

    def format_matrix(self, method: str, *, digits: int = 2) -> str:
        """Per-pair mean ± std over seeds as a plain-text matrix (rows: encoder, columns:
        decoder); the mean alone for a single seed."""
        mean, std = self.pair_mean(method), self.pair_std(method)
        width = max(12, *(len(n) for n in self.names)) + 1
        corner = f"{method} enc/dec"
        header = f"{corner:<{width}}" + "".join(f"{n:>{width}}" for n in self.names)
        lines = [header]
        for i, name in enumerate(self.names):
            cells = []
            for j in range(len(self.names)):
                if math.isnan(mean[i, j]):
                    cells.append(f"{'n/a':>{width}}")
                else:
                    cell = f"{mean[i, j]:.{digits}f}"
                    if len(self.seeds) > 1:
                        cell += f"±{std[i, j]:.{digits}f}"
                    cells.append(f"{cell:>{width}}")
            lines.append(f"{name:<{width}}" + "".join(cells))
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        def nested(a: np.ndarray) -> Any:
            return [nested(x) for x in a] if a.ndim else _json_float(float(a))

        return {
            "names": list(self.names),
            "seeds": list(self.seeds),
            "metric": self.metric,
            "higher_is_better": self.higher_is_better,
            "scores": {m: nested(v) for m, v in self.scores.items()},
            "pair_mean": {m: nested(self.pair_mean(m)) for m in self.scores},
            "pair_std": {m: nested(self.pair_std(m)) for m in self.scores},
            "summary": [r.to_dict() for r in self.summary()],
            "undefined": [u.to_dict() for u in self.undefined],
            "skipped_methods": dict(self.skipped_methods),
            "n_cached": self.n_cached,
            "seconds": self.seconds,
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2)


def _nan_reduce(values: np.ndarray, fn: Callable[..., Any]) -> np.ndarray:
    out = np.full(values.shape[:2], np.nan)
    for idx in np.ndindex(*values.shape[:2]):
        cells = values[idx]
        cells = cells[~np.isnan(cells)]
        if cells.size:
            out[idx] = fn(cells)
    return out


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
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
        try:
            with os.fdopen(fd, "w") as handle:
                json.dump(payload, handle)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise


# --- the engine -----------------------------------------------------------------------------------


def _relative(x: np.ndarray, anchors: np.ndarray, options: Mapping[str, Any]) -> np.ndarray:
    from relreps.projection import relative_projection

    return np.asarray(relative_projection(x, anchors, **options))


def _head_identity(head: Any) -> Any:
    if hasattr(head, "__dataclass_fields__"):
        return repr(head)
    return getattr(head, "__qualname__", None) or type(head).__qualname__


def _translator() -> tuple[Any, str]:
    try:
        from relreps.translate import Procrustes
    except ImportError as err:
        return None, f"relreps.translate.Procrustes is not available ({err})"
    return Procrustes, ""


def stitching_grid(
    spaces: Sequence[Space] | Mapping[str, Space | Callable[[Any], Array]],
    y_train: Any,
    y_test: Any,
    *,
    metric: str = "accuracy",
    seeds: Sequence[int] = (0,),
    head: HeadFactory | None = None,
    methods: Sequence[str] = ("absolute", "relative", "translation"),
    similarity: Any = "cosine",
    center: str | None = None,
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
        metric: one of :data:`METRICS`: ``accuracy``, ``f1_weighted`` (x100), ``f1_macro`` (x100),
            ``mse``, ``mae`` (ordinal class labels).
        seeds: head seeds; every (space, seed) gets its own heads.
        head: ``factory(in_features, n_outputs, seed) -> Head`` (fit/predict); the default is
            :class:`MLPHeadFactory` (regression variant for ``mse``). One factory serves both
            methods, so the heads have matched capacity.
        methods: any of ``"absolute"``, ``"relative"``, ``"translation"``.
        similarity: similarity of the relative representation (see ``relreps.similarities()``).
        center: ``None`` or ``"anchors"`` (anchor-mean centring, for anisotropic encoders).
        projection_options: extra :func:`relreps.relative_projection` options (aggregate, topk,
            power).
        items: ``(train_items, test_items, anchor_items)`` for callable encoders.
        cache_dir: folder for finished cells (resumable); None disables caching.
        cache_tag: mixed into every cache key; change it when a custom head factory changes.
        progress: tqdm bar over the heads; None = only when stderr is a terminal.

    Returns:
        A :class:`StitchingResult`.

    Raises:
        ValueError: unknown metric or method, NaN embeddings, empty sets, spaces with different
            anchor counts or anchor identities, labels that do not match the rows.
        TypeError: spaces or labels of the wrong type.

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
    check_choice(metric, "metric", list(METRICS))
    spec = METRICS[metric]
    methods = _check_methods(methods)
    seeds = _check_seeds(seeds)
    y_tr, y_te = _check_targets(y_train, "y_train", spec), _check_targets(y_test, "y_test", spec)
    prepared = [_prepare_space(s) for s in _as_spaces(spaces, items)]
    _check_spaces(prepared, y_tr.shape[0], y_te.shape[0])
    options = {"similarity": similarity, "center": center, **dict(projection_options or {})}
    for forbidden in ("chunk_size", "out"):
        options.pop(forbidden, None)

    if spec.needs_classes:
        classes = np.unique(y_tr)
        if classes.size < 2:
            raise fail("y_train", "labels of at least 2 classes", f"{classes.size} class")
        n_outputs = int(classes.size)
        y_fit = np.searchsorted(classes, y_tr)
    else:
        classes = None
        n_outputs = int(y_tr.reshape(len(y_tr), -1).shape[1])
        y_fit = y_tr
    factory: Any = head
    if factory is None:
        factory = MLPHeadFactory(classification=spec.needs_classes)
    elif not callable(factory):
        raise fail(
            "head",
            "a callable (in_features, n_outputs, seed) -> head",
            type(factory).__name__,
            TypeError,
        )

    def decode_labels(pred: Any) -> np.ndarray:
        out = np.asarray(to_numpy(pred))
        if classes is None:
            return out
        return classes[np.clip(out.astype(np.int64).reshape(-1), 0, classes.size - 1)]

    skipped: dict[str, str] = {}
    translator = None
    if "translation" in methods:
        translator, why = _translator()
        if translator is None:
            skipped["translation"] = why
            methods = tuple(m for m in methods if m != "translation")

    cache = _Cache(cache_dir)
    run_key = _digest(
        _CACHE_VERSION, metric, cache_tag, _head_identity(factory), options, y_fit, y_te
    )
    rel_train: dict[str, np.ndarray] = {}
    rel_test: dict[str, np.ndarray] = {}
    n, n_seeds = len(prepared), len(seeds)
    scores = {m: np.full((n, n, n_seeds), np.nan) for m in methods}
    reasons: dict[tuple[str, int, int], str] = {}
    n_cached = 0
    bar = _bar(progress, n * n_seeds)

    def rel_of(space: _Prepared, split: str) -> np.ndarray:
        store = rel_train if split == "train" else rel_test
        if space.name not in store:
            store[space.name] = _relative(getattr(space, split), space.anchors, options)
        return store[space.name]

    try:
        for j, dec in enumerate(prepared):
            for s, seed in enumerate(seeds):
                heads = _Heads(factory, n_outputs, y_fit, dec, seed, rel_of)
                for method in methods:
                    for i, enc in enumerate(prepared):
                        key = _digest(run_key, method, seed, dec.fingerprint, enc.fingerprint)
                        label = f"{method}-{dec.name}-s{seed}-{enc.name}"
                        hit = cache.get(key, label)
                        if hit is not None:
                            value, reason = hit
                            n_cached += 1
                        else:
                            value, reason = _cell(
                                method,
                                enc,
                                dec,
                                i == j,
                                heads.get,
                                rel_of,
                                translator,
                                decode_labels,
                                spec,
                                y_te,
                            )
                            cache.put(
                                key,
                                label,
                                value,
                                reason,
                                {
                                    "method": method,
                                    "encoder": enc.name,
                                    "decoder": dec.name,
                                    "seed": seed,
                                },
                            )
                        scores[method][i, j, s] = value
                        if reason:
                            reasons[(method, i, j)] = reason
                if bar is not None:
                    bar.update(1)
    finally:
        if bar is not None:
            bar.close()
    undefined = tuple(
        UndefinedCell(m, prepared[i].name, prepared[j].name, r)
        for (m, i, j), r in sorted(reasons.items())
    )
    return StitchingResult(
        names=tuple(p.name for p in prepared),
        seeds=seeds,
        metric=metric,
        higher_is_better=spec.higher_is_better,
        scores=scores,
        undefined=undefined,
        skipped_methods=skipped,
        n_cached=n_cached,
        seconds=time.perf_counter() - start,
    )


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
    spec: _Metric,
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


def stitching_grid_models(
    models: Mapping[str, Any],
    x_test: Any,
    y_test: Any,
    *,
    metric: str = "accuracy",
    methods: Sequence[str] = ("absolute", "relative", "translation"),
    batch_size: int = 1024,
) -> StitchingResult:
    """Score every (encoder model, decoder model) pair of already trained relreps.nn models.

    The torch counterpart of :func:`stitching_grid` for end-to-end trained models (e.g. the
    triples of :func:`relreps.nn.train_classifier_triple`): nothing is trained here. Cell (i, j)
    uses model i's encoder and model j's head, through :func:`relreps.nn.stitch`; the seed axis of
    the result has length 1 (each model is its own seed).

    Args:
        models: name -> an object with ``.absolute`` and ``.relative`` models (a
            ``ClassifierTriple``) or an ``(absolute_model, relative_model)`` pair.
        x_test: (n_test, *input_shape) inputs, tensor or numpy.
        y_test: (n_test,) labels; for autoencoders (metric ``mse``) the target images.
        metric: as in :func:`stitching_grid`.
        methods: any of ``absolute``, ``relative``, ``translation`` (Procrustes between the two
            models' absolute latents of their anchor inputs; needs anchor inputs in both).
        batch_size: inference batch size.

    Returns:
        A :class:`StitchingResult` (rows: encoder model, columns: decoder model).

    Example:
        >>> import torch
        >>> from relreps.nn import AbsoluteClassifier, MLPEncoder, RelativeClassifier
        >>> anchors = torch.randn(6, 4, generator=torch.Generator().manual_seed(0))
        >>> def pair(seed):
        ...     enc = MLPEncoder((4,), 8, seed=seed)
        ...     return (AbsoluteClassifier(enc, 3, anchor_inputs=anchors).eval(),
        ...             RelativeClassifier(enc, anchors, 3).eval())
        >>> x, y = torch.randn(10, 4), torch.arange(10) % 3
        >>> result = stitching_grid_models({"a": pair(0), "b": pair(1)}, x, y, methods=["relative"])
        >>> result.scores["relative"].shape
        (2, 2, 1)
    """
    import torch

    from relreps.nn import check_stitch
    from relreps.nn.train import as_tensor

    start = time.perf_counter()
    check_choice(metric, "metric", list(METRICS))
    spec = METRICS[metric]
    methods = _check_methods(methods)
    batch_size = check_int(batch_size, "batch_size", low=1)
    if not isinstance(models, Mapping) or not models:
        raise fail(
            "models",
            "a non-empty mapping name -> (absolute, relative) models",
            repr(type(models)),
            TypeError,
        )
    pairs = {name: _model_pair(name, value) for name, value in models.items()}
    x = as_tensor(x_test, "x_test")
    if x.is_floating_point() is False:
        x = x.to(torch.float32)
    if x.ndim < 2 or x.shape[0] == 0:
        raise fail("x_test", "a non-empty array of shape (n_test, ...)", f"shape {tuple(x.shape)}")
    y = np.asarray(to_numpy(y_test))
    if y.shape[0] != x.shape[0]:
        raise fail("y_test", f"{x.shape[0]} targets (one per row of x_test)", f"shape {y.shape}")
    skipped: dict[str, str] = {}
    translator = None
    if "translation" in methods:
        translator, why = _translator()
        if translator is None:
            skipped["translation"] = why
            methods = tuple(m for m in methods if m != "translation")
    names = list(pairs)
    n = len(names)
    scores = {m: np.full((n, n, 1), np.nan) for m in methods}
    reasons: list[UndefinedCell] = []

    latents = _ModelLatents(x, batch_size)
    for i, enc_name in enumerate(names):
        for j, dec_name in enumerate(names):
            enc_abs, enc_rel = pairs[enc_name]
            dec_abs, dec_rel = pairs[dec_name]
            for method in methods:
                if method == "relative":
                    check = check_stitch(enc_rel, dec_rel)  # raises on different anchor keys
                else:
                    check = check_stitch(enc_abs, dec_abs)
                if method != "translation" and not check.defined:
                    reasons.append(UndefinedCell(method, enc_name, dec_name, check.reason))
                    continue
                if method == "relative":
                    z, z_anchors = latents.of(enc_rel, anchors=True)
                    out = latents.decode(dec_rel, dec_rel.projection.relative(z, z_anchors))
                elif method == "absolute" or i == j:
                    out = latents.decode(dec_abs, latents.of(enc_abs)[0])
                else:
                    out = latents.translated(enc_abs, dec_abs, translator)
                scores[method][i, j, 0] = spec.fn(y, out)
    return StitchingResult(
        names=tuple(names),
        seeds=(0,),
        metric=metric,
        higher_is_better=spec.higher_is_better,
        scores=scores,
        undefined=tuple(reasons),
        skipped_methods=skipped,
        seconds=time.perf_counter() - start,
    )


def _model_pair(name: str, value: Any) -> tuple[Any, Any]:
    if hasattr(value, "absolute") and hasattr(value, "relative"):
        pair = (value.absolute, value.relative)
    elif isinstance(value, tuple | list) and len(value) == 2:
        pair = (value[0], value[1])
    else:
        raise fail(
            f"models[{name!r}]",
            "a ClassifierTriple or an (absolute_model, relative_model) pair",
            type(value).__name__,
            TypeError,
        )
    if getattr(pair[0], "kind", None) != "absolute" or getattr(pair[1], "kind", None) != "relative":
        raise fail(
            f"models[{name!r}]",
            "(absolute_model, relative_model) in that order",
            f"({type(pair[0]).__name__}, {type(pair[1]).__name__})",
            TypeError,
        )
    return pair


class _ModelLatents:
    """Each model's latents of the test set (and of its anchors), computed once, in eval mode.

    Every cell of a model grid then costs one head pass: the same numbers as ``stitch(a, b)``
    without re-running encoder a for every decoder b.
    """

    def __init__(self, x: Any, batch_size: int) -> None:
        self.x, self.batch_size = x, batch_size
        self.cache: dict[int, tuple[Any, Any]] = {}

    def _embed(self, model: Any, inputs: Any) -> Any:
        import torch

        from relreps.nn.models import _device_of

        device = _device_of(model)
        model.eval()
        with torch.no_grad():
            chunks = range(0, inputs.shape[0], self.batch_size)
            return torch.cat(
                [model.embed(inputs[s : s + self.batch_size].to(device)).cpu() for s in chunks]
            )

    def of(self, model: Any, *, anchors: bool = False) -> tuple[Any, Any]:
        """(test latents, anchor latents or None) of ``model``."""
        key = id(model)
        if key not in self.cache:
            self.cache[key] = (self._embed(model, self.x), None)
        z, z_anchors = self.cache[key]
        if anchors and z_anchors is None:
            z_anchors = self._embed(model, model.anchor_inputs)
            self.cache[key] = (z, z_anchors)
        return z, z_anchors

    def decode(self, model: Any, rep: Any) -> np.ndarray:
        import torch

        from relreps.nn.models import _device_of

        device = _device_of(model)
        model.eval()
        with torch.no_grad():
            chunks = range(0, rep.shape[0], self.batch_size)
            out = torch.cat(
                [model.decode(rep[s : s + self.batch_size].to(device)).cpu() for s in chunks]
            )
        return to_numpy(out.argmax(dim=1) if model.task == "classification" else out)

    def translated(self, enc: Any, dec: Any, translator: Any) -> np.ndarray:
        """Encoder latents mapped into the decoder's space by a translator fitted on the anchors'
        latents of both models, then decoded by the decoder's head."""
        import torch

        if enc.anchor_inputs is None or dec.anchor_inputs is None:
            raise ValueError(
                "Translation stitching needs anchor inputs in both absolute models; build them "
                "with anchor_inputs=... (train_classifier_triple does)."
            )
        z, z_anchors = self.of(enc, anchors=True)
        fitted = translator().fit(to_numpy(z_anchors), to_numpy(self.of(dec, anchors=True)[1]))
        mapped = np.asarray(fitted.transform(to_numpy(z)), dtype=np.float32)
        return self.decode(dec, torch.from_numpy(mapped))


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


def _check_targets(y: Any, name: str, spec: _Metric) -> np.ndarray:
    arr = np.asarray(to_numpy(y)) if not isinstance(y, list | tuple) else np.asarray(y)
    if arr.ndim == 0 or arr.shape[0] == 0:
        raise fail(name, "a non-empty array with one target per sample", f"shape {arr.shape}")
    if spec.needs_classes:
        if arr.ndim != 1 or arr.dtype.kind not in "iub":
            raise fail(
                name,
                f"a 1-D array of integer class labels (metric {spec.name!r})",
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
