"""relreps.datasets.text_tasks: WordNet supersense and hub tasks on small local fixtures."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from relreps.datasets import Dataset
from relreps.datasets.text_tasks import TextTask, hub_task, wordnet_supersense_task

LICENCE = "  1 This software and database is being provided to you, the LICENSEE\n  2 \n"
#: lexfile number -> supersense (data.noun numbers its lexfiles from 03 = noun.Tops).
LEXFILES = {3: "noun.Tops", 5: "noun.animal", 18: "noun.person"}


@pytest.fixture(autouse=True)
def _empty_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RELREPS_DATA_DIR", str(tmp_path / "cache"))


def _wordnet(folder: Path, per_class: int = 12) -> Path:
    """A data.noun of ``per_class`` synsets in each of three supersenses, no pointers."""
    lines = []
    for c, lexfile in enumerate(LEXFILES):
        for k in range(per_class):
            offset = 100 * (c * per_class + k + 1)
            lines.append(f"{offset:08d} {lexfile:02d} n 01 word{c}x{k} 0 000 | gloss {c} {k}")
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "data.noun").write_text(LICENCE + "\n".join(lines) + "\n", encoding="utf-8")
    return folder


def _split(split: str, labels: list[int], names: tuple[str, ...] = ("no", "yes")) -> Dataset:
    texts = tuple(f"{split} text {i}" for i in range(len(labels)))
    ids = tuple(f"{split}/{i}" for i in range(len(labels)))
    return Dataset("toy", split, texts, np.array(labels), ids, names, "memory")


def test_text_task_holds_two_splits_of_the_same_classes() -> None:
    task = TextTask("toy", _split("train", [0, 1, 1]), _split("test", [1]))
    assert task.class_names == ("no", "yes") and len(task.train) == 3 and len(task.test) == 1
    with pytest.raises(TypeError, match=r"`train` to be a relreps\.datasets\.Dataset"):
        TextTask("toy", ("a", "b"), _split("test", [1]))  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="training classes"):
        TextTask("toy", _split("train", [0, 1]), _split("test", [0], ("a", "b")))


def test_wordnet_task_is_a_balanced_disjoint_seeded_split(tmp_path: Path) -> None:
    folder = _wordnet(tmp_path / "wn")
    task = wordnet_supersense_task(15, 6, seed=0, path=folder)
    assert task.name == "WordNet noun glosses (26 supersenses)"
    assert len(task.train) == 15 and len(task.test) == 6
    assert len(task.class_names) == 26 and task.class_names[2] == "noun.animal"
    # three supersenses present (labels 0, 2, 15): each gets a third of both splits
    for split, per_class in ((task.train, 5), (task.test, 2)):
        counts = np.bincount(split.labels, minlength=26)
        assert counts[[0, 2, 15]].tolist() == [per_class] * 3 and counts.sum() == 3 * per_class
    assert not set(task.train.ids) & set(task.test.ids)
    assert all(text.startswith("gloss ") for text in task.train.items)
    again = wordnet_supersense_task(15, 6, seed=0, path=folder)
    assert again.train.ids == task.train.ids and again.test.ids == task.test.ids
    other = wordnet_supersense_task(15, 6, seed=1, path=folder)
    assert other.train.ids != task.train.ids


def test_wordnet_task_refuses_bad_sizes(tmp_path: Path) -> None:
    folder = _wordnet(tmp_path / "wn")
    with pytest.raises(ValueError, match="`n_train`"):
        wordnet_supersense_task(0, 6, seed=0, path=folder)
    with pytest.raises(ValueError, match="`n_test` to be at most"):
        wordnet_supersense_task(10, 30, seed=0, path=folder)


class _Table:
    """The slice of a hub table that load_hf reads (TREC's columns)."""

    def __init__(self, split: str, n: int) -> None:
        self.column_names = ["text", "coarse_label"]
        self.features: dict[str, object] = {}
        self._data = {
            "text": [f"{split} question {i}?" for i in range(n)],
            "coarse_label": [i % 6 for i in range(n)],
        }

    def __getitem__(self, column: str) -> list[object]:
        return self._data[column]


def test_hub_task_draws_seeded_subsets_of_both_splits() -> None:
    calls: list[tuple[str, str | None, str]] = []

    def loader(repo: str, config: str | None, split: str) -> _Table:
        calls.append((repo, config, split))
        return _Table(split, 40 if split == "train" else 8)

    task = hub_task("trec", 10, 20, seed=3, loader=loader)
    assert [c[2] for c in calls] == ["train", "test"]
    assert task.name == "trec" and task.class_names[0] == "ABBR"
    assert len(task.train) == 10 and len(task.test) == 8  # the test split is smaller: all of it
    rows = [int(i.split("/")[1]) for i in task.train.ids]
    assert rows == sorted(rows) and len(set(rows)) == 10  # without replacement, hub order
    assert all(text.startswith("train ") for text in task.train.items)
    same = hub_task("trec", 10, 20, seed=3, label="TREC", loader=loader)
    assert same.name == "TREC" and same.train.ids == task.train.ids
    assert hub_task("trec", 10, 20, seed=4, loader=loader).train.ids != task.train.ids


def test_hub_task_refuses_bad_inputs() -> None:
    def loader(repo: str, config: str | None, split: str) -> _Table:
        return _Table(split, 5)

    with pytest.raises(ValueError, match="`n_train`"):
        hub_task("trec", 0, 5, seed=0, loader=loader)
    with pytest.raises(ValueError, match="`n_test`"):
        hub_task("trec", 5, -1, seed=0, loader=loader)
    with pytest.raises(ValueError, match="Expected `name` to be one of"):
        hub_task("imdb", 5, 5, seed=0, loader=loader)
    with pytest.raises(ValueError, match="Expected `language` to be one of"):
        hub_task("amazon_reviews_multi", 5, 5, seed=0, loader=loader)
