"""Torch helpers shared by the small-model reproductions (graph, similarity, anchors ablation)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator


@contextlib.contextmanager
def torch_threads(n: int = 1) -> Iterator[None]:
    """Run a block with ``torch.set_num_threads(n)``; the previous count is restored after.

    The models of these experiments are small: each op lasts well under a millisecond, so
    intra-op parallelism buys nothing and, on a loaded machine, its OpenMP workers waiting for a
    core made steps ~30x slower in our measurements (sparse matmul of a 3,000-node graph: 0.4 ms
    CPU on one thread, 2-37 ms on two).

    Example:
        >>> import torch
        >>> before = torch.get_num_threads()
        >>> with torch_threads(1):
        ...     torch.get_num_threads()
        1
        >>> torch.get_num_threads() == before
        True
    """
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(before)
