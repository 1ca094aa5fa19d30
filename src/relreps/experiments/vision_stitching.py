"""``vision-stitching`` (and ``relreps demo``): zero-shot stitching of image classifiers.

Two protocols on one zoo of image encoders trained here from scratch (plain torch, CPU):

- **(a) frozen encoders** (the paper's 5.3 and 4.3; :mod:`relreps.experiments._vision_frozen`):
  every encoder is trained once and frozen, then gets an absolute and a relative head (the
  stitching default: a linear layer on LayerNorm of the cosines to class-stratified anchors),
  and every encoder is plugged into every head with no training.
- **(b) end to end**: every encoder is trained twice from the same initialisation, under an
  absolute head and under a relative head that re-embeds the anchors at every step, and the
  trained models are stitched.

Absolute stitching is defined only for equal widths; a Procrustes translation fitted on the two
encoders' anchor embeddings is the third column. Scores are weighted F1 x100 (the paper's metric
for classification stitching); every stitching verdict is a kept fraction against its threshold.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from functools import partial
from typing import Any

import numpy as np

from relreps.experiments._aeq_common import ImageSplit, load_image_split
from relreps.experiments._vision_frozen import (
    FrozenConfig,
    FrozenOutcome,
    ResidualRow,
    absolute_fails,
    absolute_near_chance,
    run_frozen,
    run_residual_study,
    training_facts,
)
from relreps.experiments._vision_zoo import Arch, build_encoder, family, head_seed
from relreps.experiments.base import (
    REQUIRES_IMAGE_TRAINING,
    ExperimentResult,
    ExperimentSpec,
    Figure,
    RunContext,
    Table,
    Verdict,
)
from relreps.results import Claim, kept_fraction

NAME = "vision-stitching"
TITLE = "Image classifiers stitched zero-shot across seeds, architectures and widths"
PAPER_REF = "paper 5.2 (vision stitching), 4.3"

MLP64, CNN64 = Arch("mlp64", "mlp", 64), Arch("cnn64", "cnn", 64)
WIDE = (MLP64, Arch("mlp128", "mlp", 128), CNN64, Arch("cnn128", "cnn", 128))


@dataclass(frozen=True)
class VisionConfig:
    """Size of a protocol (b) run. ``seeds`` encoders per architecture; ``epochs`` per model."""

    archs: tuple[Arch, ...]
    seeds: int
    n_train: int
    n_test: int
    n_anchors: int = 500
    epochs: int = 4
    batch_size: int = 128
    max_seconds_per_model: float | None = None
    dataset: str = "fashion-mnist"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


QUICK = VisionConfig((MLP64, CNN64), seeds=2, n_train=3000, n_test=1000, n_anchors=300, epochs=2)
FULL = VisionConfig(WIDE, 3, 60000, 10000, n_anchors=300, epochs=4, batch_size=256)
"""Protocol (b), end to end: the {MLP, CNN} x {64, 128} x 3 seeds zoo on all 60k images."""
FROZEN_DEMO = FrozenConfig(
    (MLP64, CNN64, Arch("cnn32", "cnn", 32)), 3, 60000, 10000, encoder_epochs=2
)
"""``relreps demo``: protocol (a) on all of Fashion-MNIST, 9 encoders (two widths, two
architectures, 3 seeds)."""
FROZEN_QUICK = FrozenConfig((MLP64, CNN64), 2, 3000, 1000, n_anchors=300, encoder_epochs=2)
FROZEN_FULL = FrozenConfig(
    WIDE, 3, 60000, 10000, ae_archs=(Arch("ae-mlp64", "ae", 64),), encoder_epochs=5, ablation=True
)
"""Protocol (a), full run: the same 12 classifier encoders plus 3 autoencoder-trained MLP
encoders, with the head ablation."""
_RESIDUAL_ARCHS = (MLP64, CNN64, Arch("resnet64", "resnet", 64), Arch("resgn64", "resnet-gn", 64))
RESIDUAL_QUICK = FrozenConfig(_RESIDUAL_ARCHS, 2, 3000, 1000, encoder_epochs=2)
RESIDUAL_FULL = FrozenConfig(_RESIDUAL_ARCHS, 3, 60000, 10000, encoder_epochs=5)
"""The residual-CNN study (full run): plain and GroupNorm-before-pooling residual CNNs beside
MLP and CNN, each read with plain and anchor-centred cosine."""


def _keeps(scope: str) -> Claim:
    return Claim(
        f"(b) end to end, {scope}: relative heads accept other encoders zero-shot",
        "kept fraction (relative stitched / relative not stitched)",
        0.90,
        partly=0.75,
    )


KEEPS_WITHIN_FAMILY = _keeps("within an architecture family")
KEEPS_ALL_PAIRS = _keeps("all pairs")
ABSOLUTE_FAILS = absolute_fails("(b)")
RELATIVE_TRAINING_COSTS_NOTHING = Claim(
    "(b) training on relative representations costs (almost) no accuracy",
    "relative not stitched / absolute not stitched",
    0.97,
    partly=0.9,
)


def train_zoo(
    config: VisionConfig, data: ImageSplit, anchor_idx: np.ndarray, context: RunContext
) -> tuple[dict[str, tuple[Any, Any]], dict[str, Any]]:
    """Train (or reload from the run folder) an absolute and a relative classifier per encoder,
    from the same encoder initialisation (:func:`relreps.nn.zoo.fit_classifier_pair`); returns
    ``name -> (absolute, relative)`` and facts."""
    import torch

    from relreps.nn import TrainConfig
    from relreps.nn.zoo import fit_classifier_pair

    x, y = torch.from_numpy(data.x_train), torch.from_numpy(data.y_train)
    anchors = x[torch.from_numpy(anchor_idx)]
    ids = [f"train:{int(i)}" for i in anchor_idx]
    n_classes, shape = int(data.y_train.max()) + 1, data.x_train.shape[1:]
    models: dict[str, tuple[Any, Any]] = {}
    facts: dict[str, Any] = {}
    for arch in config.archs:
        for seed in range(context.seed, context.seed + config.seeds):
            name, stem = f"{arch.name}/s{seed}", f"{arch.name}-seed{seed}"
            train = TrainConfig(epochs=config.epochs, batch_size=config.batch_size, seed=seed,
                                max_seconds=config.max_seconds_per_model, patience=2)  # fmt: skip
            pair = fit_classifier_pair(
                partial(build_encoder, arch, shape, seed),
                x,
                y,
                anchors,
                context.output_dir / "models" / stem,
                n_classes=n_classes,
                anchor_ids=ids,
                head_seed=head_seed(arch, seed),
                config=train,
            )
            for kind, (_, history) in pair.items():
                facts[f"{name}/{kind}"] = training_facts(context, f"train/{stem}-{kind}", history)
            context.log(f"  trained {name} (absolute + relative)")
            models[name] = (pair["absolute"][0], pair["relative"][0])
    return models, facts


def _report(
    result: Any, chance: float, protocol: str, context: RunContext, heatmaps: str
) -> tuple[list[Table], Figure]:
    """The summary (paper layout), one stitching matrix per method, and their heatmaps."""
    from relreps.report import stitching_heatmaps
    from relreps.stitching.zoo import matrix_table, summary_table

    summary = summary_table(
        result,
        f"{protocol} Summary (paper layout): weighted F1 x100, mean +- std over "
        "(encoder, head) pairs",
        f"Majority-class baseline: weighted F1 {chance:.2f}. Stitched = encoder of one model, "
        "head of another; undefined = absolute stitching across different latent widths.",
    )
    title = "{} {} stitching matrix (rows: encoder, columns: head), F1 x100"
    tables = [
        matrix_table(result, m, title.format(protocol, m.capitalize())) for m in result.methods
    ]
    figure = stitching_heatmaps(
        {m: result.pair_mean(m) for m in result.methods},
        list(result.names),
        list(result.names),
        context.figures_dir / heatmaps,
        "weighted F1 x100",
        root=context.output_dir,
        caption=f"{protocol}: every encoder (rows) with every head (columns). Hatched: undefined "
        "(latent widths differ).",
    )
    return [summary, *tables], figure


def _end_to_end_verdicts(result: Any, chance: float) -> list[Verdict]:
    """Protocol (b): the kept-fraction rule, within an architecture family and over all pairs."""
    from relreps.stitching.zoo import merge_groups, pair_groups

    groups = pair_groups(result, family)
    within = merge_groups([g for g in groups if g.encoders == g.heads], "within")
    verdicts = [
        claim.judge(
            g.kept,
            detail=f"relative stitched {g.relative_stitched:.1f} vs not stitched "
            f"{g.relative_own:.1f}",
        )
        for claim, g in ((KEEPS_WITHIN_FAMILY, within), (KEEPS_ALL_PAIRS, merge_groups(groups, "")))
    ]
    summary = {(r.method, r.stitched): r.mean for r in result.summary()}
    verdicts.append(absolute_near_chance(ABSOLUTE_FAILS, summary[("absolute", True)], chance))
    rel_own, abs_own = summary[("relative", False)], summary[("absolute", False)]
    verdicts.append(
        RELATIVE_TRAINING_COSTS_NOTHING.judge(
            kept_fraction(rel_own, abs_own),
            detail=f"not stitched: relative {rel_own:.1f} vs absolute {abs_own:.1f}",
        )
    )
    return verdicts


def _frozen_space_figure(outcome: FrozenOutcome, data: ImageSplit, context: RunContext) -> Figure:
    """Absolute vs relative 2-D views of two frozen encoders of one architecture (two seeds)."""
    from relreps import relative_projection
    from relreps.report import space_views

    pair, n = outcome.spaces[:2], min(1500, len(data.y_test))
    return space_views(
        {s.name: np.asarray(s.test[:n]) for s in pair},
        {s.name: np.asarray(relative_projection(s.test[:n], s.anchors)) for s in pair},
        data.label_names(data.y_test[:n]),
        context.figures_dir / "space_views.png",
        root=context.output_dir,
        caption=f"Latent spaces of {pair[0].name} and {pair[1].name} (same architecture, "
        "different seeds, frozen): absolute coordinates (top) differ by a rotation; relative "
        "coordinates (bottom) align. Colour = Fashion-MNIST class.",
    )


def _end_to_end(
    config: VisionConfig, context: RunContext
) -> tuple[list[Table], Figure, list[Verdict], dict[str, Any]]:
    """Protocol (b): train absolute and relative models end to end, stitch the trained models."""
    import torch

    from relreps.anchors import stratified
    from relreps.stitching import majority_f1, stitching_grid_models

    data = load_image_split(config.dataset, config.n_train, config.n_test, context.seed)
    anchor_idx = stratified(
        data.y_train, min(config.n_anchors, len(data.y_train)), seed=context.seed
    )
    context.log(
        f"  (b) end to end: {data.name}, {len(data.y_train)} train / {len(data.y_test)} test "
        f"images, {len(anchor_idx)} stratified anchors, "
        f"{len(config.archs)} architectures x {config.seeds} seeds"
    )
    models, facts = train_zoo(config, data, anchor_idx, context)
    x_test, y_test = torch.from_numpy(data.x_test), torch.from_numpy(data.y_test)
    result = stitching_grid_models(models, x_test, y_test, scoring="f1_weighted")
    chance = majority_f1(data.y_test)
    tables, figure = _report(
        result, chance, "(b) End to end:", context, "stitching_heatmaps_end_to_end.png"
    )
    data_out = {"stitching": result.to_dict(), "training": facts, "config": config.to_dict()}
    return tables, figure, _end_to_end_verdicts(result, chance), data_out


def run_config(
    frozen: FrozenConfig,
    end_to_end: VisionConfig | None,
    context: RunContext,
    residual: FrozenConfig | None = None,
) -> tuple[ExperimentResult, FrozenOutcome]:
    """Run protocol (a) and, when given, protocol (b) and the residual-CNN study.

    Returns the experiment result and protocol (a)'s outcome. Torch runs on one thread: these
    models are small, and intra-op threads cost more than they give (much more on a busy machine).
    """
    import torch

    from relreps.experiments._repro_torch import torch_threads

    with torch_threads(1):
        torch.manual_seed(context.seed)  # layers outside relreps.nn's seeded builders
        data = load_image_split(frozen.dataset, frozen.n_train, frozen.n_test, context.seed)
        if data.note:
            context.log(data.note)
        outcome = run_frozen(frozen, context, data)
        result, chance = outcome.result, outcome.chance
        tables, heatmaps = _report(
            result, chance, "(a) Frozen encoders:", context, "stitching_heatmaps.png"
        )
        tables = [*outcome.tables, *tables]
        figures = [_frozen_space_figure(outcome, data, context), heatmaps]
        verdicts, extra = list(outcome.verdicts), dict[str, Any]()
        residual_rows: tuple[ResidualRow, ...] = ()
        if end_to_end is not None:
            e_tables, e_heatmaps, e_verdicts, extra = _end_to_end(end_to_end, context)
            tables, verdicts = tables + e_tables, verdicts + e_verdicts
            figures.append(e_heatmaps)
        if residual is not None:
            same = (residual.n_train, residual.n_test) == (frozen.n_train, frozen.n_test)
            split = (residual.dataset, residual.n_train, residual.n_test, context.seed)
            residual_data = data if same else load_image_split(*split)
            residual_rows, residual_table = run_residual_study(residual, residual_data, context)
            tables.append(residual_table)
    config = {"quick": context.quick, "seed": context.seed, "frozen": frozen.to_dict()}
    config["end_to_end"] = None if end_to_end is None else end_to_end.to_dict()
    config["residual"] = None if residual is None else residual.to_dict()
    experiment = ExperimentResult(
        name=NAME,
        title=TITLE,
        paper_ref=PAPER_REF,
        config={**config, "data": data.name},
        tables=tuple(tables),
        figures=tuple(figures),
        verdicts=tuple(verdicts),
        data={
            "stitching": result.to_dict(),
            "ablation": [asdict(r) | {"kept": r.kept} for r in outcome.ablation],
            "training": outcome.training,
            "chance_f1": chance,
            "end_to_end": extra,
            "residual": [asdict(r) for r in residual_rows],
            "note": data.note,
        },
    )
    return experiment, outcome


def run(context: RunContext) -> ExperimentResult:
    """The experiment entry point (``relreps reproduce vision-stitching [--quick]``)."""
    frozen = context.sized(FROZEN_QUICK, FROZEN_FULL)
    residual = context.sized(RESIDUAL_QUICK, RESIDUAL_FULL)
    return run_config(frozen, context.sized(QUICK, FULL), context, residual)[0]


SPEC = ExperimentSpec(
    name=NAME, title=TITLE, paper_ref=PAPER_REF, requirements=REQUIRES_IMAGE_TRAINING, run=run
)
