"""relreps.align.evaluate: the held-out split, partner retrieval, stitched accuracy, the method
comparison."""

from __future__ import annotations

import numpy as np
import pytest

from relreps.align.evaluate import (
    MethodScore,
    compare_methods,
    false_passes,
    held_out_split,
    partner_retrieval,
    score_table,
    stitched_accuracy,
)


def test_held_out_split_partitions_the_items_and_shuffles_y():
    split = held_out_split(50, 10, seed=3)
    assert split.held.size == 10 and split.pool.size == 40
    assert sorted(np.concatenate([split.held, split.pool]).tolist()) == list(range(50))
    assert sorted(split.y_order.tolist()) == list(range(50))
    assert not np.array_equal(split.y_order, np.arange(50))
    y = np.arange(50)[split.y_order]  # Y's rows shuffled: row where[i] holds item i
    np.testing.assert_array_equal(y[split.where], np.arange(50))
    pairs = split.pairs(5)
    np.testing.assert_array_equal(pairs[:, 0], split.pool[:5])
    np.testing.assert_array_equal(y[pairs[:, 1]], pairs[:, 0])
    assert split.pairs().shape == (40, 2) and split.pairs(1000).shape == (40, 2)
    again = held_out_split(50, 10, seed=3)
    np.testing.assert_array_equal(again.y_order, split.y_order)
    assert not np.array_equal(held_out_split(50, 10, seed=4).held, split.held)


@pytest.mark.parametrize(
    ("args", "match"),
    [((1, 1), "n_items"), ((10, 0), "n_held"), ((10, 10), "n_held"), ((10, 2.5), "n_held")],
)
def test_held_out_split_rejects_bad_sizes(args, match):
    with pytest.raises((ValueError, TypeError), match=match):
        held_out_split(*args, seed=0)
    with pytest.raises(ValueError, match="m"):
        held_out_split(10, 2, seed=0).pairs(-1)


def test_partner_retrieval_matches_a_brute_force_count():
    rng = np.random.default_rng(0)
    targets = rng.normal(size=(60, 5))
    queries = targets + 0.8 * rng.normal(size=targets.shape)
    top1, mrr = partner_retrieval(queries, targets, k=10)
    unit = lambda v: v / np.linalg.norm(v, axis=1, keepdims=True)  # noqa: E731
    sims = unit(queries) @ unit(targets).T
    ranks = (sims > np.diag(sims)[:, None]).sum(axis=1) + 1  # no ties in random data
    assert top1 == pytest.approx(np.mean(ranks == 1))
    assert mrr == pytest.approx(np.mean(np.where(ranks <= 10, 1.0 / ranks, 0.0)))
    assert 0.0 < top1 < 1.0 and top1 <= mrr <= 1.0
    assert partner_retrieval(targets, targets) == (1.0, 1.0)
    assert partner_retrieval(targets[:4], targets[:4], k=10) == (1.0, 1.0)  # k capped at n


def test_partner_retrieval_rejects_unpaired_or_bad_inputs():
    x = np.ones((5, 3))
    with pytest.raises(ValueError, match="same number of rows"):
        partner_retrieval(x, np.ones((4, 3)))
    with pytest.raises(ValueError, match="features"):
        partner_retrieval(x, np.ones((5, 2)))
    with pytest.raises(ValueError, match="source"):
        partner_retrieval(np.ones(5), x)
    with pytest.raises(ValueError, match="target"):
        partner_retrieval(x, np.ones(5))
    with pytest.raises(ValueError, match="k"):
        partner_retrieval(x, x, k=0)


def test_stitched_accuracy_learns_in_y_and_fails_on_a_wrong_map():
    pytest.importorskip("sklearn")
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 3, size=300)
    y = rng.normal(size=(300, 6)) + 4.0 * np.eye(3, 6)[labels]
    assert stitched_accuracy(y[:200], labels[:200], y[200:], labels[200:]) > 0.95
    wrong = y[200:][rng.permutation(100)]  # X items sent to the wrong Y rows
    assert stitched_accuracy(y[:200], labels[:200], wrong, labels[200:]) < 0.6
    with pytest.raises(ValueError, match="train_labels"):
        stitched_accuracy(y[:200], labels[:199], y[200:], labels[200:])
    with pytest.raises(ValueError, match="features"):
        stitched_accuracy(y[:200], labels[:200], y[200:, :5], labels[200:])


def _toy(noise: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    centres = rng.normal(size=(4, 16)) * 3.0
    classes = rng.integers(0, 4, size=900)
    x = centres[classes] + rng.gamma(2.0, size=(900, 16)) * np.linspace(2.0, 0.5, 16)
    q, _ = np.linalg.qr(rng.normal(size=(16, 16)))
    return x, 1.5 * x @ q + noise * rng.normal(size=x.shape), classes


def test_compare_methods_scores_every_method_and_m():
    pytest.importorskip("ot")
    pytest.importorskip("sklearn")
    from relreps.align import RefineSettings

    x, y, classes = _toy(0.05)
    settings = RefineSettings(sample_size=800, max_candidates=20000, n_rounds=4)
    scores = compare_methods(x, y, [0, 3, 25, None], n_held=150, labels=classes,
                             settings=settings)  # fmt: skip
    assert [(s.method, s.m) for s in scores] == [
        ("unpaired", 0), ("relative", 3), ("procrustes", 3), ("bootstrap", 3),
        ("relative", 25), ("procrustes", 25), ("bootstrap", 25), ("procrustes", None),
    ]  # fmt: skip
    by = {(s.method, s.m): s for s in scores}
    assert by["procrustes", None].top1 > 0.9 and by["procrustes", None].accuracy > 0.9
    boot = by["bootstrap", 25]
    assert boot.status == "ok" and boot.top1 > 0.9 and boot.accuracy > 0.9
    assert boot.consistency is not None and boot.detail
    for s in scores:
        assert 0.0 <= s.top1 <= s.mrr10 + 1e-12 <= 1.0 + 1e-12
    assert "stability" in boot.to_dict() and "stability" not in by["relative", 3].to_dict()


def test_compare_methods_a_failed_alignment_scores_zero():
    pytest.importorskip("ot")
    from relreps.align import RefineSettings

    rng = np.random.default_rng(1)
    x, y = rng.normal(size=(700, 40)), rng.normal(size=(700, 40))
    settings = RefineSettings(sample_size=600, max_candidates=20000, n_rounds=3)
    (score,) = compare_methods(x, y, [0], n_held=100, settings=settings)
    assert isinstance(score, MethodScore)
    assert score.status == "failed" and score.top1 == 0.0 and score.accuracy is None


def test_compare_methods_validates_its_inputs():
    x, y, classes = _toy(0.05)
    with pytest.raises(ValueError, match="ms"):
        compare_methods(x, y, [2], n_held=100)
    with pytest.raises(ValueError, match="ms"):
        compare_methods(x, y, [], n_held=100)
    with pytest.raises(ValueError, match="same number of rows"):
        compare_methods(x, y[:-1], [None], n_held=100)
    with pytest.raises(ValueError, match="labels"):
        compare_methods(x, y, [None], n_held=100, labels=classes[:-1])
    with pytest.raises(ValueError, match="n_held"):
        compare_methods(x, y, [None], n_held=900)


def _score(method: str, m: int | None, top1: float, status: str = "ok", acc=None) -> MethodScore:
    return MethodScore(method, m, top1, min(1.0, top1 + 0.05), acc, status, 0.0)


def test_score_table_lays_out_methods_by_m():
    scores = [_score("unpaired", 0, 0.0, "failed"), _score("relative", 3, 0.2, acc=0.5),
              _score("procrustes", 3, 0.1234, acc=0.4), _score("bootstrap", 3, 0.9),
              _score("procrustes", None, 0.95, acc=0.6)]  # fmt: skip
    table = score_table(scores, "top1", title="T", note="N", digits=2)
    assert table.title == "T" and table.note == "N"
    assert table.columns == ("method", "m=0", "m=3", "m=all")
    assert table.rows == (
        ("relative", None, 0.2, None),
        ("procrustes", None, 0.12, 0.95),
        ("bootstrap", None, 0.9, None),
        ("unpaired", "failed", None, None),
    )
    accuracy = score_table(scores, "accuracy", title="A")
    assert [r[0] for r in accuracy.rows] == ["relative", "procrustes"]  # no value: no row
    assert score_table(scores[:1], "accuracy", title="A").rows == ()
    with pytest.raises(ValueError, match="scoring"):
        score_table(scores, "seconds", title="T")


def test_false_passes_are_passing_maps_far_below_procrustes_all():
    scores = [_score("procrustes", None, 0.8), _score("bootstrap", 25, 0.79),
              _score("bootstrap", 3, 0.05), _score("unpaired", 0, 0.0, "failed"),
              _score("procrustes", 3, 0.01)]  # fmt: skip
    assert [(s.method, s.m) for s in false_passes(scores)] == [("bootstrap", 3)]
    assert [(s.method, s.m) for s in false_passes(scores, share=1.0)] == [
        ("bootstrap", 25), ("bootstrap", 3)
    ]  # fmt: skip
    assert false_passes(scores[1:]) == []  # no reference: nothing judged
    with pytest.raises(ValueError, match="share"):
        false_passes(scores, share=0.0)
