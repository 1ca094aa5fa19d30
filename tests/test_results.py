"""Numeric verdicts: the rule is data, judged by one function."""

from __future__ import annotations

import json
import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from relreps.results import ExperimentResult, Verdict, judge, kept_fraction


def test_judge_statuses_follow_the_thresholds() -> None:
    assert judge("c", "kept fraction", 0.95, 0.9).status == "reproduced"
    assert judge("c", "kept fraction", 0.9, 0.9).status == "reproduced"  # the bar is inclusive
    assert judge("c", "kept fraction", 0.8, 0.9, partly=0.75).status == "partly"
    assert judge("c", "kept fraction", 0.7, 0.9, partly=0.75).status == "not reproduced"
    assert judge("c", "kept fraction", 0.8, 0.9).status == "not reproduced"
    assert judge("c", "kept fraction", math.nan, 0.9, partly=0.1).status == "not reproduced"


def test_judge_lower_is_better() -> None:
    assert judge("c", "F1 over chance", 5.0, 10.0, comparison="<=").status == "reproduced"
    assert judge("c", "F1 over chance", 15.0, 10.0, comparison="<=", partly=20.0).status == (
        "partly"
    )
    assert judge("c", "F1 over chance", 25.0, 10.0, comparison="<=", partly=20.0).status == (
        "not reproduced"
    )


def test_judge_records_the_rule_and_the_paper_figure() -> None:
    v = judge("c", "kept fraction", 0.971, 0.9, paper=0.853, detail="stitched 80 vs 82")
    assert (v.measured, v.threshold, v.paper, v.comparison) == (0.971, 0.9, 0.853, ">=")
    assert v.detail == (
        "stitched 80 vs 82; kept fraction = 0.971 (reproduced at >= 0.900; paper 0.853)"
    )


@given(
    measured=st.floats(-10, 10, allow_nan=False),
    threshold=st.floats(-10, 10, allow_nan=False),
)
def test_judge_is_monotone_in_the_measured_figure(measured: float, threshold: float) -> None:
    status = judge("c", "q", measured, threshold).status
    assert status == ("reproduced" if measured >= threshold else "not reproduced")
    flipped = judge("c", "q", measured, threshold, comparison="<=").status
    assert flipped == ("reproduced" if measured <= threshold else "not reproduced")


def test_judge_errors() -> None:
    with pytest.raises(ValueError, match="`comparison`"):
        judge("c", "q", 1.0, 0.5, comparison=">")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="`threshold`"):
        judge("c", "q", 1.0, math.nan)
    with pytest.raises(ValueError, match="`partly` to be looser"):
        judge("c", "q", 1.0, 0.5, partly=0.6)
    with pytest.raises(ValueError, match="`partly` to be looser"):
        judge("c", "q", 1.0, 0.5, comparison="<=", partly=0.4)


def test_kept_fraction() -> None:
    assert kept_fraction(80.0, 80.0) == 1.0
    assert kept_fraction(40.0, 80.0) == 0.5
    assert kept_fraction(4.0, 2.0, higher_is_better=False) == 0.5
    assert math.isnan(kept_fraction(math.nan, 80.0))
    assert math.isnan(kept_fraction(10.0, 0.0))


def test_verdicts_round_trip_through_json_even_when_nan() -> None:
    verdicts = (
        judge("a", "kept fraction", 0.93, 0.9, paper=0.85),
        judge("b", "kept fraction", math.nan, 0.9),
        Verdict("c", "skipped", "no data"),
    )
    result = ExperimentResult("x", "X", "paper", {}, verdicts=verdicts)
    back = ExperimentResult.from_dict(json.loads(result.to_json()))
    assert back.verdicts[0] == verdicts[0]
    assert math.isnan(back.verdicts[1].measured or 0.0) and back.verdicts[1].threshold == 0.9
    assert back.verdicts[2] == verdicts[2]
