"""relreps.nn.zoo.fit_autoencoder_pair: absolute/relative AE and VAE pairs, saved or not."""

from __future__ import annotations

import copy
from functools import partial

import pytest

torch = pytest.importorskip("torch")

from relreps.nn import (  # noqa: E402
    AbsoluteAE,
    AbsoluteVAE,
    RelativeAE,
    RelativeVAE,
    TrainConfig,
    fit,
    stitch,
)
from relreps.nn.zoo import fit_autoencoder_pair, image_encoder  # noqa: E402

CONFIG = TrainConfig(epochs=1, batch_size=16, seed=0, progress=False)
SHAPE = (1, 4, 4)


def _images() -> torch.Tensor:
    return torch.rand(40, *SHAPE, generator=torch.Generator().manual_seed(3))


def test_ae_pair_shares_the_encoder_init_and_decoder_options(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    x, states = _images(), []

    def encoder():
        module = image_encoder("mlp", SHAPE, 5, seed=4)
        states.append(copy.deepcopy(module.state_dict()))
        return module

    pair = fit_autoencoder_pair(
        encoder,
        x,
        x[:6],
        None,
        anchor_ids=list(range(6)),
        decoder_seed=2,
        hidden=(9, 7),
        config=CONFIG,
    )
    (absolute, abs_history), (relative, rel_history) = pair["absolute"], pair["relative"]
    assert (type(absolute), type(relative)) == (AbsoluteAE, RelativeAE)
    assert len(states) == 2 and all(torch.equal(states[0][k], states[1][k]) for k in states[0])
    for model in (absolute, relative):
        assert model.config()["hidden"] == [9, 7] and model.config()["seed"] == 2
        assert not model.training and model(x).shape == x.shape
    assert abs_history is not None and rel_history is not None and rel_history.epochs_run == 1
    assert list(tmp_path.iterdir()) == []  # folder None: nothing saved
    assert absolute.n_anchors == relative.n_anchors == 6  # the absolute one keeps them too
    assert stitch(relative, relative)(x).shape == x.shape


def test_vae_pair_matches_a_model_built_by_hand_and_reloads(tmp_path):
    x = _images()
    build = partial(image_encoder, "mlp", SHAPE, 8, seed=1)
    options = {"variational": True, "latent_dim": 3, "beta": 0.5, "decoder_seed": 5}
    pair = fit_autoencoder_pair(build, x, x[:6], tmp_path / "m", config=CONFIG, **options)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m-absolute", "m-relative"]
    by_hand = {
        "absolute": AbsoluteVAE(build(), latent_dim=3, beta=0.5, anchor_inputs=x[:6], seed=5),
        "relative": RelativeVAE(build(), x[:6], latent_dim=3, beta=0.5, seed=5),
    }
    again = fit_autoencoder_pair(build, x, x[:6], tmp_path / "m", config=CONFIG, **options)
    for kind, expected in by_hand.items():
        fit(expected, x, x, config=CONFIG)
        model = pair[kind][0]
        assert model.config()["beta"] == 0.5 and model.latent_dim == 3
        assert again[kind][1] is None  # reloaded, not retrained
        with torch.no_grad():
            assert torch.equal(model.encode(x), expected.encode(x))
            assert torch.equal(again[kind][0].encode(x), model.encode(x))


def test_inputs_are_validated():
    x = _images()
    build = partial(image_encoder, "mlp", SHAPE, 6, seed=1)
    with pytest.raises(ValueError, match="latent_dim"):
        fit_autoencoder_pair(build, x, x[:4], None, variational=True, config=CONFIG)
    with pytest.raises(ValueError, match="beta"):
        fit_autoencoder_pair(build, x, x[:4], None, variational=True, latent_dim=2, beta=-1.0)
    with pytest.raises(ValueError, match=r"hidden\[0\]"):
        fit_autoencoder_pair(build, x, x[:4], None, hidden=(0,))
    with pytest.raises(ValueError, match="decoder_seed"):
        fit_autoencoder_pair(build, x, x[:4], None, decoder_seed=-1)
    with pytest.raises(TypeError, match="not its builder"):
        fit_autoencoder_pair(build(), x, x[:4], None)
