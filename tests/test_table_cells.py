"""The shared table-cell helpers (relreps.results) and the chance line (stitching.majority_f1)."""

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from relreps.results import mean_std, mean_std_text, rounded
from relreps.stitching import f1_score, majority_f1


def test_rounded_cells() -> None:
    assert rounded(1.23456, 3) == 1.235
    assert rounded(2, 1) == 2.0
    assert rounded(None) is None
    assert rounded(math.nan) is None
    assert rounded(math.inf) is None


def test_mean_std_matches_numpy_on_finite_values() -> None:
    values = np.array([[1.0, np.nan], [4.0, 7.0]])
    mean, std = mean_std(values)
    finite = np.array([1.0, 4.0, 7.0])
    assert (mean, std) == (float(finite.mean()), float(finite.std()))
    assert all(math.isnan(v) for v in mean_std([math.nan, math.inf]))
    assert all(math.isnan(v) for v in mean_std([]))


def test_mean_std_text() -> None:
    assert mean_std_text(81.234, 1.5) == "81.23 ± 1.50"
    assert mean_std_text(0.5, 0.25, 1) == "0.5 ± 0.2"
    assert mean_std_text(math.nan, 1.0) is None
    assert mean_std_text(None, None) is None


@given(st.lists(st.integers(0, 4), min_size=1, max_size=60))
def test_majority_f1_is_the_f1_of_predicting_the_majority(labels: list[int]) -> None:
    y = np.array(labels)
    majority = np.bincount(y).argmax()
    expected = f1_score(y, np.full_like(y, majority), average="weighted") * 100
    assert majority_f1(y) == pytest.approx(expected, abs=1e-9)


def test_majority_f1_errors() -> None:
    with pytest.raises(ValueError, match="labels"):
        majority_f1([])
    with pytest.raises(ValueError, match="labels"):
        majority_f1([0.5, 1.0])
    with pytest.raises(ValueError, match="labels"):
        majority_f1([-1, 0])


def test_claim_judges_like_judge() -> None:
    from relreps.results import Claim, judge

    claim = Claim("Relative heads stitch", "kept fraction", 0.9, partly=0.75, paper=0.85)
    assert claim.judge(0.95, detail="d") == judge(
        "Relative heads stitch", "kept fraction", 0.95, 0.9, partly=0.75, paper=0.85, detail="d"
    )
    assert claim.judge(0.8).status == "partly"
    assert claim.judge(0.5).status == "not reproduced"
    assert claim.judge(0.95, paper=0.7).paper == 0.7
    lower = Claim("Absolute fails", "points above chance", 10.0, comparison="<=")
    assert lower.judge(3.0).status == "reproduced"
    assert lower.judge(math.nan).status == "not reproduced"
    skipped = claim.skipped("not run")
    assert (skipped.status, skipped.detail, skipped.claim) == ("skipped", "not run", claim.claim)
    with pytest.raises(ValueError):
        Claim("c", "q", 0.5, partly=0.9).judge(0.6)
