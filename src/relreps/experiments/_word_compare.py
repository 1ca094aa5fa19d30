"""The comparisons of the word-embeddings experiment: retrieval scores across two spaces.

For every ordered pair of spaces on a shared vocabulary: Jaccard@k, MRR@k and the mean cosine in
absolute coordinates (where the dimensions agree) and in relative coordinates (plain and
anchor-centred, for each anchor strategy and draw), plus how alike the spaces' own neighbourhoods
are. Every cell is cached in the run folder, so an interrupted run resumes where it stopped.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from relreps._validation import check_int, fail
from relreps.experiments._word_protocol import NAME, Comparison, WordEmbeddingsConfig
from relreps.experiments.base import RunContext

# ---------------------------------------------------------------------------------------------
# scores


def retrieval_from_neighbours(
    own: np.ndarray, retrieved: np.ndarray, queries: np.ndarray, k: int
) -> tuple[float, float]:
    """Jaccard@k and MRR@k from neighbour lists computed once at a larger k.

    Args:
        own: (n_queries, k_max) neighbours of each query word's TARGET vector in the target
            space, best first (the word itself included, as in the paper).
        retrieved: (n_queries, k_max) neighbours its SOURCE vector retrieves in the target space.
        queries: (n_queries,) the query words' rows in the vocabulary.
        k: neighbourhood size, at most ``k_max``.

    Returns:
        ``(jaccard, mrr)``: the means over the queries.

    Example:
        >>> own = np.array([[0, 1, 2], [1, 0, 2]])
        >>> got = np.array([[0, 2, 1], [2, 1, 0]])
        >>> retrieval_from_neighbours(own, got, np.array([0, 1]), 2)
        (0.3333333333333333, 0.75)
    """
    k = check_int(k, "k", low=1, high=own.shape[1], hint="the neighbours computed")
    if own.shape != retrieved.shape or own.shape[0] != len(queries):
        raise fail("own/retrieved", "(n_queries, k_max) arrays", f"{own.shape}, {retrieved.shape}")
    a, b = own[:, :k], retrieved[:, :k]
    inter = (a[:, :, None] == b[:, None, :]).sum(axis=(1, 2)).astype(np.float64)
    jaccard = float(np.mean(inter / (2 * k - inter)))
    hits = b == np.asarray(queries)[:, None]
    mrr = float(np.mean((hits / np.arange(1, k + 1)[None, :]).sum(axis=1)))
    return jaccard, mrr


def _knn(queries: np.ndarray, index: np.ndarray, k: int) -> np.ndarray:
    from relreps.metrics.retrieval import knn

    return np.asarray(knn(queries, index, k, metric="cosine").indices)


def _cell_scores(
    source: np.ndarray,
    target: np.ndarray,
    own: np.ndarray,
    queries: np.ndarray,
    ks: Sequence[int],
) -> dict[str, float]:
    from relreps.metrics.retrieval import paired_cosine

    retrieved = _knn(source[queries], target, max(ks))
    scores = {}
    for k in ks:
        scores[f"jaccard@{k}"], scores[f"mrr@{k}"] = retrieval_from_neighbours(
            own, retrieved, queries, k
        )
    scores["cosine"] = paired_cosine(source, target)
    return scores


# ---------------------------------------------------------------------------------------------
# anchors


def anchor_indices(strategy: str, reference: np.ndarray, n_anchors: int, seed: int) -> np.ndarray:
    """Rows of the vocabulary (frequency order) used as anchors; chosen on the reference space."""
    from relreps.anchors import farthest_point, kmeans, random, top_ranked

    n = reference.shape[0]
    if strategy == "uniform":
        return random(n, n_anchors, seed=seed)
    if strategy == "fps":
        return farthest_point(reference, n_anchors, seed=seed, metric="cosine")
    if strategy == "kmeans":
        return kmeans(reference, n_anchors, seed=seed, metric="cosine")
    pool = int(strategy.split("-")[1])
    if pool > n:
        raise ValueError(
            f"Expected at least {pool} shared words for the {strategy} strategy, but the "
            f"vocabulary has {n}."
        )
    return top_ranked(np.arange(n), n_anchors, pool=pool, seed=seed)


# ---------------------------------------------------------------------------------------------
# evaluation engine (shared by the trained spaces and a user's files)


@dataclass
class Evaluation:
    """What one run evaluates, and where it caches and logs."""

    spaces: Mapping[str, Any]  # id -> WordVectors
    vocabularies: Mapping[str, tuple[str, ...]]
    comparisons: Sequence[Comparison]
    reference: str
    config: WordEmbeddingsConfig
    context: RunContext
    model_key: str
    cells: list[dict[str, Any]] = field(default_factory=list)


def _queries(n_words: int, config: WordEmbeddingsConfig) -> np.ndarray:
    if config.n_queries is None or config.n_queries >= n_words:
        return np.arange(n_words)
    rng = np.random.default_rng(config.seed)
    return np.sort(rng.choice(n_words, config.n_queries, replace=False))


def evaluate(ev: Evaluation) -> list[dict[str, Any]]:
    """Every cell's scores, from the cache where a previous (interrupted) run finished it."""
    cells: list[dict[str, Any]] = []
    for vocab_id, words in ev.vocabularies.items():
        comparisons = [c for c in ev.comparisons if c.vocabulary == vocab_id]
        if not comparisons:
            continue
        names = sorted({c.source for c in comparisons} | {c.target for c in comparisons})
        mats = {n: np.ascontiguousarray(ev.spaces[n].take(words), dtype=np.float32) for n in names}
        block = _Block(vocab_id, mats, _queries(len(words), ev.config))
        cells += _absolute_cells(ev, block, comparisons)
        settings: list[tuple[str, str]] = []
        for comp in comparisons:
            for strategy in comp.strategies:
                settings.append((strategy, "plain"))
                if strategy in comp.centred_strategies:
                    settings.append((strategy, "centred"))
        for strategy, centring in dict.fromkeys(settings):
            for draw in range(ev.config.n_seeds):
                cells += _relative_cells(ev, block, comparisons, strategy, centring, draw)
    return cells


@dataclass(frozen=True)
class _Block:
    """One vocabulary's matrices (space id -> (n_words, dim)) and query rows."""

    vocab_id: str
    mats: Mapping[str, np.ndarray]
    queries: np.ndarray

    def base(self) -> dict[str, Any]:
        n_words = next(iter(self.mats.values())).shape[0]
        return {"vocabulary": self.vocab_id, "n_words": n_words, "n_queries": len(self.queries)}


def _prefix(ev: Evaluation, block: _Block) -> str:
    return f"{NAME}/{ev.model_key}/{ev.config.evaluation_key()}/{block.vocab_id}"


def _absolute_cells(
    ev: Evaluation, block: _Block, comparisons: Sequence[Comparison]
) -> list[dict[str, Any]]:
    """Absolute coordinates: comparable only where the dimensions agree; no anchors involved."""
    cells = []
    own: dict[str, np.ndarray] = {}
    for comp in comparisons:
        src, tgt = block.mats[comp.source], block.mats[comp.target]
        if src.shape[1] != tgt.shape[1]:
            continue
        key = f"{_prefix(ev, block)}/{comp.key}/absolute"
        scores = ev.context.cache.get(key)
        if scores is None:
            if comp.target not in own:
                own[comp.target] = _knn(tgt[block.queries], tgt, max(ev.config.ks))
            scores = _cell_scores(src, tgt, own[comp.target], block.queries, ev.config.ks)
            ev.context.cache.put(key, scores)
        cells.append(
            {**block.base(), "pair": comp.key, "space": "absolute", "strategy": None,
             "seed": None, **scores}
        )  # fmt: skip
    return cells


def _relative_cells(
    ev: Evaluation,
    block: _Block,
    comparisons: Sequence[Comparison],
    strategy: str,
    centring: str,
    draw: int,
) -> list[dict[str, Any]]:
    """One anchor draw: every pair that uses it, computing each target's own neighbours once."""
    from relreps.projection import relative_projection

    config, cache = ev.config, ev.context.cache
    seed = config.seed + draw
    todo = [
        c
        for c in comparisons
        if strategy in c.strategies and (centring == "plain" or strategy in c.centred_strategies)
    ]
    keys = {c.key: f"{_prefix(ev, block)}/{c.key}/{strategy}/{centring}/seed={seed}" for c in todo}
    found: dict[str, Any] = {c.key: cache.get(keys[c.key]) for c in todo}
    missing = [c for c in todo if found[c.key] is None]
    if missing:
        start = time.perf_counter()
        anchor_key = f"{_prefix(ev, block)}/anchors/{strategy}/seed={seed}"
        chosen = cache.get(anchor_key)
        if chosen is None:
            reference = block.mats[ev.reference]
            chosen = anchor_indices(strategy, reference, config.n_anchors, seed).tolist()
            cache.put(anchor_key, chosen)
        anchors = np.asarray(chosen, dtype=np.int64)
        center = "anchors" if centring == "centred" else None
        involved = sorted({c.source for c in missing} | {c.target for c in missing})
        rel = {
            n: np.asarray(relative_projection(block.mats[n], block.mats[n][anchors], center=center))
            for n in involved
        }
        queries = block.queries
        own = {
            t: _knn(rel[t][queries], rel[t], max(config.ks)) for t in {c.target for c in missing}
        }
        for comp in missing:
            scores = _cell_scores(rel[comp.source], rel[comp.target], own[comp.target], queries,
                                  config.ks)  # fmt: skip
            cache.put(keys[comp.key], scores)
            found[comp.key] = scores
        ev.context.log(
            f"[{NAME}] {block.vocab_id}: {strategy}/{centring} draw {draw + 1}/{config.n_seeds}: "
            f"{len(missing)} pair(s) in {time.perf_counter() - start:.1f} s"
        )
    return [
        {**block.base(), "pair": c.key, "space": f"relative-{centring}", "strategy": strategy,
         "seed": seed, **found[c.key]}
        for c in todo
    ]  # fmt: skip


def neighbourhood_agreement(
    ev: Evaluation, comparisons: Sequence[Comparison]
) -> list[dict[str, Any]]:
    """How alike the two spaces' OWN neighbourhoods are, before any retrieval across them.

    For each query word, the Jaccard overlap of its k nearest words in space A and in space B
    (each searched in its own absolute space; dimensions may differ). When this is low, the
    spaces simply disagree about which words are close, and no map between them - relative or
    otherwise - can make retrieval across them agree much better.
    """
    cache, k_max = ev.context.cache, max(ev.config.ks)
    rows = []
    done: set[tuple[str, str, str]] = set()
    for vocab_id, words in ev.vocabularies.items():
        pairs = [c for c in comparisons if c.vocabulary == vocab_id]
        if not pairs:
            continue
        queries = _queries(len(words), ev.config)
        own: dict[str, np.ndarray] = {}
        for comp in pairs:
            a, b = sorted((comp.source, comp.target))
            if (vocab_id, a, b) in done:
                continue
            done.add((vocab_id, a, b))
            key = f"{NAME}/{ev.model_key}/{ev.config.evaluation_key()}/{vocab_id}/agree/{a}|{b}"
            scores = cache.get(key)
            if scores is None:
                for name in (a, b):
                    if name not in own:
                        x = np.ascontiguousarray(ev.spaces[name].take(words), dtype=np.float32)
                        own[name] = _knn(x[queries], x, k_max)
                scores = {
                    f"jaccard@{k}": retrieval_from_neighbours(own[a], own[b], queries, k)[0]
                    for k in ev.config.ks
                }
                cache.put(key, scores)
            rows.append({"vocabulary": vocab_id, "a": a, "b": b, "n_words": len(words), **scores})
    return rows


def summarise(cells: Iterable[Mapping[str, Any]]) -> dict[str, dict[str, Any]]:
    """(pair, space, strategy) -> mean and std of every score over the anchor draws."""
    groups: dict[str, list[Mapping[str, Any]]] = {}
    for cell in cells:
        key = f"{cell['pair']}|{cell['space']}|{cell['strategy'] or '-'}"
        groups.setdefault(key, []).append(cell)
    summary = {}
    for key, members in groups.items():
        metrics = [m for m in members[0] if m.startswith(("jaccard@", "mrr@", "cosine"))]
        entry: dict[str, Any] = {"n_draws": len(members), "n_words": members[0]["n_words"]}
        for metric in metrics:
            values = np.array([float(m[metric]) for m in members])
            entry[metric] = float(values.mean())
            entry[f"{metric}_std"] = float(values.std(ddof=1)) if len(values) > 1 else 0.0
        summary[key] = entry
    return summary
