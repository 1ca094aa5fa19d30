"""shared_vocabulary(min_words=): too small a shared vocabulary raises, naming the spaces."""

from __future__ import annotations

import numpy as np
import pytest

from relreps.datasets.words import WordVectors, shared_vocabulary


def _space(name: str, words: list[str]) -> WordVectors:
    return WordVectors(name, tuple(words), np.ones((len(words), 2), np.float32), "memory")


WORDS = ["alpha", "beta", "gamma", "delta", "omega", "sigma"]


def test_min_words_met_returns_the_same_words() -> None:
    a, b = _space("a", WORDS), _space("b", WORDS[::-1])
    plain = shared_vocabulary(a, b, skip_most_frequent=1)
    assert plain == ("beta", "gamma", "delta", "omega", "sigma")
    assert shared_vocabulary(a, b, skip_most_frequent=1, min_words=5) == plain


def test_too_few_words_raise_naming_the_spaces_and_counts() -> None:
    a, b = _space("left", WORDS), _space("right", WORDS[:3])
    with pytest.raises(
        ValueError, match=r"at least 3 shared words in 'left', 'right'.*2 are left of 3"
    ):
        shared_vocabulary(a, b, skip_most_frequent=1, min_words=3)


@pytest.mark.parametrize("bad", [0, -1, 2.5, "3"])
def test_min_words_is_validated(bad) -> None:
    with pytest.raises((ValueError, TypeError), match="min_words"):
        shared_vocabulary(_space("a", WORDS), _space("b", WORDS), min_words=bad)
