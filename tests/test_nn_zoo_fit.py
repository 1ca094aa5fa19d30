"""relreps.nn.zoo.fit_encoder and fit_classifier_pair: zoo members trained, saved, reloaded."""

from __future__ import annotations

from functools import partial

import pytest

torch = pytest.importorskip("torch")

from relreps.nn import AbsoluteClassifier, RelativeClassifier, TrainConfig, stitch  # noqa: E402
from relreps.nn.zoo import fit_classifier_pair, fit_encoder, image_encoder  # noqa: E402

CONFIG = TrainConfig(epochs=2, batch_size=16, seed=0, progress=False)


def _data(n: int = 48) -> tuple[torch.Tensor, torch.Tensor]:
    x = torch.rand(n, 1, 6, 6, generator=torch.Generator().manual_seed(0))
    return x, (x.mean(dim=(1, 2, 3)) > x.mean()).long() + 2 * (x[:, 0, 0, 0] > 0.5).long()


def test_fit_encoder_classification_freezes_and_reloads(tmp_path):
    x, y = _data()
    build = partial(image_encoder, "cnn", (1, 6, 6), 5, seed=3)
    encoder, history = fit_encoder(build, x, y, tmp_path / "e", head_seed=7, config=CONFIG)
    assert history is not None and history.epochs_run == 2
    assert not encoder.training and not any(p.requires_grad for p in encoder.parameters())
    assert encoder(x).shape == (48, 5)
    again, none = fit_encoder(build, x, y, tmp_path / "e", head_seed=7, config=CONFIG)
    assert none is None  # reloaded, not retrained
    with torch.no_grad():
        assert torch.equal(encoder(x), again(x))
        assert not torch.equal(encoder(x), build()(x))  # trained: moved from its initialisation


def test_fit_encoder_head_seed_changes_the_trained_encoder(tmp_path):
    x, y = _data()
    build = partial(image_encoder, "mlp", (1, 6, 6), 4, seed=1)
    a, _ = fit_encoder(build, x, y, tmp_path / "a", head_seed=1, config=CONFIG)
    b, _ = fit_encoder(build, x, y, tmp_path / "b", head_seed=2, config=CONFIG)
    with torch.no_grad():
        assert not torch.equal(a(x), b(x))


def test_fit_encoder_autoencoder_and_validation(tmp_path):
    x, _ = _data(32)
    build = partial(image_encoder, "mlp", (1, 6, 6), 3)
    encoder, history = fit_encoder(build, x, None, tmp_path / "ae", config=CONFIG)
    assert history is not None and encoder(x).shape == (32, 3)
    with pytest.raises(TypeError, match="encoder"):
        fit_encoder(build(), x, None, tmp_path / "m")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="head_seed"):
        fit_encoder(build, x, None, tmp_path / "m", head_seed=-1)
    with pytest.raises(ValueError, match="n_classes"):
        fit_encoder(build, x, torch.zeros(32, dtype=torch.long), tmp_path / "m", n_classes=1)


def test_fit_classifier_pair_same_init_two_folders_stitchable(tmp_path):
    x, y = _data()
    calls = []

    def build():
        encoder = image_encoder("mlp", (1, 6, 6), 4, seed=5)
        calls.append({k: v.clone() for k, v in encoder.state_dict().items()})
        return encoder

    anchors, ids = x[:6], [f"train:{i}" for i in range(6)]
    pair = fit_classifier_pair(
        build, x, y, anchors, tmp_path / "m", anchor_ids=ids, head_seed=9, config=CONFIG
    )
    (absolute, h_abs), (relative, h_rel) = pair["absolute"], pair["relative"]
    assert list(pair) == ["absolute", "relative"] and len(calls) == 2
    assert all(torch.equal(calls[0][k], calls[1][k]) for k in calls[0])  # one initialisation
    assert isinstance(absolute, AbsoluteClassifier) and isinstance(relative, RelativeClassifier)
    assert absolute.n_classes == relative.n_classes == 4  # y.max() + 1
    assert absolute.seed == relative.seed == 9
    assert list(absolute.anchor_ids) == list(relative.anchor_ids) == ids
    assert h_abs is not None and h_rel is not None
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m-absolute", "m-relative"]
    with torch.no_grad():
        assert stitch(absolute, relative)(x).shape == (48, 4)  # same anchors: stitchable
    again = fit_classifier_pair(build, x, y, anchors, tmp_path / "m", anchor_ids=ids)
    assert [h for _, h in again.values()] == [None, None] and len(calls) == 2
    with pytest.raises(TypeError, match="encoder"):
        fit_classifier_pair(build(), x, y, anchors, tmp_path / "n")  # type: ignore[arg-type]
