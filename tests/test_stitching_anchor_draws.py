"""relreps.stitching.anchor_draws: a stitching grid with one anchor draw per seed, and variants."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression

from relreps.anchors import stratified
from relreps.projection_spec import ProjectionSpec
from relreps.stitching import Space, stitching_grid
from relreps.stitching.anchor_draws import anchor_draw_grid

CENTRED = ProjectionSpec(center="anchors")


def _logreg(in_features: int, n_outputs: int, seed: int) -> LogisticRegression:
    return LogisticRegression(random_state=seed, max_iter=500)


@pytest.fixture(scope="module")
def task():
    """Three spaces of 90 train / 45 test items in 3 classes: a, a rotated and rescaled copy
    (same width) and a wider random projection (another width, absolute undefined with it)."""
    rng = np.random.default_rng(0)
    centres = rng.normal(size=(3, 6)) * 0.7
    y = np.repeat(np.arange(3), 45)
    x = centres[y] + rng.normal(size=(len(y), 6))
    order = rng.permutation(len(y))
    x, y = x[order], y[order]
    q, _ = np.linalg.qr(rng.normal(size=(6, 6)))
    wide = x @ rng.normal(size=(6, 9)) + 0.1 * rng.normal(size=(len(y), 9))
    spaces = {"a": x, "b": 2.5 * x @ q, "c": wide}
    embeddings = {name: (v[:90], v[90:]) for name, v in spaces.items()}
    return embeddings, y[:90], y[90:]


def test_each_seed_is_the_grid_of_its_own_anchor_draw(task):
    embeddings, y_train, y_test = task
    result = anchor_draw_grid(
        embeddings,
        y_train,
        y_test,
        n_anchors=12,
        seeds=[3, 5],
        methods=["absolute", "relative", "centred", "translation"],
        variants={"centred": CENTRED},
        head=_logreg,
    )
    assert result.methods == ("absolute", "relative", "centred", "translation")
    assert result.seeds == (3, 5) and result.names == ("a", "b", "c")
    for k, seed in enumerate((3, 5)):
        idx = stratified(y_train, 12, seed=seed)
        ids = [f"train:{int(i)}" for i in idx]
        spaces = [Space(n, tr, te, tr[idx], ids) for n, (tr, te) in embeddings.items()]
        own = stitching_grid(spaces, y_train, y_test, seeds=(seed,), head=_logreg)
        centred = stitching_grid(
            spaces, y_train, y_test, seeds=(seed,), head=_logreg, methods=["relative"], spec=CENTRED
        )
        for method in ("absolute", "relative", "translation"):
            np.testing.assert_array_equal(
                result.scores[method][:, :, k], own.scores[method][:, :, 0]
            )
        np.testing.assert_array_equal(
            result.scores["centred"][:, :, k], centred.scores["relative"][:, :, 0]
        )
    # the anchor draws differ between seeds, so the scores do too
    assert not np.array_equal(
        result.scores["relative"][:, :, 0], result.scores["relative"][:, :, 1]
    )


def test_rotation_is_invisible_and_other_widths_are_undefined_once(task):
    embeddings, y_train, y_test = task
    lines: list[str] = []
    result = anchor_draw_grid(
        embeddings,
        y_train,
        y_test,
        n_anchors=12,
        seeds=[0, 1],
        methods=["relative", "absolute"],
        head=_logreg,
        log=lines.append,
    )
    assert lines == ["  seed 0: grids done", "  seed 1: grids done"]
    assert result.methods == ("relative", "absolute")
    rel = result.scores["relative"]
    np.testing.assert_allclose(rel[1, 0], rel[0, 0], atol=1e-9)  # b read by a's head
    cells = [(u.method, u.encoder, u.decoder) for u in result.undefined]
    assert cells == [
        ("absolute", "a", "c"),
        ("absolute", "b", "c"),
        ("absolute", "c", "a"),
        ("absolute", "c", "b"),
    ]
    assert np.isnan(result.scores["absolute"][2, 0]).all()
    assert result.scoring == "accuracy" and result.higher_is_better


def test_the_relative_key_sets_the_plain_relative_spec(task):
    embeddings, y_train, y_test = task
    common = {"n_anchors": 9, "seeds": [2], "head": _logreg}
    plain = anchor_draw_grid(
        embeddings,
        y_train,
        y_test,
        methods=["relative", "centred"],
        **common,
        variants={"centred": CENTRED},
    )
    moved = anchor_draw_grid(
        embeddings, y_train, y_test, methods=["relative"], variants={"relative": CENTRED}, **common
    )
    np.testing.assert_array_equal(moved.scores["relative"], plain.scores["centred"])
    assert not np.array_equal(plain.scores["relative"], plain.scores["centred"])


def test_cache_counts_and_anchors_capped_at_the_training_rows(task, tmp_path):
    embeddings, y_train, y_test = task
    small = {n: (tr[:30], te) for n, (tr, te) in embeddings.items()}

    def run():
        return anchor_draw_grid(
            small,
            y_train[:30],
            y_test,
            n_anchors=500,  # more than the 30 training rows: every row is an anchor
            seeds=[0, 1],
            methods=["relative", "centred"],
            variants={"centred": CENTRED},
            head=_logreg,
            cache_dir=tmp_path,
            cache_tag="test",
        )

    first, second = run(), run()
    assert first.n_cached == 0 and second.n_cached == 2 * 2 * 9  # methods x seeds x cells
    for method in first.methods:
        np.testing.assert_array_equal(first.scores[method], second.scores[method])
    assert second.seconds >= 0.0


def test_bad_inputs(task):
    embeddings, y_train, y_test = task

    def call(**kwargs):
        args = {"n_anchors": 5, "seeds": [0], "methods": ["relative"], "head": _logreg}
        data = kwargs.pop("embeddings", embeddings)
        return anchor_draw_grid(data, y_train, y_test, **{**args, **kwargs})

    with pytest.raises(ValueError, match="`embeddings`"):
        call(embeddings={})
    with pytest.raises(ValueError, match="a \\(train, test\\) pair"):
        call(embeddings={"a": embeddings["a"][0]})
    with pytest.raises(ValueError, match="90 rows \\(one per y_train label\\), but got 89"):
        call(embeddings={"a": (embeddings["a"][0][:89], embeddings["a"][1])})
    with pytest.raises(ValueError, match="n_anchors"):
        call(n_anchors=0)
    with pytest.raises(ValueError, match="distinct seeds"):
        call(seeds=[1, 1])
    with pytest.raises(TypeError, match="seeds"):
        call(seeds=3)
    with pytest.raises(ValueError, match="seeds\\[0\\]"):
        call(seeds=[-1])
    with pytest.raises(ValueError, match="names among"):
        call(methods=["relative", "centred"])  # not declared in variants
    with pytest.raises(TypeError, match="methods"):
        call(methods="relative")
    with pytest.raises(TypeError, match="ProjectionSpec"):
        call(methods=["centred"], variants={"centred": {"center": "anchors"}})
