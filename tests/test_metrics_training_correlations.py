"""metrics.correlation.training_correlations: a measure vs a score over the training of models."""

from __future__ import annotations

import math

import numpy as np
import pytest

pytest.importorskip("scipy")

from scipy.stats import pearsonr, spearmanr

from relreps.metrics.correlation import training_correlations


def _runs(seed: int = 0, n: int = 12) -> tuple[list[list[float]], list[list[float]]]:
    rng = np.random.default_rng(seed)
    measure, score = [], []
    for _ in range(n):
        steps = int(rng.integers(2, 7))
        m = np.cumsum(rng.random(steps))
        measure.append(m.tolist())
        score.append((10 * m + rng.normal(scale=2.0, size=steps)).tolist())
    return measure, score


def test_matches_scipy_within_across_and_pooled():
    measure, score = _runs()
    out = training_correlations(measure, score)
    final_m, final_s = [m[-1] for m in measure], [s[-1] for s in score]
    assert out["overall_pearson_final"] == pytest.approx(pearsonr(final_m, final_s).statistic)
    assert out["overall_spearman_final"] == pytest.approx(spearmanr(final_m, final_s).statistic)
    pooled = pearsonr(np.concatenate(measure), np.concatenate(score)).statistic
    assert out["pooled_pearson_all_epochs"] == pytest.approx(pooled)
    per_model = [
        pearsonr(m, s).statistic for m, s in zip(measure, score, strict=True) if len(m) > 2
    ]
    assert out["per_model_defined"] == len(per_model) < len(measure)  # 2 steps: no r
    assert out["per_model_pearson_median"] == pytest.approx(np.median(per_model))
    assert out["per_model_pearson_mean"] == pytest.approx(np.mean(per_model))
    assert out["per_model_positive_fraction"] == pytest.approx(np.mean(np.array(per_model) > 0))


def test_undefined_figures_are_none_or_nan():
    # constant score within each model and at the end: nothing is defined
    out = training_correlations([[1.0, 2.0, 3.0], [0.0, 1.0, 5.0]], [[4.0, 4.0, 4.0]] * 2)
    assert out["per_model_defined"] == 0 and out["per_model_pearson_median"] is None
    assert out["per_model_pearson_mean"] is None and out["per_model_positive_fraction"] is None
    assert out["overall_pearson_final"] is None and math.isnan(out["overall_spearman_final"])
    assert out["pooled_pearson_all_epochs"] is None
    # two models: no correlation across models, but each has its own r
    two = training_correlations([[1.0, 2.0, 3.0], [3.0, 2.0, 1.0]], [[1.0, 2.0, 4.0]] * 2)
    assert two["per_model_defined"] == 2 and two["per_model_positive_fraction"] == 0.5
    assert two["overall_pearson_final"] is None and math.isnan(two["overall_spearman_final"])


@pytest.mark.parametrize(
    ("measure", "score"),
    [
        ([], []),
        ([[1.0, 2.0]], []),
        ([[1.0, 2.0]], [[1.0]]),
        ([[]], [[]]),
        ([[1.0, math.nan, 2.0]] * 3, [[1.0, 2.0, 3.0]] * 3),
    ],
)
def test_bad_inputs_are_named(measure, score):
    with pytest.raises(ValueError, match=r"`(score|x)`"):
        training_correlations(measure, score)
