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
