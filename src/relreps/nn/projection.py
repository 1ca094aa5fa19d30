"""``RelativeProjection``: the relative representation as a torch layer.

The math lives in one place, :func:`relreps.projection.relative_projection`; this module wraps it
with what a network needs on top: the anchors' gradient policy, similarity quantisation with a
straight-through gradient, and the normalisation the *receiving* side applies to the similarities.

The layer is split in two on purpose, so stitching is one call:

- :meth:`RelativeProjection.relative` computes the raw (optionally quantised) similarity vector,
  the representation that travels between models;
- :meth:`RelativeProjection.normalize` applies ``output_norm`` (none, l2, layernorm, batchnorm).

``forward(x, anchors) == normalize(relative(x, anchors))``.

The projection options are one :class:`relreps.ProjectionSpec` (``spec=``, or the keywords);
``output_norm`` is not one of them: it is the receiving side's. This layer's default is
``"none"`` (the layer alone returns the raw relative vector, like
:func:`relreps.relative_projection`); the models of :mod:`relreps.nn.models` apply
:data:`MODEL_OUTPUT_NORM` (``"layernorm"``) before their heads and decoders.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any

import torch
from torch import Tensor, nn

from relreps._validation import check_choice, check_float, check_int, fail
from relreps.projection_spec import UNSET, ProjectionSpec, Unset

__all__ = [
    "LAYER_OUTPUT_NORM",
    "MODEL_OUTPUT_NORM",
    "OUTPUT_NORMS",
    "OutputNorm",
    "RelativeProjection",
]

OUTPUT_NORMS = ("none", "l2", "layernorm", "batchnorm")
LAYER_OUTPUT_NORM = "none"
"""Default ``output_norm`` of the bare :class:`RelativeProjection` layer: raw similarities."""
MODEL_OUTPUT_NORM = "layernorm"
"""Default normalisation the models (:mod:`relreps.nn.models`) apply to their representation."""


class OutputNorm(nn.Module):
    """Per-sample (``l2``, ``layernorm``) or running-statistics (``batchnorm``) normalisation.

    In eval mode every option is batch independent: batchnorm then uses its running statistics.

    Args:
        kind: one of ``"none"``, ``"l2"``, ``"layernorm"``, ``"batchnorm"``.
        n_features: width of the vectors normalised (needed by the learned norms).
        eps: numerical floor of every norm.

    Example:
        >>> norm = OutputNorm("l2", 3)
        >>> norm(torch.tensor([[3.0, 0.0, 4.0]]))
        tensor([[0.6000, 0.0000, 0.8000]])
    """

    def __init__(self, kind: str = "none", n_features: int = 1, *, eps: float = 1e-5) -> None:
        super().__init__()
        self.kind = check_choice(kind, "output_norm", OUTPUT_NORMS)
        self.n_features = check_int(n_features, "n_features", low=1)
        self.eps = check_float(eps, "eps", low=0.0, low_inclusive=False)
        self.norm: nn.Module
        if kind == "layernorm":
            self.norm = nn.LayerNorm(n_features, eps=eps)
        elif kind == "batchnorm":
            self.norm = nn.BatchNorm1d(n_features, eps=eps)
        else:
            self.norm = nn.Identity()

    def forward(self, x: Tensor) -> Tensor:
        if self.kind == "l2":
            return nn.functional.normalize(x, p=2.0, dim=1, eps=self.eps)
        return self.norm(x)

    def extra_repr(self) -> str:
        return f"kind={self.kind!r}, n_features={self.n_features}"


def _straight_through_round(x: Tensor, bin_size: float) -> Tensor:
    """Round to multiples of ``bin_size`` forward; identity gradient backward."""
    rounded = torch.round(x / bin_size) * bin_size
    return x + (rounded - x).detach()


class RelativeProjection(nn.Module):
    """Similarities of ``x`` to the anchors' *current* embeddings, then an output normalisation.

    Args:
        n_anchors: number of anchors K the layer expects (fixes the output width).
        spec: the projection options as one :class:`relreps.ProjectionSpec`; the keywords
            ``similarity``, ``center``, ``aggregate``, ``topk`` and ``power`` are a convenience
            for the same options (each must agree with ``spec`` when both are given). Its
            ``chunk_size`` is a memory knob and is not part of :meth:`config`.
        similarity: a registry name (``relreps.similarities()``), a ``relreps.Similarity``, or a
            list of them for a product of invariances.
        center: ``None`` (the paper) or ``"anchors"``: subtract the anchor mean from both inputs
            (translation invariance).
        aggregate: how a list of similarities is combined (core option, e.g. ``"concat"``).
        topk: keep the k largest similarities per row (core option).
        power: raise kept similarities to this power (core option).
        output_norm: ``"none"`` (:data:`LAYER_OUTPUT_NORM`), ``"l2"``, ``"layernorm"`` or
            ``"batchnorm"``, applied by the receiving side (not a projection option).
        quantize: bin size; when set, similarities are rounded to multiples of it (forward) with a
            straight-through (identity) gradient.
        anchor_grad: let gradients flow into the anchors' embeddings (the paper's graph models);
            the default detaches them (its image and text models).
        eps: floor of the output norms.

    Shapes:
        ``x`` (n_samples, n_features), ``anchors`` (n_anchors, n_features) ->
        (n_samples, out_features) where ``out_features`` is ``n_anchors`` times the number of
        concatenated similarities.

    Example:
        >>> layer = RelativeProjection(2, output_norm="none")
        >>> layer(torch.tensor([[1.0, 1.0]]), torch.tensor([[2.0, 0.0], [0.0, 3.0]]))
        tensor([[0.7071, 0.7071]])
    """

    def __init__(
        self,
        n_anchors: int,
        *,
        spec: ProjectionSpec | None = None,
        similarity: str | Any | Sequence[str | Any] | Unset = UNSET,
        center: str | Unset | None = UNSET,
        aggregate: str | Unset = UNSET,
        topk: int | Unset | None = UNSET,
        power: float | Unset | None = UNSET,
        output_norm: str = LAYER_OUTPUT_NORM,
        quantize: float | None = None,
        anchor_grad: bool = False,
        eps: float = 1e-5,
    ) -> None:
        super().__init__()
        self.n_anchors = check_int(n_anchors, "n_anchors", low=1)
        # a fixed centre vector would not survive the JSON config: the spec does not take one
        self.spec = ProjectionSpec.resolve(
            spec, similarity=similarity, center=center, aggregate=aggregate, topk=topk, power=power
        )
        self.quantize = (
            None
            if quantize is None
            else check_float(quantize, "quantize", low=0.0, low_inclusive=False)
        )
        if not isinstance(anchor_grad, bool):
            raise fail("anchor_grad", "a bool", repr(anchor_grad), TypeError)
        self.anchor_grad = anchor_grad
        self.out_features = self._probe_width()
        self.output_norm = OutputNorm(output_norm, self.out_features, eps=eps)

    @property
    def similarity(self) -> Any:
        """The similarity option of :attr:`spec` (a tuple for a list of them)."""
        return self.spec.similarity

    @property
    def center(self) -> str | None:
        return self.spec.center

    @property
    def aggregate(self) -> str:
        return self.spec.aggregate

    @property
    def topk(self) -> int | None:
        return self.spec.topk

    @property
    def power(self) -> float | None:
        return self.spec.power

    def _probe_width(self) -> int:
        """Run the core once on a tiny input: validates every option with the core's own
        messages and reads the output width (concatenated similarities widen it)."""
        k = self.n_anchors
        grid = torch.linspace(-1.0, 1.0, 2 * k + 2, dtype=torch.float64)
        anchors = torch.stack([grid[1 : k + 1], grid[k + 1 : 2 * k + 1].flip(0) + 0.5], dim=1)
        probe = torch.stack([grid[:1], grid[-1:]], dim=1)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            out = _core()(probe, anchors, spec=self.spec)
        return int(out.shape[1])

    def relative(self, x: Tensor, anchors: Tensor) -> Tensor:
        """The raw (quantised when asked) similarities: what travels between stitched models.

        Args:
            x: (n_samples, n_features) embeddings.
            anchors: (n_anchors, n_features) embeddings of the anchors by the same encoder.

        Returns:
            (n_samples, out_features) tensor.
        """
        self._check(x, anchors)
        if not self.anchor_grad:
            anchors = anchors.detach()
        rel = _core()(x, anchors, spec=self.spec)
        if self.quantize is not None:
            rel = _straight_through_round(rel, self.quantize)
        return rel

    def normalize(self, rel: Tensor) -> Tensor:
        """Apply ``output_norm`` to a (n_samples, out_features) relative tensor."""
        if rel.ndim != 2 or rel.shape[1] != self.out_features:
            raise fail(
                "rel",
                f"a 2-D tensor of shape (n_samples, {self.out_features})",
                f"shape {tuple(rel.shape)}",
            )
        return self.output_norm(rel)

    def forward(self, x: Tensor, anchors: Tensor) -> Tensor:
        return self.normalize(self.relative(x, anchors))

    def _check(self, x: Tensor, anchors: Tensor) -> None:
        if not isinstance(x, Tensor):
            raise fail("x", "a torch.Tensor", type(x).__name__, TypeError)
        if not isinstance(anchors, Tensor):
            raise fail("anchors", "a torch.Tensor", type(anchors).__name__, TypeError)
        if anchors.ndim != 2 or anchors.shape[0] != self.n_anchors:
            raise fail(
                "anchors",
                f"a 2-D tensor of shape (n_anchors={self.n_anchors}, n_features)",
                f"shape {tuple(anchors.shape)}",
            )
        if x.ndim != 2 or x.shape[1] != anchors.shape[1]:
            raise fail(
                "x",
                f"a 2-D tensor of shape (n_samples, {anchors.shape[1]}) like the anchors",
                f"shape {tuple(x.shape)}",
            )

    def config(self) -> dict[str, Any]:
        """JSON-able constructor arguments (similarity objects are stored by name)."""
        sim = self.similarity
        names: Any = (
            [getattr(s, "name", s) for s in sim]
            if isinstance(sim, tuple)
            else getattr(sim, "name", sim)
        )
        return {
            "n_anchors": self.n_anchors,
            "similarity": names,
            "center": self.center,
            "aggregate": self.aggregate,
            "topk": self.topk,
            "power": self.power,
            "output_norm": self.output_norm.kind,
            "quantize": self.quantize,
            "anchor_grad": self.anchor_grad,
            "eps": self.output_norm.eps,
        }

    def similarity_config(self) -> dict[str, Any]:
        """The options that define the relative vector (everything but the output norm)."""
        cfg = self.config()
        for key in ("n_anchors", "output_norm", "eps"):
            cfg.pop(key)
        return cfg

    def extra_repr(self) -> str:
        parts = [f"n_anchors={self.n_anchors}", f"similarity={self.config()['similarity']!r}"]
        for key in ("center", "topk", "power", "quantize"):
            value = getattr(self, key)
            if value is not None:
                parts.append(f"{key}={value!r}")
        if isinstance(self.similarity, tuple):
            parts.append(f"aggregate={self.aggregate!r}")
        parts.append(f"output_norm={self.output_norm.kind!r}")
        if self.anchor_grad:
            parts.append("anchor_grad=True")
        return ", ".join(parts)


def _core() -> Any:
    from relreps.projection import relative_projection

    return relative_projection
