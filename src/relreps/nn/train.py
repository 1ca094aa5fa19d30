"""A small deterministic trainer in plain torch (no Lightning).

One seeded ``torch.Generator`` drives the validation split, the batch order and any sampling in the
model's loss (VAEs), so a run is a function of its inputs and ``TrainConfig.seed`` only. Early
stopping watches the loss on a held-out validation split and restores the best weights (or keeps
the last ones, ``restore_best=False``). The optimizer is Adam or SGD; a hook can look at the model
after every epoch. A tqdm progress bar appears only when stderr is a terminal (and tqdm is
installed).
"""

from __future__ import annotations

import copy
import math
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import torch
from torch import Tensor, nn
from torch.nn import functional as F

from relreps._validation import check_choice, check_float, check_int, fail
from relreps.nn.models import AbsoluteClassifier, RelativeClassifier, model_device

__all__ = [
    "ClassifierTriple",
    "TrainConfig",
    "TrainHistory",
    "as_tensor",
    "fit",
    "train_classifier_triple",
]

LossFn = Callable[[nn.Module, Tensor, Tensor | None, torch.Generator], Tensor]
EpochHook = Callable[[int, nn.Module], None]
OPTIMIZERS = ("adam", "sgd")


@dataclass
class TrainConfig:
    """Options of :func:`fit`.

    Attributes:
        epochs: maximum number of passes over the training split.
        batch_size: samples per optimisation step.
        lr: learning rate.
        weight_decay: weight decay (L2 penalty) of the optimizer.
        val_fraction: share of the data held out for early stopping (0 disables it).
        patience: epochs without a validation improvement before stopping.
        min_delta: smallest decrease of the validation loss that counts as an improvement.
        seed: seeds the split, the batch order and the loss's sampling.
        max_seconds: optional wall-clock budget; training stops after the epoch that exceeds it.
        progress: show a progress bar; None = only when stderr is a terminal.
        optimizer: ``"adam"`` or ``"sgd"``.
        momentum: SGD momentum (Adam ignores it).
        restore_best: end with the weights of the best epoch (lowest validation loss, or training
            loss without a validation split); False keeps the last epoch's weights.
    """

    epochs: int = 20
    batch_size: int = 128
    lr: float = 1e-3
    weight_decay: float = 0.0
    val_fraction: float = 0.1
    patience: int = 3
    min_delta: float = 0.0
    seed: int = 0
    max_seconds: float | None = None
    progress: bool | None = None
    optimizer: str = "adam"
    momentum: float = 0.0
    restore_best: bool = True

    def __post_init__(self) -> None:
        check_int(self.epochs, "epochs", low=1)
        check_int(self.batch_size, "batch_size", low=1)
        check_float(self.lr, "lr", low=0.0, low_inclusive=False)
        check_float(self.weight_decay, "weight_decay", low=0.0)
        check_float(self.val_fraction, "val_fraction", low=0.0, high=0.9)
        check_int(self.patience, "patience", low=1)
        check_float(self.min_delta, "min_delta", low=0.0)
        check_int(self.seed, "seed", low=0)
        if self.max_seconds is not None:
            check_float(self.max_seconds, "max_seconds", low=0.0, low_inclusive=False)
        if self.progress is not None and not isinstance(self.progress, bool):
            raise fail("progress", "True, False or None", repr(self.progress), TypeError)
        check_choice(self.optimizer, "optimizer", OPTIMIZERS)
        check_float(self.momentum, "momentum", low=0.0, high=1.0)
        if not isinstance(self.restore_best, bool):
            raise fail("restore_best", "True or False", repr(self.restore_best), TypeError)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class TrainHistory:
    """What happened in :func:`fit`.

    Attributes:
        train_loss: mean training loss per epoch.
        val_loss: validation loss per epoch (empty without a validation split).
        best_epoch: 0-based epoch whose weights were kept (the last one when
            ``restore_best=False``).
        epochs_run: epochs completed.
        stopped_early: True when patience ran out before ``epochs``.
        seconds: wall-clock time.
    """

    train_loss: tuple[float, ...]
    val_loss: tuple[float, ...]
    best_epoch: int
    epochs_run: int
    stopped_early: bool
    seconds: float
    config: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def as_tensor(x: Any, name: str, *, dtype: torch.dtype | None = None) -> Tensor:
    """numpy arrays and tensors -> tensor (no copy when possible); other types raise TypeError."""
    if isinstance(x, Tensor):
        out = x
    elif isinstance(x, np.ndarray):
        out = torch.from_numpy(np.ascontiguousarray(x))
    else:
        raise fail(name, "a torch.Tensor or numpy array", type(x).__name__, TypeError)
    if dtype is not None and out.dtype != dtype:
        out = out.to(dtype)
    return out


def _default_loss(model: nn.Module, x: Tensor, y: Tensor | None, gen: torch.Generator) -> Tensor:
    loss = getattr(model, "training_loss", None)
    if loss is None:
        raise fail(
            "model",
            "a module with training_loss(x, y, generator=...) or an explicit loss_fn",
            type(model).__name__,
            TypeError,
        )
    return loss(x, y, generator=gen)


def _progress(enabled: bool | None, total: int, desc: str) -> Any:
    if enabled is None:
        enabled = sys.stderr.isatty()
    if not enabled:
        return None
    try:
        from tqdm.auto import tqdm
    except ImportError:
        return None
    return tqdm(total=total, desc=desc, leave=False, file=sys.stderr)


def _checked_inputs(
    model: nn.Module, x: Any, y: Any, config: TrainConfig | None
) -> tuple[TrainConfig, Tensor, Tensor | None]:
    """Validate fit's arguments; x -> floating tensor, integer y -> int64."""
    config = TrainConfig() if config is None else config
    if not isinstance(config, TrainConfig):
        raise fail("config", "a relreps.nn.TrainConfig", type(config).__name__, TypeError)
    if not isinstance(model, nn.Module):
        raise fail("model", "a torch.nn.Module", type(model).__name__, TypeError)
    xt = as_tensor(x, "x")
    if not xt.is_floating_point():
        xt = xt.to(torch.float32)
    if xt.ndim < 2 or xt.shape[0] < 2:
        raise fail("x", "an array of shape (n_samples >= 2, ...)", f"shape {tuple(xt.shape)}")
    if bool(torch.isnan(xt).any()) or bool(torch.isinf(xt).any()):
        raise fail("x", "finite values", "NaN or Inf")
    yt = None if y is None else as_tensor(y, "y")
    if yt is not None:
        if yt.shape[0] != xt.shape[0]:
            raise fail("y", f"{xt.shape[0]} targets (one per row of x)", f"shape {tuple(yt.shape)}")
        if not yt.is_floating_point():
            yt = yt.to(torch.int64)
    return config, xt, yt


def _split(
    n: int, config: TrainConfig, gen: torch.Generator, val_rows: Any
) -> tuple[Tensor, Tensor]:
    """(validation, training) row indices: ``val_rows`` and the other rows in order, or a random
    ``val_fraction`` split from the first draw of ``gen``."""
    if val_rows is None:
        n_val = round(config.val_fraction * n)
        order = torch.randperm(n, generator=gen)
        val_idx, train_idx = order[:n_val], order[n_val:]
    else:
        rows = np.asarray(val_rows)
        if rows.ndim != 1 or (rows.size and not np.issubdtype(rows.dtype, np.integer)):
            raise fail(
                "val_rows", "a 1-D array of row indices", f"{rows.dtype} of shape {rows.shape}"
            )
        if rows.size and (rows.min() < 0 or rows.max() >= n or np.unique(rows).size < rows.size):
            raise fail("val_rows", f"distinct row indices in [0, {n})", f"{rows.tolist()[:10]}")
        val_idx = torch.from_numpy(rows.astype(np.int64))
        held = torch.zeros(n, dtype=torch.bool)
        held[val_idx] = True
        train_idx = torch.nonzero(~held).squeeze(1)
    if train_idx.numel() == 0:
        name, got = ("val_fraction", config.val_fraction) if val_rows is None else ("val_rows", n)
        raise fail(name, f"small enough to leave training samples out of {n}", repr(got))
    return val_idx, train_idx


def _optimizer(model: nn.Module, config: TrainConfig) -> torch.optim.Optimizer:
    params, lr, decay = model.parameters(), config.lr, config.weight_decay
    if config.optimizer == "sgd":
        return torch.optim.SGD(params, lr=lr, momentum=config.momentum, weight_decay=decay)
    return torch.optim.Adam(params, lr=lr, weight_decay=decay)


@dataclass(frozen=True)
class _Batches:
    """The training rows of one run, cut into batches moved to the model's device."""

    xt: Tensor
    yt: Tensor | None
    train_idx: Tensor
    batch_size: int
    device: torch.device

    @property
    def count(self) -> int:
        return math.ceil(self.train_idx.numel() / self.batch_size)


def _train_epoch(
    model: nn.Module,
    batches: _Batches,
    optimizer: torch.optim.Optimizer,
    loss_fn: LossFn,
    gen: torch.Generator,
    bar: Any,
) -> float:
    """One pass in a fresh random order (one draw of ``gen``); returns the mean training loss."""
    model.train()
    train_idx, size, device = batches.train_idx, batches.batch_size, batches.device
    perm = train_idx[torch.randperm(train_idx.numel(), generator=gen)]
    total = 0.0
    for b in range(batches.count):
        idx = perm[b * size : (b + 1) * size]
        xb = batches.xt[idx].to(device, non_blocking=True)
        yb = None if batches.yt is None else batches.yt[idx].to(device, non_blocking=True)
        loss = loss_fn(model, xb, yb, gen)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        total += float(loss.detach()) * idx.numel()
        if bar is not None:
            bar.update(1)
    return total / train_idx.numel()


def fit(
    model: nn.Module,
    x: Any,
    y: Any = None,
    *,
    config: TrainConfig | None = None,
    loss_fn: LossFn | None = None,
    val_rows: Any = None,
    on_epoch: EpochHook | None = None,
) -> TrainHistory:
    """Train ``model`` with Adam (or SGD), early stopping on a validation split, best weights
    restored (unless ``config.restore_best`` is False).

    Args:
        model: a relreps.nn model (or any module with ``training_loss(x, y, generator=...)``).
        x: inputs (n_samples, ...), tensor or numpy; converted to float32 unless already floating.
        y: targets (n_samples,) or None (reconstruction); integer labels become int64.
        config: a :class:`TrainConfig` (defaults if None).
        loss_fn: ``loss_fn(model, xb, yb, generator) -> scalar`` overriding ``training_loss``.
        val_rows: (n_val,) row indices of ``x`` to validate on instead of a random
            ``val_fraction`` split (the generator's first draw is then the first batch order); the
            other rows train, in order. Empty: every row trains, without validation.
        on_epoch: ``on_epoch(epoch, model)`` called after each epoch (0-based) and its validation,
            e.g. to log a measure of the model; it may leave the model in eval mode.

    Returns:
        A :class:`TrainHistory`. The model ends in eval mode with the best (or last) weights.

    Example:
        >>> from relreps.nn.models import AbsoluteClassifier, MLPEncoder
        >>> g = torch.Generator().manual_seed(0)
        >>> x = torch.randn(64, 4, generator=g)
        >>> y = (x[:, 0] > 0).long()
        >>> model = AbsoluteClassifier(MLPEncoder((4,), 8), 2)
        >>> history = fit(model, x, y, config=TrainConfig(epochs=3, batch_size=16))
        >>> history.epochs_run
        3
        >>> seen = []
        >>> sgd = TrainConfig(epochs=2, optimizer="sgd", momentum=0.9, restore_best=False)
        >>> _ = fit(model, x, y, config=sgd, val_rows=[], on_epoch=lambda e, m: seen.append(e))
        >>> seen
        [0, 1]
    """
    config, xt, yt = _checked_inputs(model, x, y, config)
    loss_fn = _default_loss if loss_fn is None else loss_fn
    if on_epoch is not None and not callable(on_epoch):
        raise fail("on_epoch", "a callable on_epoch(epoch, model)", repr(on_epoch), TypeError)

    gen = torch.Generator().manual_seed(config.seed)
    val_idx, train_idx = _split(xt.shape[0], config, gen, val_rows)
    n_val = val_idx.numel()
    optimizer = _optimizer(model, config)
    # batches are sliced on the host and moved to the model's device
    batches = _Batches(xt, yt, train_idx, config.batch_size, model_device(model))

    start = time.perf_counter()
    train_losses: list[float] = []
    val_losses: list[float] = []
    best = math.inf
    best_epoch = 0
    best_state: dict[str, Tensor] | None = None
    stale = 0
    stopped = False
    bar = _progress(config.progress, config.epochs * batches.count, type(model).__name__)
    try:
        for epoch in range(config.epochs):
            train_losses.append(_train_epoch(model, batches, optimizer, loss_fn, gen, bar))
            if n_val > 0:
                current = _evaluate(model, xt, yt, val_idx, config, loss_fn)
                val_losses.append(current)
            else:
                current = train_losses[-1]
            if bar is not None:
                bar.set_postfix(loss=f"{train_losses[-1]:.4f}", val=f"{current:.4f}")
            if on_epoch is not None:
                on_epoch(epoch, model)
            if current < best - config.min_delta:
                best, best_epoch, stale = current, epoch, 0
                if config.restore_best:
                    best_state = copy.deepcopy(model.state_dict())
            else:
                stale += 1
                if n_val > 0 and stale >= config.patience:
                    stopped = epoch + 1 < config.epochs
                    break
            if config.max_seconds is not None and time.perf_counter() - start > config.max_seconds:
                break
    finally:
        if bar is not None:
            bar.close()
    if best_state is not None:
        model.load_state_dict(best_state)
    model.eval()
    return TrainHistory(
        train_loss=tuple(train_losses),
        val_loss=tuple(val_losses),
        best_epoch=best_epoch if config.restore_best else len(train_losses) - 1,
        epochs_run=len(train_losses),
        stopped_early=stopped,
        seconds=time.perf_counter() - start,
        config=config.to_dict(),
    )


@torch.no_grad()
def _evaluate(
    model: nn.Module,
    xt: Tensor,
    yt: Tensor | None,
    idx: Tensor,
    config: TrainConfig,
    loss_fn: LossFn,
) -> float:
    """Validation loss in eval mode, with its own fixed generator so epochs compare fairly."""
    model.eval()
    gen = torch.Generator().manual_seed(config.seed + 1)
    total = 0.0
    for s in range(0, idx.numel(), config.batch_size):
        part = idx[s : s + config.batch_size]
        device = model_device(model)
        yb = None if yt is None else yt[part].to(device)
        loss = loss_fn(model, xt[part].to(device), yb, gen)
        total += float(loss) * part.numel()
    return total / idx.numel()


# --- one encoder, two heads -----------------------------------------------------------------------


@dataclass(frozen=True)
class ClassifierTriple:
    """An encoder trained jointly with an absolute and a relative classification head.

    Attributes:
        absolute: the AbsoluteClassifier (shares ``encoder``).
        relative: the RelativeClassifier (shares ``encoder``).
        history: the joint training history.
    """

    absolute: AbsoluteClassifier
    relative: RelativeClassifier
    history: TrainHistory

    @property
    def encoder(self) -> nn.Module:
        return self.absolute.encoder


class _Joint(nn.Module):
    """Sum of both heads' cross-entropies from ONE encoder pass over inputs + anchors."""

    def __init__(self, absolute: AbsoluteClassifier, relative: RelativeClassifier) -> None:
        super().__init__()
        self.absolute = absolute
        self.relative = relative

    def training_loss(self, x: Tensor, y: Tensor | None, *, generator: torch.Generator) -> Tensor:
        if y is None:
            raise fail("labels", "class labels", "None", TypeError)
        z, z_anchors = self.relative.embed_with_anchors(x)
        rel = self.relative.decode(self.relative.projection.relative(z, z_anchors))
        return F.cross_entropy(self.absolute.decode(z), y) + F.cross_entropy(rel, y)


def train_classifier_triple(
    encoder: nn.Module,
    x: Any,
    labels: Any,
    anchor_inputs: Any,
    *,
    n_classes: int,
    anchor_ids: Any = None,
    hidden: Sequence[int] = (128,),
    config: TrainConfig | None = None,
    seed: int = 0,
    **projection_options: Any,
) -> ClassifierTriple:
    """Train one encoder with an absolute and a relative head of matched capacity, jointly.

    Each step runs the encoder ONCE over the batch and the anchor inputs together, then adds both
    heads' cross-entropies. The result holds two ready models sharing the encoder: use
    ``triple.absolute`` / ``triple.relative`` with :func:`relreps.nn.stitch`.

    Args:
        encoder: e.g. :class:`MLPEncoder` or :class:`CNNEncoder`.
        x: inputs (n_samples, *input_shape), tensor or numpy (uint8 images: scale them first).
        labels: (n_samples,) integer classes.
        anchor_inputs: (n_anchors, *input_shape) anchor inputs.
        n_classes: number of classes.
        anchor_ids: anchor identities stored in both models.
        hidden: hidden widths of both heads.
        config: training options.
        seed: initialisation seed of the heads.
        **projection_options: RelativeClassifier options (``spec``, ``output_norm``, ``quantize``,
            ``anchor_grad``).

    Example:
        >>> from relreps.nn.models import MLPEncoder
        >>> g = torch.Generator().manual_seed(0)
        >>> x = torch.randn(80, 4, generator=g)
        >>> y = (x[:, 0] > 0).long()
        >>> triple = train_classifier_triple(
        ...     MLPEncoder((4,), 8), x, y, x[:10], n_classes=2, config=TrainConfig(epochs=2))
        >>> triple.relative.n_anchors, triple.history.epochs_run
        (10, 2)
    """
    anchors = as_tensor(anchor_inputs, "anchor_inputs")
    xt = as_tensor(x, "x")
    if xt.is_floating_point() and anchors.dtype != xt.dtype:
        anchors = anchors.to(xt.dtype)
    absolute = AbsoluteClassifier(
        encoder, n_classes, hidden=hidden, anchor_inputs=anchors, anchor_ids=anchor_ids, seed=seed
    )
    relative = RelativeClassifier(
        encoder,
        anchors,
        n_classes,
        anchor_ids=anchor_ids,
        hidden=hidden,
        seed=seed,
        **projection_options,
    )
    joint = _Joint(absolute, relative)
    history = fit(joint, xt, labels, config=config)
    absolute.eval()
    relative.eval()
    return ClassifierTriple(absolute, relative, history)
