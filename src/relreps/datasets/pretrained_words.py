"""The English word spaces that ship in Python packages, by name, loaded when installed.

:data:`PRETRAINED_WORD_SPACES` names them (id -> label; the loaders are in
:mod:`relreps.datasets.words`), and :func:`load_pretrained_words` loads those of a list that are
installed and says why each other one is not, so a comparison can go on without them.
"""

from __future__ import annotations

from collections.abc import Sequence

from relreps._validation import check_choice, fail
from relreps.datasets.words import WordVectors

__all__ = ["PRETRAINED_WORD_SPACES", "load_pretrained_words"]

#: id -> label of each space; the order is the documentation's.
PRETRAINED_WORD_SPACES = {
    "glove": "GloVe 6B 50d",
    "minilm": "MiniLM-L6 word pieces",
    "wordllama": "WordLlama tokens",
}
_LOADERS = {  # id -> its loader in relreps.datasets.words
    "glove": "load_glove",
    "minilm": "load_minilm_token_embeddings",
    "wordllama": "load_wordllama_token_embeddings",
}


def load_pretrained_words(
    names: Sequence[str],
) -> tuple[dict[str, WordVectors], dict[str, str]]:
    """Load the named pretrained spaces that are installed.

    A space whose package (or data file) is missing or unreadable is not an error: it is left
    out, with the reason.

    Args:
        names: ids among :data:`PRETRAINED_WORD_SPACES`, each at most once.

    Returns:
        ``(loaded, missing)``: id -> :class:`~relreps.datasets.words.WordVectors` for the spaces
        that loaded, id -> the error text for the others, both in the order of ``names``.

    Raises:
        ValueError: an unknown or repeated id.

    Example (reads the packages' data, so it is not a doctest)::

        loaded, missing = load_pretrained_words(["glove", "minilm"])
        {k: v.dim for k, v in loaded.items()}, missing
        # -> ({'glove': 50, 'minilm': 384}, {})
    """
    from relreps.datasets import words

    if isinstance(names, str):
        raise fail("names", "a sequence of space ids", repr(names), TypeError)
    for name in names:
        check_choice(name, "names", tuple(PRETRAINED_WORD_SPACES))
    if len(set(names)) != len(names):
        raise fail("names", "distinct space ids", repr(list(names)))
    loaded, missing = {}, {}
    for name in names:
        try:
            loaded[name] = getattr(words, _LOADERS[name])()
        except (ImportError, OSError, ValueError) as err:
            missing[name] = str(err)
    return loaded, missing
