"""``relreps align`` and ``relreps translate``: fit a map between two spaces on disk, apply it."""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from relreps.cli.arrays import ArrayFileError, load_array, open_output, save_array
from relreps.cli.main import CommandError
from relreps.cli.progress import progress

ALIGN_DESCRIPTION = """Fit a translator from space X (n_x, d_x) to space Y (n_y, d_y).
--pairs FILE: every pair is known (a share is held out to measure retrieval);
--seed-pairs FILE: a few known pairs (>= 3) grown into many (bootstrapped anchors);
--unpaired: no pairs at all (Gromov-Wasserstein on landmarks / signed PCA, then refinement).
FILE is a two-column text file (row of X, row of Y per line; spaces or commas; '#' comments) or
a .npy/.npz integer array of shape (n_pairs, 2). DIR receives translator.safetensors (the map,
the pairs used and their confidences), alignment.json (method, diagnostics, self-consistency),
manifest.json and report.html/report.md. An unpaired or bootstrapped alignment that fails its
self-consistency check writes its report but no translator, and exits with status 1."""

TRANSLATE_DESCRIPTION = """Stream X (n_samples, d_x) through the translator saved in DIR by
`relreps align` and write (n_samples, d_y) to OUT, chunk by chunk (.npy outputs through a
memmap under a temporary name, renamed when complete)."""

_SEED_METHODS = ("csls", "ot")
_UNPAIRED_METHODS = ("auto", "gw-norm", "gw-density", "pca")
_LINE = re.compile(r"[\s,;]+")


def add_parsers(sub: argparse._SubParsersAction) -> None:
    """Register ``align`` and ``translate``."""
    from relreps.align import TRANSLATORS

    p = sub.add_parser(
        "align", help="fit a translator between two spaces from all, few or no pairs",
        description=ALIGN_DESCRIPTION,
    )  # fmt: skip
    p.add_argument("x", type=Path, help="source space X, shape (n_x, d_x)")
    p.add_argument("y", type=Path, help="target space Y, shape (n_y, d_y)")
    how = p.add_mutually_exclusive_group(required=True)
    how.add_argument("--pairs", type=Path, help="all known pairs (two columns: X row, Y row)")
    how.add_argument("--seed-pairs", type=Path, help="a few known pairs (>= 3) to grow")
    how.add_argument("--unpaired", action="store_true", help="no pairs at all")
    p.add_argument(
        "--method", default=None,
        help=f"with --seed-pairs: {'/'.join(_SEED_METHODS)} (default csls); with --unpaired: "
        f"{'/'.join(_UNPAIRED_METHODS)} (default auto)",
    )  # fmt: skip
    p.add_argument("--translator", default="procrustes", choices=list(TRANSLATORS))
    p.add_argument("--eval-pairs", type=Path, default=None,
                   help="known pairs used only to measure held-out retrieval")  # fmt: skip
    p.add_argument("--holdout", type=float, default=0.2,
                   help="with --pairs: share held out for retrieval (0.2; 0 = none)")  # fmt: skip
    p.add_argument("--threshold", type=float, default=None,
                   help="self-consistency pass mark (default 0.5)")  # fmt: skip
    p.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    p.add_argument("--key", default=None, help="array name inside .npz/.safetensors inputs")
    p.add_argument("-o", "--output", type=Path, required=True, help="output folder DIR")
    p.add_argument("--overwrite", action="store_true", help="replace an existing DIR")
    p.set_defaults(handler=run_align, parser=p)

    t = sub.add_parser(
        "translate", help="map arrays on disk through a saved translator",
        description=TRANSLATE_DESCRIPTION,
    )  # fmt: skip
    t.add_argument("folder", type=Path, help="DIR written by `relreps align`")
    t.add_argument("x", type=Path, help="vectors of X, shape (n_samples, d_x)")
    t.add_argument("-o", "--output", type=Path, required=True, help="output file (.npy, .npz, ...)")
    t.add_argument("--chunk-size", type=int, default=65536, help="rows per chunk (default 65536)")
    t.add_argument("--key", default=None, help="array name inside .npz/.safetensors inputs")
    t.add_argument("--overwrite", action="store_true", help="replace an existing output file")
    t.set_defaults(handler=run_translate)


def read_pairs(path: Path) -> np.ndarray:
    """A two-column file of row indices: text (one pair per line) or .npy/.npz (never pickled).

    Raises:
        CommandError: unreadable file, a line that is not two integers, wrong shape.
    """
    if path.suffix.lower() in (".npy", ".npz", ".safetensors", ".parquet"):
        try:
            arr = np.asarray(load_array(path, mmap=False))
        except ArrayFileError as err:
            raise CommandError(str(err)) from err
        if arr.ndim != 2 or arr.shape[1] != 2 or arr.dtype.kind not in "iu":
            raise CommandError(
                f"pairs file {str(path)!r}: expected an integer array of shape (n_pairs, 2), "
                f"got {arr.dtype} of shape {arr.shape}"
            )
        return arr.astype(np.int64)
    try:
        text = path.read_text("utf-8")
    except (OSError, UnicodeDecodeError) as err:
        raise CommandError(f"pairs file {str(path)!r} cannot be read: {err}") from err
    rows = []
    for number, line in enumerate(text.splitlines(), start=1):
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        parts = _LINE.split(line)
        if len(parts) != 2 or not all(re.fullmatch(r"[+-]?\d+", p) for p in parts):
            raise CommandError(
                f"pairs file {str(path)!r}, line {number}: expected two integer row indices "
                f"(X row, Y row), got {line!r}"
            )
        rows.append((int(parts[0]), int(parts[1])))
    if not rows:
        raise CommandError(f"pairs file {str(path)!r} holds no pairs")
    return np.asarray(rows, dtype=np.int64)


def _space(path: Path, key: str | None, name: str) -> np.ndarray:
    try:
        arr = load_array(path, key=key)
    except ArrayFileError as err:
        raise CommandError(str(err)) from err
    if arr.ndim != 2:
        raise CommandError(
            f"Expected {name} to be a 2-D array of shape (n_samples, n_features), but "
            f"{str(path)!r} has shape {arr.shape}."
        )
    return arr


def _method(args: argparse.Namespace) -> str | None:
    if args.pairs is not None:
        if args.method is not None:
            args.parser.error("--method applies to --seed-pairs and --unpaired, not --pairs")
        return None
    allowed = _SEED_METHODS if args.seed_pairs is not None else _UNPAIRED_METHODS
    method = args.method or allowed[0]
    if method not in allowed:
        flag = "--seed-pairs" if args.seed_pairs is not None else "--unpaired"
        args.parser.error(f"--method with {flag} must be one of {list(allowed)}, got {method!r}")
    return method


def _retrieval(alignment: Any, x: np.ndarray, y: np.ndarray, pairs: np.ndarray) -> dict[str, Any]:
    """Top-1, top-10 and MRR@10 of each held-out X row retrieving its Y row among the held-out
    Y rows (cosine, through the translator)."""
    from relreps.metrics import knn

    queries = np.asarray(alignment.transform(np.asarray(x[pairs[:, 0]], dtype=np.float64)))
    targets = np.asarray(y[pairs[:, 1]], dtype=np.float64)
    k = min(10, targets.shape[0])
    found = np.asarray(knn(queries, targets, k).indices)
    hits = found == np.arange(pairs.shape[0])[:, None]
    ranks = np.arange(1, k + 1, dtype=np.float64)
    return {
        "n_pairs": int(pairs.shape[0]),
        "top1": float(hits[:, 0].mean()),
        "top10": float(hits.any(axis=1).mean()),
        "mrr10": float((hits / ranks).sum(axis=1).mean()),
        "chance_top1": 1.0 / pairs.shape[0],
    }


def _fit(args: argparse.Namespace, x: np.ndarray, y: np.ndarray) -> tuple[Any, np.ndarray | None]:
    from relreps import align

    method = _method(args)
    threshold = align.DEFAULT_THRESHOLD if args.threshold is None else args.threshold
    held_out = read_pairs(args.eval_pairs) if args.eval_pairs is not None else None
    if held_out is not None:
        held_out = align.check_pairs(held_out, x.shape[0], y.shape[0], name="--eval-pairs",
                                     min_pairs=2)  # fmt: skip
    if args.pairs is not None:
        pairs = align.check_pairs(read_pairs(args.pairs), x.shape[0], y.shape[0], name="--pairs",
                                  min_pairs=3)  # fmt: skip
        holdout = relreps_float(args.holdout, "--holdout", 0.0, 0.9)
        if holdout > 0 and held_out is None:
            n_fit = pairs.shape[0] - max(2, round(holdout * pairs.shape[0]))
            if n_fit < 3:
                raise CommandError(
                    f"--pairs holds {pairs.shape[0]} pairs: too few to hold out {holdout:g} of "
                    "them and fit on at least 3 (pass --holdout 0)"
                )
            pairs, held_out = align.split_pairs(pairs, n_fit, seed=args.seed)
        return align.align_pairs(x, y, pairs, translator=args.translator,
                                 threshold=threshold), held_out  # fmt: skip
    if args.seed_pairs is not None:
        seeds = align.check_pairs(read_pairs(args.seed_pairs), x.shape[0], y.shape[0],
                                  name="--seed-pairs", min_pairs=3)  # fmt: skip
        settings = align.RefineSettings(matcher=method or "csls")
        return align.bootstrap_alignment(x, y, seeds, translator=args.translator, settings=settings,
                                         threshold=threshold, seed=args.seed), held_out  # fmt: skip
    return align.align_unpaired(x, y, method=method or "auto", translator=args.translator,
                                threshold=threshold, seed=args.seed), held_out  # fmt: skip


def relreps_float(value: float, name: str, low: float, high: float) -> float:
    """A bounded float option, or a one-line error."""
    if not (low <= value <= high):
        raise CommandError(f"{name} must lie in [{low:g}, {high:g}], got {value:g}")
    return float(value)


def _report(
    folder: Path, alignment: Any, retrieval: dict[str, Any] | None, args: argparse.Namespace
) -> Any:
    from relreps.results import ExperimentResult, Table, Verdict

    check = alignment.consistency
    rows: list[tuple[Any, ...]] = [
        ("method", alignment.method), ("status", alignment.status),
        ("pairs used", int(alignment.pairs.shape[0])), ("given pairs", int(alignment.given.sum())),
        ("X", f"{alignment.n_x} x {alignment.d_x}"), ("Y", f"{alignment.n_y} x {alignment.d_y}"),
    ]  # fmt: skip
    if check is not None:
        rows += [
            ("self-consistency score", round(check.score, 4)),
            ("random-map null score", round(check.null_score, 4)),
            ("pass mark", f">= {check.threshold} and >= null + {check.margin}"),
            ("mutual match rate", round(check.match_rate, 4)),
        ]
        if check.stability is not None:
            stable = check.stability
            rows += [
                ("restart agreement (same nearest Y row under both maps)",
                 round(stable.agreement, 4)),
                ("restart null agreement (rows permuted)", round(stable.null_agreement, 4)),
                ("restart pass mark", f">= {stable.threshold} and >= null + {stable.margin}"),
                ("restart conclusive", stable.conclusive),
            ]  # fmt: skip
    tables = [Table("Alignment", ("quantity", "value"), tuple(rows))]
    if retrieval is not None:
        tables.append(Table(
            "Held-out retrieval (each held-out X row, translated, retrieves its Y row among the "
            "held-out Y rows; cosine)",
            ("held-out pairs", "top-1", "top-10", "MRR@10", "chance top-1"),
            ((retrieval["n_pairs"], round(retrieval["top1"], 4), round(retrieval["top10"], 4),
              round(retrieval["mrr10"], 4), round(retrieval["chance_top1"], 6)),),
        ))  # fmt: skip
    if alignment.rounds:
        tables.append(Table(
            "Refinement rounds",
            ("round", "representation", "anchors in", "mutual matches", "anchors kept",
             "mean score", "changed"),
            tuple((r.index, r.representation, r.n_anchors, r.n_matches, r.n_kept,
                   round(r.mean_score, 4), round(r.changed, 4)) for r in alignment.rounds),
        ))  # fmt: skip
    candidates = alignment.diagnostics.get("candidates", {})
    if candidates:
        tables.append(Table(
            "Candidates tried (the best self-consistency score is kept)",
            ("candidate", "score", "seconds"),
            tuple((n, info.get("score"), info.get("seconds")) for n, info in candidates.items()),
        ))  # fmt: skip
    verdict = Verdict(
        "The alignment holds together (self-consistency at or above its pass mark)",
        "reproduced" if alignment.status == "ok" else "not reproduced",
        alignment.summary(),
    )
    return ExperimentResult(
        name="align", title=f"relreps align {args.x.name} -> {args.y.name}",
        paper_ref="issue 16 (bootstrapped and unpaired alignment)",
        config={"method": alignment.method, "seed": args.seed, "translator": args.translator},
        tables=tuple(tables), verdicts=(verdict,), data={"alignment": alignment.to_dict()},
    )  # fmt: skip


def run_align(args: argparse.Namespace) -> int:
    from relreps._io import atomic_write_bytes, atomic_write_text
    from relreps.align import translator_state
    from relreps.report.run_folder import (
        RunFolderError,
        build_manifest,
        prepare_output,
        write_report,
    )

    start = time.perf_counter()
    x = _space(args.x, args.key, "X")
    y = _space(args.y, args.key, "Y")
    try:
        alignment, held_out = _fit(args, x, y)
        retrieval = None
        if held_out is not None and alignment.ok:
            retrieval = _retrieval(alignment, x, y, held_out)
    except (ValueError, TypeError) as err:
        raise CommandError(str(err)) from err
    try:
        folder = prepare_output(args.output, overwrite=args.overwrite)
    except RunFolderError as err:
        raise CommandError(str(err)) from err
    pairs_file = args.pairs or args.seed_pairs
    config = {"command": "align", "x": str(args.x), "y": str(args.y), "seed": args.seed,
              "pairs": None if pairs_file is None else str(pairs_file),
              "unpaired": args.unpaired}  # fmt: skip
    manifest = build_manifest(config)
    atomic_write_text(folder / "manifest.json", json.dumps(manifest, indent=2))
    summary = alignment.to_dict()
    summary["retrieval"] = retrieval
    summary["seconds"] = round(time.perf_counter() - start, 3)
    summary["inputs"] = {"x": str(args.x), "y": str(args.y), "key": args.key}
    if alignment.ok:
        from safetensors.numpy import save

        arrays, meta = translator_state(alignment.translator)
        arrays = {f"translator.{k}": v for k, v in arrays.items()}
        arrays["pairs"] = np.ascontiguousarray(alignment.pairs)
        arrays["confidences"] = np.ascontiguousarray(alignment.confidences)
        arrays["given"] = np.ascontiguousarray(alignment.given.astype(np.uint8))
        atomic_write_bytes(folder / "translator.safetensors", save(arrays))
        summary["translator_state"] = meta
    atomic_write_text(folder / "alignment.json", json.dumps(_finite(summary), indent=2))
    result = _report(folder, alignment, retrieval, args)
    write_report(folder, [result], manifest)
    print(alignment.summary(), file=sys.stderr)
    if retrieval is not None:
        print(f"held-out retrieval: top-1 {retrieval['top1']:.3f}, MRR@10 {retrieval['mrr10']:.3f} "
              f"({retrieval['n_pairs']} pairs)", file=sys.stderr)  # fmt: skip
    if not alignment.ok:
        raise CommandError(
            f"alignment failed: {alignment.failure_reason()}; no translator written "
            f"(report in {folder})"
        )
    print(f"wrote {folder}", file=sys.stderr)
    return 0


def _finite(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(v) for v in value]
    if isinstance(value, float) and not np.isfinite(value):
        return None
    return value


def load_translator(folder: Path) -> Any:
    """The translator saved by ``relreps align`` in ``folder``.

    Raises:
        CommandError: missing or damaged files, or an alignment that failed.
    """
    from relreps.align import translator_from_state

    try:
        summary = json.loads((folder / "alignment.json").read_text("utf-8"))
    except (OSError, ValueError) as err:
        raise CommandError(f"{str(folder)!r} is not an alignment folder: {err}") from err
    if summary.get("status") != "ok" or "translator_state" not in summary:
        raise CommandError(
            f"{str(folder)!r} holds a failed alignment ({summary.get('method')}): no translator"
        )
    try:
        from safetensors import safe_open

        with safe_open(str(folder / "translator.safetensors"), framework="numpy") as handle:
            arrays = {
                k.removeprefix("translator."): handle.get_tensor(k)
                for k in handle.keys()  # safe_open has no __iter__
                if k.startswith("translator.")
            }
        return translator_from_state(arrays, summary["translator_state"])
    except CommandError:
        raise
    except Exception as err:  # safetensors raises its own types for damaged files
        raise CommandError(f"{str(folder)!r}: cannot read the translator: {err}") from err


def run_translate(args: argparse.Namespace) -> int:
    from relreps._validation import check_finite, check_int

    output: Path = args.output
    if output.exists() and not args.overwrite:
        raise CommandError(f"output {str(output)!r} exists; pass --overwrite to replace it")
    translator = load_translator(args.folder)
    x = _space(args.x, args.key, "X")
    if x.shape[1] != translator.n_features_in_:
        raise CommandError(
            f"Expected X to have {translator.n_features_in_} features (the source space of the "
            f"alignment), but {str(args.x)!r} has shape {x.shape}."
        )
    try:
        chunk = check_int(args.chunk_size, "--chunk-size", low=1)
        n, width = int(x.shape[0]), int(translator.n_features_out_)
        output.parent.mkdir(parents=True, exist_ok=True)

        def block(start: int) -> np.ndarray:
            rows = np.asarray(x[start : start + chunk], dtype=np.float64)
            check_finite(rows, f"X rows {start}-{start + rows.shape[0] - 1}")
            return np.asarray(translator.transform(rows), dtype=np.float32)

        if output.suffix.lower() == ".npy":
            with open_output(output, (n, width), np.float32) as out:
                for start in progress(range(0, n, chunk), desc="translate", unit="chunk"):
                    out[start : start + chunk] = block(start)
        else:
            parts = [block(s) for s in progress(range(0, n, chunk), desc="translate", unit="chunk")]
            save_array(output, np.concatenate(parts, axis=0), key="translated")
    except (ValueError, TypeError, ArrayFileError) as err:
        raise CommandError(str(err)) from err
    print(f"wrote {output} ({n} x {width} float32)", file=sys.stderr)
    return 0
