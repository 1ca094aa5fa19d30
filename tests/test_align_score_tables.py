"""align.evaluate.score_tables: every score of one comparison as a method x m table."""

from __future__ import annotations

import pytest

from relreps.align.evaluate import SCORE_TITLES, MethodScore, score_table, score_tables


def _scores(accuracy: float | None) -> list[MethodScore]:
    return [
        MethodScore("procrustes", 3, 0.51234, 0.6, accuracy, "ok", 0.0),
        MethodScore("procrustes", None, 0.9, 0.95, accuracy, "ok", 0.0),
        MethodScore("unpaired", 0, 0.0, 0.0, None, "failed", 1.0),
    ]


def test_one_table_per_score_titled_by_name_and_held_out_items():
    scores = _scores(0.8)
    tables = score_tables(scores, "toy", 150, note="N", digits=2)
    assert [t.title for t in tables] == [
        "toy: held-out top-1 (150 held-out items)",
        "toy: held-out MRR@10 (150 held-out items)",
        "toy: stitched accuracy (150 held-out items)",
    ]
    for table, scoring in zip(tables, SCORE_TITLES, strict=True):
        alone = score_table(scores, scoring, title=table.title, note="N", digits=2)
        assert (table.columns, table.rows, table.note) == (alone.columns, alone.rows, alone.note)
    assert tables[0].rows == (("procrustes", 0.51, 0.9, None), ("unpaired", None, None, "failed"))


def test_the_accuracy_table_is_left_out_without_accuracies_but_others_stay_even_empty():
    assert [t.title.split(": ")[1] for t in score_tables(_scores(None), "x", 5)] == [
        "held-out top-1 (5 held-out items)",
        "held-out MRR@10 (5 held-out items)",
    ]
    empty = score_tables([], "x", 5)
    assert len(empty) == 2 and all(t.rows == () for t in empty)


def test_bad_sizes_are_refused():
    with pytest.raises(ValueError, match="n_held"):
        score_tables(_scores(None), "x", 0)
    with pytest.raises(TypeError, match="n_held"):
        score_tables(_scores(None), "x", 2.5)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="digits"):
        score_tables(_scores(None), "x", 5, digits=-1)
