"""Relative classifiers stitched pairwise, with their similarities re-quantised at test time.

:func:`relative_stitch_scores` scores every (encoder of model i, head of model j) pair of trained
relreps.nn relative classifiers that share their anchors - the same numbers as
``relreps.nn.stitch(models[i], models[j])`` - and can round every head's similarities to another
bin size first (:func:`quantized_projection`), without retraining: how much of a model's
robustness to quantisation needs quantisation-aware training. :func:`relative_similarities` gives
the similarities themselves, :func:`similarity_range` their spread (how much rounding can lose),
:func:`quantization_levels` how many values a rounded cosine takes.

Example:
    >>> import torch
    >>> from relreps.nn import MLPEncoder, RelativeClassifier
    >>> anchors = torch.rand(8, 6, generator=torch.Generator().manual_seed(0))
    >>> models = [RelativeClassifier(MLPEncoder((6,), 5, seed=s), anchors, 2) for s in (0, 1)]
    >>> x, y = torch.rand(20, 6), torch.arange(20) % 2
    >>> relative_stitch_scores(models, x, y, quantize=0.5).shape
    (2, 2)
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np

from relreps._array import to_numpy
from relreps._validation import check_choice, check_float, fail
from relreps.stitching.scores import f1_score

__all__ = [
    "quantization_levels",
    "quantized_projection",
    "relative_similarities",
    "relative_stitch_scores",
    "similarity_range",
]

_OWN = "own"


def _check_relative(model: Any, name: str) -> None:
    if getattr(model, "kind", None) != "relative" or getattr(model, "anchor_inputs", None) is None:
        raise fail(
            name, "a relreps.nn relative model with anchor inputs", type(model).__name__, TypeError
        )


def quantization_levels(bin_size: float) -> int:
    """Distinct values a cosine in [-1, 1] takes once rounded to multiples of ``bin_size``, as
    ``RelativeProjection(quantize=bin_size)`` rounds it (half to even, as ``torch.round``: with
    bin 0.4, +-1 rounds to +-0.8).

    Args:
        bin_size: the bin, in (0, 2].

    Example:
        >>> [quantization_levels(b) for b in (0.1, 0.3, 0.4, 0.5, 2.0)]
        [21, 7, 5, 5, 1]
    """
    check_float(bin_size, "bin_size", low=0, high=2, low_inclusive=False)
    return 2 * round(1.0 / bin_size) + 1


@contextlib.contextmanager
def quantized_projection(model: Any, quantize: float | str | None) -> Iterator[Any]:
    """Inside the block, ``model``'s relative projection rounds to ``quantize``.

    Args:
        model: a relreps.nn relative model.
        quantize: a bin size in (0, 2], None (no rounding) or ``"own"`` (the trained setting).

    Yields:
        The model's :class:`relreps.nn.RelativeProjection`; its setting is restored on exit.

    Example:
        >>> import torch
        >>> from relreps.nn import MLPEncoder, RelativeClassifier
        >>> model = RelativeClassifier(MLPEncoder((3,), 4), torch.rand(5, 3), 2, quantize=0.1)
        >>> with quantized_projection(model, None) as projection:
        ...     projection.quantize is None
        True
        >>> model.projection.quantize
        0.1
    """
    _check_relative(model, "model")
    if quantize is not None and quantize != _OWN:
        check_float(quantize, "quantize", low=0, high=2, low_inclusive=False)
    projection = model.projection
    trained = projection.quantize
    if quantize != _OWN:
        projection.quantize = quantize
    try:
        yield projection
    finally:
        projection.quantize = trained


def relative_similarities(model: Any, x: Any, *, quantize: float | str | None = None) -> Any:
    """The relative representation of ``x`` under ``model``: its similarities to the anchors.

    Args:
        model: a relreps.nn relative model.
        x: ``(n_samples, *input_shape)`` tensor.
        quantize: as in :func:`quantized_projection`; None (default) gives the unrounded values.

    Returns:
        ``(n_samples, n_anchors)`` tensor (no gradients).
    """
    import torch

    with torch.no_grad(), quantized_projection(model, quantize) as projection:
        return projection.relative(model.embed(x), model.embed(model.anchor_inputs))


def similarity_range(model: Any, x: Any) -> dict[str, float]:
    """The spread of ``model``'s unrounded similarities of ``x``: how much room they leave for
    rounding (a narrow range leaves a coarse bin nothing to keep).

    Args:
        model: a relreps.nn relative model.
        x: ``(n_samples, *input_shape)`` tensor.

    Returns:
        ``{"min", "max", "row_std"}``: the smallest and largest value of the
        ``(n_samples, n_anchors)`` :func:`relative_similarities`, and the mean over samples of
        each row's (unbiased) standard deviation.

    Raises:
        TypeError: ``model`` is not a relative model with anchors.

    Example:
        >>> import torch
        >>> from relreps.nn import MLPEncoder, RelativeClassifier
        >>> model = RelativeClassifier(MLPEncoder((6,), 5), torch.rand(8, 6), 2)
        >>> span = similarity_range(model, torch.rand(20, 6))
        >>> sorted(span), span["min"] <= span["max"]
        (['max', 'min', 'row_std'], True)
    """
    _check_relative(model, "model")
    rel = relative_similarities(model, x)
    return {
        "min": float(rel.min()),
        "max": float(rel.max()),
        "row_std": float(rel.std(dim=1).mean()),
    }


def relative_stitch_scores(
    models: Sequence[Any],
    x: Any,
    y: Any,
    *,
    quantize: float | str | None = _OWN,
    average: str = "weighted",
) -> np.ndarray:
    """F1 of every (encoder i, head j) pair of relative classifiers; the diagonal is own F1.

    Each model's latents of ``x`` and of its anchors are computed once; cell (i, j) projects
    model i's latents on model i's anchor latents and reads them with model j's head, rounding
    the similarities as ``quantize`` says.

    Args:
        models: trained relreps.nn relative classifiers (eval mode) with the same anchor ids.
        x: ``(n_test, *input_shape)`` tensor.
        y: ``(n_test,)`` class labels.
        quantize: ``"own"`` (each head's trained rounding), None (none) or a bin size in (0, 2]
            applied to every head at test time only.
        average: ``"weighted"`` or ``"macro"`` (see :func:`relreps.stitching.f1_score`).

    Returns:
        ``(n_models, n_models)`` float64 F1 in [0, 1]; rows are encoders, columns heads.

    Raises:
        TypeError: a model that is not a relative model with anchors.
        ValueError: no models, models with different anchors, ``y`` of another length, or a bad
            ``quantize`` or ``average``.
    """
    import torch

    check_choice(average, "average", ["weighted", "macro"])
    if len(models) == 0:
        raise fail("models", "at least one relative classifier", "none")
    for i, model in enumerate(models):
        _check_relative(model, f"models[{i}]")
        if model.anchor_ids != models[0].anchor_ids:
            raise fail(f"models[{i}]", "a model with the anchors of models[0]", "other anchor ids")
    labels = np.asarray(to_numpy(y)).reshape(-1)
    if labels.shape[0] != x.shape[0]:
        raise fail("y", f"{x.shape[0]} labels (one per row of x)", f"{labels.shape[0]}")
    n = len(models)
    out = np.full((n, n), np.nan)
    with torch.no_grad():
        latents = [(m.embed(x), m.embed(m.anchor_inputs)) for m in models]
        for j, head in enumerate(models):
            with quantized_projection(head, quantize) as projection:
                for i, (z, z_anchors) in enumerate(latents):
                    pred = head.decode(projection.relative(z, z_anchors)).argmax(dim=1).numpy()
                    out[i, j] = f1_score(labels, pred, average=average)
    return out
