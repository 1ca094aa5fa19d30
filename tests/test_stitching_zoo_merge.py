"""relreps.stitching.zoo.merge_groups and pair_group_table: pooling groups, groups as a table."""

from __future__ import annotations

import math

import numpy as np
import pytest

from relreps.stitching import StitchingResult
from relreps.stitching.zoo import PairGroup, merge_groups, pair_group_table, pair_groups

NAN = float("nan")


def _result(rel: np.ndarray, names: tuple[str, ...]) -> StitchingResult:
    absolute = np.full_like(rel, 10.0)
    np.fill_diagonal(absolute, 90.0)
    return StitchingResult(
        names=names,
        seeds=(0,),
        scoring="f1_weighted",
        higher_is_better=True,
        scores={"relative": rel[:, :, None], "absolute": absolute[:, :, None]},
        undefined=(),
        skipped_methods={},
        n_cached=0,
        seconds=0.0,
    )


def test_merged_stitched_score_is_the_mean_over_all_cells():
    names = ("mlp/s0", "mlp/s1", "mlp/s2", "cnn/s0", "cnn/s1")
    rel = np.arange(25, dtype=float).reshape(5, 5) + 50.0
    groups = pair_groups(_result(rel, names), lambda n: n.split("/")[0])
    within = merge_groups([g for g in groups if g.encoders == g.heads], "within")
    fams = np.array([n.split("/")[0] for n in names])
    cells = (fams[:, None] == fams[None, :]) & ~np.eye(5, dtype=bool)
    assert within.relative_stitched == pytest.approx(rel[cells].mean())
    assert within.n_cells == int(cells.sum()) == 8
    assert (within.encoders, within.heads) == ("within", "")
    # own means weighted by the groups' stitched cells: 6 mlp cells, 2 cnn cells
    mlp_own, cnn_own = np.diag(rel)[:3].mean(), np.diag(rel)[3:].mean()
    assert within.relative_own == pytest.approx((6 * mlp_own + 2 * cnn_own) / 8)
    assert within.kept == pytest.approx(within.relative_stitched / within.relative_own)


def test_merge_skips_nan_scores_and_handles_no_groups():
    a = PairGroup("a", "a", 80.0, 90.0, 91.0, NAN, 70.0, 3)
    b = PairGroup("b", "b", 40.0, 60.0, 61.0, 20.0, NAN, 1)
    merged = merge_groups([a, b], "m")
    assert merged.relative_stitched == pytest.approx(70.0)
    assert merged.absolute_stitched == 20.0 and merged.translation_stitched == 70.0
    empty = merge_groups([], "none")
    assert math.isnan(empty.relative_stitched) and empty.n_cells == 0 and math.isnan(empty.kept)
    zero = PairGroup("z", "z", 10.0, 10.0, 10.0, 10.0, 10.0, 0)  # no cells: no weight
    assert merge_groups([a, zero], "m").relative_stitched == 80.0
    with pytest.raises(TypeError, match="groups"):
        merge_groups(a, "m")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="dict"):
        merge_groups([a, {"encoders": "b"}], "m")  # type: ignore[list-item]


def test_pair_group_table_rows_and_validation():
    g = PairGroup("mlp", "cnn", 80.0, 90.0, 91.0, 10.04, NAN, 4)
    pooled = PairGroup("all", "", 70.0, 80.0, 81.0, 9.0, 60.0, 6)
    table = pair_group_table([g, pooled], "t", "n")
    assert (table.title, table.note, len(table.columns)) == ("t", "n", 10)
    assert table.rows[0] == ("mlp", "cnn", 90.0, 80.0, 0.889, 91.0, 0.879, 10.0, None, 4)
    assert table.rows[1][:2] == ("all", "-")
    assert pair_group_table([], "t").rows == ()
    with pytest.raises(TypeError, match="groups"):
        pair_group_table([1], "t")  # type: ignore[list-item]
