"""relreps.align.check: the self-consistency check searched against all rows of Y."""

from __future__ import annotations

import numpy as np
import pytest

from relreps.align.check import AllRowsCheck, null_against_all, translated_matches
from relreps.align.consistency import null_structure
from relreps.translate import Procrustes

pytest.importorskip("ot")


def _space(n: int, d: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return rng.gamma(2.0, size=(n, d)) * np.linspace(3.0, 0.5, d)


def _rotation(d: int, seed: int) -> np.ndarray:
    q, _ = np.linalg.qr(np.random.default_rng(seed).normal(size=(d, d)))
    return q


def test_the_matches_of_an_exact_map_are_the_true_partners_among_all_rows():
    x = _space(20000, 24, 0)
    q = _rotation(24, 1)
    perm = np.random.default_rng(2).permutation(x.shape[0])
    y = (2.0 * x @ q + 0.5)[perm]
    truth = np.argsort(perm)
    fitted = Procrustes().fit(x[:200], y[truth[:200]])
    found = translated_matches(x, y, fitted, n_rows=400, seed=3)
    assert len(found) >= 396 and found.match_rate >= 0.99
    assert np.all(truth[found.x_rows] == found.y_rows)
    assert len(np.unique(found.x_rows)) == len(found)


def test_a_large_space_passes_where_independent_samples_share_few_partners():
    # 30,000 rows, 400 checked: any 400-row Y sample would hold about 5 of their partners.
    x = _space(30000, 32, 4)
    q = _rotation(32, 5)
    y = x @ q + 0.05 * np.random.default_rng(6).normal(size=x.shape)
    check = AllRowsCheck(x, y, threshold=0.5, n_rows=400, seed=0)
    result = check(Procrustes().fit(x[:100], y[:100]))
    assert result.passed and result.score > 0.95 and result.match_rate > 0.9
    assert result.null_score < 0.5
    wrong = check(Procrustes().fit(x[:100], y[100:200]))  # fitted on mismatched pairs
    assert not wrong.passed and wrong.score < result.score - 0.3
    assert check.null == result.null_score  # computed once per check


def test_the_null_is_not_fooled_by_a_rotation_drawn_from_the_same_seed():
    # A copy rotated by default_rng(s)'s first matrix; the null's map must not be that matrix.
    x = _space(3000, 20, 7)
    for s in (0, 1, 2):
        q = _rotation(20, s)
        assert null_against_all(x, x @ q, n_rows=500, seed=s) < 0.6
        assert null_against_all(x, x @ q, n_rows=500, seed=max(0, s - 1)) < 0.6


def test_the_null_matches_the_sample_null_on_small_spaces():
    # With every row of Y in the candidate set both nulls see chance structure only.
    rng = np.random.default_rng(8)
    x, y = rng.normal(size=(1500, 50)), rng.normal(size=(1500, 50))
    assert abs(null_against_all(x, y, n_rows=1500) - null_structure(x, y, n_rows=1500)) < 0.15


def test_unrelated_spaces_fail_the_check_under_the_best_fit_on_them():
    rng = np.random.default_rng(9)
    x, y = rng.normal(size=(5000, 64)), rng.normal(size=(5000, 64))
    check = AllRowsCheck(x, y, threshold=0.5, n_rows=500)
    assert not check(Procrustes().fit(x[:2000], y[:2000])).passed


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"n_rows": 2}, "n_rows"),
        ({"threshold": 1.5}, "threshold"),
        ({"margin": -0.1}, "margin"),
        ({"seed": -1}, "seed"),
    ],
)
def test_bad_settings_are_named(kwargs, message):
    x = _space(50, 4, 0)
    with pytest.raises(ValueError, match=message):
        AllRowsCheck(x, x, **{"threshold": 0.5, **kwargs})


def test_translated_matches_rejects_too_few_rows():
    x = _space(50, 4, 0)
    fitted = Procrustes().fit(x, x)
    with pytest.raises(ValueError, match="n_rows"):
        translated_matches(x, x, fitted, n_rows=1)


def test_polish_refits_on_partners_found_among_all_rows():
    from relreps.align.fit import polish_refined
    from relreps.align.matching import Matches
    from relreps.align.refine import Refined
    from relreps.metrics import knn

    x = _space(20000, 32, 10)
    y = x @ _rotation(32, 11) + 0.3 * np.random.default_rng(12).normal(size=x.shape)
    rng = np.random.default_rng(13)
    # Half the anchors wrong: the map is poor (top-1 0.27) but points the right way.
    right = rng.choice(20000, size=100, replace=False)
    wrong = rng.choice(20000, size=(100, 2), replace=False)
    pairs = np.concatenate([np.stack([right, right], axis=1), wrong]).astype(np.int64)
    fitted = Procrustes().fit(x[pairs[:, 0]], y[pairs[:, 1]])
    empty = Matches(*(np.zeros(0, dtype=np.int64),) * 2, *(np.zeros(0),) * 2, 0, 0, "csls")
    fixed = np.arange(pairs.shape[0]) < 3  # the first three right pairs play the given seeds
    refined = Refined(pairs, np.zeros(pairs.shape[0]), fixed, (), fitted, empty)
    check = AllRowsCheck(x, y, threshold=0.5, n_rows=400)
    polished = polish_refined(check, refined, Procrustes, n_rows=2000, seed=0)

    def top1(t):
        held = np.arange(19000, 20000)
        return float(np.mean(np.asarray(knn(t.transform(x[held]), y, 1).indices)[:, 0] == held))

    assert top1(fitted) < 0.5 and top1(polished.translator) > 0.95
    assert np.array_equal(polished.pairs[:3], pairs[:3]) and polished.fixed[:3].all()
    assert not polished.fixed[3:].any() and polished.pairs.shape[0] > 1000
    assert polish_refined(check, refined, Procrustes, n_rows=0, seed=0) is refined


def test_polish_rows_must_be_zero_or_at_least_three():
    from relreps.align import RefineSettings, bootstrap_alignment

    x = _space(50, 4, 0)
    with pytest.raises(ValueError, match="polish_rows"):
        bootstrap_alignment(x, x, [[0, 0], [1, 1], [2, 2]], settings=RefineSettings(polish_rows=2))
