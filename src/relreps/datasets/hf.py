"""Text classification data from the Hugging Face hub (online): TREC, DBpedia-14, AG News, Amazon.

Each named dataset maps its hub columns onto a :class:`~relreps.datasets.Dataset`: the text
column(s) become ``items`` (joined by ". " when several), the label column ``labels`` (shifted to
start at 0), the ``ClassLabel`` names ``class_names``. The ``datasets`` package is imported only
when a dataset is loaded; any loader with the same small interface can be passed instead (tests use
an in-memory one).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from relreps._validation import check_choice, fail
from relreps.datasets.base import DataFormatError, DataNotFoundError, Dataset

__all__ = ["HF_DATASETS", "HFSpec", "load_hf"]

Loader = Callable[[str, str | None, str], Any]


@dataclass(frozen=True)
class HFSpec:
    """How one hub dataset maps onto :class:`Dataset`.

    Attributes:
        hub_name: the hub repository, e.g. ``"fancyzhx/ag_news"``.
        text_columns: column(s) whose text forms an item (joined by ". ").
        label_column: the integer label column.
        class_names: names to use when the table does not carry ``ClassLabel`` names.
        label_offset: subtracted from labels (Amazon stars 1..5 -> 0..4).
        id_column: column with stable ids, or ``None`` to number rows ``"<split>/<i>"``.
        languages: configs of a multilingual dataset (``None``: one config).
    """

    hub_name: str
    text_columns: tuple[str, ...]
    label_column: str
    class_names: tuple[str, ...]
    label_offset: int = 0
    id_column: str | None = None
    languages: tuple[str, ...] | None = None


HF_DATASETS: dict[str, HFSpec] = {
    "trec": HFSpec(
        "CogComp/trec", ("text",), "coarse_label", ("ABBR", "ENTY", "DESC", "HUM", "LOC", "NUM")
    ),
    "dbpedia14": HFSpec(
        "fancyzhx/dbpedia_14",
        ("title", "content"),
        "label",
        (
            "Company",
            "EducationalInstitution",
            "Artist",
            "Athlete",
            "OfficeHolder",
            "MeanOfTransportation",
            "Building",
            "NaturalPlace",
            "Village",
            "Animal",
            "Plant",
            "Album",
            "Film",
            "WrittenWork",
        ),
    ),
    "ag_news": HFSpec(
        "fancyzhx/ag_news", ("text",), "label", ("World", "Sports", "Business", "Sci/Tech")
    ),
    "amazon_reviews_multi": HFSpec(
        "amazon_reviews_multi",
        ("review_title", "review_body"),
        "stars",
        ("1", "2", "3", "4", "5"),
        label_offset=1,
        id_column="review_id",
        languages=("de", "en", "es", "fr", "ja", "zh"),
    ),
}


def _hub_loader(hub_name: str, config: str | None, split: str) -> Any:
    try:
        import datasets
    except ImportError as err:
        raise ImportError(
            "Hugging Face datasets are read with the `datasets` package: pip install datasets"
        ) from err
    try:
        return datasets.load_dataset(hub_name, config, split=split)
    except Exception as err:  # offline or removed from the hub: many error types, one message
        raise DataNotFoundError(
            f"Could not load {hub_name!r} (config {config!r}, split {split!r}) from the Hugging "
            f"Face hub: {type(err).__name__}: {err}. It needs the network on first use (then it "
            "is cached under $HF_DATASETS_CACHE); pass hub_name= for a mirror or a local copy."
        ) from err


def _class_names(table: Any, spec: HFSpec) -> tuple[str, ...]:
    """``ClassLabel`` names of the label column when the table has them, else the spec's."""
    features = getattr(table, "features", None)
    try:
        names = getattr(features[spec.label_column], "names", None) if features else None
    except (KeyError, TypeError):
        names = None
    return tuple(str(n) for n in names) if names else spec.class_names


def load_hf(
    name: str,
    split: str = "train",
    *,
    language: str | None = None,
    hub_name: str | None = None,
    loader: Loader | None = None,
) -> Dataset:
    """Load a text classification dataset from the Hugging Face hub (needs the network).

    Args:
        name: one of ``HF_DATASETS``: ``"trec"`` (6 coarse classes), ``"dbpedia14"`` (14),
            ``"ag_news"`` (4), ``"amazon_reviews_multi"`` (5 star ratings, per language).
        split: a hub split, e.g. ``"train"``, ``"test"`` or ``"train[:1000]"``.
        language: the config of a multilingual dataset (``"en"``, ``"fr"``, ...).
        hub_name: another hub repository or local folder with the same columns (a mirror).
        loader: ``loader(hub_name, config, split)`` returning a table with ``column_names`` and
            ``table[column] -> list``; default ``datasets.load_dataset``.

    Returns:
        A :class:`Dataset` of strings.

    Raises:
        ImportError: ``datasets`` is not installed (and no ``loader`` was given).
        DataNotFoundError: the hub could not be reached or has no such dataset.
        DataFormatError: the table lacks an expected column.

    Example (reads the real data, so it is not a doctest)::

        ds = load_hf("ag_news", "test")
        len(ds), ds.class_names
        # -> (7600, ('World', 'Sports', 'Business', 'Sci/Tech'))
    """
    check_choice(name, "name", list(HF_DATASETS))
    spec = HF_DATASETS[name]
    if spec.languages is not None:
        if language is None:
            raise fail("language", f"one of {list(spec.languages)} for {name!r}", "None")
        check_choice(language, "language", list(spec.languages))
    elif language is not None:
        raise fail("language", f"None ({name!r} has one language)", repr(language))
    if not isinstance(split, str) or not split:
        raise fail("split", "a non-empty split name", repr(split))
    repo = hub_name if hub_name is not None else spec.hub_name
    table = (loader or _hub_loader)(repo, language, split)
    columns = list(getattr(table, "column_names", []))
    needed = [*spec.text_columns, spec.label_column] + ([spec.id_column] if spec.id_column else [])
    missing = [c for c in needed if c not in columns]
    if missing:
        raise DataFormatError(
            f"Expected {repo!r} to have columns {needed}, but {missing} are missing "
            f"(it has {columns})."
        )
    texts = [list(table[c]) for c in spec.text_columns]
    items = tuple(". ".join(str(t).strip() for t in row if t) for row in zip(*texts, strict=True))
    labels = np.asarray(table[spec.label_column], dtype=np.int64) - spec.label_offset
    if spec.id_column:
        ids = tuple(str(i) for i in table[spec.id_column])
    else:
        ids = tuple(f"{split}/{i}" for i in range(len(items)))
    full_name = name if language is None else f"{name}-{language}"
    return Dataset(full_name, split, items, labels, ids, _class_names(table, spec), repo)
