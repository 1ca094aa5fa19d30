"""anchors-ablation: anchor choice helpers and the --quick run end to end."""

from __future__ import annotations

import json

import numpy as np
import pytest

pytest.importorskip("torch")

from relreps.cli import main
from relreps.experiments.anchors_ablation import (
    FULL,
    QUICK,
    STRATEGIES,
    pixel_pca,
    saturation_count,
    select_anchors,
)
from relreps.experiments.base import ExperimentResult
from relreps.report import render_markdown


def test_full_sizes_follow_the_issue():
    assert FULL.counts == (1, 2, 5, 10, 50, 100, 300, 500, 1000)
    assert set(FULL.strategies) == set(STRATEGIES)
    assert FULL.n_train >= max(FULL.counts)


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_select_anchors_gives_distinct_seeded_indices(strategy, rng):
    x = rng.normal(size=(80, 4))
    labels = np.arange(80) % 4
    idx = select_anchors(strategy, x, labels, 12, seed=3)
    assert idx.shape == (12,) and len(set(idx.tolist())) == 12
    assert np.array_equal(idx, select_anchors(strategy, x, labels, 12, seed=3))
    if strategy == "stratified":
        assert np.bincount(labels[idx]).tolist() == [3, 3, 3, 3]


def test_select_anchors_rejects_unknown_strategy(rng):
    with pytest.raises(ValueError, match="strategy"):
        select_anchors("best", rng.normal(size=(5, 2)), np.zeros(5), 2, seed=0)


def test_pixel_pca_matches_sklearn_up_to_sign(rng):
    from sklearn.decomposition import PCA

    x = rng.normal(size=(40, 1, 3, 5))
    ours = pixel_pca(x, 4)
    theirs = PCA(4).fit_transform(x.reshape(40, -1))
    np.testing.assert_allclose(np.abs(ours), np.abs(theirs), atol=1e-8)


def test_saturation_count():
    assert saturation_count((1, 10, 100), [10.0, 50.0, 51.0], 2.0) == 10
    assert saturation_count((1, 10, 100), [10.0, 50.0, 60.0], 2.0) == 100
    assert saturation_count((5,), [3.0], 0.0) == 5


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory):
    folder = tmp_path_factory.mktemp("ablation") / "run"
    assert main(["reproduce", "anchors-ablation", "--quick", "-o", str(folder)]) == 0
    return folder


def test_quick_run_direction_schema_and_report(quick_run):
    data = json.loads((quick_run / "results" / "anchors-ablation.json").read_text())
    result = ExperimentResult.from_dict(data)
    assert ExperimentResult.from_dict(result.to_dict()) == result
    cells, counts = result.data["cells"], result.data["counts"]
    assert counts == list(QUICK.counts)
    chance = result.data["chance_f1"]
    for strategy in QUICK.strategies:
        own = [cells[f"{strategy}|{k}"]["own"] for k in counts]
        stitched = [cells[f"{strategy}|{k}"]["stitched"] for k in counts]
        # more anchors help, and a few hundred anchors beat a single one by far
        assert own[-1] > own[0] + 20 and stitched[-1] > stitched[0] + 20
        assert own[-1] > chance + 30
        # stitching across seeds works with enough anchors but costs something
        assert own[-1] - 20 < stitched[-1] <= own[-1] + 2
    # the largest anchor sets reach the absolute head's own score within a few points
    assert max(cells[f"{s}|{counts[-1]}"]["own"] for s in QUICK.strategies) > (
        result.data["absolute"]["own"] - 8
    )
    assert {v.status for v in result.verdicts} <= {"reproduced", "partly", "not reproduced"}
    markdown = render_markdown(quick_run, [result], {})
    assert "number of anchors" in markdown
    assert "anchors-ablation" in (quick_run / "report.html").read_text()
    for figure in result.figures:
        assert (quick_run / figure.path).stat().st_size > 1000
