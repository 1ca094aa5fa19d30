"""Time per training step: relative vs absolute classifier of the same size (CPU).

Usage: ``.venv/bin/python benchmarks/bench_nn.py [--rounds 30] [--threads 1]``

Timings interleave the variants step by step in one process (load changes hit all alike); peak
memory comes from a fresh subprocess per variant (ru_maxrss). Per step: forward,
cross-entropy, backward, Adam update, on a batch of 256 flattened 28x28 images; the encoder is an
MLP 784 -> 512 -> 256 and both heads are LayerNorm + 256 hidden units + 10 logits.

Variants:
- ``floor``: the bare GEMMs of the absolute model's forward (no autograd): a lower bound.
- ``absolute``: AbsoluteClassifier.
- ``relative``: RelativeClassifier as shipped: anchors re-embedded every step; without anchor
  gradient (the default) they go through the encoder in a separate no-grad pass, so the backward
  pass covers the batch only.
- ``relative_cat``: the anchors batched with the inputs in ONE encoder forward with autograd (what
  ``anchor_grad=True`` does); the backward then also runs over the anchor rows.
- ``anchor_forward``: the encoder's no-grad forward of the anchors alone. ``absolute`` plus this
  is the floor of any step that re-embeds the anchors with the current encoder (the paper).
- ``relative_frozen``: frozen encoder (precomputed anchor embeddings; the text/vision stitching
  setting): only the head trains; compared with ``absolute_frozen``.

Target (issue 5): relative <= 1.3x absolute. The machine is shared: timings are noisy; the median
and min of ``--rounds`` steps after warm-up are reported.
"""

from __future__ import annotations

import argparse
import itertools
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Callable

BATCH = 256
IN = 784
WIDTH = 512
LATENT = 256
HIDDEN = 256
CLASSES = 10
VARIANTS = (
    "floor",
    "absolute",
    "anchor_forward",
    "relative",
    "relative_cat",
    "absolute_frozen",
    "relative_frozen",
)


def build_step(variant: str, n_anchors: int) -> Callable[[], None]:
    """One training step of ``variant`` as a closure (models and data built once)."""
    import torch
    from torch.nn import functional as F

    from relreps.nn import AbsoluteClassifier, MLPEncoder, RelativeClassifier

    g = torch.Generator().manual_seed(0)
    x = torch.rand(BATCH, 1, 28, 28, generator=g)
    y = torch.randint(0, CLASSES, (BATCH,), generator=g)
    anchors = torch.rand(n_anchors, 1, 28, 28, generator=g)
    encoder = MLPEncoder((1, 28, 28), LATENT, hidden=(WIDTH,))
    if variant.startswith("absolute") or variant in ("floor", "anchor_forward"):
        model: torch.nn.Module = AbsoluteClassifier(encoder, CLASSES, hidden=(HIDDEN,))
    else:
        model = RelativeClassifier(
            encoder, anchors, CLASSES, hidden=(HIDDEN,), anchor_grad=variant == "relative_cat"
        )
    if variant.endswith("_frozen"):
        for p in model.encoder.parameters():
            p.requires_grad_(False)
        with torch.no_grad():
            z_all = model.encoder(torch.cat([x, anchors]))
        z, z_anchors = z_all[:BATCH], z_all[BATCH:]
    params = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.Adam(params, lr=1e-3)
    dims = [IN, WIDTH, LATENT, HIDDEN, CLASSES]
    weights = [torch.randn(a, b, generator=g) for a, b in itertools.pairwise(dims)]

    def step() -> None:
        if variant == "anchor_forward":
            with torch.no_grad():
                model.encoder(anchors)
            return
        if variant == "floor":
            h = x.reshape(BATCH, -1)
            for w in weights:
                h = h @ w
            return
        if variant == "absolute_frozen":
            logits = model.decode(z)
        elif variant == "relative_frozen":
            logits = model.decode(model.projection.relative(z, z_anchors))
        elif variant == "relative_concat_detach":
            # Anchors batched with x in ONE forward, then detached (no anchor gradient).
            both = model.encoder(torch.cat([x, anchors]))
            logits = model.decode(model.projection.relative(both[:BATCH], both[BATCH:].detach()))
        else:
            logits = model(x)  # relative_cat: anchor_grad=True batches anchors with x
        loss = F.cross_entropy(logits, y)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()

    return step


def time_interleaved(n_anchors: int, rounds: int) -> dict[str, dict[str, float]]:
    """Alternate the variants step by step so load changes on a shared machine hit all alike."""
    steps = {v: build_step(v, n_anchors) for v in VARIANTS}
    for step in steps.values():
        for _ in range(3):
            step()
    times: dict[str, list[float]] = {v: [] for v in VARIANTS}
    for _ in range(rounds):
        for variant, step in steps.items():
            t = time.perf_counter()
            step()
            times[variant].append(time.perf_counter() - t)
    return {
        v: {"median_ms": 1e3 * statistics.median(t), "min_ms": 1e3 * min(t)}
        for v, t in times.items()
    }


def peak_memory(variant: str, n_anchors: int) -> float:
    """Peak RSS (MiB) of a fresh process running 5 steps of one variant."""
    cmd = [sys.executable, __file__, "--variant", variant, "--anchors", str(n_anchors)]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    return float(out.strip().splitlines()[-1])


def main() -> None:
    import torch

    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--rounds", type=int, default=30)
    # One torch thread by default: on a shared machine two OpenMP threads per step spin-wait on
    # each other (steps measured 20x slower under load 6, every variant alike; bench_floor too).
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--variant", help=argparse.SUPPRESS)
    parser.add_argument("--anchors", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    if args.variant == "baseline":
        import relreps.nn  # noqa: F401  (what every variant imports, nothing built)

        print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
        return
    if args.variant:
        step = build_step(args.variant, args.anchors)
        for _ in range(5):
            step()
        print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
        return
    print(
        f"batch {BATCH}, MLP encoder {IN}->{WIDTH}->{LATENT}, head LN+{HIDDEN}->{CLASSES}, "
        f"{args.threads} threads, {args.rounds} interleaved rounds (shared machine: noisy)"
    )
    baseline = peak_memory("baseline", 0)
    print(f"peak RSS of a process that only imports torch + relreps.nn: {baseline:.0f} MiB")
    for n_anchors in (300, 768):
        timing = time_interleaved(n_anchors, args.rounds)
        print(f"\n{n_anchors} anchors")
        print(f"{'variant':<18}{'median ms':>10}{'min ms':>9}{'x absolute':>12}{'peak MiB':>10}")
        for variant in VARIANTS:
            r = timing[variant]
            base = timing["absolute_frozen" if variant.endswith("_frozen") else "absolute"]
            ratio = r["median_ms"] / base["median_ms"]
            mem = peak_memory(variant, n_anchors)
            print(
                f"{variant:<18}{r['median_ms']:>10.2f}{r['min_ms']:>9.2f}{ratio:>12.2f}{mem:>10.0f}"
            )
        absolute = timing["absolute"]["median_ms"]
        ratio = timing["relative"]["median_ms"] / absolute
        bound = absolute + timing["anchor_forward"]["median_ms"]
        verdict = "meets" if ratio <= 1.3 else "misses"
        print(f"relative / absolute (peer) = {ratio:.2f} ({verdict} the 1.3x target); floor of a "
              f"step re-embedding the anchors = absolute + anchor forward = {bound:.2f} ms = "
              f"{bound / absolute:.2f}x absolute; relative / that floor = "
              f"{timing['relative']['median_ms'] / bound:.2f}")  # fmt: skip
        with open("/proc/loadavg") as f:
            print("load " + " ".join(f.read().split()[:3]))


if __name__ == "__main__":
    main()
