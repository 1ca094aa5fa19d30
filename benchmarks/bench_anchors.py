"""Anchor selection speed and memory: farthest-point and k-means at n=100,000, d=300, k=300.

Run: ``.venv/bin/python benchmarks/bench_anchors.py`` (``--n/--d/--k`` to resize, ``--quick``
for a small smoke run). Every variant runs in its own subprocess on the same seeded data (a
Gaussian mixture, float32, like real embeddings) and reports wall time and extra peak memory
(peak RSS during the run minus the RSS after loading the data), plus CPU time (less sensitive
than wall time to other processes on a shared machine).

Targets (issue 3): farthest-point under 2 s; relreps k-means no slower than 1.5x scikit-learn's
KMeans(n_init=1) plus a nearest-member lookup, measured in the same run. Floors: one chunked
(n, d) x (d, k) product (the cost of one Lloyd iteration) and the plain eager farthest-point
loop (one matrix-vector product per anchor). Timings on a shared machine are noisy: rerun.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np


def make_data(n: int, d: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((max(10, n // 100), d)).astype(np.float32)
    labels = rng.integers(0, centres.shape[0], n)
    return centres[labels] + 0.7 * rng.standard_normal((n, d), dtype=np.float32)


def reset_peak() -> None:
    """Reset the kernel's peak-RSS mark (Linux), so the peak seen later belongs to the run."""
    try:
        with open("/proc/self/clear_refs", "w") as handle:
            handle.write("5")
    except OSError:
        pass  # elsewhere the figure includes the data loading peak: an upper bound


def peak_mb() -> float:
    try:
        with open("/proc/self/status") as handle:
            for line in handle:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024.0
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # KiB on Linux


def current_mb() -> float:
    try:
        with open("/proc/self/status") as handle:
            for line in handle:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024.0
    except OSError:
        pass
    return peak_mb()


# -- variants (each runs alone in a subprocess) --------------------------------------------------


def run_fps(x: np.ndarray, k: int, metric: str) -> dict:
    from relreps.anchors import farthest_point

    idx = farthest_point(x, k, seed=0, metric=metric)
    return {"distinct": int(np.unique(idx).size)}


def run_fps_eager(x: np.ndarray, k: int, metric: str) -> dict:
    """The usual loop: one full matrix-vector product per anchor (cosine on a normalised copy)."""
    z = x / np.linalg.norm(x, axis=1, keepdims=True) if metric == "cosine" else x
    sq = np.einsum("ij,ij->i", z, z)
    nearest = np.full(z.shape[0], np.inf, dtype=z.dtype)
    current = int(np.random.default_rng(0).integers(z.shape[0]))
    for _ in range(k - 1):
        dist = sq - 2.0 * (z @ z[current]) + sq[current]
        np.minimum(nearest, dist, out=nearest)
        nearest[current] = -np.inf
        current = int(np.argmax(nearest))
    return {}


def run_kmeans(x: np.ndarray, k: int, metric: str) -> dict:
    from relreps.anchors import kmeans

    idx = kmeans(x, k, seed=0, metric=metric)
    return {"distinct": int(np.unique(idx).size)}


def run_sklearn(x: np.ndarray, k: int, metric: str) -> dict:
    """scikit-learn KMeans(n_init=1) on the same geometry + each centroid's nearest sample."""
    from sklearn.cluster import KMeans
    from sklearn.metrics import pairwise_distances_argmin

    z = x / np.linalg.norm(x, axis=1, keepdims=True) if metric == "cosine" else x
    model = KMeans(n_clusters=k, n_init=1, random_state=0).fit(z)
    nearest = pairwise_distances_argmin(model.cluster_centers_.astype(z.dtype), z)
    return {"n_iter": int(model.n_iter_), "distinct": int(np.unique(nearest).size)}


def run_gemm_floor(x: np.ndarray, k: int, metric: str) -> dict:
    c = np.ascontiguousarray(x[:k].T)
    chunk = max(1, (1 << 20) // max(k, x.shape[1]))
    for lo in range(0, x.shape[0], chunk):
        np.argmin(x[lo : lo + chunk] @ c, axis=1)
    return {}


VARIANTS = {
    "fps_cosine": (run_fps, "cosine"),
    "fps_euclidean": (run_fps, "euclidean"),
    "fps_eager_loop_cosine": (run_fps_eager, "cosine"),
    "kmeans_cosine": (run_kmeans, "cosine"),
    "sklearn_kmeans_cosine+nearest": (run_sklearn, "cosine"),
    "gemm_floor_one_lloyd_pass": (run_gemm_floor, "cosine"),
}


def child(variant: str, data: str, k: int) -> None:
    if variant.startswith("sklearn"):
        import sklearn.cluster  # noqa: F401  (import cost kept out of the figures)
    import relreps.anchors  # noqa: F401

    x = np.load(data, allow_pickle=False)
    fn, metric = VARIANTS[variant]
    # One small warm-up call: lazy imports and BLAS thread buffers stay out of the figures.
    fn(np.ascontiguousarray(x[:500]), 5, metric)
    reset_peak()
    base = current_mb()
    start, cpu_start = time.perf_counter(), time.process_time()
    extra = fn(x, k, metric)
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu_start
    print(
        json.dumps(
            {"seconds": seconds, "cpu_seconds": cpu, "extra_peak_mb": peak_mb() - base, **extra}
        )
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--d", type=int, default=300)
    parser.add_argument("--k", type=int, default=300)
    parser.add_argument("--quick", action="store_true", help="n=5000, d=64, k=50")
    parser.add_argument("--only", nargs="*", choices=sorted(VARIANTS), help="variants to run")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--data", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.data, args.k)
        return
    if args.quick:
        args.n, args.d, args.k = 5000, 64, 50
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "x.npy"
        x = make_data(args.n, args.d)
        np.save(data, x)
        print(
            f"anchors benchmark: n={args.n} d={args.d} k={args.k} float32 "
            f"(data {x.nbytes / 2**20:.0f} MiB)"
        )
        del x
        results = {}
        for name in args.only or VARIANTS:
            cmd = [
                sys.executable,
                __file__,
                "--child",
                name,
                "--data",
                str(data),
                "--k",
                str(args.k),
            ]
            out = subprocess.run(cmd, capture_output=True, text=True, check=True)
            results[name] = json.loads(out.stdout.strip().splitlines()[-1])
            r = results[name]
            notes = ", ".join(
                f"{key}={v}"
                for key, v in r.items()
                if key not in ("seconds", "cpu_seconds", "extra_peak_mb")
            )
            print(
                f"  {name:30s} {r['seconds']:8.2f} s wall {r['cpu_seconds']:8.2f} s cpu "
                f"{r['extra_peak_mb']:7.1f} MiB extra" + (f"  ({notes})" if notes else "")
            )
    if "fps_cosine" in results:
        secs = max(results[v]["seconds"] for v in ("fps_cosine", "fps_euclidean") if v in results)
        print(
            f"farthest-point: slowest metric {secs:.2f} s (target < 2 s): "
            f"{'OK' if secs < 2.0 else 'MISSED'}"
        )
    if "kmeans_cosine" in results and "sklearn_kmeans_cosine+nearest" in results:
        ratio = (
            results["kmeans_cosine"]["seconds"]
            / results["sklearn_kmeans_cosine+nearest"]["seconds"]
        )
        print(
            f"k-means: relreps / (sklearn + nearest) = {ratio:.2f}x (target <= 1.5x): "
            f"{'OK' if ratio <= 1.5 else 'MISSED'}"
        )


if __name__ == "__main__":
    main()
