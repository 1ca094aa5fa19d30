"""relreps.stitching.zoo: per-model stitched means and table, matrix_table with std cells."""

from __future__ import annotations

import math

import numpy as np
import pytest

from relreps.stitching import StitchingResult
from relreps.stitching.zoo import matrix_table, model_stitched_means, model_table

NAMES = ("a", "b", "c")
REL = np.array([[90.0, 80.0, 60.0], [70.0, 88.0, 50.0], [40.0, 30.0, 86.0]])


def _result(scores: dict[str, np.ndarray], names: tuple[str, ...] = NAMES) -> StitchingResult:
    return StitchingResult(
        names=names,
        seeds=tuple(range(next(iter(scores.values())).shape[2])),
        scoring="f1_weighted",
        higher_is_better=True,
        scores=scores,
    )


def test_model_means_use_the_row_and_column_off_the_diagonal():
    means = model_stitched_means(_result({"relative": REL[:, :, None]}), "relative")
    assert list(means) == list(NAMES)
    # b encodes for a and c (70, 50) and its head reads a and c (80, 30); its own 88 is left out
    assert means["b"] == pytest.approx((70 + 50 + 80 + 30) / 4)
    # against a brute-force mask over the matrix
    for i, name in enumerate(NAMES):
        mask = np.zeros((3, 3), dtype=bool)
        mask[i, :] = mask[:, i] = True
        mask[i, i] = False
        assert means[name] == pytest.approx(REL[mask].mean())


def test_model_means_skip_undefined_cells_and_average_over_seeds():
    rel = np.stack([REL, REL + 2.0], axis=2)  # seed means: REL + 1
    rel[0, 1, :] = np.nan  # a -> b undefined on both seeds
    means = model_stitched_means(_result({"relative": rel}), "relative")
    assert means["a"] == pytest.approx((61 + 71 + 41) / 3)
    absolute = np.full((2, 2, 1), np.nan)
    absolute[0, 0] = absolute[1, 1] = 90.0  # only the diagonal is defined
    only_own = model_stitched_means(_result({"absolute": absolute}, ("x", "y")), "absolute")
    assert all(math.isnan(v) for v in only_own.values())


def test_model_means_validate():
    result = _result({"relative": REL[:, :, None]})
    with pytest.raises(ValueError, match="method"):
        model_stitched_means(result, "absolute")
    with pytest.raises(TypeError, match="StitchingResult"):
        model_stitched_means({"relative": REL}, "relative")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="at least two models"):
        model_stitched_means(_result({"relative": REL[:1, :1, None]}, ("a",)), "relative")


def test_model_table_rows_columns_and_labels():
    result = _result({"relative": REL[:, :, None], "translation": (REL + 1.0)[:, :, None]})
    table = model_table(result, ["translation", "relative"], "t", labels={"relative": "rel"},
                        corner="encoder", note="n", digits=1)  # fmt: skip
    assert table.columns == ("encoder", "translation", "rel")
    assert table.note == "n"
    assert table.rows[2] == ("c", 45.0 + 1.0, 45.0)  # c: (40 + 30 + 60 + 50) / 4
    assert model_table(result, [], "t").rows == (("a",), ("b",), ("c",))
    with pytest.raises(ValueError, match="methods"):
        model_table(result, ["absolute"], "t")
    with pytest.raises(TypeError, match="sequence"):
        model_table(result, "relative", "t")


def test_matrix_table_with_std_cells():
    rel = np.stack([REL, REL + 2.0], axis=2)
    rel[2, 0, :] = np.nan
    table = matrix_table(_result({"relative": rel}), "relative", "m", with_std=True, note="x")
    assert table.note == "x"
    assert table.columns == ("encoder \\ head", *NAMES)
    assert table.rows[0] == ("a", "91.0 ± 1.0", "81.0 ± 1.0", "61.0 ± 1.0")
    assert table.rows[2][1] is None  # undefined cell
    two_digits = matrix_table(_result({"relative": rel}), "relative", "m", 2, with_std=True)
    assert two_digits.rows[1][2] == "89.00 ± 1.00"
