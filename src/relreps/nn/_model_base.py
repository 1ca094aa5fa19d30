"""The base of the relreps.nn models: encoder, anchors and the embed/encode/decode split.

``_Model`` holds the encoder and the anchors (inputs + identities) and implements ``embed``,
``forward``, ``training_loss`` and ``predict``; ``_Relative`` and ``_Absolute`` add the two
bottlenecks (raw similarities to the anchors vs the latents). The concrete models
(:mod:`relreps.nn.models`) combine one of them with a head.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor, nn
from torch.nn import functional as F

from relreps._validation import check_int, fail
from relreps.anchors import anchor_keys
from relreps.nn.projection import RelativeProjection
from relreps.projection_spec import ProjectionSpec


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

    def _build_projection(
        self,
        spec: ProjectionSpec | None,
        output_norm: str,
        quantize: float | None,
        anchor_grad: bool,
    ) -> None:
        """The projection of the models: ``spec`` (None: ``ProjectionSpec()``) and the layer's
        own options; ``eps`` stays the layer's default, which every model used."""
        if self.n_anchors is None:  # required=True in __init__ makes this unreachable
            raise RuntimeError("a relative model needs anchor inputs to build its projection")
        self.projection = RelativeProjection(
            self.n_anchors,
            spec=ProjectionSpec() if spec is None else spec,
            output_norm=output_norm,
            quantize=quantize,
            anchor_grad=anchor_grad,
        )

    @property
    def rep_dim(self) -> int:
        """Width of the representation passed between models (out_features of the projection)."""
        return self.projection.out_features

    def encode(self, x: Tensor) -> Tensor:
        z, z_anchors = self.embed_with_anchors(x)
        return self.projection.relative(z, z_anchors)

    def _projection_config(self) -> dict[str, Any]:
        """The projection part of ``config()``: the spec as a dict and the layer's options."""
        layer = self.projection
        return {
            "spec": layer.spec.to_dict(),
            "output_norm": layer.output_norm.kind,
            "quantize": layer.quantize,
            "anchor_grad": layer.anchor_grad,
        }


class _Absolute(_Model):
    kind = "absolute"

    @property
    def rep_dim(self) -> int:
        """Width of the representation passed between models (the latent width)."""
        return self.latent_dim

    def encode(self, x: Tensor) -> Tensor:
        return self.embed(x)
