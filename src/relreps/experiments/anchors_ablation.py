"""``anchors-ablation``: how many anchors, and which ones?

A few image encoders are trained once as absolute classifiers on Fashion-MNIST (sklearn digits
when the Debian package is absent) and their latents of the training and test images fixed. For
every anchor strategy of :mod:`relreps.anchors` and every number of anchors, relative heads are
trained per space on the cosines to the anchors - chosen among the training images in a PCA of
the pixels, so no encoder decides them - and scored on their own space (not stitched) and on
every other encoder's space (zero-shot stitched), with absolute heads on the same spaces as
reference lines (:func:`relreps.stitching.anchor_sweep.anchor_sweep`).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from functools import partial
from typing import Any

import numpy as np

from relreps.anchors import STRATEGIES
from relreps.experiments._repro_torch import torch_threads
from relreps.experiments.base import (
    REQUIRES_IMAGE_TRAINING,
    ExperimentResult,
    ExperimentSpec,
    Figure,
    RunContext,
    Table,
    Verdict,
)
from relreps.results import Claim, rounded
from relreps.stitching.anchor_sweep import AnchorSweep, saturation_count

NAME = "anchors-ablation"
TITLE = "Accuracy and stitching vs number of anchors and anchor strategy"
PAPER_REF = "paper appendix (anchor ablations)"
#: The anchor count by which performance should have saturated.
SATURATED_BY = 100
#: Performance saturates: of the two settings (not stitched, stitched), how many come within 2 F1
#: points of their best by :data:`SATURATED_BY` anchors (scores averaged over the strategies).
SATURATES = Claim(
    "Performance saturates quickly as the number of anchors grows",
    f"settings (not stitched, stitched) within 2 F1 points of their best by {SATURATED_BY} anchors",
    2.0,
    partly=1.0,
)
#: k-means anchors help: mean stitched F1 over the counts >= 10, k-means minus random; a
#: difference within 0.5 points either way is a tie ("partly"), as in the paper's numbers.
KMEANS_HELPS = Claim(
    "k-means anchors help (vs random); paper (words, Jaccard): kmeans 0.39, uniform 0.38, fps 0.38",
    "stitched F1 points, k-means minus random",
    0.5,
    partly=-0.5,
)


@dataclass(frozen=True)
class AblationConfig:
    """Size of a run.

    Attributes:
        counts: numbers of anchors tried (capped at the number of training images).
        strategies: anchor strategies tried (names in :data:`STRATEGIES`).
        encoders: ``(kind, latent_dim)`` per architecture, ``kind`` in ``"mlp"``, ``"cnn"``.
        encoder_seeds: encoders trained per architecture.
        repetitions: anchor draws (and head seeds) per (strategy, count).
        n_train: training images (class-stratified subset); also the anchor candidates.
        n_test: test images.
        encoder_epochs: epochs of each encoder's training.
        head_epochs: maximum epochs of each head (early stopping on a validation split).
        pca_dims: dimensions of the pixel PCA in which k-means / farthest-point choose.
        dataset: ``"fashion-mnist"`` (falls back to digits when missing) or ``"digits"``.
    """

    counts: tuple[int, ...] = (1, 2, 5, 10, 50, 100, 300, 500, 1000)
    strategies: tuple[str, ...] = STRATEGIES
    encoders: tuple[tuple[str, int], ...] = (("mlp", 64), ("cnn", 32))
    encoder_seeds: int = 2
    repetitions: int = 2
    n_train: int = 6000
    n_test: int = 2000
    encoder_epochs: int = 4
    head_epochs: int = 30
    pca_dims: int = 50
    dataset: str = "fashion-mnist"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


FULL = AblationConfig()
QUICK = AblationConfig(
    counts=(1, 5, 20, 100, 300),
    encoders=(("mlp", 64),),
    repetitions=1,
    n_train=2000,
    n_test=1000,
    encoder_epochs=3,
    head_epochs=20,
)


def _train_encoders(
    config: AblationConfig, data: Any, context: RunContext
) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """``name -> (train latents, test latents)`` of each encoder, trained under an absolute
    classifier head (or reloaded from the run folder: :func:`relreps.nn.zoo.fit_encoder`)."""
    import torch

    from relreps.nn import TrainConfig
    from relreps.nn.zoo import fit_encoder, image_encoder

    x, y = torch.from_numpy(data.x_train), torch.from_numpy(data.y_train)
    x_test, shape = torch.from_numpy(data.x_test), tuple(data.x_train.shape[1:])
    models = context.output_dir / "models"
    stem = f"ablation-{data.name.replace(' ', '-')}-{config.n_train}"
    spaces = {}
    for kind, dim in config.encoders:
        for seed in range(context.seed, context.seed + config.encoder_seeds):
            folder = models / f"{stem}-{kind}{dim}-e{config.encoder_epochs}-seed{seed}"
            build = partial(image_encoder, kind, shape, dim, seed=seed, hidden=(256,))
            train = TrainConfig(epochs=config.encoder_epochs, batch_size=128, seed=seed, patience=2)
            encoder = fit_encoder(build, x, y, folder, head_seed=seed, config=train)[0]
            spaces[f"{kind}{dim}/s{seed}"] = (encoder(x).numpy(), encoder(x_test).numpy())
            context.log(f"  encoder {kind}{dim}/s{seed} ready")
    return spaces


def run_experiment(context: RunContext, config: AblationConfig) -> ExperimentResult:
    """Train the encoders, then every (strategy, count, repetition) grid of relative heads
    (:func:`relreps.stitching.anchor_sweep.anchor_sweep`)."""
    from relreps.anchors import pca_coordinates
    from relreps.datasets.image_splits import load_image_split
    from relreps.stitching import MLPHeadFactory, majority_f1
    from relreps.stitching.anchor_sweep import anchor_sweep

    data = load_image_split(config.dataset, config.n_train, config.n_test, context.seed)
    if data.note:
        context.log(data.note)
    spaces = _train_encoders(config, data, context)
    context.log(
        f"  {data.name}: {len(data.y_train)} train / {len(data.y_test)} test images, {len(spaces)} "
        f"encoders, {len(config.strategies)} strategies x {len(config.counts)} counts x "
        f"{config.repetitions} repetitions"
    )
    sweep = anchor_sweep(
        spaces, data.y_train, data.y_test,
        # anchors are chosen in the pixel PCA, so no encoder decides them
        pca_coordinates(data.x_train, config.pca_dims),
        counts=config.counts, strategies=config.strategies,
        seeds=range(context.seed, context.seed + config.repetitions), scoring="f1_weighted",
        # BatchNorm in front of the head: LayerNorm over 1 or 2 similarities would erase them.
        head=MLPHeadFactory(input_norm="batchnorm", epochs=config.head_epochs),
        metric="euclidean", max_iter=100, cache_dir=context.output_dir / "cells" / NAME,
        log=context.log,
    )  # fmt: skip
    reports = [_setting_report(sweep, s, data, config, context) for s in ("own", "stitched")]
    return ExperimentResult(
        name=NAME,
        title=TITLE,
        paper_ref=PAPER_REF,
        config={
            "quick": context.quick,
            "seed": context.seed,
            **config.to_dict(),
            "data": data.name,
        },
        tables=tuple(table for _, table in reports),
        figures=tuple(figure for figure, _ in reports),
        verdicts=(_saturation_verdict(sweep), _strategy_verdict(sweep)),
        data={
            "cells": sweep.to_dict(),
            "absolute": sweep.absolute_mean(),
            "chance_f1": majority_f1(data.y_test),
            "counts": list(sweep.counts),
            "note": data.note,
        },
    )


def _setting_report(
    sweep: AnchorSweep, setting: str, data: Any, config: AblationConfig, context: RunContext
) -> tuple[Figure, Table]:
    """The F1 curves by count of one setting (``"own"``: not stitched, or ``"stitched"``)."""
    from relreps.report import line_plot
    from relreps.stitching import majority_f1

    chance, name = majority_f1(data.y_test), data.name
    stitched, counts, absolute = setting == "stitched", sweep.counts, sweep.absolute_mean()[setting]
    label = "stitched" if stitched else "not stitched"
    series = {s: sweep.curve(setting, s) for s in sweep.strategies}
    if math.isfinite(absolute):
        series[f"absolute ({label})"] = [absolute] * len(counts)
    figure = line_plot(
        counts, series, context.figures_dir / f"anchors_ablation_{setting}.png",
        errors={s: sweep.curve(f"{setting}_std", s) for s in sweep.strategies},
        xlabel="number of anchors", ylabel="weighted F1 x100",
        title=f"Relative heads, {label}, vs number of anchors ({name})", logx=True,
        root=context.output_dir,
        caption=f"Relative classifiers {label} (bands: std over encoders"
        f"{' and pairs' if stitched else ''}) for each anchor strategy; "
        f"absolute heads as reference. Majority-class F1: {chance:.1f}.",
    )  # fmt: skip
    rows = tuple(
        (k, *(rounded(series[s][i]) for s in config.strategies)) for i, k in enumerate(counts)
    )
    return figure, Table(
        title=f"Relative heads {label}: weighted F1 x100 by number of anchors and strategy",
        columns=("anchors", *config.strategies),
        rows=rows,
        note=f"Absolute heads {label}: {rounded(absolute)}; majority class "
        f"{chance:.2f}. Mean over {config.repetitions} anchor draw(s) and the encoders "
        f"({'ordered pairs of different encoders' if stitched else 'own'}).",
    )


def _saturation_verdict(sweep: AnchorSweep) -> Verdict:
    """:data:`SATURATES` on the scores averaged over the strategies."""
    own, stitched = sweep.curve("own"), sweep.curve("stitched")
    own_at, st_at = (saturation_count(sweep.counts, curve, 2.0) for curve in (own, stitched))
    pairs = zip(sweep.counts, own, stitched, strict=True)
    shown = ", ".join(f"{k}: {o:.1f}/{t:.1f}" for k, o, t in pairs)
    return SATURATES.judge(
        sum(at <= SATURATED_BY for at in (own_at, st_at)),
        detail=f"within 2 F1 points of the best from {own_at} anchors (not stitched) and {st_at} "
        f"(stitched); mean over strategies, anchors: not stitched/stitched F1 = {shown}",
    )


def _strategy_verdict(sweep: AnchorSweep) -> Verdict:
    """:data:`KMEANS_HELPS` over the counts >= 10 (all counts when none is)."""
    if not {"kmeans", "random"} <= set(sweep.strategies):
        return KMEANS_HELPS.skipped("k-means or random not run")
    used = [k for k in sweep.counts if k >= 10] or list(sweep.counts)

    def mean(strategy: str, setting: str) -> float:
        return float(np.mean([sweep.mean(strategy, k)[setting] for k in used]))

    diff_st = mean("kmeans", "stitched") - mean("random", "stitched")
    diff_own = mean("kmeans", "own") - mean("random", "own")
    others = ", ".join(f"{s} {mean(s, 'stitched'):.2f}" for s in sorted(sweep.strategies))
    return KMEANS_HELPS.judge(
        diff_st,
        detail=f"over {used[0]}-{used[-1]} anchors, stitched F1: {others}; k-means minus random: "
        f"{diff_st:+.2f} stitched, {diff_own:+.2f} not stitched (a gain under 0.5 points counts "
        "as a tie: 'partly')",
    )


def run(context: RunContext) -> ExperimentResult:
    """The experiment entry point (``relreps reproduce anchors-ablation [--quick]``).

    ``--seeds N`` sets the number of encoders trained per architecture.
    """
    config = context.sized(QUICK, FULL, seeds_field="encoder_seeds")
    with torch_threads(1):
        return run_experiment(context, config)


SPEC = ExperimentSpec(
    name=NAME,
    title=TITLE,
    paper_ref=PAPER_REF,
    requirements=REQUIRES_IMAGE_TRAINING,
    run=run,
)
