"""relreps.nn.tracking: a torch encoder's relative embeddings, the similarity-to-reference hook."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")
from torch import nn  # noqa: E402

from relreps.metrics import paired_cosine  # noqa: E402
from relreps.nn import TrainConfig, fit  # noqa: E402
from relreps.nn.tracking import SimilarityTracker, relative_embedding  # noqa: E402


def _model(seed: int = 0, d_in: int = 5) -> nn.Sequential:
    torch.manual_seed(seed)
    return nn.Sequential(nn.Sequential(nn.Linear(d_in, 6), nn.Tanh()), nn.Linear(6, 3))


def _data(n: int = 60, d_in: int = 5) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(1)
    x = torch.randn(n, d_in, generator=g)
    return x, (x[:, 0] > 0).long() + (x[:, 1] > 1).long()


def test_relative_embedding_is_float64_cosine_in_eval_mode():
    x, _ = _data()
    encoder = nn.Sequential(nn.Linear(5, 4), nn.Dropout(0.9))
    encoder.train()
    rel = relative_embedding(encoder, x[:10], x[10:17])
    assert rel.dtype == np.float64 and rel.shape == (10, 7)
    assert not encoder.training  # dropout off: the result is deterministic
    with torch.no_grad():
        z, a = encoder(x[:10]).double().numpy(), encoder(x[10:17]).double().numpy()
    expected = (z / np.linalg.norm(z, axis=1, keepdims=True)) @ (
        a / np.linalg.norm(a, axis=1, keepdims=True)
    ).T
    np.testing.assert_allclose(rel, expected, atol=1e-6)
    np.testing.assert_array_equal(rel, relative_embedding(encoder, x[:10], x[10:17]))


def test_relative_embedding_validates_its_inputs():
    x, _ = _data()
    with pytest.raises(TypeError, match="encoder"):
        relative_embedding(lambda t: t, x, x)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="inputs"):
        relative_embedding(nn.Identity(), x.numpy(), x)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="anchors"):
        relative_embedding(nn.Identity(), x, x[:0])
    with pytest.raises(ValueError, match="inputs"):
        relative_embedding(nn.Identity(), x[0], x)
    with pytest.raises(ValueError, match="anchors"):
        relative_embedding(nn.Identity(), x, torch.zeros(3, 4))


def test_tracker_logs_accuracy_and_similarity_to_a_reference():
    x, y = _data()
    probe, anchors = x[:20], x[20:28]
    reference_model = _model(seed=3)
    reference = relative_embedding(reference_model[0], probe, anchors)
    model = _model(seed=4)
    track = SimilarityTracker(model, model[0], x, y, probe, anchors, reference=reference)
    track()
    with torch.no_grad():
        accuracy = 100.0 * float((model(x).argmax(1) == y).float().mean())
    assert track.accuracy == [pytest.approx(accuracy)]
    own = relative_embedding(model[0], probe, anchors)
    assert track.similarity == [paired_cosine(own, reference)]
    assert track.similarity_centred == [paired_cosine(own, reference, center_rows=True)]
    config = TrainConfig(epochs=3, batch_size=16, lr=1e-2, progress=False, restore_best=False)
    fit(
        model,
        x,
        y,
        config=config,
        val_rows=[],
        loss_fn=lambda m, xb, yb, _: nn.functional.cross_entropy(m(xb), yb),
        on_epoch=track,
    )
    history = track.history()
    assert list(history) == ["accuracy", "similarity", "similarity_centred"]
    assert [len(v) for v in history.values()] == [4, 4, 4]
    assert history["accuracy"][-1] > history["accuracy"][0]  # the logged model is the trained one
    np.testing.assert_array_equal(track.relative, relative_embedding(model[0], probe, anchors))


def test_tracker_without_reference_keeps_the_relative_representation():
    x, y = _data()
    model = _model()
    track = SimilarityTracker(model, model[0], x, y.numpy(), x[:20], x[20:28])
    track()
    track(0, model)
    history = track.history()
    assert len(history["accuracy"]) == 2 and history["similarity"] == []
    assert history["relative"].shape == (20, 8)
    # a model compared with its own representation has similarity 1
    again = SimilarityTracker(
        model, model[0], x, y, x[:20], x[20:28], reference=history["relative"]
    )
    again()
    assert again.similarity == [pytest.approx(1.0)]
    assert "relative" not in again.history()


def test_tracker_validates_its_inputs():
    x, y = _data()
    model = _model()
    with pytest.raises(TypeError, match="encoder"):
        SimilarityTracker(model, None, x, y, x, x)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="y_val"):
        SimilarityTracker(model, model[0], x, y[:5], x, x)
    with pytest.raises(ValueError, match="probe"):
        SimilarityTracker(model, model[0], x, y, x[:0], x)
    with pytest.raises(ValueError, match="reference"):
        SimilarityTracker(model, model[0], x, y, x[:4], x[:3], reference=np.zeros((3, 4)))
