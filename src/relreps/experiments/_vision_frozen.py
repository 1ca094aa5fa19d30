"""Protocol (a) of ``vision-stitching`` and ``relreps demo``: FROZEN encoders, heads on top.

As in the paper's image-classification stitching (5.3): every encoder of the zoo is trained once
(classification under its own absolute head, or as an autoencoder) and frozen; it embeds the
train, test and anchor images; :func:`relreps.stitching.stitching_grid` trains per encoder an
absolute head on the embeddings and a relative head (the same head kind) on their cosines to the
anchors, and scores every encoder with every head. The head is the stitching default, chosen by
the ablation this module also runs (docs/stitching.md has the table).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from functools import partial
from typing import Any

import numpy as np

from relreps.experiments._aeq_common import ImageSplit, load_image_split
from relreps.experiments._vision_ablation import AblationRow, ablation_table, run_ablation
from relreps.experiments._vision_zoo import Arch, build_encoder, family, head_seed, is_classifier
from relreps.experiments.base import RunContext
from relreps.results import Claim, Table, Verdict, kept_fraction, rounded
from relreps.stitching.frozen import DEFAULTS, FrozenHeadFactory, HeadConfig
from relreps.stitching.zoo import PairGroup, encoder_spaces, pair_groups, pooled_group

__all__ = ["FrozenConfig", "FrozenOutcome", "embed_zoo", "run_frozen", "train_frozen_zoo"]


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


KEEPS_ALL_PAIRS = _keeps("all pairs")
KEEPS_CROSS_PAIRS = _keeps("MLP <-> CNN pairs")
ABSOLUTE_FAILS = Claim(
    "(a) absolute stitching fails (near chance)",
    "absolute stitched F1 points above the majority baseline",
    10.0,
    comparison="<=",
    partly=30.0,
)
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
    ablation_anchors: tuple[int, ...] = (10, 50, 100, 300, 1000)
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
    (:func:`head_seed`); autoencoder encoders reconstruct the images.

    Returns:
        ``name -> frozen encoder`` (torch modules in eval mode) and per-encoder training facts.
    """
    import torch

    from relreps.nn import TrainConfig
    from relreps.nn.zoo import fit_or_load, freeze

    x, y = torch.from_numpy(data.x_train), torch.from_numpy(data.y_train)
    n_classes, shape = int(data.y_train.max()) + 1, data.x_train.shape[1:]
    encoders: dict[str, Any] = {}
    facts: dict[str, Any] = {}
    for arch in (*config.archs, *config.ae_archs):
        for seed in range(context.seed, context.seed + config.seeds):
            name, ae = f"{arch.name}/s{seed}", arch.kind == "ae"
            stem = f"{'ae-' if ae else ''}{arch.name}-seed{seed}"
            train = TrainConfig(
                epochs=config.encoder_epochs,
                batch_size=config.batch_size,
                seed=seed,
                patience=2,
                progress=False,
            )
            build = partial(_encoder_model, arch, shape, seed, n_classes)
            folder = context.output_dir / "models" / "frozen" / stem
            model, history = fit_or_load(build, x, x if ae else y, folder, config=train)
            if ae:
                facts[name] = {"objective": "reconstruction"}
            else:
                facts[name] = training_facts(
                    context, f"frozen/{stem}", history, objective="classification"
                )
            encoders[name] = freeze(model.get_submodule("encoder"))
            context.log(f"  encoder {name} trained and frozen")
    return encoders, facts


def _encoder_model(arch: Arch, shape: tuple[int, ...], seed: int, n_classes: int) -> Any:
    """The model an encoder is trained in: an autoencoder, or a classifier under its own head."""
    from relreps.nn import AbsoluteAE, AbsoluteClassifier

    encoder = build_encoder(arch, shape, seed)
    if arch.kind == "ae":
        return AbsoluteAE(encoder, seed=seed)
    return AbsoluteClassifier(encoder, n_classes, seed=head_seed(arch, seed))


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


def groups_table(groups: Sequence[PairGroup], title: str, note: str) -> Table:
    """Own and stitched F1 x100 and kept fractions of ``groups``, one row each."""
    rows = tuple(
        (
            g.encoders,
            g.heads or "-",
            *(rounded(v, 1) for v in (g.relative_own, g.relative_stitched)),
            rounded(g.kept, 3),
            rounded(g.absolute_own, 1),
            rounded(g.kept_vs_absolute, 3),
            *(rounded(v, 1) for v in (g.absolute_stitched, g.translation_stitched)),
            g.n_cells,
        )
        for g in groups
    )
    columns = ("encoders", "heads", "relative own", "relative stitched", "kept (vs relative)",
               "absolute own", "kept (vs absolute)", "absolute stitched",
               "Procrustes translation", "stitched cells")  # fmt: skip
    return Table(title=title, columns=columns, rows=rows, note=note)


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
    from relreps.anchors import stratified
    from relreps.stitching import majority_f1, stitching_grid

    if data is None:
        data = load_image_split(config.dataset, config.n_train, config.n_test, context.seed)
        if data.note:
            context.log(data.note)
    anchor_idx = stratified(
        data.y_train, min(config.n_anchors, len(data.y_train)), seed=context.seed
    )
    n_encoders = (len(config.archs) + len(config.ae_archs)) * config.seeds
    context.log(
        f"  (a) frozen encoders: {data.name}, {len(data.y_train)} train / {len(data.y_test)} "
        f"test images, {len(anchor_idx)} stratified anchors, {n_encoders} encoders"
    )
    encoders, facts = train_frozen_zoo(config, data, context)
    spaces = embed_zoo(encoders, data, anchor_idx)
    result = stitching_grid(
        spaces,
        data.y_train,
        data.y_test,
        scoring="f1_weighted",
        head=FrozenHeadFactory(config.head),
        similarity=config.head.similarity,
        center=config.head.center,
        cache_dir=context.output_dir / "cells" / "frozen",
        progress=context.progress,
    )
    chance = majority_f1(data.y_test)
    overall = pooled_group(result, "all", keep=is_classifier)
    cross = pooled_group(result, "MLP <-> CNN", keep=is_classifier, across=family)
    groups = pair_groups(result, family)
    tables = [
        groups_table(
            (overall, cross),
            "(a) Frozen encoders: classifier zoo, weighted F1 x100",
            f"Mean over ordered (encoder, head) pairs of the classification-trained encoders "
            f"(own = each head on its own encoder). Majority baseline {chance:.1f}.",
        ),
        groups_table(
            groups,
            "(a) Frozen encoders by architecture pair (encoder family -> head family)",
            "Stitched cells only (the encoder of one model, the head of another); 'own' is "
            "the head family's not-stitched mean. ae = encoders trained as autoencoders.",
        ),
    ]
    ablation: tuple[AblationRow, ...] = ()
    if config.ablation:
        ablation = run_ablation(config, spaces, data, context, overall.translation_stitched)
        n_ablation = sum(1 for s in spaces if is_classifier(s.name)) // config.seeds
        n_ablation *= min(config.ablation_seeds, config.seeds)
        tables.append(ablation_table(ablation, n_ablation, config.head))
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
