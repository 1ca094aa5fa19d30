"""The stitching figure: one heatmap per method of scores, encoders (rows) x heads (columns).

Drawn like the other report figures (:mod:`relreps.report.figures`): Agg canvas, atomic PNG,
a :class:`~relreps.experiments.base.Figure` returned.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from relreps._array import to_numpy
from relreps._validation import check_matrix, fail
from relreps.report._drawing import _check_caption, _new_figure, _save
from relreps.results import Figure

__all__ = ["stitching_heatmaps"]

_MAX_ANNOTATED_CELLS = 400  # above this a heatmap's numbers would be unreadable


def stitching_heatmaps(
    matrices: Mapping[str, Any],
    encoders: Sequence[str],
    heads: Sequence[str],
    path: Path | str,
    value_label: str,
    *,
    root: Path | str | None = None,
    caption: str | None = None,
    vmin: float | None = None,
    vmax: float | None = None,
) -> Figure:
    """One heatmap per stitching method (absolute, relative, translation...): encoders x heads.

    All heatmaps share one colour scale so methods compare at a glance. NaN cells (a combination
    that is not defined, e.g. absolute stitching across different widths) are drawn hatched grey
    and marked "n/a". Cells where the encoder and the head come from the same model (same name)
    are outlined: those are the not-stitched baselines.

    Args:
        matrices: method name -> array of shape (len(encoders), len(heads)); NaN = not defined.
        encoders: row names (the model providing the encoder).
        heads: column names (the model providing the head/decoder).
        path: the PNG to write (relative to ``root`` when ``root`` is given).
        value_label: what the numbers are ("weighted F1 x100").
        root: the run folder; the returned ``Figure.path`` is then relative to it.
        caption: the figure's caption (a sensible default otherwise).
        vmin: bottom of the colour scale (default: the smallest defined value).
        vmax: top of the colour scale (default: the largest defined value).

    Returns:
        The written figure.

    Example:
        >>> import tempfile
        >>> import numpy as np
        >>> grid = {"absolute": [[90.0, 11.0], [np.nan, 88.0]],
        ...         "relative": [[89.0, 85.0], [84.0, 87.0]]}
        >>> folder = tempfile.mkdtemp()
        >>> stitching_heatmaps(grid, ["a", "b"], ["a", "b"], "s.png", "F1", root=folder).path
        's.png'
    """
    encoders = _check_names(encoders, "encoders")
    heads = _check_names(heads, "heads")
    if not isinstance(matrices, Mapping) or len(matrices) == 0:
        raise fail(
            "matrices", "a non-empty dict of method name -> 2-D array", repr(matrices), TypeError
        )
    if not isinstance(value_label, str):
        raise fail("value_label", "a str", type(value_label).__name__, TypeError)
    shape = (len(encoders), len(heads))
    grids = _check_grids(matrices, shape)
    low, high = _colour_range(grids, vmin, vmax)
    caption = _check_caption(
        caption,
        f"Stitching: {value_label} of encoder (rows) + head (columns) for "
        + ", ".join(grids)
        + ". Outlined cells are not stitched; hatched cells are not defined.",
    )

    from matplotlib import colormaps

    cmap = colormaps["viridis"].with_extremes(bad=(0.86, 0.86, 0.86, 1.0))
    n_methods = len(grids)
    cell = 0.55 if max(shape) <= 12 else 0.3
    width = max(3.0, cell * len(heads) + 1.6)
    height = max(2.6, cell * len(encoders) + 1.8)
    figure = _new_figure(width * n_methods + 1.0, height)
    axes = figure.subplots(1, n_methods, squeeze=False)[0]
    annotate = shape[0] * shape[1] <= _MAX_ANNOTATED_CELLS
    image = None
    for axis, (method, grid) in zip(axes, grids.items(), strict=True):
        image = axis.imshow(
            np.ma.masked_invalid(grid),
            cmap=cmap,
            vmin=low,
            vmax=high,
            aspect="auto",
            interpolation="nearest",
        )
        _mark_cells(axis, grid, encoders, heads, (low, high), annotate)
        axis.set_title(method, fontsize=9)
        axis.set_xticks(range(shape[1]), heads, rotation=45, ha="right", fontsize=7)
        axis.set_yticks(range(shape[0]), encoders, fontsize=7)
        axis.set_xlabel("head", fontsize=8)
        axis.set_ylabel("encoder", fontsize=8)
    colourbar = figure.colorbar(image, ax=list(axes), shrink=0.85)
    colourbar.set_label(value_label, fontsize=8)
    return _save(figure, path, root, caption)


def _check_grids(matrices: Mapping[str, Any], shape: tuple[int, int]) -> dict[str, np.ndarray]:
    """method name -> float64 array of ``shape`` (encoders x heads), finite or NaN."""
    grids: dict[str, np.ndarray] = {}
    for method, values in matrices.items():
        name = f"matrices[{method!r}]"
        arr = check_matrix(values, name, shape_doc="(n_encoders, n_heads)", finite=False)
        arr = np.asarray(to_numpy(arr), dtype=np.float64)
        if arr.shape != shape:
            raise fail(name, f"an array of shape {shape} (encoders x heads)", f"shape {arr.shape}")
        if np.isinf(arr).any():
            raise fail(name, "finite values or NaN (not defined)", "an infinite value")
        grids[str(method)] = arr
    return grids


def _colour_range(
    grids: Mapping[str, np.ndarray], vmin: float | None, vmax: float | None
) -> tuple[float, float]:
    """The shared colour scale: the given bounds, else the defined values' range (never empty)."""
    defined = np.concatenate([g[np.isfinite(g)] for g in grids.values()])
    low = float(defined.min()) if defined.size and vmin is None else vmin
    high = float(defined.max()) if defined.size and vmax is None else vmax
    low = 0.0 if low is None else low
    high = low + 1.0 if high is None or high <= low else high
    return low, high


def _mark_cells(
    axis: Any,
    grid: np.ndarray,
    encoders: Sequence[str],
    heads: Sequence[str],
    scale: tuple[float, float],
    annotate: bool,
) -> None:
    """Hatch the undefined cells, write the numbers (when ``annotate``), outline the diagonal."""
    from matplotlib.patches import Rectangle

    low, high = scale
    for i in range(grid.shape[0]):
        for j in range(grid.shape[1]):
            value = grid[i, j]
            if math.isnan(value):
                axis.add_patch(
                    Rectangle(
                        (j - 0.5, i - 0.5),
                        1,
                        1,
                        fill=False,
                        hatch="///",
                        edgecolor=(0.55, 0.55, 0.55),
                        lw=0,
                    )
                )
                if annotate:
                    axis.text(
                        j, i, "n/a", ha="center", va="center", fontsize=6, color=(0.3, 0.3, 0.3)
                    )
            elif annotate:
                shade = (value - low) / (high - low)
                axis.text(
                    j,
                    i,
                    _short_number(value),
                    ha="center",
                    va="center",
                    fontsize=6,
                    color="black" if shade > 0.55 else "white",
                )
            if encoders[i] == heads[j]:
                axis.add_patch(
                    Rectangle((j - 0.5, i - 0.5), 1, 1, fill=False, edgecolor="red", lw=1.2)
                )


def _check_names(names: object, name: str) -> list[str]:
    if isinstance(names, str) or not isinstance(names, Sequence) or len(names) == 0:
        raise fail(name, "a non-empty list of names", repr(names), TypeError)
    return [str(n) for n in names]


def _short_number(value: float) -> str:
    if abs(value) >= 100:
        return f"{value:.0f}"
    if abs(value) >= 10:
        return f"{value:.1f}"
    return f"{value:.2f}"
