"""The jobs' inputs: dask or numpy arrays and .npy, .zarr or .parquet files as 2-D dask arrays."""

from __future__ import annotations

import mmap
import os
from pathlib import Path
from typing import Any

import dask
import dask.array as da
import numpy as np

from relreps._array import is_dask
from relreps._validation import check_int, fail

_DEFAULT_ROWS = 65536


class _NpyRows:
    """Rows of a ``.npy`` file for ``da.from_array``: pickles as its path, maps on first read."""

    def __init__(self, path: str) -> None:
        header = np.load(path, mmap_mode="r", allow_pickle=False)
        self.path = path
        self.shape = tuple(header.shape)
        self.dtype = header.dtype
        self.ndim = header.ndim

    def __getitem__(self, region: Any) -> np.ndarray:
        mapped = np.load(self.path, mmap_mode="r", allow_pickle=False)
        return np.array(mapped[region])

    def __getstate__(self) -> dict[str, Any]:
        return {"path": self.path, "shape": self.shape, "dtype": self.dtype, "ndim": self.ndim}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)


def open_array(source: Any, name: str = "x", *, rows: int | None = None) -> Any:
    """A 2-D dask array over ``source``, ``rows`` rows per block, whole rows per block.

    Args:
        source: a dask array; a numpy array (a memmap is re-opened by its path on the workers,
            other arrays travel in the graph); a path to a ``.npy`` file (memory-mapped by the
            workers, never loaded whole), a ``.zarr`` array or a ``.parquet`` file (one block
            per row group; one fixed-size-list column or numeric columns).
        name: argument name used in error messages.
        rows: rows per block; default 65,536 for files and numpy arrays, the chunks of a dask
            array otherwise.

    Returns:
        Lazy dask array (n_rows, n_columns).

    Example:
        >>> import numpy as np, tempfile, os
        >>> path = os.path.join(tempfile.mkdtemp(), "x.npy")
        >>> np.save(path, np.arange(12.0).reshape(6, 2))
        >>> open_array(path, rows=4).chunks
        ((4, 2), (2,))
    """
    if rows is not None:
        rows = check_int(rows, "rows", low=1)
    if isinstance(source, str | os.PathLike):
        path = Path(source)
        if path.suffix not in (".npy", ".zarr", ".parquet"):
            raise fail(name, "a .npy, .zarr or .parquet path", f"'{path.name}'")
        if not path.exists():
            raise FileNotFoundError(f"Expected `{name}` to be an existing {path.suffix}: {path}")
        if path.suffix == ".zarr":
            array = da.from_zarr(str(path))
        elif path.suffix == ".parquet":
            array = _parquet_rows(str(path), name)
        else:
            array = da.from_array(_NpyRows(str(path)), chunks=(rows or _DEFAULT_ROWS, -1))
    elif is_dask(source):
        array = source
    elif isinstance(source, np.memmap) and _whole_npy(source):
        array = da.from_array(_NpyRows(str(source.filename)), chunks=(rows or _DEFAULT_ROWS, -1))
    elif isinstance(source, np.ndarray):
        if source.ndim != 2:
            raise fail(name, "a 2-D array (n_samples, n_features)", f"shape {source.shape}")
        array = da.from_array(source, chunks=(rows or _DEFAULT_ROWS, -1))
    else:
        raise fail(
            name,
            "a dask array, a numpy array or a .npy/.zarr/.parquet path",
            type(source).__name__,
            TypeError,
        )
    if array.ndim != 2:
        raise fail(name, "a 2-D array (n_samples, n_features)", f"shape {array.shape}")
    return array.rechunk({0: rows if rows is not None else array.chunks[0], 1: -1})


def _parquet_rows(path: str, name: str) -> Any:
    """A dask array with one block per row group of a Parquet file.

    The file holds either one fixed-size-list column (one embedding per row) or only numeric
    columns (one feature each).
    """
    import pyarrow.parquet as pq

    meta = pq.ParquetFile(path).metadata
    first = _parquet_block(path, 0, name) if meta.num_row_groups else None
    if first is None or meta.num_rows == 0:
        raise fail(name, "a Parquet file with at least one row", "an empty file")
    read = dask.delayed(_parquet_block, pure=True)
    blocks = [
        da.from_delayed(
            read(path, i, name),
            shape=(meta.row_group(i).num_rows, first.shape[1]),
            dtype=first.dtype,
        )
        for i in range(meta.num_row_groups)
    ]
    return da.concatenate(blocks, axis=0)


def _parquet_block(path: str, group: int, name: str) -> np.ndarray:
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pq.ParquetFile(path).read_row_group(group)
    columns = table.columns
    if len(columns) == 1 and pa.types.is_fixed_size_list(columns[0].type):
        column = columns[0].combine_chunks()
        width = column.type.list_size
        return np.asarray(column.flatten().to_numpy()).reshape(-1, width)
    if all(pa.types.is_integer(c.type) or pa.types.is_floating(c.type) for c in columns):
        return np.column_stack([np.asarray(c.to_numpy()) for c in columns])
    raise fail(
        name,
        "a Parquet file of one fixed-size-list column or of numeric columns",
        f"columns {table.schema.types}",
        TypeError,
    )


def _whole_npy(mapped: np.memmap) -> bool:
    """A memmap of a whole ``.npy`` file (not a view), so workers can re-open it by path."""
    if not isinstance(mapped.base, mmap.mmap) or not str(mapped.filename).endswith(".npy"):
        return False
    try:
        header = np.load(str(mapped.filename), mmap_mode="r", allow_pickle=False)
    except (OSError, ValueError):
        return False
    return bool(
        header.shape == mapped.shape
        and header.dtype == mapped.dtype
        and header.offset == mapped.offset
        and mapped.flags.c_contiguous
    )
