"""The fused blocked cosine/inner kernel against a float64 reference, and its error paths."""

from __future__ import annotations

import numpy as np
import pytest

import relreps
from relreps._cosine_blocks import block_rows, project_into, worker_threads


def _reference(x: np.ndarray, anchors: np.ndarray) -> np.ndarray:
    x64, a64 = x.astype(np.float64), anchors.astype(np.float64)
    xn = np.linalg.norm(x64, axis=1, keepdims=True)
    an = np.linalg.norm(a64, axis=1, keepdims=True)
    return (x64 / np.where(xn == 0, 1, xn)) @ (a64 / np.where(an == 0, 1, an)).T


def _data(n: int = 1037, d: int = 24, k: int = 13, seed: int = 0):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((n, d)).astype(np.float32), rng.standard_normal((k, d)).astype(
        np.float32
    )


@pytest.mark.parametrize("threads", [1, 2, 3])
@pytest.mark.parametrize("max_rows", [1, 7, 100, None])
def test_blocks_and_threads_match_reference(threads, max_rows):
    x, anchors = _data()
    x[5] = 0.0  # a zero row gives cosine 0, not NaN
    unit = anchors / np.linalg.norm(anchors, axis=1, keepdims=True)
    out = np.full((len(x), len(anchors)), np.nan, dtype=np.float32)
    project_into(x, unit.T, out, cosine=True, dtype=np.dtype(np.float32), center=None,
                 check_rows=lambda *a: None, max_rows=max_rows, threads=threads)  # fmt: skip
    np.testing.assert_allclose(out, _reference(x, anchors), atol=2e-6)
    assert np.all(out[5] == 0)


def test_threaded_equals_serial_bitwise():
    x, anchors = _data(n=5000)
    unit = (anchors / np.linalg.norm(anchors, axis=1, keepdims=True)).T
    results = []
    for threads in (1, 2):
        out = np.empty((len(x), len(anchors)), dtype=np.float32)
        project_into(x, unit, out, cosine=True, dtype=np.dtype(np.float32), center=None,
                     check_rows=lambda *a: None, max_rows=64, threads=threads)  # fmt: skip
        results.append(out)
    np.testing.assert_array_equal(results[0], results[1])


def test_inner_center_and_cast():
    rng = np.random.default_rng(1)
    x = rng.integers(-5, 5, size=(300, 8))  # integers: cast per block
    anchors = rng.standard_normal((6, 8))
    center = anchors.mean(axis=0)
    out = np.empty((300, 6))
    project_into(x, (anchors - center).T, out, cosine=False, dtype=np.dtype(np.float64),
                 center=center, check_rows=lambda *a: None, max_rows=32, threads=2)  # fmt: skip
    expected = (x - center) @ (anchors - center).T / np.sqrt(8)
    np.testing.assert_allclose(out, expected, rtol=1e-12, atol=1e-12)


def test_memmap_in_and_out(tmp_path):
    x, anchors = _data(n=3000)
    np.save(tmp_path / "x.npy", x)
    x_mm = np.load(tmp_path / "x.npy", mmap_mode="r")
    out = np.lib.format.open_memmap(
        tmp_path / "rel.npy", mode="w+", dtype=np.float32, shape=(3000, len(anchors))
    )
    result = relreps.relative_projection(x_mm[100:], anchors, out=out[100:], chunk_size=128)
    out.flush()
    np.testing.assert_allclose(np.load(tmp_path / "rel.npy")[100:], _reference(x[100:], anchors),
                               atol=2e-6)  # fmt: skip
    assert isinstance(result, np.memmap)


def test_torch_cpu_uses_the_kernel_and_matches(monkeypatch):
    torch = pytest.importorskip("torch")
    import relreps.projection as projection

    calls = []
    kernel = projection.project_into
    monkeypatch.setattr(
        projection, "project_into", lambda *a, **kw: calls.append(1) or kernel(*a, **kw)
    )
    x, anchors = _data(n=4100)
    got = relreps.relative_projection(torch.from_numpy(x), torch.from_numpy(anchors))
    assert calls, "CPU torch without grad should run the fused kernel"
    assert isinstance(got, torch.Tensor) and got.dtype == torch.float32
    np.testing.assert_allclose(got.numpy(), _reference(x, anchors), atol=2e-6)
    # with autograd the kernel is skipped (no writes into a buffer), same values
    xg = torch.from_numpy(x).requires_grad_(True)
    calls.clear()
    with_grad = relreps.relative_projection(xg, torch.from_numpy(anchors))
    assert not calls and with_grad.requires_grad
    np.testing.assert_allclose(with_grad.detach().numpy(), got.numpy(), atol=1e-6)


def test_nonfinite_row_in_a_late_block_is_named():
    x, anchors = _data(n=2000)
    x[1501, 3] = np.nan
    with pytest.raises(ValueError, match="row 1501 holds NaN"):
        relreps.relative_projection(x, anchors, chunk_size=100)


def test_overflowing_norm_is_named():
    x, anchors = _data(n=300)
    x[250] = 1e30  # finite, but its squared norm overflows float32
    with pytest.raises(ValueError, match="row 250 is so large"):
        relreps.relative_projection(x, anchors, chunk_size=64)


def test_read_only_out_falls_back_to_an_error_free_path():
    x, anchors = _data(n=50)
    out = np.empty((50, len(anchors)), dtype=np.float32)
    out.flags.writeable = False
    with pytest.raises(ValueError, match="read-only"):
        relreps.relative_projection(x, anchors, out=out)


def test_block_rows_and_threads(monkeypatch):
    assert block_rows(512, 512, 4) == 2048
    assert block_rows(10**6, 10**6, 8) == 16  # never below 16 rows
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    assert worker_threads() == 1


def test_write_behind_advises_the_rows_file_range(tmp_path, monkeypatch):
    import os

    from relreps._cosine_blocks import _write_behind

    out = np.lib.format.open_memmap(tmp_path / "r.npy", mode="w+", dtype=np.float32, shape=(50, 4))
    calls = []
    monkeypatch.setattr(
        os, "posix_fadvise", lambda fd, offset, length, advice: calls.append((offset, length))
    )
    flush, close = _write_behind(out[10:])
    flush(2, 5)  # rows 12..14 of the file's array
    close()
    assert calls == [(out.offset + 12 * 16, 3 * 16)]
    flush, close = _write_behind(np.empty((3, 4)))  # not a memmap: nothing to advise
    flush(0, 3)
    close()
    assert len(calls) == 1
