"""Benchmark: every hot path beside its floor and its peer, in ONE process (issue 17).

Run: ``.venv/bin/python benchmarks/bench_floor.py`` (``--quick`` for small sizes, ``--only knn``
etc. for one part). ``make bench`` runs it first. Each figure is printed with:

- ``floor``: the unavoidable work done bare (matrix products of prepared inputs, no selection);
- ``peer``: the usual way (FAISS ``IndexFlatIP`` exact search; the paper's torch two-liner; the
  absolute model's step), run in this same process, side by side, so load changes hit all alike;
- ``ratio``: relreps / reference, and the issue's target for it.

Parts:

- ``knn``: Jaccard@10 + MRR@10 at d = 300, n = 20k / 50k / 100k: the own target
  neighbourhoods (target -> target, a self-search) plus the retrieval (source -> target). relreps
  ``knn_blocks.search`` (what ``retrieval_scores`` runs) vs FAISS on L2-normalised float32 (two
  searches), and the kNN alone (source -> target, no self-search shortcut) vs one FAISS search.
  Floor: the bare 2048 x 2048 block products FAISS and a plain blocked search compute
  (2 n^2 d flops). Memory: peak growth of anonymous RSS during the call. Neighbour sets must
  match FAISS; rows that differ are checked in float64 (a rounding tie, not a miss).
- ``projection``: cosine, n = 100k, d = 512, 512 anchors, float32, numpy and torch CPU; floor =
  one product of pre-normalised inputs (allocating its output, as relreps does), also run in the
  kernel's blocks and worker threads (so what the fused norms and rescale add shows apart from
  the blocking); peer (torch) = the paper's ``normalize(x) @ normalize(a).T``. Memory: peak
  growth / output bytes.
- ``outofcore``: ``.npy`` memmap in -> ``.npy`` memmap out, per row, against the in-memory numpy
  floor per row: with the input in the page cache (just written) and cold (evicted with
  ``posix_fadvise(DONTNEED)`` before each run); beside the disk's own sequential write speed
  (fdatasync included) and cold read speed, measured in the same run.
- ``train``: one training step (forward, loss, backward, Adam) of the relative classifier against
  the absolute one with matched heads (``benchmarks/bench_nn.py`` models), with the anchor
  strategies that keep the paper's semantics (anchors re-embedded by the current encoder every
  step, no gradient through them): a separate no-grad anchor forward (shipped) vs anchors
  concatenated with the batch in one forward, then detached. ``anchor forward`` is the encoder's
  no-grad forward of the anchors alone: the cost the semantics add to an absolute step.

The machine is shared: the load (``uptime``) is printed before and after each part.
"""

from __future__ import annotations

import argparse
import gc
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from typing import Any

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "src"))

from _memory import peak_growth  # noqa: E402

K_NN = 10
D_NN = 300
BLOCK = 2048


def _load() -> str:
    try:
        with open("/proc/loadavg") as f:
            return "load " + " ".join(f.read().split()[:3])
    except OSError:
        return "load n/a"


def _machine() -> str:
    model = "unknown CPU"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return f"{model}, {os.cpu_count()} cores visible"


def _row(
    name: str, seconds: float, ref: float | None, ref_name: str, target: str, extra: str = ""
) -> None:
    ratio = f"{seconds / ref:6.2f}x {ref_name}" if ref else ""
    shown = f"{seconds:9.3f} s " if seconds >= 0.1 else f"{seconds * 1e3:8.2f} ms"
    print(f"  {name:<41} {shown}  {ratio:<18} {target:<10} {extra}", flush=True)


# ----------------------------------------------------------------------------- kNN


def _paired_spaces(n: int, d: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """A structured target space (decaying spectrum) and a noisy copy as the source space."""
    rng = np.random.default_rng(seed)
    spectrum = (1.0 / np.sqrt(np.arange(1, d + 1))).astype(np.float32)
    target = np.empty((n, d), dtype=np.float32)
    source = np.empty((n, d), dtype=np.float32)
    for start in range(0, n, 10_000):
        stop = min(start + 10_000, n)
        block = rng.standard_normal((stop - start, d), dtype=np.float32) * spectrum
        target[start:stop] = block
        source[start:stop] = block + 0.3 * rng.standard_normal(block.shape, dtype=np.float32)
    return source, target


def _rounding_only(ours: np.ndarray, theirs: np.ndarray, q: np.ndarray, x: np.ndarray) -> str:
    """Rows whose neighbour SETS differ, and the largest float64 score gap there."""
    differ = np.flatnonzero(np.any(np.sort(ours, 1) != np.sort(theirs, 1), axis=1))
    gap = 0.0
    for i in differ:
        qi = q[i].astype(np.float64)
        qi /= np.linalg.norm(qi)
        xs = x.astype(np.float64, copy=False)

        def scores(ids: np.ndarray, qi: np.ndarray = qi, xs: np.ndarray = xs) -> np.ndarray:
            rows = xs[ids]
            return np.sort(rows @ qi / np.linalg.norm(rows, axis=1))

        gap = max(gap, float(np.max(np.abs(scores(ours[i]) - scores(theirs[i])))))
    return f"{differ.size} of {len(ours)} rows differ (max float64 score gap {gap:.1e})"


def part_knn(sizes: list[int], repeats: int) -> None:
    print(f"\n[knn] Jaccard@{K_NN} + MRR@{K_NN}, d = {D_NN}, float32 ({_load()})")
    for n in sizes:
        _knn_size(n, repeats)


def _knn_size(n: int, repeats: int) -> None:
    import faiss

    from relreps._array import namespace
    from relreps.metrics.knn_blocks import search
    from relreps.metrics.retrieval import _jaccard, _mrr

    source, target = _paired_spaces(n, D_NN)
    xp = namespace(x=target)
    print(f" n = {n:,}")
    res: dict[str, list[float]] = {}
    mem: dict[str, float] = {}

    def note(name: str, seconds: float, growth: float) -> None:
        res.setdefault(name, []).append(seconds)
        mem[name] = max(mem.get(name, 0.0), growth)

    for _ in range(repeats):
        gc.collect()

        def run_faiss() -> tuple[Any, ...]:
            tn = target / np.linalg.norm(target, axis=1, keepdims=True)
            sn = source / np.linalg.norm(source, axis=1, keepdims=True)
            index = faiss.IndexFlatIP(D_NN)
            index.add(tn)
            _, own = index.search(tn, K_NN)
            t1 = time.perf_counter()
            _, retrieved = index.search(sn, K_NN)
            return own, retrieved, time.perf_counter() - t1

        (f_own, f_ret, f_single), seconds, growth = peak_growth(run_faiss)
        note("faiss pair", seconds, growth)
        note("faiss single", f_single, growth)

        def run_ours() -> tuple[Any, ...]:
            own, retrieved = search([target, source], target, K_NN, "cosine", False, None, xp)
            return own.indices, retrieved.indices

        (o_own, o_ret), seconds, growth = peak_growth(run_ours)
        note("relreps pair", seconds, growth)

        def run_single() -> Any:
            return search([source], target, K_NN, "cosine", False, None, xp)[0].indices

        s_ret, seconds, growth = peak_growth(run_single)
        note("relreps single", seconds, growth)

        def run_floor() -> None:
            tn = target / np.linalg.norm(target, axis=1, keepdims=True)
            sn = source / np.linalg.norm(source, axis=1, keepdims=True)
            buf = np.empty((BLOCK, BLOCK), dtype=np.float32)
            for q in (tn, sn):
                for i in range(0, n, BLOCK):
                    for j in range(0, n, BLOCK):
                        a, b = q[i : i + BLOCK], tn[j : j + BLOCK]
                        if len(a) == BLOCK and len(b) == BLOCK:
                            np.matmul(a, b.T, out=buf)
                        else:
                            a @ b.T

        _, seconds, growth = peak_growth(run_floor)
        note("floor pair", seconds, growth)
    best = {k: min(v) for k, v in res.items()}
    jac, mrr = _jaccard(o_own, o_ret, np), _mrr(o_ret, np)
    fj, fm = _jaccard(f_own, f_ret, np), _mrr(f_ret, np)
    mb = {k: v / 2**20 for k, v in mem.items()}
    pair = best["relreps pair"]
    _row("relreps Jaccard+MRR (blocked, own+retr.)", pair, best["faiss pair"], "FAISS",
         "<= 1.00x", f"peak +{mb['relreps pair']:.0f} MB; J={jac:.4f} MRR={mrr:.4f}")  # fmt: skip
    _row("  same, vs bare-GEMM floor", pair, best["floor pair"], "floor", "")
    _row("FAISS IndexFlatIP, 2 searches (peer)", best["faiss pair"], None, "", "",
         f"peak +{mb['faiss pair']:.0f} MB; J={fj:.4f} MRR={fm:.4f}")  # fmt: skip
    _row("floor: bare 2048^2 block GEMMs", best["floor pair"], None, "", "")
    _row("relreps kNN alone (source -> target)", best["relreps single"],
         best["faiss single"], "FAISS", "<= 1.00x",
         f"peak +{mb['relreps single']:.0f} MB")  # fmt: skip
    _row("FAISS one search (peer)", best["faiss single"], None, "", "")
    print(f"   own neighbours: {_rounding_only(o_own, f_own, target, target)}")
    print(f"   retrieved:      {_rounding_only(o_ret, f_ret, source, target)}")
    print(f"   kNN alone:      {_rounding_only(s_ret, f_ret, source, target)}")
    print(f"   (best of {repeats}; {_load()})", flush=True)


# ----------------------------------------------------------------------------- projection


def _projection_data(n: int, d: int, k: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    x = np.empty((n, d), dtype=np.float32)
    for start in range(0, n, 10_000):
        x[start : start + 10_000] = rng.standard_normal((min(10_000, n - start), d), np.float32)
    return x, rng.standard_normal((k, d), np.float32)


def _median_interleaved(
    works: dict[str, Callable[[], Any]], repeats: int
) -> dict[str, tuple[float, float]]:
    """(median seconds, max peak growth bytes) per work, alternating them ``repeats`` times."""
    for work in works.values():
        del_result = work()  # warm-up: thread pools, first-touch page faults
        del del_result
    times: dict[str, list[float]] = {name: [] for name in works}
    peaks: dict[str, float] = dict.fromkeys(works, 0.0)
    for _ in range(repeats):
        for name, work in works.items():
            gc.collect()
            result, seconds, growth = peak_growth(work)
            del result
            times[name].append(seconds)
            peaks[name] = max(peaks[name], growth)
    return {name: (statistics.median(times[name]), peaks[name]) for name in works}


def part_projection(n: int, d: int, k: int, repeats: int) -> float:
    import torch
    import torch.nn.functional as F

    import relreps

    print(f"\n[projection] cosine, n = {n:,}, d = {d}, {k} anchors, float32 ({_load()})")
    x, anchors = _projection_data(n, d, k)
    xu = x / np.linalg.norm(x, axis=1, keepdims=True)
    au = anchors / np.linalg.norm(anchors, axis=1, keepdims=True)
    xt, at = torch.from_numpy(x), torch.from_numpy(anchors)
    xut, aut = torch.from_numpy(xu), torch.from_numpy(au)

    def blocked_floor() -> np.ndarray:
        """The bare product in the kernel's blocks and worker threads (one BLAS thread each)."""
        from concurrent.futures import ThreadPoolExecutor

        from threadpoolctl import threadpool_limits

        from relreps._cosine_blocks import block_rows, worker_threads

        out = np.empty((n, k), dtype=np.float32)
        rows = block_rows(d, k, 4)

        def one(start: int) -> None:
            np.matmul(xu[start : start + rows], au.T, out=out[start : start + rows])

        with threadpool_limits(1, user_api="blas"), ThreadPoolExecutor(worker_threads()) as pool:
            for done in pool.map(one, range(0, n, rows)):
                del done
        return out

    works = {
        "numpy floor": lambda: xu @ au.T,
        "numpy floor, kernel's blocks": blocked_floor,
        "relreps numpy": lambda: relreps.relative_projection(x, anchors),
        "torch floor": lambda: xut @ aut.T,
        "relreps torch": lambda: relreps.relative_projection(xt, at),
        "paper two-liner (torch)": lambda: F.normalize(xt, dim=-1) @ F.normalize(at, dim=-1).T,
    }
    r = _median_interleaved(works, repeats)
    out_bytes = n * k * 4
    for name, ref, ref_name, target in (
        ("relreps numpy", "numpy floor", "floor", "<= 1.05x"),
        ("relreps numpy", "numpy floor, kernel's blocks", "blk floor", ""),
        ("relreps torch", "torch floor", "floor", "<= 1.05x"),
        ("relreps torch", "paper two-liner (torch)", "paper", ""),
        ("paper two-liner (torch)", "torch floor", "floor", ""),
        ("numpy floor", None, "", ""),
        ("numpy floor, kernel's blocks", "numpy floor", "floor", ""),
        ("torch floor", None, "", ""),
    ):
        seconds, peak = r[name]
        _row(name, seconds, r[ref][0] if ref else None, ref_name, target,
             f"peak +{peak / out_bytes:.2f}x output ({peak / 2**20:.0f} MB)")  # fmt: skip
    print(f"   (median of {repeats}; output {out_bytes / 2**20:.0f} MB; {_load()})", flush=True)
    return r["numpy floor"][0] / n


def _drop_cache(path: str) -> bool:
    """Evict a file's (clean) pages from the page cache; False where the OS cannot."""
    if not hasattr(os, "posix_fadvise"):
        return False
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
        os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
    finally:
        os.close(fd)
    return True


def _disk_speeds(folder: str, n_bytes: int) -> tuple[float, float]:
    """Sequential write (fdatasync included) and cold read speed of ``folder``, in MB/s."""
    path = os.path.join(folder, "bandwidth.bin")
    block = np.random.default_rng(0).integers(0, 255, 16 * 2**20, dtype=np.uint8)
    t0 = time.perf_counter()
    with open(path, "wb", buffering=0) as handle:
        for _ in range(n_bytes // block.size):
            handle.write(memoryview(block))
        os.fdatasync(handle.fileno())
    write = n_bytes / (time.perf_counter() - t0) / 1e6
    _drop_cache(path)
    t0 = time.perf_counter()
    with open(path, "rb", buffering=0) as handle:
        while handle.readinto(block):
            pass
    read = n_bytes / (time.perf_counter() - t0) / 1e6
    os.remove(path)
    return write, read


def part_outofcore(n: int, d: int, k: int, repeats: int, floor_per_row: float | None) -> None:
    import relreps

    print(f"\n[outofcore] memmap -> memmap cosine, n = {n:,}, d = {d}, {k} anchors ({_load()})")
    x, anchors = _projection_data(n, d, k)
    xu = x / np.linalg.norm(x, axis=1, keepdims=True)
    au = anchors / np.linalg.norm(anchors, axis=1, keepdims=True)
    with tempfile.TemporaryDirectory(dir=os.environ.get("RELREPS_BENCH_TMP")) as tmp:
        x_path = os.path.join(tmp, "x.npy")
        np.save(x_path, x)
        del x
        x_mm = np.load(x_path, mmap_mode="r")
        out_path = os.path.join(tmp, "rel.npy")

        def disk() -> None:
            out = np.lib.format.open_memmap(out_path, mode="w+", dtype=np.float32, shape=(n, k))
            relreps.relative_projection(x_mm, anchors, out=out)
            out.flush()
            del out

        def cold() -> None:  # the input read from the disk, not the page cache
            _drop_cache(x_path)
            disk()

        def read_input_cold() -> None:
            _drop_cache(x_path)
            with open(x_path, "rb", buffering=0) as handle:
                buf = bytearray(16 * 2**20)
                while handle.readinto(buf):
                    pass

        works = {"floor": lambda: xu @ au.T, "disk": disk, "cold": cold, "read": read_input_cold}
        r = _median_interleaved(works, repeats)
        write_mb_s, read_mb_s = _disk_speeds(tmp, 512 * 2**20)
        floor = r["floor"][0] / n
        per_row = r["disk"][0] / n
        growth = r["disk"][1] / 2**20
        _row("relreps memmap -> memmap (page cache warm)", r["disk"][0], r["floor"][0], "floor",
             "<= 1.30x", f"{per_row * 1e6:.2f} us/row; RssAnon +{growth:.0f} MB")  # fmt: skip
        _row("relreps memmap -> memmap (input cold)", r["cold"][0], r["floor"][0], "floor",
             "", f"{r['cold'][0] / n * 1e6:.2f} us/row")  # fmt: skip
        _row("floor: in-memory product", r["floor"][0], None, "", "",
             f"{floor * 1e6:.2f} us/row")  # fmt: skip
        in_mb, out_mb = n * d * 4 / 1e6, n * k * 4 / 1e6
        _row("disk: reading the input alone (cold)", r["read"][0], None, "", "",
             f"{in_mb / r['read'][0]:.0f} MB/s for {in_mb:.0f} MB")  # fmt: skip
        print(f"   disk alone: sequential write {write_mb_s:.0f} MB/s (fdatasync), cold read "
              f"{read_mb_s:.0f} MB/s; writing the {out_mb:.0f} MB output back would take "
              f"{out_mb / write_mb_s:.2f} s (write-back starts during the call)")  # fmt: skip
        if floor_per_row:
            print(f"   (projection part's floor: {floor_per_row * 1e6:.2f} us/row)")
        got = np.load(out_path, mmap_mode="r")[:2000]
        ref = relreps.relative_projection(np.array(x_mm[:2000]), anchors)
        print(f"   max |memmap - in-memory| on 2000 rows: {np.abs(got - ref).max():.1e}")
        print(f"   (median of {repeats}; {_load()})", flush=True)


# ----------------------------------------------------------------------------- training step


def part_train(rounds: int, n_anchors: int, threads: int) -> None:
    import torch

    import bench_nn
    from relreps.nn import MLPEncoder

    # One torch thread by default: on the shared 2-core machine two OpenMP threads per step
    # spin-wait on each other under load (steps measured 30-50x slower, any variant).
    torch.set_num_threads(threads)

    print(
        f"\n[train] one step, batch {bench_nn.BATCH}, {n_anchors} anchors, MLP encoder "
        f"{bench_nn.IN}->{bench_nn.WIDTH}->{bench_nn.LATENT}, {torch.get_num_threads()} threads "
        f"({_load()})"
    )
    steps = {v: bench_nn.build_step(v, n_anchors) for v in ("absolute", "relative")}
    steps["relative_concat_detach"] = bench_nn.build_step("relative_concat_detach", n_anchors)
    g = torch.Generator().manual_seed(0)
    anchors = torch.rand(n_anchors, 1, 28, 28, generator=g)
    encoder = MLPEncoder((1, 28, 28), bench_nn.LATENT, hidden=(bench_nn.WIDTH,))

    def anchor_forward() -> None:
        with torch.no_grad():
            encoder(anchors)

    steps["anchor forward (no grad)"] = anchor_forward
    for step in steps.values():
        for _ in range(3):
            step()
    times: dict[str, list[float]] = {v: [] for v in steps}
    for _ in range(rounds):
        for name, step in steps.items():
            t0 = time.perf_counter()
            step()
            times[name].append(time.perf_counter() - t0)
    med = {v: statistics.median(t) for v, t in times.items()}
    absolute = med["absolute"]
    _row("relative step (separate no-grad anchors)", med["relative"], absolute, "absolute",
         "<= 1.30x")  # fmt: skip
    _row("relative step (concat, anchors detached)", med["relative_concat_detach"], absolute,
         "absolute", "<= 1.30x")  # fmt: skip
    _row("absolute step (peer)", absolute, None, "", "")
    bound = absolute + med["anchor forward (no grad)"]
    _row("absolute + anchor forward (bound)", bound, absolute, "absolute", "",
         "the least a step that re-embeds the anchors costs")  # fmt: skip
    print(f"   (median of {rounds} interleaved rounds; {_load()})", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes (smoke run)")
    parser.add_argument("--only", nargs="*", default=["knn", "projection", "outofcore", "train"])
    parser.add_argument("--sizes", type=int, nargs="*", help="kNN n values")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--train-threads", type=int, default=1, help="torch threads, train part")
    args = parser.parse_args()
    print(f"machine: {_machine()}; {_load()}")
    quick = args.quick
    floor_per_row = None
    if "knn" in args.only:
        sizes = args.sizes or ([3_000, 6_000] if quick else [20_000, 50_000, 100_000])
        part_knn(sizes, 1 if quick else 2 if max(sizes) <= 50_000 else 1)
    if "projection" in args.only:
        n = 10_000 if quick else 100_000
        floor_per_row = part_projection(n, 512, 512, args.repeats)
    if "outofcore" in args.only:
        part_outofcore(20_000 if quick else 200_000, 512, 512, args.repeats, floor_per_row)
    if "train" in args.only:
        part_train(10 if quick else 40, 500, args.train_threads)
    print(f"\ndone; {_load()}")


if __name__ == "__main__":
    main()
