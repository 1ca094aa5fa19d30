"""anchors-ablation: anchor choice helpers and the --quick run end to end."""

from __future__ import annotations

import json

import pytest

pytest.importorskip("torch")

from relreps.cli import main
from relreps.experiments.anchors_ablation import FULL, QUICK, STRATEGIES, saturation_count
from relreps.experiments.base import ExperimentResult
from relreps.report import render_markdown


def test_full_sizes_follow_the_issue():
    assert FULL.counts == (1, 2, 5, 10, 50, 100, 300, 500, 1000)
    assert set(FULL.strategies) == set(STRATEGIES)
    assert FULL.n_train >= max(FULL.counts)


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
