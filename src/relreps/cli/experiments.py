"""``relreps reproduce``, ``relreps list`` and ``relreps report``."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

from relreps.cli.main import CommandError


def add_parsers(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "reproduce",
        help="run paper experiments and write tables, figures and a report",
        description="Run one experiment (see `relreps list`) or all of them into an output folder "
        "with results/NAME.json, figures/, report.md, report.html and manifest.json.",
    )
    p.add_argument("name", help="experiment name, or 'all'")
    p.add_argument("--quick", action="store_true", help="the reduced variant that CI runs")
    p.add_argument(
        "--seeds", type=int, default=None, help="number of seeds (default: per experiment)"
    )
    p.add_argument("--seed", type=int, default=0, help="base random seed (default 0)")
    p.add_argument("--output", "-o", type=Path, default=None, help="output folder")
    p.add_argument("--resume", action="store_true", help="continue an interrupted run in --output")
    p.add_argument("--overwrite", action="store_true", help="replace an existing output folder")
    p.add_argument(
        "--online",
        action="store_true",
        help="also run the paper's original data and models, which download (MNIST, CIFAR-10, "
        "Planetoid, hub text datasets and transformers); parts that cannot be fetched are "
        "skipped with the reason",
    )
    p.add_argument(
        "--planetoid",
        metavar="NAMES",
        default=None,
        help="graph: Planetoid sets to run as well, comma-separated (Cora,CiteSeer,PubMed or "
        "all; needs PyTorch Geometric and the network)",
    )
    p.add_argument(
        "--text-datasets",
        metavar="NAMES",
        default=None,
        help="text-stitching: the paper's hub datasets to run as well, comma-separated (trec, "
        "dbpedia14, amazon_reviews_multi)",
    )
    p.add_argument(
        "--amazon-languages",
        metavar="LANGS",
        default=None,
        help="cross-lingual: Amazon review languages to run as well, comma-separated (e.g. fr,es)",
    )
    p.add_argument(
        "--word-vectors",
        metavar="FILE",
        action="append",
        default=None,
        help="word-embeddings: compare these word-vector files (.vec/.txt/.bin) instead of the "
        "trained spaces; repeat for each file",
    )
    p.add_argument(
        "--jobs",
        "-j",
        type=int,
        default=1,
        help="experiments to run at once, each in its own process (default 1)",
    )
    p.set_defaults(handler=reproduce)

    p = sub.add_parser("list", help="list the experiments and whether their data is available")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(handler=list_experiments)

    p = sub.add_parser("report", help="rebuild the report of a finished run folder")
    p.add_argument("folder", type=Path, help="a run folder written by `relreps reproduce`")
    p.set_defaults(handler=report)


#: Environment variables that chose the optional data before the flags did (documented then), as
#: ``flag attribute -> (variable, separator)``. Still read when the flag is absent, with a warning.
DEPRECATED_ENV = {
    "planetoid": ("RELREPS_GRAPH_PLANETOID", ","),
    "text_datasets": ("RELREPS_TEXT_STITCHING_DATASETS", ","),
    "amazon_languages": ("RELREPS_CROSS_LINGUAL_AMAZON", ","),
    "word_vectors": ("RELREPS_WORD_VECTORS", os.pathsep),
}


def _selection(args: argparse.Namespace) -> Any:
    """The :class:`DataSelection` of the flags; an unset flag falls back to its deprecated
    environment variable (``DEPRECATED_ENV``)."""
    from relreps.experiments.base import DataSelection

    chosen: dict[str, tuple[str, ...]] = {}
    for attr, (variable, sep) in DEPRECATED_ENV.items():
        value = getattr(args, attr, None)
        if value is None and os.environ.get(variable):
            flag = "--" + attr.replace("_", "-")
            print(
                f"relreps reproduce: warning: {variable} is deprecated; pass {flag} instead",
                file=sys.stderr,
            )
            value = os.environ[variable].split(sep)
        elif isinstance(value, str):
            value = value.split(",")
        chosen[attr] = tuple(v.strip() for v in value or () if v.strip())
    return DataSelection(**chosen)


def reproduce(args: argparse.Namespace) -> int:
    from relreps import experiments
    from relreps.experiments.runner import reproduce as run
    from relreps.report.run_folder import RunFolderError

    if args.name != "all" and args.name not in experiments.names():
        print(
            f"relreps reproduce: error: unknown experiment {args.name!r}; choose one of "
            f"{experiments.names()} or 'all'",
            file=sys.stderr,
        )
        return 2
    if args.seeds is not None and args.seeds < 1:
        print("relreps reproduce: error: --seeds must be >= 1", file=sys.stderr)
        return 2
    if args.jobs < 1:
        print("relreps reproduce: error: --jobs must be >= 1", file=sys.stderr)
        return 2
    output = args.output or Path("relreps-output") / (args.name + ("-quick" if args.quick else ""))
    try:
        results = run(
            [args.name],
            output,
            quick=args.quick,
            seeds=args.seeds,
            seed=args.seed,
            resume=args.resume,
            overwrite=args.overwrite,
            progress=sys.stderr.isatty(),
            jobs=args.jobs,
            online=args.online,
            selection=_selection(args),
            log=lambda line: print(line, file=sys.stderr),
        )
    except RunFolderError as err:
        raise CommandError(str(err)) from err
    for result in results:
        status = "skipped: " + result.skipped_reason if result.skipped_reason else "done"
        print(f"{result.name}: {status}")
        for verdict in result.verdicts:
            print(f"  [{verdict.status}] {verdict.claim}: {verdict.detail}")
    print(f"results in {output}", file=sys.stderr)
    return 0


def list_experiments(args: argparse.Namespace) -> int:
    import json

    from relreps import experiments
    from relreps.experiments.base import format_missing

    rows: list[dict[str, Any]] = []
    for name in experiments.names():
        spec = experiments.get(name)
        missing = spec.missing()
        rows.append(
            {
                "name": name,
                "title": spec.title,
                "paper": spec.paper_ref,
                "needs": [r.name for r in spec.requirements],
                "available": not missing,
                "missing": format_missing(missing),
            }
        )
    if args.json:
        print(json.dumps(rows, indent=2))
        return 0
    for row in rows:
        state = "available" if row["available"] else "MISSING: " + row["missing"]
        print(f"{row['name']:<28} {row['paper']:<22} {row['title']}")
        print(f"{'':<28} needs: {', '.join(row['needs']) or '-'} [{state}]")
    return 0


def report(args: argparse.Namespace) -> int:
    folder: Path = args.folder
    if not (folder / "manifest.json").exists():
        raise CommandError(f"{str(folder)!r} is not a relreps run folder (no manifest.json)")
    from relreps.report import RunFolderError, rebuild_report

    try:
        paths = rebuild_report(folder)
    except RunFolderError as err:
        raise CommandError(str(err)) from err
    for path in paths:
        print(path)
    return 0
