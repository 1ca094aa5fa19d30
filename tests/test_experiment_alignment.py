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


def test_evaluate_pair_rows_tables_and_verdicts():
    config = alignment.AlignmentConfig(
        ms=(0, 3, 25, alignment.ALL), n_held_out=150, sample_size=800, n_rounds=4
    )
    pair = _pair(0.05, True)
    scores = alignment.evaluate_pair(pair, config, seed=0, log=lambda _: None)
    rows = alignment._rows(pair, config, scores)
    assert [(r["method"], r["m"]) for r in rows][-2:] == [
        ("bootstrap", "25"),
        ("procrustes", "all"),
    ]
    boot = next(r for r in rows if r["method"] == "bootstrap" and r["m"] == "25")
    assert boot["status"] == "ok" and boot["top1"] > 0.9 and boot["accuracy"] > 0.9
    assert {"pair", "n_items", "n_held_out", "consistency", "stability_conclusive"} <= set(boot)
    assert boot["n_held_out"] == 150 and boot["n_items"] == 900 and boot["pair"] == "toy"
    assert all("stability" not in r for r in rows if r["method"] in ("relative", "procrustes"))
    tables = alignment._tables([(pair, scores)], config)
    assert [t.title.split(": ")[1] for t in tables] == [
        "held-out top-1 (150 held-out items)",
        "held-out MRR@10 (150 held-out items)",
        "stitched accuracy (150 held-out items)",
    ]
    assert tables[0].columns == ("method", "m=0", "m=3", "m=25", "m=all")
    verdicts = alignment._verdicts([(pair, scores)])
    assert len(verdicts) == 3 and verdicts[0].status == "reproduced"
    assert verdicts[0].claim.startswith("toy: bootstrapped from 25 seeds")
    assert verdicts[1].claim.startswith("toy: unpaired reaches 80%")
    ref = rows[-1]["top1"]
    wrong = [r for r in rows if r["method"] in ("bootstrap", "unpaired") and r["status"] == "ok"
             and r["top1"] < 0.2 * ref]  # fmt: skip
    assert verdicts[-1].claim.startswith("No alignment that passed")
    assert verdicts[-1].measured == len(wrong) and " of 3 " in verdicts[-1].detail


def test_a_failed_unpaired_alignment_scores_zero_and_says_failed():
    rng = np.random.default_rng(1)
    pair = alignment.SpacePair("random", rng.normal(size=(700, 40)), rng.normal(size=(700, 40)),
                               None, False)  # fmt: skip
    config = alignment.AlignmentConfig(ms=(0,), n_held_out=100, sample_size=600, n_rounds=3)
    scores = alignment.evaluate_pair(pair, config, seed=0, log=lambda _: None)
    (row,) = alignment._rows(pair, config, scores)
    assert row["status"] == "failed" and row["top1"] == 0.0 and row["m"] == "0"
    tables = alignment._tables([(pair, scores)], config)
    assert len(tables) == 2 and tables[0].rows[0][1] == "failed"  # no labels: no accuracy table
    assert alignment._verdicts([(pair, scores)])[0].claim.startswith("No alignment")


def test_zoo_members_are_parsed_and_bad_ones_named():
    from relreps.experiments.alignment import parse_member

    assert parse_member("mlp64/s1")[1] == 1 and parse_member("cnn64/s0")[0].kind == "cnn"
    for bad in ("mlp64", "resnet64/s0", "mlp64/x1", "mlp64/s-1"):
        with pytest.raises(ValueError, match="member"):
            parse_member(bad)
    assert alignment.QUICK.zoo is not None and alignment.FULL.zoo is not None
    assert alignment.QUICK.zoo.n_train < alignment.FULL.zoo.n_train


def test_zoo_pairs_embed_the_same_images_and_reload_the_encoders(tmp_path):
    pytest.importorskip("torch")
    from relreps.experiments.alignment import ZooConfig, zoo_pairs
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


def test_a_passing_wrong_map_fails_the_false_pass_claim():
    from relreps.align.evaluate import MethodScore

    def score(method: str, m: int | None, top1: float, status: str = "ok") -> MethodScore:
        return MethodScore(method, m, top1, top1, None, status, 0.0)

    pair = alignment.SpacePair("p", np.zeros((50, 2)), np.zeros((50, 2)), None, True)
    scores = [score("procrustes", None, 0.8), score("bootstrap", 25, 0.79),
              score("bootstrap", 3, 0.05), score("unpaired", 0, 0.0, "failed")]  # fmt: skip
    verdict = alignment._false_pass_verdict([(pair, scores)])
    assert verdict.status == "not reproduced" and "p bootstrap m=3 top-1 0.050" in verdict.detail
    assert verdict.detail.startswith("1 of 3 ")
    passing = alignment._false_pass_verdict([(pair, scores[:2] + scores[3:])])
    assert passing.status == "reproduced"


def test_the_unrelated_spaces_claim_is_reproduced_only_when_the_alignment_failed():
    claim = alignment.UNRELATED
    assert claim.judge(0.0).status == "reproduced"  # 0.0: the unrelated alignment failed
    assert claim.judge(1.0).status == "not reproduced"  # 1.0: it passed, a false pass
    assert claim.judge(0.0).threshold == 0.0 and claim.comparison == "<="
