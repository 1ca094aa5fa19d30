"""``relreps project``: relative projection of arrays on disk, streamed in chunks."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

from relreps.cli.arrays import ArrayFileError, load_array, open_output, save_array
from relreps.cli.main import CommandError
from relreps.cli.progress import progress
from relreps.projection_spec import AGGREGATES, ProjectionSpec


def projection_spec(args: argparse.Namespace) -> ProjectionSpec:
    """The ProjectionSpec of the command's flags (its defaults for the flags not given)."""
    given = {
        "similarity": None
        if args.similarity is None
        else (args.similarity[0] if len(args.similarity) == 1 else tuple(args.similarity)),
        "aggregate": args.aggregate,
        "center": args.center,
        "topk": args.topk,
        "power": args.power,
        "chunk_size": args.chunk_size,
    }
    return ProjectionSpec.resolve(None, **{k: v for k, v in given.items() if v is not None})


DESCRIPTION = """Project EMBEDDINGS (n_samples, n_features) onto ANCHORS and write the relative
representation (n_samples, n_anchors) to OUT. ANCHORS is either a 2-D array of anchor embeddings
or a 1-D integer array of row indices into EMBEDDINGS. Files: .npy (memory-mapped, streamed),
.npz, .safetensors, .parquet; pickled files are refused. The output is written under a temporary
name and renamed when complete. The projection flags build one relreps.ProjectionSpec (its
defaults for the flags not given), printed with the result."""


def add_parser(sub: argparse._SubParsersAction) -> None:
    import relreps

    p = sub.add_parser(
        "project", help="relative projection of arrays on disk", description=DESCRIPTION
    )
    p.add_argument("embeddings", type=Path, help="samples, shape (n_samples, n_features)")
    p.add_argument("anchors", type=Path, help="anchor embeddings (2-D) or row indices (1-D ints)")
    p.add_argument("-o", "--output", type=Path, required=True, help="output file (.npy, .npz, ...)")
    names = [s.name for s in relreps.similarities()]
    defaults = relreps.ProjectionSpec()
    p.add_argument(
        "--similarity",
        default=None,
        nargs="+",
        choices=names,
        help=f"one similarity, or several for a product of invariances "
        f"(default {defaults.similarity})",
    )
    p.add_argument(
        "--aggregate",
        default=None,
        choices=list(AGGREGATES),
        help=f"how several similarities combine (default {defaults.aggregate})",
    )
    p.add_argument("--center", default=None, choices=["anchors"], help="subtract the anchor mean")
    p.add_argument("--topk", type=int, default=None, help="keep the k closest anchors per row")
    p.add_argument(
        "--power",
        type=float,
        default=None,
        help="raise the kept values to this power, then L2-normalise each row",
    )
    p.add_argument("--chunk-size", type=int, default=65536, help="rows per chunk (default 65536)")
    p.add_argument("--key", default=None, help="array name inside .npz/.safetensors inputs")
    p.add_argument("--overwrite", action="store_true", help="replace an existing output file")
    p.set_defaults(handler=run)


def _anchors(anchors_arg: Path, embeddings: np.ndarray, key: str | None) -> np.ndarray:
    anchors = load_array(anchors_arg, key=key, mmap=False)
    if anchors.ndim == 1 or (
        anchors.ndim == 2 and anchors.shape[1] == 1 and anchors.dtype.kind in "iu"
    ):
        if anchors.dtype.kind not in "iu":
            raise CommandError(
                f"{str(anchors_arg)!r} is 1-D but not integer: expected row indices into EMBEDDINGS"
            )
        index = anchors.reshape(-1).astype(np.int64)
        n = embeddings.shape[0]
        if index.size == 0 or index.min() < 0 or index.max() >= n:
            raise CommandError(
                f"anchor indices in {str(anchors_arg)!r} must lie in [0, {n - 1}] "
                f"(EMBEDDINGS has {n} rows)"
            )
        return np.asarray(embeddings[index])
    return anchors


def run(args: argparse.Namespace) -> int:
    import relreps

    output: Path = args.output
    if output.exists() and not args.overwrite:
        raise CommandError(f"output {str(output)!r} exists; pass --overwrite to replace it")
    try:
        embeddings = load_array(args.embeddings, key=args.key)
        if embeddings.ndim != 2:
            raise CommandError(
                f"Expected EMBEDDINGS to be a 2-D array of shape (n_samples, n_features), but "
                f"{str(args.embeddings)!r} has shape {embeddings.shape}."
            )
        anchors = _anchors(args.anchors, embeddings, args.key)
    except ArrayFileError as err:
        raise CommandError(str(err)) from err
    try:
        chunk = relreps._validation.check_int(args.chunk_size, "--chunk-size", low=1)
        spec = projection_spec(args)
        n = embeddings.shape[0]
        projector = relreps.RelativeProjector(spec=spec).fit(np.asarray(anchors))
        first = projector.transform(np.asarray(embeddings[:1]))
        columns, dtype = first.shape[1], first.dtype
        output.parent.mkdir(parents=True, exist_ok=True)
        if output.suffix.lower() == ".npy":
            with open_output(output, (n, columns), dtype) as out:
                for start in progress(range(0, n, chunk), desc="project", unit="chunk"):
                    stop = min(n, start + chunk)
                    rows = embeddings[start:stop]
                    # a memmap slice stays one, so the kernel can read ahead in the file
                    rows = rows if isinstance(rows, np.ndarray) else np.asarray(rows)
                    projector.transform(rows, out=out[start:stop])
        else:
            parts = [
                projector.transform(np.asarray(embeddings[s : s + chunk]))
                for s in progress(range(0, n, chunk), desc="project", unit="chunk")
            ]
            save_array(output, np.concatenate(parts, axis=0))
    except (ValueError, TypeError) as err:
        raise CommandError(str(err)) from err
    print(f"wrote {output} ({n} x {columns} {dtype}) with {spec!r}", file=sys.stderr)
    return 0
