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

try:
    import dask  # noqa: F401
    import distributed  # noqa: F401
except ImportError as err:  # pragma: no cover - dask is installed in the dev environment
    raise ImportError(
        "relreps.distributed needs dask and distributed: pip install 'relreps[dask]'."
    ) from err

from relreps.distributed._cluster import JobFailedError, cluster
from relreps.distributed._inputs import open_array
from relreps.distributed._jobs import COMPARISONS as COMPARISONS  # the score names, not in __all__
from relreps.distributed._jobs import (
    Comparison,
    EncodingJob,
    ProjectionJob,
    compare,
    encode,
    project_to_file,
)
from relreps.metrics.dask_ops import cka, jaccard_at_k, knn, mrr_at_k, retrieval_scores

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
