"""Run relreps jobs on a ``dask.distributed`` cluster: projections, comparisons, batch encoding.

Give the address of a running scheduler (``address="tcp://host:8786"``), or an open ``client``;
with neither, each job starts a :class:`distributed.LocalCluster` (2 workers by default) and stops
it when done. Dask schedules the work, moves the data and re-runs the tasks of a worker that dies;
relreps only builds the graph (the lazy projection and :mod:`relreps.metrics.dask_ops`) and makes
the results safe to trust:

- outputs are written under a temporary name in the destination folder and renamed
  (``os.replace``) only once every block is written, so a failed or killed job never leaves a
  file that looks complete (it raises :class:`JobFailedError`; the temporary file is removed);
- encoding shards are separate embedding-cache entries (:class:`relreps.encoders.EmbeddingCache`,
  atomic writes): a rerun after a failure encodes only the missing shards.

Inputs can be dask arrays, numpy arrays, ``.npy`` files (read in place by the workers through a
memory map: only the path travels) or ``.zarr`` arrays. With a multi-machine cluster, files and
the cache folder must be on storage every worker sees.

Importing this module imports dask and distributed (``pip install 'relreps[dask]'``).
"""

from __future__ import annotations

import contextlib
import mmap
import os
import shutil
import time
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from relreps._array import Array, is_dask
from relreps._io import replace_file
from relreps._validation import check_choice, check_int, fail
from relreps.projection_spec import UNSET, ProjectionSpec, Unset

try:
    import dask
    import dask.array as da
    import distributed
except ImportError as err:  # pragma: no cover - dask is installed in the dev environment
    raise ImportError(
        "relreps.distributed needs dask and distributed: pip install 'relreps[dask]'."
    ) from err

from relreps.errors import RelrepsError
from relreps.metrics.dask_ops import (
    check_retrieval_pair,
    cka,
    jaccard_at_k,
    jaccard_from_neighbors,
    knn,
    mrr_at_k,
    mrr_from_neighbors,
    retrieval_scores,
)

__all__ = [
    "Comparison",
    "EncodingJob",
    "JobFailedError",
    "ProjectionJob",
    "cka",
    "cluster",
    "compare",
    "encode",
    "jaccard_at_k",
    "knn",
    "mrr_at_k",
    "open_array",
    "project_to_file",
    "retrieval_scores",
]

COMPARISONS = ("cka", "jaccard", "mrr")
_DEFAULT_ROWS = 65536


class JobFailedError(RelrepsError, RuntimeError):
    """A distributed job failed; no output file was left behind (see the chained cause)."""


# ----------------------------------------------------------------------------- cluster


@contextlib.contextmanager
def cluster(
    address: str | None = None,
    *,
    n_workers: int = 2,
    threads_per_worker: int = 1,
    processes: bool = True,
    **cluster_options: Any,
) -> Iterator[distributed.Client]:
    """A ``distributed.Client``: on the scheduler at ``address``, or on a LocalCluster.

    The LocalCluster (and the client) are closed on exit; a remote cluster is left running.

    Args:
        address: scheduler address (``"tcp://host:8786"``); None starts a LocalCluster.
        n_workers: LocalCluster workers.
        threads_per_worker: threads per LocalCluster worker.
        processes: LocalCluster workers as processes (True) or threads of this process.
        **cluster_options: more ``LocalCluster`` arguments (``memory_limit`` ...).

    Example:
        >>> import dask.array as da
        >>> with cluster(n_workers=1, processes=False) as client:
        ...     int(client.compute(da.ones(10, chunks=5).sum()).result())
        10
    """
    if address is not None:
        if not isinstance(address, str) or not address:
            raise fail("address", "a scheduler address such as 'tcp://host:8786'", repr(address))
        with distributed.Client(address) as client:
            yield client
        return
    n_workers = check_int(n_workers, "n_workers", low=1)
    threads_per_worker = check_int(threads_per_worker, "threads_per_worker", low=1)
    options: dict[str, Any] = {"dashboard_address": ":0", "silence_logs": 40}
    options.update(cluster_options)
    with (
        distributed.LocalCluster(
            n_workers=n_workers,
            threads_per_worker=threads_per_worker,
            processes=processes,
            **options,
        ) as local,
        distributed.Client(local) as client,
    ):
        yield client


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


# ----------------------------------------------------------------------------- inputs


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


# ----------------------------------------------------------------------------- outputs


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
        raise


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
    from relreps.encoders.base import check_items, encoder_identity
    from relreps.encoders.cache import EmbeddingCache

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
