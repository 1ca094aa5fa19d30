"""Dask helpers of the core and the lazy relative projection (the numpy code per block).

Reached through :func:`relreps.relative_projection` (it dispatches ``dask.array`` inputs here);
the dask metrics (:mod:`relreps.metrics.dask_ops`) and :mod:`relreps.distributed` build on the
helpers. Everything validates what it can without reading the data (shapes, dtypes, options) and
returns a lazy result; NaN/Inf are found, and reported with their global row, when the blocks are
computed.

The projection rechunks ``x`` to whole rows and sends each row block through the numpy core
against the anchors, which enter the graph once (one key) and reach every block from there. The
numpy core is passed in by :mod:`relreps.projection`, so this module never imports it back.

Importing this module imports dask; import it only for dask inputs.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import dask
import dask.array as da
import numpy as np

from relreps._array import Array, is_dask
from relreps._validation import check_int, check_matrix, check_same_features, fail, nonfinite_rows

__all__ = ["as_dask", "dask_projection", "is_dask", "raise_nonfinite", "row_starts"]

# Row blocks made from numpy inputs mixed with dask ones.
NUMPY_BLOCK_ROWS = 65536


def as_dask(x: Array, name: str, rows: int | None = None) -> Any:
    """A 2-D dask array with whole rows per block (numpy inputs are wrapped)."""
    if not is_dask(x):
        x = check_matrix(x, name, finite=False)
        x = np.asarray(x)
        return da.from_array(x, chunks=(rows or NUMPY_BLOCK_ROWS, -1))
    check_matrix(x, name, finite=False)  # shape and dtype only: nothing is computed
    if any(math.isnan(c) for c in x.chunks[0]):
        raise fail(
            name,
            "a dask array with known chunk sizes",
            "unknown row chunks (call x.compute_chunk_sizes() first)",
        )
    return x.rechunk({0: rows if rows is not None else x.chunks[0], 1: -1})


def row_starts(chunks: tuple[int, ...]) -> list[int]:
    """The first global row of each block."""
    return [0, *np.cumsum(chunks[:-1]).tolist()]


def raise_nonfinite(block: np.ndarray, start: int, name: str) -> None:
    """Raise the ValueError naming the first NaN/Inf row of ``block`` by its global row."""
    bad = nonfinite_rows(block)
    if bad is not None and bad.size:
        raise ValueError(
            f"Expected `{name}` to contain only finite values, but row {start + int(bad[0])} "
            "holds NaN or Inf."
        )


# ----------------------------------------------------------------------------- projection


def dask_projection(
    project: Callable[..., np.ndarray], x: Array, anchors: Array, **options: Any
) -> Any:
    """Lazy relative projection of a dask array (see :func:`relreps.relative_projection`).

    Args:
        project: the numpy relative projection run on each block
            (:func:`relreps.projection.relative_projection`).
        x: (n_samples, n_features) dask array (a numpy ``x`` with dask ``anchors`` is wrapped).
        anchors: (n_anchors, n_features) numpy or dask array (computed once, it is small).
        **options: the options of :func:`relreps.relative_projection`; ``chunk_size`` sets the rows
            per block (default: ``x``'s row chunks); ``out`` is not accepted (the result is lazy:
            write it with :func:`relreps.distributed.project_to_file` or ``result.to_zarr``).

    Returns:
        Lazy dask array (n_samples, n_columns), one block per row block of ``x``.

    Example:
        >>> import dask.array as da, numpy as np
        >>> from relreps import relative_projection
        >>> x = da.from_array(np.random.default_rng(0).normal(size=(10, 4)), chunks=(3, 4))
        >>> anchors = np.eye(4)[:2]
        >>> rel = dask_projection(relative_projection, x, anchors)  # lazy
        >>> rel.chunks
        ((3, 3, 3, 1), (2,))
        >>> bool(np.allclose(rel.compute(), relative_projection(x.compute(), anchors)))
        True
    """
    if options.get("out") is not None:
        raise fail(
            "out",
            "None for dask inputs (the result is lazy; store it with "
            "relreps.distributed.project_to_file or result.to_zarr)",
            type(options["out"]).__name__,
            TypeError,
        )
    options.pop("out", None)
    chunk_size = options.pop("chunk_size", None)
    if chunk_size is not None:
        chunk_size = check_int(chunk_size, "chunk_size", low=1)
    if is_dask(anchors):
        anchors = anchors.compute()
    anchors = np.asarray(check_matrix(anchors, "anchors", shape_doc="(n_anchors, n_features)"))
    center = options.get("center")
    if center is not None and not isinstance(center, str):
        options["center"] = np.asarray(center.compute() if is_dask(center) else center)
    x = as_dask(x, "x", chunk_size)
    check_same_features(x, "x", anchors, "anchors")
    # Run the core on one zero row: validates every option now and gives the output's
    # column count and dtype without touching the data.
    probe = project(np.zeros((1, x.shape[1]), dtype=x.dtype), anchors, **options)
    anchors_once = dask.delayed(anchors, pure=True)
    return x.map_blocks(
        _project_block,
        anchors_once,
        project,
        options,
        chunks=(x.chunks[0], (probe.shape[1],)),
        dtype=probe.dtype,
        meta=np.empty((0, 0), dtype=probe.dtype),
        token="relreps-projection",  # a key prefix; a fixed `name` would collide across calls
    )


def _project_block(
    block: np.ndarray,
    anchors: np.ndarray,
    project: Callable[..., np.ndarray],
    options: dict[str, Any],
    block_info: Any = None,
) -> np.ndarray:
    try:
        return project(block, anchors, **options)
    except ValueError:
        # The core names rows of this block; name the global row instead.
        start = block_info[0]["array-location"][0][0] if block_info else 0
        raise_nonfinite(block, start, "x")
        raise
