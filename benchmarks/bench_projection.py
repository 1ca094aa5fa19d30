"""Benchmark: cosine relative projection, float32, n=200,000, d=768, 768 anchors.

Each variant runs in its own subprocess (clean memory accounting), one run per child after a
warm-up, in ``--repeats`` interleaved rounds (so load changes on a shared machine hit all alike);
it reports the median time over the rounds and the peak growth of anonymous memory (RssAnon):

  floor           bare matrix product of already-normalised inputs (the unavoidable work)
  floor-torch     the same product in torch (the torch path's floor)
  paper-torch     torch: normalize(x) @ normalize(anchors).T (the published code's way)
  relreps-numpy   relreps.relative_projection on numpy arrays
  relreps-torch   relreps.relative_projection on torch tensors
  relreps-memmap  relreps.relative_projection(out=<memmap on disk>, chunk_size=8192)

Each row is printed beside its floor (numpy's for numpy and memmap, torch's for torch) and, for
torch, beside the peer (the paper's two-liner). Targets (issue 17): relreps <= 1.05x the floor's
time, peak growth <= 1.05x the output size; with a memmap output the growth is bounded by the
chunk, not by n.

Usage: python benchmarks/bench_projection.py [--n 200000] [--repeats 3]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
VARIANTS = [
    "floor",
    "floor-torch",
    "paper-torch",
    "relreps-numpy",
    "relreps-torch",
    "relreps-memmap",
]


def _make_data(n: int, d: int, k: int):
    import numpy as np

    rng = np.random.default_rng(0)
    x = np.empty((n, d), dtype=np.float32)
    for start in range(0, n, 10_000):  # chunked so generation does not raise the peak
        x[start : start + 10_000] = rng.standard_normal((min(10_000, n - start), d), np.float32)
    anchors = rng.standard_normal((k, d), np.float32)
    return x, anchors


def _child(variant: str, n: int, d: int, k: int, repeats: int) -> dict:
    sys.path.insert(0, HERE)
    import numpy as np

    import relreps
    from _memory import peak_growth

    x, anchors = _make_data(n, d, k)
    work = None
    tmpdir = tempfile.mkdtemp(dir=os.environ.get("RELREPS_BENCH_TMP"))
    if variant == "floor":
        x_unit = x / np.linalg.norm(x, axis=1, keepdims=True)
        a_unit = anchors / np.linalg.norm(anchors, axis=1, keepdims=True)
        x = None

        def work():
            return x_unit @ a_unit.T

    elif variant == "floor-torch":
        import torch

        xt = torch.from_numpy(x / np.linalg.norm(x, axis=1, keepdims=True))
        at = torch.from_numpy(anchors / np.linalg.norm(anchors, axis=1, keepdims=True))
        x = None

        def work():
            return xt @ at.T

    elif variant == "paper-torch":
        import torch
        import torch.nn.functional as F

        xt, at = torch.from_numpy(x), torch.from_numpy(anchors)

        def work():
            return F.normalize(xt, dim=-1) @ F.normalize(at, dim=-1).T

    elif variant == "relreps-numpy":

        def work():
            return relreps.relative_projection(x, anchors)

    elif variant == "relreps-torch":
        import torch

        xt, at = torch.from_numpy(x), torch.from_numpy(anchors)

        def work():
            return relreps.relative_projection(xt, at)

    elif variant == "relreps-memmap":
        path = os.path.join(tmpdir, "rel.npy")

        def work():
            out = np.lib.format.open_memmap(path, mode="w+", dtype=np.float32, shape=(n, k))
            relreps.relative_projection(x, anchors, out=out, chunk_size=8192)
            out.flush()
            del out

    else:
        raise ValueError(variant)
    work()  # warm-up (thread pools, page faults of first use)
    times, peaks = [], []
    for _ in range(repeats):
        result, seconds, peak = peak_growth(work)
        del result
        times.append(seconds)
        peaks.append(peak)
    for name in os.listdir(tmpdir):
        os.remove(os.path.join(tmpdir, name))
    os.rmdir(tmpdir)
    return {"variant": variant, "median_s": statistics.median(times), "peak_mb": max(peaks) / 2**20}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=200_000)
    parser.add_argument("--d", type=int, default=768)
    parser.add_argument("--k", type=int, default=768)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(_child(args.child, args.n, args.d, args.k, args.repeats)))
        return
    output_mb = args.n * args.k * 4 / 2**20
    print(
        f"cosine projection n={args.n} d={args.d} anchors={args.k} float32; "
        f"output {output_mb:.0f} MB"
    )
    # Rounds of one child per variant, interleaved: on a shared machine the load changes over
    # minutes, and back-to-back variants would each meet a different load.
    runs: dict[str, list[dict]] = {variant: [] for variant in VARIANTS}
    for _ in range(args.repeats):
        for variant in VARIANTS:
            cmd = [sys.executable, __file__, "--child", variant, "--n", str(args.n)]
            cmd += ["--d", str(args.d), "--k", str(args.k), "--repeats", "1"]
            done = subprocess.run(cmd, capture_output=True, text=True, check=True)
            runs[variant].append(json.loads(done.stdout.strip().splitlines()[-1]))
    rows = {
        variant: {
            "median_s": statistics.median(r["median_s"] for r in results),
            "peak_mb": max(r["peak_mb"] for r in results),
        }
        for variant, results in runs.items()
    }
    floors = {"numpy": rows["floor"]["median_s"], "torch": rows["floor-torch"]["median_s"]}
    peer = rows["paper-torch"]["median_s"]
    print(f"{'variant':<16} {'median s':>9} {'x floor':>8} {'x peer':>7} {'peak +MB':>9} "
          f"{'x output':>9}")  # fmt: skip
    for variant, row in rows.items():
        torch_side = "torch" in variant
        floor = floors["torch" if torch_side else "numpy"]
        vs_peer = f"{row['median_s'] / peer:>7.2f}" if torch_side else f"{'':>7}"
        print(
            f"{variant:<16} {row['median_s']:>9.3f} {row['median_s'] / floor:>8.2f} {vs_peer} "
            f"{row['peak_mb']:>9.0f} {row['peak_mb'] / output_mb:>9.2f}"
        )
    print("floor: numpy's for numpy/memmap rows, torch's for torch rows; peer: the paper's "
          "two-liner (torch)")  # fmt: skip
    print("targets: relreps <= 1.05x floor time; peak <= 1.05x output (memmap: bounded by chunk)")
    with open("/proc/loadavg") as f:
        print("load " + " ".join(f.read().split()[:3]))


if __name__ == "__main__":
    main()
