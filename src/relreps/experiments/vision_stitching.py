"""``vision-stitching`` (and ``relreps demo``): zero-shot stitching of image classifiers.

A zoo of image encoders is trained here from scratch (plain torch, CPU): several architectures x
several seeds, with different latent widths. Every encoder is trained twice from the same
initialisation - once under an absolute classification head and once under a relative head that
reads its cosine similarities to 500 class-stratified anchor images (re-embedded by the current
encoder at every step, as in the paper) - so absolute and relative models have matched capacity.
Then every encoder is plugged into every head with no training: absolute stitching (defined only
for equal widths), relative stitching (always defined) and, as a third column, a Procrustes
translation fitted on the two encoders' anchor embeddings. Scores are weighted F1 x100, the
paper's metric for classification stitching.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from relreps.experiments._aeq_common import ImageSplit as ImageData
from relreps.experiments._aeq_common import load_image_split
from relreps.experiments.base import (
    REQUIRES_IMAGE_TRAINING,
    ExperimentResult,
    ExperimentSpec,
    Figure,
    RunContext,
    Status,
    Table,
    Verdict,
)

NAME = "vision-stitching"
TITLE = "Image classifiers stitched zero-shot across seeds, architectures and widths"
PAPER_REF = "paper 5.2 (vision stitching), 4.3"
FASHION_DIR = "/usr/share/datasets/fashion-mnist"


@dataclass(frozen=True)
class Arch:
    """One encoder family of the zoo.

    Attributes:
        name: short name used in tables (``mlp64``).
        kind: ``"mlp"``, ``"cnn"``, ``"resnet"`` (a small residual CNN) or ``"ae"`` (an MLP
            encoder pretrained as an autoencoder, then frozen: a different training objective).
        latent_dim: width of the latent space.
    """

    name: str
    kind: str
    latent_dim: int


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


DEMO = VisionConfig(
    archs=(Arch("mlp64", "mlp", 64), Arch("cnn32", "cnn", 32)),
    seeds=3,
    n_train=20000,
    n_test=5000,
    epochs=5,
)
QUICK = VisionConfig(
    archs=(Arch("mlp64", "mlp", 64), Arch("cnn32", "cnn", 32)),
    seeds=2,
    n_train=3000,
    n_test=1000,
    n_anchors=300,
    epochs=2,
)
FULL = VisionConfig(
    archs=(
        Arch("mlp64", "mlp", 64),
        Arch("mlp1024", "mlp", 1024),
        Arch("cnn64", "cnn", 64),
        Arch("cnn32", "cnn", 32),
        Arch("resnet64", "resnet", 64),
        Arch("ae-mlp64", "ae", 64),
    ),
    seeds=5,
    n_train=12000,
    n_test=5000,
    epochs=6,
)


def load_images(config: VisionConfig, seed: int) -> ImageData:
    """Fashion-MNIST when the Debian package is installed, else sklearn digits (and say so).

    The subsets are class-stratified seeded draws of the official train and test splits.
    """
    return load_image_split(config.dataset, config.n_train, config.n_test, seed)


def _encoder(arch: Arch, in_shape: tuple[int, ...], seed: int) -> Any:
    from relreps.nn import CNNEncoder, MLPEncoder, ResidualCNNEncoder

    if arch.kind == "cnn":
        return CNNEncoder(in_shape, arch.latent_dim, seed=seed)
    if arch.kind == "resnet":
        return ResidualCNNEncoder(in_shape, arch.latent_dim, seed=seed)
    return MLPEncoder(in_shape, arch.latent_dim, hidden=(256,), seed=seed)


def _pretrained_ae_encoder(
    arch: Arch, data: ImageData, seed: int, config: VisionConfig, folder: Path
) -> Any:
    """An MLP encoder trained to reconstruct the images (a different objective), then frozen."""
    import torch

    from relreps.nn import AbsoluteAE, fit, load_model, save_model

    saved = folder / f"ae-{arch.name}-seed{seed}"
    if (saved / "config.json").exists():
        model = load_model(saved)
    else:
        model = AbsoluteAE(_encoder(arch, data.x_train.shape[1:], seed), seed=seed)
        x = torch.from_numpy(data.x_train)
        fit(model, x, x, config=_train_config(config, seed))
        save_model(model, saved)
    frozen: Any = model.encoder
    for parameter in frozen.parameters():
        parameter.requires_grad_(False)
    return frozen


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
                        encoder = _pretrained_ae_encoder(arch, data, seed, config, folder)
                    else:
                        encoder = _encoder(arch, data.x_train.shape[1:], seed)
                    if kind == "absolute":
                        model = AbsoluteClassifier(
                            encoder,
                            n_classes,
                            anchor_inputs=anchors,
                            anchor_ids=anchor_ids,
                            seed=seed,
                        )
                    else:
                        model = RelativeClassifier(
                            encoder, anchors, n_classes, anchor_ids=anchor_ids, seed=seed
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


def _chance_f1(labels: np.ndarray) -> float:
    """Weighted F1 x100 of always predicting the majority class."""
    counts = np.bincount(labels)
    share = counts.max() / counts.sum()
    return float(100.0 * share * (2 * share / (share + 1.0)))


def _summary_table(result: Any, chance: float) -> Table:
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
        title="Summary (paper layout): weighted F1 x100, mean +- std over (encoder, head) pairs",
        columns=("method", "setting", "F1 mean", "F1 std", "cells", "undefined cells"),
        rows=tuple(rows),
        note=f"Majority-class baseline: weighted F1 {chance:.2f}. Stitched = encoder of one model, "
        "head of another; undefined = absolute stitching across different latent widths.",
    )


def _matrix_table(result: Any, method: str) -> Table:
    matrix = result.pair_mean(method)
    rows = tuple(
        (enc, *(None if math.isnan(v) else round(float(v), 1) for v in matrix[i]))
        for i, enc in enumerate(result.names)
    )
    return Table(
        title=f"{method.capitalize()} stitching matrix (rows: encoder, columns: head), F1 x100",
        columns=("encoder \\ head", *result.names),
        rows=rows,
    )


def _verdicts(result: Any, chance: float) -> tuple[Verdict, ...]:
    summary = {(r.method, r.stitched): r for r in result.summary()}
    rel_own, rel_st = summary[("relative", False)].mean, summary[("relative", True)].mean
    abs_own, abs_st = summary[("absolute", False)].mean, summary[("absolute", True)].mean
    verdicts = []
    gap = rel_own - rel_st
    status: Status = (
        "reproduced"
        if gap <= 10
        else ("partly" if rel_st - chance > 0.5 * (rel_own - chance) else "not reproduced")
    )
    verdicts.append(
        Verdict(
            "Relative heads accept other encoders zero-shot (stitched close to not stitched)",
            status,
            f"relative stitched {rel_st:.1f} vs not stitched {rel_own:.1f} (gap {gap:.1f} points)",
        )
    )
    if math.isnan(abs_st):
        verdicts.append(
            Verdict(
                "Absolute stitching fails (near chance)",
                "skipped",
                "no pair of encoders with equal latent widths, so absolute stitching is undefined",
            )
        )
    else:
        status = (
            "reproduced"
            if abs_st <= chance + 20
            else ("partly" if abs_st < rel_st else "not reproduced")
        )
        verdicts.append(
            Verdict(
                "Absolute stitching fails (near chance)",
                status,
                f"absolute stitched {abs_st:.1f} vs chance {chance:.1f} "
                f"and not stitched {abs_own:.1f}",
            )
        )
    cost = abs_own - rel_own
    verdicts.append(
        Verdict(
            "Training on relative representations costs (almost) no accuracy",
            "reproduced" if cost <= 3 else ("partly" if cost <= 8 else "not reproduced"),
            f"not stitched: relative {rel_own:.1f} vs absolute {abs_own:.1f}",
        )
    )
    return tuple(verdicts)


def _space_figure(
    models: dict[str, tuple[Any, Any]], data: ImageData, context: RunContext
) -> Figure | None:
    """Absolute vs relative 2-D views of two encoders of the same architecture."""
    import torch

    from relreps.report import space_views

    names = list(models)
    if len(names) < 2:
        return None
    first, second = names[0], names[1]
    x = torch.from_numpy(data.x_test[:1500])
    abs_spaces, rel_spaces = {}, {}
    with torch.no_grad():
        for name in (first, second):
            relative_model = models[name][1]
            abs_spaces[name] = relative_model.embed(x).numpy()
            rel_spaces[name] = relative_model.encode(x).numpy()
    return space_views(
        abs_spaces,
        rel_spaces,
        data.y_test[:1500],
        context.figures_dir / "space_views.png",
        root=context.output_dir,
        caption=f"Latent spaces of {first} and {second} (same architecture, different seeds): "
        "absolute coordinates (top) differ by a rotation; relative coordinates (bottom) align.",
    )


def run_config(config: VisionConfig, context: RunContext) -> tuple[ExperimentResult, Any]:
    """Run one configuration; returns the experiment result and the raw stitching result.

    Torch runs on one thread here: these models are small, and intra-op threads cost more than
    they give (much more on a busy machine).
    """
    from relreps.experiments._repro_torch import torch_threads

    with torch_threads(1):
        return _run_config(config, context)


def _run_config(config: VisionConfig, context: RunContext) -> tuple[ExperimentResult, Any]:
    import torch

    from relreps.anchors import stratified
    from relreps.report import stitching_heatmaps
    from relreps.stitching import stitching_grid_models

    torch.manual_seed(context.seed)  # layers outside relreps.nn's seeded builders
    data = load_images(config, context.seed)
    if data.note:
        context.log(data.note)
    anchor_idx = stratified(
        data.y_train, min(config.n_anchors, len(data.y_train)), seed=context.seed
    )
    context.log(
        f"  {data.name}: {len(data.y_train)} train / {len(data.y_test)} test images, "
        f"{len(anchor_idx)} stratified anchors, "
        f"{len(config.archs)} architectures x {config.seeds} seeds"
    )
    models, facts = train_zoo(config, data, anchor_idx, context)
    result = stitching_grid_models(
        models, torch.from_numpy(data.x_test), torch.from_numpy(data.y_test), metric="f1_weighted"
    )
    chance = _chance_f1(data.y_test)
    figures = []
    space = _space_figure(models, data, context)
    if space is not None:
        figures.append(space)
    figures.append(
        stitching_heatmaps(
            {m: result.pair_mean(m) for m in result.methods},
            list(result.names),
            list(result.names),
            context.figures_dir / "stitching_heatmaps.png",
            "weighted F1 x100",
            root=context.output_dir,
            caption="Every encoder (rows) with every head (columns). Hatched: undefined (latent "
            "widths differ).",
        )
    )
    tables = [_summary_table(result, chance)]
    tables += [_matrix_table(result, m) for m in result.methods]
    experiment = ExperimentResult(
        name=NAME,
        title=TITLE,
        paper_ref=PAPER_REF,
        config={
            "quick": context.quick,
            "seed": context.seed,
            **config.to_dict(),
            "data": data.name,
        },
        tables=tuple(tables),
        figures=tuple(figures),
        verdicts=_verdicts(result, chance),
        data={
            "stitching": result.to_dict(),
            "training": facts,
            "chance_f1": chance,
            "note": data.note,
        },
    )
    return experiment, result


def run(context: RunContext) -> ExperimentResult:
    """The experiment entry point (``relreps reproduce vision-stitching [--quick]``)."""
    config = context.sized(QUICK, FULL)
    experiment, _ = run_config(config, context)
    return experiment


SPEC = ExperimentSpec(
    name=NAME,
    title=TITLE,
    paper_ref=PAPER_REF,
    requirements=REQUIRES_IMAGE_TRAINING,
    run=run,
)
