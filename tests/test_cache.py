"""Embedding cache: hits, misses, keys, corruption, interrupted writes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import warnings
from pathlib import Path

import numpy as np
import pytest

from relreps.encoders import (
    CACHE_ENV_VAR,
    CacheCorruptionWarning,
    CallableEncoder,
    EmbeddingCache,
    cached_encode,
    default_cache_dir,
)
from relreps.encoders import cache as cache_module

ITEMS = ["alpha", "beta", "gamma", "delta"]
IDS = ["n1", "n2", "n3", "n4"]


class Counting:
    """An encoder that counts its calls (a cache hit must not call it)."""

    def __init__(self, version: str = "1", scale: float = 1.0) -> None:
        self.calls = 0
        self.scale = scale
        self.encoder = CallableEncoder(self._fn, name="counting", dim=3, version=version)

    def _fn(self, batch):
        self.calls += 1
        return [[len(s) * self.scale, s.count("a"), 1.0] for s in batch]


def _encode(counting: Counting, tmp_path: Path, **kw):
    kw.setdefault("dataset", "toy")
    kw.setdefault("split", "train")
    return cached_encode(counting.encoder, ITEMS, IDS, cache_dir=tmp_path, batch_size=2, **kw)


def _entry_files(tmp_path: Path) -> list[Path]:
    return sorted(p for p in (tmp_path / "embeddings").rglob("*") if p.is_file())


def test_default_cache_dir_sources(monkeypatch, tmp_path):
    monkeypatch.setenv(CACHE_ENV_VAR, str(tmp_path / "env"))
    assert default_cache_dir() == tmp_path / "env"
    monkeypatch.delenv(CACHE_ENV_VAR)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert default_cache_dir() == tmp_path / "xdg" / "relreps"
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert default_cache_dir() == tmp_path / "home" / ".cache" / "relreps"


def test_env_var_is_used_by_cached_encode(monkeypatch, tmp_path):
    monkeypatch.setenv(CACHE_ENV_VAR, str(tmp_path))
    counting = Counting()
    cached_encode(counting.encoder, ITEMS, IDS, dataset="toy", split="test")
    assert len(_entry_files(tmp_path)) == 2  # .npy + .json


def test_miss_then_hit(tmp_path):
    counting = Counting()
    first = _encode(counting, tmp_path)
    assert counting.calls == 2  # two batches of 2
    second = _encode(counting, tmp_path)
    assert counting.calls == 2  # served from disk
    np.testing.assert_array_equal(first, second)
    np.testing.assert_array_equal(first, counting.encoder.encode(ITEMS))
    assert second.dtype == np.float32
    npy, manifest_path = _entry_files(tmp_path)[1], _entry_files(tmp_path)[0]
    manifest = json.loads(manifest_path.read_text())
    assert manifest["shape"] == [4, 3] and manifest["dtype"] == "float32"
    assert manifest["dataset"] == "toy" and manifest["encoder"]["name"] == "counting"
    assert manifest["file"] == npy.name and len(manifest["sha256"]) == 64


def test_refresh_recomputes(tmp_path):
    counting = Counting()
    _encode(counting, tmp_path)
    _encode(counting, tmp_path, refresh=True)
    assert counting.calls == 4


@pytest.mark.parametrize(
    "change",
    ["dataset", "split", "ids_order", "ids_value", "version", "name", "options"],
)
def test_key_changes_with_every_part(tmp_path, change):
    cache = EmbeddingCache(tmp_path)
    base = Counting().encoder
    key = cache.key(base, IDS, dataset="toy", split="train")
    assert cache.key(Counting().encoder, list(IDS), dataset="toy", split="train") == key
    kwargs = {"dataset": "toy", "split": "train"}
    ids, enc = list(IDS), base
    if change in ("dataset", "split"):
        kwargs[change] = "other"
    elif change == "ids_order":
        ids = ids[::-1]
    elif change == "ids_value":
        ids[0] = "n9"
    elif change == "version":
        enc = Counting(version="2").encoder
    elif change == "name":
        enc = CallableEncoder(base._fn, name="renamed", dim=3, version="1")  # type: ignore[attr-defined]
    else:
        enc = Counting().encoder
        enc.options["normalize"] = True
    other = cache.key(enc, ids, **kwargs)
    assert other.digest != key.digest
    assert cache.paths(other)[0] != cache.paths(key)[0]


def test_int_and_str_ids_are_distinct_keys(tmp_path):
    cache = EmbeddingCache(tmp_path)
    enc = Counting().encoder
    a = cache.key(enc, [1, 2], dataset="d", split="s")
    b = cache.key(enc, ["1", "2"], dataset="d", split="s")
    c = cache.key(enc, np.array([1, 2]), dataset="d", split="s")
    assert a.digest != b.digest and a.digest == c.digest


def _corrupt_npy_flip(npy: Path, manifest: Path) -> None:
    data = bytearray(npy.read_bytes())
    data[-1] ^= 0xFF
    npy.write_bytes(bytes(data))


def _corrupt_npy_truncate(npy: Path, manifest: Path) -> None:
    npy.write_bytes(npy.read_bytes()[:-7])


def _corrupt_manifest_garbage(npy: Path, manifest: Path) -> None:
    manifest.write_text("{ not json")


def _corrupt_manifest_other_key(npy: Path, manifest: Path) -> None:
    data = json.loads(manifest.read_text())
    data["key"] = "0" * 64
    manifest.write_text(json.dumps(data))


def _corrupt_manifest_format(npy: Path, manifest: Path) -> None:
    manifest.write_text(json.dumps(["a list"]))


def _corrupt_npy_missing(npy: Path, manifest: Path) -> None:
    npy.unlink()


def _corrupt_shape_with_valid_checksum(npy: Path, manifest: Path) -> None:
    np.save(npy, np.zeros((2, 3), np.float32), allow_pickle=False)
    data = json.loads(manifest.read_text())
    data["sha256"] = cache_module._file_sha256(npy)
    manifest.write_text(json.dumps(data))


def _corrupt_pickled_object_array(npy: Path, manifest: Path) -> None:
    np.save(npy, np.array([{"a": 1}], dtype=object), allow_pickle=True)
    data = json.loads(manifest.read_text())
    data["sha256"] = cache_module._file_sha256(npy)
    manifest.write_text(json.dumps(data))


@pytest.mark.parametrize(
    ("corrupt", "reason"),
    [
        (_corrupt_npy_flip, "sha256 mismatch"),
        (_corrupt_npy_truncate, "sha256 mismatch"),
        (_corrupt_manifest_garbage, "unreadable manifest"),
        (_corrupt_manifest_other_key, "another key"),
        (_corrupt_manifest_format, "unknown format"),
        (_corrupt_npy_missing, "array file missing"),
        (_corrupt_shape_with_valid_checksum, "does not match the manifest"),
        (_corrupt_pickled_object_array, "unreadable array"),
    ],
)
def test_corrupt_entry_is_detected_and_rebuilt(tmp_path, corrupt, reason):
    counting = Counting()
    good = _encode(counting, tmp_path)
    manifest, npy = _entry_files(tmp_path)
    corrupt(npy, manifest)
    with pytest.warns(CacheCorruptionWarning, match=reason):
        rebuilt = _encode(counting, tmp_path)
    assert counting.calls == 4  # recomputed
    np.testing.assert_array_equal(rebuilt, good)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        np.testing.assert_array_equal(_encode(counting, tmp_path), good)  # healthy again
    assert counting.calls == 4


def test_truncation_caught_by_shape_check_without_verify(tmp_path):
    counting = Counting()
    _encode(counting, tmp_path)
    manifest, npy = _entry_files(tmp_path)
    _corrupt_npy_truncate(npy, manifest)
    cache = EmbeddingCache(tmp_path)
    key = cache.key(counting.encoder, IDS, dataset="toy", split="train")
    with pytest.warns(CacheCorruptionWarning, match="unreadable array"):
        assert cache.load(key, verify=False) is None
    assert not manifest.exists() and not npy.exists()


def test_missing_manifest_is_a_plain_miss(tmp_path):
    counting = Counting()
    _encode(counting, tmp_path)
    manifest, _ = _entry_files(tmp_path)
    manifest.unlink()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        _encode(counting, tmp_path)
    assert counting.calls == 4


@pytest.mark.parametrize("fail_on_call", [1, 2])
def test_interrupted_write_leaves_no_entry(tmp_path, monkeypatch, fail_on_call):
    """Interrupt the array (1st) or the manifest (2nd) move: no entry, no temp file left."""
    real_replace = os.replace
    calls = {"n": 0}

    def flaky_replace(src, dst):
        calls["n"] += 1
        if calls["n"] == fail_on_call:
            raise KeyboardInterrupt
        return real_replace(src, dst)

    monkeypatch.setattr(cache_module.os, "replace", flaky_replace)
    counting = Counting()
    with pytest.raises(KeyboardInterrupt):
        _encode(counting, tmp_path)
    files = _entry_files(tmp_path)
    assert not any(p.suffix == ".tmp" for p in files)
    assert not any(p.suffix == ".json" for p in files)  # no manifest: not an entry
    monkeypatch.setattr(cache_module.os, "replace", real_replace)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        _encode(counting, tmp_path)  # a plain miss, then a complete entry
    assert counting.calls == 4
    assert [p.suffix for p in _entry_files(tmp_path)] == [".json", ".npy"]


def test_killed_process_mid_write_is_never_read(tmp_path):
    """A process killed while writing the array leaves only a temp file, which is ignored."""
    script = textwrap.dedent(
        f"""
        import os, numpy as np
        from relreps.encoders import CallableEncoder, cached_encode

        def half_then_die(file, arr, allow_pickle=False):
            file.write(b"\\x93NUMPY partial")
            file.flush()
            os._exit(9)

        np.save = half_then_die
        enc = CallableEncoder(lambda b: [[1.0, 2.0, 3.0] for _ in b], name="counting",
                              dim=3, version="1")
        cached_encode(enc, {ITEMS!r}, {IDS!r}, dataset="toy", split="train",
                      cache_dir={str(tmp_path)!r})
        """
    )
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True)
    assert proc.returncode == 9
    assert [p.suffix for p in _entry_files(tmp_path)] == [".tmp"]
    counting = Counting()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = _encode(counting, tmp_path)
    assert counting.calls == 2
    np.testing.assert_array_equal(out, counting.encoder.encode(ITEMS))


def test_minimal_protocol_encoder_is_cached(tmp_path):
    class Minimal:
        name = "minimal"
        dim = 2
        version = "7"
        calls = 0

        def encode(self, items, *, batch_size=32):
            Minimal.calls += 1
            return np.ones((len(items), 2))

    enc = Minimal()
    a = cached_encode(enc, ITEMS, IDS, dataset="d", split="s", cache_dir=tmp_path)
    b = cached_encode(enc, ITEMS, IDS, dataset="d", split="s", cache_dir=tmp_path)
    assert Minimal.calls == 1 and a.dtype == np.float32
    np.testing.assert_array_equal(a, b)


def test_real_encoder_hit_equals_recompute(tmp_path):
    from relreps.encoders import list_models, load_encoder

    if not next(i for i in list_models() if i.spec.name == "wordllama").available_offline:
        pytest.skip("wordllama not installed (the Counting tests above cover the logic)")
    enc = load_encoder("wordllama")
    texts = ["a cat sat on the mat", "stocks fell", "le chat"]
    miss = cached_encode(enc, texts, [0, 1, 2], dataset="t", split="s", cache_dir=tmp_path)
    hit = cached_encode(enc, texts, [0, 1, 2], dataset="t", split="s", cache_dir=tmp_path)
    np.testing.assert_array_equal(miss, hit)
    np.testing.assert_array_equal(hit, enc.encode(texts))


def test_argument_errors(tmp_path):
    enc = Counting().encoder
    cache = EmbeddingCache(tmp_path)
    with pytest.raises(ValueError, match="'n1' more than once"):
        cached_encode(
            enc, ITEMS, ["n1", "n1", "n2", "n3"], dataset="d", split="s", cache_dir=tmp_path
        )
    with pytest.raises(TypeError, match=r"Expected `ids\[0\]` to be a str or int"):
        cache.key(enc, [1.5], dataset="d", split="s")
    with pytest.raises(TypeError, match=r"Expected `ids\[0\]` to be a str or int"):
        cache.key(enc, [True], dataset="d", split="s")
    with pytest.raises(TypeError, match="Expected `ids` to be a sequence"):
        cache.key(enc, "abc", dataset="d", split="s")
    with pytest.raises(ValueError, match="same length, but got 3 ids and 4 items"):
        cached_encode(enc, ITEMS, IDS[:3], dataset="d", split="s", cache_dir=tmp_path)
    with pytest.raises(TypeError, match="Expected `dataset` to be a non-empty str"):
        cache.key(enc, IDS, dataset="", split="s")
    with pytest.raises(TypeError, match="Expected `split` to be a non-empty str"):
        cache.key(enc, IDS, dataset="d", split=None)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="Expected `encoder` to be an Encoder"):
        cache.key(object(), IDS, dataset="d", split="s")
    with pytest.raises(TypeError, match="Expected `root` to be a folder path"):
        EmbeddingCache(3)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="Expected `batch_size`"):
        cached_encode(enc, ITEMS, IDS, dataset="d", split="s", cache_dir=tmp_path, batch_size=0)
    key = cache.key(enc, IDS, dataset="d", split="s")
    with pytest.raises(ValueError, match="an array with 4 rows"):
        cache.save(key, np.ones((3, 3), np.float32))
    with pytest.raises(ValueError, match="Expected `embeddings` to be a 2-D numpy array"):
        cache.save(key, np.ones(4, np.float32))
