"""Fused blocked kernel for the plain cosine / inner projection of numpy (and CPU torch) arrays.

For each block of rows of ``x`` (sized so the block and its slice of the result stay in cache):
the row norms are computed while the block is cache-hot, the product with the prepared anchors
is written straight into the result, and that slice is rescaled in place before it leaves the
cache. The only full-size array is the result itself; a centred or cast block is the only
temporary. This replaces the three whole-array passes of the unfused version (norms, product,
rescale), two of which are memory-bound.

Threads: the blocks are spread over worker threads (up to 8, at most the CPU count and
``OMP_NUM_THREADS``), each running a single-threaded BLAS product (threadpoolctl holds BLAS to one
thread for the duration), so small products do not pay BLAS's thread start and barrier per call.
Without threadpoolctl the blocks run in the calling thread with BLAS's own threads, in larger
blocks. While a projection runs, other threads of the process also see one BLAS thread.

Out of core: a ``numpy.memmap`` input is read in order; the pages of the next blocks are asked
for ahead (``madvise(MADV_WILLNEED)``) so the kernel reads them while the current block computes.
A ``numpy.memmap`` result is handed to the disk a stretch behind the blocks being computed
(``posix_fadvise(DONTNEED)`` starts the write-back), so writing overlaps computing instead of
stalling the writer once the dirty pages pile up.
"""

from __future__ import annotations

import mmap
import os
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager

import numpy as np

__all__ = ["BLOCK_BYTES", "block_rows", "project_into", "single_threaded_blas", "worker_threads"]

# x block + result block per worker (2048 rows at d = k = 512, float32), held in L3. Measured on
# the 2-core dev machine (n=100k, d=k=512, float32, idle): a bare blocked product of 2048-row
# blocks matches the one-call product (1.00x), 512-row blocks cost 1.13-1.27x (BLAS packs the
# anchors once per product); see docs/scale.md.
BLOCK_BYTES = 8 * 2**20
# Without worker threads each product is spread over BLAS's threads: bigger blocks amortise that.
SERIAL_BLOCK_BYTES = 16 * 2**20
# Below this many blocks the thread pool costs more than it saves.
_THREADED_MIN_BLOCKS = 4
# Pages asked for ahead of the block being computed (memmap inputs).
_READ_AHEAD_BLOCKS = 4

# numpy >= 2.0: vecdot runs the per-row dot products at twice einsum's speed (measured).
_squared_norms: Callable[[np.ndarray], np.ndarray] = (
    (lambda b: np.vecdot(b, b))
    if hasattr(np, "vecdot")
    else (lambda b: np.einsum("ij,ij->i", b, b))
)

CheckRows = Callable[[np.ndarray, np.ndarray, int], None]


def block_rows(n_features: int, n_columns: int, itemsize: int, budget: int = BLOCK_BYTES) -> int:
    """Rows per block so that one x block plus its result block take about ``budget`` bytes.

    Example:
        >>> block_rows(512, 512, 4)
        2048
    """
    return max(16, budget // ((n_features + n_columns) * itemsize))


def worker_threads() -> int:
    """Worker threads for the blocks: up to 8, at most the CPU count and ``OMP_NUM_THREADS``."""
    limit = min(8, os.cpu_count() or 1)
    env = os.environ.get("OMP_NUM_THREADS", "")
    if env.isdigit() and int(env) > 0:
        limit = min(limit, int(env))
    return limit


@contextmanager
def single_threaded_blas(threads: int) -> Iterator[int]:
    """Yield the worker count to use: ``threads`` with BLAS held to one thread, else 1.

    Without threadpoolctl, or for one worker, BLAS keeps its own threads and one worker runs.
    Shared by the blocked kernels (this projection and ``relreps.metrics.knn_blocks``).
    """
    if threads <= 1:
        yield 1
        return
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - threadpoolctl comes with scikit-learn
        yield 1
        return
    with threadpool_limits(limits=1, user_api="blas"):
        yield threads


def _read_ahead(x: np.ndarray) -> Callable[[int, int], None]:
    """A function ``(start, stop)`` that asks the kernel for rows ``start:stop`` of a memmap.

    For other arrays (or where ``madvise`` is unavailable) it does nothing.
    """
    base = getattr(x, "_mmap", None) if isinstance(x, np.memmap) else None
    madvise = getattr(base, "madvise", None)
    advice = getattr(mmap, "MADV_WILLNEED", None)
    if base is None or madvise is None or advice is None or not x.flags.c_contiguous:
        return lambda start, stop: None
    view = np.frombuffer(base, dtype=np.uint8)  # base address of the mapping
    origin = view.ctypes.data
    offset = x.ctypes.data - origin
    row_bytes = x.strides[0]
    page = mmap.PAGESIZE
    size = len(base)

    def advise(start: int, stop: int) -> None:
        begin = offset + start * row_bytes
        end = min(size, offset + stop * row_bytes)
        aligned = begin - begin % page
        if end > aligned:
            try:
                madvise(advice, aligned, end - aligned)
            except OSError:  # advice only: a refusal changes nothing but the speed
                pass

    return advise


def _write_behind(out: np.ndarray) -> tuple[Callable[[int, int], None], Callable[[], None]]:
    """``(flush(start, stop), close())`` starting the disk write of result rows of a memmap.

    The kernel otherwise lets dirty pages pile up and then stalls the writer for the disk
    (dirty-page throttling), so computing and writing add up; ``posix_fadvise(DONTNEED)`` on a
    finished stretch starts its write-back at once (and drops it from the page cache once
    written), so the disk writes while the next blocks compute. For other arrays: no-ops.
    """
    base = getattr(out, "_mmap", None) if isinstance(out, np.memmap) else None
    filename = getattr(out, "filename", None)
    advise = getattr(os, "posix_fadvise", None)
    if base is None or filename is None or advise is None or not out.flags.c_contiguous:
        return (lambda start, stop: None), (lambda: None)
    try:
        fd = os.open(filename, os.O_RDONLY)
    except OSError:
        return (lambda start, stop: None), (lambda: None)
    origin = np.frombuffer(base, dtype=np.uint8).ctypes.data
    # np.memmap maps the file from its offset rounded down to the allocation granularity
    offset = int(getattr(out, "offset", 0))
    file_start = offset - offset % mmap.ALLOCATIONGRANULARITY
    position = file_start + out.ctypes.data - origin
    row_bytes = out.strides[0]

    def flush(start: int, stop: int) -> None:
        try:
            advise(fd, position + start * row_bytes, (stop - start) * row_bytes,
                   os.POSIX_FADV_DONTNEED)  # fmt: skip
        except OSError:  # advice only
            pass

    return flush, lambda: os.close(fd)


def project_into(
    x: np.ndarray,
    anchors_t: np.ndarray,
    out: np.ndarray,
    *,
    cosine: bool,
    dtype: np.dtype,
    center: np.ndarray | None,
    check_rows: CheckRows,
    max_rows: int | None = None,
    threads: int | None = None,
) -> None:
    """Write the cosine (or scaled inner) projection of ``x`` into ``out``, block by block.

    Args:
        x: samples, shape (n, d); any numpy dtype (cast per block), a memmap is read in order.
        anchors_t: the prepared anchors transposed, shape (d, k), of ``dtype`` (unit rows for
            cosine, raw for inner).
        out: the result, shape (n, k), of ``dtype``; written in place (a memmap is fine).
        cosine: divide each row by its norm (zero rows give 0); else multiply by 1/sqrt(d).
        dtype: the computation dtype.
        center: subtracted from every row first, shape (d,), or None.
        check_rows: ``(block, row norms, start)``, raising on non-finite rows.
        max_rows: at most this many rows per block (the block is :func:`block_rows` of the
            shapes, or this if smaller).
        threads: worker threads (default: :func:`worker_threads`).

    Example:
        >>> import numpy as np
        >>> x, a = np.ones((3, 4)), np.eye(4)[:2]
        >>> out = np.empty((3, 2))
        >>> project_into(x, a.T, out, cosine=True, dtype=np.dtype(float), center=None,
        ...              check_rows=lambda *args: None)
        >>> out
        array([[0.5, 0.5],
               [0.5, 0.5],
               [0.5, 0.5]])
    """
    n, d = x.shape
    itemsize = np.dtype(dtype).itemsize
    wanted = worker_threads() if threads is None else threads
    with single_threaded_blas(wanted) as workers:
        budget = BLOCK_BYTES if workers > 1 else SERIAL_BLOCK_BYTES
        size = block_rows(d, out.shape[1], itemsize, budget)
        size = size if max_rows is None else max(1, min(size, max_rows))
        starts = range(0, n, size)
        if len(starts) < _THREADED_MIN_BLOCKS:
            workers = 1
        scale = 1.0 / float(d) ** 0.5
        advise = _read_ahead(x)
        ahead = _READ_AHEAD_BLOCKS * max(1, workers) * size

        def one_block(start: int) -> None:
            stop = min(n, start + size)
            if start % ahead == 0:  # ask for the next stretch once per stretch
                advise(start + ahead, start + 2 * ahead)
            block = x[start:stop]
            if block.dtype != dtype:
                block = block.astype(dtype)
            if center is not None:
                block = block - center
            dest = out[start:stop]
            with np.errstate(over="ignore", invalid="ignore"):  # check_rows names the row
                norms = _squared_norms(block)
            np.sqrt(norms, out=norms)
            check_rows(block, norms, start)
            if cosine:
                norms[norms == 0] = 1
            np.matmul(block, anchors_t, out=dest)
            if cosine:
                dest /= norms[:, None]
            else:
                dest *= scale

        advise(0, ahead)
        flush, close = _write_behind(out)
        # results are handed to the disk a stretch behind the blocks being computed
        behind = ahead
        try:
            if workers == 1:
                for start in starts:
                    one_block(start)
                    if start % behind == 0 and start >= behind:
                        flush(start - behind, start)
            else:
                with ThreadPoolExecutor(max_workers=workers) as pool:
                    for start, done in zip(starts, pool.map(one_block, starts), strict=True):
                        del done  # pool.map re-raises a worker's error
                        if start % behind == 0 and start >= behind:
                            flush(start - behind, start)
        finally:
            close()
