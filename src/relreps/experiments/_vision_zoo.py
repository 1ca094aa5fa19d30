"""The image-encoder zoo of ``vision-stitching`` and ``relreps demo``: its architectures and names.

The encoders themselves come from :func:`relreps.nn.zoo.image_encoder`; this module holds the
zoo's naming (``"mlp64/s0"``) and stays torch-free at import time (configs are built from it).
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from typing import Any

__all__ = ["Arch", "build_encoder", "family", "head_seed", "is_classifier"]


@dataclass(frozen=True)
class Arch:
    """One encoder family: ``name`` in tables (``mlp64``), ``kind`` (an
    :data:`relreps.nn.zoo.IMAGE_ENCODERS` kind, or ``"ae"``: an MLP encoder pretrained as an
    autoencoder, then frozen) and ``latent_dim``."""

    name: str
    kind: str
    latent_dim: int


def family(name: str) -> str:
    """The architecture family of a zoo model name.

    Example:
        >>> family("cnn128/s2"), family("ae-mlp64/s0")
        ('cnn', 'ae')
    """
    return name.split("/")[0].split("-")[0].rstrip("0123456789")


def is_classifier(name: str) -> bool:
    """Whether a zoo model was trained as a classifier (not as an autoencoder).

    Example:
        >>> is_classifier("cnn64/s0"), is_classifier("ae-mlp64/s0")
        (True, False)
    """
    return family(name) in ("mlp", "cnn", "resnet")


def head_seed(arch: Arch, seed: int) -> int:
    """A seed for the head an encoder is trained under, distinct per (architecture, seed).

    Encoders trained under identically initialised heads learn latent spaces aligned to that head
    (measured: a CNN and an MLP of one seed then stitch absolutely at ~80 F1), which would hide
    the very mismatch stitching is about.
    """
    return zlib.crc32(f"{arch.name}/{seed}".encode()) % (2**31)


def build_encoder(arch: Arch, in_shape: tuple[int, ...], seed: int) -> Any:
    """An untrained encoder of ``arch`` (an ``"ae"`` arch gets its MLP encoder)."""
    from relreps.nn.zoo import image_encoder

    return image_encoder(
        "mlp" if arch.kind == "ae" else arch.kind, in_shape, arch.latent_dim, seed=seed
    )
