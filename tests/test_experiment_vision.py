"""vision-stitching --quick end to end: direction of the results, JSON schema, report, resume."""

from __future__ import annotations

import json

import pytest

from relreps.cli import main
from relreps.experiments.base import ExperimentResult

pytest.importorskip("torch")


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory):
    folder = tmp_path_factory.mktemp("vision") / "run"
    assert main(["reproduce", "vision-stitching", "--quick", "--output", str(folder)]) == 0
    return folder


def test_direction_of_results(quick_run):
    data = json.loads((quick_run / "results" / "vision-stitching.json").read_text())
    result = ExperimentResult.from_dict(data)
    assert ExperimentResult.from_dict(result.to_dict()) == result
    summary = {
        (row["method"], row["stitched"]): row["mean"] for row in result.data["stitching"]["summary"]
    }
    chance = result.data["chance_f1"]
    # relative stitching works; absolute stitching across seeds is near chance
    assert summary[("relative", True)] > summary[("absolute", True)] + 25
    assert summary[("absolute", True)] < chance + 30
    assert summary[("relative", False)] > chance + 30
    assert {v.status for v in result.verdicts} <= {
        "reproduced",
        "partly",
        "not reproduced",
        "skipped",
    }


def test_both_protocols_and_numeric_verdicts(quick_run):
    data = json.loads((quick_run / "results" / "vision-stitching.json").read_text())
    result = ExperimentResult.from_dict(data)
    claims = [v.claim for v in result.verdicts]
    assert any(c.startswith("(a) frozen encoders, MLP <-> CNN") for c in claims)
    assert any(c.startswith("(b) end to end, within an architecture family") for c in claims)
    for verdict in result.verdicts:
        if verdict.status == "skipped":
            continue
        # every claim is a number against a threshold, and the status follows from them
        assert verdict.threshold is not None and verdict.measured is not None
        higher = verdict.comparison == ">="
        met = (
            verdict.measured >= verdict.threshold
            if higher
            else verdict.measured <= verdict.threshold
        )
        assert (verdict.status == "reproduced") == met
    end_to_end = result.data["end_to_end"]["stitching"]
    assert set(end_to_end["names"]) == set(result.data["stitching"]["names"])
    titles = [t.title for t in result.tables]
    assert any("by architecture pair" in t for t in titles)
    # the residual-CNN study: both variants, each read with plain and anchor-centred cosine
    residual = result.data["residual"]
    assert {(r["variant"], r["centring"]) for r in residual} == {
        (v, c) for v in ("resnet", "resgn") for c in ("plain cosine", "anchor-centred cosine")
    }
    plain = {r["variant"]: r for r in residual if r["centring"] == "plain cosine"}
    # GroupNorm before pooling spreads the untrained embeddings' directions
    assert plain["resgn"]["untrained_cosine"] < plain["resnet"]["untrained_cosine"]
    assert any(t.startswith("Residual CNN remedies") for t in titles)


def test_report_and_figures_written(quick_run):
    html = (quick_run / "report.html").read_text()
    assert "vision-stitching" in html and "data:image/png;base64," in html
    for name in ("space_views.png", "stitching_heatmaps.png", "stitching_heatmaps_end_to_end.png"):
        assert (quick_run / "figures" / name).stat().st_size > 1000
    manifest = json.loads((quick_run / "manifest.json").read_text())
    assert manifest["config"]["quick"] is True and "numpy" in manifest["packages"]


def test_rerun_refuses_then_resumes(quick_run, capsys):
    assert main(["reproduce", "vision-stitching", "--quick", "--output", str(quick_run)]) == 1
    assert "--overwrite" in capsys.readouterr().err
    assert (
        main(["reproduce", "vision-stitching", "--quick", "--output", str(quick_run), "--resume"])
        == 0
    )
    assert "already finished" in capsys.readouterr().err
    assert main(["report", str(quick_run)]) == 0
