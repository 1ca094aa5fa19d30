"""text-stitching's tasks: WordNet noun glosses offline, the paper's hub datasets online."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = ["ONLINE", "TextData", "load_online_data", "load_wordnet_data", "online_datasets"]

# The paper's online datasets: HF_DATASETS name -> (label in PAPER_F1, train size, test size).
ONLINE = {
    "trec": ("TREC", 5452, 500),
    "dbpedia14": ("DBpedia", 10000, 5000),
    "amazon_reviews_multi": ("Amazon (5-class)", 10000, 5000),
}


@dataclass(frozen=True)
class TextData:
    """A labelled text classification task: a training and a test :class:`Dataset`."""

    name: str
    train: Any
    test: Any
    note: str = ""

    @property
    def class_names(self) -> tuple[str, ...]:
        names: tuple[str, ...] = self.train.class_names
        return names


def load_wordnet_data(n_train: int, n_test: int, *, seed: int) -> TextData:
    """WordNet noun glosses (26 supersenses) split by :func:`relreps.datasets.balanced_split`."""
    from relreps.datasets import balanced_split, load_wordnet_glosses

    glosses = load_wordnet_glosses()
    train_idx, test_idx = balanced_split(glosses.labels, n_train, n_test, seed=seed)
    return TextData(
        "WordNet noun glosses (26 supersenses)", glosses.subset(train_idx), glosses.subset(test_idx)
    )


def online_datasets(value: str | Sequence[str] = ()) -> tuple[str, ...]:
    """The paper's datasets asked for with ``--text-datasets`` (names, or one comma-separated
    string).

    Names among ``trec``, ``dbpedia14``, ``amazon_reviews_multi`` (English config); empty means
    the offline WordNet run (or, with ``--online``, every one of them).

    Example:
        >>> online_datasets("trec, dbpedia14")
        ('trec', 'dbpedia14')
        >>> online_datasets(())
        ()
    """
    from relreps._validation import fail

    parts = value.split(",") if isinstance(value, str) else list(value)
    names = tuple(part.strip() for part in parts if part.strip())
    for name in names:
        if name not in ONLINE:
            raise fail("--text-datasets", f"names among {list(ONLINE)}", repr(name))
    return names


def load_online_data(name: str, seed: int, loader: Any = None) -> TextData:
    """One of the paper's datasets from the Hugging Face hub (needs the network)."""
    from relreps.datasets import load_hf

    label, n_train, n_test = ONLINE[name]
    language = "en" if name == "amazon_reviews_multi" else None
    train = load_hf(name, "train", language=language, loader=loader)
    test = load_hf(name, "test", language=language, loader=loader)
    rng = np.random.default_rng(seed)
    train = train.subset(np.sort(rng.permutation(len(train))[: min(n_train, len(train))]))
    test = test.subset(np.sort(rng.permutation(len(test))[: min(n_test, len(test))]))
    return TextData(label, train, test)
