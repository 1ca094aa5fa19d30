"""Building blocks of a model zoo: image encoders by name, resumable training, freezing.

- :func:`image_encoder`: an untrained image encoder of one of :data:`IMAGE_ENCODERS`
  (MLP, CNN, residual CNN, residual CNN with GroupNorm before pooling).
- :func:`fit_or_load`: train a model with :func:`relreps.nn.fit` and save it, or reload it when
  its folder already holds a saved model (a rerun of an interrupted zoo resumes).
- :func:`freeze`: eval mode and no gradients, for encoders used as fixed feature extractors.
- :func:`fit_encoder`: train an encoder under its own classification head (or as the encoder of
  an autoencoder), save or reload it, and freeze it: one member of a zoo of frozen encoders.
- :func:`fit_classifier_pair`: an absolute and a relative classifier trained end to end from the
  same encoder initialisation (the paper's end-to-end stitching protocol).
- :func:`fit_autoencoder_pair`: the same for an absolute and a relative autoencoder (or VAE).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from functools import partial
from pathlib import Path
from typing import Any

from torch import nn

from relreps._validation import check_choice, check_float, check_int, fail
from relreps.nn.io import CONFIG, load_model, save_model
from relreps.nn.models import (
    AbsoluteAE,
    AbsoluteClassifier,
    AbsoluteVAE,
    RelativeAE,
    RelativeClassifier,
    RelativeVAE,
)
from relreps.nn.networks import CNNEncoder, MLPEncoder, ResidualCNNEncoder
from relreps.nn.train import TrainConfig, TrainHistory, fit

__all__ = [
    "IMAGE_ENCODERS",
    "fit_autoencoder_pair",
    "fit_classifier_pair",
    "fit_encoder",
    "fit_or_load",
    "freeze",
    "image_encoder",
]

IMAGE_ENCODERS = ("mlp", "cnn", "resnet", "resnet-gn")
"""The encoder kinds :func:`image_encoder` builds."""


def image_encoder(
    kind: str,
    in_shape: Sequence[int],
    latent_dim: int,
    *,
    seed: int = 0,
    hidden: Sequence[int] = (256,),
) -> nn.Module:
    """An untrained image encoder of ``kind``, seeded.

    Args:
        kind: ``"mlp"`` (:class:`MLPEncoder` with ``hidden`` layers), ``"cnn"``
            (:class:`CNNEncoder`), ``"resnet"`` (:class:`ResidualCNNEncoder`) or ``"resnet-gn"``
            (the same with ``norm="groupnorm"``).
        in_shape: shape of one image, ``(channels, height, width)`` (an MLP also takes ``(d,)``).
        latent_dim: width of the latent space.
        seed: parameter initialisation seed (the global torch RNG is left untouched).
        hidden: hidden widths of the MLP (other kinds ignore it).

    Shapes:
        (n_samples, *in_shape) -> (n_samples, latent_dim)

    Example:
        >>> import torch
        >>> image_encoder("resnet-gn", (1, 28, 28), 16, seed=1)(torch.zeros(2, 1, 28, 28)).shape
        torch.Size([2, 16])
    """
    kind = check_choice(kind, "kind", IMAGE_ENCODERS)
    latent_dim = check_int(latent_dim, "latent_dim", low=1)
    if kind == "cnn":
        return CNNEncoder(in_shape, latent_dim, seed=seed)
    if kind in ("resnet", "resnet-gn"):
        norm = "groupnorm" if kind == "resnet-gn" else "none"
        return ResidualCNNEncoder(in_shape, latent_dim, norm=norm, seed=seed)
    return MLPEncoder(in_shape, latent_dim, hidden=hidden, seed=seed)


def fit_or_load(
    build: Callable[[], nn.Module],
    x: Any,
    y: Any,
    folder: str | os.PathLike[str],
    *,
    config: TrainConfig | None = None,
) -> tuple[nn.Module, TrainHistory | None]:
    """Train ``build()`` on ``(x, y)`` and save it to ``folder``, or reload the saved model.

    Args:
        build: makes the untrained relreps.nn model; not called when ``folder`` holds a model.
        x: training inputs (n_samples, ...), as :func:`relreps.nn.fit` takes them.
        y: targets (n_samples,), or the inputs again for an autoencoder.
        folder: where the model is saved by :func:`relreps.nn.save_model`.
        config: the :class:`TrainConfig` of the training.

    Returns:
        ``(model, history)``: the model in eval mode, and the training history (None when the
        model was reloaded).

    Example:
        >>> import tempfile, torch
        >>> from relreps.nn import AbsoluteClassifier
        >>> x, y = torch.randn(32, 4), torch.arange(32) % 2
        >>> build = lambda: AbsoluteClassifier(image_encoder("mlp", (4,), 3), 2)
        >>> folder = tempfile.mkdtemp()
        >>> _, history = fit_or_load(build, x, y, folder, config=TrainConfig(epochs=1))
        >>> history.epochs_run, fit_or_load(build, x, y, folder)[1]
        (1, None)
    """
    _check_builder(build, "build")
    folder = Path(folder)
    if (folder / CONFIG).exists():
        return load_model(folder), None
    model = build()
    history = fit(model, x, y, config=config)
    model.eval()
    save_model(model, folder)
    return model, history


def _check_builder(build: Any, name: str) -> None:
    if isinstance(build, nn.Module) or not callable(build):
        got = f"a {type(build).__name__}" + (
            " (a model, not its builder)" if callable(build) else ""
        )
        raise fail(name, "a callable making a model", got, TypeError)


def _n_classes(y: Any, n_classes: int | None) -> int:
    if n_classes is None:
        return int(y.max()) + 1
    return check_int(n_classes, "n_classes", low=2)


def fit_encoder(
    encoder: Callable[[], nn.Module],
    x: Any,
    y: Any,
    folder: str | os.PathLike[str],
    *,
    n_classes: int | None = None,
    head_seed: int = 0,
    config: TrainConfig | None = None,
) -> tuple[nn.Module, TrainHistory | None]:
    """Train a fresh encoder for a zoo of frozen encoders (or reload it), and freeze it.

    With labels ``y`` the encoder is trained under its own :class:`AbsoluteClassifier` head;
    with ``y=None`` as the encoder of an :class:`AbsoluteAE` reconstructing ``x``. The whole
    model is saved to (or reloaded from) ``folder`` by :func:`fit_or_load`; only its encoder is
    returned, frozen (:func:`freeze`).

    Args:
        encoder: makes the untrained encoder (a module with ``latent_dim``; an autoencoder's
            also needs ``in_shape``), e.g. ``functools.partial(image_encoder, "cnn", shape, 64)``.
        x: training inputs (n_samples, *in_shape).
        y: (n_samples,) integer labels, or None for reconstruction.
        folder: where the model (encoder and head or decoder) is saved.
        n_classes: classes of the head (default ``y.max() + 1``; unused without labels).
        head_seed: initialisation seed of the head or decoder. Give every encoder its own: encoders
            trained under identically initialised heads learn spaces aligned to that head.
        config: the :class:`TrainConfig` of the training.

    Returns:
        ``(encoder, history)``: the frozen encoder, mapping (n, *in_shape) to (n, latent_dim), and
        the training history (None when the model was reloaded).

    Example:
        >>> import functools, tempfile, torch
        >>> x, y = torch.randn(32, 4), torch.arange(32) % 2
        >>> build = functools.partial(image_encoder, "mlp", (4,), 3)
        >>> encoder, history = fit_encoder(build, x, y, tempfile.mkdtemp(),
        ...                                config=TrainConfig(epochs=1))
        >>> encoder(x).shape, encoder.training, history.epochs_run
        (torch.Size([32, 3]), False, 1)
    """
    _check_builder(encoder, "encoder")
    head_seed = check_int(head_seed, "head_seed", low=0)
    classes = None if y is None else _n_classes(y, n_classes)

    def build() -> nn.Module:
        if classes is None:
            return AbsoluteAE(encoder(), seed=head_seed)
        return AbsoluteClassifier(encoder(), classes, seed=head_seed)

    model, history = fit_or_load(build, x, x if y is None else y, folder, config=config)
    return freeze(model.get_submodule("encoder")), history


def fit_classifier_pair(
    encoder: Callable[[], nn.Module],
    x: Any,
    y: Any,
    anchors: Any,
    folder: str | os.PathLike[str] | None,
    *,
    n_classes: int | None = None,
    anchor_ids: Any = None,
    head_seed: int = 0,
    hidden: Sequence[int] = (128,),
    config: TrainConfig | None = None,
) -> dict[str, tuple[nn.Module, TrainHistory | None]]:
    """An absolute and a relative classifier, each trained end to end on a fresh ``encoder()``.

    ``encoder`` is called once per model and must be seeded, so both models start from the same
    encoder initialisation (and the same head seed): they differ only in what the head reads,
    the latent (:class:`AbsoluteClassifier`) or its cosines to the anchors' current embeddings
    (:class:`RelativeClassifier`). The absolute model keeps the anchors too (translation
    stitching). Each model is saved to (or reloaded from) ``<folder>-absolute`` and
    ``<folder>-relative`` by :func:`fit_or_load` (``folder=None``: trained, not saved); the
    absolute one is trained first.

    Args:
        encoder: makes the untrained, seeded encoder (a module with ``latent_dim``).
        x: training inputs (n_samples, *in_shape); y: their (n_samples,) integer labels.
        anchors: (n_anchors, *in_shape) anchor inputs (torch tensor), re-embedded at every step.
        folder: the path stem the two models are saved under; None: train both, save nothing.
        n_classes: classes (default ``y.max() + 1``).
        anchor_ids: the anchors' identities, compared when the models are stitched.
        head_seed: initialisation seed of both heads.
        hidden: hidden widths of both heads (the classifiers' default ``(128,)``).
        config: the :class:`TrainConfig` of both trainings.

    Returns:
        ``{"absolute": (model, history), "relative": (model, history)}``: models in eval mode,
        histories None for reloaded models (never with ``folder=None``).

    Example:
        >>> import functools, tempfile, torch
        >>> x, y = torch.randn(32, 4), torch.arange(32) % 2
        >>> build = functools.partial(image_encoder, "mlp", (4,), 3, seed=1)
        >>> pair = fit_classifier_pair(build, x, y, x[:5], tempfile.mkdtemp() + "/m",
        ...                            config=TrainConfig(epochs=1))
        >>> [type(model).__name__ for model, _ in pair.values()]
        ['AbsoluteClassifier', 'RelativeClassifier']
    """
    _check_builder(encoder, "encoder")
    classes, head_seed = _n_classes(y, n_classes), check_int(head_seed, "head_seed", low=0)
    head = tuple(check_int(w, f"hidden[{i}]", low=1) for i, w in enumerate(hidden))
    options: dict[str, Any] = {"anchor_ids": anchor_ids, "hidden": head, "seed": head_seed}

    def build(kind: str) -> nn.Module:
        if kind == "absolute":
            return AbsoluteClassifier(encoder(), classes, anchor_inputs=anchors, **options)
        return RelativeClassifier(encoder(), anchors, classes, **options)

    return _fit_pair(build, x, y, folder, config)


def fit_autoencoder_pair(
    encoder: Callable[[], nn.Module],
    x: Any,
    anchors: Any,
    folder: str | os.PathLike[str] | None,
    *,
    variational: bool = False,
    latent_dim: int | None = None,
    beta: float = 1.0,
    anchor_ids: Any = None,
    decoder_seed: int = 0,
    hidden: Sequence[int] = (256,),
    config: TrainConfig | None = None,
) -> dict[str, tuple[nn.Module, TrainHistory | None]]:
    """An absolute and a relative autoencoder (or VAE), each trained on a fresh ``encoder()``.

    The reconstruction counterpart of :func:`fit_classifier_pair`: ``encoder`` is called once
    per model and must be seeded, so both models start from the same encoder initialisation and
    the same decoder seed and widths; they differ only in the bottleneck the decoder reads, the
    latent (:class:`AbsoluteAE` / :class:`AbsoluteVAE`) or its cosines to the anchors' current
    embeddings (:class:`RelativeAE` / :class:`RelativeVAE`). The absolute model keeps the anchors
    too (translation stitching). Saved to (or reloaded from) ``<folder>-absolute`` and
    ``<folder>-relative`` by :func:`fit_or_load` (``folder=None``: trained, not saved); the
    absolute one is trained first.

    Args:
        encoder: makes the untrained, seeded encoder (a module with ``latent_dim`` and
            ``in_shape``). For a VAE its output feeds the Gaussian heads (e.g. twice
            ``latent_dim`` wide).
        x: training images (n_samples, *in_shape), reconstructed by both models.
        anchors: (n_anchors, *in_shape) anchor images (torch tensor), re-embedded at every step.
        folder: the path stem the two models are saved under; None: train both, save nothing.
        variational: VAEs instead of plain autoencoders.
        latent_dim: the VAEs' posterior dimension (required with ``variational``, else unused).
        beta: the VAEs' KL weight (unused without ``variational``).
        anchor_ids: the anchors' identities, compared when the models are stitched.
        decoder_seed: initialisation seed of both decoders (and Gaussian heads).
        hidden: hidden widths of both decoders.
        config: the :class:`TrainConfig` of both trainings.

    Returns:
        ``{"absolute": (model, history), "relative": (model, history)}``: models in eval mode,
        mapping (n, *in_shape) images to their reconstructions; histories None for reloaded
        models (never with ``folder=None``).

    Example:
        >>> import functools, torch
        >>> x = torch.rand(32, 1, 4, 4, generator=torch.Generator().manual_seed(0))
        >>> build = functools.partial(image_encoder, "mlp", (1, 4, 4), 6, seed=1)
        >>> pair = fit_autoencoder_pair(build, x, x[:5], None, variational=True, latent_dim=3,
        ...                             config=TrainConfig(epochs=1, progress=False))
        >>> [(type(m).__name__, m(x).shape[1:]) for m, _ in pair.values()]
        [('AbsoluteVAE', torch.Size([1, 4, 4])), ('RelativeVAE', torch.Size([1, 4, 4]))]
    """
    _check_builder(encoder, "encoder")
    decoder_seed = check_int(decoder_seed, "decoder_seed", low=0)
    widths = tuple(check_int(w, f"hidden[{i}]", low=1) for i, w in enumerate(hidden))
    options: dict[str, Any] = {"anchor_ids": anchor_ids, "hidden": widths, "seed": decoder_seed}
    if variational:
        if latent_dim is None:
            raise fail("latent_dim", "the posterior dimension of the VAEs", "None")
        latent_dim = check_int(latent_dim, "latent_dim", low=1)
        options.update(latent_dim=latent_dim, beta=check_float(beta, "beta", low=0))

    def build(kind: str) -> nn.Module:
        if kind == "absolute":
            absolute = AbsoluteVAE if variational else AbsoluteAE
            return absolute(encoder(), anchor_inputs=anchors, **options)
        return (RelativeVAE if variational else RelativeAE)(encoder(), anchors, **options)

    return _fit_pair(build, x, x, folder, config)


def _fit_pair(
    build: Callable[[str], nn.Module],
    x: Any,
    y: Any,
    folder: str | os.PathLike[str] | None,
    config: TrainConfig | None,
) -> dict[str, tuple[nn.Module, TrainHistory | None]]:
    """``build("absolute")`` then ``build("relative")`` trained on ``(x, y)``, each saved to or
    reloaded from ``<folder>-<kind>`` (``folder=None``: trained, not saved)."""

    def train(kind: str) -> tuple[nn.Module, TrainHistory | None]:
        if folder is None:
            model = build(kind)
            return model, fit(model, x, y, config=config)
        return fit_or_load(partial(build, kind), x, y, f"{os.fspath(folder)}-{kind}", config=config)

    return {kind: train(kind) for kind in ("absolute", "relative")}


def freeze(module: nn.Module) -> nn.Module:
    """Put ``module`` in eval mode with every parameter's gradient off; returns it.

    Example:
        >>> encoder = freeze(image_encoder("mlp", (4,), 3))
        >>> encoder.training, any(p.requires_grad for p in encoder.parameters())
        (False, False)
    """
    if not isinstance(module, nn.Module):
        raise fail("module", "a torch.nn.Module", type(module).__name__, TypeError)
    module.eval()
    for parameter in module.parameters():
        parameter.requires_grad_(False)
    return module
