"""The residual-CNN study of ``vision-stitching``: why it stitched badly, and two remedies measured.

The untrained residual CNN's embeddings nearly share one direction (global average pooling of
ReLU features: mean pairwise cosine 0.994 on Fashion-MNIST), so cosines to the anchors carry
little signal. Two remedies are measured under protocol (a), beside MLP and CNN encoders:

- anchor-centred cosine (``center="anchors"``): subtract the anchors' mean before the cosine;
- normalisation before pooling: :class:`relreps.nn.ResidualCNNEncoder` with
  ``norm="groupnorm"`` (the ``resgn`` family here).

Each variant is read in both settings, plain and anchor-centred cosine, so the two remedies and
their combination are separated.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from relreps.experiments._aeq_common import ImageSplit
from relreps.experiments._vision_frozen import (
    FrozenConfig,
    PairGroup,
    embed_zoo,
    head_factory,
    pair_groups,
    train_frozen_zoo,
)
from relreps.experiments._vision_zoo import build_encoder, family
from relreps.experiments.base import RunContext
from relreps.projection_spec import ProjectionSpec
from relreps.results import Table

__all__ = ["ResidualRow", "mean_pairwise_cosine", "run_residual_study"]

_RESIDUAL = ("resnet", "resgn")
_VARIANT_NAMES = {"resnet": "residual CNN", "resgn": "residual CNN + GroupNorm before pooling"}


@dataclass(frozen=True)
class ResidualRow:
    """One residual variant read with one similarity: its cosine spread and stitching figures.

    ``into_others``: the residual encoder into the MLP/CNN heads; ``from_others``: MLP/CNN
    encoders into the residual heads. F1 x100.
    """

    variant: str
    centring: str
    untrained_cosine: float
    trained_cosine: float
    own: float
    absolute_own: float
    into_others: float
    from_others: float
    within: float


def mean_pairwise_cosine(x: np.ndarray, n: int = 600) -> float:
    """Mean cosine over distinct pairs of the first ``n`` rows of ``x`` (n_samples, dim).

    Example:
        >>> round(mean_pairwise_cosine(np.eye(3)), 3)
        0.0
    """
    z = np.asarray(x[:n], dtype=np.float64)
    z = z / np.maximum(np.linalg.norm(z, axis=1, keepdims=True), 1e-12)
    c = z @ z.T
    m = len(z)
    return float((c.sum() - np.trace(c)) / (m * (m - 1)))


def _untrained_cosine(config: FrozenConfig, data: ImageSplit, kind_name: str, seed: int) -> float:
    import torch

    arch = next(a for a in config.archs if a.name == kind_name)
    encoder = build_encoder(arch, data.x_train.shape[1:], seed)
    with torch.no_grad():
        z = encoder(torch.from_numpy(data.x_test[:600])).numpy()
    return mean_pairwise_cosine(z)


def _group(groups: tuple[PairGroup, ...], enc: str, heads: str) -> PairGroup | None:
    return next((g for g in groups if g.encoders == enc and g.heads == heads), None)


def _mean_of(groups: list[PairGroup | None], attr: str) -> float:
    values = [getattr(g, attr) for g in groups if g is not None]
    return float(np.mean(values)) if values else float("nan")


def run_residual_study(
    config: FrozenConfig, data: ImageSplit, context: RunContext
) -> tuple[tuple[ResidualRow, ...], Table]:
    """Train (or reload) the study's frozen encoders and stitch them with plain and centred
    cosine; returns the rows and their table."""
    from relreps.anchors import stratified
    from relreps.stitching import stitching_grid

    anchor_idx = stratified(
        data.y_train, min(config.n_anchors, len(data.y_train)), seed=context.seed
    )
    context.log(
        f"  residual CNN study: {', '.join(a.name for a in config.archs)} x {config.seeds} seeds"
    )
    encoders, _ = train_frozen_zoo(config, data, context)
    spaces = embed_zoo(encoders, data, anchor_idx)
    trained: dict[str, list[float]] = {}
    for space in spaces:
        trained.setdefault(family(space.name), []).append(mean_pairwise_cosine(space.test))
    untrained = {
        family(a.name): _untrained_cosine(config, data, a.name, context.seed) for a in config.archs
    }
    rows: list[ResidualRow] = []
    for centring, center in (("plain cosine", None), ("anchor-centred cosine", "anchors")):
        result = stitching_grid(
            spaces,
            data.y_train,
            data.y_test,
            metric="f1_weighted",
            head=head_factory(config),
            methods=("absolute", "relative"),
            spec=ProjectionSpec(similarity=config.head.similarity, center=center),
            cache_dir=context.output_dir / "cells" / "residual",
            progress=context.progress,
        )
        groups = pair_groups(result)
        others = sorted({family(s.name) for s in spaces} - set(_RESIDUAL))
        for variant in _RESIDUAL:
            if variant not in untrained:
                continue
            within = _group(groups, variant, variant)
            rows.append(
                ResidualRow(
                    variant=variant,
                    centring=centring,
                    untrained_cosine=untrained[variant],
                    trained_cosine=float(np.mean(trained[variant])),
                    own=within.relative_own if within else float("nan"),
                    absolute_own=within.absolute_own if within else float("nan"),
                    into_others=_mean_of(
                        [_group(groups, variant, o) for o in others], "relative_stitched"
                    ),
                    from_others=_mean_of(
                        [_group(groups, o, variant) for o in others], "relative_stitched"
                    ),
                    within=within.relative_stitched if within else float("nan"),
                )
            )
        context.log(f"  residual CNN study, {centring}: done")
    return tuple(rows), _table(rows, config)


def _table(rows: list[ResidualRow], config: FrozenConfig) -> Table:
    def r(value: float, digits: int = 1) -> float | None:
        return None if np.isnan(value) else round(value, digits)

    others = ", ".join(a.name for a in config.archs if family(a.name) not in _RESIDUAL)
    return Table(
        title="Residual CNN remedies (frozen encoders): relative weighted F1 x100",
        columns=(
            "encoder",
            "similarity",
            "mean pairwise cosine, untrained",
            "mean pairwise cosine, trained",
            "relative own",
            "absolute own",
            "stitched within (other seeds)",
            "into MLP/CNN heads",
            "MLP/CNN into its heads",
        ),
        rows=tuple(
            (
                _VARIANT_NAMES[x.variant],
                x.centring,
                r(x.untrained_cosine, 3),
                r(x.trained_cosine, 3),
                r(x.own),
                r(x.absolute_own),
                r(x.within),
                r(x.into_others),
                r(x.from_others),
            )
            for x in rows
        ),
        note=f"{config.seeds} seeds per architecture, compared with {others}; cosines over 600 "
        "test images. Heads: the stitching default (linear on LayerNorm of the similarities).",
    )
