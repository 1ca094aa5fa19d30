"""relreps.report.reconstructions.reconstruction_grid: rows, layouts, checks."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("matplotlib")

from relreps.report.reconstructions import reconstruction_grid  # noqa: E402


def test_grey_and_colour_grids_are_written_with_one_row_per_model(tmp_path):
    from relreps.nn import AbsoluteAE, MLPEncoder, RelativeAE, stitch

    x = torch.rand(4, 1, 8, 8, generator=torch.Generator().manual_seed(0))
    a = AbsoluteAE(MLPEncoder((1, 8, 8), 4, seed=0), seed=0).eval()
    b = RelativeAE(MLPEncoder((1, 8, 8), 4, seed=1), x[:3], seed=1).eval()
    c = RelativeAE(MLPEncoder((1, 8, 8), 4, seed=2), x[:3], seed=2).eval()
    models = {"AE own": a, "rel. stitched": stitch(b, c)}
    figure = reconstruction_grid(x, models, "grey.png", max_cols=3, root=tmp_path)
    assert figure.path == "grey.png" and (tmp_path / "grey.png").stat().st_size > 500
    assert figure.caption == "Rows: original, AE own, rel. stitched."
    colour = np.random.default_rng(0).random((2, 3, 6, 6)).astype(np.float32)
    figure = reconstruction_grid(colour, {"half": lambda t: t / 2}, tmp_path / "c.png", caption="c")
    assert (tmp_path / "c.png").exists() and figure.caption == "c"


def test_bad_inputs_are_rejected(tmp_path):
    x = torch.rand(2, 1, 4, 4)
    with pytest.raises(ValueError, match="images"):
        reconstruction_grid(torch.rand(2, 2, 4, 4), {"m": lambda t: t}, tmp_path / "a.png")
    with pytest.raises(ValueError, match="images"):
        reconstruction_grid(torch.rand(2, 4, 4), {"m": lambda t: t}, tmp_path / "a.png")
    with pytest.raises(TypeError, match="models"):
        reconstruction_grid(x, {}, tmp_path / "a.png")
    with pytest.raises(ValueError, match="original"):
        reconstruction_grid(x, {"original": lambda t: t}, tmp_path / "a.png")
    with pytest.raises(TypeError, match="callable"):
        reconstruction_grid(x, {"m": 3}, tmp_path / "a.png")
    with pytest.raises(ValueError, match=r"output of shape \(2, 1, 4, 4\)"):
        reconstruction_grid(x, {"m": lambda t: t[:, :, :2]}, tmp_path / "a.png")
