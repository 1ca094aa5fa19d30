"""similarity-vs-performance: the measures, the grid, and the --quick run end to end."""

from __future__ import annotations

import json

import numpy as np
import pytest

pytest.importorskip("torch")
pytest.importorskip("scipy")

from relreps.cli import main
from relreps.experiments._similarity_report import status
from relreps.experiments.base import ExperimentResult
from relreps.experiments.similarity_vs_performance import (
    FULL,
    QUICK,
    paired_cosine,
    pearson,
    sample_models,
)
from relreps.report import render_markdown


def test_paired_cosine_matches_a_row_by_row_loop(rng):
    a, b = rng.normal(size=(7, 5)), rng.normal(size=(7, 5))
    expected = np.mean(
        [x @ y / np.linalg.norm(x) / np.linalg.norm(y) for x, y in zip(a, b, strict=True)]
    )
    assert paired_cosine(a, b) == pytest.approx(expected)
    assert paired_cosine(a, 3.0 * a) == pytest.approx(1.0)
    assert paired_cosine(np.zeros((2, 3)), b[:2, :3]) == 0.0  # zero rows: no NaN


def test_paired_cosine_errors():
    with pytest.raises(ValueError, match="`b` to be the shape of `a`"):
        paired_cosine(np.ones((2, 3)), np.ones((3, 3)))
    with pytest.raises(ValueError, match="`a`"):
        paired_cosine(np.ones(3), np.ones(3))


def test_row_centring_ignores_a_common_offset(rng):
    a, b = rng.normal(size=(6, 10)), rng.normal(size=(6, 10))
    shifted = a + 5.0  # same structure, large common offset
    assert paired_cosine(a, shifted) < 0.99
    assert paired_cosine(a, shifted, center_rows=True) == pytest.approx(1.0)
    expected = np.mean([np.corrcoef(x, y)[0, 1] for x, y in zip(a, b, strict=True)])
    assert paired_cosine(a, b, center_rows=True) == pytest.approx(expected)


def test_pearson_matches_numpy_and_is_undefined_when_degenerate(rng):
    x, y = rng.normal(size=20), rng.normal(size=20)
    assert pearson(x, y) == pytest.approx(np.corrcoef(x, y)[0, 1])
    assert pearson([1, 2], [3, 4]) is None  # too few points
    assert pearson([1, 1, 1], [1, 2, 3]) is None  # constant


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


def test_centred_similarity_is_stable_under_projection_rounding(rng):
    # relative rows of a collapsed model (cosines 1 - 1e-6 to every anchor) and ordinary ones
    flat = 1.0 - 1e-6 * rng.random(size=(50, 40))
    spread = rng.uniform(0.2, 0.9, size=(50, 40))
    reference = rng.uniform(0.0, 1.0, size=(100, 40))
    rows = np.vstack([flat, spread])
    base = paired_cosine(rows, reference, center_rows=True)
    for _ in range(5):
        noisy = rows * (1.0 + 1e-7 * rng.standard_normal(rows.shape))
        assert abs(paired_cosine(noisy, reference, center_rows=True) - base) < 1e-5
    # the flat rows count as zero rows: the score is the ordinary rows' mean, halved
    ordinary = paired_cosine(spread, reference[50:], center_rows=True)
    assert base == pytest.approx(ordinary / 2, abs=1e-12)


def test_centred_similarity_keeps_rows_just_above_the_flat_tolerance(rng):
    from relreps.experiments.similarity_vs_performance import FLAT_ROW_TOL

    direction = rng.normal(size=(3, 20))
    direction -= direction.mean(axis=1, keepdims=True)
    direction /= np.linalg.norm(direction, axis=1, keepdims=True)
    rows = 1.0 + 0.5 * direction  # spread well above the tolerance
    assert paired_cosine(rows, direction, center_rows=True) == pytest.approx(1.0)
    barely = 1.0 + 2 * FLAT_ROW_TOL * np.sqrt(20) * direction
    assert paired_cosine(barely, direction, center_rows=True) == pytest.approx(1.0)
