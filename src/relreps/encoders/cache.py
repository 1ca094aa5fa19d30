"""On-disk embedding cache: encode a dataset split once, reuse it across runs.

An entry is keyed by the encoder's identity (class, name, version, options), the dataset, the
split and a hash of the item ids. It is two files: ``<entry>.npy`` (the array, never pickled)
and ``<entry>.json`` (a manifest with shape, dtype and the ``.npy`` file's sha256). Both are
written to a temp file in the same folder and moved in place with ``os.replace``, the manifest
last: an interrupted run leaves no entry (only an unused temp file). An entry whose checksum,
shape or manifest does not match is reported with a :class:`CacheCorruptionWarning`, removed
and rebuilt.

The cache folder is ``$RELREPS_CACHE_DIR`` when set, else ``$XDG_CACHE_HOME/relreps`` or
``~/.cache/relreps``; embeddings go under its ``embeddings/`` sub-folder.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

import numpy as np

from relreps._io import atomic_path
from relreps._validation import check_int, fail
from relreps.encoders.base import BaseEncoder, check_items, encoder_identity

__all__ = [
    "CACHE_ENV_VAR",
    "CacheCorruptionWarning",
    "CacheKey",
    "EmbeddingCache",
    "cached_encode",
    "default_cache_dir",
]

#: Environment variable naming the cache folder.
CACHE_ENV_VAR = "RELREPS_CACHE_DIR"
_FORMAT = "relreps-embeddings/1"


class CacheCorruptionWarning(RuntimeWarning):
    """A cache entry failed its checks and is being rebuilt."""


def default_cache_dir() -> Path:
    """``$RELREPS_CACHE_DIR``, else the user's cache dir + ``relreps``.

    Example:
        >>> import os
        >>> saved = os.environ.get("RELREPS_CACHE_DIR")
        >>> os.environ["RELREPS_CACHE_DIR"] = "/tmp/relreps-doc-cache"
        >>> str(default_cache_dir())
        '/tmp/relreps-doc-cache'
        >>> if saved is None:
        ...     del os.environ["RELREPS_CACHE_DIR"]
        ... else:
        ...     os.environ["RELREPS_CACHE_DIR"] = saved
    """
    configured = os.environ.get(CACHE_ENV_VAR)
    if configured:
        return Path(configured).expanduser()
    if os.name == "nt" and os.environ.get("LOCALAPPDATA"):
        return Path(os.environ["LOCALAPPDATA"]) / "relreps" / "Cache"
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(xdg).expanduser() if xdg else Path.home() / ".cache"
    return base / "relreps"


@dataclass(frozen=True)
class CacheKey:
    """What identifies a cache entry.

    Attributes:
        encoder: The encoder's identity (see ``encoder_identity``).
        dataset: Dataset name.
        split: Split name.
        ids_sha256: sha256 of the ordered item ids.
        n_items: Number of items.
    """

    encoder: dict[str, Any]
    dataset: str
    split: str
    ids_sha256: str
    n_items: int

    @property
    def digest(self) -> str:
        """sha256 of the whole key (hex)."""
        return hashlib.sha256(_canonical_json(self.to_dict()).encode()).hexdigest()

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready fields."""
        return {
            "encoder": self.encoder,
            "dataset": self.dataset,
            "split": self.split,
            "ids_sha256": self.ids_sha256,
            "n_items": self.n_items,
        }


class EmbeddingCache:
    """A folder of embedding entries (see the module docstring for the layout and guarantees).

    Args:
        root: Cache folder; ``None`` uses :func:`default_cache_dir`. Entries live under
            ``root/embeddings``.

    Example:
        >>> import tempfile
        >>> from relreps.encoders import CallableEncoder
        >>> cache = EmbeddingCache(tempfile.mkdtemp())
        >>> enc = CallableEncoder(lambda b: np.ones((len(b), 2)), name="ones", dim=2)
        >>> key = cache.key(enc, ["a", "b"], dataset="toy", split="test")
        >>> cache.load(key) is None
        True
        >>> _ = cache.save(key, np.ones((2, 2), dtype=np.float32))
        >>> cache.load(key).shape
        (2, 2)
    """

    def __init__(self, root: str | os.PathLike[str] | None = None) -> None:
        if root is not None and not isinstance(root, str | os.PathLike):
            raise fail("root", "a folder path or None", type(root).__name__, TypeError)
        self.root = (Path(root).expanduser() if root is not None else default_cache_dir()) / (
            "embeddings"
        )

    def key(self, encoder: Any, ids: Sequence[Any], *, dataset: str, split: str) -> CacheKey:
        """The key of ``encoder`` applied to the items named by ``ids`` of ``dataset``/``split``."""
        for arg, value in (("dataset", dataset), ("split", split)):
            if not isinstance(value, str) or not value:
                raise fail(arg, "a non-empty str", repr(value), TypeError)
        ids_list = _check_ids(ids)
        ids_sha = hashlib.sha256(_canonical_json(ids_list).encode()).hexdigest()
        return CacheKey(
            encoder=json.loads(_canonical_json(encoder_identity(encoder))),
            dataset=dataset,
            split=split,
            ids_sha256=ids_sha,
            n_items=len(ids_list),
        )

    def paths(self, key: CacheKey) -> tuple[Path, Path]:
        """The ``(.npy, .json)`` files of an entry."""
        folder = self.root / _slug(str(key.encoder.get("name", "encoder")))
        stem = f"{_slug(key.dataset)}-{_slug(key.split)}-{key.digest[:24]}"
        return folder / f"{stem}.npy", folder / f"{stem}.json"

    def load(self, key: CacheKey, *, verify: bool = True) -> np.ndarray | None:
        """The cached array, or ``None`` on a miss (a corrupt entry is removed: also a miss).

        Args:
            key: From :meth:`key`.
            verify: Check the sha256 of the ``.npy`` file (shape and dtype are always checked).
        """
        array_path, manifest_path = self.paths(key)
        if not manifest_path.exists():
            return None  # never written, or interrupted before the manifest: a plain miss
        try:
            return self._read(key, array_path, manifest_path, verify)
        except _CorruptEntry as err:
            warnings.warn(
                f"Embedding cache entry {array_path.name} is corrupt ({err}); rebuilding it.",
                CacheCorruptionWarning,
                stacklevel=2,
            )
            self.remove(key)
            return None

    def _read(
        self, key: CacheKey, array_path: Path, manifest_path: Path, verify: bool
    ) -> np.ndarray:
        try:
            manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
            raise _CorruptEntry(f"unreadable manifest: {err}") from None
        if not isinstance(manifest, dict) or manifest.get("format") != _FORMAT:
            raise _CorruptEntry("manifest of an unknown format")
        if manifest.get("key") != key.digest:
            raise _CorruptEntry("manifest belongs to another key")
        if not array_path.exists():
            raise _CorruptEntry("array file missing")
        if verify and _file_sha256(array_path) != manifest.get("sha256"):
            raise _CorruptEntry("sha256 mismatch")
        try:
            array = np.load(array_path, allow_pickle=False)
        except (OSError, ValueError, EOFError) as err:
            raise _CorruptEntry(f"unreadable array: {err}") from None
        if list(array.shape) != manifest.get("shape") or str(array.dtype) != manifest.get("dtype"):
            raise _CorruptEntry(
                f"array {array.shape} {array.dtype} does not match the manifest "
                f"{manifest.get('shape')} {manifest.get('dtype')}"
            )
        if array.ndim != 2 or array.shape[0] != key.n_items:
            raise _CorruptEntry(f"expected {key.n_items} rows, found shape {array.shape}")
        return array

    def save(self, key: CacheKey, embeddings: np.ndarray) -> Path:
        """Store ``embeddings`` ``(n_items, dim)`` atomically; return the ``.npy`` path."""
        if not isinstance(embeddings, np.ndarray) or embeddings.ndim != 2:
            raise fail("embeddings", "a 2-D numpy array (n_items, dim)", repr(type(embeddings)))
        if embeddings.shape[0] != key.n_items:
            raise fail(
                "embeddings",
                f"an array with {key.n_items} rows (one per id)",
                f"shape {embeddings.shape}",
            )
        array_path, manifest_path = self.paths(key)
        array_path.parent.mkdir(parents=True, exist_ok=True)
        digest = _atomic_write(
            array_path, lambda f: np.save(f, np.ascontiguousarray(embeddings), allow_pickle=False)
        )
        manifest = {
            "format": _FORMAT,
            "key": key.digest,
            **key.to_dict(),
            "file": array_path.name,
            "shape": list(embeddings.shape),
            "dtype": str(embeddings.dtype),
            "sha256": digest,
            "created": datetime.now(UTC).isoformat(timespec="seconds"),
        }
        text = json.dumps(manifest, indent=2, sort_keys=True, default=str)
        _atomic_write(manifest_path, lambda f: f.write(text.encode("utf-8")))
        return array_path

    def remove(self, key: CacheKey) -> None:
        """Delete an entry (manifest first, so a half-removed entry is a miss)."""
        array_path, manifest_path = self.paths(key)
        manifest_path.unlink(missing_ok=True)
        array_path.unlink(missing_ok=True)


def cached_encode(
    encoder: Any,
    items: Sequence[Any],
    ids: Sequence[Any],
    *,
    dataset: str,
    split: str,
    batch_size: int = 32,
    cache_dir: str | os.PathLike[str] | None = None,
    refresh: bool = False,
    progress: bool | None = None,
) -> np.ndarray:
    """``encoder.encode(items)``, read from the cache when this exact split was encoded before.

    Args:
        encoder: Any encoder (``name``, ``dim``, ``encode``); its identity is part of the key.
        items: ``n_items`` items to encode on a miss.
        ids: ``n_items`` distinct ids (str or int) naming the items, in order.
        dataset: Dataset name (part of the key).
        split: Split name (part of the key).
        batch_size: Passed to ``encode`` on a miss.
        cache_dir: Cache folder; ``None`` uses ``$RELREPS_CACHE_DIR`` or the user cache dir.
        refresh: Recompute and overwrite even on a hit.
        progress: Passed to ``encode`` when the encoder accepts it.

    Returns:
        float32 array of shape ``(n_items, dim)``.

    Example:
        >>> import tempfile
        >>> from relreps.encoders import CallableEncoder
        >>> enc = CallableEncoder(lambda b: [[float(len(s))] for s in b], name="len", dim=1)
        >>> folder = tempfile.mkdtemp()
        >>> cached_encode(enc, ["ab", "c"], ["x1", "x2"], dataset="toy", split="train",
        ...               cache_dir=folder).ravel()
        array([2., 1.], dtype=float32)
    """
    items = check_items(items)
    batch_size = check_int(batch_size, "batch_size", low=1)
    if len(ids) != len(items):
        raise ValueError(
            f"Expected `ids` and `items` to have the same length, but got {len(ids)} ids and "
            f"{len(items)} items."
        )
    cache = EmbeddingCache(cache_dir)
    key = cache.key(encoder, ids, dataset=dataset, split=split)
    if not refresh:
        hit = cache.load(key)
        if hit is not None:
            return hit
    if isinstance(encoder, BaseEncoder):
        embeddings = encoder.encode(items, batch_size=batch_size, progress=progress)
    else:  # a minimal Encoder need not take the progress option
        embeddings = encoder.encode(items, batch_size=batch_size)
    embeddings = np.asarray(embeddings, dtype=np.float32)
    cache.save(key, embeddings)
    return embeddings


class _CorruptEntry(Exception):
    pass


def _check_ids(ids: Sequence[Any]) -> list[str | int]:
    if isinstance(ids, str | bytes) or not hasattr(ids, "__len__"):
        raise fail("ids", "a sequence of str or int ids", type(ids).__name__, TypeError)
    values: list[str | int] = []
    for i, value in enumerate(ids):
        if isinstance(value, str):
            values.append(value)
        elif isinstance(value, int | np.integer) and not isinstance(value, bool):
            values.append(int(value))
        else:
            raise fail(
                f"ids[{i}]", "a str or int", f"{value!r} of type {type(value).__name__}", TypeError
            )
    seen: set[str | int] = set()
    for value in values:
        if value in seen:
            raise fail("ids", "distinct ids", f"{value!r} more than once")
        seen.add(value)
    return values


def _canonical_json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", text).strip("._")[:60] or "x"


def _file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _atomic_write(path: Path, write: Callable[[IO[bytes]], Any]) -> str:
    """Write ``path`` atomically (:func:`relreps._io.atomic_path`); return its sha256."""
    with atomic_path(path) as tmp:
        with tmp.open("wb") as handle:
            write(handle)
        return _file_sha256(tmp)
