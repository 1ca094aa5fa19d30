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
from typing import Any

import numpy as np

from relreps.experiments._repro_torch import torch_threads
from relreps.experiments._similarity_report import models_table, summary_table, verdict
from relreps.experiments.base import (
    REQUIRES_MATPLOTLIB,
    REQUIRES_SKLEARN,
    REQUIRES_TORCH,
    ExperimentResult,
    ExperimentSpec,
    Figure,
    Requirement,
    RunContext,
)

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


def paired_cosine(a: np.ndarray, b: np.ndarray, *, center_rows: bool = False) -> float:
    """Mean cosine between row i of ``a`` and row i of ``b`` (both (n, k)); zero rows give 0.

    With ``center_rows`` each row's mean is subtracted first, so the score is the mean Pearson
    correlation of paired rows: a relative vector's common offset (all similarities of a
    non-negative latent space are >= 0) no longer counts as agreement. A near-constant row (its
    centred norm below ``FLAT_ROW_TOL`` times its norm, e.g. a deep sigmoid net at initialisation
    whose cosines to every anchor are 1 - 1e-6) has no direction left above rounding noise: it
    counts as a zero row (cosine 0), so float32 rounding of the projection cannot decide its score.
    Computed in float64.

    Example:
        >>> a, b = np.array([[1.0, 0.0], [0.0, 2.0]]), np.array([[2.0, 0.0], [1.0, 1.0]])
        >>> round(paired_cosine(a, b), 4)
        0.8536
    """
    from relreps._validation import check_matrix, fail
    from relreps.metrics import paired_cosine as library_paired_cosine

    a, b = np.asarray(check_matrix(a, "a")), np.asarray(check_matrix(b, "b"))
    if a.shape != b.shape:
        raise fail("b", f"the shape of `a` {a.shape}", f"shape {b.shape}")
    a, b = a.astype(np.float64), b.astype(np.float64)
    if center_rows:
        a, b = _centred(a), _centred(b)
    return library_paired_cosine(a, b)


# Rows whose spread around their mean is below this share of their norm count as flat. Measured
# on the quick grid: collapsed sigmoid models have 1e-6..1.3e-4, trained ones 3e-3..1; a 1e-7
# relative perturbation moves a row above it by at most ~1e-4 (1e-7 / tol).
FLAT_ROW_TOL = 1e-3


def _centred(rows: np.ndarray) -> np.ndarray:
    """Rows minus their mean (float64), flat rows (see ``FLAT_ROW_TOL``) set to zero."""
    centred = rows - rows.mean(axis=1, keepdims=True)
    flat = np.linalg.norm(centred, axis=1) <= FLAT_ROW_TOL * np.linalg.norm(rows, axis=1)
    centred[flat] = 0.0
    return centred


def pearson(x: Any, y: Any) -> float | None:
    """Pearson's r, or None when there are fewer than 3 points or either variable is constant.

    Example:
        >>> round(pearson([1, 2, 3, 4], [2, 4, 5, 9]), 3)
        0.965
    """
    xs, ys = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
    if xs.size < 3:
        return None
    dx, dy = xs - xs.mean(), ys - ys.mean()
    denominator = math.sqrt(float(dx @ dx) * float(dy @ dy))
    if denominator <= 1e-12:
        return None
    return float(dx @ dy) / denominator


# --- models ---------------------------------------------------------------------------------------


def _build(hp: HyperParameters, in_features: int, n_classes: int, seed: int) -> tuple[Any, Any]:
    """``(encoder, head)``: an MLP whose last hidden layer is the latent space, and a linear
    head."""
    from torch import nn

    from relreps.nn import seeded

    activation = {"relu": nn.ReLU, "tanh": nn.Tanh, "sigmoid": nn.Sigmoid}[hp.activation]
    layers: list[Any] = [nn.Flatten()]
    width = in_features
    with seeded(seed):
        for _ in range(hp.depth):
            layers += [nn.Linear(width, hp.width), activation()]
            width = hp.width
        encoder = nn.Sequential(*layers)
        head = nn.Linear(width, n_classes)
    return encoder, head


def _optimizer(hp: HyperParameters, params: Any) -> Any:
    import torch

    if hp.optimizer == "adam":
        return torch.optim.Adam(params, lr=hp.lr)
    return torch.optim.SGD(params, lr=hp.lr, momentum=0.9)


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


def _relative(encoder: Any, data: _Data) -> np.ndarray:
    import torch

    from relreps.projection import relative_projection

    encoder.eval()
    with torch.no_grad():
        z = encoder(torch.cat([data.x_probe, data.x_anchors]))
    n = data.x_probe.shape[0]
    # float64: near-constant relative rows keep their spread above the projection's rounding
    return relative_projection(z[:n].double(), z[n:].double()).numpy()


def train_and_log(
    hp: HyperParameters,
    data: _Data,
    reference_rel: np.ndarray | None,
    *,
    seed: int,
    batch_size: int,
) -> dict[str, Any]:
    """Train one model, logging validation accuracy and latent similarity after every epoch.

    Returns ``{"accuracy": [...], "similarity": [...], "similarity_centred": [...], "relative":
    final (n_probe, n_anchors) relative representation (only when ``reference_rel`` is None)}``;
    entry 0 is at initialisation. Accuracies are in %; ``similarity`` is the paper's mean paired
    cosine, ``similarity_centred`` the same after centring each relative vector.
    """
    import torch
    from torch.nn import functional as F

    n_classes = int(data.y_train.max()) + 1
    in_features = int(np.prod(data.x_train.shape[1:]))
    encoder, head = _build(hp, in_features, n_classes, seed)
    optimizer = _optimizer(hp, [*encoder.parameters(), *head.parameters()])
    generator = torch.Generator().manual_seed(seed)
    accuracy: list[float] = []
    similarity: list[float] = []
    centred: list[float] = []

    def log() -> np.ndarray:
        encoder.eval()
        with torch.no_grad():
            pred = head(encoder(data.x_val)).argmax(dim=1).numpy()
        accuracy.append(float(100.0 * (pred == data.y_val).mean()))
        rel = _relative(encoder, data)
        if reference_rel is not None:
            similarity.append(paired_cosine(rel, reference_rel))
            centred.append(paired_cosine(rel, reference_rel, center_rows=True))
        return rel

    rel = log()
    n = data.x_train.shape[0]
    for _ in range(hp.epochs):
        encoder.train()
        order = torch.randperm(n, generator=generator)
        for start in range(0, n, batch_size):
            batch = order[start : start + batch_size]
            optimizer.zero_grad()
            loss = F.cross_entropy(head(encoder(data.x_train[batch])), data.y_train[batch])
            loss.backward()
            optimizer.step()
        rel = log()
    out: dict[str, Any] = {
        "accuracy": accuracy,
        "similarity": similarity,
        "similarity_centred": centred,
    }
    if reference_rel is None:
        out["relative"] = rel
    return out


def _load(config: SimilarityConfig, seed: int) -> _Data:
    import torch

    from relreps.anchors import stratified
    from relreps.experiments.vision_stitching import VisionConfig, load_images

    images = load_images(
        VisionConfig(
            archs=(),
            seeds=1,
            n_train=config.n_train,
            n_test=config.n_val + config.n_probe,
            dataset=config.dataset,
        ),
        seed,
    )
    n_test = images.y_test.shape[0]
    order = np.random.default_rng(seed).permutation(n_test)
    n_probe = min(config.n_probe, n_test // 2)
    probe, val = order[:n_probe], order[n_probe:]
    anchors = stratified(images.y_train, min(config.n_anchors, images.y_train.size), seed=seed)
    x_train = torch.from_numpy(images.x_train)
    x_test = torch.from_numpy(images.x_test)
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
    data = _load(config, context.seed)
    if data.note:
        context.log(data.note)
    context.log(
        f"  {data.name}: {data.x_train.shape[0]} train / {data.y_val.size} val / "
        f"{data.x_probe.shape[0]} probe images, {data.x_anchors.shape[0]} anchors, "
        f"{config.n_models} models"
    )
    reference = train_and_log(
        config.reference, data, None, seed=context.seed, batch_size=config.batch_size
    )
    reference_rel = reference["relative"]
    context.log(f"  reference {config.reference.label()}: {reference['accuracy'][-1]:.2f}% val")
    models = sample_models(config, context.seed)
    key_base = (
        f"{NAME}/{data.name}/{config.n_train}/{config.n_val}/{config.n_probe}/"
        f"{config.n_anchors}/{config.batch_size}/ref={config.reference.label()}/seed={context.seed}"
    )
    runs = []
    for i, hp in enumerate(models):
        seed = context.seed + 1 + i
        key = f"{key_base}/{hp.label()}/s{seed}"
        run = context.cache.get(key)
        if run is None:
            run = train_and_log(hp, data, reference_rel, seed=seed, batch_size=config.batch_size)
            context.cache.put(key, run)
        runs.append(
            {
                "model": hp.label(),
                **hp.to_dict(),
                "seed": seed,
                **run,
                "pearson": pearson(run["similarity"], run["accuracy"]),
                "pearson_centred": pearson(run["similarity_centred"], run["accuracy"]),
            }
        )
        if (i + 1) % 10 == 0 or i + 1 == len(models):
            context.log(f"  {i + 1}/{len(models)} models trained")
    return _result(context, config, data, reference, runs)


def _result(
    context: RunContext,
    config: SimilarityConfig,
    data: _Data,
    reference: dict[str, Any],
    runs: list[dict[str, Any]],
) -> ExperimentResult:
    from relreps.report import scatter_plot

    stats = {
        "n_models": len(runs),
        "reference_accuracy": reference["accuracy"][-1],
        **_correlations(runs, "similarity", "pearson"),
        **{
            f"centred_{k}": v
            for k, v in _correlations(runs, "similarity_centred", "pearson_centred").items()
        },
    }
    final_sim = np.array([r["similarity"][-1] for r in runs])
    final_acc = np.array([r["accuracy"][-1] for r in runs])
    final_centred = np.array([r["similarity_centred"][-1] for r in runs])
    pooled_centred = np.concatenate([r["similarity_centred"] for r in runs])
    pooled_acc = np.concatenate([r["accuracy"] for r in runs])
    figures: list[Figure] = [
        scatter_plot(
            final_sim,
            final_acc,
            context.figures_dir / "similarity_vs_accuracy_final.png",
            groups=[r["optimizer"] for r in runs],
            xlabel="mean cosine of relative representations to the reference",
            ylabel="validation accuracy (%)",
            title="Each model at the end of training",
            root=context.output_dir,
        ),
        scatter_plot(
            final_centred,
            final_acc,
            context.figures_dir / "centred_similarity_vs_accuracy_final.png",
            groups=[r["activation"] for r in runs],
            xlabel="mean correlation of relative representations to the reference",
            ylabel="validation accuracy (%)",
            title="Each model at the end (row-centred similarity)",
            root=context.output_dir,
        ),
        scatter_plot(
            pooled_centred,
            pooled_acc,
            context.figures_dir / "centred_similarity_vs_accuracy_epochs.png",
            groups=[r["activation"] for r in runs for _ in r["accuracy"]],
            xlabel="mean correlation of relative representations to the reference",
            ylabel="validation accuracy (%)",
            title="Every model after every epoch, row-centred (epoch 0 = initialisation)",
            root=context.output_dir,
        ),
    ]
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
        tables=(summary_table(stats), models_table(runs)),
        figures=tuple(figures),
        verdicts=(verdict(stats),),
        data={
            "summary": stats,
            "models": runs,
            "reference": reference_dict(reference, config),
            "note": data.note,
        },
    )


def _correlations(runs: list[dict[str, Any]], measure: str, per_model: str) -> dict[str, Any]:
    """Per-model (over epochs), across-model (final) and pooled correlations of one measure."""
    from scipy.stats import spearmanr

    final_sim = np.array([r[measure][-1] for r in runs])
    final_acc = np.array([r["accuracy"][-1] for r in runs])
    pooled_sim = np.concatenate([r[measure] for r in runs])
    pooled_acc = np.concatenate([r["accuracy"] for r in runs])
    rs = np.array([r[per_model] for r in runs if r[per_model] is not None], dtype=float)
    rho = math.nan
    if len(runs) > 2 and np.ptp(final_sim) > 0 and np.ptp(final_acc) > 0:
        rho = float(spearmanr(final_sim, final_acc).statistic)
    return {
        "overall_pearson_final": pearson(final_sim, final_acc),
        "overall_spearman_final": rho,
        "pooled_pearson_all_epochs": pearson(pooled_sim, pooled_acc),
        "per_model_pearson_median": float(np.median(rs)) if rs.size else None,
        "per_model_pearson_mean": float(rs.mean()) if rs.size else None,
        "per_model_positive_fraction": float((rs > 0).mean()) if rs.size else None,
        "per_model_defined": int(rs.size),
    }


def reference_dict(reference: dict[str, Any], config: SimilarityConfig) -> dict[str, Any]:
    """The reference model's hyper-parameters and accuracy curve (its relative matrix dropped)."""
    return {**config.reference.to_dict(), "accuracy": reference["accuracy"]}


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
        REQUIRES_TORCH,
        Requirement("scipy", "pip install scipy", module="scipy"),
        REQUIRES_MATPLOTLIB,
        REQUIRES_SKLEARN,
    ),
    run=run,
)
