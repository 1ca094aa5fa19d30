"""``quantization`` (paper appendix): relative classifiers with quantised similarities.

Per data set, bin size and seed a relative image classifier is trained with its cosines rounded
to multiples of the bin (``RelativeClassifier(quantize=bin)``, straight-through gradient), scored
on its own and stitched with the other seeds' models of the same bin; a second series rounds the
unquantised models' similarities at test time only. Details and measured figures:
``docs/experiments/quantization.md``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import partial
from typing import Any

import numpy as np

from relreps._validation import check_float
from relreps.experiments._aeq_common import (
    ImageRunConfig,
    ImageSplit,
    each_dataset,
    result_config,
    skip_note,
    train_or_reload,
    worst,
)
from relreps.experiments._repro_torch import torch_threads
from relreps.experiments.base import (
    REQUIRES_IMAGE_TRAINING,
    ExperimentResult,
    ExperimentSpec,
    Figure,
    RunContext,
    Table,
    Verdict,
    kept_fraction,
)
from relreps.results import Claim, mean_std_text
from relreps.stitching import majority_f1
from relreps.stitching.pairs import own_and_stitched
from relreps.stitching.relative_scores import quantization_levels

NAME = "quantization"
TITLE = "Relative classifiers with quantised similarities: own and stitched F1 vs bin size"
PAPER_REF = "paper appendix (robustness to quantisation)"
CLAIM = "The relative representation is robust to quantisation of its similarities"
#: Quantisation costs (almost) no accuracy: the worst quantised / unquantised own F1.
ROBUST = Claim(
    f"{CLAIM}: quantised models keep the unquantised accuracy (every bin)",
    "worst quantised / unquantised own F1",
    0.97,
    partly=0.90,
)
#: Quantised models still stitch: the worst kept fraction (stitched / own F1 of one bin).
STITCHES = Claim(
    f"{CLAIM}: quantised models still stitch across seeds (every bin)",
    "worst kept fraction (stitched / own F1, same bin)",
    0.90,
    partly=0.75,
)


@dataclass(frozen=True)
class QuantConfig(ImageRunConfig):
    """Size of a run: the shared sizes of :class:`ImageRunConfig` (seeds: models per bin and
    data set), and:

    Attributes:
        bins: quantisation bin sizes (the unquantised model is always run as well).
        latent_dim, hidden: MLP encoder widths; the head has ``head_hidden`` units.
    """

    bins: tuple[float, ...] = (0.1, 0.2, 0.3, 0.4, 0.5)
    seeds: int = 5
    latent_dim: int = 64
    hidden: int = 256
    head_hidden: int = 128

    def __post_init__(self) -> None:
        super().__post_init__()
        for i, b in enumerate(self.bins):
            check_float(b, f"bins[{i}]", low=0, high=2, low_inclusive=False)


FULL = QuantConfig()
QUICK = QuantConfig(seeds=2, n_train=3000, n_test=1000, n_anchors=300, epochs=6)


def train_models(
    config: QuantConfig, data: ImageSplit, tag: str, anchor_idx: np.ndarray, context: RunContext
) -> dict[str, list[Any]]:
    """Train (or reload from the run folder) ``seeds`` relative classifiers per bin size.

    Returns ``bin label -> [model per seed]`` (label ``"none"`` = unquantised).
    """
    import torch

    from relreps.nn import MLPEncoder, RelativeClassifier

    x, y = torch.from_numpy(data.x_train), torch.from_numpy(data.y_train)
    anchors = x[torch.from_numpy(anchor_idx)]
    ids = [f"{tag}:train:{int(i)}" for i in anchor_idx]
    n_classes = int(data.y_train.max()) + 1

    def build(bin_size: float | None, seed: int) -> Any:
        shape, hidden = data.x_train.shape[1:], (config.hidden,)
        encoder = MLPEncoder(shape, config.latent_dim, hidden=hidden, seed=seed)
        head = (config.head_hidden,)
        return RelativeClassifier(
            encoder, anchors, n_classes, anchor_ids=ids, hidden=head, quantize=bin_size, seed=seed
        )

    models: dict[str, list[Any]] = {}
    for bin_size in (None, *config.bins):
        label = "none" if bin_size is None else f"{bin_size:g}"
        models[label] = []
        for seed in range(context.seed, context.seed + config.seeds):
            name, build_one = f"{NAME}/{tag}-bin{label}-seed{seed}", partial(build, bin_size, seed)
            train = config.train(seed)
            models[label].append(train_or_reload(context, name, build_one, x, y, train)[0])
        context.log(f"  {data.name}: trained {config.seeds} models with bin {label}")
    return models


def _verdicts(per_dataset: dict[str, Any]) -> tuple[Verdict, ...]:
    """:data:`ROBUST` and :data:`STITCHES`, over every data set and bin (quantisation-aware
    training); stitching keeps the kept-fraction rule of every experiment."""
    robust: dict[str, float] = {}  # "<data set> bin <size>" -> kept fraction
    stitched: dict[str, float] = {}
    base_kept = []
    for name, entry in per_dataset.items():
        none = entry["trained"]["none"]
        base_kept.append(f"{name} unquantised: {kept_fraction(none['stitched'], none['own']):.3f}")
        for label, stats in entry["trained"].items():
            if label == "none":
                continue
            where = f"{name} bin {float(label):g}"
            robust[where] = kept_fraction(stats["own"], none["own"])
            if not math.isnan(stats["stitched"]):
                stitched[where] = kept_fraction(stats["stitched"], stats["own"])
    if not robust:
        return (Verdict(CLAIM, "skipped", "no quantised model ran"),)

    def listed(kept: dict[str, float]) -> str:
        return "; ".join(f"{where}: {k:.3f}" for where, k in kept.items())

    detail = "quantised / unquantised own F1: " + listed(robust)
    verdicts = [ROBUST.judge(worst(list(robust.values())), detail=detail)]
    if stitched:
        detail = "stitched / own F1: " + listed(stitched) + "; " + "; ".join(base_kept)
        verdicts.append(STITCHES.judge(worst(list(stitched.values())), detail=detail))
    else:
        verdicts.append(STITCHES.skipped("one seed: no pair of seeds to stitch"))
    return tuple(verdicts)


def _figure(name: str, tag: str, entry: dict[str, Any], context: RunContext) -> Figure:
    from relreps.report import line_plot

    labels = list(entry["trained"])
    xs = [0.0 if label == "none" else float(label) for label in labels]
    series: dict[str, list[float]] = {}
    errors: dict[str, list[float]] = {}
    for source, prefix in (("trained", "quantised training"), ("post_hoc", "test-time only")):
        for part in ("own", "stitched"):
            key = f"{part}, {prefix}"
            series[key] = [entry[source][label][part] for label in labels]
            errors[key] = [entry[source][label][f"{part}_std"] for label in labels]
    return line_plot(
        xs,
        series,
        context.figures_dir / f"quantization_{tag}.png",
        errors=errors,
        xlabel="bin size (0 = not quantised)",
        ylabel="weighted F1 x100",
        title=f"{name}: relative classifiers vs quantisation bin",
        root=context.output_dir,
        caption=f"{name}: own (no stitching) and stitched (encoder and head from different seeds) "
        "weighted F1 vs the bin size of the similarities; bands are ± std. 'Test-time only' "
        "rounds the unquantised models' similarities without retraining. Majority-class F1: "
        f"{entry['chance_f1']:.1f}.",
    )


def run_config(config: QuantConfig, context: RunContext) -> ExperimentResult:
    """Run one configuration."""
    import torch

    torch.manual_seed(context.seed)
    per_dataset: dict[str, Any] = {}
    skipped: dict[str, str] = {}
    notes: list[str] = []
    figures: list[Figure] = []

    for dataset, data, anchor_idx in each_dataset(config, context, skipped, notes):
        tag = "digits" if data.note else dataset
        models = train_models(config, data, tag, anchor_idx, context)
        entry = _dataset_entry(models, data)
        per_dataset[data.name] = entry
        figures.append(_figure(data.name, tag, entry, context))
    return ExperimentResult(
        NAME,
        TITLE,
        PAPER_REF,
        result_config(config, context),
        tables=(_table(per_dataset, skipped),) if per_dataset else (),
        figures=tuple(figures),
        verdicts=_verdicts(per_dataset),
        data={"datasets": per_dataset, "skipped": skipped, "notes": notes},
    )


def _dataset_entry(models: dict[str, Any], data: Any) -> dict[str, Any]:
    """One dataset's result: stitch matrices of the quantised-training models per bin label, and
    of the unquantised models rounded at test time only, with their mean/std splits."""
    import torch

    from relreps.stitching.relative_scores import relative_stitch_scores, similarity_range

    x, y = torch.from_numpy(data.x_test), data.y_test
    entry: dict[str, Any] = {"chance_f1": majority_f1(y), "trained": {}, "post_hoc": {}}
    entry.update(matrices={}, similarity_range={})
    for label, group in models.items():
        # the unrounded cosines of seed 0: how much room they leave for rounding
        entry["similarity_range"][label] = similarity_range(group[0], x)
        # F1 x100 of encoder i (rows) with head j (columns); the diagonal is own F1
        matrix = 100.0 * relative_stitch_scores(group, x, y)
        entry["matrices"][label] = matrix.tolist()
        entry["trained"][label] = own_and_stitched(matrix)
        post_hoc = None if label == "none" else float(label)  # test-time rounding only
        entry["post_hoc"][label] = own_and_stitched(
            100.0 * relative_stitch_scores(models["none"], x, y, quantize=post_hoc)
        )
    return entry


def _table(per_dataset: dict[str, Any], skipped: dict[str, str]) -> Table:
    rows = []
    for name, entry in per_dataset.items():
        for label, t in entry["trained"].items():
            p, span = entry["post_hoc"][label], entry["similarity_range"][label]
            rows.append(
                (
                    name,
                    label,
                    None if label == "none" else quantization_levels(float(label)),
                    mean_std_text(t["own"], t["own_std"]),
                    mean_std_text(t["stitched"], t["stitched_std"]),
                    mean_std_text(p["own"], p["own_std"]),
                    mean_std_text(p["stitched"], p["stitched_std"]),
                    f"[{span['min']:.2f}, {span['max']:.2f}]",
                )
            )
    return Table(
        title="Weighted F1 x100 vs quantisation bin (mean ± std over seeds / ordered seed pairs)",
        columns=(
            "dataset",
            "bin",
            "levels",
            "own (quantised training)",
            "stitched (quantised training)",
            "own (test-time only)",
            "stitched (test-time only)",
            "cosine range (seed 0, unrounded)",
        ),
        rows=tuple(rows),
        note="Levels: distinct values a cosine similarity can take after rounding. Cosine "
        "range: the unrounded similarities of the test images to the anchors (a narrow range "
        "leaves rounding nothing to keep). Paper's "
        f"claim: {CLAIM.lower()}; it gives no numbers we carry here." + skip_note(skipped),
    )


def run(context: RunContext) -> ExperimentResult:
    """The entry point (``relreps reproduce quantization [--quick] [--seeds N]``)."""
    config = context.sized(QUICK, FULL)
    with torch_threads(1):
        return run_config(config, context)


SPEC = ExperimentSpec(NAME, TITLE, PAPER_REF, REQUIRES_IMAGE_TRAINING, run)
