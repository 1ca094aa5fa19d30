"""Outputs of the jobs: written under a temporary name, renamed only once complete."""

from __future__ import annotations

import os
import shutil
import uuid
from pathlib import Path
from typing import Any

import dask.array as da
import distributed
import numpy as np

from relreps._io import replace_file
from relreps._validation import fail
from relreps.distributed._cluster import JobFailedError


class _NpyBlockWriter:
    """``da.store`` target: each block of whole rows writes its bytes into the ``.npy`` file.

    Whole rows are contiguous bytes: one ``pwrite`` each, no memory map and no per-block sync
    (the job syncs the file once at the end; on network file systems ``close`` publishes the
    bytes).
    """

    def __init__(self, path: str) -> None:
        header = np.load(path, mmap_mode="r", allow_pickle=False)
        self.path = path
        self.offset = int(header.offset)
        self.row_bytes = int(header.shape[1]) * header.dtype.itemsize
        self.dtype = header.dtype
        del header

    def __setitem__(self, region: Any, block: np.ndarray) -> None:
        data = np.ascontiguousarray(block, dtype=self.dtype)
        start = self.offset + int(region[0].start or 0) * self.row_bytes
        fd = os.open(self.path, os.O_WRONLY)
        try:
            view, written = data.data.cast("B"), 0
            while written < len(view):
                written += os.pwrite(fd, view[written:], start + written)
        finally:
            os.close(fd)


def _check_output(output: Any, overwrite: bool) -> Path:
    if not isinstance(output, str | os.PathLike):
        raise fail("output", "a .npy or .zarr path", type(output).__name__, TypeError)
    path = Path(output)
    if path.suffix not in (".npy", ".zarr"):
        raise fail("output", "a path ending in .npy or .zarr", f"'{path.name}'")
    if not isinstance(overwrite, bool):
        raise fail("overwrite", "a bool", repr(overwrite), TypeError)
    if path.exists() and not overwrite:
        raise FileExistsError(f"{path} exists; pass overwrite=True to replace it.")
    if not path.parent.is_dir():
        raise FileNotFoundError(f"The folder of `output` does not exist: {path.parent}")
    return path


def _temp_name(path: Path) -> Path:
    # Hidden, same folder (os.replace must not cross file systems), unique per job.
    return path.with_name(f".{path.name}.{uuid.uuid4().hex[:12]}.part")


def _remove(path: Path) -> None:
    if path.is_dir():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)


def _replace(temp: Path, path: Path) -> None:
    """Move the complete output ``temp`` (a file or a .zarr folder) onto ``path``."""
    if temp.is_file():
        replace_file(temp, path)
    elif path.exists():  # directories cannot be replaced in one step
        old = _temp_name(path)
        os.replace(path, old)
        os.replace(temp, path)
        _remove(old)
    else:
        os.replace(temp, path)


def _store(result: Any, path: Path, client: distributed.Client, job: str) -> None:
    """Compute ``result`` into ``path`` via a temporary name; rename only when complete."""
    temp = _temp_name(path)
    try:
        if path.suffix == ".npy":
            result = result.rechunk({1: -1})  # whole rows: each block is one contiguous write
            np.lib.format.open_memmap(temp, mode="w+", dtype=result.dtype, shape=result.shape)
            stored = da.store(result, _NpyBlockWriter(str(temp)), lock=False, compute=False)  # type: ignore[arg-type]
        else:
            stored = result.to_zarr(str(temp), compute=False)
        client.compute(stored).result()
        _replace(temp, path)
    except BaseException as err:
        _remove(temp)
        if isinstance(err, Exception):
            raise JobFailedError(
                f"The {job} job failed ({type(err).__name__}: {err}); nothing was written to "
                f"{path} (the partial temporary file was removed)."
            ) from err
