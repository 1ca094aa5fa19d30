"""Use case: change your embedding model without re-embedding your corpus (issue 16).

An index of 100,000 WordNet glosses (benchmarks/_glosses.py) was embedded with the OLD encoder
(default MiniLM-L3 ONNX). Queries now come from the NEW encoder (default MiniLM-L6). Each query
is a synset's lemmas (``"dog, domestic dog, Canis familiaris"``) and its answer is that synset's
gloss: the ground truth is known by construction. recall@10 = share of queries whose gloss is
among the 10 nearest index rows (cosine, exact search over all 100,000 rows).

Cases:

  old model     queries embedded with the OLD encoder (what you had before the change)
  raw           NEW queries searched in the OLD index as they are (the widths match)
  procrustes-25 NEW queries translated by Procrustes fitted on 25 glosses embedded by both
  bootstrap-25  relreps.align.bootstrap_alignment: 25 seed pairs grown over a pool of
                ``--pool`` index glosses re-embedded with the NEW encoder (their other pairs are
                not given), then the queries translated
  unpaired      relreps.align.align_unpaired between the same pool and the index (no pairs)
  procrustes-pool  Procrustes on every pair of the pool (you embedded it, so you know them)
  re-embed      the whole corpus re-embedded with the NEW encoder (the reference)

Times, measured in this run on this machine: encoding the queries, encoding what each case needs
with the NEW encoder (25 glosses, the pool), fitting the alignment, the search. Re-embedding
the corpus is timed on the pool (a seeded random sample of the corpus) and scaled to the corpus
size; the vectors of the re-embedded corpus come from relreps' embedding cache (filled once by
this script or benchmarks/bench_align.py). agree@10: mean overlap of a case's top 10 with the
re-embedded corpus's top 10.

Usage: python benchmarks/bench_use_case.py [--n 100000] [--queries 1000] [--pool 5000]
                                           [--old minilm-l3-onnx] [--new minilm-l6]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
N_SEEDS = 25


def _top10(queries: np.ndarray, index: np.ndarray) -> tuple[np.ndarray, float]:
    from relreps.metrics import knn

    start = time.perf_counter()
    found = np.asarray(knn(queries, index, 10).indices)
    return found, time.perf_counter() - start


def _encode(encoder, texts: list[str]) -> tuple[np.ndarray, float]:
    start = time.perf_counter()
    out = np.asarray(encoder.encode(texts, batch_size=64), dtype=np.float32)
    return out, time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100_000, help="glosses in the corpus")
    parser.add_argument("--queries", type=int, default=1000)
    parser.add_argument("--pool", type=int, default=5000, help="glosses re-embedded for fitting")
    parser.add_argument("--old", default="minilm-l3-onnx", help="encoder of the index")
    parser.add_argument("--new", default="minilm-l6", help="encoder of the queries")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", help="also write the rows to this file")
    args = parser.parse_args()
    sys.path.insert(0, HERE)
    from _glosses import embed, wordnet_corpus
    from relreps import align
    from relreps.encoders import load_encoder
    from relreps.translate import Procrustes

    corpus = wordnet_corpus(args.n, seed=0)
    split = f"bench-{args.n}-s0"
    print(f"corpus: {len(corpus)} glosses; index {args.old}, queries {args.new}")
    index = embed(args.old, corpus, split=split)
    reembedded = embed(args.new, corpus, split=split)
    rng = np.random.default_rng(args.seed)
    order = rng.permutation(args.n)
    targets = np.sort(order[: args.queries])  # the queries' glosses
    pool = np.sort(order[args.queries : args.queries + args.pool])  # never a query's gloss
    seeds = pool[rng.choice(pool.size, size=N_SEEDS, replace=False)]
    old, new = load_encoder(args.old, offline=True), load_encoder(args.new, offline=True)
    lemmas = [corpus.lemmas[i] for i in targets]
    new.encode(lemmas[:64], batch_size=64)  # warm-up (first-call allocations)
    old.encode(lemmas[:64], batch_size=64)
    with open("/proc/loadavg") as f:
        load_before = " ".join(f.read().split()[:3])
    q_new, t_q_new = _encode(new, lemmas)
    q_old, t_q_old = _encode(old, lemmas)
    seed_vecs, t_seeds = _encode(new, [corpus.texts[i] for i in seeds])
    pool_vecs, t_pool = _encode(new, [corpus.texts[i] for i in pool])
    t_reembed = t_pool * args.n / args.pool
    reference, t_search = _top10(q_new, reembedded)

    rows = []

    def record(case: str, found: np.ndarray | None, encode_s: float, fit_s: float, note: str):
        if found is None:
            recall = agree = float("nan")
        else:
            recall = float(np.mean(np.any(found == targets[:, None], axis=1)))
            overlap = [np.intersect1d(a, b).size for a, b in zip(found, reference, strict=True)]
            agree = float(np.mean(overlap)) / 10
        rows.append({"case": case, "recall10": recall, "agree10": agree, "encode_s": encode_s,
                     "fit_s": fit_s, "note": note})  # fmt: skip
        print(f"  {case}: recall@10 {recall:.3f} ({note})", flush=True)

    found, _ = _top10(q_old, index)
    record("old model", found, t_q_old, 0.0, f"queries by {args.old}")
    if q_new.shape[1] == index.shape[1]:
        found, _ = _top10(q_new, index)
        record("raw", found, t_q_new, 0.0, "no map")
    else:
        record("raw", None, t_q_new, 0.0, f"widths differ ({q_new.shape[1]} vs {index.shape[1]})")
    start = time.perf_counter()
    fitted = Procrustes(standardize="global").fit(seed_vecs, index[seeds])
    fit_s = time.perf_counter() - start
    found, _ = _top10(np.asarray(fitted.transform(q_new)), index)
    record("procrustes-25", found, t_q_new + t_seeds, fit_s, f"{N_SEEDS} glosses re-embedded")
    where = {int(g): r for r, g in enumerate(pool)}
    seed_pairs = np.array([[where[int(g)], int(g)] for g in seeds])
    for case, run in (
        ("bootstrap-25", lambda: align.bootstrap_alignment(pool_vecs, index, seed_pairs)),
        ("unpaired", lambda: align.align_unpaired(pool_vecs, index)),
    ):
        start = time.perf_counter()
        result = run()
        fit_s = time.perf_counter() - start
        ok = result.ok
        correct = float(np.mean(pool[result.pairs[:, 0]] == result.pairs[:, 1]))
        note = (
            f"pool {args.pool}; {result.summary()}; {correct:.0%} of its pairs right"
            if ok
            else f"pool {args.pool}; failed: no map ({result.summary()})"
        )
        found = _top10(np.asarray(result.transform(q_new)), index)[0] if ok else None
        record(case, found, t_q_new + t_pool, fit_s, note)
    start = time.perf_counter()
    fitted = Procrustes(standardize="global").fit(pool_vecs, index[pool])
    fit_s = time.perf_counter() - start
    found, _ = _top10(np.asarray(fitted.transform(q_new)), index)
    record("procrustes-pool", found, t_q_new + t_pool, fit_s, f"{args.pool} pairs")
    rate = f"{args.pool / t_pool:.0f} items/s"
    record("re-embed", reference, t_q_new + t_reembed, 0.0,
           f"{args.n} glosses, time scaled from the pool's {rate}")  # fmt: skip
    with open("/proc/loadavg") as f:
        load_after = " ".join(f.read().split()[:3])
    print(
        f"\n{len(targets)} queries (lemmas) -> their gloss among {args.n}; search of all queries "
        f"{t_search:.1f} s per case (not included below); load {load_before} -> {load_after}"
    )
    print(f"{'case':<16} {'recall@10':>9} {'agree@10':>8} {'encode s':>9} {'fit s':>7}  note")
    for r in rows:
        print(
            f"{r['case']:<16} {r['recall10']:>9.3f} {r['agree10']:>8.3f} {r['encode_s']:>9.1f} "
            f"{r['fit_s']:>7.1f}  {r['note']}"
        )
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"rows": rows, "load": [load_before, load_after]}, f, indent=1)


if __name__ == "__main__":
    main()
