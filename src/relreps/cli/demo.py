"""``relreps demo``: the main job of the README.

Zero-shot stitching of image classifiers on all of Fashion-MNIST (60,000 training / 10,000 test
images; sklearn digits when the Debian package is absent, and it says so), with the paper's
protocol for image classification: FROZEN encoders. Nine encoders (an MLP and a CNN with 64-d
latents, a CNN with a 32-d latent, 3 seeds each) are trained once as classifiers and frozen; each
then gets an absolute head and a relative head (a linear layer on LayerNorm of the cosine
similarities to 300 class-stratified anchors). Every encoder is plugged into every head with no
training. It prints the stitching matrices, the paper-style summary (absolute / relative x not
stitched / stitched, weighted F1 x100) and the kept fractions, and writes a report (markdown +
self-contained HTML with the figures) into the output folder, and nowhere else.
"""

from __future__ import annotations

import argparse
import json
import sys
import time

DESCRIPTION = __doc__


def run(args: argparse.Namespace) -> int:
    from relreps._io import atomic_write_text
    from relreps.cli.main import CommandError
    from relreps.experiments.base import RunContext
    from relreps.experiments.vision_stitching import FROZEN_DEMO, run_config
    from relreps.report.run_folder import (
        RunFolderError,
        build_manifest,
        prepare_output,
        write_report,
    )

    start = time.perf_counter()
    try:
        folder = prepare_output(args.output, overwrite=args.overwrite)
    except RunFolderError as err:
        raise CommandError(str(err)) from err
    manifest = build_manifest({"command": "demo", "seed": args.seed, **FROZEN_DEMO.to_dict()})
    atomic_write_text(folder / "manifest.json", json.dumps(manifest, indent=2))

    def log(line: str) -> None:
        print(line, file=sys.stderr, flush=True)

    log("relreps demo: zero-shot stitching of image classifiers, absolute vs relative")
    context = RunContext(folder, seed=args.seed, progress=sys.stderr.isatty(), log=log)
    experiment, outcome = run_config(FROZEN_DEMO, None, context)
    result = outcome.result
    experiment = experiment.__class__(
        **{**experiment.__dict__, "name": "demo", "wall_time_s": time.perf_counter() - start}
    )
    atomic_write_text(folder / "results" / "demo.json", experiment.to_json())
    write_report(folder, [experiment], manifest)
    print("\nRelative stitching (rows: encoder, columns: head), weighted F1 x100\n")
    print(result.format_matrix("relative", digits=1))
    print("\nAbsolute stitching (n/a: latent widths differ)\n")
    print(result.format_matrix("absolute", digits=1))
    print("\nSummary (mean +- std over (encoder, head) pairs)\n")
    print(result.format_summary(digits=1))
    print("\nKept fraction: relative stitched / relative not stitched, / absolute not stitched\n")
    for group in (outcome.overall, outcome.cross, *outcome.groups):
        scope = group.encoders if not group.heads else f"{group.encoders} -> {group.heads}"
        print(
            f"  {scope:<13} {group.kept:.3f}  {group.kept_vs_absolute:.3f}   "
            f"(F1 {group.relative_stitched:.1f} stitched vs {group.relative_own:.1f} relative, "
            f"{group.absolute_own:.1f} absolute not stitched)"
        )
    print()
    for verdict in experiment.verdicts:
        print(f"[{verdict.status}] {verdict.claim}: {verdict.detail}")
    print(f"\nReport: {folder / 'report.html'} ({time.perf_counter() - start:.0f} s in all)")
    return 0
