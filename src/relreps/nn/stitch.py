"""Zero-shot stitching of torch models: one model's encoder, another model's head.

- A RELATIVE decoder model reads any encoder model that stores anchor inputs: the stitched module
  embeds the input and the encoder model's anchor inputs with the encoder model's encoder, turns
  them into similarities with the DECODER model's projection (its similarity options, quantisation
  and output normalisation: the receiving side normalises), and runs the decoder model's head.
  Anchor identities are compared first: stitching needs the same anchors (parallel items).
- An ABSOLUTE decoder model reads the encoder model's latents directly; this is only defined when
  both latent widths agree. Otherwise :func:`stitch` raises :class:`StitchingUndefinedError` with
  the reason, and :func:`check_stitch` reports it without raising.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch
from torch import Tensor, nn

from relreps._validation import fail
from relreps.errors import RelrepsError

__all__ = [
    "AnchorMismatchError",
    "StitchCheck",
    "StitchedModel",
    "StitchingUndefinedError",
    "check_stitch",
    "stitch",
]


class StitchingUndefinedError(RelrepsError, ValueError):
    """Raised when a stitch is not defined (e.g. absolute latents of different widths)."""


class AnchorMismatchError(RelrepsError, ValueError):
    """Raised when two relative models were built on different anchors."""


@dataclass(frozen=True)
class StitchCheck:
    """Whether ``stitch(encoder_model, decoder_model)`` is defined, and why not.

    Attributes:
        defined: True when the stitch can be built.
        method: ``"relative"`` or ``"absolute"`` (the decoder model's kind).
        reason: empty when defined, else a sentence naming both models' relevant sizes.
    """

    defined: bool
    method: str
    reason: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {"defined": self.defined, "method": self.method, "reason": self.reason}


def _kind(model: Any, name: str) -> str:
    kind = getattr(model, "kind", None)
    if not isinstance(model, nn.Module) or kind not in ("absolute", "relative"):
        raise fail(
            name,
            "a relreps.nn model (AbsoluteClassifier, RelativeClassifier, *AE, *VAE)",
            type(model).__name__,
            TypeError,
        )
    return str(kind)


def check_stitch(encoder_model: nn.Module, decoder_model: nn.Module) -> StitchCheck:
    """Report whether the stitch is defined, without building it.

    Raises:
        TypeError: when either argument is not a relreps.nn model.
        AnchorMismatchError: relative stitch between models whose stored anchor identities differ
            (a different set or a different order of the same keys).

    Example:
        >>> from relreps.nn.models import AbsoluteClassifier, MLPEncoder
        >>> a = AbsoluteClassifier(MLPEncoder((4,), 8), 3)
        >>> b = AbsoluteClassifier(MLPEncoder((4,), 6), 3)
        >>> check = check_stitch(a, b)
        >>> check.defined, check.reason[:35]
        (False, 'absolute stitching is not defined: ')
    """
    _kind(encoder_model, "encoder_model")
    method = _kind(decoder_model, "decoder_model")
    enc: Any = encoder_model
    dec: Any = decoder_model
    if method == "absolute":
        if enc.latent_dim != dec.latent_dim:
            return StitchCheck(
                False,
                method,
                "absolute stitching is not defined: the encoder model embeds into "
                f"{enc.latent_dim} dimensions but the decoder model reads {dec.latent_dim}",
            )
        return StitchCheck(True, method)
    if enc.n_anchors is None:
        return StitchCheck(
            False,
            method,
            "relative stitching is not defined: the encoder model stores no anchor inputs to embed",
        )
    if enc.n_anchors != dec.n_anchors:
        return StitchCheck(
            False,
            method,
            f"relative stitching is not defined: the encoder model has {enc.n_anchors} anchors "
            f"but the decoder model's head expects {dec.n_anchors}",
        )
    _compare_anchor_ids(enc.anchor_ids, dec.anchor_ids)
    return StitchCheck(True, method)


def _compare_anchor_ids(enc_ids: list[Any] | None, dec_ids: list[Any] | None) -> None:
    if enc_ids is None or dec_ids is None or enc_ids == dec_ids:
        return
    first = next(
        (i for i, (a, b) in enumerate(zip(enc_ids, dec_ids, strict=False)) if a != b), None
    )
    if first is None:
        first = min(len(enc_ids), len(dec_ids))
    same_set = set(enc_ids) == set(dec_ids)
    detail = "the same keys in a different order" if same_set else "different keys"
    enc_key = enc_ids[first] if first < len(enc_ids) else "<none>"
    dec_key = dec_ids[first] if first < len(dec_ids) else "<none>"
    raise AnchorMismatchError(
        f"Expected the encoder model and the decoder model to share their anchors, but they hold "
        f"{detail}: anchor {first} is {enc_key!r} in the encoder model and {dec_key!r} in the "
        "decoder model. Build both models on the same (parallel) anchors, in the same order."
    )


class StitchedModel(nn.Module):
    """``encoder_model``'s encoder followed by ``decoder_model``'s head (see :func:`stitch`).

    The stitched module holds references to both models (no copies): training either one changes
    it. ``forward(x)`` gives the decoder model's output type (logits or images).
    """

    def __init__(self, encoder_model: nn.Module, decoder_model: nn.Module, method: str) -> None:
        super().__init__()
        self.encoder_model = encoder_model
        self.decoder_model = decoder_model
        self.method = method

    @property
    def task(self) -> str:
        return str(getattr(self.decoder_model, "task", ""))

    def encode(self, x: Tensor) -> Tensor:
        """The representation the decoder model reads, computed from the encoder model."""
        enc: Any = self.encoder_model
        dec: Any = self.decoder_model
        if self.method == "relative":
            z, z_anchors = enc.embed_with_anchors(x)
            return dec.projection.relative(z, z_anchors)
        return enc.embed(x)

    def forward(self, x: Tensor) -> Tensor:
        dec: Any = self.decoder_model
        return dec.decode(self.encode(x))

    @torch.no_grad()
    def predict(self, x: Tensor, *, batch_size: int = 1024) -> Tensor:
        """Eval-mode outputs in batches: class indices for classifiers, images for autoencoders."""
        from relreps.nn.models import _predict

        return _predict(self, x, batch_size=batch_size, classify=self.task == "classification")

    def extra_repr(self) -> str:
        return f"method={self.method!r}"


def stitch(encoder_model: nn.Module, decoder_model: nn.Module) -> StitchedModel:
    """Zero-shot stitch: embed with ``encoder_model``, decode with ``decoder_model``'s head.

    The method follows the decoder model: relative heads re-read the encoder model's anchors as
    similarities (through the decoder's own projection and normalisation); absolute heads read the
    encoder model's latents as they are.

    Args:
        encoder_model: any relreps.nn model; relative stitching needs its anchor inputs.
        decoder_model: the model whose head (classifier / image decoder) is reused.

    Returns:
        A :class:`StitchedModel`; ``stitch(m, m)(x)`` equals ``m(x)``.

    Raises:
        StitchingUndefinedError: absolute latents of different widths, different anchor counts, or
            an encoder model without anchor inputs for a relative head (message says which).
        AnchorMismatchError: stored anchor identities differ.
        TypeError: arguments that are not relreps.nn models.

    Example:
        >>> from relreps.nn.models import MLPEncoder, RelativeClassifier
        >>> anchors = torch.randn(6, 4, generator=torch.Generator().manual_seed(0))
        >>> a = RelativeClassifier(MLPEncoder((4,), 8, seed=1), anchors, 3).eval()
        >>> b = RelativeClassifier(MLPEncoder((4,), 5, seed=2), anchors, 3).eval()
        >>> stitch(a, b)(torch.zeros(2, 4)).shape
        torch.Size([2, 3])
    """
    check = check_stitch(encoder_model, decoder_model)
    if not check.defined:
        raise StitchingUndefinedError(check.reason)
    return StitchedModel(encoder_model, decoder_model, check.method)
