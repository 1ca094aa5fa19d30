#!/usr/bin/env python3
"""Relative-head input norm: LayerNorm vs L2, on small data and on the demo's frozen zoo.

The figures behind "why the norm stays LayerNorm" in docs/experiments/vision-stitching.md:

    scripts/head_norm_study.py digits          # sklearn digits, two random feature maps (~4 min)
    scripts/head_norm_study.py zoo DEMO_RUN    # the 9 frozen encoders `relreps demo -o DEMO_RUN`
                                               # trained (read from DEMO_RUN/models, ~10 min)

digits: 1,400 training rows embedded by a 48-d ReLU and an 80-d tanh random feature map, 100
anchors; a head fitted on the first map, scored on both (own / stitched weighted F1 as
accuracy), after 300 and 1,000 Adam steps. zoo: heads fitted on the three seed-0 encoders of the
demo, stitched into all nine; weighted F1 x100 on the 10k test images.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

NORMS = ("layernorm", "l2")


def digits() -> None:
    from sklearn.datasets import load_digits

    from relreps.stitching import RelativeHead

    images, labels = load_digits(return_X_y=True)
    images = images / 16.0
    rng = np.random.default_rng(0)
    a = np.maximum(images @ rng.normal(size=(64, 48)), 0.0)
    b = np.tanh(0.3 * images @ rng.normal(size=(64, 80)))
    train, test = np.arange(1400), np.arange(1400, labels.size)
    anchors = train[:100]
    for norm in NORMS:
        for steps in (300, 1000):
            start = time.perf_counter()
            head = RelativeHead(seed=0, min_steps=steps, norm=norm)
            head.fit(a[train], labels[train], a[anchors])
            own = head.score(a[test], a[anchors], labels[test])
            stitched = head.score(b[test], b[anchors], labels[test])
            print(
                f"digits {norm:9s} steps={steps:4d}: own {own:.3f} stitched {stitched:.3f} "
                f"({time.perf_counter() - start:.0f} s)",
                flush=True,
            )


def zoo(run: Path) -> None:
    from sklearn.metrics import f1_score

    from relreps.anchors import stratified
    from relreps.experiments._aeq_common import load_image_split
    from relreps.experiments._vision_frozen import embed_zoo, train_frozen_zoo
    from relreps.experiments.base import RunContext
    from relreps.experiments.vision_stitching import FROZEN_DEMO as config
    from relreps.stitching import RelativeHead

    if not (run / "models" / "frozen").is_dir():
        sys.exit(f"error: {run} has no models/frozen: run `relreps demo -o {run}` first")
    context = RunContext(output_dir=run, log=lambda message: None)
    data = load_image_split(config.dataset, config.n_train, config.n_test, 0)
    anchor_idx = stratified(data.y_train, config.n_anchors, seed=0)
    encoders, _ = train_frozen_zoo(config, data, context)  # loads the demo's saved encoders
    spaces = embed_zoo(encoders, data, anchor_idx)
    for norm in NORMS:
        own, stitched = [], []
        for source in (s for s in spaces if s.name.endswith("/s0")):
            head = RelativeHead(seed=0, norm=norm).fit(source.train, data.y_train, source.anchors)
            for target in spaces:
                f1 = f1_score(
                    data.y_test, head.predict(target.test, target.anchors), average="weighted"
                )
                (own if target.name == source.name else stitched).append(100 * f1)
        print(
            f"zoo {norm:9s}: own {np.mean(own):.1f} stitched {np.mean(stitched):.1f} "
            f"kept {np.mean(stitched) / np.mean(own):.3f}",
            flush=True,
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("part", choices=("digits", "zoo"))
    parser.add_argument("run", nargs="?", type=Path, help="a `relreps demo -o RUN` folder (zoo)")
    args = parser.parse_args()
    if args.part == "digits":
        digits()
    elif args.run is None:
        parser.error("zoo needs the demo run folder")
    else:
        zoo(args.run)


if __name__ == "__main__":
    main()
