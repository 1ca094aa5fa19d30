"""RelativeHead, AbsoluteHead, procrustes_translate: invariance, stitching, persistence, errors."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import replace
from typing import Any

import numpy as np
import pytest

pytest.importorskip("torch")

from hypothesis import given, settings
from hypothesis import strategies as st

from relreps.stitching import (
    DEFAULTS,
    AbsoluteHead,
    HeadConfig,
    RelativeHead,
    procrustes_translate,
)
from relreps.translate import NotFittedError

FAST: dict[str, Any] = {"epochs": 8, "batch_size": 32, "min_steps": 0}


def _toy(seed: int = 0, n: int = 120, d: int = 6) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, d))
    labels = (x[:, 0] + 0.5 * x[:, 1] > 0).astype(np.int64) + 2 * (x[:, 2] > 0.8)
    return x, labels, x[:15]


@pytest.fixture(scope="module")
def toy_head() -> tuple[RelativeHead, np.ndarray, np.ndarray, np.ndarray]:
    x, labels, anchors = _toy()
    return RelativeHead(**FAST).fit(x, labels, anchors), x, labels, anchors


@pytest.fixture(scope="module")
def digits_spaces() -> dict[str, np.ndarray]:
    """sklearn digits embedded by two different random feature maps (ReLU 48-d, tanh 80-d)."""
    datasets = pytest.importorskip("sklearn.datasets")
    images, labels = datasets.load_digits(return_X_y=True)
    images = images / 16.0
    rng = np.random.default_rng(0)
    a = np.maximum(images @ rng.normal(size=(64, 48)), 0.0)
    b = np.tanh(0.3 * images @ rng.normal(size=(64, 80)))
    return {"a": a, "b": b, "labels": labels}


# --- defaults and options -----------------------------------------------------------------------


def test_defaults_live_in_one_config() -> None:
    head = RelativeHead()
    assert head.config == DEFAULTS
    assert (head.head, head.norm, head.similarity, head.center) == (
        "linear",
        "layernorm",
        "cosine",
        None,
    )
    assert AbsoluteHead().config.norm == DEFAULTS.norm
    changed = HeadConfig(head="mlp", hidden=16, norm="l2", center="anchors")
    assert RelativeHead.from_config(changed).config == changed
    assert "head='linear'" in repr(head)


def test_import_stays_light() -> None:
    code = "import sys, relreps.stitching; print('torch' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False"


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"head": "tree"}, r"`head` to be one of \['linear', 'mlp'\], but got 'tree'"),
        ({"norm": "rms"}, r"`norm` to be one of .*layernorm.*, but got 'rms'"),
        ({"similarity": "nope"}, r"`similarity` to be one of .*cosine.*, but got 'nope'"),
        ({"center": "mean"}, r"`center` to be one of \['anchors'\], but got 'mean'"),
        ({"epochs": 0}, r"`epochs` to be an int in \[1, inf\], but got 0"),
        ({"lr": -1.0}, r"`lr` to be a finite number in \(0.0, inf\]"),
        ({"hidden": 0}, r"`hidden` to be an int in \[1, inf\]"),
    ],
)
def test_bad_options_fail_at_fit(kwargs: dict, match: str) -> None:
    x, labels, anchors = _toy()
    head = RelativeHead(**kwargs)  # sklearn style: __init__ only stores
    with pytest.raises((ValueError, TypeError), match=match):
        head.fit(x, labels, anchors)


# --- the invariance that makes stitching work ---------------------------------------------------


@settings(max_examples=8, deadline=None)
@given(seed=st.integers(0, 2**16), scale=st.floats(0.05, 20.0))
def test_rotated_rescaled_space_gives_identical_predictions(
    toy_head, seed: int, scale: float
) -> None:
    head, x, _, anchors = toy_head
    q, _ = np.linalg.qr(np.random.default_rng(seed).normal(size=(x.shape[1], x.shape[1])))
    expected = head.predict_proba(x, anchors)
    got = head.predict_proba(scale * x @ q, scale * anchors @ q)
    np.testing.assert_allclose(got, expected, atol=1e-4)
    margin = np.sort(expected, axis=1)
    clear = margin[:, -1] - margin[:, -2] > 1e-3  # rows not on a decision boundary
    np.testing.assert_array_equal(
        head.predict(scale * x @ q, scale * anchors @ q)[clear], head.predict(x, anchors)[clear]
    )


def test_wider_encoder_with_the_same_geometry_reads_the_head(toy_head) -> None:
    head, x, _, anchors = toy_head
    # an isometric embedding into 10 dims (orthonormal columns): same angles, other width
    basis, _ = np.linalg.qr(np.random.default_rng(1).normal(size=(10, x.shape[1])))
    wide, wide_anchors = x @ basis.T, anchors @ basis.T
    np.testing.assert_array_equal(head.predict(wide, wide_anchors), head.predict(x, anchors))


def test_anchor_centred_head_ignores_translation() -> None:
    x, labels, anchors = _toy()
    head = RelativeHead(center="anchors", **FAST).fit(x, labels, anchors)
    shift = np.arange(x.shape[1], dtype=float)
    np.testing.assert_allclose(
        head.predict_proba(x + shift, anchors + shift), head.predict_proba(x, anchors), atol=1e-4
    )


# --- stitching on real-ish data -----------------------------------------------------------------


def test_stitching_two_feature_maps_of_digits(digits_spaces) -> None:
    a, b, labels = digits_spaces["a"], digits_spaces["b"], digits_spaces["labels"]
    train, test = np.arange(1400), np.arange(1400, labels.size)
    anchors = train[:100]
    head = RelativeHead(seed=0, min_steps=300).fit(a[train], labels[train], a[anchors])
    own = head.score(a[test], a[anchors], labels[test])
    stitched = head.score(b[test], b[anchors], labels[test])
    chance = np.bincount(labels[test]).max() / test.size
    assert own > 0.6
    assert stitched > 0.5 > 4 * chance  # 48-d ReLU head read through an 80-d tanh encoder
    assert stitched > 0.75 * own
    assert head.n_anchors_ == 100 and head.n_features_in_ == 48
    absolute = AbsoluteHead(seed=0, min_steps=300).fit(a[train], labels[train])
    translated = procrustes_translate(b[test], b[anchors], a[anchors])
    assert translated.shape == (test.size, 48)
    assert absolute.score(translated, labels[test]) > 0.4


def test_fitting_is_deterministic_and_seeded() -> None:
    x, labels, anchors = _toy()
    first = RelativeHead(seed=3, **FAST).fit(x, labels, anchors).predict_proba(x, anchors)
    again = RelativeHead(seed=3, **FAST).fit(x, labels, anchors).predict_proba(x, anchors)
    other = RelativeHead(seed=4, **FAST).fit(x, labels, anchors).predict_proba(x, anchors)
    np.testing.assert_array_equal(first, again)
    assert not np.array_equal(first, other)


@pytest.mark.parametrize("norm", ["l2", "batchnorm", "none"])
def test_every_norm_trains_and_batchnorm_is_batch_independent(norm: str) -> None:
    x, labels, anchors = _toy()
    head = RelativeHead(head="mlp", hidden=8, norm=norm, **FAST).fit(x, labels, anchors)
    full = head.predict_proba(x, anchors)
    np.testing.assert_allclose(head.predict_proba(x[:3], anchors), full[:3], atol=1e-6)
    np.testing.assert_allclose(full.sum(axis=1), 1.0, atol=1e-6)


def test_labels_keep_their_values_and_torch_inputs_work() -> None:
    torch = pytest.importorskip("torch")
    x, labels, anchors = _toy()
    names = np.array(["cat", "dog", "eel", "fox"])[labels]
    head = RelativeHead(**FAST).fit(torch.from_numpy(x), list(names), torch.from_numpy(anchors))
    assert head.classes_.tolist() == sorted(set(names))
    predicted = head.predict(x, anchors)
    assert predicted.dtype.kind == "U" and set(predicted) <= set(names)
    assert 0.0 <= head.score(x, anchors, names) <= 1.0


def test_float_labels_with_integral_values_are_accepted() -> None:
    x, labels, anchors = _toy()
    head = RelativeHead(**FAST).fit(x, labels.astype(float), anchors)
    assert head.classes_.dtype == np.int64


# --- persistence -------------------------------------------------------------------------------


def test_save_load_round_trip(tmp_path, toy_head) -> None:
    head, x, _, anchors = toy_head
    folder = head.save(tmp_path / "head")
    assert sorted(p.name for p in folder.iterdir()) == ["config.json", "head.safetensors"]
    meta = json.loads((folder / "config.json").read_text())
    assert meta["kind"] == "relative" and meta["n_anchors"] == 15
    assert meta["config"] == head.config.to_dict()
    loaded = RelativeHead.load(folder)
    assert loaded.config == head.config and loaded.n_anchors_ == 15
    np.testing.assert_array_equal(loaded.classes_, head.classes_)
    np.testing.assert_array_equal(loaded.predict_proba(x, anchors), head.predict_proba(x, anchors))


def test_absolute_save_load_and_string_classes(tmp_path) -> None:
    x, labels, _ = _toy()
    names = np.array(["a", "b", "c", "d"])[labels]
    head = AbsoluteHead(**FAST).fit(x, names)
    loaded = AbsoluteHead.load(head.save(tmp_path / "abs"))
    np.testing.assert_array_equal(loaded.predict(x), head.predict(x))
    with pytest.raises(
        ValueError, match=r"a saved RelativeHead .*kind 'relative'.*kind 'absolute'"
    ):
        RelativeHead.load(tmp_path / "abs")


def test_load_refuses_a_folder_without_a_head(tmp_path) -> None:
    with pytest.raises(ValueError, match=r"`folder` to be a folder written by RelativeHead.save"):
        RelativeHead.load(tmp_path)


# --- errors ------------------------------------------------------------------------------------


def test_predict_before_fit() -> None:
    x, _, anchors = _toy()
    with pytest.raises(NotFittedError, match=r"RelativeHead is not fitted yet: call fit"):
        RelativeHead().predict(x, anchors)
    with pytest.raises(NotFittedError, match=r"AbsoluteHead is not fitted yet"):
        AbsoluteHead().predict(x)
    with pytest.raises(NotFittedError, match=r"not fitted yet"):
        RelativeHead().save("unused")


def test_nan_rows_are_named() -> None:
    x, labels, anchors = _toy()
    x = x.copy()
    x[[4, 17]] = np.nan
    with pytest.raises(
        ValueError, match=r"`x` to contain only finite values, but 2 rows hold NaN or Inf: 4, 17\."
    ):
        RelativeHead(**FAST).fit(x, labels, anchors)
    bad_anchors = anchors.copy()
    bad_anchors[2, 0] = np.inf
    with pytest.raises(
        ValueError, match=r"`anchors` to contain only finite values, but 1 row hold NaN or Inf: 2\."
    ):
        RelativeHead(**FAST).fit(x[:4], labels[:4], bad_anchors)


def test_many_nan_rows_are_summarised() -> None:
    x, labels, anchors = _toy()
    x = x.copy()
    x[:30] = np.nan
    with pytest.raises(ValueError, match=r"30 rows hold NaN or Inf: 0, 1, .*, 9 and 20 more\."):
        RelativeHead().fit(x, labels, anchors)


def test_label_errors() -> None:
    x, labels, anchors = _toy()
    with pytest.raises(
        ValueError, match=r"`labels` to be 120 labels \(one per row of `x`\), but got 119"
    ):
        RelativeHead().fit(x, labels[:-1], anchors)
    with pytest.raises(ValueError, match=r"`labels` to be a 1-D array"):
        RelativeHead().fit(x, labels[:, None], anchors)
    with pytest.raises(TypeError, match=r"`labels` to be class labels .*non-integral float"):
        RelativeHead().fit(x, labels + 0.5, anchors)
    with pytest.raises(
        ValueError, match=r"`labels` to be at least 2 distinct classes, but got only \[1\]"
    ):
        RelativeHead().fit(x, np.ones(len(x), dtype=int), anchors)


def test_anchor_errors(toy_head) -> None:
    head, x, labels, anchors = toy_head
    with pytest.raises(ValueError, match=r"`anchors` to have the width of `x` \(6 features"):
        RelativeHead().fit(x, labels, anchors[:, :4])
    with pytest.raises(ValueError, match=r"`anchors` to have the width of `x` \(6 features"):
        head.predict(x, anchors[:, :5])
    with pytest.raises(
        ValueError, match=r"`anchors` to hold the 15 anchors seen in fit .*got 14 rows"
    ):
        head.predict(x, anchors[:14])
    with pytest.raises(
        ValueError, match=r"`x` to be a 2-D array of shape \(n_samples, n_features\)"
    ):
        head.predict(x[0], anchors)


def test_absolute_head_checks_the_width() -> None:
    x, labels, _ = _toy()
    head = AbsoluteHead(**FAST).fit(x, labels)
    with pytest.raises(
        ValueError, match=r"`x` to have the 6 features seen in fit .*shape \(120, 5\)"
    ):
        head.predict(x[:, :5])


def test_procrustes_translate_errors() -> None:
    x, _, anchors = _toy()
    with pytest.raises(
        ValueError, match=r"same number of rows\), but got shapes \(15, 6\) and \(14, 6\)"
    ):
        procrustes_translate(x, anchors, anchors[:14])
    with pytest.raises(ValueError, match=r"`anchors` to have the width of `x`"):
        procrustes_translate(x, anchors[:, :3], anchors)


def test_procrustes_translate_recovers_a_planted_rotation() -> None:
    rng = np.random.default_rng(5)
    a = rng.normal(size=(80, 5))
    q, _ = np.linalg.qr(rng.normal(size=(5, 5)))
    back = procrustes_translate(
        2.0 * a @ q + 1.0, 2.0 * a[:30] @ q + 1.0, a[:30], standardize="global"
    )
    np.testing.assert_allclose(back, a, atol=1e-4)


def test_grid_factory_trains_the_same_head_as_relative_head() -> None:
    """FrozenHeadFactory in stitching_grid == RelativeHead on the same rows: one head, one
    trainer, whether a user calls the API, `relreps stitch` or an experiment's grid."""
    from relreps.stitching import FrozenHeadFactory, HeadConfig, Space, stitching_grid

    x, labels, _ = _toy(seed=3, n=160)
    rng = np.random.default_rng(1)
    q, _ = np.linalg.qr(rng.normal(size=(x.shape[1], x.shape[1])))
    y = 2.0 * x @ q
    train, test, anchors = np.arange(120), np.arange(120, 160), np.arange(0, 120, 6)
    config = HeadConfig(epochs=3, min_steps=300, batch_size=32, seed=0)
    grid = stitching_grid(
        [
            Space("a", x[train], x[test], x[anchors]),
            Space("b", y[train], y[test], y[anchors]),
        ],
        labels[train],
        labels[test],
        head=FrozenHeadFactory(config),
        methods=("relative",),
        seeds=(5,),
    )
    head = RelativeHead.from_config(replace(config, seed=5)).fit(
        x[train], labels[train], x[anchors]
    )
    expected = float(np.mean(head.predict(y[test], y[anchors]) == labels[test]))
    assert grid.pair_mean("relative")[1, 0] == pytest.approx(expected)  # encoder b, head a
    assert expected > 0.6  # a trained head, not a constant one
    with pytest.raises(TypeError, match="`config` to be a HeadConfig"):
        FrozenHeadFactory({"head": "linear"})  # type: ignore[arg-type]
