"""Heads for FROZEN embeddings: fit on one encoder, predict from any other (zero-shot stitching).

:class:`RelativeHead` reads the relative representation of frozen embeddings: every sample becomes
its similarities to a fixed set of anchor items, embedded by the same encoder. Fit it on encoder
A's embeddings (``x``) and A's embeddings of the anchor items (``anchors``); then predict from ANY
encoder B's embeddings of new samples plus B's embeddings of the SAME anchor items. B may have any
width: the head only ever sees ``(n_samples, n_anchors)`` relative vectors.

:class:`AbsoluteHead` is the same head on the raw embeddings (the baseline: it accepts another
encoder only when the widths match, and then reads coordinates that mean nothing there).
:func:`procrustes_translate` maps B's embeddings into A's space with a Procrustes map fitted on the
anchors (:class:`relreps.translate.Procrustes`), so an :class:`AbsoluteHead` of A can read them.

Every default lives in ONE place, :class:`HeadConfig` (``DEFAULTS``, in
:mod:`relreps.stitching.head_config`, re-exported here): the head classes and the ``relreps stitch``
command both read it.

Are the vectors normalised before stitching? The embeddings are not: the similarity is computed
on them as they come (cosine divides by both norms itself; ``center="anchors"`` first subtracts
the anchors' mean). The relative vector is then normalised by the head's first layer, ``norm``:
LayerNorm by default (per sample, learned affine), or L2, BatchNorm (running statistics at
inference, so predictions do not depend on the batch) or none.

torch is imported only when a head is fitted or loaded, so ``import relreps.stitching`` stays light.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from relreps._array import as_array, to_numpy
from relreps._io import atomic_write_bytes
from relreps._validation import check_matrix, fail, nonfinite_rows
from relreps.errors import NotFittedError
from relreps.stitching.head_config import (
    DEFAULTS,
    HEADS,
    NORMS,
    HeadConfig,
    _build,
    _logits,
    _require_torch,
    _softmax,
    _train,
    training_passes,
)
from relreps.translate import Standardize

__all__ = [
    "DEFAULTS",
    "HEADS",
    "NORMS",
    "AbsoluteHead",
    "FrozenHeadFactory",
    "HeadConfig",
    "RelativeHead",
    "procrustes_translate",
    "training_passes",
]

CENTERS = (None, "anchors")
FORMAT = "relreps.stitching.head/1"
WEIGHTS = "head.safetensors"
CONFIG = "config.json"
_MAX_LISTED_ROWS = 10


# --- input checks ---------------------------------------------------------------------------------


def _matrix(x: object, name: str, shape_doc: str, min_rows: int = 1) -> np.ndarray:
    """A 2-D finite float32 numpy copy of ``x`` (numpy, torch or any array-API array)."""
    arr = check_matrix(x, name, shape_doc=shape_doc, min_rows=min_rows, finite=False)
    bad = nonfinite_rows(arr)
    if bad is not None and bad.size:
        listed = ", ".join(str(int(i)) for i in bad[:_MAX_LISTED_ROWS])
        more = f" and {bad.size - _MAX_LISTED_ROWS} more" if bad.size > _MAX_LISTED_ROWS else ""
        raise ValueError(
            f"Expected `{name}` to contain only finite values, but {bad.size} "
            f"row{'s' if bad.size != 1 else ''} hold NaN or Inf: {listed}{more}."
        )
    return np.ascontiguousarray(to_numpy(arr), dtype=np.float32)


def _labels(labels: object, n_samples: int) -> np.ndarray:
    """1-D class labels (ints, bools or strings; floats only when integral), one per sample."""
    if isinstance(labels, list | tuple):
        arr = np.asarray(labels)
    else:
        try:
            arr = np.asarray(to_numpy(as_array(labels, "labels")))
        except TypeError:
            arr = np.asarray(labels)
    if arr.ndim != 1:
        raise fail(
            "labels", "a 1-D array of class labels, shape (n_samples,)", f"shape {arr.shape}"
        )
    if arr.shape[0] != n_samples:
        raise fail("labels", f"{n_samples} labels (one per row of `x`)", f"{arr.shape[0]}")
    kind = arr.dtype.kind
    if kind == "f":
        if not np.all(np.isfinite(arr)) or not np.all(arr == np.round(arr)):
            raise fail(
                "labels",
                "class labels (ints or strings; floats only with integral values)",
                "non-integral float values",
                TypeError,
            )
        arr = arr.astype(np.int64)
    elif kind not in "biuU":
        raise fail("labels", "class labels (ints or strings)", f"dtype {arr.dtype}", TypeError)
    return arr


def _anchor_matrix(anchors: object, width: int, x_name: str) -> np.ndarray:
    arr = _matrix(anchors, "anchors", "(n_anchors, n_features)")
    if arr.shape[1] != width:
        raise ValueError(
            f"Expected `anchors` to have the width of `{x_name}` ({width} features: the same "
            f"encoder embeds both), but got shape {arr.shape}."
        )
    return arr


class _FrozenHead:
    """Shared shell: options, fitted state, predict_proba/predict/score, save/load."""

    _kind = ""
    _options: tuple[str, ...] = ()

    def _config(self) -> HeadConfig:
        values = {name: getattr(self, name) for name in self._options}
        return replace(DEFAULTS, **values)

    @property
    def config(self) -> HeadConfig:
        """The validated options of this head as a :class:`HeadConfig`."""
        return self._config()

    def __repr__(self) -> str:
        args = ", ".join(f"{name}={getattr(self, name)!r}" for name in self._options)
        return f"{type(self).__name__}({args})"

    def _check_fitted(self, call: str) -> None:
        if not hasattr(self, "module_"):
            raise NotFittedError(
                f"This {type(self).__name__} is not fitted yet: call {call} before "
                "predict/predict_proba/score/save."
            )

    def _fit_features(self, features: np.ndarray, labels: np.ndarray, config: HeadConfig) -> None:
        classes, targets = np.unique(labels, return_inverse=True)
        if classes.shape[0] < 2:
            raise fail("labels", "at least 2 distinct classes", f"only {classes.tolist()!r}")
        module = _build(config, features.shape[1], classes.shape[0])
        self.history_ = _train(module, features, targets.astype(np.int64), config)
        self.module_ = module
        self.classes_ = classes
        self.n_features_in_ = int(features.shape[1])

    def _decode(self, features: np.ndarray) -> np.ndarray:
        return _softmax(_logits(self.module_, features))

    def _state(self) -> dict[str, Any]:  # pragma: no cover - overridden
        raise NotImplementedError

    def save(self, folder: str | os.PathLike[str]) -> Path:
        """Write the fitted head to ``folder`` (created if needed): ``head.safetensors`` (the
        weights) and ``config.json`` (options, classes, shapes). Both are written atomically,
        weights first; nothing is pickled.

        Returns:
            The folder path.
        """
        self._check_fitted("fit")
        from safetensors.torch import save

        path = Path(folder)
        path.mkdir(parents=True, exist_ok=True)
        tensors = {k: v.detach().cpu().contiguous() for k, v in self.module_.state_dict().items()}
        classes = self.classes_
        meta = {
            "format": FORMAT,
            "kind": self._kind,
            "config": self._config().to_dict(),
            "classes": classes.tolist(),
            "classes_dtype": classes.dtype.str,
            "n_features_in": self.n_features_in_,
            **self._state(),
        }
        atomic_write_bytes(path / WEIGHTS, save(tensors))
        atomic_write_bytes(path / CONFIG, json.dumps(meta, indent=2).encode("utf-8"))
        return path

    @classmethod
    def _read(cls, folder: str | os.PathLike[str]) -> tuple[dict[str, Any], dict[str, Any]]:
        path = Path(folder)
        if not (path / CONFIG).is_file() or not (path / WEIGHTS).is_file():
            raise fail(
                "folder",
                f"a folder written by {cls.__name__}.save ({CONFIG} and {WEIGHTS})",
                repr(str(path)),
            )
        meta = json.loads((path / CONFIG).read_text("utf-8"))
        if meta.get("format") != FORMAT or meta.get("kind") != cls._kind:
            raise fail(
                "folder",
                f"a saved {cls.__name__} (format {FORMAT!r}, kind {cls._kind!r})",
                f"format {meta.get('format')!r}, kind {meta.get('kind')!r}",
            )
        _require_torch()
        from safetensors.torch import load

        return meta, load((path / WEIGHTS).read_bytes())

    def _restore(self, meta: dict[str, Any], weights: dict[str, Any], in_features: int) -> None:
        classes = np.asarray(meta["classes"], dtype=np.dtype(meta["classes_dtype"]))
        module = _build(self._config(), in_features, classes.shape[0])
        module.load_state_dict(weights)
        module.eval()
        self.module_ = module
        self.classes_ = classes
        self.n_features_in_ = int(meta["n_features_in"])


def _options(config: HeadConfig, names: tuple[str, ...]) -> dict[str, Any]:
    return {name: getattr(config, name) for name in names}


class RelativeHead(_FrozenHead):
    """A classifier on the relative representation of frozen embeddings: zero-shot stitching.

    ``fit`` projects A's embeddings ``x`` on A's anchors (similarity, optional centring), and
    trains ``norm`` + a linear (or one-hidden-layer) head on the result with Adam on all rows.
    ``predict`` does the same projection with the embeddings and anchors it is given, so ANY
    encoder's embeddings can be read, as long as its anchors are the same items, in the same order.

    Args:
        head: ``"linear"`` or ``"mlp"``.
        hidden: hidden width of the ``"mlp"`` head.
        norm: normalisation of the relative vector: ``"layernorm"``, ``"l2"``, ``"batchnorm"``
            (running statistics at inference) or ``"none"``.
        similarity: a registry similarity name (``relreps.similarities()``).
        center: ``None`` or ``"anchors"`` (anchor-centred similarity).
        epochs, min_steps, lr, batch_size, weight_decay: Adam training on all training rows
            (:class:`HeadConfig`).
        seed: seeds the initialisation and batch order (deterministic on CPU).

    Defaults come from :data:`DEFAULTS` (:class:`HeadConfig`).

    Attributes:
        classes_: (n_classes,) the sorted original label values.
        n_anchors_: the number of anchors seen in ``fit``; ``predict`` needs as many.
        n_features_in_: width of the encoder seen in ``fit`` (other encoders may differ).
        module_: the trained torch module (input width ``n_anchors_``).
        history_: the :class:`relreps.nn.TrainHistory` of ``fit`` (not kept by ``load``).

    Example:
        >>> import numpy as np
        >>> rng = np.random.default_rng(0)
        >>> x = rng.normal(size=(200, 8)); labels = (x[:, 0] > 0).astype(int)
        >>> anchors = x[:20]
        >>> head = RelativeHead(seed=0).fit(x, labels, anchors)
        >>> q, _ = np.linalg.qr(rng.normal(size=(8, 8)))      # encoder B = A rotated, rescaled
        >>> bool((head.predict(3 * x @ q, 3 * anchors @ q) == head.predict(x, anchors)).all())
        True
        >>> head.score(x, anchors, labels) > 0.9
        True
    """

    _kind = "relative"
    _options = (
        "head",
        "hidden",
        "norm",
        "similarity",
        "center",
        "epochs",
        "min_steps",
        "lr",
        "batch_size",
        "weight_decay",
        "seed",
    )

    def __init__(
        self,
        head: str = DEFAULTS.head,
        *,
        hidden: int = DEFAULTS.hidden,
        norm: str = DEFAULTS.norm,
        similarity: str = DEFAULTS.similarity,
        center: str | None = DEFAULTS.center,
        epochs: int = DEFAULTS.epochs,
        min_steps: int = DEFAULTS.min_steps,
        lr: float = DEFAULTS.lr,
        batch_size: int = DEFAULTS.batch_size,
        weight_decay: float = DEFAULTS.weight_decay,
        seed: int = DEFAULTS.seed,
    ) -> None:
        self.head = head
        self.hidden = hidden
        self.norm = norm
        self.similarity = similarity
        self.center = center
        self.epochs = epochs
        self.min_steps = min_steps
        self.lr = lr
        self.batch_size = batch_size
        self.weight_decay = weight_decay
        self.seed = seed

    @classmethod
    def from_config(cls, config: HeadConfig) -> RelativeHead:
        """A head with the options of ``config``."""
        if not isinstance(config, HeadConfig):
            raise fail("config", "a HeadConfig", type(config).__name__, TypeError)
        return cls(**_options(config, cls._options))

    def relative(self, x: object, anchors: object) -> np.ndarray:
        """The head's input before ``norm``: similarities of ``x`` to ``anchors``.

        Args:
            x: (n_samples, n_features) embeddings by any encoder.
            anchors: (n_anchors, n_features) the same encoder's embeddings of the anchor items.

        Returns:
            (n_samples, n_anchors) float32 relative representation.
        """
        config = self._config()
        xs = _matrix(x, "x", "(n_samples, n_features)")
        a = _anchor_matrix(anchors, xs.shape[1], "x")
        return self._project(xs, a, config)

    @staticmethod
    def _project(x: np.ndarray, anchors: np.ndarray, config: HeadConfig) -> np.ndarray:
        from relreps.projection import relative_projection

        rel = relative_projection(x, anchors, spec=config.projection_spec())
        return np.ascontiguousarray(rel, dtype=np.float32)

    def fit(self, x: object, labels: object, anchors: object) -> RelativeHead:
        """Train on encoder A's embeddings.

        Args:
            x: (n_samples, n_features) A's embeddings of the training samples.
            labels: (n_samples,) class labels (ints or strings), at least two classes.
            anchors: (n_anchors, n_features) A's embeddings of the anchor items.

        Returns:
            self, fitted.
        """
        config = self._config()
        xs = _matrix(x, "x", "(n_samples, n_features)", min_rows=2)
        y = _labels(labels, xs.shape[0])
        a = _anchor_matrix(anchors, xs.shape[1], "x")
        self._fit_features(self._project(xs, a, config), y, config)
        self.n_anchors_ = int(a.shape[0])
        self.n_features_in_ = int(xs.shape[1])
        return self

    def _input(self, x: object, anchors: object) -> np.ndarray:
        self._check_fitted("fit(x, labels, anchors)")
        xs = _matrix(x, "x", "(n_samples, n_features)")
        a = _anchor_matrix(anchors, xs.shape[1], "x")
        if a.shape[0] != self.n_anchors_:
            raise ValueError(
                f"Expected `anchors` to hold the {self.n_anchors_} anchors seen in fit (the same "
                f"items, in the same order), but got {a.shape[0]} rows (shape {a.shape})."
            )
        return self._project(xs, a, self._config())

    def predict_proba(self, x: object, anchors: object) -> np.ndarray:
        """Class probabilities of any encoder's embeddings.

        Args:
            x: (n_samples, d) embeddings by an encoder B (any width d).
            anchors: (n_anchors_, d) B's embeddings of the anchor items of ``fit``, same order.

        Returns:
            (n_samples, n_classes) probabilities, columns in the order of ``classes_``.
        """
        return self._decode(self._input(x, anchors))

    def predict(self, x: object, anchors: object) -> np.ndarray:
        """Labels (original values) of any encoder's embeddings: (n_samples,).

        Args: as :meth:`predict_proba`.
        """
        proba = self.predict_proba(x, anchors)  # checks fitted before classes_ is read
        return self.classes_[proba.argmax(axis=1)]

    def score(self, x: object, anchors: object, labels: object) -> float:
        """Accuracy in [0, 1] of :meth:`predict` against ``labels`` (n_samples,)."""
        predicted = self.predict(x, anchors)
        return float(np.mean(predicted == _labels(labels, predicted.shape[0])))

    def _state(self) -> dict[str, Any]:
        return {"n_anchors": self.n_anchors_}

    @classmethod
    def load(cls, folder: str | os.PathLike[str]) -> RelativeHead:
        """Read a head written by :meth:`save` (JSON + safetensors, never pickle)."""
        meta, weights = cls._read(folder)
        head = cls.from_config(HeadConfig.from_dict(meta["config"]))
        head._restore(meta, weights, int(meta["n_anchors"]))
        head.n_anchors_ = int(meta["n_anchors"])
        return head


class AbsoluteHead(_FrozenHead):
    """The same head on the raw embeddings: the baseline of :class:`RelativeHead`.

    It reads another encoder only when the widths match (and then its coordinates mean little
    there), or after :func:`procrustes_translate`.

    Args: as :class:`RelativeHead`, without ``similarity`` and ``center``.

    Attributes:
        classes_, n_features_in_, module_, history_: as :class:`RelativeHead`.

    Example:
        >>> import numpy as np
        >>> rng = np.random.default_rng(0)
        >>> x = rng.normal(size=(200, 8)); labels = (x[:, 0] > 0).astype(int)
        >>> AbsoluteHead(seed=0).fit(x, labels).score(x, labels) > 0.9
        True
    """

    _kind = "absolute"
    _options = (
        "head",
        "hidden",
        "norm",
        "epochs",
        "min_steps",
        "lr",
        "batch_size",
        "weight_decay",
        "seed",
    )

    def __init__(
        self,
        head: str = DEFAULTS.head,
        *,
        hidden: int = DEFAULTS.hidden,
        norm: str = DEFAULTS.norm,
        epochs: int = DEFAULTS.epochs,
        min_steps: int = DEFAULTS.min_steps,
        lr: float = DEFAULTS.lr,
        batch_size: int = DEFAULTS.batch_size,
        weight_decay: float = DEFAULTS.weight_decay,
        seed: int = DEFAULTS.seed,
    ) -> None:
        self.head = head
        self.hidden = hidden
        self.norm = norm
        self.epochs = epochs
        self.min_steps = min_steps
        self.lr = lr
        self.batch_size = batch_size
        self.weight_decay = weight_decay
        self.seed = seed

    @classmethod
    def from_config(cls, config: HeadConfig) -> AbsoluteHead:
        """A head with the options of ``config`` (its similarity and centring are unused)."""
        if not isinstance(config, HeadConfig):
            raise fail("config", "a HeadConfig", type(config).__name__, TypeError)
        return cls(**_options(config, cls._options))

    def fit(self, x: object, labels: object) -> AbsoluteHead:
        """Train on (n_samples, n_features) embeddings and their (n_samples,) labels."""
        config = self._config()
        xs = _matrix(x, "x", "(n_samples, n_features)", min_rows=2)
        self._fit_features(xs, _labels(labels, xs.shape[0]), config)
        return self

    def _input(self, x: object) -> np.ndarray:
        self._check_fitted("fit(x, labels)")
        xs = _matrix(x, "x", "(n_samples, n_features)")
        if xs.shape[1] != self.n_features_in_:
            raise ValueError(
                f"Expected `x` to have the {self.n_features_in_} features seen in fit (an "
                f"absolute head reads one encoder's coordinates), but got shape {xs.shape}."
            )
        return xs

    def predict_proba(self, x: object) -> np.ndarray:
        """(n_samples, n_classes) probabilities of (n_samples, n_features_in_) embeddings."""
        return self._decode(self._input(x))

    def predict(self, x: object) -> np.ndarray:
        """(n_samples,) labels (original values) of (n_samples, n_features_in_) embeddings."""
        proba = self.predict_proba(x)  # checks fitted before classes_ is read
        return self.classes_[proba.argmax(axis=1)]

    def score(self, x: object, labels: object) -> float:
        """Accuracy in [0, 1] of :meth:`predict` against ``labels`` (n_samples,)."""
        predicted = self.predict(x)
        return float(np.mean(predicted == _labels(labels, predicted.shape[0])))

    def _state(self) -> dict[str, Any]:
        return {}

    @classmethod
    def load(cls, folder: str | os.PathLike[str]) -> AbsoluteHead:
        """Read a head written by :meth:`save` (JSON + safetensors, never pickle)."""
        meta, weights = cls._read(folder)
        head = cls.from_config(HeadConfig.from_dict(meta["config"]))
        head._restore(meta, weights, int(meta["n_features_in"]))
        return head


def procrustes_translate(
    x: object,
    anchors: object,
    target_anchors: object,
    *,
    scale: bool = True,
    standardize: Standardize = "feature",
) -> np.ndarray:
    """Map encoder B's embeddings into encoder A's space, fitted on the shared anchors.

    A :class:`relreps.translate.Procrustes` map (per-feature standardisation, orthogonal map,
    global scale; different widths zero-padded) is fitted from B's anchors to A's anchors and
    applied to ``x``; an :class:`AbsoluteHead` of A can then read the result (the translation
    baseline of Maiorca et al., NeurIPS 2023).

    Args:
        x: (n_samples, d_b) B's embeddings.
        anchors: (n_anchors, d_b) B's embeddings of the anchor items.
        target_anchors: (n_anchors, d_a) A's embeddings of the same items, same order.
        scale: also fit the global scale.
        standardize: ``"feature"`` (per-feature anchor statistics, the paper's), ``"global"``
            (keeps angles: recovers an exact rotation) or ``"none"``.

    Returns:
        (n_samples, d_a) float32 embeddings in A's space.

    Example:
        >>> import numpy as np
        >>> rng = np.random.default_rng(0)
        >>> a = rng.normal(size=(50, 4)); q, _ = np.linalg.qr(rng.normal(size=(4, 4)))
        >>> b = procrustes_translate(a @ q, a[:20] @ q, a[:20], standardize="global")
        >>> bool(np.allclose(b, a, atol=1e-4))
        True
    """
    from relreps.translate import Procrustes

    xs = _matrix(x, "x", "(n_samples, d_b)")
    b = _anchor_matrix(anchors, xs.shape[1], "x")
    a = _matrix(target_anchors, "target_anchors", "(n_anchors, d_a)")
    if a.shape[0] != b.shape[0]:
        raise ValueError(
            f"Expected `anchors` and `target_anchors` to hold the same anchors (same number of "
            f"rows), but got shapes {b.shape} and {a.shape}."
        )
    translator = Procrustes(scale=scale, standardize=standardize).fit(
        b.astype(np.float64), a.astype(np.float64)
    )
    return np.ascontiguousarray(translator.transform(xs.astype(np.float64)), dtype=np.float32)


@dataclass(frozen=True)
class FrozenHeadFactory:
    """The :func:`relreps.stitching.stitching_grid` head factory of a :class:`HeadConfig`.

    Each call builds an :class:`AbsoluteHead` with the config's head, normalisation and trainer
    (its seed replaced by the grid's), so a grid of relative representations uses exactly the
    head and the training of :class:`RelativeHead` and ``relreps stitch``: the grid computes the
    relative vectors, and the head reads them as its input. The config's ``similarity`` and
    ``center`` are the grid's to apply: pass ``spec=config.projection_spec()`` to
    ``stitching_grid`` as well.

    Example:
        >>> head = FrozenHeadFactory(HeadConfig(epochs=1, min_steps=0))(4, 2, 7)
        >>> type(head).__name__, head.seed
        ('AbsoluteHead', 7)
    """

    config: HeadConfig = DEFAULTS

    def __post_init__(self) -> None:
        if not isinstance(self.config, HeadConfig):
            raise fail("config", "a HeadConfig", type(self.config).__name__, TypeError)

    def __call__(self, in_features: int, n_outputs: int, seed: int) -> AbsoluteHead:
        return AbsoluteHead.from_config(replace(self.config, seed=seed))
