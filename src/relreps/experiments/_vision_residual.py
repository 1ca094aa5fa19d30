"""The residual-CNN study of ``vision-stitching``: why it stitched badly, and two remedies measured.

The untrained residual CNN's embeddings nearly share one direction (global average pooling of
ReLU features: mean pairwise cosine 0.994 on Fashion-MNIST), so cosines to the anchors carry
little signal. Two remedies are measured under protocol (a), beside MLP and CNN encoders:

- anchor-centred cosine (``center="anchors"``): subtract the anchors' mean before the cosine;
- normalisation before pooling: :class:`relreps.nn.ResidualCNNEncoder` with
  ``norm="groupnorm"`` (the ``resgn`` family here).

Each variant is read with plain and anchor-centred cosine, separating the two remedies.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from relreps.experiments._aeq_common import ImageSplit
from relreps.experiments._vision_frozen import FrozenConfig, embed_zoo, train_frozen_zoo
from relreps.experiments._vision_zoo import Arch, build_encoder, family
from relreps.experiments.base import RunContext
from relreps.metrics.anisotropy import mean_pairwise_cosine
from relreps.projection_spec import ProjectionSpec
from relreps.results import Table, rounded
from relreps.stitching.frozen import FrozenHeadFactory
from relreps.stitching.zoo import PairGroup, pair_groups

__all__ = ["ResidualRow", "mean_pairwise_cosine", "run_residual_study"]  # the metric re-exported

_RESIDUAL = ("resnet", "resgn")
_VARIANT_NAMES = {"resnet": "residual CNN", "resgn": "residual CNN + GroupNorm before pooling"}


@dataclass(frozen=True)
class ResidualRow:
    """One residual variant read with one similarity: its cosine spread and F1 x100 (``own``:
    its heads on its encoders; ``into_others``: its encoder into the MLP/CNN heads;
    ``from_others``: MLP/CNN encoders into its heads; ``within``: across its seeds)."""

    variant: str
    centring: str
    untrained_cosine: float
    trained_cosine: float
    own: float
    absolute_own: float
    into_others: float
    from_others: float
    within: float


def _untrained_cosine(arch: Arch, data: ImageSplit, seed: int) -> float:
    import torch

    encoder = build_encoder(arch, data.x_train.shape[1:], seed)
    with torch.no_grad():
        return mean_pairwise_cosine(encoder(torch.from_numpy(data.x_test[:600])).numpy())


def _stitched(groups: dict[tuple[str, str], PairGroup], pairs: list[tuple[str, str]]) -> float:
    values = [groups[p].relative_stitched for p in pairs if p in groups]
    return float(np.mean(values)) if values else math.nan


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
    untrained = {family(a.name): _untrained_cosine(a, data, context.seed) for a in config.archs}
    others = sorted({family(s.name) for s in spaces} - set(_RESIDUAL))
    missing = PairGroup("", "", math.nan, math.nan, math.nan, math.nan, math.nan, 0)
    rows: list[ResidualRow] = []
    for centring, center in (("plain cosine", None), ("anchor-centred cosine", "anchors")):
        result = stitching_grid(
            spaces,
            data.y_train,
            data.y_test,
            scoring="f1_weighted",
            head=FrozenHeadFactory(config.head),
            methods=("absolute", "relative"),
            spec=ProjectionSpec(similarity=config.head.similarity, center=center),
            cache_dir=context.output_dir / "cells" / "residual",
            progress=context.progress,
        )
        groups = {(g.encoders, g.heads): g for g in pair_groups(result, family)}
        for v in (v for v in _RESIDUAL if v in untrained):
            within = groups.get((v, v), missing)
            rows.append(
                ResidualRow(
                    v,
                    centring,
                    untrained[v],
                    float(np.mean(trained[v])),
                    within.relative_own,
                    within.absolute_own,
                    into_others=_stitched(groups, [(v, o) for o in others]),
                    from_others=_stitched(groups, [(o, v) for o in others]),
                    within=within.relative_stitched,
                )
            )
        context.log(f"  residual CNN study, {centring}: done")
    return tuple(rows), _table(rows, config)


def _table(rows: list[ResidualRow], config: FrozenConfig) -> Table:
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
                rounded(x.untrained_cosine, 3),
                rounded(x.trained_cosine, 3),
                *(rounded(v, 1) for v in (x.own, x.absolute_own, x.within)),
                *(rounded(v, 1) for v in (x.into_others, x.from_others)),
            )
            for x in rows
        ),
        note=f"{config.seeds} seeds per architecture, compared with {others}; cosines over 600 "
        "test images. Heads: the stitching default (linear on LayerNorm of the similarities).",
    )
