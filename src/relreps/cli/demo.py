"""``relreps demo``: the main job of the README.

Trains a small zoo of image classifiers on Fashion-MNIST (sklearn digits when the Debian package
is absent, and it says so): 2 architectures (an MLP with a 64-d latent, a CNN with a 32-d latent) x
3 seeds, each with an absolute head and a relative head over 500 class-stratified anchors. Then it
plugs every encoder into every head with no training and prints the stitching matrices and the
paper-style summary (absolute / relative x not stitched / stitched, weighted F1 x100), and writes a
report (markdown + self-contained HTML with the figures) into the output folder.
"""

from __future__ import annotations

import argparse
import json
import sys
import time

DESCRIPTION = __doc__


def run(args: argparse.Namespace) -> int:
    from relreps.cli.main import CommandError
    from relreps.experiments.base import RunContext, atomic_write_text
    from relreps.experiments.runner import (
        RunFolderError,
        build_manifest,
        prepare_output,
        write_report,
    )
    from relreps.experiments.vision_stitching import DEMO, run_config

    start = time.perf_counter()
    try:
        folder = prepare_output(args.output, overwrite=args.overwrite)
    except RunFolderError as err:
        raise CommandError(str(err)) from err
    manifest = build_manifest({"command": "demo", "seed": args.seed, **DEMO.to_dict()})
    atomic_write_text(folder / "manifest.json", json.dumps(manifest, indent=2))

    def log(line: str) -> None:
        print(line, file=sys.stderr, flush=True)

    log("relreps demo: zero-shot stitching of image classifiers, absolute vs relative")
    context = RunContext(folder, seed=args.seed, progress=sys.stderr.isatty(), log=log)
    experiment, result = run_config(DEMO, context)
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
    print()
    for verdict in experiment.verdicts:
        print(f"[{verdict.status}] {verdict.claim}: {verdict.detail}")
    print(f"\nReport: {folder / 'report.html'} ({time.perf_counter() - start:.0f} s in all)")
    return 0
