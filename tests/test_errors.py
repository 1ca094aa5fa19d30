"""One base error: every exception class relreps defines derives from RelrepsError."""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import pytest

import relreps
from relreps.errors import NotFittedError, RelrepsError

PACKAGE = Path(relreps.__file__).parent


def _exception_classes() -> list[tuple[str, str]]:
    """(module, class) of every top-level public class whose name ends in Error/Unavailable."""
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        module = ".".join(path.relative_to(PACKAGE.parent).with_suffix("").parts)
        module = module.removesuffix(".__init__")
        for node in ast.parse(path.read_text("utf-8")).body:
            if (
                isinstance(node, ast.ClassDef)
                and not node.name.startswith("_")
                and node.name.endswith(("Error", "Unavailable"))
            ):
                found.append((module, node.name))
    return found


CLASSES = _exception_classes()


def test_the_library_defines_a_handful_of_errors() -> None:
    assert 5 <= len(CLASSES) <= 16, CLASSES


@pytest.mark.parametrize(("module", "name"), CLASSES, ids=[n for _, n in CLASSES])
def test_every_error_derives_from_the_base(module: str, name: str) -> None:
    try:
        cls = getattr(importlib.import_module(module), name)
    except ImportError as err:  # an optional dependency of that module is absent
        pytest.skip(f"{module} needs an optional dependency: {err}")
    assert issubclass(cls, RelrepsError)
    assert cls.__mro__[1:] != (RelrepsError, Exception, object) or name == "CommandError"


def test_not_fitted_keeps_sklearn_compatible_bases() -> None:
    assert issubclass(NotFittedError, ValueError) and issubclass(NotFittedError, AttributeError)
    assert relreps.RelrepsError is RelrepsError
