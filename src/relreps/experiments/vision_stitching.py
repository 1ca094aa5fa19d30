"""``vision-stitching`` (and ``relreps demo``): zero-shot stitching of image classifiers.

Two protocols on one zoo of image encoders trained here from scratch (plain torch, CPU):

- **(a) frozen encoders** (the paper's 5.3 and 4.3; :mod:`relreps.experiments._vision_frozen`):
  every encoder is trained once (as a classifier under its own head, or as an autoencoder) and
  frozen; every frozen encoder then gets an absolute head and a relative head (the stitching
  default: a linear layer on LayerNorm of the cosine similarities to class-stratified anchors),
  and every encoder is plugged into every head with no training. Its head ablation is
  published in docs/stitching.md.
- **(b) end to end**: every encoder is trained twice from the same initialisation, once under
  an absolute head and once under a relative head that re-embeds the anchors at every step, and
  the trained models are stitched.

Absolute stitching is defined only for equal widths; a Procrustes translation fitted on the two
encoders' anchor embeddings is the third column. Scores are weighted F1 x100, the paper's metric
for classification stitching; every stitching verdict is a kept fraction against its threshold.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from relreps.experiments._aeq_common import ImageSplit as ImageData
from relreps.experiments._aeq_common import load_image_split
from relreps.experiments._vision_frozen import (
    KEPT_PARTLY,
    FrozenConfig,
    FrozenOutcome,
    chance_f1,
    pair_groups,
    run_frozen,
)
from relreps.experiments._vision_zoo import Arch, build_encoder, head_seed, pretrained_ae_encoder
from relreps.experiments.base import (
    REQUIRES_IMAGE_TRAINING,
    ExperimentResult,
    ExperimentSpec,
    Figure,
    RunContext,
    Table,
    Verdict,
    judge,
)

NAME = "vision-stitching"
TITLE = "Image classifiers stitched zero-shot across seeds, architectures and widths"
PAPER_REF = "paper 5.2 (vision stitching), 4.3"
FASHION_DIR = "/usr/share/datasets/fashion-mnist"


@dataclass(frozen=True)
class VisionConfig:
    """Size of a run. ``seeds`` encoders per architecture; ``epochs`` per model."""

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


QUICK = VisionConfig(
    archs=(Arch("mlp64", "mlp", 64), Arch("cnn64", "cnn", 64)),
    seeds=2,
    n_train=3000,
    n_test=1000,
    n_anchors=300,
    epochs=2,
)
FULL = VisionConfig(
    archs=(
        Arch("mlp64", "mlp", 64),
        Arch("mlp128", "mlp", 128),
        Arch("cnn64", "cnn", 64),
        Arch("cnn128", "cnn", 128),
    ),
    seeds=3,
    n_train=60000,
    n_test=10000,
    n_anchors=300,
    epochs=4,
    batch_size=256,
)
"""Protocol (b), end to end: the same {MLP, CNN} x {64, 128} x 3 seeds zoo on all 60k images."""

FROZEN_DEMO = FrozenConfig(
    archs=(Arch("mlp64", "mlp", 64), Arch("cnn64", "cnn", 64), Arch("cnn32", "cnn", 32)),
    seeds=3,
    n_train=60000,
    n_test=10000,
    encoder_epochs=2,
)
"""``relreps demo``: protocol (a) on all of Fashion-MNIST, 9 encoders (two widths, two
architectures, 3 seeds)."""
FROZEN_QUICK = FrozenConfig(
    archs=(Arch("mlp64", "mlp", 64), Arch("cnn64", "cnn", 64)),
    seeds=2,
    n_train=3000,
    n_test=1000,
    n_anchors=300,
    encoder_epochs=2,
)
FROZEN_FULL = FrozenConfig(
    archs=FULL.archs,
    ae_archs=(Arch("ae-mlp64", "ae", 64),),
    seeds=3,
    n_train=60000,
    n_test=10000,
    encoder_epochs=5,
    ablation=True,
)
"""Protocol (a), full run: {MLP, CNN} x {64, 128} x 3 seeds classifier encoders plus 3
autoencoder-trained MLP encoders, with the head ablation."""
_RESIDUAL_ARCHS = (
    Arch("mlp64", "mlp", 64),
    Arch("cnn64", "cnn", 64),
    Arch("resnet64", "resnet", 64),
    Arch("resgn64", "resnet-gn", 64),
)
RESIDUAL_QUICK = FrozenConfig(
    archs=_RESIDUAL_ARCHS, seeds=2, n_train=3000, n_test=1000, encoder_epochs=2
)
RESIDUAL_FULL = FrozenConfig(
    archs=_RESIDUAL_ARCHS, seeds=3, n_train=60000, n_test=10000, encoder_epochs=5
)
"""The residual-CNN study (full run): plain residual CNN and GroupNorm-before-pooling residual
CNN beside MLP and CNN, each read with plain and anchor-centred cosine."""


def load_images(config: VisionConfig, seed: int) -> ImageData:
    """Fashion-MNIST when the Debian package is installed, else sklearn digits (and say so).

    The subsets are class-stratified seeded draws of the official train and test splits.
    """
    return load_image_split(config.dataset, config.n_train, config.n_test, seed)


def _train_config(config: VisionConfig, seed: int) -> Any:
    from relreps.nn import TrainConfig

    return TrainConfig(
        epochs=config.epochs,
        batch_size=config.batch_size,
        seed=seed,
        max_seconds=config.max_seconds_per_model,
        patience=2,
    )


def train_zoo(
    config: VisionConfig, data: ImageData, anchor_idx: np.ndarray, context: RunContext
) -> tuple[dict[str, tuple[Any, Any]], dict[str, Any]]:
    """Train (or load from the run folder) an absolute and a relative classifier per encoder.

    Returns the models ``name -> (absolute, relative)`` and per-model training facts.
    """
    import torch

    from relreps.nn import AbsoluteClassifier, RelativeClassifier, fit, load_model, save_model

    folder = context.output_dir / "models"
    x = torch.from_numpy(data.x_train)
    y = torch.from_numpy(data.y_train)
    anchors = x[torch.from_numpy(anchor_idx)]
    anchor_ids = [f"train:{int(i)}" for i in anchor_idx]
    n_classes = int(data.y_train.max()) + 1
    models: dict[str, tuple[Any, Any]] = {}
    facts: dict[str, Any] = {}
    for arch in config.archs:
        for s in range(config.seeds):
            seed = context.seed + s
            name = f"{arch.name}/s{seed}"
            pair = []
            for kind in ("absolute", "relative"):
                saved = folder / f"{arch.name}-seed{seed}-{kind}"
                if (saved / "config.json").exists():
                    model = load_model(saved)
                    facts[f"{name}/{kind}"] = context.cache.get(f"train/{saved.name}")
                else:
                    if arch.kind == "ae":
                        encoder = pretrained_ae_encoder(
                            arch, data, seed, _train_config(config, seed), folder
                        )
                    else:
                        encoder = build_encoder(arch, data.x_train.shape[1:], seed)
                    if kind == "absolute":
                        model = AbsoluteClassifier(
                            encoder,
                            n_classes,
                            anchor_inputs=anchors,
                            anchor_ids=anchor_ids,
                            seed=head_seed(arch, seed),
                        )
                    else:
                        model = RelativeClassifier(
                            encoder,
                            anchors,
                            n_classes,
                            anchor_ids=anchor_ids,
                            seed=head_seed(arch, seed),
                        )
                    history = fit(model, x, y, config=_train_config(config, seed))
                    model.eval()
                    save_model(model, saved)
                    fact = {"epochs_run": history.epochs_run, "seconds": history.seconds}
                    context.cache.put(f"train/{saved.name}", fact)
                    facts[f"{name}/{kind}"] = fact
                pair.append(model)
            context.log(f"  trained {name} (absolute + relative)")
            models[name] = (pair[0], pair[1])
    return models, facts


def _summary_table(result: Any, chance: float, protocol: str) -> Table:
    rows = []
    for row in result.summary():
        rows.append(
            (
                row.method,
                "stitched" if row.stitched else "not stitched",
                None if math.isnan(row.mean) else round(row.mean, 2),
                None if math.isnan(row.std) else round(row.std, 2),
                row.n_cells,
                row.n_undefined,
            )
        )
    return Table(
        title=f"{protocol} Summary (paper layout): weighted F1 x100, mean +- std over "
        "(encoder, head) pairs",
        columns=("method", "setting", "F1 mean", "F1 std", "cells", "undefined cells"),
        rows=tuple(rows),
        note=f"Majority-class baseline: weighted F1 {chance:.2f}. Stitched = encoder of one model, "
        "head of another; undefined = absolute stitching across different latent widths.",
    )


def _matrix_table(result: Any, method: str, protocol: str) -> Table:
    matrix = result.pair_mean(method)
    rows = tuple(
        (enc, *(None if math.isnan(v) else round(float(v), 1) for v in matrix[i]))
        for i, enc in enumerate(result.names)
    )
    return Table(
        title=f"{protocol} {method.capitalize()} stitching matrix (rows: encoder, columns: head), "
        "F1 x100",
        columns=("encoder \\ head", *result.names),
        rows=rows,
    )


def _end_to_end_verdicts(result: Any, chance: float) -> tuple[Verdict, ...]:
    """Protocol (b): the kept-fraction rule, within an architecture family and over all pairs."""
    groups = pair_groups(result)

    def pooled(selected: list[Any], attr: str) -> float:
        weights = np.array([g.n_cells for g in selected], dtype=float)
        values = np.array([getattr(g, attr) for g in selected], dtype=float)
        ok = np.isfinite(values)
        return float(np.average(values[ok], weights=weights[ok])) if ok.any() else math.nan

    verdicts = []
    for scope, selected in (
        ("within an architecture family", [g for g in groups if g.encoders == g.heads]),
        ("all pairs", list(groups)),
    ):
        stitched, own = pooled(selected, "relative_stitched"), pooled(selected, "relative_own")
        verdicts.append(
            judge(
                f"(b) end to end, {scope}: relative heads accept other encoders zero-shot",
                "kept fraction (relative stitched / relative not stitched)",
                stitched / own if own > 0 else math.nan,
                KEPT_PARTLY,
                partly=0.75,
                detail=f"relative stitched {stitched:.1f} vs not stitched {own:.1f}",
            )
        )
    summary = {(r.method, r.stitched): r.mean for r in result.summary()}
    abs_st = summary[("absolute", True)]
    if math.isnan(abs_st):
        verdicts.append(
            Verdict(
                "(b) absolute stitching fails (near chance)",
                "skipped",
                "no two encoders of equal width: absolute stitching is undefined",
            )
        )
    else:
        verdicts.append(
            judge(
                "(b) absolute stitching fails (near chance)",
                "absolute stitched F1 points above the majority baseline",
                abs_st - chance,
                10.0,
                comparison="<=",
                partly=30.0,
                detail=f"absolute stitched {abs_st:.1f}, majority baseline {chance:.1f}",
            )
        )
    rel_own, abs_own = summary[("relative", False)], summary[("absolute", False)]
    verdicts.append(
        judge(
            "(b) training on relative representations costs (almost) no accuracy",
            "relative not stitched / absolute not stitched",
            rel_own / abs_own if abs_own > 0 else math.nan,
            0.97,
            partly=0.9,
            detail=f"not stitched: relative {rel_own:.1f} vs absolute {abs_own:.1f}",
        )
    )
    return tuple(verdicts)


def _frozen_space_figure(outcome: FrozenOutcome, data: ImageData, context: RunContext) -> Figure:
    """Absolute vs relative 2-D views of two frozen encoders of one architecture (two seeds),
    points coloured by class name."""
    from relreps import relative_projection
    from relreps.report import space_views

    first, second = outcome.spaces[0], outcome.spaces[1]
    n = min(1500, len(data.y_test))
    abs_spaces = {s.name: np.asarray(s.test[:n]) for s in (first, second)}
    rel_spaces = {
        s.name: np.asarray(relative_projection(s.test[:n], s.anchors)) for s in (first, second)
    }
    return space_views(
        abs_spaces,
        rel_spaces,
        data.label_names(data.y_test[:n]),
        context.figures_dir / "space_views.png",
        root=context.output_dir,
        caption=f"Latent spaces of {first.name} and {second.name} (same architecture, different "
        "seeds, frozen): absolute coordinates (top) differ by a rotation; relative coordinates "
        "(bottom) align. Colour = Fashion-MNIST class.",
    )


def _heatmaps(result: Any, context: RunContext, filename: str, protocol: str) -> Figure:
    from relreps.report import stitching_heatmaps

    return stitching_heatmaps(
        {m: result.pair_mean(m) for m in result.methods},
        list(result.names),
        list(result.names),
        context.figures_dir / filename,
        "weighted F1 x100",
        root=context.output_dir,
        caption=f"{protocol}: every encoder (rows) with every head (columns). Hatched: undefined "
        "(latent widths differ).",
    )


def _end_to_end(
    config: VisionConfig, context: RunContext
) -> tuple[list[Table], list[Figure], tuple[Verdict, ...], dict[str, Any]]:
    """Protocol (b): train absolute and relative models end to end, stitch the trained models."""
    import torch

    from relreps.anchors import stratified
    from relreps.stitching import stitching_grid_models

    data = load_images(config, context.seed)
    anchor_idx = stratified(
        data.y_train, min(config.n_anchors, len(data.y_train)), seed=context.seed
    )
    context.log(
        f"  (b) end to end: {data.name}, {len(data.y_train)} train / {len(data.y_test)} test "
        f"images, {len(anchor_idx)} stratified anchors, "
        f"{len(config.archs)} architectures x {config.seeds} seeds"
    )
    models, facts = train_zoo(config, data, anchor_idx, context)
    result = stitching_grid_models(
        models, torch.from_numpy(data.x_test), torch.from_numpy(data.y_test), metric="f1_weighted"
    )
    chance = chance_f1(data.y_test)
    protocol = "(b) End to end:"
    tables = [_summary_table(result, chance, protocol)]
    tables += [_matrix_table(result, m, protocol) for m in result.methods]
    figures = [_heatmaps(result, context, "stitching_heatmaps_end_to_end.png", protocol)]
    data_out = {"stitching": result.to_dict(), "training": facts, "config": config.to_dict()}
    return tables, figures, _end_to_end_verdicts(result, chance), data_out


def run_config(
    frozen: FrozenConfig,
    end_to_end: VisionConfig | None,
    context: RunContext,
    residual: FrozenConfig | None = None,
) -> tuple[ExperimentResult, FrozenOutcome]:
    """Run protocol (a) and, when given, protocol (b) and the residual-CNN study.

    Returns the experiment result and protocol (a)'s outcome. Torch runs on one thread here:
    these models are small, and intra-op threads cost more than they give (much more on a busy
    machine).
    """
    from relreps.experiments._repro_torch import torch_threads

    with torch_threads(1):
        return _run_config(frozen, end_to_end, context, residual)


def _run_config(
    frozen: FrozenConfig,
    end_to_end: VisionConfig | None,
    context: RunContext,
    residual: FrozenConfig | None,
) -> tuple[ExperimentResult, FrozenOutcome]:
    import torch

    torch.manual_seed(context.seed)  # layers outside relreps.nn's seeded builders
    data = load_image_split(frozen.dataset, frozen.n_train, frozen.n_test, context.seed)
    if data.note:
        context.log(data.note)
    outcome = run_frozen(frozen, context, data)
    protocol = "(a) Frozen encoders:"
    tables = [*outcome.tables, _summary_table(outcome.result, outcome.chance, protocol)]
    tables += [_matrix_table(outcome.result, m, protocol) for m in outcome.result.methods]
    figures = [
        _frozen_space_figure(outcome, data, context),
        _heatmaps(outcome.result, context, "stitching_heatmaps.png", protocol),
    ]
    verdicts = outcome.verdicts
    extra: dict[str, Any] = {}
    if end_to_end is not None:
        e_tables, e_figures, e_verdicts, extra = _end_to_end(end_to_end, context)
        tables += e_tables
        figures += e_figures
        verdicts += e_verdicts
    residual_rows: tuple[Any, ...] = ()
    if residual is not None:
        from relreps.experiments._vision_residual import run_residual_study

        residual_data = data
        if (residual.n_train, residual.n_test) != (frozen.n_train, frozen.n_test):
            residual_data = load_image_split(
                residual.dataset, residual.n_train, residual.n_test, context.seed
            )
        residual_rows, residual_table = run_residual_study(residual, residual_data, context)
        tables.append(residual_table)
    experiment = ExperimentResult(
        name=NAME,
        title=TITLE,
        paper_ref=PAPER_REF,
        config={
            "quick": context.quick,
            "seed": context.seed,
            "frozen": frozen.to_dict(),
            "end_to_end": None if end_to_end is None else end_to_end.to_dict(),
            "residual": None if residual is None else residual.to_dict(),
            "data": data.name,
        },
        tables=tuple(tables),
        figures=tuple(figures),
        verdicts=verdicts,
        data={
            "stitching": outcome.result.to_dict(),
            "ablation": [asdict(r) | {"kept": r.kept} for r in outcome.ablation],
            "training": outcome.training,
            "chance_f1": outcome.chance,
            "end_to_end": extra,
            "residual": [asdict(r) for r in residual_rows],
            "note": data.note,
        },
    )
    return experiment, outcome


def run(context: RunContext) -> ExperimentResult:
    """The experiment entry point (``relreps reproduce vision-stitching [--quick]``)."""
    frozen = context.sized(FROZEN_QUICK, FROZEN_FULL)
    end_to_end = context.sized(QUICK, FULL)
    residual = context.sized(RESIDUAL_QUICK, RESIDUAL_FULL)
    experiment, _ = run_config(frozen, end_to_end, context, residual)
    return experiment


SPEC = ExperimentSpec(
    name=NAME,
    title=TITLE,
    paper_ref=PAPER_REF,
    requirements=REQUIRES_IMAGE_TRAINING,
    run=run,
)
