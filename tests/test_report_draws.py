"""relreps.report.draws.summarise_draws: mean and sample std of score records per group."""

from __future__ import annotations

import numpy as np
import pytest

from relreps.report.draws import summarise_draws


def _pair(record):
    return record["pair"]


def test_groups_in_order_with_mean_sample_std_and_kept_columns():
    rows = [
        {"pair": "b", "n": 7, "jaccard@5": 0.1, "mrr@5": 0.5, "seed": 0},
        {"pair": "a", "n": 9, "jaccard@5": 0.2, "mrr@5": 0.3, "seed": 0},
        {"pair": "b", "n": 7, "jaccard@5": 0.3, "mrr@5": 0.7, "seed": 1},
        {"pair": "b", "n": 7, "jaccard@5": 0.8, "mrr@5": 0.9, "seed": 2},
    ]
    got = summarise_draws(rows, _pair, ["jaccard@", "mrr@"], keep=["n"])
    assert list(got) == ["b", "a"]
    assert list(got["b"]) == ["n_draws", "n", "jaccard@5", "jaccard@5_std", "mrr@5", "mrr@5_std"]
    assert got["b"]["n_draws"] == 3 and got["b"]["n"] == 7
    np.testing.assert_allclose(got["b"]["jaccard@5"], np.mean([0.1, 0.3, 0.8]))
    np.testing.assert_allclose(got["b"]["mrr@5_std"], np.std([0.5, 0.7, 0.9], ddof=1))
    # one draw: no spread; "seed" matches no prefix, so it is not summarised
    assert got["a"] == {
        "n_draws": 1,
        "n": 9,
        "jaccard@5": 0.2,
        "jaccard@5_std": 0.0,
        "mrr@5": 0.3,
        "mrr@5_std": 0.0,
    }


def test_empty_records_give_an_empty_summary():
    assert summarise_draws([], _pair, ["jaccard@"]) == {}


@pytest.mark.parametrize(
    ("rows", "metrics", "keep", "match"),
    [
        ([{"pair": "a", "j": 1.0}], [], (), "metrics"),
        ([("a", 1.0)], ["j"], (), r"records\[0\]"),
        ([{"pair": "a", "j": 1.0}], ["j"], ["n"], "keep"),
        ([{"pair": "a", "j": 1.0}, {"pair": "a"}], ["j"], (), "column 'j'"),
    ],
)
def test_rejects_bad_input(rows, metrics, keep, match):
    with pytest.raises(ValueError, match=match):
        summarise_draws(rows, _pair, metrics, keep=keep)
