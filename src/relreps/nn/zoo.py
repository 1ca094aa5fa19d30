"""Building blocks of a model zoo: image encoders by name, resumable training, freezing.

- :func:`image_encoder`: an untrained image encoder of one of :data:`IMAGE_ENCODERS`
  (MLP, CNN, residual CNN, residual CNN with GroupNorm before pooling).
- :func:`fit_or_load`: train a model with :func:`relreps.nn.fit` and save it, or reload it when
  its folder already holds a saved model (a rerun of an interrupted zoo resumes).
- :func:`freeze`: eval mode and no gradients, for encoders used as fixed feature extractors.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from torch import nn

from relreps._validation import check_choice, check_int, fail
from relreps.nn.io import CONFIG, load_model, save_model
from relreps.nn.networks import CNNEncoder, MLPEncoder, ResidualCNNEncoder
from relreps.nn.train import TrainConfig, TrainHistory, fit

__all__ = ["IMAGE_ENCODERS", "fit_or_load", "freeze", "image_encoder"]

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
    if isinstance(build, nn.Module) or not callable(build):
        got = f"a {type(build).__name__}" + (
            " (a model, not its builder)" if callable(build) else ""
        )
        raise fail("build", "a callable making a model", got, TypeError)
    folder = Path(folder)
    if (folder / CONFIG).exists():
        return load_model(folder), None
    model = build()
    history = fit(model, x, y, config=config)
    model.eval()
    save_model(model, folder)
    return model, history


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
