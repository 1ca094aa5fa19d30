"""The result of a stitching grid: every score, per-pair statistics and the paper's summary rows."""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from relreps._validation import fail


@dataclass(frozen=True)
class UndefinedCell:
    """A (method, encoder, decoder) cell that has no score, and why."""

    method: str
    encoder: str
    decoder: str
    reason: str

    def to_dict(self) -> dict[str, str]:
        return {
            "method": self.method,
            "encoder": self.encoder,
            "decoder": self.decoder,
            "reason": self.reason,
        }


@dataclass(frozen=True)
class SummaryRow:
    """One row of the paper's tables: mean +- std over all cells of a kind (and seeds).

    ``stitched=False`` gathers the diagonal (encoder == decoder), ``True`` the rest; undefined
    (NaN) cells are left out and counted in ``n_undefined``.
    """

    method: str
    stitched: bool
    mean: float
    std: float
    n_cells: int
    n_undefined: int

    @property
    def label(self) -> str:
        return f"{self.method}, {'stitched' if self.stitched else 'not stitched'}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "method": self.method,
            "stitched": self.stitched,
            "mean": _json_float(self.mean),
            "std": _json_float(self.std),
            "n_cells": self.n_cells,
            "n_undefined": self.n_undefined,
        }


def _json_float(v: float) -> float | None:
    return None if math.isnan(v) else float(v)


@dataclass(frozen=True)
class StitchingResult:
    """Every score of a stitching grid.

    Attributes:
        names: the spaces, in order (rows = encoder, columns = decoder in every matrix).
        seeds: the head seeds.
        scoring: the scoring name (see :data:`~relreps.stitching.SCORERS`);
            ``higher_is_better`` says its direction.
        scores: method -> array (n_encoders, n_decoders, n_seeds); NaN where undefined.
        undefined: the undefined cells with their reasons (one entry per encoder/decoder pair).
        skipped_methods: method -> why it was not run (e.g. translation module missing).
        n_cached: cells read from the cache instead of computed.
        seconds: wall-clock time of the run.
    """

    names: tuple[str, ...]
    seeds: tuple[int, ...]
    scoring: str
    higher_is_better: bool
    scores: Mapping[str, np.ndarray]
    undefined: tuple[UndefinedCell, ...] = ()
    skipped_methods: Mapping[str, str] = field(default_factory=dict)
    n_cached: int = 0
    seconds: float = 0.0

    @property
    def methods(self) -> tuple[str, ...]:
        return tuple(self.scores)

    def _get(self, method: str) -> np.ndarray:
        if method not in self.scores:
            reason = self.skipped_methods.get(method, "it was not requested")
            raise fail("method", f"one of {list(self.scores)}", f"{method!r} ({reason})")
        return self.scores[method]

    def pair_mean(self, method: str) -> np.ndarray:
        """(n_encoders, n_decoders) mean over seeds (NaN where undefined)."""
        return _nan_reduce(self._get(method), np.mean)

    def pair_std(self, method: str) -> np.ndarray:
        """(n_encoders, n_decoders) population standard deviation over seeds."""
        return _nan_reduce(self._get(method), np.std)

    def summary(self) -> tuple[SummaryRow, ...]:
        """The paper's rows: per method, not stitched (diagonal), then stitched (off-diagonal)."""
        rows = []
        n = len(self.names)
        diagonal = np.eye(n, dtype=bool)
        for method, values in self.scores.items():
            for stitched in (False, True):
                mask = ~diagonal if stitched else diagonal
                cells = values[mask].reshape(-1)
                defined = cells[~np.isnan(cells)]
                mean = float(defined.mean()) if defined.size else math.nan
                std = float(defined.std()) if defined.size else math.nan
                rows.append(
                    SummaryRow(
                        method,
                        stitched,
                        mean,
                        std,
                        int(defined.size),
                        int(cells.size - defined.size),
                    )
                )
        return tuple(rows)

    def format_summary(self, *, digits: int = 2) -> str:
        """The summary rows as a plain-text table."""
        lines = [f"{'':<28} {self.scoring:>18}  cells"]
        for row in self.summary():
            value = (
                "n/a" if math.isnan(row.mean) else f"{row.mean:.{digits}f} ± {row.std:.{digits}f}"
            )
            extra = f" ({row.n_undefined} undefined)" if row.n_undefined else ""
            lines.append(f"{row.label:<28} {value:>18}  {row.n_cells}{extra}")
        return "\n".join(lines)

    def format_matrix(self, method: str, *, digits: int = 2) -> str:
        """Per-pair mean ± std over seeds as a plain-text matrix (rows: encoder, columns:
        decoder); the mean alone for a single seed."""
        mean, std = self.pair_mean(method), self.pair_std(method)
        width = max(12, *(len(n) for n in self.names)) + 1
        corner = f"{method} enc/dec"
        header = f"{corner:<{width}}" + "".join(f"{n:>{width}}" for n in self.names)
        lines = [header]
        for i, name in enumerate(self.names):
            cells = []
            for j in range(len(self.names)):
                if math.isnan(mean[i, j]):
                    cells.append(f"{'n/a':>{width}}")
                else:
                    cell = f"{mean[i, j]:.{digits}f}"
                    if len(self.seeds) > 1:
                        cell += f"±{std[i, j]:.{digits}f}"
                    cells.append(f"{cell:>{width}}")
            lines.append(f"{name:<{width}}" + "".join(cells))
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        def nested(a: np.ndarray) -> Any:
            return [nested(x) for x in a] if a.ndim else _json_float(float(a))

        return {
            "names": list(self.names),
            "seeds": list(self.seeds),
            "scoring": self.scoring,
            "higher_is_better": self.higher_is_better,
            "scores": {m: nested(v) for m, v in self.scores.items()},
            "pair_mean": {m: nested(self.pair_mean(m)) for m in self.scores},
            "pair_std": {m: nested(self.pair_std(m)) for m in self.scores},
            "summary": [r.to_dict() for r in self.summary()],
            "undefined": [u.to_dict() for u in self.undefined],
            "skipped_methods": dict(self.skipped_methods),
            "n_cached": self.n_cached,
            "seconds": self.seconds,
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2)


def _nan_reduce(values: np.ndarray, fn: Callable[..., Any]) -> np.ndarray:
    out = np.full(values.shape[:2], np.nan)
    for idx in np.ndindex(*values.shape[:2]):
        cells = values[idx]
        cells = cells[~np.isnan(cells)]
        if cells.size:
            out[idx] = fn(cells)
    return out
