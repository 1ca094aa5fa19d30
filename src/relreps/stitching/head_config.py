"""The options of a frozen-embedding head (:class:`HeadConfig`, ``DEFAULTS``) and the torch
classifier they describe: built, trained and applied.

:class:`relreps.stitching.RelativeHead` and :class:`relreps.stitching.AbsoluteHead`
(:mod:`relreps.stitching.frozen`) and the ``relreps stitch`` command read these defaults; torch is
imported only when a classifier is built or trained.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, fields
from typing import TYPE_CHECKING, Any

import numpy as np

from relreps._validation import check_choice, check_float, check_int, fail
from relreps.projection_spec import ProjectionSpec

if TYPE_CHECKING:
    from torch import nn

__all__ = ["DEFAULTS", "HEADS", "NORMS", "HeadConfig", "training_passes"]

HEADS = ("linear", "mlp")
NORMS = ("layernorm", "l2", "batchnorm", "none")
# The projection defaults live in ProjectionSpec; HeadConfig's similarity and center read them.
_PROJECTION_DEFAULTS = ProjectionSpec()


@dataclass(frozen=True)
class HeadConfig:
    """The options of a frozen-embedding head, and their defaults (the ONE place they live).

    Attributes:
        head: ``"linear"`` (one linear layer on the normalised input) or ``"mlp"`` (one hidden
            ReLU layer of ``hidden`` units, then a linear layer).
        hidden: hidden width of the ``"mlp"`` head (unused by ``"linear"``).
        norm: normalisation of the head's input (the relative vector of a
            :class:`RelativeHead`): ``"layernorm"``, ``"l2"``, ``"batchnorm"`` (running
            statistics at inference: batch independent) or ``"none"``.
        similarity: a similarity of the registry (``relreps.similarities()``).
        center: ``None`` (the paper) or ``"anchors"``: subtract the anchors' mean from the
            samples and the anchors before the similarity (anchor-centred cosine).
            ``similarity`` and ``center`` are the head's projection: :meth:`projection_spec`
            (their defaults are :class:`relreps.ProjectionSpec`'s); ``norm`` is not part of it,
            it is applied by the head on the receiving side.
        n_anchors: how many anchors ``relreps stitch`` picks by default (the heads accept any
            number).
        epochs: passes of Adam over all training rows (no early stopping, no held-out split).
            Few passes are the default because they stitch better: on the Fashion-MNIST zoo
            5 passes keep more of the head's own score than 20 (a longer-trained head fits its
            own encoder's fine structure, which other encoders do not share; docs/stitching.md).
        min_steps: at least this many Adam steps: a small training set gets more passes
            (``max(epochs, ceil(min_steps / batches per pass))``), so it is not undertrained.
        lr: Adam learning rate.
        batch_size: rows per optimisation step.
        weight_decay: Adam weight decay.
        seed: seeds the initialisation and the batch order.

    Example:
        >>> HeadConfig().head, HeadConfig().norm, HeadConfig().n_anchors
        ('linear', 'layernorm', 300)
        >>> HeadConfig(head="tree")
        Traceback (most recent call last):
        ...
        ValueError: Expected `head` to be one of ['linear', 'mlp'], but got 'tree'.
    """

    head: str = "linear"
    hidden: int = 128
    norm: str = "layernorm"
    similarity: str = str(_PROJECTION_DEFAULTS.similarity)
    center: str | None = _PROJECTION_DEFAULTS.center
    n_anchors: int = 300
    epochs: int = 5
    min_steps: int = 1000
    lr: float = 1e-3
    batch_size: int = 256
    weight_decay: float = 0.0
    seed: int = 0

    def __post_init__(self) -> None:
        import relreps

        check_choice(self.head, "head", HEADS)
        check_int(self.hidden, "hidden", low=1)
        check_choice(self.norm, "norm", NORMS)
        check_choice(self.similarity, "similarity", [s.name for s in relreps.similarities()])
        self.projection_spec()  # checks center
        check_int(self.n_anchors, "n_anchors", low=1)
        check_int(self.epochs, "epochs", low=1)
        check_int(self.min_steps, "min_steps", low=0)
        check_float(self.lr, "lr", low=0.0, low_inclusive=False)
        check_int(self.batch_size, "batch_size", low=1)
        check_float(self.weight_decay, "weight_decay", low=0.0)
        check_int(self.seed, "seed", low=0)

    def projection_spec(self) -> ProjectionSpec:
        """The relative projection of this head: its ``similarity`` and ``center``.

        Example:
            >>> HeadConfig(center="anchors").projection_spec()
            ProjectionSpec(similarity='cosine', center='anchors')
        """
        return ProjectionSpec(similarity=self.similarity, center=self.center)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> HeadConfig:
        names = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - names)
        if unknown:
            raise fail("config", f"a dict with keys among {sorted(names)}", f"keys {unknown}")
        return cls(**data)


DEFAULTS = HeadConfig()
"""The default head: what :class:`RelativeHead`, :class:`AbsoluteHead` and ``relreps stitch``
read."""


# --- the shared torch classifier ------------------------------------------------------------------


def _require_torch() -> None:
    try:
        import torch  # noqa: F401
    except ImportError as err:  # pragma: no cover - depends on the environment
        raise ImportError(
            "relreps.stitching heads are trained with torch: pip install 'relreps[torch]'"
        ) from err


def _build(config: HeadConfig, in_features: int, n_classes: int) -> nn.Module:
    _require_torch()
    from relreps.nn import MLPHead

    hidden = () if config.head == "linear" else (config.hidden,)
    return MLPHead(in_features, n_classes, hidden=hidden, input_norm=config.norm, seed=config.seed)


def training_passes(config: HeadConfig, n_rows: int) -> int:
    """Passes over ``n_rows`` training rows a head makes: ``config.epochs``, or more when that
    is under ``config.min_steps`` Adam steps.

    Example:
        >>> training_passes(HeadConfig(), 60000), training_passes(HeadConfig(), 4000)
        (5, 63)
    """
    batches = math.ceil(n_rows / config.batch_size)
    return max(config.epochs, math.ceil(config.min_steps / batches))


def _train(module: nn.Module, features: np.ndarray, targets: np.ndarray, config: HeadConfig) -> Any:
    import torch
    from torch.nn import functional as F

    from relreps.nn import TrainConfig, fit

    def loss(m: Any, xb: Any, yb: Any, g: Any) -> Any:
        return F.cross_entropy(m(xb), yb)

    passes = training_passes(config, len(features))
    train = TrainConfig(
        epochs=passes,
        batch_size=config.batch_size,
        lr=config.lr,
        weight_decay=config.weight_decay,
        val_fraction=0.0,
        seed=config.seed,
        progress=False,
    )
    return fit(
        module, torch.from_numpy(features), torch.from_numpy(targets), config=train, loss_fn=loss
    )


def _logits(module: nn.Module, features: np.ndarray) -> np.ndarray:
    import torch

    module.eval()
    with torch.no_grad():
        out = module(torch.from_numpy(features))
    return np.asarray(out.numpy(), dtype=np.float64)


def _softmax(logits: np.ndarray) -> np.ndarray:
    z = logits - logits.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)
