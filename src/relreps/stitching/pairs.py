"""Own vs stitched summaries of square (encoder i, decoder j) score matrices.

Stitching n models pairwise gives an ``(n, n)`` matrix whose diagonal holds each model on its own
(not stitched) and whose other cells hold the stitched pairs. :func:`own_and_stitched` gives the
mean and std of both parts; :func:`reconstruction_summary` does the same for a reconstruction
grid (:func:`relreps.stitching.stitching_grid_models` scored with ``"mse"``) in the paper's units,
MSE x10^3 and PSNR (:func:`psnr`).

Example:
    >>> import numpy as np
    >>> own_and_stitched(np.array([[90.0, 70.0], [80.0, 92.0]]))
    {'own': 91.0, 'own_std': 1.0, 'stitched': 75.0, 'stitched_std': 5.0}
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from relreps._validation import fail
from relreps.results import mean_std
from relreps.stitching.result import StitchingResult

__all__ = ["own_and_stitched", "psnr", "reconstruction_summary"]


def _square(matrix: Any, name: str) -> np.ndarray:
    arr = np.asarray(matrix, dtype=np.float64)
    if arr.ndim != 2 or arr.shape[0] != arr.shape[1] or arr.shape[0] == 0:
        raise fail(name, "a non-empty square (n, n) matrix", f"shape {arr.shape}")
    return arr


def own_and_stitched(matrix: Any) -> dict[str, float]:
    """Mean and population std of the diagonal (own) and off-diagonal (stitched) cells.

    NaN cells (undefined pairs) are left out; a part with no finite cell is NaN (a single
    model has no stitched cells). For a stitching grid pass ``result.pair_mean(method)`` (its
    per-pair means over seeds; with one seed, the cells of :meth:`StitchingResult.summary`).

    Args:
        matrix: ``(n, n)`` scores, rows encoders and columns decoders.

    Returns:
        ``{"own", "own_std", "stitched", "stitched_std"}``.

    Raises:
        ValueError: ``matrix`` is not a non-empty square matrix.
    """
    arr = _square(matrix, "matrix")
    diagonal = np.eye(len(arr), dtype=bool)
    own, own_std = mean_std(arr[diagonal])
    stitched, stitched_std = mean_std(arr[~diagonal])
    return {"own": own, "own_std": own_std, "stitched": stitched, "stitched_std": stitched_std}


def psnr(mse: float, peak: float = 1.0) -> float:
    """Peak signal-to-noise ratio in dB of a reconstruction with mean squared error ``mse``.

    ``peak`` is the largest pixel value (1.0 for images in [0, 1]); a perfect match is inf.

    Example:
        >>> round(psnr(0.01), 2), psnr(0.0)
        (20.0, inf)
    """
    if not peak > 0:
        raise fail("peak", "a positive number", repr(peak))
    return math.inf if mse <= 0 else -10.0 * math.log10(mse / (peak * peak))


def reconstruction_summary(result: StitchingResult) -> dict[str, dict[str, Any]]:
    """Per method of an MSE grid: MSE x10^3 and PSNR over the not-stitched and stitched cells.

    Each part is summarised over the finite cells of the method's per-pair mean MSE (the diagonal
    for ``"not_stitched"``, the other cells for ``"stitched"``); PSNR is that of each cell's MSE
    (images in [0, 1]).

    Args:
        result: a :class:`StitchingResult` scored with ``"mse"``.

    Returns:
        method -> ``{"not_stitched": part, "stitched": part, "ratio": stitched / not stitched
        MSE}``, each part ``{"mse_x1e3", "mse_x1e3_std", "psnr", "psnr_std", "cells"}``.

    Raises:
        TypeError: ``result`` is not a StitchingResult.
        ValueError: it was not scored with ``"mse"``.

    Example:
        >>> r = StitchingResult(("a", "b"), (0,), "mse", False,
        ...     {"relative": np.array([[0.01, 0.02], [0.04, 0.01]])[:, :, None]}, (), {}, 0, 0.0)
        >>> s = reconstruction_summary(r)["relative"]
        >>> s["not_stitched"]["mse_x1e3"], s["stitched"]["mse_x1e3"], s["ratio"]
        (10.0, 30.0, 3.0)
    """
    if not isinstance(result, StitchingResult):
        raise fail("result", "a StitchingResult", type(result).__name__, TypeError)
    if result.scoring != "mse":
        raise fail("result", "a grid scored with 'mse'", f"scoring {result.scoring!r}")
    out: dict[str, dict[str, Any]] = {}
    diagonal = np.eye(len(result.names), dtype=bool)
    for method in result.methods:
        mse = result.pair_mean(method)
        entry: dict[str, Any] = {}
        for setting, mask in (("not_stitched", diagonal), ("stitched", ~diagonal)):
            cells = mse[mask]
            cells = cells[np.isfinite(cells)]
            m, s = mean_std(cells * 1e3)
            p, ps = mean_std([psnr(float(c)) for c in cells])
            entry[setting] = {
                "mse_x1e3": m,
                "mse_x1e3_std": s,
                "psnr": p,
                "psnr_std": ps,
                "cells": int(cells.size),
            }
        not_stitched = entry["not_stitched"]["mse_x1e3"]
        ratio = entry["stitched"]["mse_x1e3"] / not_stitched if not_stitched > 0 else math.nan
        entry["ratio"] = ratio
        out[method] = entry
    return out
