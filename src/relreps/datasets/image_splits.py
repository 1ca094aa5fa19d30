"""Seeded, class-stratified train/test subsets of the image data sets, as float32 ``(n, C, H, W)``.

:func:`load_image_split` reads one data set by name (Fashion-MNIST, sklearn digits, MNIST,
CIFAR-10), draws class-balanced seeded subsets of its official splits and scales the pixels to
[0, 1], channels first: the input of the small torch image models of :mod:`relreps.nn`. Only numpy
is imported here.

Example:
    >>> split = load_image_split("digits", n_train=100, n_test=50, seed=0)
    >>> split.x_train.shape, split.x_train.dtype.name, float(split.x_train.max())
    ((100, 1, 8, 8), 'float32', 1.0)
    >>> np.bincount(split.y_train).tolist()
    [10, 10, 10, 10, 10, 10, 10, 10, 10, 10]
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from relreps._validation import check_choice, check_int, fail
from relreps.datasets.base import DataNotFoundError

__all__ = [
    "DOWNLOADED_IMAGE_SPLITS",
    "IMAGE_SPLITS",
    "ImageSplit",
    "load_image_split",
    "scale_images",
    "stratified_subset",
]

#: The names :func:`load_image_split` reads.
IMAGE_SPLITS = ("fashion-mnist", "digits", "mnist", "cifar10")
#: The ones that download on first use (the others are read from local packages).
DOWNLOADED_IMAGE_SPLITS = ("mnist", "cifar10")


@dataclass(frozen=True)
class ImageSplit:
    """Train/test images ``(n, C, H, W)`` float32 in [0, 1], int64 labels, and provenance.

    Attributes:
        name: the data set's display name (``"Fashion-MNIST"``, ``"sklearn digits"``).
        x_train, x_test: ``(n, C, H, W)`` float32 images in [0, 1].
        y_train, y_test: ``(n,)`` int64 class labels.
        note: why the data differs from what was asked for (a fallback), else empty.
        class_names: the name of each class, indexed by label (empty when unknown).
    """

    name: str
    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    note: str = ""
    class_names: tuple[str, ...] = ()

    def label_names(self, labels: np.ndarray) -> np.ndarray:
        """The class names of ``labels`` (the labels themselves when no names are known).

        Example:
            >>> split = ImageSplit("toy", *[np.zeros(1)] * 4, class_names=("cat", "dog"))
            >>> split.label_names(np.array([1, 0])).tolist()
            ['dog', 'cat']
        """
        if not self.class_names:
            return np.asarray(labels)
        return np.asarray(self.class_names, dtype=object)[np.asarray(labels, dtype=np.int64)]


def load_image_split(dataset: str, n_train: int, n_test: int, seed: int) -> ImageSplit:
    """Class-stratified seeded subsets of one image data set's train and test splits.

    ``fashion-mnist`` is read from the Debian package (or ``$RELREPS_DATA_DIR``), never
    downloaded, and falls back to sklearn digits, with a ``note``, when absent. ``mnist`` and
    ``cifar10`` download on first use. ``digits`` has no official split: a seeded 70/30 split of
    its 1,797 images is drawn first.

    Args:
        dataset: one of :data:`IMAGE_SPLITS`.
        n_train, n_test: subset sizes (the whole split when larger), drawn by
            :func:`stratified_subset` with seeds ``seed`` and ``seed + 1``.
        seed: non-negative seed of the draws.

    Returns:
        An :class:`ImageSplit`; images ``(n, C, H, W)`` float32 in [0, 1] (grey: ``C = 1``).

    Raises:
        ValueError: an unknown data set name or a size below 1.
        relreps.datasets.DataNotFoundError: MNIST or CIFAR-10 cannot be read or downloaded.
    """
    from relreps import datasets  # the package, read at call time (tests replace its loaders)

    check_choice(dataset, "dataset", IMAGE_SPLITS)
    check_int(n_train, "n_train", low=1)
    check_int(n_test, "n_test", low=1)
    check_int(seed, "seed", low=0)
    note = ""
    loaders = {
        "fashion-mnist": ("Fashion-MNIST", datasets.load_fashion_mnist),
        "mnist": ("MNIST", datasets.load_mnist),
        "cifar10": ("CIFAR-10", datasets.load_cifar10),
    }
    if dataset in loaders:
        name, loader = loaders[dataset]
        download = dataset in DOWNLOADED_IMAGE_SPLITS
        try:
            train, test = loader("train", download=download), loader("test", download=download)
        except (OSError, ValueError) as err:  # FileNotFoundError and URL errors are OSErrors
            reason = str(err).splitlines()[0] if str(err) else type(err).__name__
            if dataset != "fashion-mnist":
                raise DataNotFoundError(f"{name} unavailable: {reason}") from err
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
        name, class_names = "sklearn digits", tuple(digits.class_names)
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
    """Sorted indices of a class-balanced seeded subset of ``n`` items (all when ``n >= len``).

    The draw is :func:`relreps.anchors.stratified` (round robin over the classes).

    Args:
        labels: ``(n_items,)`` class labels.
        n: subset size, at least 1.
        seed: non-negative seed.

    Returns:
        ``(min(n, n_items),)`` sorted int64 indices into ``labels``.

    Example:
        >>> stratified_subset(np.array([0, 0, 0, 0, 1, 1]), 4, seed=0).tolist()
        [2, 3, 4, 5]
    """
    labels = np.asarray(labels)
    check_int(n, "n", low=1)
    if n >= len(labels):
        return np.arange(len(labels))
    from relreps.anchors import stratified

    return np.sort(stratified(labels, n, seed=seed))


def scale_images(images: np.ndarray) -> np.ndarray:
    """Images as float32 ``(n, C, H, W)`` in [0, 1].

    The pixel range is read from the largest value: above 16 it is 0..255 (uint8 images), above
    1 it is 0..16 (sklearn digits), else the values are kept. Grey ``(n, H, W)`` images get
    ``C = 1``; colour ``(n, H, W, C)`` images with ``C`` in (1, 3) become channels first.

    Raises:
        ValueError: any other shape.

    Example:
        >>> scale_images(np.full((2, 4, 4, 3), 255, dtype=np.uint8)).shape
        (2, 3, 4, 4)
        >>> float(scale_images(np.full((1, 8, 8), 16)).max())
        1.0
    """
    images = np.asarray(images)
    if not (images.ndim == 3 or (images.ndim == 4 and images.shape[-1] in (1, 3))):
        raise fail(
            "images", "an (n, H, W) or (n, H, W, 1 or 3) array", f"shape {tuple(images.shape)}"
        )
    images = images.astype(np.float32)
    top = float(images.max()) if images.size else 1.0
    if top > 1.0:
        images /= 255.0 if top > 16.0 else 16.0
    if images.ndim == 4:  # HWC colour (CIFAR) -> CHW
        return np.ascontiguousarray(images.transpose(0, 3, 1, 2))
    return images[:, None, :, :]
