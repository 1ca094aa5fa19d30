"""The spaces a word-embeddings run compares: trained here, pretrained, and their shared words.

Training and reading the vectors themselves is :mod:`relreps.experiments._word_spaces`; this
module decides which models the experiment trains (two Word2Vec seeds, skip-gram, FastText),
which pretrained spaces it loads, and which words the comparisons run on.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Any

from relreps.experiments._word_protocol import (
    NAME,
    PRETRAINED_LABELS,
    TRAINED_LABELS,
    WordEmbeddingsConfig,
)


def trained_spaces(
    config: WordEmbeddingsConfig, log: Callable[[str], None]
) -> tuple[dict[str, Any], dict[str, dict[str, Any]]]:
    """The four models trained here (id -> WordVectors) and their info; cached ones are reused."""
    from relreps.experiments._word_spaces import (
        TrainingConfig,
        cached_word_vectors,
        load_cached_word_vectors,
    )

    base = TrainingConfig(
        dim=config.dim,
        epochs=config.epochs,
        min_count=config.min_count,
        workers=config.workers,
        bucket=config.bucket,
        seed=config.seed,
    )
    plans = {
        "w2v": base,
        "w2v-b": replace(base, seed=config.seed + 1),
        # A seed of its own: with the same seed CBOW and skip-gram start from the same vectors.
        "w2v-sg": replace(base, architecture="skipgram", seed=config.seed + 2),
        "ft": replace(base, algorithm="fasttext"),
    }
    paragraphs: list[list[str]] | None = None  # read only if some model is not cached yet
    spaces, info = {}, {}
    for space_id, plan in plans.items():
        trained = load_cached_word_vectors(
            config.corpus, plan, cache_dir=config.cache_dir, name=space_id
        )
        if trained is None:
            if paragraphs is None:
                log(f"[{NAME}] reading the corpus ({', '.join(config.corpus.sources)}) ...")
                paragraphs = config.corpus.paragraphs()
                n_tokens = sum(len(p) for p in paragraphs)
                log(f"[{NAME}] corpus: {len(paragraphs):,} paragraphs, {n_tokens:,} tokens")
            log(f"[{NAME}] training {TRAINED_LABELS[space_id]} ({plan.label}, {plan.dim}-d) ...")
            trained = cached_word_vectors(
                config.corpus,
                plan,
                cache_dir=config.cache_dir,
                paragraphs=paragraphs,
                name=space_id,
            )
        how = "cached" if trained.from_cache else "trained"
        log(
            f"[{NAME}] {space_id}: {len(trained.vectors):,} words, {how} "
            f"({trained.train_seconds:.0f} s to train)"
        )
        spaces[space_id] = trained.vectors
        info[space_id] = {
            "label": TRAINED_LABELS[space_id],
            "kind": "trained here",
            "dim": trained.vectors.dim,
            "n_words": len(trained.vectors),
            "train_seconds": round(trained.train_seconds, 1),
            "from_cache": trained.from_cache,
            "training": plan.to_dict(),
        }
    return spaces, info


def pretrained_spaces(
    names: Sequence[str], log: Callable[[str], None]
) -> tuple[dict[str, Any], dict[str, dict[str, Any]]]:
    """The pretrained spaces that load (id -> WordVectors) and their info; others are logged."""
    from relreps.datasets import words as word_spaces

    loaders = {
        "glove": word_spaces.load_glove,
        "minilm": word_spaces.load_minilm_token_embeddings,
        "wordllama": word_spaces.load_wordllama_token_embeddings,
    }
    spaces, info = {}, {}
    for name in names:
        try:
            space = loaders[name]()
        except (ImportError, OSError, ValueError) as err:
            log(f"[{NAME}] {PRETRAINED_LABELS[name]} is not available, left out: {err}")
            continue
        spaces[name] = space
        info[name] = {
            "label": PRETRAINED_LABELS[name],
            "kind": "pretrained (package)",
            "dim": space.dim,
            "n_words": len(space),
            "train_seconds": None,
            "from_cache": None,
        }
    return spaces, info


def shared_words(
    spaces: Sequence[Any], order: Sequence[str], config: WordEmbeddingsConfig
) -> tuple[str, ...]:
    """The words all ``spaces`` share, in ``order``, after the paper's filter (config)."""
    from relreps.datasets.words import shared_vocabulary

    return shared_vocabulary(
        *spaces,
        frequency_order=order,
        skip_most_frequent=config.skip_most_frequent,
        min_length=config.min_length,
        max_words=config.n_words,
    )


def check_vocabulary(vocab_id: str, words: Sequence[str], config: WordEmbeddingsConfig) -> None:
    """Raise a ValueError when the filter left too few words for the anchors or for k."""
    needed = max(config.n_anchors, max(config.ks) + 1)
    if len(words) < needed:
        raise ValueError(
            f"Expected at least {needed} shared words in vocabulary {vocab_id!r} "
            f"({config.n_anchors} anchors, k up to {max(config.ks)}), but the filter left "
            f"{len(words)}."
        )
