"""relreps.nn models, stitch, trainer and save/load."""

from __future__ import annotations

import json
import pickle

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from torch import nn  # noqa: E402

from relreps import ProjectionSpec  # noqa: E402
from relreps.nn import (  # noqa: E402
    OUTPUT_NORMS,
    AbsoluteAE,
    AbsoluteClassifier,
    AbsoluteVAE,
    AnchorMismatchError,
    CNNEncoder,
    MLPEncoder,
    RelativeAE,
    RelativeClassifier,
    RelativeVAE,
    StitchingUndefinedError,
    TrainConfig,
    anchor_keys,
    check_stitch,
    fit,
    load_model,
    save_model,
    stitch,
    train_classifier_triple,
)


@pytest.fixture(autouse=True, scope="module")
def _one_thread():
    """Tiny models run fastest on one thread, and a shared CI machine does not oversubscribe."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


IMG = (1, 8, 8)


def _images(n: int, seed: int = 0):
    return torch.rand(n, *IMG, generator=torch.Generator().manual_seed(seed))


def _all_models(output_norm: str = "layernorm"):
    anchors = _images(12, seed=1)
    ids = [f"a{i}" for i in range(12)]
    rel = {"output_norm": output_norm, "anchor_ids": ids}
    return [
        AbsoluteClassifier(MLPEncoder(IMG, 6), 3, latent_norm=output_norm, anchor_inputs=anchors),
        RelativeClassifier(CNNEncoder(IMG, 6, channels=(4,)), anchors, 3, **rel),
        AbsoluteAE(CNNEncoder(IMG, 6, channels=(4,)), hidden=(16,), latent_norm=output_norm),
        RelativeAE(MLPEncoder(IMG, 6), anchors, hidden=(16,), **rel),
        AbsoluteVAE(MLPEncoder(IMG, 6), latent_dim=4, hidden=(16,), latent_norm=output_norm),
        RelativeVAE(MLPEncoder(IMG, 6), anchors, latent_dim=4, hidden=(16,), **rel),
    ]


@pytest.mark.parametrize("model", _all_models(), ids=lambda m: type(m).__name__)
def test_forward_is_decode_of_encode(model):
    x = _images(5, seed=2)
    model.eval()
    out = model(x)
    torch.testing.assert_close(out, model.decode(model.encode(x)))
    expected_rep = model.n_anchors if model.kind == "relative" else model.latent_dim
    assert model.encode(x).shape == (5, expected_rep)
    assert out.shape == ((5, 3) if model.task == "classification" else (5, *IMG))


@pytest.mark.parametrize("norm", OUTPUT_NORMS)
def test_predictions_do_not_depend_on_the_batch(norm):
    x = _images(16, seed=3)
    for model in _all_models(norm):
        model.train()
        gen = torch.Generator().manual_seed(0)
        y = torch.arange(16) % 3
        for _ in range(2):  # updates batchnorm running statistics
            model.training_loss(x, y if model.task == "classification" else None, generator=gen)
        model.eval()
        with torch.no_grad():
            batch = model(x)
            for i in (0, 9):
                torch.testing.assert_close(model(x[i : i + 1]), batch[i : i + 1])


class _Moved(nn.Module):
    """An encoder whose outputs are rotated (random orthogonal map) and rescaled."""

    def __init__(self, encoder: nn.Module, scale: float, seed: int) -> None:
        super().__init__()
        self.encoder = encoder
        self.latent_dim = encoder.latent_dim
        g = torch.Generator().manual_seed(seed)
        q, _ = torch.linalg.qr(torch.randn(self.latent_dim, self.latent_dim, generator=g))
        self.register_buffer("q", q * scale)

    def forward(self, x):
        return self.encoder(x) @ self.q


def _blobs(n: int, seed: int):
    """Four Gaussian classes in 10-D."""
    g = torch.Generator().manual_seed(seed)
    centres = 3.0 * torch.randn(4, 10, generator=torch.Generator().manual_seed(99))
    y = torch.arange(n) % 4
    return centres[y] + torch.randn(n, 10, generator=g), y


def test_rotating_the_encoder_leaves_relative_predictions_and_breaks_absolute_ones():
    x, y = _blobs(600, seed=0)
    x_test, y_test = _blobs(400, seed=1)
    config = TrainConfig(epochs=15, batch_size=64, lr=3e-3, seed=0)
    triple = train_classifier_triple(
        MLPEncoder((10,), 16, hidden=(32,)), x, y, x[:40], n_classes=4, config=config
    )
    rel, ab = triple.relative, triple.absolute
    acc = (ab.predict(x_test) == y_test).float().mean().item()
    assert acc > 0.95
    moved = _Moved(rel.encoder, scale=7.5, seed=4)
    rel_moved = RelativeClassifier(moved, rel.anchor_inputs, 4, hidden=(128,))
    rel_moved.projection.load_state_dict(rel.projection.state_dict())
    rel_moved.head.load_state_dict(rel.head.state_dict())
    rel_moved.eval()
    torch.testing.assert_close(rel_moved(x_test), rel(x_test), rtol=1e-4, atol=1e-4)
    ab_moved = AbsoluteClassifier(moved, 4)
    ab_moved.head.load_state_dict(ab.head.state_dict())
    moved_acc = (ab_moved.predict(x_test) == y_test).float().mean().item()
    assert moved_acc < 0.6  # chance is 0.25; the rotated latents mean nothing to the head


@pytest.fixture(scope="module")
def digits_zoo():
    """Three small encoders (2 MLP widths, 1 CNN) trained on sklearn digits in seconds."""
    datasets = pytest.importorskip("sklearn.datasets")
    d = datasets.load_digits()
    x = torch.tensor(d.images / 16.0, dtype=torch.float32)[:, None]
    y = torch.tensor(d.target)
    perm = np.random.default_rng(0).permutation(len(x))
    train, test = perm[:1400], perm[1400:]
    ids = [int(i) for i in train[:64]]
    encoders = [
        MLPEncoder(IMG, 32, hidden=(128,), seed=0),
        CNNEncoder(IMG, 24, channels=(8, 16), seed=1),
        MLPEncoder(IMG, 32, hidden=(128,), seed=2),
    ]
    zoo = []
    for seed, encoder in enumerate(encoders):
        config = TrainConfig(epochs=30, batch_size=64, lr=3e-3, seed=seed, patience=4)
        zoo.append(
            train_classifier_triple(
                encoder,
                x[train],
                y[train],
                x[train[:64]],
                n_classes=10,
                anchor_ids=ids,
                config=config,
                seed=seed,
            )
        )
    return zoo, x[test], y[test]


def test_real_stitching_on_digits(digits_zoo):
    zoo, x, y = digits_zoo

    def acc(model):
        return (model.predict(x) == y).float().mean().item()

    own_rel = [acc(t.relative) for t in zoo]
    assert min(own_rel) > 0.9
    for i, enc in enumerate(zoo):
        for j, dec in enumerate(zoo):
            if i == j:
                continue
            stitched = acc(stitch(enc.relative, dec.relative))
            assert stitched > own_rel[j] - 0.08, (i, j, stitched, own_rel[j])
    # absolute stitching between the two 32-d MLPs is defined but near chance (0.1)
    assert acc(stitch(zoo[0].absolute, zoo[2].absolute)) < 0.3
    assert acc(stitch(zoo[2].absolute, zoo[0].absolute)) < 0.3
    # ... and not defined between 32-d and 24-d latents
    with pytest.raises(StitchingUndefinedError, match=r"32 dimensions.*reads 24"):
        stitch(zoo[0].absolute, zoo[1].absolute)


def test_self_stitch_equals_the_model():
    for model in _all_models():
        model.eval()
        x = _images(4, seed=5)
        torch.testing.assert_close(stitch(model, model)(x), model(x))
        assert stitch(model, model).predict(x).shape[0] == 4


def test_stitch_checks_anchor_identities():
    anchors = _images(4)
    a = RelativeClassifier(MLPEncoder(IMG, 5), anchors, 3, anchor_ids=["w", "x", "y", "z"])
    b = RelativeClassifier(MLPEncoder(IMG, 7), anchors, 3, anchor_ids=["w", "x", "q", "z"])
    c = RelativeClassifier(MLPEncoder(IMG, 7), anchors, 3, anchor_ids=["x", "w", "y", "z"])
    with pytest.raises(AnchorMismatchError, match=r"anchor 2 is 'y'.*'q'"):
        stitch(a, b)
    with pytest.raises(AnchorMismatchError, match="different order"):
        stitch(a, c)
    d = RelativeClassifier(MLPEncoder(IMG, 7), _images(5), 3)
    with pytest.raises(StitchingUndefinedError, match=r"4 anchors.*expects 5"):
        stitch(a, d)
    no_anchors = AbsoluteClassifier(MLPEncoder(IMG, 5), 3)
    assert not check_stitch(no_anchors, a).defined
    with pytest.raises(StitchingUndefinedError, match="stores no anchor inputs"):
        stitch(no_anchors, a)
    with pytest.raises(TypeError, match="`decoder_model`"):
        stitch(a, nn.Linear(2, 2))


def test_relative_head_reads_an_absolute_models_encoder_with_anchors():
    anchors = _images(6)
    ab = AbsoluteClassifier(MLPEncoder(IMG, 9), 3, anchor_inputs=anchors).eval()
    rel = RelativeClassifier(MLPEncoder(IMG, 5), anchors, 3).eval()
    assert stitch(ab, rel)(_images(2)).shape == (2, 3)


@pytest.mark.parametrize("model", _all_models("batchnorm"), ids=lambda m: type(m).__name__)
def test_save_and_load_round_trip(model, tmp_path):
    x = _images(6, seed=7)
    model.train()
    model.training_loss(x, torch.arange(6) % 3 if model.task == "classification" else None)
    model.eval()
    save_model(model, tmp_path / "m")
    config = json.loads((tmp_path / "m" / "config.json").read_text())
    assert config["class"] == type(model).__name__
    assert config["anchor_ids"] == model.anchor_ids
    loaded = load_model(tmp_path / "m")
    assert type(loaded) is type(model) and not loaded.training
    torch.testing.assert_close(loaded(x), model(x))
    state = loaded.state_dict()
    for key, value in model.state_dict().items():
        torch.testing.assert_close(state[key], value)
    assert not list((tmp_path / "m").glob("*.tmp"))


def test_models_pickle(tmp_path):
    model = _all_models()[1].eval()
    clone = pickle.loads(pickle.dumps(model))
    x = _images(3)
    torch.testing.assert_close(clone(x), model(x))


def test_load_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"config.json is missing"):
        load_model(tmp_path)

    class Custom(nn.Module):
        latent_dim = 3
        in_shape = IMG

        def forward(self, x):
            return x.flatten(1)[:, :3]

    save_model(AbsoluteClassifier(Custom(), 2), tmp_path / "c")
    with pytest.raises(TypeError, match="custom encoder 'Custom'"):
        load_model(tmp_path / "c")
    assert load_model(tmp_path / "c", encoder=Custom()).n_classes == 2
    (tmp_path / "c" / "config.json").write_text(json.dumps({"format": "other"}))
    with pytest.raises(ValueError, match=r"config.json"):
        load_model(tmp_path / "c")
    with pytest.raises(TypeError, match="`model`"):
        save_model(nn.Linear(2, 2), tmp_path / "d")


def test_load_rejects_weights_that_do_not_match(tmp_path):
    save_model(AbsoluteClassifier(MLPEncoder(IMG, 4), 3), tmp_path / "a")
    save_model(AbsoluteClassifier(MLPEncoder(IMG, 5), 3), tmp_path / "b")
    (tmp_path / "a" / "model.safetensors").write_bytes(
        (tmp_path / "b" / "model.safetensors").read_bytes()
    )
    with pytest.raises(ValueError, match="do not match"):
        load_model(tmp_path / "a")


def _saved_in_the_previous_format(tmp_path, *, eps=1e-5):
    """A relative model saved, then its config.json rewritten by hand as the previous version
    wrote it: the projection options flat in "init" and an ``eps``, no ``spec``."""
    spec = ProjectionSpec(similarity=["cosine", "euclidean"], aggregate="sum", topk=4, power=2.0)
    model = RelativeClassifier(
        MLPEncoder(IMG, 6), _images(5, seed=1), 3, spec=spec, quantize=0.1, seed=3
    ).eval()
    save_model(model, tmp_path / "m")
    path = tmp_path / "m" / "config.json"
    config = json.loads(path.read_text())
    config["init"] = {
        "n_classes": 3,
        "hidden": [128],
        "seed": 3,
        "similarity": ["cosine", "euclidean"],
        "center": None,
        "aggregate": "sum",
        "topk": 4,
        "power": 2.0,
        "output_norm": "layernorm",
        "quantize": 0.1,
        "anchor_grad": False,
        "eps": eps,
    }
    path.write_text(json.dumps(config))
    return model, spec


def test_load_reads_the_previous_flat_projection_keys(tmp_path):
    model, spec = _saved_in_the_previous_format(tmp_path)
    loaded = load_model(tmp_path / "m")
    assert loaded.projection.spec == spec and loaded.projection.quantize == 0.1
    assert loaded.config() == model.config() and loaded.config()["spec"] == spec.to_dict()
    x = _images(4, seed=2)
    torch.testing.assert_close(loaded(x), model(x), rtol=0, atol=0)


def test_load_rejects_a_previous_file_with_another_eps(tmp_path):
    _saved_in_the_previous_format(tmp_path, eps=1e-3)
    with pytest.raises(ValueError, match=r"`eps` to be 1e-05 .* but got 0\.001"):
        load_model(tmp_path / "m")


@pytest.mark.parametrize(
    "keyword",
    [
        {"similarity": "cosine"},
        {"center": "anchors"},
        {"aggregate": "sum"},
        {"topk": 2},
        {"power": 2.0},
        {"eps": 1e-5},
    ],
    ids=lambda kw: next(iter(kw)),
)
def test_models_take_projection_options_only_in_the_spec(keyword):
    anchors = _images(4)
    builders = [
        lambda: RelativeClassifier(MLPEncoder(IMG, 4), anchors, 3, **keyword),
        lambda: RelativeAE(MLPEncoder(IMG, 4), anchors, **keyword),
        lambda: RelativeVAE(MLPEncoder(IMG, 4), anchors, latent_dim=2, **keyword),
    ]
    for build in builders:
        with pytest.raises(TypeError, match=f"unexpected keyword argument '{next(iter(keyword))}'"):
            build()


def test_training_is_deterministic_and_stops_early():
    g = torch.Generator().manual_seed(2)
    x, y = torch.randn(200, 10, generator=g), torch.randint(0, 4, (200,), generator=g)  # no signal

    def run():
        model = AbsoluteClassifier(MLPEncoder((10,), 8, seed=3), 4, seed=3)
        history = fit(
            model, x, y, config=TrainConfig(epochs=60, batch_size=32, lr=1e-2, patience=2)
        )
        return model, history

    m1, h1 = run()
    m2, h2 = run()
    assert h1.train_loss == h2.train_loss
    for (k, v1), v2 in zip(m1.state_dict().items(), m2.state_dict().values(), strict=True):
        assert torch.equal(v1, v2), k
    assert h1.stopped_early and h1.epochs_run < 60
    assert h1.best_epoch == int(np.argmin(h1.val_loss))
    assert not m1.training


def test_vae_loss_sampling_follows_the_generator():
    vae = RelativeVAE(MLPEncoder(IMG, 8), _images(5), latent_dim=3, hidden=(8,))
    x = _images(4, seed=9)
    a = vae.training_loss(x, generator=torch.Generator().manual_seed(1))
    b = vae.training_loss(x, generator=torch.Generator().manual_seed(1))
    c = vae.training_loss(x, generator=torch.Generator().manual_seed(2))
    assert torch.equal(a, b) and not torch.equal(a, c)
    history = fit(vae, _images(40), config=TrainConfig(epochs=2, batch_size=8))
    assert len(history.val_loss) == 2


def test_trainer_errors():
    model = AbsoluteClassifier(MLPEncoder((4,), 3), 2)
    with pytest.raises(ValueError, match="`epochs`"):
        TrainConfig(epochs=0)
    with pytest.raises(ValueError, match="`val_fraction`"):
        TrainConfig(val_fraction=0.95)
    with pytest.raises(TypeError, match="`progress`"):
        TrainConfig(progress="yes")
    with pytest.raises(TypeError, match="`x`"):
        fit(model, [[1.0, 2.0, 3.0, 4.0]], [0])
    with pytest.raises(ValueError, match="`y`"):
        fit(model, torch.zeros(4, 4), torch.zeros(3, dtype=torch.long))
    with pytest.raises(ValueError, match="finite"):
        fit(model, torch.full((4, 4), float("nan")), torch.zeros(4, dtype=torch.long))
    with pytest.raises(TypeError, match="`config`"):
        fit(model, torch.zeros(4, 4), torch.zeros(4, dtype=torch.long), config={"epochs": 1})
    with pytest.raises(TypeError, match="training_loss"):
        fit(nn.Linear(4, 2), torch.zeros(4, 4))


def test_model_errors():
    anchors = _images(3)
    with pytest.raises(TypeError, match="`encoder`"):
        AbsoluteClassifier("mlp", 3)
    with pytest.raises(TypeError, match="latent_dim"):
        AbsoluteClassifier(nn.Linear(2, 2), 3)
    with pytest.raises(ValueError, match="`n_classes`"):
        RelativeClassifier(MLPEncoder(IMG, 4), anchors, 1)
    with pytest.raises(TypeError, match="`anchor_inputs`"):
        RelativeClassifier(MLPEncoder(IMG, 4), None, 3)
    with pytest.raises(ValueError, match="`anchor_inputs` to be finite"):
        RelativeClassifier(MLPEncoder(IMG, 4), torch.full((3, *IMG), float("nan")), 3)
    with pytest.raises(ValueError, match="name the 3 anchor inputs"):
        RelativeClassifier(MLPEncoder(IMG, 4), anchors, 3, anchor_ids=["a", "b"])
    with pytest.raises(ValueError, match="`center`"):
        RelativeClassifier(MLPEncoder(IMG, 4), anchors, 3, spec=ProjectionSpec(center="mean"))
    with pytest.raises(TypeError, match="`spec`"):
        RelativeClassifier(MLPEncoder(IMG, 4), anchors, 3, spec={"topk": 2})
    with pytest.raises(ValueError, match="`x`"):
        MLPEncoder(IMG, 4)(torch.zeros(2, 1, 7, 7))
    with pytest.raises(ValueError, match="`in_shape`"):
        CNNEncoder((8, 8), 4)
    model = RelativeClassifier(MLPEncoder(IMG, 4), anchors, 3)
    with pytest.raises(ValueError, match="like the anchor inputs"):
        model.encode(torch.zeros(2, 64))
    with pytest.raises(TypeError, match="class labels"):
        model.training_loss(_images(2))


class _FakeParallelAnchors:
    def to_dict(self):
        return {"keys": ["cat", "dog"], "spaces": {}}


def test_anchor_keys():
    from relreps.anchors import ParallelAnchors

    assert anchor_keys(_FakeParallelAnchors()) == ["cat", "dog"]
    parallel = ParallelAnchors.from_pairs({"cat": "chat", "dog": "chien"}, domains=("en", "fr"))
    assert anchor_keys(parallel) == ["cat", "dog"]
    model = RelativeClassifier(MLPEncoder(IMG, 4), _images(2), 3, anchor_ids=parallel)
    assert model.anchor_ids == ["cat", "dog"]
    assert anchor_keys(np.array([3, 1])) == [3, 1]
    with pytest.raises(ValueError, match="distinct keys"):
        anchor_keys(["a", "a"])
    with pytest.raises(TypeError, match=r"anchor_ids\[1\]"):
        anchor_keys(["a", 1.5])
    with pytest.raises(TypeError, match="`anchor_ids`"):
        anchor_keys("abc")

    class NoKeys:
        def to_dict(self):
            return {"other": 1}

    with pytest.raises(TypeError, match="holds 'keys'"):
        anchor_keys(NoKeys())


class _Procrustes:
    """Orthogonal Procrustes with zero padding, standing in for relreps.translate.Procrustes."""

    def fit(self, x, y):
        d = max(x.shape[1], y.shape[1])
        self.dx, self.dy = x.shape[1], y.shape[1]
        xp, yp = np.zeros((len(x), d)), np.zeros((len(y), d))
        xp[:, : self.dx], yp[:, : self.dy] = x, y
        self.mx, self.my = xp.mean(0), yp.mean(0)
        u, _, vt = np.linalg.svd((xp - self.mx).T @ (yp - self.my))
        self.w = u @ vt
        return self

    def transform(self, x):
        xp = np.zeros((len(x), self.w.shape[0]))
        xp[:, : self.dx] = x
        return ((xp - self.mx) @ self.w + self.my)[:, : self.dy]


def test_model_grid_on_digits(digits_zoo, monkeypatch):
    import sys
    import types

    from relreps.stitching import stitching_grid_models

    module = types.ModuleType("relreps.translate")
    module.Procrustes = _Procrustes
    monkeypatch.setitem(sys.modules, "relreps.translate", module)
    zoo, x, y = digits_zoo
    models = {f"m{i}": t for i, t in enumerate(zoo)}
    result = stitching_grid_models(models, x, y)
    rel, ab = result.pair_mean("relative"), result.pair_mean("absolute")
    assert rel.min() > 0.85
    assert np.isnan(ab[0, 1]) and ab[0, 2] < 0.3
    assert result.pair_mean("translation").min() > 0.5  # a linear map fitted on 64 anchors
    rows = {r.label: r.mean for r in result.summary()}
    assert rows["relative, stitched"] > rows["absolute, stitched"] + 0.5
    with pytest.raises(TypeError, match=r"models\['m0'\]"):
        stitching_grid_models({"m0": (zoo[0].relative, zoo[0].absolute)}, x, y)
    with pytest.raises(TypeError, match=r"models\['m0'\]"):
        stitching_grid_models({"m0": zoo[0].relative}, x, y)
    with pytest.raises(ValueError, match="`y_test`"):
        stitching_grid_models(models, x, y[:-1])


def test_autoencoder_stitching_on_digits():
    """Relative AEs stitch with a small MSE increase; absolute ones are several times worse."""
    from relreps.stitching import stitching_grid_models

    datasets = pytest.importorskip("sklearn.datasets")
    images = torch.tensor(datasets.load_digits().images / 16.0, dtype=torch.float32)[:, None]
    perm = np.random.default_rng(0).permutation(len(images))
    train, test = images[perm[:1000]], images[perm[1400:]]
    anchors = train[:48]
    models = {}
    for seed in (0, 1):
        config = TrainConfig(epochs=12, batch_size=64, lr=3e-3, seed=seed)
        ab = AbsoluteAE(
            MLPEncoder(IMG, 16, hidden=(48,), seed=seed),
            hidden=(48,),
            anchor_inputs=anchors,
            seed=seed,
        )
        rel = RelativeAE(
            MLPEncoder(IMG, 16, hidden=(48,), seed=seed), anchors, hidden=(48,), seed=seed
        )
        fit(ab, train, config=config)
        fit(rel, train, config=config)
        models[f"s{seed}"] = (ab, rel)
    result = stitching_grid_models(
        models, test, test, scoring="mse", methods=["absolute", "relative"]
    )
    rows = {r.label: r.mean for r in result.summary()}
    assert rows["relative, stitched"] < 2.5 * rows["relative, not stitched"]
    assert rows["absolute, stitched"] > 3.0 * rows["relative, stitched"]


def test_progress_bar_only_when_asked_or_on_a_terminal(capsys):
    x, y = _blobs(64, seed=0)
    fit(AbsoluteClassifier(MLPEncoder((10,), 4), 4), x, y, config=TrainConfig(epochs=1))
    assert capsys.readouterr().err == ""  # stderr is not a terminal under pytest
    pytest.importorskip("tqdm")
    fit(
        AbsoluteClassifier(MLPEncoder((10,), 4), 4),
        x,
        y,
        config=TrainConfig(epochs=1, progress=True),
    )
    assert "AbsoluteClassifier" in capsys.readouterr().err


def test_residual_cnn_encoder_round_trip(tmp_path):
    from relreps.nn import AbsoluteClassifier, ResidualCNNEncoder, load_model, save_model

    encoder = ResidualCNNEncoder((1, 12, 12), 8, seed=3)
    x = torch.rand(5, 1, 12, 12, generator=torch.Generator().manual_seed(0))
    model = AbsoluteClassifier(encoder, 3, seed=3).eval()
    save_model(model, tmp_path / "m")
    loaded = load_model(tmp_path / "m")
    torch.testing.assert_close(loaded(x), model(x))
    alone = torch.cat([model(x[i : i + 1]) for i in range(5)])
    torch.testing.assert_close(alone, model(x), rtol=1e-5, atol=1e-6)  # batch independent
    with pytest.raises(ValueError, match=r"`in_shape` to be \(channels, height, width\)"):
        ResidualCNNEncoder((144,), 8)


def test_residual_cnn_groupnorm_before_pooling(tmp_path):
    """GroupNorm is per sample: saved, reloaded, batch independent; it spreads the untrained
    embeddings' directions (plain pooling of ReLU features makes them nearly parallel)."""
    from relreps.nn import AbsoluteClassifier, ResidualCNNEncoder, load_model, save_model

    encoder = ResidualCNNEncoder((1, 12, 12), 8, norm="groupnorm", seed=3)
    assert sum(isinstance(m, torch.nn.GroupNorm) for m in encoder.modules()) == 2
    x = torch.rand(40, 1, 12, 12, generator=torch.Generator().manual_seed(0))
    model = AbsoluteClassifier(encoder, 3, seed=3).eval()
    save_model(model, tmp_path / "m")
    loaded = load_model(tmp_path / "m")
    assert loaded.encoder.norm == "groupnorm"
    torch.testing.assert_close(loaded(x), model(x))
    alone = torch.cat([model(x[i : i + 1]) for i in range(5)])
    torch.testing.assert_close(alone, model(x[:5]), rtol=1e-5, atol=1e-6)

    def spread(e: torch.nn.Module) -> float:
        with torch.no_grad():
            z = torch.nn.functional.normalize(e(x), dim=1)
        c = z @ z.T
        return float((c.sum() - c.trace()) / (40 * 39))

    assert spread(encoder) < spread(ResidualCNNEncoder((1, 12, 12), 8, seed=3))
    with pytest.raises(ValueError, match="`norm` to be one of 'none', 'groupnorm'"):
        ResidualCNNEncoder((1, 12, 12), 8, norm="batchnorm")
