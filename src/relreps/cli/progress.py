"""Progress bars that appear only on a terminal (tqdm when installed)."""

from __future__ import annotations

import sys
from collections.abc import Iterable, Iterator
from typing import TypeVar

T = TypeVar("T")


def progress(
    items: Iterable[T], *, desc: str, unit: str = "it", total: int | None = None
) -> Iterator[T]:
    """Wrap ``items`` in a tqdm bar on stderr when it is a terminal; plain iteration otherwise."""
    if not sys.stderr.isatty():
        yield from items
        return
    try:
        from tqdm.auto import tqdm
    except ImportError:
        yield from items
        return
    yield from tqdm(items, desc=desc, unit=unit, total=total, file=sys.stderr, leave=False)
