"""One vocabulary across the package (docs/architecture.md, "Vocabulary"), checked on signatures.

Walks every module of relreps, reads the parameters of each public function, method and class,
and checks the naming rules a reader relies on: ``chunk_size`` (never a new ``block_size``),
``metric`` only for the neighbour geometry (never for a score), ``scoring`` for scores, and one
exception hierarchy under ``RelrepsError``.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from collections.abc import Callable, Iterator
from types import ModuleType

import pytest

import relreps
from relreps.errors import NotFittedError, RelrepsError
from relreps.stitching import SCORERS

# Kept only because the README documented them; each warns (tests/test_metrics_retrieval.py).
DEPRECATED_BLOCK_SIZE = {"relreps.metrics.retrieval.knn", "relreps.metrics.cka.cka"}
# `metric` is the neighbour geometry, and only that.
GEOMETRIES = ("cosine", "inner", "euclidean")


def _modules() -> Iterator[ModuleType]:
    for info in pkgutil.walk_packages(relreps.__path__, "relreps."):
        if info.name.endswith("__main__"):
            continue
        yield importlib.import_module(info.name)


def _public_callables() -> Iterator[tuple[str, Callable[..., object]]]:
    seen: set[int] = set()
    for module in _modules():
        for name, obj in vars(module).items():
            if name.startswith("_") or getattr(obj, "__module__", None) != module.__name__:
                continue
            if id(obj) in seen:
                continue
            seen.add(id(obj))
            if inspect.isfunction(obj):
                yield f"{module.__name__}.{name}", obj
            elif inspect.isclass(obj):
                yield f"{module.__name__}.{name}", obj
                for attr, member in vars(obj).items():
                    if inspect.isfunction(member) and not attr.startswith("_"):
                        yield f"{module.__name__}.{name}.{attr}", member


def _parameters(fn: Callable[..., object]) -> list[str]:
    try:
        return list(inspect.signature(fn).parameters)
    except (TypeError, ValueError):  # builtins / some extension types have no signature
        return []


@pytest.fixture(scope="module")
def signatures() -> dict[str, list[str]]:
    return {name: _parameters(fn) for name, fn in _public_callables()}


def test_the_walk_sees_the_whole_package(signatures: dict[str, list[str]]) -> None:
    # a walk that silently saw nothing would make every rule below pass vacuously
    assert len(signatures) > 300
    assert "relreps.stitching.grid.stitching_grid" in signatures
    assert "relreps.metrics.retrieval.knn" in signatures


def test_chunk_size_is_the_only_chunking_name(signatures: dict[str, list[str]]) -> None:
    offenders = {
        name
        for name, params in signatures.items()
        if "block_size" in params and name not in DEPRECATED_BLOCK_SIZE
    }
    assert not offenders, f"use chunk_size: {sorted(offenders)}"
    for name in DEPRECATED_BLOCK_SIZE:
        assert "chunk_size" in signatures[name]


@pytest.fixture(scope="module")
def defaults() -> dict[str, dict[str, object]]:
    out = {}
    for name, fn in _public_callables():
        try:
            out[name] = {p.name: p.default for p in inspect.signature(fn).parameters.values()}
        except (TypeError, ValueError):
            continue
    return out


def test_metric_means_the_neighbour_geometry_only(defaults: dict[str, dict[str, object]]) -> None:
    # wherever a `metric` has a default, it is a geometry, never a score
    metric_defaults = {
        n: d["metric"] for n, d in defaults.items() if isinstance(d.get("metric"), str)
    }
    assert len(metric_defaults) >= 5  # knn, knn_index, anchors, ... (the rule is not vacuous)
    not_geometry = {n: v for n, v in metric_defaults.items() if v not in GEOMETRIES}
    assert not not_geometry, f"a score is `scoring`, not `metric`: {not_geometry}"
    # and every score is named `scoring`, with a default the scorers know
    scoring_defaults = {n: d["scoring"] for n, d in defaults.items() if "scoring" in d}
    assert "relreps.stitching.grid.stitching_grid" in scoring_defaults
    assert all(v in SCORERS for v in scoring_defaults.values() if isinstance(v, str))


def test_every_exception_derives_from_the_one_base() -> None:
    exceptions = {
        f"{module.__name__}.{name}": obj
        for module in _modules()
        for name, obj in vars(module).items()
        if inspect.isclass(obj)
        and issubclass(obj, Exception)
        and not issubclass(obj, Warning)  # warnings are not errors
        and not name.startswith("_")  # private control flow never reaches a caller
        and obj.__module__ == module.__name__
    }
    assert exceptions, "the walk found no exception class at all"
    outside = sorted(name for name, cls in exceptions.items() if not issubclass(cls, RelrepsError))
    assert not outside, f"derive from relreps.RelrepsError: {outside}"
    not_fitted = sorted(n for n in exceptions if "NotFitted" in n)
    assert not_fitted == ["relreps.errors.NotFittedError"]
    assert issubclass(NotFittedError, ValueError) and issubclass(NotFittedError, AttributeError)
