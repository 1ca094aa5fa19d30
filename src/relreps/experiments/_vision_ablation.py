"""The head ablation of protocol (a): one factor of the default stitching head changed at a time
(head, norm, anchors, centring, every registered similarity, training epochs), beside the
Procrustes-translation baseline. ``HeadConfig``'s defaults rest on it (docs/stitching.md)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

import numpy as np

from relreps.experiments._vision_zoo import is_classifier
from relreps.results import Table, kept_fraction, rounded
from relreps.stitching.frozen import NORMS, FrozenHeadFactory, HeadConfig

if TYPE_CHECKING:
    from relreps.experiments._aeq_common import ImageSplit
    from relreps.experiments._vision_frozen import FrozenConfig
    from relreps.experiments.base import RunContext

__all__ = ["AblationRow", "ablation_settings", "ablation_table", "run_ablation"]

TRAINING_EPOCHS = (5, 20)  # head training budgets: passes over the rows (at least min_steps)

# One setting: (factor, label, change from the default head, whether it is the default).
Setting = tuple[str, str, dict[str, Any], bool]


@dataclass(frozen=True)
class AblationRow:
    """One head setting of the ablation: relative F1 not stitched and stitched."""

    factor: str
    setting: str
    own: float
    stitched: float
    default: bool = False

    @property
    def kept(self) -> float:
        return kept_fraction(self.stitched, self.own)


def ablation_settings(
    head: HeadConfig, n_anchors: int, anchor_counts: Sequence[int]
) -> list[Setting]:
    """Every setting of the ablation, the default marked once per factor.

    Example:
        >>> rows = ablation_settings(HeadConfig(), 300, (10, 300))
        >>> [(f, label) for f, label, _, default in rows if default][:3]
        [('head', 'linear'), ('norm', 'layernorm'), ('anchors', '300')]
    """
    from relreps import similarities

    settings: list[Setting] = [
        ("head", "linear", {"head": "linear"}, head.head == "linear"),
        ("head", "MLP (128 hidden)", {"head": "mlp", "hidden": 128}, head.head == "mlp"),
    ]
    settings += [("norm", n, {"norm": n}, n == head.norm) for n in NORMS]
    settings += [
        ("anchors", str(k), {"anchors": k}, k == n_anchors)
        for k in dict.fromkeys((*anchor_counts, n_anchors))
    ]
    settings += [
        ("centring", "plain cosine", {"center": None}, head.center is None),
        ("centring", "anchor-centred cosine", {"center": "anchors"}, head.center is not None),
    ]
    settings += [
        ("similarity", s.name, {"similarity": s.name}, s.name == head.similarity)
        for s in similarities()
    ]
    settings += [
        ("training", f"{e} epochs", {"epochs": e}, e == head.epochs)
        for e in dict.fromkeys((*TRAINING_EPOCHS, head.epochs))
    ]
    return settings


def run_ablation(
    config: FrozenConfig,
    spaces: Sequence[Any],
    data: ImageSplit,
    context: RunContext,
    translation: float,
) -> tuple[AblationRow, ...]:
    """Relative own / stitched F1 of each head setting, on the first ``ablation_seeds`` seeds."""
    from relreps.anchors import stratified
    from relreps.stitching import Space, stitching_grid

    first = range(context.seed, context.seed + config.ablation_seeds)
    keep = [s for s in spaces if is_classifier(s.name) and int(s.name.split("/s")[1]) in first]
    rows = []
    for factor, label, change, is_default in ablation_settings(
        config.head, config.n_anchors, config.ablation_anchors
    ):
        change = dict(change)
        n_anchors = change.pop("anchors", config.n_anchors)
        if n_anchors > len(data.y_train):
            continue
        # the grid applies the similarity and the centring; the head config keeps the rest
        similarity = change.pop("similarity", config.head.similarity)
        center = change.pop("center", config.head.center)
        idx = stratified(data.y_train, n_anchors, seed=context.seed)
        subset = [Space(s.name, s.train, s.test, np.asarray(s.train)[idx]) for s in keep]
        result = stitching_grid(
            subset,
            data.y_train,
            data.y_test,
            scoring="f1_weighted",
            head=FrozenHeadFactory(replace(config.head, **change)),
            methods=("relative",),
            similarity=similarity,
            center=center,
            cache_dir=context.output_dir / "cells" / "ablation",
            progress=context.progress,
        )
        matrix = result.pair_mean("relative")
        off = ~np.eye(len(subset), dtype=bool)
        own, stitched = float(np.nanmean(np.diag(matrix))), float(np.nanmean(matrix[off]))
        rows.append(AblationRow(factor, label, own, stitched, default=is_default))
        context.log(f"  ablation {factor}={label}: kept {rows[-1].kept:.3f}")
    rows.append(
        AblationRow("baseline", "Procrustes translation + absolute head", math.nan, translation)
    )
    return tuple(rows)


def ablation_table(rows: Sequence[AblationRow], n_encoders: int, head: HeadConfig) -> Table:
    """The ablation as a report table (F1 x100, kept fraction to 3 digits)."""
    return Table(
        title="Head ablation (one factor at a time): relative weighted F1 x100",
        columns=("factor", "setting", "not stitched", "stitched", "kept", "default"),
        rows=tuple(
            (
                r.factor,
                r.setting,
                rounded(r.own, 1),
                rounded(r.stitched, 1),
                rounded(r.kept, 3),
                "yes" if r.default else "",
            )
            for r in rows
        ),
        note=f"{n_encoders} frozen classifier encoders (MLP and CNN, two widths); each row "
        f"changes one factor of the default head ({head.head} layer on {head.norm} of the "
        f"{'anchor-centred' if head.center else 'plain'} {head.similarity} to class-stratified "
        "anchors). The baseline row is the Procrustes translation fitted on the anchors, read by "
        "an absolute head, over all pairs of the main grid.",
    )
