"""Views of sweep results: AnchorSweep.curve / to_dict and GCNStitching.to_dict."""

from __future__ import annotations

import json

import numpy as np
import pytest

from relreps.stitching.anchor_sweep import AnchorSweep


def summary(own: float, stitched: float, spread: float = 0.0) -> dict[str, float]:
    return {"own": own, "own_std": spread, "stitched": stitched, "stitched_std": 2 * spread}


@pytest.fixture
def sweep() -> AnchorSweep:
    """Two strategies x two counts x two seeds, planted so every mean is easy to check."""
    scores = {
        ("random", 1): (summary(10.0, 4.0), summary(20.0, 6.0, 1.0)),
        ("random", 5): (summary(50.0, 30.0), summary(60.0, 40.0)),
        ("kmeans", 1): (summary(30.0, 10.0), summary(30.0, 20.0)),
        ("kmeans", 5): (summary(70.0, 50.0, 3.0), summary(70.0, 60.0, 1.0)),
    }
    absolute = (summary(80.0, 5.0), summary(90.0, 7.0))
    return AnchorSweep(("random", "kmeans"), (1, 5), (0, 1), scores, absolute)


def test_curve_per_strategy_and_over_strategies(sweep):
    assert sweep.curve("own", "random") == [15.0, 55.0]
    assert sweep.curve("stitched", "kmeans") == [15.0, 55.0]
    assert sweep.curve("own_std", "kmeans") == [0.0, 2.0]
    assert sweep.curve("stitched_std", "random") == [1.0, 0.0]
    # no strategy: the mean over the strategies, count by count
    assert sweep.curve("own") == [22.5, 62.5]
    assert sweep.curve("stitched") == [10.0, 45.0]
    assert all(isinstance(v, float) for v in sweep.curve("own"))


def test_curve_rejects_unknown_keys_and_strategies(sweep):
    with pytest.raises(ValueError, match="key"):
        sweep.curve("f1")
    with pytest.raises(ValueError, match="strategy, count"):
        sweep.curve("own", "farthest_point")


def test_to_dict_is_json_and_keeps_each_seed(sweep):
    cells = sweep.to_dict()
    assert list(cells) == ["random|1", "random|5", "kmeans|1", "kmeans|5"]
    cell = cells["kmeans|5"]
    assert cell["strategy"] == "kmeans" and cell["n_anchors"] == 5
    assert cell["own"] == 70.0 and cell["stitched"] == 55.0 and cell["own_std"] == 2.0
    assert cell["repetitions"] == [summary(70.0, 50.0, 3.0), summary(70.0, 60.0, 1.0)]
    assert json.loads(json.dumps(cells)) == cells


def test_gcn_stitching_to_dict():
    pytest.importorskip("torch")
    from relreps.nn.graph import GCNFit
    from relreps.nn.graph_zoo import GCNStitching, stitching_summary

    fit = GCNFit(best_val_accuracy=70.0, best_epoch=3, epochs_run=5, seconds=0.5, cpu_seconds=0.4)
    matrix = np.array([[90.0, 10.0], [30.0, 80.0]])
    out = GCNStitching((0, 1), {}, {"seed0/absolute": fit}, {"absolute": matrix})
    view = out.to_dict()
    assert list(view) == ["training", "matrices", "summary"]
    assert view["training"] == {"seed0/absolute": fit.to_dict()}
    assert view["matrices"] == {"absolute": [[90.0, 10.0], [30.0, 80.0]]}
    assert view["summary"] == {"absolute": stitching_summary(matrix)}
    assert json.loads(json.dumps(view)) == view
