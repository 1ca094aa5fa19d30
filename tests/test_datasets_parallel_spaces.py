"""datasets.parallel_spaces: ParallelSpaces (validation, from_word_pairs) and cldr_phrase_pairs."""

from __future__ import annotations

import numpy as np
import pytest

from relreps.datasets import WordVectors
from relreps.datasets.parallel_spaces import ParallelSpaces, cldr_phrase_pairs


def _space(name: str, words: tuple[str, ...], dim: int, scale: float = 1.0) -> WordVectors:
    vectors = scale * np.arange(len(words) * dim, dtype=np.float32).reshape(len(words), dim)
    return WordVectors(name, words, vectors, "memory")


def test_parallel_spaces_validates_its_rows():
    items = (("a", "x"), ("b", "y"))
    spaces = ParallelSpaces("toy", "s", "t", np.ones((2, 3)), np.ones((2, 5)), items)
    assert len(spaces) == 2 and spaces.target.shape == (2, 5)
    with pytest.raises(ValueError, match="items"):
        ParallelSpaces("toy", "s", "t", np.ones((2, 3)), np.ones((2, 3)), items[:1])
    with pytest.raises(ValueError, match="target"):
        ParallelSpaces("toy", "s", "t", np.ones((2, 3)), np.ones((3, 3)), items)
    with pytest.raises(ValueError, match="source"):
        ParallelSpaces("toy", "s", "t", np.full((2, 3), np.nan), np.ones((2, 3)), items)


def test_from_word_pairs_keeps_shared_one_to_one_pairs_as_float32_rows():
    en = _space("en", ("cat", "dog", "cow"), 2)
    fr = _space("fr", ("chat", "chien", "vache"), 4, scale=-1.0)
    pairs = [("dog", "chien"), ("cat", "chat"), ("cat", "minou"), ("bird", "oiseau")]
    pairs += [("cow", "chien")]  # "chien" is already taken: dropped (one to one)
    spaces = ParallelSpaces.from_word_pairs(pairs, en, fr)
    assert spaces.items == (("dog", "chien"), ("cat", "chat"))
    assert (spaces.name, spaces.source_name, spaces.target_name) == ("en vs fr", "en", "fr")
    assert spaces.source.dtype == np.float32 and spaces.target.dtype == np.float32
    np.testing.assert_array_equal(spaces.source, en.take(["dog", "cat"]))
    np.testing.assert_array_equal(spaces.target, fr.take(["chien", "chat"]))
    named = ParallelSpaces.from_word_pairs(pairs, en, fr, name="n", source_name="a (en)")
    assert (named.name, named.source_name, named.target_name) == ("n", "a (en)", "fr")
    with pytest.raises(ValueError, match="pairs"):
        ParallelSpaces.from_word_pairs([("bird", "oiseau")], en, fr)
    with pytest.raises(TypeError, match="WordVectors"):
        ParallelSpaces.from_word_pairs(pairs, en, fr.vectors)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def en_fr():
    pytest.importorskip("emoji")
    pytest.importorskip("babel")
    return cldr_phrase_pairs("en", "fr")


def test_cldr_phrase_pairs_are_one_to_one_and_never_identical(en_fr):
    assert len(en_fr) > 3000 and ("German", "allemand") in en_fr
    keys_en = [a.strip().lower() for a, _ in en_fr]
    keys_fr = [b.strip().lower() for _, b in en_fr]
    assert len(set(keys_en)) == len(en_fr) and len(set(keys_fr)) == len(en_fr)
    assert all(a != b for a, b in zip(keys_en, keys_fr, strict=True))
    assert all(a == a.strip() and b == b.strip() for a, b in en_fr)


def test_cldr_phrase_pairs_draws_a_seeded_subset_in_set_order(en_fr):
    drawn = cldr_phrase_pairs("en", "fr", n=50, seed=3)
    assert drawn == cldr_phrase_pairs("en", "fr", n=50, seed=3)
    assert drawn != cldr_phrase_pairs("en", "fr", n=50, seed=4)
    positions = [en_fr.index(pair) for pair in drawn]
    assert len(drawn) == 50 and positions == sorted(positions)
    german = cldr_phrase_pairs("en", "de", n=5)
    assert len(german) == 5 and german != cldr_phrase_pairs("en", "fr", n=5)


def test_cldr_phrase_pairs_bad_inputs(en_fr):
    with pytest.raises(ValueError, match="at most"):
        cldr_phrase_pairs("en", "fr", n=len(en_fr) + 1)
    with pytest.raises(ValueError, match="`n`"):
        cldr_phrase_pairs("en", "fr", n=0)
    with pytest.raises(ValueError, match="target"):
        cldr_phrase_pairs("fr", "fr")
    with pytest.raises(ValueError, match="languages"):
        cldr_phrase_pairs("en", "xx-unknown")
