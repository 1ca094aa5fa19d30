"""relreps.stitching.ablation: the one-factor-at-a-time head settings, the ablation, its table."""

from __future__ import annotations

import math

import numpy as np
import pytest

from relreps.similarity import similarities
from relreps.stitching import HeadConfig, Space
from relreps.stitching.ablation import (
    AblationRow,
    ablation_table,
    head_ablation,
    head_settings,
)


def test_head_settings_mark_the_default_once_per_factor():
    settings = head_settings(HeadConfig(), 300, (10, 50), epochs=(5, 20))
    factors = {s.factor for s in settings}
    assert factors == {"head", "norm", "anchors", "centring", "similarity", "training"}
    for factor in factors:
        assert sum(s.default for s in settings if s.factor == factor) == 1, factor
    anchors = [s.label for s in settings if s.factor == "anchors"]
    assert anchors == ["10", "50", "300"]  # the default count is added once
    assert [s.label for s in settings if s.factor == "training"] == ["5 epochs", "20 epochs"]
    similarity = [s.change["similarity"] for s in settings if s.factor == "similarity"]
    assert similarity == [s.name for s in similarities()]
    mlp = head_settings(HeadConfig(head="mlp", center="anchors", epochs=3), epochs=(5,))
    assert [s.label for s in mlp if s.default and s.factor in ("head", "centring")] == [
        "MLP (128 hidden)",
        "anchor-centred cosine",
    ]
    assert [s.label for s in mlp if s.factor == "training"] == ["5 epochs", "3 epochs"]
    assert [s.label for s in mlp if s.factor == "anchors" and s.default] == ["300"]


def test_head_settings_validate():
    with pytest.raises(TypeError, match="head"):
        head_settings({"head": "linear"})  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="anchor_counts"):
        head_settings(HeadConfig(), 30, (0,))
    with pytest.raises(ValueError, match="n_anchors"):
        head_settings(HeadConfig(), 0)


def _spaces(n_train: int = 80, n_test: int = 40) -> tuple[list[Space], np.ndarray, np.ndarray]:
    """Two noisy linear views of the same 2-class points: stitchable by construction."""
    rng = np.random.default_rng(0)
    y_tr, y_te = np.arange(n_train) % 2, np.arange(n_test) % 2
    spaces = []
    for seed in (1, 2):
        w = np.random.default_rng(seed).normal(size=(2, 5))
        x_tr = np.eye(2)[y_tr] @ w + rng.normal(size=(n_train, 5)) * 0.2
        x_te = np.eye(2)[y_te] @ w + rng.normal(size=(n_test, 5)) * 0.2
        spaces.append(Space(f"s{seed}", x_tr, x_te, x_tr[:3]))
    return spaces, y_tr, y_te


def test_head_ablation_rows_one_per_setting_and_defaults_agree(tmp_path):
    spaces, y_tr, y_te = _spaces()
    head = HeadConfig(epochs=2, min_steps=20)
    seen: list[AblationRow] = []
    rows = head_ablation(spaces, y_tr, y_te, head=head, n_anchors=8, anchor_counts=(4, 1000),
                         epochs=(2, 4), cache_dir=tmp_path, on_row=seen.append)  # fmt: skip
    settings = head_settings(head, 8, (4, 1000), epochs=(2, 4))
    # 1000 anchors > 80 training rows: that setting is left out
    assert [(r.factor, r.setting) for r in rows] == [
        (s.factor, s.label) for s in settings if s.label != "1000"
    ]
    assert list(rows) == seen
    defaults = [r for r in rows if r.default]
    assert len(defaults) == 6  # one per factor, all the same head: the same (cached) cells
    assert len({(round(r.own, 9), round(r.stitched, 9)) for r in defaults}) == 1
    assert all(0.0 <= r.own <= 1.0 and 0.0 <= r.stitched <= 1.0 for r in rows)  # accuracy
    assert defaults[0].own > 0.9 and defaults[0].kept > 0.8  # separable, linearly related views


def test_head_ablation_validates_spaces():
    spaces, y_tr, y_te = _spaces()
    with pytest.raises(TypeError, match="spaces"):
        head_ablation(spaces[:1], y_tr, y_te)
    with pytest.raises(TypeError, match="spaces"):
        head_ablation([spaces[0], "b"], y_tr, y_te)  # type: ignore[list-item]


def test_ablation_table_and_kept():
    rows = [AblationRow("norm", "l2", 80.0, 60.0, True), AblationRow("b", "t", math.nan, 50.0)]
    table = ablation_table(rows, "title", "note")
    assert table.columns == ("factor", "setting", "not stitched", "stitched", "kept", "default")
    assert table.rows == (("norm", "l2", 80.0, 60.0, 0.75, "yes"), ("b", "t", None, 50.0, None, ""))
    assert (table.title, table.note) == ("title", "note")
    with pytest.raises(TypeError, match="rows"):
        ablation_table([("norm", "l2")], "t")  # type: ignore[list-item]
