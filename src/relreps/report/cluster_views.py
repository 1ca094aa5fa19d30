"""The absolute-vs-relative picture of paired spaces that carry no class labels.

:func:`relreps.report.figures.space_views` colours points by class. Spaces of words, phrases or
any unlabelled items have no classes, and only the rows are paired (row i is the same item in every
space); :func:`cluster_space_views` supplies what the picture needs: uniform anchors on those rows,
each space's relative vectors on its own anchor rows, and a colour per k-means cluster of the first
space, the same in every panel (so agreeing relative spaces show the same coloured picture).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from relreps._validation import check_int, fail
from relreps.report._drawing import _check_spaces
from relreps.report.figures import space_views
from relreps.results import Figure

__all__ = ["cluster_labels", "cluster_space_views"]


def cluster_labels(x: Any, n_clusters: int, *, seed: int = 0) -> np.ndarray:
    """Each row's cosine k-means cluster: the nearest (by cosine) of ``n_clusters`` medoid rows.

    The medoids are :func:`relreps.anchors.kmeans` (cosine) of the unit-normalised rows.

    Args:
        x: (n_samples, d) vectors.
        n_clusters: number of clusters, in ``[1, n_samples]``.
        seed: seed of the k-means initialisation.

    Returns:
        (n_samples,) int64 cluster ids in ``[0, n_clusters)``.

    Example:
        >>> x = np.array([[1.0, 0.0], [0.9, 0.1], [0.0, 1.0], [0.1, 0.9]])
        >>> labels = cluster_labels(x, 2)
        >>> bool(labels[0] == labels[1] != labels[2] == labels[3])
        True
    """
    from relreps.anchors import kmeans

    unit = next(iter(_check_spaces({"x": x}, "x").values()))
    n_clusters = check_int(n_clusters, "n_clusters", low=1, high=unit.shape[0])
    unit = unit / np.maximum(np.linalg.norm(unit, axis=1, keepdims=True), 1e-12)
    centres = unit[kmeans(unit, n_clusters, seed=seed, metric="cosine")]
    return np.argmax(unit @ centres.T, axis=1).astype(np.int64)


def cluster_space_views(
    spaces: Mapping[str, Any],
    path: Path | str,
    *,
    n_anchors: int,
    n_clusters: int = 6,
    seed: int = 0,
    root: Path | str | None = None,
    caption: str | None = None,
) -> Figure:
    """:func:`~relreps.report.figures.space_views` of row-paired spaces without class labels.

    ``n_anchors`` rows drawn uniformly (:func:`relreps.anchors.random`) are the parallel anchors:
    each space's relative vectors are cosines to its own vectors of those rows
    (:func:`relreps.relative_projection`). Colour = :func:`cluster_labels` of the first space.

    Args:
        spaces: name -> (n_samples, d_name) vectors, two or more; row i is the same item in all.
        path: the PNG to write (relative to ``root`` when ``root`` is given).
        n_anchors: anchors, in ``[1, n_samples]``.
        n_clusters: colour groups (k-means clusters of the first space).
        seed: seeds the anchor draw and the clustering.
        root: the run folder; the returned ``Figure.path`` is then relative to it.
        caption: the figure's caption (``space_views``'s default otherwise).

    Returns:
        The written figure.

    Example:
        >>> import tempfile
        >>> rng = np.random.default_rng(0)
        >>> x = rng.normal(size=(80, 6))
        >>> spaces = {"a": x, "b": x @ np.linalg.qr(rng.normal(size=(6, 6)))[0]}
        >>> cluster_space_views(spaces, "v.png", n_anchors=10, root=tempfile.mkdtemp()).path
        'v.png'
    """
    from relreps.anchors import random
    from relreps.projection import relative_projection

    absolute = _check_spaces(spaces, "spaces")
    n_samples = {x.shape[0] for x in absolute.values()}
    if len(n_samples) != 1:
        raise fail("spaces", "spaces of the same samples (rows)", f"row counts {sorted(n_samples)}")
    first = next(iter(absolute.values()))
    n_anchors = check_int(n_anchors, "n_anchors", low=1, high=first.shape[0])
    anchors = random(first.shape[0], n_anchors, seed=seed)
    relative = {k: np.asarray(relative_projection(x, x[anchors])) for k, x in absolute.items()}
    labels = cluster_labels(first, n_clusters, seed=seed)
    return space_views(absolute, relative, labels, path, root=root, caption=caption)
