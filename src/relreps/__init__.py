"""relreps: relative representations for zero-shot latent space communication.

Represent every sample by its similarities to a set of anchor samples; latent spaces of different
models (seeds, widths, architectures, languages) then become comparable and heads trained on one
model's relative space accept another model's encoder without training.

Example:
    >>> import numpy as np
    >>> import relreps
    >>> rng = np.random.default_rng(0)
    >>> x, anchors = rng.normal(size=(100, 16)), rng.normal(size=(10, 16))
    >>> relreps.relative_projection(x, anchors).shape
    (100, 10)

Heavy parts (torch layers, encoders, datasets, metrics) are submodules imported on first use, so
``import relreps`` imports only numpy and array-api-compat.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from relreps.errors import NotFittedError, RelrepsError
from relreps.projection import RelativeProjector, relative_projection
from relreps.projection_spec import ProjectionSpec
from relreps.similarity import (
    INVARIANCES,
    Similarity,
    get_similarity,
    register_similarity,
    similarities,
)

__version__ = "0.1.0"

_LAZY_SUBMODULES = (
    "anchors",
    "datasets",
    "distributed",
    "encoders",
    "knn_index",
    "metrics",
    "nn",
    "report",
    "stitching",
    "translate",
)
_LAZY_NAMES = {"ParallelAnchors": "anchors"}

__all__ = [
    "INVARIANCES",
    "NotFittedError",
    "RelrepsError",
    "ParallelAnchors",
    "ProjectionSpec",
    "RelativeProjector",
    "Similarity",
    "__version__",
    "get_similarity",
    "register_similarity",
    "relative_projection",
    "similarities",
    *_LAZY_SUBMODULES,
]

if TYPE_CHECKING:
    from relreps.anchors import ParallelAnchors


def __getattr__(name: str) -> Any:
    if name in _LAZY_SUBMODULES:
        return importlib.import_module(f"relreps.{name}")
    if name in _LAZY_NAMES:
        module = importlib.import_module(f"relreps.{_LAZY_NAMES[name]}")
        return getattr(module, name)
    raise AttributeError(f"module 'relreps' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
