"""relreps.datasets.image_splits: stratified seeded image subsets, scaling, fallback and errors."""

from __future__ import annotations

import numpy as np
import pytest

from relreps import datasets
from relreps.datasets import (
    DataNotFoundError,
    ImageSplit,
    load_image_split,
    scale_images,
    stratified_subset,
)

pytest.importorskip("sklearn")


def test_digits_split_is_stratified_scaled_and_deterministic():
    split = load_image_split("digits", 100, 50, seed=3)
    assert split.name == "sklearn digits" and split.note == ""
    assert split.x_train.shape == (100, 1, 8, 8) and split.x_test.shape == (50, 1, 8, 8)
    assert split.x_train.dtype == np.float32 and split.y_train.dtype == np.int64
    assert 0.0 <= split.x_train.min() and split.x_train.max() == 1.0
    assert np.bincount(split.y_train).tolist() == [10] * 10
    assert np.bincount(split.y_test).tolist() == [5] * 10
    again = load_image_split("digits", 100, 50, seed=3)
    assert np.array_equal(split.x_train, again.x_train)
    assert np.array_equal(split.y_test, again.y_test)
    other = load_image_split("digits", 100, 50, seed=4)
    assert not np.array_equal(split.x_train, other.x_train)
    assert split.label_names(split.y_train[:3]).tolist() == [str(v) for v in split.y_train[:3]]


def test_digits_train_and_test_images_are_disjoint():
    split = load_image_split("digits", 5000, 5000, seed=0)  # the whole 70/30 split
    assert len(split.y_train) + len(split.y_test) == 1797
    train = {row.tobytes() for row in split.x_train}
    shared = sum(row.tobytes() in train for row in split.x_test)
    assert shared < 20  # digits has a few duplicate images, never the same draw twice


def test_fashion_falls_back_to_digits_with_a_note(monkeypatch):
    def absent(*args, **kwargs):
        raise FileNotFoundError("no fashion-mnist files")

    monkeypatch.setattr(datasets, "load_fashion_mnist", absent)
    split = load_image_split("fashion-mnist", 100, 50, 0)
    assert split.name == "sklearn digits" and "fell back to sklearn digits" in split.note
    assert "no fashion-mnist files" in split.note
    assert split.x_train.shape == (100, 1, 8, 8) and 0.0 <= split.x_train.min()
    assert split.x_train.max() <= 1.0 and np.bincount(split.y_train).min() == 10


def test_downloaded_data_set_that_cannot_be_fetched_raises_with_reason(monkeypatch):
    seen = []

    def offline(split, *, download):
        seen.append(download)
        raise OSError("network is unreachable")

    monkeypatch.setattr(datasets, "load_cifar10", offline)
    with pytest.raises(DataNotFoundError, match="CIFAR-10 unavailable: network is unreachable"):
        load_image_split("cifar10", 10, 10, 0)
    assert seen == [True]  # MNIST and CIFAR-10 are allowed to download


def test_a_loaded_data_set_keeps_its_class_names(monkeypatch):
    images = np.arange(40 * 4 * 4, dtype=np.uint8).reshape(40, 4, 4)
    labels = np.repeat([0, 1], 20)
    ds = datasets.Dataset(
        "toy", "train", images, labels, tuple(map(str, range(40))), ("cat", "dog"), "memory"
    )
    monkeypatch.setattr(datasets, "load_mnist", lambda split, *, download: ds)
    split = load_image_split("mnist", 10, 6, 0)
    assert split.name == "MNIST" and split.class_names == ("cat", "dog")
    assert np.bincount(split.y_train).tolist() == [5, 5]
    assert split.label_names(np.array([1, 0])).tolist() == ["dog", "cat"]
    assert split.x_train.max() <= 1.0 and split.x_train.shape == (10, 1, 4, 4)


def test_bad_arguments_name_the_argument():
    with pytest.raises(ValueError, match="Expected `dataset` to be one of"):
        load_image_split("imagenet", 10, 10, 0)
    with pytest.raises(ValueError, match="Expected `n_train` to be an int"):
        load_image_split("digits", 0, 10, 0)
    with pytest.raises(ValueError, match="Expected `seed` to be an int"):
        load_image_split("digits", 10, 10, -1)


def test_colour_images_become_channels_first():
    images = np.zeros((2, 32, 32, 3), dtype=np.uint8)
    images[..., 0] = 255
    out = scale_images(images)
    assert out.shape == (2, 3, 32, 32) and out[:, 0].max() == 1.0 and out[:, 1].max() == 0.0
    assert out.flags["C_CONTIGUOUS"]


def test_scale_images_ranges_and_shapes():
    assert scale_images(np.full((1, 2, 2), 16)).max() == 1.0  # digits: 0..16
    assert scale_images(np.full((1, 2, 2), 0.5)).max() == 0.5  # already in [0, 1]
    assert scale_images(np.full((1, 2, 2), 255, dtype=np.uint8)).max() == 1.0
    assert scale_images(np.zeros((3, 5, 5, 1))).shape == (3, 1, 5, 5)
    with pytest.raises(ValueError, match="Expected `images` to be an"):
        scale_images(np.zeros((3, 1, 5, 5)))  # channels first already: not guessed
    with pytest.raises(ValueError, match="Expected `images` to be an"):
        scale_images(np.zeros((5, 5)))


def test_stratified_subset():
    labels = np.repeat([0, 1, 2], [30, 10, 2])
    idx = stratified_subset(labels, 12, seed=0)
    assert np.all(np.diff(idx) > 0)
    assert np.bincount(labels[idx]).tolist() == [5, 5, 2]  # the small class is used up
    assert np.array_equal(stratified_subset(labels, 12, seed=0), idx)
    assert np.array_equal(stratified_subset(labels, 100, seed=0), np.arange(42))
    with pytest.raises(ValueError, match="Expected `n` to be an int"):
        stratified_subset(labels, 0, seed=0)


def test_image_split_without_class_names_returns_the_labels():
    split = ImageSplit("toy", *[np.zeros((1, 1, 2, 2))] * 4)
    assert split.label_names(np.array([3, 1])).tolist() == [3, 1]
