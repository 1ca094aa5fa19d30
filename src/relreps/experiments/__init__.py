"""Paper reproductions: one module per experiment, each exposing ``SPEC`` (an ExperimentSpec).

Experiment modules import only the standard library at import time, so listing them is cheap;
heavy work happens inside ``run``.
"""

from __future__ import annotations

import importlib
import importlib.util

from relreps.experiments.base import ExperimentResult, ExperimentSpec, RunContext

__all__ = ["EXPERIMENT_MODULES", "ExperimentResult", "ExperimentSpec", "RunContext", "get", "names"]

# name -> importable module exposing SPEC; the order is the order of `relreps reproduce all`.
EXPERIMENT_MODULES: dict[str, str] = {}


_KNOWN = {
    "word-embeddings": "word_embeddings",
    "graph": "graph",
    "vision-stitching": "vision_stitching",
    "ae-stitching": "ae_stitching",
    "text-stitching": "text_stitching",
    "cross-lingual": "cross_lingual",
    "similarity-vs-performance": "similarity_vs_performance",
    "abs-vs-rel-training": "abs_vs_rel_training",
    "anchors-ablation": "anchors_ablation",
    "quantization": "quantization",
    "alignment": "alignment",
}
# Only experiments whose module is installed are listed (keeps partial checkouts usable).
EXPERIMENT_MODULES.update(
    {
        name: f"relreps.experiments.{module}"
        for name, module in _KNOWN.items()
        if importlib.util.find_spec(f"relreps.experiments.{module}") is not None
    }
)


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
    module = importlib.import_module(EXPERIMENT_MODULES[name])
    spec: ExperimentSpec = module.SPEC
    return spec
