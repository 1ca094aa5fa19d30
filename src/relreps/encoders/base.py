"""The encoder protocol and the batching shell every adapter shares.

An encoder maps a sequence of items (texts, words, images, nodes) to an ``(n_items, dim)``
float32 numpy array. Adapters subclass :class:`BaseEncoder` and only implement
``_encode_batch``; batching, validation, progress bars and the output contract live here once.
"""

from __future__ import annotations

import abc
import hashlib
import importlib
import json
import os
import socket
import sys
import urllib.parse
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, ClassVar, Protocol, runtime_checkable

import numpy as np

from relreps._array import library_name, to_numpy
from relreps._validation import check_int, fail
from relreps.errors import RelrepsError

__all__ = [
    "PROGRESS_MIN_ITEMS",
    "BaseEncoder",
    "Encoder",
    "ModelUnavailableError",
    "check_items",
    "check_texts",
    "encoder_identity",
    "folder_fingerprint",
    "hub_endpoint",
    "hub_reachable",
    "load_or_explain",
    "module_fingerprint",
    "require",
    "resolve_device",
]

#: With ``progress=None`` a bar is shown for at least this many items (and a terminal on stderr).
PROGRESS_MIN_ITEMS = 1000


class ModelUnavailableError(RelrepsError, OSError):
    """A model could not be loaded: no offline package, or it needs the network while offline."""


@runtime_checkable
class Encoder(Protocol):
    """What every encoder offers: a ``name``, an output ``dim`` and ``encode``.

    ``encode(items, *, batch_size)`` returns a float32 numpy array of shape ``(n_items, dim)``;
    row ``i`` embeds ``items[i]``. The same items give the same rows (no dropout, eval mode).
    """

    @property
    def name(self) -> str: ...

    @property
    def dim(self) -> int: ...

    def encode(self, items: Sequence[Any], *, batch_size: int = 32) -> np.ndarray: ...


class BaseEncoder(abc.ABC):
    """Batching, validation and progress shared by all adapters.

    Subclasses implement :meth:`_encode_batch` (a list of items -> an array-like
    ``(len(batch), dim)``) and describe themselves through ``version`` and ``options`` so the
    embedding cache can tell two configurations apart.

    Args:
        name: Readable identifier (a registry name, a hub id or a folder name).
        dim: Output dimension, or ``None`` when only the first batch can tell it.
        version: Anything that changes when the weights change (package version, file hash),
            or a function computing it when asked (weight hashes are only paid when needed).
        options: The settings that change the output (pooling, normalisation, max length).
    """

    #: Padded text models batch texts of similar length together (longest first), which cuts
    #: the padding work; rows still come back in the caller's order.
    length_sorted: ClassVar[bool] = False

    def __init__(
        self,
        *,
        name: str,
        dim: int | None,
        version: str | Callable[[], str] = "unversioned",
        options: Mapping[str, Any] | None = None,
    ) -> None:
        if not isinstance(name, str) or not name:
            raise fail("name", "a non-empty str", repr(name), TypeError)
        self._name = name
        self._dim = None if dim is None else check_int(dim, "dim", low=1)
        self._version = version
        self.options: dict[str, Any] = dict(options or {})

    @property
    def name(self) -> str:
        """Readable identifier of the encoder."""
        return self._name

    @property
    def dim(self) -> int:
        """Number of output features of each embedding."""
        if self._dim is None:
            raise RuntimeError(
                f"The output dimension of encoder {self._name!r} is not known before its first "
                "encode() call; pass dim=... when building it."
            )
        return self._dim

    @property
    def version(self) -> str:
        """Changes whenever the weights change; part of the cache key.

        A version function is called each time (not memoised), so a module trained after its
        first use gets a new version.
        """
        return str(self._version() if callable(self._version) else self._version)

    def identity(self) -> dict[str, Any]:
        """JSON-ready description that changes whenever the output would change."""
        return {
            "class": type(self).__qualname__,
            "name": self._name,
            "version": self.version,
            "dim": self._dim,
            "options": self.options,
        }

    def encode(
        self, items: Sequence[Any], *, batch_size: int = 32, progress: bool | None = None
    ) -> np.ndarray:
        """Embed ``items`` batch by batch.

        Args:
            items: A sequence (list, tuple or numpy array) of ``n_items`` items.
            batch_size: Items per forward pass (memory vs speed).
            progress: Show a tqdm bar; ``None`` shows one for long runs when stderr is a terminal.

        Returns:
            float32 numpy array of shape ``(n_items, dim)``.

        Example:
            >>> from relreps.encoders import CallableEncoder
            >>> enc = CallableEncoder(lambda b: [[len(s), 1.0] for s in b], name="len", dim=2)
            >>> enc.encode(["a", "abc"], batch_size=1)
            array([[1., 1.],
                   [3., 1.]], dtype=float32)
        """
        items = check_items(items)
        batch_size = check_int(batch_size, "batch_size", low=1)
        n_items = len(items)
        if n_items == 0:
            return np.zeros((0, self._dim or 0), dtype=np.float32)
        order = _length_order(items) if self.length_sorted else None
        out: np.ndarray | None = None
        with _progress_bar(n_items, self._name, progress) as advance:
            for start in range(0, n_items, batch_size):
                if order is None:
                    rows: Any = slice(start, start + batch_size)
                    batch = items[rows]
                else:
                    rows = order[start : start + batch_size]
                    batch = [items[i] for i in rows]
                block = self._checked_block(self._encode_batch(batch), len(batch))
                if out is None:
                    out = np.empty((n_items, block.shape[1]), dtype=np.float32)
                out[rows] = block
                advance(len(batch))
        if out is None:  # n_items > 0 means at least one batch ran
            raise RuntimeError("no batch was encoded")
        return out

    def _checked_block(self, block: Any, n_rows: int) -> np.ndarray:
        arr = np.asarray(to_numpy(block))
        if arr.ndim != 2 or arr.shape[0] != n_rows:
            raise ValueError(
                f"Encoder {self._name!r} returned shape {tuple(arr.shape)} for a batch of "
                f"{n_rows} items; expected (n_items, dim)."
            )
        if self._dim is None:
            self._dim = int(arr.shape[1])
        elif arr.shape[1] != self._dim:
            raise ValueError(
                f"Encoder {self._name!r} returned {arr.shape[1]} features, but its dim is "
                f"{self._dim}."
            )
        arr = arr.astype(np.float32, copy=False)
        bad = ~np.isfinite(arr).all(axis=1)
        if bad.any():
            raise ValueError(
                f"Encoder {self._name!r} produced NaN or Inf for {int(bad.sum())} of {n_rows} "
                f"items in a batch (first: batch row {int(bad.nonzero()[0][0])})."
            )
        return arr

    @abc.abstractmethod
    def _encode_batch(self, batch: Sequence[Any]) -> Any:
        """Embed one batch: ``len(batch)`` items -> array-like ``(len(batch), dim)``."""

    def __repr__(self) -> str:
        dim = self._dim if self._dim is not None else "?"
        return f"{type(self).__name__}(name={self._name!r}, dim={dim})"


def _length_order(items: Sequence[Any]) -> np.ndarray | None:
    """Indices of ``items`` longest first (stable), or None when items are not all strings."""
    if not all(isinstance(item, str) for item in items):
        return None  # let the adapter's own check name the bad item
    lengths = np.fromiter((len(item) for item in items), dtype=np.int64, count=len(items))
    return np.argsort(-lengths, kind="stable")


def check_items(items: Any, name: str = "items") -> Any:
    """Accept any sliceable sequence of items (list, tuple, numpy array), never a bare string."""
    if isinstance(items, str | bytes):
        raise fail(name, "a sequence of items", "a single str; wrap it in a list", TypeError)
    if isinstance(items, np.ndarray):
        if items.ndim == 0:
            raise fail(name, "a sequence of items", "a 0-d array", TypeError)
        return items
    if isinstance(items, Sequence):
        return items
    try:
        return list(items)
    except TypeError:
        raise fail(name, "a sequence of items", library_name(items), TypeError) from None


def check_texts(batch: Sequence[Any], name: str = "items") -> list[str]:
    """Every item of a text encoder must be a str; name the first one that is not."""
    texts = list(batch)
    for i, text in enumerate(texts):
        if not isinstance(text, str):
            raise fail(
                f"{name}[{i}]", "a str", f"{text!r} of type {type(text).__name__}", TypeError
            )
    return texts


def encoder_identity(encoder: Any) -> dict[str, Any]:
    """Identity of any encoder for cache keys: its ``identity()`` or name/class/version/dim.

    Example:
        >>> from relreps.encoders import CallableEncoder
        >>> enc = CallableEncoder(str.__len__, name="len", dim=1, version="1")
        >>> encoder_identity(enc)["version"]
        '1'
    """
    if isinstance(encoder, BaseEncoder):
        return encoder.identity()
    if not isinstance(encoder, Encoder):
        raise fail(
            "encoder",
            "an Encoder (with name, dim and encode(items, *, batch_size))",
            library_name(encoder),
            TypeError,
        )
    return {
        "class": type(encoder).__qualname__,
        "name": str(encoder.name),
        "version": str(getattr(encoder, "version", "unversioned")),
        "dim": int(encoder.dim),
    }


def require(module: str, extra: str, *, pip_name: str | None = None) -> Any:
    """Import an optional library, or raise an ImportError naming the pip extra to install.

    Example:
        >>> require("json", "text").__name__
        'json'
    """
    try:
        return importlib.import_module(module)
    except ImportError:
        name = pip_name or module.replace("_", "-")
        raise ImportError(
            f"This encoder needs {name}: pip install 'relreps[{extra}]' (or pip install {name})."
        ) from None


def resolve_device(device: Any) -> Any:
    """``None`` -> ``"cuda"`` when torch sees a GPU, else ``"cpu"``; anything else is kept."""
    if device is not None:
        if not isinstance(device, str) and type(device).__name__ != "device":
            raise fail("device", "a str or torch.device", repr(device), TypeError)
        return device
    torch = require("torch", "torch")
    return "cuda" if torch.cuda.is_available() else "cpu"


def module_fingerprint(module: Any) -> str:
    """Short hash of a torch module's weights and buffers (names, shapes, dtypes, bytes).

    Example:
        >>> import torch
        >>> a, b = torch.nn.Linear(2, 2), torch.nn.Linear(2, 2)
        >>> module_fingerprint(a) == module_fingerprint(a)
        True
        >>> module_fingerprint(a) == module_fingerprint(b)
        False
    """
    import torch

    digest = hashlib.sha256()
    for name, tensor in module.state_dict().items():
        flat = tensor.detach().cpu().contiguous().reshape(-1)
        digest.update(f"{name}:{tuple(tensor.shape)}:{tensor.dtype};".encode())
        digest.update(flat.view(torch.uint8).numpy())
    return digest.hexdigest()[:16]


def folder_fingerprint(path: str | os.PathLike[str]) -> str:
    """Short hash of a model file or folder, for versions.

    A single file is hashed whole (its bytes). A folder is hashed by relative file names, sizes
    and the contents of its small ``.json`` configs: cheap for multi-GB checkpoints, and a
    retrained model almost always changes a size or a config; pass ``version=`` to be exact.
    """
    root = Path(path)
    digest = hashlib.sha256()
    if root.is_file():
        with root.open("rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
        return digest.hexdigest()[:16]
    for file in sorted(p for p in root.rglob("*") if p.is_file()):
        digest.update(json.dumps([str(file.relative_to(root)), file.stat().st_size]).encode())
        if file.suffix == ".json" and file.stat().st_size < 1_000_000:
            digest.update(file.read_bytes())
    return digest.hexdigest()[:16]


def load_or_explain(
    load: Callable[[bool], Any],
    source: str,
    *,
    local: bool,
    local_files_only: bool | None = None,
) -> Any:
    """Run a hub loader ``load(local_files_only)``; explain "needs the network" in one line.

    Order for a hub id: the local Hugging Face cache first (no network), then - only if the hub
    answers a quick connection probe - a download. Offline this fails in about a second instead
    of after the hub client's retries. ``OSError`` (what transformers, sentence-transformers and
    huggingface_hub raise for missing files and unreachable hubs) becomes a
    :class:`ModelUnavailableError` without the library's deep traceback chain.

    Args:
        load: Builds the model; receives the ``local_files_only`` flag to use.
        source: Hub id or folder, for the message.
        local: ``source`` is a local folder.
        local_files_only: Forbid the network; ``None`` means "when ``source`` is local".
    """
    offline = local if local_files_only is None else bool(local_files_only)
    try:
        with _quiet_local_load():
            return load(True)
    except (OSError, ValueError) as err:  # a broken local config.json is a ValueError
        if local:
            raise ModelUnavailableError(
                f"Could not load the model folder {source!r}: {_first_line(err)}"
            ) from None
    explain = (
        f"Could not load {source!r}: it is neither a local folder nor in the Hugging Face "
        "cache{why}. Download it once while online, pass a local folder, or pick an offline "
        "model from relreps.encoders.list_models()."
    )
    if offline:
        raise ModelUnavailableError(explain.format(why=", and local_files_only=True")) from None
    if not hub_reachable():
        raise ModelUnavailableError(
            explain.format(why=f", and {hub_endpoint()} cannot be reached (offline?)")
        ) from None
    try:
        return load(False)
    except OSError as err:
        raise ModelUnavailableError(
            explain.format(why=f", and downloading it failed: {_first_line(err)}")
        ) from None


@contextmanager
def _quiet_local_load() -> Iterator[None]:
    """Silence transformers' "Loading weights" bar and info lines while a model loads from disk.

    A load from a folder or the cache takes a second, so a bar per load only clutters logs
    (experiments load dozens of models). Downloads run outside this and keep their bars.
    """
    transformers = sys.modules.get("transformers")
    if transformers is None:
        yield
        return
    logging = transformers.utils.logging
    bar, level = logging.is_progress_bar_enabled(), logging.get_verbosity()
    logging.disable_progress_bar()
    logging.set_verbosity_error()
    try:
        yield
    finally:
        logging.set_verbosity(level)
        if bar:
            logging.enable_progress_bar()


def hub_endpoint() -> str:
    """The Hugging Face endpoint in use (``$HF_ENDPOINT`` or ``https://huggingface.co``)."""
    return os.environ.get("HF_ENDPOINT", "https://huggingface.co").rstrip("/")


def hub_reachable(timeout: float = 3.0) -> bool:
    """Whether a TCP connection to the hub endpoint opens within ``timeout`` seconds.

    Behind an HTTP(S) proxy a direct probe says nothing, so it answers True and lets the hub
    client try. ``HF_HUB_OFFLINE=1`` answers False.

    Example:
        >>> import os
        >>> saved = os.environ.get("HF_ENDPOINT")
        >>> os.environ["HF_ENDPOINT"] = "http://127.0.0.1:9"  # the discard port: closed here
        >>> hub_reachable(timeout=0.5)
        False
        >>> if saved is None:
        ...     del os.environ["HF_ENDPOINT"]
        ... else:
        ...     os.environ["HF_ENDPOINT"] = saved
    """
    if os.environ.get("HF_HUB_OFFLINE", "").lower() in ("1", "true", "yes", "on"):
        return False
    if any(os.environ.get(v) for v in ("HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy")):
        return True
    url = urllib.parse.urlsplit(hub_endpoint())
    port = url.port or (443 if url.scheme == "https" else 80)
    try:
        with socket.create_connection((url.hostname or "", port), timeout=timeout):
            return True
    except OSError:
        return False


def _first_line(err: BaseException) -> str:
    text = str(err).strip().splitlines()
    return text[0] if text else type(err).__name__


@contextmanager
def _progress_bar(total: int, desc: str, enabled: bool | None) -> Iterator[Callable[[int], Any]]:
    asked = enabled is True
    if enabled is None:
        enabled = total >= PROGRESS_MIN_ITEMS and sys.stderr.isatty()
    if not enabled:
        yield lambda n: None
        return
    try:
        from tqdm.auto import tqdm
    except ImportError:
        if asked:
            raise ImportError("progress=True needs tqdm: pip install 'relreps[progress]'") from None
        yield lambda n: None  # an automatic bar is a nicety, never a reason to fail
        return
    bar = tqdm(total=total, desc=desc, unit="item", file=sys.stderr)
    try:
        yield bar.update
    finally:
        bar.close()
