"""An identity "encoder" for precomputed (frozen) embeddings.

A relreps.nn model needs an encoder module with a ``latent_dim``; :class:`IdentityEncoder` passes
its inputs through, so a model built on it trains only its head, on features computed elsewhere
(a frozen text or image encoder, as in the paper's frozen-encoder settings).
"""

from __future__ import annotations

from torch import Tensor, nn

from relreps._validation import check_int
from relreps.nn.networks import _check_input

__all__ = ["IdentityEncoder"]


class IdentityEncoder(nn.Module):
    """The identity on ``(n_samples, dim)`` features: ``latent_dim = in_shape[0] = dim``.

    It has no parameters. :func:`relreps.nn.save_model` stores a model on it as one with a custom
    encoder: pass ``encoder=IdentityEncoder(dim)`` to :func:`relreps.nn.load_model`.

    Args:
        dim: width of the features.

    Shapes:
        (n_samples, dim) -> (n_samples, dim)

    Example:
        >>> import torch
        >>> from relreps.nn import AbsoluteClassifier
        >>> model = AbsoluteClassifier(IdentityEncoder(4), 3, seed=0)
        >>> model.predict(torch.zeros(5, 4)).shape
        torch.Size([5])
    """

    def __init__(self, dim: int) -> None:
        super().__init__()
        self.latent_dim = check_int(dim, "dim", low=1)
        self.in_shape = (self.latent_dim,)

    def forward(self, x: Tensor) -> Tensor:
        _check_input(x, self.in_shape)
        return x
