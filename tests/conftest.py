"""Shared test fixtures."""

from __future__ import annotations

import os

import numpy as np
import pytest

# Tests never reach a hub: every model and data set comes from local packages or fixtures.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(12345)


# --- markers: `slow` for the long tests, `quick` for everything else (`pytest -m quick`) ---------

# Module fixtures that run a whole experiment (`relreps reproduce NAME --quick`, or a toy run):
# every test that uses one is slow, wherever it is defined.
SLOW_FIXTURES = frozenset({"quick_run"})


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if SLOW_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.slow)
        if item.get_closest_marker("slow") is None:
            item.add_marker(pytest.mark.quick)
