"""Atomic file writes and the JSON cell cache: the one implementation every layer uses.

A file is written under a temporary name in its own folder (``os.replace`` must not cross file
systems), flushed to disk and renamed onto the final name only when complete, so an interrupted
write never leaves a partial file that looks finished. Temporary files get the usual permissions
(``0o666`` less the umask; ``mkstemp`` alone makes them private).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, Any

from relreps.results import jsonable

__all__ = [
    "CellCache",
    "atomic_open",
    "atomic_path",
    "atomic_write_bytes",
    "atomic_write_text",
    "fsync_file",
    "replace_file",
    "temporary_path",
]


def temporary_path(path: Path | str, suffix: str = ".tmp") -> Path:
    """An empty new file beside ``path`` (hidden name ending in ``suffix``), shared permissions."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=suffix, dir=path.parent)
    os.close(fd)
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp, 0o666 & ~umask)
    return Path(tmp)


def fsync_file(path: Path | str) -> None:
    """Flush a written file's data to disk."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def replace_file(tmp: Path | str, path: Path | str) -> None:
    """Make the complete file ``tmp`` the file ``path``: fsync, then ``os.replace``."""
    fsync_file(tmp)
    os.replace(tmp, path)


@contextlib.contextmanager
def atomic_path(path: Path | str, *, suffix: str = ".tmp") -> Iterator[Path]:
    """A temporary path to write ``path``'s content to; it becomes ``path`` when the block ends.

    The folder is created when missing. On an exception the temporary file is removed and
    ``path`` is untouched. ``suffix`` is for writers that look at it (``np.save`` adds ``.npy``).

    Example:
        >>> import tempfile
        >>> from pathlib import Path
        >>> target = Path(tempfile.mkdtemp()) / "x.txt"
        >>> with atomic_path(target) as tmp:
        ...     _ = tmp.write_text("done")
        >>> target.read_text()
        'done'
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = temporary_path(path, suffix)
    try:
        yield tmp
        replace_file(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


@contextlib.contextmanager
def atomic_open(path: Path | str, mode: str = "wb", **kwargs: Any) -> Iterator[IO[Any]]:
    """``open(path, mode)`` that writes atomically (see :func:`atomic_path`)."""
    if mode not in ("w", "wb", "wt"):
        raise ValueError(f"Expected `mode` to be 'w', 'wt' or 'wb', but got {mode!r}.")
    with atomic_path(path) as tmp, open(tmp, mode, **kwargs) as handle:
        yield handle


def atomic_write_bytes(path: Path | str, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically (temporary file, fsync, ``os.replace``)."""
    with atomic_open(path, "wb") as handle:
        handle.write(data)


def atomic_write_text(path: Path | str, text: str) -> None:
    """UTF-8 text version of :func:`atomic_write_bytes`."""
    atomic_write_bytes(path, text.encode("utf-8"))


class CellCache:
    """Resumable results: one small JSON file per finished cell, written atomically.

    A cell is any unit of work worth not redoing (one trained model's scores, one pair's metric).
    Keys are hashed into file names, so any string works as a key.

    Example:
        >>> import tempfile
        >>> cache = CellCache(tempfile.mkdtemp())
        >>> cache.get("seed=0/mlp") is None
        True
        >>> cache.put("seed=0/mlp", {"f1": 91.5})
        >>> cache.get("seed=0/mlp")
        {'f1': 91.5}
    """

    def __init__(self, folder: Path | str) -> None:
        self.folder = Path(folder)

    def _path(self, key: str) -> Path:
        digest = hashlib.sha256(key.encode("utf-8")).hexdigest()[:24]
        return self.folder / f"{digest}.json"

    def get(self, key: str) -> Any | None:
        """The stored value, or None when absent or unreadable (a corrupt cell is recomputed)."""
        path = self._path(key)
        try:
            payload = json.loads(path.read_text("utf-8"))
        except (OSError, ValueError):
            return None
        if not isinstance(payload, dict) or payload.get("key") != key:
            return None
        return payload.get("value")

    def put(self, key: str, value: Any) -> None:
        """Store a JSON-able value under ``key`` atomically."""
        atomic_write_text(self._path(key), json.dumps({"key": key, "value": jsonable(value)}))

    def get_or_compute(self, key: str, compute: Callable[[], Any]) -> Any:
        """Cached value for ``key``, computing and storing it when missing."""
        value = self.get(key)
        if value is None:
            value = compute()
            self.put(key, value)
            value = self.get(key)
        return value
