"""Shared pieces of ``ae-stitching``, ``abs-vs-rel-training`` and ``quantization``: config checks,
the loop over data sets (skips, fallbacks), train-or-reload, and the result's config.

The image splits live in :mod:`relreps.datasets.image_splits` (re-exported here for the vision and
alignment experiments). Imports only numpy at module level; torch is imported where it is used.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np

from relreps._validation import check_choice, check_int
from relreps.datasets.image_splits import DOWNLOADED_IMAGE_SPLITS as ONLINE_DATASETS
from relreps.datasets.image_splits import IMAGE_SPLITS as IMAGE_DATASETS
from relreps.datasets.image_splits import (
    DatasetUnavailable,
    ImageSplit,
    load_image_split,
    scale_images,
    stratified_subset,
)
from relreps.experiments.base import RunContext

__all__ = [
    "IMAGE_DATASETS",
    "ONLINE_DATASETS",
    "DatasetUnavailable",
    "ImageSplit",
    "anchor_indices",
    "check_config",
    "each_dataset",
    "fit_or_load",
    "load_image_split",
    "result_config",
    "scale_images",
    "skip_note",
    "stratified_subset",
    "with_online_datasets",
    "worst",
]


def with_online_datasets(datasets: tuple[str, ...], online: bool) -> tuple[str, ...]:
    """``datasets`` plus the downloaded ones (MNIST, CIFAR-10) when ``online``, without repeats.

    Example:
        >>> with_online_datasets(("fashion-mnist", "mnist"), online=True)
        ('fashion-mnist', 'mnist', 'cifar10')
    """
    return tuple(dict.fromkeys(datasets + ONLINE_DATASETS)) if online else datasets


def check_config(datasets: tuple[str, ...], known: tuple[str, ...], seeds: int) -> None:
    """A config's data set names and seed count (``__post_init__`` of the three configs)."""
    for i, name in enumerate(datasets):
        check_choice(name, f"datasets[{i}]", known)
    check_int(seeds, "seeds", low=1)


def each_dataset(
    names: Iterable[str],
    load: Callable[[str], Any],
    context: RunContext,
    skipped: dict[str, str],
    notes: list[str],
) -> Iterator[tuple[str, Any]]:
    """``(name, data)`` per data set that loads (``load(name)``, an object with ``.name`` and
    ``.note``); unavailable ones and repeats (Fashion-MNIST fell back to digits, which runs
    anyway) go into ``skipped`` with the reason, fallback notes into ``notes``."""
    seen: set[str] = set()
    for dataset in names:
        try:
            data = load(dataset)
        except DatasetUnavailable as err:
            context.log(f"  skipped {dataset}: {err}")
            skipped[dataset] = str(err)
            continue
        if data.note:
            notes.append(data.note)
            context.log(f"  {data.note}")
        if data.name in seen:
            skipped[dataset] = f"{data.note} Digits is already in this run."
            continue
        seen.add(data.name)
        yield dataset, data


def anchor_indices(labels: np.ndarray, n_anchors: int, seed: int) -> np.ndarray:
    """Class-stratified anchor indices (at most all of ``labels``)."""
    from relreps.anchors import stratified

    return stratified(labels, min(n_anchors, len(labels)), seed=seed)


def fit_or_load(
    saved: Path, build: Callable[[], Any], x: Any, y: Any, config: Any, *, reuse: bool = True
) -> tuple[Any, Any]:
    """The model saved in ``saved`` (when ``reuse``), else ``build()`` trained by
    :func:`relreps.nn.fit` and saved there. Returns ``(model in eval mode, history or None)``."""
    from relreps.nn import fit, load_model, save_model

    if reuse and (saved / "config.json").exists():
        return load_model(saved).eval(), None
    model = build()
    history = fit(model, x, y, config=config)
    save_model(model.eval(), saved)
    return model, history


def worst(values: list[float], pick: Callable[[list[float]], float] = min) -> float:
    """``pick(values)``, or NaN when any value is NaN (an unmeasured cell fails its claim)."""
    return math.nan if any(math.isnan(v) for v in values) else pick(values)


def skip_note(skipped: dict[str, str]) -> str:
    """`` Skipped NAME: why`` per skipped data set, for a table note."""
    return "".join(f" Skipped {d}: {why}" for d, why in skipped.items())


def result_config(config: Any, context: RunContext) -> dict[str, Any]:
    """The ``config`` of an ExperimentResult: the quick flag, the base seed and the sizes."""
    return {"quick": context.quick, "seed": context.seed, **asdict(config)}
