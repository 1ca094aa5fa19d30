"""ae-stitching --quick end to end: direction of the results, JSON schema, report, figures."""

from __future__ import annotations

import json
import math

import pytest

from relreps.cli import main
from relreps.experiments.base import ExperimentResult, RunContext

pytest.importorskip("torch")

from relreps.experiments import ae_stitching


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory):
    folder = tmp_path_factory.mktemp("ae") / "run"
    assert main(["reproduce", "ae-stitching", "--quick", "--output", str(folder)]) == 0
    data = json.loads((folder / "results" / "ae-stitching.json").read_text())
    return folder, ExperimentResult.from_dict(data)


def test_json_round_trip(quick_run):
    _, result = quick_run
    assert ExperimentResult.from_dict(result.to_dict()) == result
    assert result.config["quick"] is True and result.config["seeds"] == 2
    assert result.tables[0].columns[2] == "MSE x10^3 not stitched"


def test_direction_relative_stitching_stays_close_absolute_does_not(quick_run):
    _, result = quick_run
    assert result.data["datasets"], result.data
    for name, entry in result.data["datasets"].items():
        for family in ("AE", "VAE"):
            summary = entry["models"][family]["summary"]
            rel, abs_ = summary["relative"], summary["absolute"]
            # every ordered pair of 2 seeds: 2 diagonal and 2 off-diagonal cells
            assert rel["stitched"]["cells"] == 2 and rel["not_stitched"]["cells"] == 2
            # relative stitched MSE much closer to not stitched than absolute stitched
            assert rel["ratio"] < abs_["ratio"], (name, family, rel, abs_)
            assert rel["stitched"]["mse_x1e3"] < abs_["stitched"]["mse_x1e3"], (name, family)
            assert rel["ratio"] < 2.0, (name, family, rel)
            # PSNR falls when MSE rises
            assert abs_["stitched"]["psnr"] < abs_["not_stitched"]["psnr"]
    assert {v.status for v in result.verdicts} <= {"reproduced", "partly", "not reproduced"}
    assert len(result.verdicts) == 2
    _assert_numeric_verdicts(result)
    relative, absolute = result.verdicts
    worst = min(
        entry["models"][f]["summary"]["relative"]["not_stitched"]["mse_x1e3"]
        / entry["models"][f]["summary"]["relative"]["stitched"]["mse_x1e3"]
        for entry in result.data["datasets"].values()
        for f in ("AE", "VAE")
    )
    assert relative.measured == pytest.approx(worst)
    assert (relative.threshold, relative.partly) == (0.90, 0.75)
    assert (absolute.comparison, absolute.threshold, absolute.partly) == ("<=", 0.2, 0.5)


def _assert_numeric_verdicts(result: ExperimentResult) -> None:
    """Every judged claim carries its measured figure and threshold, and its status follows."""
    for verdict in result.verdicts:
        if verdict.status in ("skipped", "no paper number"):
            continue
        assert verdict.threshold is not None and verdict.measured is not None, verdict
        higher = verdict.comparison == ">="

        def meets(bar: float, v=verdict, higher=higher) -> bool:
            return v.measured >= bar if higher else v.measured <= bar

        expected = (
            "reproduced"
            if meets(verdict.threshold)
            else (
                "partly"
                if verdict.partly is not None and meets(verdict.partly)
                else "not reproduced"
            )
        )
        assert verdict.status == expected, verdict


def test_verdict_rules_on_planted_mse():
    """MSE is an error: kept = not stitched / stitched; x1.11 is kept 0.90, x10 is 0.1."""

    def summary(ns: float, st: float) -> dict:
        return {"not_stitched": {"mse_x1e3": ns}, "stitched": {"mse_x1e3": st}}

    def rows(rel_st: float, abs_st: float) -> list:
        cell = {"relative": summary(20.0, rel_st), "absolute": summary(10.0, abs_st)}
        return [("digits", "AE", cell)]

    relative, absolute = ae_stitching._ratio_verdict(rows(21.0, 100.0))
    assert relative.status == "reproduced" and relative.measured == pytest.approx(20 / 21)
    assert absolute.status == "reproduced" and absolute.measured == pytest.approx(0.1)
    # a x2 ratio, "reproduced" under the old rule, keeps only half
    relative, absolute = ae_stitching._ratio_verdict(rows(40.0, 30.0))
    assert relative.status == "not reproduced" and absolute.status == "partly"
    relative, _ = ae_stitching._ratio_verdict(rows(25.0, 30.0))
    assert relative.status == "partly"  # 20 / 25 = 0.8


def test_report_and_figure_written(quick_run):
    folder, result = quick_run
    html = (folder / "report.html").read_text()
    assert "ae-stitching" in html and "data:image/png;base64," in html
    assert "MSE x10^3" in (folder / "report.md").read_text()
    for figure in result.figures:
        assert (folder / figure.path).stat().st_size > 1000
    assert any("reconstructions" in f.path for f in result.figures)
    from relreps.report import render_markdown

    manifest = json.loads((folder / "manifest.json").read_text())
    assert "Autoencoders" in render_markdown(folder, [result], manifest)


def test_resume_reloads_saved_models(quick_run, capsys):
    folder, _ = quick_run
    assert main(["reproduce", "ae-stitching", "--quick", "--output", str(folder), "--resume"]) == 0
    assert "already finished" in capsys.readouterr().err


def test_config_rejects_unknown_dataset_and_seeds():
    with pytest.raises(ValueError, match=r"Expected `datasets\[0\]` to be one of"):
        ae_stitching.AEConfig(datasets=("imagenet",))
    with pytest.raises(ValueError, match=r"Expected `seeds` to be an int in \[1, inf\]"):
        ae_stitching.AEConfig(seeds=0)


def test_online_dataset_unavailable_is_skipped_with_reason(tmp_path, monkeypatch):
    from relreps import datasets

    def offline(*args, **kwargs):
        raise OSError("network is unreachable")

    monkeypatch.setattr(datasets, "load_mnist", offline)
    config = ae_stitching.AEConfig(datasets=("mnist",), seeds=2)
    result = ae_stitching.run_config(config, RunContext(tmp_path, quick=True, log=lambda m: None))
    assert result.tables == ()
    assert result.verdicts[0].status == "skipped"
    assert "MNIST unavailable: network is unreachable" in result.verdicts[0].detail
    assert "mnist" in result.data["skipped"]


def test_torch_threads_restores_count_also_after_an_error():
    import torch

    from relreps.experiments._repro_torch import torch_threads

    before = torch.get_num_threads()
    with torch_threads(1):
        assert torch.get_num_threads() == 1
    assert torch.get_num_threads() == before
    with pytest.raises(RuntimeError), torch_threads(1):
        raise RuntimeError("boom")
    assert torch.get_num_threads() == before


def test_each_dataset_skips_unavailable_and_repeated_sets(tmp_path):
    from types import SimpleNamespace

    import numpy as np

    from relreps.datasets import DataNotFoundError
    from relreps.experiments._aeq_common import each_dataset

    def load(name):
        if name == "mnist":
            raise DataNotFoundError("MNIST unavailable: offline")
        note = "fell back to digits." if name == "fashion-mnist" else ""
        labels = np.repeat([0, 1, 2], 4)
        return SimpleNamespace(name="sklearn digits", note=note, y_train=labels, y_test=labels)

    skipped, notes, logged = {}, [], []
    context = RunContext(tmp_path, quick=True, log=logged.append)
    config = SimpleNamespace(datasets=["digits", "mnist", "fashion-mnist"], n_anchors=6, seeds=1)
    ran = list(each_dataset(config, context, skipped, notes, load))
    assert [name for name, *_ in ran] == ["digits"]
    anchors = ran[0][2]
    assert len(set(anchors.tolist())) == 6 and np.bincount(
        np.repeat([0, 1, 2], 4)[anchors]
    ).tolist() == [2, 2, 2]
    assert skipped == {
        "mnist": "MNIST unavailable: offline",
        "fashion-mnist": "fell back to digits. Digits is already in this run.",
    }
    assert notes == ["fell back to digits."] and any("mnist" in m for m in logged)


def test_train_or_reload_keeps_the_training_facts(tmp_path):
    import torch

    from relreps.experiments._aeq_common import train_or_reload
    from relreps.nn import AbsoluteClassifier, MLPEncoder

    context = RunContext(tmp_path, quick=True, log=lambda m: None)
    x, y = torch.rand(40, 4), torch.arange(40) % 2
    config = ae_stitching.AEConfig(epochs=2, batch_size=8)
    built = []

    def build():
        built.append(1)
        return AbsoluteClassifier(MLPEncoder((4,), 3), 2)

    train = config.train(3)
    assert (train.epochs, train.batch_size, train.seed) == (2, 8, 3)
    model, facts = train_or_reload(context, "toy/m", build, x, y, train)
    assert facts["epochs_run"] <= 2 and facts["best_val_loss"] > 0 and not model.training
    again, same = train_or_reload(context, "toy/m", build, x, y, train)
    assert built == [1] and same == facts  # reloaded: not rebuilt, facts from the cache
    assert torch.equal(again(x), model(x))


def test_worst_is_nan_when_a_cell_is_unmeasured():
    from relreps.experiments._aeq_common import worst

    assert worst([0.9, 0.5, 0.7]) == 0.5 and worst([0.9, 0.5], max) == 0.9
    assert math.isnan(worst([0.9, float("nan"), 0.7]))
