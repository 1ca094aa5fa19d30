"""Protocol (a) of ``vision-stitching`` and ``relreps demo``: FROZEN encoders, heads on top.

The paper's image-classification stitching (5.3) and its "relative training costs nothing"
table train or pretrain the encoders once and freeze them; heads are trained on top. Here:

1. every encoder of the zoo is trained once (classification under its own absolute head, or as
   an autoencoder) and frozen;
2. every frozen encoder embeds the training set, the test set and the anchor images;
3. :func:`relreps.stitching.stitching_grid` trains, per encoder, an absolute head on the
   embeddings and a relative head on their cosine similarities to the anchors (the same head
   kind: matched capacity), and scores every encoder with every head.

The head is the stitching default, found by the ablation this module also runs (a linear layer
on LayerNorm of the relative vector; docs/stitching.md has the measured table).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field, replace
from typing import Any

import numpy as np

from relreps.experiments._aeq_common import ImageSplit, load_image_split
from relreps.experiments._vision_ablation import AblationRow, ablation_table, run_ablation
from relreps.experiments._vision_zoo import (
    Arch,
    build_encoder,
    family,
    head_seed,
    is_classifier,
    pretrained_ae_encoder,
)
from relreps.experiments.base import RunContext
from relreps.results import Table, Verdict, judge, kept_fraction
from relreps.stitching.frozen import DEFAULTS, FrozenHeadFactory, HeadConfig

__all__ = [
    "AblationRow",
    "FrozenConfig",
    "FrozenOutcome",
    "PairGroup",
    "embed_zoo",
    "pair_groups",
    "run_frozen",
    "train_frozen_zoo",
]

#: Kept-fraction bars of protocol (a), from issue 14 (relative stitched against relative and
#: absolute not stitched); "partly" is the project-wide stitching bar.
KEPT_VS_RELATIVE = 0.95
KEPT_VS_ABSOLUTE = 0.93
KEPT_PARTLY = 0.90
#: Absolute stitching "near chance": at most this many F1 points above the majority baseline.
ABSOLUTE_NEAR_CHANCE = 10.0


@dataclass(frozen=True)
class FrozenConfig:
    """Size and head of a protocol (a) run.

    Attributes:
        archs: encoder families trained as classifiers (then frozen).
        ae_archs: encoder families trained as autoencoders (then frozen): another objective.
        seeds: encoders per architecture.
        n_train, n_test: images of the official splits used (60,000 / 10,000 = all).
        n_anchors: class-stratified training images used as anchors.
        encoder_epochs: epochs of each encoder's own training.
        batch_size: batch size of the encoder training.
        head: the stitching heads' options and trainer, :class:`relreps.stitching.HeadConfig`
            (its defaults are the library's: the heads of ``relreps stitch`` and
            :class:`~relreps.stitching.RelativeHead`); its ``n_anchors`` is unused here.
        ablation: also run the head ablation (head, norm, anchors, centring, similarity).
        ablation_seeds: encoders per architecture used by the ablation.
        dataset: image data set (``fashion-mnist``; sklearn digits when absent).
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
class PairGroup:
    """Mean F1 of the stitched cells from one encoder family into one head family."""

    encoders: str
    heads: str
    relative_stitched: float
    relative_own: float
    absolute_own: float
    absolute_stitched: float
    translation_stitched: float
    n_cells: int

    @property
    def kept(self) -> float:
        """Relative stitched / relative not stitched."""
        return kept_fraction(self.relative_stitched, self.relative_own)

    @property
    def kept_vs_absolute(self) -> float:
        """Relative stitched / absolute not stitched."""
        return kept_fraction(self.relative_stitched, self.absolute_own)


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


def _train_config(config: FrozenConfig, seed: int) -> Any:
    from relreps.nn import TrainConfig

    return TrainConfig(
        epochs=config.encoder_epochs,
        batch_size=config.batch_size,
        seed=seed,
        patience=2,
        progress=False,
    )


def train_frozen_zoo(
    config: FrozenConfig, data: ImageSplit, context: RunContext
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Train every encoder once (or load it from the run folder) and freeze it.

    Classifier encoders are trained under an absolute head whose seed is distinct per
    (architecture, seed) (see :func:`head_seed`); autoencoder encoders reconstruct the images.

    Returns:
        ``name -> frozen encoder`` (torch modules in eval mode) and per-encoder training facts.
    """
    import torch

    from relreps.nn import AbsoluteClassifier, fit, load_model, save_model

    folder = context.output_dir / "models" / "frozen"
    x = torch.from_numpy(data.x_train)
    y = torch.from_numpy(data.y_train)
    n_classes = int(data.y_train.max()) + 1
    encoders: dict[str, Any] = {}
    facts: dict[str, Any] = {}
    for arch in (*config.archs, *config.ae_archs):
        for s in range(config.seeds):
            seed = context.seed + s
            name = f"{arch.name}/s{seed}"
            if arch.kind == "ae":
                encoder = pretrained_ae_encoder(
                    arch, data, seed, _train_config(config, seed), folder
                )
                facts[name] = {"objective": "reconstruction"}
            else:
                saved = folder / f"{arch.name}-seed{seed}"
                if (saved / "config.json").exists():
                    model = load_model(saved)
                    facts[name] = context.cache.get(f"frozen/{saved.name}")
                else:
                    model = AbsoluteClassifier(
                        build_encoder(arch, data.x_train.shape[1:], seed),
                        n_classes,
                        seed=head_seed(arch, seed),
                    )
                    history = fit(model, x, y, config=_train_config(config, seed))
                    save_model(model, saved)
                    facts[name] = {
                        "objective": "classification",
                        "epochs_run": history.epochs_run,
                        "seconds": history.seconds,
                    }
                    context.cache.put(f"frozen/{saved.name}", facts[name])
                encoder = model.encoder
            encoder.eval()
            for parameter in encoder.parameters():
                parameter.requires_grad_(False)
            encoders[name] = encoder
            context.log(f"  encoder {name} trained and frozen")
    return encoders, facts


def embed_zoo(encoders: dict[str, Any], data: ImageSplit, anchor_idx: np.ndarray) -> list[Any]:
    """Each frozen encoder's :class:`relreps.stitching.Space`: train, test and anchor rows."""
    import torch

    from relreps.stitching import Space

    def embed(encoder: Any, images: np.ndarray) -> np.ndarray:
        with torch.no_grad():
            batches = torch.from_numpy(images).split(2048)
            return torch.cat([encoder(b) for b in batches]).numpy()

    spaces = []
    anchor_ids = [f"train:{int(i)}" for i in anchor_idx]
    for name, encoder in encoders.items():
        train = embed(encoder, data.x_train)
        spaces.append(
            Space(name, train, embed(encoder, data.x_test), train[anchor_idx], anchor_ids)
        )
    return spaces


def head_factory(config: FrozenConfig, **changes: Any) -> FrozenHeadFactory:
    """The stitching heads of this run: ``config.head`` with ``changes`` applied (ablation)."""
    return FrozenHeadFactory(replace(config.head, **changes))


def _cells(matrix: np.ndarray, rows: np.ndarray, cols: np.ndarray, stitched: bool) -> np.ndarray:
    """The finite cells (row family, column family) off (stitched) or on the diagonal."""
    n = matrix.shape[0]
    mask = rows[:, None] & cols[None, :]
    diagonal = np.eye(n, dtype=bool)
    mask &= ~diagonal if stitched else diagonal
    values = matrix[mask]
    return values[np.isfinite(values)]


def _mean(values: np.ndarray) -> float:
    return float(values.mean()) if values.size else math.nan


def pair_groups(result: Any, members: Callable[[str], str] = family) -> tuple[PairGroup, ...]:
    """Per (encoder family, head family), the stitched and not-stitched mean F1.

    Not-stitched figures are the head family's own cells (each head on its own encoder).
    """
    names = list(result.names)
    fams = [members(n) for n in names]
    matrices = {m: result.pair_mean(m) for m in result.methods}
    groups = []
    for enc in dict.fromkeys(fams):
        for dec in dict.fromkeys(fams):
            rows = np.array([f == enc for f in fams])
            cols = np.array([f == dec for f in fams])
            stitched = _cells(matrices["relative"], rows, cols, True)
            if stitched.size == 0:
                continue
            own = cols  # the heads' own encoders
            groups.append(
                PairGroup(
                    encoders=enc,
                    heads=dec,
                    relative_stitched=_mean(stitched),
                    relative_own=_mean(_cells(matrices["relative"], own, own, False)),
                    absolute_own=_mean(_cells(matrices["absolute"], own, own, False)),
                    absolute_stitched=_mean(_cells(matrices["absolute"], rows, cols, True)),
                    translation_stitched=_mean(
                        _cells(matrices.get("translation", matrices["absolute"]), rows, cols, True)
                    ),
                    n_cells=int(stitched.size),
                )
            )
    return tuple(groups)


def _subset_group(result: Any, keep: Callable[[str], bool], cross_only: bool) -> PairGroup:
    """One group over the models ``keep`` selects; ``cross_only``: stitched cells across
    families only (MLP <-> CNN)."""
    names = list(result.names)
    sel = np.array([keep(n) for n in names])
    fams = np.array([family(n) for n in names])
    cross = fams[:, None] != fams[None, :] if cross_only else np.ones((len(names),) * 2, bool)
    matrices = {m: result.pair_mean(m) for m in result.methods}

    def stitched(method: str) -> float:
        matrix = matrices.get(method, matrices["absolute"])
        mask = sel[:, None] & sel[None, :] & cross & ~np.eye(len(names), dtype=bool)
        values = matrix[mask]
        return _mean(values[np.isfinite(values)])

    def own(method: str) -> float:
        values = np.diag(matrices[method])[sel]
        return _mean(values[np.isfinite(values)])

    return PairGroup(
        encoders="MLP <-> CNN" if cross_only else "all",
        heads="",
        relative_stitched=stitched("relative"),
        relative_own=own("relative"),
        absolute_own=own("absolute"),
        absolute_stitched=stitched("absolute"),
        translation_stitched=stitched("translation"),
        n_cells=int((sel[:, None] & sel[None, :] & cross & ~np.eye(len(names), dtype=bool)).sum()),
    )


def _round(value: float, digits: int = 1) -> float | None:
    return None if math.isnan(value) else round(value, digits)


def _groups_table(groups: Sequence[PairGroup], title: str, note: str) -> Table:
    rows = tuple(
        (
            g.encoders,
            g.heads or "-",
            _round(g.relative_own),
            _round(g.relative_stitched),
            _round(g.kept, 3),
            _round(g.absolute_own),
            _round(g.kept_vs_absolute, 3),
            _round(g.absolute_stitched),
            _round(g.translation_stitched),
            g.n_cells,
        )
        for g in groups
    )
    return Table(
        title=title,
        columns=(
            "encoders",
            "heads",
            "relative own",
            "relative stitched",
            "kept (vs relative)",
            "absolute own",
            "kept (vs absolute)",
            "absolute stitched",
            "Procrustes translation",
            "stitched cells",
        ),
        rows=rows,
        note=note,
    )


def _verdicts(overall: PairGroup, cross: PairGroup, chance: float) -> tuple[Verdict, ...]:
    def stitch_pair(group: PairGroup, scope: str) -> list[Verdict]:
        figures = (
            f"relative stitched {group.relative_stitched:.1f}, relative not stitched "
            f"{group.relative_own:.1f}, absolute not stitched {group.absolute_own:.1f} "
            f"(weighted F1 x100, {group.n_cells} stitched cells)"
        )
        return [
            judge(
                f"(a) frozen encoders, {scope}: relative heads accept other encoders zero-shot",
                "kept fraction (relative stitched / relative not stitched)",
                group.kept,
                KEPT_VS_RELATIVE,
                partly=KEPT_PARTLY,
                detail=figures,
            ),
            judge(
                f"(a) frozen encoders, {scope}: stitched relative heads keep the absolute "
                "models' performance",
                "kept fraction (relative stitched / absolute not stitched)",
                group.kept_vs_absolute,
                KEPT_VS_ABSOLUTE,
                partly=KEPT_PARTLY,
                detail=figures,
            ),
        ]

    verdicts = stitch_pair(overall, "all pairs") + stitch_pair(cross, "MLP <-> CNN pairs")
    if math.isnan(overall.absolute_stitched):
        verdicts.append(
            Verdict(
                "(a) absolute stitching fails (near chance)",
                "skipped",
                "no two encoders of equal width: absolute stitching is undefined",
            )
        )
    else:
        verdicts.append(
            judge(
                "(a) absolute stitching fails (near chance)",
                "absolute stitched F1 points above the majority baseline",
                overall.absolute_stitched - chance,
                ABSOLUTE_NEAR_CHANCE,
                comparison="<=",
                partly=3 * ABSOLUTE_NEAR_CHANCE,
                detail=f"absolute stitched {overall.absolute_stitched:.1f}, "
                f"majority baseline {chance:.1f}",
            )
        )
    verdicts.append(
        judge(
            "(a) a relative head costs (almost) no accuracy on a frozen encoder",
            "relative not stitched / absolute not stitched",
            kept_fraction(overall.relative_own, overall.absolute_own),
            0.98,
            partly=0.95,
            detail=f"relative {overall.relative_own:.1f} vs absolute {overall.absolute_own:.1f}",
        )
    )
    return tuple(verdicts)


def chance_f1(labels: np.ndarray) -> float:
    """Weighted F1 x100 of always predicting the majority class."""
    counts = np.bincount(labels)
    share = counts.max() / counts.sum()
    return float(100.0 * share * (2 * share / (share + 1.0)))


def run_frozen(
    config: FrozenConfig, context: RunContext, data: ImageSplit | None = None
) -> FrozenOutcome:
    """Protocol (a) end to end: train and freeze the zoo, stitch every encoder into every head."""
    from relreps.anchors import stratified
    from relreps.stitching import stitching_grid

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
        metric="f1_weighted",
        head=head_factory(config),
        similarity=config.head.similarity,
        center=config.head.center,
        cache_dir=context.output_dir / "cells" / "frozen",
        progress=context.progress,
    )
    chance = chance_f1(data.y_test)
    overall = _subset_group(result, is_classifier, cross_only=False)
    cross = _subset_group(result, is_classifier, cross_only=True)
    groups = pair_groups(result)
    tables = [
        _groups_table(
            (overall, cross),
            "(a) Frozen encoders: classifier zoo, weighted F1 x100",
            f"Mean over ordered (encoder, head) pairs of the classification-trained encoders "
            f"(own = each head on its own encoder). Majority baseline {chance:.1f}.",
        ),
        _groups_table(
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
        tables.append(
            ablation_table(
                ablation, n_ablation * min(config.ablation_seeds, config.seeds), config.head
            )
        )
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
