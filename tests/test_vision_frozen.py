"""Protocol (a) pieces: family names, head seeds, the ablation and the run folder."""

from __future__ import annotations

import math
import os
from pathlib import Path

import pytest

from relreps.experiments._repro_torch import torch_threads
from relreps.experiments._vision_frozen import FrozenConfig, run_frozen
from relreps.experiments._vision_zoo import Arch, family, head_seed
from relreps.experiments.base import RunContext

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
