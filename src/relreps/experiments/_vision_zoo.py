"""The image-encoder zoo of ``vision-stitching`` and ``relreps demo``: architectures and builders.

Shared by both protocols: (a) frozen encoders with heads trained on top (the paper's 5.3), and
(b) end-to-end training under an absolute or a relative head. Imports only the standard library
and numpy at module level; torch is imported where a model is built.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from relreps.experiments._aeq_common import ImageSplit

__all__ = ["Arch", "build_encoder", "family", "head_seed", "is_classifier", "pretrained_ae_encoder"]


@dataclass(frozen=True)
class Arch:
    """One encoder family of the zoo.

    Attributes:
        name: short name used in tables (``mlp64``).
        kind: ``"mlp"``, ``"cnn"``, ``"resnet"`` (a small residual CNN), ``"resnet-gn"`` (the
            same with GroupNorm before pooling) or ``"ae"`` (an MLP encoder pretrained as an
            autoencoder, then frozen: a different training objective).
        latent_dim: width of the latent space.
    """

    name: str
    kind: str
    latent_dim: int


def family(name: str) -> str:
    """The architecture family of a zoo model name: ``"mlp64/s1"`` -> ``"mlp"``.

    Example:
        >>> family("cnn128/s2"), family("ae-mlp64/s0")
        ('cnn', 'ae')
    """
    stem = name.split("/")[0]
    return stem.split("-")[0].rstrip("0123456789")


def is_classifier(name: str) -> bool:
    """Whether a zoo model was trained as a classifier (not as an autoencoder).

    Example:
        >>> is_classifier("cnn64/s0"), is_classifier("ae-mlp64/s0")
        (True, False)
    """
    return family(name) in ("mlp", "cnn", "resnet")


def head_seed(arch: Arch, seed: int) -> int:
    """A seed for the head an encoder is trained under, distinct per (architecture, seed).

    Two encoders trained under identically initialised heads learn latent spaces aligned to that
    head (measured: a CNN and an MLP of one seed then stitch absolutely at ~80 F1), which would
    hide the very mismatch stitching is about. Each encoder therefore gets its own head seed.

    Example:
        >>> head_seed(Arch("mlp64", "mlp", 64), 0) != head_seed(Arch("cnn64", "cnn", 64), 0)
        True
    """
    return zlib.crc32(f"{arch.name}/{seed}".encode()) % (2**31)


def build_encoder(arch: Arch, in_shape: tuple[int, ...], seed: int) -> Any:
    """An untrained encoder of ``arch`` (MLP, CNN or residual CNN) for images of ``in_shape``."""
    from relreps.nn import CNNEncoder, MLPEncoder, ResidualCNNEncoder

    if arch.kind == "cnn":
        return CNNEncoder(in_shape, arch.latent_dim, seed=seed)
    if arch.kind in ("resnet", "resnet-gn"):
        norm = "groupnorm" if arch.kind == "resnet-gn" else "none"
        return ResidualCNNEncoder(in_shape, arch.latent_dim, norm=norm, seed=seed)
    return MLPEncoder(in_shape, arch.latent_dim, hidden=(256,), seed=seed)


def pretrained_ae_encoder(
    arch: Arch, data: ImageSplit, seed: int, train_config: Any, folder: Path
) -> Any:
    """An MLP encoder trained to reconstruct the images (a different objective), then frozen.

    The autoencoder is saved under ``folder`` and reloaded on a rerun.
    """
    import torch

    from relreps.nn import AbsoluteAE, fit, load_model, save_model

    saved = folder / f"ae-{arch.name}-seed{seed}"
    if (saved / "config.json").exists():
        model = load_model(saved)
    else:
        model = AbsoluteAE(build_encoder(arch, data.x_train.shape[1:], seed), seed=seed)
        x = torch.from_numpy(data.x_train)
        fit(model, x, x, config=train_config)
        save_model(model, saved)
    frozen: Any = model.encoder
    for parameter in frozen.parameters():
        parameter.requires_grad_(False)
    return frozen
