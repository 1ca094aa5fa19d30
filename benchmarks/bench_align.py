"""Benchmark: align 100,000 x 384 against 100,000 x 384 from 25 seed pairs and from none.

Spaces (real rows; row i of X and row i of Y are the same item, Y's rows are shuffled):

  encoders  100,000 distinct WordNet glosses (all four parts of speech, benchmarks/_glosses.py)
            embedded by MiniLM-L6 (X) and by MiniLM-L3 ONNX (Y), read from relreps' embedding
            cache (the first run fills it: ~15 min on 2 cores)
  rotated   X again, and Y = 2.5 X Q + 0.7 + noise * std(X) * N(0, 1) for a seeded random
            orthogonal Q (the tests' copy of a real space; unpaired alignment of two different
            sentence encoders is known to fail, docs/alignment.md, this pair shows its cost when
            it succeeds)

Variants, each in its own subprocess (clean memory figures), each on its own pair:

  floor         relreps.translate.Procrustes(standardize="global") fitted on every pair of the
                fitting pool (all items but the held-out ones): the work when all pairs are known
  bootstrap-25  relreps.align.bootstrap_alignment from 25 seed pairs of the fitting pool
  unpaired      relreps.align.align_unpaired (no pairs)

Reported per variant: wall seconds of the call; peak resident memory of the whole process
(VmHWM: data, libraries and work) and the peak growth of anonymous memory during the call
(benchmarks/_memory.py); the status; held-out top-1: ``--n-held`` held-out X rows (never seeds,
never fitted on by the floor) translated and searched among ALL Y rows (exact blocked cosine
kNN, outside the timing). No step builds an n x n matrix: the alignments match samples
(relreps.align.RefineSettings: 5,000 X rows against 20,000 Y rows per round).

Targets (issue 16): each alignment < 120 s and < 2 GB on 2 cores.

Usage:
  python benchmarks/bench_align.py                         # the full run (fills the cache once)
  python benchmarks/bench_align.py --n 10000 --pairs rotated --x-encoder minilm-l6-tokens
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
VARIANTS = ("floor", "bootstrap-25", "unpaired")
N_SEEDS = 25


def _prepare(args: argparse.Namespace, folder: str) -> list[str]:
    """Write x.npy, y.npy (shuffled rows), truth.npy (row of Y of each X row) and held.npy for
    each pair; return the pair names."""
    sys.path.insert(0, HERE)
    from _glosses import embed, wordnet_corpus

    corpus = wordnet_corpus(args.n, seed=0)
    split = f"bench-{args.n}-s0"
    x = embed(args.x_encoder, corpus, split=split)
    rng = np.random.default_rng(args.seed)
    held = np.sort(rng.choice(args.n, size=args.n_held, replace=False))
    pairs = []
    for pair in args.pairs.split(","):
        if pair == "encoders":
            y = embed(args.y_encoder, corpus, split=split)
        elif pair == "rotated":
            q, _ = np.linalg.qr(rng.normal(size=(x.shape[1], x.shape[1])))
            y = 2.5 * x @ q.astype(np.float32) + 0.7
            y += (args.noise * x.std()) * rng.standard_normal(x.shape, dtype=np.float32)
        else:
            sys.exit(f"unknown pair {pair!r}: expected encoders or rotated")
        perm = rng.permutation(args.n)  # row r of the shuffled Y is item perm[r]
        where = np.argsort(perm)
        os.makedirs(os.path.join(folder, pair))
        np.save(os.path.join(folder, pair, "x.npy"), x)
        np.save(os.path.join(folder, pair, "y.npy"), np.ascontiguousarray(y[perm], np.float32))
        np.save(os.path.join(folder, pair, "truth.npy"), where)
        np.save(os.path.join(folder, pair, "held.npy"), held)
        pairs.append(pair)
    return pairs


def _child(variant: str, folder: str, seed: int) -> dict:
    sys.path.insert(0, HERE)
    from _memory import peak_growth, rss_anon_bytes
    from relreps import align
    from relreps.metrics import knn
    from relreps.translate import Procrustes

    x = np.load(os.path.join(folder, "x.npy"))
    y = np.load(os.path.join(folder, "y.npy"))
    where = np.load(os.path.join(folder, "truth.npy"))
    held = np.load(os.path.join(folder, "held.npy"))
    pool = np.setdiff1d(np.arange(x.shape[0]), held)
    seeds = np.random.default_rng(seed).choice(pool, size=N_SEEDS, replace=False)
    settings = align.RefineSettings()
    if variant == "floor":

        def work():
            return Procrustes(standardize="global").fit(x[pool], y[where[pool]])

    elif variant == "bootstrap-25":
        pairs = np.stack([seeds, where[seeds]], axis=1)

        def work():
            return align.bootstrap_alignment(x, y, pairs, settings=settings, seed=seed)

    elif variant == "unpaired":

        def work():
            return align.align_unpaired(x, y, settings=settings, seed=seed)

    else:
        raise ValueError(variant)
    before = rss_anon_bytes()
    result, seconds, growth = peak_growth(work, interval=0.01)
    hwm = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    status, detail = "ok", ""
    translate = result.transform
    if variant != "floor":
        status, detail = result.status, f"{result.method}, score {result.consistency.score:.3f}"
        detail += f", {result.pairs.shape[0]} pairs, {len(result.rounds)} rounds"
    top1 = float("nan")
    if status == "ok":
        found = np.asarray(knn(np.asarray(translate(x[held])), y, 1).indices)[:, 0]
        top1 = float(np.mean(found == where[held]))
    return {
        "variant": variant,
        "seconds": seconds,
        "peak_mb": hwm / 2**20,
        "growth_mb": growth / 2**20,
        "data_mb": (x.nbytes + y.nbytes) / 2**20,
        "before_mb": before / 2**20,
        "status": status,
        "detail": detail,
        "top1": top1,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100_000, help="rows per space")
    parser.add_argument("--pairs", default="encoders,rotated", help="encoders and/or rotated")
    parser.add_argument("--x-encoder", default="minilm-l6")
    parser.add_argument("--y-encoder", default="minilm-l3-onnx")
    parser.add_argument("--noise", type=float, default=0.1, help="noise of the rotated copy")
    parser.add_argument("--n-held", type=int, default=2000, help="held-out items scored")
    parser.add_argument("--variants", default=",".join(VARIANTS))
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", help="also write the rows to this file")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--folder", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(_child(args.child, args.folder, args.seed)))
        return
    folder = tempfile.mkdtemp(dir=os.environ.get("RELREPS_BENCH_TMP"))
    try:
        print(f"preparing {args.n} x d spaces ({args.x_encoder} vs {args.y_encoder}) ...")
        pairs = _prepare(args, folder)
        with open("/proc/loadavg") as f:
            load = f.read().split()[:3]
        print(f"load average before the runs: {' '.join(load)}; {os.cpu_count()} CPUs")
        rows = []
        for pair in pairs:
            for variant in args.variants.split(","):
                cmd = [sys.executable, __file__, "--child", variant, "--seed", str(args.seed)]
                cmd += ["--folder", os.path.join(folder, pair)]
                done = subprocess.run(cmd, capture_output=True, text=True)
                if done.returncode:
                    sys.exit(f"{pair}/{variant} failed:\n{done.stderr}")
                row = {"pair": pair, **json.loads(done.stdout.strip().splitlines()[-1])}
                rows.append(row)
                print(f"  {pair}/{variant}: {row['seconds']:.1f} s, {row['status']}", flush=True)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    print(
        f"\n{'pair':<9} {'variant':<13} {'wall s':>7} {'x floor':>8} {'peak MB':>8} "
        f"{'+MB':>6} {'top-1':>6}  status"
    )
    for row in rows:
        floor = [r["seconds"] for r in rows if r["pair"] == row["pair"] and r["variant"] == "floor"]
        ratio = f"{row['seconds'] / floor[0]:>8.1f}" if floor else f"{'-':>8}"
        print(
            f"{row['pair']:<9} {row['variant']:<13} {row['seconds']:>7.1f} {ratio} "
            f"{row['peak_mb']:>8.0f} {row['growth_mb']:>6.0f} {row['top1']:>6.3f}  "
            f"{row['status']} {row['detail']}"
        )
    with open("/proc/loadavg") as f:
        print(f"load average after: {' '.join(f.read().split()[:3])}")
    print(
        f"top-1: {args.n_held} held-out X rows retrieving their own row among all {args.n} Y rows."
        " peak MB: the process's VmHWM (data, libraries, work); +MB: anonymous-memory growth "
        "during the call. Targets: < 120 s and < 2048 MB per alignment."
    )
    if args.json:
        with open(args.json, "w") as f:
            json.dump(rows, f, indent=1)


if __name__ == "__main__":
    main()
