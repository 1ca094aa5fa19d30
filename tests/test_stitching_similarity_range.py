"""relreps.stitching.relative_scores.similarity_range: the spread of a relative model's cosines."""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")

from relreps.nn import AbsoluteClassifier, MLPEncoder, RelativeClassifier  # noqa: E402
from relreps.stitching.relative_scores import (  # noqa: E402
    relative_similarities,
    similarity_range,
)


def _x(n: int = 30) -> torch.Tensor:
    return torch.rand(n, 6, generator=torch.Generator().manual_seed(3))


def test_matches_the_similarities_and_is_unrounded():
    x = _x()
    model = RelativeClassifier(MLPEncoder((6,), 5, seed=1), x[:7], 3, quantize=0.5).eval()
    span = similarity_range(model, x)
    rel = relative_similarities(model, x)  # unrounded by default
    assert span["min"] == pytest.approx(float(rel.min()))
    assert span["max"] == pytest.approx(float(rel.max()))
    assert span["row_std"] == pytest.approx(float(rel.std(dim=1).mean()))
    assert -1.0 - 1e-5 <= span["min"] < span["max"] <= 1.0 + 1e-5
    rounded = relative_similarities(model, x, quantize="own")
    assert torch.unique(rounded).numel() < torch.unique(rel).numel()  # the range is pre-rounding


def test_rejects_an_absolute_model():
    x = _x()
    model = AbsoluteClassifier(MLPEncoder((6,), 5), 3)
    with pytest.raises(TypeError, match="relative model"):
        similarity_range(model, x)
