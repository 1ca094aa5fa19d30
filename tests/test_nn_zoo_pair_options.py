"""relreps.nn.zoo.fit_classifier_pair options: head hidden width and folder=None (no save)."""

from __future__ import annotations

from functools import partial

import pytest

torch = pytest.importorskip("torch")

from relreps.nn import TrainConfig  # noqa: E402
from relreps.nn.zoo import fit_classifier_pair, image_encoder  # noqa: E402

CONFIG = TrainConfig(epochs=1, batch_size=16, seed=0, progress=False)


def _data() -> tuple[torch.Tensor, torch.Tensor]:
    x = torch.rand(40, 5, generator=torch.Generator().manual_seed(1))
    return x, (x[:, 0] > 0.5).long()


def test_hidden_sets_both_heads_and_folder_none_saves_nothing(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    x, y = _data()
    build = partial(image_encoder, "mlp", (5,), 3, seed=2)
    pair = fit_classifier_pair(build, x, y, x[:4], None, hidden=(7, 5), config=CONFIG)
    for model, history in pair.values():
        assert model.config()["hidden"] == [7, 5]
        assert history is not None and history.epochs_run == 1  # trained, never reloaded
        assert not model.training
    assert list(tmp_path.iterdir()) == []  # nothing saved


def test_folder_none_matches_saved_training_and_default_head(tmp_path):
    x, y = _data()
    build = partial(image_encoder, "mlp", (5,), 3, seed=2)
    unsaved = fit_classifier_pair(build, x, y, x[:4], None, config=CONFIG)
    saved = fit_classifier_pair(build, x, y, x[:4], tmp_path / "m", config=CONFIG)
    for kind in ("absolute", "relative"):
        (a, _), (b, _) = unsaved[kind], saved[kind]
        assert a.config()["hidden"] == [128]  # the classifiers' default
        with torch.no_grad():
            assert torch.equal(a(x), b(x))


def test_hidden_validated():
    x, y = _data()
    build = partial(image_encoder, "mlp", (5,), 3, seed=2)
    with pytest.raises(ValueError, match=r"hidden\[1\]"):
        fit_classifier_pair(build, x, y, x[:4], None, hidden=(4, 0), config=CONFIG)
