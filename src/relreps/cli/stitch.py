"""``relreps stitch``: zero-shot stitching of two models' embeddings of one dataset, on disk."""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from relreps.cli.arrays import SUFFIXES, ArrayFileError, load_array, save_array
from relreps.cli.main import CommandError

if TYPE_CHECKING:
    from relreps.stitching.frozen import HeadConfig

DESCRIPTION = """Zero-shot stitching of two models' embeddings of ONE dataset. A and B are
(n_rows, d_a) and (n_rows, d_b) arrays whose row i is the same item embedded by model A and by
model B (.npy, .npz, .safetensors or .parquet, read as `relreps project` reads them; widths may
differ). A relative head (relreps.stitching.RelativeHead: a linear layer on LayerNorm of the
cosine similarities to the anchors, by default) is trained on A's training rows and scored on the
test rows:

  own          A's relative head on A's test rows (not stitched)
  stitched     A's relative head on B's test rows and B's anchors (zero-shot, no training)
  absolute     A's absolute head (same head kind on the raw embeddings) on B's test rows; only
               defined when the widths match
  translation  B's test rows mapped into A by a Procrustes map fitted on the anchors, read by
               A's absolute head
  absolute_own A's absolute head on A's test rows (what translation is compared with)
  chance       the training rows' majority class for every test row

Scores: accuracy and weighted F1, shown x100 in the table; --json prints them in [0, 1].
kept = stitched / own (weighted F1): how much of the head's own score survives stitching.

Split: by default a seeded class-stratified split holds out --test-fraction of the rows (0.2).
With --test-labels YT the rows of A and B are the training rows followed by the test rows: the
first len(Y) rows are the training rows labelled by --labels, the next len(YT) rows are the test
rows labelled by YT, and len(Y) + len(YT) must equal n_rows (e.g. embed the train and test sets
and concatenate them).

Labels: .npy/.npz/.safetensors/.parquet arrays, or a text file with one label per line (ints or
strings). Anchors: N seeded class-stratified training rows (default 300, or all training rows when
fewer), or a file of row indices into A and B (0-based, distinct; .npy or one int per line).

With -o DIR the run folder gets the head (DIR/head: safetensors + JSON config, load it with
RelativeHead.load), the anchor row indices (DIR/anchor_rows.npy; predicting with the saved head
needs the new model's embeddings of these rows), the test row indices, results JSON, manifest and
an HTML report. An existing folder is replaced only with --overwrite."""

ROWS = ("own", "stitched", "absolute", "translation", "absolute_own", "chance")
_WHAT = {
    "own": "A's relative head on A's test rows",
    "stitched": "A's relative head on B's test rows (zero-shot)",
    "absolute": "A's absolute head on B's test rows",
    "translation": "B mapped into A by Procrustes on the anchors, A's absolute head",
    "absolute_own": "A's absolute head on A's test rows",
    "chance": "majority class of the training rows",
}
_MAX_LISTED = 10


def add_parser(sub: argparse._SubParsersAction) -> None:
    import relreps
    from relreps.stitching.frozen import DEFAULTS, HEADS, NORMS

    p = sub.add_parser(
        "stitch",
        help="zero-shot stitching of two models' embeddings of one dataset",
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument(
        "a", type=Path, help="model A's embeddings (n_rows, d_a): the head is fitted here"
    )
    p.add_argument("b", type=Path, help="model B's embeddings (n_rows, d_b) of the same items")
    p.add_argument("--labels", type=Path, required=True, help="class labels (file)")
    p.add_argument(
        "--test-labels",
        type=Path,
        default=None,
        help="labels of the test rows, which then follow the len(--labels) training rows",
    )
    p.add_argument(
        "--anchors",
        default=None,
        help=f"N class-stratified training rows (default {DEFAULTS.n_anchors}) or a file of row "
        "indices",
    )
    p.add_argument(
        "--test-fraction",
        type=float,
        default=None,
        help="share of rows held out by the stratified split (default 0.2; not with --test-labels)",
    )
    p.add_argument("--head", default=DEFAULTS.head, choices=HEADS, help="head kind")
    p.add_argument("--norm", default=DEFAULTS.norm, choices=NORMS, help="norm of the head's input")
    p.add_argument(
        "--similarity",
        default=DEFAULTS.similarity,
        choices=[s.name for s in relreps.similarities()],
        help=f"similarity to the anchors (default {DEFAULTS.similarity})",
    )
    p.add_argument(
        "--center", default=DEFAULTS.center, choices=["anchors"], help="anchor-centred similarity"
    )
    p.add_argument("--epochs", type=int, default=DEFAULTS.epochs, help=f"default {DEFAULTS.epochs}")
    p.add_argument(
        "--min-steps",
        type=int,
        default=DEFAULTS.min_steps,
        help=f"at least this many Adam steps (default {DEFAULTS.min_steps})",
    )
    p.add_argument("--seed", type=int, default=0, help="split, anchors and head seed (default 0)")
    p.add_argument("--key", default=None, help="array name inside .npz/.safetensors inputs")
    p.add_argument("--json", action="store_true", help="print one JSON object instead of a table")
    p.add_argument("-o", "--output", type=Path, default=None, help="run folder to write")
    p.add_argument("--overwrite", action="store_true", help="replace an existing run folder")
    p.set_defaults(handler=run)


# --- inputs ---------------------------------------------------------------------------------------


def _space(path: Path, name: str, key: str | None) -> np.ndarray:
    try:
        arr = load_array(path, key=key, mmap=False)
    except ArrayFileError as err:
        raise CommandError(str(err)) from err
    if arr.ndim != 2 or arr.shape[0] < 2 or arr.shape[1] < 1:
        raise CommandError(
            f"Expected {name} to be a 2-D array of shape (n_rows >= 2, n_features), but "
            f"{str(path)!r} has shape {arr.shape}"
        )
    if arr.dtype.kind not in "biuf":
        raise CommandError(
            f"Expected {name} to be numeric, but {str(path)!r} has dtype {arr.dtype}"
        )
    arr = np.asarray(arr, dtype=np.float32 if arr.dtype.kind != "f" else arr.dtype)
    bad = np.flatnonzero(~np.isfinite(arr).all(axis=1))
    if bad.size:
        raise CommandError(
            f"Expected {name} to hold only finite values, but {str(path)!r} has NaN or Inf in "
            f"{bad.size} row{'s' if bad.size != 1 else ''}: {_listed(bad)}"
        )
    return arr


def _listed(rows: np.ndarray) -> str:
    shown = ", ".join(str(int(i)) for i in rows[:_MAX_LISTED])
    return shown + (f" and {rows.size - _MAX_LISTED} more" if rows.size > _MAX_LISTED else "")


def _text_values(path: Path, flag: str) -> np.ndarray:
    try:
        lines = path.read_text("utf-8").splitlines()
    except FileNotFoundError as err:
        raise CommandError(f"{flag} {str(path)!r} does not exist") from err
    except (OSError, UnicodeDecodeError) as err:
        raise CommandError(f"{flag} {str(path)!r} is not a readable text file: {err}") from err
    while lines and not lines[-1].strip():
        lines.pop()
    values = [line.strip() for line in lines]
    if any(not v for v in values):
        first = next(i for i, v in enumerate(values) if not v)
        raise CommandError(f"{flag} {str(path)!r}: line {first + 1} is empty (one value per line)")
    for kind in (int, float):
        try:
            return np.asarray([kind(v) for v in values])
        except ValueError:
            continue
    return np.asarray(values)


def _labels(path: Path, flag: str, key: str | None) -> np.ndarray:
    if path.suffix.lower() in SUFFIXES:
        try:
            arr = load_array(path, key=key, mmap=False)
        except ArrayFileError as err:
            raise CommandError(f"{flag}: {err}") from err
    else:
        arr = _text_values(path, flag)
    if arr.ndim == 2 and arr.shape[1] == 1:
        arr = arr[:, 0]
    if arr.ndim != 1:
        raise CommandError(
            f"Expected {flag} to be 1-D (one label per row), but {str(path)!r} has shape "
            f"{arr.shape}"
        )
    if arr.dtype.kind == "f":
        integral = np.isfinite(arr) & (arr == np.round(arr))
        if not integral.all():
            bad = np.flatnonzero(~integral)
            raise CommandError(
                f"Expected {flag} to hold class labels (ints or strings), but {str(path)!r} "
                f"holds non-integral floats, e.g. {arr[bad[0]]!r} at row {int(bad[0])}"
            )
        arr = arr.astype(np.int64)
    elif arr.dtype.kind not in "biuU":
        raise CommandError(
            f"Expected {flag} to hold class labels (ints or strings), but {str(path)!r} has "
            f"dtype {arr.dtype}"
        )
    return arr


def _split(
    n_rows: int, labels: np.ndarray, test_labels: np.ndarray | None, fraction: float, seed: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(train rows, test rows, labels of every row)."""
    if test_labels is not None:
        if labels.size + test_labels.size != n_rows:
            raise CommandError(
                f"Expected len(--labels) + len(--test-labels) to equal the {n_rows} rows of A and "
                f"B (training rows first, then test rows), but got {labels.size} + "
                f"{test_labels.size} = {labels.size + test_labels.size}"
            )
        if (labels.dtype.kind == "U") != (test_labels.dtype.kind == "U"):
            raise CommandError(
                f"Expected --labels and --test-labels to hold labels of one kind, but got dtypes "
                f"{labels.dtype} and {test_labels.dtype}"
            )
        every = np.concatenate([labels, test_labels])
        return np.arange(labels.size), np.arange(labels.size, n_rows), every
    if labels.size != n_rows:
        raise CommandError(
            f"Expected --labels to hold one label per row of A and B ({n_rows}), but got "
            f"{labels.size}"
        )
    rng = np.random.default_rng(seed)
    test = []
    for cls in np.unique(labels):
        rows = rng.permutation(np.flatnonzero(labels == cls))
        test.append(rows[: round(fraction * rows.size)])
    test_rows = np.sort(np.concatenate(test))
    train_rows = np.setdiff1d(np.arange(n_rows), test_rows)
    if test_rows.size == 0 or train_rows.size < 2:
        raise CommandError(
            f"--test-fraction {fraction} leaves {train_rows.size} training and {test_rows.size} "
            f"test rows of {n_rows}; both parts need rows"
        )
    return train_rows, test_rows, labels


def _anchor_rows(
    spec: str | None, n_rows: int, train_rows: np.ndarray, labels: np.ndarray, seed: int
) -> np.ndarray:
    from relreps.anchors import stratified
    from relreps.stitching.frozen import DEFAULTS

    count: int | None = None
    if spec is None:
        count = min(DEFAULTS.n_anchors, train_rows.size)
    elif not Path(spec).exists():
        try:
            count = int(spec)
        except ValueError:
            raise CommandError(
                f"--anchors {spec!r} is neither a number nor an existing file"
            ) from None
        if not 1 <= count <= train_rows.size:
            raise CommandError(
                f"Expected --anchors N to be in [1, {train_rows.size}] (the training rows), but "
                f"got {count}"
            )
    if count is not None:
        picked = stratified(labels[train_rows], count, seed=seed)
        return train_rows[picked]
    path = Path(str(spec))
    if path.suffix.lower() in SUFFIXES:
        try:
            index = load_array(path, mmap=False)
        except ArrayFileError as err:
            raise CommandError(f"--anchors: {err}") from err
    else:
        index = _text_values(path, "--anchors")
    index = np.asarray(index).reshape(-1) if index.ndim == 2 and 1 in index.shape else index
    if index.ndim != 1 or index.dtype.kind not in "iu" or index.size == 0:
        raise CommandError(
            f"Expected --anchors {str(path)!r} to hold row indices (a non-empty 1-D int array), "
            f"but got shape {index.shape} and dtype {index.dtype}"
        )
    index = index.astype(np.int64)
    outside = np.flatnonzero((index < 0) | (index >= n_rows))
    if outside.size:
        raise CommandError(
            f"Expected the anchor row indices in {str(path)!r} to lie in [0, {n_rows - 1}] (A and "
            f"B have {n_rows} rows), but {outside.size} do not, e.g. {int(index[outside[0]])} "
            f"at position {int(outside[0])}"
        )
    if np.unique(index).size != index.size:
        raise CommandError(f"Expected the anchor row indices in {str(path)!r} to be distinct")
    return index


# --- the run --------------------------------------------------------------------------------------


def _scores(truth: np.ndarray, predicted: np.ndarray) -> dict[str, Any]:
    from relreps.stitching.scores import accuracy, f1_score

    return {
        "accuracy": accuracy(truth, predicted),
        "f1_weighted": f1_score(truth, predicted, average="weighted"),
    }


def _fraction_and_config(args: argparse.Namespace) -> tuple[float, HeadConfig]:
    """The test fraction and the head's options from the command line, checked before loading."""
    from relreps._validation import check_float
    from relreps.stitching.frozen import DEFAULTS

    if args.test_labels is not None and args.test_fraction is not None:
        raise CommandError("--test-fraction and --test-labels exclude each other: give one")
    fraction = 0.2 if args.test_fraction is None else args.test_fraction
    try:
        check_float(fraction, "--test-fraction", low=0.0, high=1.0, low_inclusive=False)
        if fraction >= 1.0:
            raise ValueError(f"Expected `--test-fraction` to be below 1, but got {fraction!r}.")
        config = replace(
            DEFAULTS,
            head=args.head,
            norm=args.norm,
            similarity=args.similarity,
            center=args.center,
            epochs=args.epochs,
            min_steps=args.min_steps,
            seed=args.seed,
        )
    except (ValueError, TypeError) as err:
        raise CommandError(str(err)) from err
    return fraction, config


def _evaluate(args: argparse.Namespace) -> tuple[dict[str, Any], Any, dict[str, np.ndarray]]:
    from relreps.stitching.frozen import AbsoluteHead, RelativeHead, procrustes_translate

    fraction, config = _fraction_and_config(args)
    a = _space(args.a, "A", args.key)
    b = _space(args.b, "B", args.key)
    if a.shape[0] != b.shape[0]:
        raise CommandError(
            f"Expected A and B to embed the same items (same number of rows), but A has "
            f"{a.shape[0]} rows and B has {b.shape[0]}"
        )
    n_rows = a.shape[0]
    labels = _labels(args.labels, "--labels", args.key)
    test_labels = (
        None if args.test_labels is None else _labels(args.test_labels, "--test-labels", args.key)
    )
    train, test, every = _split(n_rows, labels, test_labels, fraction, args.seed)
    classes = np.unique(every[train])
    if classes.size < 2:
        raise CommandError(
            f"Expected at least 2 classes among the training rows, but got only {classes.tolist()}"
        )
    anchors = _anchor_rows(args.anchors, n_rows, train, every, args.seed)

    y_train, y_test = every[train], every[test]
    try:
        head = RelativeHead.from_config(config).fit(a[train], y_train, a[anchors])
        absolute = AbsoluteHead.from_config(config).fit(a[train], y_train)
        translated = procrustes_translate(b[test], b[anchors], a[anchors])
        rows: dict[str, Any] = {
            "own": _scores(y_test, head.predict(a[test], a[anchors])),
            "stitched": _scores(y_test, head.predict(b[test], b[anchors])),
        }
        if a.shape[1] == b.shape[1]:
            rows["absolute"] = _scores(y_test, absolute.predict(b[test]))
        else:
            rows["absolute"] = {
                "accuracy": None,
                "f1_weighted": None,
                "reason": f"widths differ ({a.shape[1]} vs {b.shape[1]})",
            }
        rows["translation"] = _scores(y_test, absolute.predict(translated))
        rows["absolute_own"] = _scores(y_test, absolute.predict(a[test]))
    except (ValueError, TypeError) as err:
        raise CommandError(str(err)) from err
    values, counts = np.unique(y_train, return_counts=True)
    majority = values[int(np.argmax(counts))]
    rows["chance"] = _scores(y_test, np.full(y_test.shape, majority))
    own, stitched = rows["own"], rows["stitched"]
    summary = {
        **rows,
        "kept_fraction": {
            m: (stitched[m] / own[m] if own[m] > 0 else None) for m in ("accuracy", "f1_weighted")
        },
        "n_rows": int(n_rows),
        "n_train": int(train.size),
        "n_test": int(test.size),
        "n_classes": int(classes.size),
        "n_anchors": int(anchors.size),
        "widths": [int(a.shape[1]), int(b.shape[1])],
        "head": config.to_dict(),
        "split": "test labels" if test_labels is not None else f"stratified {fraction:g}",
    }
    return summary, head, {"anchor_rows": anchors, "test_rows": test}


def _describe(summary: dict[str, Any], args: argparse.Namespace) -> str:
    head = summary["head"]
    inner = f"{head['similarity']}{', anchor-centred' if head['center'] else ''}"
    kind = "linear" if head["head"] == "linear" else f"MLP ({head['hidden']} hidden)"
    from relreps.stitching.frozen import HeadConfig, training_passes

    passes = training_passes(HeadConfig.from_dict(head), summary["n_train"])
    return (
        f"A {str(args.a)!r} ({summary['widths'][0]}-d) -> B {str(args.b)!r} "
        f"({summary['widths'][1]}-d): {summary['n_train']} training / {summary['n_test']} test "
        f"rows, {summary['n_classes']} classes, {summary['n_anchors']} anchors\n"
        f"head: {kind} on {head['norm']}({inner} to the anchors), {passes} passes over the "
        f"training rows, seed {head['seed']}"
    )


def _table_rows(summary: dict[str, Any]) -> list[tuple[str, Any, Any, str]]:
    out = []
    for name in ROWS:
        row = summary[name]
        if row["accuracy"] is None:
            out.append((name, None, None, f"n/a: {row['reason']}"))
        else:
            out.append((name, 100 * row["accuracy"], 100 * row["f1_weighted"], _WHAT[name]))
    return out


def _print_table(summary: dict[str, Any], args: argparse.Namespace) -> None:
    print(_describe(summary, args))
    print()
    print(f"{'row':<13} {'accuracy':>8} {'F1 (w)':>8}  what")
    for name, acc, f1, what in _table_rows(summary):
        if acc is None:
            print(f"{name:<13} {'-':>8} {'-':>8}  {what}")
        else:
            print(f"{name:<13} {acc:>8.1f} {f1:>8.1f}  {what}")
    kept = summary["kept_fraction"]
    print()
    print(
        f"kept: stitched / own = {_ratio(kept['f1_weighted'])} (weighted F1), "
        f"{_ratio(kept['accuracy'])} (accuracy). Scores x100."
    )


def _ratio(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.3f}"


def _write_folder(
    args: argparse.Namespace,
    summary: dict[str, Any],
    head: Any,
    indices: dict[str, np.ndarray],
    seconds: float,
) -> Path:
    from relreps._io import atomic_write_text
    from relreps.report.run_folder import (
        RunFolderError,
        build_manifest,
        prepare_output,
        write_report,
    )
    from relreps.results import ExperimentResult, Table, jsonable

    try:
        folder = prepare_output(args.output, overwrite=args.overwrite)
    except RunFolderError as err:
        raise CommandError(str(err)) from err
    config = {
        "command": "stitch",
        "a": str(args.a),
        "b": str(args.b),
        "labels": str(args.labels),
        "test_labels": None if args.test_labels is None else str(args.test_labels),
        "anchors": args.anchors,
        "seed": args.seed,
        "split": summary["split"],
        "head": summary["head"],
    }
    manifest = build_manifest(config)
    atomic_write_text(folder / "manifest.json", json.dumps(manifest, indent=2))
    head.save(folder / "head")
    for name, rows in indices.items():
        save_array(folder / f"{name}.npy", rows.astype(np.int64))
    kept = _ratio(summary["kept_fraction"]["f1_weighted"])
    table = Table(
        "Zero-shot stitching, A's heads on B (scores x100)",
        ("row", "accuracy", "weighted F1", "what"),
        tuple(_table_rows(summary)),
        note=f"{_describe(summary, args)}; kept (stitched / own, weighted F1) = {kept}".replace(
            "\n", "; "
        ),
    )
    result = ExperimentResult(
        "stitch",
        "relreps stitch",
        "paper 5.3 (zero-shot stitching of frozen encoders)",
        config,
        tables=(table,),
        data=jsonable(summary),
        wall_time_s=seconds,
    )
    atomic_write_text(folder / "results" / "stitch.json", result.to_json())
    write_report(folder, [result], manifest)
    return folder


def run(args: argparse.Namespace) -> int:
    output: Path | None = args.output
    if output is not None and output.exists() and not args.overwrite:
        if not output.is_dir() or any(output.iterdir()):
            raise CommandError(f"output {str(output)!r} exists; pass --overwrite to replace it")
    start = time.perf_counter()
    summary, head, indices = _evaluate(args)
    if args.json:
        print(json.dumps(summary, indent=2))
    else:
        _print_table(summary, args)
    if output is not None:
        folder = _write_folder(args, summary, head, indices, time.perf_counter() - start)
        print(f"wrote {folder} (head/, report.html, results/stitch.json)", file=sys.stderr)
    return 0
