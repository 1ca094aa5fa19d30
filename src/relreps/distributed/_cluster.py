"""Where the jobs run (a scheduler address or a LocalCluster) and the error of a failed job."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import distributed

from relreps._validation import check_int, fail
from relreps.errors import RelrepsError


class JobFailedError(RelrepsError, RuntimeError):
    """A distributed job failed; no output file was left behind (see the chained cause)."""


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
