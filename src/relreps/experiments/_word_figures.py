"""The figures of the word-embeddings experiment: PCA views of the spaces and a Jaccard chart."""

from __future__ import annotations

import io
import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from relreps.experiments._word_compare import anchor_indices
from relreps.experiments._word_protocol import NAME, Comparison, WordEmbeddingsConfig
from relreps.experiments.base import Figure, RunContext, atomic_write_bytes


def pca_figure(
    spaces: Mapping[str, Any],
    words: Sequence[str],
    shown: Sequence[str],
    labels: Mapping[str, str],
    config: WordEmbeddingsConfig,
    context: RunContext,
) -> Figure | None:
    """The qualitative picture: absolute views disagree, relative views agree."""
    try:
        from relreps.report.figures import space_views
    except ImportError:
        return None
    from relreps.projection import relative_projection

    rng = np.random.default_rng(config.seed)
    n = min(len(words), 1500)
    rows = np.sort(rng.choice(len(words), n, replace=False))
    chosen = [words[i] for i in rows]
    absolute = {labels[p]: np.asarray(spaces[p].take(chosen), dtype=np.float64) for p in shown}
    anchors = anchor_indices(
        "uniform", absolute[labels[shown[0]]], min(config.n_anchors, n // 2), config.seed
    )
    relative = {
        name: np.asarray(relative_projection(x, x[anchors])) for name, x in absolute.items()
    }
    # Colour = a k-means cluster of the first space's words (6 groups), the same word keeps its
    # colour in every panel.
    groups = _word_groups(absolute[labels[shown[0]]], 6, config.seed)
    return space_views(
        absolute,
        relative,
        groups,
        "figures/word-embeddings-pca.png",
        root=context.output_dir,
        caption=(
            f"{n} shared words, coloured by k-means cluster in {labels[shown[0]]}. Top: absolute "
            "spaces (PCA axes of the first space, or its own PCA when the width differs); "
            "bottom: relative spaces, all on the principal axes of the first relative space."
        ),
    )


def _word_groups(x: np.ndarray, n_groups: int, seed: int) -> np.ndarray:
    from relreps.anchors import kmeans

    unit = x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)
    centres = unit[kmeans(unit, n_groups, seed=seed, metric="cosine")]
    return np.argmax(unit @ centres.T, axis=1)


def bar_figure(
    summary: Mapping[str, Any],
    comparisons: Sequence[Comparison],
    labels: Mapping[str, str],
    context: RunContext,
) -> Figure | None:
    """Jaccard@10 per ordered pair: absolute, relative and anchor-centred bars side by side."""
    names, rel, cen, ab = [], [], [], []
    for comp in comparisons:
        entry = summary.get(f"{comp.key}|relative-plain|uniform")
        if entry is None:
            continue
        names.append(f"{comp.source}->{comp.target}")
        rel.append(entry["jaccard@10"] if "jaccard@10" in entry else entry["jaccard@5"])
        centred = summary.get(f"{comp.key}|relative-centred|uniform") or {}
        cen.append(centred.get("jaccard@10", math.nan))
        absolute = summary.get(f"{comp.key}|absolute|-") or {}
        ab.append(absolute.get("jaccard@10", math.nan))
    if not names:
        return None
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure as MplFigure
    except ImportError:
        context.log(f"[{NAME}] matplotlib is missing: no bar chart (pip install matplotlib)")
        return None
    figure = MplFigure(figsize=(max(6.0, 0.75 * len(names) + 2), 3.6), layout="constrained")
    FigureCanvasAgg(figure)
    axis = figure.subplots()
    x = np.arange(len(names))
    axis.bar(x - 0.27, ab, 0.27, label="absolute", color="#999999")
    axis.bar(x, rel, 0.27, label="relative", color="#1f77b4")
    axis.bar(x + 0.27, cen, 0.27, label="relative, anchor-centred", color="#ff7f0e")
    axis.set_xticks(x)
    axis.set_xticklabels(names, rotation=35, ha="right", fontsize=7)
    axis.set_ylabel("Jaccard@10")
    axis.set_ylim(0, 1)
    axis.legend(fontsize=7)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=110)
    relative_path = "figures/word-embeddings-jaccard.png"
    atomic_write_bytes(context.output_dir / relative_path, buffer.getvalue())
    return Figure(
        relative_path,
        "Jaccard@10 of every ordered pair (uniform anchors, mean over draws); absolute bars are "
        "missing where the dimensions differ.",
    )
