"""Paper reproductions: one module per experiment, each exposing ``SPEC`` (an ExperimentSpec).

Experiment modules import only the standard library at import time, so listing them is cheap;
heavy work happens inside ``run``.
"""

from __future__ import annotations

import importlib
import importlib.util

from relreps.experiments.base import ExperimentResult, ExperimentSpec, RunContext

__all__ = ["EXPERIMENT_MODULES", "ExperimentResult", "ExperimentSpec", "RunContext", "get", "names"]

_KNOWN = (  # in the order of `relreps reproduce all`; module names have '_' for '-'
    "word-embeddings",
    "graph",
    "vision-stitching",
    "ae-stitching",
    "text-stitching",
    "cross-lingual",
    "similarity-vs-performance",
    "abs-vs-rel-training",
    "anchors-ablation",
    "quantization",
    "alignment",
)
#: name -> importable module exposing SPEC, in run order. Only experiments whose module is
#: installed are listed (keeps partial checkouts usable).
EXPERIMENT_MODULES: dict[str, str] = {
    name: f"relreps.experiments.{name.replace('-', '_')}"
    for name in _KNOWN
    if importlib.util.find_spec(f"relreps.experiments.{name.replace('-', '_')}") is not None
}


def names() -> list[str]:
    """The experiment names, in run order."""
    return list(EXPERIMENT_MODULES)


def get(name: str) -> ExperimentSpec:
    """The spec of one experiment.

    Raises:
        ValueError: for an unknown name, listing the valid ones.
    """
    if name not in EXPERIMENT_MODULES:
        raise ValueError(f"Expected `name` to be one of {names()} or 'all', but got {name!r}.")
    spec: ExperimentSpec = importlib.import_module(EXPERIMENT_MODULES[name]).SPEC
    return spec
