"""relreps.datasets.word2vec: the corpus spec, gensim training, and the trained-vector cache."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from relreps.datasets.base import DataNotFoundError
from relreps.datasets.word2vec import (
    CorpusSpec,
    TrainingConfig,
    cached_word_spaces,
    cached_word_vectors,
    load_cached_word_vectors,
    train_word_vectors,
    word_vector_cache_dir,
)

gensim = pytest.importorskip("gensim")


def _fake_wordnet(folder: Path) -> Path:
    for pos in ("noun", "verb", "adj", "adv"):
        (folder / f"data.{pos}").write_text(f"00001 03 n 01 {pos} 0 000 | a {pos} gloss\n")
    return folder


def test_training_config_and_corpus_spec_validate(tmp_path):
    with pytest.raises(ValueError, match="algorithm"):
        TrainingConfig(algorithm="glove")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="dim"):
        TrainingConfig(dim=0)
    with pytest.raises(ValueError, match="bucket"):
        TrainingConfig(bucket=0)
    with pytest.raises(ValueError, match="at least one corpus"):
        CorpusSpec(gcide=False, wordnet=False)
    with pytest.raises(ValueError, match="max_tokens"):
        CorpusSpec(max_tokens=0)
    with pytest.raises(DataNotFoundError, match="apt-get install dict-gcide"):
        CorpusSpec(gcide_path=str(tmp_path / "no-dictd")).files()
    spec = CorpusSpec(gcide=False, wordnet_path=str(_fake_wordnet(tmp_path)))
    assert [p.name for p in spec.files()] == ["data.noun", "data.verb", "data.adj", "data.adv"]
    assert spec.fingerprint()["sources"] == ["wordnet"]
    capped = replace(spec, max_tokens=3)
    assert sum(map(len, capped.paragraphs())) >= 3 > sum(map(len, capped.paragraphs()[:-1]))


def test_the_cache_dir_is_the_encoders_cache_dir(monkeypatch, tmp_path):
    from relreps.encoders import default_cache_dir

    for value in (str(tmp_path / "mine"), None):
        if value is None:
            monkeypatch.delenv("RELREPS_CACHE_DIR", raising=False)
        else:
            monkeypatch.setenv("RELREPS_CACHE_DIR", value)
        assert word_vector_cache_dir() == default_cache_dir() / "word-vectors"


def test_training_is_deterministic_with_one_worker_and_seed_dependent():
    rng = np.random.default_rng(0)
    vocab = [f"tok{i}" for i in range(40)]
    text = [[vocab[j] for j in rng.integers(0, 40, size=12)] for _ in range(300)]
    config = TrainingConfig(dim=8, epochs=2, min_count=1, workers=1, seed=3)
    a = train_word_vectors(text, config)
    b = train_word_vectors(text, config)
    c = train_word_vectors(text, replace(config, seed=4))
    assert a.words == b.words and np.array_equal(a.vectors, b.vectors)
    assert not np.allclose(a.vectors, c.vectors)
    fast = train_word_vectors(text, replace(config, algorithm="fasttext", bucket=1000))
    assert fast.vectors.shape == (40, 8) and fast.frequency_ranked
    with pytest.raises(ValueError, match="min_count"):
        train_word_vectors(text, replace(config, min_count=10_000))
    with pytest.raises(ValueError, match="paragraphs"):
        train_word_vectors([[]], config)
    with pytest.raises(TypeError, match="TrainingConfig"):
        train_word_vectors(text, {"dim": 8})  # type: ignore[arg-type]


def test_trained_vectors_are_cached_and_a_damaged_entry_is_retrained(tmp_path):
    corpus = CorpusSpec(gcide=False, wordnet_path=str(_fake_wordnet(tmp_path)))
    config = TrainingConfig(dim=4, epochs=1, min_count=1, workers=1)
    text = [["red", "apple", "green", "pear"]] * 30
    cache = tmp_path / "cache"
    first = cached_word_vectors(corpus, config, cache_dir=cache, paragraphs=text)
    again = load_cached_word_vectors(corpus, config, cache_dir=cache)
    assert not first.from_cache and again is not None and again.from_cache
    np.testing.assert_array_equal(first.vectors.vectors, again.vectors.vectors)
    assert again.train_seconds == pytest.approx(first.train_seconds)
    other_seed = replace(config, seed=1)
    assert load_cached_word_vectors(corpus, other_seed, cache_dir=cache) is None
    (entry,) = [p for p in cache.iterdir() if p.is_dir()]
    (entry / "vectors.npy").write_bytes(b"not a numpy file")
    assert load_cached_word_vectors(corpus, config, cache_dir=cache) is None
    rebuilt = cached_word_vectors(corpus, config, cache_dir=cache, paragraphs=text)
    assert not rebuilt.from_cache
    assert json.loads((entry / "meta.json").read_text())["n_words"] == 4


def test_cached_word_spaces_reads_the_corpus_once_and_only_when_needed(tmp_path, monkeypatch):
    corpus = CorpusSpec(gcide=False, wordnet_path=str(_fake_wordnet(tmp_path)))
    base = TrainingConfig(dim=4, epochs=1, min_count=1, workers=1)
    configs = {"a": base, "b": replace(base, seed=1)}
    reads = []
    original = CorpusSpec.paragraphs
    monkeypatch.setattr(CorpusSpec, "paragraphs", lambda self: reads.append(1) or original(self))
    lines: list[str] = []
    first = cached_word_spaces(corpus, configs, cache_dir=tmp_path / "c", log=lines.append)
    assert len(reads) == 1 and [s.vectors.name for s in first.values()] == ["a", "b"]
    assert not any(s.from_cache for s in first.values())
    assert sum("training" in line for line in lines) == 2
    again = cached_word_spaces(corpus, configs, cache_dir=tmp_path / "c")
    assert len(reads) == 1 and all(s.from_cache for s in again.values())
    np.testing.assert_array_equal(first["b"].vectors.vectors, again["b"].vectors.vectors)
    with pytest.raises(ValueError, match="configs"):
        cached_word_spaces(corpus, {}, cache_dir=tmp_path / "c")
