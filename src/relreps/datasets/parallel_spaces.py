"""Parallel spaces: two vector spaces whose row ``i`` is the same item, and parallel phrase pairs.

A word and its translation in two word spaces, or a phrase and its translation embedded by two
models: the input of cross-space retrieval through parallel anchors
(:func:`relreps.metrics.anchored.anchor_draw_retrieval`) and of cross-lingual stitching.

- :class:`ParallelSpaces`: the two paired matrices with their item names;
  :meth:`ParallelSpaces.from_word_pairs` builds one from translation pairs and two
  :class:`~relreps.datasets.WordVectors` (e.g. FreeDict pairs, GloVe and fastText French).
- :func:`cldr_phrase_pairs`: one-to-one phrase pairs from CLDR emoji, country and language names
  (``emoji``, ``babel``) in any two languages both name.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from relreps._validation import check_int, check_matrix, check_paired, fail
from relreps.datasets.parallel import align_word_pairs, babel_names, emoji_names
from relreps.datasets.words import WordVectors

__all__ = ["ParallelSpaces", "cldr_phrase_pairs"]


@dataclass(frozen=True)
class ParallelSpaces:
    """Two spaces whose row ``i`` is the same item (in two languages, or from two models).

    Attributes:
        name: what is compared (``"GloVe EN vs fastText FR"``).
        source_name, target_name: the two spaces.
        source: (n_items, d_s) source vectors.
        target: (n_items, d_t) target vectors.
        items: ``(source item, target item)`` per row.

    Raises:
        ValueError: a matrix with NaN/Inf or not 2-D, unpaired rows, or ``items`` not naming
            every row.

    Example:
        >>> spaces = ParallelSpaces("toy", "en", "fr", np.eye(2), 2 * np.eye(2, 3),
        ...                         (("cat", "chat"), ("dog", "chien")))
        >>> spaces.source.shape, spaces.target.shape, len(spaces)
        ((2, 2), (2, 3), 2)
    """

    name: str
    source_name: str
    target_name: str
    source: np.ndarray
    target: np.ndarray
    items: tuple[tuple[str, str], ...]

    def __post_init__(self) -> None:
        check_matrix(self.source, "source", shape_doc="(n_items, d_s)")
        check_matrix(self.target, "target", shape_doc="(n_items, d_t)")
        check_paired(self.source, "source", self.target, "target")
        if len(self.items) != self.source.shape[0]:
            raise fail(
                "items",
                f"{self.source.shape[0]} (source, target) names, one per row",
                str(len(self.items)),
            )

    def __len__(self) -> int:
        return len(self.items)

    @classmethod
    def from_word_pairs(
        cls,
        pairs: Sequence[tuple[str, str]],
        source: WordVectors,
        target: WordVectors,
        *,
        name: str | None = None,
        source_name: str | None = None,
        target_name: str | None = None,
    ) -> ParallelSpaces:
        """The pairs whose words are in both spaces, one to one, as float32 parallel rows.

        Args:
            pairs: ``(source word, target word)`` translations, e.g.
                :func:`relreps.datasets.freedict_pairs`; see
                :func:`relreps.datasets.align_word_pairs` for which are kept.
            source, target: the two word spaces, ``(n_words_s, d_s)`` and ``(n_words_t, d_t)``.
            name, source_name, target_name: default ``"<source> vs <target>"`` and the spaces'
                own names.

        Example:
            >>> en = WordVectors("en", ("cat", "dog"), np.eye(2, dtype=np.float32), "memory")
            >>> fr = WordVectors("fr", ("chien",), np.ones((1, 3), dtype=np.float32), "memory")
            >>> spaces = ParallelSpaces.from_word_pairs([("cat", "chat"), ("dog", "chien")], en, fr)
            >>> spaces.name, spaces.items, spaces.source.tolist()
            ('en vs fr', (('dog', 'chien'),), [[0.0, 1.0]])
        """
        kept, x_source, x_target = align_word_pairs(list(pairs), source, target)
        if not kept:
            raise fail("pairs", "at least one pair with both words in the spaces", "none")
        return cls(
            f"{source.name} vs {target.name}" if name is None else name,
            source.name if source_name is None else source_name,
            target.name if target_name is None else target_name,
            np.asarray(x_source, dtype=np.float32),
            np.asarray(x_target, dtype=np.float32),
            tuple(kept),
        )


def cldr_phrase_pairs(
    source: str = "en", target: str = "fr", *, n: int | None = None, seed: int = 0
) -> list[tuple[str, str]]:
    """One-to-one ``(source phrase, target phrase)`` pairs from CLDR emoji, country and language
    names (needs the ``emoji`` and ``babel`` packages).

    The sets are read in that order; a pair is dropped when either phrase (stripped,
    lower-cased) was already taken, or when both are the same string (a free match for any model
    that reads characters). 4,292 pairs for English-French (emoji 2.x, babel 2.x).

    Args:
        source, target: language codes both ``emoji`` and CLDR know (``"en"``, ``"fr"``, ``"es"``,
            ``"de"``...).
        n: how many pairs to draw at random (kept in set order); None: all of them.
        seed: the draw's seed (``numpy.random.default_rng``).

    Returns:
        The pairs, stripped of surrounding spaces.

    Raises:
        ValueError: unknown languages, the same language twice, or ``n`` above the pairs there are.

    Example:
        >>> pairs = cldr_phrase_pairs("en", "fr")
        >>> ("German", "allemand") in pairs, len(cldr_phrase_pairs(n=5, seed=1))
        (True, 5)
    """
    if source == target:
        raise fail("target", f"a language other than the source ({source!r})", repr(target))
    languages = (source, target)
    sets = (
        emoji_names(languages),
        babel_names("territories", languages),
        babel_names("languages", languages),
    )
    pairs: list[tuple[str, str]] = []
    seen_source: set[str] = set()
    seen_target: set[str] = set()
    for phrase_set in sets:
        for a, b in phrase_set.pairs(source, target):
            key_a, key_b = a.strip().lower(), b.strip().lower()
            if key_a in seen_source or key_b in seen_target or key_a == key_b:
                continue
            seen_source.add(key_a)
            seen_target.add(key_b)
            pairs.append((a.strip(), b.strip()))
    if n is None:
        return pairs
    if check_int(n, "n", low=1) > len(pairs):
        raise fail("n", f"at most {len(pairs)} (the {source}-{target} pairs there are)", str(n))
    order = np.sort(np.random.default_rng(seed).permutation(len(pairs))[:n])
    return [pairs[i] for i in order]
