"""The package's layers, checked on the AST of every module (function-level imports included).

The layers are those of the import-linter contract in pyproject.toml (read from there, so there is
one list). A component is a direct child of ``relreps``; a module may import its own component and
components of LOWER layers only: never a layer above, never a sibling of its own layer, so no two
components import each other in a cycle. No private name (leading underscore: a module or an
attribute) is used across components, except the core's package-internal modules.
"""

from __future__ import annotations

import ast
import tomllib
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "src" / "relreps"
# Core modules every layer may import although their names start with an underscore.
CORE_INTERNALS = frozenset({"_array", "_validation", "_io", "_dask", "_cosine_blocks"})
# What the root package exports lazily (relreps/__init__.py): name -> component.
ROOT_LAZY_NAMES = {"ParallelAnchors": "anchors"}


def _layers() -> list[list[str]]:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))
    contracts = config["tool"]["importlinter"]["contracts"]
    (layers,) = [c["layers"] for c in contracts if c["type"] == "layers"]
    return [[name.strip() for name in layer.split("|")] for layer in reversed(layers)]


LAYERS = _layers()  # low to high
RANK = {name: i for i, layer in enumerate(LAYERS) for name in layer}
# The root package imports the core's public names eagerly: it sits just above the core modules.
CORE_TOP = max(RANK[name] for name in ("projection", "similarity"))


def _components() -> set[str]:
    return {p.stem for p in PACKAGE.glob("*.py") if p.stem != "__init__"} | {
        p.name for p in PACKAGE.iterdir() if (p / "__init__.py").exists()
    }


@dataclass(frozen=True)
class Violation:
    module: str
    line: int
    target: str
    why: str

    def __str__(self) -> str:
        return f"{self.module}:{self.line} -> {self.target}: {self.why}"


def _module_name(path: Path) -> tuple[str, bool]:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    is_package = parts[-1] == "__init__"
    return ".".join(parts[:-1] if is_package else parts), is_package


def _is_private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def _is_module(dotted: str) -> bool:
    path = PACKAGE.parent.joinpath(*dotted.split("."))
    return path.with_suffix(".py").exists() or (path / "__init__.py").exists()


def check_source(source: str, module: str, *, is_package: bool = False) -> list[Violation]:
    """The layer and private-name violations of one module's source."""
    parts = module.split(".")
    own = parts[1] if len(parts) > 1 else None
    found: list[Violation] = []
    aliases: dict[str, str] = {}  # local name -> the relreps module or object it is bound to
    references: list[tuple[int, str]] = []

    tree = ast.parse(source)
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] == "relreps":
                    references.append((node.lineno, alias.name))
                    local = alias.asname or alias.name.split(".")[0]
                    aliases[local] = alias.name if alias.asname else "relreps"
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = parts if is_package else parts[:-1]
                base = base[: len(base) - (node.level - 1)]
                source_module = ".".join([*base, *([node.module] if node.module else [])])
            else:
                source_module = node.module or ""
            if source_module.split(".")[0] != "relreps":
                continue
            for alias in node.names:
                target = f"{source_module}.{alias.name}"
                references.append((node.lineno, target))
                aliases[alias.asname or alias.name] = target
    for node in ast.walk(tree):  # attribute chains on imported names: relreps._x, mod._name
        if isinstance(node, ast.Attribute) and not isinstance(node.ctx, ast.Store):
            chain: list[str] = []
            value: ast.expr = node
            while isinstance(value, ast.Attribute):
                chain.append(value.attr)
                value = value.value
            if isinstance(value, ast.Name) and value.id in aliases:
                references.append((node.lineno, ".".join([aliases[value.id], *reversed(chain)])))

    for line, target in references:
        segments = target.split(".")
        if len(segments) == 1:  # `import relreps`
            component = "relreps"
        elif segments[1] in RANK or _is_module(".".join(segments[:2])):
            component = segments[1]
        else:  # a name the root package exports
            component = ROOT_LAZY_NAMES.get(segments[1], "relreps")
        if own is None or component == own:
            continue
        rank_own = RANK.get(own)
        if rank_own is None:
            found.append(Violation(module, line, target, f"{own!r} is in no layer"))
            continue
        rank_target = CORE_TOP + 0.5 if component == "relreps" else RANK.get(component)
        if rank_target is None:
            found.append(Violation(module, line, target, f"{component!r} is in no layer"))
        elif rank_target >= rank_own:
            where = "beside" if rank_target == rank_own else "above"
            found.append(Violation(module, line, target, f"imports a layer {where} {own!r}"))
        start = 2 if component == "relreps" or segments[1] in CORE_INTERNALS else 1
        private = [s for s in segments[start:] if _is_private(s)]
        if private:
            found.append(Violation(module, line, target, f"uses private {private[0]!r}"))
    return found


def _violations() -> list[Violation]:
    found: list[Violation] = []
    for path in sorted(PACKAGE.rglob("*.py")):
        module, is_package = _module_name(path)
        found += check_source(path.read_text("utf-8"), module, is_package=is_package)
    return sorted(set(found), key=str)


def test_every_component_is_in_a_layer() -> None:
    assert _components() == set(RANK), "pyproject's layers must list every component once"
    assert sum(len(layer) for layer in LAYERS) == len(RANK)


def test_no_upward_sibling_or_private_imports() -> None:
    violations = _violations()
    assert not violations, "\n".join(map(str, violations))


@pytest.mark.parametrize(
    ("source", "module", "why"),
    [
        ("def f():\n    from relreps.cli import main\n", "relreps.metrics.cka", "above"),
        ("from relreps import stitching\n", "relreps.nn.models", "above"),
        ("from relreps.metrics import cka\n", "relreps.anchors.spaces", "beside"),
        ("from ..experiments.base import CellCache\n", "relreps.report.render", "above"),
        ("from relreps.nn.models import _device_of\n", "relreps.stitching.models", "private"),
        ("from relreps.anchors._inputs import check_k\n", "relreps.stitching.grid", "private"),
        ("from relreps import similarity as s\ns._cosine\n", "relreps.projection", "private"),
        ("import relreps\nrelreps.nn._x\n", "relreps.cli.main", "private"),
        ("import relreps\n", "relreps.similarity", "above"),
    ],
)
def test_the_checker_finds(source: str, module: str, why: str) -> None:
    found = check_source(source, module)
    assert any(why in v.why for v in found), found


@pytest.mark.parametrize(
    ("source", "module"),
    [
        ("from relreps._validation import fail\n", "relreps.cli.project"),
        ("import relreps\nrelreps._validation.check_int\n", "relreps.cli.project"),
        ("from relreps import relative_projection, __version__\n", "relreps.cli.main"),
        ("from relreps.anchors._inputs import check_k\n", "relreps.anchors.farthest"),
        ("from .grid import _translation\n", "relreps.stitching.models"),
        ("from relreps.metrics.retrieval import Neighbors\n", "relreps.distributed"),
    ],
)
def test_the_checker_allows(source: str, module: str) -> None:
    assert check_source(source, module) == []
