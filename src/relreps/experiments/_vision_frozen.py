"""Protocol (a) of ``vision-stitching`` and ``relreps demo``: FROZEN encoders, heads on top.

As in the paper's image-classification stitching (5.3): every encoder of the zoo is trained once
(classification under its own absolute head, or as an autoencoder) and frozen; it embeds the
train, test and anchor images; :func:`relreps.stitching.stitching_grid` trains per encoder an
absolute head on the embeddings and a relative head (the same head kind) on their cosines to the
anchors, and scores every encoder with every head. The head is the stitching default, chosen by
the head ablation (:mod:`relreps.stitching.ablation`) this module also runs (docs/stitching.md).

The residual-CNN study (:func:`run_residual_study`) explains why residual CNNs stitched badly:
their untrained embeddings nearly share one direction (global average pooling of ReLU features:
mean pairwise cosine 0.994 on Fashion-MNIST), so cosines to the anchors carry little signal. It
measures two remedies beside MLP and CNN encoders, each variant read with plain and anchor-centred
cosine: anchor-centred cosine (``center="anchors"``) and GroupNorm before pooling
(:class:`relreps.nn.ResidualCNNEncoder` with ``norm="groupnorm"``, the ``resgn`` family).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from functools import partial
from typing import Any

import numpy as np

from relreps.experiments._aeq_common import ImageSplit, load_image_split
from relreps.experiments._vision_zoo import Arch, build_encoder, family, head_seed, is_classifier
from relreps.experiments.base import RunContext
from relreps.metrics.anisotropy import mean_pairwise_cosine
from relreps.projection_spec import ProjectionSpec
from relreps.results import Claim, Table, Verdict, kept_fraction, rounded
from relreps.stitching.ablation import ANCHOR_COUNTS, AblationRow, ablation_table, head_ablation
from relreps.stitching.frozen import DEFAULTS, FrozenHeadFactory, HeadConfig
from relreps.stitching.zoo import (
    PairGroup,
    encoder_spaces,
    pair_group_table,
    pair_groups,
    pooled_group,
)

__all__ = [
    "FrozenConfig",
    "FrozenOutcome",
    "ResidualRow",
    "embed_zoo",
    "run_frozen",
    "run_residual_study",
    "train_frozen_zoo",
]


def _keeps(scope: str) -> tuple[Claim, Claim]:
    """Issue 14's bars: relative stitched against relative (0.95) and absolute (0.93) own."""
    claim = f"(a) frozen encoders, {scope}: "
    return (
        Claim(
            claim + "relative heads accept other encoders zero-shot",
            "kept fraction (relative stitched / relative not stitched)",
            0.95,
            partly=0.90,
        ),
        Claim(
            claim + "stitched relative heads keep the absolute models' performance",
            "kept fraction (relative stitched / absolute not stitched)",
            0.93,
            partly=0.90,
        ),
    )


def absolute_fails(protocol: str) -> Claim:
    """The claim that absolute stitching is near chance, for ``protocol`` ``"(a)"`` or ``"(b)"``."""
    return Claim(
        f"{protocol} absolute stitching fails (near chance)",
        "absolute stitched F1 points above the majority baseline",
        10.0,
        comparison="<=",
        partly=30.0,
    )


KEEPS_ALL_PAIRS = _keeps("all pairs")
KEEPS_CROSS_PAIRS = _keeps("MLP <-> CNN pairs")
ABSOLUTE_FAILS = absolute_fails("(a)")
RELATIVE_HEAD_COSTS_NOTHING = Claim(
    "(a) a relative head costs (almost) no accuracy on a frozen encoder",
    "relative not stitched / absolute not stitched",
    0.98,
    partly=0.95,
)


@dataclass(frozen=True)
class FrozenConfig:
    """Size and head of a protocol (a) run.

    ``archs`` are trained as classifiers, ``ae_archs`` as autoencoders (another objective), both
    then frozen; ``seeds`` encoders per architecture on ``n_train`` / ``n_test`` images of the
    official splits, each trained ``encoder_epochs``; ``n_anchors`` class-stratified training
    anchors; ``head`` the stitching heads (:class:`relreps.stitching.HeadConfig`, the library's
    defaults; its ``n_anchors`` is unused). ``ablation`` also runs the head ablation on
    ``ablation_seeds`` encoders per architecture and ``ablation_anchors`` anchor counts.
    ``dataset``: ``fashion-mnist`` (sklearn digits when absent).
    """

    archs: tuple[Arch, ...]
    seeds: int
    n_train: int
    n_test: int
    ae_archs: tuple[Arch, ...] = ()
    n_anchors: int = 300
    encoder_epochs: int = 3
    batch_size: int = 256
    head: HeadConfig = DEFAULTS
    ablation: bool = False
    ablation_seeds: int = 2
    ablation_anchors: tuple[int, ...] = ANCHOR_COUNTS
    dataset: str = "fashion-mnist"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class FrozenOutcome:
    """What protocol (a) measured: the grid, its groups, the ablation, tables and verdicts."""

    result: Any  # relreps.stitching.StitchingResult
    overall: PairGroup  # the classifier encoders, all ordered pairs
    cross: PairGroup  # the classifier encoders, MLP <-> CNN pairs only
    groups: tuple[PairGroup, ...]
    ablation: tuple[AblationRow, ...]
    chance: float
    tables: tuple[Table, ...]
    verdicts: tuple[Verdict, ...]
    spaces: Sequence[Any] = field(repr=False, default=())
    training: dict[str, Any] = field(default_factory=dict)


def train_frozen_zoo(
    config: FrozenConfig, data: ImageSplit, context: RunContext
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Train every encoder once (or reload it from the run folder) and freeze it.

    Classifier encoders are trained under an absolute head seeded per (architecture, seed)
    (:func:`head_seed`); autoencoder encoders reconstruct the images
    (:func:`relreps.nn.zoo.fit_encoder`).

    Returns:
        ``name -> frozen encoder`` (torch modules in eval mode) and per-encoder training facts.
    """
    import torch

    from relreps.nn import TrainConfig
    from relreps.nn.zoo import fit_encoder

    x, y = torch.from_numpy(data.x_train), torch.from_numpy(data.y_train)
    n_classes, shape = int(data.y_train.max()) + 1, data.x_train.shape[1:]
    encoders: dict[str, Any] = {}
    facts: dict[str, Any] = {}
    for arch in (*config.archs, *config.ae_archs):
        for seed in range(context.seed, context.seed + config.seeds):
            name, ae = f"{arch.name}/s{seed}", arch.kind == "ae"
            stem = f"{'ae-' if ae else ''}{arch.name}-seed{seed}"
            train = TrainConfig(epochs=config.encoder_epochs, batch_size=config.batch_size,
                                seed=seed, patience=2, progress=False)  # fmt: skip
            encoders[name], history = fit_encoder(
                partial(build_encoder, arch, shape, seed),
                x,
                None if ae else y,
                context.output_dir / "models" / "frozen" / stem,
                n_classes=n_classes,
                head_seed=seed if ae else head_seed(arch, seed),
                config=train,
            )
            facts[name] = (
                {"objective": "reconstruction"}
                if ae
                else training_facts(context, f"frozen/{stem}", history, objective="classification")
            )
            context.log(f"  encoder {name} trained and frozen")
    return encoders, facts


def training_facts(
    context: RunContext, key: str, history: Any, **extra: Any
) -> dict[str, Any] | None:
    """A model's training facts: measured now (and cached under ``key``), or read back from the
    run's cache when the model was reloaded (``history`` None)."""
    if history is None:
        return context.cache.get(key)
    facts = {**extra, "epochs_run": history.epochs_run, "seconds": history.seconds}
    context.cache.put(key, facts)
    return facts


def embed_zoo(encoders: dict[str, Any], data: ImageSplit, anchor_idx: np.ndarray) -> list[Any]:
    """Each frozen encoder's :class:`relreps.stitching.Space`: train, test and anchor rows."""
    return encoder_spaces(encoders, data.x_train, data.x_test, anchor_idx)


def _zoo_spaces(
    config: FrozenConfig, data: ImageSplit, context: RunContext
) -> tuple[list[Any], dict[str, Any]]:
    """The trained (or reloaded) zoo's spaces with ``n_anchors`` stratified anchors, and facts."""
    from relreps.anchors import stratified

    anchor_idx = stratified(
        data.y_train, min(config.n_anchors, len(data.y_train)), seed=context.seed
    )
    encoders, facts = train_frozen_zoo(config, data, context)
    return embed_zoo(encoders, data, anchor_idx), facts


def _grid(spaces: list[Any], data: ImageSplit, config: FrozenConfig, context: RunContext,
          study: str, **options: Any) -> Any:  # fmt: skip
    """The grid of ``spaces`` with the configured frozen heads, weighted F1 x100."""
    from relreps.stitching import stitching_grid

    return stitching_grid(
        spaces,
        data.y_train,
        data.y_test,
        scoring="f1_weighted",
        head=FrozenHeadFactory(config.head),
        cache_dir=context.output_dir / "cells" / study,
        progress=context.progress,
        **options,
    )


def absolute_near_chance(claim: Claim, absolute_stitched: float, chance: float) -> Verdict:
    """The "absolute stitching fails" verdict: F1 points above the majority baseline."""
    if math.isnan(absolute_stitched):
        return claim.skipped("no two encoders of equal width: absolute stitching is undefined")
    return claim.judge(
        absolute_stitched - chance,
        detail=f"absolute stitched {absolute_stitched:.1f}, majority baseline {chance:.1f}",
    )


def _verdicts(overall: PairGroup, cross: PairGroup, chance: float) -> tuple[Verdict, ...]:
    verdicts = []
    for group, (vs_relative, vs_absolute) in (
        (overall, KEEPS_ALL_PAIRS),
        (cross, KEEPS_CROSS_PAIRS),
    ):
        figures = (
            f"relative stitched {group.relative_stitched:.1f}, relative not stitched "
            f"{group.relative_own:.1f}, absolute not stitched {group.absolute_own:.1f} "
            f"(weighted F1 x100, {group.n_cells} stitched cells)"
        )
        verdicts.append(vs_relative.judge(group.kept, detail=figures))
        verdicts.append(vs_absolute.judge(group.kept_vs_absolute, detail=figures))
    verdicts.append(absolute_near_chance(ABSOLUTE_FAILS, overall.absolute_stitched, chance))
    verdicts.append(
        RELATIVE_HEAD_COSTS_NOTHING.judge(
            kept_fraction(overall.relative_own, overall.absolute_own),
            detail=f"relative {overall.relative_own:.1f} vs absolute {overall.absolute_own:.1f}",
        )
    )
    return tuple(verdicts)


def run_frozen(
    config: FrozenConfig, context: RunContext, data: ImageSplit | None = None
) -> FrozenOutcome:
    """Protocol (a) end to end: train and freeze the zoo, stitch every encoder into every head."""
    from relreps.stitching import majority_f1

    if data is None:
        data = load_image_split(config.dataset, config.n_train, config.n_test, context.seed)
        if data.note:
            context.log(data.note)
    n_encoders = (len(config.archs) + len(config.ae_archs)) * config.seeds
    context.log(
        f"  (a) frozen encoders: {data.name}, {len(data.y_train)} train / {len(data.y_test)} "
        f"test images, {min(config.n_anchors, len(data.y_train))} stratified anchors, "
        f"{n_encoders} encoders"
    )
    spaces, facts = _zoo_spaces(config, data, context)
    spec = {"similarity": config.head.similarity, "center": config.head.center}
    result = _grid(spaces, data, config, context, "frozen", **spec)
    chance = majority_f1(data.y_test)
    overall = pooled_group(result, "all", keep=is_classifier)
    cross = pooled_group(result, "MLP <-> CNN", keep=is_classifier, across=family)
    groups = pair_groups(result, family)
    tables = [
        pair_group_table(
            (overall, cross),
            "(a) Frozen encoders: classifier zoo, weighted F1 x100",
            f"Mean over ordered (encoder, head) pairs of the classification-trained encoders "
            f"(own = each head on its own encoder). Majority baseline {chance:.1f}.",
        ),
        pair_group_table(
            groups,
            "(a) Frozen encoders by architecture pair (encoder family -> head family)",
            "Stitched cells only (the encoder of one model, the head of another); 'own' is "
            "the head family's not-stitched mean. ae = encoders trained as autoencoders.",
        ),
    ]
    ablation: tuple[AblationRow, ...] = ()
    if config.ablation:
        ablation, table = _ablation(config, spaces, data, context, overall.translation_stitched)
        tables.append(table)
    return FrozenOutcome(
        result=result,
        overall=overall,
        cross=cross,
        groups=groups,
        ablation=ablation,
        chance=chance,
        tables=tuple(tables),
        verdicts=_verdicts(overall, cross, chance),
        spaces=spaces,
        training=facts,
    )


def _ablation(
    config: FrozenConfig, spaces: Sequence[Any], data: ImageSplit, context: RunContext,
    translation: float,
) -> tuple[tuple[AblationRow, ...], Table]:  # fmt: skip
    """The head ablation on the classifier encoders of the first ``ablation_seeds`` seeds, with
    the Procrustes-translation baseline row (``translation``: over all pairs of the main grid)."""
    first = range(context.seed, context.seed + config.ablation_seeds)
    keep = [s for s in spaces if is_classifier(s.name) and int(s.name.split("/s")[1]) in first]
    rows = head_ablation(
        keep,
        data.y_train,
        data.y_test,
        head=config.head,
        n_anchors=config.n_anchors,
        anchor_counts=config.ablation_anchors,
        anchor_seed=context.seed,
        scoring="f1_weighted",
        cache_dir=context.output_dir / "cells" / "ablation",
        progress=context.progress,
        on_row=lambda r: context.log(f"  ablation {r.factor}={r.setting}: kept {r.kept:.3f}"),
    )
    label = "Procrustes translation + absolute head"
    rows += (AblationRow("baseline", label, math.nan, translation),)
    head = config.head
    return rows, ablation_table(
        rows,
        "Head ablation (one factor at a time): relative weighted F1 x100",
        f"{len(keep)} frozen classifier encoders (MLP and CNN, two widths); each row "
        f"changes one factor of the default head ({head.head} layer on {head.norm} of the "
        f"{'anchor-centred' if head.center else 'plain'} {head.similarity} to class-stratified "
        "anchors). The baseline row is the Procrustes translation fitted on the anchors, read by "
        "an absolute head, over all pairs of the main grid.",
    )


# --- the residual-CNN study -----------------------------------------------------------------------

_RESIDUAL = {"resnet": "residual CNN", "resgn": "residual CNN + GroupNorm before pooling"}


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
    context.log(
        f"  residual CNN study: {', '.join(a.name for a in config.archs)} x {config.seeds} seeds"
    )
    spaces, _ = _zoo_spaces(config, data, context)
    untrained = {family(a.name): _untrained_cosine(a, data, context.seed) for a in config.archs}
    trained = {
        f: float(np.mean([mean_pairwise_cosine(s.test) for s in spaces if family(s.name) == f]))
        for f in untrained
    }
    others = sorted({family(s.name) for s in spaces} - set(_RESIDUAL))
    missing = PairGroup("", "", math.nan, math.nan, math.nan, math.nan, math.nan, 0)
    rows: list[ResidualRow] = []
    methods = ("absolute", "relative")
    for centring, center in (("plain cosine", None), ("anchor-centred cosine", "anchors")):
        spec = ProjectionSpec(similarity=config.head.similarity, center=center)
        result = _grid(spaces, data, config, context, "residual", methods=methods, spec=spec)
        groups = {(g.encoders, g.heads): g for g in pair_groups(result, family)}
        for v in (v for v in _RESIDUAL if v in untrained):
            within = groups.get((v, v), missing)
            rows.append(
                ResidualRow(
                    v,
                    centring,
                    untrained[v],
                    trained[v],
                    within.relative_own,
                    within.absolute_own,
                    into_others=_stitched(groups, [(v, o) for o in others]),
                    from_others=_stitched(groups, [(o, v) for o in others]),
                    within=within.relative_stitched,
                )
            )
        context.log(f"  residual CNN study, {centring}: done")
    return tuple(rows), _residual_table(rows, config)


def _residual_table(rows: list[ResidualRow], config: FrozenConfig) -> Table:
    others = ", ".join(a.name for a in config.archs if family(a.name) not in _RESIDUAL)
    columns = ("encoder", "similarity", "mean pairwise cosine, untrained",
               "mean pairwise cosine, trained", "relative own", "absolute own",
               "stitched within (other seeds)", "into MLP/CNN heads",
               "MLP/CNN into its heads")  # fmt: skip
    return Table(
        title="Residual CNN remedies (frozen encoders): relative weighted F1 x100",
        columns=columns,
        rows=tuple(
            (
                _RESIDUAL[x.variant],
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
