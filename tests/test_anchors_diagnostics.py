"""Anchor diagnostics: coverage, rank and conditioning, class counts, duplicates."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import torch

from relreps import anchors


def unit_rows(x: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    return np.divide(x, norms, out=np.zeros_like(x), where=norms > 0)


QUANTILES = [0.0, 0.05, 0.25, 0.5, 0.75, 0.95, 1.0]


def coverage_values(report: anchors.AnchorDiagnostics) -> list[float]:
    c = report.coverage
    return [c.min, c.p05, c.p25, c.median, c.p75, c.p95, c.max]


def test_cosine_coverage_rank_and_condition_match_numpy(rng) -> None:
    x = rng.normal(size=(500, 12))
    idx = anchors.random(500, 20, seed=0)
    report = anchors.diagnose(x, idx, chunk_size=64)
    nearest = (unit_rows(x) @ unit_rows(x[idx]).T).max(axis=1)
    np.testing.assert_allclose(coverage_values(report), np.quantile(nearest, QUANTILES))
    assert report.coverage.mean == pytest.approx(nearest.mean())
    assert report.coverage.measure == "cosine similarity"
    assert report.coverage.max == pytest.approx(1.0)  # the anchors cover themselves
    a = unit_rows(x[idx])
    assert report.rank == np.linalg.matrix_rank(a) == 12
    assert report.condition_number == pytest.approx(np.linalg.cond(a))
    assert (report.n_samples, report.n_anchors, report.n_features) == (500, 20, 12)
    assert report.duplicate_pairs == () and report.zero_anchors == () and report.problems == ()


def test_euclidean_coverage_is_nearest_distance(rng) -> None:
    x = rng.normal(size=(300, 5)) * 3.0 + 10.0
    anchor_matrix = rng.normal(size=(7, 5)) + 10.0
    report = anchors.diagnose(
        torch.from_numpy(x), torch.from_numpy(anchor_matrix), metric="euclidean"
    )
    dist = np.sqrt(((x[:, None, :] - anchor_matrix[None]) ** 2).sum(axis=2)).min(axis=1)
    np.testing.assert_allclose(coverage_values(report), np.quantile(dist, QUANTILES), rtol=1e-7)
    assert report.coverage.measure == "euclidean distance"
    assert report.condition_number == pytest.approx(np.linalg.cond(anchor_matrix))
    assert report.class_counts is None


def test_duplicates_zero_anchors_and_rank_deficiency_are_reported() -> None:
    x = np.array([[1.0, 0.0, 0.0], [2.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 0.0]])
    report = anchors.diagnose(x, [0, 1, 2, 3, 2])
    assert report.duplicate_pairs == ((0, 1), (2, 4))  # same direction; a repeated index
    assert report.zero_anchors == (3,)
    assert report.rank == 2 and math.isinf(report.condition_number)
    assert report.to_dict()["condition_number"] is None
    assert report.coverage.min == 0.0  # the zero sample is similar to nothing
    problems = " | ".join(report.problems)
    assert "rank-deficient (2 < 3)" in problems and "2 duplicate anchor pair(s)" in problems
    assert "1 all-zero anchor(s)" in problems
    euclid = anchors.diagnose(x, [0, 1, 2, 3, 2], metric="euclidean")
    assert euclid.duplicate_pairs == ((2, 4),) and euclid.zero_anchors == ()


def test_near_duplicates_follow_the_tolerance() -> None:
    x = np.array([[1.0, 0.0], [1.0, 1e-2], [0.0, 1.0]])  # cosine 1 - 5e-5
    assert anchors.diagnose(x, [0, 1, 2]).duplicate_pairs == ()
    assert anchors.diagnose(x, [0, 1, 2], duplicate_tol=1e-4).duplicate_pairs == ((0, 1),)


def test_class_counts_and_missing_classes(rng) -> None:
    labels = np.array(["cat"] * 10 + ["dog"] * 10 + ["eel"] * 5)
    x = rng.normal(size=(25, 4))
    report = anchors.diagnose(x, [0, 1, 12], labels=labels)
    assert report.class_counts == {"cat": 2, "dog": 1, "eel": 0}
    assert any("1 class(es) without anchors: ['eel']" in p for p in report.problems)
    balanced = anchors.diagnose(x, anchors.stratified(labels, 6, seed=0), labels=labels)
    assert balanced.class_counts == {"cat": 2, "dog": 2, "eel": 2}


def test_str_and_to_dict_are_readable_and_json_ready(rng) -> None:
    x = rng.normal(size=(40, 3))
    report = anchors.diagnose(x, [0, 1, 2, 2], labels=rng.integers(0, 2, size=40))
    text = str(report)
    assert text.splitlines()[0] == "4 anchors over 40 samples (3 features, cosine)"
    assert "coverage (cosine similarity to the nearest anchor): mean" in text
    assert "rank 3 of 3" in text and "duplicate anchor pairs: (2, 3)" in text
    assert "problems: 1 duplicate anchor pair(s)" in text
    data = json.loads(json.dumps(report.to_dict()))
    assert (
        data["duplicate_pairs"] == [[2, 3]] and data["coverage"]["measure"] == "cosine similarity"
    )
    assert sum(m for _, m in data["class_counts"]) == 4
    clean = str(anchors.diagnose(x, [0, 1, 2]))
    assert clean.endswith("problems: none")


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"anchors": [0, 9]}, ValueError, r"Expected `anchors` to be indices in \[0, 5\).*9"),
        ({"anchors": np.ones((2, 4))}, ValueError, r"same number of features"),
        ({"anchors": [0.5]}, TypeError, r"Expected `anchors` to be an array of integer"),
        ({"anchors": [0, 1], "labels": [0, 1]}, ValueError, r"one label per sample \(5 labels\)"),
        (
            {"anchors": np.ones((2, 3)), "labels": [0] * 5},
            ValueError,
            r"Expected `anchors` to be indices into `x` when `labels` is given",
        ),
        ({"anchors": [0], "metric": "l1"}, ValueError, r"Expected `metric` to be one of"),
        ({"anchors": [0], "duplicate_tol": 1.0}, ValueError, r"Expected `duplicate_tol`"),
        ({"anchors": [0], "duplicate_tol": -0.1}, ValueError, r"Expected `duplicate_tol`"),
        ({"anchors": [0], "chunk_size": 0}, ValueError, r"Expected `chunk_size` to be an int"),
        (
            {"anchors": np.array([[np.inf, 0.0, 0.0]])},
            ValueError,
            r"Expected `anchors` to contain only finite values",
        ),
    ],
)
def test_diagnose_rejects_bad_input(kwargs, error, match) -> None:
    x = np.arange(15.0).reshape(5, 3)
    with pytest.raises(error, match=match):
        anchors.diagnose(x, **kwargs)


def test_diagnose_rejects_mixed_array_libraries() -> None:
    with pytest.raises(TypeError, match=r"same array library"):
        anchors.diagnose(torch.ones(4, 2), np.ones((2, 2)))
    with pytest.raises(ValueError, match=r"Expected `x` to contain only finite values"):
        anchors.diagnose(np.array([[np.nan, 1.0]]), [0])
