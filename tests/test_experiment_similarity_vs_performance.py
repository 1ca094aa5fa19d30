"""similarity-vs-performance: the measures, the grid, and the --quick run end to end."""

from __future__ import annotations

import json

import pytest

pytest.importorskip("torch")
pytest.importorskip("scipy")

from relreps.cli import main
from relreps.experiments.base import ExperimentResult
from relreps.experiments.similarity_vs_performance import FULL, QUICK, sample_models, status
from relreps.report import render_markdown


def test_grid_is_large_enough_and_sampling_is_seeded():
    assert len(FULL.grid()) >= FULL.n_models >= 100
    a, b = sample_models(FULL, seed=0), sample_models(FULL, seed=0)
    assert a == b and len(set(a)) == FULL.n_models
    assert sample_models(FULL, seed=1) != a
    # every axis of the grid is varied
    for axis in ("depth", "width", "lr", "epochs", "activation", "optimizer"):
        assert len({getattr(hp, axis) for hp in a}) > 1
    assert 12 <= QUICK.n_models <= 20


def test_status_thresholds():
    assert status(0.8, 0.7) == "reproduced"
    assert status(0.8, -0.2) == "partly"
    assert status(0.3, 0.3) == "partly"
    assert status(0.1, None) == "not reproduced"
    assert status(None, None) == "not reproduced"


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory):
    folder = tmp_path_factory.mktemp("similarity") / "run"
    assert main(["reproduce", "similarity-vs-performance", "--quick", "-o", str(folder)]) == 0
    return folder


def test_quick_run_direction_schema_and_report(quick_run):
    data = json.loads((quick_run / "results" / "similarity-vs-performance.json").read_text())
    result = ExperimentResult.from_dict(data)
    assert ExperimentResult.from_dict(result.to_dict()) == result
    stats = result.data["summary"]
    assert stats["n_models"] == QUICK.n_models
    # the direction of the claim: similarity to the reference rises with accuracy during
    # training for most models (both measures), and the row-centred similarity ranks models
    assert stats["per_model_pearson_median"] > 0.3
    assert stats["centred_per_model_pearson_median"] > 0.5
    assert stats["centred_overall_pearson_final"] > 0.3
    for model in result.data["models"]:
        assert len(model["accuracy"]) == model["epochs"] + 1 == len(model["similarity"])
    best = max(result.data["models"], key=lambda m: m["accuracy"][-1])
    assert best["accuracy"][-1] > 60.0  # the grid holds models that learned
    assert result.verdicts[0].status in {"reproduced", "partly", "not reproduced"}
    markdown = render_markdown(quick_run, [result], {})
    assert "Latent similarity to a strong model" in markdown
    assert "similarity-vs-performance" in (quick_run / "report.html").read_text()
    for figure in result.figures:
        assert (quick_run / figure.path).stat().st_size > 1000


def test_quick_run_resumes_from_cells(quick_run, capsys):
    assert (
        main(
            [
                "reproduce",
                "similarity-vs-performance",
                "--quick",
                "-o",
                str(quick_run),
                "--resume",
            ]
        )
        == 0
    )
    assert "already finished" in capsys.readouterr().err
