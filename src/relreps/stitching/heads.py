"""Heads of a stitching grid: what the engine trains, and the default torch MLP head.

torch is imported only when a default head is built, so ``import relreps.stitching`` stays light.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np


class Head(Protocol):
    """What the engine trains: scikit-learn style ``fit(x, y)`` and ``predict(x)``."""

    def fit(self, x: np.ndarray, y: np.ndarray) -> Any: ...

    def predict(self, x: np.ndarray) -> Any: ...


HeadFactory = Callable[[int, int, int], Head]
"""``factory(in_features, n_outputs, seed) -> Head``; n_outputs = classes or target width."""


@dataclass(frozen=True)
class MLPHeadFactory:
    """The default head: :class:`relreps.nn.MLPHead` (LayerNorm, hidden ReLU layers, linear output)
    trained with :func:`relreps.nn.fit` (Adam, early stopping). Classification heads minimise
    cross-entropy and predict class labels; regression heads minimise MSE.

    The same factory builds the absolute and the relative heads: matched capacity.
    """

    hidden: tuple[int, ...] = (128,)
    input_norm: str = "layernorm"
    epochs: int = 40
    batch_size: int = 256
    lr: float = 1e-3
    weight_decay: float = 0.0
    patience: int = 4
    val_fraction: float = 0.1
    classification: bool = True

    def __call__(self, in_features: int, n_outputs: int, seed: int) -> Head:
        return _TorchHead(self, in_features, n_outputs, seed)


class _TorchHead:
    def __init__(self, spec: MLPHeadFactory, in_features: int, n_outputs: int, seed: int) -> None:
        try:
            import torch  # noqa: F401
        except ImportError as err:  # pragma: no cover - depends on the environment
            raise ImportError(
                "The default stitching head needs torch: pip install 'relreps[torch]', or pass "
                "head=<a factory of scikit-learn style estimators>."
            ) from err
        from relreps.nn import MLPHead

        self.spec = spec
        self.seed = seed
        self.module = MLPHead(
            in_features, n_outputs, hidden=spec.hidden, input_norm=spec.input_norm, seed=seed
        )

    def fit(self, x: np.ndarray, y: np.ndarray) -> _TorchHead:
        import torch
        from torch.nn import functional as F

        from relreps.nn import TrainConfig, fit

        spec = self.spec
        xt = torch.from_numpy(np.ascontiguousarray(x, dtype=np.float32))
        if spec.classification:
            yt = torch.from_numpy(np.asarray(y, dtype=np.int64))

            def loss(m: Any, xb: Any, yb: Any, g: Any) -> Any:
                return F.cross_entropy(m(xb), yb)
        else:
            yt = torch.from_numpy(np.asarray(y, dtype=np.float32).reshape(len(y), -1))

            def loss(m: Any, xb: Any, yb: Any, g: Any) -> Any:
                return F.mse_loss(m(xb), yb)

        config = TrainConfig(
            epochs=spec.epochs,
            batch_size=spec.batch_size,
            lr=spec.lr,
            weight_decay=spec.weight_decay,
            patience=spec.patience,
            val_fraction=spec.val_fraction,
            seed=self.seed,
            progress=False,
        )
        fit(self.module, xt, yt, config=config, loss_fn=loss)
        return self

    def predict(self, x: np.ndarray) -> np.ndarray:
        import torch

        self.module.eval()
        with torch.no_grad():
            out = self.module(torch.from_numpy(np.ascontiguousarray(x, dtype=np.float32)))
        out_np = out.numpy()
        return out_np.argmax(axis=1) if self.spec.classification else out_np
