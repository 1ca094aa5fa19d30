"""The stitching grid engine: metrics, the grid itself, translation, caching and bad input."""

from __future__ import annotations

import json
import math
import sys
import types

import numpy as np
import pytest

from relreps.stitching import (
    SCORERS,
    MLPHeadFactory,
    Space,
    StitchingResult,
    accuracy,
    f1_score,
    mean_absolute_error,
    mean_squared_error,
    score,
    stitching_grid,
)

sk_metrics = pytest.importorskip("sklearn.metrics")
sk_linear = pytest.importorskip("sklearn.linear_model")


# --- metrics against scikit-learn ----------------------------------------------------------------


@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize("average", ["weighted", "macro"])
def test_f1_matches_sklearn(seed, average):
    rng = np.random.default_rng(seed)
    t = rng.integers(0, 6, size=200)
    p = np.where(rng.random(200) < 0.6, t, rng.integers(0, 7, size=200))  # 6 is never true
    expected = sk_metrics.f1_score(t, p, average=average, zero_division=0)
    assert f1_score(t, p, average=average) == pytest.approx(expected, abs=1e-12)


def test_scorers_match_sklearn():
    rng = np.random.default_rng(0)
    t, p = rng.integers(0, 5, 100), rng.integers(0, 5, 100)
    assert accuracy(t, p) == pytest.approx(sk_metrics.accuracy_score(t, p))
    assert mean_absolute_error(t, p) == pytest.approx(sk_metrics.mean_absolute_error(t, p))
    a, b = rng.normal(size=(20, 3)), rng.normal(size=(20, 3))
    assert mean_squared_error(a, b) == pytest.approx(sk_metrics.mean_squared_error(a, b))
    assert score("f1_weighted", t, p) == pytest.approx(
        100 * sk_metrics.f1_score(t, p, average="weighted")
    )
    assert set(SCORERS) == {"accuracy", "f1_weighted", "f1_macro", "mse", "mae"}


def test_scoring_errors():
    with pytest.raises(ValueError, match="`scoring`"):
        score("auc", [0], [0])
    with pytest.raises(ValueError, match="`y_pred`"):
        accuracy([0, 1], [0])
    with pytest.raises(ValueError, match="`y_true`"):
        accuracy([], [])
    with pytest.raises(ValueError, match="`average`"):
        f1_score([0], [0], average="micro")


# --- synthetic spaces: the same items seen by rotated / rescaled / wider encoders ----------------


def _spaces(seed: int = 0, n_train: int = 300, n_test: int = 200, k: int = 30):
    rng = np.random.default_rng(seed)
    centres = 2.5 * rng.normal(size=(4, 8))
    y = np.arange(n_train + n_test + k) % 4
    base = centres[y] + rng.normal(size=(y.size, 8))
    ids = [f"item{i}" for i in range(k)]

    def split(z):
        return z[k : k + n_train], z[k + n_train :], z[:k]

    q, _ = np.linalg.qr(rng.normal(size=(8, 8)))
    wide, _ = np.linalg.qr(rng.normal(size=(12, 12)))
    spaces = [
        Space("base", *split(base), anchor_ids=ids),
        Space("rotated", *split(4.0 * base @ q), anchor_ids=ids),
        Space("wide", *split(base @ wide[:8]), anchor_ids=ids),  # isometric embedding into 12-D
    ]
    return spaces, y[k : k + n_train], y[k + n_train :]


def _logreg(in_features, n_outputs, seed):
    return sk_linear.LogisticRegression(max_iter=500, random_state=seed)


def test_grid_relative_stitches_and_absolute_does_not():
    spaces, y_train, y_test = _spaces()
    result = stitching_grid(
        spaces, y_train, y_test, head=_logreg, seeds=[0, 1], methods=["absolute", "relative"]
    )
    assert isinstance(result, StitchingResult)
    assert result.names == ("base", "rotated", "wide")
    assert result.scores["relative"].shape == (3, 3, 2)
    rel = result.pair_mean("relative")
    assert rel.min() > 0.9
    assert np.ptp(rel) < 0.03  # every encoder works with every relative head
    ab = result.pair_mean("absolute")
    assert np.all(np.diag(ab) > 0.9)
    assert ab[1, 0] < 0.7 and ab[0, 1] < 0.7  # rotation breaks the absolute heads
    assert np.isnan(ab[2, 0]) and np.isnan(ab[0, 2])
    reasons = {(u.encoder, u.decoder): u.reason for u in result.undefined}
    assert "8 dimensions" in reasons[("base", "wide")]
    assert "12" in reasons[("base", "wide")]
    rows = {r.label: r for r in result.summary()}
    assert rows["relative, stitched"].mean > rows["absolute, stitched"].mean + 0.2
    assert rows["absolute, stitched"].n_undefined == 8  # 4 pairs x 2 seeds
    assert rows["relative, not stitched"].n_cells == 6
    text = result.format_summary() + result.format_matrix("absolute")
    assert "relative, stitched" in text and "n/a" in text
    decoded = json.loads(result.to_json())
    assert decoded["pair_mean"]["absolute"][0][2] is None
    assert decoded["summary"][0]["method"] == "absolute"


def test_default_mlp_head_and_f1():
    spaces, y_train, y_test = _spaces(n_train=200, n_test=100)
    head = MLPHeadFactory(hidden=(16,), epochs=15)
    result = stitching_grid(
        spaces[:2], y_train, y_test, scoring="f1_weighted", head=head, methods=["relative"]
    )
    values = result.scores["relative"]
    assert values.min() > 85.0 and values.max() <= 100.0


def test_mse_and_mae_metrics():
    spaces, y_train, y_test = _spaces(n_train=200, n_test=100)
    targets = np.stack([np.sin(y_train), np.cos(y_train)], axis=1)
    targets_test = np.stack([np.sin(y_test), np.cos(y_test)], axis=1)
    result = stitching_grid(
        spaces[:2],
        targets,
        targets_test,
        scoring="mse",
        methods=["relative"],
        head=MLPHeadFactory(hidden=(16,), epochs=40, lr=1e-2, classification=False),
    )
    assert not result.higher_is_better
    assert result.pair_mean("relative").max() < 0.25 * targets_test.var(axis=0).mean()
    mae = stitching_grid(
        spaces[:2], y_train + 1, y_test + 1, scoring="mae", head=_logreg, methods=["relative"]
    )
    assert mae.pair_mean("relative").max() < 0.2  # ordinal labels 1..4, predicted back as labels


def test_callable_encoders():
    rng = np.random.default_rng(1)
    items = rng.normal(size=(60, 5))
    y = (items[:, 0] > 0).astype(int)
    q, _ = np.linalg.qr(rng.normal(size=(5, 5)))
    encoders = {"id": lambda v: v, "rot": lambda v: v @ q}
    result = stitching_grid(
        encoders,
        y[:40],
        y[40:],
        head=_logreg,
        methods=["relative"],
        items=(items[:40], items[40:], items[:10]),
    )
    assert np.ptp(result.pair_mean("relative")) == pytest.approx(0.0, abs=1e-9)
    with pytest.raises(TypeError, match="`items`"):
        stitching_grid(encoders, y[:40], y[40:], head=_logreg)


def _fake_translate(monkeypatch):
    class Procrustes:
        def fit(self, x, y):
            u, _, vt = np.linalg.svd(x.T @ y)
            self.w = u @ vt
            self.scale = np.linalg.norm(y) / np.linalg.norm(x)
            return self

        def transform(self, x):
            return self.scale * x @ self.w

    module = types.ModuleType("relreps.translate")
    module.Procrustes = Procrustes
    monkeypatch.setitem(sys.modules, "relreps.translate", module)


def test_translation_column_recovers_the_rotation(monkeypatch):
    _fake_translate(monkeypatch)
    spaces, y_train, y_test = _spaces()
    result = stitching_grid(spaces[:2], y_train, y_test, head=_logreg)
    assert result.methods == ("absolute", "relative", "translation")
    assert result.pair_mean("translation").min() > 0.9
    assert result.pair_mean("absolute")[1, 0] < 0.7


def test_translation_is_skipped_with_a_reason_when_missing(monkeypatch):
    monkeypatch.setitem(sys.modules, "relreps.translate", None)
    spaces, y_train, y_test = _spaces(n_train=100, n_test=50)
    result = stitching_grid(spaces[:2], y_train, y_test, head=_logreg)
    assert "translation" not in result.scores
    assert "relreps.translate.Procrustes is not available" in result.skipped_methods["translation"]
    with pytest.raises(ValueError, match="not available"):
        result.pair_mean("translation")


def test_cache_skips_finished_cells_and_survives_new_spaces(tmp_path):
    spaces, y_train, y_test = _spaces(n_train=150, n_test=80)
    calls = []

    def counting(in_features, n_outputs, seed):
        calls.append(in_features)
        return _logreg(in_features, n_outputs, seed)

    kwargs = {"head": counting, "methods": ["absolute", "relative"], "cache_dir": tmp_path}
    first = stitching_grid(spaces[:2], y_train, y_test, **kwargs)
    assert first.n_cached == 0 and len(calls) == 4
    second = stitching_grid(spaces[:2], y_train, y_test, **kwargs)
    assert second.n_cached == 8 and len(calls) == 4  # nothing trained again
    for m in first.scores:
        np.testing.assert_array_equal(first.scores[m], second.scores[m])
    third = stitching_grid(spaces, y_train, y_test, **kwargs)
    assert third.n_cached == 8  # the old pairs are reused, only the new ones computed
    np.testing.assert_array_equal(third.scores["relative"][:2, :2], first.scores["relative"])
    assert not list(tmp_path.glob("*.tmp"))
    # a corrupt or foreign file is recomputed, not trusted
    for path in tmp_path.glob("*.json"):
        path.write_text("{not json")
    fourth = stitching_grid(spaces[:2], y_train, y_test, **kwargs)
    assert fourth.n_cached == 0
    # a different scoring never reads the accuracy cells
    fifth = stitching_grid(spaces[:2], y_train, y_test, scoring="f1_macro", **kwargs)
    assert fifth.n_cached == 0


# --- bad input -----------------------------------------------------------------------------------


def test_bad_input_is_named():
    spaces, y_train, y_test = _spaces(n_train=50, n_test=20)
    base, rot = spaces[0], spaces[1]
    fewer = Space("fewer", rot.train, rot.test, rot.anchors[:20])
    with pytest.raises(ValueError, match="'base' has 30 anchors and 'fewer' has 20"):
        stitching_grid([base, fewer], y_train, y_test, head=_logreg)
    other_ids = Space("other", rot.train, rot.test, rot.anchors, [f"x{i}" for i in range(30)])
    with pytest.raises(ValueError, match="anchor 0 is 'item0' in 'base' and 'x0' in 'other'"):
        stitching_grid([base, other_ids], y_train, y_test, head=_logreg)
    nan_train = rot.train.copy()
    nan_train[3, 1] = np.nan
    with pytest.raises(ValueError, match=r"spaces\['bad'\].train.*row 3"):
        stitching_grid([base, Space("bad", nan_train, rot.test, rot.anchors)], y_train, y_test)
    with pytest.raises(ValueError, match=r"spaces\['empty'\].test.*at least 1 row"):
        stitching_grid([Space("empty", base.train, base.test[:0], base.anchors)], y_train, y_test)
    with pytest.raises(ValueError, match="`y_test` to be a non-empty array"):
        stitching_grid([base], y_train, y_test[:0])
    with pytest.raises(ValueError, match="`scoring`"):
        stitching_grid([base], y_train, y_test, scoring="auroc")
    with pytest.raises(ValueError, match=r"`methods\[0\]`"):
        stitching_grid([base], y_train, y_test, methods=["latent"])
    with pytest.raises(ValueError, match="one row per label in `y_train`"):
        stitching_grid([base], y_train[:-1], y_test)
    with pytest.raises(ValueError, match="integer class labels"):
        stitching_grid([base], y_train.astype(float), y_test)
    with pytest.raises(ValueError, match="distinct non-empty names"):
        stitching_grid([base, base], y_train, y_test)
    with pytest.raises(ValueError, match="features of"):
        stitching_grid([Space("x", base.train, base.test[:, :3], base.anchors)], y_train, y_test)
    with pytest.raises(TypeError, match="`seeds`"):
        stitching_grid([base], y_train, y_test, seeds=0)
    with pytest.raises(ValueError, match="at least 2 classes"):
        stitching_grid([base], np.zeros_like(y_train), y_test)
    with pytest.raises(TypeError, match="`head`"):
        stitching_grid([base], y_train, y_test, head="mlp")
    with pytest.raises(TypeError, match="`spaces`"):
        stitching_grid(base, y_train, y_test)


def test_summary_of_an_all_undefined_method_is_nan():
    result = StitchingResult(
        names=("a", "b"),
        seeds=(0,),
        scoring="accuracy",
        higher_is_better=True,
        scores={"absolute": np.array([[[0.9], [np.nan]], [[np.nan], [0.8]]])},
    )
    stitched = next(r for r in result.summary() if r.stitched)
    assert math.isnan(stitched.mean) and stitched.n_undefined == 2 and stitched.n_cells == 0
    assert result.to_dict()["summary"][1]["mean"] is None


def test_translation_with_the_real_translator():
    pytest.importorskip("relreps.translate", reason="relreps.translate not built yet")
    spaces, y_train, y_test = _spaces()
    result = stitching_grid(spaces, y_train, y_test, head=_logreg, methods=["translation"])
    assert result.pair_mean("translation").min() > 0.85  # rotated and wider spaces alike


def test_importing_the_engine_does_not_import_torch():
    import subprocess

    code = "import sys, relreps.stitching; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_torch_embeddings_are_accepted():
    torch = pytest.importorskip("torch")
    spaces, y_train, y_test = _spaces(n_train=100, n_test=40)
    as_torch = [
        Space(
            s.name, torch.from_numpy(s.train), torch.from_numpy(s.test), torch.from_numpy(s.anchors)
        )
        for s in spaces[:2]
    ]
    a = stitching_grid(
        as_torch, torch.from_numpy(y_train), y_test, head=_logreg, methods=["relative"]
    )
    b = stitching_grid(spaces[:2], y_train, y_test, head=_logreg, methods=["relative"])
    np.testing.assert_allclose(a.scores["relative"], b.scores["relative"])
