"""Benchmark: relreps at millions of rows - out of core, on a Dask cluster, approximate kNN.

Parts (each measured in its own subprocess, so memory readings are clean):

  disk     n_disk x d float32 embeddings in a .npy memmap (made here), ``anchors`` rows of it as
           anchors, projected to a .npy memmap with relative_projection(out=..., chunk_size=...).
           Reports peak RssAnon (anonymous memory; file pages the kernel caches do not count) and
           the time per row against the in-memory matrix-product floor (normalised rows @
           normalised anchors.T into a preallocated result) measured in the same run on a subset
           of ``floor_rows`` rows that fits in memory. Target: RssAnon < 1 GB, <= 1.3x the floor.
  cluster  the same projection of n_cluster rows, single process vs relreps.distributed on a
           LocalCluster (``workers`` processes x 1 thread); then Jaccard@10 / MRR@10 between two
           relative spaces (target: rel(x), source: rel(x + noise)) of n_retrieval rows, single
           process vs the cluster. Same results required; the engine overhead is the time ratio.
  ann      FAISS on n_ann rows: exact flat search vs IVF (several nprobe) and, optionally, HNSW;
           build time, time per query and recall@10 against the exact neighbours.

The embeddings are a mixture of 4,096 Gaussian clusters (embeddings are clustered; pure noise
would be the worst case for IVF/HNSW). Files go to a temporary folder under ``--folder``
(default: the system temp dir; the script checks the free space first) and are removed at the end.

Usage:
  python benchmarks/bench_scale.py                      # the full run (~6 GB + 6 GB on disk)
  python benchmarks/bench_scale.py --quick              # small sizes, a minute or two
  python benchmarks/bench_scale.py --parts disk --n-disk 1000000
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
N_CENTERS = 4096
GEN_ROWS = 65536


# ----------------------------------------------------------------------------- data


def make_embeddings(path: str, n: int, d: int, seed: int) -> None:
    """A .npy memmap of clustered float32 embeddings, written block by block (bounded memory)."""
    import numpy as np

    rng = np.random.default_rng(seed)
    centers = rng.standard_normal((N_CENTERS, d), dtype=np.float32)
    out = np.lib.format.open_memmap(path, mode="w+", dtype=np.float32, shape=(n, d))
    for start in range(0, n, GEN_ROWS):
        rows = min(GEN_ROWS, n - start)
        block = rng.standard_normal((rows, d), dtype=np.float32)
        block *= 0.7
        block += centers[rng.integers(0, N_CENTERS, size=rows)]
        out[start : start + rows] = block
    out.flush()
    del out
    fsync(path)  # "on disk": the projection must not pay for writing back its input


def fsync(path: str) -> None:
    with open(path, "rb+") as handle:
        os.fsync(handle.fileno())


def disk_write_mb_s(folder: str, source, n_bytes: int = 2**30) -> float:
    """Sequential write bandwidth of ``folder`` (bytes of ``source``, fdatasync included)."""
    import numpy as np

    path = os.path.join(folder, "bandwidth.bin")
    block = np.ascontiguousarray(source).view(np.uint8).ravel()
    t0 = time.perf_counter()
    with open(path, "wb", buffering=0) as handle:
        written = 0
        while written < n_bytes:
            written += handle.write(memoryview(block[: n_bytes - written]))
        os.fdatasync(handle.fileno())
    seconds = time.perf_counter() - t0
    os.remove(path)
    return n_bytes / seconds / 1e6


def perturbed_copy(src: str, dst: str, n: int, noise: float, seed: int) -> None:
    """First ``n`` rows of ``src`` plus Gaussian noise (a second 'encoder' of the same items)."""
    import numpy as np

    rng = np.random.default_rng(seed)
    x = np.load(src, mmap_mode="r")
    out = np.lib.format.open_memmap(dst, mode="w+", dtype=np.float32, shape=(n, x.shape[1]))
    for start in range(0, n, GEN_ROWS):
        block = np.array(x[start : min(n, start + GEN_ROWS)])
        block += noise * rng.standard_normal(block.shape, dtype=np.float32)
        out[start : start + block.shape[0]] = block
    out.flush()


def anchor_rows(n: int, k: int):
    import numpy as np

    return np.linspace(0, n - 1, num=k).round().astype(np.int64)


# ----------------------------------------------------------------------------- children


def child_make(args) -> dict:
    t0 = time.perf_counter()
    make_embeddings(args.base, args.n_rows, args.d, seed=0)
    return {"seconds": time.perf_counter() - t0}


def child_disk(args) -> dict:
    sys.path.insert(0, HERE)
    import numpy as np

    import relreps
    from _memory import peak_growth, rss_anon_bytes

    x = np.load(args.base, mmap_mode="r")[: args.n_disk]
    n, d = x.shape
    anchors = np.array(x[anchor_rows(n, args.anchors)])
    out_path = os.path.join(args.work, "rel_disk.npy")
    start_rss = rss_anon_bytes()

    def project():
        out = np.lib.format.open_memmap(
            out_path, mode="w+", dtype=np.float32, shape=(n, len(anchors))
        )
        relreps.relative_projection(x, anchors, out=out, chunk_size=args.chunk_size)
        out.flush()
        del out

    # The floor: normalised rows @ normalised anchors.T into a preallocated result, on a subset
    # in memory; measured before AND after the out-of-core run (the machine may be shared).
    m = min(n, args.floor_rows)
    sub = np.array(x[:m])
    sub /= np.linalg.norm(sub, axis=1, keepdims=True)
    a_unit = anchors / np.linalg.norm(anchors, axis=1, keepdims=True)
    dest = np.empty((m, len(anchors)), dtype=np.float32)

    def floor_runs(repeats: int = 3) -> list[float]:
        times = []
        for _ in range(repeats):
            t0 = time.perf_counter()
            np.matmul(sub, a_unit.T, out=dest)
            times.append(time.perf_counter() - t0)
        return times

    floor_runs(1)  # warm-up
    floors = floor_runs()
    write_mb_s = disk_write_mb_s(args.work, dest)
    _, seconds, growth = peak_growth(project)
    t0 = time.perf_counter()
    fsync(out_path)
    sync_seconds = time.perf_counter() - t0
    floors += floor_runs()
    floor = statistics.median(floors)
    output_bytes = n * len(anchors) * 4
    # check a sample of rows against the in-memory projection
    out = np.load(out_path, mmap_mode="r")
    pick = np.random.default_rng(1).choice(n, size=min(n, 20000), replace=False)
    pick.sort()
    err = np.abs(out[pick] - relreps.relative_projection(np.array(x[pick]), anchors)).max()
    del out
    os.remove(out_path)
    t0 = time.perf_counter()
    relreps.relative_projection(sub, anchors)
    in_memory = time.perf_counter() - t0
    return {
        "n": n,
        "d": d,
        "anchors": len(anchors),
        "input_gb": n * d * 4 / 1e9,
        "output_gb": n * len(anchors) * 4 / 1e9,
        "seconds": seconds,
        "us_per_row": seconds / n * 1e6,
        "floor_rows": m,
        "floor_us_per_row": floor / m * 1e6,
        "floor_min_us_per_row": min(floors) / m * 1e6,
        "relreps_in_memory_us_per_row": in_memory / m * 1e6,
        "ratio_to_floor": (seconds / n) / (floor / m),
        "then_fsync_s": sync_seconds,
        "disk_write_mb_s": write_mb_s,
        "io_floor_us_per_row": output_bytes / (write_mb_s * 1e6) / n * 1e6,
        "peak_rss_anon_mb": (start_rss + growth) / 2**20,
        "rss_anon_growth_mb": growth / 2**20,
        "max_abs_err_vs_in_memory": float(err),
    }


def child_cluster(args) -> dict:
    import numpy as np

    import relreps
    from relreps import distributed as rd
    from relreps.metrics import retrieval_scores

    n = args.n_cluster
    x_all = np.load(args.base, mmap_mode="r")
    anchors = np.array(x_all[anchor_rows(n, args.anchors)])
    x = x_all[:n]
    single_path = os.path.join(args.work, "rel_single.npy")
    cluster_path = os.path.join(args.work, "rel_cluster.npy")

    t0 = time.perf_counter()
    out = np.lib.format.open_memmap(
        single_path, mode="w+", dtype=np.float32, shape=(n, len(anchors))
    )
    relreps.relative_projection(x, anchors, out=out)
    out.flush()
    del out
    with open(single_path, "rb+") as handle:  # durable, as the cluster job's file (fair timing)
        os.fsync(handle.fileno())
    single_projection = time.perf_counter() - t0

    t0 = time.perf_counter()
    with rd.cluster(n_workers=args.workers, threads_per_worker=1, processes=True) as client:
        startup = time.perf_counter() - t0
        x_dask = rd.open_array(args.base, rows=args.dask_rows)[:n]
        job = rd.project_to_file(x_dask, anchors, cluster_path, client=client)
        a, b = np.load(single_path, mmap_mode="r"), np.load(cluster_path, mmap_mode="r")
        max_diff = max(
            float(np.abs(a[s : s + 262144] - b[s : s + 262144]).max()) for s in range(0, n, 262144)
        )
        del a, b
        os.remove(single_path)
        os.remove(cluster_path)

        # Jaccard / MRR between two relative spaces of the same items
        m = args.n_retrieval
        rel_target = relreps.relative_projection(np.array(x[:m]), anchors)
        rel_source = relreps.relative_projection(np.load(args.noisy, mmap_mode="r")[:m], anchors)
        target_path = os.path.join(args.work, "target.npy")
        source_path = os.path.join(args.work, "source.npy")
        np.save(target_path, rel_target)
        np.save(source_path, rel_source)
        t1 = time.perf_counter()
        single = retrieval_scores(rel_source, rel_target, 10)
        single_retrieval = time.perf_counter() - t1
        distributed = rd.compare(
            source_path, target_path, scores=["jaccard", "mrr"], k=10, rows=args.dask_knn_rows,
            client=client,
        )  # fmt: skip
        os.remove(target_path)
        os.remove(source_path)
    return {
        "n": n,
        "workers": args.workers,
        "cluster_startup_s": startup,
        "projection_single_s": single_projection,
        "projection_cluster_s": job.seconds,
        "projection_overhead": job.seconds / single_projection,
        "projection_max_abs_diff": max_diff,
        "projection_blocks": job.n_blocks,
        "n_retrieval": m,
        "retrieval_single_s": single_retrieval,
        "retrieval_cluster_s": distributed.seconds,
        "retrieval_overhead": distributed.seconds / single_retrieval,
        "jaccard_single": single.jaccard,
        "jaccard_cluster": distributed.jaccard,
        "mrr_single": single.mrr,
        "mrr_cluster": distributed.mrr,
    }


def child_ann(args) -> dict:
    import numpy as np

    from relreps.knn_index import FaissIndex, recall_at_k

    x = np.load(args.base, mmap_mode="r")
    n, q = args.n_ann, args.queries
    index_rows = np.array(x[:n])
    queries = np.array(x[n : n + q])  # held-out items of the same distribution
    rows = []

    t0 = time.perf_counter()
    flat = FaissIndex("flat").fit(index_rows)
    build = time.perf_counter() - t0
    t0 = time.perf_counter()
    exact = flat.search(queries, 10)
    search = time.perf_counter() - t0
    rows.append({"method": "flat (exact)", "build_s": build, "ms_per_query": search / q * 1e3,
                 "recall_at_10": 1.0})  # fmt: skip
    del flat

    t0 = time.perf_counter()
    ivf = FaissIndex("ivf", nlist=args.nlist, train_size=args.train_size, seed=0).fit(index_rows)
    build = time.perf_counter() - t0
    for nprobe in args.nprobe:
        ivf.nprobe = nprobe
        t0 = time.perf_counter()
        found = ivf.search(queries, 10)
        search = time.perf_counter() - t0
        rows.append({"method": f"ivf nlist={args.nlist} nprobe={nprobe}", "build_s": build,
                     "ms_per_query": search / q * 1e3, "recall_at_10": recall_at_k(found, exact),
                     "approximate": found.approximate})  # fmt: skip
    del ivf
    if args.n_hnsw:
        h = min(args.n_hnsw, n)
        exact_h = FaissIndex("flat").fit(index_rows[:h]).search(queries, 10)
        t0 = time.perf_counter()
        hnsw = FaissIndex("hnsw", m=32, ef_construction=64).fit(index_rows[:h])
        build = time.perf_counter() - t0
        for ef in (32, 128):
            hnsw.ef_search = ef
            t0 = time.perf_counter()
            found = hnsw.search(queries, 10)
            search = time.perf_counter() - t0
            rows.append({"method": f"hnsw n={h} m=32 ef_search={ef}", "build_s": build,
                         "ms_per_query": search / q * 1e3,
                         "recall_at_10": recall_at_k(found, exact_h),
                         "approximate": found.approximate})  # fmt: skip
    return {"n": n, "queries": q, "rows": rows}


CHILDREN = {"make": child_make, "disk": child_disk, "cluster": child_cluster, "ann": child_ann}


# ----------------------------------------------------------------------------- driver


def run_child(name: str, argv: list[str]) -> dict:
    cmd = [sys.executable, __file__, "--child", name, *argv]
    done = subprocess.run(cmd, capture_output=True, text=True)
    if done.returncode != 0:
        sys.stderr.write(done.stderr[-4000:])
        raise SystemExit(f"part {name!r} failed (exit {done.returncode})")
    return json.loads(done.stdout.strip().splitlines()[-1])


def parse() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--parts", default="disk,cluster,ann")
    p.add_argument("--quick", action="store_true", help="small sizes for a fast check")
    p.add_argument("--n-disk", type=int, default=4_000_000)
    p.add_argument("--n-cluster", type=int, default=1_000_000)
    p.add_argument("--n-retrieval", type=int, default=50_000, help="exact kNN is O(n^2)")
    p.add_argument("--n-ann", type=int, default=1_000_000)
    p.add_argument("--n-hnsw", type=int, default=100_000, help="0 skips HNSW")
    p.add_argument("--queries", type=int, default=2000)
    p.add_argument("--nlist", type=int, default=1024)
    p.add_argument("--nprobe", type=int, nargs="+", default=[4, 16, 64])
    p.add_argument("--train-size", type=int, default=65536)
    p.add_argument("--d", type=int, default=384)
    p.add_argument("--anchors", type=int, default=384)
    p.add_argument("--chunk-size", type=int, default=None)
    p.add_argument("--floor-rows", type=int, default=500_000)
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--dask-rows", type=int, default=131072)
    p.add_argument("--dask-knn-rows", type=int, default=4096)
    p.add_argument("--folder", default=None, help="where the temporary files go")
    p.add_argument("--json", default=None, help="also write the figures to this file")
    p.add_argument("--child", help=argparse.SUPPRESS)
    p.add_argument("--base", help=argparse.SUPPRESS)
    p.add_argument("--noisy", help=argparse.SUPPRESS)
    p.add_argument("--work", help=argparse.SUPPRESS)
    p.add_argument("--n-rows", type=int, help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.quick:
        args.n_disk, args.n_cluster, args.n_retrieval = 300_000, 100_000, 20_000
        args.n_ann, args.n_hnsw, args.queries, args.nlist = 100_000, 20_000, 500, 256
        args.floor_rows = 100_000
    return args


def child_argv(args: argparse.Namespace) -> list[str]:
    skip = {"child", "parts", "quick", "json", "folder", "nprobe"}
    argv = []
    for key, value in vars(args).items():
        if key in skip or value is None:
            continue
        argv += [f"--{key.replace('_', '-')}", str(value)]
    return [*argv, "--nprobe", *map(str, args.nprobe)]


def main() -> None:
    args = parse()
    if args.child:
        print(json.dumps(CHILDREN[args.child](args)))
        return
    parts = [p.strip() for p in args.parts.split(",") if p.strip()]
    n_rows = max(
        args.n_disk if "disk" in parts else 0,
        args.n_cluster if "cluster" in parts else 0,
        args.n_ann + args.queries if "ann" in parts else 0,
    )
    need = n_rows * args.d * 4 * 2 + (
        args.n_cluster * args.anchors * 8 if "cluster" in parts else 0
    )
    folder = args.folder or tempfile.gettempdir()
    free = shutil.disk_usage(folder).free
    print(f"folder {folder}: {free / 1e9:.1f} GB free, this run needs about {need / 1e9:.1f} GB")
    if free < need * 1.2:
        raise SystemExit("not enough free space: pass --folder with more room (or smaller sizes)")
    work = tempfile.mkdtemp(prefix="relreps-bench-scale-", dir=folder)
    results: dict = {"cpus": os.cpu_count()}
    try:
        args.base = os.path.join(work, "embeddings.npy")
        args.work = work
        args.n_rows = n_rows
        made = run_child("make", child_argv(args))
        print(f"made {n_rows:,} x {args.d} float32 ({n_rows * args.d * 4 / 1e9:.2f} GB) "
              f"in {made['seconds']:.1f} s")  # fmt: skip
        if "cluster" in parts:
            args.noisy = os.path.join(work, "noisy.npy")
            perturbed_copy(args.base, args.noisy, min(args.n_retrieval, args.n_cluster), 0.5, 1)
        argv = child_argv(args)
        for part in parts:
            results[part] = run_child(part, argv)
            report(part, results[part])
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(f"cleaned up {work}")
    if args.json:
        with open(args.json, "w") as handle:
            json.dump(results, handle, indent=2)


def report(part: str, r: dict) -> None:
    if part == "disk":
        print(f"\n[disk] out-of-core projection {r['n']:,} x {r['d']} -> {r['anchors']} anchors "
              f"({r['input_gb']:.1f} GB in, {r['output_gb']:.1f} GB out)")  # fmt: skip
        print(f"  time {r['seconds']:.1f} s = {r['us_per_row']:.3f} us/row; floor (in-memory "
              f"matmul, {r['floor_rows']:,} rows) {r['floor_us_per_row']:.3f} us/row; "
              f"ratio {r['ratio_to_floor']:.2f}x (target <= 1.3x; floor: median of 6 runs "
              f"around it, min {r['floor_min_us_per_row']:.3f})")  # fmt: skip
        print(f"  relreps in memory on the same subset: {r['relreps_in_memory_us_per_row']:.3f} "
              f"us/row")  # fmt: skip
        print(f"  disk: sequential write {r['disk_write_mb_s']:.0f} MB/s -> writing the output "
              f"alone takes {r['io_floor_us_per_row']:.3f} us/row; fsync after the run "
              f"{r['then_fsync_s']:.1f} s")  # fmt: skip
        print(f"  peak RssAnon {r['peak_rss_anon_mb']:.0f} MB (growth "
              f"{r['rss_anon_growth_mb']:.0f} MB; target < 1024 MB); max |err| vs in-memory "
              f"{r['max_abs_err_vs_in_memory']:.2e}")  # fmt: skip
    elif part == "cluster":
        print(f"\n[cluster] LocalCluster {r['workers']} workers x 1 thread (startup "
              f"{r['cluster_startup_s']:.1f} s, not counted)")  # fmt: skip
        print(f"  projection {r['n']:,} rows: single {r['projection_single_s']:.1f} s, cluster "
              f"{r['projection_cluster_s']:.1f} s ({r['projection_blocks']} blocks) -> overhead "
              f"{r['projection_overhead']:.2f}x; max |diff| "
              f"{r['projection_max_abs_diff']:.1e}")  # fmt: skip
        print(f"  Jaccard@10/MRR@10 {r['n_retrieval']:,} rows: single {r['retrieval_single_s']:.1f}"
              f" s, cluster {r['retrieval_cluster_s']:.1f} s -> overhead "
              f"{r['retrieval_overhead']:.2f}x")  # fmt: skip
        print(f"  jaccard {r['jaccard_single']:.6f} vs {r['jaccard_cluster']:.6f}; "
              f"mrr {r['mrr_single']:.6f} vs {r['mrr_cluster']:.6f}")  # fmt: skip
    else:
        print(f"\n[ann] FAISS, {r['n']:,} indexed rows, {r['queries']:,} held-out queries, k=10")
        for row in r["rows"]:
            print(f"  {row['method']:<32} build {row['build_s']:>7.1f} s  "
                  f"{row['ms_per_query']:>8.3f} ms/query  "
                  f"recall@10 {row['recall_at_10']:.4f}")  # fmt: skip


if __name__ == "__main__":
    main()
