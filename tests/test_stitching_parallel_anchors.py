"""relreps.stitching.parallel_anchors: zero-shot stitching through parallel anchors."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression

from relreps.stitching.parallel_anchors import parallel_anchor_stitching


def _task(n: int = 80, width: int = 6, seed: int = 0):
    """Words with a random source vector; the target encoder rotates and rescales them."""
    rng = np.random.default_rng(seed)
    words = [f"w{i}" for i in range(n)]
    table = {w: rng.normal(size=width) for w in words}
    rotation, _ = np.linalg.qr(rng.normal(size=(width, width)))

    def source(texts):
        return np.stack([table[t] for t in texts])

    def target(texts):
        return 3.0 * source(texts) @ rotation

    labels = (source(words)[:, 0] > 0).astype(int)
    return words, source, target, labels


def _head(d, c, s):
    return LogisticRegression(max_iter=500)


def test_relative_reads_the_rotated_space_and_absolute_does_not():
    words, source, target, y = _task()
    pairs = [(w, w) for w in words]
    out = parallel_anchor_stitching(
        source(words),
        y,
        target(words),
        y,
        pairs,
        source,
        target,
        n_anchors=30,
        seeds=(0, 1),
        head=_head,
        scoring="accuracy",
    )
    assert len(out["relative"]) == 2 and len(out["absolute"]) == 2
    assert min(out["relative"]) > 0.95  # rotation + scale: cosine to parallel anchors is kept
    assert max(out["absolute"]) < min(out["relative"])


def test_absolute_undefined_for_other_widths_and_anchor_draw_per_seed():
    words, source, _, y = _task()
    asked: list[list[str]] = []

    def wider(texts):
        asked.append(list(texts))
        return np.concatenate([source(texts), np.zeros((len(texts), 2))], axis=1)

    out = parallel_anchor_stitching(
        source(words),
        y,
        wider(words),
        y,
        [(w, w) for w in words],
        source,
        wider,
        n_anchors=500,
        seeds=(3, 4),
        head=_head,
        scoring="accuracy",
    )
    assert out["absolute"] is None and len(out["relative"]) == 2
    # all 80 pairs when fewer than n_anchors, drawn in the seed's order
    expected = np.random.default_rng(3).permutation(len(words))
    assert asked[1] == [words[i] for i in expected] and len(asked) == 3


def test_n_classes_given_and_default_head_factory_arguments():
    words, source, target, y = _task()
    seen = []

    def head(d, c, s):
        seen.append((d, c, s))
        return LogisticRegression(max_iter=500)

    parallel_anchor_stitching(
        source(words),
        y,
        target(words),
        y,
        [(w, w) for w in words],
        source,
        target,
        n_anchors=10,
        seeds=(7,),
        head=head,
        scoring="accuracy",
    )
    parallel_anchor_stitching(
        source(words),
        y,
        target(words),
        y,
        [(w, w) for w in words],
        source,
        target,
        n_anchors=10,
        seeds=(7,),
        head=head,
        n_classes=5,
        scoring="accuracy",
    )
    assert seen == [(10, 2, 7), (6, 2, 7), (10, 5, 7), (6, 5, 7)]


def test_bad_inputs():
    words, source, target, y = _task(n=10)
    x = source(words)
    pairs = [(w, w) for w in words]

    def call(**kw):
        args = {
            "x_train": x,
            "y_train": y,
            "x_test": x,
            "y_test": y,
            "pairs": pairs,
            "encode_source": source,
            "encode_target": target,
            "n_anchors": 5,
            "head": _head,
        }
        return parallel_anchor_stitching(**{**args, **kw})

    with pytest.raises(ValueError, match="pairs"):
        call(pairs=[])
    with pytest.raises(ValueError, match="n_anchors"):
        call(n_anchors=0)
    with pytest.raises(ValueError, match="seeds"):
        call(seeds=())
    with pytest.raises(ValueError, match="y_test"):
        call(y_test=y[:3])
    with pytest.raises(ValueError, match="x_train"):
        call(x_train=np.full((10, 6), np.nan))
    with pytest.raises(ValueError, match="x_test"):
        call(x_test=x[0])
