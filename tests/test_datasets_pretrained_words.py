"""relreps.datasets.pretrained_words: the package-shipped word spaces, loaded when installed."""

from __future__ import annotations

import numpy as np
import pytest

from relreps.datasets import words
from relreps.datasets.pretrained_words import (
    _LOADERS,
    PRETRAINED_WORD_SPACES,
    load_pretrained_words,
)


def _space(dim: int) -> words.WordVectors:
    return words.WordVectors(
        name=f"d{dim}", words=("cat", "dog"), vectors=np.ones((2, dim)), source="t"
    )


def test_loads_what_is_installed_and_reports_the_rest(monkeypatch):
    def missing() -> words.WordVectors:
        raise ImportError("pip install wordllama")

    monkeypatch.setattr(words, "load_glove", lambda: _space(50))
    monkeypatch.setattr(words, "load_minilm_token_embeddings", lambda: _space(384))
    monkeypatch.setattr(words, "load_wordllama_token_embeddings", missing)
    loaded, why = load_pretrained_words(["wordllama", "minilm", "glove"])
    assert list(loaded) == ["minilm", "glove"]
    assert {k: v.dim for k, v in loaded.items()} == {"minilm": 384, "glove": 50}
    assert why == {"wordllama": "pip install wordllama"}
    assert load_pretrained_words([]) == ({}, {})


def test_every_named_space_has_a_loader():
    assert list(PRETRAINED_WORD_SPACES) == ["glove", "minilm", "wordllama"]
    assert list(_LOADERS) == list(PRETRAINED_WORD_SPACES)
    assert all(callable(getattr(words, name)) for name in _LOADERS.values())


@pytest.mark.parametrize(
    ("names", "error"),
    [(["word2vec-google"], ValueError), (["glove", "glove"], ValueError), ("glove", TypeError)],
)
def test_rejects_bad_names(names, error):
    with pytest.raises(error, match="names"):
        load_pretrained_words(names)
