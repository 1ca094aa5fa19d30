"""relreps.metrics.anchored: partner retrieval through parallel anchors, per draw and averaged."""

from __future__ import annotations

import numpy as np
import pytest

from relreps.metrics.anchored import (
    anchor_draw_retrieval,
    anchored_retrieval,
    chance_summary,
    rank_summary,
)


def _rotated(n: int = 60, d: int = 6, seed: int = 0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, d))
    q, _ = np.linalg.qr(rng.normal(size=(d, d)))
    return x, 3.0 * x @ q


def test_rank_summary_and_chance():
    assert rank_summary(np.array([1, 1, 11, 4])) == {
        "top1": 0.5,
        "top10": 0.75,
        "mrr": pytest.approx((2 + 1 / 11 + 0.25) / 4),
    }
    chance = chance_summary(20)
    assert chance["top1"] == 0.05 and chance["top10"] == 0.5
    ranks = np.array([np.random.default_rng(s).permutation(20).argmin() + 1 for s in range(4000)])
    assert rank_summary(ranks)["mrr"] == pytest.approx(chance["mrr"], abs=0.01)


def test_rotation_is_recovered_by_relative_and_translation_not_absolute():
    x, y = _rotated()
    out = anchored_retrieval(x, y, np.arange(15), np.arange(15, 60), directions=("a", "b"))
    assert set(out) == {"a", "b"}
    for direction in out.values():
        assert list(direction) == ["absolute", "relative", "relative-centred", "translation"]
        assert direction["relative"]["top1"] == 1.0 and direction["translation"]["top1"] > 0.9
        assert direction["absolute"]["top1"] < 0.5


def test_draws_average_and_flag_absolute_between_widths():
    x, y = _rotated()
    wide = np.concatenate([y, np.zeros((60, 2))], axis=1)
    out = anchor_draw_retrieval(x, wide, 12, [0, 1, 2], names=("x", "w"))
    assert out["n_candidates"] == 48 and len(out["per_seed"]) == 3
    assert (
        "absolute" not in out["mean"]["forward"]
        and "x has 6 dimensions" in out["undefined"]["absolute"]
    )
    per_seed = [c["backward"]["relative"]["mrr"] for c in out["per_seed"]]
    assert out["mean"]["backward"]["relative"]["mrr"] == pytest.approx(np.mean(per_seed))
    assert out["std"]["backward"]["relative"]["mrr"] == pytest.approx(np.std(per_seed))
    assert out["chance"] == chance_summary(48)


def test_bad_inputs():
    x, y = _rotated()
    with pytest.raises(ValueError, match="held"):
        anchored_retrieval(x, y, np.arange(10), np.arange(5, 20))
    with pytest.raises(ValueError, match="anchors"):
        anchored_retrieval(x, y, np.array([0, 99]), np.arange(10, 20))
    with pytest.raises(ValueError, match="methods"):
        anchored_retrieval(x, y, np.arange(10), np.arange(10, 20), methods=["magic"])
    with pytest.raises(ValueError, match="source"):
        anchored_retrieval(x, y[:50], np.arange(10), np.arange(10, 20))
    with pytest.raises(ValueError, match="n_anchors"):
        anchor_draw_retrieval(x, y, 59, [0])
    with pytest.raises(ValueError, match="seeds"):
        anchor_draw_retrieval(x, y, 10, [])
