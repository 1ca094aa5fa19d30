"""The run folder: made and described here, read back for ``relreps report DIR``.

A run folder holds ``manifest.json`` (what produced the run) and one ``results/NAME.json`` per
finished experiment or command, with ``figures/`` and the rendered report beside them.
:func:`prepare_output` creates one under the overwrite policy, :func:`build_manifest` describes the
run, :func:`write_report` renders it, and :func:`load_run` reads it back in the run's order,
naming the experiments that never finished. ``relreps reproduce``, ``demo``, ``align`` and
``stitch`` all write this format.
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from importlib import metadata
from pathlib import Path
from typing import Any

from relreps._validation import fail
from relreps.errors import RelrepsError
from relreps.results import ExperimentResult

__all__ = [
    "RunFolderError",
    "build_manifest",
    "load_run",
    "prepare_output",
    "write_report",
]


class RunFolderError(RelrepsError, ValueError):
    """A run folder cannot be used as asked: as an output (it exists, or is not a relreps run
    folder) or as an input (no manifest, unreadable or corrupt results)."""


def load_run(folder: Path | str) -> tuple[dict[str, Any], list[ExperimentResult], list[str]]:
    """Read a finished (or interrupted) run folder.

    Args:
        folder: a folder holding ``manifest.json`` and ``results/NAME.json`` files.

    Returns:
        ``(manifest, results, pending)``: results in the order the run listed its experiments
        (then any others by name), and the listed experiments that have no result file.

    Raises:
        RunFolderError: when the folder has no readable manifest or a result file is corrupt.
    """
    if not isinstance(folder, str | Path):
        raise fail("folder", "a str or pathlib.Path", type(folder).__name__, TypeError)
    path = Path(folder)
    manifest_path = path / "manifest.json"
    if not manifest_path.is_file():
        raise RunFolderError(
            f"Expected {str(path)!r} to be a relreps run folder, but it has no manifest.json."
        )
    manifest = _read_json(manifest_path, "manifest")
    if not isinstance(manifest, dict):
        raise RunFolderError(f"Expected {str(manifest_path)!r} to hold a JSON object.")
    found: dict[str, ExperimentResult] = {}
    for result_path in sorted((path / "results").glob("*.json")):
        data = _read_json(result_path, "result")
        try:
            result = ExperimentResult.from_dict(data)
        except (KeyError, TypeError, AttributeError) as err:
            raise RunFolderError(
                f"Expected {str(result_path)!r} to hold an experiment result, but it does not "
                f"({type(err).__name__}: {err})."
            ) from None
        found[result.name] = result
    config = manifest.get("config")
    listed = config.get("experiments") if isinstance(config, Mapping) else None
    listed = [str(n) for n in listed] if isinstance(listed, list) else []
    ordered = [found[n] for n in listed if n in found]
    ordered += [r for n, r in sorted(found.items()) if n not in listed]
    pending = [n for n in listed if n not in found]
    return manifest, ordered, pending


def _read_json(path: Path, what: str) -> Any:
    try:
        return json.loads(path.read_text("utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as err:
        raise RunFolderError(
            f"Expected {str(path)!r} to be a readable JSON {what} file, but reading it failed "
            f"({err})."
        ) from None


_PACKAGES = (
    "relreps",
    "numpy",
    "array-api-compat",
    "scipy",
    "scikit-learn",
    "torch",
    "sentence-transformers",
    "transformers",
    "onnxruntime",
    "gensim",
    "faiss-cpu",
    "dask",
    "matplotlib",
)


def prepare_output(output: Path | str, *, overwrite: bool = False, resume: bool = False) -> Path:
    """Create the run folder, applying the overwrite policy.

    An existing non-empty folder is refused unless ``resume`` (keep finished cells and results) or
    ``overwrite`` (delete it first - only when it holds a relreps ``manifest.json``, so a typo
    cannot delete an unrelated folder).
    """
    path = Path(output)
    if path.exists() and not path.is_dir():
        raise RunFolderError(f"output {str(path)!r} exists and is not a folder")
    if path.exists() and any(path.iterdir()):
        if resume:
            return path
        if not overwrite:
            raise RunFolderError(
                f"output folder {str(path)!r} already exists; pass --overwrite to replace it or "
                "--resume to continue it"
            )
        if not (path / "manifest.json").exists():
            raise RunFolderError(
                f"refusing to overwrite {str(path)!r}: it is not a relreps run folder "
                "(no manifest.json)"
            )
        shutil.rmtree(path)
    path.mkdir(parents=True, exist_ok=True)
    return path


def _git_commit() -> str | None:
    here = Path(__file__).resolve().parent
    try:
        done = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=here, capture_output=True, text=True, timeout=5
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout.strip() or None if done.returncode == 0 else None


def _versions() -> dict[str, str]:
    found = {}
    for name in _PACKAGES:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return found


def build_manifest(config: dict[str, Any]) -> dict[str, Any]:
    """What produced a run: versions, seed and config, git commit, machine."""
    return {
        "relreps_version": _versions().get("relreps"),
        "packages": _versions(),
        "python": sys.version.split()[0],
        "config": config,
        "seed": config.get("seed"),
        "git_commit": _git_commit(),
        "machine": {
            "platform": platform.platform(),
            "processor": platform.machine(),
            "cpus": os.cpu_count(),
        },
        "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }


def write_report(folder: Path, results: Sequence[ExperimentResult], manifest: dict) -> list[Path]:
    """Render the run's report (markdown + self-contained HTML) next to its results."""
    try:
        from relreps.report import build_report
    except ImportError:
        return []
    paths: list[Path] = build_report(folder, list(results), manifest)
    return paths
