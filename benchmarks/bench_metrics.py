"""Benchmark: retrieval scores (Jaccard@10 + MRR@10) and linear CKA against the usual ways.

Run: ``.venv/bin/python benchmarks/bench_metrics.py`` (add ``--quick`` for small sizes).

Figures printed:

- retrieval, d = 300, k = 10, float32, n = 20,000 / 50,000 / 100,000, all variants in ONE
  process, side by side (best of ``--repeats``): relreps ``retrieval_scores`` (its body: the
  blocked exact kNN of the target rows within the target space and of the source rows in the
  target space, then the two scores) vs the paper's way, FAISS ``IndexFlatIP`` exact search
  (two searches on L2-normalised float32 rows), and a floor: the bare blocked matrix products
  of those two searches (2 n^2 d flops, 2048 x 2048 blocks into one reused buffer, numpy's
  BLAS; no selection). relreps computes 3/4 of those products (its self-search computes only
  the blocks on and above the diagonal), so it can beat the floor. Per variant: wall time,
  peak growth of anonymous memory during the call (inputs excluded; the input size is
  printed), and whether the neighbour SETS match FAISS (rows that differ are re-scored in
  float64: a rounding near-tie, not a miss). Every variant uses all the machine's cores (or
  ``--threads``): relreps as worker threads over blocks, each with a one-thread BLAS; FAISS
  with its OpenMP threads; the floor with numpy's BLAS threads. The load is printed.
- ``--blocks 1024 2048 4096``: relreps at each block side (the constant in knn_blocks).
- linear CKA: n = 5,000, d = 256 vs the explicit ``H K H`` n x n centering formula; and
  n = 100,000, d = 768 vs a floor (the three bare feature-space matrix products); each variant
  in its own subprocess, so its peak memory (``ru_maxrss``, input data included) is its own.

Timings on a shared machine are noisy: rerun when comparing, and compare only numbers from one run.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import resource
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from _memory import peak_growth

K = 10
D_RETRIEVAL = 300
FLOOR_BLOCK = 2048
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


def _load() -> str:
    try:
        return "load " + " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "load n/a"


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


# ----------------------------------------------------------------------------- retrieval


def _relreps(source: np.ndarray, target: np.ndarray, block: int | None) -> dict[str, Any]:
    """The body of relreps.metrics.retrieval_scores, keeping the neighbour lists."""
    from relreps.metrics.retrieval import _jaccard, _mrr, namespace, search

    xp = namespace(x=target)
    own, retrieved = search([target, source], target, K, "cosine", False, block, xp)
    own_ids, retrieved_ids = own.indices, retrieved.indices
    return {
        "own": own_ids,
        "retrieved": retrieved_ids,
        "jaccard": _jaccard(own_ids, retrieved_ids, xp),
        "mrr": _mrr(retrieved_ids, xp),
    }


def _faiss(source: np.ndarray, target: np.ndarray) -> dict[str, Any]:
    """The paper's way: FAISS IndexFlatIP on L2-normalised rows, two exact searches."""
    import faiss

    from relreps.metrics.retrieval import _jaccard, _mrr

    tn = target / np.linalg.norm(target, axis=1, keepdims=True)
    sn = source / np.linalg.norm(source, axis=1, keepdims=True)
    index = faiss.IndexFlatIP(D_RETRIEVAL)
    index.add(tn)
    _, own = index.search(tn, K)
    _, retrieved = index.search(sn, K)
    own, retrieved = own.astype(np.int64), retrieved.astype(np.int64)
    return {
        "own": own,
        "retrieved": retrieved,
        "jaccard": _jaccard(own, retrieved, np),
        "mrr": _mrr(retrieved, np),
    }


def _floor(source: np.ndarray, target: np.ndarray) -> dict[str, Any]:
    """The bare products of the two searches, in blocks, into one reused buffer."""
    n, b = len(target), FLOOR_BLOCK
    tn = target / np.linalg.norm(target, axis=1, keepdims=True)
    sn = source / np.linalg.norm(source, axis=1, keepdims=True)
    buf = np.empty(b * b, dtype=np.float32)
    for queries in (tn, sn):
        for i in range(0, n, b):
            rows = queries[i : i + b]
            for j in range(0, n, b):
                cols = tn[j : j + b]
                np.matmul(rows, cols.T, out=buf[: len(rows) * len(cols)].reshape(len(rows), -1))
    return {}


def _sets_match(ours: np.ndarray, theirs: np.ndarray, q: np.ndarray, x: np.ndarray) -> str:
    """Rows whose neighbour SETS differ, and the largest float64 score gap there."""
    differ = np.flatnonzero(np.any(np.sort(ours, axis=1) != np.sort(theirs, axis=1), axis=1))
    gap = 0.0
    for i in differ:
        qi = q[i].astype(np.float64)
        qi /= np.linalg.norm(qi)

        def scores(ids: np.ndarray, qi: np.ndarray = qi) -> np.ndarray:
            rows = x[ids].astype(np.float64)
            return np.sort(rows @ qi / np.linalg.norm(rows, axis=1))

        gap = max(gap, float(np.max(np.abs(scores(ours[i]) - scores(theirs[i])))))
    if differ.size == 0:
        return "identical neighbour sets in every row"
    verdict = "rounding near-ties only" if gap < 1e-5 else "MISMATCH"
    return f"{differ.size} of {len(ours)} rows differ, max float64 score gap {gap:.1e}: {verdict}"


def _threads_note() -> str:
    from threadpoolctl import threadpool_info

    from relreps.metrics.knn_blocks import _threads

    blas = sorted({f"{i['prefix']} {i['num_threads']}" for i in threadpool_info()})
    try:
        import faiss

        omp = f"FAISS OpenMP {faiss.omp_get_max_threads()}"
    except ImportError:
        omp = "FAISS not installed"
    return f"relreps workers {_threads(2**40)}; {omp}; BLAS threads: {', '.join(blas)}"


def _return_freed_memory() -> None:
    """glibc: serve every allocation over 1 MiB by mmap and unmap it on free (a fixed threshold
    also stops glibc from raising it), so a variant's peak growth is its own and not hidden by
    pages an earlier variant left in the heap."""
    try:
        import ctypes

        libc = ctypes.CDLL("libc.so.6")
    except OSError:  # not glibc: peaks may be understated after the first variant
        return
    m_trim_threshold, m_mmap_threshold = -1, -3
    libc.mallopt(m_mmap_threshold, 2**20)
    libc.mallopt(m_trim_threshold, 2**20)


def _timed(fn: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    gc.collect()
    result, seconds, growth = peak_growth(fn)
    return {**result, "seconds": seconds, "growth_mb": growth / 2**20}


def _knn(source: np.ndarray, target: np.ndarray, backend: str) -> dict[str, Any]:
    from relreps.metrics import knn

    return {"retrieved": knn(source, target, K, backend=backend).indices}  # type: ignore[arg-type]


def _retrieval(
    n: int, repeats: int, with_faiss: bool, blocks: list[int] | None, single: bool
) -> None:
    source, target = _paired_spaces(n, D_RETRIEVAL, seed=0)
    print(f" n = {n:,} (inputs {source.nbytes * 2 / 2**20:.0f} MB; {_load()})", flush=True)
    runs: dict[str, Callable[[], dict[str, Any]]] = {
        "relreps": lambda: _relreps(source, target, None)
    }
    if with_faiss:
        runs["faiss"] = lambda: _faiss(source, target)
    runs["floor"] = lambda: _floor(source, target)
    if single:  # what backend="auto" chooses between, for one search of n queries
        runs["knn blocked"] = lambda: _knn(source, target, "blocked")
        if with_faiss:
            runs["knn faiss"] = lambda: _knn(source, target, "faiss")
    for b in blocks or []:
        runs[f"relreps block {b}"] = lambda b=b: _relreps(source, target, b)
    for fn in (_relreps, _faiss) if with_faiss else (_relreps,):  # imports, thread pools
        fn(source[:500], target[:500], *([None] if fn is _relreps else []))
    best: dict[str, dict[str, Any]] = {}
    for _ in range(repeats):  # interleaved, so a load change hits every variant alike
        for name, fn in runs.items():
            r = _timed(fn)
            if name not in best or r["seconds"] < best[name]["seconds"]:
                best[name] = {**r, "growth_mb": max(r["growth_mb"], best.get(name, r)["growth_mb"])}
    ours, floor = best["relreps"], best["floor"]["seconds"]
    ref = best.get("faiss")
    ratio = f"{ours['seconds'] / ref['seconds']:.2f}x FAISS, " if ref else ""

    def line(name: str, r: dict[str, Any], note: str = "") -> None:
        scores = f"J={r['jaccard']:.4f} MRR={r['mrr']:.4f}" if "jaccard" in r else ""
        print(f"  {name:<34} {r['seconds']:8.2f} s   peak +{r['growth_mb']:5.0f} MB   "
              f"{scores} {note}", flush=True)  # fmt: skip

    line("relreps retrieval_scores", ours, f"({ratio}{ours['seconds'] / floor:.2f}x floor)")
    if ref:
        line("FAISS IndexFlatIP, 2 searches", ref, f"({ref['seconds'] / floor:.2f}x floor)")
    line("floor: bare blocked GEMMs (2 n^2 d)", best["floor"])
    for b in blocks or []:
        r = best[f"relreps block {b}"]
        line(f"relreps, block {b}", r, f"({r['seconds'] / ours['seconds']:.2f}x default)")
    if single:
        r = best["knn blocked"]
        faiss_s = best["knn faiss"]["seconds"] if with_faiss else float("nan")
        line("knn(source, target) blocked", r, f"({r['seconds'] / faiss_s:.2f}x FAISS)")
        if with_faiss:
            line("knn(source, target) faiss", best["knn faiss"])
    if ref:
        own = _sets_match(ours["own"], ref["own"], target, target)
        retrieved = _sets_match(ours["retrieved"], ref["retrieved"], source, target)
        print(f"  own neighbours vs FAISS:       {own}")
        print(f"  retrieved neighbours vs FAISS: {retrieved}")
        summary = (
            f"relreps {ours['seconds']:.2f} s, FAISS {ref['seconds']:.2f} s, ratio "
            f"{ours['seconds'] / ref['seconds']:.2f}x (target <= 1.00x), floor {floor:.2f} s, "
            f"relreps peak +{ours['growth_mb']:.0f} MB"
        )
        print(f"  RESULT n={n}: {summary} ({_load()})", flush=True)


# ----------------------------------------------------------------------------- CKA


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
    print(json.dumps(_variant_cka(args.kind, args.n, args.d)))


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
    parser.add_argument("--skip-cka", action="store_true", help="only the retrieval figures")
    parser.add_argument("--skip-single", action="store_true", help="no knn(source, target) line")
    parser.add_argument(
        "--threads", type=int, default=0, help="threads for every variant (0 = defaults); 1 is "
        "steadier on a loaded machine, where multi-threaded BLAS can slow down 10x or more"
    )  # fmt: skip
    parser.add_argument("--repeats", type=int, default=0, help="best of (0: 2, 1 at n > 50k)")
    parser.add_argument("--blocks", type=int, nargs="*", default=None,
                        help="also time relreps at these block sides")  # fmt: skip
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--kind", default="relreps", help=argparse.SUPPRESS)
    parser.add_argument("--n", type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument("--d", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        _child(args)
        return

    global THREADS
    THREADS = args.threads
    sizes = args.sizes or ([4_000] if args.quick else [20_000, 50_000, 100_000])
    if args.skip_retrieval:
        sizes = []
    with_faiss = not args.skip_faiss
    if with_faiss:
        try:
            import faiss
        except ImportError:
            print("faiss is not installed (pip install 'relreps[faiss]'): no FAISS figures")
            with_faiss = False
    from threadpoolctl import threadpool_limits

    _return_freed_memory()

    with threadpool_limits(limits=args.threads or None):
        if args.threads:
            os.environ["OMP_NUM_THREADS"] = str(args.threads)  # relreps's worker count
            if with_faiss:
                faiss.omp_set_num_threads(args.threads)
        print(f"CPU cores visible: {os.cpu_count()}; {_threads_note()} (shared machine: noisy)")
        print(f"Jaccard@{K} + MRR@{K}, d = {D_RETRIEVAL}, float32, one process, "
              f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}")  # fmt: skip
        for n in sizes:
            repeats = args.repeats or (1 if n > 50_000 else 2)
            _retrieval(n, repeats, with_faiss, args.blocks, not args.skip_single)
    if args.skip_cka:
        return

    print("Linear CKA, float32 input")
    n_small = 1_000 if args.quick else 5_000
    ours = _run("--kind", "relreps", "--n", str(n_small), "--d", "256")
    explicit = _run("--kind", "explicit", "--n", str(n_small), "--d", "256")
    print(f" n = {n_small:,}, d = 256")
    _row("relreps cka (feature space)", ours, f"CKA={ours['value']:.6f}")
    _row("explicit n x n H K H", explicit, f"CKA={explicit['value']:.6f}")
    print(f"  speed-up {explicit['seconds'] / ours['seconds']:.0f}x")
    n_big = 10_000 if args.quick else 100_000
    ours = _run("--kind", "relreps", "--n", str(n_big), "--d", "768")
    floor = _run("--kind", "floor", "--n", str(n_big), "--d", "768")
    print(f" n = {n_big:,}, d = 768 (target < 3 s)")
    _row("relreps cka (feature space)", ours, f"CKA={ours['value']:.6f}")
    _row("floor: 3 bare products", floor)
    print(f"  (input data alone: {ours['data_mb']:.0f} MB resident before the call)")


if __name__ == "__main__":
    main()
