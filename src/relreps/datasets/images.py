"""Image classification data: Fashion-MNIST, MNIST, CIFAR-10, CIFAR-100 and scikit-learn digits.

Everything is parsed from raw bytes with numpy (``np.frombuffer``): IDX files for the MNISTs and the
*binary* CIFAR archives, whose records are a label byte followed by 3,072 pixel bytes. The CIFAR
python archives are pickles and are never read. Offline, Fashion-MNIST comes from the Debian package
``dataset-fashion-mnist``; the others are downloaded (checksummed) by users who are online.
"""

from __future__ import annotations

import gzip
import os
import tarfile
import zlib
from pathlib import Path

import numpy as np

from relreps._validation import check_choice
from relreps.datasets.base import (
    DataFormatError,
    Dataset,
    Remote,
    how_to_get,
    locate,
)

__all__ = [
    "load_cifar10",
    "load_cifar100",
    "load_digits",
    "load_fashion_mnist",
    "load_mnist",
    "read_idx",
]

PathLike = str | os.PathLike[str]

FASHION_MNIST_CLASSES = (
    "T-shirt/top",
    "Trouser",
    "Pullover",
    "Dress",
    "Coat",
    "Sandal",
    "Shirt",
    "Sneaker",
    "Bag",
    "Ankle boot",
)
_FASHION_URL = "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/"
_FASHION_SHA256 = {
    "train-images-idx3-ubyte.gz": (
        "3aede38d61863908ad78613f6a32ed271626dd12800ba2636569512369268a84"
    ),
    "train-labels-idx1-ubyte.gz": (
        "a04f17134ac03560a47e3764e11b92fc97de4d1bfaf8ba1a3aa29af54cc90845"
    ),
    "t10k-images-idx3-ubyte.gz": (
        "346e55b948d973a97e58d2351dde16a484bd415d4595297633bb08f03db6a073"
    ),
    "t10k-labels-idx1-ubyte.gz": (
        "67da17c76eaffca5446c3361aaab5c3cd6d1c2608764d35dfb1850b086bf8dd5"
    ),
}
_FASHION_SYSTEM_DIRS = ("/usr/share/datasets/fashion-mnist",)  # Debian dataset-fashion-mnist
_MNIST_URL = "https://storage.googleapis.com/cvdf-datasets/mnist/"
_MNIST_SHA256 = {
    "train-images-idx3-ubyte.gz": (
        "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609"
    ),
    "train-labels-idx1-ubyte.gz": (
        "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c"
    ),
    "t10k-images-idx3-ubyte.gz": (
        "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6"
    ),
    "t10k-labels-idx1-ubyte.gz": (
        "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6"
    ),
}
CIFAR10_REMOTE = Remote(
    "https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz",
    "c4a38c50a1bc5f3a1c5537f2155ab9d68f9f25eb1ed8d9ddda3db29a59bca1dd",
)
CIFAR100_REMOTE = Remote(
    "https://www.cs.toronto.edu/~kriz/cifar-100-binary.tar.gz",
    "58a81ae192c23a4be8b1804d68e518ed807d710a4eb253b1f2a199162a40d8ec",
)
_SPLIT_PREFIX = {"train": "train", "test": "t10k"}
# IDX type codes -> numpy big-endian dtypes (the format stores multi-byte values big-endian).
_IDX_DTYPES = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}
_CIFAR_PIXELS = 32 * 32 * 3


def _read_maybe_gzip(path: Path) -> bytes:
    """All bytes of ``path``, gunzipped when it starts with the gzip magic."""
    raw = path.read_bytes()
    if raw[:2] != b"\x1f\x8b":
        return raw
    try:
        return gzip.decompress(raw)
    except (EOFError, OSError, zlib.error) as err:
        raise DataFormatError(
            f"Expected {path} to be a complete gzip file, but it is truncated or corrupt ({err}). "
            "Delete it and fetch it again."
        ) from err


def read_idx(path: PathLike, *, ndim: int | None = None) -> np.ndarray:
    """Read an IDX file (the MNIST format), gzipped or not, into a numpy array.

    The header is two zero bytes, a type code, the number of dimensions, then one big-endian
    uint32 per dimension; the data follow. Header and size are checked against each other.

    Args:
        path: the ``.idx*-ubyte`` or ``.idx*-ubyte.gz`` file.
        ndim: the number of dimensions expected (3 for images, 1 for labels), or ``None``.

    Returns:
        Array of the shape stated in the header (uint8 for image and label files).

    Raises:
        DataFormatError: bad magic number, wrong ``ndim``, truncated gzip or a size mismatch.

    Example:
        >>> import gzip, tempfile
        >>> f = Path(tempfile.mkdtemp()) / "labels-idx1-ubyte.gz"
        >>> _ = f.write_bytes(gzip.compress(bytes([0, 0, 8, 1, 0, 0, 0, 3, 7, 2, 1])))
        >>> read_idx(f, ndim=1)
        array([7, 2, 1], dtype=uint8)
    """
    path = Path(path)
    data = _read_maybe_gzip(path)
    if len(data) < 4 or data[0] != 0 or data[1] != 0 or data[2] not in _IDX_DTYPES:
        raise DataFormatError(
            f"Expected {path} to start with an IDX magic number (00 00 <type> <ndim>), but got "
            f"{data[:4].hex(' ') or 'an empty file'}."
        )
    dims = data[3]
    if ndim is not None and dims != ndim:
        raise DataFormatError(
            f"Expected {path} to hold a {ndim}-D IDX array, but its header says {dims}-D."
        )
    header = 4 + 4 * dims
    if len(data) < header:
        raise DataFormatError(f"Expected {path} to hold a {header}-byte IDX header, but it is cut.")
    shape = tuple(int(v) for v in np.frombuffer(data, ">u4", count=dims, offset=4))
    dtype = np.dtype(_IDX_DTYPES[data[2]])
    expected = header + int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    if len(data) != expected:
        raise DataFormatError(
            f"Expected {path} to hold {expected} bytes for an IDX array of shape {shape}, but it "
            f"holds {len(data)} bytes (truncated or mismatched header)."
        )
    return np.frombuffer(data, dtype, offset=header).reshape(shape).astype(dtype.newbyteorder("="))


def _load_idx_pair(
    name: str,
    split: str,
    *,
    path: PathLike | None,
    download: bool,
    base_url: str,
    sha256: dict[str, str],
    system_dirs: tuple[str, ...],
    class_names: tuple[str, ...],
    hint: str,
) -> Dataset:
    check_choice(split, "split", list(_SPLIT_PREFIX))
    prefix = _SPLIT_PREFIX[split]
    if path is not None and Path(path).is_file():
        raise ValueError(
            f"Expected `path` to be a folder holding the {name} IDX .gz files, but got the file "
            f"{str(path)!r}."
        )
    found = {}
    for kind in ("images-idx3", "labels-idx1"):
        filename = f"{prefix}-{kind}-ubyte.gz"
        found[kind] = locate(
            filename,
            subdir=name,
            path=path,
            system_dirs=system_dirs,
            remote=Remote(base_url + filename, sha256[filename]),
            download_missing=download,
            hint=hint,
        )
    images = read_idx(found["images-idx3"], ndim=3)
    labels = read_idx(found["labels-idx1"], ndim=1)
    if images.shape[0] != labels.shape[0]:
        raise DataFormatError(
            f"Expected as many labels as images in {name} {split}, but got {images.shape[0]} "
            f"images ({found['images-idx3']}) and {labels.shape[0]} labels."
        )
    ids = tuple(f"{split}/{i}" for i in range(labels.shape[0]))
    source = str(found["images-idx3"].parent)
    return Dataset(name, split, images, labels.astype(np.int64), ids, class_names, source)


def load_fashion_mnist(
    split: str = "train", *, path: PathLike | None = None, download: bool = True
) -> Dataset:
    """Fashion-MNIST: 28x28 grey clothing images in 10 balanced classes (60k train, 10k test).

    Looked up in ``path``, ``$RELREPS_DATA_DIR/fashion-mnist/``, the Debian package
    ``dataset-fashion-mnist`` (``/usr/share/datasets/fashion-mnist/``), then downloaded.

    Args:
        split: ``"train"`` or ``"test"``.
        path: a folder holding the four ``*-ubyte.gz`` files.
        download: fetch the files (checksummed) when they are nowhere else.

    Returns:
        A :class:`Dataset` whose ``items`` is a ``(n_samples, 28, 28)`` uint8 array.

    Example (reads the real data, so it is not a doctest)::

        ds = load_fashion_mnist("test")
        ds.items.shape, ds.class_names[9]
        # -> ((10000, 28, 28), 'Ankle boot')
    """
    hint = how_to_get(apt="dataset-fashion-mnist", url=_FASHION_URL, subdir="fashion-mnist")
    return _load_idx_pair(
        "fashion-mnist",
        split,
        path=path,
        download=download,
        base_url=_FASHION_URL,
        sha256=_FASHION_SHA256,
        system_dirs=_FASHION_SYSTEM_DIRS,
        class_names=FASHION_MNIST_CLASSES,
        hint=hint,
    )


def load_mnist(
    split: str = "train", *, path: PathLike | None = None, download: bool = True
) -> Dataset:
    """MNIST handwritten digits: 28x28 grey images, 10 classes (60k train, 10k test).

    Looked up in ``path``, ``$RELREPS_DATA_DIR/mnist/``, then downloaded (checksummed).

    Args:
        split: ``"train"`` or ``"test"``.
        path: a folder holding the four ``*-ubyte.gz`` files.
        download: fetch the files when they are nowhere else.

    Returns:
        A :class:`Dataset` whose ``items`` is a ``(n_samples, 28, 28)`` uint8 array.

    Example (reads the real data, so it is not a doctest)::

        load_mnist("test").items.shape
        # -> (10000, 28, 28)
    """
    return _load_idx_pair(
        "mnist",
        split,
        path=path,
        download=download,
        base_url=_MNIST_URL,
        sha256=_MNIST_SHA256,
        system_dirs=(),
        class_names=tuple(str(d) for d in range(10)),
        hint=how_to_get(url=_MNIST_URL, subdir="mnist"),
    )


def _cifar_files(archive: Path, wanted: set[str]) -> dict[str, bytes]:
    """Bytes of the members of ``archive`` whose base names are in ``wanted``, without extracting
    anything to disk (so member paths are never trusted)."""
    out: dict[str, bytes] = {}
    try:
        with tarfile.open(archive, "r:gz") as tar:
            for member in tar:
                base = member.name.rsplit("/", 1)[-1]
                if member.isfile() and base in wanted:
                    fh = tar.extractfile(member)
                    if fh is not None:
                        out[base] = fh.read()
    except (tarfile.TarError, EOFError, OSError, zlib.error) as err:
        raise DataFormatError(
            f"Expected {archive} to be a complete .tar.gz archive, but it is truncated or corrupt "
            f"({err}). Delete it and fetch it again."
        ) from err
    missing = sorted(wanted - out.keys())
    if missing:
        raise DataFormatError(f"Expected {archive} to contain {missing}, but they are missing.")
    return out


def _cifar_folder_files(folder: Path, wanted: set[str]) -> dict[str, bytes] | None:
    """Bytes of already extracted CIFAR files in ``folder`` (or one level below), else ``None``."""
    for root in (folder, *sorted(p for p in folder.iterdir() if p.is_dir())):
        if all((root / name).is_file() for name in wanted):
            return {name: (root / name).read_bytes() for name in wanted}
    return None


def _cifar_records(blob: bytes, n_label_bytes: int, where: str) -> tuple[np.ndarray, np.ndarray]:
    """Split binary CIFAR records into (labels (n, n_label_bytes), images (n, 32, 32, 3))."""
    size = n_label_bytes + _CIFAR_PIXELS
    if len(blob) == 0 or len(blob) % size:
        raise DataFormatError(
            f"Expected {where} to hold whole {size}-byte CIFAR records, but it holds "
            f"{len(blob)} bytes."
        )
    rows = np.frombuffer(blob, np.uint8).reshape(-1, size)
    labels = rows[:, :n_label_bytes].astype(np.int64)
    # Stored channel-major (R plane, G plane, B plane); return height x width x channel.
    images = rows[:, n_label_bytes:].reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1)
    return labels, np.ascontiguousarray(images)


def _names(blob: bytes) -> tuple[str, ...]:
    return tuple(line.strip() for line in blob.decode("utf-8").splitlines() if line.strip())


def _cifar_sources(
    remote: Remote, subdir: str, wanted: set[str], path: PathLike | None, download: bool
) -> tuple[dict[str, bytes], str]:
    if path is not None and Path(path).is_dir():
        files = _cifar_folder_files(Path(path), wanted)
        if files is not None:
            return files, str(path)
    archive = locate(
        remote.filename,
        subdir=subdir,
        path=path,
        remote=remote,
        download_missing=download,
        hint=how_to_get(url=remote.url, subdir=subdir),
    )
    return _cifar_files(archive, wanted), str(archive)


def load_cifar10(
    split: str = "train", *, path: PathLike | None = None, download: bool = True
) -> Dataset:
    """CIFAR-10: 32x32 colour images in 10 classes (50k train, 10k test), from the binary archive.

    Args:
        split: ``"train"`` or ``"test"``.
        path: ``cifar-10-binary.tar.gz``, a folder holding it, or its extracted folder.
        download: fetch the archive (checksummed) into ``$RELREPS_DATA_DIR/cifar-10/``.

    Returns:
        A :class:`Dataset` whose ``items`` is a ``(n_samples, 32, 32, 3)`` uint8 array (HWC, RGB).

    Example (reads the real data, so it is not a doctest)::

        load_cifar10("test").items.shape
        # -> (10000, 32, 32, 3)
    """
    check_choice(split, "split", list(_SPLIT_PREFIX))
    batches = (
        [f"data_batch_{i}.bin" for i in range(1, 6)] if split == "train" else ["test_batch.bin"]
    )
    wanted = {*batches, "batches.meta.txt"}
    files, source = _cifar_sources(CIFAR10_REMOTE, "cifar-10", wanted, path, download)
    parts = [_cifar_records(files[b], 1, f"{source}:{b}") for b in batches]
    labels = np.concatenate([p[0][:, 0] for p in parts])
    images = np.concatenate([p[1] for p in parts])
    ids = tuple(f"{split}/{i}" for i in range(labels.shape[0]))
    return Dataset(
        "cifar-10", split, images, labels, ids, _names(files["batches.meta.txt"]), source
    )


def load_cifar100(
    split: str = "train",
    *,
    label: str = "fine",
    path: PathLike | None = None,
    download: bool = True,
) -> Dataset:
    """CIFAR-100: 32x32 colour images, 100 fine / 20 coarse classes (50k train, 10k test).

    Args:
        split: ``"train"`` or ``"test"``.
        label: ``"fine"`` (100 classes) or ``"coarse"`` (20 super-classes).
        path: ``cifar-100-binary.tar.gz``, a folder holding it, or its extracted folder.
        download: fetch the archive (checksummed) into ``$RELREPS_DATA_DIR/cifar-100/``.

    Returns:
        A :class:`Dataset` whose ``items`` is a ``(n_samples, 32, 32, 3)`` uint8 array (HWC, RGB).

    Example (reads the real data, so it is not a doctest)::

        load_cifar100("test", label="coarse").n_classes
        # -> 20
    """
    check_choice(split, "split", list(_SPLIT_PREFIX))
    check_choice(label, "label", ["fine", "coarse"])
    batch = "train.bin" if split == "train" else "test.bin"
    names_file = f"{label}_label_names.txt"
    files, source = _cifar_sources(
        CIFAR100_REMOTE, "cifar-100", {batch, names_file}, path, download
    )
    labels, images = _cifar_records(files[batch], 2, f"{source}:{batch}")
    column = 0 if label == "coarse" else 1  # each record: coarse byte, fine byte, pixels
    ids = tuple(f"{split}/{i}" for i in range(labels.shape[0]))
    return Dataset(
        f"cifar-100-{label}",
        split,
        images,
        labels[:, column],
        ids,
        _names(files[names_file]),
        source,
    )


def load_digits() -> Dataset:
    """scikit-learn's 1,797 8x8 handwritten digits (values 0..16), 10 classes, split ``"all"``.

    Returns:
        A :class:`Dataset` whose ``items`` is a ``(1797, 8, 8)`` uint8 array.

    Raises:
        ImportError: scikit-learn is not installed.

    Example:
        >>> ds = load_digits()
        >>> ds.items.shape, ds.n_classes, int(ds.items.max())
        ((1797, 8, 8), 10, 16)
    """
    try:
        from sklearn.datasets import load_digits as sk_load_digits
    except ImportError as err:
        raise ImportError("load_digits needs scikit-learn: pip install 'relreps[sklearn]'") from err
    bunch = sk_load_digits()
    images = np.asarray(bunch.images).astype(np.uint8)
    labels = np.asarray(bunch.target, dtype=np.int64)
    ids = tuple(f"all/{i}" for i in range(labels.shape[0]))
    names = tuple(str(n) for n in bunch.target_names)
    return Dataset("digits", "all", images, labels, ids, names, "sklearn.datasets.load_digits")
