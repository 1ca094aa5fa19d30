"""Shared pieces of ``ae-stitching``, ``abs-vs-rel-training`` and ``quantization``: the sizes of
their configs, the loop over data sets (skips, fallbacks, anchors), train-or-reload, and the
result's config.

The image splits live in :mod:`relreps.datasets.image_splits` (re-exported here for the vision and
alignment experiments). Imports only numpy at module level; torch is imported where it is used.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, replace
from typing import Any, ClassVar, Self

import numpy as np

from relreps._validation import check_choice, check_int
from relreps.datasets.base import DataNotFoundError
from relreps.datasets.image_splits import DOWNLOADED_IMAGE_SPLITS as ONLINE_DATASETS
from relreps.datasets.image_splits import IMAGE_SPLITS as IMAGE_DATASETS
from relreps.datasets.image_splits import ImageSplit, load_image_split
from relreps.experiments.base import RunContext

__all__ = [
    "IMAGE_DATASETS",
    "ONLINE_DATASETS",
    "ImageRunConfig",
    "ImageSplit",
    "each_dataset",
    "load_image_split",
    "result_config",
    "skip_note",
    "train_or_reload",
    "training_facts",
    "worst",
]


@dataclass(frozen=True)
class ImageRunConfig:
    """The sizes every config of the three experiments has (each adds its own model widths).

    Attributes:
        datasets: any of :attr:`known`: ``fashion-mnist`` (falls back to digits when absent),
            ``digits``, ``mnist``, ``cifar10`` (the last two download: online only).
        seeds: models per data set and kind (ordered pairs of seeds are stitched).
        n_train, n_test: stratified image subset sizes (digits has 1,797 images in all).
        n_anchors: class-stratified anchors from the training subset.
        epochs, batch_size, lr: training; early stopping on 10% of the training subset.
    """

    datasets: tuple[str, ...] = ("fashion-mnist", "digits")
    seeds: int = 6
    n_train: int = 20000
    n_test: int = 5000
    n_anchors: int = 500
    epochs: int = 12
    batch_size: int = 128
    lr: float = 1e-3

    #: The data set names ``datasets`` may hold.
    known: ClassVar[tuple[str, ...]] = IMAGE_DATASETS

    def __post_init__(self) -> None:
        for i, name in enumerate(self.datasets):
            check_choice(name, f"datasets[{i}]", self.known)
        check_int(self.seeds, "seeds", low=1)

    def with_online(self, online: bool) -> Self:
        """This config plus the downloaded data sets (MNIST, CIFAR-10) when ``online``, without
        repeats.

        Example:
            >>> ImageRunConfig(datasets=("fashion-mnist", "mnist")).with_online(True).datasets
            ('fashion-mnist', 'mnist', 'cifar10')
        """
        if not online:
            return self
        return replace(self, datasets=tuple(dict.fromkeys(self.datasets + ONLINE_DATASETS)))

    def train(self, seed: int, **options: Any) -> Any:
        """The :class:`relreps.nn.TrainConfig` of one model: these epochs, batch size and
        learning rate, ``seed``, and any other ``options``."""
        from relreps.nn import TrainConfig

        return TrainConfig(
            epochs=self.epochs, batch_size=self.batch_size, lr=self.lr, seed=seed, **options
        )


def each_dataset(
    config: Any,
    context: RunContext,
    skipped: dict[str, str],
    notes: list[str],
    load: Callable[[str], Any] | None = None,
) -> Iterator[tuple[str, Any, np.ndarray]]:
    """``(name, data, anchor indices)`` per data set of ``config.datasets`` that loads.

    ``load(name)`` returns an object with ``.name``, ``.note`` and ``.y_train`` (default: the
    image split of ``config.n_train`` / ``config.n_test`` images drawn with the run's seed). Data
    sets that raise :class:`relreps.datasets.DataNotFoundError` and repeats (Fashion-MNIST fell
    back to digits, which runs anyway) go into ``skipped`` with the reason, fallback notes into
    ``notes``. The anchors are ``config.n_anchors`` class-stratified training indices (at most
    all of them).
    """
    from relreps.anchors import stratified

    def images(name: str) -> ImageSplit:
        return load_image_split(name, config.n_train, config.n_test, context.seed)

    seen: set[str] = set()
    for dataset in config.datasets:
        try:
            data = (load or images)(dataset)
        except DataNotFoundError as err:
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
        labels = data.y_train
        anchor_idx = stratified(labels, min(config.n_anchors, len(labels)), seed=context.seed)
        context.log(
            f"  {data.name}: {len(labels)} train / {len(data.y_test)} test, "
            f"{len(anchor_idx)} stratified anchors, {config.seeds} seeds"
        )
        yield dataset, data, anchor_idx


def train_or_reload(
    context: RunContext, name: str, build: Callable[[], Any], x: Any, y: Any, train: Any
) -> tuple[Any, dict[str, Any] | None]:
    """The model saved as ``models/<name>`` in the run folder, else ``build()`` trained on
    ``(x, y)`` and saved there (:func:`relreps.nn.zoo.fit_or_load`); with its
    :func:`training_facts`."""
    from relreps.nn.zoo import fit_or_load

    model, history = fit_or_load(build, x, y, context.output_dir / "models" / name, config=train)
    return model, training_facts(context, name, history)


def training_facts(context: RunContext, name: str, history: Any) -> dict[str, Any] | None:
    """The training facts of the model ``models/<name>`` (epochs run, seconds, best validation
    loss) from its ``history``, kept in the run's cell cache; for a reloaded model (``history``
    None) the cached facts (None when they are not there)."""
    key = f"{name}/training"
    if history is None:
        return context.cache.get(key)
    facts = {
        "epochs_run": history.epochs_run,
        "seconds": round(history.seconds, 2),
        "best_val_loss": min(history.val_loss) if history.val_loss else None,
    }
    context.cache.put(key, facts)
    return facts


def worst(values: list[float], pick: Callable[[list[float]], float] = min) -> float:
    """``pick(values)``, or NaN when any value is NaN (an unmeasured cell fails its claim)."""
    return math.nan if any(math.isnan(v) for v in values) else pick(values)


def skip_note(skipped: dict[str, str]) -> str:
    """`` Skipped NAME: why`` per skipped data set, for a table note."""
    return "".join(f" Skipped {d}: {why}" for d, why in skipped.items())


def result_config(config: Any, context: RunContext) -> dict[str, Any]:
    """The ``config`` of an ExperimentResult: the quick flag, the base seed and the sizes."""
    return {"quick": context.quick, "seed": context.seed, **asdict(config)}
