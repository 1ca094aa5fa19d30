"""relreps.stitching.zoo: encoder spaces, family groups, pooled groups and the result tables."""

from __future__ import annotations

import numpy as np
import pytest

from relreps.stitching import StitchingResult
from relreps.stitching.zoo import (
    encoder_spaces,
    matrix_table,
    pair_groups,
    pooled_group,
    summary_table,
)


def _result(
    rel: np.ndarray, absolute: np.ndarray | None, names: tuple[str, ...]
) -> StitchingResult:
    scores = {"relative": rel[:, :, None]}
    if absolute is not None:
        scores["absolute"] = absolute[:, :, None]
    return StitchingResult(
        names=names,
        seeds=(0,),
        scoring="f1_weighted",
        higher_is_better=True,
        scores=scores,
        undefined=(),
        skipped_methods={},
        n_cached=0,
        seconds=0.0,
    )


NAMES = ("mlp64/s0", "mlp64/s1", "cnn64/s0")
REL = np.array([[90.0, 80.0, 70.0], [84.0, 88.0, 60.0], [50.0, 40.0, 86.0]])
ABS = np.full((3, 3), 10.0)
np.fill_diagonal(ABS, [91.0, 89.0, 87.0])


def _family(name: str) -> str:
    return name[:3]


def test_pair_groups_average_the_right_cells():
    groups = {(g.encoders, g.heads): g for g in pair_groups(_result(REL, ABS, NAMES), _family)}
    mm = groups[("mlp", "mlp")]
    assert mm.relative_stitched == pytest.approx(82.0)  # (80 + 84) / 2, off the diagonal
    assert mm.relative_own == pytest.approx(89.0)  # the mlp heads on their own encoders
    assert mm.kept == pytest.approx(82.0 / 89.0)
    assert mm.kept_vs_absolute == pytest.approx(82.0 / 90.0)
    assert mm.translation_stitched == pytest.approx(10.0)  # no translation: absolute's cells
    assert groups[("cnn", "mlp")].relative_stitched == pytest.approx(45.0)
    assert groups[("mlp", "cnn")].relative_stitched == pytest.approx(65.0)
    assert groups[("mlp", "cnn")].absolute_own == pytest.approx(87.0)
    assert ("cnn", "cnn") not in groups  # one cnn model: no stitched cell


def test_pooled_group_all_pairs_across_families_and_subsets():
    result = _result(REL, ABS, NAMES)
    every = pooled_group(result, "all")
    off = REL[~np.eye(3, dtype=bool)]
    assert every.relative_stitched == pytest.approx(off.mean()) and every.n_cells == 6
    assert every.relative_own == pytest.approx(np.diag(REL).mean())
    cross = pooled_group(result, "x", across=_family)
    assert cross.relative_stitched == pytest.approx(np.mean([70.0, 60.0, 50.0, 40.0]))
    assert cross.n_cells == 4 and cross.heads == ""
    mlp_only = pooled_group(result, "mlp", keep=lambda n: n.startswith("mlp"))
    assert mlp_only.relative_stitched == pytest.approx(82.0)
    assert mlp_only.absolute_own == pytest.approx(90.0)


def test_nan_cells_are_left_out_and_an_empty_group_is_nan():
    rel = REL.copy()
    rel[0, 1] = np.nan
    group = pooled_group(_result(rel, ABS, NAMES), "mlp", keep=lambda n: n.startswith("mlp"))
    assert group.relative_stitched == pytest.approx(84.0)
    lone = pooled_group(_result(REL, ABS, NAMES), "cnn", keep=lambda n: n.startswith("cnn"))
    assert np.isnan(lone.relative_stitched) and np.isnan(lone.kept) and lone.n_cells == 0


def test_groups_need_absolute_and_relative_scores():
    with pytest.raises(ValueError, match="absolute and relative"):
        pair_groups(_result(REL, None, NAMES), _family)
    with pytest.raises(TypeError, match="StitchingResult"):
        pooled_group({"relative": REL}, "all")  # type: ignore[arg-type]


def test_summary_and_matrix_tables():
    result = _result(REL, ABS, NAMES)
    summary = summary_table(result, "title", "note")
    assert summary.columns[:3] == ("method", "setting", "F1 mean")
    rows = {(r[0], r[1]): r for r in summary.rows}
    assert rows[("relative", "stitched")][2] == pytest.approx(
        round(REL[~np.eye(3, dtype=bool)].mean(), 2)
    )
    assert rows[("absolute", "not stitched")][4] == 3
    matrix = matrix_table(result, "relative", "m")
    assert matrix.columns == ("encoder \\ head", *NAMES)
    assert matrix.rows[2] == ("cnn64/s0", 50.0, 40.0, 86.0)
    rel = REL.copy()
    rel[1, 2] = np.nan
    assert matrix_table(_result(rel, ABS, NAMES), "relative", "m").rows[1][3] is None
    with pytest.raises(ValueError, match="method"):
        matrix_table(result, "translation", "m")


def test_encoder_spaces_embed_train_test_and_anchor_rows():
    torch = pytest.importorskip("torch")
    x_train = np.arange(20, dtype=np.float32).reshape(10, 2)
    x_test = np.ones((3, 2), dtype=np.float32)
    double = torch.nn.Linear(2, 2, bias=False)
    with torch.no_grad():
        double.weight.copy_(2 * torch.eye(2))
    spaces = encoder_spaces({"id": torch.nn.Identity(), "double": double}, x_train, x_test, [4, 1],
                            batch_size=3)  # fmt: skip
    assert [s.name for s in spaces] == ["id", "double"]
    np.testing.assert_array_equal(spaces[1].train, 2 * x_train)
    np.testing.assert_array_equal(spaces[1].anchors, 2 * x_train[[4, 1]])
    assert spaces[0].test.shape == (3, 2) and spaces[0].anchor_ids == ["train:4", "train:1"]
    with pytest.raises(ValueError, match="anchor_idx"):
        encoder_spaces({"id": torch.nn.Identity()}, x_train, x_test, [10])
    with pytest.raises(ValueError, match="anchor_idx"):
        encoder_spaces({"id": torch.nn.Identity()}, x_train, x_test, [])
