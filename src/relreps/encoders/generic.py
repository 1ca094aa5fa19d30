"""Adapters for anything: a plain Python callable or a torch ``nn.Module``."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from relreps._validation import fail
from relreps.encoders.base import BaseEncoder, module_fingerprint, require

__all__ = ["CallableEncoder", "TorchModuleEncoder"]


class CallableEncoder(BaseEncoder):
    """Wrap ``fn(batch) -> (len(batch), dim)`` (numpy, torch or nested lists) as an encoder.

    Args:
        fn: Called once per batch with a list (or array slice) of items.
        name: Identifier used in progress bars and cache keys.
        dim: Output dimension; ``None`` learns it from the first batch.
        version: Change it whenever ``fn`` changes: with ``name`` it is all the embedding cache
            knows about ``fn``.

    Example:
        >>> import numpy as np
        >>> enc = CallableEncoder(lambda b: np.ones((len(b), 3)), name="ones", dim=3)
        >>> enc.encode(["x", "y"]).shape
        (2, 3)
    """

    def __init__(
        self,
        fn: Callable[[Sequence[Any]], Any],
        *,
        name: str,
        dim: int | None = None,
        version: str = "unversioned",
    ) -> None:
        if not callable(fn):
            raise fail("fn", "a callable", repr(fn), TypeError)
        super().__init__(name=name, dim=dim, version=version)
        self._fn = fn

    def _encode_batch(self, batch: Sequence[Any]) -> Any:
        return self._fn(batch)


class TorchModuleEncoder(BaseEncoder):
    """Run a torch ``nn.Module`` in eval mode, without gradients, batch by batch.

    Args:
        module: Maps a collated batch to ``(batch, dim)`` or ``(batch, ...)`` (flattened).
        name: Identifier used in progress bars and cache keys.
        dim: Output dimension; ``None`` learns it from the first batch.
        collate: Turns a list/array slice of items into the module's input; the default stacks
            numeric items into a float32 tensor.
        select: Picks the embedding from the module output (e.g. ``lambda out: out[0]``);
            by default a tuple/list output uses its first element.
        device: Where inputs go; ``None`` uses the module's own device (it is not moved).
        version: Defaults to a hash of the current weights, taken whenever the cache asks, so
            training the module changes its cache key.

    Example:
        >>> import torch
        >>> enc = TorchModuleEncoder(torch.nn.Linear(4, 2), name="linear", dim=2)
        >>> enc.encode(np.zeros((3, 4))).shape
        (3, 2)
    """

    def __init__(
        self,
        module: Any,
        *,
        name: str,
        dim: int | None = None,
        collate: Callable[[Sequence[Any]], Any] | None = None,
        select: Callable[[Any], Any] | None = None,
        device: Any = None,
        version: str | None = None,
    ) -> None:
        torch = require("torch", "torch")
        if not isinstance(module, torch.nn.Module):
            raise fail("module", "a torch.nn.Module", type(module).__name__, TypeError)
        for arg, value in (("collate", collate), ("select", select)):
            if value is not None and not callable(value):
                raise fail(arg, "a callable or None", repr(value), TypeError)
        super().__init__(
            name=name, dim=dim, version=version or (lambda: module_fingerprint(module))
        )
        self.module = module.eval()  # no dropout / batch statistics: deterministic output
        self._collate = collate
        self._select = select
        if device is None:
            first = next(module.parameters(), None)
            device = first.device if first is not None else "cpu"
        self.device = device

    def _encode_batch(self, batch: Sequence[Any]) -> Any:
        import torch

        inputs = self._collate(batch) if self._collate is not None else _stack(batch)
        with torch.inference_mode():
            out = self.module(_to_device(inputs, self.device))
        if self._select is not None:
            out = self._select(out)
        elif isinstance(out, tuple | list):
            out = out[0]
        if not isinstance(out, torch.Tensor):
            raise TypeError(
                f"Expected the module of encoder {self.name!r} to return a tensor, but got "
                f"{type(out).__name__}; pass select=... to pick the embedding."
            )
        return out.reshape(out.shape[0], -1).float().cpu().numpy()


def _stack(batch: Sequence[Any]) -> Any:
    import torch

    if isinstance(batch, torch.Tensor):
        return batch.float()
    if isinstance(batch, np.ndarray):
        return torch.from_numpy(np.ascontiguousarray(batch, dtype=np.float32))
    try:
        return torch.as_tensor(np.stack([np.asarray(item) for item in batch]), dtype=torch.float32)
    except (TypeError, ValueError) as err:
        raise TypeError(
            "The default collate stacks numeric items of one shape; pass collate=... for "
            f"other items ({err})."
        ) from None


def _to_device(inputs: Any, device: Any) -> Any:
    if hasattr(inputs, "to"):
        return inputs.to(device)
    if isinstance(inputs, dict):
        return {k: _to_device(v, device) for k, v in inputs.items()}
    if isinstance(inputs, tuple | list):
        return type(inputs)(_to_device(v, device) for v in inputs)
    return inputs
