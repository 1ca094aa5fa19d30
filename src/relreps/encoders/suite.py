"""Several encoders at once: those of the registry that build offline here (each missing one
with why), and datasets embedded by every encoder through the embedding cache."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from relreps._validation import check_int, fail
from relreps.encoders.base import BaseEncoder
from relreps.encoders.cache import cached_encode
from relreps.encoders.registry import list_models, load_encoder

__all__ = ["encode_datasets", "load_offline_encoders"]


def load_offline_encoders(names: Sequence[str]) -> tuple[dict[str, BaseEncoder], dict[str, str]]:
    """Build the named registry encoders from their offline packages; report the rest.

    An encoder is left out, not raised, when it is not in the registry, when its offline
    package is not installed (nothing is fetched), or when building it fails (a broken install),
    so that a run can go on with the others.

    Args:
        names: registry names (:func:`relreps.encoders.model_names`), distinct.

    Returns:
        ``(built, missing)``: name -> encoder for those built, in the order of ``names``, and
        name -> the reason for the others (``"offline package missing (pip install ...)"``,
        ``"not in the registry"`` or ``"failed to load: <error>"``).

    Raises:
        TypeError: ``names`` is a string or holds something other than strings.
        ValueError: repeated names.

    Example:
        >>> built, missing = load_offline_encoders(["wordllama", "no-such-model"])
        >>> list(built), missing
        (['wordllama'], {'no-such-model': 'not in the registry'})
    """
    if isinstance(names, str) or not isinstance(names, Sequence):
        raise fail("names", "a sequence of registry names", repr(names), TypeError)
    for i, name in enumerate(names):
        if not isinstance(name, str):
            raise fail(f"names[{i}]", "a registry name (str)", type(name).__name__, TypeError)
    if len(set(names)) != len(names):
        raise fail("names", "distinct names", repr(list(names)))
    infos = {info.spec.name: info for info in list_models()}
    built: dict[str, BaseEncoder] = {}
    missing: dict[str, str] = {}
    for name in names:
        info = infos.get(name)
        if info is None:
            missing[name] = "not in the registry"
        elif not info.available_offline:
            missing[name] = f"offline package missing (pip install {', '.join(info.missing)})"
        else:
            try:
                built[name] = load_encoder(name, offline=True)
            except Exception as err:  # a broken install: say so, let the caller go on
                missing[name] = f"failed to load: {type(err).__name__}: {err}"
    return built, missing


def encode_datasets(
    encoders: Mapping[str, Any],
    datasets: Sequence[Any],
    *,
    split: str,
    batch_size: int = 32,
    cache_dir: str | os.PathLike[str] | None = None,
    progress: bool | None = None,
    log: Callable[[str], None] | None = None,
) -> dict[str, tuple[np.ndarray, ...]]:
    """Every dataset embedded by every encoder, through :func:`cached_encode` (reruns are instant).

    Args:
        encoders: name -> encoder (``encode(items, batch_size=...)``, ``name``, ``dim``).
        datasets: :class:`relreps.datasets.Dataset` s (anything with ``items``, ``ids`` and
            ``name``), e.g. a training and a test set of the same task.
        split: the cache's split name is ``f"{split}-{len(dataset)}"`` (with the dataset's name
            and item ids: the cache key).
        batch_size: items per ``encode`` call on a cache miss.
        cache_dir: the cache folder; None: ``$RELREPS_CACHE_DIR`` or the user cache folder.
        progress: passed to :func:`cached_encode`.
        log: called with one line per encoder (its name and seconds), or None.

    Returns:
        name -> one float32 (n_items, dim) array per dataset, in the order of ``datasets``.

    Example:
        >>> import tempfile
        >>> from relreps.datasets import Dataset
        >>> from relreps.encoders import CallableEncoder
        >>> ds = Dataset("toy", "all", ("ab", "c"), np.array([0, 1]), ("t:0", "t:1"), ("x", "y"),
        ...              "memory")
        >>> length = CallableEncoder(lambda b: [[float(len(s))] for s in b], name="len", dim=1)
        >>> embedded = encode_datasets({"len": length}, [ds, ds.subset([1])], split="demo",
        ...                            cache_dir=tempfile.mkdtemp())
        >>> [x.ravel().tolist() for x in embedded["len"]]
        [[2.0, 1.0], [1.0]]
    """
    if not isinstance(encoders, Mapping):
        raise fail("encoders", "a mapping name -> encoder", type(encoders).__name__, TypeError)
    if isinstance(datasets, str) or not isinstance(datasets, Sequence):
        raise fail("datasets", "a sequence of datasets", type(datasets).__name__, TypeError)
    check_int(batch_size, "batch_size", low=1)
    out = {}
    for name, encoder in encoders.items():
        start = time.perf_counter()
        out[name] = tuple(
            cached_encode(
                encoder,
                list(ds.items),
                list(ds.ids),
                dataset=ds.name,
                split=f"{split}-{len(ds)}",
                batch_size=batch_size,
                cache_dir=cache_dir,
                progress=progress,
            )
            for ds in datasets
        )
        if log is not None:
            log(f"  embedded with {name} ({time.perf_counter() - start:.1f} s)")
    return out
