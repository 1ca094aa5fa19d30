"""align.evaluate.unrelated_spaces_check: two unrelated random spaces must not align."""

from __future__ import annotations

import numpy as np
import pytest

from relreps.align.evaluate import unrelated_spaces_check


def test_unrelated_spaces_are_reported_failed_and_the_check_is_seeded():
    out = unrelated_spaces_check(400, 24, n_rounds=2, seed=3)
    assert set(out) == {"status", "score", "null"}
    assert out["status"] == "failed"
    assert -1.0 <= out["score"] <= 1.0 and -1.0 <= out["null"] <= 1.0
    assert unrelated_spaces_check(400, 24, n_rounds=2, seed=3) == out


def test_the_spaces_are_drawn_from_the_seed_and_every_row_is_matched(monkeypatch):
    import relreps.align.unpaired as unpaired  # imported lazily by the check: patch it there

    seen = {}
    original = unpaired.align_unpaired

    def spy(x, y, **kwargs):
        seen.update(x=x, y=y, **kwargs)
        return original(x, y, **kwargs)

    monkeypatch.setattr(unpaired, "align_unpaired", spy)
    unrelated_spaces_check(120, 8, n_rounds=1, seed=5)
    rng = np.random.default_rng(5)
    np.testing.assert_array_equal(seen["x"], rng.normal(size=(120, 8)))
    np.testing.assert_array_equal(seen["y"], rng.normal(size=(120, 8)))
    settings = seen["settings"]
    assert (settings.sample_size, settings.max_candidates, settings.n_rounds) == (120, 120, 1)
    assert seen["seed"] == 5


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [({"n_rows": 1}, "n_rows"), ({"dim": 0}, "dim"), ({"n_rounds": 0}, "n_rounds"),
     ({"seed": -1}, "seed")],
)  # fmt: skip
def test_bad_arguments_are_named(kwargs, name):
    args = {"n_rows": 50, "dim": 4, "n_rounds": 1, "seed": 0, **kwargs}
    with pytest.raises(ValueError, match=f"`{name}`"):
        unrelated_spaces_check(args.pop("n_rows"), args.pop("dim"), **args)
