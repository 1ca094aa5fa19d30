"""Protocol (a) pieces: family names, head seeds, pair groups, the ablation and the run folder."""

from __future__ import annotations

import math
import os
from pathlib import Path

import numpy as np
import pytest

from relreps.experiments._repro_torch import torch_threads
from relreps.experiments._vision_frozen import (
    FrozenConfig,
    chance_f1,
    pair_groups,
    run_frozen,
)
from relreps.experiments._vision_residual import mean_pairwise_cosine
from relreps.experiments._vision_zoo import Arch, family, head_seed
from relreps.experiments.base import RunContext
from relreps.stitching import StitchingResult

torch = pytest.importorskip("torch")


def test_family_and_head_seed():
    assert [family(n) for n in ("mlp64/s0", "cnn128/s2", "ae-mlp64/s1", "resnet64-gn/s0")] == [
        "mlp",
        "cnn",
        "ae",
        "resnet",
    ]
    seeds = {
        head_seed(Arch(n, k, 64), s)
        for n, k in (("mlp64", "mlp"), ("cnn64", "cnn"))
        for s in (0, 1)
    }
    assert len(seeds) == 4  # one head initialisation per (architecture, seed)
    assert head_seed(Arch("mlp64", "mlp", 64), 0) == head_seed(Arch("mlp64", "mlp", 64), 0)


def _result(rel: np.ndarray, absolute: np.ndarray, names: tuple[str, ...]) -> StitchingResult:
    return StitchingResult(
        names=names,
        seeds=(0,),
        metric="f1_weighted",
        higher_is_better=True,
        scores={"relative": rel[:, :, None], "absolute": absolute[:, :, None]},
        undefined=(),
        skipped_methods={},
        n_cached=0,
        seconds=0.0,
    )


def test_pair_groups_average_the_right_cells():
    names = ("mlp64/s0", "mlp64/s1", "cnn64/s0")
    rel = np.array([[90.0, 80.0, 70.0], [84.0, 88.0, 60.0], [50.0, 40.0, 86.0]])
    absolute = np.full((3, 3), 10.0)
    np.fill_diagonal(absolute, [91.0, 89.0, 87.0])
    groups = {(g.encoders, g.heads): g for g in pair_groups(_result(rel, absolute, names))}
    mm = groups[("mlp", "mlp")]
    assert mm.relative_stitched == pytest.approx(82.0)  # (80 + 84) / 2, off the diagonal
    assert mm.relative_own == pytest.approx(89.0)  # the mlp heads on their own encoders
    assert mm.kept == pytest.approx(82.0 / 89.0)
    assert mm.kept_vs_absolute == pytest.approx(82.0 / 90.0)
    assert groups[("cnn", "mlp")].relative_stitched == pytest.approx(45.0)
    assert groups[("mlp", "cnn")].relative_stitched == pytest.approx(65.0)
    assert groups[("mlp", "cnn")].absolute_own == pytest.approx(87.0)
    assert ("cnn", "cnn") not in groups  # one cnn model: no stitched cell


def test_chance_f1_of_balanced_and_skewed_labels():
    assert chance_f1(np.repeat(np.arange(10), 5)) == pytest.approx(100 * 0.1 * 0.2 / 1.1)
    assert chance_f1(np.array([0, 0, 0, 1])) == pytest.approx(100 * 0.75 * 1.5 / 1.75)


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
    """A tiny protocol (a) run on sklearn digits, from a RELATIVE run folder path."""
    cwd = tmp_path_factory.mktemp("cwd")
    config = FrozenConfig(
        archs=(Arch("mlp16", "mlp", 16), Arch("cnn16", "cnn", 16)),
        seeds=2,
        n_train=1200,
        n_test=300,
        n_anchors=40,
        encoder_epochs=8,
        batch_size=32,
        ablation=True,
        ablation_seeds=1,
        ablation_anchors=(10,),
        dataset="digits",
    )
    before = os.getcwd()
    os.chdir(cwd)
    try:
        with torch_threads(1):  # as run_config does: small models, a shared machine
            outcome = run_frozen(config, RunContext(Path("runs/tiny"), seed=0))
    finally:
        os.chdir(before)
    return cwd, outcome


def test_tiny_run_stitches_and_stays_in_its_folder(tiny_run):
    cwd, outcome = tiny_run
    overall = outcome.overall
    assert overall.relative_own > outcome.chance + 60  # digits: ~97 F1 at this size
    assert overall.relative_stitched > overall.absolute_stitched + 50
    assert overall.kept > 0.85
    assert [p.name for p in cwd.iterdir()] == ["runs"]
    assert not (cwd / "runs" / "tiny" / "runs").exists()  # no nested copy of the run folder
    assert len(outcome.verdicts) == 6 and all(v.threshold is not None for v in outcome.verdicts)


def test_tiny_run_ablation_rows(tiny_run):
    _, outcome = tiny_run
    factors = {row.factor for row in outcome.ablation}
    assert factors == {"head", "norm", "anchors", "centring", "similarity", "training", "baseline"}
    defaults = [row for row in outcome.ablation if row.default]
    # the default head appears once per factor, with the same figures each time (cached cells)
    assert len({(round(r.own, 6), round(r.stitched, 6)) for r in defaults}) == 1
    assert all(math.isfinite(r.stitched) and 0 <= r.stitched <= 100 for r in outcome.ablation)
    assert outcome.tables[-1].title.startswith("Head ablation")


def test_mean_pairwise_cosine_against_a_loop(rng):
    x = rng.normal(size=(30, 5)) + 2.0
    z = x / np.linalg.norm(x, axis=1, keepdims=True)
    pairs = [z[i] @ z[j] for i in range(30) for j in range(30) if i != j]
    assert mean_pairwise_cosine(x) == pytest.approx(np.mean(pairs))
    assert mean_pairwise_cosine(np.tile(x[:1], (4, 1))) == pytest.approx(1.0)
    assert mean_pairwise_cosine(x, n=10) == pytest.approx(mean_pairwise_cosine(x[:10]))
