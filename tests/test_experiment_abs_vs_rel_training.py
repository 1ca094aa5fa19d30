"""abs-vs-rel-training --quick end to end: direction, JSON schema, report, cached cells."""

from __future__ import annotations

import json

import pytest

from relreps.cli import main
from relreps.experiments.base import ExperimentResult, RunContext

pytest.importorskip("torch")

from relreps.experiments import abs_vs_rel_training as avr


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory):
    folder = tmp_path_factory.mktemp("avr") / "run"
    assert main(["reproduce", "abs-vs-rel-training", "--quick", "--output", str(folder)]) == 0
    data = json.loads((folder / "results" / "abs-vs-rel-training.json").read_text())
    return folder, ExperimentResult.from_dict(data)


def test_json_round_trip(quick_run):
    _, result = quick_run
    assert ExperimentResult.from_dict(result.to_dict()) == result
    assert result.config["quick"] is True and result.config["seeds"] == 2


def test_direction_relative_costs_almost_nothing(quick_run):
    _, result = quick_run
    datasets = result.data["datasets"]
    assert "sklearn digits" in datasets
    for name, entry in datasets.items():
        assert len(entry["scores"]["absolute"]) == len(entry["scores"]["relative"]) == 2
        rel_f1 = entry["summary"]["relative_f1"][0]
        abs_f1 = entry["summary"]["absolute_f1"][0]
        # both learn far above the majority class, and relative is not far below absolute
        assert rel_f1 > entry["chance_f1"] + 30, (name, entry["summary"])
        assert abs_f1 - rel_f1 < 8.0, (name, entry["summary"])
    # every data set either ran or says exactly why it did not
    assert len(datasets) + len(result.data["skipped"]) >= 3
    assert result.verdicts[0].status in {"reproduced", "partly", "not reproduced"}


def test_wordnet_runs_when_its_data_and_encoder_are_here(quick_run):
    _, result = quick_run
    names = list(result.data["datasets"])
    if "wordnet" in result.data["skipped"]:
        pytest.skip(f"WordNet task unavailable here: {result.data['skipped']['wordnet']}")
    assert any(name.startswith("WordNet glosses") for name in names)


def test_report_renders(quick_run):
    folder, result = quick_run
    assert "abs-vs-rel-training" in (folder / "report.html").read_text()
    from relreps.report import render_markdown

    manifest = json.loads((folder / "manifest.json").read_text())
    text = render_markdown(folder, [result], manifest)
    assert "absolute F1" in text and "relative F1" in text


def test_missing_text_encoder_is_skipped_with_reason(tmp_path):
    # the twin of the WordNet run that always executes: no such encoder (or no WordNet) -> skip
    config = avr.TrainingConfig(datasets=("wordnet",), seeds=1, text_encoder="no-such-encoder")
    result = avr.run_config(config, RunContext(tmp_path, quick=True, log=lambda m: None))
    assert result.tables == () and result.verdicts[0].status == "skipped"
    reason = result.data["skipped"]["wordnet"]
    assert "no-such-encoder" in reason or "WordNet" in reason


def test_cells_are_cached_and_reused(tmp_path):
    config = avr.TrainingConfig(
        datasets=("digits",), seeds=1, n_train=300, n_test=200, n_anchors=50, epochs=1
    )
    context = RunContext(tmp_path, quick=True, log=lambda m: None)
    first = avr.run_config(config, context)
    cells = sorted(p.name for p in (tmp_path / "cells").iterdir())
    assert len(cells) == 1  # one per seed (both kinds)
    second = avr.run_config(config, context)
    assert sorted(p.name for p in (tmp_path / "cells").iterdir()) == cells
    assert first.data == second.data


def test_small_gap_claim_thresholds():
    status = {gap: avr.SMALL_GAP.judge(gap).status for gap in (-3.0, 2.0, 2.1, 5.0, 5.1)}
    assert status == {
        -3.0: "reproduced",
        2.0: "reproduced",
        2.1: "partly",
        5.0: "partly",
        5.1: "not reproduced",
    }
    assert avr.SMALL_GAP.judge(float("nan")).status == "not reproduced"  # a data set unmeasured


def test_verdict_records_the_largest_gap(quick_run):
    _, result = quick_run
    verdict = result.verdicts[0]
    gaps = [entry["gap_f1"] for entry in result.data["datasets"].values()]
    assert verdict.claim == avr.SMALL_GAP.claim and verdict.comparison == "<="
    assert verdict.measured == pytest.approx(max(gaps))
    assert (verdict.threshold, verdict.partly) == (2.0, 5.0)


def test_config_validation():
    with pytest.raises(ValueError, match=r"Expected `datasets\[1\]` to be one of"):
        avr.TrainingConfig(datasets=("digits", "imdb"))
    with pytest.raises(ValueError, match=r"Expected `seeds` to be an int in \[1, inf\]"):
        avr.TrainingConfig(seeds=0)
