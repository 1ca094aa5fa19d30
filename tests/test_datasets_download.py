"""Data lookup order and checksummed downloads, against a loopback HTTP server."""

from __future__ import annotations

import gzip
import hashlib
import http.server
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from relreps.datasets import (
    ChecksumError,
    DataNotFoundError,
    Dataset,
    Remote,
    data_dir,
    download,
    load_mnist,
    locate,
    sha256_file,
)
from relreps.datasets import images as images_module

PAYLOAD = b"relreps fixture payload\n" * 100


class _Handler(http.server.SimpleHTTPRequestHandler):
    requests: list[str]  # set per server
    cut: bool = False  # announce more bytes than sent, then close (an interrupted transfer)

    def log_message(self, format: str, *args: object) -> None:  # keep pytest output quiet
        pass

    def do_GET(self) -> None:
        type(self).requests.append(self.path)
        if type(self).cut:
            self.send_response(200)
            self.send_header("Content-Length", str(len(PAYLOAD) * 2))
            self.end_headers()
            self.wfile.write(PAYLOAD)
            self.wfile.flush()
            self.close_connection = True
            return
        super().do_GET()


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[str, Path, type[_Handler]]]:
    """Serve ``tmp_path/www`` on 127.0.0.1; yields (base URL, folder, handler class)."""
    www = tmp_path / "www"
    www.mkdir()
    handler = type("Handler", (_Handler,), {"requests": [], "cut": False})

    def factory(*args: object, **kwargs: object) -> _Handler:
        return handler(*args, directory=str(www), **kwargs)  # type: ignore[arg-type]

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), factory)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}/", www, handler
    finally:
        httpd.shutdown()
        httpd.server_close()


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "cache"
    monkeypatch.setenv("RELREPS_DATA_DIR", str(folder))
    return folder


def _leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".part"))


def test_sha256_file_matches_hashlib(tmp_path: Path) -> None:
    f = tmp_path / "x.bin"
    f.write_bytes(PAYLOAD * 5000)  # > 1 MiB: several chunks
    assert sha256_file(f) == hashlib.sha256(PAYLOAD * 5000).hexdigest()


def test_remote_validation() -> None:
    assert Remote("https://h/a/b.tar.gz", "A" * 64).filename == "b.tar.gz"
    with pytest.raises(ValueError, match="Expected `sha256` to be a 64-character hex"):
        Remote("https://h/a", "abc")
    with pytest.raises(ValueError, match="Expected `sha256` to be a 64-character hex"):
        Remote("https://h/a", "g" * 64)
    with pytest.raises(ValueError, match="Expected `url` to be a URL"):
        Remote("h/a", "0" * 64)


def test_data_dir_follows_env(cache: Path) -> None:
    assert data_dir() == cache


def test_data_dir_default_is_user_cache(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("RELREPS_DATA_DIR", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert data_dir() == tmp_path / "relreps" / "data"


def test_download_good_checksum(server: tuple[str, Path, type[_Handler]], tmp_path: Path) -> None:
    url, www, _ = server
    (www / "file.bin").write_bytes(PAYLOAD)
    dest = tmp_path / "dl" / "file.bin"
    got = download(Remote(url + "file.bin", hashlib.sha256(PAYLOAD).hexdigest()), dest)
    assert got == dest and dest.read_bytes() == PAYLOAD
    assert _leftovers(dest.parent) == []


def test_download_bad_checksum_moves_file_aside(
    server: tuple[str, Path, type[_Handler]], tmp_path: Path
) -> None:
    url, www, _ = server
    (www / "file.bin").write_bytes(PAYLOAD)
    dest = tmp_path / "dl" / "file.bin"
    with pytest.raises(
        ChecksumError, match=r"Expected .*file.bin to have SHA-256 0{64}.*moved aside"
    ):
        download(Remote(url + "file.bin", "0" * 64), dest)
    assert not dest.exists()
    aside = dest.with_name("file.bin.sha256-mismatch")
    assert aside.read_bytes() == PAYLOAD
    assert _leftovers(dest.parent) == []


def test_interrupted_download_leaves_nothing(
    server: tuple[str, Path, type[_Handler]], cache: Path
) -> None:
    url, _, handler = server
    handler.cut = True
    remote = Remote(url + "file.bin", hashlib.sha256(PAYLOAD).hexdigest())
    with pytest.raises(DataNotFoundError, match="could not download it from"):
        locate("file.bin", subdir="toy", remote=remote)
    folder = cache / "toy"
    assert not (folder / "file.bin").exists()
    assert _leftovers(folder) == []


def test_download_timeout_is_validated(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"Expected `timeout` to be a finite number in \(0.0"):
        download(Remote("http://127.0.0.1:9/x", "0" * 64), tmp_path / "x", timeout=0)


def test_locate_downloads_once_then_uses_cache(
    server: tuple[str, Path, type[_Handler]], cache: Path
) -> None:
    url, www, handler = server
    (www / "file.bin").write_bytes(PAYLOAD)
    remote = Remote(url + "file.bin", hashlib.sha256(PAYLOAD).hexdigest())
    first = locate("file.bin", subdir="toy", remote=remote)
    second = locate("file.bin", subdir="toy", remote=remote)
    assert first == second == cache / "toy" / "file.bin"
    assert handler.requests == ["/file.bin"]


def test_locate_bad_checksum_raises_and_never_uses_file(
    server: tuple[str, Path, type[_Handler]], cache: Path
) -> None:
    url, www, _ = server
    (www / "file.bin").write_bytes(PAYLOAD)
    remote = Remote(url + "file.bin", "f" * 64)
    with pytest.raises(ChecksumError, match="moved aside"):
        locate("file.bin", subdir="toy", remote=remote)
    # A second lookup must not pick the bad bytes up: it downloads (and fails) again.
    with pytest.raises(ChecksumError):
        locate("file.bin", subdir="toy", remote=remote)
    assert not (cache / "toy" / "file.bin").exists()


def test_locate_unreachable_server_says_how_to_get(cache: Path) -> None:
    remote = Remote("http://127.0.0.1:9/missing.bin", "0" * 64)  # port 9: nothing listens
    with pytest.raises(DataNotFoundError, match=r"could not download it from .*apt-get inst"):
        locate("missing.bin", subdir="toy", remote=remote, hint="Install: apt-get install xyz")


def test_locate_http_404_is_not_found(
    server: tuple[str, Path, type[_Handler]], cache: Path
) -> None:
    url, _, _ = server
    with pytest.raises(DataNotFoundError, match="404"):
        locate("nothere.bin", subdir="toy", remote=Remote(url + "nothere.bin", "0" * 64))


def test_locate_order_explicit_cache_system(tmp_path: Path, cache: Path) -> None:
    system = tmp_path / "system"
    system.mkdir()
    (system / "f.txt").write_text("system")
    assert locate("f.txt", subdir="toy", system_dirs=[system]).read_text() == "system"
    (cache / "toy").mkdir(parents=True)
    (cache / "toy" / "f.txt").write_text("cache")
    assert locate("f.txt", subdir="toy", system_dirs=[system]).read_text() == "cache"
    explicit = tmp_path / "mine.txt"
    explicit.write_text("explicit")
    assert locate("f.txt", subdir="toy", path=explicit, system_dirs=[system]) == explicit
    assert locate("f.txt", subdir="toy", path=system).read_text() == "system"


def test_locate_explicit_path_missing_is_not_searched_further(tmp_path: Path, cache: Path) -> None:
    (cache / "toy").mkdir(parents=True)
    (cache / "toy" / "f.txt").write_text("cache")
    with pytest.raises(DataNotFoundError, match="Expected `path` to be a file or a folder holding"):
        locate("f.txt", subdir="toy", path=tmp_path / "nope")


def test_locate_without_remote_lists_places(cache: Path) -> None:
    with pytest.raises(
        DataNotFoundError, match=r"searched .*toy/f.txt.*pip install thing.*\$RELREPS_DATA_DIR"
    ):
        locate("f.txt", subdir="toy", hint="Install: pip install thing")


def test_locate_download_off(cache: Path) -> None:
    remote = Remote("http://127.0.0.1:9/f.txt", "0" * 64)
    with pytest.raises(DataNotFoundError, match=r"Could not find 'f.txt'"):
        locate("f.txt", subdir="toy", remote=remote, download_missing=False)


def _idx(array: np.ndarray) -> bytes:
    header = bytes([0, 0, 8, array.ndim]) + np.asarray(array.shape, ">u4").tobytes()
    return gzip.compress(header + array.astype(np.uint8).tobytes())


def test_load_mnist_end_to_end_download(
    server: tuple[str, Path, type[_Handler]], cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url, www, handler = server
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, size=(4, 28, 28), dtype=np.uint8)
    labels = np.array([3, 1, 4, 1], dtype=np.uint8)
    blobs = {"t10k-images-idx3-ubyte.gz": _idx(images), "t10k-labels-idx1-ubyte.gz": _idx(labels)}
    for name, blob in blobs.items():
        (www / name).write_bytes(blob)
    sums = {name: hashlib.sha256(blob).hexdigest() for name, blob in blobs.items()}
    monkeypatch.setattr(images_module, "_MNIST_URL", url)
    monkeypatch.setattr(images_module, "_MNIST_SHA256", sums)
    ds = load_mnist("test")
    assert isinstance(ds, Dataset)
    np.testing.assert_array_equal(ds.items, images)
    np.testing.assert_array_equal(ds.labels, labels)
    assert sorted(handler.requests) == ["/" + n for n in sorted(blobs)]
    load_mnist("test")  # from the cache now
    assert len(handler.requests) == 2


def test_load_mnist_offline_message(cache: Path) -> None:
    with pytest.raises(DataNotFoundError, match=r"t10k-images.*storage.googleapis.com.*path="):
        load_mnist("test", download=False)


def test_import_is_light() -> None:
    code = (
        "import sys, relreps.datasets; "
        "heavy = ['torch', 'sklearn', 'scipy', 'spacy', 'pyarrow', 'safetensors', 'emoji', "
        "'babel', 'matplotlib', 'datasets', 'torch_geometric']; "
        "print([m for m in heavy if m in sys.modules])"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
