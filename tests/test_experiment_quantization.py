"""quantization --quick end to end: direction, JSON schema, report, stitching matrix math."""

from __future__ import annotations

import json

import numpy as np
import pytest

from relreps.cli import main
from relreps.experiments.base import ExperimentResult, RunContext

torch = pytest.importorskip("torch")

from relreps.experiments import quantization as q  # noqa: E402


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory):
    folder = tmp_path_factory.mktemp("quant") / "run"
    assert main(["reproduce", "quantization", "--quick", "--output", str(folder)]) == 0
    data = json.loads((folder / "results" / "quantization.json").read_text())
    return folder, ExperimentResult.from_dict(data)


def test_json_round_trip(quick_run):
    _, result = quick_run
    assert ExperimentResult.from_dict(result.to_dict()) == result
    assert result.config["quick"] is True and result.config["bins"] == [0.1, 0.2, 0.3, 0.4, 0.5]


def test_direction_fine_bins_keep_performance(quick_run):
    _, result = quick_run
    assert result.data["datasets"]
    for name, entry in result.data["datasets"].items():
        trained = entry["trained"]
        assert list(trained) == ["none", "0.1", "0.2", "0.3", "0.4", "0.5"]
        base, fine = trained["none"], trained["0.1"]
        chance = entry["chance_f1"]
        # a fine bin trained with straight-through gradients keeps most of the performance,
        # alone and stitched across seeds
        assert fine["own"] > base["own"] - 8.0, (name, trained)
        assert fine["stitched"] > chance + 30.0, (name, trained)
        # the unquantised models are unchanged by the no-op test-time setting
        assert entry["post_hoc"]["none"] == base
        matrix = np.array(entry["matrices"]["0.1"])
        assert matrix.shape == (2, 2)
        assert set(entry["similarity_range"]) == set(trained)
        for span in entry["similarity_range"].values():
            assert -1.0 <= span["min"] <= span["max"] <= 1.0 and span["row_std"] > 0
    assert result.verdicts[0].status in {"reproduced", "partly", "not reproduced"}
    _assert_numeric_verdicts(result)
    robust, stitched = result.verdicts
    worst = min(
        e["trained"][b]["stitched"] / e["trained"][b]["own"]
        for e in result.data["datasets"].values()
        for b in e["trained"]
        if b != "none"
    )
    assert stitched.measured == pytest.approx(worst)
    assert (stitched.threshold, stitched.partly) == (0.90, 0.75)
    assert (robust.threshold, robust.partly) == (0.97, 0.90)


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


def test_verdict_rules_on_planted_scores():
    def split(own, stitched):
        return {"own": own, "own_std": 0.0, "stitched": stitched, "stitched_std": 0.0}

    def verdicts(**bins):
        trained = {
            "none": split(90.0, 85.0),
            **{k[1:].replace("_", "."): v for k, v in bins.items()},
        }
        return q._verdicts({"toy": {"trained": trained}})

    robust, stitched = verdicts(b0_1=split(88.0, 80.0), b0_4=split(85.0, 70.0))
    assert robust.measured == pytest.approx(85.0 / 90.0) and robust.status == "partly"
    assert stitched.measured == pytest.approx(70.0 / 85.0) and stitched.status == "partly"
    robust, stitched = verdicts(b0_1=split(89.0, 81.0))
    assert (robust.status, stitched.status) == ("reproduced", "reproduced")
    nan = float("nan")
    robust, stitched = verdicts(b0_1=split(89.0, nan))  # one seed: nothing stitched
    assert robust.status == "reproduced" and stitched.status == "skipped"


def test_report_and_line_figure(quick_run):
    folder, result = quick_run
    assert "quantization" in (folder / "report.html").read_text()
    assert len(result.figures) == len(result.data["datasets"])
    for figure in result.figures:
        assert (folder / figure.path).stat().st_size > 1000
    from relreps.report import render_markdown

    manifest = json.loads((folder / "manifest.json").read_text())
    assert "own (quantised training)" in render_markdown(folder, [result], manifest)


def test_stitch_scores_match_stitch(tmp_path):
    from relreps.nn import MLPEncoder, RelativeClassifier, stitch
    from relreps.stitching import f1_score

    g = torch.Generator().manual_seed(0)
    x = torch.rand(40, 6, generator=g)
    y = (x[:, 0] > 0.5).long().numpy()
    anchors = torch.rand(8, 6, generator=g)
    models = [
        RelativeClassifier(MLPEncoder((6,), 5, seed=s), anchors, 2, quantize=0.2, seed=s).eval()
        for s in (0, 1)
    ]
    from relreps.stitching.relative_scores import relative_similarities, relative_stitch_scores

    matrix = 100.0 * relative_stitch_scores(models, x, y)
    for i in range(2):
        for j in range(2):
            with torch.no_grad():
                pred = stitch(models[i], models[j])(x).argmax(dim=1).numpy()
            assert matrix[i, j] == pytest.approx(100.0 * f1_score(y, pred))
    # test-time override leaves the trained setting in place afterwards
    relative_stitch_scores(models, x, y, quantize=None)
    assert all(m.projection.quantize == 0.2 for m in models)
    rel = relative_similarities(models[0], x)
    assert -1.0 <= float(rel.min()) <= float(rel.max()) <= 1.0 and float(rel.std()) > 0
    assert models[0].projection.quantize == 0.2
    # unrounded: not every value is a multiple of the bin
    assert not np.allclose((rel / 0.2 % 1.0).numpy(), 0.0)


def test_config_validation():
    with pytest.raises(ValueError, match=r"Expected `bins\[1\]` to be a finite number in \(0, 2\]"):
        q.QuantConfig(bins=(0.1, 0.0))
    with pytest.raises(ValueError, match=r"Expected `datasets\[0\]` to be one of"):
        q.QuantConfig(datasets=("svhn",))
    with pytest.raises(ValueError, match=r"Expected `seeds` to be an int in \[1, inf\]"):
        q.QuantConfig(seeds=0)


def test_unavailable_dataset_is_skipped(tmp_path, monkeypatch):
    from relreps import datasets

    def offline(*args, **kwargs):
        raise OSError("no route to host")

    monkeypatch.setattr(datasets, "load_cifar10", offline)
    config = q.QuantConfig(datasets=("cifar10",), seeds=1)
    result = q.run_config(config, RunContext(tmp_path, quick=True, log=lambda m: None))
    assert [v.status for v in result.verdicts] == ["skipped"]
    assert "CIFAR-10 unavailable: no route to host" in result.data["skipped"]["cifar10"]
