"""The alignment experiment: registration, the per-pair evaluation, tables and verdicts."""

from __future__ import annotations

import numpy as np
import pytest

from relreps import experiments
from relreps.experiments import alignment

pytest.importorskip("ot")
pytest.importorskip("sklearn")


def test_registered_and_quick_is_smaller():
    assert "alignment" in experiments.names()
    assert experiments.get("alignment").name == "alignment"
    assert alignment.QUICK.n_words < alignment.FULL.n_words
    assert alignment.QUICK.n_glosses < alignment.FULL.n_glosses
    assert set(alignment.QUICK.ms) <= set(alignment.FULL.ms)


def _pair(noise: float, labels: bool) -> alignment.SpacePair:
    rng = np.random.default_rng(0)
    centres = rng.normal(size=(4, 16)) * 3.0
    classes = rng.integers(0, 4, size=900)
    x = centres[classes] + rng.gamma(2.0, size=(900, 16)) * np.linspace(2.0, 0.5, 16)
    q, _ = np.linalg.qr(rng.normal(size=(16, 16)))
    y = 1.5 * x @ q + noise * rng.normal(size=x.shape)
    return alignment.SpacePair("toy", x, y, classes if labels else None, True)


def test_evaluate_pair_scores_every_method_and_m():
    config = alignment.AlignmentConfig(
        ms=(0, 3, 25, alignment.ALL), n_held_out=150, sample_size=800, n_rounds=4
    )
    rows = alignment.evaluate_pair(_pair(0.05, True), config, seed=0, log=lambda _: None)
    methods = {(r["method"], r["m"]) for r in rows}
    assert ("unpaired", "0") in methods and ("procrustes", "all") in methods
    assert {("relative", "25"), ("procrustes", "25"), ("bootstrap", "25")} <= methods
    best = {r["m"]: r for r in rows if r["method"] in ("bootstrap", "unpaired", "procrustes")}
    assert best["all"]["top1"] > 0.9
    boot = next(r for r in rows if r["method"] == "bootstrap" and r["m"] == "25")
    assert boot["status"] == "ok" and boot["top1"] > 0.9 and boot["accuracy"] > 0.9
    assert {"pair", "n_items", "n_held_out", "consistency", "stability_conclusive"} <= set(boot)
    assert boot["n_held_out"] == 150 and boot["n_items"] == 900
    assert all("stability" not in r for r in rows if r["method"] in ("relative", "procrustes"))
    for row in rows:
        assert 0.0 <= row["top1"] <= row["mrr10"] + 1e-12 <= 1.0 + 1e-12
    tables = alignment._tables(rows, config)
    assert any("stitched accuracy" in t.title for t in tables)
    verdicts = alignment._verdicts(rows, [_pair(0.05, True)])
    assert {v.status for v in verdicts} <= {"reproduced", "partly", "not reproduced"}
    assert len(verdicts) == 3
    assert verdicts[-1].claim.startswith("No alignment that passed")


def test_a_failed_unpaired_alignment_scores_zero_and_says_failed():
    rng = np.random.default_rng(1)
    pair = alignment.SpacePair("random", rng.normal(size=(700, 40)), rng.normal(size=(700, 40)),
                               None, False)  # fmt: skip
    config = alignment.AlignmentConfig(ms=(0,), n_held_out=100, sample_size=600, n_rounds=3)
    (row,) = alignment.evaluate_pair(pair, config, seed=0, log=lambda _: None)
    assert row["status"] == "failed" and row["top1"] == 0.0
    table = alignment._tables([row], config)[0]
    assert table.rows[0][1] == "failed"


def test_zoo_members_are_parsed_and_bad_ones_named():
    from relreps.experiments._alignment_zoo import parse_member

    assert parse_member("mlp64/s1")[1] == 1 and parse_member("cnn64/s0")[0].kind == "cnn"
    for bad in ("mlp64", "resnet64/s0", "mlp64/x1", "mlp64/s-1"):
        with pytest.raises(ValueError, match="member"):
            parse_member(bad)
    assert alignment.QUICK.zoo is not None and alignment.FULL.zoo is not None
    assert alignment.QUICK.zoo.n_train < alignment.FULL.zoo.n_train


def test_zoo_pairs_embed_the_same_images_and_reload_the_encoders(tmp_path):
    pytest.importorskip("torch")
    from relreps.experiments._alignment_zoo import ZooConfig, zoo_pairs
    from relreps.experiments.base import RunContext

    config = ZooConfig(pairs=(("mlp64/s0", "mlp64/s1"),), n_train=300, n_test=120, epochs=1,
                       dataset="digits")  # fmt: skip
    context = RunContext(tmp_path, quick=True, log=lambda _: None)
    (pair,), facts = zoo_pairs(config, context)
    assert pair.x.shape == pair.y.shape == (120, 64) and pair.same_data
    assert pair.labels is not None and pair.labels.shape == (120,)
    assert not np.allclose(pair.x, pair.y)  # two seeds: two different encoders
    assert set(facts["encoders"]) == {"mlp64/s0", "mlp64/s1"}
    (again,), _ = zoo_pairs(config, context)  # saved in the run folder: reloaded, not retrained
    np.testing.assert_allclose(again.x, pair.x, rtol=1e-6)
    np.testing.assert_allclose(again.y, pair.y, rtol=1e-6)


def test_a_passing_wrong_map_is_counted_as_a_false_pass():
    base = {"pair": "p", "n_held_out": 10, "n_items": 50, "mrr10": 0.0, "accuracy": None}
    rows = [
        {**base, "m": "all", "method": "procrustes", "top1": 0.8, "status": "ok"},
        {**base, "m": "25", "method": "bootstrap", "top1": 0.79, "status": "ok"},
        {**base, "m": "3", "method": "bootstrap", "top1": 0.05, "status": "ok"},  # wrong, passed
        {**base, "m": "0", "method": "unpaired", "top1": 0.0, "status": "failed"},  # said so
    ]
    assert [r["m"] for r in alignment.false_passes(rows)] == ["3"]
    verdict = alignment._false_pass_verdict(rows)
    assert verdict.status == "not reproduced" and "m=3" in verdict.detail
    assert alignment._false_pass_verdict(rows[:2] + rows[3:]).status == "reproduced"
