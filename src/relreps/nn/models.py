"""Relative and absolute models with an encode/decode split: classifiers and image autoencoders.

The networks they are built from (image encoders, MLP head, image decoder, ``seeded``) live in
:mod:`relreps.nn.networks` and are re-exported here; their shared base (encoder, anchors, the
embed/encode/decode plumbing) lives in :mod:`relreps.nn._model_base`.

Every model exposes the same three steps, which is what makes stitching one call:

- ``embed(x)``: the encoder's absolute latents, (n_samples, latent_dim);
- ``encode(x)``: the representation that travels between models (the latents for absolute models,
  the raw similarities to the anchors for relative ones);
- ``decode(rep)``: the head (normalisation, classifier or image decoder).

``forward(x) == decode(encode(x))``. Relative models re-embed their anchor inputs with the current
encoder at every call, in the same encoder forward as ``x`` (one batched pass).

Absolute and relative models of one family have MATCHED capacity: the same encoder, the same head
widths and the same kind of normalisation before the head; the only difference is the bottleneck
(latent_dim absolute coordinates vs n_anchors similarities).

Parameters are initialised from an explicit ``seed`` (the global torch RNG is forked and restored),
so building a model never depends on, or changes, global random state.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
from torch import Tensor, nn
from torch.nn import functional as F

from relreps._validation import check_choice, check_float, check_int, fail
from relreps.anchors import anchor_keys
from relreps.nn._model_base import _Absolute, _Model, _Relative
from relreps.nn._model_base import _predict as _predict  # relreps.nn.stitch imports it from here
from relreps.nn._model_base import model_device as model_device  # public, used across relreps
from relreps.nn.networks import (
    ENCODERS,
    CNNEncoder,
    ImageDecoder,
    MLPEncoder,
    MLPHead,
    ResidualCNNEncoder,
    seeded,
)
from relreps.nn.projection import MODEL_OUTPUT_NORM, OUTPUT_NORMS, OutputNorm
from relreps.projection_spec import ProjectionSpec

__all__ = [
    "ENCODERS",
    "AbsoluteAE",
    "AbsoluteClassifier",
    "AbsoluteVAE",
    "CNNEncoder",
    "ImageDecoder",
    "MLPEncoder",
    "MLPHead",
    "RelativeAE",
    "RelativeClassifier",
    "RelativeVAE",
    "ResidualCNNEncoder",
    "anchor_keys",
    "seeded",
]

AnchorIds = Sequence[str | int]


# --- classifiers ----------------------------------------------------------------------------------


class AbsoluteClassifier(_Absolute):
    """Encoder -> latent (latent_dim) -> norm -> MLP head -> logits.

    Args:
        encoder: module with a ``latent_dim`` attribute mapping inputs to (n, latent_dim).
        n_classes: number of classes.
        hidden: head hidden widths (same as the relative counterpart for matched capacity).
        latent_norm: normalisation before the head (same options as ``output_norm``).
        anchor_inputs: optional anchor inputs (n_anchors, *input_shape), used by translation
            stitching and kept for provenance.
        anchor_ids: optional anchor identities (keys or a ParallelAnchors).
        seed: head initialisation seed.

    Example:
        >>> model = AbsoluteClassifier(MLPEncoder((4,), 8), 3)
        >>> model(torch.zeros(2, 4)).shape
        torch.Size([2, 3])
    """

    task = "classification"

    def __init__(
        self,
        encoder: nn.Module,
        n_classes: int,
        *,
        hidden: Sequence[int] = (128,),
        latent_norm: str = MODEL_OUTPUT_NORM,
        anchor_inputs: Tensor | None = None,
        anchor_ids: Any = None,
        seed: int = 0,
    ) -> None:
        super().__init__(encoder, anchor_inputs, anchor_ids, required=False)
        self.n_classes = check_int(n_classes, "n_classes", low=2)
        check_choice(latent_norm, "latent_norm", OUTPUT_NORMS)
        self.seed = check_int(seed, "seed", low=0)
        self.head = MLPHead(
            self.latent_dim, n_classes, hidden=hidden, input_norm=latent_norm, seed=seed
        )

    def decode(self, rep: Tensor) -> Tensor:
        """Logits (n_samples, n_classes) from latents (n_samples, latent_dim)."""
        return self.head(rep)

    def config(self) -> dict[str, Any]:
        return {
            "n_classes": self.n_classes,
            "hidden": list(self.head.hidden),
            "latent_norm": self.head.norm.kind,
            "seed": self.seed,
        }


class RelativeClassifier(_Relative):
    """Encoder -> similarities to the anchors' current embeddings -> norm -> MLP head -> logits.

    Args:
        encoder: module with a ``latent_dim`` attribute mapping inputs to (n, latent_dim).
        anchor_inputs: raw anchor inputs (n_anchors, *input_shape), re-embedded at every call.
        n_classes: number of classes.
        anchor_ids: anchor identities (keys or a ParallelAnchors), compared when stitching.
        hidden: head hidden widths.
        spec: the projection options, one :class:`relreps.ProjectionSpec` (``None``: its
            defaults, cosine); the only way to set them.
        output_norm, quantize, anchor_grad: options of :class:`relreps.nn.RelativeProjection`
            (``output_norm`` defaults to ``"layernorm"`` here,
            :data:`relreps.nn.projection.MODEL_OUTPUT_NORM`; its ``eps`` keeps its default).
        seed: head initialisation seed.

    Example:
        >>> anchors = torch.randn(5, 4, generator=torch.Generator().manual_seed(0))
        >>> model = RelativeClassifier(MLPEncoder((4,), 8), anchors, 3)
        >>> model.encode(torch.zeros(2, 4)).shape, model(torch.zeros(2, 4)).shape
        (torch.Size([2, 5]), torch.Size([2, 3]))
        >>> spec = ProjectionSpec(topk=2)
        >>> RelativeClassifier(MLPEncoder((4,), 8), anchors, 3, spec=spec).projection.spec
        ProjectionSpec(similarity='cosine', topk=2)
    """

    task = "classification"

    def __init__(
        self,
        encoder: nn.Module,
        anchor_inputs: Tensor,
        n_classes: int,
        *,
        anchor_ids: Any = None,
        hidden: Sequence[int] = (128,),
        spec: ProjectionSpec | None = None,
        output_norm: str = MODEL_OUTPUT_NORM,
        quantize: float | None = None,
        anchor_grad: bool = False,
        seed: int = 0,
    ) -> None:
        super().__init__(encoder, anchor_inputs, anchor_ids, required=True)
        self.n_classes = check_int(n_classes, "n_classes", low=2)
        self.seed = check_int(seed, "seed", low=0)
        self._build_projection(spec, output_norm, quantize, anchor_grad)
        self.head = MLPHead(self.rep_dim, n_classes, hidden=hidden, seed=seed)

    def decode(self, rep: Tensor) -> Tensor:
        """Logits (n_samples, n_classes) from raw similarities (n_samples, rep_dim)."""
        return self.head(self.projection.normalize(rep))

    def config(self) -> dict[str, Any]:
        return {
            "n_classes": self.n_classes,
            "hidden": list(self.head.hidden),
            "seed": self.seed,
            **self._projection_config(),
        }


# --- autoencoders ---------------------------------------------------------------------------------


def _encoder_shape(encoder: nn.Module) -> tuple[int, ...]:
    shape = getattr(encoder, "in_shape", None)
    if not isinstance(shape, tuple):
        raise fail(
            "encoder",
            "a module with an `in_shape` tuple (the image shape)",
            type(encoder).__name__,
            TypeError,
        )
    return shape


class _Autoencoder(_Model):
    """Image autoencoders: an MLP decoder rebuilds the input image from the representation.

    Every variant builds its parts in ONE order, which seeded weights depend on: the shared checks
    and the image shape (``__init__``), the variant's bottleneck (Gaussian heads for VAEs, then the
    latent norm or the relative projection), and last the decoder (``_build_decoder``).
    """

    task = "reconstruction"
    decoder: ImageDecoder

    def __init__(
        self, encoder: nn.Module, anchor_inputs: Tensor | None, anchor_ids: Any, *, seed: int
    ) -> None:
        super().__init__(encoder, anchor_inputs, anchor_ids, required=self.kind == "relative")
        self.out_shape = _encoder_shape(encoder)
        self.seed = check_int(seed, "seed", low=0)

    def _build_decoder(self, hidden: Sequence[int]) -> None:
        self.decoder = ImageDecoder(self.rep_dim, self.out_shape, hidden=hidden, seed=self.seed)


class AbsoluteAE(_Autoencoder, _Absolute):
    """Image autoencoder: encoder -> latent -> norm -> MLP decoder -> image in [0, 1].

    Example:
        >>> ae = AbsoluteAE(MLPEncoder((1, 8, 8), 6))
        >>> ae(torch.rand(2, 1, 8, 8)).shape
        torch.Size([2, 1, 8, 8])
    """

    def __init__(
        self,
        encoder: nn.Module,
        *,
        hidden: Sequence[int] = (256,),
        latent_norm: str = MODEL_OUTPUT_NORM,
        anchor_inputs: Tensor | None = None,
        anchor_ids: Any = None,
        seed: int = 0,
    ) -> None:
        super().__init__(encoder, anchor_inputs, anchor_ids, seed=seed)
        self.norm = OutputNorm(latent_norm, self.latent_dim)
        self._build_decoder(hidden)

    def decode(self, rep: Tensor) -> Tensor:
        """Images (n_samples, *image_shape) from latents (n_samples, latent_dim)."""
        return self.decoder(self.norm(rep))

    def config(self) -> dict[str, Any]:
        return {
            "hidden": list(self.decoder.mlp.hidden),
            "latent_norm": self.norm.kind,
            "seed": self.seed,
        }


class RelativeAE(_Autoencoder, _Relative):
    """Relative image autoencoder: the bottleneck is the similarity vector to the anchors.

    Example:
        >>> anchors = torch.rand(10, 1, 8, 8, generator=torch.Generator().manual_seed(0))
        >>> ae = RelativeAE(MLPEncoder((1, 8, 8), 6), anchors)
        >>> ae.encode(torch.rand(2, 1, 8, 8)).shape
        torch.Size([2, 10])
    """

    def __init__(
        self,
        encoder: nn.Module,
        anchor_inputs: Tensor,
        *,
        anchor_ids: Any = None,
        hidden: Sequence[int] = (256,),
        spec: ProjectionSpec | None = None,
        output_norm: str = MODEL_OUTPUT_NORM,
        quantize: float | None = None,
        anchor_grad: bool = False,
        seed: int = 0,
    ) -> None:
        super().__init__(encoder, anchor_inputs, anchor_ids, seed=seed)
        self._build_projection(spec, output_norm, quantize, anchor_grad)
        self._build_decoder(hidden)

    def decode(self, rep: Tensor) -> Tensor:
        """Images (n_samples, *image_shape) from raw similarities (n_samples, rep_dim)."""
        return self.decoder(self.projection.normalize(rep))

    def config(self) -> dict[str, Any]:
        return {
            "hidden": list(self.decoder.mlp.hidden),
            "seed": self.seed,
            **self._projection_config(),
        }


class _Gaussian(nn.Module):
    """Mean and log-variance heads of a VAE on top of the encoder's features."""

    def __init__(self, in_features: int, latent_dim: int, seed: int) -> None:
        super().__init__()
        with seeded(seed):
            self.mu = nn.Linear(in_features, latent_dim)
            self.logvar = nn.Linear(in_features, latent_dim)

    def forward(self, h: Tensor) -> tuple[Tensor, Tensor]:
        return self.mu(h), self.logvar(h).clamp(-12.0, 12.0)


def _kl(mu: Tensor, logvar: Tensor) -> Tensor:
    return -0.5 * torch.sum(1.0 + logvar - mu * mu - logvar.exp(), dim=1).mean()


def _sample(mu: Tensor, logvar: Tensor, generator: torch.Generator | None) -> Tensor:
    # A CPU generator (the trainer's) draws on the CPU and the noise moves to mu's device.
    device = mu.device if generator is None else generator.device
    noise = torch.randn(mu.shape, generator=generator, dtype=mu.dtype, device=device)
    return mu + noise.to(mu.device) * torch.exp(0.5 * logvar)


class _VAEMixin(_Autoencoder):
    """What both VAEs share: Gaussian posterior heads, posterior-mean latents, the ELBO loss."""

    gaussian: _Gaussian
    beta: float
    vae_dim: int

    def _build_gaussian(self, latent_dim: int, beta: float) -> None:
        """The posterior heads on the encoder's features; the first part of a VAE's bottleneck."""
        self.vae_dim = check_int(latent_dim, "latent_dim", low=1)
        self.beta = check_float(beta, "beta", low=0.0)
        self.gaussian = _Gaussian(self.encoder_dim, self.vae_dim, self.seed)

    @property
    def latent_dim(self) -> int:
        return self.vae_dim

    def embed(self, x: Tensor) -> Tensor:
        """Posterior means (deterministic latents), (n_samples, latent_dim)."""
        return self.gaussian(self.encoder(x))[0]

    def _decode_sample(self, z: Tensor, z_anchor_mean: Tensor | None) -> Tensor:
        raise NotImplementedError

    def training_loss(
        self, x: Tensor, y: Tensor | None = None, *, generator: torch.Generator | None = None
    ) -> Tensor:
        """Summed-pixel MSE + beta * KL, averaged over the batch; z is drawn with ``generator``."""
        if self.kind == "relative":
            h, h_anchors = self._with_anchors(x, self.encoder)  # encoder features, one pass
            mu, logvar = self.gaussian(h)
            anchor_mu = self.gaussian(h_anchors)[0]
        else:
            mu, logvar = self.gaussian(self.encoder(x))
            anchor_mu = None
        recon = self._decode_sample(_sample(mu, logvar, generator), anchor_mu)
        mse = F.mse_loss(recon, x, reduction="sum") / x.shape[0]
        return mse + self.beta * _kl(mu, logvar)


class AbsoluteVAE(_VAEMixin, _Absolute):
    """Image VAE: encoder features -> (mu, logvar) -> z -> norm -> MLP decoder. Inference uses mu.

    Example:
        >>> vae = AbsoluteVAE(MLPEncoder((1, 8, 8), 16), latent_dim=4)
        >>> vae.encode(torch.rand(2, 1, 8, 8)).shape
        torch.Size([2, 4])
    """

    def __init__(
        self,
        encoder: nn.Module,
        *,
        latent_dim: int,
        hidden: Sequence[int] = (256,),
        latent_norm: str = MODEL_OUTPUT_NORM,
        beta: float = 1.0,
        anchor_inputs: Tensor | None = None,
        anchor_ids: Any = None,
        seed: int = 0,
    ) -> None:
        super().__init__(encoder, anchor_inputs, anchor_ids, seed=seed)
        self._build_gaussian(latent_dim, beta)
        self.norm = OutputNorm(latent_norm, self.latent_dim)
        self._build_decoder(hidden)

    def decode(self, rep: Tensor) -> Tensor:
        return self.decoder(self.norm(rep))

    def _decode_sample(self, z: Tensor, z_anchor_mean: Tensor | None) -> Tensor:
        return self.decode(z)

    def config(self) -> dict[str, Any]:
        return {
            "latent_dim": self.vae_dim,
            "hidden": list(self.decoder.mlp.hidden),
            "latent_norm": self.norm.kind,
            "beta": self.beta,
            "seed": self.seed,
        }


class RelativeVAE(_VAEMixin, _Relative):
    """Relative image VAE: a sampled z is compared with the anchors' posterior means.

    Inference (``encode``) uses posterior means for the input and the anchors alike.

    Example:
        >>> anchors = torch.rand(10, 1, 8, 8, generator=torch.Generator().manual_seed(0))
        >>> vae = RelativeVAE(MLPEncoder((1, 8, 8), 16), anchors, latent_dim=4)
        >>> vae(torch.rand(2, 1, 8, 8)).shape
        torch.Size([2, 1, 8, 8])
    """

    def __init__(
        self,
        encoder: nn.Module,
        anchor_inputs: Tensor,
        *,
        latent_dim: int,
        anchor_ids: Any = None,
        hidden: Sequence[int] = (256,),
        beta: float = 1.0,
        spec: ProjectionSpec | None = None,
        output_norm: str = MODEL_OUTPUT_NORM,
        quantize: float | None = None,
        anchor_grad: bool = False,
        seed: int = 0,
    ) -> None:
        super().__init__(encoder, anchor_inputs, anchor_ids, seed=seed)
        self._build_gaussian(latent_dim, beta)
        self._build_projection(spec, output_norm, quantize, anchor_grad)
        self._build_decoder(hidden)

    def decode(self, rep: Tensor) -> Tensor:
        return self.decoder(self.projection.normalize(rep))

    def _decode_sample(self, z: Tensor, z_anchor_mean: Tensor | None) -> Tensor:
        if z_anchor_mean is None:
            raise RuntimeError("a relative VAE decodes from the anchors' posterior means")
        return self.decode(self.projection.relative(z, z_anchor_mean))

    def config(self) -> dict[str, Any]:
        return {
            "latent_dim": self.vae_dim,
            "hidden": list(self.decoder.mlp.hidden),
            "beta": self.beta,
            "seed": self.seed,
            **self._projection_config(),
        }


MODELS: dict[str, type[_Model]] = {
    cls.__name__: cls
    for cls in (
        AbsoluteClassifier,
        RelativeClassifier,
        AbsoluteAE,
        RelativeAE,
        AbsoluteVAE,
        RelativeVAE,
    )
}
