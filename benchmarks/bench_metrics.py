"""Benchmark: retrieval scores (Jaccard@10 + MRR@10) and linear CKA against the usual ways.

Run: ``.venv/bin/python benchmarks/bench_metrics.py`` (add ``--quick`` for small sizes).

Each variant runs in its own subprocess, so its peak memory (``ru_maxrss``, input data included)
is its own. Figures printed:

- retrieval, d = 300, k = 10, n = 20,000 and 100,000: relreps ``retrieval_scores`` (blocked exact
  kNN) vs the paper's way, FAISS ``IndexFlatIP`` exact search on L2-normalised float32 vectors,
  and a floor: the bare blocked matrix products of the same search (no top-k selection).
  Checks that both give identical neighbour lists.
- linear CKA: n = 5,000, d = 256 vs the explicit ``H K H`` n x n centering formula; and
  n = 100,000, d = 768 vs a floor (the three bare feature-space matrix products).

Timings on a shared machine are noisy: rerun when comparing, and compare only numbers from one run.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

K = 10
D_RETRIEVAL = 300
THREADS = 0  # 0: library defaults; else BLAS/OpenMP/selection threads of every variant


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # Linux: KiB


def _rss_now_mb() -> float:
    """Current resident memory (Linux /proc), to tell the input data from the work's own peak."""
    try:
        pages = int(Path("/proc/self/statm").read_text().split()[1])
    except (OSError, ValueError, IndexError):
        return float("nan")
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


def _cpu_seconds() -> float:
    """CPU time of this process, all threads (less sensitive to other load than wall time)."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _paired_spaces(n: int, d: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """A structured target space (decaying spectrum) and a noisy, rotated source space."""
    rng = np.random.default_rng(seed)
    spectrum = (1.0 / np.sqrt(np.arange(1, d + 1))).astype(np.float32)
    target = np.empty((n, d), dtype=np.float32)
    source = np.empty((n, d), dtype=np.float32)
    for start in range(0, n, 10_000):  # float32 in chunks: generation stays small in memory
        stop = min(start + 10_000, n)
        block = rng.standard_normal((stop - start, d), dtype=np.float32) * spectrum
        target[start:stop] = block
        source[start:stop] = block + 0.3 * rng.standard_normal(block.shape, dtype=np.float32)
    return source, target


def _variant_retrieval(kind: str, n: int, out_dir: Path) -> dict[str, float]:
    source, target = _paired_spaces(n, D_RETRIEVAL, seed=0)
    if kind == "relreps":
        # The body of relreps.metrics.retrieval_scores, keeping the neighbour lists for the
        # identity check against FAISS.
        from relreps.metrics.retrieval import _jaccard, _mrr, _search, namespace

        xp = namespace(x=target)
        t0, c0 = time.perf_counter(), _cpu_seconds()
        own_nn, retrieved_nn = _search([target, source], target, K, "cosine", False, None, xp)
        own, retrieved = own_nn.indices, retrieved_nn.indices
        jaccard, mrr = _jaccard(own, retrieved, xp), _mrr(retrieved, xp)
        seconds = time.perf_counter() - t0
    elif kind == "faiss":
        import faiss

        t0, c0 = time.perf_counter(), _cpu_seconds()
        tn = target / np.linalg.norm(target, axis=1, keepdims=True)
        sn = source / np.linalg.norm(source, axis=1, keepdims=True)
        index = faiss.IndexFlatIP(D_RETRIEVAL)
        index.add(tn)
        _, own = index.search(tn, K)
        _, retrieved = index.search(sn, K)
        inter = np.array([len(set(a) & set(b)) for a, b in zip(own, retrieved, strict=True)])
        jaccard = float(np.mean(inter / (2 * K - inter)))
        hits = retrieved == np.arange(n)[:, None]
        mrr = float(np.mean((hits / np.arange(1, K + 1)).sum(axis=1)))
        seconds = time.perf_counter() - t0
    else:  # floor: the products alone, same blocks as relreps
        from relreps.metrics.knn_blocks import _BLOCK_BYTES

        block = max(16, min(1024, _BLOCK_BYTES // (4 * n)))
        tn = target / np.linalg.norm(target, axis=1, keepdims=True)
        sn = source / np.linalg.norm(source, axis=1, keepdims=True)
        t0, c0 = time.perf_counter(), _cpu_seconds()
        for queries in (tn, sn):
            for start in range(0, n, block):
                queries[start : start + block] @ tn.T
        seconds = time.perf_counter() - t0
        return {"seconds": seconds, "cpu": _cpu_seconds() - c0, "peak_mb": _peak_mb()}
    np.save(out_dir / f"{kind}_own.npy", own)
    np.save(out_dir / f"{kind}_retrieved.npy", retrieved)
    cpu = _cpu_seconds() - c0
    return {"seconds": seconds, "cpu": cpu, "peak_mb": _peak_mb(), "jaccard": jaccard, "mrr": mrr}


def _variant_cka(kind: str, n: int, d: int) -> dict[str, float]:
    rng = np.random.default_rng(1)
    mix = rng.standard_normal((d, d), dtype=np.float32) * 0.1
    a = np.empty((n, d), dtype=np.float32)
    b = np.empty((n, d), dtype=np.float32)
    for start in range(0, n, 10_000):  # in chunks: generation adds little to the peak
        stop = min(start + 10_000, n)
        a[start:stop] = rng.standard_normal((stop - start, d), dtype=np.float32)
        b[start:stop] = a[start:stop] @ mix + rng.standard_normal((stop - start, d), np.float32)
    data_mb = _rss_now_mb()
    if kind == "relreps":
        from relreps.metrics import cka

        cka(a[:500], b[:500])  # warm the BLAS thread pool
        t0, c0 = time.perf_counter(), _cpu_seconds()
        value = cka(a, b)
    elif kind == "explicit":
        # The follow-up library's way: n x n Gram matrices and the centering matrix H.
        a64, b64 = a.astype(np.float64), b.astype(np.float64)
        a64 @ a64[:10].T
        t0, c0 = time.perf_counter(), _cpu_seconds()
        h = np.eye(n) - 1.0 / n
        k_c = h @ (a64 @ a64.T) @ h
        l_c = h @ (b64 @ b64.T) @ h
        value = float(np.sum(k_c * l_c) / np.sqrt(np.sum(k_c * k_c) * np.sum(l_c * l_c)))
    else:  # floor: the three feature-space products on already-centered float32 data
        a -= a.mean(axis=0)
        b -= b.mean(axis=0)
        a[:500].T @ a[:500]
        t0, c0 = time.perf_counter(), _cpu_seconds()
        a.T @ a, b.T @ b, b.T @ a
        value = float("nan")
    seconds, cpu = time.perf_counter() - t0, _cpu_seconds() - c0
    return {
        "seconds": seconds,
        "cpu": cpu,
        "peak_mb": _peak_mb(),
        "value": value,
        "data_mb": data_mb,
    }


def _child(args: argparse.Namespace) -> None:
    if args.task == "retrieval":
        result = _variant_retrieval(args.kind, args.n, Path(args.out_dir))
    else:
        result = _variant_cka(args.kind, args.n, args.d)
    print(json.dumps(result))


def _run(*argv: str) -> dict[str, float]:
    env = dict(os.environ)
    if THREADS:
        for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
            env[name] = str(THREADS)
    src = str(Path(__file__).resolve().parents[1] / "src")
    env["PYTHONPATH"] = src + os.pathsep + env.get("PYTHONPATH", "")
    done = subprocess.run(
        [sys.executable, __file__, "--child", *argv],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"variant {argv} failed:\n{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def _check_same_neighbours(tmp: str, n: int) -> None:
    """Rows where the lists differ must be float rounding: compare their exact float64 scores."""
    source, target = _paired_spaces(n, D_RETRIEVAL, seed=0)
    unit = lambda v: v.astype(np.float64) / np.linalg.norm(v.astype(np.float64))  # noqa: E731
    for part, queries in (("own", target), ("retrieved", source)):
        ours = np.load(f"{tmp}/relreps_{part}.npy")
        theirs = np.load(f"{tmp}/faiss_{part}.npy")
        differ = np.flatnonzero(np.any(ours != theirs, axis=1))
        gap = 0.0
        for i in differ:
            q = unit(queries[i])
            s_ours = np.sort([unit(target[j]) @ q for j in ours[i]])
            s_theirs = np.sort([unit(target[j]) @ q for j in theirs[i]])
            gap = max(gap, float(np.max(np.abs(s_ours - s_theirs))))
        print(
            f"  {part:<9} neighbour lists identical to FAISS in {1 - differ.size / n:.5f} of rows; "
            f"{differ.size} rows differ, max float64 score gap there {gap:.1e}"
        )


def _row(name: str, r: dict[str, float], extra: str = "") -> None:
    print(
        f"  {name:<28} {r['seconds']:8.2f} s wall {r['cpu']:8.2f} s CPU   "
        f"peak RSS {r['peak_mb']:6.0f} MB   {extra}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="small sizes (smoke run)")
    parser.add_argument("--sizes", type=int, nargs="*", default=None, help="retrieval n values")
    parser.add_argument("--skip-faiss", action="store_true")
    parser.add_argument("--skip-retrieval", action="store_true", help="only the CKA figures")
    parser.add_argument(
        "--threads", type=int, default=0, help="threads for every variant (0 = defaults); 1 is "
        "steadier on a loaded machine, where multi-threaded BLAS can slow down 10x or more"
    )  # fmt: skip
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--task", default="retrieval", help=argparse.SUPPRESS)
    parser.add_argument("--kind", default="relreps", help=argparse.SUPPRESS)
    parser.add_argument("--n", type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument("--d", type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument("--out-dir", default="", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        _child(args)
        return

    global THREADS
    THREADS = args.threads
    sizes = args.sizes or ([4_000] if args.quick else [20_000, 100_000])
    if args.skip_retrieval:
        sizes = []
    threads = args.threads or "library default"
    print(f"CPU cores visible: {os.cpu_count()}, threads: {threads} (shared machine: noisy)")
    print(f"Jaccard@{K} + MRR@{K}, d = {D_RETRIEVAL}, float32")
    for n in sizes:
        with tempfile.TemporaryDirectory() as tmp:
            print(f" n = {n:,}")
            common = ("--task", "retrieval", "--n", str(n), "--out-dir", tmp)
            ours = _run(*common, "--kind", "relreps")
            _row("relreps retrieval_scores", ours, f"J={ours['jaccard']:.4f} MRR={ours['mrr']:.4f}")
            floor = _run(*common, "--kind", "floor")
            _row("floor: bare blocked GEMMs", floor)
            if not args.skip_faiss:
                ref = _run(*common, "--kind", "faiss")
                scores = f"J={ref['jaccard']:.4f} MRR={ref['mrr']:.4f}"
                _row("FAISS IndexFlatIP (paper)", ref, scores)
                _check_same_neighbours(tmp, n)
                print(f"  time ratio relreps/FAISS = {ours['seconds'] / ref['seconds']:.2f} wall, "
                      f"{ours['cpu'] / ref['cpu']:.2f} CPU")  # fmt: skip

    print("Linear CKA, float32 input")
    n_small = 1_000 if args.quick else 5_000
    ours = _run("--task", "cka", "--kind", "relreps", "--n", str(n_small), "--d", "256")
    explicit = _run("--task", "cka", "--kind", "explicit", "--n", str(n_small), "--d", "256")
    print(f" n = {n_small:,}, d = 256")
    _row("relreps cka (feature space)", ours, f"CKA={ours['value']:.6f}")
    _row("explicit n x n H K H", explicit, f"CKA={explicit['value']:.6f}")
    print(f"  speed-up {explicit['seconds'] / ours['seconds']:.0f}x")
    n_big = 10_000 if args.quick else 100_000
    ours = _run("--task", "cka", "--kind", "relreps", "--n", str(n_big), "--d", "768")
    floor = _run("--task", "cka", "--kind", "floor", "--n", str(n_big), "--d", "768")
    print(f" n = {n_big:,}, d = 768 (target < 3 s)")
    _row("relreps cka (feature space)", ours, f"CKA={ours['value']:.6f}")
    _row("floor: 3 bare products", floor)
    print(f"  (input data alone: {ours['data_mb']:.0f} MB resident before the call)")


if __name__ == "__main__":
    main()
