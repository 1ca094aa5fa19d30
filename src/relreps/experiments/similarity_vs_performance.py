"""``similarity-vs-performance``: does a model's latent similarity to a strong model predict its
accuracy?

The paper trains ~2,000 graph models with varied hyper-parameters and shows that the similarity
of each model's relative space to a strong reference model's tracks its validation accuracy over
training. Here the same measurement runs on a CPU-sized grid: MLP classifiers on Fashion-MNIST
(sklearn digits when the Debian package is absent) whose depth, width, learning rate, number of
epochs, activation and optimizer are drawn from a grid. After every epoch (and at
initialisation) each model's last hidden layer embeds a fixed probe set and a fixed set of
class-stratified anchors; its relative representation (cosine to the anchors) is compared with the
reference model's, row by row, and the mean paired cosine is logged beside the validation
accuracy. Pearson's r is reported per model (over its epochs) and across models (at the end).
"""

from __future__ import annotations

import itertools
import math
from dataclasses import asdict, dataclass
from functools import partial
from typing import Any

import numpy as np

from relreps.experiments._repro_torch import torch_threads
from relreps.experiments.base import (
    REQUIRES_IMAGE_TRAINING,
    REQUIRES_SCIPY,
    ExperimentResult,
    ExperimentSpec,
    Figure,
    RunContext,
    Status,
    Table,
    Verdict,
)
from relreps.results import rounded

NAME = "similarity-vs-performance"
TITLE = "Latent similarity to a strong model vs accuracy, over a grid of models"
PAPER_REF = "paper 4.2"


@dataclass(frozen=True)
class HyperParameters:
    """One model of the grid.

    Attributes:
        depth: number of hidden layers.
        width: width of every hidden layer (the last one is the latent space).
        lr: learning rate.
        epochs: training epochs.
        activation: ``"relu"``, ``"tanh"`` or ``"sigmoid"``.
        optimizer: ``"adam"`` or ``"sgd"`` (momentum 0.9).
    """

    depth: int
    width: int
    lr: float
    epochs: int
    activation: str
    optimizer: str

    def label(self) -> str:
        return (
            f"d{self.depth}-w{self.width}-{self.activation}-{self.optimizer}"
            f"-lr{self.lr:g}-e{self.epochs}"
        )

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class SimilarityConfig:
    """Size of a run: the grid the models are drawn from and the data.

    Attributes:
        n_models: models drawn (without replacement, seeded) from the grid's product.
        depths, widths, lrs, epochs, activations, optimizers: the grid.
        reference: the strong reference model.
        n_train: training images (class-stratified subset).
        n_val: validation images (accuracy).
        n_probe: probe images (latent similarity); disjoint from the validation images.
        n_anchors: class-stratified anchors from the training images.
        batch_size: mini-batch size.
    """

    n_models: int = 120
    depths: tuple[int, ...] = (1, 2, 3)
    widths: tuple[int, ...] = (16, 64, 256)
    lrs: tuple[float, ...] = (1e-4, 1e-3, 1e-2)
    epochs: tuple[int, ...] = (2, 4, 8, 12)
    activations: tuple[str, ...] = ("relu", "tanh", "sigmoid")
    optimizers: tuple[str, ...] = ("adam", "sgd")
    reference: HyperParameters = HyperParameters(2, 512, 1e-3, 15, "relu", "adam")
    n_train: int = 10000
    n_val: int = 2000
    n_probe: int = 1000
    n_anchors: int = 300
    batch_size: int = 128
    dataset: str = "fashion-mnist"

    def grid(self) -> list[HyperParameters]:
        """Every combination of the grid, in a fixed order."""
        return [
            HyperParameters(*values)
            for values in itertools.product(
                self.depths, self.widths, self.lrs, self.epochs, self.activations, self.optimizers
            )
        ]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


FULL = SimilarityConfig()
QUICK = SimilarityConfig(
    n_models=20,
    epochs=(2, 3, 4),
    reference=HyperParameters(2, 256, 1e-3, 6, "relu", "adam"),
    n_train=3000,
    n_val=600,
    n_probe=400,
    n_anchors=200,
)


def sample_models(config: SimilarityConfig, seed: int) -> list[HyperParameters]:
    """``config.n_models`` distinct grid points drawn with a seeded generator.

    Example:
        >>> models = sample_models(QUICK, seed=0)
        >>> len(models), len(set(models))
        (20, 20)
    """
    grid = config.grid()
    n = min(config.n_models, len(grid))
    chosen = np.random.default_rng(seed).choice(len(grid), size=n, replace=False)
    return [grid[int(i)] for i in chosen]


# --- models ---------------------------------------------------------------------------------------


def _build(hp: HyperParameters, in_features: int, n_classes: int, seed: int) -> Any:
    """``Sequential(encoder, head)``: an MLP whose last hidden layer is the latent space, and a
    linear head."""
    from torch import nn

    from relreps.nn import seeded

    activation = {"relu": nn.ReLU, "tanh": nn.Tanh, "sigmoid": nn.Sigmoid}[hp.activation]
    layers: list[Any] = [nn.Flatten()]
    width = in_features
    with seeded(seed):
        for _ in range(hp.depth):
            layers += [nn.Linear(width, hp.width), activation()]
            width = hp.width
        return nn.Sequential(nn.Sequential(*layers), nn.Linear(width, n_classes))


@dataclass
class _Data:
    x_train: Any
    y_train: Any
    x_val: Any
    y_val: np.ndarray
    x_probe: Any
    x_anchors: Any
    name: str
    note: str


def train_and_log(
    hp: HyperParameters,
    data: _Data,
    reference_rel: np.ndarray | None,
    *,
    seed: int,
    batch_size: int,
) -> dict[str, Any]:
    """Train one model, logging validation accuracy and latent similarity after every epoch.

    Returns :meth:`relreps.nn.tracking.SimilarityTracker.history`: ``"accuracy"`` (%),
    ``"similarity"`` (the paper's mean paired cosine), ``"similarity_centred"`` (row-centred)
    lists whose entry 0 is at initialisation, and the final (n_probe, n_anchors) ``"relative"``
    representation only when ``reference_rel`` is None. Trained by :func:`relreps.nn.fit` on every
    training image (no validation split), keeping the last weights; SGD has momentum 0.9.
    """
    from torch.nn import functional as F

    from relreps.nn import TrainConfig, fit
    from relreps.nn.tracking import SimilarityTracker

    n_classes = int(data.y_train.max()) + 1
    model = _build(hp, int(np.prod(data.x_train.shape[1:])), n_classes, seed)
    track = SimilarityTracker(model, model[0], data.x_val, data.y_val, data.x_probe,
                              data.x_anchors, reference=reference_rel)  # fmt: skip
    track()
    momentum = 0.9 if hp.optimizer == "sgd" else 0.0
    train = TrainConfig(epochs=hp.epochs, batch_size=batch_size, lr=hp.lr, seed=seed,
                        progress=False, optimizer=hp.optimizer, momentum=momentum,
                        restore_best=False)  # fmt: skip

    def loss(m: Any, x: Any, y: Any, _: Any) -> Any:
        return F.cross_entropy(m(x), y)

    fit(model, data.x_train, data.y_train, config=train, loss_fn=loss, val_rows=[], on_epoch=track)
    return track.history()


def _load(config: SimilarityConfig, seed: int) -> _Data:
    import torch

    from relreps.anchors import stratified
    from relreps.datasets.image_splits import load_image_split

    sizes = (config.n_train, config.n_val + config.n_probe)
    images = load_image_split(config.dataset, *sizes, seed)
    n_test = images.y_test.shape[0]
    order = np.random.default_rng(seed).permutation(n_test)
    probe, val = np.split(order, [min(config.n_probe, n_test // 2)])
    anchors = stratified(images.y_train, min(config.n_anchors, images.y_train.size), seed=seed)
    x_train, x_test = torch.from_numpy(images.x_train), torch.from_numpy(images.x_test)
    return _Data(
        x_train=x_train,
        y_train=torch.from_numpy(images.y_train),
        x_val=x_test[torch.from_numpy(val)],
        y_val=images.y_test[val],
        x_probe=x_test[torch.from_numpy(probe)],
        x_anchors=x_train[torch.from_numpy(anchors)],
        name=images.name,
        note=images.note,
    )


# --- the experiment -------------------------------------------------------------------------------


def run_experiment(context: RunContext, config: SimilarityConfig) -> ExperimentResult:
    """Train the reference and the sampled grid, then correlate similarity with accuracy."""
    from relreps.metrics.correlation import pearson

    data = _load(config, context.seed)
    if data.note:
        context.log(data.note)
    context.log(
        f"  {data.name}: {data.x_train.shape[0]} train / {data.y_val.size} val / "
        f"{data.x_probe.shape[0]} probe images, {data.x_anchors.shape[0]} anchors, "
        f"{config.n_models} models"
    )
    c, ref = config, config.reference
    reference = train_and_log(ref, data, None, seed=context.seed, batch_size=c.batch_size)
    context.log(f"  reference {ref.label()}: {reference['accuracy'][-1]:.2f}% val")
    models = sample_models(config, context.seed)
    key_base = (
        f"{NAME}/{data.name}/{c.n_train}/{c.n_val}/{c.n_probe}/{c.n_anchors}/{c.batch_size}/"
        f"ref={ref.label()}/seed={context.seed}"
    )
    runs = []
    for i, hp in enumerate(models):
        seed = context.seed + 1 + i
        train = partial(train_and_log, hp, data, reference["relative"], seed=seed,
                        batch_size=c.batch_size)  # fmt: skip
        run = context.cache.get_or_compute(f"{key_base}/{hp.label()}/s{seed}", train)
        # "pearson", "pearson_centred": r over the model's epochs, of each similarity measure
        r = {
            f"pearson{k}": pearson(run[f"similarity{k}"], run["accuracy"]) for k in ("", "_centred")
        }
        runs.append({"model": hp.label(), **hp.to_dict(), "seed": seed, **run, **r})
        if (i + 1) % 10 == 0 or i + 1 == len(models):
            context.log(f"  {i + 1}/{len(models)} models trained")
    return _result(context, config, data, reference, runs)


_COSINE = "mean cosine of relative representations to the reference"
_CORRELATION = "mean correlation of relative representations to the reference"
#: The scatter plots: (file, similarity measure, x label, colour groups, final epoch only, title).
_SCATTERS = (
    ("similarity_vs_accuracy_final", "similarity", _COSINE, "optimizer", True,
     "Each model at the end of training"),
    ("centred_similarity_vs_accuracy_final", "similarity_centred", _CORRELATION, "activation",
     True, "Each model at the end (row-centred similarity)"),
    ("centred_similarity_vs_accuracy_epochs", "similarity_centred", _CORRELATION, "activation",
     False, "Every model after every epoch, row-centred (epoch 0 = initialisation)"),
)  # fmt: skip


def _result(
    context: RunContext,
    config: SimilarityConfig,
    data: _Data,
    reference: dict[str, Any],
    runs: list[dict[str, Any]],
) -> ExperimentResult:
    from relreps.metrics.correlation import training_correlations
    from relreps.report import scatter_plot

    accuracy = [r["accuracy"] for r in runs]
    centred = training_correlations([r["similarity_centred"] for r in runs], accuracy)
    stats = {
        "n_models": len(runs),
        "reference_accuracy": reference["accuracy"][-1],
        **training_correlations([r["similarity"] for r in runs], accuracy),
        **{f"centred_{k}": v for k, v in centred.items()},
    }
    figures: list[Figure] = []
    for file, measure, xlabel, group, final, title in _SCATTERS:
        ends = slice(-1, None) if final else slice(None)
        figures.append(
            scatter_plot(
                np.concatenate([r[measure][ends] for r in runs]),
                np.concatenate([r["accuracy"][ends] for r in runs]),
                context.figures_dir / f"{file}.png",
                groups=[r[group] for r in runs for _ in r["accuracy"][ends]],
                xlabel=xlabel,
                ylabel="validation accuracy (%)",
                title=title,
                root=context.output_dir,
            )
        )
    reference_data = {**config.reference.to_dict(), "accuracy": reference["accuracy"]}
    settings = {"quick": context.quick, "seed": context.seed, **config.to_dict(), "data": data.name}
    return ExperimentResult(
        name=NAME,
        title=TITLE,
        paper_ref=PAPER_REF,
        config=settings,
        tables=(summary_table(stats), models_table(runs)),
        figures=tuple(figures),
        verdicts=(verdict(stats),),
        data={"summary": stats, "models": runs, "reference": reference_data, "note": data.note},
    )


# --- report ---------------------------------------------------------------------------------------


def summary_table(stats: dict[str, Any]) -> Table:
    def row(label: str, key: str, paper: str | None = None) -> tuple[Any, ...]:
        return (label, rounded(stats[key], 3), rounded(stats[f"centred_{key}"], 3), paper)

    rows = (
        ("models trained", stats["n_models"], stats["n_models"], "~2,000 graph models on Cora"),
        ("reference validation accuracy (%)", rounded(stats["reference_accuracy"]), None, None),
        row("Pearson r per model over its epochs: median", "per_model_pearson_median",
            "high (shown as a figure; no number given)"),
        row("Pearson r per model: mean", "per_model_pearson_mean"),
        row("share of models with positive r", "per_model_positive_fraction"),
        row("Pearson r across models at the end", "overall_pearson_final"),
        row("Spearman rho across models at the end", "overall_spearman_final"),
        row("Pearson r over every (model, epoch)", "pooled_pearson_all_epochs"),
    )  # fmt: skip
    return Table(
        title="Latent similarity to the reference vs validation accuracy",
        columns=("statistic", "ours: cosine (paper)", "ours: row-centred", "paper"),
        rows=rows,
        note="Similarity: mean over probe images of the cosine between the model's and the "
        "reference's relative representations (cosine to the same anchors); row-centred: the same "
        "after subtracting each relative vector's mean (a Pearson correlation per probe image; a "
        "near-constant vector, spread below 1e-3 of its norm, counts as 0). "
        "Per-model r uses the model's epochs (initialisation included); models whose similarity "
        "or accuracy never changed have no r "
        f"({stats['per_model_defined']} of {stats['n_models']} defined).",
    )


def models_table(runs: list[dict[str, Any]]) -> Table:
    ranked = sorted(runs, key=lambda r: -r["accuracy"][-1])
    shown = ranked if len(ranked) <= 20 else ranked[:10] + ranked[-10:]
    rows = tuple(
        (r["model"], rounded(r["accuracy"][-1]),
         *(rounded(v, 3) for v in (r["similarity"][-1], r["pearson"],
                                   r["similarity_centred"][-1], r["pearson_centred"])))
        for r in shown
    )  # fmt: skip
    return Table(
        title="Models by final accuracy" + (" (10 best, 10 worst)" if len(runs) > 20 else ""),
        columns=("model", "val accuracy (%)", "similarity (cosine)", "r over epochs",
                 "similarity (row-centred)", "r over epochs (row-centred)"),
        rows=rows,
        note="Names: d=depth, w=width, activation, optimizer, lr=learning rate, e=epochs.",
    )  # fmt: skip


#: The claim's bars on the median per-model r and the across-model r (see :func:`status`).
REPRODUCED_AT, PARTLY_ABOVE = 0.5, 0.2


def status(median: float | None, overall: float | None) -> Status:
    """Reproduced when the median per-model r and the across-model r are both >= 0.5; partly
    when one is, or both are > 0.2 (undefined counts as -1)."""
    m = -1.0 if median is None else median
    o = -1.0 if overall is None else overall
    if m >= REPRODUCED_AT and o >= REPRODUCED_AT:
        return "reproduced"
    if m >= REPRODUCED_AT or o >= REPRODUCED_AT or (m > PARTLY_ABOVE and o > PARTLY_ABOVE):
        return "partly"
    return "not reproduced"


def verdict(stats: dict[str, Any]) -> Verdict:
    """Judged on the paper's measure (plain cosine); the row-centred figures are reported too."""

    def fmt(v: float | None) -> str:
        return "undefined" if v is None or not math.isfinite(v) else f"{v:.2f}"

    def figures(prefix: str) -> str:
        return (
            f"median per-model r over training {fmt(stats[prefix + 'per_model_pearson_median'])} "
            f"(positive for {fmt(stats[prefix + 'per_model_positive_fraction'])} of models), "
            f"across models at the end r = {fmt(stats[prefix + 'overall_pearson_final'])}"
        )

    centred = status(
        stats["centred_per_model_pearson_median"], stats["centred_overall_pearson_final"]
    )
    return Verdict(
        "Latent similarity to a strong model predicts performance",
        status(stats["per_model_pearson_median"], stats["overall_pearson_final"]),
        f"{stats['n_models']} models. Cosine (paper): {figures('')}. Row-centred: "
        f"{figures('centred_')} (status from the cosine; the row-centred measure alone would "
        f"give '{centred}').",
    )


def run(context: RunContext) -> ExperimentResult:
    """The experiment entry point (``relreps reproduce similarity-vs-performance [--quick]``).

    ``--seeds N`` is not a seed count here: the grid is one model per hyper-parameter point.
    """
    with torch_threads(1):
        return run_experiment(context, context.sized(QUICK, FULL, seeds_field=None))


SPEC = ExperimentSpec(
    name=NAME,
    title=TITLE,
    paper_ref=PAPER_REF,
    requirements=(
        *REQUIRES_IMAGE_TRAINING,
        REQUIRES_SCIPY,
    ),
    run=run,
)
