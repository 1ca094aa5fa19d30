"""The networks relreps.nn models are built from: image encoders, an MLP head, an image decoder.

- :class:`MLPEncoder`, :class:`CNNEncoder`, :class:`ResidualCNNEncoder`: inputs -> (n, latent_dim);
  :data:`ENCODERS` names them for :func:`relreps.nn.load_model`.
- :class:`MLPHead`: a normalisation, then an MLP with a linear output (classifier heads, and
  the body of the image decoder).
- :class:`ImageDecoder`: an MLP to an image in [0, 1] (autoencoder decoders).
- :func:`seeded`: parameters are initialised from an explicit seed (the global torch RNG is forked
  and restored), so building a network never depends on, or changes, global random state.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Iterator, Sequence
from typing import Any

import torch
from torch import Tensor, nn

from relreps._validation import check_int, fail
from relreps.nn.projection import OutputNorm

__all__ = [
    "ENCODERS",
    "CNNEncoder",
    "ImageDecoder",
    "MLPEncoder",
    "MLPHead",
    "ResidualCNNEncoder",
    "seeded",
]


@contextlib.contextmanager
def seeded(seed: int) -> Iterator[None]:
    """Run a block with the torch RNG seeded by ``seed``; the global state is restored after.

    Example:
        >>> with seeded(0):
        ...     a = torch.rand(2)
        >>> with seeded(0):
        ...     b = torch.rand(2)
        >>> bool(torch.equal(a, b))
        True
    """
    seed = check_int(seed, "seed", low=0)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        yield


def _shape(value: Sequence[int], name: str) -> tuple[int, ...]:
    if isinstance(value, int) or not isinstance(value, Sequence) or len(value) == 0:
        raise fail(name, "a non-empty sequence of positive ints", repr(value), TypeError)
    return tuple(check_int(v, f"{name}[{i}]", low=1) for i, v in enumerate(value))


def _widths(value: Sequence[int], name: str) -> tuple[int, ...]:
    if isinstance(value, int) or not isinstance(value, Sequence):
        raise fail(name, "a sequence of positive ints (may be empty)", repr(value), TypeError)
    return tuple(check_int(v, f"{name}[{i}]", low=1) for i, v in enumerate(value))


def _mlp(in_features: int, hidden: Sequence[int], out_features: int) -> nn.Sequential:
    layers: list[nn.Module] = []
    width = in_features
    for h in hidden:
        layers += [nn.Linear(width, h), nn.ReLU()]
        width = h
    layers.append(nn.Linear(width, out_features))  # linear output: no ReLU on logits
    return nn.Sequential(*layers)


def _check_input(x: Tensor, in_shape: tuple[int, ...], name: str = "x") -> None:
    if not isinstance(x, Tensor):
        raise fail(name, "a torch.Tensor", type(x).__name__, TypeError)
    if tuple(x.shape[1:]) != in_shape:
        raise fail(
            name,
            f"a tensor of shape (n_samples, {', '.join(map(str, in_shape))})",
            f"shape {tuple(x.shape)}",
        )


# --- encoders and decoders ------------------------------------------------------------------------


class MLPEncoder(nn.Module):
    """Flatten, then Linear+ReLU layers, then a linear map to ``latent_dim``.

    Args:
        in_shape: shape of one input, e.g. ``(1, 28, 28)`` or ``(64,)``.
        latent_dim: width of the latent space.
        hidden: widths of the hidden layers.
        seed: parameter initialisation seed.

    Shapes:
        (n_samples, *in_shape) -> (n_samples, latent_dim)

    Example:
        >>> MLPEncoder((1, 8, 8), 16)(torch.zeros(3, 1, 8, 8)).shape
        torch.Size([3, 16])
    """

    def __init__(
        self,
        in_shape: Sequence[int],
        latent_dim: int,
        *,
        hidden: Sequence[int] = (256,),
        seed: int = 0,
    ) -> None:
        super().__init__()
        self.in_shape = _shape(in_shape, "in_shape")
        self.latent_dim = check_int(latent_dim, "latent_dim", low=1)
        self.hidden = _widths(hidden, "hidden")
        self.seed = check_int(seed, "seed", low=0)
        with seeded(seed):
            self.net = _mlp(math.prod(self.in_shape), self.hidden, self.latent_dim)

    def forward(self, x: Tensor) -> Tensor:
        _check_input(x, self.in_shape)
        return self.net(x.reshape(x.shape[0], -1))

    def config(self) -> dict[str, Any]:
        """JSON-able constructor arguments (with ``type``), used by :mod:`relreps.nn.io`."""
        return {
            "type": "MLPEncoder",
            "in_shape": list(self.in_shape),
            "latent_dim": self.latent_dim,
            "hidden": list(self.hidden),
            "seed": self.seed,
        }


class CNNEncoder(nn.Module):
    """Small CNN: 3x3 stride-2 convolutions with ReLU, then a linear map to ``latent_dim``.

    Args:
        in_shape: ``(channels, height, width)`` of one image.
        latent_dim: width of the latent space.
        channels: output channels of each convolution (each halves the resolution).
        seed: parameter initialisation seed.

    Shapes:
        (n_samples, channels, height, width) -> (n_samples, latent_dim)

    Example:
        >>> CNNEncoder((1, 28, 28), 32)(torch.zeros(2, 1, 28, 28)).shape
        torch.Size([2, 32])
    """

    def __init__(
        self,
        in_shape: Sequence[int],
        latent_dim: int,
        *,
        channels: Sequence[int] = (16, 32),
        seed: int = 0,
    ) -> None:
        super().__init__()
        self.in_shape = _shape(in_shape, "in_shape")
        if len(self.in_shape) != 3:
            raise fail("in_shape", "(channels, height, width)", repr(tuple(in_shape)))
        self.latent_dim = check_int(latent_dim, "latent_dim", low=1)
        self.channels = _shape(channels, "channels")
        self.seed = check_int(seed, "seed", low=0)
        with seeded(seed):
            self.features, features_out = self._build_features()
            self.project = nn.Linear(features_out, self.latent_dim)

    def _build_features(self) -> tuple[nn.Module, int]:
        """The convolutional trunk and the width of its flattened output."""
        c, h, w = self.in_shape
        layers: list[nn.Module] = []
        for out_c in self.channels:
            layers += [nn.Conv2d(c, out_c, 3, stride=2, padding=1), nn.ReLU()]
            c, h, w = out_c, (h + 1) // 2, (w + 1) // 2
        return nn.Sequential(*layers), c * h * w

    def forward(self, x: Tensor) -> Tensor:
        _check_input(x, self.in_shape)
        return self.project(self.features(x).flatten(1))

    def config(self) -> dict[str, Any]:
        """JSON-able constructor arguments (with ``type``), used by :mod:`relreps.nn.io`."""
        return {
            "type": type(self).__name__,
            "in_shape": list(self.in_shape),
            "latent_dim": self.latent_dim,
            "channels": list(self.channels),
            "seed": self.seed,
        }


class _ResidualBlock(nn.Module):
    """Two 3x3 convolutions with a skip connection (BatchNorm-free: inference never depends on
    the batch)."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(channels, channels, 3, padding=1)
        self.conv2 = nn.Conv2d(channels, channels, 3, padding=1)

    def forward(self, x: Tensor) -> Tensor:
        return torch.relu(x + self.conv2(torch.relu(self.conv1(x))))


class ResidualCNNEncoder(CNNEncoder):
    """Small residual CNN: per stage a stride-2 convolution and a residual block, then global
    average pooling and a linear map to ``latent_dim``.

    Global average pooling of ReLU features makes every embedding of an untrained encoder point
    in nearly one direction (measured on Fashion-MNIST: mean pairwise cosine 0.994), which starves
    a cosine-based relative head. ``norm="groupnorm"`` puts a GroupNorm (per sample, so inference
    never depends on the batch) after each stage, before the pooling, which removes that
    common direction.

    Args:
        in_shape: ``(channels, height, width)`` of one image.
        latent_dim: width of the latent space.
        channels: channels of each stage.
        norm: ``"none"`` or ``"groupnorm"`` (after each stage, before pooling).
        seed: parameter initialisation seed.

    Shapes:
        (n_samples, channels, height, width) -> (n_samples, latent_dim)

    Example:
        >>> ResidualCNNEncoder((1, 28, 28), 16)(torch.zeros(2, 1, 28, 28)).shape
        torch.Size([2, 16])
        >>> ResidualCNNEncoder((1, 28, 28), 16, norm="groupnorm").config()["norm"]
        'groupnorm'
    """

    def __init__(
        self,
        in_shape: Sequence[int],
        latent_dim: int,
        *,
        channels: Sequence[int] = (16, 32),
        norm: str = "none",
        seed: int = 0,
    ) -> None:
        if norm not in ("none", "groupnorm"):
            raise fail("norm", "one of 'none', 'groupnorm'", repr(norm))
        self.norm = norm  # read by _build_features, which the parent constructor calls
        super().__init__(in_shape, latent_dim, channels=channels, seed=seed)

    def _build_features(self) -> tuple[nn.Module, int]:
        c = self.in_shape[0]
        layers: list[nn.Module] = []
        for out_c in self.channels:
            layers += [
                nn.Conv2d(c, out_c, 3, stride=2, padding=1),
                nn.ReLU(),
                _ResidualBlock(out_c),
            ]
            if self.norm == "groupnorm":
                layers.append(nn.GroupNorm(math.gcd(8, out_c), out_c))
            c = out_c
        return nn.Sequential(*layers), c

    def forward(self, x: Tensor) -> Tensor:
        _check_input(x, self.in_shape)
        return self.project(self.features(x).mean(dim=(2, 3)))

    def config(self) -> dict[str, Any]:
        return {**super().config(), "norm": self.norm}


ENCODERS: dict[str, type[nn.Module]] = {
    "MLPEncoder": MLPEncoder,
    "CNNEncoder": CNNEncoder,
    "ResidualCNNEncoder": ResidualCNNEncoder,
}


class MLPHead(nn.Module):
    """A normalisation, then Linear+ReLU layers and a LINEAR output layer.

    Args:
        in_features: input width.
        out_features: output width (classes, or pixels for decoders).
        hidden: hidden widths.
        input_norm: one of ``"none"``, ``"l2"``, ``"layernorm"``, ``"batchnorm"``.
        seed: parameter initialisation seed.

    Example:
        >>> MLPHead(8, 3)(torch.zeros(5, 8)).shape
        torch.Size([5, 3])
    """

    def __init__(
        self,
        in_features: int,
        out_features: int,
        *,
        hidden: Sequence[int] = (128,),
        input_norm: str = "none",
        seed: int = 0,
    ) -> None:
        super().__init__()
        self.in_features = check_int(in_features, "in_features", low=1)
        self.out_features = check_int(out_features, "out_features", low=1)
        self.hidden = _widths(hidden, "hidden")
        self.norm = OutputNorm(input_norm, self.in_features)
        with seeded(seed):
            self.net = _mlp(self.in_features, self.hidden, self.out_features)

    def forward(self, x: Tensor) -> Tensor:
        if x.ndim != 2 or x.shape[1] != self.in_features:
            raise fail(
                "x", f"a tensor of shape (n_samples, {self.in_features})", f"shape {tuple(x.shape)}"
            )
        return self.net(self.norm(x))


class ImageDecoder(nn.Module):
    """MLP from a representation to an image in [0, 1] (sigmoid output), reshaped to ``out_shape``.

    Example:
        >>> ImageDecoder(16, (1, 8, 8))(torch.zeros(2, 16)).shape
        torch.Size([2, 1, 8, 8])
    """

    def __init__(
        self,
        in_features: int,
        out_shape: Sequence[int],
        *,
        hidden: Sequence[int] = (256,),
        seed: int = 0,
    ) -> None:
        super().__init__()
        self.out_shape = _shape(out_shape, "out_shape")
        self.mlp = MLPHead(in_features, math.prod(self.out_shape), hidden=hidden, seed=seed)

    def forward(self, x: Tensor) -> Tensor:
        return torch.sigmoid(self.mlp(x)).reshape(x.shape[0], *self.out_shape)
