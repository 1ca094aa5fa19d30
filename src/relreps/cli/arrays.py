"""Reading and writing arrays for the CLI: .npy, .npz, .safetensors, .parquet - never pickle.

Large ``.npy`` inputs are memory-mapped and ``.npy`` outputs are written through a memmap under a
temporary name, renamed when complete, so projections larger than memory stream to disk and an
interrupted run never leaves a file that looks finished.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from relreps._io import atomic_path
from relreps.errors import RelrepsError

__all__ = ["SUFFIXES", "ArrayFileError", "load_array", "open_output", "save_array"]

SUFFIXES = (".npy", ".npz", ".safetensors", ".parquet")


class ArrayFileError(RelrepsError, ValueError):
    """A file that cannot be read as the expected array (missing, corrupt, pickled, wrong shape)."""


def _suffix(path: Path) -> str:
    suffix = path.suffix.lower()
    if suffix not in SUFFIXES:
        raise ArrayFileError(
            f"{str(path)!r}: unsupported file type {suffix or '(none)'}; "
            f"use one of {list(SUFFIXES)}"
        )
    return suffix


def load_array(path: Path | str, *, key: str | None = None, mmap: bool = True) -> np.ndarray:
    """Load one array from a file without ever unpickling.

    Args:
        path: a .npy, .npz, .safetensors or .parquet file.
        key: the array's name inside .npz/.safetensors (needed when the file holds several).
        mmap: memory-map .npy files instead of reading them (default).

    Raises:
        ArrayFileError: missing or corrupt file, pickled object arrays, ambiguous or missing key.
    """
    path = Path(path)
    suffix = _suffix(path)
    if not path.exists():
        raise ArrayFileError(f"{str(path)!r} does not exist")
    try:
        if suffix == ".npy":
            return np.load(path, mmap_mode="r" if mmap else None, allow_pickle=False)
        if suffix == ".npz":
            with np.load(path, allow_pickle=False) as archive:
                return archive[_pick(path, list(archive.files), key)]
        if suffix == ".safetensors":
            return _load_safetensors(path, key)
        return _load_parquet(path, key)
    except ArrayFileError:
        raise
    except ValueError as err:
        if "pickle" in str(err).lower() or "python objects" in str(err).lower():
            raise ArrayFileError(
                f"{str(path)!r} holds pickled Python objects; relreps never unpickles files. "
                "Save plain numeric arrays instead."
            ) from err
        raise ArrayFileError(f"{str(path)!r} is not a readable {suffix} file: {err}") from err
    except (OSError, EOFError, KeyError, RuntimeError, TypeError) as err:
        raise ArrayFileError(f"{str(path)!r} is not a readable {suffix} file: {err}") from err


def _pick(path: Path, names: list[str], key: str | None) -> str:
    if key is not None:
        if key not in names:
            raise ArrayFileError(f"{str(path)!r} has no array {key!r}; it holds {names}")
        return key
    if len(names) != 1:
        raise ArrayFileError(f"{str(path)!r} holds several arrays {names}; choose one with --key")
    return names[0]


def _load_safetensors(path: Path, key: str | None) -> np.ndarray:
    try:
        from safetensors import safe_open
    except ImportError as err:  # pragma: no cover - part of the torch extra
        raise ArrayFileError("reading .safetensors needs: pip install 'relreps[torch]'") from err
    try:
        with safe_open(str(path), framework="numpy") as handle:
            name = _pick(path, list(handle.keys()), key)
            return handle.get_tensor(name)
    except ArrayFileError:
        raise
    except Exception as err:  # safetensors raises its own error types for corrupt headers
        raise ArrayFileError(f"{str(path)!r} is not a readable .safetensors file: {err}") from err


def _load_parquet(path: Path, key: str | None) -> np.ndarray:
    try:
        import pyarrow.parquet as pq
    except ImportError as err:  # pragma: no cover - part of the text extra
        raise ArrayFileError("reading .parquet needs: pip install pyarrow") from err
    try:
        table = pq.read_table(path)
    except Exception as err:  # pyarrow's errors are many; all mean "unreadable"
        raise ArrayFileError(f"{str(path)!r} is not a readable .parquet file: {err}") from err
    if key is not None or table.num_columns == 1:
        column = table.column(_pick(path, table.column_names, key))
        values = column.to_pylist()
        try:
            return np.asarray(values, dtype=np.float64 if not values else None)
        except ValueError as err:
            raise ArrayFileError(f"{str(path)!r}: column holds rows of unequal length") from err
    try:
        return np.column_stack([table.column(c).to_numpy() for c in table.column_names])
    except Exception as err:
        raise ArrayFileError(f"{str(path)!r}: columns are not all numeric: {err}") from err


def save_array(path: Path | str, array: Any, *, key: str = "relative") -> None:
    """Write an array atomically (temporary file + rename) in the format of the suffix."""
    path = Path(path)
    suffix = _suffix(path)
    array = np.ascontiguousarray(array)
    with atomic_path(path, suffix=suffix) as tmp:
        if suffix == ".npy":
            np.save(tmp, array, allow_pickle=False)
        elif suffix == ".npz":
            with open(tmp, "wb") as handle:
                np.savez(handle, **{key: array})
        elif suffix == ".safetensors":
            from safetensors.numpy import save_file

            save_file({key: array}, str(tmp))
        else:
            import pyarrow as pa
            import pyarrow.parquet as pq

            columns = {f"{key}_{j}": array[:, j] for j in range(array.shape[1])}
            pq.write_table(pa.table(columns), str(tmp))


@contextlib.contextmanager
def open_output(path: Path, shape: tuple[int, int], dtype: Any) -> Iterator[np.memmap]:
    """A writable .npy memmap under a temporary name beside ``path``; it becomes ``path`` when
    the block ends (and is removed when the block raises)."""
    with atomic_path(path, suffix=".npy") as tmp:
        out = np.lib.format.open_memmap(tmp, mode="w+", dtype=dtype, shape=shape)
        yield out
        out.flush()
