"""``relreps compare``: how alike are two paired spaces on disk."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from relreps.cli.arrays import ArrayFileError, load_array
from relreps.cli.main import CommandError

DESCRIPTION = """Compare two paired spaces A (n_samples, d_a) and B (n_samples, d_b), where row i
of each is the same sample: kNN retrieval (Jaccard@k, MRR@k: B is searched with A's rows), paired
cosine (equal dims), mutual kNN, CKA, CCA family, Procrustes, RSA. With --permutations N, each
metric gets a null distribution (rows of B shuffled) and a p-value, since kNN scores depend on k
and n. Files: .npy, .npz, .safetensors, .parquet (never pickle)."""


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "compare", help="metrics report for two paired spaces on disk", description=DESCRIPTION
    )
    p.add_argument("a", type=Path, help="first space (queries for retrieval metrics)")
    p.add_argument("b", type=Path, help="second space (searched)")
    p.add_argument("--k", type=int, default=10, help="neighbourhood size (default 10)")
    p.add_argument(
        "--metrics", nargs="+", default=None, help="metric names (default: a standard set)"
    )
    p.add_argument("--permutations", type=int, default=0, help="null draws (default 0)")
    p.add_argument("--seed", type=int, default=0, help="seed of the permutations")
    p.add_argument("--key", default=None, help="array name inside .npz/.safetensors inputs")
    p.add_argument("--json", action="store_true", help="print JSON instead of a table")
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from relreps.metrics import compare, list_metrics

    if args.metrics is not None:
        known = [info.name for info in list_metrics()]
        unknown = [m for m in args.metrics if m not in known]
        if unknown:
            raise CommandError(f"unknown metrics {unknown}; choose among {known}")
    try:
        a = load_array(args.a, key=args.key, mmap=False)
        b = load_array(args.b, key=args.key, mmap=False)
        report = compare(
            a, b, metrics=args.metrics, k=args.k, n_permutations=args.permutations, seed=args.seed
        )
    except ArrayFileError as err:
        raise CommandError(str(err)) from err
    except (ValueError, TypeError) as err:
        raise CommandError(str(err)) from err
    if args.json:
        print(json.dumps(report.to_dict(), indent=2))
        return 0
    print(f"n={report.n_samples} dims={report.dims[0]}/{report.dims[1]} k={report.k}")
    header = f"{'metric':<16} {'kind':<11} {'value':>9}"
    if report.n_permutations:
        header += f" {'null mean':>10} {'null std':>9} {'p-value':>8}"
    print(header)
    for score in report:
        line = f"{score.name:<16} {score.kind:<11} {score.value:>9.4f}"
        if report.n_permutations and score.null_mean is not None:
            line += f" {score.null_mean:>10.4f} {score.null_std or 0.0:>9.4f} {score.p_value:>8.4f}"
        print(line)
    return 0
