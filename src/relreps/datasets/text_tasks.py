"""Text classification tasks: a training and a test :class:`~relreps.datasets.Dataset`.

Two sources: WordNet noun glosses labelled with their 26 supersenses (offline, Debian
``wordnet-base``), split class-balanced by :func:`~relreps.datasets.balanced_split`; and the hub
datasets of :data:`~relreps.datasets.HF_DATASETS` (online), seeded subsets of their own train and
test splits.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from relreps._validation import check_int, fail
from relreps.datasets.base import Dataset

if TYPE_CHECKING:
    from relreps.datasets.hf import Loader

__all__ = ["TextTask", "hub_task", "wordnet_supersense_task"]

WORDNET_TASK = "WordNet noun glosses (26 supersenses)"


@dataclass(frozen=True)
class TextTask:
    """A labelled text classification task: a training and a test split with the same classes.

    Attributes:
        name: the task's name for tables (``"TREC"``, ``"WordNet noun glosses ..."``).
        train: the training split, a :class:`Dataset` of strings.
        test: the test split, with the same ``class_names``.

    Raises:
        TypeError: a split is not a :class:`Dataset`.
        ValueError: the splits' class names differ.

    Example:
        >>> import numpy as np
        >>> def split(name, texts, labels):
        ...     ids = tuple(f"{name}/{i}" for i in range(len(texts)))
        ...     return Dataset("toy", name, texts, np.array(labels), ids, ("no", "yes"), "memory")
        >>> task = TextTask("toy", split("train", ("a", "b"), [0, 1]), split("test", ("c",), [1]))
        >>> task.class_names, len(task.train), len(task.test)
        (('no', 'yes'), 2, 1)
    """

    name: str
    train: Dataset
    test: Dataset

    def __post_init__(self) -> None:
        for split in ("train", "test"):
            value = getattr(self, split)
            if not isinstance(value, Dataset):
                raise fail(split, "a relreps.datasets.Dataset", type(value).__name__, TypeError)
        if self.train.class_names != self.test.class_names:
            raise fail(
                "test",
                f"a split with the training classes {list(self.train.class_names)}",
                f"classes {list(self.test.class_names)}",
            )

    @property
    def class_names(self) -> tuple[str, ...]:
        """The class names shared by both splits (index = label)."""
        return self.train.class_names


def wordnet_supersense_task(
    n_train: int, n_test: int, *, seed: int, path: str | os.PathLike[str] | None = None
) -> TextTask:
    """WordNet noun glosses labelled with their 26 supersenses, split class-balanced.

    The glosses of :func:`relreps.datasets.load_wordnet_glosses` are split by
    :func:`relreps.datasets.balanced_split` (disjoint parts of every class for training and test,
    each drawn round robin over the classes).

    Args:
        n_train: training glosses (at most the training pool, about two thirds of each class).
        n_test: test glosses (at most the test pool, about a third).
        seed: seed of the split.
        path: ``data.noun`` or its folder; default: the usual places (Debian ``wordnet-base``).

    Returns:
        A :class:`TextTask` named ``"WordNet noun glosses (26 supersenses)"``.

    Raises:
        DataNotFoundError: no WordNet data at ``path`` (or the usual places).
        ValueError: a size below 1 or above its pool.

    Example (reads the real data, so it is not a doctest)::

        task = wordnet_supersense_task(260, 130, seed=0)
        len(task.train), len(task.test), len(task.class_names)
        # -> (260, 130, 26)
    """
    from relreps.datasets.splits import balanced_split
    from relreps.datasets.wordnet import load_wordnet_glosses

    check_int(n_train, "n_train", low=1)
    check_int(n_test, "n_test", low=1)
    glosses = load_wordnet_glosses(path=path)
    train_idx, test_idx = balanced_split(glosses.labels, n_train, n_test, seed=seed)
    return TextTask(WORDNET_TASK, glosses.subset(train_idx), glosses.subset(test_idx))


def hub_task(
    name: str,
    n_train: int,
    n_test: int,
    *,
    seed: int,
    label: str | None = None,
    language: str | None = None,
    loader: Loader | None = None,
) -> TextTask:
    """A seeded subset of a hub dataset's own train and test splits (needs the network).

    Both splits are read with :func:`relreps.datasets.load_hf`; one generator seeded with
    ``seed`` then draws ``min(n_train, len(train))`` training rows and ``min(n_test, len(test))``
    test rows without replacement (kept in the hub's order).

    Args:
        name: a key of :data:`relreps.datasets.HF_DATASETS` (``"trec"``, ``"dbpedia14"``, ...).
        n_train: training rows wanted (all when the split is smaller).
        n_test: test rows wanted (all when the split is smaller).
        seed: seed of the draws.
        label: the task's name; default ``name``.
        language: the config of a multilingual dataset (``"en"`` for Amazon reviews).
        loader: passed to :func:`~relreps.datasets.load_hf` (a mirror or an in-memory table).

    Returns:
        A :class:`TextTask`.

    Raises:
        ValueError: a size below 1, or an unknown ``name`` (from ``load_hf``).
        ImportError, DataNotFoundError: as :func:`~relreps.datasets.load_hf`.

    Example (reads the real data, so it is not a doctest)::

        task = hub_task("trec", 1000, 500, seed=0, label="TREC")
        len(task.train), len(task.test), task.class_names[0]
        # -> (1000, 500, 'ABBR')
    """
    from relreps.datasets.hf import load_hf

    check_int(n_train, "n_train", low=1)
    check_int(n_test, "n_test", low=1)
    train = load_hf(name, "train", language=language, loader=loader)
    test = load_hf(name, "test", language=language, loader=loader)
    rng = np.random.default_rng(seed)
    train = train.subset(np.sort(rng.permutation(len(train))[: min(n_train, len(train))]))
    test = test.subset(np.sort(rng.permutation(len(test))[: min(n_test, len(test))]))
    return TextTask(name if label is None else label, train, test)
