"""Scores over repeated draws (anchor draws, seeds) summarised per setting: mean and spread.

A run often scores the same setting several times (one record per anchor draw or seed) and reports
each setting as "mean ± std over draws". :func:`summarise_draws` groups flat score records by a key
and gives every score column's mean and sample standard deviation (``ddof=1``; 0.0 for a single
draw), plus the number of draws and any columns to carry over unchanged.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

import numpy as np

from relreps._validation import fail

__all__ = ["summarise_draws"]


def summarise_draws(
    records: Iterable[Mapping[str, Any]],
    key: Callable[[Mapping[str, Any]], str],
    metrics: Sequence[str],
    *,
    keep: Sequence[str] = (),
) -> dict[str, dict[str, Any]]:
    """Group ``records`` by ``key(record)``; per group, the mean and std of every score column.

    Args:
        records: one mapping per draw (column name -> value).
        key: the group of a record (e.g. ``lambda r: f"{r['pair']}|{r['strategy']}"``).
        metrics: prefixes of the score columns: every column of a group's first record whose name
            starts with one of them is summarised, in that record's column order.
        keep: columns copied from a group's first record (e.g. the number of words).

    Returns:
        key -> ``{"n_draws": n, <keep columns>, m: mean, f"{m}_std": std, ...}`` for every score
        column ``m``, groups in order of first appearance. The std is the sample std (``ddof=1``),
        0.0 for a group of one draw.

    Raises:
        ValueError: a record is not a mapping, lacks a ``keep`` column, or its group lacks a score
            column the group's first record has; no prefix is given.

    Example:
        >>> rows = [{"pair": "a->b", "jaccard@5": 0.25}, {"pair": "a->b", "jaccard@5": 0.75}]
        >>> summarise_draws(rows, lambda r: r["pair"], ["jaccard@"])["a->b"]
        {'n_draws': 2, 'jaccard@5': 0.5, 'jaccard@5_std': 0.3535533905932738}
    """
    prefixes = tuple(metrics)
    if not prefixes or not all(isinstance(p, str) for p in prefixes):
        raise fail("metrics", "one or more column-name prefixes (str)", repr(metrics))
    groups: dict[str, list[Mapping[str, Any]]] = {}
    for i, record in enumerate(records):
        if not isinstance(record, Mapping):
            raise fail(f"records[{i}]", "a mapping of column -> value", type(record).__name__)
        groups.setdefault(key(record), []).append(record)
    summary = {}
    for group, members in groups.items():
        first = members[0]
        missing = [name for name in keep if name not in first]
        if missing:
            raise fail("keep", f"columns of the records of group {group!r}", f"missing {missing}")
        entry: dict[str, Any] = {"n_draws": len(members), **{name: first[name] for name in keep}}
        for metric in (name for name in first if name.startswith(prefixes)):
            if any(metric not in m for m in members):
                raise fail("records", f"column {metric!r} in every record of {group!r}", "absent")
            values = np.array([float(m[metric]) for m in members])
            entry[metric] = float(values.mean())
            entry[f"{metric}_std"] = float(values.std(ddof=1)) if len(values) > 1 else 0.0
        summary[group] = entry
    return summary
