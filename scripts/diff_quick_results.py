#!/usr/bin/env python3
"""Diff the results of two ``relreps reproduce all --quick`` runs, ignoring timings.

Behaviour is preserved when two runs (before and after a change, or twice on one commit) write the
same numbers. This script compares every ``results/*.json`` of two run folders, and the
``manifest.json`` apart from what describes the machine rather than the run (package versions,
Python, git commit, machine, creation time):

    scripts/diff_quick_results.py RUN_A RUN_B            # two existing run folders
    scripts/diff_quick_results.py --work DIR             # run the quick set twice into DIR/a, DIR/b

Ignored everywhere: keys that are timings (``seconds``, ``train_seconds``, ``wall_time_s``,
``elapsed``, ``duration``, ``time``, ``created``, ``timestamp`` ...; see ``TIMING_KEY``) and any
key matching ``--ignore-key REGEX``. Strings holding a run folder's own path are compared with
that path replaced by ``<RUN>``. Floats must be equal unless ``--rtol``/``--atol`` say otherwise
(default: exact; NaN equals NaN).

Prints one line per difference (``results/NAME.json: $.data.scores[3]: 0.5 != 0.51``) and exits
1 when there is any, 0 when the runs agree, 2 on usage errors or a failed reproduce run.
"""

from __future__ import annotations

import argparse
import json
import math
import re
import shutil
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

TIMING_KEY = re.compile(
    r"(^|_)(seconds|secs|sec|wall|wall_time|elapsed|duration|durations|time|times|timing|"
    r"timings|created|timestamp|started|finished|runtime)(_s|_ms|_sec|_seconds)?$"
    r"|^seconds_",  # seconds_with_embedding, ...
    re.IGNORECASE,
)
# What a manifest says about the machine and the environment rather than about the run.
MANIFEST_KEYS = frozenset(
    {"packages", "relreps_version", "python", "git_commit", "machine", "created"}
)
# Keys that name where a run was written (differ between any two run folders by construction).
PATH_KEY = re.compile(r"^(output|output_dir|folder|path|run_dir|cache_dir)$", re.IGNORECASE)


class Options:
    """How two JSON documents are compared."""

    def __init__(self, *, rtol: float = 0.0, atol: float = 0.0, ignore: Sequence[str] = ()) -> None:
        self.rtol = rtol
        self.atol = atol
        self.ignore = [re.compile(pattern) for pattern in ignore]

    def skips(self, key: str) -> bool:
        return bool(TIMING_KEY.search(key)) or any(p.search(key) for p in self.ignore)


def _numbers_equal(a: float, b: float, options: Options) -> bool:
    if math.isnan(a) and math.isnan(b):
        return True
    if a == b:
        return True
    return math.isclose(a, b, rel_tol=options.rtol, abs_tol=options.atol)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def diff_values(a: Any, b: Any, where: str, options: Options, roots: tuple[str, str]) -> list[str]:
    """Differences between two JSON values, one ``where: a != b`` line each."""
    if isinstance(a, dict) and isinstance(b, dict):
        lines: list[str] = []
        for key in sorted(set(a) | set(b), key=str):
            if options.skips(str(key)):
                continue
            here = f"{where}.{key}"
            if key not in b:
                lines.append(f"{here}: only in A")
            elif key not in a:
                lines.append(f"{here}: only in B")
            else:
                lines.extend(diff_values(a[key], b[key], here, options, roots))
        return lines
    if isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b):
            return [f"{where}: length {len(a)} != {len(b)}"]
        lines = []
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            lines.extend(diff_values(x, y, f"{where}[{i}]", options, roots))
        return lines
    if _is_number(a) and _is_number(b):
        return [] if _numbers_equal(float(a), float(b), options) else [f"{where}: {a!r} != {b!r}"]
    if isinstance(a, str) and isinstance(b, str):
        a_norm = a.replace(roots[0], "<RUN>") if roots[0] else a
        b_norm = b.replace(roots[1], "<RUN>") if roots[1] else b
        return [] if a_norm == b_norm else [f"{where}: {a!r} != {b!r}"]
    return [] if a == b else [f"{where}: {a!r} != {b!r}"]


def _load(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


def _manifest_view(manifest: Any) -> Any:
    if not isinstance(manifest, dict):
        return manifest
    view = {k: v for k, v in manifest.items() if k not in MANIFEST_KEYS}
    if isinstance(view.get("config"), dict):
        view["config"] = {k: v for k, v in view["config"].items() if not PATH_KEY.match(str(k))}
    return view


def diff_runs(run_a: Path, run_b: Path, options: Options | None = None) -> list[str]:
    """Every difference between the results (and manifests) of two run folders."""
    options = options or Options()
    roots = (str(run_a.resolve()), str(run_b.resolve()))
    lines: list[str] = []
    names_a = {p.name for p in (run_a / "results").glob("*.json")}
    names_b = {p.name for p in (run_b / "results").glob("*.json")}
    if not names_a and not names_b:
        lines.append("results/: no results/*.json in either run")
    for name in sorted(names_a | names_b):
        rel = f"results/{name}"
        if name not in names_b:
            lines.append(f"{rel}: only in A")
        elif name not in names_a:
            lines.append(f"{rel}: only in B")
        else:
            a, b = _load(run_a / rel), _load(run_b / rel)
            lines.extend(f"{rel}: {d}" for d in diff_values(a, b, "$", options, roots))
    manifests = [run / "manifest.json" for run in (run_a, run_b)]
    if all(m.exists() for m in manifests):
        a, b = (_manifest_view(_load(m)) for m in manifests)
        lines.extend(f"manifest.json: {d}" for d in diff_values(a, b, "$", options, roots))
    elif any(m.exists() for m in manifests):
        lines.append(f"manifest.json: only in {'A' if manifests[0].exists() else 'B'}")
    return lines


def _relreps_command() -> list[str]:
    local = Path(sys.executable).with_name("relreps")
    if local.exists():
        return [str(local)]
    found = shutil.which("relreps")
    if found is None:
        raise FileNotFoundError("no `relreps` command next to this Python or on PATH")
    return [found]


def reproduce_quick(folder: Path, jobs: int) -> None:
    """``relreps reproduce all --quick`` into a fresh ``folder``."""
    if folder.exists():
        shutil.rmtree(folder)
    folder.parent.mkdir(parents=True, exist_ok=True)
    command = [*_relreps_command(), "reproduce", "all", "--quick", "--jobs", str(jobs)]
    print("$", " ".join([*command, "-o", str(folder)]), file=sys.stderr)
    subprocess.run([*command, "-o", str(folder)], check=True)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Diff results/*.json of two `relreps reproduce all --quick` runs, ignoring "
        "timings. Without RUN_A RUN_B, runs the quick set twice into --work."
    )
    parser.add_argument("runs", nargs="*", type=Path, metavar="RUN", help="RUN_A RUN_B")
    parser.add_argument(
        "--work", type=Path, default=Path("relreps-output/diff-quick"), help="where to run twice"
    )
    parser.add_argument("--jobs", type=int, default=2, help="--jobs for each reproduce run")
    parser.add_argument("--rtol", type=float, default=0.0, help="relative float tolerance")
    parser.add_argument("--atol", type=float, default=0.0, help="absolute float tolerance")
    parser.add_argument(
        "--ignore-key", action="append", default=[], metavar="REGEX", help="also ignore these keys"
    )
    args = parser.parse_args(argv)
    if len(args.runs) not in (0, 2):
        parser.error("give two run folders (RUN_A RUN_B) or none")
    if args.rtol < 0 or args.atol < 0:
        parser.error("--rtol and --atol must be >= 0")
    if args.runs:
        run_a, run_b = args.runs
        for run in (run_a, run_b):
            if not run.is_dir():
                parser.error(f"{run} is not a folder")
    else:
        run_a, run_b = args.work / "a", args.work / "b"
        try:
            for run in (run_a, run_b):
                reproduce_quick(run, args.jobs)
        except (subprocess.CalledProcessError, FileNotFoundError) as err:
            print(f"diff_quick_results: reproduce failed: {err}", file=sys.stderr)
            return 2
    lines = diff_runs(run_a, run_b, Options(rtol=args.rtol, atol=args.atol, ignore=args.ignore_key))
    for line in lines:
        print(line)
    if lines:
        print(f"{len(lines)} difference(s) between {run_a} and {run_b}", file=sys.stderr)
        return 1
    print(f"no differences between {run_a} and {run_b} (timings ignored)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
