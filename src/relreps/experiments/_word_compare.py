"""The comparisons of the word-embeddings experiment: retrieval scores across two spaces.

For every ordered pair of spaces on a shared vocabulary: Jaccard@k, MRR@k and the mean cosine in
absolute coordinates (where the dimensions agree) and in relative coordinates (plain and
anchor-centred, for each anchor strategy and draw), plus how alike the spaces' own neighbourhoods
are. Every cell is cached in the run folder, so an interrupted run resumes where it stopped.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from relreps.experiments.base import RunContext
from relreps.experiments.word_embeddings import NAME, Comparison, WordEmbeddingsConfig
from relreps.metrics.neighbour_lists import neighbourhood_agreement, pairwise_retrieval
from relreps.report.draws import summarise_draws

# The paper's strategy names -> relreps.anchors.strategies.select's (kmeans, top-N: the same).
SELECT = {"uniform": "random", "fps": "farthest_point"}


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

    def prefix(self, vocab_id: str) -> str:
        """The cell-cache key prefix of one vocabulary."""
        return f"{NAME}/{self.model_key}/{self.config.evaluation_key()}/{vocab_id}"

    def queries(self, n_words: int) -> np.ndarray:
        """The query rows: every word, or a fixed random sample of ``n_queries``."""
        n_queries = self.config.n_queries
        if n_queries is None or n_queries >= n_words:
            return np.arange(n_words)
        rng = np.random.default_rng(self.config.seed)
        return np.sort(rng.choice(n_words, n_queries, replace=False))


def _runs(
    ev: Evaluation, comparisons: Sequence[Comparison], widths: Mapping[str, int]
) -> list[tuple[str, str | None, int | None, list[Comparison]]]:
    """(coordinates, strategy, seed, pairs), in cell order: absolute (pairs of equal width), then
    each (strategy, centring) and anchor draw with the pairs that run it."""
    runs: list[tuple[str, str | None, int | None, list[Comparison]]] = [
        ("absolute", None, None, [c for c in comparisons if widths[c.source] == widths[c.target]])
    ]
    for strategy, centring in dict.fromkeys(s for comp in comparisons for s in comp.settings):
        todo = [c for c in comparisons if (strategy, centring) in c.settings]
        for draw in range(ev.config.n_seeds):
            runs.append((f"relative-{centring}", strategy, ev.config.seed + draw, todo))
    return runs


def evaluate(ev: Evaluation) -> list[dict[str, Any]]:
    """Every cell's scores, from the cache where a previous (interrupted) run finished it."""
    cells: list[dict[str, Any]] = []
    for vocab_id, words in ev.vocabularies.items():
        comparisons = [c for c in ev.comparisons if c.vocabulary == vocab_id]
        names = sorted({c.source for c in comparisons} | {c.target for c in comparisons})
        mats = {n: np.ascontiguousarray(ev.spaces[n].take(words), dtype=np.float32) for n in names}
        queries, prefix = ev.queries(len(words)), ev.prefix(vocab_id)
        base = {"vocabulary": vocab_id, "n_words": len(words), "n_queries": len(queries)}
        widths = {n: m.shape[1] for n, m in mats.items()}
        for coordinates, strategy, seed, todo in _runs(ev, comparisons, widths):
            where = "absolute" if strategy is None else f"{strategy}/{coordinates[9:]}/seed={seed}"
            keys = {c.key: f"{prefix}/{c.key}/{where}" for c in todo}
            found: dict[str, Any] = {c.key: ev.context.cache.get(keys[c.key]) for c in todo}
            missing = [c for c in todo if found[c.key] is None]
            if missing:
                start = time.perf_counter()
                got = pairwise_retrieval(
                    mats,
                    [(c.source, c.target) for c in missing],
                    ev.config.ks,
                    anchors=_anchors(ev, mats, prefix, strategy, seed),
                    center="anchors" if coordinates == "relative-centred" else None,
                    queries=queries,
                )
                for comp in missing:
                    found[comp.key] = got[comp.source, comp.target]
                    ev.context.cache.put(keys[comp.key], found[comp.key])
                seconds = time.perf_counter() - start
                ev.context.log(
                    f"[{NAME}] {vocab_id} {where}: {len(missing)} pair(s), {seconds:.1f} s"
                )
            cells += [
                {**base, "pair": c.key, "space": coordinates, "strategy": strategy, "seed": seed}
                | found[c.key]
                for c in todo
            ]
    return cells


def _anchors(
    ev: Evaluation, mats: Mapping[str, np.ndarray], prefix: str, strategy: str | None, seed: Any
) -> np.ndarray | None:
    """One draw's anchor rows, chosen on the reference space (rows in frequency order, cosine) and
    cached with the cells (None: absolute coordinates)."""
    from relreps.anchors.strategies import select

    if strategy is None:
        return None
    chosen = ev.context.cache.get_or_compute(
        f"{prefix}/anchors/{strategy}/seed={seed}",
        lambda: select(
            SELECT.get(strategy, strategy), mats[ev.reference], ev.config.n_anchors, seed=seed
        ).tolist(),
    )
    return np.asarray(chosen, dtype=np.int64)


def agreement(ev: Evaluation) -> list[dict[str, Any]]:
    """How alike the two spaces' OWN neighbourhoods are, per unordered pair and vocabulary
    (:func:`relreps.metrics.neighbour_lists.neighbourhood_agreement`, absolute spaces)."""
    rows: list[dict[str, Any]] = []
    for comp in [c for v in ev.vocabularies for c in ev.comparisons if c.vocabulary == v]:
        vocab_id, words = comp.vocabulary, ev.vocabularies[comp.vocabulary]
        a, b = sorted((comp.source, comp.target))
        if any((r["vocabulary"], r["a"], r["b"]) == (vocab_id, a, b) for r in rows):
            continue
        key = f"{ev.prefix(vocab_id)}/agree/{a}|{b}"
        scores = ev.context.cache.get(key)
        if scores is None:
            x, y = (
                np.ascontiguousarray(ev.spaces[n].take(words), dtype=np.float32) for n in (a, b)
            )
            scores = neighbourhood_agreement(x, y, ev.config.ks, queries=ev.queries(len(words)))
            ev.context.cache.put(key, scores)
        rows.append({"vocabulary": vocab_id, "a": a, "b": b, "n_words": len(words), **scores})
    return rows


def summarise(cells: Iterable[Mapping[str, Any]]) -> dict[str, dict[str, Any]]:
    """(pair, space, strategy) -> mean and std (ddof 1) of every score over the anchor draws."""
    return summarise_draws(
        cells,
        lambda cell: f"{cell['pair']}|{cell['space']}|{cell['strategy'] or '-'}",
        ("jaccard@", "mrr@", "cosine"),
        keep=("n_words",),
    )
