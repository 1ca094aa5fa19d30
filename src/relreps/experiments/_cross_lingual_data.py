"""cross-lingual's paired spaces: English and French words and phrases with their ground truth."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

__all__ = ["ParallelSpaces", "load_phrase_spaces", "load_word_spaces", "phrase_pairs"]


@dataclass(frozen=True)
class ParallelSpaces:
    """Two spaces whose row ``i`` is the same item in two languages.

    Attributes:
        name: what is compared ("GloVe EN vs fastText FR").
        source_name, target_name: the two spaces (source = English side).
        source: (n_items, d_s) source vectors.
        target: (n_items, d_t) target vectors.
        items: ``(source item, target item)`` per row (for examples in the report).
    """

    name: str
    source_name: str
    target_name: str
    source: np.ndarray
    target: np.ndarray
    items: tuple[tuple[str, str], ...]

    def __post_init__(self) -> None:
        from relreps._validation import check_matrix, check_paired

        check_matrix(self.source, "source")
        check_matrix(self.target, "target")
        check_paired(self.source, "source", self.target, "target")
        if len(self.items) != self.source.shape[0]:
            raise ValueError(
                f"Expected `items` to name the {self.source.shape[0]} rows, but got "
                f"{len(self.items)}."
            )


def load_word_spaces() -> ParallelSpaces:
    """GloVe 6B 50d (English) and fastText French rows of the one-to-one FreeDict pairs."""
    from relreps.datasets import align_word_pairs, freedict_pairs, load_fasttext_fr, load_glove

    kept, x_en, x_fr = align_word_pairs(freedict_pairs(), load_glove(), load_fasttext_fr())
    return ParallelSpaces(
        "words: GloVe EN vs fastText FR (FreeDict pairs)",
        "glove-6b-50d (en)",
        "fasttext-fr (fr)",
        np.asarray(x_en, dtype=np.float32),
        np.asarray(x_fr, dtype=np.float32),
        tuple(kept),
    )


def phrase_pairs(n: int, seed: int) -> list[tuple[str, str]]:
    """``n`` distinct English-French phrase pairs from CLDR emoji, country and language names."""
    from relreps.datasets import babel_names, emoji_names

    pairs: list[tuple[str, str]] = []
    seen_en: set[str] = set()
    seen_fr: set[str] = set()
    sets = (
        emoji_names(("en", "fr")),
        babel_names("territories", ("en", "fr")),
        babel_names("languages", ("en", "fr")),
    )
    for phrase_set in sets:
        for en, fr in phrase_set.pairs("en", "fr"):
            key_en, key_fr = en.strip().lower(), fr.strip().lower()
            if key_en in seen_en or key_fr in seen_fr or key_en == key_fr:
                continue  # one-to-one, and no identical strings (a free match for any model)
            seen_en.add(key_en)
            seen_fr.add(key_fr)
            pairs.append((en.strip(), fr.strip()))
    if n > len(pairs):
        raise ValueError(f"Expected `n_phrases` to be at most {len(pairs)}, but got {n}.")
    order = np.sort(np.random.default_rng(seed).permutation(len(pairs))[:n])
    return [pairs[i] for i in order]


def load_phrase_spaces(
    n_phrases: int, *, seed: int, reference: bool, log: Callable[[str], None] = print
) -> tuple[ParallelSpaces, ParallelSpaces | None]:
    """MiniLM-L6 on English phrases vs e5-small on their French names (and, with ``reference``,
    e5-small on both sides), through the embedding cache."""
    from relreps.encoders import cached_encode, load_encoder

    pairs = phrase_pairs(n_phrases, seed)
    english = [en for en, _ in pairs]
    french = [fr for _, fr in pairs]
    ids_en = [f"en:{p}" for p in english]
    ids_fr = [f"fr:{p}" for p in french]

    def embed(model: str, texts: list[str], ids: list[str], lang: str) -> np.ndarray:
        start = time.perf_counter()
        out = cached_encode(
            load_encoder(model, offline=True),
            texts,
            ids,
            dataset="cldr-phrases",
            split=lang,
            batch_size=64,
        )
        log(f"  {model} on {len(texts)} {lang} phrases ({time.perf_counter() - start:.1f} s)")
        return out

    x_en = embed("minilm-l6", english, ids_en, "en")
    x_fr = embed("e5-small", french, ids_fr, "fr")
    main = ParallelSpaces(
        "phrases: MiniLM-L6 EN vs e5-small FR (CLDR names)",
        "minilm-l6 (en)",
        "e5-small (fr)",
        x_en,
        x_fr,
        tuple(pairs),
    )
    if not reference:
        return main, None
    e5_en = embed("e5-small", english, ids_en, "en")
    ref = ParallelSpaces(
        "phrases: e5-small EN vs e5-small FR (one multilingual model)",
        "e5-small (en)",
        "e5-small (fr)",
        e5_en,
        x_fr,
        tuple(pairs),
    )
    return main, ref
