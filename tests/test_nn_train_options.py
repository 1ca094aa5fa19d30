"""relreps.nn.fit options: SGD, explicit validation rows, last weights, the per-epoch hook."""

from __future__ import annotations

import copy

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from torch import nn  # noqa: E402
from torch.nn import functional as F  # noqa: E402

from relreps.nn import TrainConfig, fit, seeded  # noqa: E402


def _data(n: int = 90) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(0)
    x = torch.randn(n, 5, generator=g)
    return x, (x[:, 0] + 0.5 * x[:, 1] > 0).long()


def _model(seed: int = 0) -> nn.Module:
    with seeded(seed):
        return nn.Sequential(nn.Linear(5, 8), nn.Tanh(), nn.Linear(8, 2))


def _ce(model: nn.Module, x: torch.Tensor, y: torch.Tensor | None, _: torch.Generator):
    assert y is not None
    return F.cross_entropy(model(x), y)


def test_sgd_on_every_row_is_the_plain_loop():
    """val_rows=[]: no split draw, so the generator's first draw is the first batch order."""
    x, y = _data()
    config = TrainConfig(epochs=3, batch_size=16, lr=0.05, seed=4, optimizer="sgd", momentum=0.9,
                         restore_best=False, progress=False)  # fmt: skip
    model = _model()
    history = fit(model, x, y, config=config, loss_fn=_ce, val_rows=[])

    manual = _model()
    optimizer = torch.optim.SGD(manual.parameters(), lr=0.05, momentum=0.9)
    gen = torch.Generator().manual_seed(4)
    for _ in range(3):
        order = torch.randperm(len(x), generator=gen)
        for start in range(0, len(x), 16):
            batch = order[start : start + 16]
            optimizer.zero_grad()
            F.cross_entropy(manual(x[batch]), y[batch]).backward()
            optimizer.step()
    for a, b in zip(model.parameters(), manual.parameters(), strict=True):
        assert torch.equal(a, b)
    assert history.val_loss == () and history.epochs_run == 3 and history.best_epoch == 2
    assert not model.training


def test_sgd_and_adam_differ_and_momentum_matters():
    x, y = _data()

    def weights(**options) -> torch.Tensor:
        model = _model()
        fit(model, x, y, config=TrainConfig(epochs=2, progress=False, **options), loss_fn=_ce)
        return torch.cat([p.detach().flatten() for p in model.parameters()])

    adam, sgd = weights(), weights(optimizer="sgd", lr=0.1)
    assert not torch.equal(adam, sgd)
    assert not torch.equal(sgd, weights(optimizer="sgd", lr=0.1, momentum=0.5))


def test_the_hook_sees_every_epoch_and_restore_best_picks_the_weights():
    x, y = _data()
    seen: list[tuple[int, dict[str, torch.Tensor]]] = []

    def hook(epoch: int, model: nn.Module) -> None:
        seen.append((epoch, copy.deepcopy(model.state_dict())))

    # a large learning rate makes the validation loss go up and down
    config = TrainConfig(epochs=8, lr=1.0, patience=8, seed=1, progress=False)
    model = _model()
    history = fit(model, x, y, config=config, loss_fn=_ce, on_epoch=hook)
    assert [e for e, _ in seen] == list(range(history.epochs_run))
    best = int(np.argmin(history.val_loss))
    assert history.best_epoch == best < history.epochs_run - 1  # not the last epoch
    for key, value in model.state_dict().items():
        assert torch.equal(value, seen[best][1][key])

    seen.clear()
    last = _model()
    kept = fit(last, x, y, config=TrainConfig(epochs=8, lr=1.0, patience=8, seed=1,
               progress=False, restore_best=False), loss_fn=_ce, on_epoch=hook)  # fmt: skip
    assert kept.train_loss == history.train_loss  # the same run, other weights kept
    assert kept.best_epoch == kept.epochs_run - 1
    for key, value in last.state_dict().items():
        assert torch.equal(value, seen[-1][1][key])


def test_explicit_validation_rows_validate_and_do_not_train():
    x, y = _data(60)
    x = torch.cat([x, torch.arange(60.0)[:, None]], dim=1)  # last column: the row number
    val = np.array([5, 0, 33, 59])
    trained_rows: set[int] = set()

    def loss(model: nn.Module, xb: torch.Tensor, yb: torch.Tensor | None, _: torch.Generator):
        assert yb is not None
        if model.training:
            trained_rows.update(int(r) for r in xb[:, -1])
        return F.cross_entropy(model(xb[:, :5]), yb)

    model = _model()
    history = fit(model, x, y, config=TrainConfig(epochs=2, progress=False, restore_best=False),
                  loss_fn=loss, val_rows=val)  # fmt: skip
    assert trained_rows == set(range(60)) - set(val.tolist())
    with torch.no_grad():
        expected = float(F.cross_entropy(model(x[val][:, :5]), y[val]))
    assert history.val_loss[-1] == pytest.approx(expected, rel=1e-6)


@pytest.mark.parametrize(
    ("options", "match"),
    [
        ({"optimizer": "rmsprop"}, "optimizer"),
        ({"momentum": -0.1}, "momentum"),
        ({"momentum": 1.5}, "momentum"),
        ({"restore_best": 1}, "restore_best"),
    ],
)
def test_bad_options_are_named(options, match):
    with pytest.raises((ValueError, TypeError), match=match):
        TrainConfig(**options)


@pytest.mark.parametrize("rows", [[0, 90], [-1], [3, 3], [[1, 2]], [0.5], list(range(90))], ids=str)
def test_bad_validation_rows_are_named(rows):
    x, y = _data()
    with pytest.raises(ValueError, match="val_rows"):
        fit(_model(), x, y, config=TrainConfig(epochs=1, progress=False), loss_fn=_ce,
            val_rows=rows)  # fmt: skip


def test_a_hook_that_is_not_callable_is_refused():
    x, y = _data()
    with pytest.raises(TypeError, match="on_epoch"):
        fit(_model(), x, y, config=TrainConfig(epochs=1), loss_fn=_ce, on_epoch="log")
