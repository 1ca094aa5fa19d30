"""relreps.metrics.anchored.retrieval_rows: table rows of anchor_draw_retrieval."""

from __future__ import annotations

import numpy as np
import pytest

from relreps.metrics.anchored import RETRIEVAL_METHODS, anchor_draw_retrieval, retrieval_rows


def _block(width: int = 4):
    x = np.random.default_rng(1).normal(size=(40, 4))
    return anchor_draw_retrieval(x, x[:, :width] * 2.0, 10, [0, 1, 2], directions=("a>b", "b>a"))


def test_rows_follow_the_block():
    block = _block()
    rows = retrieval_rows(block, {"relative": "rel."})
    assert len(rows) == 2 * len(RETRIEVAL_METHODS) + 1
    assert [r[0] for r in rows[:-1]] == ["a>b"] * 4 + ["b>a"] * 4
    assert [r[1] for r in rows[:4]] == ["absolute", "rel.", "relative-centred", "translation"]
    m, s = block["mean"]["b>a"]["translation"], block["std"]["b>a"]["translation"]
    assert rows[7][2:] == tuple(f"{m[k]:.3f} ± {s[k]:.3f}" for k in ("top1", "top10", "mrr"))
    assert rows[-1] == ("both", "chance", *(f"{block['chance'][k]:.4f}" for k in block["chance"]))


def test_undefined_methods_digits_and_no_chance_row():
    block = _block(width=3)  # widths differ: absolute undefined
    rows = retrieval_rows(block, methods=("absolute", "relative"), digits=1, chance=False)
    assert [r[1] for r in rows] == ["absolute", "relative"] * 2
    assert rows[0][2:] == (None, None, None) and rows[1][2].count(".") == 2
    assert len(rows[1][2].split(" ± ")[0].split(".")[1]) == 1


def test_bad_inputs():
    block = _block()
    with pytest.raises(ValueError, match="methods"):
        retrieval_rows(block, methods=("cosine",))
    with pytest.raises(ValueError, match="digits"):
        retrieval_rows(block, digits=-1)
