"""relreps.nn.IdentityEncoder: a pass-through encoder, so models on frozen features train a head."""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")

from relreps.nn import (  # noqa: E402
    AbsoluteClassifier,
    IdentityEncoder,
    RelativeClassifier,
    TrainConfig,
    fit,
    load_model,
    save_model,
)


def test_identity_passes_features_through_and_checks_their_shape():
    enc = IdentityEncoder(3)
    x = torch.randn(4, 3)
    assert enc(x) is x and enc.latent_dim == 3 and enc.in_shape == (3,)
    assert list(enc.parameters()) == []
    with pytest.raises(ValueError, match=r"shape \(n_samples, 3\)"):
        enc(torch.randn(4, 5))
    with pytest.raises(TypeError, match=r"Expected `x` to be a torch\.Tensor"):
        enc([[0.0, 1.0, 2.0]])
    with pytest.raises(ValueError, match="Expected `dim` to be an int"):
        IdentityEncoder(0)


def test_models_on_frozen_features_train_only_their_head(tmp_path):
    g = torch.Generator().manual_seed(0)
    x = torch.randn(200, 6, generator=g)
    y = (x[:, 0] > 0).long()
    anchors = x[:20]
    for model in (
        AbsoluteClassifier(IdentityEncoder(6), 2, seed=0),
        RelativeClassifier(IdentityEncoder(6), anchors, 2, seed=0),
    ):
        before = x.clone()
        fit(model, x, y, config=TrainConfig(epochs=30, batch_size=50, lr=1e-2, seed=0))
        assert torch.equal(model.embed(x), before)  # the "encoder" did not change the features
        accuracy = float((model.predict(x) == y).float().mean())
        assert accuracy > 0.85, (type(model).__name__, accuracy)
        folder = save_model(model, tmp_path / type(model).__name__)
        with pytest.raises(TypeError, match="custom encoder"):
            load_model(folder)
        loaded = load_model(folder, encoder=IdentityEncoder(6))
        assert torch.equal(loaded.predict(x), model.predict(x))
