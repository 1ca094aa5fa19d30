"""relreps.align.stability: an alignment that passes is run again and the two maps compared."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from relreps import align
from relreps.align.check import AllRowsCheck
from relreps.align.fit import check_stability, finish
from relreps.align.refine import Refined
from relreps.align.stability import map_agreement, restart_rows
from relreps.translate import Procrustes

pytest.importorskip("ot")

N_CLUSTERS = 10


def _clustered(n: int, d: int, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(x, labels, centres): 10 well-separated anisotropic clusters (a class-clustered space)."""
    rng = np.random.default_rng(seed)
    centres = 4.0 * rng.normal(size=(N_CLUSTERS, d))
    labels = rng.integers(0, N_CLUSTERS, size=n)
    x = centres[labels] + rng.normal(size=(n, d)) * np.linspace(1.5, 0.3, d)
    return x, labels, centres


def _rotation(d: int, seed: int) -> np.ndarray:
    q, _ = np.linalg.qr(np.random.default_rng(seed).normal(size=(d, d)))
    return q


def _copy(x: np.ndarray, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """A rotated, rescaled, shifted, noised copy of x with its rows shuffled; (y, truth)."""
    rng = np.random.default_rng(seed)
    perm = rng.permutation(x.shape[0])
    y = (2.0 * x @ _rotation(x.shape[1], seed + 1) + 0.5 + 0.05 * rng.normal(size=x.shape))[perm]
    return y, np.argsort(perm)  # truth[i]: the row of y that is row i of x


@settings(max_examples=4, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 2**16))
def test_a_rotated_noised_copy_of_a_clustered_space_passes_the_restart_check(seed):
    x, _, _ = _clustered(1500, 16, seed)
    y, truth = _copy(x, seed + 7)
    seeds = np.stack([np.arange(10), truth[:10]], axis=1)
    result = align.bootstrap_alignment(x, y, seeds, seed=seed % 1000)
    stable = result.consistency.stability
    assert result.ok and stable is not None and stable.passed and stable.conclusive
    assert stable.agreement > 0.9 and stable.null_agreement < 0.2
    assert stable.restart_method == "bootstrap" and stable.fraction == 0.9
    assert np.mean(truth[result.pairs[:, 0]] == result.pairs[:, 1]) > 0.95


def test_unpaired_copy_of_a_real_like_space_passes_and_reports_the_restart():
    rng = np.random.default_rng(3)
    x = rng.gamma(2.0, size=(1200, 8)) * np.linspace(3.0, 1.0, 8)
    y, truth = _copy(x, 4)
    result = align.align_unpaired(x, y, n_landmarks=150)
    assert result.ok, result.summary()
    stable = result.consistency.stability
    assert stable.passed and stable.conclusive and stable.agreement > 0.9
    assert stable.restart_method == result.method
    assert "restart agreement" in result.summary()
    assert result.to_dict()["consistency"]["stability"]["agreement"] == stable.agreement
    assert np.mean(truth[result.pairs[:, 0]] == result.pairs[:, 1]) > 0.95


def _cluster_map(x, y, lx, ly, perm, rng) -> Refined:
    """A wrong map: items of cluster c paired with random items of cluster perm[c]."""
    xs, ys = [], []
    for c in range(N_CLUSTERS):
        rows_x = np.flatnonzero(lx == c)
        rows_y = rng.permutation(np.flatnonzero(ly == perm[c]))
        k = min(rows_x.size, rows_y.size, 40)
        xs.append(rng.permutation(rows_x)[:k])
        ys.append(rows_y[:k])
    pairs = np.stack([np.concatenate(xs), np.concatenate(ys)], axis=1)
    t = Procrustes().fit(x[pairs[:, 0]], y[pairs[:, 1]])
    n = pairs.shape[0]
    empty = align.Matches(*(np.zeros(0, dtype=np.int64),) * 2, *(np.zeros(0),) * 2, 1, 1, "csls")
    return Refined(pairs, np.ones(n), np.zeros(n, dtype=bool), (), t, empty)


def test_a_cluster_permutation_map_passes_the_structure_but_fails_the_restart():
    x, labels, centres = _clustered(3000, 16, 11)
    q = _rotation(16, 12)
    y = 2.0 * x @ q + 0.05 * np.random.default_rng(13).normal(size=x.shape)
    centres_y = 2.0 * centres @ q

    def label(v, c):
        return np.argmin(((v[:, None, :] - c[None]) ** 2).sum(axis=2), axis=1)

    perm = np.roll(np.arange(N_CLUSTERS), 3)  # every cluster sent to another one
    first = _cluster_map(x, y, labels, label(y, centres_y), perm, np.random.default_rng(0))
    check = AllRowsCheck(x, y, threshold=0.5, n_rows=600, seed=0)
    structural = check(first.translator)

    def rerun(xs, ys, fixed, restart_seed):  # the same wrong procedure on the subsample
        rng = np.random.default_rng(restart_seed)
        return _cluster_map(xs, ys, label(xs, centres), label(ys, centres_y), perm, rng)

    judged = check_stability(check, first, structural, rerun, method="test",
                             make_translator=Procrustes, polish_rows=0, threshold=0.3,
                             seed=0)  # fmt: skip
    assert structural.passed  # the structural score alone lets this wrong map through
    assert not judged.passed and judged.stability is not None
    assert judged.stability.agreement < 0.3 and judged.score == structural.score
    assert judged.stability.conclusive  # the restart's wrong map passes the structure too
    failed = finish(x, y, first, "test", consistency=judged, diagnostics={}, settings={})
    assert failed.status == "failed" and failed.translator is None
    assert failed.failure_reason().startswith("restart agreement")
    with pytest.raises(align.AlignmentFailedError, match="restart agreement"):
        failed.transform(x[:3])
    # the agreement itself, whatever the structural verdict: two wrong maps disagree
    second = rerun(x, y, np.zeros((0, 2), dtype=np.int64), 99)
    wrong, null, _, _ = map_agreement(x, first.translator, second.translator,
                                      check._prepared(), check.y_mean)  # fmt: skip
    right = Procrustes().fit(x[:200], y[:200])
    again = Procrustes().fit(x[200:400], y[200:400])
    agree, _, _, _ = map_agreement(x, right, again, check._prepared(), check.y_mean)
    assert wrong < 0.3 and agree > 0.6 and agree > wrong + 0.3 and null < 0.1


def test_the_restart_check_can_be_turned_off_and_failed_maps_are_not_restarted():
    x, _, _ = _clustered(800, 12, 5)
    y, truth = _copy(x, 6)
    seeds = np.stack([np.arange(10), truth[:10]], axis=1)
    off = align.bootstrap_alignment(x, y, seeds, stability=False)
    assert off.ok and off.consistency.stability is None
    assert off.settings["stability"] is False
    rng = np.random.default_rng(0)
    u, v = rng.normal(size=(800, 40)), rng.normal(size=(800, 40))
    failed = align.align_unpaired(u, v, n_landmarks=100)
    assert failed.status == "failed" and failed.consistency.stability is None


def test_restart_rows_keep_the_given_pairs_and_are_seeded():
    rx, ry = restart_rows(1000, 400, [[5, 7], [999, 399]], fraction=0.9, seed=3)
    assert {5, 999} <= set(rx.tolist()) and {7, 399} <= set(ry.tolist())
    assert 900 <= rx.size <= 902 and 360 <= ry.size <= 362
    again = restart_rows(1000, 400, [[5, 7], [999, 399]], fraction=0.9, seed=3)
    assert np.array_equal(rx, again[0]) and np.array_equal(ry, again[1])
    other = restart_rows(1000, 400, [[5, 7], [999, 399]], fraction=0.9, seed=4)
    assert not np.array_equal(rx, other[0])


def test_map_agreement_compares_rows_outside_the_anchors_when_there_are_enough():
    x = np.random.default_rng(0).normal(size=(300, 6))
    t = Procrustes().fit(x, x)
    columns, mean = AllRowsCheck(x, x, threshold=0.5)._prepared(), x.mean(axis=0)
    _, _, n, held = map_agreement(x, t, t, columns, mean, exclude=np.arange(200))
    assert (n, held) == (100, True)
    _, _, n, held = map_agreement(x, t, t, columns, mean, exclude=np.arange(280))
    assert (n, held) == (300, False)


@pytest.mark.parametrize(
    ("call", "error", "message"),
    [
        (lambda x, s: align.bootstrap_alignment(x, x, s, stability="yes"), TypeError,
         "`stability` to be a bool"),
        (lambda x, s: align.bootstrap_alignment(x, x, s, stability_threshold=1.5), ValueError,
         r"`stability_threshold` to be a finite number in \[0.0, 1.0\], but got 1.5"),
        (lambda x, s: align.align_unpaired(x, x, stability=1), TypeError,
         "`stability` to be a bool"),
        (lambda x, s: align.align_unpaired(x, x, stability_threshold=-0.1), ValueError,
         "`stability_threshold`"),
        (lambda x, s: restart_rows(10, 10, s, fraction=0.0), ValueError, "`fraction`"),
        (lambda x, s: restart_rows(10, 10, s, fraction=1.5), ValueError, "`fraction`"),
        (lambda x, s: restart_rows(2, 10, s), ValueError, "`n_x`"),
    ],
)  # fmt: skip
def test_errors_name_the_argument(call, error, message):
    x = np.random.default_rng(0).normal(size=(50, 4))
    seeds = np.stack([np.arange(3), np.arange(3)], axis=1)
    with pytest.raises(error, match=message):
        call(x, seeds)


def test_a_restart_that_finds_no_alignment_is_inconclusive_and_the_verdict_stands():
    from relreps.align.stability import judge_stability

    common = {"threshold": 0.3, "n_rows": 100, "held_out": True, "fraction": 0.9,
              "restart_method": "m", "seconds": 0.0}  # fmt: skip
    assert not judge_stability(0.05, 0.0, **common, restart_score=0.8).passed
    stands = judge_stability(0.05, 0.0, **common, restart_score=0.2, conclusive=False)
    assert stands.passed and not stands.conclusive
    assert not judge_stability(0.35, 0.3, **common).passed  # too close to its null
    assert judge_stability(0.45, 0.3, **common).passed
