"""Argument parsing and dispatch for the ``relreps`` command."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from typing import Any

from relreps import __version__
from relreps.errors import RelrepsError


class CommandError(RelrepsError):
    """A failure to report on one line with exit code 1 (bad files, missing data)."""


Handler = Callable[[argparse.Namespace], int]


def _add_demo(sub: argparse._SubParsersAction) -> None:
    from relreps.cli import demo

    p = sub.add_parser(
        "demo",
        help="the main job: zero-shot stitching on real data, absolute vs relative",
        description=demo.DESCRIPTION,
    )
    p.add_argument("--output", "-o", default="relreps-output/demo", help="output folder")
    p.add_argument("--seed", type=int, default=0, help="base random seed (default 0)")
    p.add_argument("--overwrite", action="store_true", help="replace an existing output folder")
    p.set_defaults(handler=demo.run)


def _add_models(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("models", help="list the named encoders, their dims and local availability")
    p.add_argument("--json", action="store_true", help="print JSON instead of a table")
    p.set_defaults(handler=_models)


def _models(args: argparse.Namespace) -> int:
    import json

    from relreps.encoders import list_models

    infos = list_models()
    if args.json:
        print(json.dumps([info.to_dict() for info in infos], indent=2))
        return 0
    print(f"{'name':<18} {'dim':>5} {'kind':<9} {'offline here':<13} source")
    for info in infos:
        spec = info.spec
        here = "yes" if info.available_offline else "no"
        print(f"{spec.name:<18} {spec.dim:>5} {spec.kind:<9} {here:<13} {spec.online}")
        if not info.available_offline:
            print(f"{'':<18} install: pip install {' '.join(info.missing)}")
    return 0


def _add_similarities(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "similarities", help="list the registered similarities and their invariances"
    )
    p.add_argument("--json", action="store_true", help="print JSON instead of a table")
    p.set_defaults(handler=_similarities)


def _similarities(args: argparse.Namespace) -> int:
    import json

    import relreps

    rows: list[dict[str, Any]] = [
        {
            "name": s.name,
            "kind": s.kind,
            "range": list(s.value_range),
            "invariances": sorted(s.invariances),
            "description": s.description,
        }
        for s in relreps.similarities()
    ]
    if args.json:
        print(json.dumps(rows, indent=2))
        return 0
    for row in rows:
        lo, hi = row["range"]
        print(
            f"{row['name']:<13} {row['kind']:<11} [{lo:g}, {hi:g}]  "
            f"invariant to: {', '.join(row['invariances']) or '-'}"
        )
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The full parser (subcommands register themselves here)."""
    parser = argparse.ArgumentParser(
        prog="relreps",
        description="Relative representations: compare, stitch and translate latent spaces.",
    )
    parser.add_argument("--version", action="version", version=f"relreps {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    for add in _SUBCOMMANDS:
        add(sub)
    return parser


def _add_project(sub: argparse._SubParsersAction) -> None:
    from relreps.cli import project

    project.add_parser(sub)


def _add_compare(sub: argparse._SubParsersAction) -> None:
    from relreps.cli import compare

    compare.add_parser(sub)


def _add_stitch(sub: argparse._SubParsersAction) -> None:
    from relreps.cli import stitch

    stitch.add_parser(sub)


def _add_align(sub: argparse._SubParsersAction) -> None:
    from relreps.cli import align

    align.add_parsers(sub)


def _add_experiments(sub: argparse._SubParsersAction) -> None:
    from relreps.cli import experiments

    experiments.add_parsers(sub)


_SUBCOMMANDS: list[Callable[[argparse._SubParsersAction], None]] = [
    _add_demo,
    _add_experiments,
    _add_project,
    _add_compare,
    _add_align,
    _add_stitch,
    _add_models,
    _add_similarities,
]


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``relreps`` console script; returns the exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)  # exits with 2 on usage errors
    handler: Handler = args.handler
    try:
        return handler(args)
    except CommandError as err:
        print(f"relreps {args.command}: error: {err}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"relreps {args.command}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
