"""Report figures: small matplotlib functions that write one PNG each and return a ``Figure``.

Matplotlib is imported inside each function and drawn with the Agg canvas directly (no pyplot, no
global backend switch), so importing this module stays light and figures can be drawn from any
thread. Every PNG is written atomically; the returned :class:`~relreps.experiments.base.Figure`
holds the path relative to the run folder when ``root`` is given, ready for an
:class:`~relreps.experiments.base.ExperimentResult`.

The stitching heatmaps live in :mod:`relreps.report.stitching_figures` (re-exported here) and the
helpers every figure shares (canvas, PNG write, input checks) in ``_drawing``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from relreps._array import to_numpy
from relreps._validation import check_int, fail
from relreps.metrics.correlation import pearson
from relreps.report._drawing import (
    _category_colours,
    _check_caption,
    _check_numeric_vector,
    _check_spaces,
    _check_vector,
    _new_figure,
    _save,
)
from relreps.report.stitching_figures import stitching_heatmaps
from relreps.results import Figure

__all__ = [
    "bar_chart",
    "image_grid",
    "line_plot",
    "scatter_plot",
    "shared_pca_2d",
    "space_views",
    "stitching_heatmaps",
]


# ---------------------------------------------------------------------------------------------
# the idea in one picture


def shared_pca_2d(spaces: Mapping[str, Any], *, fit_on: str | None = None) -> dict[str, np.ndarray]:
    """Project every space onto the top-2 principal axes of ONE of them.

    Fitting the projection on one space and applying it to the others puts all of them in the same
    2-D coordinate system, so aligned spaces land on the same picture and rotated ones do not
    (a separate PCA per space would hide a rotation).

    Args:
        spaces: model name -> array of shape (n_samples, n_features); same n_features for all.
        fit_on: the space whose principal axes are used (default: the first one).

    Returns:
        model name -> array of shape (n_samples, 2), each centred on its own mean.

    Example:
        >>> import numpy as np
        >>> x = np.random.default_rng(0).normal(size=(50, 4))
        >>> views = shared_pca_2d({"a": x, "b": 2 * x})
        >>> bool(np.allclose(views["b"], 2 * views["a"]))
        True
    """
    return _shared_pca(_check_spaces(spaces, "spaces"), fit_on, "spaces")


def _shared_pca(
    checked: dict[str, np.ndarray], fit_on: str | None, name: str
) -> dict[str, np.ndarray]:
    reference = next(iter(checked)) if fit_on is None else fit_on
    if reference not in checked:
        raise fail("fit_on", f"one of {list(checked)}", repr(fit_on))
    width = checked[reference].shape[1]
    for key, x in checked.items():
        if x.shape[1] != width:
            raise ValueError(
                f"Expected every space in `{name}` to have {width} features like {reference!r}, "
                f"but {key!r} has shape {x.shape}."
            )
    base = checked[reference]
    _, _, vt = np.linalg.svd(base - base.mean(axis=0), full_matrices=False)
    axes = vt[:2].T
    if axes.shape[1] < 2:  # a 1-feature space: pad with a zero axis so views stay 2-D
        axes = np.hstack([axes, np.zeros((width, 2 - axes.shape[1]))])
    return {key: (x - x.mean(axis=0)) @ axes for key, x in checked.items()}


def space_views(
    abs_spaces: Mapping[str, Any],
    rel_spaces: Mapping[str, Any],
    labels: Any,
    path: Path | str,
    *,
    root: Path | str | None = None,
    caption: str | None = None,
    max_points: int = 2000,
    seed: int = 0,
) -> Figure:
    """The picture that explains relative representations: absolute views on top, relative below.

    Top row: each model's ABSOLUTE space in 2-D. Spaces as wide as the first model's are projected
    on the principal axes of the first model, so a rotation between models shows as a scrambled
    picture (a separate PCA per model would undo it); a space of another width cannot use those
    axes and gets its own PCA (titled so).
    Bottom row: the RELATIVE spaces, all projected on the principal axes of the first model's
    relative space; aligned relative spaces give the same picture. Points are coloured by label.

    Args:
        abs_spaces: model name -> (n_samples, d_model) absolute embeddings; two or more models.
        rel_spaces: the same model names -> (n_samples, n_anchors) relative embeddings.
        labels: (n_samples,) class of each sample (ints or strings), used for colours.
        path: the PNG to write (relative to ``root`` when ``root`` is given).
        root: the run folder; the returned ``Figure.path`` is then relative to it.
        caption: the figure's caption (a sensible default otherwise).
        max_points: at most this many samples are drawn (the same seeded subset for every model).
        seed: seed of that subset.

    Returns:
        The written figure.

    Example:
        >>> import tempfile
        >>> import numpy as np
        >>> from relreps import relative_projection
        >>> rng = np.random.default_rng(0)
        >>> x = rng.normal(size=(60, 8))
        >>> q, _ = np.linalg.qr(rng.normal(size=(8, 8)))
        >>> spaces = {"seed 0": x, "seed 1": x @ q}
        >>> rel = {k: relative_projection(v, v[:10]) for k, v in spaces.items()}
        >>> folder = tempfile.mkdtemp()
        >>> space_views(spaces, rel, rng.integers(0, 3, 60), "figures/views.png", root=folder).path
        'figures/views.png'
    """
    absolute, relative, n_samples = _check_view_spaces(abs_spaces, rel_spaces)
    label_values = _check_vector(labels, "labels", n_samples)
    max_points = check_int(max_points, "max_points", low=1)
    seed = check_int(seed, "seed", low=0)
    caption = _check_caption(
        caption,
        "Top: absolute spaces of "
        + ", ".join(absolute)
        + " in 2-D (PCA); bottom: their relative spaces, all projected on the principal axes of "
        f"{next(iter(relative))}'s relative space. Colour = class.",
    )

    keep = np.arange(n_samples)
    if n_samples > max_points:
        keep = np.sort(np.random.default_rng(seed).choice(n_samples, max_points, replace=False))
    abs_views, abs_notes = _absolute_views(absolute)
    rel_views = _shared_pca(relative, None, "rel_spaces")
    codes, distinct, colours = _category_colours(label_values[keep])
    point_colours = np.array(colours)[codes]

    n_models = len(absolute)
    figure = _new_figure(2.9 * n_models + 1.4, 6.0)
    grid = figure.subplots(2, n_models, squeeze=False)
    for column, key in enumerate(absolute):
        width = absolute[key].shape[1]
        for row, (views, title) in enumerate(
            (
                (abs_views, f"{key}\nabsolute ({width}-d), {abs_notes[key]}"),
                (rel_views, f"{key}\nrelative ({relative[key].shape[1]} anchors)"),
            )
        ):
            axis = grid[row][column]
            points = views[key][keep]
            axis.scatter(points[:, 0], points[:, 1], c=point_colours, s=5, alpha=0.75, lw=0)
            axis.set_title(title, fontsize=8)
            axis.set_xticks([])
            axis.set_yticks([])
    if len(distinct) <= 20:
        handles = [
            grid[0][0].scatter([], [], color=colour, s=20, label=str(value))
            for value, colour in zip(distinct, colours, strict=True)
        ]
        figure.legend(handles=handles, loc="outside right center", fontsize=7, title="class")
    return _save(figure, path, root, caption)


def _check_view_spaces(
    abs_spaces: Mapping[str, Any], rel_spaces: Mapping[str, Any]
) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray], int]:
    """``(absolute, relative, n_samples)``: two or more models, the same in both, same samples."""
    absolute = _check_spaces(abs_spaces, "abs_spaces")
    relative = _check_spaces(rel_spaces, "rel_spaces")
    if list(absolute) != list(relative):
        raise fail(
            "rel_spaces",
            f"keyed by the same models as `abs_spaces` {list(absolute)}",
            str(list(relative)),
        )
    if len(absolute) < 2:
        raise fail("abs_spaces", "a dict of two or more models", f"{len(absolute)} model")
    n_samples = next(iter(absolute.values())).shape[0]
    for name, spaces in (("abs_spaces", absolute), ("rel_spaces", relative)):
        for key, x in spaces.items():
            if x.shape[0] != n_samples:
                raise ValueError(
                    f"Expected every space to hold the same {n_samples} samples, but "
                    f"`{name}[{key!r}]` has shape {x.shape}."
                )
    return absolute, relative, n_samples


def _absolute_views(
    absolute: dict[str, np.ndarray],
) -> tuple[dict[str, np.ndarray], dict[str, str]]:
    """Each model's absolute space in 2-D, and a note saying which PCA axes it was drawn in."""
    # Models as wide as the first share its principal axes (a rotation then shows); a model of
    # another width cannot be drawn in those axes and gets its own PCA, titled so.
    first = next(iter(absolute))
    same_width = {k: x for k, x in absolute.items() if x.shape[1] == absolute[first].shape[1]}
    abs_views = _shared_pca(same_width, None, "abs_spaces")
    abs_notes = {k: f"PCA axes of {first}" for k in same_width}
    for key, x in absolute.items():
        if key not in same_width:
            abs_views[key] = _shared_pca({key: x}, None, "abs_spaces")[key]
            abs_notes[key] = "own PCA (other width)"
    return abs_views, abs_notes


# ---------------------------------------------------------------------------------------------
# generic helpers for later experiments


def _check_named_vectors(
    values: object, name: str, length: int | None = None
) -> dict[str, np.ndarray]:
    """A non-empty mapping of name -> 1-D numeric array (NaN allowed), all of ``length``."""
    if not isinstance(values, Mapping) or len(values) == 0:
        raise fail(name, "a non-empty dict of name -> 1-D array", repr(values), TypeError)
    return {
        str(k): _check_numeric_vector(v, f"{name}[{k!r}]", length, allow_nan=True)
        for k, v in values.items()
    }


def _check_half_widths(
    errors: Mapping[str, Any] | None, owner: str, names: Sequence[str], length: int
) -> dict[str, np.ndarray]:
    """Error half-widths keyed by names of ``owner`` (e.g. ``series``), non-negative."""
    out = {}
    for key, value in (errors or {}).items():
        if str(key) not in names:
            raise fail("errors", f"keyed by names in `{owner}` {list(names)}", repr(key))
        width = _check_numeric_vector(value, f"errors[{key!r}]", length, allow_nan=True)
        if (width[np.isfinite(width)] < 0).any():
            raise fail(f"errors[{key!r}]", "non-negative half-widths", "a negative value")
        out[str(key)] = width
    return out


def line_plot(
    x: Any,
    series: Mapping[str, Any],
    path: Path | str,
    *,
    errors: Mapping[str, Any] | None = None,
    xlabel: str = "",
    ylabel: str = "",
    title: str = "",
    logx: bool = False,
    root: Path | str | None = None,
    caption: str | None = None,
) -> Figure:
    """Lines over a shared x axis (e.g. a score against the number of anchors), with +- bands.

    Args:
        x: (n_points,) x values.
        series: line name -> (n_points,) y values; NaN leaves a gap.
        path: the PNG to write (relative to ``root`` when ``root`` is given).
        errors: line name -> (n_points,) half-width of the band drawn around that line (e.g. std).
        xlabel: x axis label.
        ylabel: y axis label.
        title: plot title.
        logx: logarithmic x axis (x must then be positive).
        root: the run folder; the returned ``Figure.path`` is then relative to it.
        caption: the figure's caption (defaults to the title).

    Returns:
        The written figure.

    Example:
        >>> import tempfile
        >>> anchors = [10, 50, 100, 300]
        >>> line_plot(anchors, {"relative": [0.2, 0.5, 0.6, 0.62]}, "a.png", logx=True,
        ...           root=tempfile.mkdtemp(), title="Jaccard@10 vs anchors").caption
        'Jaccard@10 vs anchors'
    """
    xs = _check_numeric_vector(x, "x")
    lines = _check_named_vectors(series, "series", len(xs))
    bands = _check_half_widths(errors, "series", list(lines), len(xs))
    if logx and (xs <= 0).any():
        raise fail("x", "positive values when logx=True", f"min {xs.min()!r}")
    figure = _new_figure(6.0, 3.8)
    axis = figure.subplots()
    for key, ys in lines.items():
        (line,) = axis.plot(xs, ys, marker="o", ms=3, label=key)
        if key in bands:
            axis.fill_between(
                xs, ys - bands[key], ys + bands[key], alpha=0.2, color=line.get_color(), lw=0
            )
    if logx:
        axis.set_xscale("log")
    axis.set_xlabel(xlabel)
    axis.set_ylabel(ylabel)
    axis.set_title(title, fontsize=10)
    axis.grid(alpha=0.3)
    axis.legend(fontsize=8)
    return _save(figure, path, root, _check_caption(caption, title))


def bar_chart(
    categories: Sequence[str],
    groups: Mapping[str, Any],
    path: Path | str,
    *,
    errors: Mapping[str, Any] | None = None,
    reference: Mapping[str, float] | None = None,
    ylabel: str = "",
    title: str = "",
    root: Path | str | None = None,
    caption: str | None = None,
) -> Figure:
    """Grouped bars: one bar per (category, group), with optional error bars and reference lines.

    Args:
        categories: (n_categories,) names along the x axis (e.g. methods).
        groups: group name -> (n_categories,) bar heights; NaN draws no bar and writes "n/a"
            (a value that is undefined, not zero).
        path: the PNG to write (relative to ``root`` when ``root`` is given).
        errors: group name -> (n_categories,) error-bar half-widths (e.g. std).
        reference: group name -> a horizontal dotted line in that group's colour (e.g. chance).
        ylabel: y axis label.
        title: plot title.
        root: the run folder; the returned ``Figure.path`` is then relative to it.
        caption: the figure's caption (defaults to the title).

    Returns:
        The written figure.

    Example:
        >>> import tempfile
        >>> bar_chart(["absolute", "relative"], {"words": [float("nan"), 0.17]}, "b.png",
        ...           reference={"words": 0.01}, root=tempfile.mkdtemp(), title="top-1").path
        'b.png'
    """
    if isinstance(categories, str) or not all(isinstance(c, str) for c in categories):
        raise fail("categories", "a sequence of str", repr(categories), TypeError)
    names = list(categories)
    if not names:
        raise fail("categories", "at least one category", "an empty sequence")
    bars = _check_named_vectors(groups, "groups", len(names))
    spreads = _check_half_widths(errors, "groups", list(bars), len(names))
    lines = {}
    for key, value in (reference or {}).items():
        if str(key) not in bars:
            raise fail("reference", f"keyed by names in `groups` {list(bars)}", repr(key))
        if not isinstance(value, int | float) or not math.isfinite(value):
            raise fail(f"reference[{key!r}]", "a finite number", repr(value), TypeError)
        lines[str(key)] = float(value)
    figure = _new_figure(max(5.0, 1.2 * len(names) + 2.0), 3.6)
    axis = figure.subplots()
    width = 0.8 / len(bars)
    centres = np.arange(len(names))
    for k, (key, heights) in enumerate(bars.items()):
        xs = centres + (k - (len(bars) - 1) / 2) * width
        spread = spreads.get(key)
        drawn = axis.bar(
            xs,
            np.nan_to_num(heights),
            width,
            yerr=None if spread is None else np.nan_to_num(spread),
            label=key,
        )
        for x, value in zip(xs, heights, strict=True):
            if math.isnan(value):
                axis.text(x, 0.0, " n/a", ha="center", va="bottom", fontsize=7, rotation=90)
        if key in lines:
            colour = drawn.patches[0].get_facecolor() if drawn.patches else "grey"
            axis.axhline(lines[key], ls=":", lw=1, color=colour)
    axis.set_xticks(centres, names)
    axis.set_ylabel(ylabel)
    axis.set_title(title, fontsize=10)
    axis.grid(alpha=0.3, axis="y")
    if len(bars) > 1:
        axis.legend(fontsize=7)
    return _save(figure, path, root, _check_caption(caption, title))


def scatter_plot(
    x: Any,
    y: Any,
    path: Path | str,
    *,
    groups: Any = None,
    point_labels: Sequence[str] | None = None,
    xlabel: str = "",
    ylabel: str = "",
    title: str = "",
    root: Path | str | None = None,
    caption: str | None = None,
) -> Figure:
    """Points ``(x_i, y_i)`` (e.g. latent similarity vs accuracy), with their Pearson r shown.

    Args:
        x: (n_points,) x values.
        y: (n_points,) y values.
        path: the PNG to write (relative to ``root`` when ``root`` is given).
        groups: (n_points,) category of each point, for colours and a legend.
        point_labels: (n_points,) text written next to each point (only drawn up to 60 points).
        xlabel: x axis label.
        ylabel: y axis label.
        title: plot title; Pearson's r of x and y is appended.
        root: the run folder; the returned ``Figure.path`` is then relative to it.
        caption: the figure's caption (defaults to the title with r).

    Returns:
        The written figure.

    Example:
        >>> import tempfile
        >>> scatter_plot([0.1, 0.5, 0.9], [50.0, 70.0, 90.0], "s.png", root=tempfile.mkdtemp(),
        ...              title="similarity vs accuracy").caption
        'similarity vs accuracy (Pearson r = 1.00, n = 3)'
    """
    xs = _check_numeric_vector(x, "x")
    ys = _check_numeric_vector(y, "y", len(xs))
    if len(xs) < 1:
        raise fail("x", "a 1-D array with at least 1 point", "length 0")
    texts = None
    if point_labels is not None:
        texts = [
            str(t)
            for t in _check_vector(np.asarray(point_labels, dtype=object), "point_labels", len(xs))
        ]
    r = pearson(xs, ys, min_points=2, tol=0.0)  # None for one point or a constant variable
    stat = f"Pearson r = {r:.2f}" if r is not None else "Pearson r undefined"
    full_title = f"{title} ({stat}, n = {len(xs)})".strip()
    figure = _new_figure(5.6, 4.2)
    axis = figure.subplots()
    if groups is None:
        axis.scatter(xs, ys, s=14, alpha=0.8)
    else:
        group_values = _check_vector(groups, "groups", len(xs))
        codes, distinct, colours = _category_colours(group_values)
        for code, (value, colour) in enumerate(zip(distinct, colours, strict=True)):
            chosen = codes == code
            axis.scatter(xs[chosen], ys[chosen], s=14, alpha=0.8, color=colour, label=str(value))
        axis.legend(fontsize=7)
    if texts is not None and len(texts) <= 60:
        for xi, yi, text in zip(xs, ys, texts, strict=True):
            axis.annotate(text, (xi, yi), fontsize=6, xytext=(3, 3), textcoords="offset points")
    axis.set_xlabel(xlabel)
    axis.set_ylabel(ylabel)
    axis.set_title(full_title, fontsize=10)
    axis.grid(alpha=0.3)
    return _save(figure, path, root, _check_caption(caption, full_title))


def image_grid(
    rows: Mapping[str, Any],
    path: Path | str,
    *,
    max_cols: int = 12,
    root: Path | str | None = None,
    caption: str | None = None,
) -> Figure:
    """A grid of small images, one labelled row per source (originals, reconstructions...).

    Grey images share one intensity scale across the whole grid (so a washed-out reconstruction
    looks washed out); colour images are shown as given (floats in [0, 1] or uint8).

    Args:
        rows: row name -> images of shape (n, H, W) (grey) or (n, H, W, 3|4) (colour).
        path: the PNG to write (relative to ``root`` when ``root`` is given).
        max_cols: at most this many images per row.
        root: the run folder; the returned ``Figure.path`` is then relative to it.
        caption: the figure's caption (a default naming the rows otherwise).

    Returns:
        The written figure.

    Example:
        >>> import tempfile
        >>> import numpy as np
        >>> images = np.random.default_rng(0).random((4, 8, 8))
        >>> image_grid({"original": images, "relative AE": images}, "g.png",
        ...            root=tempfile.mkdtemp()).path
        'g.png'
    """
    if not isinstance(rows, Mapping) or len(rows) == 0:
        raise fail(
            "rows", "a non-empty dict of row name -> images (n, H, W)", repr(rows), TypeError
        )
    max_cols = check_int(max_cols, "max_cols", low=1)
    stacks: dict[str, np.ndarray] = {}
    for key, images in rows.items():
        name = f"rows[{key!r}]"
        arr = np.asarray(to_numpy(images) if hasattr(images, "__array_namespace__") else images)
        colour = arr.ndim == 4 and arr.shape[-1] in (3, 4)
        if not (arr.ndim == 3 or colour) or arr.shape[0] == 0:
            raise fail(
                name, "a non-empty array of shape (n, H, W) or (n, H, W, 3|4)", f"shape {arr.shape}"
            )
        if arr.dtype.kind not in "biuf":
            raise fail(name, "a numeric array", f"dtype {arr.dtype}", TypeError)
        if not np.isfinite(arr.astype(np.float64)).all():
            raise fail(name, "finite pixel values", "NaN or Inf")
        stacks[str(key)] = arr[:max_cols]
    grey = [a.astype(np.float64) for a in stacks.values() if a.ndim == 3]
    low = min(float(a.min()) for a in grey) if grey else 0.0
    high = max(float(a.max()) for a in grey) if grey else 1.0
    high = high if high > low else low + 1.0
    n_cols = max(a.shape[0] for a in stacks.values())
    figure = _new_figure(0.8 * n_cols + 1.4, 0.85 * len(stacks) + 0.3)
    axes = figure.subplots(len(stacks), n_cols, squeeze=False)
    for r, (key, images) in enumerate(stacks.items()):
        for c in range(n_cols):
            axis = axes[r][c]
            axis.set_xticks([])
            axis.set_yticks([])
            if c >= images.shape[0]:
                axis.set_axis_off()
                continue
            if images.ndim == 3:
                axis.imshow(images[c], cmap="gray", vmin=low, vmax=high, interpolation="nearest")
            else:
                picture = images[c]
                if picture.dtype.kind == "f":
                    picture = np.clip(picture, 0.0, 1.0)
                axis.imshow(picture, interpolation="nearest")
        axes[r][0].set_ylabel(key, fontsize=7, rotation=0, ha="right", va="center")
    caption = _check_caption(caption, "Rows: " + ", ".join(stacks) + ".")
    return _save(figure, path, root, caption)
