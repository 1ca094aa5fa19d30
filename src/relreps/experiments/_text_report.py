"""text-stitching's report: the paper's figures, the tables and the claims judged as numbers."""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np

from relreps.experiments.base import Figure, RunContext, Table, Verdict
from relreps.results import Claim, kept_fraction, mean_std_text
from relreps.stitching import zoo

if TYPE_CHECKING:
    from relreps.datasets.text_tasks import TextTask

__all__ = [
    "ABSOLUTE_FAILS",
    "COSTS_LITTLE",
    "KEEPS",
    "METHOD_LABEL",
    "METHOD_ORDER",
    "PAPER_F1",
    "heatmap_figure",
    "matrix_table",
    "paper_table",
    "per_encoder_table",
    "verdicts",
]

_PAPER_CELLS = (("absolute", False), ("absolute", True), ("relative", False), ("relative", True))
#: Weighted F1 x100 of the paper (mean over its encoders and seeds): (method, stitched) -> score.
PAPER_F1: dict[str, dict[tuple[str, bool], float]] = {
    dataset: dict(zip(_PAPER_CELLS, scores, strict=True))
    for dataset, scores in {
        "TREC": (91.36, 21.51, 87.24, 74.49),
        "DBpedia": (98.59, 7.02, 97.49, 80.79),
        "Amazon (5-class)": (59.18, 19.37, 55.86, 44.28),
    }.items()
}
METHOD_ORDER = ("absolute", "relative", "relative-centred", "relative-product", "translation")
METHOD_LABEL = {
    "absolute": "absolute",
    "relative": "relative (cosine, the paper)",
    "relative-centred": "relative (anchor-centred cosine)",
    "relative-product": "relative (product: cosine+euclidean+l1+linf)",
    "translation": "Procrustes translation (absolute head)",
}


def paper_table(result: Any, data: TextTask, chance: float) -> Table:
    rows = tuple(
        (
            METHOD_LABEL[row.method],
            "stitched" if row.stitched else "not stitched",
            mean_std_text(row.mean, row.std),
            *(PAPER_F1[d].get((row.method, row.stitched)) for d in PAPER_F1),
        )
        for row in result.summary()  # per method: not stitched, then stitched
    )
    return Table(
        title="Weighted F1 x100 in the paper's layout: ours on WordNet glosses beside the paper's "
        "numbers on other datasets",
        columns=(
            "method",
            "setting",
            f"ours: {data.name}",
            *(f"paper: {d} (different dataset)" for d in PAPER_F1),
        ),
        rows=rows,
        note=f"Ours: mean ± std over (encoder, head) cells and {len(result.seeds)} seeds, "
        f"{len(result.names)} encoders ({', '.join(result.names)}). The paper's columns are "
        "TREC / DBpedia / Amazon with BERT, ELECTRA, RoBERTa (a different task and different "
        f"encoders): compare the pattern, not the values. Majority-class F1 here: {chance:.2f}; "
        f"{len(data.class_names)} balanced classes. Absolute stitching is undefined between "
        "encoders of different widths (WordLlama is 256-d, the others 384-d); those cells are "
        "left out.",
    )


def matrix_table(result: Any, method: str) -> Table:
    return zoo.matrix_table(
        result,
        method,
        f"{METHOD_LABEL[method]}: F1 x100 per (encoder row, head column)",
        with_std=True,
        note="Mean ± std over seeds; the diagonal is not stitched.",
    )


def per_encoder_table(result: Any) -> Table:
    methods = [m for m in result.methods if m != "absolute"]
    return zoo.model_table(
        result,
        methods,
        "Stitched F1 x100 per encoder (mean over the cells where it is the encoder or the head)",
        labels=METHOD_LABEL,
        corner="encoder",
        note="Shows which encoder stitches badly under which similarity (e5 is anisotropic).",
    )


#: Stitching keeps the not-stitched score: a bar on the kept fraction (stitched / not stitched).
KEEPS = Claim(
    "Relative heads accept other architectures' encoders zero-shot (stitched keeps the "
    "not-stitched score)",
    "kept fraction (relative stitched / relative not stitched)",
    0.90,
    partly=0.75,
)
#: Absolute stitching fails: absolute stitched F1 at most 10 points above the majority class
#: ("partly" at three times as many), the rule of vision-stitching.
ABSOLUTE_FAILS = Claim(
    "Absolute stitching across architectures fails (near the majority class)",
    "absolute stitched F1 points above the majority class",
    10.0,
    comparison="<=",
    partly=30.0,
)
#: A relative head costs little: a bar on relative / absolute not-stitched F1.
COSTS_LITTLE = Claim(
    "A relative head costs little against an absolute one (not stitched)",
    "relative not stitched / absolute not stitched",
    0.97,
    partly=0.90,
)


def _paper_ratio(dataset: str, top: tuple[str, bool], bottom: tuple[str, bool]) -> float:
    """The paper's ``top / bottom`` F1 on ``dataset``; for a dataset of ours (not in the paper),
    the mean of the ratio over the paper's three datasets."""
    tables = [PAPER_F1[dataset]] if dataset in PAPER_F1 else list(PAPER_F1.values())
    return float(np.mean([t[top] / t[bottom] for t in tables]))


def verdicts(result: Any, chance: float, dataset: str = "") -> tuple[Verdict, ...]:
    """The paper's three claims (:data:`KEEPS`, :data:`ABSOLUTE_FAILS`, :data:`COSTS_LITTLE`)
    judged on ``result``, then the figures without a paper number. ``paper=``: the paper's figure
    of the same quantity on ``dataset``, or its mean over TREC / DBpedia / Amazon for ours."""
    mean = defaultdict(lambda: math.nan, {(r.method, r.stitched): r.mean for r in result.summary()})
    rel_own, rel_st = mean["relative", False], mean["relative", True]
    abs_own, abs_st = mean["absolute", False], mean["absolute", True]
    which = "paper figure: " + (
        dataset if dataset in PAPER_F1 else "mean of TREC / DBpedia / Amazon"
    )
    out: list[Verdict] = []
    if not math.isnan(rel_st):
        out.append(
            KEEPS.judge(
                kept_fraction(rel_st, rel_own),
                paper=_paper_ratio(dataset, ("relative", True), ("relative", False)),
                detail=f"relative stitched {rel_st:.1f} vs not stitched {rel_own:.1f} "
                f"(weighted F1 x100); {which}",
            )
        )
    if math.isnan(abs_st):
        reason = "absolute stitching undefined (no two encoders of equal width) or not run"
        out.append(ABSOLUTE_FAILS.skipped(reason))
    else:
        out.append(
            ABSOLUTE_FAILS.judge(
                abs_st - chance,
                detail=f"absolute stitched {abs_st:.1f} (defined pairs only), majority class "
                f"{chance:.1f}; relative stitched {rel_st:.1f}",
            )
        )
    if not (math.isnan(abs_own) or math.isnan(rel_own)):
        out.append(
            COSTS_LITTLE.judge(
                kept_fraction(rel_own, abs_own),
                paper=_paper_ratio(dataset, ("relative", False), ("absolute", False)),
                detail=f"not stitched: relative {rel_own:.1f} vs absolute {abs_own:.1f}; {which}",
            )
        )
    return (*out, *_notes(result, mean))


def _notes(result: Any, mean: Mapping[tuple[str, bool], float]) -> list[Verdict]:
    """The figures without a paper number: e5 with and without centring, the follow-ups.
    ``mean``: (method, stitched) -> mean score, NaN for a row not run."""
    out: list[Verdict] = []
    rel_st = mean["relative", True]
    if "relative-centred" in result.methods and "e5-small" in result.names:
        plain = zoo.model_stitched_means(result, "relative")["e5-small"]
        centred = zoo.model_stitched_means(result, "relative-centred")["e5-small"]
        out.append(
            Verdict(
                "Anisotropic e5 stitches badly with plain cosine; anchor centring fixes it "
                "(ASSETS probe, not in the paper)",
                "no paper number",
                f"stitched cells with e5-small: plain cosine {plain:.1f}, anchor-centred "
                f"{centred:.1f}; all cells: plain {rel_st:.1f}, centred "
                f"{mean['relative-centred', True]:.1f}",
            )
        )
    extra = [m for m in ("relative-product", "translation") if m in result.methods]
    if extra:
        parts = [f"{METHOD_LABEL[m]} {mean[m, True]:.1f}" for m in extra]
        out.append(
            Verdict(
                "Follow-ups: product of invariances and Procrustes translation (not in this paper)",
                "no paper number",
                f"stitched: plain relative {rel_st:.1f}, " + ", ".join(parts),
            )
        )
    return out


def heatmap_figure(result: Any, data: TextTask, context: RunContext, tag: str = "") -> Figure:
    """Every (encoder, head) cell's mean F1 per method, one heatmap each."""
    from relreps.report import stitching_heatmaps

    slug = tag or "wordnet"
    return stitching_heatmaps(
        {METHOD_LABEL[m]: result.pair_mean(m) for m in result.methods},
        list(result.names),
        list(result.names),
        context.figures_dir / f"text_stitching_{slug}.png",
        "weighted F1 x100",
        root=context.output_dir,
        caption=f"{data.name}: every encoder (rows) with every head (columns), mean over "
        f"{len(result.seeds)} seeds. Hatched: absolute stitching between different widths.",
    )
