"""``text-stitching`` (paper 5.2, cross-architecture): text classifier heads stitched zero-shot.

The paper froze five pretrained transformers (BERT cased/uncased, ELECTRA, RoBERTa, XLM-R; CLS
token), trained a head per encoder on TREC, DBpedia and Amazon reviews, and fed each head every
other encoder's output with no training: absolute stitching collapses (7-22 weighted F1) while
relative stitching through 768 shared anchors keeps most of the score (44-81).

Those datasets and checkpoints need the network. Here the same protocol runs on data and models
that ship offline: WordNet noun glosses labelled with their 26 supersenses (``wordnet-base``),
embedded by the four offline sentence encoders of :mod:`relreps.encoders` (MiniLM-L6, MiniLM-L3
on ONNX Runtime, WordLlama, multilingual e5-small). Train and test sets are class-balanced draws
from disjoint parts of every class; each seed draws its own 768 class-stratified anchors from the
training set and trains its own heads (:func:`relreps.stitching.anchor_draws.anchor_draw_grid`).
Five ways to stitch are compared:

- ``absolute``: raw embeddings (defined only between encoders of equal width);
- ``relative``: cosine similarities to the anchors, the paper's method;
- ``relative-centred``: the same after subtracting the anchor mean (translation invariance, which
  anisotropic encoders such as e5 need);
- ``relative-product``: cosine, Euclidean, L1 and L-inf blocks side by side (a product of
  invariances, "From Bricks to Bridges", ICLR 2024);
- ``translation``: Procrustes map from the encoder's space into the head's, fitted on the anchors
  (Latent Space Translation, NeurIPS 2023), read by the head's absolute classifier.

Online users can rerun the paper's own setting (its encoders on TREC / DBpedia / Amazon) with
``relreps reproduce text-stitching --text-datasets trec,dbpedia14`` (see :func:`online_datasets`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, replace
from typing import Any

import numpy as np

from relreps._validation import check_int, check_names, fail
from relreps.datasets.text_tasks import TextTask, hub_task, wordnet_supersense_task
from relreps.encoders.suite import encode_datasets, load_offline_encoders
from relreps.experiments._repro_torch import torch_threads
from relreps.experiments._text_report import (
    METHOD_ORDER,
    PAPER_F1,
    heatmap_figure,
    matrix_table,
    paper_table,
    per_encoder_table,
    verdicts,
)
from relreps.experiments.base import (
    REQUIRES_MATPLOTLIB,
    REQUIRES_MINILM,
    REQUIRES_TORCH,
    REQUIRES_WORDNET,
    UNAVAILABLE_ERRORS,
    ExperimentResult,
    ExperimentSpec,
    Requirement,
    RunContext,
    Verdict,
)
from relreps.projection_spec import ProjectionSpec
from relreps.results import jsonable
from relreps.stitching import MLPHeadFactory, majority_f1
from relreps.stitching.anchor_draws import anchor_draw_grid

__all__ = [
    "FULL",
    "OFFLINE_ENCODERS",
    "ONLINE",
    "PAPER_ENCODERS",
    "PAPER_F1",
    "QUICK",
    "SPEC",
    "VARIANTS",
    "TextData",
    "TextStitchingConfig",
    "load_online_data",
    "load_wordnet_data",
    "online_datasets",
    "run",
    "run_config",
]

NAME = "text-stitching"
TITLE = "Text classifiers stitched zero-shot across sentence encoders (WordNet supersenses)"
PAPER_REF = "paper 5.2 (cross-architecture stitching), Table 4"

#: The registry's offline sentence encoders (relreps.encoders), in table order.
OFFLINE_ENCODERS = ("minilm-l6", "minilm-l3-onnx", "wordllama", "e5-small")
#: The paper's encoders (Hugging Face hub ids), used by the online variant with CLS pooling.
PAPER_ENCODERS = {
    "bert-base-cased": "bert-base-cased",
    "bert-base-uncased": "bert-base-uncased",
    "electra-base": "google/electra-base-discriminator",
    "roberta-base": "roberta-base",
}
#: The paper's online datasets: HF_DATASETS name -> (label in PAPER_F1, train size, test size).
ONLINE = {
    "trec": ("TREC", 5452, 500),
    "dbpedia14": ("DBpedia", 10000, 5000),
    "amazon_reviews_multi": ("Amazon (5-class)", 10000, 5000),
}
#: Relative variants: label -> the ProjectionSpec of its grid.
VARIANTS: dict[str, ProjectionSpec] = {
    "relative": ProjectionSpec(),
    "relative-centred": ProjectionSpec(center="anchors"),
    "relative-product": ProjectionSpec(similarity=("cosine", "euclidean", "l1", "linf")),
}


@dataclass(frozen=True)
class TextStitchingConfig:
    """Size of a run.

    Attributes:
        encoders: registry names (``relreps.encoders.model_names()``) or, online, hub ids.
        n_train: training items (class-balanced where the classes allow).
        n_test: test items (class-balanced, disjoint from the training pool).
        n_anchors: anchors per seed, class-stratified draws from the training items.
        seeds: seeds; seed ``i`` draws its own anchors and trains its own heads.
        head_epochs: at most this many epochs per head (early stopping on a validation split).
        head_hidden: hidden widths of the MLP heads (same for absolute and relative).
        methods: methods to run, from ``absolute``, the keys of :data:`VARIANTS`, ``translation``.
    """

    encoders: tuple[str, ...]
    n_train: int
    n_test: int
    n_anchors: int = 768
    seeds: int = 5
    head_epochs: int = 40
    head_hidden: tuple[int, ...] = (256,)
    methods: tuple[str, ...] = METHOD_ORDER

    def __post_init__(self) -> None:
        if not self.encoders or len(set(self.encoders)) != len(self.encoders):
            raise fail("encoders", "a non-empty tuple of distinct names", repr(self.encoders))
        for name in ("n_train", "n_test", "n_anchors", "seeds", "head_epochs"):
            check_int(getattr(self, name), name, low=1)
        if not self.methods:
            raise fail("methods", f"a non-empty tuple among {list(METHOD_ORDER)}", "()")
        check_names(self.methods, "methods", METHOD_ORDER)


FULL = TextStitchingConfig(OFFLINE_ENCODERS, n_train=5200, n_test=2600, n_anchors=768, seeds=5)
QUICK = TextStitchingConfig(
    OFFLINE_ENCODERS, n_train=390, n_test=182, n_anchors=130, seeds=2, head_epochs=30
)


#: The task type of :func:`run_config` (kept under its old name).
TextData = TextTask
#: WordNet noun glosses (26 supersenses) split class-balanced (kept under its old name).
load_wordnet_data = wordnet_supersense_task


def online_datasets(value: str | Sequence[str] = ()) -> tuple[str, ...]:
    """The paper's datasets asked for with ``--text-datasets`` (names, or one comma-separated
    string).

    Names among ``trec``, ``dbpedia14``, ``amazon_reviews_multi`` (English config); empty means
    the offline WordNet run (or, with ``--online``, every one of them).

    Example:
        >>> online_datasets("trec, dbpedia14")
        ('trec', 'dbpedia14')
        >>> online_datasets(())
        ()
    """
    return check_names(value, "--text-datasets", ONLINE)


def load_online_data(name: str, seed: int, loader: Any = None) -> TextData:
    """One of the paper's datasets from the Hugging Face hub (needs the network)."""
    label, n_train, n_test = ONLINE[name]
    language = "en" if name == "amazon_reviews_multi" else None
    return hub_task(name, n_train, n_test, seed=seed, label=label, language=language, loader=loader)


def _paper_encoders(names: Sequence[str]) -> dict[str, Any]:
    """The paper's frozen transformers (CLS token) from the hub: online only."""
    from relreps.encoders import TransformersEncoder

    return {
        name: TransformersEncoder(PAPER_ENCODERS.get(name, name), pooling="cls", name=name)
        for name in names
    }


def run_config(
    config: TextStitchingConfig,
    context: RunContext,
    *,
    data: TextData | None = None,
    encoders: Mapping[str, Any] | None = None,
    tag: str = "",
) -> ExperimentResult:
    """Run one dataset with one set of encoders.

    Args:
        config: sizes and methods.
        context: the run context (seed, cache, figures folder, log).
        data: the task; default: WordNet glosses drawn with ``config``'s sizes.
        encoders: name -> encoder; default: ``config.encoders`` built from the offline registry
            (those that cannot load are left out and named in the result).
        tag: suffix of the figure file and the table titles (one per dataset when several run).

    Returns:
        The experiment result (tables, heatmap figure, verdicts, raw scores in ``data``).
    """
    if data is None:
        data = wordnet_supersense_task(config.n_train, config.n_test, seed=context.seed)
    missing: dict[str, str] = {}
    if encoders is None:
        encoders, missing = load_offline_encoders(config.encoders)
        for name, why in missing.items():
            context.log(f"  {name} left out: {why}")
    if len(encoders) < 2:
        raise ValueError(
            f"Expected at least two encoders to stitch, but only {list(encoders)} could be "
            f"built ({missing})."
        )
    context.log(
        f"  {data.name}: {len(data.train)} train / {len(data.test)} test items, "
        f"{len(data.class_names)} classes, encoders {list(encoders)}"
    )
    embeddings = encode_datasets(
        encoders,
        [data.train, data.test],
        split=NAME,
        batch_size=64,
        progress=context.progress,
        log=context.log,
    )
    y_train, y_test = np.asarray(data.train.labels), np.asarray(data.test.labels)
    with torch_threads(1):
        result = anchor_draw_grid(
            embeddings,
            y_train,
            y_test,
            n_anchors=config.n_anchors,
            seeds=[context.seed + i for i in range(config.seeds)],
            methods=config.methods,
            variants=VARIANTS,
            scoring="f1_weighted",
            head=MLPHeadFactory(hidden=config.head_hidden, epochs=config.head_epochs),
            cache_dir=context.output_dir / "cells" / NAME,
            cache_tag=f"{NAME}/{config.head_hidden}/{config.head_epochs}",
            log=context.log,
        )
    chance = majority_f1(y_test)
    figure = heatmap_figure(result, data, context, tag)
    tables = [paper_table(result, data, chance), per_encoder_table(result)]
    tables += [matrix_table(result, m) for m in result.methods]
    if tag:
        tables = [replace(t, title=f"[{data.name}] {t.title}") for t in tables]
    return ExperimentResult(
        name=NAME,
        title=TITLE,
        paper_ref=PAPER_REF,
        config={
            "quick": context.quick,
            "seed": context.seed,
            **jsonable(asdict(config)),  # tuples as lists, as after a JSON round trip
            "encoders_used": list(encoders),
            "encoders_missing": missing,
            "data": data.name,
        },
        tables=tuple(tables),
        figures=(figure,),
        verdicts=verdicts(result, chance, data.name),
        data={
            "stitching": result.to_dict(),
            "chance_f1": chance,
            "n_train": len(data.train),
            "n_test": len(data.test),
            "class_names": list(data.class_names),
            "paper_f1": {
                d: {f"{m}/{'stitched' if s else 'not stitched'}": v for (m, s), v in p.items()}
                for d, p in PAPER_F1.items()
            },
        },
    )


def _merge(results: Sequence[ExperimentResult], skipped: Mapping[str, str]) -> ExperimentResult:
    """One result of several datasets' runs (claims prefixed by the dataset), with a skipped
    verdict per dataset that could not run."""
    first = results[0]
    verdicts = [
        replace(v, claim=f"[{r.config['data']}] {v.claim}") for r in results for v in r.verdicts
    ]
    verdicts += [
        Verdict(f"[{name}] the paper's encoders stitch on {name}", "skipped", reason)
        for name, reason in skipped.items()
    ]
    return replace(
        first,
        config={**first.config, "datasets": [r.config["data"] for r in results]},
        tables=tuple(t for r in results for t in r.tables),
        figures=tuple(f for r in results for f in r.figures),
        verdicts=tuple(verdicts),
        data={r.config["data"]: dict(r.data) for r in results},
    )


def run(context: RunContext) -> ExperimentResult:
    """The entry point (``relreps reproduce text-stitching [--quick]``).

    Always: WordNet glosses with the registry's offline encoders. With ``--online`` (all of the
    paper's datasets) or ``--text-datasets`` (those named): also the paper's
    encoders on the hub datasets; one that cannot be fetched is skipped with the reason.
    """
    config = context.sized(QUICK, FULL)
    requested = online_datasets(context.selection.text_datasets) or (
        tuple(ONLINE) if context.online else ()
    )
    offline = run_config(config, context)
    if not requested:
        return offline
    results, skipped = [offline], {}
    paper = replace(config, encoders=tuple(PAPER_ENCODERS))
    try:
        encoders = _paper_encoders(paper.encoders)
    except UNAVAILABLE_ERRORS as err:
        skipped = {name: f"the paper's encoders are unavailable: {err}" for name in requested}
    else:
        for name in requested:
            try:
                data = load_online_data(name, context.seed)
            except UNAVAILABLE_ERRORS as err:
                skipped[name] = f"{type(err).__name__}: {err}"
                continue
            results.append(run_config(paper, context, data=data, encoders=encoders, tag=name))
    for name, reason in skipped.items():
        context.log(f"  {name} skipped: {reason}")
    return _merge(results, skipped)


SPEC = ExperimentSpec(
    name=NAME,
    title=TITLE,
    paper_ref=PAPER_REF,
    requirements=(
        REQUIRES_WORDNET,
        REQUIRES_TORCH,
        REQUIRES_MATPLOTLIB,
        REQUIRES_MINILM,
        Requirement("WordLlama encoder", "pip install wordllama", module="wordllama"),
    ),
    run=run,
)
