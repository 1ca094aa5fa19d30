"""``alignment`` (issue 16): aligning two spaces from all, few or no pairs, on real model pairs.

Each pair of spaces has a row correspondence known by construction; the items are split into a
fitting pool and held-out items and Y's rows are shuffled (:func:`relreps.align.evaluate.
held_out_split`). Methods, by the number ``m`` of known pairs (seeds from the fitting pool):
``relative`` (held-out items as cosines to the ``m`` seed anchors, X's relative vectors retrieve
Y's; ``m >= 3``), ``procrustes`` (fitted on the ``m`` pairs), ``bootstrap``
(:func:`relreps.align.bootstrap_alignment`), ``unpaired`` (:func:`relreps.align.align_unpaired`,
``m = 0``; a failed alignment scores 0) and ``all`` (Procrustes on the whole pool, the reference).
Scores on the held-out items: top-1 and MRR@10 of retrieving the own partner, and where labels
exist the stitched accuracy (:mod:`relreps.align.evaluate`).

Pairs: two Word2Vec seeds (the word-embeddings models and cache), MiniLM-L6 vs MiniLM-L3 /
WordLlama / e5-small on WordNet glosses, GloVe-EN vs fastText-FR (different data), and frozen
Fashion-MNIST encoders (:func:`zoo_pairs`). See docs/alignment.md.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from typing import Any

import numpy as np

from relreps._validation import fail
from relreps.align.evaluate import (
    MethodScore,
    compare_methods,
    false_passes,
    score_tables,
    unrelated_spaces_check,
)
from relreps.experiments._vision_zoo import Arch
from relreps.experiments.base import (
    REQUIRES_GCIDE,
    REQUIRES_GENSIM,
    REQUIRES_MINILM,
    REQUIRES_SKLEARN,
    REQUIRES_WORDNET,
    ExperimentResult,
    ExperimentSpec,
    Requirement,
    RunContext,
    Table,
)
from relreps.results import Claim, Verdict, jsonable

__all__ = ["FULL", "QUICK", "SPEC", "ZOO_ARCHS", "AlignmentConfig", "SpacePair", "ZooConfig",
           "evaluate_pair", "parse_member", "run", "zoo_pairs"]  # fmt: skip

NAME = "alignment"
TITLE = "Aligning two spaces from all, few or no pairs (bootstrapped and unpaired alignment)"
PAPER_REF = "issue 16; bootstrapped anchors (ICLR 2023 tiny paper), latent functional maps"
ALL = -1  # m = every pair of the fitting pool

SHARE = "share of Procrustes-all top-1"
BOOTSTRAP_25 = Claim(
    "bootstrapped from 25 seeds reaches 90% of Procrustes on all pairs", SHARE, 0.9, partly=0.7
)
UNPAIRED = Claim("unpaired reaches 80% of Procrustes on all pairs", SHARE, 0.8, partly=0.5)
NO_FALSE_PASS = Claim(
    "No alignment that passed its self-consistency check is a wrong map",
    "passing alignments with a wrong map",
    0.0,
    comparison="<=",
)
UNRELATED = Claim(
    "Two unrelated random 384-d spaces are reported as failed (no map)",
    "unrelated spaces aligned (not failed)",
    0.0,
    comparison="<=",
)
#: A passing map is wrong below this share of Procrustes-all top-1 (align.evaluate.false_passes).
WRONG_MAP_SHARE = 0.2

#: The architectures a zoo member may name (``"<arch>/s<seed offset>"``).
ZOO_ARCHS = {a.name: a for a in (Arch("mlp64", "mlp", 64), Arch("cnn64", "cnn", 64))}


@dataclass(frozen=True)
class ZooConfig:
    """Which frozen encoders are paired, and how they are trained.

    Attributes:
        pairs: (X, Y) members ``"<arch>/s<offset>"``: architecture of :data:`ZOO_ARCHS`, seed
            ``context.seed + offset``.
        n_train: training images of each encoder (stratified subset of the official split).
        n_test: test images embedded by both encoders (the aligned items).
        epochs: training epochs of each encoder.
        dataset: image data set (``fashion-mnist``; sklearn digits when absent).
    """

    pairs: tuple[tuple[str, str], ...] = (("mlp64/s0", "mlp64/s1"), ("mlp64/s0", "cnn64/s1"))
    n_train: int = 60000
    n_test: int = 10000
    epochs: int = 3
    dataset: str = "fashion-mnist"


@dataclass(frozen=True)
class AlignmentConfig:
    """Size of a run.

    Attributes:
        ms: numbers of known pairs (``0`` = unpaired, ``-1`` = all pairs of the fitting pool).
        n_words: shared words of the Word2Vec pair.
        n_glosses: WordNet glosses embedded by each gloss encoder.
        gloss_pairs: (X, Y) encoder pairs compared on the glosses.
        cross_lingual: run GloVe-EN vs fastText-FR.
        n_held_out: held-out items per pair (at most a fifth of the items).
        word2vec_quick: train the reduced Word2Vec models (WordNet glosses only, 100-d).
        sample_size: X rows matched per refinement round.
        n_rounds: most refinement rounds.
        null_rows: rows of each unrelated random space of the failure check.
        zoo: the frozen Fashion-MNIST encoder pairs (:class:`ZooConfig`), or None.
    """

    ms: tuple[int, ...] = (0, 3, 10, 25, 100, 300, ALL)
    n_words: int = 20_000
    n_glosses: int = 8000
    gloss_pairs: tuple[tuple[str, str], ...] = (
        ("minilm-l6", "minilm-l3-onnx"),
        ("minilm-l6", "wordllama"),
        ("minilm-l6", "e5-small"),
    )
    cross_lingual: bool = True
    n_held_out: int = 2000
    word2vec_quick: bool = False
    sample_size: int = 5000
    n_rounds: int = 10
    null_rows: int = 3000
    zoo: ZooConfig | None = field(default_factory=ZooConfig)

    def to_dict(self) -> dict[str, Any]:
        """JSON-native fields."""
        data: dict[str, Any] = jsonable(asdict(self))
        return data


FULL = AlignmentConfig()
QUICK = AlignmentConfig(
    ms=(0, 3, 25, ALL),
    n_words=2000,
    n_glosses=400,
    gloss_pairs=(("minilm-l6", "minilm-l3-onnx"),),
    cross_lingual=False,
    n_held_out=300,
    word2vec_quick=True,
    sample_size=2000,
    n_rounds=4,
    null_rows=1000,
    zoo=ZooConfig(pairs=(("mlp64/s0", "cnn64/s1"),), n_train=3000, n_test=1000, epochs=2),
)


@dataclass(frozen=True, eq=False)
class SpacePair:
    """Two spaces whose row ``i`` is the same item (before Y is shuffled for evaluation).

    Attributes:
        name: what is compared.
        x, y: (n_items, d_x) and (n_items, d_y) arrays.
        labels: (n_items,) int labels, or None.
        same_data: both spaces embed the same data (the bootstrapping targets apply).
    """

    name: str
    x: np.ndarray
    y: np.ndarray
    labels: np.ndarray | None
    same_data: bool


def _n_held(pair: SpacePair, config: AlignmentConfig) -> int:
    return min(config.n_held_out, pair.x.shape[0] // 5)


def evaluate_pair(
    pair: SpacePair, config: AlignmentConfig, *, seed: int, log: Callable[[str], None]
) -> list[MethodScore]:
    """Every method at every ``m`` on one pair of spaces (:func:`compare_methods`)."""
    from relreps import align

    settings = align.RefineSettings(
        sample_size=config.sample_size,
        max_candidates=max(config.sample_size, 20000),
        n_rounds=config.n_rounds,
    )
    ms = [None if m == ALL else m for m in config.ms]
    scores = compare_methods(
        pair.x,
        pair.y,
        ms,
        n_held=_n_held(pair, config),
        labels=pair.labels,
        settings=settings,
        seed=seed,
    )
    for s in scores:
        if s.method != "relative":
            log(f"  [{pair.name}] m={_m_label(s.m)} {s.method}: {s.top1:.3f} ({s.status})")
    return scores


def _m_label(m: int | None) -> str:
    return "all" if m is None or m == ALL else str(m)


def _rows(
    pair: SpacePair, config: AlignmentConfig, scores: list[MethodScore]
) -> list[dict[str, Any]]:
    """The result rows of one pair: its name, ``m`` as a label, sizes, then the scores."""
    n, n_held = pair.x.shape[0], _n_held(pair, config)
    return [
        {"pair": pair.name, **s.to_dict(), "m": _m_label(s.m), "n_items": n, "n_held_out": n_held}
        for s in scores
    ]


def word2vec_pair(config: AlignmentConfig, log: Callable[[str], None]) -> SpacePair:
    """The two Word2Vec seeds of the word-embeddings experiment (same corpus, config, cache)."""
    from relreps.datasets.word2vec import CorpusSpec, TrainingConfig, cached_word_spaces
    from relreps.datasets.words import shared_vocabulary

    if config.word2vec_quick:
        corpus, base = CorpusSpec(gcide=False), TrainingConfig(dim=100, epochs=3, bucket=100_000)
    else:
        corpus, base = CorpusSpec(), TrainingConfig()
    seeds = {f"w2v-s{s}": replace(base, seed=s) for s in (0, 1)}
    a, b = (found.vectors for found in cached_word_spaces(corpus, seeds, log=log).values())
    log(f"  word2vec seeds 0, 1: {len(a)} words")
    # one corpus, one vocabulary: the words after the 400 most frequent, alphabetic, >= 4 letters
    words = shared_vocabulary(a, b, max_words=config.n_words)
    return SpacePair(f"Word2Vec seed 0 vs seed 1 ({base.dim}-d, {len(words)} words)",
                     a.take(words), b.take(words), None, True)  # fmt: skip


def gloss_spaces(
    config: AlignmentConfig, names: set[str], seed: int, log: Callable[[str], None]
) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """WordNet noun glosses (26 supersenses) embedded by the named encoders, through the cache."""
    from relreps.datasets import load_wordnet_glosses
    from relreps.encoders import cached_encode, load_encoder

    glosses = load_wordnet_glosses()
    rows = np.sort(np.random.default_rng(seed).permutation(len(glosses))[: config.n_glosses])
    subset = glosses.subset(rows)
    out = {}
    for name in sorted(names):
        start = time.perf_counter()
        out[name] = cached_encode(
            load_encoder(name, offline=True),
            list(subset.items),
            list(subset.ids),
            dataset=subset.name,
            split=f"alignment-{config.n_glosses}-s{seed}",
            batch_size=64,
        )
        log(f"  {name}: {len(subset)} glosses ({time.perf_counter() - start:.1f} s)")
    return out, np.asarray(subset.labels)


_NOTE = (
    "m=all: Procrustes on every pair of the fitting pool; failed: the alignment reported "
    "itself failed (no map)."
)


def _tables(
    evaluated: list[tuple[SpacePair, list[MethodScore]]], config: AlignmentConfig
) -> tuple[Table, ...]:
    """Per pair: a method x m table of each score (stitched accuracy only where measured)."""
    return tuple(
        table
        for pair, scores in evaluated
        for table in score_tables(scores, pair.name, _n_held(pair, config), note=_NOTE)
    )


def _verdicts(evaluated: list[tuple[SpacePair, list[MethodScore]]]) -> tuple[Verdict, ...]:
    """The bootstrap and unpaired claims of each same-data pair, then the false-pass claim."""
    verdicts = []
    for pair, scores in evaluated:
        top1 = {(s.method, s.m): s.top1 for s in scores}
        ref = top1.get(("procrustes", None))
        if not ref or ref <= 0 or not pair.same_data:
            continue
        for claim, method, m, name in (
            (BOOTSTRAP_25, "bootstrap", 25, "bootstrap-25"),
            (UNPAIRED, "unpaired", 0, "unpaired"),
        ):
            if (value := top1.get((method, m))) is not None:
                detail = f"{name} top-1 {value:.3f}, Procrustes-all {ref:.3f}"
                named = replace(claim, claim=f"{pair.name}: {claim.claim}")
                verdicts.append(named.judge(value / ref, detail=detail))
    return (*verdicts, _false_pass_verdict(evaluated))


def _false_pass_verdict(evaluated: list[tuple[SpacePair, list[MethodScore]]]) -> Verdict:
    """No bootstrapped or unpaired map that passed its check is wrong on the held-out pairs."""
    found = [(p, s) for p, scores in evaluated for s in false_passes(scores, WRONG_MAP_SHARE)]
    checked = sum(s.method in ("bootstrap", "unpaired") for _, scores in evaluated for s in scores)
    listed = "; ".join(
        f"{p.name} {s.method} m={_m_label(s.m)} top-1 {s.top1:.3f}" for p, s in found
    )
    return NO_FALSE_PASS.judge(
        float(len(found)),
        detail=f"{len(found)} of {checked} bootstrapped/unpaired alignments passed with held-out "
        f"top-1 below {WRONG_MAP_SHARE:.0%} of Procrustes-all" + (f": {listed}" if listed else ""),
    )


def parse_member(member: str) -> tuple[Arch, int]:
    """``"cnn64/s1"`` -> (the cnn64 :class:`Arch`, seed offset 1).

    Raises:
        ValueError: not ``"<arch>/s<offset>"`` with a known architecture and offset >= 0.

    Example:
        >>> arch, offset = parse_member("cnn64/s1")
        >>> arch.kind, offset
        ('cnn', 1)
    """
    stem, _, seed = member.partition("/")
    if stem not in ZOO_ARCHS or not seed.startswith("s") or not seed[1:].isdigit():
        raise fail(
            "member", f"'<arch>/s<seed offset>' with arch in {sorted(ZOO_ARCHS)}", repr(member)
        )
    return ZOO_ARCHS[stem], int(seed[1:])


def zoo_pairs(config: ZooConfig, context: RunContext) -> tuple[list[SpacePair], dict[str, Any]]:
    """The frozen image-encoder pairs: train (or reload) the encoders, embed the test images.

    The encoders are those of ``vision-stitching``'s protocol (a)
    (:func:`relreps.experiments._vision_frozen.train_frozen_zoo`): each is trained once as a
    classifier under its own head seed, saved in the run folder (reloaded on a rerun) and frozen.
    Both encoders of a pair embed the same test images: row ``i`` of X and of Y is the same image
    (the ground truth of the alignment), and the test labels give the stitched accuracy.

    Returns:
        ``([SpacePair, ...], facts)``: one pair per ``config.pairs`` entry, and what was trained
        (seconds, data set, note); no pairs, with the reason, when torch is missing.
    """
    import importlib.util

    if importlib.util.find_spec("torch") is None:
        reason = "torch is not installed (pip install 'relreps[torch]')"
        context.log(f"[{NAME}] image zoo skipped: {reason}")
        return [], {"skipped": reason}
    import torch

    from relreps.datasets.image_splits import load_image_split
    from relreps.experiments._vision_frozen import FrozenConfig, train_frozen_zoo

    context.log(f"[{NAME}] training / loading the frozen image encoders ...")
    members = {m: parse_member(m) for pair in config.pairs for m in pair}
    data = load_image_split(config.dataset, config.n_train, config.n_test, context.seed)
    if data.note:
        context.log(data.note)
    embedded: dict[str, np.ndarray] = {}
    facts: dict[str, Any] = {"dataset": data.name, "note": data.note, "encoders": {}}
    for member, (arch, offset) in members.items():
        start = time.perf_counter()
        frozen = FrozenConfig(archs=(arch,), seeds=1, n_train=config.n_train,
                              n_test=config.n_test, encoder_epochs=config.epochs)  # fmt: skip
        # train_frozen_zoo seeds member s of a run with context.seed + s.
        encoders, trained = train_frozen_zoo(
            frozen, data, replace(context, seed=context.seed + offset)
        )
        ((name, encoder),) = encoders.items()
        with torch.no_grad():
            batches = torch.from_numpy(data.x_test).split(2048)
            embedded[member] = torch.cat([encoder(b) for b in batches]).numpy()
        facts["encoders"][member] = {
            "name": name,
            **(trained.get(name) or {}),
            "seconds_with_embedding": round(time.perf_counter() - start, 2),
        }
    pairs = [
        SpacePair(f"{data.name} zoo: {a} vs {b} ({embedded[a].shape[1]}-d, {len(data.y_test)} "
                  "test images)", embedded[a], embedded[b], np.asarray(data.y_test), True)
        for a, b in config.pairs
    ]  # fmt: skip
    return pairs, facts


def run(context: RunContext) -> ExperimentResult:
    """The entry point (``relreps reproduce alignment [--quick]``)."""
    start = time.perf_counter()
    config = context.sized(QUICK, FULL, seeds_field=None)
    log = context.log
    log(f"[{NAME}] loading spaces ...")
    pairs = [word2vec_pair(config, log)]
    names = {n for pair in config.gloss_pairs for n in pair}
    if names:
        spaces, labels = gloss_spaces(config, names, context.seed, log)
        for a, b in config.gloss_pairs:
            pairs.append(SpacePair(f"glosses: {a} vs {b}", spaces[a], spaces[b], labels, True))
    if config.cross_lingual:
        from relreps.experiments.cross_lingual import load_word_spaces

        words = load_word_spaces()
        pairs.append(
            SpacePair(
                "GloVe-EN vs fastText-FR (FreeDict pairs)", words.source, words.target, None, False
            )
        )
    found, zoo_facts = ([], {}) if config.zoo is None else zoo_pairs(config.zoo, context)
    pairs.extend(found)
    evaluated = []
    for pair in pairs:
        log(f"[{NAME}] {pair.name}: {pair.x.shape} vs {pair.y.shape}")
        evaluated.append((pair, evaluate_pair(pair, config, seed=context.seed, log=log)))
    rows = [row for pair, scores in evaluated for row in _rows(pair, config, scores)]
    null = unrelated_spaces_check(config.null_rows, n_rounds=config.n_rounds, seed=context.seed)
    unrelated = UNRELATED.judge(
        float(null["status"] != "failed"),
        detail=f"status {null['status']}, self-consistency {null['score']:.3f} "
        f"(null {null['null']:.3f})",
    )
    return ExperimentResult(
        name=NAME,
        title=TITLE,
        paper_ref=PAPER_REF,
        config=config.to_dict(),
        tables=_tables(evaluated, config),
        verdicts=(*_verdicts(evaluated), unrelated),
        data={"rows": rows, "unrelated": null, "zoo": zoo_facts},
        wall_time_s=time.perf_counter() - start,
    )


SPEC = ExperimentSpec(
    name=NAME,
    title=TITLE,
    paper_ref=PAPER_REF,
    requirements=(
        Requirement("POT (optimal transport)", "pip install 'relreps[align]'", module="ot"),
        REQUIRES_GENSIM,
        REQUIRES_WORDNET,
        REQUIRES_GCIDE,
        REQUIRES_MINILM,
        REQUIRES_SKLEARN,
    ),
    run=run,
)
