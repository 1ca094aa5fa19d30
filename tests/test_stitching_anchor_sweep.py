"""relreps.stitching.anchor_sweep: one stitching grid per anchor strategy, count and seed."""

from __future__ import annotations

import math

import numpy as np
import pytest

pytest.importorskip("sklearn")

from sklearn.linear_model import LogisticRegression

from relreps.anchors import select
from relreps.stitching import anchor_sweep as sweep_module
from relreps.stitching import stitching_grid
from relreps.stitching.anchor_sweep import AnchorSweep, anchor_sweep, saturation_count
from relreps.stitching.pairs import own_and_stitched
from relreps.stitching.spaces import Space


def logreg(d: int, k: int, seed: int) -> LogisticRegression:
    return LogisticRegression(random_state=seed, max_iter=500)


@pytest.fixture(scope="module")
def data():
    """Three classes in 6-d; space b is a rotation of a, space c a noisy rescaled copy."""
    rng = np.random.default_rng(0)
    centres = rng.normal(scale=3.0, size=(3, 6))
    y = rng.integers(0, 3, size=150)
    x = centres[y] + rng.normal(size=(150, 6))
    q, _ = np.linalg.qr(rng.normal(size=(6, 6)))
    z = 2.0 * x + 0.05 * rng.normal(size=x.shape)
    spaces = {"a": (x[:100], x[100:]), "b": (x[:100] @ q, x[100:] @ q), "c": (z[:100], z[100:])}
    return spaces, y[:100], y[100:], x[:100]


def test_sweep_cells_match_a_hand_built_grid(data):
    spaces, y_tr, y_te, candidates = data
    sweep = anchor_sweep(
        spaces, y_tr, y_te, candidates, counts=(500, 3, 10, 3), strategies=("random", "kmeans"),
        seeds=(0, 1), head=logreg, metric="euclidean",
    )  # fmt: skip
    assert isinstance(sweep, AnchorSweep)
    # counts are capped at the candidates, deduplicated and sorted
    assert sweep.counts == (3, 10, 100) and sweep.seeds == (0, 1)
    assert sorted(sweep.scores) == sorted(
        (s, k) for s in ("random", "kmeans") for k in (3, 10, 100)
    )
    assert len(sweep.absolute) == 2 and all(len(v) == 2 for v in sweep.scores.values())
    # one cell by hand: k-means anchors of seed 1 in the candidates, relative heads of seed 1
    idx = select("kmeans", candidates, 10, seed=1, labels=y_tr, metric="euclidean")
    ids = [int(i) for i in idx]
    by_hand = stitching_grid(
        [Space(n, tr, te, tr[idx], anchor_ids=ids) for n, (tr, te) in spaces.items()],
        y_tr, y_te, seeds=[1], head=logreg, methods=("relative",),
    )  # fmt: skip
    assert sweep.scores["kmeans", 10][1] == own_and_stitched(by_hand.pair_mean("relative"))
    mean = sweep.mean("kmeans", 10)
    assert mean["own"] == pytest.approx(np.mean([s["own"] for s in sweep.scores["kmeans", 10]]))
    # enough anchors stitch the rotated and rescaled spaces; absolute heads fail across spaces
    assert sweep.mean("random", 100)["stitched"] > 0.8  # accuracy
    assert sweep.absolute_mean()["own"] > 0.8
    assert sweep.absolute_mean()["stitched"] < sweep.mean("random", 100)["stitched"]
    with pytest.raises(ValueError, match="strategy, count"):
        sweep.mean("random", 7)


def test_pairs_split_of_a_one_seed_grid_is_its_summary_rows(data):
    """The sweep summarises each grid with the pairs split of its pair means: with one seed that
    is exactly the grid's own summary rows (diagonal vs off-diagonal cells)."""
    assert sweep_module.own_and_stitched is own_and_stitched  # one meaning per name
    spaces, y_tr, y_te, _ = data
    grid = stitching_grid(
        [Space(n, tr, te, tr[:4]) for n, (tr, te) in spaces.items()], y_tr, y_te, head=logreg,
        seeds=[3], methods=("absolute", "relative"),
    )  # fmt: skip
    for method in ("absolute", "relative"):
        split = own_and_stitched(grid.pair_mean(method))
        rows = {r.stitched: r for r in grid.summary() if r.method == method}
        assert list(split) == ["own", "own_std", "stitched", "stitched_std"]
        assert split == {
            "own": rows[False].mean,
            "own_std": rows[False].std,
            "stitched": rows[True].mean,
            "stitched_std": rows[True].std,
        }
    one = stitching_grid(
        [Space("a", *spaces["a"], spaces["a"][0][:4])], y_tr, y_te, head=logreg,
        methods=("absolute",),
    )  # fmt: skip
    alone = own_and_stitched(one.pair_mean("absolute"))
    assert alone["own"] > 0.8 and math.isnan(alone["stitched"])  # one space: nothing stitched
    with pytest.raises(ValueError, match="method"):
        one.pair_mean("relative")


def test_sweep_logs_each_strategy_and_checks_inputs(data):
    spaces, y_tr, y_te, candidates = data
    lines: list[str] = []
    anchor_sweep(
        spaces, y_tr, y_te, candidates, counts=(2,), strategies=("stratified",), head=logreg,
        log=lines.append,
    )  # fmt: skip
    assert len(lines) == 1 and lines[0].startswith("  stratified") and "2: " in lines[0]
    bad = [
        ({"spaces": {}}, TypeError, "spaces"),
        ({"candidates": candidates[:10]}, ValueError, "candidates"),
        ({"strategies": ("nope",)}, ValueError, "strategies"),
        ({"counts": (0,)}, ValueError, "counts"),
        ({"seeds": (1, 1)}, ValueError, "distinct"),
        ({"counts": ()}, ValueError, "non-empty"),
    ]
    for change, error, match in bad:
        args = {"spaces": spaces, "candidates": candidates, "counts": (2,), **change}
        with pytest.raises(error, match=match):
            anchor_sweep(args.pop("spaces"), y_tr, y_te, args.pop("candidates"), **args)


def test_saturation_count():
    assert saturation_count((1, 10, 100), [10.0, 50.0, 51.0], 2.0) == 10
    assert saturation_count((1, 10, 100), [10.0, 50.0, 60.0], 2.0) == 100
    assert saturation_count((1, 10, 100), [10.0, float("nan"), 11.0], 2.0) == 1
    assert saturation_count((5,), [3.0], 0.0) == 5
    with pytest.raises(ValueError, match="one per count"):
        saturation_count((1, 10), [1.0], 0.0)
    with pytest.raises(ValueError, match="some finite"):
        saturation_count((1,), [float("nan")], 0.0)
    with pytest.raises(ValueError, match="tolerance"):
        saturation_count((1,), [1.0], -1.0)
