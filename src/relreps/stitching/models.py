"""The stitching grid over already trained relreps.nn models (torch): nothing is trained.

torch is imported when :func:`stitching_grid_models` runs, not when this module is imported.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from relreps._array import to_numpy
from relreps._validation import check_choice, check_int, fail
from relreps.stitching.grid import _check_methods, _translation
from relreps.stitching.result import StitchingResult, UndefinedCell
from relreps.stitching.scores import SCORERS


def stitching_grid_models(
    models: Mapping[str, Any],
    x_test: Any,
    y_test: Any,
    *,
    scoring: str = "accuracy",
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
        y_test: (n_test,) labels; for autoencoders (scoring ``mse``) the target images.
        scoring: as in :func:`stitching_grid`.
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
    check_choice(scoring, "scoring", list(SCORERS))
    spec = SCORERS[scoring]
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
    methods, translator, skipped = _translation(methods)
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
        scoring=scoring,
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

        from relreps.nn.models import model_device

        device = model_device(model)
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

        from relreps.nn.models import model_device

        device = model_device(model)
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
