"""relreps.stitching.pairs (own vs stitched summaries, PSNR, reconstruction grids) and
relreps.stitching.relative_scores.quantization_levels."""

from __future__ import annotations

import math

import numpy as np
import pytest

from relreps.stitching.pairs import own_and_stitched, psnr, reconstruction_summary
from relreps.stitching.relative_scores import quantization_levels
from relreps.stitching.result import StitchingResult


def _grid(scores: dict, scoring: str = "mse") -> StitchingResult:
    names = tuple(f"m{i}" for i in range(len(next(iter(scores.values())))))
    arrays = {m: np.asarray(v, dtype=float)[:, :, None] for m, v in scores.items()}
    return StitchingResult(names, (0,), scoring, scoring != "f1", arrays, (), {}, 0, 0.0)


def test_own_and_stitched_splits_the_diagonal_and_skips_nan():
    matrix = np.array([[90.0, 70.0, np.nan], [80.0, 92.0, 60.0], [50.0, 40.0, 94.0]])
    split = own_and_stitched(matrix)
    assert split["own"] == pytest.approx(92.0) and split["own_std"] == pytest.approx(
        np.std([90, 92, 94])
    )
    assert split["stitched"] == pytest.approx(60.0)  # (70 + 80 + 60 + 50 + 40) / 5
    assert split["stitched_std"] == pytest.approx(np.std([70, 80, 60, 50, 40]))
    one = own_and_stitched([[0.5]])
    assert one["own"] == 0.5 and math.isnan(one["stitched"]) and math.isnan(one["stitched_std"])


@pytest.mark.parametrize("bad", [np.zeros((2, 3)), np.zeros(3), np.zeros((0, 0))])
def test_own_and_stitched_rejects_non_square_input(bad):
    with pytest.raises(ValueError, match="square"):
        own_and_stitched(bad)


def test_psnr_values_and_peak():
    assert psnr(0.01) == pytest.approx(20.0) and psnr(1.0) == 0.0
    assert math.isinf(psnr(0.0))
    assert psnr(255.0**2 / 100.0, peak=255.0) == pytest.approx(20.0)
    assert psnr(0.04) < psnr(0.01)  # more error, less signal
    with pytest.raises(ValueError, match="peak"):
        psnr(0.1, peak=0.0)


def test_reconstruction_summary_units_cells_and_ratio():
    grid = _grid(
        {
            "relative": [[0.010, 0.012], [0.014, 0.010]],
            "absolute": [[0.008, 0.100], [np.nan, 0.012]],
        }
    )
    summary = reconstruction_summary(grid)
    rel, abs_ = summary["relative"], summary["absolute"]
    assert rel["not_stitched"]["mse_x1e3"] == pytest.approx(10.0)
    assert rel["not_stitched"]["mse_x1e3_std"] == pytest.approx(0.0)
    assert rel["stitched"]["mse_x1e3"] == pytest.approx(13.0)
    assert rel["stitched"]["cells"] == 2 and rel["ratio"] == pytest.approx(1.3)
    assert rel["not_stitched"]["psnr"] == pytest.approx(20.0)
    expected = np.mean([psnr(0.012), psnr(0.014)])
    assert rel["stitched"]["psnr"] == pytest.approx(expected)
    # the undefined cell is left out of the stitched part
    assert abs_["stitched"]["cells"] == 1 and abs_["stitched"]["mse_x1e3"] == pytest.approx(100.0)
    assert abs_["ratio"] == pytest.approx(10.0)


def test_reconstruction_summary_checks_its_input():
    with pytest.raises(TypeError, match="StitchingResult"):
        reconstruction_summary({"relative": np.zeros((2, 2))})
    with pytest.raises(ValueError, match="mse"):
        reconstruction_summary(_grid({"relative": [[90.0, 80.0], [70.0, 88.0]]}, scoring="f1"))


def test_quantization_levels_agree_with_torch_rounding():
    torch = pytest.importorskip("torch")
    grid = torch.linspace(-1.0, 1.0, 20001, dtype=torch.float64)
    for b in (0.1, 0.2, 0.25, 0.3, 0.4, 0.5, 0.7, 1.0, 2.0):
        assert torch.unique(torch.round(grid / b)).numel() == quantization_levels(b), b
    assert [quantization_levels(b) for b in (0.1, 0.2, 0.3, 0.4, 0.5)] == [21, 11, 7, 5, 5]
    for bad in (0.0, -0.1, 2.5):
        with pytest.raises(ValueError, match="bin_size"):
            quantization_levels(bad)
