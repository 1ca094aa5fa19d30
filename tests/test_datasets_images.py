"""Image loaders: IDX and binary-CIFAR parsing on generated fixtures, and the real Fashion-MNIST."""

from __future__ import annotations

import gzip
import io
import sys
import tarfile
from pathlib import Path

import numpy as np
import pytest

from relreps.datasets import (
    DataFormatError,
    DataNotFoundError,
    Dataset,
    load_cifar10,
    load_cifar100,
    load_digits,
    load_fashion_mnist,
    load_mnist,
    read_idx,
)

FASHION_DIR = Path("/usr/share/datasets/fashion-mnist")


@pytest.fixture(autouse=True)
def _empty_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RELREPS_DATA_DIR", str(tmp_path / "cache"))


def idx_bytes(array: np.ndarray, type_code: int = 0x08) -> bytes:
    """The IDX encoding of ``array`` (big-endian), written independently of the reader."""
    dtype = {0x08: ">u1", 0x0D: ">f4", 0x0C: ">i4"}[type_code]
    header = bytes([0, 0, type_code, array.ndim]) + np.asarray(array.shape, ">u4").tobytes()
    return header + np.asarray(array, dtype).tobytes()


def write_mnist_folder(folder: Path, rng: np.random.Generator) -> dict[str, np.ndarray]:
    folder.mkdir(parents=True, exist_ok=True)
    arrays = {}
    for prefix, n in (("train", 6), ("t10k", 3)):
        images = rng.integers(0, 256, size=(n, 28, 28), dtype=np.uint8)
        labels = rng.integers(0, 10, size=n, dtype=np.uint8)
        (folder / f"{prefix}-images-idx3-ubyte.gz").write_bytes(gzip.compress(idx_bytes(images)))
        (folder / f"{prefix}-labels-idx1-ubyte.gz").write_bytes(gzip.compress(idx_bytes(labels)))
        arrays[prefix] = images
        arrays[prefix + "-labels"] = labels
    return arrays


# ---------------------------------------------------------------- IDX


def test_read_idx_gzip_and_plain(tmp_path: Path, rng: np.random.Generator) -> None:
    images = rng.integers(0, 256, size=(5, 4, 3), dtype=np.uint8)
    (tmp_path / "a.gz").write_bytes(gzip.compress(idx_bytes(images)))
    (tmp_path / "a").write_bytes(idx_bytes(images))
    np.testing.assert_array_equal(read_idx(tmp_path / "a.gz", ndim=3), images)
    np.testing.assert_array_equal(read_idx(tmp_path / "a"), images)


def test_read_idx_big_endian_float_and_int(tmp_path: Path, rng: np.random.Generator) -> None:
    values = rng.normal(size=(3, 2)).astype(np.float32)
    (tmp_path / "f").write_bytes(idx_bytes(values, 0x0D))
    got = read_idx(tmp_path / "f")
    assert got.dtype == np.float32 and got.dtype.isnative
    np.testing.assert_array_equal(got, values)
    ints = np.array([1, -2, 70000], dtype=np.int32)
    (tmp_path / "i").write_bytes(idx_bytes(ints, 0x0C))
    np.testing.assert_array_equal(read_idx(tmp_path / "i"), ints)


def test_read_idx_bad_magic(tmp_path: Path) -> None:
    (tmp_path / "x").write_bytes(b"\x01\x02\x08\x01" + bytes(8))
    with pytest.raises(DataFormatError, match=r"IDX magic number .* but got 01 02 08 01"):
        read_idx(tmp_path / "x")
    (tmp_path / "e").write_bytes(b"")
    with pytest.raises(DataFormatError, match="an empty file"):
        read_idx(tmp_path / "e")


def test_read_idx_wrong_ndim(tmp_path: Path) -> None:
    (tmp_path / "x").write_bytes(idx_bytes(np.zeros(3, np.uint8)))
    with pytest.raises(DataFormatError, match="3-D IDX array, but its header says 1-D"):
        read_idx(tmp_path / "x", ndim=3)


def test_read_idx_size_mismatch(tmp_path: Path) -> None:
    blob = idx_bytes(np.zeros((4, 2, 2), np.uint8))
    (tmp_path / "short").write_bytes(blob[:-1])
    with pytest.raises(DataFormatError, match=r"to hold 32 bytes .* shape \(4, 2, 2\).* 31 bytes"):
        read_idx(tmp_path / "short")
    (tmp_path / "cut").write_bytes(blob[:9])
    with pytest.raises(DataFormatError, match="16-byte IDX header, but it is cut"):
        read_idx(tmp_path / "cut")


def test_read_idx_truncated_gzip(tmp_path: Path) -> None:
    blob = gzip.compress(idx_bytes(np.arange(1000, dtype=np.uint8).reshape(10, 10, 10)))
    (tmp_path / "t.gz").write_bytes(blob[: len(blob) // 2])
    with pytest.raises(DataFormatError, match="complete gzip file, but it is truncated or corrupt"):
        read_idx(tmp_path / "t.gz")


# ---------------------------------------------------------------- MNISTs on fixtures


@pytest.mark.parametrize("loader", [load_fashion_mnist, load_mnist])
def test_mnist_style_loaders_on_fixture(
    loader: object, tmp_path: Path, rng: np.random.Generator
) -> None:
    arrays = write_mnist_folder(tmp_path / "d", rng)
    for split, prefix in (("train", "train"), ("test", "t10k")):
        ds = loader(split, path=tmp_path / "d")  # type: ignore[operator]
        np.testing.assert_array_equal(ds.items, arrays[prefix])
        np.testing.assert_array_equal(ds.labels, arrays[prefix + "-labels"])
        assert ds.labels.dtype == np.int64 and ds.split == split and ds.n_classes == 10
        assert ds.ids[0] == f"{split}/0" and len(set(ds.ids)) == len(ds)


def test_fashion_mnist_from_cache_dir(
    tmp_path: Path, rng: np.random.Generator, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RELREPS_DATA_DIR", str(tmp_path / "c"))
    arrays = write_mnist_folder(tmp_path / "c" / "fashion-mnist", rng)
    ds = load_fashion_mnist("test", download=False)
    np.testing.assert_array_equal(ds.items, arrays["t10k"])
    assert ds.source == str(tmp_path / "c" / "fashion-mnist")


def test_mnist_label_count_mismatch(tmp_path: Path, rng: np.random.Generator) -> None:
    write_mnist_folder(tmp_path, rng)
    (tmp_path / "t10k-labels-idx1-ubyte.gz").write_bytes(
        gzip.compress(idx_bytes(np.zeros(2, np.uint8)))
    )
    with pytest.raises(DataFormatError, match=r"as many labels as images .* 3 images .* 2 labels"):
        load_mnist("test", path=tmp_path)


def test_mnist_bad_split_and_file_path(tmp_path: Path, rng: np.random.Generator) -> None:
    write_mnist_folder(tmp_path, rng)
    with pytest.raises(ValueError, match=r"Expected `split` to be one of \['train', 'test'\]"):
        load_mnist("valid", path=tmp_path)
    with pytest.raises(ValueError, match="Expected `path` to be a folder holding the mnist IDX"):
        load_mnist("test", path=tmp_path / "t10k-labels-idx1-ubyte.gz")


def test_fashion_missing_everywhere_names_apt_package(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import relreps.datasets.images as images

    monkeypatch.setattr(images, "_FASHION_SYSTEM_DIRS", (str(tmp_path / "empty"),))
    with pytest.raises(DataNotFoundError, match="apt-get install dataset-fashion-mnist"):
        load_fashion_mnist("test", download=False)


@pytest.mark.skipif(not FASHION_DIR.is_dir(), reason="Debian dataset-fashion-mnist not installed")
def test_real_fashion_mnist() -> None:
    train = load_fashion_mnist("train", download=False)
    test = load_fashion_mnist("test", download=False)
    assert train.items.shape == (60000, 28, 28) and test.items.shape == (10000, 28, 28)
    assert train.items.dtype == np.uint8 and train.items.flags.writeable
    assert train.to_dict()["class_counts"] == [6000] * 10
    assert test.to_dict()["class_counts"] == [1000] * 10
    assert train.class_names[train.labels[0]] == "Ankle boot"  # the well-known first image
    assert train.source == str(FASHION_DIR)


# ---------------------------------------------------------------- CIFAR (binary, no pickles)


def cifar_record(label_bytes: list[int], rgb: tuple[int, int, int]) -> bytes:
    planes = b"".join(bytes([c]) * 1024 for c in rgb)  # R plane, G plane, B plane
    return bytes(label_bytes) + planes


def make_tar(path: Path, files: dict[str, bytes]) -> None:
    with tarfile.open(path, "w:gz") as tar:
        for name, blob in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(blob)
            tar.addfile(info, io.BytesIO(blob))


CIFAR10_NAMES = "airplane\nautomobile\nbird\ncat\ndeer\ndog\nfrog\nhorse\nship\ntruck\n\n"


def cifar10_files() -> dict[str, bytes]:
    files = {"cifar-10-batches-bin/batches.meta.txt": CIFAR10_NAMES.encode()}
    for b in range(1, 6):
        files[f"cifar-10-batches-bin/data_batch_{b}.bin"] = cifar_record(
            [b], (b, 10 + b, 20 + b)
        ) + cifar_record([9], (0, 0, 255))
    files["cifar-10-batches-bin/test_batch.bin"] = cifar_record([3], (7, 8, 9))
    return files


def test_cifar10_from_archive(tmp_path: Path) -> None:
    make_tar(tmp_path / "cifar-10-binary.tar.gz", cifar10_files())
    train = load_cifar10("train", path=tmp_path)
    assert train.items.shape == (10, 32, 32, 3) and train.items.dtype == np.uint8
    np.testing.assert_array_equal(train.labels, [1, 9, 2, 9, 3, 9, 4, 9, 5, 9])
    np.testing.assert_array_equal(train.items[0, 5, 7], [1, 11, 21])  # channel-last RGB
    np.testing.assert_array_equal(train.items[1, 0, 0], [0, 0, 255])
    assert train.class_names[3] == "cat" and train.n_classes == 10
    test = load_cifar10("test", path=tmp_path / "cifar-10-binary.tar.gz")
    assert test.labels.tolist() == [3] and test.items[0, 31, 31].tolist() == [7, 8, 9]


def test_cifar10_from_extracted_folder(tmp_path: Path) -> None:
    for name, blob in cifar10_files().items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_bytes(blob)
    assert load_cifar10("test", path=tmp_path).labels.tolist() == [3]


def test_cifar10_python_pickle_archive_is_refused(tmp_path: Path) -> None:
    files = {"cifar-10-batches-py/data_batch_1": b"\x80\x04not-to-be-unpickled"}
    make_tar(tmp_path / "cifar-10-binary.tar.gz", files)
    with pytest.raises(DataFormatError, match=r"to contain .*test_batch.bin.* missing"):
        load_cifar10("test", path=tmp_path)


def test_cifar10_truncated_archive(tmp_path: Path) -> None:
    make_tar(tmp_path / "full.tar.gz", cifar10_files())
    blob = (tmp_path / "full.tar.gz").read_bytes()
    (tmp_path / "cifar-10-binary.tar.gz").write_bytes(blob[: len(blob) // 2])
    with pytest.raises(DataFormatError, match=r"complete .tar.gz archive, but it is truncated"):
        load_cifar10("train", path=tmp_path / "cifar-10-binary.tar.gz")


def test_cifar10_partial_record(tmp_path: Path) -> None:
    files = cifar10_files()
    files["cifar-10-batches-bin/test_batch.bin"] += b"\x01\x02"
    make_tar(tmp_path / "cifar-10-binary.tar.gz", files)
    with pytest.raises(DataFormatError, match="whole 3073-byte CIFAR records, but it holds 3075"):
        load_cifar10("test", path=tmp_path)


def test_cifar10_missing_offline_names_url(tmp_path: Path) -> None:
    with pytest.raises(DataNotFoundError, match=r"cs.toronto.edu/~kriz/cifar-10-binary.tar.gz"):
        load_cifar10("test", download=False)


def test_cifar100_fine_and_coarse(tmp_path: Path) -> None:
    fine_names = "\n".join(f"fine{i}" for i in range(100))
    coarse_names = "\n".join(f"coarse{i}" for i in range(20))
    files = {
        "cifar-100-binary/train.bin": cifar_record([4, 77], (1, 2, 3))
        + cifar_record([19, 99], (4, 5, 6)),
        "cifar-100-binary/test.bin": cifar_record([0, 5], (9, 9, 9)),
        "cifar-100-binary/fine_label_names.txt": fine_names.encode(),
        "cifar-100-binary/coarse_label_names.txt": coarse_names.encode(),
    }
    make_tar(tmp_path / "cifar-100-binary.tar.gz", files)
    fine = load_cifar100("train", path=tmp_path)
    coarse = load_cifar100("train", label="coarse", path=tmp_path)
    assert fine.labels.tolist() == [77, 99] and fine.n_classes == 100 and fine.name.endswith("fine")
    assert coarse.labels.tolist() == [4, 19] and coarse.n_classes == 20
    np.testing.assert_array_equal(fine.items[1, 0, 0], [4, 5, 6])
    with pytest.raises(ValueError, match=r"Expected `label` to be one of \['fine', 'coarse'\]"):
        load_cifar100("train", label="both", path=tmp_path)


# ---------------------------------------------------------------- digits and Dataset


def test_digits_matches_sklearn() -> None:
    from sklearn.datasets import load_digits as reference

    ref = reference()
    ds = load_digits()
    np.testing.assert_array_equal(ds.items, ref.images)
    np.testing.assert_array_equal(ds.labels, ref.target)
    assert ds.split == "all" and ds.class_names == tuple("0123456789")


def test_digits_without_sklearn(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "sklearn.datasets", None)
    with pytest.raises(ImportError, match=r"relreps\[sklearn\]"):
        load_digits()


def test_dataset_subset_and_dict() -> None:
    items = np.arange(12).reshape(4, 3)
    ds = Dataset("t", "train", items, np.array([0, 1, 1, 0]), ("a", "b", "c", "d"), ("x", "y"), "m")
    sub = ds.subset([3, 1])
    np.testing.assert_array_equal(sub.items, items[[3, 1]])
    assert sub.ids == ("d", "b") and sub.labels.tolist() == [0, 1]
    assert ds.to_dict()["class_counts"] == [2, 2] and "n_samples=4" in repr(ds)
    texts = Dataset("t", "all", ("p", "q"), np.array([1, 0]), ("0", "1"), ("x", "y"), "m")
    assert texts.subset([1]).items == ("q",)
    with pytest.raises(ValueError, match=r"Expected `indices` to be indices in \[0, 3\]"):
        ds.subset([4])


def test_dataset_validation() -> None:
    with pytest.raises(ValueError, match="Expected `labels` to be a 1-D integer array"):
        Dataset("t", "s", ("a",), np.array([0.5]), ("0",), ("x",), "m")
    with pytest.raises(ValueError, match="same length, but got 2, 1 and 1"):
        Dataset("t", "s", ("a", "b"), np.array([0]), ("0",), ("x",), "m")
    with pytest.raises(ValueError, match=r"class indices in \[0, 0\], but got values in \[0, 1\]"):
        Dataset("t", "s", ("a", "b"), np.array([0, 1]), ("0", "1"), ("x",), "m")
