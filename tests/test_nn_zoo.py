"""relreps.nn.zoo: image encoders by name, fit_or_load (train, save, reload) and freeze."""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")

from relreps.nn import AbsoluteAE, AbsoluteClassifier, TrainConfig  # noqa: E402
from relreps.nn.zoo import IMAGE_ENCODERS, fit_or_load, freeze, image_encoder  # noqa: E402


@pytest.mark.parametrize("kind", IMAGE_ENCODERS)
def test_image_encoder_kinds_shapes_and_seeds(kind):
    x = torch.rand(3, 1, 12, 12)
    a, b = image_encoder(kind, (1, 12, 12), 8, seed=3), image_encoder(kind, (1, 12, 12), 8, seed=3)
    assert a(x).shape == (3, 8)
    assert torch.equal(a(x), b(x))  # seeded
    assert not torch.equal(a(x), image_encoder(kind, (1, 12, 12), 8, seed=4)(x))


def test_image_encoder_leaves_the_global_rng_alone_and_validates():
    torch.manual_seed(0)
    expected = torch.rand(1)
    torch.manual_seed(0)
    image_encoder("cnn", (1, 12, 12), 4, seed=9)
    assert torch.equal(torch.rand(1), expected)
    assert image_encoder("resnet-gn", (1, 12, 12), 4).config()["norm"] == "groupnorm"
    assert image_encoder("mlp", (5,), 4, hidden=(7,)).config()["hidden"] == [7]
    with pytest.raises(ValueError, match="kind"):
        image_encoder("vit", (1, 12, 12), 4)
    with pytest.raises(ValueError, match="latent_dim"):
        image_encoder("mlp", (5,), 0)


def test_fit_or_load_trains_once_then_reloads(tmp_path):
    g = torch.Generator().manual_seed(0)
    x = torch.randn(40, 6, generator=g)
    y = (x[:, 0] > 0).long()
    calls = []

    def build():
        calls.append(1)
        return AbsoluteClassifier(image_encoder("mlp", (6,), 4, seed=1), 2, seed=2)

    config = TrainConfig(epochs=2, batch_size=8, seed=0)
    model, history = fit_or_load(build, x, y, tmp_path / "m", config=config)
    assert history is not None and history.epochs_run == 2 and not model.training
    again, none = fit_or_load(build, x, y, tmp_path / "m", config=config)
    assert none is None and len(calls) == 1  # not rebuilt, not retrained
    with torch.no_grad():
        assert torch.equal(model(x), again(x))
    ae, _ = fit_or_load(
        lambda: AbsoluteAE(image_encoder("mlp", (1, 4, 4), 3)),
        torch.rand(16, 1, 4, 4),
        torch.rand(16, 1, 4, 4),
        tmp_path / "ae",
        config=TrainConfig(epochs=1, batch_size=8),
    )
    assert isinstance(ae, AbsoluteAE)
    with pytest.raises(TypeError, match="build"):
        fit_or_load(model, x, y, tmp_path / "other")  # type: ignore[arg-type]


def test_freeze_turns_gradients_and_training_off():
    encoder = image_encoder("cnn", (1, 12, 12), 4).train()
    assert freeze(encoder) is encoder
    assert not encoder.training and not any(p.requires_grad for p in encoder.parameters())
    with pytest.raises(TypeError, match="module"):
        freeze("encoder")  # type: ignore[arg-type]
