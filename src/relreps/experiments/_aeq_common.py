"""Shared pieces of ``ae-stitching``, ``abs-vs-rel-training`` and ``quantization``.

Image splits as float32 ``(n, C, H, W)`` arrays in [0, 1] (class-stratified seeded subsets of
the official splits), a frozen-feature "encoder" for precomputed text embeddings, and small
statistics helpers. Imports only numpy at module level; torch is imported where it is used.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from relreps.errors import RelrepsError

IMAGE_DATASETS = ("fashion-mnist", "digits", "mnist", "cifar10")
ONLINE_DATASETS = ("mnist", "cifar10")  # downloaded on first use: not available offline here


@dataclass(frozen=True)
class ImageSplit:
    """Train/test images ``(n, C, H, W)`` float32 in [0, 1], int64 labels, and provenance."""

    name: str
    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    note: str = ""
    class_names: tuple[str, ...] = ()

    def label_names(self, labels: np.ndarray) -> np.ndarray:
        """The class names of ``labels`` (the labels themselves when no names are known)."""
        if not self.class_names:
            return np.asarray(labels)
        return np.asarray(self.class_names, dtype=object)[np.asarray(labels, dtype=np.int64)]


def with_online_datasets(datasets: tuple[str, ...], online: bool) -> tuple[str, ...]:
    """``datasets`` plus the downloaded ones (MNIST, CIFAR-10) when ``online``, without repeats.

    Example:
        >>> with_online_datasets(("fashion-mnist", "mnist"), online=True)
        ('fashion-mnist', 'mnist', 'cifar10')
    """
    return tuple(dict.fromkeys(datasets + ONLINE_DATASETS)) if online else datasets


class DatasetUnavailable(RelrepsError, RuntimeError):
    """A data set could not be read here (the message says why and how to get it)."""


def load_image_split(dataset: str, n_train: int, n_test: int, seed: int) -> ImageSplit:
    """Stratified seeded subsets of one image data set.

    ``fashion-mnist`` is read from the Debian package (or ``$RELREPS_DATA_DIR``) and falls back
    to sklearn digits, with a note, when absent. ``mnist`` and ``cifar10`` download on first use
    (online only). ``digits`` has no official split: a seeded 70/30 split is drawn.

    Raises:
        ValueError: unknown data set name.
        DatasetUnavailable: an online-only data set that cannot be fetched.
    """
    from relreps import datasets

    if dataset not in IMAGE_DATASETS:
        raise ValueError(
            f"Expected `dataset` to be one of {list(IMAGE_DATASETS)}, but got {dataset!r}."
        )
    note = ""
    class_names: tuple[str, ...] = ()
    loaders = {
        "fashion-mnist": ("Fashion-MNIST", datasets.load_fashion_mnist),
        "mnist": ("MNIST", datasets.load_mnist),
        "cifar10": ("CIFAR-10", datasets.load_cifar10),
    }
    if dataset in loaders:
        name, loader = loaders[dataset]
        try:
            # Fashion-MNIST comes from the Debian package here: never try the network for it.
            download = dataset in ONLINE_DATASETS
            train, test = loader("train", download=download), loader("test", download=download)
        except (OSError, ValueError) as err:  # FileNotFoundError and URL errors are OSErrors
            reason = str(err).splitlines()[0] if str(err) else type(err).__name__
            if dataset != "fashion-mnist":
                raise DatasetUnavailable(f"{name} unavailable: {reason}") from err
            note = f"Fashion-MNIST unavailable ({reason}); fell back to sklearn digits."
            dataset = "digits"
        else:
            x_tr, y_tr = np.asarray(train.items), np.asarray(train.labels)
            x_te, y_te = np.asarray(test.items), np.asarray(test.labels)
            class_names = tuple(train.class_names)
    if dataset == "digits":
        digits = datasets.load_digits()
        items, labels = np.asarray(digits.items), np.asarray(digits.labels)
        order = np.random.default_rng(seed).permutation(len(labels))
        cut = int(0.7 * len(labels))
        x_tr, y_tr = items[order[:cut]], labels[order[:cut]]
        x_te, y_te = items[order[cut:]], labels[order[cut:]]
        name = "sklearn digits"
        class_names = tuple(digits.class_names)
    train_idx = stratified_subset(y_tr, n_train, seed)
    test_idx = stratified_subset(y_te, n_test, seed + 1)
    return ImageSplit(
        name=name,
        x_train=scale_images(x_tr[train_idx]),
        y_train=y_tr[train_idx].astype(np.int64),
        x_test=scale_images(x_te[test_idx]),
        y_test=y_te[test_idx].astype(np.int64),
        note=note,
        class_names=class_names,
    )


def stratified_subset(labels: np.ndarray, n: int, seed: int) -> np.ndarray:
    """Sorted indices of a class-balanced seeded subset of size ``n`` (all when n >= len)."""
    if n >= len(labels):
        return np.arange(len(labels))
    from relreps.anchors import stratified

    return np.sort(stratified(labels, n, seed=seed))


def scale_images(images: np.ndarray) -> np.ndarray:
    """uint8 (0..255) or digits (0..16) images -> float32 (n, C, H, W) in [0, 1]."""
    images = images.astype(np.float32)
    top = float(images.max()) if images.size else 1.0
    if top > 1.0:
        images /= 255.0 if top > 16.0 else 16.0
    if images.ndim == 4 and images.shape[-1] in (1, 3):  # HWC colour (CIFAR) -> CHW
        return np.ascontiguousarray(images.transpose(0, 3, 1, 2))
    return images[:, None, :, :]


def mean_std(values: Any) -> tuple[float, float]:
    """Mean and population std of the finite values (NaN, NaN when none)."""
    arr = np.asarray(values, dtype=np.float64).reshape(-1)
    arr = arr[np.isfinite(arr)]
    if arr.size == 0:
        return math.nan, math.nan
    return float(arr.mean()), float(arr.std())


def fmt(mean: float, std: float, digits: int = 2) -> str | None:
    """``"m ± s"`` (None when undefined), the paper's cell format."""
    if math.isnan(mean):
        return None
    return f"{mean:.{digits}f} ± {std:.{digits}f}"


def chance_f1(labels: np.ndarray) -> float:
    """Weighted F1 x100 of always predicting the majority class."""
    counts = np.bincount(labels)
    share = counts.max() / counts.sum()
    return float(100.0 * share * (2 * share / (share + 1.0)))


def frozen_features(dim: int) -> Any:
    """An identity "encoder" (``latent_dim = in_shape[0] = dim``) for precomputed embeddings:
    relreps.nn models built on it train only their head, as with the paper's frozen encoders."""
    from torch import Tensor, nn

    class FrozenFeatures(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.latent_dim = dim
            self.in_shape = (dim,)

        def forward(self, x: Tensor) -> Tensor:
            return x

    return FrozenFeatures()


def classify(model: Any, x: Any, batch_size: int = 2048) -> np.ndarray:
    """Predicted labels of a relreps.nn classifier (eval mode, no gradients)."""
    import torch

    model.eval()
    with torch.no_grad():
        out = [model(x[s : s + batch_size]).argmax(dim=1) for s in range(0, x.shape[0], batch_size)]
    return torch.cat(out).numpy()
