"""The jobs: a projection written to a file, a comparison of two spaces, sharded encoding."""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import distributed
import numpy as np

from relreps._array import Array
from relreps._io import replace_file
from relreps._validation import check_choice, check_int, fail
from relreps.distributed._cluster import JobFailedError, cluster
from relreps.distributed._inputs import open_array
from relreps.distributed._outputs import _check_output, _remove, _store, _temp_name
from relreps.metrics.dask_ops import (
    check_retrieval_pair,
    cka,
    jaccard_from_neighbors,
    knn,
    mrr_from_neighbors,
)
from relreps.projection_spec import UNSET, ProjectionSpec, Unset

COMPARISONS = ("cka", "jaccard", "mrr")


@contextlib.contextmanager
def _session(
    client: distributed.Client | None, address: str | None, n_workers: int
) -> Iterator[distributed.Client]:
    if client is not None:
        if not isinstance(client, distributed.Client):
            raise fail("client", "a distributed.Client or None", type(client).__name__, TypeError)
        yield client
        return
    with cluster(address, n_workers=n_workers) as started:
        yield started


# ----------------------------------------------------------------------------- projection


@dataclass(frozen=True)
class ProjectionJob:
    """Result of :func:`project_to_file`."""

    output: str
    shape: tuple[int, int]
    dtype: str
    n_blocks: int
    seconds: float

    def to_dict(self) -> dict[str, Any]:
        """Plain-dict view (JSON-ready)."""
        return asdict(self)


def project_to_file(
    x: Any,
    anchors: Array,
    output: str | os.PathLike[str],
    *,
    spec: ProjectionSpec | None = None,
    similarity: Any = UNSET,
    center: Any = UNSET,
    aggregate: str | Unset = UNSET,
    topk: int | Unset | None = UNSET,
    power: float | Unset | None = UNSET,
    rows: int | None = None,
    overwrite: bool = False,
    client: distributed.Client | None = None,
    address: str | None = None,
    n_workers: int = 2,
) -> ProjectionJob:
    """Relative projection of ``x`` on a cluster, written block by block to ``output``.

    Args:
        x: (n_samples, n_features) dask/numpy array or ``.npy``/``.zarr`` path
            (see :func:`open_array`).
        anchors: (n_anchors, n_features) anchors (small: sent once to every worker).
        output: ``.npy`` or ``.zarr`` path; written under a temporary name and renamed when
            complete.
        spec: the projection options as one :class:`relreps.ProjectionSpec`, as in
            :func:`relreps.relative_projection` (default: ``ProjectionSpec()``'s options).
        similarity: a convenience for the same option of ``spec``; each of these keywords
            (also ``center``, ``aggregate``, ``topk``, ``power``) must be left out or agree with
            ``spec`` (a contradicting keyword is a ValueError). ``center`` may also be an
            explicit vector, as in :func:`relreps.relative_projection`.
        center: see ``similarity``.
        aggregate: see ``similarity``.
        topk: see ``similarity``.
        power: see ``similarity``.
        rows: rows per block when reading ``x`` (the memory of one task); ``spec.chunk_size``,
            when set, re-blocks the projection to that many rows.
        overwrite: replace an existing ``output``.
        client: an open ``distributed.Client`` to use.
        address: scheduler address when no ``client`` is given; neither starts a LocalCluster.
        n_workers: workers of that LocalCluster.

    Returns:
        :class:`ProjectionJob` (path, shape, dtype, blocks, seconds).

    Raises:
        FileExistsError: ``output`` exists and ``overwrite`` is False.
        ValueError: a projection keyword that contradicts ``spec``, or a bad option value.
        JobFailedError: the job failed (e.g. a worker kept dying); no ``output`` is left.

    Example:
        >>> import numpy as np, tempfile, os
        >>> folder = tempfile.mkdtemp()
        >>> x = np.random.default_rng(0).normal(size=(100, 8)).astype(np.float32)
        >>> with cluster(n_workers=1, processes=False) as client:
        ...     job = project_to_file(x, x[:4], os.path.join(folder, "rel.npy"), rows=32,
        ...                           client=client)
        >>> job.shape, job.n_blocks
        ((100, 4), 4)
    """
    from relreps.projection import relative_projection

    path = _check_output(output, overwrite)
    array = open_array(x, "x", rows=rows)
    result = relative_projection(
        array, anchors, spec=spec, similarity=similarity, center=center, aggregate=aggregate,
        topk=topk, power=power,
    )  # fmt: skip
    start = time.perf_counter()
    with _session(client, address, n_workers) as active:
        _store(result, path, active, "projection")
    return ProjectionJob(
        str(path),
        (int(result.shape[0]), int(result.shape[1])),
        str(result.dtype),
        len(result.chunks[0]),
        time.perf_counter() - start,
    )


# ----------------------------------------------------------------------------- comparison


@dataclass(frozen=True)
class Comparison:
    """Scores of :func:`compare` (None for a score not requested)."""

    cka: float | None
    jaccard: float | None
    mrr: float | None
    k: int
    n_samples: int
    metric: str
    debiased: bool
    seconds: float

    def to_dict(self) -> dict[str, Any]:
        """Plain-dict view (JSON-ready)."""
        return asdict(self)


def compare(
    a: Any,
    b: Any,
    *,
    scores: Sequence[str] = COMPARISONS,
    k: int = 10,
    metric: str = "cosine",
    debiased: bool = False,
    rows: int | None = None,
    client: distributed.Client | None = None,
    address: str | None = None,
    n_workers: int = 2,
) -> Comparison:
    """Compare two paired spaces on a cluster: linear CKA, Jaccard@k and MRR@k in one pass.

    Jaccard and MRR retrieve, in ``b``'s space, each sample's own vector from its ``a`` vector
    (``a`` = source, ``b`` = target, as :func:`relreps.metrics.jaccard_at_k`); so ``a`` and ``b``
    must have the same number of features for them (e.g. two relative spaces with the same
    anchors). CKA accepts different widths.

    Args:
        a: (n_samples, d_a) array or path (see :func:`open_array`).
        b: (n_samples, d_b) array or path; row i of both is sample i.
        scores: any of ``"cka"``, ``"jaccard"``, ``"mrr"``.
        k: neighbourhood size for Jaccard/MRR, in ``[1, n_samples - 1]``.
        metric: kNN metric (``"cosine"``, ``"inner"``, ``"euclidean"``).
        debiased: debiased CKA.
        rows: rows per block.
        client: an open ``distributed.Client``.
        address: scheduler address when no ``client``; neither starts a LocalCluster.
        n_workers: workers of that LocalCluster.

    Returns:
        :class:`Comparison`.

    Example:
        >>> import numpy as np
        >>> x = np.random.default_rng(0).normal(size=(60, 5))
        >>> with cluster(n_workers=1, processes=False) as client:
        ...     c = compare(x, 2.0 * x, k=5, rows=25, client=client)
        >>> round(c.cka, 9), c.jaccard, c.mrr
        (1.0, 1.0, 1.0)
    """
    if isinstance(scores, str) or not isinstance(scores, Sequence) or not scores:
        raise fail("scores", f"a non-empty list of names among {list(COMPARISONS)}", repr(scores))
    wanted = {check_choice(name, "scores", COMPARISONS) for name in scores}
    a_d = open_array(a, "a", rows=rows)
    b_d = open_array(b, "b", rows=rows)
    lazy: dict[str, Any] = {}
    if "cka" in wanted:
        lazy["cka"] = cka(a_d, b_d, debiased=debiased)
    if wanted & {"jaccard", "mrr"}:
        src, tgt, k = check_retrieval_pair(a_d, b_d, k)
        retrieved = knn(src, tgt, k, metric=metric).indices
        if "jaccard" in wanted:
            own = knn(tgt, tgt, k, metric=metric).indices
            lazy["jaccard"] = jaccard_from_neighbors(own, retrieved, k)
        if "mrr" in wanted:
            lazy["mrr"] = mrr_from_neighbors(retrieved)
    start = time.perf_counter()
    with _session(client, address, n_workers) as active:
        try:
            values = active.compute(list(lazy.values()), sync=True)
        except Exception as err:
            raise JobFailedError(
                f"The comparison job failed ({type(err).__name__}: {err})."
            ) from err
    found = {name: float(v) for name, v in zip(lazy, values, strict=True)}
    return Comparison(
        found.get("cka"),
        found.get("jaccard"),
        found.get("mrr"),
        k,
        int(a_d.shape[0]),
        metric,
        debiased,
        time.perf_counter() - start,
    )


# ----------------------------------------------------------------------------- encoding


@dataclass(frozen=True)
class EncodingJob:
    """Result of :func:`encode`."""

    output: str | None
    cache_path: str
    shape: tuple[int, int]
    n_shards: int
    reused_shards: int
    seconds: float

    def to_dict(self) -> dict[str, Any]:
        """Plain-dict view (JSON-ready)."""
        return asdict(self)


def _shard_split(split: str, shard: int, n_shards: int) -> str:
    return f"{split}.shard-{shard:05d}-of-{n_shards:05d}"


def _encode_shard(
    encoder: Any,
    items: Sequence[Any],
    ids: Sequence[Any],
    dataset: str,
    split: str,
    batch_size: int,
    cache_dir: str | None,
) -> tuple[int, bool]:
    """Encode one shard into its own cache entry (atomic); (rows, whether it was cached)."""
    from relreps.encoders.cache import EmbeddingCache, cached_encode

    cache = EmbeddingCache(cache_dir)
    reused = cache.paths(cache.key(encoder, ids, dataset=dataset, split=split))[1].exists()
    embeddings = cached_encode(
        encoder, items, ids, dataset=dataset, split=split, batch_size=batch_size,
        cache_dir=cache_dir, progress=False,
    )  # fmt: skip
    return int(embeddings.shape[0]), reused


def _checked_encode_args(
    encoder: Any,
    items: Sequence[Any],
    ids: Sequence[Any],
    shard_size: int,
    batch_size: int,
    output: str | os.PathLike[str] | None,
    overwrite: bool,
) -> tuple[Sequence[Any], int, int, Path | None]:
    """Check :func:`encode`'s arguments before any work: (items, shard_size, batch_size, path)."""
    from relreps.encoders.base import check_items, encoder_identity

    encoder_identity(encoder)  # a clear TypeError for a non-encoder, before any work
    items = check_items(items)
    if len(ids) != len(items):
        raise ValueError(
            f"Expected `ids` and `items` to have the same length, but got {len(ids)} ids and "
            f"{len(items)} items."
        )
    if len(items) == 0:
        raise fail("items", "at least one item", "an empty sequence")
    shard_size = check_int(shard_size, "shard_size", low=1)
    batch_size = check_int(batch_size, "batch_size", low=1)
    path = _check_output(output, overwrite) if output is not None else None
    if path is not None and path.suffix != ".npy":
        raise fail("output", "a path ending in .npy", f"'{path.name}'")
    return items, shard_size, batch_size, path


def encode(
    encoder: Any,
    items: Sequence[Any],
    ids: Sequence[Any],
    *,
    dataset: str,
    split: str,
    output: str | os.PathLike[str] | None = None,
    shard_size: int = 10000,
    batch_size: int = 32,
    cache_dir: str | os.PathLike[str] | None = None,
    overwrite: bool = False,
    client: distributed.Client | None = None,
    address: str | None = None,
    n_workers: int = 2,
) -> EncodingJob:
    """Encode ``items`` on a cluster, shard by shard, into the embedding cache.

    Each shard of ``shard_size`` items is encoded by one task into its own cache entry (written
    atomically), so a job that dies half way keeps its finished shards and a rerun encodes only
    the rest. The shards are then assembled, in order, into the cache entry of the whole split
    (so :func:`relreps.encoders.cached_encode` with the same arguments is a hit) and, when
    ``output`` is given, into that ``.npy`` file via a temporary name.

    Args:
        encoder: an encoder (``name``, ``dim``, ``encode``); sent once to each worker.
        items: ``n_items`` items.
        ids: ``n_items`` distinct ids (str or int), in order.
        dataset: dataset name (part of the cache key).
        split: split name (part of the cache key).
        output: optional ``.npy`` path for the (n_items, dim) float32 embeddings.
        shard_size: items per task.
        batch_size: encoder batch size inside a task.
        cache_dir: cache folder (default ``$RELREPS_CACHE_DIR`` or the user cache); every
            worker must see it.
        overwrite: replace an existing ``output``.
        client: an open ``distributed.Client``.
        address: scheduler address when no ``client``; neither starts a LocalCluster.
        n_workers: workers of that LocalCluster.

    Returns:
        :class:`EncodingJob` (paths, shape, shard counts).

    Example:
        >>> import numpy as np, tempfile
        >>> from relreps.encoders import CallableEncoder
        >>> enc = CallableEncoder(lambda b: [[float(len(s)), 1.0] for s in b], name="len", dim=2)
        >>> words = ["a", "bb", "ccc", "dddd", "eeeee"]
        >>> with cluster(n_workers=1, processes=False) as client:
        ...     job = encode(enc, words, words, dataset="toy", split="all", shard_size=2,
        ...                  cache_dir=tempfile.mkdtemp(), client=client)
        >>> job.shape, job.n_shards
        ((5, 2), 3)
    """
    from relreps.encoders.cache import EmbeddingCache

    items, shard_size, batch_size, path = _checked_encode_args(
        encoder, items, ids, shard_size, batch_size, output, overwrite
    )
    cache = EmbeddingCache(cache_dir)
    full_key = cache.key(encoder, ids, dataset=dataset, split=split)  # validates ids, names
    folder = None if cache_dir is None else str(cache_dir)
    bounds = [(s, min(s + shard_size, len(items))) for s in range(0, len(items), shard_size)]
    n_shards = len(bounds)
    start_time = time.perf_counter()
    with _session(client, address, n_workers) as active:
        shared_encoder = active.scatter(encoder, broadcast=True, hash=False)
        futures = [
            active.submit(
                _encode_shard,
                shared_encoder,
                items[lo:hi],
                list(ids[lo:hi]),
                dataset,
                _shard_split(split, i, n_shards),
                batch_size,
                folder,
                pure=False,
            )
            for i, (lo, hi) in enumerate(bounds)
        ]
        # Let every shard that can finish do so (and reach the cache) before reporting an error.
        distributed.wait(futures)
        try:
            done = active.gather(futures)
        except Exception as err:
            raise JobFailedError(
                f"The encoding job failed ({type(err).__name__}: {err}); finished shards are "
                "kept in the cache and a rerun encodes only the missing ones."
            ) from err
    reused = sum(1 for _, was_cached in done if was_cached)
    target = path if path is not None else cache.paths(full_key)[0]
    temp = _temp_name(target)
    try:
        merged = _assemble(cache, encoder, ids, dataset, split, bounds, temp)
        cache.save(full_key, merged)
        del merged
        if path is not None:
            replace_file(temp, path)
    finally:
        _remove(temp)
    return EncodingJob(
        None if path is None else str(path),
        str(cache.paths(full_key)[0]),
        (len(items), int(encoder.dim)),
        n_shards,
        reused,
        time.perf_counter() - start_time,
    )


def _assemble(
    cache: Any,
    encoder: Any,
    ids: Sequence[Any],
    dataset: str,
    split: str,
    bounds: list[tuple[int, int]],
    temp: Path,
) -> np.ndarray:
    """Copy the shards, in order, into a memory-mapped ``.npy`` at ``temp`` (bounded memory)."""

    def shard(i: int) -> np.ndarray:
        lo, hi = bounds[i]
        name = _shard_split(split, i, len(bounds))
        found = cache.load(cache.key(encoder, ids[lo:hi], dataset=dataset, split=name))
        if found is None:
            raise JobFailedError(
                f"Shard {i} of the encoding job is missing from the cache after the job: "
                "is the cache folder shared by every worker?"
            )
        return np.asarray(found)

    first = shard(0)
    shape = (int(bounds[-1][1]), int(first.shape[1]))
    merged = np.lib.format.open_memmap(temp, mode="w+", dtype=np.float32, shape=shape)
    merged[: first.shape[0]] = first
    for i in range(1, len(bounds)):
        lo, hi = bounds[i]
        merged[lo:hi] = shard(i)
    merged.flush()
    return merged
