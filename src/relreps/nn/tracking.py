"""How close a model's latent space is to a reference model's, logged while it trains.

The paper (4.2) compares many models to one strong model: the mean cosine between the model's and
the reference's relative representations of a fixed probe set (relative to the same anchor inputs)
tracks the model's validation accuracy over training.

- :func:`relative_embedding`: a torch encoder's relative representation of some inputs with
  respect to some anchor inputs (float64 numpy).
- :class:`SimilarityTracker`: an ``on_epoch`` hook of :func:`relreps.nn.fit` that logs, at each
  call, the model's validation accuracy and the paired cosine (plain and row-centred) of its
  relative representation to a reference one.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch import Tensor, nn

from relreps._validation import fail
from relreps.metrics import paired_cosine
from relreps.projection import relative_projection

__all__ = ["SimilarityTracker", "relative_embedding"]


def _check_rows(x: Any, name: str) -> Tensor:
    if not isinstance(x, Tensor):
        raise fail(name, "a torch tensor", type(x).__name__, TypeError)
    if x.ndim < 2 or x.shape[0] == 0:
        raise fail(name, "shape (n >= 1, *in_shape)", f"{tuple(x.shape)}")
    return x


def relative_embedding(encoder: nn.Module, inputs: Tensor, anchors: Tensor) -> np.ndarray:
    """Cosine of each input's embedding to each anchor's, under one torch encoder.

    The encoder is put in eval mode and runs once, without gradients, on ``inputs`` and
    ``anchors`` stacked; the cosines are taken in float64 (near-constant relative rows keep their
    spread above float32 rounding).

    Args:
        encoder: a torch module mapping (n, *in_shape) inputs to (n, d) embeddings.
        inputs: (n_inputs, *in_shape) tensor.
        anchors: (n_anchors, *in_shape) tensor of the same input shape.

    Returns:
        (n_inputs, n_anchors) float64 array.

    Example:
        >>> x = torch.tensor([[1.0, 0.0], [1.0, 1.0]])
        >>> relative_embedding(nn.Identity(), x, torch.tensor([[2.0, 0.0]])).round(3).tolist()
        [[1.0], [0.707]]
    """
    if not isinstance(encoder, nn.Module):
        raise fail("encoder", "a torch.nn.Module", type(encoder).__name__, TypeError)
    inputs, anchors = _check_rows(inputs, "inputs"), _check_rows(anchors, "anchors")
    if inputs.shape[1:] != anchors.shape[1:]:
        raise fail("anchors", f"rows of shape {tuple(inputs.shape[1:])}", f"{tuple(anchors.shape)}")
    encoder.eval()
    with torch.no_grad():
        z = encoder(torch.cat([inputs, anchors]))
    n = inputs.shape[0]
    return relative_projection(z[:n].double(), z[n:].double()).numpy()


class SimilarityTracker:
    """Validation accuracy and similarity to a reference, logged at each call (a fit hook).

    Each call (``tracker()`` before training for the initialisation, then ``on_epoch=tracker``
    in :func:`relreps.nn.fit`) appends the classifier's accuracy (%) on ``(x_val, y_val)`` and,
    with a ``reference``, the paired cosine of the encoder's relative representation of ``probe``
    (:func:`relative_embedding` to ``anchors``) to it, plain and row-centred
    (:func:`relreps.metrics.paired_cosine` with ``center_rows``). The last relative
    representation is kept in :attr:`relative` (the reference's own, when tracking the
    reference).

    Args:
        model: the classifier, (n, *in_shape) inputs -> (n, n_classes) logits.
        encoder: the part of ``model`` whose output is the latent space (e.g. ``model[0]``).
        x_val: (n_val, *in_shape) validation inputs.
        y_val: (n_val,) integer labels.
        probe: (n_probe, *in_shape) inputs whose relative representations are compared.
        anchors: (n_anchors, *in_shape) anchor inputs.
        reference: (n_probe, n_anchors) the reference model's relative representation of
            ``probe`` to the same ``anchors``, or None (log the accuracy only).

    Example:
        >>> from relreps.nn import TrainConfig, fit
        >>> g = torch.Generator().manual_seed(0)
        >>> x = torch.randn(64, 4, generator=g)
        >>> y = (x[:, 0] > 0).long()
        >>> model = nn.Sequential(nn.Sequential(nn.Linear(4, 8), nn.ReLU()), nn.Linear(8, 2))
        >>> ref = relative_embedding(model[0], x[:16], x[16:24])
        >>> track = SimilarityTracker(model, model[0], x, y, x[:16], x[16:24], reference=ref)
        >>> track()
        >>> _ = fit(model, x, y, config=TrainConfig(epochs=2, progress=False), val_rows=[],
        ...         loss_fn=lambda m, xb, yb, _: nn.functional.cross_entropy(m(xb), yb),
        ...         on_epoch=track)
        >>> len(track.accuracy), track.similarity[0], track.relative.shape
        (3, 1.0, (16, 8))
    """

    def __init__(
        self,
        model: nn.Module,
        encoder: nn.Module,
        x_val: Tensor,
        y_val: Any,
        probe: Tensor,
        anchors: Tensor,
        *,
        reference: Any = None,
    ) -> None:
        for name, module in (("model", model), ("encoder", encoder)):
            if not isinstance(module, nn.Module):
                raise fail(name, "a torch.nn.Module", type(module).__name__, TypeError)
        self.x_val = _check_rows(x_val, "x_val")
        self.y_val = np.asarray(y_val)
        if self.y_val.shape != (x_val.shape[0],):
            raise fail("y_val", f"shape ({x_val.shape[0]},)", f"{self.y_val.shape}")
        self.probe, self.anchors = _check_rows(probe, "probe"), _check_rows(anchors, "anchors")
        if reference is not None:
            reference = np.asarray(reference)
            shape = (probe.shape[0], anchors.shape[0])
            if reference.shape != shape:
                raise fail("reference", f"shape {shape} (n_probe, n_anchors)", f"{reference.shape}")
        self.model, self.encoder, self.reference = model, encoder, reference
        self.accuracy: list[float] = []
        self.similarity: list[float] = []
        self.similarity_centred: list[float] = []
        self.relative: np.ndarray | None = None

    def __call__(self, epoch: int = -1, model: Any = None) -> None:
        """Log one point (``epoch`` and ``model`` are :func:`relreps.nn.fit`'s hook arguments)."""
        self.model.eval()
        with torch.no_grad():
            pred = self.model(self.x_val).argmax(dim=1).numpy()
        self.accuracy.append(float(100.0 * (pred == self.y_val).mean()))
        self.relative = relative_embedding(self.encoder, self.probe, self.anchors)
        if self.reference is not None:
            for log, centred in ((self.similarity, False), (self.similarity_centred, True)):
                log.append(paired_cosine(self.relative, self.reference, center_rows=centred))

    def history(self) -> dict[str, Any]:
        """``{"accuracy", "similarity", "similarity_centred"}`` lists (entry i = call i), plus
        ``"relative"`` (the last relative representation) when there is no reference."""
        out: dict[str, Any] = {
            "accuracy": self.accuracy,
            "similarity": self.similarity,
            "similarity_centred": self.similarity_centred,
        }
        if self.reference is None:
            out["relative"] = self.relative
        return out
