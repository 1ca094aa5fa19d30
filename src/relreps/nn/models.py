"""Relative and absolute models with an encode/decode split: classifiers and image autoencoders.

The networks they are built from (image encoders, MLP head, image decoder, ``seeded``) live in
:mod:`relreps.nn.networks` and are re-exported here.

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
from relreps.nn.networks import (
    ENCODERS,
    CNNEncoder,
    ImageDecoder,
    MLPEncoder,
    MLPHead,
    ResidualCNNEncoder,
    seeded,
)
from relreps.nn.projection import MODEL_OUTPUT_NORM, OUTPUT_NORMS, OutputNorm, RelativeProjection
from relreps.projection_spec import UNSET, ProjectionSpec, Unset

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


# --- model base -----------------------------------------------------------------------------------


class _Model(nn.Module):
    """Shared plumbing: the encoder, the anchors (inputs + identities), embed/encode/decode."""

    kind: str = ""  # "absolute" or "relative"
    task: str = ""  # "classification" or "reconstruction"
    anchor_inputs: Tensor | None

    def __init__(
        self, encoder: nn.Module, anchor_inputs: Tensor | None, anchor_ids: Any, *, required: bool
    ) -> None:
        super().__init__()
        if not isinstance(encoder, nn.Module):
            raise fail("encoder", "a torch.nn.Module", type(encoder).__name__, TypeError)
        self.encoder = encoder
        latent_dim = getattr(encoder, "latent_dim", None)
        if not isinstance(latent_dim, int):
            raise fail(
                "encoder",
                "a module with an int `latent_dim` attribute",
                type(encoder).__name__,
                TypeError,
            )
        self.encoder_dim = latent_dim
        if anchor_inputs is None:
            if required:
                raise fail("anchor_inputs", "a tensor of anchor inputs", "None", TypeError)
            self.register_buffer("anchor_inputs", None)
        else:
            if not isinstance(anchor_inputs, Tensor):
                raise fail(
                    "anchor_inputs", "a torch.Tensor", type(anchor_inputs).__name__, TypeError
                )
            if anchor_inputs.ndim < 2 or anchor_inputs.shape[0] < 1:
                raise fail(
                    "anchor_inputs",
                    "a tensor of shape (n_anchors, *input_shape) with n_anchors >= 1",
                    f"shape {tuple(anchor_inputs.shape)}",
                )
            if anchor_inputs.is_floating_point() and not bool(torch.isfinite(anchor_inputs).all()):
                raise fail("anchor_inputs", "finite values", "NaN or Inf")
            self.register_buffer("anchor_inputs", anchor_inputs.detach().clone())
        self.anchor_ids = anchor_keys(anchor_ids)
        n = self.n_anchors
        if self.anchor_ids is not None and n is not None and len(self.anchor_ids) != n:
            raise ValueError(
                f"Expected `anchor_ids` to name the {n} anchor inputs, but got "
                f"{len(self.anchor_ids)} keys."
            )

    @property
    def n_anchors(self) -> int | None:
        """Number of stored anchor inputs (None when the model holds none)."""
        return None if self.anchor_inputs is None else int(self.anchor_inputs.shape[0])

    @property
    def latent_dim(self) -> int:
        """Width of ``embed``'s output."""
        return self.encoder_dim

    @property
    def rep_dim(self) -> int:
        """Width of the representation passed between models (``encode``'s output)."""
        raise NotImplementedError

    def embed(self, x: Tensor) -> Tensor:
        """Absolute latents of ``x``: (n_samples, *input_shape) -> (n_samples, latent_dim)."""
        return self.encoder(x)

    def embed_with_anchors(self, x: Tensor) -> tuple[Tensor, Tensor]:
        """Latents of ``x`` and of the stored anchor inputs, by the current encoder.

        Without autograd (inference) both go through ONE batched encoder forward. While training
        with the anchors detached (the default), the anchors take a separate no-grad forward
        instead, so the backward pass covers the batch only; with ``anchor_grad=True`` they are
        batched with ``x`` and receive gradients.
        """
        return self._with_anchors(x, self.embed)

    def _with_anchors(self, x: Tensor, fn: Any) -> tuple[Tensor, Tensor]:
        if self.anchor_inputs is None:
            raise ValueError(f"This {type(self).__name__} stores no anchor inputs to embed.")
        anchors = (
            self.anchor_inputs.to(dtype=x.dtype) if x.is_floating_point() else self.anchor_inputs
        )
        if tuple(x.shape[1:]) != tuple(anchors.shape[1:]):
            raise fail(
                "x",
                f"a tensor of shape (n_samples, {', '.join(map(str, anchors.shape[1:]))}) like "
                "the anchor inputs",
                f"shape {tuple(x.shape)}",
            )
        projection = getattr(self, "projection", None)
        anchor_grad = bool(getattr(projection, "anchor_grad", False))
        if torch.is_grad_enabled() and not anchor_grad:
            z = fn(x)
            with torch.no_grad():
                return z, fn(anchors)
        both = fn(torch.cat([x, anchors], dim=0))
        return both[: x.shape[0]], both[x.shape[0] :]

    def encode(self, x: Tensor) -> Tensor:
        raise NotImplementedError

    def decode(self, rep: Tensor) -> Tensor:
        raise NotImplementedError

    def forward(self, x: Tensor) -> Tensor:
        return self.decode(self.encode(x))

    def training_loss(
        self, x: Tensor, y: Tensor | None = None, *, generator: torch.Generator | None = None
    ) -> Tensor:
        """The loss :func:`relreps.nn.fit` minimises for one batch."""
        out = self(x)
        if self.task == "classification":
            if y is None:
                raise fail("y", "class labels for a classifier", "None", TypeError)
            return F.cross_entropy(out, y)
        return F.mse_loss(out, x)

    @torch.no_grad()
    def predict(self, x: Tensor, *, batch_size: int = 1024) -> Tensor:
        """Eval-mode outputs in batches: class indices for classifiers, images for autoencoders."""
        return _predict(self, x, batch_size=batch_size, classify=self.task == "classification")

    def config(self) -> dict[str, Any]:
        """JSON-able constructor arguments except the encoder and anchor inputs."""
        raise NotImplementedError

    def extra_repr(self) -> str:
        return f"kind={self.kind!r}, task={self.task!r}, n_anchors={self.n_anchors}"


@torch.no_grad()
def _predict(model: nn.Module, x: Tensor, *, batch_size: int, classify: bool) -> Tensor:
    batch_size = check_int(batch_size, "batch_size", low=1)
    was_training = model.training
    device = model_device(model)
    model.eval()
    try:
        outs = [
            model(x[s : s + batch_size].to(device)).cpu() for s in range(0, x.shape[0], batch_size)
        ]
    finally:
        model.train(was_training)
    out = torch.cat(outs) if outs else torch.empty(0)
    return out.argmax(dim=1) if classify else out


def model_device(model: nn.Module) -> torch.device:
    """Where the model's parameters (or buffers) live; CPU for a module with neither."""
    for tensor in [*model.parameters(), *model.buffers()]:
        return tensor.device
    return torch.device("cpu")


class _Relative(_Model):
    """Relative bottleneck: ``encode`` = raw similarities, ``decode`` starts with the norm."""

    kind = "relative"
    projection: RelativeProjection

    def _build_projection(self, options: dict[str, Any]) -> None:
        if self.n_anchors is None:  # required=True in __init__ makes this unreachable
            raise RuntimeError("a relative model needs anchor inputs to build its projection")
        self.projection = RelativeProjection(self.n_anchors, **options)

    @property
    def rep_dim(self) -> int:
        """Width of the representation passed between models (out_features of the projection)."""
        return self.projection.out_features

    def encode(self, x: Tensor) -> Tensor:
        z, z_anchors = self.embed_with_anchors(x)
        return self.projection.relative(z, z_anchors)

    def _projection_config(self) -> dict[str, Any]:
        cfg = self.projection.config()
        cfg.pop("n_anchors")
        return cfg


class _Absolute(_Model):
    kind = "absolute"

    @property
    def rep_dim(self) -> int:
        """Width of the representation passed between models (the latent width)."""
        return self.latent_dim

    def encode(self, x: Tensor) -> Tensor:
        return self.embed(x)


def _projection_options(
    spec: ProjectionSpec | None,
    similarity: Any,
    center: str | Unset | None,
    aggregate: str | Unset,
    topk: int | Unset | None,
    power: float | Unset | None,
    output_norm: str,
    quantize: float | None,
    anchor_grad: bool,
    eps: float,
) -> dict[str, Any]:
    return {
        "spec": spec,
        "similarity": similarity,
        "center": center,
        "aggregate": aggregate,
        "topk": topk,
        "power": power,
        "output_norm": output_norm,
        "quantize": quantize,
        "anchor_grad": anchor_grad,
        "eps": eps,
    }


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
        spec, similarity, center, aggregate, topk, power, output_norm, quantize, anchor_grad, eps:
            options of :class:`relreps.nn.RelativeProjection` (``spec``: a
            :class:`relreps.ProjectionSpec`; ``output_norm`` defaults to ``"layernorm"`` here,
            :data:`relreps.nn.projection.MODEL_OUTPUT_NORM`).
        seed: head initialisation seed.

    Example:
        >>> anchors = torch.randn(5, 4, generator=torch.Generator().manual_seed(0))
        >>> model = RelativeClassifier(MLPEncoder((4,), 8), anchors, 3)
        >>> model.encode(torch.zeros(2, 4)).shape, model(torch.zeros(2, 4)).shape
        (torch.Size([2, 5]), torch.Size([2, 3]))
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
        similarity: Any = UNSET,
        center: str | Unset | None = UNSET,
        aggregate: str | Unset = UNSET,
        topk: int | Unset | None = UNSET,
        power: float | Unset | None = UNSET,
        output_norm: str = MODEL_OUTPUT_NORM,
        quantize: float | None = None,
        anchor_grad: bool = False,
        eps: float = 1e-5,
        seed: int = 0,
    ) -> None:
        super().__init__(encoder, anchor_inputs, anchor_ids, required=True)
        self.n_classes = check_int(n_classes, "n_classes", low=2)
        self.seed = check_int(seed, "seed", low=0)
        self._build_projection(
            _projection_options(
                spec,
                similarity,
                center,
                aggregate,
                topk,
                power,
                output_norm,
                quantize,
                anchor_grad,
                eps,
            )
        )
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
        similarity: Any = UNSET,
        center: str | Unset | None = UNSET,
        aggregate: str | Unset = UNSET,
        topk: int | Unset | None = UNSET,
        power: float | Unset | None = UNSET,
        output_norm: str = MODEL_OUTPUT_NORM,
        quantize: float | None = None,
        anchor_grad: bool = False,
        eps: float = 1e-5,
        seed: int = 0,
    ) -> None:
        super().__init__(encoder, anchor_inputs, anchor_ids, seed=seed)
        self._build_projection(
            _projection_options(
                spec,
                similarity,
                center,
                aggregate,
                topk,
                power,
                output_norm,
                quantize,
                anchor_grad,
                eps,
            )
        )
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
        similarity: Any = UNSET,
        center: str | Unset | None = UNSET,
        aggregate: str | Unset = UNSET,
        topk: int | Unset | None = UNSET,
        power: float | Unset | None = UNSET,
        output_norm: str = MODEL_OUTPUT_NORM,
        quantize: float | None = None,
        anchor_grad: bool = False,
        eps: float = 1e-5,
        seed: int = 0,
    ) -> None:
        super().__init__(encoder, anchor_inputs, anchor_ids, seed=seed)
        self._build_gaussian(latent_dim, beta)
        self._build_projection(
            _projection_options(
                spec,
                similarity,
                center,
                aggregate,
                topk,
                power,
                output_norm,
                quantize,
                anchor_grad,
                eps,
            )
        )
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
