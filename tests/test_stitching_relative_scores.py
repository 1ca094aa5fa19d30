"""relreps.stitching.relative_scores: pairwise stitched F1 of relative models, test-time bins."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from relreps.nn import AbsoluteClassifier, MLPEncoder, RelativeClassifier, stitch  # noqa: E402
from relreps.stitching import f1_score  # noqa: E402
from relreps.stitching.relative_scores import (  # noqa: E402
    quantized_projection,
    relative_similarities,
    relative_stitch_scores,
)


def _models(quantize=0.2, anchors=None):
    g = torch.Generator().manual_seed(0)
    x = torch.rand(40, 6, generator=g)
    y = (x[:, 0] > 0.5).long().numpy()
    anchors = torch.rand(8, 6, generator=g) if anchors is None else anchors
    models = [
        RelativeClassifier(MLPEncoder((6,), 5, seed=s), anchors, 2, quantize=quantize, seed=s)
        for s in (0, 1)
    ]
    return [m.eval() for m in models], x, y


def test_scores_match_nn_stitch_and_the_setting_is_restored():
    models, x, y = _models()
    matrix = relative_stitch_scores(models, x, y)
    assert matrix.shape == (2, 2) and np.all((matrix >= 0) & (matrix <= 1))
    for i in range(2):
        for j in range(2):
            with torch.no_grad():
                pred = stitch(models[i], models[j])(x).argmax(dim=1).numpy()
            assert matrix[i, j] == pytest.approx(f1_score(y, pred))
    macro = relative_stitch_scores(models, x, y, average="macro")
    assert macro[0, 0] == pytest.approx(
        f1_score(y, models[0](x).argmax(dim=1).numpy(), average="macro")
    )
    relative_stitch_scores(models, x, y, quantize=None)
    assert all(m.projection.quantize == 0.2 for m in models)


def test_test_time_rounding_equals_a_model_trained_with_that_bin():
    unrounded, x, y = _models(quantize=None)
    rounded, _, _ = _models(quantize=0.5)  # same seeds: same weights, only the rounding differs
    got = relative_stitch_scores(unrounded, x, y, quantize=0.5)
    assert np.array_equal(got, relative_stitch_scores(rounded, x, y))
    assert all(m.projection.quantize is None for m in unrounded)


def test_similarities_are_unrounded_by_default():
    models, x, _ = _models()
    rel = relative_similarities(models[0], x)
    assert rel.shape == (40, 8) and -1.0 <= float(rel.min()) <= float(rel.max()) <= 1.0
    assert not torch.allclose(torch.remainder(rel / 0.2, 1.0), torch.zeros_like(rel), atol=1e-4)
    own = relative_similarities(models[0], x, quantize="own")
    assert torch.allclose(own, torch.round(own / 0.2) * 0.2, atol=1e-5)
    assert models[0].projection.quantize == 0.2


def test_setting_is_restored_after_an_error():
    models, _, _ = _models()
    with pytest.raises(RuntimeError), quantized_projection(models[0], 0.5) as projection:
        assert projection.quantize == 0.5
        raise RuntimeError("boom")
    assert models[0].projection.quantize == 0.2


def test_bad_inputs_name_the_argument():
    models, x, y = _models()
    with pytest.raises(ValueError, match=r"Expected `quantize` to be a finite number in \(0, 2\]"):
        relative_stitch_scores(models, x, y, quantize=0.0)
    with pytest.raises(ValueError, match="Expected `y` to be 40 labels"):
        relative_stitch_scores(models, x, y[:10])
    with pytest.raises(ValueError, match="Expected `average` to be one of"):
        relative_stitch_scores(models, x, y, average="micro")
    with pytest.raises(ValueError, match="Expected `models` to be at least one"):
        relative_stitch_scores([], x, y)
    absolute = AbsoluteClassifier(MLPEncoder((6,), 5), 2)
    with pytest.raises(TypeError, match=r"Expected `models\[1\]` to be a relreps.nn relative"):
        relative_stitch_scores([models[0], absolute], x, y)
    other = [
        RelativeClassifier(MLPEncoder((6,), 5), torch.rand(8, 6), 2, anchor_ids=list("abcdefgh"))
    ]
    with pytest.raises(ValueError, match=r"Expected `models\[1\]` to be a model with the anchors"):
        relative_stitch_scores([models[0], other[0]], x, y)
