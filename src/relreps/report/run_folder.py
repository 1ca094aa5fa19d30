"""Read a run folder back: its manifest and typed results, for ``relreps report DIR``.

A run folder holds ``manifest.json`` and one ``results/NAME.json`` per finished experiment;
:func:`load_run` returns them in the run's order and names the experiments that never finished.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from relreps._validation import fail
from relreps.errors import RelrepsError
from relreps.results import ExperimentResult

__all__ = ["ReportError", "load_run"]


class ReportError(RelrepsError, ValueError):
    """A run folder cannot be reported on (no manifest, unreadable results)."""


def load_run(folder: Path | str) -> tuple[dict[str, Any], list[ExperimentResult], list[str]]:
    """Read a finished (or interrupted) run folder.

    Args:
        folder: a folder holding ``manifest.json`` and ``results/NAME.json`` files.

    Returns:
        ``(manifest, results, pending)``: results in the order the run listed its experiments
        (then any others by name), and the listed experiments that have no result file.

    Raises:
        ReportError: when the folder has no readable manifest or a result file is corrupt.
    """
    if not isinstance(folder, str | Path):
        raise fail("folder", "a str or pathlib.Path", type(folder).__name__, TypeError)
    path = Path(folder)
    manifest_path = path / "manifest.json"
    if not manifest_path.is_file():
        raise ReportError(
            f"Expected {str(path)!r} to be a relreps run folder, but it has no manifest.json."
        )
    manifest = _read_json(manifest_path, "manifest")
    if not isinstance(manifest, dict):
        raise ReportError(f"Expected {str(manifest_path)!r} to hold a JSON object.")
    found: dict[str, ExperimentResult] = {}
    for result_path in sorted((path / "results").glob("*.json")):
        data = _read_json(result_path, "result")
        try:
            result = ExperimentResult.from_dict(data)
        except (KeyError, TypeError, AttributeError) as err:
            raise ReportError(
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
        raise ReportError(
            f"Expected {str(path)!r} to be a readable JSON {what} file, but reading it failed "
            f"({err})."
        ) from None
