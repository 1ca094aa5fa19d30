"""The typed dataset every loader returns, and where loaders find their files.

Files are looked up in one fixed order, the first hit wins:

1. an explicit ``path`` given by the caller (a file, or a folder holding the file);
2. the cache dir: ``$RELREPS_DATA_DIR/<subdir>/`` (default ``~/.cache/relreps/data/<subdir>/``);
3. the system location of a Debian package, where one exists (``/usr/share/...``);
4. a download from the canonical URL into the cache dir, checked against a SHA-256 checksum.

A download is written to a temporary file in the cache folder and renamed into place only once its
checksum matches, so an interrupted download never leaves a file that looks complete. A file whose
checksum does not match is moved aside (``<name>.sha256-mismatch``) and never used.
"""

from __future__ import annotations

import contextlib
import hashlib
import http.client
import os
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from relreps._io import replace_file, temporary_path
from relreps._validation import check_float, fail
from relreps.errors import RelrepsError

__all__ = [
    "ChecksumError",
    "DataFormatError",
    "DataNotFoundError",
    "Dataset",
    "Remote",
    "data_dir",
    "download",
    "how_to_get",
    "locate",
    "sha256_file",
]

DATA_DIR_ENV = "RELREPS_DATA_DIR"
_CHUNK = 1 << 20


class DataNotFoundError(RelrepsError, FileNotFoundError):
    """A data file is in none of the places searched; the message says how to get it."""


class ChecksumError(RelrepsError, ValueError):
    """A downloaded file does not match its published SHA-256 checksum."""


class DataFormatError(RelrepsError, ValueError):
    """A data file is truncated, corrupt or not in the format its loader reads."""


@dataclass(frozen=True, eq=False)
class Dataset:
    """A labelled dataset split: items with their labels, stable ids and class names.

    Attributes:
        name: dataset name, e.g. ``"fashion-mnist"``.
        split: split name, e.g. ``"train"``, ``"test"`` or ``"all"``.
        items: ``(n_samples, ...)`` numpy array (images) or tuple of ``n_samples`` strings (texts).
        labels: ``(n_samples,)`` int64 class indices into ``class_names``.
        ids: ``n_samples`` stable string ids (used to key embedding caches).
        class_names: the name of each class, indexed by label.
        source: where the data was read from (a path or URL), for provenance.

    Example:
        >>> ds = Dataset("toy", "train", ("a cat", "a dog"), np.array([0, 1]), ("t/0", "t/1"),
        ...              ("cat", "dog"), "memory")
        >>> len(ds), ds.n_classes, ds.subset([1]).items
        (2, 2, ('a dog',))
    """

    name: str
    split: str
    items: Any
    labels: np.ndarray
    ids: tuple[str, ...]
    class_names: tuple[str, ...]
    source: str

    def __post_init__(self) -> None:
        labels = np.asarray(self.labels)
        if labels.ndim != 1 or labels.dtype.kind not in "iu":
            raise fail(
                "labels", "a 1-D integer array", f"shape {labels.shape} dtype {labels.dtype}"
            )
        n = labels.shape[0]
        if len(self.items) != n or len(self.ids) != n:
            raise ValueError(
                f"Expected `items`, `labels` and `ids` to have the same length, but got "
                f"{len(self.items)}, {n} and {len(self.ids)}."
            )
        if n and (labels.min() < 0 or labels.max() >= len(self.class_names)):
            raise fail(
                "labels",
                f"class indices in [0, {len(self.class_names) - 1}]",
                f"values in [{labels.min()}, {labels.max()}]",
            )
        object.__setattr__(self, "labels", labels.astype(np.int64, copy=False))

    def __len__(self) -> int:
        return int(self.labels.shape[0])

    def __repr__(self) -> str:
        return (
            f"Dataset(name={self.name!r}, split={self.split!r}, n_samples={len(self)}, "
            f"n_classes={self.n_classes}, source={self.source!r})"
        )

    @property
    def n_classes(self) -> int:
        """Number of classes (``len(class_names)``)."""
        return len(self.class_names)

    def subset(self, indices: Sequence[int] | np.ndarray) -> Dataset:
        """The samples at ``indices`` (in that order), as a new dataset of the same split."""
        idx = np.asarray(indices, dtype=np.int64).reshape(-1)
        n = len(self)
        if idx.size and (idx.min() < -n or idx.max() >= n):
            raise fail("indices", f"indices in [0, {n - 1}]", f"[{idx.min()}, {idx.max()}]")
        if isinstance(self.items, np.ndarray):
            items: Any = self.items[idx]
        else:
            items = tuple(self.items[i] for i in idx)
        ids = tuple(self.ids[i] for i in idx)
        return Dataset(
            self.name, self.split, items, self.labels[idx], ids, self.class_names, self.source
        )

    def to_dict(self) -> dict[str, Any]:
        """Metadata as plain JSON types (not the items themselves)."""
        counts = np.bincount(self.labels, minlength=self.n_classes)
        return {
            "name": self.name,
            "split": self.split,
            "n_samples": len(self),
            "class_names": list(self.class_names),
            "class_counts": counts.tolist(),
            "source": self.source,
        }


@dataclass(frozen=True)
class Remote:
    """A file published at ``url`` whose bytes have the SHA-256 digest ``sha256``."""

    url: str
    sha256: str

    def __post_init__(self) -> None:
        if not isinstance(self.url, str) or "://" not in self.url:
            raise fail("url", "a URL such as 'https://host/file.gz'", repr(self.url))
        digest = self.sha256
        if not (isinstance(digest, str) and len(digest) == 64 and _is_hex(digest)):
            raise fail("sha256", "a 64-character hex SHA-256 digest", repr(digest))

    @property
    def filename(self) -> str:
        """The last component of the URL."""
        return self.url.rstrip("/").rsplit("/", 1)[-1]


def _is_hex(text: str) -> bool:
    return all(c in "0123456789abcdefABCDEF" for c in text)


def data_dir() -> Path:
    """The cache folder for data: ``$RELREPS_DATA_DIR``, else ``~/.cache/relreps/data``.

    Example:
        >>> isinstance(data_dir(), Path)
        True
    """
    env = os.environ.get(DATA_DIR_ENV)
    if env:
        return Path(env).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(xdg).expanduser() if xdg else Path.home() / ".cache"
    return base / "relreps" / "data"


def how_to_get(
    *,
    apt: str | None = None,
    pip: str | None = None,
    url: str | None = None,
    subdir: str | None = None,
) -> str:
    """One sentence per way of getting a data set, for error messages.

    Example:
        >>> print(how_to_get(apt="wordnet-base"))
        Install the Debian package: `apt-get install wordnet-base`.
    """
    ways = []
    if apt:
        ways.append(f"Install the Debian package: `apt-get install {apt}`.")
    if pip:
        ways.append(f"Install the Python package: `pip install {pip}`.")
    if url:
        where = f"${DATA_DIR_ENV}/{subdir}/" if subdir else f"${DATA_DIR_ENV}"
        ways.append(
            f"Download it from {url} (done automatically when online with download=True) into "
            f"{where} (default ~/.cache/relreps/data), or pass path=."
        )
    return " ".join(ways)


def locate(
    filename: str,
    *,
    subdir: str,
    path: str | os.PathLike[str] | None = None,
    system_dirs: Sequence[str | os.PathLike[str]] = (),
    remote: Remote | None = None,
    download_missing: bool = True,
    hint: str = "",
) -> Path:
    """Find ``filename`` in the explicit path, the cache dir, system dirs, or download it.

    Args:
        filename: the file to find (the last URL component for downloads).
        subdir: the data set's folder inside the cache dir.
        path: an explicit file or a folder holding ``filename``; if given, nothing else is searched.
        system_dirs: Debian package folders to search after the cache dir.
        remote: where to download the file from, with its checksum (``None``: not downloadable).
        download_missing: download from ``remote`` when the file is nowhere else.
        hint: how to get the data (see :func:`how_to_get`), appended to the not-found message.

    Returns:
        The path of an existing file.

    Raises:
        DataNotFoundError: the file is nowhere and cannot be downloaded.
        ChecksumError: the downloaded file does not match ``remote.sha256``.

    Example:
        >>> import tempfile
        >>> folder = Path(tempfile.mkdtemp())
        >>> _ = (folder / "x.txt").write_text("hi")
        >>> locate("x.txt", subdir="toy", path=folder).name
        'x.txt'
    """
    if path is not None:
        explicit = Path(path).expanduser()
        candidate = explicit / filename if explicit.is_dir() else explicit
        if candidate.is_file():
            return candidate
        raise DataNotFoundError(
            f"Expected `path` to be a file or a folder holding {filename!r}, but got {str(path)!r} "
            f"where no such file exists. {hint}".rstrip()
        )
    searched = [data_dir() / subdir / filename]
    searched += [Path(d) / filename for d in system_dirs]
    for candidate in searched:
        if candidate.is_file():
            return candidate
    where = ", ".join(str(p) for p in searched)
    cache_hint = f"Or put the file in {searched[0].parent} (the folder follows ${DATA_DIR_ENV})."
    hint = f"{hint} {cache_hint}".strip()
    if remote is not None and download_missing:
        try:
            return download(remote, data_dir() / subdir / filename)
        except OSError as err:  # URLError, timeouts and refused connections are OSErrors
            raise DataNotFoundError(
                f"Could not find {filename!r} (searched {where}) and could not download it from "
                f"{remote.url} ({err}). {hint}".rstrip()
            ) from err
    raise DataNotFoundError(f"Could not find {filename!r} (searched {where}). {hint}".rstrip())


def sha256_file(path: str | os.PathLike[str]) -> str:
    """Hex SHA-256 digest of a file, read in 1 MiB chunks.

    Example:
        >>> import tempfile
        >>> f = Path(tempfile.mkdtemp()) / "e"
        >>> _ = f.write_bytes(b"")
        >>> sha256_file(f)[:16]
        'e3b0c44298fc1c14'
    """
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def download(remote: Remote, dest: str | os.PathLike[str], *, timeout: float = 60.0) -> Path:
    """Download ``remote`` to ``dest`` atomically, checking its SHA-256 on the way.

    The bytes go to a temporary file next to ``dest``; it is renamed to ``dest`` only when the
    digest matches, so ``dest`` is either absent or complete and verified.

    Args:
        remote: URL and expected SHA-256 digest.
        dest: final path of the file (its folder is created).
        timeout: seconds to wait for the server on each read.

    Returns:
        ``dest`` as a Path.

    Raises:
        ChecksumError: the digest differs; the bad file is kept at ``<dest>.sha256-mismatch``.
        OSError: the server could not be reached or the transfer was cut (``URLError`` is one).
    """
    timeout = check_float(timeout, "timeout", low=0.0, low_inclusive=False)
    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = temporary_path(dest, ".part")
    try:
        digest = hashlib.sha256()
        with open(tmp, "wb") as out, urllib.request.urlopen(remote.url, timeout=timeout) as rsp:
            announced = rsp.headers.get("Content-Length")
            received = 0
            try:
                while chunk := rsp.read(_CHUNK):
                    digest.update(chunk)
                    out.write(chunk)
                    received += len(chunk)
            except http.client.HTTPException as err:  # e.g. IncompleteRead: connection cut
                raise OSError(f"the transfer was cut ({err!r})") from err
            # http.client returns a short body without error when the connection drops.
            if announced is not None and announced.isdigit() and received != int(announced):
                raise OSError(f"the transfer was cut: got {received} of {announced} bytes")
        got = digest.hexdigest()
        if got != remote.sha256.lower():
            aside = dest.with_name(dest.name + ".sha256-mismatch")
            os.replace(tmp, aside)
            raise ChecksumError(
                f"Expected {remote.url} to have SHA-256 {remote.sha256}, but got {got}; the "
                f"download was moved aside to {aside} and not used."
            )
        replace_file(tmp, dest)
        return dest
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
